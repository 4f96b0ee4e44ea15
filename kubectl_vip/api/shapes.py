"""The shapes the API server promises, checked where its answers come in (pure).

`api/cluster.py` decodes every answer and passes it through these checks, so no command meets a
null item, a `metadata` that is a string, or discovery junk deep inside its own logic (where it
would surface as "unexpected AttributeError"): the answer is refused in one line,
`MalformedAnswer` (exit 1). Fields below `metadata` are the schema module's business (it tries
known paths and says "unknown"); here only what every object must be.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

from ..errors import MalformedAnswer

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


_STR_OR_NONE = (str, type(None))


def _all_str(values: Any) -> bool:
    return all(map(isinstance, values, repeat(str)))  # in C: no frame per value


def _plainly_fine(obj: Any) -> bool:
    """True when `obj` plainly meets `check_object`'s metadata rules (exact types): most items
    of a large list, checked without a Python step per field. False says nothing: the full
    check decides."""
    if obj.__class__ is not dict:
        return False
    meta = obj.get("metadata")
    if meta.__class__ is not dict:
        return False
    get = meta.get
    if not (
        get("name").__class__ in _STR_OR_NONE
        and get("namespace").__class__ in _STR_OR_NONE
        and get("uid").__class__ in _STR_OR_NONE
        and get("resourceVersion").__class__ in _STR_OR_NONE
    ):
        return False
    for key in _META_MAP:
        value = get(key)
        if value is not None and not (value.__class__ is dict and _all_str(value.values())):
            return False
    refs = get("ownerReferences")
    return refs is None or (refs.__class__ is list and all(map(isinstance, refs, repeat(dict))))


def check_object(obj: Any, where: str, kind: str = "") -> Obj:
    """`obj` if it is an object whose `metadata` (when present) has the promised types, and,
    for a kind with a Pod spec, whose containers do."""
    problem = _pod_spec_problem(obj, kind) if kind in POD_SPEC_PATH else None
    if problem is not None:
        raise MalformedAnswer(f"{where}: {problem}")
    if _plainly_fine(obj):
        return obj  # type: ignore[no-any-return]
    return check_metadata(obj, where)


def check_metadata(obj: Any, where: str) -> Obj:
    """`check_object`'s rules for any object and `metadata`, one field at a time."""
    if not isinstance(obj, dict):
        raise MalformedAnswer(f"{where} is {_kind(obj)}, not an object")
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


def _pod_spec_problem(obj: Any, kind: str) -> str | None:
    """What is wrong with the containers of `obj`'s Pod spec, or None."""
    if not isinstance(obj, dict):
        return None  # check_object says what is wrong
    spec: Any = obj
    keys = POD_SPEC_PATH[kind]
    for n, key in enumerate(keys):
        spec = spec.get(key)
        if spec is None:
            return None
        if not isinstance(spec, dict):
            return f"{'.'.join(keys[: n + 1])} is {_kind(spec)}, not an object"
    for field in ("containers", "initContainers"):
        containers = spec.get(field)
        if containers is None:
            continue
        if not isinstance(containers, list) or not all(map(isinstance, containers, repeat(dict))):
            return f"{field} is not a list of objects"
        for c in containers:
            for key in ("args", "command"):
                value = c.get(key)
                if value is not None and not (isinstance(value, list) and _all_str(value)):
                    return f"a container's {key} is not a list of strings"
            for key in ("name", "image"):
                value = c.get(key)
                if value is not None and not isinstance(value, str):
                    return f"a container's {key} is {_kind(value)}"
    return None


def check_list(doc: Obj, where: str, kind: str = "") -> tuple[list[Obj], Obj]:
    """The items and the list metadata of one page of a list answer (of `kind`)."""
    items = doc.get("items")
    if items is None:
        items = []  # Go encodes an empty slice as null
    if not isinstance(items, list):
        raise MalformedAnswer(f"{where}: items is {_kind(items)}, not a list")
    spec_kind = kind in POD_SPEC_PATH
    for i, item in enumerate(items):
        if spec_kind or not _plainly_fine(item):  # `where` is only made for the slow check
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
