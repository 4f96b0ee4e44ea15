"""Subresources: `/scale` (autoscaling/v1 Scale) of Deployments, StatefulSets and ReplicaSets
and of the custom resources whose CRD declares one (OpenKruise's Advanced StatefulSet, TApp),
and `/eviction` (policy/v1 Eviction) of Pods, which `kubectl scale`, `autoscale` and `drain` use.

Scale follows apiserver (pkg/registry/apps/*/storage, scaleFromX and scaleUpdatedObjectInfo):
the Scale shares its parent's name, uid and resourceVersion; a write sets `spec.replicas` of the
parent, with the Scale's resourceVersion as precondition. An eviction deletes the Pod unless a
PodDisruptionBudget that selects it would be violated (429, as pkg/registry/core/pod/storage
eviction.go answers).
"""

from __future__ import annotations

import copy
from typing import Any

from . import apierrors
from .apierrors import StatusError
from .resources import ResourceType, Subresource
from .store import Obj, Preconditions, Store


def label_selector_string(sel: dict[str, Any]) -> str:
    """metav1.LabelSelectorAsSelector(...).String(): sorted requirements."""
    reqs = [(k, f"{k}={v}") for k, v in (sel.get("matchLabels") or {}).items()]
    for e in sel.get("matchExpressions") or []:
        key, op = str(e.get("key", "")), e.get("operator")
        vals = ",".join(sorted(str(v) for v in e.get("values") or []))
        text = {
            "In": f"{key} in ({vals})",
            "NotIn": f"{key} notin ({vals})",
            "Exists": key,
            "DoesNotExist": f"!{key}",
        }.get(str(op), key)
        reqs.append((key, text))
    return ",".join(t for _, t in sorted(reqs))


def selects(sel: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (the object form) against a set of labels; an empty one selects all."""
    if not sel:
        return True
    if any(labels.get(k) != v for k, v in (sel.get("matchLabels") or {}).items()):
        return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key", ""), e.get("operator"), e.get("values") or []
        present = key in labels
        ok = {
            "In": present and labels.get(key) in vals,
            "NotIn": not present or labels.get(key) not in vals,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(str(op), False)
        if not ok:
            return False
    return True


# ------------------------------------------------------------------------------ scale


def _at(obj: Obj, path: str) -> Any:
    """The value at a dotted JSON path (`.status.labelSelector`), None when absent."""
    value: Any = obj
    for part in path.strip(".").split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _set(obj: Obj, path: str, value: Any) -> None:
    parts = path.strip(".").split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


def scale_of(obj: Obj, sub: Subresource | None = None) -> Obj:
    """The autoscaling/v1 Scale of a workload; `sub` with paths: a custom resource's, as
    apiextensions-apiserver builds it (status.replicas 0 and the selector "" when absent)."""
    meta = obj["metadata"]
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    scale_meta = {
        k: meta[k]
        for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if k in meta
    }
    if sub is not None and sub.spec_replicas_path:
        want = _at(obj, sub.spec_replicas_path)
        have = _at(obj, sub.status_replicas_path)
        replicas = want if isinstance(want, int) and not isinstance(want, bool) else 0
        current = have if isinstance(have, int) and not isinstance(have, bool) else 0
        found = _at(obj, sub.label_selector_path) if sub.label_selector_path else None
        selector = found if isinstance(found, str) else ""
    else:
        replicas = int(spec.get("replicas", 1))
        current = int(status.get("replicas") or 0)
        selector = label_selector_string(spec.get("selector") or {})
    scale: Obj = {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": replicas} if replicas else {},
        "status": {"replicas": current},
    }
    if selector:
        scale["status"]["selector"] = selector
    return scale


def write_scale(
    store: Store,
    rtype: ResourceType,
    namespace: str,
    name: str,
    scale: Obj,
    *,
    dry_run: bool,
    manager: str,
) -> Obj:
    """Set the parent's replicas from a Scale; returns the Scale after the write."""
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise apierrors.invalid(
            "Scale",
            "autoscaling",
            name,
            [
                (
                    "FieldValueInvalid",
                    "spec.replicas",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                )
            ],
        )
    with store.lock:
        parent = copy.deepcopy(store.get(rtype, namespace, name))
        rv = (scale.get("metadata") or {}).get("resourceVersion")
        if rv:
            parent["metadata"]["resourceVersion"] = rv
        else:
            parent["metadata"].pop("resourceVersion", None)
        sub = rtype.subresource("scale")
        _set(parent, (sub.spec_replicas_path if sub else "") or ".spec.replicas", replicas)
        updated = store.update(
            rtype,
            namespace,
            name,
            parent,
            dry_run=dry_run,
            manager=manager,
            require_rv=False,
            subresource="scale",
        )
    return scale_of(updated, rtype.subresource("scale"))


# ------------------------------------------------------------------------------ eviction


def _healthy(pod: Obj) -> bool:
    st = pod.get("status") or {}
    if st.get("phase") != "Running" or pod["metadata"].get("deletionTimestamp"):
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or []
    )


def _allowed(pdb: Obj, pods: list[Obj]) -> tuple[int, int, int]:
    """(disruptions allowed, healthy needed, healthy now) for a PDB over its Pods."""
    spec = pdb.get("spec") or {}
    expected = len(pods)
    healthy = sum(1 for p in pods if _healthy(p))

    def count(v: Any) -> int:
        if isinstance(v, str) and v.endswith("%"):
            pct = int(v[:-1] or 0)
            return -(-expected * pct // 100)  # rounded up, as intstr scaled values are
        return int(v)

    if "maxUnavailable" in spec:
        needed = expected - count(spec["maxUnavailable"])
    else:
        needed = count(spec.get("minAvailable", 0))
    return healthy - needed, needed, healthy


def evict(
    store: Store,
    pods: ResourceType,
    pdbs: ResourceType | None,
    namespace: str,
    name: str,
    eviction: Obj,
    *,
    dry_run: bool = False,
) -> Obj:
    """Delete a Pod through the eviction API; returns the 201 Status."""
    with store.lock:
        pod = store.get(pods, namespace, name)
        opts = eviction.get("deleteOptions") or {}
        dry_run = dry_run or bool(opts.get("dryRun"))
        labels = pod["metadata"].get("labels") or {}
        terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        for pdb in store.objects(pdbs, namespace) if pdbs is not None and not terminal else []:
            sel = (pdb.get("spec") or {}).get("selector")
            if not sel or not selects(sel, labels):
                continue
            covered = [
                p
                for p in store.objects(pods, namespace)
                if selects(sel, p["metadata"].get("labels") or {})
            ]
            allowed, needed, healthy = _allowed(pdb, covered)
            if allowed < 1 and _healthy(pod):
                raise StatusError(
                    429,
                    "TooManyRequests",
                    "Cannot evict pod as it would violate the pod's disruption budget.",
                    {
                        "causes": [
                            {
                                "reason": "DisruptionBudget",
                                "message": f"The disruption budget {pdb['metadata']['name']} "
                                f"needs {needed} healthy pods and has {healthy} currently",
                            }
                        ]
                    },
                )
        pre = opts.get("preconditions") or {}
        grace = opts.get("gracePeriodSeconds")
        store.delete(
            pods,
            namespace,
            name,
            preconditions=Preconditions(pre.get("uid"), pre.get("resourceVersion")),
            dry_run=dry_run,
            grace_seconds=grace if isinstance(grace, int) else None,
        )
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}
