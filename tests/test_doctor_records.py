"""The doctor reads Pods and Events as compact records (pure): each record holds the facts the
old trimmed objects gave the checks, for the odd shapes too (missing fields, wrong types,
terminating Pods, events.k8s.io Events with only eventTime and series), and the checks report
from records exactly what they reported from objects."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from kubectl_vip.doctor import Severity, Snapshot, all_checks, reads, report, run_checks
from kubectl_vip.doctor import facts as records
from kubectl_vip.doctor.facts import EventRec
from kubectl_vip.doctor.snapshot import ReadState
from kubectl_vip.model import schema
from kubectl_vip.model.records import pod_record

from .test_doctor_checks import GZ7, NOW, H, _no_subnet_zone, base, ipamd_pod, pod, run, ts

Obj = dict[str, Any]
SCHED = "0/2 nodes are available: 2 Insufficient tke.cloud.tencent.com/eni-ip."
ZONE = schema.ZONE_LABEL


def _sts_ref(name: str, *, controller: Any = True) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": f"u-{name}",
            "controller": controller}  # fmt: skip


def _affinity(*exprs: Obj) -> Obj:
    term = {"matchExpressions": list(exprs)}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [term]}}}  # fmt: skip


# (id, Pod object, what its record says:
#  (namespace, name, phase, node, deleting, controller name, zones, labels, containers))
POD_CASES: list[tuple[str, Obj, tuple[Any, ...]]] = [
    ("empty", {}, ("", "", None, None, False, None, (), None, ())),
    ("wrong-types", {"metadata": "x", "spec": [], "status": 5},
     ("", "", None, None, False, None, (), None, ())),
    ("numbers-shown-as-text", {"metadata": {"name": 7, "namespace": "db"},
                               "status": {"phase": 3}, "spec": {"nodeName": ""}},
     ("db", "7", "3", None, False, None, (), None, ())),
    ("terminating", {"metadata": {"name": "a", "namespace": "db",
                                  "deletionTimestamp": "2026-11-20T11:00:00Z"},
                     "status": {"phase": "Running"}, "spec": {"nodeName": "node-a"}},
     ("db", "a", "Running", "node-a", True, None, (), None, ())),
    ("deletion-timestamp-null", {"metadata": {"name": "a", "deletionTimestamp": None}},
     ("", "a", None, None, False, None, (), None, ())),
    ("controller-is-the-flagged-ref", {"metadata": {"name": "a", "ownerReferences": [
        _sts_ref("other", controller=False), "junk", _sts_ref("web")]}},
     ("", "a", None, None, False, "web", (), None, ())),
    ("controller-flag-must-be-true", {"metadata": {"name": "a", "ownerReferences": [
        _sts_ref("web", controller="true")]}},
     ("", "a", None, None, False, None, (), None, ())),
    ("zone-by-node-selector", {"spec": {"nodeSelector": {ZONE: GZ7}}},
     ("", "", None, None, False, None, (GZ7,), None, ())),
    ("zone-by-beta-label", {"spec": {"nodeSelector": {schema.ZONE_LABEL_BETA: GZ7}}},
     ("", "", None, None, False, None, (GZ7,), None, ())),
    ("zone-selector-wins-over-affinity", {"spec": {
        "nodeSelector": {ZONE: GZ7},
        "affinity": _affinity({"key": ZONE, "operator": "In", "values": ["z1"]})}},
     ("", "", None, None, False, None, (GZ7,), None, ())),
    ("zones-by-affinity", {"spec": {"affinity": _affinity(
        {"key": ZONE, "operator": "In", "values": ["z1", "z2", "z1", 3, ""]},
        {"key": ZONE, "operator": "NotIn", "values": ["z9"]},
        {"key": "other", "operator": "In", "values": ["z8"]})}},
     ("", "", None, None, False, None, ("z1", "z2"), None, ())),
    ("zone-selector-not-text", {"spec": {"nodeSelector": {ZONE: ["z"]}, "affinity": "x"}},
     ("", "", None, None, False, None, (), None, ())),
    ("labels-and-containers-elsewhere-not-kept", {
        "metadata": {"name": "a", "namespace": "db", "labels": {"k": "v"}},
        "status": {"containerStatuses": [{"name": "c", "restartCount": 9}]}},
     ("db", "a", None, None, False, None, (), None, ())),
    ("kube-system-keeps-labels-and-containers", {
        "metadata": {"name": "tke-eni-ipamd-1", "namespace": "kube-system",
                     "labels": {"k8s-app": "tke-eni-ipamd", "n": 1}},
        "status": {"containerStatuses": [
            "junk",
            {"name": "ipamd", "ready": "yes", "restartCount": "7",
             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}},
             "lastState": {"terminated": {"reason": "OOMKilled"}}},
            {"restartCount": -1, "ready": True}]}},
     ("kube-system", "tke-eni-ipamd-1", None, None, False, None, (),
      {"k8s-app": "tke-eni-ipamd", "n": "1"},
      (schema.ContainerState("ipamd", False, 0, "CrashLoopBackOff", "back-off", "OOMKilled"),
       schema.ContainerState("", True, 0, None, None, None)))),
]  # fmt: skip


@pytest.mark.parametrize(("obj", "want"), [c[1:] for c in POD_CASES], ids=[c[0] for c in POD_CASES])
def test_pod_record(obj: Obj, want: tuple[Any, ...]) -> None:
    (p,) = records.pods([obj])
    ctl = p.controller.name if p.controller is not None else None
    got = (p.namespace, p.name, p.phase, p.node, p.deleting, ctl, p.zones, p.labels, p.containers)
    assert got == want
    assert p.rec == pod_record(obj)  # the classification record is list's own


def test_pods_of_a_workload_share_their_controller_and_zones() -> None:
    objs = [
        {"metadata": {"name": f"web-{i}", "namespace": "db", "ownerReferences": [_sts_ref("web")]},
         "spec": {"nodeSelector": {ZONE: GZ7}}}
        for i in range(3)
    ]  # fmt: skip
    pods = records.pods(objs)
    assert len({id(p.controller) for p in pods}) == 1
    assert len({id(p.zones) for p in pods}) == 1
    assert [p.name for p in pods] == ["web-0", "web-1", "web-2"]


T1, T2 = NOW - 3 * H, NOW - 2 * H

# (id, Event object, the record: (kind, namespace, name, reason, message, type, count, last))
EVENT_CASES: list[tuple[str, Obj, tuple[Any, ...]]] = [
    ("core-v1", {"involvedObject": {"kind": "Pod", "namespace": "web", "name": "geo-0"},
                 "reason": "FailedScheduling", "message": SCHED, "type": "Warning", "count": 3,
                 "firstTimestamp": ts(T1), "lastTimestamp": ts(T2)},
     ("Pod", "web", "geo-0", "FailedScheduling", SCHED, "Warning", 3, T2)),
    ("events-k8s-io-only-eventTime-and-series", {
        "regarding": {"kind": "Pod", "namespace": "web", "name": "geo-0"},
        "reason": "FailedScheduling", "note": SCHED, "type": "Warning", "eventTime": ts(T1),
        "series": {"count": 4, "lastObservedTime": ts(T2)}},
     ("Pod", "web", "geo-0", "FailedScheduling", SCHED, "Warning", 4, T2)),
    ("eventTime-only", {"regarding": {"kind": "Node", "name": "n1"}, "eventTime": ts(T1)},
     ("Node", "", "n1", None, None, None, 1, T1)),
    ("deprecated-fields", {"involvedObject": {"kind": "Node", "name": "n1"},
                           "deprecatedCount": 5, "deprecatedFirstTimestamp": ts(T1),
                           "deprecatedLastTimestamp": ts(T2)},
     ("Node", "", "n1", None, None, None, 5, T2)),
    ("only-creationTimestamp", {"metadata": {"creationTimestamp": ts(T1)}},
     (None, "", None, None, None, None, 1, T1)),
    ("no-time-at-all", {"reason": "ENILimit", "lastTimestamp": "not a time"},
     (None, "", None, "ENILimit", None, None, 1, None)),
    ("involvedObject-null-wins-over-regarding", {
        "involvedObject": None, "regarding": {"kind": "Pod", "name": "p"}},
     (None, "", None, None, None, None, 1, None)),
    ("wrong-types", {"involvedObject": {"kind": 5, "name": ["x"], "namespace": {}},
                     "reason": 12, "message": "", "note": "from note", "type": None,
                     "count": True, "series": {"count": "4"}},
     ("5", "", None, "12", "from note", None, 1, None)),
    ("count-zero-falls-back", {"count": 0, "series": {"count": 2}},
     (None, "", None, None, None, None, 2, None)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "want"), [c[1:] for c in EVENT_CASES], ids=[c[0] for c in EVENT_CASES]
)
def test_event_record(obj: Obj, want: tuple[Any, ...]) -> None:
    (e,) = records.events([obj])
    assert (e.kind, e.namespace, e.name, e.reason, e.message, e.type, e.count, e.last) == want


def _ev(about: Obj, reason: str, message: str, **more: Any) -> Obj:
    return {"metadata": {"name": f"{about.get('name')}.{reason}"}, "involvedObject": about,
            "reason": reason, "message": message, "type": "Warning",
            "lastTimestamp": ts(NOW - H), **more}  # fmt: skip


def _geo(**more: Any) -> Obj:
    obj = pod("geo-0", "web", phase="Pending", node=None, zone=GZ7)
    obj["metadata"].update(more)
    return obj


GEO = {"kind": "Pod", "namespace": "web", "name": "geo-0"}

# (id, Pods, Events, check, what it reports: [(severity, title, evidence)])
REPORTS: list[tuple[str, list[Obj], list[Obj], str, list[tuple[Severity, str, list[str]]]]] = [
    ("pending-pod-events-k8s-io-shape", [_geo()], [
        {"metadata": {"name": "geo-0.1"}, "regarding": GEO, "reason": "FailedScheduling",
         "note": SCHED, "type": "Warning", "eventTime": ts(NOW - 3 * H),
         "series": {"count": 4, "lastObservedTime": ts(NOW - 2 * H)}}],
     "VIP-SCH-001",
     [(Severity.ERROR, "1 Pod Pending for lack of an IP: zone ap-guangzhou-7 has no container "
       "subnet", [
         "Pod web/geo-0 is Pending, pinned to zone ap-guangzhou-7",
         f"  Event FailedScheduling x4 on Pod/geo-0 (120m ago): {SCHED}",
         "zone ap-guangzhou-7 has no container subnet",
         "container subnets: subnet-a (10.0.1.0/24, ap-guangzhou-3, 252 free)"])]),
    ("latest-two-events-oldest-first", [_geo()], [
        _ev(GEO, "FailedScheduling", "third " + SCHED, lastTimestamp=ts(NOW - 2 * H)),
        _ev(GEO, "FailedScheduling", "first " + SCHED, lastTimestamp=ts(NOW - 5 * H)),
        _ev(GEO, "InsufficientIPorENI", "second", lastTimestamp=None,
            eventTime=ts(NOW - 3 * H)),
        {"involvedObject": GEO, "reason": "FailedScheduling", "message": "no time " + SCHED}],
     "VIP-SCH-001",
     [(Severity.ERROR, "1 Pod Pending for lack of an IP: zone ap-guangzhou-7 has no container "
       "subnet", [
         "Pod web/geo-0 is Pending, pinned to zone ap-guangzhou-7",
         "  Event InsufficientIPorENI on Pod/geo-0 (3h ago): second",
         f"  Event FailedScheduling on Pod/geo-0 (120m ago): third {SCHED}",
         "zone ap-guangzhou-7 has no container subnet",
         "container subnets: subnet-a (10.0.1.0/24, ap-guangzhou-3, 252 free)"])]),
    ("terminating-pending-pod-is-not-reported",
     [_geo(deletionTimestamp=ts(NOW))], [_ev(GEO, "FailedScheduling", SCHED)],
     "VIP-SCH-001", []),
    ("event-without-the-pods-namespace-is-another-object",
     [_geo()], [_ev({"kind": "Pod", "name": "geo-0"}, "FailedScheduling", SCHED)],
     "VIP-SCH-001", []),
    ("pending-pinned-pods-named-for-a-zone-without-eni", [_geo(), pod("run-0", "web", zone=GZ7)],
     [], "VIP-ENI-002",
     [(Severity.ERROR, "1 node in zone ap-guangzhou-7 gets no ENI: zone ap-guangzhou-7 has no "
       "container subnet", [
         "Node node-d (zone ap-guangzhou-7): taint tke.cloud.tencent.com/eni-ip-unavailable="
         "true:NoSchedule; allocatable tke.cloud.tencent.com/eni-ip 0; NodeENIConfig status "
         "empty",
         "NodeENIConfig node-d has an empty status: no ENI is attached",
         "zone ap-guangzhou-7 has no container subnet",
         "container subnets: subnet-a (10.0.1.0/24, ap-guangzhou-3, 252 free)",
         "Pending Pods pinned to ap-guangzhou-7: web/geo-0"])]),
    ("enilimit-normal-event-on-a-node", [], [
        {"regarding": {"kind": "Node", "name": "node-c"}, "reason": "ENILimit", "type": "Normal",
         "note": "eni limit", "deprecatedCount": 2, "eventTime": ts(NOW - H)}],
     "VIP-ENI-001",
     [(Severity.ERROR, "VPC ENI quota reached: 1 node cannot attach an ENI (0 Pods Pending, "
       "0 VpcIPs Attaching)", [
         "node node-c: 0 VpcIPs Attaching, 0 Pods Pending, Events naming ENILimit x2 "
         "(type Normal)",
         "e.g. Event ENILimit x2 on Node/node-c (60m ago): eni limit (type Normal)",
         "this cluster's nodes hold 1 ENI (nec ENI lists), 0% of the VPC's default quota of "
         "1,000; ENIs of other clusters and servers in the VPC count too, so the VPC uses at "
         "least this many"])]),
    ("ipamd-container-states-of-odd-shape", [{
        "metadata": {"name": "tke-eni-ipamd-x1", "namespace": "kube-system",
                     "labels": {"k8s-app": "tke-eni-ipamd"}},
        "status": {"containerStatuses": [
            None, {"name": "a", "restartCount": "9"},
            {"name": "b", "restartCount": 6, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
            {"name": "c", "restartCount": 5}]}}],
     [], "VIP-IPAMD-002",
     [(Severity.ERROR, "ipamd is crash-looping (1 container)", [
         "Pod kube-system/tke-eni-ipamd-x1 container b: 6 restarts; waiting: ImagePullBackOff",
         "Pod kube-system/tke-eni-ipamd-x1 container c: 5 restarts"])]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("pods", "events", "check_id", "want"),
    [c[1:] for c in REPORTS],
    ids=[c[0] for c in REPORTS],
)
def test_checks_report_the_same_from_records(
    pods: list[Obj], events: list[Obj], check_id: str, want: list[Any]
) -> None:
    snap = _no_subnet_zone()
    snap = Snapshot(**{**_fields(snap), "pods": [*pods, ipamd_pod()], "events": events})
    got = [(f.severity, f.title, f.evidence) for f in run(check_id, snap)]
    assert got == want
    # records already made pass through unchanged: the same findings
    again = Snapshot(**{**_fields(snap), "pods": list(snap.pods or []),
                        "events": list(snap.events or [])})  # fmt: skip
    assert [(f.severity, f.title, f.evidence) for f in run(check_id, again)] == want


def _fields(s: Snapshot) -> dict[str, Any]:
    return {k: getattr(s, k) for k in Snapshot.__dataclass_fields__}


def test_the_inventory_holds_the_pods_own_records() -> None:
    """One representation of each Pod: classification reads the record the check reads."""
    s = base()
    assert s.pods is not None
    assert all(s.inventory.pods[(p.namespace, p.name)] is p.rec for p in s.pods)


def test_event_records_are_sorted_most_recent_last() -> None:
    evs = [EventRec("Pod", "db", "a", "r", str(i), None, 1, t) for i, t in
           enumerate([NOW, None, NOW - H, datetime(2020, 1, 1, tzinfo=NOW.tzinfo)])]  # fmt: skip
    s = base(events=evs)
    assert [e.message for e in s.events_of("Pod", "a", "db")] == ["1", "3", "2", "0"]
    assert s.has(reads.EVENTS)


def test_release_lets_go_of_the_objects_and_keeps_the_report() -> None:
    """After the checks the report is written from the reads alone: the snapshot drops every
    object and derived view (a fleet run keeps one report per cluster, not its objects)."""
    s = base(events=[_ev(GEO, "FailedScheduling", SCHED)])
    s.reads = {k: _read_ok(k) for k in (reads.PODS, reads.EVENTS, reads.CLAIMS, reads.VIPS)}
    results = run_checks(all_checks(), s)
    assert s.rows and s.usage and s.events_by_object  # derived while checking
    before = report.document(results, s, server="https://10.0.0.1", fail_on="error")
    s.release()
    assert (s.pods, s.events, s.claims, s.vips, s.nodes, s.deployments) == (None,) * 6
    assert not {"inventory", "rows", "ip_rows", "usage", "events_by_object"} & set(vars(s))
    assert report.document(results, s, server="https://10.0.0.1", fail_on="error") == before


def _read_ok(key: str) -> ReadState:
    return ReadState(key, f"list {key} (all namespaces)", "ok", items=1)


NECS: list[tuple[str, Obj]] = [
    ("whole", {"metadata": {"name": "n1", "managedFields": [{"manager": "ipamd"}]},
               "spec": {"maxRouteENI": 3, "maxIPPerENI": 10, "other": 1},
               "status": {"eniInfos": [{"subnetID": "s1", "subnetCIDR": "10.0.0.0/24",
                                        "eniID": "eni-1", "ips": ["10.0.0.5"]}]}}),
    ("status-empty", {"metadata": {"name": "n1"}, "spec": {}, "status": {}}),
    ("status-without-eniInfos", {"metadata": {"name": "n1"}, "status": {"phase": "x"}}),
    ("no-status", {"metadata": {"name": "n1"}}),
    ("wrong-types", {"metadata": {"name": 5}, "spec": {"maxRouteENI": "3", "maxIPPerENI": True},
                     "status": {"eniInfos": [None, "x", {"subnetCIDR": 7}, {"subnetID": "s"}]}}),
    ("eniInfos-not-a-list", {"metadata": {}, "spec": [], "status": {"eniInfos": {"a": 1}}}),
]  # fmt: skip


@pytest.mark.parametrize("obj", [c[1] for c in NECS], ids=[c[0] for c in NECS])
def test_a_trimmed_nodeeniconfig_reads_as_the_whole_one(obj: Obj) -> None:
    def facts(nec: Obj) -> tuple[Any, ...]:
        return (schema.name(nec), schema.nec_subnets(nec), schema.nec_limits(nec),
                schema.nec_healthy(nec))  # fmt: skip

    trimmed = records.nec_record(obj)
    assert facts(trimmed) == facts(obj)
    assert "managedFields" not in trimmed["metadata"]
