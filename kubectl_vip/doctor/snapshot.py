"""Everything the doctor read in one run, and what is derived from it (pure).

`ops/doctor_reads.py` fills a `Snapshot` (one list per kind); checks only read it. Each list is
None when it was not read (not needed, forbidden, failed, not served); `reads` says which and why.
Derived views (claim states, VpcIP states, subnet usage, Events by object) are computed once,
on first use, with the same functions `list`, `usage` and `describe` use, so the doctor never
disagrees with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from ..model import ipamd, schema, settings
from ..model.claims import (
    ClaimRow,
    Inventory,
    IpamdPolicy,
    IpRow,
    attached_nodes,
    classify,
    classify_ips,
)
from ..model.duration import format_human
from ..model.fields import FitCount
from ..model.ipamd_info import IpamdInfo, ipamd_info
from ..model.records import ScalerRec, VipRec
from ..model.schema import TKE_GROUP
from ..model.usage import SubnetUsage, compute_usage
from ..model.words import plural as plural  # the checks import it from here
from ..term.escaping import escape
from . import facts
from . import reads as keys
from .facts import EventRec, PodFacts

Obj = dict[str, Any]
SCHEDULER = "tke-eni-ip-scheduler"
AGENT = "tke-eni-agent"
SYSTEM_NS = ipamd.DEPLOYMENT_NAMESPACE

# Event reasons, compared case-insensitively (`InsufficientIPorENI` is also `...IPOrENI`)
ENI_LIMIT_REASONS = ("enilimit", "enilimitexceed")
INSUFFICIENT_IP_REASONS = ("insufficientiporeni",)
INSUFFICIENT_RESOURCES = (schema.ENI_IP, schema.DIRECT_ENI)


@dataclass(frozen=True)
class ReadState:
    key: str
    what: str  # "list events (all namespaces)"
    state: str  # ok | forbidden | failed | not-served | not-needed
    reason: str | None = None
    items: int | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def describe(self) -> str:
        if self.state == "not-served":
            return f"{self.what}: not served by this cluster"
        if self.state == "not-needed":
            return f"{self.what}: not read"
        return f"{self.what}: {self.state}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class Snapshot:
    now: datetime
    tke_group: str = TKE_GROUP
    tke_version: str | None = "v1"
    served: dict[str, str] = field(default_factory=dict)  # TKE plural -> Kind
    # claims and VpcIPs as `schema` records (read that way to keep large clusters small) or
    # as objects (hand-built snapshots in tests); Inventory.build takes either
    claims: list[Any] | None = None
    vips: list[Any] | None = None
    necs: list[Obj] | None = None  # NodeENIConfigs as `facts.nec_record` keeps them
    enis: list[Obj] | None = None  # VpcENI objects (name, creationTimestamp)
    # Pods and Events as `facts` records (objects in hand-built snapshots become records)
    pods: list[PodFacts] | None = None
    nodes: list[Obj] | None = None
    events: list[EventRec] | None = None
    statefulsets: list[Obj] | None = None
    deployments: list[Obj] | None = None
    daemonsets: list[Obj] | None = None
    ipamd_configmap: Obj | None = None  # None: absent or not read (see reads)
    helm_secrets: list[str] | None = None  # names only; None: not listed
    # what the newest deployed eniipamd release renders for ipamd (only its flags are kept)
    addon_release: settings.AddonRelease | None = None
    reads: dict[str, ReadState] = field(default_factory=dict)
    # the other owner kinds claims name (and the same-name controllers of served groups: an
    # OpenKruise StatefulSet, a TApp), each listed through its own API as `list` reads them;
    # "Kind.group" -> records, and a kind that could not be read -> why
    owners: dict[str, list[Any]] = field(default_factory=dict)
    owners_unknown: dict[str, str] = field(default_factory=dict)
    # autoscalers (what may scale a controller back up); None: not read, why in scalers_unknown
    scalers: list[ScalerRec] | None = None
    scalers_unknown: str = "not read"
    # the TKE CRDs by plural (None: that CRD does not exist), and how the objects listed
    # answered the field table, by kind (counted when the CRDs are read)
    crds: dict[str, Obj | None] | None = None
    fit: dict[str, FitCount] | None = None

    def __post_init__(self) -> None:
        if self.pods is not None:
            self.pods = facts.pods(self.pods)
        if self.events is not None:
            self.events = facts.events(self.events)

    def release(self) -> None:
        """Let go of the objects read and all derived from them, keeping what the report says
        of the run (its time, the TKE API, the reads). For after the checks: the report is
        written without them, and a fleet run keeps each cluster's report, not its objects."""
        for name in (*_FIELD.values(), "ipamd_configmap", "helm_secrets", "addon_release"):
            setattr(self, name, None)
        self.owners, self.owners_unknown = {}, {}
        self.scalers = None
        for name, attr in vars(Snapshot).items():
            if isinstance(attr, cached_property):
                self.__dict__.pop(name, None)

    # ------------------------------------------------------------------ what was read

    def has(self, key: str) -> bool:
        if key in self.reads:
            return self.reads[key].ok
        if key == keys.CONFIGMAP:
            return self.ipamd_configmap is not None
        if key == keys.SECRETS:
            return self.helm_secrets is not None
        return getattr(self, _FIELD.get(key, key)) is not None

    def read_failed(self, key: str) -> bool:
        r = self.reads.get(key)
        return r is not None and r.state == "failed"

    def read_forbidden(self, key: str) -> bool:
        r = self.reads.get(key)
        return r is not None and r.state == "forbidden"

    def forbidden_reads(self) -> list[str]:
        """What RBAC denied, as `list pods (all namespaces)`."""
        return [r.what for r in self.reads.values() if r.state == "forbidden"]

    def missing(self, key: str) -> str:
        r = self.reads.get(key)
        return r.describe() if r is not None else f"{key}: not read"

    # ------------------------------------------------------------------ ipamd

    def deployment(self, name: str, namespace: str = SYSTEM_NS) -> Obj | None:
        for d in self.deployments or []:
            if schema.name(d) == name and schema.namespace(d) == namespace:
                return d
        return None

    def daemonset(self, name: str, namespace: str = SYSTEM_NS) -> Obj | None:
        for d in self.daemonsets or []:
            if schema.name(d) == name and schema.namespace(d) == namespace:
                return d
        return None

    @cached_property
    def ipamd(self) -> IpamdInfo | None:
        dep = self.deployment(ipamd.DEPLOYMENT_NAME)
        return ipamd_info(dep) if dep is not None else None

    @property
    def policy(self) -> IpamdPolicy:
        return self.ipamd.policy if self.ipamd is not None else IpamdPolicy()

    @cached_property
    def management(self) -> settings.Management:
        version = self.ipamd.version if self.ipamd is not None else None
        image = (self.ipamd.image or "") if self.ipamd is not None else None
        meta = settings.helm_metadata(self.deployment(ipamd.DEPLOYMENT_NAME))
        return settings.management(version, self.helm_secrets, meta, image=image)

    def ipamd_pods(self) -> list[PodFacts]:
        """Pods of the ipamd Deployment: by its selector, else by name prefix."""
        dep = self.deployment(ipamd.DEPLOYMENT_NAME)
        want = schema.selector_labels(dep) if dep is not None else {}
        out = []
        for p in self.pods or []:
            if p.namespace != SYSTEM_NS:
                continue
            labels = p.labels or {}
            if want:
                if all(labels.get(k) == v for k, v in want.items()):
                    out.append(p)
            elif p.name.startswith(ipamd.DEPLOYMENT_NAME + "-"):
                out.append(p)
        return out

    # ------------------------------------------------------------------ claims and IPs

    @cached_property
    def inventory(self) -> Inventory:
        workloads: dict[str, list[Any]] = {}
        for kind, items in (
            ("StatefulSet", self.statefulsets),
            ("Deployment", self.deployments),
            ("DaemonSet", self.daemonsets),
        ):
            if items is not None:
                workloads[kind] = items
        workloads.update(self.owners)
        # the Pods' classification records themselves: the inventory holds no copy
        pods = [p.rec for p in self.pods or []]
        inv = Inventory.build(
            self.claims or [],
            self.vips or [],
            pods,
            workloads,
            self.owners_unknown,
            scalers=self.scalers,
            scalers_unknown=self.scalers_unknown,
            nodes={schema.name(n): n for n in self.nodes or []},
        )
        if self.nodes is not None:  # every node was listed: one that is not there is gone
            for name in attached_nodes(inv):
                inv.nodes.setdefault(name, None)
        return inv

    @cached_property
    def rows(self) -> list[ClaimRow]:
        return classify(self.inventory, self.policy, self.now)

    @cached_property
    def ip_rows(self) -> list[IpRow]:
        return classify_ips(self.inventory, self.rows, scoped_namespace=None)

    @cached_property
    def vip_by_name(self) -> dict[str, VipRec]:
        """VpcIPs by name (their address); the first listed of a name."""
        out: dict[str, VipRec] = {}
        for v in self.inventory.vips:
            out.setdefault(v.name, v)
        return out

    # ------------------------------------------------------------------ nodes, subnets

    @cached_property
    def node_zones(self) -> dict[str, str | None]:
        return {schema.name(n): schema.node_zone(n) for n in self.nodes or []}

    @cached_property
    def nec_by_node(self) -> dict[str, Obj]:
        return {schema.name(n): n for n in self.necs or []}

    @cached_property
    def configured_subnets(self) -> list[str] | None:
        if self.ipamd_configmap is None:
            return None
        return schema.ipamd_subnet_ids(self.ipamd_configmap)

    @cached_property
    def usage(self) -> list[SubnetUsage]:
        return compute_usage(
            self.ip_rows,
            node_zones=self.node_zones,
            nec_subnets={n: schema.nec_subnets(o) for n, o in self.nec_by_node.items()},
            configured=self.configured_subnets,
        )

    def subnets_in_zone(self, zone: str) -> list[SubnetUsage]:
        return [u for u in self.usage if not u.unknown and zone in u.zones]

    def zoneless_subnets(self) -> list[SubnetUsage]:
        """Subnets (configured or seen) whose zone nothing tells."""
        return [u for u in self.usage if not u.unknown and not u.zones]

    # ------------------------------------------------------------------ pods, events

    @cached_property
    def events_by_object(self) -> dict[tuple[str, str, str], list[EventRec]]:
        """(kind, namespace or "", name) -> its Events, most recent last."""
        out: dict[tuple[str, str, str], list[EventRec]] = {}
        for ev in self.events or []:
            out.setdefault((ev.kind or "", ev.namespace, ev.name or ""), []).append(ev)
        for evs in out.values():
            evs.sort(key=lambda e: _sort_time(e.last))
        return out

    def events_of(self, kind: str, name: str, namespace: str = "") -> list[EventRec]:
        return self.events_by_object.get((kind, namespace, name), [])

    def age(self, t: datetime | None) -> str:
        return format_human(self.now - t) + " ago" if t is not None else "at an unknown time"


_FIELD = {
    keys.CLAIMS: "claims",
    keys.VIPS: "vips",
    keys.NECS: "necs",
    keys.ENIS: "enis",
    keys.PODS: "pods",
    keys.NODES: "nodes",
    keys.EVENTS: "events",
    keys.STATEFULSETS: "statefulsets",
    keys.DEPLOYMENTS: "deployments",
    keys.DAEMONSETS: "daemonsets",
    keys.CRDS: "crds",
}


def _sort_time(t: datetime | None) -> float:
    return t.timestamp() if t is not None else 0.0


# ---------------------------------------------------------------------------- helpers for checks


def reason_is(ev: EventRec, reasons: Iterable[str]) -> bool:
    r = (ev.reason or "").lower()
    return r in reasons


def mentions(ev: EventRec, reasons: Iterable[str]) -> bool:
    """The Event's reason is one of `reasons`, or its message names one (a kubelet Event that
    quotes ipamd's ENILimit)."""
    if reason_is(ev, reasons):
        return True
    msg = (ev.message or "").lower()
    return any(r in msg for r in reasons)


def says_insufficient(ev: EventRec) -> bool:
    """A scheduling Event about the eni-ip resource, or ipamd's InsufficientIPorENI."""
    if reason_is(ev, INSUFFICIENT_IP_REASONS):
        return True
    msg = (ev.message or "").lower()
    return any(f"insufficient {r}" in msg for r in INSUFFICIENT_RESOURCES)


def event_line(ev: EventRec, snap: Snapshot) -> str:
    times = f" x{ev.count}" if ev.count > 1 else ""
    return (
        f"Event {ev.reason or '<no reason>'}{times} on {ev.kind or '?'}/{ev.name or '?'}"
        f" ({snap.age(ev.last)}): {ev.message or '<no message>'}"
    )


def names(items: Iterable[str], limit: int = 8) -> str:
    """`a, b, c and 4 more`."""
    xs = list(items)
    if len(xs) <= limit:
        return ", ".join(xs)
    return ", ".join(xs[:limit]) + f" and {len(xs) - limit} more"


def console_path(snap: Snapshot) -> str:
    """Where the eniipamd add-on's flags are changed in the TKE console."""
    flags = snap.ipamd.flags if snap.ipamd is not None else None
    cid = settings.cluster_id(flags)
    return (
        f"TKE console ({settings.CONSOLE_URL}) → Cluster → {cid or '(your cluster)'} → "
        f"Add-On Management → {settings.ADDON} → Update configuration"
    )


def change_fix(snap: Snapshot, target: settings.Target, command: str) -> str:
    """How to change ipamd's flags: the console when the add-on owns them, else our command."""
    if snap.management.console:
        flags = snap.ipamd.flags if snap.ipamd is not None else None
        cid = settings.cluster_id(flags)
        # a fix is lines joined by newlines: a value from the API must not add one
        return "\n".join(settings.console_steps(target, escape(cid) if cid else cid))
    return command
