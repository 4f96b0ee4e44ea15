"""Where each fact lives in TKE's objects: every field access to VpcIPClaim, VpcIP, NodeENIConfig
(and the TKE bits of Pods) goes through here, along the paths of the field table
(`fields.FIELDS`).

Public material shows these objects only as screenshots, so each fact is looked up along every
known path in order and comes back as None ("unknown") instead of failing when absent or of an
unexpected type. The `trim_*` functions keep only what these accessors read, so a list of
30,000 objects does not keep whole objects in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from .fields import (
    BY_KEY,
    CLAIM,
    DELETE_POLICY,
    ENI_INFO_SUBNET_CIDR,
    ENI_INFO_SUBNET_ID,
    EXPIRY,
    KIND_FIELDS,
    NODE_LABEL,
    POD_NAME_LABEL,
    POD_NS_LABEL,
    PREFIX,
    TKE_GROUP,
    VIP,
)

Obj = dict[str, Any]
# re-exported: the rest of the tool names these by schema (the CRDs' API group is what
# api/cluster.py discovers)
__all__ = [
    "DELETE_POLICY",
    "EXPIRY",
    "NODE_LABEL",
    "POD_NAME_LABEL",
    "POD_NS_LABEL",
    "PREFIX",
    "TKE_GROUP",
]

NETWORKS = PREFIX + "networks"
ENI_IP = PREFIX + "eni-ip"
DIRECT_ENI = PREFIX + "direct-eni"
ENI_UNAVAILABLE_TAINT = PREFIX + "eni-ip-unavailable"
ZONE_LABEL = "topology.kubernetes.io/zone"
ZONE_LABEL_BETA = "failure-domain.beta.kubernetes.io/zone"

_TKE_ANNOTATIONS = (DELETE_POLICY, EXPIRY, NETWORKS)
_TKE_LABELS = (NODE_LABEL, POD_NS_LABEL, POD_NAME_LABEL)
# managedFields are reduced to this one key: the newest time any manager wrote `status`
STATUS_WRITTEN = "kubectl-vip/statusWrittenAt"
REPLICAS_SET = "kubectl-vip/replicasSetAt"  # kept by trim_workload: managedFields are dropped
NOT_READY_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def text(value: Any) -> str | None:
    """A non-empty string, or None; numbers are shown as strings."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def first(obj: Obj, *paths: tuple[str, ...]) -> str | None:
    for p in paths:
        v = text(dig(obj, *p))
        if v is not None:
            return v
    return None


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_dns_subdomain(value: str) -> bool:
    """A valid object name (RFC 1123 subdomain, as the API server requires)."""
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


# Times parsed lately, by their text: a list's objects made in one burst (a rollout, a claim and
# its first status write, a VpcIP and its claim) share their second, so one datetime serves
# them all, made once (a datetime is immutable). Bounded: emptied when full.
_TIMES: dict[str, datetime | None] = {}
_TIMES_MAX = 4096
_MISS = object()


def parse_time(value: Any) -> datetime | None:
    if value.__class__ is not str:
        return _parse_time(value) if isinstance(value, str) else None
    known = _TIMES.get(value, _MISS)
    if known is not _MISS:
        return cast("datetime | None", known)
    t = _parse_time(value)
    if len(_TIMES) >= _TIMES_MAX:
        _TIMES.clear()
    _TIMES[value] = t
    return t


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def name(obj: Obj) -> str:
    return text(dig(obj, "metadata", "name")) or ""


def namespace(obj: Obj) -> str:
    return text(dig(obj, "metadata", "namespace")) or ""


def uid(obj: Obj) -> str | None:
    return text(dig(obj, "metadata", "uid"))


def created(obj: Obj) -> datetime | None:
    return parse_time(dig(obj, "metadata", "creationTimestamp"))


def deleting(obj: Obj) -> bool:
    return dig(obj, "metadata", "deletionTimestamp") is not None


def annotation(obj: Obj | None, key: str) -> str | None:
    return text(dig(obj, "metadata", "annotations", key)) if obj else None


def label(obj: Obj | None, key: str) -> str | None:
    return text(dig(obj, "metadata", "labels", key)) if obj else None


# ---------------------------------------------------------------------------- claims


def _ways(key: str) -> list[tuple[str, ...]]:
    """The paths of a one-path fact of the field table, in order."""
    return [alt[0] for alt in BY_KEY[key].alts]


_CLAIM_IP = _ways("claim.ip")
_RELEASED = _ways("claim.releaseTime")
_VIP_REF, _VIP_REF_LABELS = BY_KEY["vip.claimRef"].alts
_VIP_PHASE = _ways("vip.phase")[0]
_VIP_MESSAGE = _ways("vip.message")[0]
_VIP_TYPE = _ways("vip.type")[0]
_VIP_NODE = _ways("vip.node")
_VIP_SUBNET_ID = _ways("vip.subnetID")[0]
_VIP_SUBNET_CIDR = _ways("vip.subnetCIDR")[0]
_NEC_ENIS = _ways("nec.eniInfos")[0]
_NEC_MAX_ENI = _ways("nec.maxRouteENI")[0]
_NEC_MAX_IP = _ways("nec.maxIPPerENI")[0]


def claim_ip(claim: Obj) -> str | None:
    return first(claim, *_CLAIM_IP)


def claim_released_at(claim: Obj) -> tuple[datetime | None, bool]:
    """When the claim's Pod went away: (time, estimated?).

    Falls back to the newest managedFields entry that wrote `status` (marked estimated).
    """
    for path in _RELEASED:
        t = parse_time(dig(claim, *path))
        if t is not None:
            return t, False
    return status_written(claim), True


def status_written(obj: Obj) -> datetime | None:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return None
    if STATUS_WRITTEN in meta:
        return parse_time(meta[STATUS_WRITTEN])
    newest: datetime | None = None
    entries = meta.get("managedFields")
    for m in entries if isinstance(entries, list) else []:
        if not isinstance(m, dict):
            continue
        fields = m.get("fieldsV1")
        touches = m.get("subresource") == "status" or (
            isinstance(fields, dict) and "f:status" in fields
        )
        t = parse_time(m.get("time"))
        if touches and t is not None and (newest is None or t > newest):
            newest = t
    return newest


def replicas_set_at(obj: Obj) -> datetime | None:
    """When a workload's `spec.replicas` was last set, as far as its managedFields tell: the
    newest time of an entry that owns it (an entry that owns `spec` without naming its fields
    counts too, so the answer is never older than the truth); its creation when no entry owns
    it (the replicas were set, or defaulted, then). None: no managedFields to tell by."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if not isinstance(meta, dict):
        return None
    if REPLICAS_SET in meta:
        return parse_time(meta[REPLICAS_SET])
    entries = meta.get("managedFields")
    if not isinstance(entries, list) or not entries:
        return None
    newest: datetime | None = None
    for m in entries:
        if not isinstance(m, dict) or m.get("subresource") == "status":
            continue
        fields = m.get("fieldsV1")
        spec = fields.get("f:spec") if isinstance(fields, dict) else None
        if not isinstance(spec, dict) or (spec and "f:replicas" not in spec):
            continue
        t = parse_time(m.get("time"))
        if t is None:
            return None  # it owns the replicas and says not when: cannot tell
        newest = t if newest is None or t > newest else newest
    return newest if newest is not None else created(obj)


def delete_policy(claim: Obj | None, pod: Obj | None) -> str | None:
    return annotation(claim, DELETE_POLICY) or annotation(pod, DELETE_POLICY)


def expiry_override(claim: Obj | None, vip: Obj | None) -> str | None:
    return annotation(claim, EXPIRY) or annotation(vip, EXPIRY)


@dataclass(slots=True)
class OwnerRef:
    kind: str
    name: str
    uid: str | None
    api_version: str
    controller: bool

    @property
    def group(self) -> str:
        """The API group of `apiVersion` ("" for the core group)."""
        return self.api_version.rpartition("/")[0]


_REFS: dict[tuple[str, str, str | None, str, bool], OwnerRef] = {}


def owner_refs(obj: Obj) -> list[OwnerRef]:
    refs = dig(obj, "metadata", "ownerReferences")
    out = []
    for r in refs if isinstance(refs, list) else []:
        if isinstance(r, dict) and text(r.get("kind")) and text(r.get("name")):
            fields = (
                str(r["kind"]),
                str(r["name"]),
                text(r.get("uid")),
                text(r.get("apiVersion")) or "",
                r.get("controller") is True,
            )
            # one record per owner, shared by all its Pods (a StatefulSet's replicas)
            ref = _REFS.get(fields)
            if ref is None:
                ref = _REFS[fields] = OwnerRef(*fields)
            out.append(ref)
    return out


# ---------------------------------------------------------------------------- VpcIPs


@dataclass(slots=True)
class ClaimRef:
    namespace: str
    name: str
    uid: str | None


def vip_claim_ref(vip: Obj) -> ClaimRef | None:
    ref = dig(vip, *_VIP_REF[0][:-1])  # spec.claimRef: namespace, name (and uid)
    if isinstance(ref, dict) and text(ref.get("name")) and text(ref.get("namespace")):
        return ClaimRef(str(ref["namespace"]), str(ref["name"]), text(ref.get("uid")))
    ns, nm = (text(dig(vip, *p)) for p in _VIP_REF_LABELS)
    if ns and nm:
        return ClaimRef(ns, nm, None)
    return None


def vip_ip(vip: Obj) -> str:
    """A VpcIP is named by its address."""
    return name(vip)


def vip_phase(vip: Obj) -> str | None:
    return text(dig(vip, *_VIP_PHASE))


def vip_message(vip: Obj) -> str | None:
    return text(dig(vip, *_VIP_MESSAGE))


def vip_type(vip: Obj) -> str | None:
    return text(dig(vip, *_VIP_TYPE))


def vip_node(vip: Obj) -> str | None:
    return first(vip, *_VIP_NODE)


def vip_subnet(vip: Obj) -> tuple[str | None, str | None]:
    """(subnet id, subnet CIDR)."""
    return text(dig(vip, *_VIP_SUBNET_ID)), text(dig(vip, *_VIP_SUBNET_CIDR))


# ---------------------------------------------------------------------------- NodeENIConfig


def nec_subnets(nec: Obj) -> list[tuple[str | None, str]]:
    """(subnet id, CIDR) of the node's ENIs."""
    infos = dig(nec, *_NEC_ENIS)
    out = []
    for info in infos if isinstance(infos, list) else []:
        cidr = text(dig(info, ENI_INFO_SUBNET_CIDR))
        if cidr:
            out.append((text(dig(info, ENI_INFO_SUBNET_ID)), cidr))
    return out


def nec_limits(nec: Obj) -> tuple[int | None, int | None]:
    def num(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    return num(dig(nec, *_NEC_MAX_ENI)), num(dig(nec, *_NEC_MAX_IP))


def nec_healthy(nec: Obj) -> bool:
    st = nec.get("status") if isinstance(nec, dict) else None
    return isinstance(st, dict) and bool(st)


# ---------------------------------------------------------------------------- pods, nodes


def pod_phase(pod: Obj) -> str | None:
    return text(dig(pod, "status", "phase"))


def pod_node(pod: Obj) -> str | None:
    return text(dig(pod, "spec", "nodeName"))


def is_vpc_cni(pod: Obj) -> bool:
    if annotation(pod, NETWORKS) in ("tke-route-eni", "tke-direct-eni"):
        return True
    containers = dig(pod, "spec", "containers")
    for c in containers if isinstance(containers, list) else []:
        for part in ("requests", "limits"):
            res = dig(c, "resources", part)
            if isinstance(res, dict) and (ENI_IP in res or DIRECT_ENI in res):
                return True
    return False


def node_zone(node: Obj) -> str | None:
    return label(node, ZONE_LABEL) or label(node, ZONE_LABEL_BETA)


# ---------------------------------------------------------------------------- trimming


def _pick(obj: Any, keys: tuple[str, ...]) -> Obj:
    return {k: obj[k] for k in keys if k in obj} if isinstance(obj, dict) else {}


def _meta(
    obj: Obj, *, annotations: tuple[str, ...] = (), labels: tuple[str, ...] | None = ()
) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return {}
    out = _pick(
        meta,
        (
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "deletionTimestamp",
            "ownerReferences",
            "generation",
        ),
    )
    ann = meta.get("annotations")
    if annotations and isinstance(ann, dict):
        kept = {k: ann[k] for k in annotations if k in ann}
        if kept:
            out["annotations"] = kept
    lab = meta.get("labels")
    if isinstance(lab, dict):
        kept = dict(lab) if labels is None else {k: lab[k] for k in labels if k in lab}
        if kept:
            out["labels"] = kept
    return out


def _kept(kind: str, section: str) -> tuple[str, ...]:
    """The keys of `section` (spec or status) the field table reads for `kind`."""
    return tuple(
        dict.fromkeys(
            p[1] for f in KIND_FIELDS[kind] for alt in f.alts for p in alt if p[0] == section
        )
    )


_CLAIM_SPEC, _CLAIM_STATUS = _kept(CLAIM, "spec"), (*_kept(CLAIM, "status"), "phase")
_VIP_SPEC, _VIP_STATUS = _kept(VIP, "spec"), _kept(VIP, "status")


def trim_claim(claim: Obj) -> Obj:
    meta = _meta(claim, annotations=(DELETE_POLICY, EXPIRY), labels=None)
    written = status_written(claim)
    if written is not None:
        meta[STATUS_WRITTEN] = written.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": meta,
        "spec": _pick(claim.get("spec"), _CLAIM_SPEC),
        "status": _pick(claim.get("status"), _CLAIM_STATUS),
    }


def trim_vip(vip: Obj) -> Obj:
    return {
        "metadata": _meta(vip, annotations=(EXPIRY,), labels=_TKE_LABELS),
        "spec": _pick(vip.get("spec"), _VIP_SPEC),
        "status": _pick(vip.get("status"), _VIP_STATUS),
    }


def trim_pod(pod: Obj) -> Obj:
    spec = pod.get("spec")
    containers = dig(pod, "spec", "containers")
    slim_containers = [
        {"resources": c.get("resources")}
        for c in (containers if isinstance(containers, list) else [])
        if isinstance(c, dict) and isinstance(c.get("resources"), dict)
    ]
    out_spec = _pick(spec, ("nodeName",))
    if slim_containers:
        out_spec["containers"] = slim_containers
    return {
        "metadata": _meta(pod, annotations=_TKE_ANNOTATIONS),
        "spec": out_spec,
        "status": _pick(pod.get("status"), ("phase", "podIP", "reason")),
    }


def trim_workload(obj: Obj) -> Obj:
    meta = _meta(obj)
    scaled = replicas_set_at(obj)
    if scaled is not None:
        meta[REPLICAS_SET] = scaled.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": meta,
        "spec": _pick(obj.get("spec"), ("replicas", "ordinals", "reserveOrdinals", "statuses")),
        "status": _pick(obj.get("status"), ("replicas", "readyReplicas")),
    }


# ---------------------------------------------------------------------------- usage, describe

IPAMD_SUBNETS_KEY = "TKE_ENI_IPAMD_SUBNET_ID"


def ipamd_subnet_ids(cm: Obj | None) -> list[str]:
    """Subnet ids configured in the ipamd ConfigMap (`TKE_ENI_IPAMD_SUBNET_ID`, colon-separated;
    commas and blanks are tolerated). Empty when absent."""
    raw = text(dig(cm, "data", IPAMD_SUBNETS_KEY)) if cm else None
    if raw is None:
        return []
    out: list[str] = []
    for part in raw.replace(",", ":").split(":"):
        p = part.strip()
        if p and p not in out:
            out.append(p)
    return out


def pod_ip(pod: Obj) -> str | None:
    return text(dig(pod, "status", "podIP"))


def node_taint_keys(node: Obj) -> list[str]:
    taints = dig(node, "spec", "taints")
    out = []
    for t in taints if isinstance(taints, list) else []:
        key = text(dig(t, "key"))
        if key:
            out.append(key)
    return out


def trim_node(node: Obj) -> Obj:
    return {"metadata": _meta(node, labels=(ZONE_LABEL, ZONE_LABEL_BETA))}


def node_ready(node: Obj) -> tuple[bool | None, str, datetime | None]:
    """The node's Ready condition: (True/False, or None when Unknown or absent; how it reads,
    e.g. "Ready=Unknown (NodeStatusUnknown)"; since when)."""
    conds = dig(node, "status", "conditions")
    for c in conds if isinstance(conds, list) else []:
        if isinstance(c, dict) and c.get("type") == "Ready":
            status = text(c.get("status")) or "?"
            why = text(c.get("reason"))
            since = parse_time(c.get("lastTransitionTime"))
            ready = {"True": True, "False": False}.get(status)
            return ready, f"Ready={status}" + (f" ({why})" if why else ""), since
    return None, "no Ready condition", None


def trim_node_ready(node: Obj) -> Obj:
    """`trim_node` plus the Ready condition and the not-ready taints."""
    out = trim_node(node)
    conds = dig(node, "status", "conditions")
    ready = (
        [c for c in conds if isinstance(c, dict) and c.get("type") == "Ready"]
        if isinstance(conds, list)
        else []
    )
    out["status"] = {"conditions": ready}
    return out


def scale_target(obj: Obj) -> tuple[str, str, str] | None:
    """An autoscaler's `spec.scaleTargetRef`: (API group, kind, name); None when unreadable."""
    ref = dig(obj, "spec", "scaleTargetRef")
    if not isinstance(ref, dict):
        return None
    kind, nm = text(ref.get("kind")), text(ref.get("name"))
    api = text(ref.get("apiVersion")) or ""
    if not kind or not nm:
        return None
    group = api.rpartition("/")[0] if "/" in api else ""
    return group, kind, nm


def scale_max(obj: Obj, field: str, default: int | None) -> int | None:
    """An autoscaler's upper bound (`maxReplicas`; KEDA's `maxReplicaCount`, default 100)."""
    v = dig(obj, "spec", field)
    if v is None:
        return default
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def event_object(ev: Obj) -> tuple[str | None, str | None]:
    """(kind, name) of the object an Event is about."""
    return text(dig(ev, "involvedObject", "kind")), text(dig(ev, "involvedObject", "name"))


def event_reason(ev: Obj) -> str | None:
    return text(dig(ev, "reason"))


def event_message(ev: Obj) -> str | None:
    return text(dig(ev, "message")) or text(dig(ev, "note"))


def event_type(ev: Obj) -> str | None:
    return text(dig(ev, "type"))


def event_count(ev: Obj) -> int:
    for path in (("count",), ("series", "count"), ("deprecatedCount",)):
        v = dig(ev, *path)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return 1


def event_times(ev: Obj) -> tuple[datetime | None, datetime | None]:
    """(first seen, last seen) of an Event, from the core/v1 and events.k8s.io/v1 fields."""
    first_seen = (
        parse_time(dig(ev, "firstTimestamp"))
        or parse_time(dig(ev, "eventTime"))
        or parse_time(dig(ev, "deprecatedFirstTimestamp"))
        or created(ev)
    )
    last_seen = (
        parse_time(dig(ev, "lastTimestamp"))
        or parse_time(dig(ev, "series", "lastObservedTime"))
        or parse_time(dig(ev, "deprecatedLastTimestamp"))
        or first_seen
    )
    return first_seen, last_seen


# ---------------------------------------------------------------------------- doctor, bundle

ZONE_LABELS = (ZONE_LABEL, ZONE_LABEL_BETA)


def node_allocatable(node: Obj, resource: str) -> str | None:
    """The node's allocatable quantity of `resource` as written ("30", "0"), None if absent."""
    return text(dig(node, "status", "allocatable", resource))


def node_taints(node: Obj) -> list[tuple[str, str | None, str | None]]:
    """(key, value, effect) of the node's taints."""
    taints = dig(node, "spec", "taints")
    out = []
    for t in taints if isinstance(taints, list) else []:
        key = text(dig(t, "key"))
        if key:
            out.append((key, text(dig(t, "value")), text(dig(t, "effect"))))
    return out


def pod_zones(pod: Obj) -> list[str]:
    """Zones a Pod is pinned to: its nodeSelector zone label, else the values of a required
    node-affinity term `zone In [...]`. Empty: any zone."""
    sel = dig(pod, "spec", "nodeSelector")
    if isinstance(sel, dict):
        for key in ZONE_LABELS:
            v = text(sel.get(key))
            if v:
                return [v]
    terms = dig(
        pod,
        "spec",
        "affinity",
        "nodeAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "nodeSelectorTerms",
    )
    zones: list[str] = []
    for term in terms if isinstance(terms, list) else []:
        exprs = dig(term, "matchExpressions")
        for e in exprs if isinstance(exprs, list) else []:
            if dig(e, "key") not in ZONE_LABELS or dig(e, "operator") != "In":
                continue
            values = dig(e, "values")
            for v in values if isinstance(values, list) else []:
                if isinstance(v, str) and v and v not in zones:
                    zones.append(v)
    return zones


@dataclass(frozen=True, slots=True)
class ContainerState:
    name: str
    ready: bool
    restarts: int
    waiting: str | None  # reason of a waiting state (CrashLoopBackOff, ...)
    message: str | None
    last_terminated: str | None  # reason of the last termination (Error, OOMKilled, ...)


def pod_containers(pod: Obj) -> list[ContainerState]:
    statuses = dig(pod, "status", "containerStatuses")
    out = []
    for c in statuses if isinstance(statuses, list) else []:
        if not isinstance(c, dict):
            continue
        restarts = c.get("restartCount")
        out.append(
            ContainerState(
                name=text(c.get("name")) or "",
                ready=c.get("ready") is True,
                restarts=restarts if isinstance(restarts, int) and restarts > 0 else 0,
                waiting=text(dig(c, "state", "waiting", "reason")),
                message=text(dig(c, "state", "waiting", "message")),
                last_terminated=text(dig(c, "lastState", "terminated", "reason")),
            )
        )
    return out


def selector_labels(workload: Obj) -> dict[str, str]:
    """A workload's `spec.selector.matchLabels`."""
    ml = dig(workload, "spec", "selector", "matchLabels")
    return {str(k): str(v) for k, v in ml.items()} if isinstance(ml, dict) else {}


def labels_of(obj: Obj) -> dict[str, str]:
    lab = dig(obj, "metadata", "labels")
    return {str(k): str(v) for k, v in lab.items()} if isinstance(lab, dict) else {}


def daemonset_counts(ds: Obj) -> tuple[int | None, int | None]:
    """(desired, ready) of a DaemonSet; None when its status does not say."""

    def num(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    return (
        num(dig(ds, "status", "desiredNumberScheduled")),
        num(dig(ds, "status", "numberReady")),
    )


def trim_node_status(node: Obj) -> Obj:
    """`trim_node` plus taints and the eni-ip allocatable."""
    out = trim_node(node)
    taints = dig(node, "spec", "taints")
    if isinstance(taints, list):
        out["spec"] = {"taints": taints}
    status: Obj = trim_node_ready(node)["status"]
    alloc = dig(node, "status", "allocatable")
    if isinstance(alloc, dict):
        status["allocatable"] = {k: alloc[k] for k in (ENI_IP, DIRECT_ENI) if k in alloc}
    out["status"] = status
    return out
