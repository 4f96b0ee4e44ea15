"""Workload controllers as a tool reads their history: `kubectl scale` leaves a precise
managedFields entry (who, when, `subresource: scale`); the `scaled-in` scenario; a StatefulSet
replaces a Failed Pod, unless its controller is stopped (`Sandbox.pause_controller`)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import FIXED_NOW, Result, Runner, kubectl_path, make_sandbox
from .test_sandbox_kubectl import rows

NOW = "2026-11-20T12:00:00Z"


def managed(kubectl: Runner, *what: str) -> list[dict[str, Any]]:
    r = kubectl("get", *what, "-o", "json", "--show-managed-fields")
    assert r.code == 0, r.stderr
    entries: list[dict[str, Any]] = json.loads(r.stdout)["metadata"]["managedFields"]
    return entries


def test_kubectl_scale_leaves_a_precise_managed_fields_entry(
    kubectl: Runner, sandbox: Sandbox
) -> None:
    sandbox.advance(timedelta(minutes=30))
    r = kubectl("scale", "sts", "mysql", "-n", "db", "--replicas=1")
    assert r.code == 0, r.stderr
    entries = managed(kubectl, "sts", "mysql", "-n", "db")
    assert [e for e in entries if e.get("subresource") == "scale"] == [
        {
            "manager": "kubectl",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": "2026-11-20T12:30:00Z",  # the virtual time of the write
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
            "subresource": "scale",
        }
    ]
    # the replicas have one owner; the controller's status writes are entries of their own
    owners = [e["manager"] for e in entries if "f:replicas" in e["fieldsV1"].get("f:spec", {})]
    assert owners == ["kubectl"]
    status = [e for e in entries if e.get("subresource") == "status"]
    assert [e["manager"] for e in status] == ["kube-controller-manager"]
    assert set(status[0]["fieldsV1"]) == {"f:status"}


def test_a_scale_to_the_same_replicas_writes_nothing(kubectl: Runner, sandbox: Sandbox) -> None:
    before = managed(kubectl, "sts", "redis", "-n", "db")
    sandbox.advance(timedelta(hours=1))
    assert kubectl("scale", "sts", "redis", "-n", "db", "--replicas=2").code == 0
    assert managed(kubectl, "sts", "redis", "-n", "db") == before


# ------------------------------------------------------------------------------ scaled-in


def kubectl_on(sb: Sandbox, tmp_path: Path) -> Runner:
    """The real kubectl against `sb`, as conftest's `kubectl` fixture runs it."""
    config = sb.write_kubeconfig(tmp_path / "kubeconfig")
    env = dict(os.environ, KUBECONFIG=str(config), HOME=str(tmp_path), NO_COLOR="1")
    env["KUBECACHEDIR"] = str(tmp_path / "kubecache")

    def run(*args: str) -> Result:
        p = subprocess.run(
            [kubectl_path(), *args], capture_output=True, text=True, env=env, timeout=120
        )
        return Result(p.returncode, p.stdout, p.stderr)

    return run


@pytest.fixture
def scaled_in(tmp_path: Path) -> Iterator[Runner]:
    sb = make_sandbox("scaled-in")
    yield kubectl_on(sb, tmp_path)
    sb.stop()


def test_scaled_in_scenario(scaled_in: Runner) -> None:
    kubectl = scaled_in
    assert rows(kubectl("get", "sts", "-A")) == [
        ["NAMESPACE", "NAME", "READY", "AGE"],
        ["db", "mysql", "0/0", "10d"],
        ["shop", "cache", "3/3", "10d"],
        ["shop", "web", "2/2", "10d"],
    ]
    scales = {}
    for ns, name in (("db", "mysql"), ("shop", "cache"), ("shop", "web")):
        entries = managed(kubectl, "sts", name, "-n", ns)
        (entry,) = [e for e in entries if e.get("subresource") == "scale"]
        assert entry["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
        scales[name] = (entry["manager"], entry["time"])
    assert scales == {
        "mysql": ("kubectl", "2026-11-20T10:00:00Z"),
        "cache": ("kubectl", "2026-11-12T12:00:00Z"),
        "web": ("kube-controller-manager", "2026-11-19T12:00:00Z"),  # its autoscaler
    }
    hpa = json.loads(kubectl("get", "hpa", "web", "-n", "shop", "-o", "json").stdout)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "web",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)
    claims = json.loads(kubectl("get", "vipc", "-A", "-o", "json").stdout)["items"]
    phases = {c["metadata"]["name"]: c["status"]["phase"] for c in claims}
    assert phases == {
        "mysql-0": "Released",
        "mysql-1": "Released",
        "mysql-2": "Released",
        "cache-0": "Bound",
        "cache-1": "Bound",
        "cache-2": "Bound",
        "cache-3": "Released",
        "cache-4": "Released",
        "legacy-0": "Released",
        "legacy-1": "Released",
        "web-0": "Bound",
        "web-1": "Bound",
        "web-2": "Released",
        "web-3": "Released",
    }
    owners = {c["metadata"]["name"]: c["metadata"]["ownerReferences"][0]["name"] for c in claims}
    assert owners["legacy-0"] == owners["legacy-1"] == "legacy"
    assert kubectl("get", "sts", "legacy", "-n", "shop").code == 1  # gone
    pods = rows(kubectl("get", "pods", "-n", "db"))
    assert pods == []  # no Pods at 0 replicas: kubectl says so on stderr


# ------------------------------------------------------------------------------ Failed Pods


def _fail(sb: Sandbox, ns: str, name: str) -> None:
    def fail(p: dict[str, Any]) -> None:
        p["status"]["phase"] = "Failed"

    sb.store.mutate(sb.world.t.pods, ns, name, fail, manager="kubelet")


def test_a_failed_pod_is_replaced_under_its_name_with_its_address(kubectl: Runner) -> None:
    before = json.loads(kubectl("get", "pod", "mysql-1", "-n", "db", "-o", "json").stdout)
    r = kubectl(
        "patch", "pod", "mysql-1", "-n", "db", "--subresource=status", "--type=merge",
        "-p", '{"status":{"phase":"Failed"}}',
    )  # fmt: skip
    assert r.code == 0, r.stderr
    after = json.loads(kubectl("get", "pod", "mysql-1", "-n", "db", "-o", "json").stdout)
    assert after["metadata"]["uid"] != before["metadata"]["uid"]  # a new Pod, same name
    assert after["status"]["phase"] == "Running"
    assert after["status"]["podIP"] == before["status"]["podIP"]


def test_a_paused_statefulset_controller_leaves_a_failed_pod_alone() -> None:
    sb = Sandbox("healthy", now=FIXED_NOW)
    t = sb.world.t
    uid = (sb.store.peek(t.pods, "db", "mysql-1") or {})["metadata"]["uid"]
    sb.pause_controller("statefulset")
    _fail(sb, "db", "mysql-1")
    sb.store.delete(t.pods, "db", "mysql-2")
    sb.advance(timedelta(hours=1))
    failed = sb.store.peek(t.pods, "db", "mysql-1")
    assert failed is not None and failed["status"]["phase"] == "Failed"
    assert failed["metadata"]["uid"] == uid
    assert sb.store.peek(t.pods, "db", "mysql-2") is None  # nothing recreates it either
    sb.resume_controller("statefulset")
    for name in ("mysql-1", "mysql-2"):
        pod = sb.store.peek(t.pods, "db", name)
        assert pod is not None and pod["status"]["phase"] == "Running", name
    replaced = sb.store.peek(t.pods, "db", "mysql-1")
    assert replaced is not None and replaced["metadata"]["uid"] != uid
    assert replaced["metadata"]["creationTimestamp"] > NOW
