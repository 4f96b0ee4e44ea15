"""The whole chain for one Pod or one IP (pure): claim, VpcIP, node, NodeENIConfig, owner,
policy, expiry, Events, and what deleting the Pod or its workload would do now.

`kubectl vip describe` fetches a handful of objects (see `cli/describe_cmd.py`) into `Facts`;
`describe` turns them into a `Description` with no I/O, reusing `claims.classify` on a
one-claim Inventory so the state agrees with `kubectl vip list`.

Target parsing: an argument that parses as a dotted-quad IPv4 address (no leading zeros) is an
IP; anything else is a Pod/claim name. Pod names are DNS-1123 subdomains, which may consist of
digits and dots, so `pod/NAME` forces name mode (and `ip/ADDR` IP mode); `10.0.1.256`,
`10.0.1` or `010.0.1.2` are not addresses and are looked up as names.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from . import schema
from .claims import (
    NEW_NAME_KINDS,
    SAME_NAME_KINDS,
    ClaimRow,
    Fate,
    Inventory,
    IpamdPolicy,
    IpRow,
    IpState,
    Owner,
    State,
    classify,
    classify_ips,
    resolve_owner,
    unknown_expiry_text,
)
from .duration import format_compact, format_human
from .records import ScalerRec

Obj = dict[str, Any]

NAME_PREFIXES = ("pod/", "pods/", "po/", "vipc/", "vpcipclaim/", "vpcipclaims/")
IP_PREFIXES = ("ip/", "vip/", "vpcip/", "vpcips/")
NO_CLAIM = "NoClaim"  # state shown for a Pod that has no claim
WORKLOAD_KINDS = ("StatefulSet", "Deployment", "DaemonSet", "ReplicaSet")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class TargetError(ValueError):
    """The argument names nothing we can describe; the message is fit for a user."""


@dataclass(frozen=True)
class Target:
    kind: str  # "ip" | "name"
    value: str


def parse_target(arg: str) -> Target:
    text = arg.strip()
    low = text.lower()
    for p in IP_PREFIXES:
        if low.startswith(p):
            ip = text[len(p) :]
            if not _is_ipv4(ip):
                raise TargetError(f'"{ip}" is not an IPv4 address')
            return Target("ip", str(ipaddress.IPv4Address(ip)))
    for p in NAME_PREFIXES:
        if low.startswith(p):
            text = text[len(p) :]
            break
    else:
        if _is_ipv4(text):
            return Target("ip", text)
    if not text:
        raise TargetError("name a Pod (or claim) or an IP address")
    if "/" in text:
        raise TargetError(f'cannot describe "{arg}": give a Pod name, pod/NAME or an IP address')
    return Target("name", text)


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------- facts in


@dataclass
class Facts:
    """What describe read. Any object may be None (absent, or not looked up)."""

    namespace: str | None
    name: str | None
    ip: str | None = None  # IP mode: the address asked for
    claim: Obj | None = None
    pod: Obj | None = None
    vip: Obj | None = None
    node_name: str | None = None
    node: Obj | None = None
    nec: Obj | None = None
    nec_served: bool = True  # the cluster serves NodeENIConfig
    workload_kind: str | None = None  # the owner kind that was looked up
    workload: Obj | None = None  # ... and what the GET returned (None: it does not exist)
    # owners read through their own APIs ("Kind.group" → what was found; [] = read, absent),
    # and the kinds that could not be read (group not served, forbidden) with why
    workloads: dict[str, list[Obj]] = field(default_factory=dict)
    unknown_kinds: dict[str, str] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    # the autoscalers of the namespace (None: not read, why in scalers_unknown)
    scalers: list[ScalerRec] | None = None
    scalers_unknown: str = "not read"


# ---------------------------------------------------------------------------- description out


@dataclass(frozen=True)
class PodInfo:
    phase: str | None
    terminating: bool
    uid: str | None
    node: str | None
    ip: str | None
    vpc_cni: bool
    created: datetime | None


@dataclass(frozen=True)
class NecInfo:
    exists: bool
    healthy: bool
    subnets: tuple[tuple[str | None, str], ...]
    max_enis: int | None
    max_ips_per_eni: int | None


@dataclass(frozen=True)
class NodeInfo:
    name: str
    exists: bool
    zone: str | None
    eni_unavailable: bool  # tainted tke.cloud.tencent.com/eni-ip-unavailable
    nec: NecInfo | None  # None: NodeENIConfig not served


@dataclass(frozen=True)
class EventRow:
    type: str | None
    reason: str | None
    object: str  # Kind/name
    message: str | None
    count: int
    first: datetime | None
    last: datetime | None


@dataclass(frozen=True)
class Description:
    namespace: str | None
    name: str | None
    ip: str | None
    state: str
    reason: str
    claim: ClaimRow | None
    pod: PodInfo | None
    vip: IpRow | None
    node: NodeInfo | None
    owner: Owner | None
    cascade: bool
    if_pod_deleted: str
    if_workload_deleted: str | None
    events: list[EventRow]


def describe(
    facts: Facts, policy: IpamdPolicy, now: datetime, *, max_events: int = 10
) -> Description:
    ns, nm = facts.namespace, facts.name
    pods = [facts.pod] if facts.pod is not None else []
    workloads: dict[str, list[Obj]] = dict(facts.workloads)
    if facts.workload_kind in WORKLOAD_KINDS:
        workloads[facts.workload_kind] = [facts.workload] if facts.workload is not None else []
    vips = [facts.vip] if facts.vip is not None else []
    claims = [facts.claim] if facts.claim is not None else []
    inv = Inventory.build(
        claims,
        vips,
        pods,
        workloads,
        facts.unknown_kinds,
        scalers=facts.scalers,
        scalers_unknown=facts.scalers_unknown,
        nodes={facts.node_name: facts.node} if facts.node_name else None,
    )
    rows = classify(inv, policy, now)
    row = rows[0] if rows else None
    ip_rows = classify_ips(inv, rows, scoped_namespace=None)
    ip_row = ip_rows[0] if ip_rows else None
    if (
        facts.ip is not None
        and row is not None
        and ip_row is not None
        and ip_row.claim_state is None
    ):
        row = None  # IP mode: that claim holds another address now, not this one

    pod = _pod_info(facts.pod) if facts.pod is not None else None
    vip = ip_row
    owner = row.owner if row is not None else None
    if owner is None and facts.pod is not None:
        # no claim: the owner as classification would see it, from the Pod alone
        stub = {"metadata": {"name": nm or "", "namespace": ns or ""}}
        alone = Inventory.build([stub], [], pods, workloads, facts.unknown_kinds)
        owner, _, _ = resolve_owner(alone.claims[0], alone.pods.get((ns or "", nm or "")), alone)
    node_name = (
        (row.node if row else None) or (vip.node if vip else None) or (pod.node if pod else None)
    )
    node_name = node_name or facts.node_name
    node = _node_info(node_name, facts) if node_name else None

    if row is not None:
        state, reason = row.state.value, row.reason
        if vip is not None and vip.state == IpState.ATTACHING.value:
            reason += f"; its VpcIP is Attaching: {vip.message or 'no message'}"
    elif vip is not None and facts.ip is not None:
        state, reason = vip.state, _ip_reason(vip, facts)
    else:
        state = NO_CLAIM
        reason = (
            "the Pod uses VPC-CNI but has no claim yet (not scheduled, or ipamd has not allocated)"
            if pod is not None and pod.vpc_cni
            else "the Pod does not use VPC-CNI (no eni-ip resource, no networks annotation)"
        )
    pod_says, workload_says = consequences(
        row, pod, vip, owner, policy.cascade, ns or "", nm or "", now
    )
    return Description(
        namespace=ns,
        name=nm,
        ip=(row.ip if row else None)
        or (vip.ip if vip else None)
        or facts.ip
        or (pod.ip if pod else None),
        state=state,
        reason=reason,
        claim=row,
        pod=pod,
        vip=vip,
        node=node,
        owner=owner,
        cascade=policy.cascade,
        if_pod_deleted=pod_says,
        if_workload_deleted=workload_says,
        events=event_rows(facts.events, max_events),
    )


def _ip_reason(vip: IpRow, facts: Facts) -> str:
    if vip.state == IpState.LEAKED.value:
        ref = f"{vip.claim[0]}/{vip.claim[1]}" if vip.claim else "none"
        if facts.claim is not None:
            return f"no claim holds it: claim {ref} holds another address now"
        return f"no claim holds it: its claim {ref} is gone" if vip.claim else "no claim holds it"
    if vip.state == IpState.OTHER.value:
        return f"a VpcIP of type {vip.vip_type}, not a Pod IP"
    if vip.state == IpState.ATTACHING.value:
        return f"cannot attach to node {vip.node or 'unknown'}: {vip.message or 'no message'}"
    return vip.state


def _pod_info(pod: Obj) -> PodInfo:
    return PodInfo(
        phase=schema.pod_phase(pod),
        terminating=schema.deleting(pod),
        uid=schema.uid(pod),
        node=schema.pod_node(pod),
        ip=schema.pod_ip(pod),
        vpc_cni=schema.is_vpc_cni(pod),
        created=schema.created(pod),
    )


def _node_info(name: str, facts: Facts) -> NodeInfo:
    node = facts.node if facts.node is not None and schema.name(facts.node) == name else None
    nec: NecInfo | None = None
    if facts.nec_served:
        n = facts.nec if facts.nec is not None and schema.name(facts.nec) == name else None
        if n is None:
            nec = NecInfo(False, False, (), None, None)
        else:
            max_enis, max_ips = schema.nec_limits(n)
            nec = NecInfo(
                True, schema.nec_healthy(n), tuple(schema.nec_subnets(n)), max_enis, max_ips
            )
    return NodeInfo(
        name=name,
        exists=node is not None,
        zone=schema.node_zone(node) if node is not None else None,
        eni_unavailable=node is not None
        and schema.ENI_UNAVAILABLE_TAINT in schema.node_taint_keys(node),
        nec=nec,
    )


def event_rows(events: list[Obj], limit: int) -> list[EventRow]:
    """The `limit` most recent Events, oldest first (as kubectl describe shows them)."""
    seen: set[str] = set()
    rows = []
    for ev in events:
        uid = schema.uid(ev) or f"{schema.namespace(ev)}/{schema.name(ev)}"
        if uid in seen:
            continue
        seen.add(uid)
        kind, name = schema.event_object(ev)
        first, last = schema.event_times(ev)
        rows.append(
            EventRow(
                type=schema.event_type(ev),
                reason=schema.event_reason(ev),
                object=f"{kind or 'unknown'}/{name or 'unknown'}",
                message=schema.event_message(ev),
                count=schema.event_count(ev),
                first=first,
                last=last,
            )
        )
    rows.sort(key=lambda r: r.last or _EPOCH)
    return rows[-limit:] if limit > 0 else []


# ---------------------------------------------------------------------------- consequences


def _reclaim_cmd(namespace: str, name: str) -> str:
    return f"`kubectl vip reclaim {name} -n {namespace}`"


def _fate(row: ClaimRow, *, pod_exists: bool) -> str:
    """What becomes of a kept claim once its Pod is gone and nothing brings the Pod back."""
    if row.expiry_options:
        return unknown_expiry_text(row.expiry_options)
    if row.expiry is None:
        once = " once the Pod is gone" if pod_exists else ""
        return (
            "ipamd never reclaims it (no expiry): reclaim it by hand with "
            f"{_reclaim_cmd(row.namespace, row.name)}{once}"
        )
    return (
        f"ipamd reclaims it {format_compact(row.expiry)} after the Pod is gone "
        f"({row.expiry_source} expiry) unless a Pod named {row.name} comes back first"
    )


def _is_immediate(policy: str | None, *, pod_exists: bool = True) -> bool:
    """A Pod without the annotation has ipamd's default, Immediate; once the Pod is gone, a
    claim without it has a policy nobody can read now (as `list` reads it: not Immediate)."""
    if policy is None:
        return pod_exists
    return policy.lower() == "immediate"


def _policy_text(policy: str | None, *, pod_exists: bool = True) -> str:
    if policy:
        return f"policy {policy}"
    if pod_exists:
        return "no delete policy set: ipamd's default is Immediate"
    return "no delete policy on the claim, and its Pod is gone: its policy is unknown"


def _recreates(owner: Owner | None, row: ClaimRow) -> str | None:
    """'same' when the owner brings back a Pod of this name, 'other' when it replaces it under
    another name, None when nothing recreates it."""
    if owner is None or owner.exists is False or owner.deleting:
        return None
    if owner.key in SAME_NAME_KINDS:
        return "same" if row.owner_fate is Fate.RETURNING else None
    if owner.key in NEW_NAME_KINDS:
        return "other"
    return None


def consequences(
    row: ClaimRow | None,
    pod: PodInfo | None,
    vip: IpRow | None,
    owner: Owner | None,
    cascade: bool,
    namespace: str,
    name: str,
    now: datetime,
) -> tuple[str, str | None]:
    """(what deleting the Pod does now, what deleting its owner workload does now).

    Without a Pod the first sentence says what becomes of the claim as things stand."""
    if row is None:
        return _no_claim(pod, vip), (
            f"Deleting {owner} deletes its Pods; no claim is involved." if owner else None
        )
    ip = f"IP {row.ip}" if row.ip and not row.unbound else "no IP (no VpcIP holds its address)"
    if row.pod_phase is not None:
        return _pod_exists(row, owner, ip), _workload(row, owner, ip, cascade, pod_exists=True)
    return _pod_gone(row, ip, now), _workload(row, owner, ip, cascade, pod_exists=False)


def _no_claim(pod: PodInfo | None, vip: IpRow | None) -> str:
    if vip is not None and vip.state == IpState.OTHER.value:
        return f"{vip.ip} is a VpcIP of type {vip.vip_type}, not a Pod IP: deleting Pods leaves it."
    if vip is not None and vip.state == IpState.UNKNOWN.value:
        return (
            f"Whose {vip.ip} is cannot be told: its claim reference cannot be read and no claim "
            "holds the address (send kubectl vip bundle if this is a TKE VpcIP)."
        )
    if vip is not None:
        return (
            f"No claim holds {vip.ip} (Leaked): nothing releases it by itself, and it stays "
            "counted as used in its subnet (see kubectl vip usage)."
        )
    if pod is not None and pod.vpc_cni:
        return "The Pod has no claim yet: deleting it frees no static IP."
    return "The Pod does not use VPC-CNI: deleting it frees no static IP."


def _pod_exists(row: ClaimRow, owner: Owner | None, ip: str) -> str:
    lead = "Deleting the Pod"
    if row.pod_phase == "Terminating":
        lead = "The Pod is being deleted: that"
    recreates = _recreates(owner, row)
    if _is_immediate(row.policy):
        s = f"{lead} deletes the claim and releases {ip} ({_policy_text(row.policy)})"
        if recreates == "same":
            return s + f"; {owner} recreates the Pod, which gets a new IP."
        if recreates == "other":
            return s + f"; {owner} replaces the Pod, which gets a new IP."
        return s + "."
    kept = f"{lead} keeps the claim and {ip} ({_policy_text(row.policy)})"
    if recreates == "same":
        return kept + f"; {owner} recreates the Pod, which gets the same IP back."
    if recreates == "other":
        return (
            kept
            + f", but {owner} replaces the Pod under another name, so no Pod reuses it: "
            + _fate(row, pod_exists=True)
            + "."
        )
    return kept + "; " + _fate(row, pod_exists=True) + "."


def _pod_gone(row: ClaimRow, ip: str, now: datetime) -> str:
    cmd = _reclaim_cmd(row.namespace, row.name)
    if row.unbound:
        return (
            f"No Pod and no VpcIP: the claim reserves no address; reclaim it with {cmd} "
            f"unless a Pod named {row.name} is coming back."
        )
    if row.state == State.OVERDUE:
        if _is_immediate(row.policy, pod_exists=False):
            return (
                f"No Pod, yet the claim still holds {ip} although its policy is Immediate: "
                f"ipamd should have released it; reclaim it with {cmd}."
            )
        ago = f" {format_human(now - row.reclaim_at)} ago" if row.reclaim_at else ""
        expiry = " ".join(x for x in (row.expiry_source, "expiry") if x)
        if row.expiry is not None:
            expiry += f" {format_compact(row.expiry)}"
        return (
            f"No Pod: the {expiry} passed{ago} but ipamd has not reclaimed {ip} (check ipamd); "
            f"reclaim it by hand with {cmd}."
        )
    when = ""
    if row.reclaim_at is not None:
        left = format_human(row.reclaim_at - now)
        when = f"ipamd reclaims it in {left} ({row.reclaim_at:%Y-%m-%dT%H:%M:%SZ})"
    if row.state == State.ORPHANED:
        why = row.reason.split(";")[0]
        then = when if when else f"ipamd never reclaims it (no expiry): reclaim it with {cmd}"
        return f"No Pod, and nothing recreates it ({why}): the claim keeps {ip}; {then}."
    if row.state == State.SCALED_IN:
        then = when if when else "ipamd never reclaims it (no expiry)"
        back = f"; {row.scale_back}" if row.scale_back else ""
        return (
            f"No Pod: {row.owner} runs fewer replicas than this ordinal needs; scaled up, it "
            f"recreates the Pod, which gets {ip} back{back}. Meanwhile {then}; if it stays "
            f"scaled in: {_reclaim_cmd(row.namespace, row.name)[:-1]} --scaled-in-for DURATION`."
        )
    if row.returning and row.owner is not None:
        pol = _policy_text(row.policy, pod_exists=False)
        s = f"No Pod now: {row.owner} recreates it, and it gets {ip} back ({pol})"
        return s + (f"; if it has not returned by then, {when}." if when else ".")
    if row.state == State.EXPIRING:
        if when:
            return (
                f"No Pod: {when}, unless a Pod named {row.name} returns first and takes {ip} back."
            )
        return f"No Pod: ipamd reclaims the claim and {ip} after its expiry (release time unknown)."
    return (
        f"No Pod: the claim keeps {ip} for the next Pod named {row.name} "
        f"({_policy_text(row.policy, pod_exists=False)}); " + _fate(row, pod_exists=False) + "."
    )


def _workload(
    row: ClaimRow, owner: Owner | None, ip: str, cascade: bool, *, pod_exists: bool
) -> str | None:
    if owner is None:
        return None
    if owner.exists is False:
        return f"{owner} no longer exists: nothing recreates the Pod."
    if owner.source == "claim":
        return (
            f"Deleting {owner} deletes this claim too (it has an ownerReference to {owner}: "
            f"cascade), releasing {ip}."
        )
    if pod_exists and _is_immediate(row.policy):
        return (
            f"Deleting {owner} deletes its Pods, and with them this claim and {ip} "
            f"({_policy_text(row.policy)})."
        )
    why = (
        "--enable-ownerref is on, but this claim predates it"
        if cascade
        else "--enable-ownerref is off"
    )
    verb = "deletes its Pods but keeps" if pod_exists else "leaves"
    return (
        f"Deleting {owner} {verb} this claim and {ip} (no ownerReference on the claim, so no "
        f"cascade: {why}); {_fate(row, pod_exists=pod_exists)}."
    )
