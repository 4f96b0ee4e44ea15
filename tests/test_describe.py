from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.cli.app import invoke
from kubectl_vip.model import schema
from kubectl_vip.model.claims import IpamdPolicy
from kubectl_vip.model.describe import (
    NO_CLAIM,
    Facts,
    Target,
    TargetError,
    describe,
    event_rows,
    parse_target,
)
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault
from kubectl_vip.term.render import Out

from .conftest import Runner, aimed

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
Obj = dict[str, Any]


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- object builders --------------------------------------------------------------------------


def mk_claim(
    name: str = "mysql-0",
    ns: str = "db",
    ip: str | None = "10.0.1.2",
    *,
    policy: str | None = "Never",
    expiry: str | None = None,
    owner: Obj | None = None,
    released: datetime | None = None,
) -> Obj:
    ann = {}
    if policy:
        ann[schema.DELETE_POLICY] = policy
    if expiry:
        ann[schema.EXPIRY] = expiry
    meta: Obj = {"name": name, "namespace": ns, "uid": f"uid-claim-{name}", "annotations": ann,
                 "creationTimestamp": ts(NOW - 240 * H)}  # fmt: skip
    if owner:
        meta["ownerReferences"] = [owner]
    status: Obj = {"ip": ip} if ip else {}
    if released:
        status["releaseTime"] = ts(released)
    return {"metadata": meta, "spec": {}, "status": status}


def mk_pod(
    name: str = "mysql-0",
    ns: str = "db",
    *,
    phase: str = "Running",
    owner: Obj | None = None,
    policy: str | None = "Never",
    node: str | None = "node-a",
    ip: str | None = "10.0.1.2",
    deleting: bool = False,
    vpc: bool = True,
) -> Obj:
    meta: Obj = {"name": name, "namespace": ns, "uid": f"uid-pod-{name}"}
    if policy:
        meta["annotations"] = {schema.DELETE_POLICY: policy}
    if owner:
        meta["ownerReferences"] = [{**owner, "controller": True}]
    if deleting:
        meta["deletionTimestamp"] = ts(NOW)
    res = {"requests": {schema.ENI_IP: "1"}} if vpc else {}
    spec: Obj = {"containers": [{"name": "c", "resources": res}]}
    if node:
        spec["nodeName"] = node
    status: Obj = {"phase": phase}
    if ip:
        status["podIP"] = ip
    return {"metadata": meta, "spec": spec, "status": status}


def mk_vip(
    ip: str = "10.0.1.2",
    ns: str = "db",
    name: str = "mysql-0",
    *,
    phase: str = "Attached",
    node: str | None = "node-a",
    message: str | None = None,
    vtype: str = "Pod",
    claim_uid: str | None = None,
) -> Obj:
    labels = {schema.POD_NS_LABEL: ns, schema.POD_NAME_LABEL: name}
    if node:
        labels[schema.NODE_LABEL] = node
    status: Obj = {"phase": phase, "subnetCIDR": "10.0.1.0/28"}
    if message:
        status["message"] = message
    ref = {"namespace": ns, "name": name, "uid": claim_uid or f"uid-claim-{name}"}
    return {
        "metadata": {"name": ip, "labels": labels},
        "spec": {"type": vtype, "subnetID": "subnet-a", "claimRef": ref},
        "status": status,
    }


def sts_ref(name: str = "mysql") -> Obj:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": f"uid-sts-{name}"}


def mk_sts(name: str = "mysql", ns: str = "db", replicas: int = 3) -> Obj:
    meta = {"name": name, "namespace": ns, "uid": f"uid-sts-{name}"}
    return {"metadata": meta, "spec": {"replicas": replicas}}


def facts(**kw: Any) -> Facts:
    """Facts as fetch() reads them; a claim with an IP gets its VpcIP unless one is given."""
    ns = kw.pop("namespace", "db")
    name = kw.pop("name", "mysql-0")
    claim = kw.get("claim")
    if claim is not None and "vip" not in kw and schema.claim_ip(claim):
        attached = kw.get("pod") is not None
        kw["vip"] = mk_vip(
            schema.claim_ip(claim) or "",
            ns,
            name,
            phase="Attached" if attached else "Assigned",
            node="node-a" if attached else None,
        )
    return Facts(ns, name, **kw)


NEVER_BY_HAND = (
    "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); ipamd never reclaims it "
    "(no expiry): reclaim it by hand with `kubectl vip reclaim mysql-0 -n db` once the Pod is gone."
)

# --- target parsing -------------------------------------------------------------------------

TARGETS = [
    ("10.0.1.2", Target("ip", "10.0.1.2")),
    (" 10.0.1.2 ", Target("ip", "10.0.1.2")),
    ("ip/10.0.1.2", Target("ip", "10.0.1.2")),
    ("vip/10.0.1.2", Target("ip", "10.0.1.2")),
    ("pod/10.0.1.2", Target("name", "10.0.1.2")),
    ("mysql-0", Target("name", "mysql-0")),
    ("pod/mysql-0", Target("name", "mysql-0")),
    ("vipc/mysql-0", Target("name", "mysql-0")),
    ("10.0.1.256", Target("name", "10.0.1.256")),
    ("10.0.1", Target("name", "10.0.1")),
    ("010.0.1.2", Target("name", "010.0.1.2")),
    ("10.0.1.2.3", Target("name", "10.0.1.2.3")),
    ("web.example.com", Target("name", "web.example.com")),
]


@pytest.mark.parametrize(("arg", "want"), TARGETS, ids=[a.strip() or "blank" for a, _ in TARGETS])
def test_parse_target(arg: str, want: Target) -> None:
    assert parse_target(arg) == want


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("", "name a Pod"),
        ("pod/", "name a Pod"),
        ("ip/10.0.1", "not an IPv4 address"),
        ("ip/mysql-0", "not an IPv4 address"),
        ("deploy/web", "give a Pod name"),
    ],
    ids=["empty", "empty-pod", "short-ip", "name-as-ip", "other-kind"],
)
def test_parse_target_errors(arg: str, message: str) -> None:
    with pytest.raises(TargetError, match=message):
        parse_target(arg)


# --- what deleting does -----------------------------------------------------------------------

STS = {"workload_kind": "StatefulSet", "workload": mk_sts()}
GONE_STS = {"workload_kind": "StatefulSet", "workload": None}
RELEASED = NOW - 4 * 24 * H

CONSEQUENCES: list[tuple[str, dict[str, Any], IpamdPolicy, str, str | None]] = [
    (
        "bare-pod-never-no-expiry",
        {"claim": mk_claim(name="shell"), "pod": mk_pod(name="shell"), "name": "shell"},
        IpamdPolicy(),
        NEVER_BY_HAND.replace("mysql-0", "shell"),
        None,
    ),
    (
        "sts-pod-never-returns",
        {"claim": mk_claim(), "pod": mk_pod(owner=sts_ref()), **STS},
        IpamdPolicy(),
        "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); StatefulSet/mysql "
        "recreates the Pod, which gets the same IP back.",
        "Deleting StatefulSet/mysql deletes its Pods but keeps this claim and IP 10.0.1.2 (no "
        "ownerReference on the claim, so no cascade: --enable-ownerref is off); ipamd never "
        "reclaims it (no expiry): reclaim it by hand with `kubectl vip reclaim mysql-0 -n db` once "
        "the Pod is gone.",
    ),
    (
        "flag-expiry",
        {"claim": mk_claim(name="shell"), "pod": mk_pod(name="shell"), "name": "shell"},
        IpamdPolicy(expiry=H),
        "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); ipamd reclaims it 1h "
        "after the Pod is gone (flag expiry) unless a Pod named shell comes back first.",
        None,
    ),
    (
        "annotation-expiry-wins-over-flag",
        {"claim": mk_claim(name="c", expiry="48h"), "pod": mk_pod(name="c"), "name": "c"},
        IpamdPolicy(expiry=H),
        "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); ipamd reclaims it 48h "
        "after the Pod is gone (annotation expiry) unless a Pod named c comes back first.",
        None,
    ),
    (
        "immediate-sts",
        {"claim": mk_claim(policy="Immediate"), "pod": mk_pod(owner=sts_ref()), **STS},
        IpamdPolicy(),
        "Deleting the Pod deletes the claim and releases IP 10.0.1.2 (policy Immediate); "
        "StatefulSet/mysql recreates the Pod, which gets a new IP.",
        "Deleting StatefulSet/mysql deletes its Pods, and with them this claim and IP 10.0.1.2 "
        "(policy Immediate).",
    ),
    (
        "no-policy-means-ipamd-default",
        {"claim": mk_claim(name="x", policy=None), "pod": mk_pod(name="x", policy=None),
         "name": "x"},
        IpamdPolicy(),
        "Deleting the Pod deletes the claim and releases IP 10.0.1.2 (no delete policy set: "
        "ipamd's default is Immediate).",
        None,
    ),
    (
        "cascade-owner-reference",
        {"claim": mk_claim(owner=sts_ref()), "pod": mk_pod(owner=sts_ref()), **STS},
        IpamdPolicy(cascade=True),
        "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); StatefulSet/mysql "
        "recreates the Pod, which gets the same IP back.",
        "Deleting StatefulSet/mysql deletes this claim too (it has an ownerReference to "
        "StatefulSet/mysql: cascade), releasing IP 10.0.1.2.",
    ),
    (
        "cascade-on-but-claim-predates-it",
        {"claim": mk_claim(), "pod": mk_pod(owner=sts_ref()), **STS},
        IpamdPolicy(cascade=True),
        "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); StatefulSet/mysql "
        "recreates the Pod, which gets the same IP back.",
        "Deleting StatefulSet/mysql deletes its Pods but keeps this claim and IP 10.0.1.2 (no "
        "ownerReference on the claim, so no cascade: --enable-ownerref is on, but this claim "
        "predates it); ipamd never reclaims it (no expiry): reclaim it by hand with "
        "`kubectl vip reclaim mysql-0 -n db` once the Pod is gone.",
    ),
    (
        "replicaset-replaces-under-another-name",
        {
            "claim": mk_claim(name="web-5d9f-x2k"),
            "pod": mk_pod(name="web-5d9f-x2k", owner={**sts_ref("web-5d9f"), "kind": "ReplicaSet"}),
            "name": "web-5d9f-x2k",
            "workload_kind": "ReplicaSet",
            "workload": {"metadata": {"name": "web-5d9f", "namespace": "db",
                                      "uid": "uid-sts-web-5d9f"}},
        },
        IpamdPolicy(),
        "Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never), but ReplicaSet/web-5d9f "
        "replaces the Pod under another name, so no Pod reuses it: ipamd never reclaims it (no "
        "expiry): reclaim it by hand with `kubectl vip reclaim web-5d9f-x2k -n db` once the Pod "
        "is gone.",
        "Deleting ReplicaSet/web-5d9f deletes its Pods but keeps this claim and IP 10.0.1.2 (no "
        "ownerReference on the claim, so no cascade: --enable-ownerref is off); ipamd never "
        "reclaims it (no expiry): reclaim it by hand with `kubectl vip reclaim web-5d9f-x2k -n db` "
        "once the Pod is gone.",
    ),
    (
        "terminating-pod",
        {"claim": mk_claim(name="s"), "pod": mk_pod(name="s", deleting=True), "name": "s"},
        IpamdPolicy(),
        "The Pod is being deleted: that keeps the claim and IP 10.0.1.2 (policy Never); ipamd "
        "never reclaims it (no expiry): reclaim it by hand with `kubectl vip reclaim s -n db` "
        "once the Pod is gone.",
        None,
    ),
    (
        "retained-no-expiry",
        {"claim": mk_claim(name="shell", released=RELEASED), "name": "shell"},
        IpamdPolicy(),
        "No Pod: the claim keeps IP 10.0.1.2 for the next Pod named shell (policy Never); ipamd "
        "never reclaims it (no expiry): reclaim it by hand with `kubectl vip reclaim shell -n db`.",
        None,
    ),
    (
        "expiring",
        {"claim": mk_claim(name="c", expiry="48h", released=NOW - 22 * H), "name": "c"},
        IpamdPolicy(),
        "No Pod: ipamd reclaims it in 26h (2026-11-21T14:00:00Z), unless a Pod named c returns "
        "first and takes IP 10.0.1.2 back.",
        None,
    ),
    (
        "overdue",
        {"claim": mk_claim(name="e", expiry="30m", released=NOW - 66 * H), "name": "e"},
        IpamdPolicy(),
        "No Pod: the annotation expiry 30m passed 2d17h ago but ipamd has not reclaimed IP "
        "10.0.1.2 (check ipamd); reclaim it by hand with `kubectl vip reclaim e -n db`.",
        None,
    ),
    (
        "overdue-immediate",
        {"claim": mk_claim(name="i", policy="Immediate", released=RELEASED), "name": "i"},
        IpamdPolicy(),
        "No Pod, yet the claim still holds IP 10.0.1.2 although its policy is Immediate: ipamd "
        "should have released it; reclaim it with `kubectl vip reclaim i -n db`.",
        None,
    ),
    (
        "orphaned-owner-gone",
        {"claim": mk_claim(name="legacy-0", owner=sts_ref("legacy"), released=RELEASED),
         "name": "legacy-0", **GONE_STS},
        IpamdPolicy(),
        "No Pod, and nothing recreates it (owner StatefulSet/legacy is gone): the claim keeps IP "
        "10.0.1.2; ipamd never reclaims it (no expiry): reclaim it with "
        "`kubectl vip reclaim legacy-0 -n db`.",
        "StatefulSet/legacy no longer exists: nothing recreates the Pod.",
    ),
    (
        "scaled-in-with-expiry",
        {"claim": mk_claim(name="mysql-5", released=NOW - H), "name": "mysql-5", **STS},
        IpamdPolicy(expiry=2 * H),
        "No Pod: StatefulSet/mysql runs fewer replicas than this ordinal needs; scaled up, it "
        "recreates the Pod, which gets IP 10.0.1.2 back; whether an autoscaler scales "
        "StatefulSet/mysql is unknown (not read). Meanwhile ipamd reclaims it in 60m "
        "(2026-11-20T13:00:00Z); if it stays scaled in: `kubectl vip reclaim mysql-5 -n db "
        "--scaled-in-for DURATION`.",
        "Deleting StatefulSet/mysql leaves this claim and IP 10.0.1.2 (no ownerReference on the "
        "claim, so no cascade: --enable-ownerref is off); ipamd reclaims it 2h after the Pod is "
        "gone (flag expiry) unless a Pod named mysql-5 comes back first.",
    ),
    (
        "returning",
        {"claim": mk_claim(released=NOW - H), **STS},
        IpamdPolicy(),
        "No Pod now: StatefulSet/mysql recreates it, and it gets IP 10.0.1.2 back (policy Never).",
        "Deleting StatefulSet/mysql leaves this claim and IP 10.0.1.2 (no ownerReference on the "
        "claim, so no cascade: --enable-ownerref is off); ipamd never reclaims it (no expiry): "
        "reclaim it by hand with `kubectl vip reclaim mysql-0 -n db`.",
    ),
    (
        "unbound",
        {"claim": mk_claim(name="old-7", ip=None, released=NOW - H), "name": "old-7"},
        IpamdPolicy(),
        "No Pod and no VpcIP: the claim reserves no address; reclaim it with "
        "`kubectl vip reclaim old-7 -n db` unless a Pod named old-7 is coming back.",
        None,
    ),
    (
        "vpc-pod-without-claim",
        {"pod": mk_pod(name="geo-0", node=None, ip=None, owner=sts_ref("geo")), "name": "geo-0",
         "workload_kind": "StatefulSet", "workload": mk_sts("geo", replicas=1)},
        IpamdPolicy(),
        "The Pod has no claim yet: deleting it frees no static IP.",
        "Deleting StatefulSet/geo deletes its Pods; no claim is involved.",
    ),
    (
        "pod-not-vpc-cni",
        {"pod": mk_pod(name="plain", vpc=False, policy=None), "name": "plain"},
        IpamdPolicy(),
        "The Pod does not use VPC-CNI: deleting it frees no static IP.",
        None,
    ),
    (
        "leaked-ip",
        {"vip": mk_vip("10.0.2.60", "web", "batch-0", phase="Assigned", node=None),
         "namespace": "web", "name": "batch-0", "ip": "10.0.2.60"},
        IpamdPolicy(),
        "No claim holds 10.0.2.60 (Leaked): nothing releases it by itself, and it stays counted "
        "as used in its subnet (see kubectl vip usage).",
        None,
    ),
    (
        "not-a-pod-ip",
        {"vip": mk_vip("10.0.1.9", vtype="Eni"), "ip": "10.0.1.9"},
        IpamdPolicy(),
        "10.0.1.9 is a VpcIP of type Eni, not a Pod IP: deleting Pods leaves it.",
        None,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "policy", "pod_says", "workload_says"),
    [c[1:] for c in CONSEQUENCES],
    ids=[c[0] for c in CONSEQUENCES],
)
def test_consequences(
    kw: dict[str, Any], policy: IpamdPolicy, pod_says: str, workload_says: str | None
) -> None:
    d = describe(facts(**kw), policy, NOW)
    assert d.if_pod_deleted == pod_says
    assert d.if_workload_deleted == workload_says


STATES: list[tuple[str, dict[str, Any], str, str]] = [
    ("in-use", {"claim": mk_claim(), "pod": mk_pod(), "vip": mk_vip()}, "InUse",
     "its Pod is Running"),
    (
        "attaching",
        {"claim": mk_claim(), "pod": mk_pod(phase="Pending", ip=None),
         "vip": mk_vip(phase="Attaching", message="ENILimit: quota")},
        "InUse",
        "its Pod is Pending; its VpcIP is Attaching: ENILimit: quota",
    ),
    ("leaked-ip", {"vip": mk_vip(), "ip": "10.0.1.2"}, "Leaked",
     "no claim holds it: its claim db/mysql-0 is gone"),
    (
        "ip-whose-claim-name-was-reused",
        {"claim": mk_claim(ip="10.0.1.9"), "vip": mk_vip(claim_uid="older"), "ip": "10.0.1.2"},
        "Leaked",
        "no claim holds it: claim db/mysql-0 holds another address now",
    ),
    ("attaching-ip-without-claim",
     {"vip": mk_vip(phase="Attaching", message="m"), "ip": "10.0.1.2"},
     "Attaching", "cannot attach to node node-a: m"),
    ("no-claim", {"pod": mk_pod()}, NO_CLAIM, "the Pod uses VPC-CNI but has no claim yet"),
    ("no-vpc", {"pod": mk_pod(vpc=False)}, NO_CLAIM, "the Pod does not use VPC-CNI"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kw", "state", "reason"), [c[1:] for c in STATES], ids=[c[0] for c in STATES]
)
def test_state_and_reason(kw: dict[str, Any], state: str, reason: str) -> None:
    d = describe(facts(**kw), IpamdPolicy(), NOW)
    assert d.state == state
    assert d.reason.startswith(reason)


def test_ip_mode_drops_a_claim_that_holds_another_address() -> None:
    d = describe(
        facts(claim=mk_claim(ip="10.0.1.9"), vip=mk_vip(claim_uid="older"), ip="10.0.1.2"),
        IpamdPolicy(),
        NOW,
    )
    assert d.claim is None and d.ip == "10.0.1.2"
    assert d.vip is not None and d.vip.state == "Leaked"


NODES: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
    (
        "healthy",
        {"node": {"metadata": {"name": "node-a", "labels": {schema.ZONE_LABEL: "gz-3"}}},
         "nec": {"metadata": {"name": "node-a"}, "spec": {"maxRouteENI": 3, "maxIPPerENI": 10},
                 "status": {"eniInfos": [{"subnetID": "s", "subnetCIDR": "10.0.1.0/28"}]}}},
        (True, "gz-3", False, True, True, (("s", "10.0.1.0/28"),), 3, 10),
    ),
    (
        "empty-nec-status-and-taint",
        {"node": {"metadata": {"name": "node-a"},
                  "spec": {"taints": [{"key": schema.ENI_UNAVAILABLE_TAINT}]}},
         "nec": {"metadata": {"name": "node-a"}, "status": {}}},
        (True, None, True, True, False, (), None, None),
    ),
    ("node-and-nec-missing", {}, (False, None, False, False, False, (), None, None)),
    ("odd-fields",
     {"node": {"metadata": {"name": "node-a", "labels": "x"}, "spec": {"taints": "y"}},
      "nec": {"metadata": {"name": "node-a"}, "spec": {"maxRouteENI": "3"},
              "status": {"eniInfos": "z"}}},
     (True, None, False, True, True, (), None, None)),
]  # fmt: skip


@pytest.mark.parametrize(("kw", "want"), [c[1:] for c in NODES], ids=[c[0] for c in NODES])
def test_node_info(kw: dict[str, Any], want: tuple[Any, ...]) -> None:
    d = describe(facts(claim=mk_claim(), pod=mk_pod(), vip=mk_vip(), **kw), IpamdPolicy(), NOW)
    n = d.node
    assert n is not None and n.nec is not None and n.name == "node-a"
    got = (n.exists, n.zone, n.eni_unavailable, n.nec.exists, n.nec.healthy, n.nec.subnets,
           n.nec.max_enis, n.nec.max_ips_per_eni)  # fmt: skip
    assert got == want


def test_nec_not_served() -> None:
    d = describe(facts(claim=mk_claim(), pod=mk_pod(), nec_served=False), IpamdPolicy(), NOW)
    assert d.node is not None and d.node.nec is None


# --- events -----------------------------------------------------------------------------------


def ev(name: str, reason: str, last: datetime | None, **extra: Any) -> Obj:
    e: Obj = {
        "metadata": {"name": f"{name}.{reason}", "namespace": "db", "uid": f"uid-{name}-{reason}"},
        "involvedObject": {"kind": "Pod", "name": name},
        "reason": reason,
        "message": f"{reason} happened",
        "type": "Warning",
    }
    if last:
        e["lastTimestamp"] = ts(last)
        e["firstTimestamp"] = ts(last - H)
    e.update(extra)
    return e


def test_event_rows_newest_last_limited_and_deduplicated() -> None:
    events = [
        ev("p", "B", NOW - H),
        ev("p", "A", NOW - 3 * H),
        ev("p", "C", NOW),
        ev("p", "A", NOW - 3 * H),
    ]
    rows = event_rows(events, 2)
    assert [r.reason for r in rows] == ["B", "C"]
    assert rows[1].object == "Pod/p" and rows[1].message == "C happened"
    assert [r.reason for r in event_rows(events, 10)] == ["A", "B", "C"]
    assert event_rows(events, 0) == []


EVENT_FIELDS: list[tuple[str, Obj, tuple[Any, ...]]] = [
    ("core-v1", {"firstTimestamp": ts(NOW - H), "lastTimestamp": ts(NOW), "count": 4},
     (NOW - H, NOW, 4)),
    ("events-k8s-io", {"eventTime": "2026-11-20T11:00:00.123456Z",
                       "series": {"count": 2, "lastObservedTime": ts(NOW)}},
     (NOW - H + timedelta(microseconds=123456), NOW, 2)),
    ("only-creation", {"metadata": {"creationTimestamp": ts(NOW)}, "count": 0}, (NOW, NOW, 1)),
    ("nothing", {"count": "x"}, (None, None, 1)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("e", "want"), [c[1:] for c in EVENT_FIELDS], ids=[c[0] for c in EVENT_FIELDS]
)
def test_event_accessors(e: Obj, want: tuple[Any, ...]) -> None:
    first, last = schema.event_times(e)
    assert (first, last, schema.event_count(e)) == want


def test_event_without_fields_shows_unknown() -> None:
    (row,) = event_rows([{"note": "n"}], 5)
    assert (row.object, row.reason, row.type, row.message) == ("unknown/unknown", None, None, "n")


# --- end to end against the sandbox demo ------------------------------------------------------


def fields(out: str) -> dict[str, str]:
    """Top-level `Key: value` lines of the describe layout."""
    got = {}
    for line in out.splitlines():
        if line and not line.startswith(" ") and ":" in line:
            k, _, v = line.partition(":")
            got[k] = v.strip()
    return got


def test_describe_pod_table(vip: Runner, kubeconfig: Path) -> None:
    r = vip("describe", "mysql-0", "-n", "db")
    assert (r.code, r.stderr) == (0, "")
    f = fields(r.stdout)
    assert f["Name"] == "mysql-0" and f["Namespace"] == "db" and f["IP"] == "10.0.1.2"
    assert (f["State"], f["Reason"]) == ("InUse", "its Pod is Running")
    assert (f["Claim"], f["Pod"], f["VpcIP"], f["Node"]) == (
        "vipc/mysql-0", "pod/mysql-0", "vip/10.0.1.2", "node-a",
    )  # fmt: skip
    assert f["Owner"] == "StatefulSet/mysql (the Pod's controller, 3 replicas)"
    assert f["Cascade"] == "off"
    lines = [line.rstrip() for line in r.lines]
    assert "  Delete Policy:  Never" in lines
    assert "  Expiry:         never (no expiry)" in lines
    assert "  Subnet:         subnet-a1b2c3d4 (10.0.1.0/28)" in lines
    assert "  Zone:           ap-guangzhou-3" in lines
    assert (
        "  ENI Config:     healthy (1 ENI: subnet-a1b2c3d4 10.0.1.0/28; max 3 ENIs x 10 IPs)"
        in lines
    )
    assert (
        "  Pod:            Deleting the Pod keeps the claim and IP 10.0.1.2 (policy Never); "
        "StatefulSet/mysql recreates the Pod, which gets the same IP back." in lines
    )
    assert any(
        line.startswith("  Workload:       Deleting StatefulSet/mysql deletes its Pods but keeps")
        and line.endswith(
            aimed("`kubectl-vip reclaim mysql-0 -n db` once the Pod is gone.", kubeconfig)
        )
        for line in lines
    )
    i = lines.index("Events:")
    assert lines[i + 1].split() == ["AGE", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert lines[i + 2].split(None, 4) == [
        "10d", "Normal", "Scheduled", "Pod/mysql-0", "Successfully assigned db/mysql-0 to node-a",
    ]  # fmt: skip


def test_describe_attaching_ip_shows_node_events(vip: Runner) -> None:
    r = vip("describe", "10.0.3.2")
    assert r.code == 0
    f = fields(r.stdout)
    assert (f["Name"], f["Namespace"], f["State"]) == ("analytics-0", "db", "InUse")
    assert "its VpcIP is Attaching: ENILimit" in f["Reason"]
    assert "  ENI Config:     empty status: no ENI attached (VPC ENI quota? see Events)" in r.lines
    assert "  Phase:          Attaching" in r.lines
    events = r.stdout.split("Events:", 1)[1]
    assert "FailedCreatePodSandBox   Pod/analytics-0" in events
    assert "ENILimit                 Node/node-c" in events


def test_describe_scaled_in(vip: Runner, kubeconfig: Path) -> None:
    r = vip("describe", "redis-2", "-n", "db")
    assert r.code == 0
    f = fields(r.stdout)
    assert (f["State"], f["Pod"], f["Node"]) == ("ScaledIn", "<none>", "<none>")
    assert f["Owner"] == "StatefulSet/redis (by name, 2 replicas)"
    assert "  Released:       2026-11-14T12:00:00Z (6d ago)" in r.lines
    assert (
        aimed(
            "  Now:            No Pod: StatefulSet/redis runs fewer replicas than this ordinal "
            "needs; scaled up, it recreates the Pod, which gets IP 10.0.1.7 back. Meanwhile ipamd "
            "never reclaims it (no expiry); if it stays scaled in: `kubectl-vip reclaim redis-2 "
            "-n db --scaled-in-for DURATION`.",
            kubeconfig,
        )
        in r.lines
    )


def test_describe_orphaned(vip: Runner, kubeconfig: Path) -> None:
    r = vip("describe", "legacy-api-0", "-n", "web")
    assert r.code == 0
    f = fields(r.stdout)
    assert (f["State"], f["Pod"], f["Node"]) == ("Orphaned", "<none>", "<none>")
    assert (
        aimed(
            "  Now:            No Pod, and nothing recreates it (owner StatefulSet/legacy-api is "
            "gone): the claim keeps IP 10.0.1.14; ipamd never reclaims it (no expiry): reclaim "
            "it with `kubectl-vip reclaim legacy-api-0 -n web`.",
            kubeconfig,
        )
        in r.lines
    )


def test_describe_expiring(vip: Runner) -> None:
    r = vip("describe", "canary-0", "-n", "default")
    assert r.code == 0
    assert "  Expiry:         48h0m0s (from the annotation)" in r.lines
    assert "  Reclaim At:     2026-11-21T14:00:00Z (in 26h)" in r.lines


def test_describe_leaked_ip(vip: Runner) -> None:
    r = vip("describe", "10.0.2.60")
    assert r.code == 0
    f = fields(r.stdout)
    assert (f["State"], f["Claim"], f["Pod"]) == ("Leaked", "<none>", "<none>")
    assert f["Reason"] == "no claim holds it: its claim web/batch-0 is gone"
    assert "Events:  <none>" in r.lines


def test_describe_pod_without_claim(vip: Runner) -> None:
    r = vip("describe", "geo-0", "-n", "web")
    assert r.code == 0
    f = fields(r.stdout)
    assert (f["State"], f["Claim"], f["IP"]) == (NO_CLAIM, "<none>", "<none>")
    assert "FailedScheduling" in r.stdout and "(x2 over 24h)" in r.stdout


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_describe_document(vip: Runner, fmt: str) -> None:
    r = vip("describe", "10.0.3.2", "-o", fmt)
    assert (r.code, r.stderr) == (0, "")
    doc = json.loads(r.stdout) if fmt == "json" else yaml.safe_load(r.stdout)
    assert (doc["apiVersion"], doc["kind"]) == ("kubectl-vip/v1", "ClaimDescription")
    assert list(doc) == [
        "apiVersion", "kind", "metadata", "ip", "state", "reason", "claim", "pod", "vpcIP", "node",
        "owner", "cascade", "ifDeleted", "events",
    ]  # fmt: skip
    assert doc["metadata"] == {
        "generatedAt": "2026-11-20T12:00:00Z",
        "namespace": "db",
        "name": "analytics-0",
    }
    assert (doc["ip"], doc["state"], doc["claim"]["deletePolicy"]) == ("10.0.3.2", "InUse", "Never")
    assert doc["vpcIP"]["phase"] == "Attaching" and doc["vpcIP"]["subnetID"] == "subnet-c9d0e1f2"
    assert doc["node"]["nodeENIConfig"]["healthy"] is False
    assert doc["node"]["zone"] == "ap-guangzhou-6"
    assert doc["owner"]["kind"] == "StatefulSet" and doc["owner"]["exists"] is True
    assert doc["ifDeleted"]["pod"].startswith("Deleting the Pod keeps the claim and IP 10.0.3.2")
    assert [e["reason"] for e in doc["events"]] == [
        "Scheduled",
        "FailedCreatePodSandBox",
        "ENILimit",
    ]


def test_describe_unknown_pod(vip: Runner) -> None:
    r = vip("describe", "nope", "-n", "db")
    assert (r.code, r.stdout) == (1, "")
    assert r.stderr.strip() == 'error: no claim and no Pod "nope" in namespace "db"'


def test_describe_uses_context_namespace(vip: Runner) -> None:
    r = vip("describe", "mysql-0")  # the sandbox context's namespace is default
    assert r.code == 1
    assert 'no claim and no Pod "mysql-0" in namespace "default"' in r.stderr


def test_describe_unknown_ip(vip: Runner) -> None:
    r = vip("describe", "10.9.9.9")
    assert (r.code, r.stdout) == (1, "")
    assert (
        r.stderr.strip() == 'error: no VpcIP "10.9.9.9" in the cluster: no Pod holds that address'
    )


@pytest.mark.parametrize("arg", ["10.0.1.256", "pod/10.0.1.2"], ids=["malformed-ip", "forced-name"])
def test_describe_ip_looking_names(vip: Runner, arg: str) -> None:
    r = vip("describe", arg, "-n", "db")
    assert r.code == 1
    name = arg.removeprefix("pod/")
    assert f'no claim and no Pod "{name}" in namespace "db"' in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("describe", "mysql-0", "-A"), "use -n NAMESPACE, not -A"),
        (("describe", "mysql-0", "-n", "db", "-o", "wide"), 'unknown output format "wide"'),
        (("describe", "ip/10.0.1"), '"10.0.1" is not an IPv4 address'),
        (("describe",), "Missing argument"),
    ],
    ids=["all-namespaces", "bad-format", "bad-forced-ip", "no-argument"],
)
def test_describe_usage_errors(vip: Runner, args: tuple[str, ...], message: str) -> None:
    r = vip(*args)
    assert r.code == 2
    assert message in r.stderr


def test_describe_reads_few_objects(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.clear_log()
    assert vip("describe", "mysql-0", "-n", "db").code == 0
    reqs = sandbox.controls.resource_requests()
    lists = [
        (r.resource, r.namespace, r.query.get("fieldSelector")) for r in reqs if r.verb == "list"
    ]
    assert sorted(lists, key=str) == [
        ("events", "", "involvedObject.kind=VpcIP,involvedObject.name=10.0.1.2"),
        ("events", "db", "involvedObject.name=mysql-0"),
    ]
    gets = sorted((r.resource, r.name) for r in reqs if r.verb == "get")
    assert gets == [
        ("deployments", "tke-eni-ipamd"), ("nodeeniconfigs", "node-a"), ("nodes", "node-a"),
        ("pods", "mysql-0"), ("statefulsets", "mysql"), ("vpcipclaims", "mysql-0"),
        ("vpcips", "10.0.1.2"),
    ]  # fmt: skip


def test_describe_without_event_access_still_describes(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.inject(
        Fault(verb="list", resource="events", code=403, reason="Forbidden", times=-1)
    )
    r = vip("describe", "mysql-0", "-n", "db")
    assert r.code == 0
    assert "Warning: cannot read events in db" in r.stderr
    assert "Events:  <none>" in r.lines


def test_describe_in_colour_keeps_the_layout(kubeconfig: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = invoke(
        ["--kubeconfig", str(kubeconfig), "describe", "redis-2", "-n", "db"],
        Out(out, err, color=True),
    )
    assert code == 0
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
    assert "State:            ScaledIn\n" in plain
    assert "\x1b[" in out.getvalue()  # the state is coloured
