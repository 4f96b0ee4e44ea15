"""Who brings a Pod back (pure): every owner rule of the classification, table-driven, and the
property that nothing unknown ever selects a claim for reclaim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_vip.model import claims as cl
from kubectl_vip.model.claims import Inventory, IpamdPolicy, State
from kubectl_vip.model.reclaim import Criteria, Rules, decide, select

from .test_claims import NOW, ts

Obj = dict[str, Any]
H = timedelta(hours=1)
KRUISE = "apps.kruise.io/v1beta1"
TAPP = "apps.tkestack.io/v1"


def claim(name: str, ref: tuple[str, str, str] | None = None, *, uid: str = "o-uid") -> Obj:
    meta: Obj = {
        "name": name,
        "namespace": "app",
        "uid": "c-" + name,
        "resourceVersion": "7",
        "annotations": {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Never"},
    }
    if ref:
        api, kind, owner = ref
        meta["ownerReferences"] = [
            {"apiVersion": api, "kind": kind, "name": owner, "uid": uid, "controller": True}
        ]
    return {"metadata": meta, "status": {"ip": "10.0.1.5", "releaseTime": ts(2 * H)}}


def wl(name: str, uid: str = "o-uid", **spec: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": "app", "uid": uid}, "spec": spec}


def row(
    c: Obj,
    workloads: dict[str, list[Obj]] | None = None,
    unknown: dict[str, str] | None = None,
    assumed: tuple[str, str, str] | None = None,
    pods: list[Obj] | None = None,
) -> cl.ClaimRow:
    inv = Inventory.build([c], [], pods or [], workloads or {}, unknown, assumed)
    return cl.classify(inv, IpamdPolicy(), NOW)[0]


STS, ASTS, TA = cl.STATEFULSET, cl.KRUISE_STATEFULSET, cl.TAPP

# (id, claim, listed workloads, unknown kinds, assumed owner, state, returning, may_return, text)
CASES: list[tuple[Any, ...]] = [
    ("sts-ordinals-start-live", claim("pay-3", ("apps/v1", "StatefulSet", "pay")),
     {STS: [wl("pay", replicas=3, ordinals={"start": 1})]}, None, None,
     State.RETAINED, True, True, "will recreate its Pod"),
    ("sts-ordinals-start-below", claim("pay-0", ("apps/v1", "StatefulSet", "pay")),
     {STS: [wl("pay", replicas=3, ordinals={"start": 1})]}, None, None,
     State.SCALED_IN, False, True, "keeps ordinals 1..3; ordinal 0 returns if it is scaled up"),
    ("sts-ordinals-start-above", claim("pay-4", ("apps/v1", "StatefulSet", "pay")),
     {STS: [wl("pay", replicas=3, ordinals={"start": 1})]}, None, None,
     State.SCALED_IN, False, True, "ordinal 4 returns if it is scaled up"),
    ("sts-ordinals-unreadable", claim("pay-1", ("apps/v1", "StatefulSet", "pay")),
     {STS: [wl("pay", replicas=3, ordinals={"start": "one"})]}, None, None,
     State.RETAINED, False, True, "cannot tell"),
    ("kruise-ref-not-an-apps-sts", claim("web-5", (KRUISE, "StatefulSet", "web")),
     {STS: []}, None, None,
     State.RETAINED, False, True, "StatefulSet.apps.kruise.io/web (not read)"),
    ("kruise-group-not-served", claim("web-5", (KRUISE, "StatefulSet", "web")),
     {STS: []}, {ASTS: "API group apps.kruise.io is not served"}, None,
     State.RETAINED, False, True, "apps.kruise.io is not served"),
    ("kruise-forbidden", claim("web-5", (KRUISE, "StatefulSet", "web")),
     {STS: []}, {ASTS: "may not list statefulsets.apps.kruise.io"}, None,
     State.RETAINED, False, True, "may not list"),
    ("kruise-gone-through-its-api", claim("web-5", (KRUISE, "StatefulSet", "web")),
     {ASTS: []}, None, None,
     State.ORPHANED, False, False, "is gone"),
    ("kruise-reserved-ordinal", claim("web-1", (KRUISE, "StatefulSet", "web")),
     {ASTS: [wl("web", replicas=3, reserveOrdinals=[1])]}, None, None,
     State.SCALED_IN, False, True, "reserves ordinal 1"),
    ("kruise-shifted-live-ordinal", claim("web-3", (KRUISE, "StatefulSet", "web")),
     {ASTS: [wl("web", replicas=3, reserveOrdinals=[1])]}, None, None,
     State.RETAINED, True, True, "will recreate"),
    ("kruise-beyond", claim("web-4", (KRUISE, "StatefulSet", "web")),
     {ASTS: [wl("web", replicas=3, reserveOrdinals=[1])]}, None, None,
     State.SCALED_IN, False, True, "ordinal 4 returns if it is scaled up"),
    ("kruise-range-string", claim("web-3", (KRUISE, "StatefulSet", "web")),
     {ASTS: [wl("web", replicas=2, reserveOrdinals=["1-3"])]}, None, None,
     State.SCALED_IN, False, True, "reserves ordinal 3"),
    ("kruise-reserve-unreadable", claim("web-3", (KRUISE, "StatefulSet", "web")),
     {ASTS: [wl("web", replicas=2, reserveOrdinals=["a few"])]}, None, None,
     State.RETAINED, False, True, "cannot tell"),
    ("tapp-live", claim("game-2", (TAPP, "TApp", "game")),
     {TA: [wl("game", replicas=3, statuses={"1": "Killed"})]}, None, None,
     State.RETAINED, True, True, "will recreate"),
    ("tapp-killed", claim("game-1", (TAPP, "TApp", "game")),
     {TA: [wl("game", replicas=3, statuses={"1": "Killed"})]}, None, None,
     State.RETAINED, False, True, "instance 1 Killed"),
    ("tapp-beyond", claim("game-3", (TAPP, "TApp", "game")),
     {TA: [wl("game", replicas=3)]}, None, None,
     State.SCALED_IN, False, True, "instance 3 returns if it is scaled up"),
    ("unmodelled-kind-exists", claim("w-0", ("apps.example.com/v1", "Foo", "w")),
     {"Foo.apps.example.com": [wl("w")]}, None, None,
     State.RETAINED, False, True, "kind not modelled"),
    ("unmodelled-kind-gone", claim("w-0", ("apps.example.com/v1", "Foo", "w")),
     {"Foo.apps.example.com": []}, None, None,
     State.ORPHANED, False, False, "Foo.apps.example.com/w is gone"),
    ("unmodelled-group-not-served", claim("w-0", ("apps.example.com/v1", "Foo", "w")),
     {}, {"Foo.apps.example.com": "API group apps.example.com is not served"}, None,
     State.RETAINED, False, True, "cannot tell whether it recreates the Pod"),
    ("deployment-exists", claim("web-7d9-x", ("apps/v1", "ReplicaSet", "web-7d9")),
     {"ReplicaSet.apps": [wl("web-7d9")]}, None, None,
     State.RETAINED, False, False, "names new Pods afresh"),
    ("uid-mismatch-successor-keeps-it", claim("db-0", ("apps/v1", "StatefulSet", "db"), uid="old"),
     {STS: [wl("db", uid="new", replicas=2)]}, None, None,
     State.RETAINED, True, True, "will recreate"),
    ("uid-mismatch-successor-smaller", claim("db-3", ("apps/v1", "StatefulSet", "db"), uid="old"),
     {STS: [wl("db", uid="new", replicas=2)]}, None, None,
     State.SCALED_IN, False, True, "StatefulSet/db has 2 replicas; ordinal 3 returns"),
    ("ref-gone-but-another-kind-keeps-it", claim("web-1", ("apps/v1", "StatefulSet", "web")),
     {STS: [], TA: [wl("web", replicas=2)]}, None, None,
     State.RETAINED, True, True, "TApp.apps.tkestack.io/web will recreate"),
    ("ref-gone-other-kind-does-not-keep-it", claim("web-5", ("apps/v1", "StatefulSet", "web")),
     {STS: [], TA: [wl("web", replicas=2)]}, None, None,
     State.SCALED_IN, False, True, "TApp.apps.tkestack.io/web has 2 replicas; instance 5"),
    ("inferred-kruise-by-name", claim("shop-0"),
     {STS: [], ASTS: [wl("shop", replicas=1)]}, None, None,
     State.RETAINED, True, True, "will recreate"),
    ("no-owner-no-inference", claim("old-0"),
     {STS: []}, None, None,
     State.RETAINED, False, False, "no Pod; kept"),
    ("assumed-owner-gone", claim("old-0"),
     {STS: []}, None, (STS, "app", "old"),
     State.ORPHANED, False, False, "StatefulSet/old is gone"),
    ("assumed-owner-but-a-tapp-keeps-it", claim("old-0"),
     {STS: [], TA: [wl("old", replicas=2)]}, None, (STS, "app", "old"),
     State.RETAINED, True, True, "TApp.apps.tkestack.io/old will recreate"),
    ("assumed-owner-exists-keeps-it", claim("old-1"),
     {STS: [wl("old", replicas=2)]}, None, (STS, "app", "old"),
     State.RETAINED, True, True, "will recreate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("c", "workloads", "unknown", "assumed", "state", "returning", "may_return", "text"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_owner_rules(
    c: Obj,
    workloads: dict[str, list[Obj]],
    unknown: dict[str, str] | None,
    assumed: tuple[str, str, str] | None,
    state: State,
    returning: bool,
    may_return: bool,
    text: str,
) -> None:
    r = row(c, workloads, unknown, assumed)
    assert (r.state, r.returning, r.may_return) == (state, returning, may_return), r.reason
    assert text in r.reason
    if state is not State.ORPHANED:
        # what is not confirmed is never selected by --orphaned / --owner
        crit = Criteria(orphaned=True, owner=(r.owner.key, r.owner.name) if r.owner else None)
        assert select([r], crit, Rules())[0] == []
    if may_return:
        ok, why = decide(r, Rules())
        assert not ok and "--allow-new-ip" in why


def test_live_pod_of_a_same_name_controller_is_not_told_to_delete_the_pod() -> None:
    pod = {
        "metadata": {
            "name": "pay-1",
            "namespace": "app",
            "uid": "p",
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "StatefulSet",
                    "name": "pay",
                    "uid": "o-uid",
                    "controller": True,
                }
            ],
        },
        "status": {"phase": "Running"},
    }
    r = row(claim("pay-1"), {STS: [wl("pay", replicas=3)]}, pods=[pod])
    ok, why = decide(r, Rules(allow_new_ip=True, include_completed=True))
    assert not ok
    assert "delete the Pod first" not in why
    assert "kubectl scale statefulset pay -n app" in why and "delete the workload" in why


# ---------------------------------------------------------------------------- property

REFS = st.sampled_from(
    [
        None,
        ("apps/v1", "StatefulSet", "w"),
        (KRUISE, "StatefulSet", "w"),
        (TAPP, "TApp", "w"),
        ("apps.example.com/v1", "Foo", "w"),
        ("apps/v1", "ReplicaSet", "w"),
    ]
)
KEYS = [STS, ASTS, TA, "Foo.apps.example.com", "ReplicaSet.apps"]


@st.composite
def world(draw: st.DrawFn) -> tuple[Inventory, IpamdPolicy]:
    claims = []
    for i in range(draw(st.integers(1, 6))):
        ref = draw(REFS)
        c = claim(f"w-{i}", ref, uid=draw(st.sampled_from(["o-uid", "other"])))
        if draw(st.booleans()):  # only an estimate of the release time
            del c["status"]["releaseTime"]
            written = ts(draw(st.integers(0, 100)) * H)
            c["metadata"]["managedFields"] = [
                {"manager": "ipamd", "time": written, "fieldsV1": {"f:status": {}}}
            ]
        if draw(st.booleans()):
            c["metadata"]["annotations"]["tke.cloud.tencent.com/claim-expired-duration"] = "1h"
        claims.append(c)
    workloads: dict[str, list[Obj]] = {}
    unknown: dict[str, str] = {}
    for key in KEYS:
        how = draw(st.sampled_from(["listed-present", "listed-absent", "unknown", "unread"]))
        if how == "listed-present":
            workloads[key] = [
                wl(
                    "w",
                    replicas=draw(st.integers(0, 5)),
                    ordinals={"start": draw(st.integers(0, 3))},
                    reserveOrdinals=draw(st.lists(st.integers(0, 6), max_size=3)),
                    statuses={str(draw(st.integers(0, 5))): "Killed"},
                )
            ]
        elif how == "listed-absent":
            workloads[key] = []
        elif how == "unknown":
            unknown[key] = "API group not served"
    expiry = draw(st.sampled_from([None, H, 10 * H]))
    inv = Inventory.build(claims, [], [], workloads, unknown)
    return inv, IpamdPolicy(expiry=expiry)


@settings(max_examples=300, deadline=None)
@given(world(), st.sampled_from([timedelta(0), H, 50 * H]))
def test_nothing_unknown_ever_selects_a_claim(
    w: tuple[Inventory, IpamdPolicy], retained: timedelta
) -> None:
    inv, policy = w
    rows = cl.classify(inv, policy, NOW)
    crit = Criteria(orphaned=True, overdue=True, retained_for=retained, owner=(STS, "w"))
    chosen, _ = select(rows, crit, Rules())
    for r in chosen:
        if r.orphaned:
            # orphaned only on an owner confirmed gone through its own API, or a same-name
            # controller that was read and does not keep this ordinal
            assert r.owner is not None and r.owner.exists is not None
            assert r.owner.exists is False or r.owner.key in cl.SAME_NAME_KINDS
        elif not r.overdue:
            assert not r.released_estimated  # a time criterion never rests on an estimate
        if r.overdue:
            assert not r.released_estimated
        if decide(r, Rules())[0]:
            assert not r.may_return  # a Pod that may come back is never taken silently
