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
import builtins
import copy
import json
import posixpath
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from . import apierrors, managedfields
from .apierrors import StatusError
from .clock import Clock, parse_rfc3339, rfc3339
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
GracePeriod = Callable[[ResourceType, Obj, int | None], int]


def _meta(obj: Obj) -> dict[str, Any]:
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def _body(obj: Obj) -> dict[str, Any]:
    """Everything outside metadata and status: what a generation bump is computed from."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _meta_same(a: Obj, b: Obj) -> bool:
    """Same metadata but for what the server keeps (resourceVersion, managedFields)."""

    def strip(o: Obj) -> dict[str, Any]:
        skip = ("resourceVersion", "managedFields", "generation")
        return {k: v for k, v in o.get("metadata", {}).items() if k not in skip}

    return strip(a) == strip(b)


def encode_continue(rv: int, start: str) -> str:
    """apiserver's token: base64url (no padding) of {"v", "rv", "start"}; `start` is the etcd key
    after the list's key prefix (`name\\x00`, or `namespace/name\\x00` across namespaces)."""
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _invalid_token(text: str) -> StatusError:
    return apierrors.bad_request(f"invalid continue token: continue key is not valid{text}")


def decode_continue(token: str) -> tuple[int, str]:
    """(resourceVersion, start key) with apiserver's checks and messages (storage/continue.go).

    rv < 0 means "continue at the latest resourceVersion" (tokens handed out with 410 Expired).
    """
    bad = next((i for i, c in enumerate(token) if c not in _B64URL), None)
    if bad is None and len(token) % 4 == 1:
        bad = len(token) - 1
    if bad is not None:
        raise _invalid_token(f": illegal base64 data at input byte {bad}")
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError as e:
        raise _invalid_token(f": {e}") from None
    if not isinstance(doc, dict):
        raise _invalid_token(": json: cannot unmarshal into Go value of type storage.continueToken")
    version = doc.get("v")
    if version != "meta.k8s.io/v1":
        raise _invalid_token(f": server does not recognize this encoded version {version or ''}")
    rv, start = doc.get("rv", 0), doc.get("start", "")
    if not isinstance(rv, int) or not isinstance(start, str):
        raise _invalid_token(": json: cannot unmarshal into Go value of type storage.continueToken")
    if rv == 0:
        raise _invalid_token(": incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
    if not start:
        raise _invalid_token(": encoded start key empty (version meta.k8s.io/v1)")
    # path.Clean keeps a client from ranging outside the list's key prefix
    key = start if start.startswith("/") else "/" + start
    cleaned = posixpath.normpath(key)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    if cleaned != key:
        raise _invalid_token(f": {start}")
    return rv, start


def _sort_key(key: Key) -> Key:
    """(namespace, name) → a tuple that sorts as the etcd key `namespace/name` does."""
    return (key[0] + "/", key[1])


GC_FINALIZERS = ("orphan", "foregroundDeletion")


def _gc_finalizers(current: list[str], propagation: str | None) -> list[str]:
    """The finalizers a delete leaves (registry/generic/registry/store.go
    deletionFinalizersForGarbageCollection): the policy replaces either GC finalizer."""
    if propagation is None:
        return current
    new = [f for f in current if f not in GC_FINALIZERS]
    if propagation == "Orphan":
        new.append("orphan")
    elif propagation == "Foreground":
        new.append("foregroundDeletion")
    return current if set(new) == set(current) else new


def _is_namespace(rtype: ResourceType) -> bool:
    return rtype.plural == "namespaces" and not rtype.group


def _namespace_finalizers(rtype: ResourceType, obj: Obj) -> bool:
    return _is_namespace(rtype) and bool((obj.get("spec") or {}).get("finalizers"))


def _namespace_defaults(obj: Obj) -> None:
    """What the Namespace strategy and defaults set on create: phase Active, the `kubernetes`
    finalizer, and the `kubernetes.io/metadata.name` label."""
    meta = _meta(obj)
    labels = meta.get("labels") or {}
    labels["kubernetes.io/metadata.name"] = meta.get("name", "")
    meta["labels"] = labels
    spec = obj.get("spec") or {}
    finalizers = list(spec.get("finalizers") or [])
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    spec["finalizers"] = finalizers
    obj["spec"] = spec
    obj["status"] = {"phase": "Active"}


class Store:
    def __init__(self, registry: Registry, clock: Clock) -> None:
        self.registry = registry
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.rv = 1000
        self._data: dict[str, dict[Key, Entry]] = {t.key: {} for t in registry.types}
        # sorted (namespace + "/", name): the order of etcd's `namespace/name` keys
        self._keys: dict[str, list[Key]] = {t.key: [] for t in registry.types}
        self._owners: dict[str, set[tuple[str, Key]]] = {}
        self.history: deque[Event] = deque(maxlen=_HISTORY)
        self.listeners: list[Listener] = []
        self.settle_hooks: list[Callable[[], None]] = []
        # told of every write as it is made (old, new; None: absent), listeners or not: for the
        # indexes controllers keep, as client-go's caches are kept from the watch
        self.commit_hooks: list[Callable[[ResourceType, Obj | None, Obj | None], None]] = []
        # the kind's strategy (CheckGracefulDelete): the grace period a delete gives an object
        # (0: none) from the period asked for; set by the sandbox core for Pods
        self.grace_period: GracePeriod | None = None
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

    def count(self, rtype: ResourceType) -> int:
        """How many objects of the kind are stored (all namespaces)."""
        return len(self._data[rtype.key])

    def objects(self, rtype: ResourceType, namespace: str | None = None) -> list[Obj]:
        """Stored objects (not copies), in key order; namespace None = all."""
        with self.lock:
            return [e.obj for e in self._iter_entries(rtype, namespace, None)]

    def _iter_entries(
        self, rtype: ResourceType, namespace: str | None, start: str | None
    ) -> Iterator[Entry]:
        """Entries in etcd key order, from `start` (a key after the list's prefix, inclusive;
        continue tokens end theirs in NUL to start just after the last item)."""
        keys = self._keys[rtype.key]
        data = self._data[rtype.key]
        scoped = namespace is not None and rtype.namespaced
        lo = 0
        if scoped:
            assert namespace is not None
            lo = bisect.bisect_left(keys, (namespace + "/", ""))
        if start is not None:
            if scoped:
                begin: tuple[str, str] = (f"{namespace}/", start)
            elif rtype.namespaced:
                ns, sep, name = start.partition("/")
                begin = (ns + "/", name) if sep else (start, "")
            else:
                begin = ("/", start)
            lo = max(lo, bisect.bisect_left(keys, begin))
        prefix = f"{namespace}/" if scoped else None
        for sk in keys[lo:]:
            if prefix is not None and sk[0] != prefix:
                break
            yield data[(sk[0][:-1], sk[1])]

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> tuple[builtins.list[Entry], int, str, int | None]:
        """Returns (entries, list resourceVersion, next continue token, remainingItemCount)."""
        with self.lock:
            list_rv = self.rv
            start: str | None = None
            if continue_token:
                token_rv, start = decode_continue(continue_token)
                if token_rv > 0:  # rv < 0: continue at the latest version
                    list_rv = token_rv
            name_only = fields.exact_name() if fields is not None else None
            out: builtins.list[Entry] = []
            last: Key | None = None
            more = False
            source: Iterator[Entry]
            if name_only is not None and not continue_token:
                source = iter(self._by_name(rtype, namespace, name_only))
            else:
                source = self._iter_entries(rtype, namespace, start)
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
                scoped = namespace is not None and rtype.namespaced
                key = f"{last[0]}/{last[1]}" if rtype.namespaced and not scoped else last[1]
                token = encode_continue(list_rv, key + "\x00")
                if labels is None and fields is None:
                    keys = self._keys[rtype.key]
                    hi = len(keys)
                    if scoped:
                        hi = bisect.bisect_left(keys, (f"{namespace}/\x00", ""))
                    remaining = hi - bisect.bisect_right(keys, _sort_key(last))
            return out, list_rv, token, remaining

    def _by_name(
        self, rtype: ResourceType, namespace: str | None, name: str
    ) -> builtins.list[Entry]:
        data = self._data[rtype.key]
        if not rtype.namespaced or namespace is not None:
            e = data.get(((namespace or "") if rtype.namespaced else "", name))
            return [e] if e is not None else []
        return [data[(sk[0][:-1], sk[1])] for sk in self._keys[rtype.key] if sk[1] == name]

    def dependents(self, uid: str) -> builtins.list[tuple[ResourceType, Obj]]:
        with self.lock:
            out: builtins.list[tuple[ResourceType, Obj]] = []
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
            return {str(r["uid"]) for r in refs if isinstance(r, dict) and r.get("uid")}

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
                bisect.insort(self._keys[rtype.key], _sort_key(key))
            data[key] = entry
            obj, raw = new, entry.raw
        else:
            assert old is not None
            del data[key]
            keys = self._keys[rtype.key]
            sk = _sort_key(key)
            i = bisect.bisect_left(keys, sk)
            if i < len(keys) and keys[i] == sk:
                del keys[i]
            # a DELETED event carries the last state, with a fresh resourceVersion
            obj = copy.copy(old)
            obj["metadata"] = dict(old["metadata"], resourceVersion=str(rv))
            raw = dumps(obj)
        self._index_owners(rtype, key, old, new)
        for hook in self.commit_hooks:
            hook(rtype, old, new)
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
            while True:
                while self._pending:
                    ev = self._pending.popleft()
                    for listener in self.listeners:
                        listener(ev)
                    budget -= 1
                    if budget <= 0:
                        raise apierrors.internal("sandbox controllers did not settle")
                # what the listeners put off (a controller's work queue) runs once the
                # events are all seen; what it writes is dispatched in turn
                for settle in self.settle_hooks if self.listeners else ():
                    settle()
                if not self._pending:
                    break
        finally:
            self._dispatching = False

    def _managed(self, old: Obj | None, obj: Obj, manager: str, subresource: str = "") -> None:
        managedfields.record(
            old, obj, manager=manager, subresource=subresource, time=rfc3339(self.clock.now())
        )

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
        _fresh: bool = False,
    ) -> Obj:
        """POST semantics. `_fresh` (for the sandbox's own writers): `obj` was built for this
        call and nobody else holds any part of it, and the answer is the stored object itself
        (read only): no deep copy in or out."""
        with self.lock:
            if not _fresh:
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
                ns_obj = self.peek(ns_type, "", namespace)
                if ns_obj is None:
                    raise apierrors.not_found("namespaces", "", namespace)
                if ns_obj["metadata"].get("deletionTimestamp"):
                    raise apierrors.forbidden_reason(
                        rtype.plural,
                        rtype.group,
                        name,
                        f"unable to create new content in namespace {namespace} because it is "
                        "being terminated",
                    )
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
            if _is_namespace(rtype):
                _namespace_defaults(obj)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339(self.clock.now())
            meta.pop("deletionTimestamp", None)
            if rtype.custom or "spec" in obj:
                meta["generation"] = 1
            self._managed(None, obj, manager)
            if dry_run:
                return obj
            self._commit(rtype, key, obj, "ADDED")
            self._dispatch()
            return obj if _fresh else copy.deepcopy(obj)

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
        subresource: str = "",
        _fresh: bool = False,
    ) -> Obj:
        """PUT semantics. `require_rv` defaults to the apiserver rule (CRs need one);
        `subresource` is the one written through (`status`, `scale`), as managedFields record it.
        `_fresh` (mutate's): `obj` is a copy nobody else holds, and the answer is the stored
        object itself (read only), which spares two deep copies of every controller write.
        """
        with self.lock:
            namespace = namespace if rtype.namespaced else ""
            key = (namespace, name)
            current = self._data[rtype.key].get(key)
            if current is None:
                raise apierrors.not_found(rtype.plural, rtype.group, name)
            if not _fresh:
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
                return cur if _fresh else copy.deepcopy(cur)  # a no-op update writes nothing
            self._managed(cur, obj, manager, subresource)
            if dry_run:
                return obj
            if (
                cur_meta.get("deletionTimestamp")
                and not meta.get("finalizers")
                and not _namespace_finalizers(rtype, obj)
            ):
                # the last finalizer is gone: the object is deleted, and the answer is its last
                # stored state at the deletion's resourceVersion
                ev = self._commit(rtype, key, None, "DELETED")
                self._dispatch()
                return copy.deepcopy(ev.obj)
            self._commit(rtype, key, obj, "MODIFIED")
            self._dispatch()
            return obj if _fresh else copy.deepcopy(obj)

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
        """Controller-side read-modify-write; returns the object as written (the stored one:
        read only), None when it is gone.

        A write that changes nothing but `status` is recorded as made through the `status`
        subresource, as controllers and kubelets write status (UpdateStatus)."""
        with self.lock:
            cur = self.peek(rtype, namespace, name)
            if cur is None:
                return None
            new = copy.deepcopy(cur)
            fn(new)
            sub = "status" if _body(new) == _body(cur) and _meta_same(new, cur) else ""
            return self.update(
                rtype,
                namespace,
                name,
                new,
                manager=manager,
                require_rv=False,
                subresource=sub,
                _fresh=True,
            )

    def delete(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        *,
        preconditions: Preconditions | None = None,
        propagation: str | None = "Background",
        dry_run: bool = False,
        grace_seconds: int | None = None,
    ) -> tuple[Obj, bool]:
        """Returns (object as the delete left it, removed now?).

        As the generic registry does: an object with finalizers (or given one by the
        Foreground/Orphan policy, whether or not it has dependents) is only marked with a
        deletionTimestamp and stays until the finalizers are removed; a Namespace stays while its
        `spec.finalizers` are set (the namespace controller empties it). `propagation` None keeps
        the GC finalizers the object already has.

        Graceful deletion (rest.BeforeDelete): a kind whose strategy gives the object a grace
        period (`grace_period`, Pods) is marked with `deletionTimestamp` = now + period and
        `deletionGracePeriodSeconds` and stays until deleted again with a shorter period (a
        kubelet confirms with 0; `kubectl delete --grace-period=0 --force` sends 0). While that is
        pending, a delete without a shorter `grace_seconds` changes nothing.
        """
        with self.lock:
            namespace = namespace if rtype.namespaced else ""
            key = (namespace, name)
            current = self._data[rtype.key].get(key)
            if current is None:
                raise apierrors.not_found(rtype.plural, rtype.group, name)
            cur = current.obj
            meta = cur["metadata"]
            if _is_namespace(rtype) and (
                not meta.get("deletionTimestamp") or _namespace_finalizers(rtype, cur)
            ):
                return self._delete_namespace(
                    rtype, key, cur, preconditions or Preconditions(), propagation, dry_run
                )
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
            old_finalizers = list(meta.get("finalizers") or [])
            finalizers = _gc_finalizers(old_finalizers, propagation)
            if grace_seconds is not None and grace_seconds < 0:
                grace_seconds = 1  # negative periods are taken as 1s
            graceful = self._graceful(rtype, cur, grace_seconds, finalizers, dry_run)
            if graceful is not None:
                return graceful
            if not finalizers:
                if dry_run:
                    return copy.deepcopy(cur), True
                snapshot = copy.deepcopy(cur)
                self._commit(rtype, key, None, "DELETED")
                self._dispatch()
                return snapshot, True
            if meta.get("deletionTimestamp") and finalizers == old_finalizers:
                return copy.deepcopy(cur), False  # already being deleted: nothing to change
            new = copy.deepcopy(cur)
            nm = new["metadata"]
            if not nm.get("deletionTimestamp"):
                nm["deletionTimestamp"] = rfc3339(self.clock.now())
                if int(nm.get("generation") or 0) > 0:
                    nm["generation"] = int(nm["generation"]) + 1
            nm["deletionGracePeriodSeconds"] = 0
            nm["finalizers"] = finalizers
            if dry_run:
                return new, False
            self._commit(rtype, key, new, "MODIFIED")
            self._dispatch()
            return copy.deepcopy(new), False

    def _graceful(
        self,
        rtype: ResourceType,
        cur: Obj,
        grace_seconds: int | None,
        finalizers: builtins.list[str],
        dry_run: bool,
    ) -> tuple[Obj, bool] | None:
        """The graceful part of a delete: the answer when it only marks (or leaves) the object,
        None when the delete goes on to remove it (or to wait on finalizers)."""
        meta = cur["metadata"]
        pending = int(meta.get("deletionGracePeriodSeconds") or 0)
        if meta.get("deletionTimestamp") and pending > 0:
            if grace_seconds is None or grace_seconds >= pending:
                return copy.deepcopy(cur), False  # graceful deletion is pending: nothing to do
            period = grace_seconds
            start = parse_rfc3339(meta["deletionTimestamp"]) - timedelta(seconds=pending)
        elif meta.get("deletionTimestamp") or self.grace_period is None:
            return None
        else:
            period = self.grace_period(rtype, cur, grace_seconds)
            start = self.clock.now()
        if period <= 0 and not meta.get("deletionTimestamp"):
            return None  # removed at once (or held by finalizers) as any other kind
        new = copy.deepcopy(cur)
        nm = new["metadata"]
        if not nm.get("deletionTimestamp") and int(nm.get("generation") or 0) > 0:
            nm["generation"] = int(nm["generation"]) + 1
        nm["deletionTimestamp"] = rfc3339(start + timedelta(seconds=period))
        nm["deletionGracePeriodSeconds"] = period
        if finalizers:
            nm["finalizers"] = finalizers
        if period <= 0 and not finalizers:
            if dry_run:
                return new, True
            self._commit(rtype, (nm.get("namespace", ""), nm["name"]), None, "DELETED")
            self._dispatch()
            return new, True
        if dry_run:
            return new, False
        self._commit(rtype, (nm.get("namespace", ""), nm["name"]), new, "MODIFIED")
        self._dispatch()
        return copy.deepcopy(new), False

    def _delete_namespace(
        self,
        rtype: ResourceType,
        key: Key,
        cur: Obj,
        pre: Preconditions,
        propagation: str | None,
        dry_run: bool,
    ) -> tuple[Obj, bool]:
        """registry/core/namespace/storage.go Delete: the first delete only marks the namespace
        Terminating; it goes once the namespace controller has emptied `spec.finalizers`."""
        meta = cur["metadata"]
        name = meta["name"]
        for what, want, have in (
            ("UID", pre.uid, meta.get("uid")),
            ("ResourceVersion", pre.resource_version, meta.get("resourceVersion")),
        ):
            if want and want != have:
                raise apierrors.conflict(
                    "namespaces",
                    "",
                    name,
                    f"Precondition failed: {what} in precondition: {want}, {what} in object "
                    f"meta: {have}",
                )
        if meta.get("deletionTimestamp"):
            return copy.deepcopy(cur), False
        new = copy.deepcopy(cur)
        nm = new["metadata"]
        nm["deletionTimestamp"] = rfc3339(self.clock.now())
        new.setdefault("status", {})["phase"] = "Terminating"
        finalizers = _gc_finalizers(list(nm.get("finalizers") or []), propagation)
        if finalizers:
            nm["finalizers"] = finalizers
        else:
            nm.pop("finalizers", None)
        if dry_run:
            return new, False
        self._commit(rtype, key, new, "MODIFIED")
        self._dispatch()
        return copy.deepcopy(new), False

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
                    if ev.rtype is not rtype:
                        continue
                    # as the watch cache does: an object that moves out of the selection is
                    # DELETED (its previous state at the new resourceVersion), one that moves in
                    # is ADDED
                    if ev.type != "MODIFIED" or ev.old is None:
                        if wanted(ev.obj):
                            batch.append((ev.type, ev.raw))
                        continue
                    now_in, was_in = wanted(ev.obj), wanted(ev.old)
                    if now_in:
                        batch.append(("MODIFIED" if was_in else "ADDED", ev.raw))
                    elif was_in:
                        gone = dict(ev.old, metadata=dict(ev.old["metadata"]))
                        gone["metadata"]["resourceVersion"] = str(ev.rv)
                        batch.append(("DELETED", dumps(gone)))
            yield from batch
            if not batch:
                yield "", b""  # heartbeat: lets the caller check its deadline
