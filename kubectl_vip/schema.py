"""Where each fact lives in TKE's objects: every field access to VpcIPClaim, VpcIP, NodeENIConfig
(and the TKE bits of Pods) goes through here.

Public material shows these objects only as screenshots, so each fact is looked up along every
known path in order and comes back as None ("unknown") instead of failing when absent or of an
unexpected type. The `trim_*` functions keep only what these accessors read, so a list of
30,000 objects does not keep whole objects in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

Obj = dict[str, Any]

PREFIX = "tke.cloud.tencent.com/"
DELETE_POLICY = PREFIX + "vpc-ip-claim-delete-policy"
EXPIRY = PREFIX + "claim-expired-duration"
NETWORKS = PREFIX + "networks"
NODE_LABEL = PREFIX + "node-name"
POD_NS_LABEL = PREFIX + "pod-namespace"
POD_NAME_LABEL = PREFIX + "pod-name"
ENI_IP = PREFIX + "eni-ip"
DIRECT_ENI = PREFIX + "direct-eni"
ENI_UNAVAILABLE_TAINT = PREFIX + "eni-ip-unavailable"
ZONE_LABEL = "topology.kubernetes.io/zone"
ZONE_LABEL_BETA = "failure-domain.beta.kubernetes.io/zone"

_TKE_ANNOTATIONS = (DELETE_POLICY, EXPIRY, NETWORKS)
_TKE_LABELS = (NODE_LABEL, POD_NS_LABEL, POD_NAME_LABEL)
# managedFields are reduced to this one key: the newest time any manager wrote `status`
STATUS_WRITTEN = "kubectl-vip/statusWrittenAt"


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


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
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


def claim_ip(claim: Obj) -> str | None:
    return first(claim, ("status", "ip"), ("status", "vpcIP"), ("spec", "ip"))


def claim_released_at(claim: Obj) -> tuple[datetime | None, bool]:
    """When the claim's Pod went away: (time, estimated?).

    Falls back to the newest managedFields entry that wrote `status` (marked estimated).
    """
    for path in (("status", "releaseTime"), ("status", "lastDetachTime")):
        t = parse_time(dig(claim, *path))
        if t is not None:
            return t, False
    return _status_written(claim), True


def _status_written(obj: Obj) -> datetime | None:
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


def delete_policy(claim: Obj | None, pod: Obj | None) -> str | None:
    return annotation(claim, DELETE_POLICY) or annotation(pod, DELETE_POLICY)


def expiry_override(claim: Obj | None, vip: Obj | None) -> str | None:
    return annotation(claim, EXPIRY) or annotation(vip, EXPIRY)


@dataclass(frozen=True)
class OwnerRef:
    kind: str
    name: str
    uid: str | None
    api_version: str
    controller: bool


def owner_refs(obj: Obj) -> list[OwnerRef]:
    refs = dig(obj, "metadata", "ownerReferences")
    out = []
    for r in refs if isinstance(refs, list) else []:
        if isinstance(r, dict) and text(r.get("kind")) and text(r.get("name")):
            out.append(
                OwnerRef(
                    str(r["kind"]),
                    str(r["name"]),
                    text(r.get("uid")),
                    text(r.get("apiVersion")) or "",
                    r.get("controller") is True,
                )
            )
    return out


# ---------------------------------------------------------------------------- VpcIPs


@dataclass(frozen=True)
class ClaimRef:
    namespace: str
    name: str
    uid: str | None


def vip_claim_ref(vip: Obj) -> ClaimRef | None:
    ref = dig(vip, "spec", "claimRef")
    if isinstance(ref, dict) and text(ref.get("name")) and text(ref.get("namespace")):
        return ClaimRef(str(ref["namespace"]), str(ref["name"]), text(ref.get("uid")))
    ns, nm = label(vip, POD_NS_LABEL), label(vip, POD_NAME_LABEL)
    if ns and nm:
        return ClaimRef(ns, nm, None)
    return None


def vip_ip(vip: Obj) -> str:
    """A VpcIP is named by its address."""
    return name(vip)


def vip_phase(vip: Obj) -> str | None:
    return text(dig(vip, "status", "phase"))


def vip_message(vip: Obj) -> str | None:
    return text(dig(vip, "status", "message"))


def vip_type(vip: Obj) -> str | None:
    return text(dig(vip, "spec", "type"))


def vip_node(vip: Obj) -> str | None:
    return label(vip, NODE_LABEL) or text(dig(vip, "status", "node"))


def vip_subnet(vip: Obj) -> tuple[str | None, str | None]:
    """(subnet id, subnet CIDR)."""
    return text(dig(vip, "spec", "subnetID")), text(dig(vip, "status", "subnetCIDR"))


# ---------------------------------------------------------------------------- NodeENIConfig


def nec_subnets(nec: Obj) -> list[tuple[str | None, str]]:
    """(subnet id, CIDR) of the node's ENIs."""
    infos = dig(nec, "status", "eniInfos")
    out = []
    for info in infos if isinstance(infos, list) else []:
        cidr = text(dig(info, "subnetCIDR"))
        if cidr:
            out.append((text(dig(info, "subnetID")), cidr))
    return out


def nec_limits(nec: Obj) -> tuple[int | None, int | None]:
    def num(v: Any) -> int | None:
        return v if isinstance(v, int) and not isinstance(v, bool) else None

    return num(dig(nec, "spec", "maxRouteENI")), num(dig(nec, "spec", "maxIPPerENI"))


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


def trim_claim(claim: Obj) -> Obj:
    meta = _meta(claim, annotations=(DELETE_POLICY, EXPIRY), labels=None)
    written = _status_written(claim)
    if written is not None:
        meta[STATUS_WRITTEN] = written.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": meta,
        "spec": _pick(claim.get("spec"), ("ip",)),
        "status": _pick(
            claim.get("status"), ("ip", "vpcIP", "phase", "releaseTime", "lastDetachTime")
        ),
    }


def trim_vip(vip: Obj) -> Obj:
    return {
        "metadata": _meta(vip, annotations=(EXPIRY,), labels=_TKE_LABELS),
        "spec": _pick(vip.get("spec"), ("claimRef", "type", "subnetID")),
        "status": _pick(vip.get("status"), ("phase", "message", "node", "subnetCIDR")),
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
    return {
        "metadata": _meta(obj),
        "spec": _pick(obj.get("spec"), ("replicas",)),
        "status": _pick(obj.get("status"), ("replicas", "readyReplicas")),
    }
