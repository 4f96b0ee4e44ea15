"""Each doctor check on small hand-built snapshots (pure): a case that triggers it and one that
does not; plus the runner (skipped, failed), the forecast, and the report's exit decision."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kubectl_vip.doctor import (
    REGISTRY,
    CheckResult,
    Finding,
    Issue,
    Severity,
    Snapshot,
    Status,
    all_checks,
    evidence,
    report,
    run_checks,
)
from kubectl_vip.doctor import registry as model
from kubectl_vip.doctor.checks_capacity import forecast
from kubectl_vip.doctor.snapshot import ReadState
from kubectl_vip.model import fields, schema

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)
H = timedelta(hours=1)
D = timedelta(days=1)
GZ3, GZ7 = "ap-guangzhou-3", "ap-guangzhou-7"
SUBNET = ("subnet-a", "10.0.1.0/24")
Obj = dict[str, Any]
REPO = "ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd"


def ts(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- object builders ---------------------------------------------------------------------------


def ipamd_dep(
    args: tuple[str, ...] = ("--claim-expired-duration=1h", "--enable-ownerref"),
    *,
    version: str = "v3.4.2",
    desired: int = 1,
    ready: int = 1,
) -> Obj:
    labels = {"k8s-app": "tke-eni-ipamd"}
    return {
        "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
        "spec": {
            "replicas": desired,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "tke-eni-ipamd",
                            "image": f"{REPO}:{version}",
                            "args": list(args),
                        }
                    ]
                },
            },
        },
        "status": {"readyReplicas": ready, "availableReplicas": ready, "updatedReplicas": ready},
    }


def sched_dep(ready: int = 1) -> Obj:
    return {
        "metadata": {"name": "tke-eni-ip-scheduler", "namespace": "kube-system"},
        "spec": {"replicas": 1},
        "status": {"readyReplicas": ready},
    }


def ipamd_pod(*, waiting: str | None = None, restarts: int = 0) -> Obj:
    state: Obj = {"waiting": {"reason": waiting, "message": "back-off"}} if waiting else {}
    return {
        "metadata": {
            "name": "tke-eni-ipamd-x1",
            "namespace": "kube-system",
            "labels": {"k8s-app": "tke-eni-ipamd"},
        },
        "spec": {"nodeName": "node-a"},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": "tke-eni-ipamd", "ready": not waiting, "restartCount": restarts,
                 "state": state, "lastState": {"terminated": {"reason": "Error"}}}
            ],
        },
    }  # fmt: skip


def claim(
    name: str,
    ns: str = "db",
    ip: str | None = None,
    *,
    released: datetime | None = None,
    created: datetime = NOW - 10 * D,
    owner: tuple[str, str, str] | None = None,
    expiry: str | None = None,
) -> Obj:
    ann = {schema.DELETE_POLICY: "Never"}
    if expiry:
        ann[schema.EXPIRY] = expiry
    meta: Obj = {
        "name": name,
        "namespace": ns,
        "uid": f"uid-{ns}-{name}",
        "creationTimestamp": ts(created),
        "annotations": ann,
    }
    if owner:
        kind, oname, ouid = owner
        meta["ownerReferences"] = [
            {"kind": kind, "name": oname, "uid": ouid, "apiVersion": "apps/v1"}
        ]
    status: Obj = {"phase": "Bound"}
    if ip:
        status["ip"] = ip
    if released:
        status["releaseTime"] = ts(released)
    return {"metadata": meta, "status": status}


def vip(
    ip: str,
    ref: tuple[str, str] | None = None,
    *,
    phase: str = "Attached",
    node: str | None = "node-a",
    subnet: tuple[str, str] = SUBNET,
    message: str | None = None,
    created: datetime = NOW - 10 * D,
    expiry: str | None = None,
) -> Obj:
    labels = {schema.NODE_LABEL: node} if node else {}
    meta: Obj = {"name": ip, "labels": labels, "creationTimestamp": ts(created)}
    if expiry:
        meta["annotations"] = {schema.EXPIRY: expiry}
    spec: Obj = {"type": "Pod", "subnetID": subnet[0]}
    if ref:
        spec["claimRef"] = {"namespace": ref[0], "name": ref[1], "uid": f"uid-{ref[0]}-{ref[1]}"}
    status: Obj = {"phase": phase, "subnetCIDR": subnet[1]}
    if message:
        status["message"] = message
    return {"metadata": meta, "spec": spec, "status": status}


def pod(
    name: str,
    ns: str = "db",
    *,
    phase: str = "Running",
    node: str | None = "node-a",
    sts: str | None = None,
    zone: str | None = None,
) -> Obj:
    meta: Obj = {"name": name, "namespace": ns, "uid": f"pod-{ns}-{name}"}
    if sts:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "name": sts,
                "uid": f"sts-{sts}",
                "controller": True,
            }
        ]
    spec: Obj = {"nodeName": node} if node else {}
    if zone:
        spec["nodeSelector"] = {schema.ZONE_LABEL: zone}
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


def sts(name: str, ns: str = "db", replicas: int = 1) -> Obj:
    return {
        "metadata": {"name": name, "namespace": ns, "uid": f"sts-{name}"},
        "spec": {"replicas": replicas},
    }


def node(name: str, zone: str = GZ3, *, eni_ip: str = "30", taint: bool = False) -> Obj:
    spec: Obj = {}
    if taint:
        spec["taints"] = [
            {"key": schema.ENI_UNAVAILABLE_TAINT, "value": "true", "effect": "NoSchedule"}
        ]
    return {
        "metadata": {"name": name, "labels": {schema.ZONE_LABEL: zone}},
        "spec": spec,
        "status": {"allocatable": {schema.ENI_IP: eni_ip}},
    }


def nec(name: str, subnet: tuple[str, str] | None = SUBNET) -> Obj:
    status: Obj = {}
    if subnet:
        status = {"eniInfos": [{"subnetID": subnet[0], "subnetCIDR": subnet[1]}]}
    return {"metadata": {"name": name}, "spec": {}, "status": status}


def event(kind: str, name: str, reason: str, message: str, *, ns: str = "", count: int = 1) -> Obj:
    return {
        "metadata": {"name": f"{name}.{reason}", "namespace": ns or "default"},
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "reason": reason,
        "message": message,
        "type": "Warning",
        "count": count,
        "lastTimestamp": ts(NOW - H),
    }


SERVED = {
    "vpcipclaims": "VpcIPClaim",
    "vpcips": "VpcIP",
    "nodeeniconfigs": "NodeENIConfig",
    "vpcenis": "VpcENI",
}


def base(**kw: Any) -> Snapshot:
    """A healthy cluster: ipamd ready with expiry 1h and cascade, one claim in use."""
    fields: dict[str, Any] = {
        "now": NOW,
        "served": dict(SERVED),
        "claims": [claim("mysql-0", ip="10.0.1.2")],
        "vips": [vip("10.0.1.2", ("db", "mysql-0"))],
        "pods": [pod("mysql-0", sts="mysql"), ipamd_pod()],
        "statefulsets": [sts("mysql")],
        "deployments": [ipamd_dep(), sched_dep()],
        "daemonsets": [],
        "nodes": [node("node-a")],
        "necs": [nec("node-a")],
        "events": [],
        "ipamd_configmap": {"data": {"TKE_ENI_IPAMD_SUBNET_ID": SUBNET[0]}},
        "helm_secrets": [],
    }
    fields.update(kw)
    return Snapshot(**fields)


def run(check_id: str, snap: Snapshot) -> list[model.Finding]:
    (result,) = run_checks([REGISTRY[check_id]], snap)
    assert result.status in (Status.OK, Status.FINDINGS), result.reason
    return result.findings


def problems(findings: list[model.Finding]) -> list[model.Finding]:
    return [f for f in findings if f.severity != Severity.INFO]


# --- scenarios that trigger each check ----------------------------------------------------------


def _no_expiry() -> Snapshot:
    return base(
        deployments=[ipamd_dep(("--claim-expired-duration=0s",)), sched_dep()],
        claims=[claim("mysql-0", ip="10.0.1.2"), claim("old-0", ip="10.0.1.3",
                                                       released=NOW - 3 * D)],
        vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.3", ("db", "old-0"), node=None)],
    )  # fmt: skip


def _orphaned() -> Snapshot:
    return base(
        claims=[
            claim("mysql-0", ip="10.0.1.2"),
            claim("gone-0", ip="10.0.1.3", released=NOW - 2 * H,
                  owner=("StatefulSet", "gone", "sts-gone")),
        ],
        vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.3", ("db", "gone-0"), node=None)],
        deployments=[ipamd_dep(("--claim-expired-duration=24h",)), sched_dep()],
    )  # fmt: skip


def _away(
    replicas: int,
    *,
    away: timedelta = 50 * timedelta(minutes=1),
    args: tuple[str, ...] = ("--claim-expired-duration=1h",),
    expiry: str | None = None,
) -> Snapshot:
    """db/mysql-1 without its Pod for `away`, under a StatefulSet of `replicas`."""
    return base(
        claims=[claim("mysql-0", ip="10.0.1.2"),
                claim("mysql-1", ip="10.0.1.3", released=NOW - away, expiry=expiry)],
        vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.3", ("db", "mysql-1"), node=None)],
        statefulsets=[sts("mysql", replicas=replicas)],
        deployments=[ipamd_dep(args), sched_dep()],
    )  # fmt: skip


def _overdue() -> Snapshot:
    return base(
        claims=[claim("mysql-0", ip="10.0.1.2"),
                claim("etl-0", ip="10.0.1.3", released=NOW - 2 * D, expiry="30m")],
        vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.3", ("db", "etl-0"), node=None)],
    )  # fmt: skip


def _leaked() -> Snapshot:
    return base(vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.9", ("web", "batch-0"))])


def _unbound() -> Snapshot:
    return base(claims=[claim("mysql-0", ip="10.0.1.2"), claim("old-7", released=NOW - H)])


ENI_MSG = "ENILimit: the number of ENIs in the VPC has reached the quota; node node-c"


def _eni_quota() -> Snapshot:
    return base(
        claims=[claim("mysql-0", ip="10.0.1.2"), claim("analytics-0", ip="10.0.3.2")],
        vips=[
            vip("10.0.1.2", ("db", "mysql-0")),
            vip("10.0.3.2", ("db", "analytics-0"), phase="Attaching", node="node-c",
                subnet=("subnet-c", "10.0.3.0/28"), message=ENI_MSG),
        ],
        pods=[pod("mysql-0", sts="mysql"), pod("analytics-0", phase="Pending", node="node-c"),
              ipamd_pod()],
        nodes=[node("node-a"), node("node-c", "ap-guangzhou-6")],
        necs=[nec("node-a"), nec("node-c", None)],
        events=[
            event("Pod", "analytics-0", "FailedCreatePodSandBox",
                  f"failed to set up pod network: VpcIP 10.0.3.2 is still Attaching: {ENI_MSG}",
                  ns="db"),
            event("Node", "node-c", "enilimit", ENI_MSG),
        ],
    )  # fmt: skip


def _no_subnet_zone() -> Snapshot:
    return base(
        nodes=[node("node-a"), node("node-d", GZ7, eni_ip="0", taint=True)],
        necs=[nec("node-a"), nec("node-d", None)],
    )


def _full_subnet(n_used: int) -> Snapshot:
    small = ("subnet-s", "10.0.9.0/28")  # 13 usable
    claims = [claim(f"app-{i}", ip=f"10.0.9.{i + 2}", created=NOW - (i % 6) * D - H)
              for i in range(n_used)]  # fmt: skip
    vips = [vip(f"10.0.9.{i + 2}", ("db", f"app-{i}"), subnet=small) for i in range(n_used)]
    pods = [pod(f"app-{i}") for i in range(n_used)]
    return base(claims=claims, vips=vips, pods=pods, necs=[nec("node-a", small)])


def _pending() -> Snapshot:
    return _no_subnet_zone_with(
        pods=[
            pod("mysql-0", sts="mysql"),
            pod("geo-0", "web", phase="Pending", node=None, zone=GZ7),
            ipamd_pod(),
        ],
        events=[
            event("Pod", "geo-0", "FailedScheduling",
                  "0/2 nodes are available: 2 Insufficient tke.cloud.tencent.com/eni-ip.",
                  ns="web", count=3),
        ],
    )  # fmt: skip


def _no_subnet_zone_with(**kw: Any) -> Snapshot:
    return dataclasses.replace(_no_subnet_zone(), **kw)


def _misfit() -> Snapshot:
    """Claims without a Pod and without any release time: the model does not fit."""
    old = [claim(f"old-{i}", ip=f"10.0.1.{10 + i}") for i in range(3)]
    snap = base(
        claims=[claim("mysql-0", ip="10.0.1.2"), *old],
        vips=[vip("10.0.1.2", ("db", "mysql-0"))],
    )
    counts = {k: fields.FitCount(k) for k in (fields.CLAIM, fields.VIP, fields.NEC)}
    for kind, objs in ((fields.CLAIM, snap.claims), (fields.VIP, snap.vips)):
        for o in objs or []:
            counts[kind].observe(o)
    snap.fit = counts
    return snap


POSITIVE: list[tuple[str, Callable[[], Snapshot], Severity, str]] = [
    ("VIP-CRD-002", _misfit, Severity.WARNING, "release time unknown for 3 of 3"),
    ("VIP-CRD-001", base, Severity.INFO, "networking.tke.cloud.tencent.com/v1"),
    ("VIP-IPAMD-001", lambda: base(deployments=[sched_dep()]), Severity.ERROR, "does not exist"),
    ("VIP-IPAMD-001", lambda: base(deployments=[ipamd_dep(ready=0), sched_dep()]),
     Severity.ERROR, "not ready: 0/1"),
    ("VIP-IPAMD-001", lambda: base(deployments=[ipamd_dep(desired=0, ready=0), sched_dep()]),
     Severity.ERROR, "scaled to 0"),
    ("VIP-IPAMD-002", lambda: base(pods=[ipamd_pod(waiting="CrashLoopBackOff", restarts=9)]),
     Severity.ERROR, "crash-looping"),
    ("VIP-IPAMD-002", lambda: base(pods=[ipamd_pod(restarts=7)]), Severity.WARNING, "restarted"),
    ("VIP-IPAMD-003", lambda: base(deployments=[ipamd_dep(version="latest"), sched_dep()]),
     Severity.WARNING, "cannot be read"),
    # a finding never contradicts its evidence: static claims exist, so the mode is not "off"
    ("VIP-IPAMD-004", lambda: base(deployments=[ipamd_dep()]), Severity.WARNING,
     "tke-eni-ip-scheduler not found, yet 1 static claim exists: static IPs are in use"),
    ("VIP-IPAMD-004", lambda: base(deployments=[ipamd_dep()], claims=[], vips=[]),
     Severity.WARNING, "static IP mode looks off (no claim is static)"),
    ("VIP-IPAMD-004", lambda: base(deployments=[ipamd_dep(), sched_dep(ready=0)]),
     Severity.WARNING, "not ready"),
    ("VIP-POL-001", _no_expiry, Severity.WARNING, "Expiry is never while 1 claim"),
    ("VIP-POL-002", lambda: base(deployments=[ipamd_dep(("--claim-expired-duration=2m",)),
                                              sched_dep()]), Severity.WARNING, "below 5m"),
    ("VIP-POL-002", lambda: base(claims=[claim("mysql-0", ip="10.0.1.2", expiry="90s")]),
     Severity.WARNING, "below 5m"),
    ("VIP-POL-003", lambda: _orphaned(), Severity.WARNING, "1 claim of deleted workloads"),
    ("VIP-POL-004", lambda: base(
        deployments=[ipamd_dep(version="v3.2.0"), sched_dep()],
        claims=[claim("mysql-0", ip="10.0.1.2", expiry="48h")]), Severity.WARNING,
     "ignores the expiry annotation"),
    ("VIP-POL-005", lambda: _away(1), Severity.WARNING,
     "StatefulSet/mysql -n db scaled to 1: claim mysql-1 is due in 10m"),
    ("VIP-POL-005", lambda: _away(2), Severity.WARNING,
     "StatefulSet/mysql -n db: Pods that come back, claim mysql-1 is due in 10m"),
    ("VIP-POL-005", lambda: _away(2, away=3 * H), Severity.WARNING, "claim mysql-1 is due now"),
    ("VIP-POL-005", lambda: _away(2, away=H, expiry="2h"), Severity.WARNING, "due in 60m"),
    ("VIP-CLM-001", _orphaned, Severity.WARNING, "1 Orphaned claim"),
    ("VIP-CLM-005", lambda: _away(1, args=()), Severity.INFO,
     "1 claim of scaled-in controllers hold 1 IP for a scale-up"),
    ("VIP-CLM-002", _overdue, Severity.ERROR, "1 Overdue claim"),
    ("VIP-CLM-003", _leaked, Severity.WARNING, "1 leaked VpcIP"),
    ("VIP-CLM-004", _unbound, Severity.WARNING, "1 claim without a VpcIP"),
    ("VIP-ENI-001", _eni_quota, Severity.ERROR, "VPC ENI quota reached: 1 node cannot attach"),
    # "View `nec`, and you can see that its status is empty": no ENI, cause not known (yet)
    ("VIP-ENI-002", lambda: base(necs=[nec("node-a", None)]), Severity.WARNING,
     "1 node in zone ap-guangzhou-3 gets no ENI: cause unknown"),
    ("VIP-ENI-003", lambda: base(necs=[nec(f"n-{i}") for i in range(850)]),
     Severity.WARNING, "VPC ENI quota nearly used: 850 of 1,000 ENIs in this cluster"),
    ("VIP-ENI-002", _no_subnet_zone, Severity.ERROR, "zone ap-guangzhou-7 has no container subnet"),
    ("VIP-CAP-001", lambda: _full_subnet(11), Severity.WARNING, "84.6% used"),
    ("VIP-CAP-001", lambda: _full_subnet(13), Severity.ERROR, "100.0% used"),
    ("VIP-CAP-002", lambda: _full_subnet(8), Severity.WARNING, "fills up in about"),
    ("VIP-SCH-001", _pending, Severity.ERROR, "1 Pod Pending for lack of an IP: zone ap-guangz"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check_id", "build", "severity", "title"),
    POSITIVE,
    ids=[f"{c}-{i}" for i, (c, *_) in enumerate(POSITIVE)],
)
def test_check_triggers(
    check_id: str, build: Callable[[], Snapshot], severity: Severity, title: str
) -> None:
    found = run(check_id, build())
    assert any(f.severity == severity and title in f.title for f in found), [
        (f.severity, f.title) for f in found
    ]
    for f in found:
        assert f.id == check_id and f.area == REGISTRY[check_id].area
        assert f.evidence and f.fix and f.title


NEGATIVE: list[tuple[str, Callable[[], Snapshot]]] = [
    ("VIP-CRD-002", base),
    ("VIP-IPAMD-001", base),
    ("VIP-IPAMD-002", lambda: base(pods=[ipamd_pod(restarts=2)])),
    ("VIP-IPAMD-003", base),
    ("VIP-IPAMD-004", base),
    ("VIP-POL-001", base),
    ("VIP-POL-001", lambda: base(deployments=[ipamd_dep(("--claim-expired-duration=0s",))])),
    ("VIP-POL-002", base),
    ("VIP-POL-003", base),
    ("VIP-POL-004", lambda: base(claims=[claim("mysql-0", ip="10.0.1.2", expiry="48h")])),
    ("VIP-POL-005", base),
    ("VIP-POL-005", lambda: _away(2, args=("--claim-expired-duration=0s",))),  # never
    ("VIP-POL-005", lambda: _away(2, expiry="87600h")),  # protected as set-expiry suggests
    ("VIP-POL-005", lambda: _away(2, args=("--claim-expired-duration=48h",))),  # not soon
    ("VIP-POL-005", lambda: _away(1, away=3 * H)),  # scaled away, already due: VIP-CLM-002
    ("VIP-POL-005", lambda: base(  # its release time is unknown: never a due time
        claims=[claim("mysql-0", ip="10.0.1.2"), claim("mysql-1", ip="10.0.1.3")],
        vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.3", ("db", "mysql-1"), node=None)],
        statefulsets=[sts("mysql", replicas=2)])),
    ("VIP-CLM-001", base),
    ("VIP-CLM-001", lambda: base(claims=[claim("mysql-0", ip="10.0.1.2"),
                                         claim("mysql-1", ip="10.0.1.3", released=NOW - H)],
                                 statefulsets=[sts("mysql", replicas=2)])),
    ("VIP-CLM-005", base),
    ("VIP-CLM-005", _orphaned),  # its owner is gone: Orphaned (VIP-CLM-001), not scaled in
    ("VIP-CLM-002", base),
    ("VIP-CLM-002", lambda: base(claims=[claim("mysql-0", ip="10.0.1.2"),
                                         claim("etl-0", released=NOW - timedelta(minutes=10),
                                               expiry="30m")])),
    ("VIP-CLM-003", base),
    ("VIP-CLM-004", base),
    ("VIP-CLM-004", lambda: base(claims=[claim("mysql-0", ip="10.0.1.2"),
                                         claim("new-0", created=NOW - timedelta(minutes=2))],
                                 pods=[pod("mysql-0"), pod("new-0", phase="Pending")])),
    ("VIP-ENI-001", base),
    ("VIP-ENI-001", lambda: _no_subnet_zone()),
    ("VIP-ENI-002", base),
    ("VIP-ENI-003", base),
    ("VIP-CAP-001", base),
    ("VIP-CAP-001", lambda: _full_subnet(10)),
    ("VIP-CAP-002", base),
    ("VIP-CAP-002", lambda: _full_subnet(11)),
    ("VIP-SCH-001", base),
    ("VIP-SCH-001", lambda: _no_subnet_zone_with(
        events=[event("Pod", "geo-0", "FailedScheduling", "0/2 nodes: 2 Insufficient cpu.",
                      ns="web")],
        pods=[pod("geo-0", "web", phase="Pending", node=None)])),
]  # fmt: skip


@pytest.mark.parametrize(
    ("check_id", "build"), NEGATIVE, ids=[f"{c}-{i}" for i, (c, _) in enumerate(NEGATIVE)]
)
def test_check_quiet(check_id: str, build: Callable[[], Snapshot]) -> None:
    assert problems(run(check_id, build())) == []


def test_an_overdue_claim_on_an_estimated_time_warns_but_raises_no_error() -> None:
    """An Immediate claim whose Pod went at a time nobody wrote: Overdue (ipamd should have
    released it), but no error and no due time rest on the estimate."""
    web = claim("web-0", ip="10.0.1.3")
    web["metadata"]["annotations"][schema.DELETE_POLICY] = "Immediate"
    web["metadata"]["managedFields"] = [
        {"manager": "tke-eni-ipamd", "time": ts(NOW - 2 * H), "fieldsV1": {"f:status": {}}}
    ]
    snap = base(
        claims=[claim("mysql-0", ip="10.0.1.2"), web],
        vips=[vip("10.0.1.2", ("db", "mysql-0")), vip("10.0.1.3", ("db", "web-0"), node=None)],
    )
    (f,) = run("VIP-CLM-002", snap)
    assert f.severity == Severity.WARNING
    assert not any("was due" in e for e in f.evidence)


def test_every_check_has_both_cases() -> None:
    ids = {c.id for c in all_checks()}
    assert {c for c, *_ in POSITIVE} == ids
    assert {c for c, _ in NEGATIVE} | {"VIP-CRD-001"} == ids


def test_crd_without_nec_says_so() -> None:
    served = {k: v for k, v in SERVED.items() if k != "nodeeniconfigs"}
    (f,) = run("VIP-CRD-001", base(served=served))
    assert any("NodeENIConfig (nec) is not served" in e for e in f.evidence)
    (f,) = run("VIP-CRD-001", base())
    assert f.evidence == ["kinds: VpcIPClaim, VpcIP, NodeENIConfig, VpcENI"]


def test_eni_chain_is_ordered() -> None:
    (f,) = [f for f in run("VIP-ENI-001", _eni_quota()) if f.severity == Severity.ERROR]
    text = "\n".join(f.details)
    order = [
        "Pod db/analytics-0 is Pending on node-c",
        "Event FailedCreatePodSandBox on Pod/analytics-0",
        "VpcIP 10.0.3.2 (claim db/analytics-0) is Attaching: ENILimit",
        "Event enilimit on Node/node-c",  # matched case-insensitively
        "NodeENIConfig node-c has an empty status",
    ]
    positions = [text.index(s) for s in order]
    assert positions == sorted(positions)
    assert {"Pod/db/analytics-0", "VpcIP/10.0.3.2", "NodeENIConfig/node-c"} <= set(f.objects)
    assert "1,000 ENIs per VPC" in f.fix and "ticket" in f.fix


def test_insufficient_ip_reason_any_case() -> None:
    s = _no_subnet_zone_with(
        pods=[pod("geo-0", "web", phase="Pending", node=None)],
        events=[event("Pod", "geo-0", "InsufficientIPOrENI", "no subnet", ns="web")],
    )
    (f,) = run("VIP-SCH-001", s)
    assert "InsufficientIPOrENI" in "\n".join(f.evidence)


def test_policy_fix_points_to_console_when_addon_managed() -> None:
    """ "tke-eni-ipamd v3.5.0 or later" (with the add-on) → the console; "earlier than v3.5.0
    or no eniipamd to manage" → edit the Deployment."""
    for secrets, console in ((["sh.helm.release.v1.eniipamd.v1"], True), ([], False)):
        s = _no_expiry()
        s.deployments = [ipamd_dep(("--claim-expired-duration=0s",), version="v3.6.0"), sched_dep()]
        s.helm_secrets = secrets  # [] : v3.6.0 with no add-on to manage it
        (f,) = run("VIP-POL-001", s)
        assert ("Add-On Management" in f.fix) is console
        assert f.fix.startswith("kubectl vip set-expiry 1h") is not console
    s = _no_expiry()  # v3.4.2 with the add-on present: edit the Deployment
    s.helm_secrets = ["sh.helm.release.v1.eniipamd.v1"]
    (f,) = run("VIP-POL-001", s)
    assert f.fix.startswith("kubectl vip set-expiry 1h")


# --- the runner ---------------------------------------------------------------------------------


def test_missing_read_skips_with_the_permission() -> None:
    s = base(events=None)
    s.reads["events"] = ReadState("events", "list events (all namespaces)", "forbidden", "no")
    (r,) = run_checks([REGISTRY["VIP-SCH-001"]], s)
    assert r.status == Status.SKIPPED
    assert r.missing == ["list events (all namespaces): forbidden (no)"]
    (r,) = run_checks([REGISTRY["VIP-ENI-001"]], s)  # events are optional there
    assert r.status == Status.OK
    assert "list events (all namespaces): forbidden (no)" in r.limited_by


def test_a_failed_read_fails_its_checks() -> None:
    s = base(pods=None)
    s.reads["pods"] = ReadState("pods", "list pods (all namespaces)", "failed", "HTTP 500")
    (r,) = run_checks([REGISTRY["VIP-CLM-001"]], s)
    assert r.status == Status.FAILED
    assert r.reason == "list pods (all namespaces): failed (HTTP 500)"
    assert report.exit_code([r], "error") == 1


def test_a_broken_check_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(s: Snapshot) -> list[Issue]:
        raise RuntimeError("bad data")

    broken = model.Check("VIP-TST-001", "crd", "broken", (), (), boom)
    results = run_checks([broken, REGISTRY["VIP-CRD-001"]], base())
    assert [r.status for r in results] == [Status.FAILED, Status.FINDINGS]
    assert results[0].reason == "RuntimeError: bad data"
    assert report.exit_code(results, "error") == 1
    assert report.exit_code(results, "never") == 0


def test_select_is_case_insensitive_and_rejects_unknown() -> None:
    assert [c.id for c in model.select(["vip-eni-001"])] == ["VIP-ENI-001"]
    with pytest.raises(KeyError):
        model.select(["VIP-NOPE-1"])


# --- forecast -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("created", "free", "days", "text"),
    [
        ([], 10, None, "not enough data (no claim"),
        ([NOW - H, NOW - 20 * H], 10, None, "not enough data (claims go back"),
        ([NOW - 30 * D], 10, None, "no growth"),
        ([NOW - 30 * D, NOW - D, NOW - 2 * D], 10, 35.0, "2 claims created in the last 7 days"),
        ([NOW - 3 * D, NOW - 2 * D, NOW - D], 3, 3.0, "full in about 3 days"),
        ([NOW - 3 * D, NOW - D], 0, 0.0, "full now"),
    ],
    ids=["none", "young", "flat", "slow", "fast", "full"],
)
def test_forecast(created: list[datetime], free: int, days: float | None, text: str) -> None:
    f = forecast(created, free, NOW)
    assert f.days == (pytest.approx(days) if days is not None else None)
    assert text in f.text


# --- report -------------------------------------------------------------------------------------


def _results(*severities: Severity) -> list[model.CheckResult]:
    c = REGISTRY["VIP-CRD-001"]
    findings = [model.Finding(c.id, c.area, s, "t", ["e"], "f", []) for s in severities]
    return [model.CheckResult(c, Status.FINDINGS if findings else Status.OK, findings)]


@pytest.mark.parametrize(
    ("severities", "fail_on", "code"),
    [
        ((Severity.ERROR,), "error", 1),
        ((Severity.WARNING,), "error", 0),
        ((Severity.WARNING,), "warning", 1),
        ((Severity.INFO,), "warning", 0),
        ((Severity.ERROR,), "never", 0),
        ((), "warning", 0),
    ],
)
def test_exit_code(severities: tuple[Severity, ...], fail_on: str, code: int) -> None:
    assert report.exit_code(_results(*severities), fail_on) == code


def test_summary_line() -> None:
    line = report.summary_line(_results(Severity.ERROR, Severity.WARNING), "error")
    assert line == "1 error, 1 warning, 0 info from 1 check run; exit 1 (--fail-on error)"


# --- bounded, grouped evidence ------------------------------------------------------------------


def test_evidence_helpers_bound_and_count() -> None:
    assert evidence.examples(["a", "b"]) == ["a", "b"]
    lines = [f"l{i}" for i in range(25)]
    got = evidence.examples(lines)
    assert got[:10] == lines[:10] and got[10] == "... and 15 more (all of them in -o json)"
    assert evidence.counts_by(["x", "y", "x"], "node") == "by node: x 2, y 1"
    many = evidence.counts_by([f"n{i:02d}" for i in range(12)], "node")
    assert many.endswith("... and 2 more") and many.count(",") == 9


def test_many_pending_pods_are_grouped_by_owner() -> None:
    """At any scale a finding reads in one screen: counts per owner, 5 examples, the rest in
    `details` (-o json)."""
    pods = [pod(f"geo-{i}", "web", phase="Pending", node=None, sts="geo") for i in range(30)]
    events = [
        event("Pod", f"geo-{i}", "FailedScheduling",
              "0/2 nodes are available: 2 Insufficient tke.cloud.tencent.com/eni-ip.", ns="web")
        for i in range(30)
    ]  # fmt: skip
    (f,) = run("VIP-SCH-001", _no_subnet_zone_with(pods=pods, events=events))
    assert f.evidence[0] == "Pending Pods by owner: StatefulSet web/geo 30"
    assert "... and 25 more Pods (all of them in -o json)" in f.evidence
    assert len(f.evidence) <= 14
    assert len(f.details) == 30 and len(f.objects) == 30


def test_text_report_caps_any_long_evidence() -> None:
    """Whatever a check returns, the terminal shows at most 25 evidence lines per finding."""
    fake = model.Check("VIP-X-001", "eni", "t", (), (), lambda s: [])
    f = Finding("VIP-X-001", "eni", Severity.WARNING, "t", [f"e{i}" for i in range(100)], "-", [])
    text = [
        "".join(part for part, _ in line)
        for line in report.text_lines([CheckResult(fake, Status.FINDINGS, [f])], "error")
    ]
    shown = [t for t in text if t.strip().startswith("- e")]
    assert len(shown) == 24
    assert any("... and 76 more lines (all in -o json)" in t for t in text)


def test_returning_due_names_the_fix_and_keeps_to_warnings() -> None:
    (f,) = run("VIP-POL-005", _away(1))
    assert f.severity == Severity.WARNING and f.objects == ["VpcIPClaim/db/mysql-1"]
    assert f.evidence[0] == ("db/mysql-1 (10.0.1.3): its Pod away 50m, due in 10m (flag expiry 1h)")
    assert f.fix.splitlines() == [
        "kubectl scale statefulset mysql -n db --replicas=2   "
        "# if they are to come back: before the expiry",
        "kubectl annotate vipc mysql-1 -n db tke.cloud.tencent.com/claim-expired-duration=87600h "
        "--overwrite   # keep them for their Pods",
    ]
    old = _away(2)
    old.deployments = [ipamd_dep(("--claim-expired-duration=1h",), version="v3.2.0"), sched_dep()]
    (f,) = run("VIP-POL-005", old)
    assert "ignores per-claim annotations" in f.fix and "annotate" not in f.fix
