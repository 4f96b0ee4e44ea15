"""Pods that come back keep their IPs (pure): a live controller at a smaller scale makes its
claims ScaledIn, never Orphaned; `--scaled-in --scaled-in-for` takes them only on facts (kept
long enough, not paused at 0, no autoscaler over the ordinal); a completed Pod that its
controller replaces is refused as a returning Pod is. A hypothesis property holds it for every
world: nothing that may come back is selected and allowed without --allow-new-ip."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kubectl_vip.model import claims as cl
from kubectl_vip.model import schema
from kubectl_vip.model.claims import Inventory, IpamdPolicy, State
from kubectl_vip.model.reclaim import Criteria, Rules, decide, select
from kubectl_vip.model.records import ScalerRec

from .test_claims import NOW, claim, pod, ts, vip

Obj = dict[str, Any]
H = timedelta(hours=1)
D = timedelta(days=1)


def sts(replicas: int | None = 2, *, scaled: timedelta | None = 3 * D, name: str = "web") -> Obj:
    meta: Obj = {"name": name, "namespace": "app", "uid": "s-uid"}
    if scaled is not None:
        meta["managedFields"] = [
            {
                "manager": "kubectl",
                "operation": "Update",
                "subresource": "scale",
                "time": ts(scaled),
                "fieldsV1": {"f:spec": {"f:replicas": {}}},
            }
        ]
    return {"metadata": meta, "spec": {} if replicas is None else {"replicas": replicas}}


def hpa(max_replicas: int | None, target: str = "web", kind: str = "StatefulSet") -> ScalerRec:
    return ScalerRec("app", "HorizontalPodAutoscaler", "hpa", ("apps", kind, target), max_replicas)


def row(
    name: str = "web-3",
    workload: Obj | None = None,
    scalers: list[ScalerRec] | None = None,
    pods: list[Obj] | None = None,
) -> cl.ClaimRow:
    inv = Inventory.build(
        [claim(name, released=2 * D)],
        [vip(name=name)],
        pods or [],
        {"StatefulSet": [workload if workload is not None else sts()]},
        scalers=scalers,
        scalers_unknown="may not list horizontalpodautoscalers.autoscaling",
    )
    return cl.classify(inv, IpamdPolicy(), NOW)[0]


# ---------------------------------------------------------------------------- facts


@pytest.mark.parametrize(
    ("fields", "time", "want"),
    [
        pytest.param({"f:spec": {"f:replicas": {}}}, H, NOW - H, id="owns-replicas"),
        pytest.param({"f:spec": {}}, 2 * H, NOW - 2 * H, id="owns-spec-coarse"),
        pytest.param({"f:spec": {"f:template": {}}}, H, NOW - 10 * D, id="other-fields"),
        pytest.param({"f:status": {}}, H, NOW - 10 * D, id="status-only"),
    ],
)
def test_when_the_replicas_were_last_set(fields: Obj, time: timedelta, want: Any) -> None:
    obj = {
        "metadata": {
            "creationTimestamp": ts(10 * D),
            "managedFields": [{"manager": "m", "time": ts(time), "fieldsV1": fields}],
        }
    }
    assert schema.replicas_set_at(obj) == want
    # trimmed as listed, the time is kept
    assert schema.replicas_set_at(schema.trim_workload(obj)) == want


def test_no_managed_fields_means_unknown() -> None:
    assert schema.replicas_set_at({"metadata": {"creationTimestamp": ts(D)}}) is None
    no_time = {"metadata": {"managedFields": [{"fieldsV1": {"f:spec": {"f:replicas": {}}}}]}}
    assert schema.replicas_set_at(no_time) is None


def test_a_live_controller_at_a_smaller_scale_makes_it_scaled_in_not_orphaned() -> None:
    r = row(scalers=[])
    assert (r.state, r.orphaned, r.scaled_in, r.may_return) == (State.SCALED_IN, False, True, True)
    assert r.scale_age == 3 * D and r.scale_back is None
    assert "ordinal 3 returns if it is scaled up; it has kept that count for 3d" in r.reason


@pytest.mark.parametrize(
    ("workload", "scalers", "back"),
    [
        pytest.param(sts(0), [], "is at 0 replicas: paused, not gone", id="paused"),
        pytest.param(sts(2), [hpa(5)], "may scale StatefulSet/web up to 5", id="hpa-over"),
        pytest.param(sts(2), [hpa(3)], None, id="hpa-below-the-ordinal"),
        pytest.param(sts(2), [hpa(5, target="api")], None, id="hpa-of-another"),
        pytest.param(sts(2), [hpa(5, kind="Deployment")], None, id="hpa-of-another-kind"),
        pytest.param(sts(2), [hpa(None)], "its maximum cannot be read", id="hpa-unreadable"),
        pytest.param(sts(2), None, "whether an autoscaler scales", id="hpas-not-read"),
    ],
)
def test_what_may_scale_it_back(workload: Obj, scalers: list[ScalerRec] | None, back: str) -> None:
    r = row(workload=workload, scalers=scalers)
    assert r.state is State.SCALED_IN
    if back is None:
        assert r.scale_back is None
    else:
        assert r.scale_back is not None and back in r.scale_back


# ---------------------------------------------------------------------------- selection


KEPT = Criteria(scaled_in=2 * D)
MAY = Rules(scaled_in_for=2 * D)


def test_scaled_in_is_taken_on_facts_only() -> None:
    ok = row(scalers=[])
    assert select([ok], KEPT, MAY)[0] == [ok] and decide(ok, MAY)[0]
    # not by the other criteria, and not by name without the permission
    assert select([ok], Criteria(orphaned=True), Rules())[0] == []
    allowed, why = decide(ok, Rules())
    assert not allowed and "--scaled-in-for" in why and "--allow-new-ip" in why
    assert decide(ok, Rules(allow_new_ip=True))[0]
    for r, why in [
        (row(workload=sts(0), scalers=[]), "paused, not gone: --scaled-in leaves it"),
        (row(scalers=[hpa(5)]), "HorizontalPodAutoscaler/hpa may scale"),
        (row(scalers=None), "whether an autoscaler scales"),
        (row(workload=sts(2, scaled=None), scalers=[]), "--scaled-in-for cannot select it"),
        (row(workload=sts(2, scaled=H), scalers=[]), "for 60m, less than --scaled-in-for 2d"),
    ]:
        chosen, unsure = select([r], KEPT, MAY)
        assert chosen == [] and len(unsure) == 1 and why in unsure[0][1], unsure
        assert not decide(r, MAY)[0]


def test_a_completed_pod_its_controller_replaces_is_refused_like_a_returning_one() -> None:
    failed = pod("web-1", phase="Failed", owner=("StatefulSet", "web", "s-uid"))
    r = row("web-1", scalers=[], pods=[failed])
    assert r.state is State.COMPLETED and r.returning
    ok, why = decide(r, Rules(include_completed=True))
    assert not ok and "will recreate Pod web-1" in why
    assert decide(r, Rules(include_completed=True, allow_new_ip=True))[0]
    # a Job's Pod is replaced under another name: this claim's name never returns
    job_pod = pod("report-1", phase="Succeeded")
    job_pod["metadata"]["ownerReferences"] = [
        {"apiVersion": "batch/v1", "kind": "Job", "name": "report", "uid": "j", "controller": True}
    ]
    inv = Inventory.build(
        [claim("report-1", released=None)], [vip(name="report-1")], [job_pod], {"Job.batch": []}
    )
    (done,) = cl.classify(inv, IpamdPolicy(), NOW)
    assert done.state is State.COMPLETED and not done.may_return
    assert decide(done, Rules(include_completed=True))[0]


# ---------------------------------------------------------------------------- the IP may still run


def node_obj(ready: str, since: timedelta, reason: str = "KubeletReady") -> Obj:
    cond = {"type": "Ready", "status": ready, "reason": reason, "lastTransitionTime": ts(since)}
    return {"metadata": {"name": "node-a"}, "status": {"conditions": [cond]}}


def attached_row(node: Any, *, pod_phase: str | None = None, phase: str = "Attached") -> Any:
    v = vip(name="solo", phase=phase)
    v["metadata"]["labels"] = {"tke.cloud.tencent.com/node-name": "node-a"}
    pods = [pod("solo", phase=pod_phase)] if pod_phase else []
    nodes = {} if node == "not-read" else {"node-a": node}
    inv = Inventory.build([claim("solo", released=H)], [v], pods, {}, nodes=nodes)
    return cl.classify(inv, IpamdPolicy(), NOW)[0]


@pytest.mark.parametrize(
    ("node", "phase", "why"),
    [
        pytest.param(node_obj("Unknown", 10 * timedelta(minutes=1), "NodeStatusUnknown"),
                     "Attached", "Ready=Unknown (NodeStatusUnknown) for 10m", id="unreachable"),
        pytest.param(node_obj("False", H), "Attaching", "Ready=False (KubeletReady) for 60m",
                     id="not-ready"),
        pytest.param(node_obj("True", timedelta(minutes=2)), "Attached", "Ready again only for 2m",
                     id="just-back"),
        pytest.param("not-read", "Attached", "which was not read", id="not-read"),
        pytest.param("may not get nodes", "Attached", "cannot be read (may not get nodes)",
                     id="forbidden"),
        pytest.param(node_obj("True", H), "Attached", None, id="ready-long-enough"),
        pytest.param(None, "Attached", None, id="node-gone"),
        pytest.param(node_obj("Unknown", H), "Assigned", None, id="detached"),
    ],
)  # fmt: skip
def test_an_ip_that_may_still_run_is_never_reclaimed(node: Any, phase: str, why: str) -> None:
    r = attached_row(node, phase=phase)
    assert r.state is State.RETAINED
    if why is None:
        assert r.ip_in_use is None and decide(r, Rules())[0]
        return
    assert r.ip_in_use is not None and why in r.ip_in_use and why in r.reason
    for rules in (Rules(), Rules(allow_new_ip=True, include_completed=True)):  # no override
        ok, said = decide(r, rules)
        assert (not ok and "its Pod may still run" in said) or "not have stopped the Pod" in said
    assert cl.freeable([r]) == 0


def test_a_live_pod_on_a_dead_node_is_in_use_as_ever() -> None:
    r = attached_row(node_obj("Unknown", H), pod_phase="Running")
    assert r.state is State.IN_USE and r.ip_in_use is None


# ---------------------------------------------------------------------------- the property


@settings(max_examples=500, deadline=None)
@given(
    kind=st.sampled_from(["sts", "sts", "sts", "none", "unknown-kind", "gone"]),
    replicas=st.integers(0, 5),
    ordinal=st.integers(0, 7),
    scaled_h=st.one_of(st.none(), st.integers(0, 400), st.integers(0, 400)),
    scaler=st.sampled_from([None, None, None, "unread", 0, 2, 4, 8]),
    pod_phase=st.sampled_from([None, None, None, "Running", "Pending", "Succeeded", "Failed"]),
    kept_h=st.integers(0, 300),
    criteria=st.sampled_from(["orphaned", "scaled", "scaled", "retained", "none"]),
    include_completed=st.booleans(),
    node=st.sampled_from(
        [
            "detached",
            "detached",
            "ready",
            "recent",
            "NotReady",
            "Unknown",
            "gone",
            "unread",
            "forbidden",
        ]
    ),
)
@example("sts", 2, 3, 100, None, None, 10, "scaled", False, "detached")  # scaled in for 100h
@example("sts", 2, 3, 100, 3, None, 10, "scaled", False, "ready")  # an autoscaler below it
@example("none", 2, 3, None, None, "Failed", 10, "none", True, "gone")  # a bare completed Pod
@example("gone", 2, 1, 5, None, None, 10, "orphaned", False, "detached")  # its owner is gone
@example("gone", 2, 1, 5, None, None, 10, "orphaned", False, "Unknown")  # ... its node is not
def test_nothing_that_may_come_back_is_ever_taken(
    kind: str,
    replicas: int,
    ordinal: int,
    scaled_h: int | None,
    scaler: int | str | None,
    pod_phase: str | None,
    kept_h: int,
    criteria: str,
    include_completed: bool,
    node: str,
) -> None:
    name = f"web-{ordinal}"
    c = claim(name, released=3 * D)
    if kind == "unknown-kind":
        c["metadata"]["ownerReferences"] = [
            {"apiVersion": "x.io/v1", "kind": "Foo", "name": "web", "uid": "f", "controller": True}
        ]
    elif kind == "gone":
        c["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "old"}
        ]
    workloads = [sts(replicas, scaled=None if scaled_h is None else scaled_h * H)]
    if kind in ("none", "gone"):
        workloads = []
    scalers: list[ScalerRec] | None = [] if scaler is None else None
    if isinstance(scaler, int):
        scalers = [hpa(scaler)]
    pods = []
    if pod_phase is not None:
        pods = [pod(name, phase=pod_phase, owner=("StatefulSet", "web", "s-uid"))]
    v = vip(name=name, phase="Assigned" if node == "detached" else "Attached")
    v["metadata"]["labels"] = {"tke.cloud.tencent.com/node-name": "node-a"}
    nodes = {
        "detached": {},
        "unread": {},
        "gone": {"node-a": None},
        "forbidden": {"node-a": "may not get nodes"},
        "ready": {"node-a": node_obj("True", 2 * H)},
        "recent": {"node-a": node_obj("True", timedelta(minutes=2))},
        "NotReady": {"node-a": node_obj("False", H)},
        "Unknown": {"node-a": node_obj("Unknown", H)},
    }[node]
    inv = Inventory.build(
        [c], [v], pods, {"StatefulSet": workloads}, {"Foo.x.io": "not served"},
        scalers=scalers, nodes=nodes,
    )  # fmt: skip
    (r,) = cl.classify(inv, IpamdPolicy(), NOW)
    crit = {
        "orphaned": Criteria(orphaned=True),
        "scaled": Criteria(scaled_in=kept_h * H),
        "retained": Criteria(retained_for=H),
        "none": Criteria(),
    }[criteria]
    rules = Rules(include_completed=include_completed, scaled_in_for=kept_h * H)
    chosen, _ = select([r], crit, rules)
    if not chosen or not decide(r, rules)[0]:
        return
    # taken: its Pod is gone (or completed and not replaced), nothing brings it back, and no
    # container may still run with its IP on a node that stopped answering
    assert r.pod_phase in (None, "Succeeded", "Failed") and not r.returning
    assert r.pod_phase is not None or node in ("detached", "ready", "gone"), r.ip_in_use
    if r.pod_phase is not None:
        assert include_completed and not r.may_return
    if r.may_return:  # only a scale-in, on its facts
        assert r.scaled_in and r.scale_back is None
        assert r.owner is not None and r.owner.replicas
        assert r.scale_age is not None and r.scale_age >= kept_h * H
        assert not (isinstance(scaler, int) and ordinal < scaler) and scaler != "unread"
    else:  # nothing recreates it under this name
        o = r.owner
        assert o is None or o.exists is False or o.deleting or o.key in cl.NEW_NAME_KINDS
