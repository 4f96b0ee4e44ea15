"""managedFields as kube-apiserver keeps them for `Update` operations (no server-side apply).

Each write is recorded under its manager (the `fieldManager` query parameter, else the
User-Agent up to its first `/`) and subresource: the entry owns the fields that manager set or
changed, its `time` is that of its last write, and a field it takes over leaves every other
entry (an Update always wins a conflict); an entry left owning nothing is dropped. This is what a
client reads to tell *who* last set a field and *when* — e.g. `kubectl scale` leaves
`{manager: kubectl, subresource: scale, fieldsV1: {f:spec: {f:replicas: {}}}}` on the workload.

Simplified against the real field manager: lists are owned whole (`f:conditions: {}`, not per
`k:{"type":"Ready"}` item), and a field removed by a write leaves every entry.
"""

from __future__ import annotations

from typing import Any

Fields = dict[str, Any]

# metadata the server sets: never owned by a manager
_SERVER_META = frozenset(
    {
        "name",
        "namespace",
        "generateName",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)
_IDENTITY = frozenset({"apiVersion", "kind"})


def _own(value: Any) -> Fields:
    """Every field of a value: a map's keys, recursively; anything else is a leaf."""
    if not isinstance(value, dict):
        return {}
    return {f"f:{k}": _own(v) for k, v in value.items()}


def _top(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as far as managers own it: no identity, no server-set metadata."""
    out = {k: v for k, v in obj.items() if k not in _IDENTITY}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_META}
    if meta:
        out["metadata"] = meta
    else:
        out.pop("metadata", None)
    return out


def _diff(old: Any, new: Any) -> tuple[Fields, Fields]:
    """(fields set or changed, fields removed) going from `old` to `new` (both maps)."""
    changed: Fields = {}
    removed: Fields = {}
    for k, v in new.items():
        if k not in old:
            changed[f"f:{k}"] = _own(v)
        elif isinstance(v, dict) and isinstance(old[k], dict):
            c, r = _diff(old[k], v)
            if c:
                changed[f"f:{k}"] = c
            if r:
                removed[f"f:{k}"] = r
        elif v != old[k]:
            changed[f"f:{k}"] = _own(v)
    for k in old:
        if k not in new:
            removed[f"f:{k}"] = {}
    return changed, removed


def _merge(a: Fields, b: Fields) -> Fields:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if k in out and out[k] and v else (out.get(k) or v)
    return out


def _subtract(a: Fields, b: Fields) -> Fields:
    """`a` without the fields of `b` (a leaf of `b` takes the whole subtree)."""
    out: Fields = {}
    for k, v in a.items():
        if k not in b:
            out[k] = v
        elif b[k] and v:
            rest = _subtract(v, b[k])
            if rest:
                out[k] = rest
    return out


def record(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    subresource: str,
    time: str,
) -> None:
    """Set `new`'s managedFields after a write by `manager` (old None: a create)."""
    meta = new.setdefault("metadata", {})
    removed: Fields = {}
    if old is None:
        changed = _own(_top(new))
    else:
        changed, removed = _diff(_top(old), _top(new))
    taken = _merge(changed, removed)
    mine: Fields = {}
    entries: list[dict[str, Any]] = []
    for e in meta.get("managedFields") or []:
        if e.get("manager") == manager and e.get("subresource", "") == subresource:
            mine = _subtract(e.get("fieldsV1") or {}, removed)
            continue
        rest = _subtract(e.get("fieldsV1") or {}, taken)
        if rest:
            entries.append({**e, "fieldsV1": rest})
    owned = _merge(mine, changed)
    if owned:
        entry: dict[str, Any] = {
            "manager": manager,
            "operation": "Update",
            "apiVersion": new.get("apiVersion", ""),
            "time": time,
            "fieldsType": "FieldsV1",
            "fieldsV1": owned,
        }
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
    meta["managedFields"] = entries
