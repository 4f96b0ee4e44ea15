"""Shared reasoning for the ENI and scheduling checks: why a zone or a node gets no IP (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import ipamd, schema, settings
from ..model.usage import SubnetUsage
from .snapshot import SYSTEM_NS, Obj, Snapshot, names

WHERE_SUBNETS = "TKE console → Cluster → the cluster → its VPC-CNI container subnets"
ADD_SUBNET = (
    "Add a container subnet in zone {zone} to the cluster (" + WHERE_SUBNETS + "); ipamd then "
    "binds an ENI to the zone's nodes. Until then keep VPC-CNI Pods off {zone}."
)
TICKET = (
    "Raise the VPC's ENI quota (default 1,000 ENIs per VPC, applied per region) with a support "
    "ticket: https://console.intl.cloud.tencent.com/workorder/category (China site: "
    "https://cloud.tencent.com/online-service). Until then delete ENIs the VPC no longer uses."
)
LOGS = f"kubectl logs -n {SYSTEM_NS} deploy/{ipamd.DEPLOYMENT_NAME} --tail=200"
RECLAIM = "kubectl vip reclaim --orphaned --overdue -A --dry-run   # then without --dry-run"


@dataclass(frozen=True)
class Cause:
    key: str  # what groups nodes / Pods with the same cause
    evidence: list[str]
    fix: str


def ipamd_problem(s: Snapshot) -> str | None:
    """Why ipamd cannot do its work, as far as the snapshot tells (None: healthy or unknown)."""
    if s.deployments is None:
        return None
    dep = s.deployment(ipamd.DEPLOYMENT_NAME)
    if dep is None:
        return f"Deployment {SYSTEM_NS}/{ipamd.DEPLOYMENT_NAME} does not exist"
    r = settings.replicas_of(dep)
    if r.desired == 0 or r.ready < r.desired:
        return f"ipamd is not ready ({r.ready}/{r.desired} replicas)"
    return None


def _subnet_text(u: SubnetUsage) -> str:
    where = u.zone or "zone unknown"
    free = "free unknown" if u.free is None else f"{u.free} free"
    return f"{u.subnet_id or u.cidr} ({u.cidr or 'CIDR unknown'}, {where}, {free})"


def zone_cause(s: Snapshot, zone: str | None) -> Cause | None:
    """Why VPC-CNI Pods in `zone` get no IP: no subnet there, or its subnets are full."""
    if zone is None:
        return Cause(
            "zone-unknown",
            [
                "the node has no zone label (topology.kubernetes.io/zone): ipamd picks the subnet "
                "by zone"
            ],
            "Label the node with its zone, or open a ticket with `kubectl vip bundle`.",
        )
    if not s.has("vpcips") and not s.has("nodeeniconfigs"):
        return None  # nothing tells which zones have subnets
    here = s.subnets_in_zone(zone)
    if not here:
        elsewhere = [u for u in s.usage if not u.unknown and u.zones]
        zoneless = s.zoneless_subnets()
        if zoneless:
            # one of them may be in this zone: say what is known, not more
            unknown = names(u.subnet_id or u.cidr or "?" for u in zoneless)
            evidence = [
                f"no container subnet is known in zone {zone}; the zone of subnets {unknown} "
                "is unknown (no node or VpcIP uses them yet)"
            ]
        else:
            evidence = [f"zone {zone} has no container subnet"]
        if elsewhere:
            evidence.append("container subnets: " + names(_subnet_text(u) for u in elsewhere))
        return Cause(f"no-subnet:{zone}", evidence, ADD_SUBNET.format(zone=zone))
    if all(u.free == 0 for u in here):
        return Cause(
            f"full:{zone}",
            [f"every container subnet in zone {zone} is full: " + names(map(_subnet_text, here))],
            f"{RECLAIM}\nFor lasting room: {ADD_SUBNET.format(zone=zone)}",
        )
    return None


def nec_empty(s: Snapshot, node: str) -> bool:
    """The node's NodeENIConfig exists with an empty status ("its status is empty")."""
    nec = s.nec_by_node.get(node)
    return nec is not None and not schema.nec_healthy(nec)


def gets_no_eni(node: Obj) -> list[str]:
    """What marks a node as getting no ENI: the eni-ip-unavailable taint, zero allocatable."""
    marks = []
    for key, value, effect in schema.node_taints(node):
        if key == schema.ENI_UNAVAILABLE_TAINT:
            marks.append(f"taint {key}={value or ''}:{effect or ''}")
    alloc = schema.node_allocatable(node, schema.ENI_IP)
    if alloc is not None and alloc.strip() == "0":
        marks.append(f"allocatable {schema.ENI_IP} 0")
    return marks
