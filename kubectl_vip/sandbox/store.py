"""The sandbox's object store: what etcd plus the generic registry do for kube-apiserver.

Objects are kept per resource type, keyed by (namespace, name), with a sorted key list for paged
lists, a global resourceVersion counter, an event history for watches, and an index from owner
uid to dependents for garbage collection. Each object's JSON is serialized once per change.

All access happens under one re-entrant lock. Writes record events; after the outermost write
returns, the events are handed to the listeners (the simulated controllers), whose own writes are
dispatched the same way until nothing is left: a request's effects are complete when its
response is sent, which keeps tests deterministic.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import apierrors
from .apierrors import StatusError
from .clock import Clock, rfc3339
from .resources import Registry, ResourceType
from .selectors import FieldSelector, LabelSelector

Obj = dict[str, Any]
Key = tuple[str, str]

_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HISTORY = 50_000


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


class Entry:
    __slots__ = ("_raw", "obj")

    def __init__(self, obj: Obj) -> None:
        self.obj = obj
        self._raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = dumps(self.obj)
        return self._raw


@dataclass
class Event:
    type: str  # ADDED, MODIFIED, DELETED
    rtype: ResourceType
    obj: Obj
    old: Obj | None
    rv: int
    raw: bytes


@dataclass
class Preconditions:
    uid: str | None = None
    resource_version: str | None = None


Listener = Callable[[Event], None]


def _meta(obj: Obj) -> dict[str, Any]:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def _body(obj: Obj) -> dict[str, Any]:
    """Everything outside metadata and status: what a generation bump is computed from."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def encode_continue(rv: int, start: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if doc.get("v") != "meta.k8s.io/v1":
            raise ValueError("continue key is not valid: incorrect encoded start resourceVersion")
        return int(doc["rv"]), str(doc["start"])
    except (ValueError, KeyError, TypeError) as e:
        text = str(e) if "continue key" in str(e) else f"continue key is not valid: {e}"
        raise apierrors.bad_request(f"invalid continue token: {text}") from None


class Store:
    def __init__(self, registry: Registry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1000
        self._data: dict[str, dict[Key, Entry]] = {t.key: {} for t in registry.types}
        self._keys: dict[str, list[Key]] = {t.key: [] for t in registry.types}
        self._owners: dict[str, set[tuple[str, Key]]] = {}
        self.history: deque[Event] = deque(maxlen=_HISTORY)
        self.listeners: list[Listener] = []
        self._pending: deque[Event] = deque()
        self._dispatching = False

    # ---------------------------------------------------------------- reads

    def rtype(self, key: str) -> ResourceType:
        return self.registry.by_key[key]

    def peek(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        """The stored object itself: callers must not mutate it."""
        e = self._data[rtype.key].get((namespace if rtype.namespaced else "", name))
        return e.obj if e else None

    def entry(self, rtype: ResourceType, namespace: str, name: str) -> Entry | None:
        return self._data[rtype.key].get((namespace if rtype.namespaced else "", name))

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        with self.lock:
            obj = self.peek(rtype, namespace, name)
            if obj is None:
                raise apierrors.not_found(rtype.plural, rtype.group, name)
            return copy.deepcopy(obj)

    def objects(self, rtype: ResourceType, namespace: str | None = None) -> list[Obj]:
        """Stored objects (not copies), in key order; namespace None = all."""
        with self.lock:
            return [e.obj for e in self._iter_entries(rtype, namespace, None)]

    def _iter_entries(
        self, rtype: ResourceType, namespace: str | None, after: Key | None
    ) -> Iterator[Entry]:
        keys = self._keys[rtype.key]
        data = self._data[rtype.key]
        if namespace is not None and rtype.namespaced:
            lo = bisect.bisect_left(keys, (namespace, ""))
            if after is not None and after >= (namespace, ""):
                lo = bisect.bisect_right(keys, after)
            for k in keys[lo:]:
                if k[0] != namespace:
                    break
                yield data[k]
        else:
            lo = bisect.bisect_right(keys, after) if after is not None else 0
            for k in keys[lo:]:
                yield data[k]

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> tuple[list[Entry], int, str, int | None]:
        """Returns (entries, list resourceVersion, next continue token, remainingItemCount)."""
        with self.lock:
            list_rv = self.rv
            after: Key | None = None
            if continue_token:
                list_rv, start = decode_continue(continue_token)
                ns, _, name = start.rstrip("\x00").partition("/")
                after = (ns, name)
            name_only = fields.exact_name() if fields is not None else None
            out: list[Entry] = []
            last: Key | None = None
            more = False
            source: Iterator[Entry]
            if name_only is not None and not continue_token:
                source = iter(self._by_name(rtype, namespace, name_only))
            else:
                source = self._iter_entries(rtype, namespace, after)
            for e in source:
                if labels is not None and not labels.matches(e.obj["metadata"].get("labels")):
                    continue
                if fields is not None and not fields.matches(e.obj):
                    continue
                if limit and len(out) >= limit:
                    more = True
                    break
                out.append(e)
                m = e.obj["metadata"]
                last = (m.get("namespace", ""), m["name"])
            token = ""
            remaining: int | None = None
            if more and last is not None:
                token = encode_continue(list_rv, f"{last[0]}/{last[1]}\x00")
                if labels is None and fields is None:
                    keys = self._keys[rtype.key]
                    if namespace is not None and rtype.namespaced:
                        hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
                    else:
                        hi = len(keys)
                    remaining = hi - bisect.bisect_right(keys, last)
            return out, list_rv, token, remaining

    def _by_name(self, rtype: ResourceType, namespace: str | None, name: str) -> list[Entry]:
        data = self._data[rtype.key]
        if not rtype.namespaced or namespace is not None:
            e = data.get(((namespace or "") if rtype.namespaced else "", name))
            return [e] if e is not None else []
        return [data[k] for k in self._keys[rtype.key] if k[1] == name]

    def dependents(self, uid: str) -> list[tuple[ResourceType, Obj]]:
        with self.lock:
            out = []
            for tkey, key in sorted(self._owners.get(uid, ())):
                e = self._data[tkey].get(key)
                if e is not None:
                    out.append((self.registry.by_key[tkey], e.obj))
            return out

    # ---------------------------------------------------------------- writes

    def _next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def _index_owners(
        self, rtype: ResourceType, key: Key, old: Obj | None, new: Obj | None
    ) -> None:
        def uids(o: Obj | None) -> set[str]:
            if not o:
                return set()
            refs = o.get("metadata", {}).get("ownerReferences") or []
            return {r.get("uid") for r in refs if isinstance(r, dict) and r.get("uid")}

        before, after = uids(old), uids(new)
        for u in before - after:
            s = self._owners.get(u)
            if s is not None:
                s.discard((rtype.key, key))
                if not s:
                    del self._owners[u]
        for u in after - before:
            self._owners.setdefault(u, set()).add((rtype.key, key))

    def _commit(self, rtype: ResourceType, key: Key, new: Obj | None, etype: str) -> Event:
        data = self._data[rtype.key]
        old_entry = data.get(key)
        old = old_entry.obj if old_entry else None
        rv = self._next_rv()
        if new is not None:
            _meta(new)["resourceVersion"] = str(rv)
            entry = Entry(new)
            if old_entry is None:
                bisect.insort(self._keys[rtype.key], key)
            data[key] = entry
            obj, raw = new, entry.raw
        else:
            assert old is not None
            del data[key]
            keys = self._keys[rtype.key]
            i = bisect.bisect_left(keys, key)
            if i < len(keys) and keys[i] == key:
                del keys[i]
            # a DELETED event carries the last state, with a fresh resourceVersion
            obj = copy.copy(old)
            obj["metadata"] = dict(old["metadata"], resourceVersion=str(rv))
            raw = dumps(obj)
        self._index_owners(rtype, key, old, new)
        ev = Event(etype, rtype, obj, old, rv, raw)
        self.history.append(ev)
        self._pending.append(ev)
        self.changed.notify_all()
        return ev

    def _dispatch(self) -> None:
        if self._dispatching:
            return
        self._dispatching = True
        try:
            budget = 1_000_000
            while self._pending:
                ev = self._pending.popleft()
                for listener in self.listeners:
                    listener(ev)
                budget -= 1
                if budget <= 0:
                    raise apierrors.internal("sandbox controllers did not settle")
        finally:
            self._dispatching = False

    def _managed(self, obj: Obj, manager: str, subresource: str = "") -> None:
        fields = {f"f:{k}": {} for k in obj if k not in ("apiVersion", "kind", "metadata")}
        meta = _meta(obj)
        entries = [
            m
            for m in meta.get("managedFields") or []
            if not (m.get("manager") == manager and m.get("subresource", "") == subresource)
        ]
        entry: dict[str, Any] = {
            "manager": manager,
            "operation": "Update",
            "apiVersion": obj.get("apiVersion", ""),
            "time": rfc3339(self.clock.now()),
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
        meta["managedFields"] = entries

    def _validate_name(self, rtype: ResourceType, name: str) -> None:
        pattern = _DNS1123_LABEL if rtype.plural == "namespaces" else _DNS1123_SUBDOMAIN
        if not name:
            raise apierrors.invalid(
                rtype.kind,
                rtype.group,
                "",
                [
                    (
                        "FieldValueRequired",
                        "metadata.name",
                        "Required value: name or generateName is required",
                    )
                ],
            )
        if len(name) > 253 or not pattern.match(name):
            detail = (
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character"
            )
            raise apierrors.invalid(
                rtype.kind,
                rtype.group,
                name,
                [("FieldValueInvalid", "metadata.name", f'Invalid value: "{name}": {detail}')],
            )

    def create(
        self,
        rtype: ResourceType,
        namespace: str,
        obj: Obj,
        *,
        dry_run: bool = False,
        manager: str = "sandbox",
    ) -> Obj:
        with self.lock:
            obj = copy.deepcopy(obj)
            meta = _meta(obj)
            if meta.get("resourceVersion"):
                raise apierrors.bad_request(
                    "resourceVersion should not be set on objects to be created"
                )
            if not meta.get("name") and meta.get("generateName"):
                meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
            name = str(meta.get("name") or "")
            self._validate_name(rtype, name)
            if rtype.namespaced:
                if meta.get("namespace") and meta["namespace"] != namespace:
                    raise apierrors.bad_request(
                        "the namespace of the provided object does not match the namespace sent "
                        "on the request"
                    )
                ns_type = self.registry.by_key["namespaces"]
                if self.peek(ns_type, "", namespace) is None:
                    raise apierrors.not_found("namespaces", "", namespace)
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
                namespace = ""
            key = (namespace, name)
            existing = self._data[rtype.key].get(key)
            if existing is not None:
                deleting = bool(existing.obj["metadata"].get("deletionTimestamp"))
                raise apierrors.already_exists(rtype.plural, rtype.group, name, deleting=deleting)
            obj["apiVersion"] = rtype.group_version
            obj["kind"] = rtype.kind
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339(self.clock.now())
            meta.pop("deletionTimestamp", None)
            if rtype.custom or "spec" in obj:
                meta["generation"] = 1
            self._managed(obj, manager)
            if dry_run:
                return obj
            self._commit(rtype, key, obj, "ADDED")
            self._dispatch()
            return copy.deepcopy(obj)

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        obj: Obj,
        *,
        dry_run: bool = False,
        manager: str = "sandbox",
        require_rv: bool | None = None,
    ) -> Obj:
        """PUT semantics. `require_rv` defaults to the apiserver rule (CRs need one)."""
        with self.lock:
            namespace = namespace if rtype.namespaced else ""
            key = (namespace, name)
            current = self._data[rtype.key].get(key)
            if current is None:
                raise apierrors.not_found(rtype.plural, rtype.group, name)
            obj = copy.deepcopy(obj)
            meta = _meta(obj)
            if meta.get("name", name) != name:
                raise apierrors.bad_request(
                    f"the name of the object ({meta.get('name')}) does not match the name on "
                    f"the URL ({name})"
                )
            cur = current.obj
            cur_meta = cur["metadata"]
            sent_rv = meta.get("resourceVersion")
            needs_rv = rtype.custom if require_rv is None else require_rv
            if not sent_rv and needs_rv:
                raise apierrors.invalid(
                    rtype.kind,
                    rtype.group,
                    name,
                    [
                        (
                            "FieldValueInvalid",
                            "metadata.resourceVersion",
                            "Invalid value: 0: must be specified for an update",
                        )
                    ],
                )
            if sent_rv and sent_rv != cur_meta.get("resourceVersion"):
                raise apierrors.conflict(rtype.plural, rtype.group, name, apierrors.MODIFIED)
            if meta.get("uid") and meta["uid"] != cur_meta.get("uid"):
                raise apierrors.conflict(
                    rtype.plural,
                    rtype.group,
                    name,
                    f"Precondition failed: UID in precondition: {meta['uid']}, "
                    f"UID in object meta: {cur_meta.get('uid')}",
                )
            # server-owned metadata survives any update
            for k in (
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ):
                if k in cur_meta:
                    meta[k] = cur_meta[k]
                else:
                    meta.pop(k, None)
            meta["name"] = name
            if rtype.namespaced:
                meta["namespace"] = namespace
            else:
                meta.pop("namespace", None)
            obj["apiVersion"] = rtype.group_version
            obj["kind"] = rtype.kind
            meta["resourceVersion"] = cur_meta.get("resourceVersion")
            if "generation" in cur_meta:
                gen = int(cur_meta["generation"])
                meta["generation"] = gen + 1 if _body(obj) != _body(cur) else gen
            meta["managedFields"] = cur_meta.get("managedFields", [])
            if self._same(cur, obj):
                return copy.deepcopy(cur)  # a no-op update writes nothing
            self._managed(obj, manager)
            if dry_run:
                return obj
            if cur_meta.get("deletionTimestamp") and not meta.get("finalizers"):
                self._commit(rtype, key, None, "DELETED")
                self._dispatch()
                return obj
            self._commit(rtype, key, obj, "MODIFIED")
            self._dispatch()
            return copy.deepcopy(obj)

    @staticmethod
    def _same(a: Obj, b: Obj) -> bool:
        def strip(o: Obj) -> Obj:
            m = {k: v for k, v in o.get("metadata", {}).items() if k != "managedFields"}
            return {**o, "metadata": m}

        return strip(a) == strip(b)

    def mutate(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        fn: Callable[[Obj], None],
        *,
        manager: str = "sandbox",
    ) -> Obj | None:
        """Controller-side read-modify-write; returns None when the object is gone."""
        with self.lock:
            cur = self.peek(rtype, namespace, name)
            if cur is None:
                return None
            new = copy.deepcopy(cur)
            fn(new)
            return self.update(rtype, namespace, name, new, manager=manager, require_rv=False)

    def delete(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        *,
        preconditions: Preconditions | None = None,
        propagation: str = "Background",
        dry_run: bool = False,
    ) -> tuple[Obj, bool]:
        """Returns (object as last seen, removed now?)."""
        with self.lock:
            namespace = namespace if rtype.namespaced else ""
            key = (namespace, name)
            current = self._data[rtype.key].get(key)
            if current is None:
                raise apierrors.not_found(rtype.plural, rtype.group, name)
            cur = current.obj
            meta = cur["metadata"]
            if preconditions is not None:
                if preconditions.uid and preconditions.uid != meta.get("uid"):
                    raise apierrors.precondition_failed(
                        rtype.kind,
                        rtype.group,
                        name,
                        f"the UID in the precondition ({preconditions.uid}) does not match the "
                        f"UID in record ({meta.get('uid')}). The object might have been deleted "
                        "and then recreated",
                    )
                if preconditions.resource_version and preconditions.resource_version != meta.get(
                    "resourceVersion"
                ):
                    raise apierrors.precondition_failed(
                        rtype.kind,
                        rtype.group,
                        name,
                        f"the ResourceVersion in the precondition "
                        f"({preconditions.resource_version}) does not match the ResourceVersion "
                        f"in record ({meta.get('resourceVersion')}). The object might have been "
                        "modified",
                    )
            finalizers = list(meta.get("finalizers") or [])
            if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
                if self._owners.get(str(meta.get("uid"))):
                    finalizers.append("foregroundDeletion")
            elif propagation == "Orphan" and "orphan" not in finalizers:
                if self._owners.get(str(meta.get("uid"))):
                    finalizers.append("orphan")
            if dry_run:
                return copy.deepcopy(cur), not finalizers
            if finalizers:
                if meta.get("deletionTimestamp") and finalizers == meta.get("finalizers"):
                    return copy.deepcopy(cur), False
                new = copy.deepcopy(cur)
                nm = new["metadata"]
                nm.setdefault("deletionTimestamp", rfc3339(self.clock.now()))
                nm.setdefault("deletionGracePeriodSeconds", 0)
                nm["finalizers"] = finalizers
                if "generation" in nm:
                    nm["generation"] = int(nm["generation"]) + 1
                self._commit(rtype, key, new, "MODIFIED")
                self._dispatch()
                return copy.deepcopy(new), False
            snapshot = copy.deepcopy(cur)
            self._commit(rtype, key, None, "DELETED")
            self._dispatch()
            return snapshot, True

    def remove_finalizer(
        self, rtype: ResourceType, namespace: str, name: str, finalizer: str
    ) -> None:
        def drop(o: Obj) -> None:
            fins = [f for f in o["metadata"].get("finalizers") or [] if f != finalizer]
            if fins:
                o["metadata"]["finalizers"] = fins
            else:
                o["metadata"].pop("finalizers", None)

        self.mutate(rtype, namespace, name, drop)

    # ---------------------------------------------------------------- watch

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None,
        since: int | None,
        *,
        labels: LabelSelector | None,
        fields: FieldSelector | None,
        stop: Callable[[], bool],
        poll: float = 0.5,
    ) -> Iterator[tuple[str, bytes]]:
        """Yields (event type, object JSON). since None = synthetic ADDED for current objects."""

        def wanted(obj: Obj) -> bool:
            m = obj.get("metadata", {})
            if namespace is not None and rtype.namespaced and m.get("namespace") != namespace:
                return False
            if labels is not None and not labels.matches(m.get("labels")):
                return False
            return fields is None or fields.matches(obj)

        with self.lock:
            if since is None:
                start = self.rv
                initial = [
                    e.raw for e in self._iter_entries(rtype, namespace, None) if wanted(e.obj)
                ]
            else:
                oldest = self.history[0].rv if self.history else self.rv + 1
                if since < oldest - 1 and len(self.history) == self.history.maxlen:
                    yield (
                        "ERROR",
                        dumps(
                            StatusError(
                                410, "Expired", f"too old resource version: {since} ({oldest - 1})"
                            ).body()
                        ),
                    )
                    return
                start = since
                initial = []
        for raw in initial:
            yield "ADDED", raw
        cursor = start
        while not stop():
            batch: list[tuple[str, bytes]] = []
            with self.lock:
                if not self.history or self.history[-1].rv <= cursor:
                    self.changed.wait(poll)
                fresh: list[Event] = []
                for ev in reversed(self.history):
                    if ev.rv <= cursor:
                        break
                    fresh.append(ev)
                for ev in reversed(fresh):
                    cursor = ev.rv
                    if ev.rtype is rtype and wanted(ev.obj):
                        batch.append((ev.type, ev.raw))
            yield from batch
            if not batch:
                yield "", b""  # heartbeat: lets the caller check its deadline
