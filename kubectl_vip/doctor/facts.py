"""The Pods and Events (and NodeENIConfigs) the doctor reads, as compact records (pure).

A large cluster has tens of thousands of Pods and as many Events. The doctor reads each list
page by page and reduces every object at once to one of these slotted records, holding only the
facts its checks use, read along the same paths as `schema`'s accessors, repeated strings
interned. The classification part of a Pod is `kubectl_vip.model.records.PodRec` itself, so the
inventory the checks share with `list` takes it as it is: one representation of each Pod, never
two. Like those records they are not frozen (a frozen dataclass is slower to build); nothing writes
to one after it is built. A NodeENIConfig (one per node) stays an object, trimmed to what
`schema.nec_*` read, so the checks and `usage` read it as they read a whole one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..model import fields, ipamd, schema
from ..model.records import PodRec, pod_record
from ..model.schema import ContainerState, OwnerRef

Obj = dict[str, Any]
SYSTEM_NS = ipamd.DEPLOYMENT_NAMESPACE

_intern = sys.intern
_NO_CONTAINERS: tuple[ContainerState, ...] = ()


def _istr(value: str | None) -> str | None:
    return _intern(value) if value is not None else None


@dataclass(slots=True)
class PodFacts:
    """A Pod as the doctor's checks read it.

    `labels` and `containers` are kept for kube-system Pods only (the ipamd Pods are found
    there by label, and only their containers are examined); elsewhere they are None and ()."""

    rec: PodRec  # what classification reads; the inventory holds this same object
    zones: tuple[str, ...]  # zones the Pod is pinned to (`schema.pod_zones`); (): any
    labels: Mapping[str, str] | None
    containers: tuple[ContainerState, ...]

    @property
    def namespace(self) -> str:
        return self.rec.namespace

    @property
    def name(self) -> str:
        return self.rec.name

    @property
    def phase(self) -> str | None:
        return self.rec.phase

    @property
    def node(self) -> str | None:
        return self.rec.node

    @property
    def deleting(self) -> bool:
        return self.rec.deleting

    @property
    def controller(self) -> OwnerRef | None:
        return self.rec.controller


class PodReader:
    """Reduces the Pods of one list to `PodFacts`, sharing what repeats from Pod to Pod: the
    Pods of a workload are pinned to the same zones (and `schema` shares their controller)."""

    def __init__(self) -> None:
        self._zones: dict[tuple[str, ...], tuple[str, ...]] = {}

    def __call__(self, obj: Obj) -> PodFacts:
        rec = pod_record(obj)
        system = rec.namespace == SYSTEM_NS
        return PodFacts(
            rec,
            self._zone_set(schema.pod_zones(obj)),
            schema.labels_of(obj) if system else None,
            tuple(schema.pod_containers(obj)) if system else _NO_CONTAINERS,
        )

    def _zone_set(self, zones: list[str]) -> tuple[str, ...]:
        if not zones:
            return ()
        key = tuple(_intern(z) for z in zones)
        return self._zones.setdefault(key, key)


@dataclass(slots=True)
class EventRec:
    """An Event (core/v1 or events.k8s.io/v1 shape) as the doctor's checks read it."""

    kind: str | None  # of the object it is about (involvedObject, else regarding)
    namespace: str  # "" when cluster-scoped or not said
    name: str | None
    reason: str | None
    message: str | None  # message, else note
    type: str | None
    count: int  # 1 when no count is given
    last: datetime | None  # last seen, else first seen (`schema.event_times`)


def event_record(obj: Obj) -> EventRec:
    # the object it is about: core/v1 `involvedObject`; events.k8s.io/v1 names it `regarding`
    about = obj.get("involvedObject") if "involvedObject" in obj else obj.get("regarding")
    if not isinstance(about, dict):
        about = {}
    return EventRec(
        kind=_istr(schema.text(about.get("kind"))),
        namespace=_istr(schema.text(about.get("namespace"))) or "",
        name=schema.text(about.get("name")),
        reason=_istr(schema.event_reason(obj)),
        message=_istr(schema.event_message(obj)),  # repeated across the Pods of a workload
        type=_istr(schema.event_type(obj)),
        count=schema.event_count(obj),
        last=schema.event_times(obj)[1],
    )


def pods(items: Iterable[PodFacts | Obj]) -> list[PodFacts]:
    """Records from records or objects (hand-built snapshots pass objects)."""
    read = PodReader()
    return [i if isinstance(i, PodFacts) else read(i) for i in items]


def events(items: Iterable[EventRec | Obj]) -> list[EventRec]:
    return [i if isinstance(i, EventRec) else event_record(i) for i in items]


def nec_record(obj: Obj) -> Obj:
    """A NodeENIConfig as the checks read it (`schema.nec_*`): its ENI limits, its ENIs'
    subnets, and whether its status is empty (FAQ 2). A real one also carries managedFields
    and each ENI's addresses."""
    out: Obj = {"metadata": {"name": schema.name(obj)}}
    spec = obj.get("spec")
    if isinstance(spec, dict):
        out["spec"] = {k: spec[k] for k in _NEC_SPEC if k in spec}
    status = obj.get("status")
    if isinstance(status, dict) and status:
        infos = status.get(_NEC_ENIS)
        keep = (fields.ENI_INFO_SUBNET_ID, fields.ENI_INFO_SUBNET_CIDR)
        out["status"] = {
            _NEC_ENIS: [
                {k: i[k] for k in keep if k in i} if isinstance(i, dict) else None for i in infos
            ]
            if isinstance(infos, list)
            else None
        }
    return out


# what nec_record keeps: the NodeENIConfig paths of the field table
_NEC_SPEC = tuple(
    p[1] for f in fields.KIND_FIELDS[fields.NEC] for a in f.alts for p in a if p[0] == "spec"
)
_NEC_ENIS = fields.BY_KEY["nec.eniInfos"].alts[0][0][1]
