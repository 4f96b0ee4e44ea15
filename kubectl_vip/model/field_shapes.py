"""The shape of a cluster's TKE objects without their values: for `bundle --shapes`, a file a
user can post publicly so that we can fit the field table to their cluster.

Each object is walked; every field path is recorded with its JSON types and in how many objects
it is present. No value is kept: not a name, IP, uid, label or annotation value. Map keys that
are not field names (an IP, a node name, an ENI id used as a key) are replaced by `<key>`, and
label and annotation keys outside TKE's own prefix by `<other>`, so nothing of the user's
naming leaves either.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .fields import PREFIX

Obj = dict[str, Any]
# a field name as Kubernetes APIs spell them (camelCase letters); anything else (a digit, a
# dash, a dot: an IP, a node name, an ENI id used as a key) may be data
_FIELD_NAME = re.compile(r"^[a-zA-Z]{1,40}$")
_METADATA_KEPT = ("name", "namespace", "uid", "creationTimestamp", "resourceVersion")
MAX_DEPTH = 12
MAX_PATHS = 2000


def _type(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "unknown"


def _key(k: Any) -> str:
    return k if isinstance(k, str) and _FIELD_NAME.match(k) else "<key>"


def _label_key(k: Any) -> str:
    return k if isinstance(k, str) and k.startswith(PREFIX) and len(k) <= 80 else "<other>"


@dataclass
class KindShape:
    """Every path seen in the objects of one kind: its JSON types and presence count."""

    kind: str
    objects: int = 0
    types: dict[str, Counter[str]] = field(default_factory=dict)
    present: Counter[str] = field(default_factory=Counter)

    def observe(self, obj: Any) -> None:
        self.objects += 1
        seen: set[str] = set()
        self._walk(obj, "", 0, seen)
        self.present.update(seen)

    def _note(self, path: str, v: Any, seen: set[str]) -> bool:
        if path not in self.types and len(self.types) >= MAX_PATHS:
            return False
        self.types.setdefault(path, Counter())[_type(v)] += 1
        seen.add(path)
        return True

    def _walk(self, v: Any, path: str, depth: int, seen: set[str]) -> None:
        if depth > MAX_DEPTH:
            return
        if isinstance(v, dict):
            for k, sub in v.items():
                if path == "metadata":
                    if k in ("labels", "annotations") and isinstance(sub, dict):
                        for lk in sub:
                            self._note(f"metadata.{k}.{_label_key(lk)}", sub[lk], seen)
                        continue
                    if k == "managedFields" or k == "ownerReferences":
                        self._note(f"metadata.{k}", sub, seen)
                        continue
                    if k not in _METADATA_KEPT:
                        k = _key(k)
                p = f"{path}.{_key(k)}" if path else _key(k)
                if self._note(p, sub, seen):
                    self._walk(sub, p, depth + 1, seen)
        elif isinstance(v, list):
            for item in v:
                p = f"{path}[]"
                if self._note(p, item, seen):
                    self._walk(item, p, depth + 1, seen)

    def doc(self) -> Obj:
        return {
            "kind": self.kind,
            "objects": self.objects,
            "paths": {
                p: {"types": dict(sorted(self.types[p].items())), "present": self.present[p]}
                for p in sorted(self.types)
            },
        }


def crd_shape(crd: Obj | None) -> Obj | None:
    """What of a CRD goes into the shapes file: its versions with their schema, printer columns
    and subresources (a schema holds field names and types, no data)."""
    if not isinstance(crd, dict):
        return None
    raw = crd.get("spec")
    spec: Obj = raw if isinstance(raw, dict) else {}
    versions = []
    for v in spec.get("versions") or []:
        if not isinstance(v, dict):
            continue
        versions.append(
            {
                k: v.get(k)
                for k in (
                    "name",
                    "served",
                    "storage",
                    "schema",
                    "subresources",
                    "additionalPrinterColumns",
                )
                if k in v
            }
        )
    raw_names = spec.get("names")
    names: Obj = raw_names if isinstance(raw_names, dict) else {}
    return {
        "group": spec.get("group"),
        "names": {k: names.get(k) for k in ("kind", "plural", "singular", "shortNames")},
        "scope": spec.get("scope"),
        "versions": versions,
    }
