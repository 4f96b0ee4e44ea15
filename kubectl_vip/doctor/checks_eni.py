"""Area `eni`: nodes that cannot get an ENI (FAQ 1) and the VPC ENI quota (FAQ 2).

FAQ 1: "If IPAMD becomes abnormal or it is not configured with a subnet in the same AZ as the
node, IPAMD cannot allocate a secondary ENI to the node. In addition, if the current VPC uses
more secondary ENIs than the upper limit, no secondary ENIs can be allocated to the node."
FAQ 2: "View `nec`, and you can see that its status is empty ... the VIP status is
`Attaching`" — "Currently, up to 1,000 ENIs can be bound to a VPC."
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from ..model import schema
from ..model.records import VipRec
from .causes import LOGS, TICKET, Cause, gets_no_eni, ipamd_problem, nec_empty, zone_cause
from .evidence import MAX_EXAMPLES, counts_by, examples, pod_owner
from .facts import EventRec
from .reads import CLAIMS, CONFIGMAP, DEPLOYMENTS, ENIS, EVENTS, NECS, NODES, PODS, VIPS
from .registry import Issue, Severity, check
from .snapshot import ENI_LIMIT_REASONS, Obj, Snapshot, event_line, mentions, names, plural

VPC_ENI_QUOTA = 1000  # "Currently, up to 1,000 ENIs can be bound to a VPC."
NEAR_QUOTA = 0.8
WINDOW = timedelta(days=7)
NEC_EMPTY = "NodeENIConfig status empty"
LOOK = "kubectl get events -A --field-selector reason=ENILimit   # the quota, if any"


@dataclass
class _Chain:
    """What points at one node failing to attach an ENI."""

    vips: list[VipRec] = field(default_factory=list)
    node_events: list[EventRec] = field(default_factory=list)
    pod_events: dict[tuple[str, str], list[EventRec]] = field(default_factory=dict)
    other_events: list[EventRec] = field(default_factory=list)

    @property
    def events(self) -> list[EventRec]:
        pod = [e for evs in self.pod_events.values() for e in evs]
        return self.node_events + pod + self.other_events


def _event_node(s: Snapshot, ev: EventRec) -> tuple[str | None, tuple[str, str] | None]:
    """(node, pod key) an Event is about, as far as the snapshot tells."""
    kind, name = ev.kind, ev.name
    if kind in ("Node", "NodeENIConfig"):
        return name, None
    if kind == "Pod" and name:
        pod = s.inventory.pods.get((ev.namespace, name))
        return (pod.node if pod else None), (ev.namespace, name)
    if kind == "VpcIP" and name:
        vip = s.vip_by_name.get(name)
        return (vip.node if vip else None), None
    return None, None


def _chains(s: Snapshot) -> dict[str | None, _Chain]:
    chains: dict[str | None, _Chain] = {}
    for v in s.inventory.vips:
        if (v.phase or "").lower() == "attaching":
            chains.setdefault(v.node, _Chain()).vips.append(v)
    for ev in s.events or []:
        # whatever its type: an ENILimit Event may well be Normal
        if not mentions(ev, ENI_LIMIT_REASONS):
            continue
        node, pod_key = _event_node(s, ev)
        chain = chains.setdefault(node, _Chain())
        if pod_key is not None:
            chain.pod_events.setdefault(pod_key, []).append(ev)
        elif ev.kind in ("Node", "NodeENIConfig"):
            chain.node_events.append(ev)
        else:
            chain.other_events.append(ev)
    return chains


def _says_limit(message: str | None) -> bool:
    low = (message or "").lower()
    return any(r in low for r in ENI_LIMIT_REASONS)


def _nec_line(s: Snapshot, node: str | None) -> tuple[str | None, bool]:
    """(evidence line about the node's NodeENIConfig, whether its status is empty)."""
    if node is None or s.necs is None:
        return None, False
    nec = s.nec_by_node.get(node)
    if nec is None:
        return f"NodeENIConfig {node} does not exist", False
    if not schema.nec_healthy(nec):
        return f"NodeENIConfig {node} has an empty status: no ENI is attached", True
    n = len(schema.nec_subnets(nec))
    return f"NodeENIConfig {node} lists {plural(n, 'ENI')}: another ENI cannot attach", False


def _is_quota(ch: _Chain) -> bool:
    return bool(ch.events) or any(_says_limit(v.message) for v in ch.vips)


# ---------------------------------------------------------------------------- ENI count


@dataclass(frozen=True)
class EniCount:
    count: int | None  # ENIs of this cluster's nodes; None: neither nec nor veni was read
    source: str
    potential: int | None  # if every node attached its maxRouteENI
    created: list[timedelta]  # ages of the VpcENIs, for a pace

    def line(self) -> str:
        if self.count is None:
            return "ENIs of this cluster: unknown (NodeENIConfigs and VpcENIs not read)"
        pct = self.count * 100 // VPC_ENI_QUOTA
        text = (
            f"this cluster's nodes hold {plural(self.count, 'ENI')} ({self.source}), {pct}% of "
            f"the VPC's default quota of {VPC_ENI_QUOTA:,}; ENIs of other clusters and servers "
            "in the VPC count too, so the VPC uses at least this many"
        )
        if self.potential is not None:
            text += f"; with every node at its maxRouteENI: {self.potential}"
        return text

    def forecast(self) -> str:
        if self.count is None:
            return "forecast: ENI count unknown"
        recent = [age for age in self.created if age <= WINDOW]
        if not recent:
            return "forecast: no VpcENI created in the last 7 days (pace unknown)"
        rate = len(recent) / (WINDOW.total_seconds() / 86400)
        left = max(VPC_ENI_QUOTA - self.count, 0)
        days = left / rate
        return (
            f"forecast: {plural(len(recent), 'ENI')} created in the last 7 days "
            f"({rate:.2g}/day): the default quota is reached in about {days:.0f} days "
            "(sooner if other clusters in the VPC grow)"
        )


def eni_count(s: Snapshot) -> EniCount:
    """ENIs counted from the `nec` ENI lists and the `veni` objects (the larger of the two)."""
    from_nec = sum(len(schema.nec_subnets(n)) for n in s.necs or []) if s.necs is not None else None
    from_veni = len(s.enis) if s.enis is not None else None
    counts = [(c, src) for c, src in ((from_veni, "VpcENIs"), (from_nec, "nec ENI lists")) if c]
    if counts:
        count, source = max(counts, key=lambda cs: cs[0])
    elif from_nec is not None or from_veni is not None:
        count, source = 0, "nec ENI lists and VpcENIs"
    else:
        count, source = None, ""
    limits = [schema.nec_limits(n)[0] for n in s.necs or []]
    potential = sum(x for x in limits if x) if limits and all(limits) else None
    created = [
        s.now - t for t in (schema.created(e) for e in s.enis or []) if t is not None and t <= s.now
    ]
    return EniCount(count, source, potential, created)


# ---------------------------------------------------------------------------- checks


def _chain_issue(s: Snapshot, chains: dict[str | None, _Chain], quota: bool) -> Issue:
    """One finding for every node the same way: grouped per node, a few examples."""
    nodes = sorted(chains, key=lambda n: (n is None, n or ""))
    summary: list[str] = []
    details: list[str] = []
    objects: list[str] = []
    sample_events: list[str] = []
    pending_total = 0
    vips_all: list[VipRec] = []
    owners: list[str] = []
    node_objs = {schema.name(n): n for n in s.nodes or []}
    for node in nodes:
        ch = chains[node]
        pod_keys = dict.fromkeys(
            [(v.claim.namespace, v.claim.name) for v in ch.vips if v.claim is not None]
            + list(ch.pod_events)
        )
        pending = []
        for key in pod_keys:
            pod = s.inventory.pods.get(key)
            if pod is None or (pod.phase or "Unknown") != "Pending":
                continue
            pending.append(key)
            details.append(f"Pod {key[0]}/{key[1]} is Pending on {pod.node or '?'}")
            details += ["  " + event_line(e, s) for e in ch.pod_events.get(key, [])]
            objects.append(f"Pod/{key[0]}/{key[1]}")
            owners.append(pod_owner(pod))
        pending_total += len(pending)
        for key, evs in ch.pod_events.items():
            if key not in pending:
                details += [event_line(e, s) for e in evs]
        for v in ch.vips:
            ref = f"claim {v.claim.namespace}/{v.claim.name}" if v.claim else "no claim"
            details.append(f"VpcIP {v.name} ({ref}) is Attaching: {v.message or 'no message'}")
            objects.append(f"VpcIP/{v.name}")
        vips_all += ch.vips
        details += [event_line(e, s) for e in ch.node_events + ch.other_events]
        for ev in ch.events:
            if len(sample_events) < 2:
                line = event_line(ev, s)
                sample_events.append(line + f" (type {ev.type or 'unset'})")
        nec_line, empty = _nec_line(s, node)
        if nec_line:
            details.append(nec_line)
            objects.append(f"NodeENIConfig/{node}")
        if node is not None:
            objects.append(f"Node/{node}")
        parts = [
            plural(len(ch.vips), "VpcIP") + " Attaching",
            plural(len(pending), "Pod") + " Pending",
        ]
        limit_events = sum(e.count for e in ch.events)
        if limit_events:
            kinds = sorted({e.type or "unset" for e in ch.events})
            parts.append(f"Events naming ENILimit x{limit_events} (type {', '.join(kinds)})")
        if empty:
            parts.append("NodeENIConfig status empty")
        marks = gets_no_eni(node_objs[node]) if node in node_objs else []
        for mark in marks:  # the taint the node carries for it: a reader looks for it
            parts.append(mark)
            details.append(f"Node {node}: {mark}")
        summary.append(f"node {node or '(unknown node)'}: " + ", ".join(parts))
    evidence = examples(summary)
    if vips_all:
        subnets = [v.subnet_id or v.subnet_cidr or "subnet unknown" for v in vips_all]
        evidence.append("Attaching VpcIPs " + counts_by(subnets, "subnet"))
        first = vips_all[0]
        ref = f"claim {first.claim.namespace}/{first.claim.name}" if first.claim else "no claim"
        evidence.append(
            f"e.g. VpcIP {first.name} ({ref}) is Attaching: {first.message or 'no message'}"
        )
    if owners:
        evidence.append("Pending Pods " + counts_by(owners, "owner"))
    evidence += [f"e.g. {e}" for e in sample_events]
    if quota:
        evidence.append(eni_count(s).line())
    where = plural(len(nodes), "node")
    counts = f"{plural(pending_total, 'Pod')} Pending, {plural(len(vips_all), 'VpcIP')} Attaching"
    if quota:
        title = f"VPC ENI quota reached: {where} cannot attach an ENI ({counts})"
        fix = TICKET
    else:
        title = f"{where} cannot attach an ENI, no ENILimit Event found ({counts})"
        fix = f"{LOOK}\n{LOGS}\nIf the Events say ENILimit: {TICKET}"
    if len(nodes) == 1 and nodes[0]:
        fix += f"\nThen check: kubectl get nec {nodes[0]} -o yaml   # status fills in"
    else:
        fix += "\nThen check: kubectl get nec -o yaml   # the nodes' status fills in"
    return Issue(Severity.ERROR, title, evidence, fix, objects, details)


@check(
    "VIP-ENI-001",
    area="eni",
    title="ENIs attach: VPC ENI quota (FAQ 2)",
    needs=(VIPS,),
    uses=(NECS, ENIS, EVENTS, PODS, NODES, CLAIMS),
    many="nodes cannot attach an ENI, {n} groups by cause",
)
def eni_quota(s: Snapshot) -> list[Issue]:
    """The chain of FAQ 2 — Pending Pods, their VpcIPs stuck in Attaching, ENILimit Events (of
    any type), NodeENIConfigs with an empty status — as one finding grouped by node, with the
    ENIs counted against the VPC's quota (1,000 per VPC per region); the fix is raising it by
    ticket. Nodes with Attaching VpcIPs and no ENILimit sign are a finding of their own."""
    chains = _chains(s)
    quota = {n: ch for n, ch in chains.items() if _is_quota(ch)}
    other = {n: ch for n, ch in chains.items() if not _is_quota(ch)}
    issues = []
    if quota:
        issues.append(_chain_issue(s, quota, True))
    if other:
        issues.append(_chain_issue(s, other, False))
    return issues


@check(
    "VIP-ENI-003",
    area="eni",
    title="VPC ENI quota headroom",
    needs=(NECS,),
    uses=(ENIS, VIPS, EVENTS, PODS),
)
def eni_headroom(s: Snapshot) -> list[Issue]:
    """This cluster's ENIs (from `nec` and `veni`) against the VPC's default quota of 1,000: a
    warning from 80 %, with the pace of the last 7 days and when the quota is reached. Where
    ENILimit Events or VpcIP messages say the quota is reached (VIP-ENI-001), that stands,
    whatever this cluster's own count: the other clusters and servers of the VPC use the rest.
    """
    count = eni_count(s)
    said = [ch for ch in _chains(s).values() if _is_quota(ch)]
    if said:
        sample = next((event_line(e, s) for ch in said for e in ch.events), None)
        if sample is None:
            v = next(v for ch in said for v in ch.vips if _says_limit(v.message))
            sample = f"VpcIP {v.name}: {v.message}"
        held = "an unknown number of" if count.count is None else str(count.count)
        return [
            Issue(
                Severity.WARNING,
                f"VPC ENI quota reached (VIP-ENI-001): no headroom; this cluster's nodes hold "
                f"{held} ENIs of the VPC's",
                [f"e.g. {sample}", count.line()],
                TICKET,
                [],
            )
        ]
    if count.count is None or count.count < NEAR_QUOTA * VPC_ENI_QUOTA:
        return []
    return [
        Issue(
            Severity.WARNING,
            f"VPC ENI quota nearly used: {count.count} of {VPC_ENI_QUOTA:,} ENIs in this cluster",
            [count.line(), count.forecast()],
            TICKET,
            [],
        )
    ]


def _node_causes(s: Snapshot, node: Obj, attaching: set[str | None]) -> list[Cause]:
    """`attaching`: the nodes of the VpcIPs in Attaching."""
    name = schema.name(node)
    causes: list[Cause] = []
    zc = zone_cause(s, schema.node_zone(node))
    if zc is not None:
        causes.append(zc)
    problem = ipamd_problem(s)
    if problem is not None:
        causes.append(Cause("ipamd", [problem], f"See VIP-IPAMD-001: {LOGS}"))
    limited = any(mentions(e, ENI_LIMIT_REASONS) for e in s.events_of("Node", name))
    if limited or name in attaching:
        causes.append(
            Cause(
                "quota",
                ["the node has ENILimit Events or Attaching VpcIPs (see VIP-ENI-001)"],
                TICKET,
            )
        )
    return causes


@check(
    "VIP-ENI-002",
    area="eni",
    title="Nodes get an ENI (FAQ 1)",
    needs=(NODES,),
    uses=(NECS, VIPS, CLAIMS, PODS, EVENTS, DEPLOYMENTS, CONFIGMAP),
    many="nodes get no ENI in {n} groups by zone and cause",
)
def node_no_eni(s: Snapshot) -> list[Issue]:
    """Nodes that get no ENI, by what the FAQ names: a NodeENIConfig with an empty status, no
    container subnet in the node's zone, ipamd not ready — and the eni-ip-unavailable taint or
    zero allocatable eni-ip. Grouped by zone and cause; nodes whose only cause is the VPC ENI
    quota are left to VIP-ENI-001."""
    groups: dict[tuple[str | None, str], tuple[list[str], list[Cause]]] = {}
    marks_by_node: dict[str, list[str]] = {}
    # once, not per node: a scan of every VpcIP per node is quadratic at scale
    attaching = {v.node for v in s.inventory.vips if (v.phase or "").lower() == "attaching"}
    for node in s.nodes or []:
        name = schema.name(node)
        marks = gets_no_eni(node)
        if s.necs is not None and nec_empty(s, name):
            marks.append(NEC_EMPTY)
        causes = _node_causes(s, node, attaching)
        no_subnet = any(c.key.startswith("no-subnet:") for c in causes)
        if not marks and not no_subnet:
            continue
        if causes and all(c.key == "quota" for c in causes):
            continue  # FAQ 2's chain, reported whole by VIP-ENI-001
        marks_by_node[name] = marks or ["no ENI can be allocated in this zone"]
        zone = schema.node_zone(node)
        key = (zone, "+".join(c.key for c in causes) or "unknown")
        groups.setdefault(key, ([], causes))[0].append(name)
    issues = []
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
    for (zone, _), (nodes, causes) in ordered:
        lines: list[str] = []
        objects: list[str] = []
        for n in nodes:
            lines.append(f"Node {n} (zone {zone or 'unknown'}): " + "; ".join(marks_by_node[n]))
            objects.append(f"Node/{n}")
            nec_line, _ = _nec_line(s, n)
            if nec_line:
                lines.append(nec_line)
                objects.append(f"NodeENIConfig/{n}")
        evidence = examples(lines)
        for c in causes:
            evidence += c.evidence
        if zone is not None and s.pods is not None:
            stuck = [
                f"{p.namespace}/{p.name}"
                for p in s.pods
                if p.phase == "Pending" and not p.node and zone in p.zones
            ]
            if stuck:
                evidence.append(f"Pending Pods pinned to {zone}: " + names(stuck))
        if causes:
            fix = "\n".join(dict.fromkeys(c.fix for c in causes))
        else:
            evidence.append("cause not determined from the objects read")
            fix = f"kubectl get events -A --field-selector involvedObject.name={nodes[0]}\n{LOGS}"
        fix += f"\n{LOOK}"
        why = "; ".join(c.evidence[0] for c in causes) if causes else "cause unknown"
        verb = "gets" if len(nodes) == 1 else "get"
        title = f"{plural(len(nodes), 'node')} in zone {zone or 'unknown'} {verb} no ENI: {why}"
        details = lines if len(lines) > MAX_EXAMPLES else []
        # an empty nec status alone, cause unknown, may be a node still joining: not an error
        only_nec = all(marks_by_node[n] == [NEC_EMPTY] for n in nodes)
        sev = Severity.WARNING if not causes and only_nec else Severity.ERROR
        issues.append(Issue(sev, title, evidence, fix, objects, details))
    return issues
