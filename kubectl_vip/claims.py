"""Join every VpcIPClaim with its Pod, VpcIP and owner workload, and classify it (pure).

`classify` is a function of the objects and "now" only: no I/O, so every state and edge is
covered by table-driven tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from . import schema
from .duration import DurationError, parse_go_duration

Obj = dict[str, Any]
Key = tuple[str, str]

ORDINAL = re.compile(r"^(.+)-(\d+)$")
# ipamd sweeps expired claims periodically: only this long past due is a claim called Overdue
OVERDUE_GRACE = timedelta(minutes=5)


class State(str, Enum):
    IN_USE = "InUse"
    TERMINATING = "Terminating"
    COMPLETED = "Completed"
    RETAINED = "Retained"
    EXPIRING = "Expiring"
    OVERDUE = "Overdue"
    ORPHANED = "Orphaned"

    def __str__(self) -> str:
        return self.value


CLAIM_STATES = tuple(s.value for s in State)


class IpState(str, Enum):
    """A VpcIP's state in the --ips view: its claim's state, or one of these."""

    LEAKED = "Leaked"  # type Pod, and no claim holds it
    ATTACHING = "Attaching"  # cannot attach to the node (often the VPC ENI quota)
    OTHER = "Other"  # not a Pod IP

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class IpamdPolicy:
    """What ipamd does with retained claims: its flag and whether it reads the annotation."""

    expiry: timedelta | None = None
    annotation_supported: bool = True
    cascade: bool = False


@dataclass(frozen=True)
class Owner:
    kind: str
    name: str
    uid: str | None
    source: str  # "claim" (ownerReference), "pod" (the Pod's controller), "name" (inferred)
    exists: bool | None  # None: a kind we cannot check
    replicas: int | None = None
    deleting: bool = False

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class ClaimRow:
    namespace: str
    name: str
    uid: str | None
    resource_version: str | None
    created: datetime | None
    state: State
    reason: str
    ip: str | None
    unbound: bool  # no VpcIP holds this claim's IP
    pod_phase: str | None  # None: no Pod; "Terminating" when it is being deleted
    pod_uid: str | None
    owner: Owner | None
    ordinal: int | None
    returning: bool  # its controller will recreate the Pod (StatefulSet ordinal < replicas)
    node: str | None
    vip_phase: str | None
    vip_message: str | None
    subnet_id: str | None
    subnet_cidr: str | None
    policy: str | None
    released_at: datetime | None
    released_estimated: bool
    retained_for: timedelta | None
    expiry: timedelta | None
    expiry_source: str | None  # "annotation" or "flag"
    reclaim_at: datetime | None
    orphaned: bool
    overdue: bool

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    @property
    def reclaimable(self) -> bool:
        return self.state in (State.RETAINED, State.EXPIRING, State.OVERDUE, State.ORPHANED)


@dataclass(frozen=True)
class IpRow:
    ip: str
    state: str
    phase: str | None
    message: str | None
    node: str | None
    subnet_id: str | None
    subnet_cidr: str | None
    vip_type: str | None
    claim: Key | None  # (namespace, name) it points to
    claim_state: State | None
    created: datetime | None


@dataclass
class Inventory:
    """Everything classification reads, indexed; built from (trimmed) lists."""

    claims: list[Obj]
    vips: list[Obj]
    pods: dict[Key, Obj] = field(default_factory=dict)
    workloads: dict[tuple[str, str, str], Obj] = field(default_factory=dict)  # (kind, ns, name)
    listed_kinds: set[str] = field(default_factory=set)  # owner kinds whose absence means "gone"

    @classmethod
    def build(
        cls,
        claims: Iterable[Obj],
        vips: Iterable[Obj],
        pods: Iterable[Obj] = (),
        workloads: Mapping[str, Iterable[Obj]] | None = None,
    ) -> Inventory:
        inv = cls(list(claims), list(vips))
        inv.pods = {(schema.namespace(p), schema.name(p)): p for p in pods}
        for kind, objs in (workloads or {}).items():
            inv.listed_kinds.add(kind)
            for o in objs:
                inv.workloads[(kind, schema.namespace(o), schema.name(o))] = o
        return inv


def _replicas(obj: Obj) -> int | None:
    v = schema.dig(obj, "spec", "replicas")
    if v is None:
        return 1  # the API server defaults replicas to 1
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def resolve_owner(claim: Obj, pod: Obj | None, inv: Inventory) -> tuple[Owner | None, int | None]:
    """The claim's owner workload and the Pod's ordinal (for StatefulSet owners)."""
    ns, nm = schema.namespace(claim), schema.name(claim)
    m = ORDINAL.match(nm)
    candidates: list[tuple[str, schema.OwnerRef]] = [("claim", r) for r in schema.owner_refs(claim)]
    if pod is not None:
        candidates += [("pod", r) for r in schema.owner_refs(pod) if r.controller]
    for source, ref in candidates:
        wl = inv.workloads.get((ref.kind, ns, ref.name))
        exists: bool | None = None
        if ref.kind in inv.listed_kinds:
            exists = wl is not None and (ref.uid is None or schema.uid(wl) == ref.uid)
        owner = Owner(
            ref.kind,
            ref.name,
            ref.uid,
            source,
            exists,
            _replicas(wl) if wl is not None and exists else None,
            bool(wl is not None and exists and schema.deleting(wl)),
        )
        ordinal = (
            int(m.group(2)) if m and ref.kind == "StatefulSet" and m.group(1) == ref.name else None
        )
        return owner, ordinal
    if m:
        sts = inv.workloads.get(("StatefulSet", ns, m.group(1)))
        if sts is not None:
            owner = Owner(
                "StatefulSet",
                m.group(1),
                schema.uid(sts),
                "name",
                True,
                _replicas(sts),
                schema.deleting(sts),
            )
            return owner, int(m.group(2))
    return None, None


def _expiry(
    claim: Obj, vip: Obj | None, policy: IpamdPolicy
) -> tuple[timedelta | None, str | None]:
    if policy.annotation_supported:
        raw = schema.expiry_override(claim, vip)
        if raw is not None:
            td: timedelta | None
            try:
                td = parse_go_duration(raw)
            except DurationError:
                td = None  # ipamd cannot use it either; fall back to the flag
            if td is not None:
                return (td if td > timedelta(0) else None), "annotation"
    if policy.expiry is not None and policy.expiry > timedelta(0):
        return policy.expiry, "flag"
    return None, None


def _fmt(td: timedelta) -> str:
    from .duration import format_human

    return format_human(td)


def classify(inv: Inventory, policy: IpamdPolicy, now: datetime) -> list[ClaimRow]:
    vip_by_name = {schema.name(v): v for v in inv.vips}
    vip_by_claim: dict[Key, Obj] = {}
    for v in inv.vips:
        ref = schema.vip_claim_ref(v)
        if ref is not None:
            vip_by_claim.setdefault((ref.namespace, ref.name), v)
    rows = [_classify_one(c, inv, vip_by_name, vip_by_claim, policy, now) for c in inv.claims]
    rows.sort(key=lambda r: r.key)
    return rows


def _claim_vip(claim: Obj, vip_by_name: dict[str, Obj], vip_by_claim: dict[Key, Obj]) -> Obj | None:
    key = (schema.namespace(claim), schema.name(claim))
    ip = schema.claim_ip(claim)
    if ip is not None:
        vip = vip_by_name.get(ip)
        if vip is not None:
            ref = schema.vip_claim_ref(vip)
            if ref is None or (ref.namespace, ref.name) == key:
                return vip
    vip = vip_by_claim.get(key)
    if vip is not None:
        ref = schema.vip_claim_ref(vip)
        cuid = schema.uid(claim)
        if ref is not None and (ref.uid is None or cuid is None or ref.uid == cuid):
            return vip
    return None


def _classify_one(
    claim: Obj,
    inv: Inventory,
    vip_by_name: dict[str, Obj],
    vip_by_claim: dict[Key, Obj],
    policy: IpamdPolicy,
    now: datetime,
) -> ClaimRow:
    ns, nm = schema.namespace(claim), schema.name(claim)
    pod = inv.pods.get((ns, nm))
    vip = _claim_vip(claim, vip_by_name, vip_by_claim)
    ip = schema.claim_ip(claim) or (schema.vip_ip(vip) if vip else None)
    owner, ordinal = resolve_owner(claim, pod, inv)
    pol = schema.delete_policy(claim, pod)
    released_at, estimated = schema.claim_released_at(claim)
    expiry, expiry_source = _expiry(claim, vip, policy)
    subnet_id, subnet_cidr = schema.vip_subnet(vip) if vip else (None, None)
    pod_phase: str | None = None
    returning = False
    orphaned = overdue = False
    reclaim_at: datetime | None = None
    retained_for: timedelta | None = None

    if pod is not None:
        phase = schema.pod_phase(pod) or "Unknown"
        if schema.deleting(pod):
            pod_phase = "Terminating"
            state, reason = State.TERMINATING, "its Pod is being deleted; wait for it to go"
        elif phase in ("Succeeded", "Failed"):
            pod_phase = phase
            state, reason = State.COMPLETED, f"its Pod has {phase.lower()} and still exists"
        else:
            pod_phase = phase
            state, reason = State.IN_USE, f"its Pod is {phase}"
        released_at, estimated = None, False
    else:
        if released_at is not None:
            retained_for = max(now - released_at, timedelta(0))
        orphan_reason = ""
        if owner is not None and owner.exists is False:
            orphaned = True
            orphan_reason = f"owner {owner} is gone"
        elif (
            owner is not None
            and owner.kind == "StatefulSet"
            and owner.exists
            and ordinal is not None
        ):
            if owner.deleting:
                orphaned, orphan_reason = True, f"owner {owner} is being deleted"
            elif owner.replicas is not None and ordinal >= owner.replicas:
                orphaned = True
                orphan_reason = (
                    f"{owner} has {owner.replicas} replicas; ordinal {ordinal} will not return"
                )
            elif owner.replicas is not None:
                returning = True
        immediate = pol is not None and pol.lower() == "immediate"
        if immediate:
            reclaim_at = released_at
            overdue = True
            overdue_reason = "delete policy Immediate: ipamd should have released it with its Pod"
        elif expiry is not None and released_at is not None:
            reclaim_at = released_at + expiry
            overdue = now > reclaim_at + OVERDUE_GRACE
            overdue_reason = (
                f"expiry {_fmt(expiry)} passed {_fmt(now - reclaim_at)} ago: "
                "ipamd has not reclaimed it"
            )
        if overdue:
            state, reason = State.OVERDUE, overdue_reason
        elif orphaned:
            state, reason = State.ORPHANED, orphan_reason + "; nothing will recreate its Pod"
        elif expiry is not None:
            state = State.EXPIRING
            if reclaim_at is not None and reclaim_at > now:
                reason = (
                    f"ipamd reclaims it in {_fmt(reclaim_at - now)} "
                    f"({expiry_source} expiry {_fmt(expiry)})"
                )
            elif reclaim_at is not None:
                reason = f"due {_fmt(now - reclaim_at)} ago; ipamd reclaims it on its next sweep"
            else:
                reason = f"{expiry_source} expiry {_fmt(expiry)}; release time unknown"
        else:
            state = State.RETAINED
            if returning and owner is not None:
                reason = f"{owner} will recreate its Pod, which gets this IP back"
            else:
                reason = "no Pod; kept for a Pod of the same name; no expiry set"
    node = (schema.vip_node(vip) if vip else None) or (schema.pod_node(pod) if pod else None)
    return ClaimRow(
        namespace=ns,
        name=nm,
        uid=schema.uid(claim),
        resource_version=schema.text(schema.dig(claim, "metadata", "resourceVersion")),
        created=schema.created(claim),
        state=state,
        reason=reason,
        ip=ip,
        unbound=vip is None,
        pod_phase=pod_phase,
        pod_uid=schema.uid(pod) if pod else None,
        owner=owner,
        ordinal=ordinal,
        returning=returning,
        node=node,
        vip_phase=schema.vip_phase(vip) if vip else None,
        vip_message=schema.vip_message(vip) if vip else None,
        subnet_id=subnet_id,
        subnet_cidr=subnet_cidr,
        policy=pol,
        released_at=released_at,
        released_estimated=estimated and released_at is not None,
        retained_for=retained_for,
        expiry=expiry,
        expiry_source=expiry_source,
        reclaim_at=reclaim_at,
        orphaned=orphaned,
        overdue=overdue,
    )


def classify_ips(
    inv: Inventory, rows: list[ClaimRow], *, scoped_namespace: str | None
) -> list[IpRow]:
    """The VpcIP view. With a namespace scope, only VpcIPs whose claim ref is in it."""
    by_key = {r.key: r for r in rows}
    claims_by_key = {(schema.namespace(c), schema.name(c)): c for c in inv.claims}
    out = []
    for vip in inv.vips:
        ref = schema.vip_claim_ref(vip)
        if scoped_namespace is not None and (ref is None or ref.namespace != scoped_namespace):
            continue
        key = (ref.namespace, ref.name) if ref else None
        claim = claims_by_key.get(key) if key else None
        if (
            claim is not None
            and ref is not None
            and ref.uid
            and schema.uid(claim) not in (None, ref.uid)
        ):
            claim = None  # the ref names an older claim of the same name
        row = by_key.get(key) if key and claim is not None else None
        if row is not None and row.ip not in (None, schema.vip_ip(vip)):
            row = None  # that claim holds another IP now
        vtype = schema.vip_type(vip)
        phase = schema.vip_phase(vip)
        if phase == "Attaching":
            state = str(IpState.ATTACHING)
        elif row is not None:
            state = str(row.state)
        elif vtype not in (None, "Pod"):
            state = str(IpState.OTHER)
        else:
            state = str(IpState.LEAKED)
        sid, cidr = schema.vip_subnet(vip)
        out.append(
            IpRow(
                ip=schema.vip_ip(vip),
                state=state,
                phase=phase,
                message=schema.vip_message(vip),
                node=schema.vip_node(vip),
                subnet_id=sid,
                subnet_cidr=cidr,
                vip_type=vtype,
                claim=key,
                claim_state=row.state if row else None,
                created=schema.created(vip),
            )
        )
    out.sort(key=lambda r: _ip_sort_key(r.ip))
    return out


def _ip_sort_key(ip: str) -> tuple[int, ...] | tuple[int, str]:
    parts = ip.split(".")
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    return (1 << 30, ip)


def summarize(rows: Iterable[ClaimRow]) -> dict[str, int]:
    counts = {s: 0 for s in CLAIM_STATES}
    for r in rows:
        counts[r.state.value] += 1
    return counts


def freeable(rows: Iterable[ClaimRow]) -> int:
    """IPs that reclaiming Orphaned + Overdue claims would free."""
    return sum(
        1 for r in rows if (r.orphaned or r.overdue) and r.pod_phase is None and not r.unbound
    )
