"""Join every VpcIPClaim with its Pod, VpcIP and owner workload, and classify it (pure).

`classify` is a function of the objects and "now" only: no I/O, so every state and edge is
covered by table-driven tests.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TypeVar

from . import records, schema
from .duration import DurationError, format_human, parse_go_duration

Obj = dict[str, Any]
Key = tuple[str, str]

ORDINAL = re.compile(r"^(.+)-(\d+)$")
# ipamd sweeps expired claims periodically: only this long past due is a claim called Overdue
OVERDUE_GRACE = timedelta(minutes=5)
# kube-controller-manager's default eviction timeout (the unreachable/not-ready tolerations of
# 300 s): a node Ready again for less than this may still run a Pod that was force-deleted
EVICTION_TIMEOUT = timedelta(minutes=5)
ATTACHED_PHASES = ("Attached", "Attaching")


class State(str, Enum):
    IN_USE = "InUse"
    TERMINATING = "Terminating"
    COMPLETED = "Completed"
    RETAINED = "Retained"
    EXPIRING = "Expiring"
    OVERDUE = "Overdue"
    SCALED_IN = "ScaledIn"
    ORPHANED = "Orphaned"

    def __str__(self) -> str:
        return self.value


CLAIM_STATES = tuple(s.value for s in State)


class IpState(str, Enum):
    """A VpcIP's state in the --ips view: its claim's state, or one of these."""

    LEAKED = "Leaked"  # type Pod, and the claim its reference names is gone
    UNKNOWN = "Unknown"  # its claim reference cannot be read, and no claim holds its IP
    ATTACHING = "Attaching"  # cannot attach to the node (often the VPC ENI quota)
    OTHER = "Other"  # not a Pod IP

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class IpamdPolicy:
    """What ipamd does with retained claims: its flag and whether it reads the annotation.

    What cannot be read is kept open: `annotation_supported` None when ipamd's version is
    unknown; `stop_expiry` the flag's value if ipamd's flag package stops at a split boolean,
    when that differs (`ambiguous`)."""

    expiry: timedelta | None = None
    annotation_supported: bool | None = True
    cascade: bool = False
    ambiguous: bool = False
    stop_expiry: timedelta | None = None

    def readings(self, zero_matters: bool = True) -> list[Reading]:
        """Every way ipamd may read what we cannot see (see Reading); `zero_matters`: some
        annotation is zero or unparsable."""
        stops = (False, True) if self.ambiguous else (False,)
        ann = (True, False) if self.annotation_supported is None else (self.annotation_supported,)
        zeros = (False, True) if zero_matters else (False,)
        return [Reading(s, a, z) for s in stops for a in ann for z in zeros]


@dataclass(frozen=True)
class Reading:
    """One way ipamd may read what the public material does not say: whether its flag package
    stops at a split boolean (`stopped`), whether its version reads the per-object expiry
    annotation (`annotations`), and whether it takes a zero or unparsable annotation as unset,
    so that the flag applies (`zero_is_flag`; else: never)."""

    stopped: bool = False
    annotations: bool = True
    zero_is_flag: bool = False


# Owner kinds are keyed "Kind.group" ("Kind" for the core group): kind alone is not enough, an
# OpenKruise Advanced StatefulSet is kind StatefulSet too.
STATEFULSET = "StatefulSet.apps"
KRUISE_STATEFULSET = "StatefulSet.apps.kruise.io"
TAPP = "TApp.apps.tkestack.io"
# controllers that bring a Pod back under the same name, in the order name inference tries them
SAME_NAME_KINDS = (STATEFULSET, KRUISE_STATEFULSET, TAPP)
# controllers whose replacement Pods get new names (generateName): a claim's name never returns
NEW_NAME_KINDS = frozenset(
    {
        "Deployment.apps",
        "ReplicaSet.apps",
        "DaemonSet.apps",
        "Job.batch",
        "CronJob.batch",
        "ReplicationController",
    }
)
# `Inventory.build` also takes bare kinds for the apps/v1 workloads
_BARE = {"StatefulSet": STATEFULSET, "Deployment": "Deployment.apps", "DaemonSet": "DaemonSet.apps"}


_KEYS: dict[tuple[str, str], str] = {}
_PARTS: dict[str, tuple[str, str]] = {}


def kind_key(group: str, kind: str) -> str:
    # the same few keys for every claim: made once each (a new string per claim was 3 MiB at
    # 30,000 claims)
    key = _KEYS.get((group, kind))
    if key is None:
        key = _KEYS[(group, kind)] = f"{kind}.{group}" if group else kind
    return key


def parse_kind_key(key: str) -> tuple[str, str]:
    """(group, kind) of a "Kind.group" key."""
    parts = _PARTS.get(key)
    if parts is None:
        kind, _, group = key.partition(".")
        parts = _PARTS[key] = (group, kind)
    return parts


class Fate(str, Enum):
    """What an owner's controller does with a Pod name (an ordinal) that has no Pod now."""

    RETURNING = "returning"  # recreates it now: it gets this claim's IP back
    STOPPED = "stopped"  # kept but stopped (TApp instance Killed): returns when restarted
    SCALED_IN = "scaledIn"  # outside what the controller keeps now: returns if scaled up
    UNKNOWN = "unknown"  # cannot tell


# what a live same-name controller does with a claim's ordinal, and the words for it
OwnerFate = tuple[Fate, str]
# one Owner object per (kind key, name, uid, namespace, source) within one classification
OwnerCache = dict[tuple[str, str, str | None, str, str], "Owner"]


@dataclass(slots=True)
class Owner:
    kind: str
    name: str
    uid: str | None
    source: str  # "claim" (ownerReference), "pod" (the Pod's controller), "name" (inferred),
    # "flag" (named by `reclaim --owner`)
    exists: bool | None  # None: we cannot tell (kind not modelled, group not served, forbidden)
    replicas: int | None = None
    deleting: bool = False
    group: str = "apps"
    unknown: str | None = None  # why `exists` (or the ordinal's fate) cannot be told
    scaled_at: datetime | None = None  # when its replica count was last set (None: unknown)
    # "Kind.group", made once (classification asks for it several times per claim)
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.key = kind_key(self.group, self.kind)

    def __str__(self) -> str:
        if self.group in ("apps", ""):
            return f"{self.kind}/{self.name}"
        return f"{self.kind}.{self.group}/{self.name}"


def ordinal_fate(key: str, wl: records.WorkloadRec, ordinal: int) -> tuple[Fate, str]:
    """Which Pod names a same-name controller keeps, by its own rules (pure)."""
    if wl.replicas is None:
        return Fate.UNKNOWN, "its replicas are not a number"
    if key == TAPP:
        if wl.killed is None:
            return Fate.UNKNOWN, "its spec.statuses cannot be read"
        if ordinal >= wl.replicas:
            return Fate.SCALED_IN, f"has {wl.replicas} replicas; {_back('instance', ordinal)}"
        if ordinal in wl.killed:
            return Fate.STOPPED, f"has instance {ordinal} Killed; it returns if restarted"
        return Fate.RETURNING, f"keeps instance {ordinal}"
    if wl.ordinals_start is None:
        return Fate.UNKNOWN, "its spec.ordinals cannot be read"
    start = wl.ordinals_start
    if key == KRUISE_STATEFULSET:
        if wl.reserved is None:
            return Fate.UNKNOWN, "its spec.reserveOrdinals cannot be read"
        live: set[int] = set()
        o = start
        while len(live) < wl.replicas:
            if o not in wl.reserved:
                live.add(o)
            o += 1
        if ordinal in live:
            return Fate.RETURNING, f"keeps ordinal {ordinal}"
        if ordinal in wl.reserved:
            return Fate.SCALED_IN, (
                f"reserves ordinal {ordinal} (reserveOrdinals); it returns if no longer reserved"
            )
        return Fate.SCALED_IN, f"has {wl.replicas} replicas; {_back('ordinal', ordinal)}"
    if start <= ordinal < start + wl.replicas:
        return Fate.RETURNING, f"keeps ordinal {ordinal}"
    span = f"ordinals {start}..{start + wl.replicas - 1}" if wl.replicas else "no ordinals"
    if start == 0:
        return Fate.SCALED_IN, f"has {wl.replicas} replicas; {_back('ordinal', ordinal)}"
    return Fate.SCALED_IN, f"keeps {span}; {_back('ordinal', ordinal)}"


def _back(what: str, ordinal: int) -> str:
    return f"{what} {ordinal} returns if it is scaled up"


@dataclass(slots=True)
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
    returning: bool  # its controller recreates the Pod now (an ordinal in its live range)
    may_return: bool  # returning, or a Pod of this name may come back (owner unknown, stopped,
    # scaled in)
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
    # its live controller runs fewer replicas than its ordinal needs (state ScaledIn unless
    # Overdue or Orphaned wins); how long it has kept that count (None: unknown), and what may
    # scale it back up without anyone deciding to (paused at 0, an autoscaler; None: nothing known)
    scaled_in: bool = False
    scale_age: timedelta | None = None
    scale_back: str | None = None
    # the expiries ipamd may apply when how it reads its flags or the annotation is unknown
    # (`expiry` is then None: never stated as a fact); () when known
    expiry_options: tuple[timedelta | None, ...] = ()
    # no Pod object, but its VpcIP is still attached to a node that is not (long enough) Ready:
    # the Pod may still run there with this IP (why; None: no such sign)
    ip_in_use: str | None = None
    owner_fate: Fate | None = None  # a live same-name controller: what it does with the ordinal

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    @property
    def reclaimable(self) -> bool:
        return self.state in (
            State.RETAINED,
            State.EXPIRING,
            State.OVERDUE,
            State.SCALED_IN,
            State.ORPHANED,
        )


@dataclass(slots=True)
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


class PodIndex(Mapping[Key, records.PodRec]):
    """Pods by (namespace, name), kept by namespace, then name: no (namespace, name) tuple
    held per Pod (1.3 MiB at 23,000 Pods, at the peak of a large `list`)."""

    __slots__ = ("_by_ns", "_len")

    def __init__(self) -> None:
        self._by_ns: dict[str, dict[str, records.PodRec]] = {}
        self._len = 0

    def add(self, pod: records.PodRec) -> None:
        names = self._by_ns.setdefault(pod.namespace, {})
        self._len += pod.name not in names
        names[pod.name] = pod

    def __getitem__(self, key: Key) -> records.PodRec:
        return self._by_ns[key[0]][key[1]]

    def get(self, key: Key, default: Any = None) -> Any:
        names = self._by_ns.get(key[0])
        return default if names is None else names.get(key[1], default)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        names = self._by_ns.get(key[0])
        return names is not None and key[1] in names

    def __iter__(self) -> Iterator[Key]:
        for ns, names in self._by_ns.items():
            for name in names:
                yield (ns, name)

    def __len__(self) -> int:
        return self._len


@dataclass
class Inventory:
    """Everything classification reads, as compact records, indexed.

    `workloads` is keyed ("Kind.group", namespace, name); a kind in `listed_kinds` was read
    through its own API, so an absent name there means the owner is gone. `unknown_kinds` says
    why a kind could not be read (group not served, forbidden): its owners stay unknown.
    `assumed` is an owner named on the command line (`reclaim --owner`) for claims that carry no
    ownerReference: (kind key, namespace, name).
    """

    claims: list[records.ClaimRec]
    vips: list[records.VipRec]
    pods: PodIndex = field(default_factory=PodIndex)
    workloads: dict[tuple[str, str, str], records.WorkloadRec] = field(default_factory=dict)
    listed_kinds: set[str] = field(default_factory=set)
    unknown_kinds: dict[str, str] = field(default_factory=dict)
    assumed: tuple[str, str, str] | None = None
    # autoscalers by the workload they scale ("Kind.group", namespace, name); None: not read
    # (why in scalers_unknown), so whether one may scale a workload back up is unknown
    scalers: dict[tuple[str, str, str], list[records.ScalerRec]] | None = None
    scalers_unknown: str = "not read"
    # the nodes VpcIPs of claims without a Pod are still attached to, as read (NodeRec), gone
    # (None) or unreadable (why); a node missing here was not read
    nodes: dict[str, records.NodeRec | str | None] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        claims: Iterable[Obj | records.ClaimRec],
        vips: Iterable[Obj | records.VipRec],
        pods: Iterable[Obj | records.PodRec] = (),
        workloads: Mapping[str, Iterable[Obj | records.WorkloadRec]] | None = None,
        unknown_kinds: Mapping[str, str] | None = None,
        assumed: tuple[str, str, str] | None = None,
        scalers: Iterable[records.ScalerRec] | None = None,
        scalers_unknown: str = "not read",
        nodes: Mapping[str, Obj | records.NodeRec | str | None] | None = None,
    ) -> Inventory:
        """From API objects (raw or trimmed) or records already made by `schema`. Workload kinds
        are "Kind.group" keys; the bare names StatefulSet, Deployment, DaemonSet mean apps/v1."""
        inv = cls(
            _records(claims, records.ClaimRec, records.claim_record),
            _records(vips, records.VipRec, records.vip_record),
        )
        claim_by_key = {(c.namespace, c.name): c for c in inv.claims}
        _share_strings(inv.vips, claim_by_key)
        for p in _records(pods, records.PodRec, records.pod_record):
            c = claim_by_key.get((p.namespace, p.name))
            if c is not None:
                p.name = c.name  # one string for both (and for the key below)
            inv.pods.add(p)
        del claim_by_key
        for kind, objs in (workloads or {}).items():
            key = _BARE.get(kind, kind)
            inv.listed_kinds.add(key)
            for w in _records(objs, records.WorkloadRec, records.workload_record):
                inv.workloads[(key, w.namespace, w.name)] = w
        for kind, why in (unknown_kinds or {}).items():
            inv.unknown_kinds[_BARE.get(kind, kind)] = why
        if assumed is not None:
            inv.assumed = (_BARE.get(assumed[0], assumed[0]), assumed[1], assumed[2])
        inv.scalers_unknown = scalers_unknown
        for node_name, n in (nodes or {}).items():
            inv.nodes[node_name] = records.node_record(n) if isinstance(n, dict) else n
        if scalers is not None:
            inv.scalers = {}
            for sc in scalers:
                t_group, t_kind, t_name = sc.target
                by = (kind_key(t_group, t_kind), sc.namespace, t_name)
                inv.scalers.setdefault(by, []).append(sc)
        return inv


def release(inv: Inventory, *, keep_vips: bool = False) -> None:
    """Let go of the records once the rows are made (the rows keep the strings they show):
    a large `list` then writes its table in the space they took. `keep_vips`: all but the
    VpcIPs, which `classify_ips` still reads."""
    inv.claims = []
    inv.pods, inv.workloads = PodIndex(), {}
    if not keep_vips:
        inv.vips = []


def _share_strings(vips: list[records.VipRec], claim_by_key: dict[Key, records.ClaimRec]) -> None:
    """A VpcIP's claimRef name and uid and its own name (the IP) are equal to strings its claim
    already holds: keep one of each (7 MiB at 30,000 claims)."""
    for v in vips:
        ref = v.claim
        c = claim_by_key.get((ref.namespace, ref.name)) if ref is not None else None
        if ref is None or c is None:
            continue
        ref.name = c.name
        if ref.uid == c.uid:
            ref.uid = c.uid
        if v.name == c.ip and c.ip is not None:
            v.name = c.ip


def _ordinal(claim_name: str, owner_name: str) -> int | None:
    """The ordinal of a Pod named `<owner>-<n>` (canonical digits only, as controllers write)."""
    m = ORDINAL.match(claim_name)
    if m is None or m.group(1) != owner_name:
        return None
    return int(m.group(2))


def _owner_of(
    key: str,
    name: str,
    uid: str | None,
    ns: str,
    source: str,
    inv: Inventory,
    cache: OwnerCache | None = None,
) -> Owner:
    """The owner as `inv` has it; with `cache`, the same object for every claim it owns (nothing
    writes to an Owner)."""
    if cache is None:
        return _new_owner(key, name, uid, ns, source, inv)
    ck = (key, name, uid, ns, source)
    owner = cache.get(ck)
    if owner is None:
        owner = cache[ck] = _new_owner(key, name, uid, ns, source, inv)
    return owner


def _new_owner(key: str, name: str, uid: str | None, ns: str, source: str, inv: Inventory) -> Owner:
    group, kind = parse_kind_key(key)
    wl = inv.workloads.get((key, ns, name))
    if key in inv.unknown_kinds:
        return Owner(kind, name, uid, source, None, group=group, unknown=inv.unknown_kinds[key])
    if key not in inv.listed_kinds:
        return Owner(kind, name, uid, source, None, group=group, unknown="not read")
    if wl is None or (uid is not None and wl.uid != uid):
        return Owner(kind, name, uid, source, False, group=group)
    return Owner(
        kind, name, uid, source, True, wl.replicas, wl.deleting, group=group, scaled_at=wl.scaled_at
    )


def resolve_owner(
    claim: records.ClaimRec,
    pod: records.PodRec | None,
    inv: Inventory,
    cache: OwnerCache | None = None,
) -> tuple[Owner | None, int | None, OwnerFate | None]:
    """The claim's owner workload, the Pod's ordinal under it (for same-name controllers), and
    what that controller does with the ordinal (a live same-name controller only).

    Its own ownerReference first (the controller one), then its Pod's controller, then a
    same-name controller named like the claim without its ordinal (`source: name`), then an
    owner named on the command line. A referenced owner that is gone while a workload of the
    same kind and name exists (recreated: another uid) yields that workload when it would bring
    the Pod back, since its Pods take the same names.
    """
    ns, nm = claim.namespace, claim.name
    candidates: list[tuple[str, schema.OwnerRef]] = []
    if claim.owners:
        refs = sorted(claim.owners, key=lambda r: not r.controller)
        candidates.append(("claim", refs[0]))
    if pod is not None and pod.controller is not None:
        candidates.append(("pod", pod.controller))
    for source, ref in candidates:
        key = kind_key(ref.group, ref.kind)
        owner = _owner_of(key, ref.name, ref.uid, ns, source, inv, cache)
        ordinal = _ordinal(nm, ref.name) if key in SAME_NAME_KINDS else None
        if owner.exists is False:
            # gone; but another live controller that names Pods like this one brings it back
            keeper = _keeper(nm, ns, inv, cache)
            if keeper is not None:
                return keeper
        return owner, ordinal, _fate_of(owner, ordinal, inv, ns)
    m = ORDINAL.match(nm)
    if m is None:
        return None, None, None
    base, ordinal = m.group(1), int(m.group(2))
    for key in SAME_NAME_KINDS:
        if key in inv.listed_kinds and (key, ns, base) in inv.workloads:
            uid = inv.workloads[(key, ns, base)].uid
            owner = _owner_of(key, base, uid, ns, "name", inv, cache)
            return owner, ordinal, _fate_of(owner, ordinal, inv, ns)
    if inv.assumed is not None and inv.assumed[1:] == (ns, base):
        owner = _owner_of(inv.assumed[0], base, None, ns, "flag", inv, cache)
        return owner, ordinal, _fate_of(owner, ordinal, inv, ns)
    return None, None, None


def _keeper(
    name: str, ns: str, inv: Inventory, cache: OwnerCache | None
) -> tuple[Owner, int, OwnerFate | None] | None:
    """A live same-name controller (of any kind, a recreated one included) that brings a Pod of
    this name back, now or when scaled up, with the ordinal; None when there is none."""
    m = ORDINAL.match(name)
    if m is None:
        return None
    base, ordinal = m.group(1), int(m.group(2))
    for key in SAME_NAME_KINDS:
        wl = inv.workloads.get((key, ns, base))
        if (
            wl is not None
            and not wl.deleting
            and ordinal_fate(key, wl, ordinal)[0] is not Fate.UNKNOWN
        ):
            owner = _owner_of(key, base, wl.uid, ns, "name", inv, cache)
            return owner, ordinal, _fate_of(owner, ordinal, inv, ns)
    return None


def _fate_of(owner: Owner, ordinal: int | None, inv: Inventory, ns: str) -> OwnerFate | None:
    """What a live same-name controller does with this ordinal; None for any other owner.

    Kept beside the owner, not in it: the owner is then one object for all its claims (a new
    one per claim was 4 MiB at 30,000 claims)."""
    if owner.exists is not True or ordinal is None or owner.key not in SAME_NAME_KINDS:
        return None
    wl = inv.workloads.get((owner.key, ns, owner.name))
    if wl is None:
        return None
    fate, text = ordinal_fate(owner.key, wl, ordinal)
    return fate, sys.intern(text)  # "keeps ordinal 3": a few hundred texts for 30,000 claims


def odd_annotations(inv: Inventory) -> bool:
    """Some claim or VpcIP carries a zero or unparsable expiry annotation."""
    raws = [c.expiry for c in inv.claims] + [v.expiry for v in inv.vips]
    return any(r is not None and _annotation(r) is None for r in raws)


def _annotation(raw: str) -> timedelta | None:
    """A positive annotation value; None for zero or a value Go cannot parse (what ipamd does
    with those is unknown: never, or the flag's)."""
    try:
        td = parse_go_duration(raw)
    except DurationError:
        return None
    return td if td > timedelta(0) else None


Expiry = tuple[timedelta | None, str | None]  # (expiry, "annotation" | "flag"); None: never


def _expiry_under(raw: str | None, policy: IpamdPolicy, r: Reading) -> Expiry:
    flag = policy.stop_expiry if (r.stopped and policy.ambiguous) else policy.expiry
    flag = flag if flag is not None and flag > timedelta(0) else None
    by_flag: Expiry = (flag, "flag" if flag is not None else None)
    # what is known of ipamd wins over the reading's guess
    reads = r.annotations if policy.annotation_supported is None else policy.annotation_supported
    if raw is None or not reads:
        return by_flag
    td = _annotation(raw)
    if td is not None:
        return td, "annotation"
    if r.zero_is_flag:
        return by_flag
    return None, "annotation"


def expiry_of(
    claim: records.ClaimRec,
    vip: records.VipRec | None,
    policy: IpamdPolicy,
    reading: Reading | None = None,
) -> tuple[timedelta | None, str | None, tuple[timedelta | None, ...]]:
    """(expiry, source, the possible expiries when ipamd's reading is unknown). Under a given
    reading the expiry is definite; else every reading of `policy` is tried, and when they
    disagree the expiry is unknown: (None, None, every value it may be, never last)."""
    raw = claim.expiry or (vip.expiry if vip else None)
    if reading is not None:
        return (*_expiry_under(raw, policy, reading), ())
    if raw is None and not policy.ambiguous:
        return (*_expiry_under(None, policy, Reading()), ())  # the common case: the flag alone
    found = {_expiry_under(raw, policy, r) for r in policy.readings()}
    values = {td for td, _ in found}
    if len(values) == 1:
        (td,) = values
        return td, next((src for t, src in sorted(found, key=str) if src), None), ()
    ordered = sorted(v for v in values if v is not None) + ([None] if None in values else [])
    return None, None, tuple(ordered)


def unknown_expiry_text(options: tuple[timedelta | None, ...]) -> str:
    """`ipamd's expiry for it is unknown: 1h or never` (which depends on what nobody can
    read: ipamd's flag package, its version, its reading of a zero annotation)."""
    said = " or ".join(format_human(o) if o is not None else "never" for o in options)
    return f"ipamd's expiry for it is unknown: {said} (kubectl vip config says why)"


def _immediate_reason(at: datetime | None, now: datetime, owner_reason: str) -> str:
    head = "delete policy Immediate: ipamd releases it with its Pod"
    if at is None:
        head += "; when its Pod went is unknown (only estimated)"
    else:
        head += f", at its next sweep (its Pod went {_fmt(now - at)} ago)"
    return f"{head}; {owner_reason}" if owner_reason else head


def _fmt(td: timedelta) -> str:
    return format_human(td)


def classify(
    inv: Inventory, policy: IpamdPolicy, now: datetime, reading: Reading | None = None
) -> list[ClaimRow]:
    """Every claim's row. With `reading`, as ipamd reads its flags and annotations that way
    (the expiry impact tries each); without, a claim whose expiry the readings disagree on has
    an unknown expiry (`expiry_options`)."""
    vip_by_name = {v.name: v for v in inv.vips}
    # by namespace, then name: no (namespace, name) tuple per VpcIP (2 MiB at 30,000)
    vip_by_claim: dict[str, dict[str, records.VipRec]] = {}
    for v in inv.vips:
        if v.claim is not None:
            vip_by_claim.setdefault(v.claim.namespace, {}).setdefault(v.claim.name, v)
    # the claims sorted before the rows are made, not the rows after: the sort's keys come and
    # go while only the records are alive, not at the peak, when the rows are too
    claims = sorted(inv.claims, key=_claim_key)
    owners: OwnerCache = {}
    return [
        _classify_one(c, inv, vip_by_name, vip_by_claim, policy, now, reading, owners)
        for c in claims
    ]


_NO_VIPS: dict[str, records.VipRec] = {}


def _claim_key(c: records.ClaimRec) -> Key:
    return (c.namespace, c.name)


def _claim_vip(
    claim: records.ClaimRec,
    vip_by_name: dict[str, records.VipRec],
    vip_by_claim: dict[str, dict[str, records.VipRec]],
) -> records.VipRec | None:
    ns, name = claim.namespace, claim.name
    if claim.ip is not None:
        vip = vip_by_name.get(claim.ip)
        if vip is not None and (
            vip.claim is None or (vip.claim.name == name and vip.claim.namespace == ns)
        ):
            return vip
    vip = vip_by_claim.get(ns, _NO_VIPS).get(name)
    if vip is not None and vip.claim is not None:
        ref_uid = vip.claim.uid
        if ref_uid is None or claim.uid is None or ref_uid == claim.uid:
            return vip
    return None


def _classify_one(
    claim: records.ClaimRec,
    inv: Inventory,
    vip_by_name: dict[str, records.VipRec],
    vip_by_claim: dict[str, dict[str, records.VipRec]],
    policy: IpamdPolicy,
    now: datetime,
    reading: Reading | None = None,
    owners: OwnerCache | None = None,
) -> ClaimRow:
    ns, nm = claim.namespace, claim.name
    pod = inv.pods.get((ns, nm))
    vip = _claim_vip(claim, vip_by_name, vip_by_claim)
    ip = claim.ip or (vip.name if vip else None)
    owner, ordinal, fate = resolve_owner(claim, pod, inv, owners)
    pol = claim.policy or (pod.policy if pod else None)
    released_at, estimated = claim.released, claim.released_estimated
    expiry, expiry_source, options = expiry_of(claim, vip, policy, reading)
    pod_phase: str | None = None
    returning = may_return = False
    orphaned = overdue = False
    reclaim_at: datetime | None = None
    retained_for: timedelta | None = None

    verdict = owner_verdict(owner, ordinal, fate)
    in_use: str | None = None
    scaled_in = False
    scale_age: timedelta | None = None
    back: str | None = None
    if pod is not None:
        phase = pod.phase or "Unknown"
        if pod.deleting:
            pod_phase = "Terminating"
            state, reason = State.TERMINATING, "its Pod is being deleted; wait for it to go"
        elif phase in ("Succeeded", "Failed"):
            pod_phase = phase
            state, reason = State.COMPLETED, f"its Pod has {phase.lower()} and still exists"
            # whether its controller replaces it under this name decides a reclaim
            returning, may_return = verdict.returning, verdict.may_return
            if verdict.may_return:
                reason += f"; {verdict.why}"
        else:
            pod_phase = phase
            state, reason = State.IN_USE, _in_use_reason(phase)
        released_at, estimated = None, False
    else:
        in_use = ip_in_use(vip, inv, now)
        if released_at is not None:
            retained_for = max(now - released_at, timedelta(0))
        orphaned, returning, may_return = verdict.orphaned, verdict.returning, verdict.may_return
        owner_reason = verdict.why
        if verdict.scaled_in and owner is not None and ordinal is not None:
            scaled_in = True
            back = scale_back(owner, ordinal, inv, ns)
            scale_age = max(now - owner.scaled_at, timedelta(0)) if owner.scaled_at else None
            owner_reason += f"; {back}" if back else ""
        immediate = pol is not None and pol.lower() == "immediate"
        overdue_reason = ""
        if immediate and released_at is not None:
            # ipamd releases it with its Pod, at its next sweep: a sweep's interval of grace.
            # When that was is only estimated, no due time is stated (and no error rests on
            # it); reclaiming it is harmless either way: an Immediate Pod gets a new IP anyway
            reclaim_at = None if estimated else released_at
            overdue = now > released_at + OVERDUE_GRACE
            overdue_reason = "delete policy Immediate: ipamd should have released it with its Pod"
            if estimated:
                overdue_reason += " (when its Pod went is unknown)"
        elif expiry is not None and released_at is not None and not estimated:
            reclaim_at = released_at + expiry
            overdue = now > reclaim_at + OVERDUE_GRACE
            overdue_reason = (
                f"expiry {_fmt(expiry)} passed {_fmt(now - reclaim_at)} ago: "
                "ipamd has not reclaimed it"
            )
        if overdue:
            state, reason = State.OVERDUE, overdue_reason
        elif orphaned:
            state, reason = State.ORPHANED, owner_reason + "; nothing will recreate its Pod"
        elif scaled_in:
            kept = (
                f"it has kept that count for {_fmt(scale_age)}"
                if scale_age is not None
                else "how long it has kept that count is unknown"
            )
            state, reason = State.SCALED_IN, f"{owner_reason}; {kept}"
        elif expiry is not None and not estimated:
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
            reason = owner_reason or "no Pod; kept for a Pod of the same name"
            if immediate:
                reason = _immediate_reason(reclaim_at, now, owner_reason)
            elif options:
                reason += "; " + unknown_expiry_text(options)
            elif expiry is not None and estimated:
                reason += (
                    f"; release time unknown (only estimated from its last status write), so "
                    f"when ipamd's {expiry_source} expiry {_fmt(expiry)} reclaims it is unknown"
                )
            elif expiry is None:
                reason += "; no expiry set"
        if in_use:
            reason += f"; {in_use}"
    node = (vip.node if vip else None) or (pod.node if pod else None)
    return ClaimRow(
        namespace=ns,
        name=nm,
        uid=claim.uid,
        resource_version=claim.resource_version,
        created=claim.created,
        state=state,
        reason=reason,
        ip=ip,
        unbound=vip is None,
        pod_phase=pod_phase,
        pod_uid=pod.uid if pod else None,
        owner=owner,
        ordinal=ordinal,
        owner_fate=fate[0] if fate else None,
        returning=returning,
        may_return=may_return,
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
        expiry_options=options,
        scaled_in=scaled_in,
        scale_age=scale_age,
        scale_back=back,
        ip_in_use=in_use,
    )


_IN_USE: dict[str, str] = {}


def _in_use_reason(phase: str) -> str:
    """One string per phase, shared by every claim in use (most of a cluster's claims)."""
    text = _IN_USE.get(phase)
    if text is None:
        text = _IN_USE[phase] = f"its Pod is {phase}"
    return text


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a claim's owner does with its Pod name, from the owner alone."""

    orphaned: bool = False  # nothing recreates it: the owner is confirmed gone (or going)
    returning: bool = False  # the owner recreates it now
    may_return: bool = False  # returning, or may come back (owner unknown, stopped, scaled in)
    scaled_in: bool = False  # the live owner keeps fewer replicas: returns if scaled up
    why: str = ""


def owner_verdict(
    owner: Owner | None, ordinal: int | None, fate: OwnerFate | None = None
) -> Verdict:
    """Only an owner confirmed gone through its own API makes a claim orphaned; a live
    controller that does not keep this ordinal now has scaled it in (it returns if scaled up),
    and an owner we cannot read may bring the Pod back."""
    if owner is None:
        return Verdict()
    if owner.exists is None:
        why = owner.unknown or "not read"
        return Verdict(
            may_return=True, why=f"owner {owner} ({why}): cannot tell whether it recreates the Pod"
        )
    if owner.exists is False:
        return Verdict(orphaned=True, why=f"owner {owner} is gone")
    if owner.deleting:
        return Verdict(orphaned=True, why=f"owner {owner} is being deleted")
    if owner.key in NEW_NAME_KINDS:
        return Verdict(
            why=(
                f"owner {owner} exists; it names new Pods afresh, so this name returns only if "
                "a Pod is created with it"
            )
        )
    if owner.key not in SAME_NAME_KINDS:
        return Verdict(
            may_return=True,
            why=f"owner {owner}: cannot tell whether it recreates the Pod (kind not modelled)",
        )
    if ordinal is None:
        return Verdict(
            may_return=True,
            why=(
                f"owner {owner} exists, but this name is not one of its ordinals: cannot tell "
                "whether a Pod of this name returns"
            ),
        )
    if fate is None:
        return Verdict(may_return=True, why=f"owner {owner}: cannot tell which ordinals it keeps")
    fate_is, text = fate
    if fate_is is Fate.RETURNING:
        return Verdict(
            returning=True,
            may_return=True,
            why=f"{owner} will recreate its Pod, which gets this IP back",
        )
    if fate_is is Fate.STOPPED:
        return Verdict(may_return=True, why=f"{owner} {text}, and then gets this IP back")
    if fate_is is Fate.SCALED_IN:
        return Verdict(may_return=True, scaled_in=True, why=f"{owner} {text}")
    return Verdict(
        may_return=True,
        why=f"owner {owner}: {text}: cannot tell whether it recreates the Pod",
    )


def attached_nodes(inv: Inventory) -> set[str]:
    """The nodes whose readiness decides a claim: where the VpcIP of a claim without a Pod is
    still attached."""
    without_pod = {
        (c.namespace, c.name) for c in inv.claims if (c.namespace, c.name) not in inv.pods
    }
    return {
        v.node
        for v in inv.vips
        if v.phase in ATTACHED_PHASES
        and v.node
        and v.claim is not None
        and (v.claim.namespace, v.claim.name) in without_pod
    }


def ip_in_use(vip: records.VipRec | None, inv: Inventory, now: datetime) -> str | None:
    """Why the IP of a claim whose Pod object is gone may still be in use: its VpcIP is still
    attached to a node that is not Ready, Ready for less than the eviction timeout, or that
    could not be read. A Pod force-deleted on an unreachable node keeps running there."""
    if vip is None or vip.phase not in ATTACHED_PHASES or not vip.node:
        return None
    where = f"its VpcIP is still {vip.phase} on node {vip.node}"
    if vip.node not in inv.nodes:
        return f"{where}, which was not read: its Pod may still run there"
    node = inv.nodes[vip.node]
    if node is None:
        return None  # the node object is gone: so is its machine
    if isinstance(node, str):
        return f"{where}, which cannot be read ({node}): its Pod may still run there"
    since = f" for {format_human(now - node.since)}" if node.since is not None else ""
    if node.ready is not True:
        return f"{where}, which is {node.condition}{since}: its Pod may still run there"
    if node.since is not None and now - node.since < EVICTION_TIMEOUT:
        return f"{where}, Ready again only{since}: its kubelet may not have stopped the Pod yet"
    return None


def scale_back(owner: Owner, ordinal: int, inv: Inventory, namespace: str) -> str | None:
    """What may scale a scaled-in ordinal back without anyone deciding to: its controller is
    at 0 replicas (paused, not gone), an autoscaler may scale it over the ordinal, or the
    autoscalers cannot be read. None: nothing known would."""
    if owner.replicas == 0:
        return f"{owner} is at 0 replicas: paused, not gone"
    if inv.scalers is None:
        return f"whether an autoscaler scales {owner} is unknown ({inv.scalers_unknown})"
    wl = inv.workloads.get((owner.key, namespace, owner.name))
    for sc in inv.scalers.get((owner.key, namespace, owner.name), []):
        if sc.max_replicas is None:
            return f"{sc.kind}/{sc.name} scales {owner} (its maximum cannot be read)"
        if wl is None:
            return f"{sc.kind}/{sc.name} scales {owner}"
        at_max = dataclasses.replace(wl, replicas=max(sc.max_replicas, wl.replicas or 0))
        if ordinal_fate(owner.key, at_max, ordinal)[0] is not Fate.SCALED_IN:
            return f"{sc.kind}/{sc.name} may scale {owner} up to {sc.max_replicas} replicas"
    return None


def classify_ips(
    inv: Inventory, rows: list[ClaimRow], *, scoped_namespace: str | None
) -> list[IpRow]:
    """The VpcIP view. With a namespace scope, only VpcIPs whose claim ref is in it."""
    # the rows by namespace, then name (a row per claim: classify made them from these claims),
    # and who holds an address; no (namespace, name) tuple per claim (4 MiB at 30,000)
    by_ns: dict[str, dict[str, ClaimRow]] = {}
    holder: dict[str, ClaimRow] = {}
    for r in rows:
        by_ns.setdefault(r.namespace, {})[r.name] = r
        if r.ip is not None:
            holder[r.ip] = r
    # sorted before the rows are made: the sort's keys are gone before the rows take their room
    vips = sorted(inv.vips, key=lambda v: _ip_sort_key(v.name))
    out = []
    for vip in vips:
        ref = vip.claim
        if ref is None and vip.name in holder:
            # the reference cannot be read, but a claim holds this address: it is that claim's
            r = holder[vip.name]
            ref = schema.ClaimRef(r.namespace, r.name, r.uid)
        if scoped_namespace is not None and (ref is None or ref.namespace != scoped_namespace):
            continue
        key = (ref.namespace, ref.name) if ref else None
        row = by_ns.get(ref.namespace, _NO_ROWS).get(ref.name) if ref else None
        if row is not None and ref is not None and ref.uid and row.uid not in (None, ref.uid):
            row = None  # the ref names an older claim of the same name
        if row is not None and row.ip not in (None, vip.name):
            row = None  # that claim holds another IP now
        if vip.phase == "Attaching":
            state = str(IpState.ATTACHING)
        elif row is not None:
            state = str(row.state)
        elif vip.vtype not in (None, "Pod"):
            state = str(IpState.OTHER)
        elif ref is None:
            state = str(IpState.UNKNOWN)  # Leaked is said only of a claim known to be gone
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
                created=vip.created,
            )
        )
    return out


_NO_ROWS: dict[str, ClaimRow] = {}


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
        1
        for r in rows
        if (r.orphaned or r.overdue) and r.pod_phase is None and not r.unbound and not r.ip_in_use
    )
