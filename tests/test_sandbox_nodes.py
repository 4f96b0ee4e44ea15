"""Nodes that stop answering, as kube-apiserver and kube-controller-manager show them, through
the real kubectl on the `unreachable-node` scenario: `nodes/status` and `pods/status`, the node
lifecycle's taints, taint-based eviction, graceful and forced Pod deletion, and what ipamd does
with the addresses of Pods on such a node."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.store import Obj

from .conftest import FIXED_NOW, Runner, make_sandbox
from .test_sandbox_kubectl import rows

NODE_LABEL = "tke.cloud.tencent.com/node-name"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOW = "2026-11-20T12:00:00Z"
TEN_MIN_AGO = "2026-11-20T11:50:00Z"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The `kubectl` and `kubeconfig` fixtures serve this scenario in this module."""
    sb = make_sandbox("unreachable-node")
    yield sb
    sb.stop()


def get(kubectl: Runner, *what: str) -> Any:
    r = kubectl("get", *what, "-o", "json")
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)


def ready_patch(status: str, reason: str) -> str:
    cond = {"type": "Ready", "status": status, "reason": reason, "lastTransitionTime": NOW}
    return json.dumps({"status": {"conditions": [cond]}})


def stored(sb: Sandbox, kind: str, ns: str, name: str) -> Obj | None:
    return sb.store.peek(getattr(sb.world.t, kind), ns, name)


def vip_view(sb: Sandbox, ip: str) -> tuple[str, str | None] | None:
    vip = stored(sb, "vips", "", ip)
    if vip is None:
        return None
    return vip["status"]["phase"], (vip["metadata"].get("labels") or {}).get(NODE_LABEL)


# ------------------------------------------------------------------------------ the scenario


def test_the_scenario_as_kubectl_shows_it(kubectl: Runner) -> None:
    assert rows(kubectl("get", "nodes")) == [
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        ["node-a", "Ready", "<none>", "10d", "v1.32.2-tke.1"],
        ["node-b", "Ready", "<none>", "10d", "v1.32.2-tke.1"],
        ["node-c", "NotReady", "<none>", "10d", "v1.32.2-tke.1"],
    ]
    node_c = get(kubectl, "node", "node-c")
    ready = next(c for c in node_c["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"], ready["lastTransitionTime"]) == (
        "Unknown",
        "NodeStatusUnknown",
        TEN_MIN_AGO,
    )
    assert node_c["spec"]["taints"] == [
        {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": TEN_MIN_AGO},
        {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": TEN_MIN_AGO},
    ]
    pods = rows(kubectl("get", "pods", "-A", "-o", "wide"))
    by_name = {r[1]: (r[3], r[7]) for r in pods[1:] if r[0] != "kube-system"}
    assert by_name == {
        "mysql-0": ("Running", "node-a"),
        "mysql-1": ("Running", "node-a"),
        "api-0": ("Running", "node-b"),
        "api-1": ("Running", "node-b"),
        "cache-0": ("Terminating", "node-c"),  # marked by taint-based eviction, unconfirmed
    }
    # the system Pods belong to their controllers: ipamd's and the static-IP scheduler's
    # ReplicaSets, and the eni agent's DaemonSet (one per node, node-c's kept there)
    system = {
        (p["metadata"]["labels"]["k8s-app"], p["metadata"]["ownerReferences"][0]["kind"]): []
        for p in get(kubectl, "pods", "-n", "kube-system")["items"]
    }
    for p in get(kubectl, "pods", "-n", "kube-system")["items"]:
        key = (p["metadata"]["labels"]["k8s-app"], p["metadata"]["ownerReferences"][0]["kind"])
        ready = next(c["status"] for c in p["status"]["conditions"] if c["type"] == "Ready")
        system[key].append((p["spec"]["nodeName"], p["status"]["phase"], ready))
    assert system == {
        ("tke-eni-agent", "DaemonSet"): [
            ("node-a", "Running", "True"),
            ("node-c", "Running", "False"),  # MarkPodsNotReady: its node does not answer
            ("node-b", "Running", "True"),
        ],
        ("tke-eni-ip-scheduler", "ReplicaSet"): [("node-a", "Running", "True")],
        ("tke-eni-ipamd", "ReplicaSet"): [("node-a", "Running", "True")],
    }
    claims = {
        f"{c['metadata']['namespace']}/{c['metadata']['name']}": c["status"]
        for c in get(kubectl, "vipc", "-A")["items"]
    }
    assert claims["db/pg-0"] == {
        "phase": "Released",
        "ip": "10.0.3.2",
        "releaseTime": "2026-11-20T11:57:00Z",
    }
    assert claims["ops/toolbox"] == {
        "phase": "Released",
        "ip": "10.0.3.4",
        "releaseTime": "2026-11-20T11:57:00Z",
    }
    assert claims["web/old-api-0"]["releaseTime"] == "2026-11-17T12:00:00Z"
    assert claims["web/cache-0"] == {"phase": "Bound", "ip": "10.0.3.3"}
    vips = {
        v["metadata"]["name"]: (v["status"]["phase"], v["metadata"]["labels"].get(NODE_LABEL))
        for v in get(kubectl, "vip")["items"]
    }
    assert vips["10.0.3.2"] == ("Attached", "node-c")  # pg-0's: its Pod was force-deleted
    assert vips["10.0.3.4"] == ("Attached", "node-c")  # toolbox's, likewise
    assert vips["10.0.3.3"] == ("Attached", "node-c")  # cache-0, still Terminating
    assert vips["10.0.1.4"] == ("Assigned", None)  # old-api-0's, detached on a Ready node
    owners = {
        c["metadata"]["name"]: [r["name"] for r in c["metadata"].get("ownerReferences") or []]
        for c in get(kubectl, "vipc", "-A")["items"]
    }
    assert owners["pg-0"] == ["pg"] and owners["old-api-0"] == ["old-api"]
    assert owners["toolbox"] == []
    sts = rows(kubectl("get", "sts", "-A", "-o", "name"))
    assert sts == [["statefulset.apps/mysql"], ["statefulset.apps/api"], ["statefulset.apps/cache"]]
    events = rows(kubectl("get", "events", "-A", "--field-selector=reason=TaintManagerEviction"))
    assert sorted(r[4] for r in events[1:]) == [
        "pod/cache-0",
        "pod/pg-0",
        "pod/toolbox",
    ]


# ------------------------------------------------------------------------------ /status


def test_discovery_lists_node_and_pod_status(kubectl: Runner) -> None:
    raw = kubectl("get", "--raw", "/api/v1")
    subs = {r["name"]: r for r in json.loads(raw.stdout)["resources"] if "/" in r["name"]}
    assert subs["nodes/status"] == {
        "name": "nodes/status",
        "singularName": "",
        "namespaced": False,
        "kind": "Node",
        "verbs": ["get", "patch", "update"],
    }
    assert subs["pods/status"]["kind"] == "Pod" and subs["pods/status"]["namespaced"] is True
    assert set(subs) == {"nodes/status", "pods/status", "pods/eviction"}


def test_patch_node_status_marks_it_not_ready_and_tainted(kubectl: Runner) -> None:
    r = kubectl(
        "patch", "node", "node-a", "--subresource=status", "--type=merge",
        "-p", ready_patch("Unknown", "NodeStatusUnknown"),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "node/node-a patched"
    assert rows(kubectl("get", "node", "node-a", "--subresource=status"))[1][:2] == [
        "node-a",
        "NotReady",
    ]
    node = json.loads(
        kubectl("get", "node", "node-a", "-o", "json", "--show-managed-fields").stdout
    )
    assert node["spec"]["taints"] == [
        {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": NOW},
        {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": NOW},
    ]
    written = [m for m in node["metadata"]["managedFields"] if m["manager"] == "kubectl-patch"]
    assert written == [
        {
            "manager": "kubectl-patch",
            "operation": "Update",
            "apiVersion": "v1",
            "time": NOW,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {"f:conditions": {}}},
            "subresource": "status",
        }
    ]
    # Ready=False: the not-ready taint replaces the unreachable one
    r = kubectl(
        "patch", "node", "node-a", "--subresource=status", "--type=merge",
        "-p", ready_patch("False", "KubeletNotReady"),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    taints = get(kubectl, "node", "node-a")["spec"]["taints"]
    assert [(t["key"], t["effect"]) for t in taints] == [
        ("node.kubernetes.io/not-ready", "NoSchedule"),
        ("node.kubernetes.io/not-ready", "NoExecute"),
    ]
    r = kubectl(
        "patch", "node", "node-a", "--subresource=status", "--type=merge",
        "-p", ready_patch("True", "KubeletReady"),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert "taints" not in get(kubectl, "node", "node-a")["spec"]


def test_a_status_write_changes_only_status(kubectl: Runner) -> None:
    node = get(kubectl, "node", "node-b")
    node["status"]["conditions"][0]["status"] = "False"
    node["spec"]["unschedulable"] = True
    node["metadata"]["labels"]["team"] = "x"
    r = kubectl("replace", "--subresource=status", "-f", "-", input=json.dumps(node))
    assert r.code == 0, r.stderr
    after = get(kubectl, "node", "node-b")
    assert after["status"]["conditions"][0]["status"] == "False"
    assert "unschedulable" not in after["spec"] and "team" not in after["metadata"]["labels"]
    # a JSON patch of the spec through /status is accepted and changes nothing
    r = kubectl(
        "patch", "pod", "api-0", "-n", "web", "--subresource=status", "--type=json",
        "-p", '[{"op":"replace","path":"/spec/nodeName","value":"node-a"}]',
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert get(kubectl, "pod", "api-0", "-n", "web")["spec"]["nodeName"] == "node-b"


def test_status_writes_check_the_resource_version_and_honour_dry_run(kubectl: Runner) -> None:
    stale = get(kubectl, "node", "node-b")
    patch = ready_patch("False", "KubeletNotReady")
    r = kubectl("patch", "node", "node-b", "--subresource=status", "--type=merge", "-p", patch,
                "--dry-run=server", "-o", "jsonpath={.status.conditions[0].status}")  # fmt: skip
    assert r.code == 0, r.stderr
    assert r.stdout == "False"  # what it would be ...
    assert rows(kubectl("get", "node", "node-b"))[1][1] == "Ready"  # ... and is not
    assert kubectl("patch", "node", "node-b", "--subresource=status", "-p", patch).code == 0
    stale["status"]["conditions"][0]["status"] = "True"
    r = kubectl("replace", "--subresource=status", "-f", "-", input=json.dumps(stale))
    assert r.code == 1
    assert 'Operation cannot be fulfilled on nodes "node-b": the object has been modified' in (
        r.stderr
    )


def test_pod_status_merges_conditions_by_type(kubectl: Runner) -> None:
    r = kubectl(
        "patch", "pod", "mysql-0", "-n", "db", "--subresource=status",
        "-p", '{"status":{"conditions":[{"type":"Ready","status":"False"}]}}',
    )  # fmt: skip
    assert r.code == 0, r.stderr
    conds = get(kubectl, "pod", "mysql-0", "-n", "db")["status"]["conditions"]
    assert {c["type"]: c["status"] for c in conds} == {
        "Initialized": "True",
        "Ready": "False",
        "ContainersReady": "True",
        "PodScheduled": "True",
    }


def test_a_main_resource_write_keeps_the_status(kubectl: Runner) -> None:
    """kube-apiserver's Pod and Node strategies: status changes only through /status."""
    r = kubectl("patch", "pod", "mysql-0", "-n", "db", "--type=merge", "-p",
                '{"metadata":{"labels":{"x":"y"}},"status":{"phase":"Failed"}}')  # fmt: skip
    assert r.code == 0, r.stderr
    pod = get(kubectl, "pod", "mysql-0", "-n", "db")
    assert pod["metadata"]["labels"]["x"] == "y" and pod["status"]["phase"] == "Running"
    r = kubectl("patch", "node", "node-c", "--type=merge", "-p",
                '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}')  # fmt: skip
    assert r.code == 0, r.stderr
    assert rows(kubectl("get", "node", "node-c"))[1][1] == "NotReady"


# ------------------------------------------------------------------------------ deletion


def test_a_pod_on_a_node_that_does_not_answer_waits_in_terminating(
    kubectl: Runner, sandbox: Sandbox
) -> None:
    # scaled to 0 so that the StatefulSet does not bring cache-0 back at once
    assert kubectl("scale", "sts", "cache", "-n", "web", "--replicas=0").code == 0
    r = kubectl("delete", "pod", "cache-0", "-n", "web", "--wait=false")
    assert r.code == 0, r.stderr
    pod = get(kubectl, "pod", "cache-0", "-n", "web")
    assert pod["metadata"]["deletionTimestamp"] == "2026-11-20T11:55:30Z"  # the eviction's
    assert pod["metadata"]["deletionGracePeriodSeconds"] == 30
    r = kubectl("delete", "pod", "cache-0", "-n", "web", "--grace-period=0", "--force")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == 'pod "cache-0" force deleted from web namespace'
    assert "Immediate deletion does not wait for confirmation" in r.stderr
    assert kubectl("get", "pod", "cache-0", "-n", "web").code == 1
    claim = stored(sandbox, "claims", "web", "cache-0")
    assert claim is not None and claim["status"]["phase"] == "Released"
    assert claim["status"]["releaseTime"] == NOW
    # ipamd released the claim, but the node's agent cannot detach the address
    assert vip_view(sandbox, "10.0.3.3") == ("Attached", "node-c")


def test_a_delete_on_a_node_that_answers_is_immediate(kubectl: Runner, sandbox: Sandbox) -> None:
    r = kubectl("delete", "pod", "api-0", "-n", "web")
    assert r.code == 0, r.stderr
    pod = stored(sandbox, "pods", "web", "api-0")  # back at once, by its StatefulSet
    assert pod is not None and not pod["metadata"].get("deletionTimestamp")


def test_a_plain_delete_of_a_pod_on_a_lost_node_leaves_it_terminating() -> None:
    sb = Sandbox("healthy", now=FIXED_NOW)
    t = sb.world.t
    pod = sb.store.peek(t.pods, "db", "mysql-0")
    assert pod is not None and pod["spec"]["nodeName"] in ("node-a", "node-b")
    _set_ready(sb, pod["spec"]["nodeName"], "Unknown")
    obj, removed = sb.store.delete(t.pods, "db", "mysql-0")
    assert not removed
    assert obj["metadata"]["deletionTimestamp"] == "2026-11-20T12:00:30Z"
    assert obj["metadata"]["deletionGracePeriodSeconds"] == 30
    # a longer period does not change it, a shorter one does
    obj, removed = sb.store.delete(t.pods, "db", "mysql-0", grace_seconds=60)
    assert not removed and obj["metadata"]["deletionGracePeriodSeconds"] == 30
    obj, removed = sb.store.delete(t.pods, "db", "mysql-0", grace_seconds=10)
    assert not removed and obj["metadata"]["deletionTimestamp"] == "2026-11-20T12:00:10Z"
    _, removed = sb.store.delete(t.pods, "db", "mysql-0", grace_seconds=0)
    assert removed


# ------------------------------------------------------------------------------ lifecycle


def _set_ready(sb: Sandbox, node: str, status: str) -> None:
    def apply(n: Obj) -> None:
        for c in n["status"]["conditions"]:
            if c["type"] == "Ready":
                c["status"] = status

    sb.store.mutate(sb.world.t.nodes, "", node, apply, manager="kubelet")


def test_eviction_comes_after_the_default_toleration_of_300s() -> None:
    sb = Sandbox("healthy", now=FIXED_NOW)
    t = sb.world.t
    on_a = sorted(
        p["metadata"]["name"]
        for p in sb.store.objects(t.pods, "db")
        if p["spec"].get("nodeName") == "node-a"
    )
    assert on_a
    tolerant = {
        "metadata": {"name": "tolerant"},
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "c"}],
            "tolerations": [{"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}],
        },
    }
    brief = {
        "metadata": {"name": "brief"},
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "c"}],
            "tolerations": [{"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 60}],
        },
    }
    sb.store.create(t.pods, "default", tolerant)
    sb.store.create(t.pods, "default", brief)
    _set_ready(sb, "node-a", "Unknown")

    def deleting(ns: str, name: str) -> str | None:
        p = sb.store.peek(t.pods, ns, name)
        assert p is not None
        return p["metadata"].get("deletionTimestamp")

    sb.advance(timedelta(seconds=60))
    assert deleting("default", "brief") == "2026-11-20T12:01:30Z"
    assert deleting("db", on_a[0]) is None
    sb.advance(timedelta(seconds=239))
    assert deleting("db", on_a[0]) is None
    sb.advance(timedelta(seconds=1))
    assert deleting("db", on_a[0]) == "2026-11-20T12:05:30Z"
    assert deleting("default", "tolerant") is None  # tolerates it for ever
    sb.advance(timedelta(days=1))
    assert deleting("default", "tolerant") is None
    reasons = [e["reason"] for e in sb.store.objects(t.events, "db")]
    assert "TaintManagerEviction" in reasons


def test_a_paused_node_lifecycle_neither_taints_nor_evicts() -> None:
    sb = Sandbox("healthy", now=FIXED_NOW)
    sb.pause_controller("nodelifecycle")
    _set_ready(sb, "node-a", "Unknown")
    sb.advance(timedelta(minutes=10))
    node = sb.store.peek(sb.world.t.nodes, "", "node-a")
    assert node is not None and "taints" not in node["spec"]
    assert not any(
        p["metadata"].get("deletionTimestamp") for p in sb.store.objects(sb.world.t.pods)
    )
    sb.resume_controller("nodelifecycle")  # catches up: taints, and evicts what is overdue
    node = sb.store.peek(sb.world.t.nodes, "", "node-a")
    assert node is not None and [t["key"] for t in node["spec"]["taints"]] == [UNREACHABLE] * 2
    sb.advance(timedelta(minutes=5))
    assert any(p["metadata"].get("deletionTimestamp") for p in sb.store.objects(sb.world.t.pods))


def test_no_new_pod_lands_on_an_unreachable_node(kubectl: Runner) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "probe", "namespace": "default"},
        "spec": {
            "nodeSelector": {"topology.kubernetes.io/zone": "ap-guangzhou-6"},
            "containers": [{"name": "c", "image": "busybox"}],
        },
    }
    assert kubectl("create", "-f", "-", input=json.dumps(pod)).code == 0
    assert get(kubectl, "pod", "probe")["status"]["phase"] == "Pending"
    pod["metadata"]["name"] = "tolerant"
    pod["spec"]["tolerations"] = [{"operator": "Exists"}]
    assert kubectl("create", "-f", "-", input=json.dumps(pod)).code == 0
    tolerant = get(kubectl, "pod", "tolerant")
    # bound to node-c, whose kubelet does not answer: nothing starts it, no address is given
    assert tolerant["spec"]["nodeName"] == "node-c"
    assert tolerant["status"]["phase"] == "Pending" and "podIP" not in tolerant["status"]
    r = kubectl(
        "patch", "node", "node-c", "--subresource=status", "--type=merge",
        "-p", ready_patch("True", "KubeletReady"),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert get(kubectl, "pod", "tolerant")["status"]["phase"] == "Running"
    # without the taint the scheduler places the first one too
    probe = get(kubectl, "pod", "probe")
    assert probe["spec"]["nodeName"] == "node-c" and probe["status"]["phase"] == "Running"


def test_when_the_node_answers_again_its_addresses_are_detached_or_released(
    kubectl: Runner, sandbox: Sandbox
) -> None:
    # the claim of toolbox is reclaimed while node-c is down: its VpcIP must wait
    r = kubectl("delete", "vipc", "toolbox", "-n", "ops")
    assert r.code == 0, r.stderr
    assert vip_view(sandbox, "10.0.3.4") == ("Attached", "node-c")
    r = kubectl(
        "patch", "node", "node-c", "--subresource=status", "--type=merge",
        "-p", ready_patch("True", "KubeletReady"),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert "taints" not in get(kubectl, "node", "node-c")["spec"]
    assert vip_view(sandbox, "10.0.3.4") is None  # its claim was deleted: released
    assert vip_view(sandbox, "10.0.3.2") == ("Assigned", None)  # pg-0's claim is kept
    # the kubelet finished cache-0; its StatefulSet brought it back with the same address
    pods = rows(kubectl("get", "pod", "cache-0", "-n", "web", "-o", "wide"))
    assert pods[1][2] == "Running" and pods[1][5:7] == ["10.0.3.3", "node-c"]
    assert vip_view(sandbox, "10.0.3.3") == ("Attached", "node-c")


def test_an_immediate_claim_goes_but_its_address_waits_for_the_node() -> None:
    sb = Sandbox("healthy", now=FIXED_NOW)
    t = sb.world.t
    pod = {
        "metadata": {
            "name": "web",
            "annotations": {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Immediate"},
        },
        "spec": {
            "nodeSelector": {"topology.kubernetes.io/zone": "ap-guangzhou-4"},
            "containers": [
                {"name": "c", "resources": {"requests": {"tke.cloud.tencent.com/eni-ip": "1"}}}
            ],
        },
    }
    sb.store.create(t.pods, "default", pod)
    claim = sb.store.peek(t.claims, "default", "web")
    assert claim is not None
    ip = claim["status"]["ip"]
    assert vip_view(sb, ip) == ("Attached", "node-b")
    _set_ready(sb, "node-b", "Unknown")  # ipamd runs on node-a
    sb.store.delete(t.pods, "default", "web", grace_seconds=0)
    assert sb.store.peek(t.claims, "default", "web") is None
    assert vip_view(sb, ip) == ("Attached", "node-b")
    _set_ready(sb, "node-b", "True")
    assert vip_view(sb, ip) is None


def test_unknown_controller_names_are_refused() -> None:
    sb = Sandbox("empty", now=FIXED_NOW, tke=False)
    with pytest.raises(ValueError, match="one of statefulset, nodelifecycle"):
        sb.pause_controller("garbagecollector")
