"""Join every VpcIPClaim with its Pod, VpcIP and owner workload, and classify it (pure).

`classify` is a function of the objects and "now" only: no I/O, so every state and edge is
covered by table-driven tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from . import schema
from .duration import DurationError, format_human, parse_go_duration

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


Rec = TypeVar("Rec")


def _records(items: Iterable[Any], rec_type: type[Rec], convert: Callable[[Obj], Rec]) -> list[Rec]:
    return [i if isinstance(i, rec_type) else convert(i) for i in items]


@dataclass
class Inventory:
    """Everything classification reads, as compact records, indexed."""

    claims: list[schema.ClaimRec]
    vips: list[schema.VipRec]
    pods: dict[Key, schema.PodRec] = field(default_factory=dict)
    workloads: dict[tuple[str, str, str], schema.WorkloadRec] = field(default_factory=dict)
    listed_kinds: set[str] = field(default_factory=set)  # owner kinds whose absence means "gone"

    @classmethod
    def build(
        cls,
        claims: Iterable[Obj | schema.ClaimRec],
        vips: Iterable[Obj | schema.VipRec],
        pods: Iterable[Obj | schema.PodRec] = (),
        workloads: Mapping[str, Iterable[Obj | schema.WorkloadRec]] | None = None,
    ) -> Inventory:
        """From API objects (raw or trimmed) or records already made by `schema`."""
        inv = cls(
            _records(claims, schema.ClaimRec, schema.claim_record),
            _records(vips, schema.VipRec, schema.vip_record),
        )
        for p in _records(pods, schema.PodRec, schema.pod_record):
            inv.pods[(p.namespace, p.name)] = p
        for kind, objs in (workloads or {}).items():
            inv.listed_kinds.add(kind)
            for w in _records(objs, schema.WorkloadRec, schema.workload_record):
                inv.workloads[(kind, w.namespace, w.name)] = w
        return inv


def resolve_owner(
    claim: schema.ClaimRec, pod: schema.PodRec | None, inv: Inventory
) -> tuple[Owner | None, int | None]:
    """The claim's owner workload and the Pod's ordinal (for StatefulSet owners)."""
    ns, nm = claim.namespace, claim.name
    m = ORDINAL.match(nm)
    candidates: list[tuple[str, schema.OwnerRef]] = [("claim", r) for r in claim.owners]
    if pod is not None and pod.controller is not None:
        candidates.append(("pod", pod.controller))
    for source, ref in candidates:
        wl = inv.workloads.get((ref.kind, ns, ref.name))
        exists: bool | None = None
        if ref.kind in inv.listed_kinds:
            exists = wl is not None and (ref.uid is None or wl.uid == ref.uid)
        live = wl if wl is not None and exists else None
        owner = Owner(
            ref.kind,
            ref.name,
            ref.uid,
            source,
            exists,
            live.replicas if live else None,
            bool(live and live.deleting),
        )
        ordinal = (
            int(m.group(2)) if m and ref.kind == "StatefulSet" and m.group(1) == ref.name else None
        )
        return owner, ordinal
    if m:
        sts = inv.workloads.get(("StatefulSet", ns, m.group(1)))
        if sts is not None:
            owner = Owner(
                "StatefulSet", m.group(1), sts.uid, "name", True, sts.replicas, sts.deleting
            )
            return owner, int(m.group(2))
    return None, None


def _expiry(
    claim: schema.ClaimRec, vip: schema.VipRec | None, policy: IpamdPolicy
) -> tuple[timedelta | None, str | None]:
    if policy.annotation_supported:
        raw = claim.expiry or (vip.expiry if vip else None)
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
    return format_human(td)


def classify(inv: Inventory, policy: IpamdPolicy, now: datetime) -> list[ClaimRow]:
    vip_by_name = {v.name: v for v in inv.vips}
    vip_by_claim: dict[Key, schema.VipRec] = {}
    for v in inv.vips:
        if v.claim is not None:
            vip_by_claim.setdefault((v.claim.namespace, v.claim.name), v)
    rows = [_classify_one(c, inv, vip_by_name, vip_by_claim, policy, now) for c in inv.claims]
    rows.sort(key=lambda r: r.key)
    return rows


def _claim_vip(
    claim: schema.ClaimRec,
    vip_by_name: dict[str, schema.VipRec],
    vip_by_claim: dict[Key, schema.VipRec],
) -> schema.VipRec | None:
    key = (claim.namespace, claim.name)
    if claim.ip is not None:
        vip = vip_by_name.get(claim.ip)
        if vip is not None and (vip.claim is None or (vip.claim.namespace, vip.claim.name) == key):
            return vip
    vip = vip_by_claim.get(key)
    if vip is not None and vip.claim is not None:
        ref_uid = vip.claim.uid
        if ref_uid is None or claim.uid is None or ref_uid == claim.uid:
            return vip
    return None


def _classify_one(
    claim: schema.ClaimRec,
    inv: Inventory,
    vip_by_name: dict[str, schema.VipRec],
    vip_by_claim: dict[Key, schema.VipRec],
    policy: IpamdPolicy,
    now: datetime,
) -> ClaimRow:
    ns, nm = claim.namespace, claim.name
    pod = inv.pods.get((ns, nm))
    vip = _claim_vip(claim, vip_by_name, vip_by_claim)
    ip = claim.ip or (vip.name if vip else None)
    owner, ordinal = resolve_owner(claim, pod, inv)
    pol = claim.policy or (pod.policy if pod else None)
    released_at, estimated = claim.released, claim.released_estimated
    expiry, expiry_source = _expiry(claim, vip, policy)
    pod_phase: str | None = None
    returning = False
    orphaned = overdue = False
    reclaim_at: datetime | None = None
    retained_for: timedelta | None = None

    if pod is not None:
        phase = pod.phase or "Unknown"
        if pod.deleting:
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
    node = (vip.node if vip else None) or (pod.node if pod else None)
    return ClaimRow(
        namespace=ns,
        name=nm,
        uid=claim.uid,
        resource_version=claim.resource_version,
        created=schema.parse_time(claim.created),
        state=state,
        reason=reason,
        ip=ip,
        unbound=vip is None,
        pod_phase=pod_phase,
        pod_uid=pod.uid if pod else None,
        owner=owner,
        ordinal=ordinal,
        returning=returning,
        node=node,
        vip_phase=vip.phase if vip else None,
        vip_message=vip.message if vip else None,
        subnet_id=vip.subnet_id if vip else None,
        subnet_cidr=vip.subnet_cidr if vip else None,
        policy=pol,
        released_at=released_at,
        released_estimated=estimated,
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
    claims_by_key = {(c.namespace, c.name): c for c in inv.claims}
    out = []
    for vip in inv.vips:
        ref = vip.claim
        if scoped_namespace is not None and (ref is None or ref.namespace != scoped_namespace):
            continue
        key = (ref.namespace, ref.name) if ref else None
        claim = claims_by_key.get(key) if key else None
        if claim is not None and ref is not None and ref.uid and claim.uid not in (None, ref.uid):
            claim = None  # the ref names an older claim of the same name
        row = by_key.get(key) if key and claim is not None else None
        if row is not None and row.ip not in (None, vip.name):
            row = None  # that claim holds another IP now
        if vip.phase == "Attaching":
            state = str(IpState.ATTACHING)
        elif row is not None:
            state = str(row.state)
        elif vip.vtype not in (None, "Pod"):
            state = str(IpState.OTHER)
        else:
            state = str(IpState.LEAKED)
        out.append(
            IpRow(
                ip=vip.name,
                state=state,
                phase=vip.phase,
                message=vip.message,
                node=vip.node,
                subnet_id=vip.subnet_id,
                subnet_cidr=vip.subnet_cidr,
                vip_type=vip.vtype,
                claim=key,
                claim_state=row.state if row else None,
                created=schema.parse_time(vip.created),
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
