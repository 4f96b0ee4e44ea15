"""The playground behaves like a cluster (issue 27), through the real kubectl on the demo
scenario: Deployments run Pods through their ReplicaSets (with claims where the template asks
for a static IP), system Pods belong to their controllers and come back, the scheduler tries
Pending Pods again when nodes change or room is freed, a node made NotReady through
`nodes/status` has its Pods marked as kube-controller-manager marks them, and the Kruise and
TApp CRDs serve `/scale`."""

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

from .conftest import Runner, kubectl_path, make_sandbox, run_vip
from .test_sandbox_kubectl import rows

ENI_IP = "tke.cloud.tencent.com/eni-ip"
POLICY = "tke.cloud.tencent.com/vpc-ip-claim-delete-policy"
ZONE = "topology.kubernetes.io/zone"
NOW = "2026-11-20T12:00:00Z"


def get(kubectl: Runner, *what: str) -> Any:
    r = kubectl("get", *what, "-o", "json")
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)


def pods_of(kubectl: Runner, namespace: str) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in get(kubectl, "pods", "-n", namespace)["items"]}


def claims(vip: Runner, namespace: str) -> dict[str, str]:
    r = vip("list", "-n", namespace, "-o", "json")
    assert r.code == 0, r.stderr
    return {c["name"]: c["state"] for c in json.loads(r.stdout)["items"]}


def ready(pod: dict[str, Any]) -> str:
    return next(c["status"] for c in pod["status"]["conditions"] if c["type"] == "Ready")


# ------------------------------------------------------------------------------ Deployments


def test_a_deployment_runs_its_replicas_as_pods(kubectl: Runner, vip: Runner) -> None:
    assert kubectl("create", "namespace", "play").code == 0
    r = kubectl("create", "deployment", "web1", "--image=nginx", "--replicas=2", "-n", "play")
    assert r.code == 0, r.stderr
    pods = pods_of(kubectl, "play")
    assert len(pods) == 2
    (rs,) = get(kubectl, "rs", "-n", "play")["items"]
    for name, pod in pods.items():
        assert name.startswith(rs["metadata"]["name"] + "-")
        assert pod["status"]["phase"] == "Running" and ready(pod) == "True"
        (ref,) = pod["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["name"], ref["controller"]) == (
            "ReplicaSet",
            rs["metadata"]["name"],
            True,
        )
    assert kubectl("scale", "deployment", "web1", "-n", "play", "--replicas=3").code == 0
    assert len(pods_of(kubectl, "play")) == 3
    assert rows(kubectl("get", "deploy", "web1", "-n", "play"))[1][:4] == ["web1", "3/3", "3", "3"]
    assert rows(kubectl("get", "pods", "-n", "play"))[1][2] == "Running"
    # no static IP asked for: no claim (an overlay address, as without VPC-CNI)
    assert claims(vip, "play") == {}
    # a deleted Pod is replaced, under a new name
    gone = sorted(pods_of(kubectl, "play"))[0]
    assert kubectl("delete", "pod", gone, "-n", "play").code == 0
    after = pods_of(kubectl, "play")
    assert len(after) == 3 and gone not in after


def _static_deployment(name: str, replicas: int, image: str) -> str:
    template = {
        "metadata": {"labels": {"app": name}, "annotations": {POLICY: "Never"}},
        "spec": {
            "nodeSelector": {ZONE: "ap-guangzhou-4"},
            "containers": [{"name": name, "image": image, "resources": {"limits": {ENI_IP: "1"}}}],
        },
    }
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "play"},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": template,
            },
        }
    )


def test_a_static_ip_deployment_is_seen_by_list(kubectl: Runner, vip: Runner) -> None:
    assert kubectl("create", "namespace", "play").code == 0
    r = kubectl("create", "-f", "-", input=_static_deployment("shop", 2, "shop:1"))
    assert r.code == 0, r.stderr

    def in_use() -> set[str]:
        return {n for n, state in claims(vip, "play").items() if state == "InUse"}

    def running() -> set[str]:
        return {n for n, p in pods_of(kubectl, "play").items() if p["status"]["phase"] == "Running"}

    first = running()
    assert len(first) == 2 and in_use() == first
    ips = {p["status"]["podIP"] for p in pods_of(kubectl, "play").values()}
    assert all(ip.startswith("10.0.2.") for ip in ips)  # from the zone's subnet, by ipamd
    # scale up: a third Pod, a third claim in use
    assert kubectl("scale", "deploy", "shop", "-n", "play", "--replicas=3").code == 0
    up = running()
    assert len(up) == 3 and first < up and in_use() == up
    # scale down: two Pods go; their static claims stay, no longer in use
    assert kubectl("scale", "deploy", "shop", "-n", "play", "--replicas=1").code == 0
    (left,) = running()
    assert in_use() == {left}
    assert set(claims(vip, "play")) == up
    # a rollout replaces the Pod: the new one's claim is in use, the old one's is not
    assert kubectl("set", "image", "deployment/shop", "shop=shop:2", "-n", "play").code == 0
    (new,) = running()
    assert new != left and in_use() == {new}
    assert set(claims(vip, "play")) == up | {new}
    rs = {
        r["metadata"]["name"]: r["spec"]["replicas"]
        for r in get(kubectl, "rs", "-n", "play")["items"]
    }
    assert sorted(rs.values()) == [0, 1] and new.rsplit("-", 1)[0] in rs
    assert rows(kubectl("get", "deploy", "shop", "-n", "play"))[1][:2] == ["shop", "1/1"]


# ------------------------------------------------------------------------------ system Pods


def test_system_pods_belong_to_their_controllers_and_come_back(kubectl: Runner) -> None:
    system = get(kubectl, "pods", "-n", "kube-system")["items"]
    owners = sorted(
        (p["metadata"]["labels"]["k8s-app"], p["metadata"]["ownerReferences"][0]["kind"])
        for p in system
    )
    assert owners == [
        ("tke-eni-agent", "DaemonSet"),
        ("tke-eni-agent", "DaemonSet"),
        ("tke-eni-agent", "DaemonSet"),
        ("tke-eni-agent", "DaemonSet"),
        ("tke-eni-ip-scheduler", "ReplicaSet"),
        ("tke-eni-ipamd", "ReplicaSet"),
    ]
    (ipamd,) = [p for p in system if p["metadata"]["labels"]["k8s-app"] == "tke-eni-ipamd"]
    name = ipamd["metadata"]["name"]
    assert ipamd["spec"]["hostNetwork"] and ipamd["status"]["podIP"] == "10.0.0.11"
    r = kubectl("delete", "pod", name, "-n", "kube-system", "--grace-period=0", "--force")
    assert r.code == 0, r.stderr
    again = [
        p for p in get(kubectl, "pods", "-n", "kube-system", "-l", "k8s-app=tke-eni-ipamd")["items"]
    ]
    assert [p["metadata"]["name"] == name for p in again] == [False]
    assert again[0]["status"]["phase"] == "Running"
    assert rows(kubectl("get", "deploy", "tke-eni-ipamd", "-n", "kube-system"))[1][1] == "1/1"
    # the agent's DaemonSet puts its Pod back on the node
    agents = get(kubectl, "pods", "-n", "kube-system", "-l", "k8s-app=tke-eni-agent")["items"]
    on_b = next(p for p in agents if p["spec"]["nodeName"] == "node-b")
    assert kubectl("delete", "pod", on_b["metadata"]["name"], "-n", "kube-system").code == 0
    agents = get(kubectl, "pods", "-n", "kube-system", "-l", "k8s-app=tke-eni-agent")["items"]
    assert sorted(p["spec"]["nodeName"] for p in agents) == ["node-a", "node-b", "node-c", "node-d"]
    assert on_b["metadata"]["name"] not in {p["metadata"]["name"] for p in agents}
    ds = rows(kubectl("get", "ds", "tke-eni-agent", "-n", "kube-system"))
    assert ds[1][1:6] == ["4", "4", "4", "4", "4"]


def test_ipamd_scaled_to_zero_runs_no_pod_and_doctor_says_so(kubectl: Runner, vip: Runner) -> None:
    assert (
        kubectl("scale", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--replicas=0").code == 0
    )
    left = get(kubectl, "pods", "-n", "kube-system", "-l", "k8s-app=tke-eni-ipamd")["items"]
    assert left == []
    r = vip("doctor", "--check", "VIP-IPAMD-001", "-o", "json")
    (finding,) = json.loads(r.stdout)["findings"]
    assert finding["title"] == "Deployment kube-system/tke-eni-ipamd is scaled to 0"


# ------------------------------------------------------------------------------ drain


def test_drain_and_uncordon_bring_every_static_pod_back_with_its_ip(
    kubectl: Runner, vip: Runner
) -> None:
    before = {
        n: p["status"]["podIP"]
        for n, p in pods_of(kubectl, "db").items()
        if p["spec"].get("nodeName") == "node-a"
    }
    assert sorted(before) == ["mysql-0", "mysql-1", "mysql-2", "redis-0", "redis-1"]
    # no Pod on node-a lacks a controller now: ipamd's belongs to its ReplicaSet
    r = kubectl("drain", "node-a", "--ignore-daemonsets", "--timeout=30s")
    assert r.code == 0, r.stderr
    assert r.stdout.strip().endswith("node/node-a drained")
    assert "evicting pod kube-system/tke-eni-ipamd-" in r.stderr + r.stdout
    # ipamd runs again elsewhere; its Deployment says so because it is so
    (ipamd,) = get(kubectl, "pods", "-n", "kube-system", "-l", "k8s-app=tke-eni-ipamd")["items"]
    assert ipamd["spec"]["nodeName"] != "node-a" and ipamd["status"]["phase"] == "Running"
    assert rows(kubectl("get", "deploy", "tke-eni-ipamd", "-n", "kube-system"))[1][1] == "1/1"
    # the StatefulSets brought their Pods back; pinned to the zone of their IPs, they wait
    pending = pods_of(kubectl, "db")
    for name in before:
        assert pending[name]["status"]["phase"] == "Pending"
        assert "nodeName" not in pending[name]["spec"]
    assert {n: s for n, s in claims(vip, "db").items() if n in before} == dict.fromkeys(
        before, "InUse"
    )
    r = kubectl("uncordon", "node-a")
    assert r.code == 0, r.stderr
    after = pods_of(kubectl, "db")
    assert {n: after[n]["status"]["phase"] for n in before} == dict.fromkeys(before, "Running")
    assert {n: after[n]["status"]["podIP"] for n in before} == before
    assert {n: after[n]["spec"]["nodeName"] for n in before} == dict.fromkeys(before, "node-a")


def test_a_pending_pod_is_scheduled_once_room_is_freed(kubectl: Runner) -> None:
    # node-a (the one node of ap-guangzhou-3) advertises room for one more eni-ip Pod
    patch = {"status": {"allocatable": {ENI_IP: "6"}}}
    r = kubectl(
        "patch", "node", "node-a", "--subresource=status", "--type=merge",
        "-p", json.dumps(patch),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    filler = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "filler", "namespace": "default"},
        "spec": {
            "nodeSelector": {ZONE: "ap-guangzhou-3"},
            "containers": [{"name": "c", "resources": {"limits": {ENI_IP: "1"}}}],
        },
    }
    assert kubectl("create", "-f", "-", input=json.dumps(filler)).code == 0
    assert get(kubectl, "pod", "filler")["status"]["phase"] == "Running"
    assert kubectl("scale", "sts", "mysql", "-n", "db", "--replicas=4").code == 0
    waiting = get(kubectl, "pod", "mysql-3", "-n", "db")
    assert waiting["status"]["phase"] == "Pending" and "nodeName" not in waiting["spec"]
    cond = waiting["status"]["conditions"][0]
    assert (cond["reason"], cond["message"]) == (
        "Unschedulable",
        f"0/4 nodes are available: 4 Insufficient {ENI_IP}.",
    )
    assert kubectl("delete", "pod", "filler").code == 0
    running = get(kubectl, "pod", "mysql-3", "-n", "db")
    assert running["spec"]["nodeName"] == "node-a" and running["status"]["phase"] == "Running"


# ------------------------------------------------------------------------------ nodes/status


def test_a_node_patched_not_ready_has_its_pods_marked_then_evicted(
    kubectl: Runner, sandbox: Sandbox
) -> None:
    cond = {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}
    r = kubectl(
        "patch", "node", "node-b", "--subresource=status", "--type=merge",
        "-p", json.dumps({"status": {"conditions": [cond]}}),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert rows(kubectl("get", "node", "node-b"))[1][1] == "NotReady"
    taints = get(kubectl, "node", "node-b")["spec"]["taints"]
    assert [(t["key"], t["effect"]) for t in taints] == [
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    ]
    # MarkPodsNotReady: every Pod of the node is no longer Ready, with a NodeNotReady Event
    on_b = [p for p in get(kubectl, "pods", "-A")["items"] if p["spec"].get("nodeName") == "node-b"]
    assert on_b and {ready(p) for p in on_b if p["status"]["phase"] == "Running"} == {"False"}
    events = get(kubectl, "events", "-n", "web", "--field-selector", "reason=NodeNotReady")
    assert {e["involvedObject"]["name"] for e in events["items"]} >= {
        "api-0",
        "frontend-6f7d9c-q2x8z",
    }
    assert {(e["type"], e["message"]) for e in events["items"]} == {
        ("Warning", "Node is not ready")
    }
    # after the default toleration of 300s the taint-based eviction marks them for deletion,
    # all but the DaemonSet's agent, which tolerates the taint for ever
    sandbox.advance(timedelta(seconds=300))
    after = [
        p for p in get(kubectl, "pods", "-A")["items"] if p["spec"].get("nodeName") == "node-b"
    ]
    terminating = {p["metadata"]["name"] for p in after if p["metadata"].get("deletionTimestamp")}
    kept = {p["metadata"]["name"] for p in after} - terminating
    assert "api-0" in terminating and "frontend-6f7d9c-q2x8z" in terminating
    assert [n[: len("tke-eni-agent-")] for n in kept] == ["tke-eni-agent-"]


# ------------------------------------------------------------------------------ /scale of CRDs


@pytest.fixture
def owners(tmp_path: Path) -> Iterator[Path]:
    sb = make_sandbox("owners")
    yield sb.write_kubeconfig(tmp_path / "owners.kubeconfig")
    sb.stop()


@pytest.mark.parametrize(
    ("resource", "namespace", "name", "selector"),
    [
        ("statefulsets.apps.kruise.io", "shop", "shop", "app=shop"),
        ("tapps.apps.tkestack.io", "games", "game", "app=game"),
    ],
    ids=["kruise", "tapp"],
)
def test_kubectl_scale_reaches_the_workload_crds(
    owners: Path, tmp_path: Path, resource: str, namespace: str, name: str, selector: str
) -> None:
    env = dict(os.environ, KUBECONFIG=str(owners), HOME=str(tmp_path))

    def kc(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kubectl_path(), *args], capture_output=True, text=True, env=env)

    plural, group = resource.split(".", 1)
    discovery = json.loads(kc("get", "--raw", f"/apis/{group}").stdout)
    version = discovery["preferredVersion"]["version"]
    listed = json.loads(kc("get", "--raw", f"/apis/{group}/{version}").stdout)["resources"]
    sub = next(r for r in listed if r["name"] == f"{plural}/scale")
    assert (sub["group"], sub["version"], sub["kind"]) == ("autoscaling", "v1", "Scale")
    path = f"/apis/{group}/{version}/namespaces/{namespace}/{plural}/{name}/scale"
    scale = json.loads(kc("get", "--raw", path).stdout)
    assert (scale["spec"], scale["status"]) == (
        {"replicas": 3},
        {"replicas": 2, "selector": selector},
    )
    r = kc("scale", resource, name, "-n", namespace, "--replicas=4")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{plural[:-1]}.{group}/{name} scaled"
    got = kc("get", resource, name, "-n", namespace, "-o", "jsonpath={.spec.replicas}")
    assert got.stdout == "4"
    scaled = [m for m in json.loads(kc("get", resource, name, "-n", namespace, "-o", "json",
                                        "--show-managed-fields").stdout)["metadata"]["managedFields"]
              if m.get("subresource") == "scale"]  # fmt: skip
    assert [m["fieldsV1"] for m in scaled] == [{"f:spec": {"f:replicas": {}}}]
    # the tool reads the new replicas: shop-3 / game-3 are live ordinals again
    r = run_vip("list", "-n", namespace, "-o", "json", kubeconfig=owners)
    states = {c["name"]: c["state"] for c in json.loads(r.stdout)["items"]}
    assert states[f"{name}-3"] != "Orphaned"
