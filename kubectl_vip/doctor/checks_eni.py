"""Area `eni`: nodes that cannot get an ENI (FAQ 1) and the VPC ENI quota (FAQ 2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import schema
from ..schema import VipRec
from .causes import LOGS, TICKET, Cause, gets_no_eni, ipamd_problem, zone_cause
from .model import (
    CLAIMS,
    CONFIGMAP,
    DEPLOYMENTS,
    EVENTS,
    NECS,
    NODES,
    PODS,
    VIPS,
    Issue,
    Severity,
    check,
)
from .snapshot import ENI_LIMIT_REASONS, Obj, Snapshot, event_line, mentions, names, plural


@dataclass
class _Chain:
    """What points at one node failing to attach an ENI."""

    vips: list[VipRec] = field(default_factory=list)
    node_events: list[Obj] = field(default_factory=list)
    pod_events: dict[tuple[str, str], list[Obj]] = field(default_factory=dict)
    other_events: list[Obj] = field(default_factory=list)


def _event_node(s: Snapshot, ev: Obj) -> tuple[str | None, tuple[str, str] | None]:
    """(node, pod key) an Event is about, as far as the snapshot tells."""
    kind, name = schema.event_object(ev)
    ns = schema.text(schema.dig(ev, "involvedObject", "namespace")) or ""
    if kind in ("Node", "NodeENIConfig"):
        return name, None
    if kind == "Pod" and name:
        pod = s.pod_by_key.get((ns, name))
        return (schema.pod_node(pod) if pod else None), (ns, name)
    if kind == "VpcIP" and name:
        vip = next((v for v in s.inventory.vips if v.name == name), None)
        return (vip.node if vip else None), None
    return None, None


def _chains(s: Snapshot) -> dict[str | None, _Chain]:
    chains: dict[str | None, _Chain] = {}
    for v in s.inventory.vips:
        if (v.phase or "").lower() == "attaching":
            chains.setdefault(v.node, _Chain()).vips.append(v)
    for ev in s.events or []:
        if not mentions(ev, ENI_LIMIT_REASONS):
            continue
        node, pod_key = _event_node(s, ev)
        chain = chains.setdefault(node, _Chain())
        kind, _ = schema.event_object(ev)
        if pod_key is not None:
            chain.pod_events.setdefault(pod_key, []).append(ev)
        elif kind in ("Node", "NodeENIConfig"):
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


@check(
    "VIP-ENI-001",
    area="eni",
    title="ENIs attach: VPC ENI quota (FAQ 2)",
    needs=(VIPS,),
    uses=(NECS, EVENTS, PODS, NODES, CLAIMS),
)
def eni_quota(s: Snapshot) -> list[Issue]:
    """Per node, the chain of FAQ 2: a Pending Pod → its ENI Events → its VpcIP stuck in
    Attaching → the node's ENILimit Events → its NodeENIConfig with an empty status, as one
    finding; the fix is raising the VPC ENI quota (1,000 per VPC per region) by ticket. A
    NodeENIConfig with an empty status and no other sign is a warning of its own."""
    issues: list[Issue] = []
    chains = _chains(s)
    for node in sorted(chains, key=lambda n: (n is None, n or "")):
        ch = chains[node]
        evidence: list[str] = []
        objects: list[str] = []
        pod_keys = dict.fromkeys(
            [(v.claim.namespace, v.claim.name) for v in ch.vips if v.claim is not None]
            + list(ch.pod_events)
        )
        pending = []
        for key in pod_keys:
            pod = s.pod_by_key.get(key)
            if pod is None:
                continue
            phase = schema.pod_phase(pod) or "Unknown"
            if phase != "Pending":
                continue
            pending.append(key)
            evidence.append(f"Pod {key[0]}/{key[1]} is {phase} on {schema.pod_node(pod) or '?'}")
            objects.append(f"Pod/{key[0]}/{key[1]}")
            evidence += ["  " + event_line(e, s) for e in ch.pod_events.get(key, [])]
        for key, evs in ch.pod_events.items():
            if key not in pending:
                evidence += [event_line(e, s) for e in evs]
        for v in ch.vips:
            ref = f"claim {v.claim.namespace}/{v.claim.name}" if v.claim else "no claim"
            evidence.append(f"VpcIP {v.name} ({ref}) is Attaching: {v.message or 'no message'}")
            objects.append(f"VpcIP/{v.name}")
        evidence += [event_line(e, s) for e in ch.node_events + ch.other_events]
        nec_line, _ = _nec_line(s, node)
        if nec_line:
            evidence.append(nec_line)
            objects.append(f"NodeENIConfig/{node}")
        if node is not None:
            objects.append(f"Node/{node}")
        quota = bool(ch.node_events or ch.pod_events or ch.other_events) or any(
            _says_limit(v.message) for v in ch.vips
        )
        where = f"node {node}" if node else "a node"
        title = (
            f"VPC ENI quota reached: {where} cannot attach an ENI"
            if quota
            else f"{where} cannot attach an ENI: {plural(len(ch.vips), 'VpcIP')} stuck Attaching"
        )
        if pending:
            title += f" ({plural(len(pending), 'Pod')} Pending)"
        fix = TICKET
        if node:
            fix += f"\nThen check: kubectl get nec {node} -o yaml   # status fills in"
        if not quota:
            look = "kubectl get events -A --field-selector type=Warning   # look for ENILimit"
            fix = f"{look}\n{fix}"
        issues.append(Issue(Severity.ERROR, title, evidence, fix, objects))

    nodes = {schema.name(n): n for n in s.nodes or []}
    for node, nec in sorted(s.nec_by_node.items()):
        if node in chains or schema.nec_healthy(nec):
            continue
        node_obj = nodes.get(node)
        if node_obj is not None and gets_no_eni(node_obj):
            continue  # VIP-ENI-002 explains it, with its cause
        issues.append(
            Issue(
                Severity.WARNING,
                f"NodeENIConfig {node} has an empty status: no ENI attached",
                [
                    f"NodeENIConfig {node} has an empty status",
                    "no VpcIP is Attaching there and no ENILimit Event was found (yet)",
                ],
                f"kubectl get events -A --field-selector involvedObject.name={node}\n{LOGS}\n"
                "If the Events say ENILimit: " + TICKET,
                [f"NodeENIConfig/{node}"],
            )
        )
    return issues


@check(
    "VIP-ENI-002",
    area="eni",
    title="Nodes get an ENI (FAQ 1)",
    needs=(NODES,),
    uses=(NECS, VIPS, CLAIMS, PODS, EVENTS, DEPLOYMENTS, CONFIGMAP),
)
def node_no_eni(s: Snapshot) -> list[Issue]:
    """Nodes tainted tke.cloud.tencent.com/eni-ip-unavailable or with zero allocatable eni-ip,
    grouped by cause: their zone has no container subnet, its subnets are full, ipamd is
    unhealthy, or the VPC ENI quota (VIP-ENI-001)."""
    groups: dict[tuple[str | None, str], tuple[list[str], list[Cause]]] = {}
    marks_by_node: dict[str, list[str]] = {}
    for node in s.nodes or []:
        marks = gets_no_eni(node)
        if not marks:
            continue
        name = schema.name(node)
        marks_by_node[name] = marks
        zone = schema.node_zone(node)
        causes: list[Cause] = []
        zc = zone_cause(s, zone)
        if zc is not None:
            causes.append(zc)
        problem = ipamd_problem(s)
        if problem is not None:
            causes.append(Cause("ipamd", [problem], f"See VIP-IPAMD-001: {LOGS}"))
        limited = any(mentions(e, ENI_LIMIT_REASONS) for e in s.events_of("Node", name))
        attaching = any(
            (v.phase or "").lower() == "attaching" and v.node == name for v in s.inventory.vips
        )
        if limited or attaching:
            causes.append(
                Cause(
                    "quota",
                    ["the node has ENILimit Events or Attaching VpcIPs (see VIP-ENI-001)"],
                    TICKET,
                )
            )
        key = (zone, "+".join(c.key for c in causes) or "unknown")
        entry = groups.setdefault(key, ([], causes))
        entry[0].append(name)
    issues = []
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
    for (zone, _), (nodes, causes) in ordered:
        evidence = []
        objects = []
        for n in nodes:
            evidence.append(f"Node {n} (zone {zone or 'unknown'}): " + "; ".join(marks_by_node[n]))
            objects.append(f"Node/{n}")
            nec_line, _ = _nec_line(s, n)
            if nec_line:
                evidence.append(nec_line)
                objects.append(f"NodeENIConfig/{n}")
        for c in causes:
            evidence += c.evidence
        if zone is not None and s.pods is not None:
            stuck = [
                f"{schema.namespace(p)}/{schema.name(p)}"
                for p in s.pods
                if schema.pod_phase(p) == "Pending"
                and not schema.pod_node(p)
                and zone in schema.pod_zones(p)
            ]
            if stuck:
                evidence.append(f"Pending Pods pinned to {zone}: " + names(stuck))
        if causes:
            fix = "\n".join(dict.fromkeys(c.fix for c in causes))
        else:
            evidence.append("cause not determined from the objects read")
            fix = f"kubectl get events -A --field-selector involvedObject.name={nodes[0]}\n{LOGS}"
        why = "; ".join(c.evidence[0] for c in causes) if causes else "cause unknown"
        verb = "gets" if len(nodes) == 1 else "get"
        title = f"{plural(len(nodes), 'node')} in zone {zone or 'unknown'} {verb} no ENI: {why}"
        issues.append(Issue(Severity.ERROR, title, evidence, fix, objects))
    return issues
