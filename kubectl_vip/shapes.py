"""The shapes the API server promises, checked where its answers come in (pure).

`cluster.py` decodes every answer and passes it through these checks, so no command meets a
null item, a `metadata` that is a string, or discovery junk deep inside its own logic (where it
would surface as "unexpected AttributeError"): the answer is refused in one line,
`MalformedAnswer` (exit 1). Fields below `metadata` are the schema module's business (it tries
known paths and says "unknown"); here only what every object must be.
"""

from __future__ import annotations

from typing import Any

from .errors import MalformedAnswer

Obj = dict[str, Any]

_META_STR = ("name", "namespace", "uid", "resourceVersion")
_META_MAP = ("labels", "annotations")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def check_object(obj: Any, where: str, kind: str = "") -> Obj:
    """`obj` if it is an object whose `metadata` (when present) has the promised types, and,
    for a kind with a Pod spec, whose containers do."""
    if not isinstance(obj, dict):
        raise MalformedAnswer(f"{where} is {_kind(obj)}, not an object")
    if kind in POD_SPEC_PATH:
        _check_pod_spec(obj, kind, where)
    if "metadata" not in obj:
        return obj
    meta = obj["metadata"]
    if not isinstance(meta, dict):
        raise MalformedAnswer(f"{where}: metadata is {_kind(meta)}, not an object")
    for key in _META_STR:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise MalformedAnswer(f"{where}: metadata.{key} is {_kind(value)}, not a string")
    for key in _META_MAP:
        value = meta.get(key)
        if value is not None and not (
            isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
        ):
            raise MalformedAnswer(f"{where}: metadata.{key} is not a map of strings")
    refs = meta.get("ownerReferences")
    if refs is not None and not (isinstance(refs, list) and all(isinstance(r, dict) for r in refs)):
        raise MalformedAnswer(f"{where}: metadata.ownerReferences is not a list of objects")
    return obj


# where a kind keeps its Pod spec; the containers there are read field by field (ipamd's args)
POD_SPEC_PATH = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
}


def _check_pod_spec(obj: Obj, kind: str, where: str) -> None:
    spec: Any = obj
    path = ""
    for key in POD_SPEC_PATH[kind]:
        path = f"{path}.{key}" if path else key
        spec = spec.get(key)
        if spec is None:
            return
        if not isinstance(spec, dict):
            raise MalformedAnswer(f"{where}: {path} is {_kind(spec)}, not an object")
    for field in ("containers", "initContainers"):
        containers = spec.get(field)
        if containers is None:
            continue
        if not isinstance(containers, list) or not all(isinstance(c, dict) for c in containers):
            raise MalformedAnswer(f"{where}: {field} is not a list of objects")
        for c in containers:
            for key in ("args", "command"):
                value = c.get(key)
                if value is not None and not (
                    isinstance(value, list) and all(isinstance(v, str) for v in value)
                ):
                    raise MalformedAnswer(f"{where}: a container's {key} is not a list of strings")
            for key in ("name", "image"):
                value = c.get(key)
                if value is not None and not isinstance(value, str):
                    raise MalformedAnswer(f"{where}: a container's {key} is {_kind(value)}")


def check_list(doc: Obj, where: str, kind: str = "") -> tuple[list[Obj], Obj]:
    """The items and the list metadata of one page of a list answer (of `kind`)."""
    items = doc.get("items")
    if items is None:
        items = []  # Go encodes an empty slice as null
    if not isinstance(items, list):
        raise MalformedAnswer(f"{where}: items is {_kind(items)}, not a list")
    for i, item in enumerate(items):
        check_object(item, f"{where}: item {i}", kind)
    meta = doc.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise MalformedAnswer(f"{where}: metadata is {_kind(meta)}, not an object")
    return items, meta


def list_of_objects(value: Any, where: str) -> list[Obj]:
    """A list of objects (discovery's `groups`, `versions`, `resources`); null is empty."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MalformedAnswer(f"{where} is not a list of objects")
    return value


def object_or_empty(value: Any, where: str) -> Obj:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedAnswer(f"{where} is {_kind(value)}, not an object")
    return value
