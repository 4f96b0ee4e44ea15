"""Classification of claims (pure): every state and edge, table-driven."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.model import claims as cl
from kubectl_vip.model.claims import Inventory, IpamdPolicy, State

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
Obj = dict[str, Any]


def ts(delta: timedelta) -> str:
    return (NOW - delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def claim(
    name: str = "web-0",
    ns: str = "app",
    *,
    ip: str | None = "10.0.1.5",
    policy: str | None = "Never",
    released: timedelta | None = None,
    expiry: str | None = None,
    owner: tuple[str, str, str] | None = None,
    uid: str = "c-uid",
    managed_status_at: timedelta | None = None,
    ip_path: tuple[str, str] = ("status", "ip"),
) -> Obj:
    ann = {}
    if policy:
        ann["tke.cloud.tencent.com/vpc-ip-claim-delete-policy"] = policy
    if expiry:
        ann["tke.cloud.tencent.com/claim-expired-duration"] = expiry
    meta: Obj = {
        "name": name,
        "namespace": ns,
        "uid": uid,
        "resourceVersion": "7",
        "creationTimestamp": ts(timedelta(days=10)),
        "annotations": ann,
    }
    if owner:
        kind, oname, ouid = owner
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": kind, "name": oname, "uid": ouid}
        ]
    if managed_status_at is not None:
        meta["managedFields"] = [
            {"manager": "tke-eni-ipamd", "time": ts(timedelta(days=9)), "fieldsV1": {"f:spec": {}}},
            {
                "manager": "tke-eni-ipamd",
                "time": ts(managed_status_at),
                "fieldsV1": {"f:status": {}},
            },
        ]
    obj: Obj = {"metadata": meta, "spec": {}, "status": {}}
    if ip:
        obj[ip_path[0]][ip_path[1]] = ip
    if released is not None:
        obj["status"]["releaseTime"] = ts(released)
    return obj


def vip(
    ip: str = "10.0.1.5",
    ns: str = "app",
    name: str = "web-0",
    *,
    uid: str | None = "c-uid",
    phase: str = "Assigned",
    vtype: str | None = "Pod",
    ref_labels: bool = False,
) -> Obj:
    spec: Obj = {"subnetID": "subnet-a"}
    if vtype:
        spec["type"] = vtype
    meta: Obj = {"name": ip, "creationTimestamp": ts(timedelta(days=10))}
    if ref_labels:
        meta["labels"] = {
            "tke.cloud.tencent.com/pod-namespace": ns,
            "tke.cloud.tencent.com/pod-name": name,
        }
    else:
        spec["claimRef"] = {"namespace": ns, "name": name, **({"uid": uid} if uid else {})}
    return {"metadata": meta, "spec": spec, "status": {"phase": phase, "subnetCIDR": "10.0.1.0/24"}}


def pod(
    name: str = "web-0",
    ns: str = "app",
    *,
    phase: str = "Running",
    deleting: bool = False,
    owner: tuple[str, str, str] | None = None,
) -> Obj:
    meta: Obj = {"name": name, "namespace": ns, "uid": "p-uid"}
    if deleting:
        meta["deletionTimestamp"] = ts(timedelta(seconds=5))
        meta["finalizers"] = ["example.com/hold"]
    if owner:
        kind, oname, ouid = owner
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": kind, "name": oname, "uid": ouid, "controller": True}
        ]
    return {"metadata": meta, "spec": {"nodeName": "node-a"}, "status": {"phase": phase}}


def sts(
    name: str = "web",
    ns: str = "app",
    *,
    replicas: int | None = 3,
    uid: str = "s-uid",
    deleting: bool = False,
) -> Obj:
    meta: Obj = {"name": name, "namespace": ns, "uid": uid}
    if deleting:
        meta["deletionTimestamp"] = ts(timedelta(seconds=1))
    spec: Obj = {} if replicas is None else {"replicas": replicas}
    return {"metadata": meta, "spec": spec}


def one(
    c: Obj,
    vips: list[Obj] | None = None,
    pods: list[Obj] | None = None,
    workloads: list[Obj] | None = None,
    policy: IpamdPolicy | None = None,
) -> cl.ClaimRow:
    inv = Inventory.build(
        [c], [vip()] if vips is None else vips, pods or [], {"StatefulSet": workloads or []}
    )
    rows = cl.classify(inv, policy or IpamdPolicy(), NOW)
    assert len(rows) == 1
    return rows[0]


H = timedelta(hours=1)
D = timedelta(days=1)

CASES = [
    # (id, claim, vips, pods, workloads, policy, expected state, reason fragment)
    ("pod-running", claim(), None, [pod()], None, None, State.IN_USE, "Running"),
    ("pod-pending", claim(), None, [pod(phase="Pending")], None, None, State.IN_USE, "Pending"),
    (
        "pod-unknown-phase",
        claim(),
        None,
        [pod(phase="Unknown")],
        None,
        None,
        State.IN_USE,
        "Unknown",
    ),
    (
        "pod-terminating",
        claim(),
        None,
        [pod(deleting=True)],
        None,
        None,
        State.TERMINATING,
        "being deleted",
    ),
    (
        "pod-succeeded",
        claim(),
        None,
        [pod(phase="Succeeded")],
        None,
        None,
        State.COMPLETED,
        "succeeded",
    ),
    ("pod-failed", claim(), None, [pod(phase="Failed")], None, None, State.COMPLETED, "failed"),
    (
        "retained-no-expiry",
        claim(released=2 * D),
        None,
        [],
        None,
        None,
        State.RETAINED,
        "no expiry",
    ),
    (
        "expiring-from-flag",
        claim(released=H),
        None,
        [],
        None,
        IpamdPolicy(expiry=2 * H),
        State.EXPIRING,
        "in 60m",
    ),
    (
        "overdue-from-flag",
        claim(released=3 * H),
        None,
        [],
        None,
        IpamdPolicy(expiry=H),
        State.OVERDUE,
        "passed",
    ),
    (
        "within-grace-not-overdue",
        claim(released=H + timedelta(minutes=3)),
        None,
        [],
        None,
        IpamdPolicy(expiry=H),
        State.EXPIRING,
        "due 3m ago",
    ),
    (
        "annotation-beats-flag",
        claim(released=3 * H, expiry="24h"),
        None,
        [],
        None,
        IpamdPolicy(expiry=H),
        State.EXPIRING,
        "annotation expiry",
    ),
    (
        "annotation-ignored-before-v3.3.2",
        claim(released=3 * H, expiry="24h"),
        None,
        [],
        None,
        IpamdPolicy(expiry=H, annotation_supported=False),
        State.OVERDUE,
        "",
    ),
    (
        "annotation-on-vpcip",
        claim(released=3 * H),
        [
            {
                **vip(),
                "metadata": {
                    **vip()["metadata"],
                    "annotations": {"tke.cloud.tencent.com/claim-expired-duration": "1h"},
                },
            }
        ],
        [],
        None,
        None,
        State.OVERDUE,
        "",
    ),
    (
        "annotation-zero-means-never",
        claim(released=3 * H, expiry="0s"),
        None,
        [],
        None,
        IpamdPolicy(expiry=H),
        State.RETAINED,
        "",
    ),
    (
        # what ipamd does with a value it cannot parse is not public: never, or the flag's
        "bad-annotation-is-unknown",
        claim(released=30 * timedelta(minutes=1), expiry="banana"),
        None,
        [],
        None,
        IpamdPolicy(expiry=H),
        State.RETAINED,
        "ipamd's expiry for it is unknown: 60m or never",
    ),
    (
        "flag-zero-never",
        claim(released=3 * H),
        None,
        [],
        None,
        IpamdPolicy(expiry=timedelta(0)),
        State.RETAINED,
        "",
    ),
    (
        "expiry-without-release-time",
        claim(),
        None,
        [],
        None,
        IpamdPolicy(expiry=H),
        State.EXPIRING,
        "release time unknown",
    ),
    (
        "immediate-policy-without-pod",
        claim(policy="Immediate", released=H),
        None,
        [],
        None,
        None,
        State.OVERDUE,
        "Immediate",
    ),
    (
        "owner-ref-gone",
        claim(released=D, owner=("StatefulSet", "old", "gone-uid")),
        None,
        [],
        [],
        None,
        State.ORPHANED,
        "is gone",
    ),
    (
        "owner-ref-recreated-other-uid",
        claim(released=D, owner=("StatefulSet", "web", "old-uid")),
        None,
        [],
        [sts(uid="new-uid")],
        None,
        State.RETAINED,  # a StatefulSet of that name exists again and brings web-0 back
        "will recreate its Pod",
    ),
    (
        "sts-scaled-in-at-boundary",
        claim("web-3", released=D),
        [vip(name="web-3")],
        [],
        [sts(replicas=3)],
        None,
        State.SCALED_IN,
        "ordinal 3 returns if it is scaled up",
    ),
    (
        "sts-ordinal-below-replicas",
        claim("web-2", released=D),
        [vip(name="web-2")],
        [],
        [sts(replicas=3)],
        None,
        State.RETAINED,
        "will recreate",
    ),
    (
        "sts-scaled-to-zero",
        claim("web-0", released=D),
        None,
        [],
        [sts(replicas=0)],
        None,
        State.SCALED_IN,
        "at 0 replicas: paused, not gone",
    ),
    (
        "sts-default-replicas-1",
        claim("web-1", released=D),
        [vip(name="web-1")],
        [],
        [sts(replicas=None)],
        None,
        State.SCALED_IN,
        "has 1 replicas",
    ),
    (
        "sts-being-deleted",
        claim("web-0", released=D),
        None,
        [],
        [sts(deleting=True)],
        None,
        State.ORPHANED,
        "being deleted",
    ),
    (
        "name-like-sts-but-none",
        claim("cache-1", released=D),
        [vip(name="cache-1")],
        [],
        [],
        None,
        State.RETAINED,
        "no expiry",
    ),
    (
        "overdue-beats-orphaned",
        claim("web-5", released=3 * H),
        [vip(name="web-5")],
        [],
        [sts(replicas=3)],
        IpamdPolicy(expiry=H),
        State.OVERDUE,
        "",
    ),
    (
        "scaled-in-beats-expiring",
        claim("web-5", released=H),
        [vip(name="web-5")],
        [],
        [sts(replicas=3)],
        IpamdPolicy(expiry=2 * H),
        State.SCALED_IN,
        "",
    ),
    (
        "orphaned-beats-expiring",
        claim("web-5", released=H, owner=("StatefulSet", "old", "gone-uid")),
        [vip(name="web-5")],
        [],
        [],
        IpamdPolicy(expiry=2 * H),
        State.ORPHANED,
        "",
    ),
    (
        "unknown-owner-kind-not-orphaned",
        claim(released=D, owner=("CloneSet", "x", "u")),
        None,
        [],
        [],
        None,
        State.RETAINED,
        "",
    ),
]


@pytest.mark.parametrize(
    ("c", "vips", "pods", "workloads", "policy", "state", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_state(
    c: Obj,
    vips: list[Obj] | None,
    pods: list[Obj],
    workloads: list[Obj] | None,
    policy: IpamdPolicy | None,
    state: State,
    fragment: str,
) -> None:
    row = one(c, vips, pods, workloads, policy)
    assert row.state is state
    assert fragment in row.reason


def test_in_use_row_has_no_retention_or_reclaim_time() -> None:
    row = one(claim(released=D), pods=[pod()], policy=IpamdPolicy(expiry=H))
    assert (row.retained_for, row.reclaim_at, row.released_at) == (None, None, None)
    assert not row.reclaimable


def test_expiring_reclaim_time_is_release_plus_expiry() -> None:
    row = one(claim(released=H), policy=IpamdPolicy(expiry=3 * H))
    assert row.reclaim_at == NOW + 2 * H
    assert row.retained_for == H
    assert row.expiry_source == "flag"
    assert row.reclaimable


@pytest.mark.parametrize(
    ("c", "expected_ip", "unbound"),
    [
        pytest.param(claim(), "10.0.1.5", False, id="status.ip"),
        pytest.param(claim(ip_path=("status", "vpcIP")), "10.0.1.5", False, id="status.vpcIP"),
        pytest.param(claim(ip_path=("spec", "ip")), "10.0.1.5", False, id="spec.ip"),
        pytest.param(claim(ip=None), "10.0.1.5", False, id="ip-from-vpcip-claimRef"),
    ],
)
def test_ip_paths(c: Obj, expected_ip: str, unbound: bool) -> None:
    row = one(c)
    assert (row.ip, row.unbound) == (expected_ip, unbound)
    assert row.vip_phase == "Assigned"
    assert row.subnet_cidr == "10.0.1.0/24"


def test_claim_without_vpcip_is_unbound() -> None:
    row = one(claim(released=D), vips=[])
    assert row.unbound and row.ip == "10.0.1.5" and row.vip_phase is None


def test_vpcip_of_an_older_claim_uid_does_not_bind() -> None:
    row = one(claim(ip=None, uid="new"), vips=[vip(uid="old")])
    assert row.unbound and row.ip is None


def test_vpcip_found_through_pod_labels() -> None:
    row = one(claim(ip=None), vips=[vip(ref_labels=True)])
    assert row.ip == "10.0.1.5" and not row.unbound


def test_release_time_estimated_from_managed_fields() -> None:
    row = one(claim(managed_status_at=5 * H), policy=IpamdPolicy(expiry=H))
    assert row.released_at == NOW - 5 * H
    assert row.released_estimated
    # an estimate is shown, never a fact: not Overdue, not Expiring, no reclaim time
    assert row.state is State.RETAINED and not row.overdue
    assert row.reclaim_at is None
    assert "release time unknown" in row.reason


def test_release_time_from_last_detach_time() -> None:
    c = claim()
    c["status"]["lastDetachTime"] = ts(2 * H)
    row = one(c)
    assert row.released_at == NOW - 2 * H and not row.released_estimated


def test_owner_from_pod_controller_when_claim_has_none() -> None:
    row = one(claim(), pods=[pod(owner=("StatefulSet", "web", "s-uid"))], workloads=[sts()])
    assert row.owner is not None
    assert (row.owner.kind, row.owner.name, row.owner.source, row.owner.exists) == (
        "StatefulSet",
        "web",
        "pod",
        True,
    )
    assert row.ordinal == 0


def test_owner_inferred_from_name() -> None:
    row = one(claim("web-2", released=D), vips=[vip(name="web-2")], workloads=[sts()])
    assert row.owner is not None and row.owner.source == "name"
    assert row.returning


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param({"metadata": {"name": "x", "namespace": "app"}}, id="no-status"),
        pytest.param(
            {
                "metadata": {"name": "x", "namespace": "app", "annotations": "nope"},
                "status": "weird",
            },
            id="wrong-types",
        ),
        pytest.param(
            {
                "metadata": {"name": "x", "namespace": "app", "ownerReferences": [1, {}]},
                "status": {"ip": 17, "releaseTime": "not-a-time"},
            },
            id="garbage-values",
        ),
        pytest.param(
            {"metadata": {"name": "x", "namespace": "app", "annotations": {"a": "x" * 300_000}}},
            id="huge-annotation",
        ),
    ],
)
def test_malformed_objects_never_crash(broken: Obj) -> None:
    odd_vip = {"metadata": {"name": "10.0.0.9"}, "spec": "??", "status": {"phase": 3}}
    inv = Inventory.build([broken], [odd_vip], [{"metadata": {"name": "x", "namespace": "app"}}])
    rows = cl.classify(inv, IpamdPolicy(), NOW)
    assert rows[0].state is State.IN_USE
    ips = cl.classify_ips(inv, rows, scoped_namespace=None)
    assert ips[0].state == "Unknown"  # no readable claim reference: never called Leaked


def test_a_vpcip_whose_reference_cannot_be_read_is_its_holders_not_leaked() -> None:
    """Leaked only when the reference is readable and names a claim that is gone; a VpcIP
    without a readable reference whose address a claim holds is that claim's."""
    bare = vip("10.0.1.5")
    del bare["spec"]["claimRef"]
    lone = vip("10.0.1.99")
    del lone["spec"]["claimRef"]
    inv = Inventory.build([claim("web-0", released=D)], [bare, lone, vip("10.0.1.7", name="x")])
    rows = cl.classify(inv, IpamdPolicy(), NOW)
    assert rows[0].state is State.RETAINED and not rows[0].unbound
    ips = {r.ip: r for r in cl.classify_ips(inv, rows, scoped_namespace=None)}
    assert (ips["10.0.1.5"].state, ips["10.0.1.5"].claim) == ("Retained", ("app", "web-0"))
    assert ips["10.0.1.99"].state == "Unknown" and ips["10.0.1.99"].claim is None
    assert ips["10.0.1.7"].state == "Leaked"  # its reference names app/x, which is gone


def test_ip_view_states() -> None:
    claims_ = [claim("web-0", released=D), claim("web-1", uid="u1", ip="10.0.1.6")]
    vips = [
        vip("10.0.1.5", name="web-0"),
        vip("10.0.1.6", name="web-1", uid="u1", phase="Attaching"),
        vip("10.0.1.7", name="gone-0", uid="zzz"),
        vip("10.0.1.8", name="x", vtype="Eni"),
        vip("10.0.1.9", name="web-0", uid="older-uid"),
    ]
    inv = Inventory.build(claims_, vips, [pod("web-1")])
    rows = cl.classify(inv, IpamdPolicy(), NOW)
    by_ip = {r.ip: r.state for r in cl.classify_ips(inv, rows, scoped_namespace=None)}
    assert by_ip == {
        "10.0.1.5": "Retained",
        "10.0.1.6": "Attaching",
        "10.0.1.7": "Leaked",
        "10.0.1.8": "Other",
        "10.0.1.9": "Leaked",
    }
    scoped = cl.classify_ips(inv, rows, scoped_namespace="other")
    assert scoped == []


def test_summary_and_freeable() -> None:
    rows = cl.classify(
        Inventory.build(
            [
                claim("web-0", released=D),
                claim("web-5", uid="5", ip="10.0.1.9", released=D),
                claim("db-0", uid="d", ip=None, released=D),
                claim(
                    "old-1", uid="o", ip="10.0.1.11", released=D, owner=("StatefulSet", "old", "g")
                ),
            ],
            [
                vip(),
                vip("10.0.1.9", name="web-5", uid="5"),
                vip("10.0.1.11", name="old-1", uid="o"),
            ],
            [],
            {"StatefulSet": [sts(replicas=3)]},
        ),
        IpamdPolicy(),
        NOW,
    )
    counts = cl.summarize(rows)
    assert counts["ScaledIn"] == 1 and counts["Orphaned"] == 1 and counts["Retained"] == 2
    assert cl.freeable(rows) == 1  # the orphaned one; a scaled-in one returns if scaled up


@given(
    phase=st.sampled_from(["Running", "Pending", "Succeeded", "Failed", "Unknown", None]),
    pod_exists=st.booleans(),
    deleting=st.booleans(),
    released_h=st.one_of(st.none(), st.integers(0, 1000)),
    expiry_h=st.one_of(st.none(), st.integers(0, 100)),
    replicas=st.one_of(st.none(), st.integers(0, 6)),
    ordinal=st.integers(0, 6),
)
def test_exactly_one_state_and_never_reclaim_a_live_pod(
    phase: str | None,
    pod_exists: bool,
    deleting: bool,
    released_h: int | None,
    expiry_h: int | None,
    replicas: int | None,
    ordinal: int,
) -> None:
    c = claim(f"web-{ordinal}", released=None if released_h is None else released_h * H)
    pods = []
    if pod_exists:
        p = pod(f"web-{ordinal}", deleting=deleting)
        if phase is None:
            del p["status"]["phase"]
        else:
            p["status"]["phase"] = phase
        pods.append(p)
    workloads = [] if replicas is None else [sts(replicas=replicas)]
    row = one(
        c,
        [vip(name=f"web-{ordinal}")],
        pods,
        workloads,
        IpamdPolicy(expiry=None if expiry_h is None else expiry_h * H),
    )
    assert row.state in set(State)
    if pod_exists and (deleting or phase not in ("Succeeded", "Failed")):
        assert not row.reclaimable
    if not pod_exists:
        assert row.reclaimable
