"""HTTP front of the sandbox: Kubernetes API paths, verbs, auth, faults, watch streaming."""

from __future__ import annotations

import contextlib
import email.utils
import json
import select
import socket
import ssl
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from . import apierrors, frozen, patching, protobuf, strategies, subresources, tables
from .apierrors import StatusError
from .controls import ADMIN, RequestInfo, User
from .frozen import Answer, FrozenAnswers, Key
from .resources import ResourceType
from .selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from .store import Entry, Obj, Preconditions, decode_continue, dumps, encode_continue

if TYPE_CHECKING:
    from .core import SandboxCore

VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.2-tke.sandbox",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.6",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_VERB_BY_METHOD = {"POST": "create", "PUT": "update", "PATCH": "patch"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxCore
    stopping: bool = False
    frozen: FrozenAnswers | None = None  # sandbox serve --frozen: reads answered from bytes

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that hangs up (mid-handshake, or while its answer is delayed by an injected
        # latency) is routine here, not a server error worth a traceback
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold every response back ~40 ms
    disable_nagle_algorithm = True
    _retry_after: int | None = None
    _frozen_key: Key | None = None
    # (stored, served) apiVersion: a kind asked for at a version it is not stored at
    _served_as: tuple[str, str] | None = None
    server: _Server
    server_version = "kube-apiserver-sandbox"
    sys_version = ""

    # ------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        # Date follows the virtual clock: clients may take it as the server's "now"
        return email.utils.format_datetime(self.server.sandbox.clock.now(), usegmt=True)

    def _send(
        self,
        code: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        key, self._frozen_key = self._frozen_key, None
        if self._served_as is not None and content_type == "application/json":
            body = as_version(body, *self._served_as)
        if key is not None and code == 200 and self.server.frozen is not None:
            self.server.frozen.put(key, Answer(body, content_type, dict(headers or {})))
        if self.server.sandbox.controls.rewrites:  # a test's odd server (controls.Rewrite)
            path = urlsplit(self.path).path
            code, body, content_type = self.server.sandbox.controls.rewritten(
                self.command, path, code, body, content_type
            )
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, code: int, doc: Any) -> None:
        self._send(code, dumps(doc))

    def _send_error(self, err: StatusError) -> None:
        extra = {}
        if self._retry_after is not None:
            extra["Retry-After"] = str(self._retry_after)
            self._retry_after = None
        self._send(err.code, dumps(err.body()), headers=extra)

    def _read_body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    # ------------------------------------------------------------ dispatch

    def _handle(self) -> None:
        sb = self.server.sandbox
        self._retry_after = None
        self._served_as = None
        body = self._read_body() if self.command in ("POST", "PUT", "PATCH", "DELETE") else b""
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        parts = [p for p in url.path.split("/") if p]
        try:
            user = self._authenticate()
            if self.server.frozen is not None and self._frozen_answer(query):
                return
            route = self._route(parts)
            if route is None:
                self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
                return
            if callable(route):
                self._send_json(200, route())
                return
            rtype, namespace, name, sub = route
            stored = sb.registry.stored(rtype)
            if stored is not rtype:
                self._served_as = (stored.group_version, rtype.group_version)
                rtype = stored
            verb = verb_for(self.command, rtype, name, query)
            req = RequestInfo(
                self.command,
                url.path,
                verb,
                rtype.group,
                rtype.plural,
                namespace,
                name,
                sub,
                query,
                user.name,
            )
            sb.controls.log(req)
            sb.controls.run_hooks(req)
            fault = sb.controls.take_fault(req)
            if fault is not None:
                if fault.latency:
                    time.sleep(fault.latency)
                if fault.reset:
                    self._reset()
                    return
                if fault.expire_continue:
                    raise _expired(query.get("continue", ""))
                if fault.code:
                    self._retry_after = fault.retry_after
                    details = None
                    if fault.retry_after is not None:
                        details = {"retryAfterSeconds": fault.retry_after}
                    raise StatusError(fault.code, fault.reason, fault.message, details)
            self._authorize(user, req, rtype)
            if self.server.frozen is not None:
                frozen.refuse_write(rtype, name, verb)
            self._serve(rtype, req, body, user)
        except StatusError as e:
            self._send_error(e)
        except OSError:  # the client went away (reset, broken pipe, TLS EOF)
            self.close_connection = True

    def _frozen_answer(self, query: dict[str, str]) -> bool:
        """Send the kept answer to this read if there is one; else mark it to be kept."""
        assert self.server.frozen is not None
        key = frozen.cache_key(
            self.command,
            self.path,
            query,
            self.headers.get("Accept", ""),
            self.headers.get("Authorization", ""),
        )
        if key is None:
            return False
        hit = self.server.frozen.get(key)
        if hit is None:
            self._frozen_key = key
            return False
        self._send(200, hit.body, hit.content_type, hit.headers)
        return True

    def _reset(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _authenticate(self) -> User:
        users = self.server.sandbox.controls.users
        if not users:
            return ADMIN
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:].strip() in users:
            return users[auth[7:].strip()]
        raise apierrors.unauthorized()

    def _authorize(self, user: User, req: RequestInfo, rtype: ResourceType) -> None:
        resource = f"{rtype.plural}/{req.subresource}" if req.subresource else rtype.plural
        if not user.allows(req.verb, resource, req.namespace):
            raise apierrors.forbidden(
                user.name, req.verb, resource, rtype.group, req.name, req.namespace
            )

    def _route(
        self, parts: list[str]
    ) -> Callable[[], Any] | tuple[ResourceType, str, str, str] | None:
        reg = self.server.sandbox.registry
        if parts == ["version"]:
            return lambda: VERSION_INFO
        if parts == ["api"]:
            return reg.api_versions
        if parts == ["apis"]:
            return reg.api_group_list
        if parts[:2] == ["openapi", "v3"]:
            doc = (
                reg.openapi_root()
                if len(parts) == 2
                else reg.openapi_group_version("/".join(parts[2:]))
            )
            return (lambda: doc) if doc is not None else None
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 2:
            if len(parts) == 2:
                doc = reg.api_group(parts[1])
                return (lambda: doc) if doc is not None else None
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        if not rest:
            rl = reg.api_resource_list(group, version)
            return (lambda: rl) if rl is not None else None
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural = rest[0]
        name = rest[1] if len(rest) > 1 else ""
        sub = "/".join(rest[2:])
        rtype = reg.lookup(group, version, plural)
        if rtype is None or (namespace and not rtype.namespaced):
            return None
        if sub and (not name or rtype.subresource(sub) is None):
            return None
        return rtype, namespace, name, sub

    # ------------------------------------------------------------ verbs

    def _serve(self, rtype: ResourceType, req: RequestInfo, body: bytes, user: User) -> None:
        sb = self.server.sandbox
        store = sb.store
        q = req.query
        dry_run = _dry_run(q, req.verb) if req.verb != "delete" else False
        manager = q.get("fieldManager") or (self.headers.get("User-Agent", "unknown").split("/")[0])
        if not req.subresource and req.verb not in rtype.verbs:
            raise apierrors.method_not_allowed(req.verb, rtype.plural, rtype.group)
        if req.subresource:
            self._subresource(rtype, req, body, dry_run=dry_run, manager=manager)
        elif req.verb == "get":
            entry = _entry(store, rtype, req.namespace, req.name)
            version = self._table_version(q)
            if version:
                meta = {"resourceVersion": entry.obj["metadata"].get("resourceVersion", "")}
                self._send(200, self._table(rtype, [entry], meta, version, q))
            else:
                self._send(200, entry.raw)
        elif req.verb == "list":
            self._list(rtype, req)
        elif req.verb == "watch":
            self._watch(rtype, req)
        elif req.verb == "create":
            obj = _decode(body, self.headers.get("Content-Type", ""))
            if rtype.plural == "selfsubjectaccessreviews":
                self._send_json(201, _access_review(obj, user))
                return
            created = store.create(rtype, req.namespace, obj, dry_run=dry_run, manager=manager)
            if dry_run:
                created["metadata"].pop("resourceVersion", None)
            self._send_json(201, created)
        elif req.verb == "update":
            obj = _decode(body, self.headers.get("Content-Type", ""))
            with store.lock:
                if strategies.keeps_status(rtype):
                    current = store.peek(rtype, req.namespace, req.name)
                    obj = strategies.main_write(rtype, current or {}, obj)
                updated = store.update(
                    rtype, req.namespace, req.name, obj, dry_run=dry_run, manager=manager
                )
            self._send_json(200, updated)
        elif req.verb == "patch":
            with store.lock:
                current = store.get(rtype, req.namespace, req.name)
                patched = patching.apply_patch(
                    current,
                    body,
                    self.headers.get("Content-Type", ""),
                    builtin=not rtype.custom,
                )
                updated = store.update(
                    rtype,
                    req.namespace,
                    req.name,
                    strategies.main_write(rtype, current, patched),
                    dry_run=dry_run,
                    manager=manager,
                    require_rv=False,
                )
            self._send_json(200, updated)
        elif req.verb == "delete":
            self._delete(rtype, req, body)
        elif req.verb == "deletecollection":
            labels, fields = _selectors(rtype, q)
            entries, *_ = store.list(rtype, req.namespace or None, labels=labels, fields=fields)
            items = []
            for e in entries:
                m = e.obj["metadata"]
                obj, _removed = store.delete(
                    rtype, m.get("namespace", ""), m["name"], dry_run=dry_run
                )
                items.append(obj)
            self._send_json(
                200,
                {
                    "kind": f"{rtype.kind}List",
                    "apiVersion": rtype.group_version,
                    "metadata": {"resourceVersion": str(store.rv)},
                    "items": items,
                },
            )
        else:
            raise apierrors.method_not_allowed(req.verb, rtype.plural, rtype.group)

    def _subresource(
        self, rtype: ResourceType, req: RequestInfo, body: bytes, *, dry_run: bool, manager: str
    ) -> None:
        sb = self.server.sandbox
        store = sb.store
        content_type = self.headers.get("Content-Type", "")
        if req.subresource == "eviction" and req.verb == "create":
            eviction = _decode(body, content_type)
            pdbs = sb.registry.by_key.get("poddisruptionbudgets.policy")
            status = subresources.evict(
                store, rtype, pdbs, req.namespace, req.name, eviction, dry_run=dry_run
            )
            self._send_json(201, status)
            return
        if req.subresource == "status" and req.verb in ("get", "update", "patch"):
            self._status(rtype, req, body, dry_run=dry_run, manager=manager)
            return
        if req.subresource != "scale" or req.verb not in ("get", "update", "patch"):
            raise apierrors.method_not_allowed(
                req.verb, f"{rtype.plural}/{req.subresource}", rtype.group
            )
        if req.verb == "get":
            scale = subresources.scale_of(
                store.get(rtype, req.namespace, req.name), rtype.subresource("scale")
            )
            version = self._table_version(req.query)
            if version:
                self._send(200, tables.scale_table(scale, version=version))
            else:
                self._send_json(200, scale)
            return
        with store.lock:
            if req.verb == "update":
                scale = _decode(body, content_type)
            else:
                current = subresources.scale_of(
                    store.get(rtype, req.namespace, req.name), rtype.subresource("scale")
                )
                scale = patching.apply_patch(current, body, content_type, builtin=True)
            written = subresources.write_scale(
                store, rtype, req.namespace, req.name, scale, dry_run=dry_run, manager=manager
            )
        self._send_json(200, written)

    def _status(
        self, rtype: ResourceType, req: RequestInfo, body: bytes, *, dry_run: bool, manager: str
    ) -> None:
        """`<kind>/status` (strategies.py): the whole object read; only its status written."""
        store = self.server.sandbox.store
        if req.verb == "get":
            entry = _entry(store, rtype, req.namespace, req.name)
            version = self._table_version(req.query)
            if version:
                meta = {"resourceVersion": entry.obj["metadata"].get("resourceVersion", "")}
                self._send(200, self._table(rtype, [entry], meta, version, req.query))
            else:
                self._send(200, entry.raw)
            return
        content_type = self.headers.get("Content-Type", "")
        with store.lock:
            current = store.get(rtype, req.namespace, req.name)
            if req.verb == "update":
                new = _decode(body, content_type)
            else:
                new = patching.apply_patch(current, body, content_type, builtin=not rtype.custom)
            updated = store.update(
                rtype,
                req.namespace,
                req.name,
                strategies.status_write(current, new),
                dry_run=dry_run,
                manager=manager,
                require_rv=False,
                subresource="status",
            )
        self._send_json(200, updated)

    def _list(self, rtype: ResourceType, req: RequestInfo) -> None:
        store = self.server.sandbox.store
        q = req.query
        labels, fields = _selectors(rtype, q)
        rv = q.get("resourceVersion", "")
        match = q.get("resourceVersionMatch", "")
        token = q.get("continue", "")
        if match and not rv:
            raise _list_options_invalid(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            )
        if token:
            decode_continue(token)  # a bad token is reported before a bad combination
        if token and rv not in ("", "0"):
            raise apierrors.bad_request(
                "specifying resource version is not allowed when using continue"
            )
        limit = _int(q.get("limit", "0"), "limit")
        if rv == "0" and not token:
            limit = 0  # served from the watch cache: the limit is ignored
        entries, list_rv, next_token, remaining = store.list(
            rtype,
            req.namespace or None,
            labels=labels,
            fields=fields,
            limit=limit,
            continue_token=token,
        )
        meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if next_token:
            meta["continue"] = next_token
        if remaining is not None:
            meta["remainingItemCount"] = remaining
        version = self._table_version(q)
        if version:
            self._send(200, self._table(rtype, entries, meta, version, q))
            return
        head = dumps(
            {"kind": f"{rtype.kind}List", "apiVersion": rtype.group_version, "metadata": meta}
        )
        body = head[:-1] + b',"items":[' + b",".join(e.raw for e in entries) + b"]}"
        self._send(200, body)

    def _table_version(self, q: dict[str, str]) -> str | None:
        version = tables.wants_table(self.headers.get("Accept", ""))
        if version and q.get("includeObject", "Metadata") not in ("None", "Metadata", "Object"):
            raise apierrors.bad_request(
                f"unrecognized includeObject value: {json.dumps(q['includeObject'])}"
            )
        return version

    def _table(
        self,
        rtype: ResourceType,
        entries: list[Entry],
        meta: dict[str, Any],
        version: str,
        q: dict[str, str],
        *,
        headers: bool = True,
    ) -> bytes:
        return tables.table(
            rtype,
            entries,
            meta,
            version=version,
            now=self.server.sandbox.clock.now(),
            include=q.get("includeObject", "Metadata"),
            headers=headers,
        )

    def _watch(self, rtype: ResourceType, req: RequestInfo) -> None:
        sb = self.server.sandbox
        q = req.query
        if q.get("sendInitialEvents") in ("true", "1"):
            raise _list_options_invalid(
                "sendInitialEvents",
                "Forbidden: sendInitialEvents is forbidden for watch unless the WatchList "
                "feature gate is enabled",
            )
        labels, fields = _selectors(rtype, q)
        rv = q.get("resourceVersion", "")
        since = int(rv) if rv not in ("", "0") and rv.isdigit() else None
        timeout = _int(q.get("timeoutSeconds", "0"), "timeoutSeconds") or 1800
        deadline = time.monotonic() + timeout
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        version = self._table_version(q)
        headers = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

        def chunk(data: bytes) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def stop() -> bool:
            return self.server.stopping or time.monotonic() >= deadline or gone()

        def gone() -> bool:
            # a watching client sends nothing: a readable socket means it hung up, and the
            # stream (and this thread) can end instead of idling until the deadline
            try:
                return bool(select.select([self.connection], [], [], 0)[0])
            except (OSError, ValueError):
                return True

        last_bookmark = time.monotonic()
        try:
            for etype, raw in sb.store.watch(
                rtype, req.namespace or None, since, labels=labels, fields=fields, stop=stop
            ):
                if etype == "ERROR":
                    chunk(b'{"type":"ERROR","object":%s}\n' % raw)
                    break
                if etype:
                    if self._served_as is not None:
                        raw = as_version(raw, *self._served_as)
                    if version:  # one row a Table; only the first carries the columns
                        obj = Entry(json.loads(raw))
                        meta = {"resourceVersion": obj.obj["metadata"].get("resourceVersion")}
                        raw = self._table(rtype, [obj], meta, version, q, headers=headers)
                        headers = False
                    chunk(b'{"type":"%s","object":%s}\n' % (etype.encode(), raw))
                if bookmarks and time.monotonic() - last_bookmark > 30:
                    last_bookmark = time.monotonic()
                    mark = {
                        "kind": rtype.kind,
                        "apiVersion": rtype.group_version,
                        "metadata": {"resourceVersion": str(sb.store.rv)},
                    }
                    body = dumps(mark)
                    if self._served_as is not None:
                        body = as_version(body, *self._served_as)
                    chunk(b'{"type":"BOOKMARK","object":%s}\n' % body)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client went away
            pass
        self.close_connection = True

    def _delete(self, rtype: ResourceType, req: RequestInfo, body: bytes) -> None:
        store = self.server.sandbox.store
        opts = _delete_options(body, req.query)
        dry_run = bool(opts.get("dryRun"))
        pre = opts.get("preconditions") or {}
        orphan = opts.get("orphanDependents")
        propagation = opts.get("propagationPolicy")
        if orphan is not None:
            propagation = "Orphan" if orphan else "Background"
        grace = opts.get("gracePeriodSeconds")
        obj, removed = store.delete(
            rtype,
            req.namespace,
            req.name,
            preconditions=Preconditions(pre.get("uid"), pre.get("resourceVersion")),
            propagation=propagation,
            dry_run=dry_run,
            grace_seconds=int(grace) if isinstance(grace, int) else None,
        )
        if removed and rtype.plural not in RETURNS_DELETED_OBJECT:
            # finalizeDelete: "Yes we set Kind field to resource."
            details = _details_of(rtype, req.name)
            details["uid"] = obj["metadata"].get("uid")
            self._send_json(
                200,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": details,
                },
            )
            return
        # 202 only where a client asked for cascading with the deprecated field
        self._send_json(202 if not removed and orphan is False else 200, obj)


# kinds whose registry sets ReturnDeletedObject (the rest answer an immediate delete with Status)
RETURNS_DELETED_OBJECT = frozenset({"pods", "namespaces"})


def as_version(body: bytes, stored: str, served: str) -> bytes:
    """An object, a list or a Table of a kind stored at apiVersion `stored`, as served at
    `served`: a CRD's conversion strategy `None` changes nothing else."""
    if b'"apiVersion":"%s"' % stored.encode() not in body:
        return body
    doc = json.loads(body)

    def one(o: Any) -> None:
        if isinstance(o, dict) and o.get("apiVersion") == stored:
            o["apiVersion"] = served

    one(doc)
    for item in doc.get("items") or []:
        one(item)
    for row in doc.get("rows") or []:
        one(row.get("object"))
    return dumps(doc)


def _details_of(rtype: ResourceType, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if rtype.group:
        details["group"] = rtype.group
    details["kind"] = rtype.plural
    return details


def _delete_options(body: bytes, q: dict[str, str]) -> dict[str, Any]:
    """DeleteOptions from the body, else from the query, validated as apiserver does."""
    opts: dict[str, Any] = {}
    if body.strip():
        try:
            doc = json.loads(body)
        except ValueError as e:
            raise apierrors.bad_request(f"error decoding DeleteOptions: {e}") from None
        if not isinstance(doc, dict):
            raise apierrors.bad_request("the request body must be a DeleteOptions object")
        opts = doc
    else:
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if "orphanDependents" in q:
            opts["orphanDependents"] = q["orphanDependents"].lower() in ("true", "1", "t")
        if "dryRun" in q:
            opts["dryRun"] = [q["dryRun"]]
        if "gracePeriodSeconds" in q:
            opts["gracePeriodSeconds"] = _int(q["gracePeriodSeconds"], "gracePeriodSeconds")
    causes: list[tuple[str, str, str]] = []
    policy = opts.get("propagationPolicy")
    if opts.get("orphanDependents") is not None and policy is not None:
        causes.append(
            (
                "FieldValueInvalid",
                "propagationPolicy",
                f"Invalid value: {json.dumps(policy)}: orphanDependents and deletionPropagation "
                "cannot be both set",
            )
        )
    if policy is not None and policy not in ("Foreground", "Background", "Orphan"):
        causes.append(
            (
                "FieldValueNotSupported",
                "propagationPolicy",
                f"Unsupported value: {json.dumps(policy)}: supported values: "
                '"Foreground", "Background", "Orphan", "nil"',
            )
        )
    if causes:
        raise apierrors.invalid("DeleteOptions", "meta.k8s.io", "", causes)
    _check_dry_run([str(v) for v in opts.get("dryRun") or []], "DeleteOptions")
    return opts


def verb_for(method: str, rtype: ResourceType, name: str, query: dict[str, str]) -> str:
    if method in ("GET", "HEAD"):
        if not name:
            watch = query.get("watch", "").lower() in ("true", "1", "t")  # Go's ParseBool
            return "watch" if watch else "list"
        return "get"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    return _VERB_BY_METHOD.get(method, method.lower())


def _entry(store: Any, rtype: ResourceType, namespace: str, name: str) -> Entry:
    with store.lock:
        e: Entry | None = store.entry(rtype, namespace, name)
        if e is None:
            raise apierrors.not_found(rtype.plural, rtype.group, name)
        return e


_OPTIONS_KIND = {
    "create": "CreateOptions",
    "update": "UpdateOptions",
    "patch": "PatchOptions",
    "delete": "DeleteOptions",
    "deletecollection": "DeleteOptions",
}


def _dry_run(q: dict[str, str], verb: str) -> bool:
    value = q.get("dryRun")
    if value is None or verb not in _OPTIONS_KIND:
        return False
    _check_dry_run([value], _OPTIONS_KIND[verb])
    return True


def _check_dry_run(values: list[str], options_kind: str) -> None:
    """metav1 validation.ValidateDryRun: only "All" is known."""
    if any(v != "All" for v in values):
        shown = ", ".join(json.dumps(v) for v in values)
        raise apierrors.invalid(
            options_kind,
            "meta.k8s.io",
            "",
            [
                (
                    "FieldValueNotSupported",
                    "dryRun",
                    f'Unsupported value: []string{{{shown}}}: supported values: "All"',
                )
            ],
        )


def _expired(token: str) -> StatusError:
    """410 for a continue token that is too old, with a token to go on at the latest version
    (etcd3 handleCompactedErrorForPaging: same start key, rv -1)."""
    try:
        _, start = decode_continue(token)
    except StatusError:
        return StatusError(410, "Expired", apierrors.CONTINUE_EXPIRED)
    return apierrors.expired_continue(encode_continue(-1, start))


def _int(text: str, what: str) -> int:
    try:
        return int(text or "0")
    except ValueError:
        raise apierrors.bad_request(f'{what}: Invalid value: "{text}"') from None


def _selectors(
    rtype: ResourceType, q: dict[str, str]
) -> tuple[LabelSelector | None, FieldSelector | None]:
    ls = q.get("labelSelector", "")
    fs = q.get("fieldSelector", "")
    labels = parse_label_selector(ls) if ls else None
    fields = parse_field_selector(fs, rtype.supported_fields, rtype.kind) if fs else None
    return labels, fields


def _list_options_invalid(field: str, body: str) -> StatusError:
    return apierrors.invalid(
        "ListOptions", "meta.k8s.io", "", [("FieldValueForbidden", field, body)]
    )


def _decode(body: bytes, content_type: str) -> Obj:
    media = content_type.split(";")[0].strip().lower()
    if media == protobuf.PROTOBUF:
        return protobuf.decode(body)
    if media not in ("", "application/json", "application/yaml", "*/*"):
        raise apierrors.unsupported_media_type(["application/json", "application/yaml"])
    try:
        doc = yaml.safe_load(body) if media == "application/yaml" else json.loads(body)
    except (ValueError, yaml.YAMLError) as e:
        raise apierrors.bad_request(f"error decoding request body: {e}") from None
    if not isinstance(doc, dict):
        raise apierrors.bad_request("the request body must be a JSON object")
    return doc


def _access_review(obj: Obj, user: User) -> Obj:
    attrs = (obj.get("spec") or {}).get("resourceAttributes") or {}
    allowed = user.allows(
        str(attrs.get("verb", "")), str(attrs.get("resource", "")), str(attrs.get("namespace", ""))
    )
    out = dict(obj)
    out.setdefault("apiVersion", "authorization.k8s.io/v1")
    out.setdefault("kind", "SelfSubjectAccessReview")
    out["metadata"] = {"creationTimestamp": None}
    out["status"] = {"allowed": allowed}
    return out


TLS_DIR = Path(__file__).parent / "tls"


def make_server(sandbox: SandboxCore, host: str = "127.0.0.1", port: int = 0) -> _Server:
    """A TLS server: kubectl sends credentials only over TLS, so users can be told apart.

    The certificate is a fixed self-signed one for 127.0.0.1/localhost that ships with the
    package; it protects nothing (the sandbox serves loopback only), it only makes TLS possible.
    """
    srv = _Server((host, port), Handler)
    srv.sandbox = sandbox
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS_DIR / "cert.pem", TLS_DIR / "key.pem")
    # the handshake runs in the request thread, so a slow client cannot stall accept()
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    return srv


def ca_data() -> bytes:
    return (TLS_DIR / "cert.pem").read_bytes()
