"""The compact records classification reads: lists of tens of thousands of objects are reduced,
page by page, to these slotted records, each fact read once along the paths `schema` knows,
repeated strings interned. They are not frozen: a frozen dataclass sets each field through
object.__setattr__, which makes building one 2.5x slower; nothing writes to a record after it
is built. Classification works on records only, which keeps `list -A` at 30,000 claims within a
small memory budget.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .fields import BY_KEY
from .schema import (
    DELETE_POLICY,
    EXPIRY,
    NODE_LABEL,
    ClaimRef,
    OwnerRef,
    annotation,
    claim_ip,
    claim_released_at,
    deleting,
    dig,
    name,
    namespace,
    node_ready,
    owner_refs,
    parse_time,
    pod_node,
    pod_phase,
    replicas_set_at,
    scale_max,
    scale_target,
    status_written,
    text,
    uid,
    vip_claim_ref,
    vip_message,
    vip_node,
    vip_phase,
    vip_subnet,
    vip_type,
)

Obj = dict[str, Any]

_intern = sys.intern


def _first_way(key: str, section: str) -> str:
    """The key within `section` of a fact's first way in the field table: the fast paths below
    read it directly; any other shape goes through the accessors, which try every way."""
    path = BY_KEY[key].alts[0][0]
    if path[:-1] != (section,):
        raise AssertionError(f"{key}: the fast path reads {section}.*, the table {path}")
    return path[-1]


_IP = _first_way("claim.ip", "status")
_RELEASE_TIME = _first_way("claim.releaseTime", "status")
_DETACH_TIME = BY_KEY["claim.releaseTime"].alts[1][0][-1]
_CLAIM_REF = BY_KEY["vip.claimRef"].alts[0][0][1]  # spec.claimRef
_PHASE = _first_way("vip.phase", "status")
_MESSAGE = _first_way("vip.message", "status")
_STATUS_NODE = BY_KEY["vip.node"].alts[1][0][-1]
_SUBNET_ID = _first_way("vip.subnetID", "spec")
_SUBNET_CIDR = _first_way("vip.subnetCIDR", "status")
_TYPE = _first_way("vip.type", "spec")


def _istr(value: Any) -> str | None:
    v = text(value)
    return _intern(v) if v is not None else None


@dataclass(slots=True)
class ClaimRec:
    namespace: str
    name: str
    uid: str | None
    resource_version: str | None
    created: datetime | None  # parsed once here; the claim's row shares it
    ip: str | None
    policy: str | None
    expiry: str | None
    released: datetime | None
    released_estimated: bool
    owners: tuple[OwnerRef, ...]


@dataclass(slots=True)
class VipRec:
    name: str
    created: datetime | None
    claim: ClaimRef | None
    phase: str | None
    message: str | None
    node: str | None
    subnet_id: str | None
    subnet_cidr: str | None
    vtype: str | None
    expiry: str | None


@dataclass(slots=True)
class PodRec:
    namespace: str
    name: str
    uid: str | None
    phase: str | None
    deleting: bool
    node: str | None
    policy: str | None
    controller: OwnerRef | None


@dataclass(slots=True)
class WorkloadRec:
    """An owner workload, with what decides which Pod names its controller brings back.

    `None` in a field means the value is there but not understood: a decision that needs it is
    "cannot tell", never a guess."""

    namespace: str
    name: str
    uid: str | None
    replicas: int | None  # None: not a number; an absent field is the API default 1
    deleting: bool
    ordinals_start: int | None = 0  # StatefulSet spec.ordinals.start
    reserved: frozenset[int] | None = frozenset()  # Kruise spec.reserveOrdinals
    killed: frozenset[int] | None = frozenset()  # TApp spec.statuses[id] == "Killed"
    scaled_at: datetime | None = None  # when spec.replicas was last set (None: cannot tell)


@dataclass(slots=True)
class NodeRec:
    """A node as far as whether a container there may still run: its Ready condition."""

    name: str
    ready: bool | None  # None: Ready=Unknown, or no Ready condition
    condition: str  # "Ready=Unknown (NodeStatusUnknown)"
    since: datetime | None


@dataclass(slots=True)
class ScalerRec:
    """An autoscaler (HorizontalPodAutoscaler, or any object with `spec.scaleTargetRef`) and
    the workload it may scale up to `max_replicas` (None: unreadable)."""

    namespace: str
    kind: str
    name: str
    target: tuple[str, str, str]  # (API group, kind, name) of spec.scaleTargetRef
    max_replicas: int | None


# The fast readers below inline `text` and `_istr` for the common case, a plain string: at
# 30,000 claims they are a quarter of a million calls, and a call costs more than the check.
# Anything else (None, a number, a list) goes through the accessors' rules, so the records are
# the same either way (tests/test_records.py checks it for any shape).


_NO_ANNOTATIONS: dict[str, Any] = {}


def claim_record(obj: Obj) -> ClaimRec:
    meta = obj.get("metadata")
    status = obj.get("status")
    if meta.__class__ is dict and status.__class__ is dict:
        ip = status.get(_IP)
        rt = status.get(_RELEASE_TIME, "")
        ann = meta.get("annotations", _NO_ANNOTATIONS)
        if (
            ip.__class__ is str
            and rt.__class__ is str
            and not meta.get("ownerReferences")
            and ann.__class__ is dict
        ):
            # the common shape, read directly (a third of the time of the general path)
            released = parse_time(rt) if rt else None
            estimated = False
            if released is None:
                detach = status.get(_DETACH_TIME)
                if detach:
                    released = parse_time(detach)
                else:
                    released, estimated = status_written(obj), True
            ns = meta.get("namespace")
            nm = meta.get("name")
            u = meta.get("uid")
            rv = meta.get("resourceVersion")
            if ann:
                policy = ann.get(DELETE_POLICY)
                expiry = ann.get(EXPIRY)
                policy = _intern(policy) if policy.__class__ is str and policy else _istr(policy)
                expiry = _intern(expiry) if expiry.__class__ is str and expiry else _istr(expiry)
            else:
                policy = expiry = None
            return ClaimRec(
                (_intern(ns) if ns.__class__ is str and ns else _istr(ns)) or "",
                (nm if nm.__class__ is str else text(nm)) or "",
                (u or None) if u.__class__ is str else text(u),
                (rv or None) if rv.__class__ is str else text(rv),
                parse_time(meta.get("creationTimestamp")),
                ip or None,
                policy,
                expiry,
                released,
                estimated and released is not None,
                (),
            )
    return claim_record_by_paths(obj)


def claim_record_by_paths(obj: Obj) -> ClaimRec:
    """`claim_record` through the accessors: any shape."""
    released, estimated = claim_released_at(obj)
    return ClaimRec(
        namespace=_istr(namespace(obj)) or "",
        name=name(obj),
        uid=uid(obj),
        resource_version=text(dig(obj, "metadata", "resourceVersion")),
        created=parse_time(dig(obj, "metadata", "creationTimestamp")),
        ip=claim_ip(obj),
        policy=_istr(annotation(obj, DELETE_POLICY)),
        expiry=_istr(annotation(obj, EXPIRY)),
        released=released,
        released_estimated=estimated and released is not None,
        owners=tuple(owner_refs(obj)),
    )


def vip_record(obj: Obj) -> VipRec:
    meta, spec, status = obj.get("metadata"), obj.get("spec"), obj.get("status")
    if not (meta.__class__ is dict and spec.__class__ is dict and status.__class__ is dict):
        return vip_record_by_paths(obj)
    # the common shape, each section looked up once (the accessors above each dig from the
    # top: this is half the time at 10,000 VpcIPs); the same values, as the test checks
    ref = spec.get(_CLAIM_REF)
    claim: ClaimRef | None = None
    if ref.__class__ is dict:
        rns, rname, ruid = ref.get("namespace"), ref.get("name"), ref.get("uid")
        if rns.__class__ is str and rns and rname.__class__ is str and rname:
            claim = ClaimRef(
                _intern(rns), rname, (ruid or None) if ruid.__class__ is str else text(ruid)
            )
    if claim is None:
        claim = vip_claim_ref(obj)
    labels = meta.get("labels")
    node = labels.get(NODE_LABEL) if labels.__class__ is dict else None
    node = (node or None) if node.__class__ is str else text(node)
    if node is None:
        node = status.get(_STATUS_NODE)
    ann = meta.get("annotations")
    expiry = ann.get(EXPIRY) if ann.__class__ is dict else None
    nm = meta.get("name")
    created = meta.get("creationTimestamp")
    phase = status.get(_PHASE)
    message = status.get(_MESSAGE)
    sid = spec.get(_SUBNET_ID)
    cidr = status.get(_SUBNET_CIDR)
    vtype = spec.get(_TYPE)
    return VipRec(
        (nm if nm.__class__ is str else text(nm)) or "",
        parse_time(created),
        claim,
        _intern(phase) if phase.__class__ is str and phase else _istr(phase),
        (message or None) if message.__class__ is str else text(message),
        _intern(node) if node.__class__ is str and node else _istr(node),
        _intern(sid) if sid.__class__ is str and sid else _istr(sid),
        _intern(cidr) if cidr.__class__ is str and cidr else _istr(cidr),
        _intern(vtype) if vtype.__class__ is str and vtype else _istr(vtype),
        _intern(expiry) if expiry.__class__ is str and expiry else _istr(expiry),
    )


def vip_record_by_paths(obj: Obj) -> VipRec:
    """`vip_record` through the accessors: any shape."""
    sid, cidr = vip_subnet(obj)
    return VipRec(
        name=name(obj),
        created=parse_time(dig(obj, "metadata", "creationTimestamp")),
        claim=vip_claim_ref(obj),
        phase=_istr(vip_phase(obj)),
        message=vip_message(obj),
        node=_istr(vip_node(obj)),
        subnet_id=_istr(sid),
        subnet_cidr=_istr(cidr),
        vtype=_istr(vip_type(obj)),
        expiry=_istr(annotation(obj, EXPIRY)),
    )


def pod_record(obj: Obj) -> PodRec:
    meta, spec, status = obj.get("metadata"), obj.get("spec"), obj.get("status")
    if not (meta.__class__ is dict and spec.__class__ is dict and status.__class__ is dict):
        return pod_record_by_paths(obj)
    ann = meta.get("annotations")
    controller = None
    if meta.get("ownerReferences"):
        controller = next((r for r in owner_refs(obj) if r.controller), None)
    ns = meta.get("namespace")
    nm = meta.get("name")
    u = meta.get("uid")
    phase = status.get("phase")
    node = spec.get("nodeName")
    policy = ann.get(DELETE_POLICY) if ann.__class__ is dict else None
    return PodRec(
        (_intern(ns) if ns.__class__ is str and ns else _istr(ns)) or "",
        (nm if nm.__class__ is str else text(nm)) or "",
        (u or None) if u.__class__ is str else text(u),
        _intern(phase) if phase.__class__ is str and phase else _istr(phase),
        meta.get("deletionTimestamp") is not None,
        _intern(node) if node.__class__ is str and node else _istr(node),
        _intern(policy) if policy.__class__ is str and policy else _istr(policy),
        controller,
    )


def pod_record_by_paths(obj: Obj) -> PodRec:
    """`pod_record` through the accessors: any shape."""
    controller = next((r for r in owner_refs(obj) if r.controller), None)
    return PodRec(
        namespace=_istr(namespace(obj)) or "",
        name=name(obj),
        uid=uid(obj),
        phase=_istr(pod_phase(obj)),
        deleting=deleting(obj),
        node=_istr(pod_node(obj)),
        policy=_istr(annotation(obj, DELETE_POLICY)),
        controller=controller,
    )


def _count(value: Any, default: int) -> int | None:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _reserved_ordinals(value: Any) -> frozenset[int] | None:
    """Kruise `reserveOrdinals`: integers, or (newer releases) strings "N" or "A-B"."""
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        return None
    out: set[int] = set()
    for item in value:
        if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
            out.add(item)
            continue
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", item) if isinstance(item, str) else None
        if m is None:
            return None
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo or hi - lo > 100_000:
            return None
        out.update(range(lo, hi + 1))
    return frozenset(out)


def _killed_instances(value: Any) -> frozenset[int] | None:
    """TApp `spec.statuses`: instance id → desired status; "Killed" stops that instance."""
    if value is None:
        return frozenset()
    if not isinstance(value, dict):
        return None
    out: set[int] = set()
    for key, status in value.items():
        if status == "Killed":
            if not (isinstance(key, str) and key.isdigit()):
                return None
            out.add(int(key))
    return frozenset(out)


def workload_record(obj: Obj) -> WorkloadRec:
    spec = obj.get("spec")
    spec = spec if isinstance(spec, dict) else {}
    ordinals = spec.get("ordinals")
    start = _count(ordinals.get("start") if isinstance(ordinals, dict) else None, 0)
    if ordinals is not None and not isinstance(ordinals, dict):
        start = None
    return WorkloadRec(
        _istr(namespace(obj)) or "",
        name(obj),
        uid(obj),
        _count(spec.get("replicas"), 1),
        deleting(obj),
        start,
        _reserved_ordinals(spec.get("reserveOrdinals")),
        _killed_instances(spec.get("statuses")),
        replicas_set_at(obj),
    )


def node_record(obj: Obj) -> NodeRec:
    ready, condition, since = node_ready(obj)
    return NodeRec(name(obj), ready, condition, since)


def scaler_record(obj: Obj, kind: str, max_field: str, default: int | None) -> ScalerRec | None:
    """None when its target cannot be read (it names no workload we could match)."""
    target = scale_target(obj)
    if target is None:
        return None
    return ScalerRec(
        _istr(namespace(obj)) or "", kind, name(obj), target, scale_max(obj, max_field, default)
    )
