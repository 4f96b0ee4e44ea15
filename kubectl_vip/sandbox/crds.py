"""`apiextensions.k8s.io/v1` CustomResourceDefinitions: one per custom kind the sandbox serves,
with the versions it serves and an `openAPIV3Schema` that declares exactly the fields the
sandbox's own objects carry (in the scenario's shape, fieldshapes.py).

Served read-only (get, list, watch): a write is answered 405 MethodNotAllowed, and no CRD write
adds or removes a served kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .fieldshapes import Shape
from .resources import CRDS, TKE_GROUP, ResourceType

if TYPE_CHECKING:
    from .core import SandboxCore

Obj = dict[str, Any]
GROUP = "apiextensions.k8s.io"
MANAGER = "kube-apiserver"


def _s() -> Obj:
    return {"type": "string"}


def _t() -> Obj:
    return {"type": "string", "format": "date-time"}


def _i() -> Obj:
    return {"type": "integer"}


def _obj(**props: Obj) -> Obj:
    return {"type": "object", "properties": props} if props else {"type": "object"}


def _root(spec: Obj, status: Obj) -> Obj:
    return {
        "type": "object",
        "properties": {
            "apiVersion": _s(),
            "kind": _s(),
            "metadata": {"type": "object"},
            "spec": spec,
            "status": status,
        },
    }


def tke_schema(kind: str, shape: Shape) -> Obj:
    """The fields tke.py and the scenario builders write on a TKE kind, in `shape`."""
    if kind == "VpcIPClaim":
        status = {shape.claim_ip: _s(), "phase": _s()}
        if shape.release_time:
            status[shape.release_time] = _t()
        return _root(_obj(), _obj(**status))
    if kind == "VpcIP":
        spec = {"type": _s(), "subnetID": _s()}
        if shape.claim_ref:
            spec["claimRef"] = _obj(namespace=_s(), name=_s(), uid=_s())
        status = {"phase": _s(), "message": _s(), "subnetCIDR": _s(), "lastTransitionTime": _t()}
        if shape.node_in_status:
            status["node"] = _s()
        return _root(_obj(**spec), _obj(**status))
    if kind == "NodeENIConfig":
        info = _obj(eniID=_s(), subnetID=_s(), subnetCIDR=_s(), phase=_s())
        return _root(
            _obj(maxRouteENI=_i(), maxIPPerENI=_i()),
            _obj(eniInfos={"type": "array", "items": info}),
        )
    if kind == "VpcENI":
        return _root(
            _obj(nodeName=_s(), subnetID=_s(), type=_s()), _obj(phase=_s(), subnetCIDR=_s())
        )
    raise ValueError(f"no schema for {kind}")


def _workload_schema(status_selector: str, **spec: Obj) -> Obj:
    """Kruise's and TApp's: a Pod template kept whole, as their CRDs declare it."""
    selector = _obj(matchLabels={"type": "object", "additionalProperties": _s()})
    template = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return _root(
        _obj(replicas=_i(), selector=selector, template=template, **spec),
        _obj(replicas=_i(), readyReplicas=_i(), **{status_selector: _s()}),
    )


def schema(t: ResourceType, shape: Shape) -> Obj:
    if t.group == TKE_GROUP:
        return tke_schema(t.kind, shape)
    if t.kind == "TApp":
        statuses = {"type": "object", "additionalProperties": _s()}
        return _workload_schema("scaleLabelSelector", statuses=statuses)
    reserve = {"type": "array", "items": _i()}
    return _workload_schema("labelSelector", reserveOrdinals=reserve)


AGE = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def definition(versions: list[ResourceType], shape: Shape) -> Obj:
    """The CRD of one kind served in `versions` (the first stored)."""
    t = versions[0]
    stored = t.storage_version or t.version
    subresources: Obj = {"status": {}}
    scale = t.subresource("scale")
    if scale is not None:
        subresources["scale"] = {
            "specReplicasPath": scale.spec_replicas_path,
            "statusReplicasPath": scale.status_replicas_path,
            "labelSelectorPath": scale.label_selector_path,
        }
    names: Obj = {"plural": t.plural, "singular": t.singular, "kind": t.kind}
    names["listKind"] = f"{t.kind}List"
    if t.short_names:
        names["shortNames"] = list(t.short_names)
    if t.categories:
        names["categories"] = list(t.categories)
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": t.key},
        "spec": {
            "group": t.group,
            "names": names,
            "scope": "Namespaced" if t.namespaced else "Cluster",
            "versions": [
                {
                    "name": v.version,
                    "served": True,
                    "storage": v.version == stored,
                    "schema": {"openAPIV3Schema": schema(v, shape)},
                    "subresources": subresources,
                    "additionalPrinterColumns": [AGE],
                }
                for v in versions
            ],
            "conversion": {"strategy": "None"},
        },
        "status": {
            "conditions": [
                _condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                _condition(
                    "Established", "InitialNamesAccepted", "the initial names have been accepted"
                ),
            ],
            "acceptedNames": names,
            "storedVersions": [stored],
        },
    }


def _condition(type_: str, reason: str, message: str) -> Obj:
    # lastTransitionTime is filled in when installed
    return {"type": type_, "status": "True", "reason": reason, "message": message}


def by_kind(types: Iterable[ResourceType]) -> dict[str, list[ResourceType]]:
    """Custom types grouped by store key, the stored version first."""
    out: dict[str, list[ResourceType]] = {}
    for t in types:
        if t.custom:
            out.setdefault(t.key, []).append(t)
    for versions in out.values():
        versions.sort(key=lambda v: v.version != (v.storage_version or v.version))
    return out


def install(sb: SandboxCore, shape: Shape) -> None:
    """Create the CRD of every custom kind served (as the add-ons did before any object)."""
    crd_type = sb.registry.by_key.get(CRDS.key)
    if crd_type is None:
        return
    now = sb.world.now()
    for versions in by_kind(sb.registry.types).values():
        crd = definition(versions, shape)
        for c in crd["status"]["conditions"]:
            c["lastTransitionTime"] = now
        sb.world.create(crd_type, crd, manager=MANAGER, fresh=True)
