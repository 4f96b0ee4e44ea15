"""Area `scheduling`: Pods Pending because no node has a free eni-ip, or ipamd has no IP."""

from __future__ import annotations

from ..model import schema
from .causes import LOGS, RECLAIM, Cause, gets_no_eni, ipamd_problem, zone_cause
from .evidence import counts_by, pod_owner
from .facts import EventRec, PodFacts
from .reads import CLAIMS, CONFIGMAP, DEPLOYMENTS, EVENTS, NECS, NODES, PODS, VIPS
from .registry import Issue, Severity, check
from .snapshot import Snapshot, event_line, names, plural, says_insufficient

MAX_PODS = 5  # examples, each with its last Event: about ten lines


def _cause(s: Snapshot, zones: tuple[str, ...]) -> Cause:
    """Why Pods pinned to `zones` (none: any zone) get no IP."""
    for zone in zones:
        zc = zone_cause(s, zone)
        if zc is not None:
            return zc
    problem = ipamd_problem(s)
    if problem is not None:
        return Cause("ipamd", [problem], f"See VIP-IPAMD-001: {LOGS}")
    if s.nodes is not None:
        pool = [n for n in s.nodes if not zones or schema.node_zone(n) in zones]
        dead = [schema.name(n) for n in pool if gets_no_eni(n)]
        if pool and len(dead) == len(pool):
            where = f"zone {', '.join(zones)}" if zones else "the cluster"
            return Cause(
                f"no-eni:{','.join(zones)}",
                [f"every node in {where} gets no ENI: {names(dead)} (see VIP-ENI-002)"],
                "See VIP-ENI-002 for why these nodes get no ENI",
            )
    where = f" in zone {', '.join(zones)}" if zones else ""
    return Cause(
        f"busy:{','.join(zones)}",
        [
            f"the nodes{where} have no tke.cloud.tencent.com/eni-ip left: each node takes as many "
            "Pods as its ENIs have IPs (NodeENIConfig maxRouteENI x maxIPPerENI)"
        ],
        f"kubectl vip usage   # which subnets and zones are short\n{RECLAIM}\n"
        "Add nodes (ENI capacity) in the zone, or a container subnet if its subnets are full",
    )


@check(
    "VIP-SCH-001",
    area="scheduling",
    title="No Pod Pending for lack of eni-ip",
    needs=(EVENTS, PODS),
    uses=(NODES, NECS, VIPS, CLAIMS, DEPLOYMENTS, CONFIGMAP),
    many="Pods Pending for lack of an IP, {n} groups by cause",
)
def pending_no_ip(s: Snapshot) -> list[Issue]:
    """Pending Pods whose Events say `Insufficient tke.cloud.tencent.com/eni-ip` (scheduler) or
    `InsufficientIPorENI` (ipamd, any case), grouped by cause: the zone they are pinned to has
    no subnet or a full one, ipamd is down, every node there gets no ENI, or the nodes are
    simply full."""
    groups: dict[str, tuple[Cause, list[tuple[PodFacts, list[EventRec]]]]] = {}
    causes: dict[tuple[str, ...], Cause] = {}  # the cause depends on the zones alone
    pending = {(p.namespace, p.name): p for p in s.pods or [] if p.phase == "Pending"}
    for (ns, name), pod in sorted(pending.items()):
        if pod.deleting:
            continue
        evs = [e for e in s.events_of("Pod", name, ns) if says_insufficient(e)]
        if not evs:
            continue
        cause = causes.get(pod.zones)
        if cause is None:
            cause = causes[pod.zones] = _cause(s, pod.zones)
        groups.setdefault(cause.key, (cause, []))[1].append((pod, evs))
    issues = []
    for cause, pods in groups.values():
        evidence = []
        objects = []
        for pod, evs in pods[:MAX_PODS]:
            pname = f"{pod.namespace}/{pod.name}"
            zones = pod.zones
            pin = f", pinned to zone {', '.join(zones)}" if zones else ""
            evidence.append(f"Pod {pname} is Pending{pin}")
            last = 2 if len(pods) <= 3 else 1  # Events per example: about ten lines in all
            evidence += ["  " + event_line(e, s) for e in evs[-last:]]
        details: list[str] = []
        if len(pods) > MAX_PODS:
            evidence.append(f"... and {len(pods) - MAX_PODS} more Pods (all of them in -o json)")
            evidence.insert(
                0, "Pending Pods " + counts_by((pod_owner(p) for p, _ in pods), "owner")
            )
            details = [f"Pod {p.namespace}/{p.name} is Pending" for p, _ in pods]
        objects = [f"Pod/{p.namespace}/{p.name}" for p, _ in pods]
        evidence += cause.evidence
        issues.append(
            Issue(
                Severity.ERROR,
                f"{plural(len(pods), 'Pod')} Pending for lack of an IP: {cause.evidence[0]}",
                evidence,
                cause.fix,
                objects,
                details,
            )
        )
    return issues
