"""The only code that talks to the API server: one HTTP client, raw JSON, paging, retries.

Requests are plain HTTP through urllib3 with the settings `kubeconfig.load` produced, so no
model classes are built for thousands of objects and our code does not depend on the generated
client's shape. Reads retry transient failures with backoff within --request-timeout; writes are
never retried blindly.
"""

from __future__ import annotations

import builtins
import contextlib
import email.utils
import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ..errors import (
    ApiError,
    ConfigError,
    Conflict,
    Forbidden,
    Gone,
    MalformedAnswer,
    NotFound,
    NotVpcCniError,
    ServerError,
    TimedOut,
    Unauthorized,
    UnexpectedResponse,
    Unreachable,
    UsageError,
    api_error_for,
)
from . import fastjson, redact, shapes, transport
from .kubeconfig import Connection
from .transport import BodyProblem, Reply

if TYPE_CHECKING:
    import urllib3

Obj = dict[str, Any]
TKE_GROUP = "networking.tke.cloud.tencent.com"
USER_AGENT = "kubectl-vip"
READ_RETRIES = 3
# A 429 (Too Many Requests: API Priority and Fairness, max-in-flight, a rate-limiting proxy) means
# the request was not executed, so even a write is safe to send again, after the answer's
# Retry-After (at most WRITE_429_WAIT seconds each time, and within --request-timeout).
WRITE_429_RETRIES = 4
WRITE_429_WAIT = 10.0


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool
    kind: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        # `.` and `..` are the only names quoting leaves able to change the path (the URL
        # parser resolves them: `pods/..` is the Namespace); the API allows neither
        if namespace in (".", "..") or name in (".", ".."):
            raise UsageError(f'"{name if name in (".", "..") else namespace}" is not a valid name')
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name:
            base += f"/{quote(name, safe='')}"
        return base


NAMESPACES = Resource("", "v1", "namespaces", False, "Namespace")
NODES = Resource("", "v1", "nodes", False, "Node")
PODS = Resource("", "v1", "pods", True, "Pod")
EVENTS = Resource("", "v1", "events", True, "Event")
CONFIGMAPS = Resource("", "v1", "configmaps", True, "ConfigMap")
SECRETS = Resource("", "v1", "secrets", True, "Secret")
DEPLOYMENTS = Resource("apps", "v1", "deployments", True, "Deployment")
STATEFULSETS = Resource("apps", "v1", "statefulsets", True, "StatefulSet")
DAEMONSETS = Resource("apps", "v1", "daemonsets", True, "DaemonSet")
REPLICASETS = Resource("apps", "v1", "replicasets", True, "ReplicaSet")
JOBS = Resource("batch", "v1", "jobs", True, "Job")
CRONJOBS = Resource("batch", "v1", "cronjobs", True, "CronJob")
REPLICATIONCONTROLLERS = Resource("", "v1", "replicationcontrollers", True, "ReplicationController")
# owner kinds of the built-in groups, known without discovery
BUILTIN_OWNER_KINDS: dict[str, dict[str, Resource]] = {
    "": {"ReplicationController": REPLICATIONCONTROLLERS},
    "apps": {r.kind: r for r in (STATEFULSETS, DEPLOYMENTS, DAEMONSETS, REPLICASETS)},
    "batch": {r.kind: r for r in (JOBS, CRONJOBS)},
}
# the TKE kinds' CustomResourceDefinitions (model fit: their schemas and versions)
CRDS = Resource(
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", False, "CustomResourceDefinition"
)
ACCESS_REVIEWS = Resource(
    "authorization.k8s.io", "v1", "selfsubjectaccessreviews", False, "SelfSubjectAccessReview"
)


@dataclass(frozen=True)
class TkeApi:
    """The TKE resources as this cluster serves them (version found by discovery)."""

    version: str
    claims: Resource
    vips: Resource
    necs: Resource | None
    enis: Resource | None


class Cluster:
    """`request_timeout` bounds each request as a whole (connect, headers, body); `deadline`
    (a time.monotonic() value) bounds every request of this connection: a fleet context's."""

    def __init__(
        self,
        conn: Connection,
        *,
        request_timeout: float | None = None,
        deadline: float | None = None,
    ) -> None:
        import urllib3  # here, not at import time: commands that never connect start faster

        self.conn = conn
        self.request_timeout = request_timeout
        self.deadline = deadline
        self._server_now: datetime | None = None
        self._tke: TkeApi | None = None
        self._api_groups: builtins.list[Obj] | None = None
        self._kinds: dict[tuple[str, str], Resource | None] = {}
        self.requests = 0
        self.list_pages = 0  # of `requests`, the pages of lists
        self._pages = threading.Lock()
        cert_reqs = "CERT_REQUIRED" if conn.verify else "CERT_NONE"
        tls: dict[str, Any] = {"cert_reqs": cert_reqs}
        if conn.ca_file:
            tls["ca_certs"] = conn.ca_file
        if conn.cert_file:
            tls["cert_file"] = conn.cert_file
        if conn.key_file:
            tls["key_file"] = conn.key_file
        if conn.tls_server_name:
            tls["server_hostname"] = conn.tls_server_name
        if not conn.verify:
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._http: urllib3.PoolManager = _pool_manager(conn.proxy, tls)
        self._via = ""
        if conn.proxy:
            from .proxy import split_credentials

            self._via = f" through the proxy {split_credentials(conn.proxy).url}"

    # ------------------------------------------------------------------ basics

    @property
    def server(self) -> str:
        return self.conn.server

    @property
    def namespace(self) -> str:
        return self.conn.namespace

    def now(self) -> datetime:
        """The API server's clock (from its Date header) when known, else ours."""
        return self._server_now or datetime.now(timezone.utc)

    def _timeout(self, deadline: float | None) -> urllib3.Timeout:
        import urllib3

        read = 60.0 if self.request_timeout is None else self.request_timeout
        if deadline is not None:
            read = max(0.1, min(read, deadline - time.monotonic()))
        return urllib3.Timeout(connect=min(10.0, read), read=read)

    def _deadline(self) -> float | None:
        """When a request starting now must have its whole answer."""
        own = time.monotonic() + self.request_timeout if self.request_timeout else None
        if self.deadline is None:
            return own
        return self.deadline if own is None else min(own, self.deadline)

    def _timed_out(self, deadline: float) -> TimedOut:
        if self.deadline is not None and deadline >= self.deadline:
            within = "the fleet's per-context deadline"
        else:
            within = f"{_seconds(self.request_timeout or 0)} (--request-timeout)"
        return TimedOut(
            f"cannot reach the API server at {self.conn.server}{self._via}: timed out: no "
            f"whole answer within {within}",
            hint="check the network and the server; a larger --request-timeout waits longer",
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        retry: bool | None = None,
    ) -> Reply:
        """One API call, its whole answer read (within the deadline, bounded in size). Reads
        (GET) retry transient failures unless retry=False."""
        retry = method == "GET" if retry is None else retry
        attempts = READ_RETRIES + 1 if retry else 1
        deadline = self._deadline()
        refreshed = False
        attempt = 0
        throttled = 0
        while True:
            attempt += 1
            try:
                reply = self._exchange(
                    method, path, query, body, content_type, deadline, refresh=refreshed
                )
            except Unreachable as e:
                if (
                    not isinstance(e, TimedOut)
                    and attempt < attempts
                    and self._backoff(attempt, deadline)
                ):
                    continue
                raise
            if reply.status < 400:
                return reply
            err = _error(reply.status, reply.data, self._unexpected(reply))
            if isinstance(err, Unauthorized) and not refreshed:
                refreshed = True  # an exec/OIDC token may have just expired: refresh once
                continue
            if (
                reply.status == 429
                and not retry
                and throttled < WRITE_429_RETRIES
                and self._wait_retry_after(reply, err, deadline)
            ):
                throttled += 1  # a write refused before it ran: send it again
                continue
            transient = isinstance(err, ServerError) or (
                isinstance(err, UnexpectedResponse) and (err.code >= 500 or err.code == 429)
            )  # a load balancer's 502/503 page is as transient as the server's own
            if transient and attempt < attempts and self._backoff(attempt, deadline):
                continue
            raise err

    def _exchange(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        body: Any,
        content_type: str,
        deadline: float | None,
        *,
        refresh: bool = False,
    ) -> Reply:
        """One attempt: the request and its whole answer, under one deadline."""
        import urllib3

        guard = transport.start(deadline)
        try:
            resp = self._send(method, path, query, body, content_type, deadline, guard, refresh)
            try:
                cap, cut = (
                    (transport.MAX_BODY, False)
                    if resp.status < 400
                    else (transport.MAX_ERROR_BODY, True)
                )
                return Reply(resp.status, resp.headers, transport.read_body(resp, cap, cut=cut))
            except BodyProblem as e:
                resp.close()  # never read on, nor back to the pool with unread data
                raise self._unusable(resp, e.detail) from None
            except BaseException:
                resp.close()
                raise
        except urllib3.exceptions.HTTPError as e:
            raise self._failed(e, deadline, guard) from None
        finally:
            if guard is not None:
                guard.finish()

    def _send(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        body: Any,
        content_type: str,
        deadline: float | None,
        guard: transport.Guard | None,
        refresh: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """The request, up to the answer's headers; its body is left to read (raw)."""
        if deadline is not None and time.monotonic() >= deadline:
            raise self._timed_out(deadline)
        url = self.conn.server + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        auth = self.conn.auth_header(force=refresh)
        if auth:
            headers["Authorization"] = auth
        self.requests += 1
        with transport.joining(guard):
            resp = self._http.request(
                method,
                url,
                body=data,
                headers=headers,
                timeout=self._timeout(deadline),
                retries=False,
                redirect=False,
                preload_content=False,
                decode_content=False,
            )
        self._note_date(resp.headers.get("Date"))
        return resp

    def _failed(
        self, e: Exception, deadline: float | None, guard: transport.Guard | None
    ) -> Unreachable:
        """What a transport error means: the deadline passed, or the server is unreachable."""
        if deadline is not None and (
            (guard is not None and guard.expired) or time.monotonic() >= deadline
        ):
            return self._timed_out(deadline)
        return Unreachable(
            f"cannot reach the API server at {self.conn.server}{self._via}: {_reason(e)}",
            hint="check --context/--kubeconfig, the network, and --request-timeout",
        )

    @staticmethod
    def _wait_retry_after(reply: Reply, err: ApiError, deadline: float | None) -> bool:
        """Sleep as a 429 asks (its Retry-After header, else the Status's retryAfterSeconds,
        else 1 s; at most WRITE_429_WAIT); False when that would pass the deadline."""
        wait: float = 1.0
        header = reply.headers.get("Retry-After") if reply.headers else None
        details = err.status.get("details") if isinstance(err.status, dict) else None
        seconds = details.get("retryAfterSeconds") if isinstance(details, dict) else None
        for value in (header, seconds):
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                try:
                    wait = float(value)
                    break
                except ValueError:
                    continue
        if not math.isfinite(wait):
            wait = 1.0
        wait = min(max(wait, 0.0), WRITE_429_WAIT)
        if deadline is not None and time.monotonic() + wait >= deadline:
            return False
        time.sleep(wait)
        return True

    @staticmethod
    def _backoff(attempt: int, deadline: float | None) -> bool:
        delay = 0.2 * (2 ** (attempt - 1))
        if deadline is not None and time.monotonic() + delay >= deadline:
            return False
        time.sleep(delay)
        return True

    def _note_date(self, value: str | None) -> None:
        if not value:
            return
        with contextlib.suppress(TypeError, ValueError):
            self._server_now = email.utils.parsedate_to_datetime(value).astimezone(timezone.utc)

    def _unexpected(
        self, resp: Reply | urllib3.BaseHTTPResponse, detail: str = ""
    ) -> UnexpectedResponse:
        """What a body that is not the API's JSON becomes: the status and media type only
        (an HTML page or a proxy's text never reaches the terminal), and what is wrong with it
        when that is ours to say (a bound it broke)."""
        media = (resp.headers.get("Content-Type") or "").split(";")[0].strip() or "no content type"
        what = f" ({detail})" if detail else ""
        return UnexpectedResponse(
            f"unexpected response from {self.conn.server}: HTTP {resp.status}, {media[:60]}: "
            f"not a Kubernetes API server answer{what}",
            code=resp.status,
            hint="a proxy, a load balancer or another server may be answering for it: check the "
            "server and proxy in the kubeconfig",
        )

    def _unusable(self, resp: Reply | urllib3.BaseHTTPResponse, detail: str) -> UnexpectedResponse:
        """An answer past one of our bounds (size, encoding, depth, integer size): no API server
        sends one, and reading on would cost memory and time without end."""
        return self._unexpected(resp, detail)

    def _decode(self, resp: Reply, what: str) -> Obj:
        """A successful answer's JSON object; anything else is refused in one line."""
        media = (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media and "json" not in media:
            raise self._unexpected(resp)
        try:
            doc = fastjson.loads(resp.data)
        except fastjson.Unusable as e:
            raise self._unusable(resp, e.detail) from None
        except ValueError:
            raise self._unexpected(resp) from None
        return shapes.check_object(doc, what)

    def get_json(self, path: str, query: dict[str, Any] | None = None) -> Obj:
        return self._decode(self.request("GET", path, query=query), f"the answer to GET {path}")

    # ------------------------------------------------------------------ objects

    def get(self, res: Resource, name: str, namespace: str | None = None) -> Obj | None:
        """The object, or None when it does not exist."""
        path = res.path(namespace, name)
        try:
            doc = self.get_json(path)
        except NotFound:
            return None
        return shapes.check_object(doc, f"the answer to GET {path}", res.kind)

    def list(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        chunk_size: int = 500,
        trim: Callable[[Obj], Obj] | None = None,
    ) -> tuple[builtins.list[Obj], str]:
        """Every matching object (paged), each passed through `trim`; and the list's RV.

        An expired continue token (410) restarts the list from the beginning, so the result
        has neither gaps nor duplicates.
        """
        path = res.path(namespace)
        for _restart in range(3):
            items: builtins.list[Obj] = []
            token = ""
            rv = ""
            try:
                while True:
                    query = {
                        "limit": chunk_size or None,
                        "continue": token,
                        "labelSelector": label_selector,
                        "fieldSelector": field_selector,
                    }
                    resp = self.request("GET", path, query=query)
                    self.list_pages += 1
                    # Lists read in parallel threads parse and reduce one page at a time (the
                    # GIL runs one anyway), and a page is dropped before the next is read: at
                    # most one page's objects are alive, whatever the number of lists.
                    with self._pages:
                        doc = self._decode(resp, f"the answer to GET {path}")
                        del resp
                        page, meta = shapes.check_list(doc, f"list {res.qualified}", res.kind)
                        items.extend(trim(o) for o in page) if trim else items.extend(page)
                        rv = rv or str(meta.get("resourceVersion") or "")
                        token = str(meta.get("continue") or "")
                        del doc, page, meta
                    if not token:
                        return items, rv
            except Gone:
                continue
        raise ApiError(f"listing {res.qualified} kept expiring; try a larger --chunk-size")

    def create(
        self, res: Resource, obj: Obj, namespace: str | None = None, *, dry_run: bool = False
    ) -> Obj:
        resp = self.request(
            "POST", res.path(namespace), query={"dryRun": "All" if dry_run else None}, body=obj
        )
        return self._decode(resp, f"the answer to create {res.qualified}")

    def patch_json(
        self,
        res: Resource,
        name: str,
        ops: builtins.list[Obj],
        namespace: str | None = None,
        *,
        dry_run: bool = False,
    ) -> Obj:
        resp = self.request(
            "PATCH",
            res.path(namespace, name),
            query={"dryRun": "All" if dry_run else None, "fieldManager": USER_AGENT},
            body=ops,
            content_type="application/json-patch+json",
        )
        return self._decode(resp, f"the answer to patch {res.qualified}")

    def delete(
        self,
        res: Resource,
        name: str,
        namespace: str | None = None,
        *,
        uid: str | None = None,
        resource_version: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete with preconditions. NotFound and Conflict reach the caller to decide."""
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        pre = {k: v for k, v in (("uid", uid), ("resourceVersion", resource_version)) if v}
        if pre:
            body["preconditions"] = pre
        if dry_run:
            body["dryRun"] = ["All"]
        if not name:
            raise UsageError(f"delete {res.qualified}: no name given")  # never the collection
        resp = self.request("DELETE", res.path(namespace, name), body=body)
        return self._decode(resp, f"the answer to delete {res.qualified}")

    def watch(
        self,
        res: Resource,
        namespace: str | None = None,
        *,
        resource_version: str = "",
        field_selector: str | None = None,
        timeout_seconds: int = 60,
    ) -> Iterator[tuple[str, Obj]]:
        """(type, object) events until the server ends the stream or `timeout_seconds` pass."""
        import urllib3

        path = res.path(namespace)
        query = {
            "watch": "1",
            "resourceVersion": resource_version,
            "fieldSelector": field_selector,
            "timeoutSeconds": timeout_seconds,
            "allowWatchBookmarks": "true",
        }
        # the server ends the stream after timeout_seconds; a server that does not is cut
        # a request timeout later (and never past this connection's own deadline)
        deadline = time.monotonic() + timeout_seconds + (self.request_timeout or 60)
        if self.deadline is not None:
            deadline = min(deadline, self.deadline)
        guard = transport.start(deadline)
        try:
            for attempt in (1, 2):
                try:
                    resp = self._send("GET", path, query, None, "", deadline, guard, attempt > 1)
                except urllib3.exceptions.HTTPError as e:
                    raise self._failed(e, deadline, guard) from None
                if resp.status < 400:
                    break
                try:
                    raw = transport.read_body(resp, transport.MAX_ERROR_BODY, cut=True)
                except urllib3.exceptions.HTTPError as e:
                    raise self._failed(e, deadline, guard) from None
                finally:
                    resp.close()
                err = _error(resp.status, raw, self._unexpected(resp))
                if not (isinstance(err, Unauthorized) and attempt == 1):
                    raise err  # a 401 is tried once more with refreshed credentials
            yield from self._events(resp, res, deadline, guard)
        finally:
            if guard is not None:
                guard.finish()

    def _events(
        self,
        resp: urllib3.BaseHTTPResponse,
        res: Resource,
        deadline: float | None,
        guard: transport.Guard | None,
    ) -> Iterator[tuple[str, Obj]]:
        import urllib3

        encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
        buf = b""
        try:
            if encoding not in ("identity", ""):
                raise self._unusable(resp, f"a watch stream in {encoding[:30]} encoding")
            for chunk in resp.stream(4096, decode_content=False):
                buf += chunk
                if len(buf) > transport.MAX_BODY:
                    raise self._unusable(resp, "a watch event larger than the answer limit")
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        ev = self._watch_event(line, res, resp)
                        obj = ev["object"]
                        if ev.get("type") == "ERROR":
                            code = obj.get("code")
                            code = code if isinstance(code, int) and code >= 400 else 500
                            raise _error(code, json.dumps(obj).encode(), self._unexpected(resp))
                        yield str(ev.get("type")), obj
        except urllib3.exceptions.HTTPError as e:
            if deadline is not None and (
                (guard is not None and guard.expired) or time.monotonic() >= deadline
            ):
                raise self._timed_out(deadline) from None
            raise Unreachable(f"watch of {res.qualified} broke: {_reason(e)}") from None
        finally:
            # a stream left unread must not go back to the pool: close its connection
            resp.close()
            resp.release_conn()

    def _watch_event(self, line: bytes, res: Resource, resp: urllib3.BaseHTTPResponse) -> Obj:
        where = f"a watch event of {res.qualified}"
        try:
            ev = fastjson.loads(line)
        except fastjson.Unusable as e:
            raise self._unusable(resp, e.detail) from None
        except ValueError:
            raise MalformedAnswer(f"{where} is not JSON") from None
        if not isinstance(ev, dict):
            raise MalformedAnswer(f"{where} is not an object")
        return {**ev, "object": shapes.check_object(ev.get("object"), f"{where}: object")}

    def can_i(self, verb: str, res: Resource, namespace: str | None = None) -> bool:
        review = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "spec": {
                "resourceAttributes": {
                    "namespace": namespace or "",
                    "verb": verb,
                    "group": res.group,
                    "resource": res.plural,
                }
            },
        }
        status = self.create(ACCESS_REVIEWS, review).get("status")
        if not isinstance(status, dict):
            raise MalformedAnswer("a SelfSubjectAccessReview came back without a status")
        return status.get("allowed") is True

    # ------------------------------------------------------------------ discovery

    def _groups(self) -> builtins.list[Obj]:
        if self._api_groups is None:
            groups = self.get_json("/apis").get("groups")
            self._api_groups = shapes.list_of_objects(groups, "/apis: groups")
        return self._api_groups

    def serves_group(self, group: str) -> bool:
        return group in BUILTIN_OWNER_KINDS or any(g.get("name") == group for g in self._groups())

    def resource_for(self, group: str, kind: str) -> Resource | None:
        """The served resource of `kind` in `group` (discovery, cached); None when no served
        version of the group has that kind. The preferred version is tried first."""
        if (group, kind) in self._kinds:
            return self._kinds[(group, kind)]
        found: Resource | None = None
        if group in BUILTIN_OWNER_KINDS:
            found = BUILTIN_OWNER_KINDS[group].get(kind)
        else:
            entry = next((g for g in self._groups() if g.get("name") == group), None) or {}
            where = f"/apis: group {group}"
            listed = shapes.list_of_objects(entry.get("versions"), f"{where} versions")
            versions = [v.get("version") for v in listed]
            pref = shapes.object_or_empty(entry.get("preferredVersion"), f"{where} preferred")
            for version in dict.fromkeys([pref.get("version"), *versions]):
                if not isinstance(version, str) or not _SEGMENT.fullmatch(version):
                    continue
                doc = self.get_json(f"/apis/{group}/{version}")
                for r in doc.get("resources") or []:
                    if not isinstance(r, dict) or "/" in str(r.get("name")):
                        continue
                    if r.get("kind") == kind:
                        namespaced = bool(r.get("namespaced"))
                        found = Resource(group, version, str(r["name"]), namespaced, kind)
                        break
                if found is not None:
                    break
        self._kinds[(group, kind)] = found
        return found

    def tke(self) -> TkeApi:
        """Find the served version of the TKE group; NotVpcCniError when it is not served."""
        if self._tke is not None:
            return self._tke
        groups = self._groups()
        group = next((g for g in groups if g.get("name") == TKE_GROUP), None)
        if group is None:
            raise NotVpcCniError(
                f"this cluster does not serve {TKE_GROUP} (VpcIPClaim, VpcIP): it is not a TKE "
                "VPC-CNI cluster with static Pod IPs",
                hint="check --context; static IP support is enabled per cluster in the TKE console",
            )
        where = f"/apis: group {TKE_GROUP}"
        preferred = shapes.object_or_empty(
            group.get("preferredVersion"), f"{where} preferredVersion"
        )
        version = str(preferred.get("version") or "")
        if not version:
            versions = shapes.list_of_objects(group.get("versions"), f"{where} versions") or [{}]
            version = str(versions[0].get("version") or "v1")
        if not _SEGMENT.fullmatch(version):
            raise MalformedAnswer(f"{where}: version {version[:40]!r} is not a version name")
        path = f"/apis/{TKE_GROUP}/{version}"
        doc = self.get_json(path)
        resources = shapes.list_of_objects(doc.get("resources"), f"{path}: resources")
        served = {r.get("name"): r for r in resources if "/" not in str(r.get("name"))}

        def res(plural: str) -> Resource | None:
            r = served.get(plural)
            if r is None:
                return None
            return Resource(
                TKE_GROUP, version, plural, bool(r.get("namespaced")), str(r.get("kind", ""))
            )

        claims, vips = res("vpcipclaims"), res("vpcips")
        if claims is None or vips is None:
            raise NotVpcCniError(
                f"{TKE_GROUP}/{version} does not serve vpcipclaims and vpcips: static Pod IPs "
                "are not enabled on this cluster"
            )
        self._tke = TkeApi(version, claims, vips, res("nodeeniconfigs"), res("vpcenis"))
        return self._tke


def _pool_manager(proxy: str | None, tls: dict[str, Any]) -> urllib3.PoolManager:
    """Direct, through an HTTP(S) proxy (its user:password sent as Proxy-Authorization, as
    client-go sends them), or through a SOCKS5 proxy (urllib3's SOCKS support, PySocks); its
    connections are cut at their request's deadline (transport.py)."""
    return transport.use_guarded_connections(_plain_pool_manager(proxy, tls))


def _plain_pool_manager(proxy: str | None, tls: dict[str, Any]) -> urllib3.PoolManager:
    import urllib3

    from .proxy import split_credentials

    if not proxy:
        return urllib3.PoolManager(maxsize=8, **tls)
    parts = split_credentials(proxy)
    if parts.scheme in ("socks5", "socks5h"):
        try:
            from urllib3.contrib.socks import SOCKSProxyManager
        except ImportError:
            raise ConfigError(
                f"the proxy {parts.url} is a SOCKS proxy, and SOCKS support is not installed",
                hint="pip install PySocks (or 'urllib3[socks]') into kubectl-vip's environment",
            ) from None
        # Go's SOCKS5 dialer passes host names to the proxy: socks5h in urllib3's terms
        url = "socks5h" + parts.url[len(parts.scheme) :]
        return SOCKSProxyManager(
            url, username=parts.username, password=parts.password, maxsize=8, **tls
        )
    headers: dict[str, str] = {}
    if parts.username is not None or parts.password is not None:
        credentials = f"{parts.username or ''}:{parts.password or ''}"
        headers = urllib3.util.make_headers(proxy_basic_auth=credentials)
        redact.remember(headers["proxy-authorization"], parts.password)
    return urllib3.ProxyManager(parts.url, proxy_headers=headers, maxsize=8, **tls)


_SEGMENT = re.compile(r"[a-z0-9][a-z0-9.-]{0,62}")


# what kube-apiserver (Go's http.NotFound) answers for a path it does not serve
APISERVER_404 = b"404 page not found"


def _error(code: int, raw: bytes, unexpected: UnexpectedResponse) -> ApiError:
    """The error for an answer >= 400: from its `Status` body; without one, kube-apiserver's
    plain `404 page not found` is NotFound and a 401 is Unauthorized, anything else (a proxy's
    page, a web server's HTML 404, a text body) is `unexpected`: read as NotFound, a 404 page
    would make an object that exists look gone."""
    status: Obj | None = None
    try:
        doc = fastjson.loads(raw) if raw else None
        if isinstance(doc, dict) and doc.get("kind") == "Status":
            status = doc
    except ValueError:  # fastjson.Unusable too: no Status, whatever else it is
        pass
    if status is None:
        if code == 404 and raw.strip() == APISERVER_404:
            status = {"message": "the server could not find the requested resource"}
        elif code == 401:
            status = {"message": "Unauthorized", "reason": "Unauthorized"}
        else:
            return unexpected
    elif not isinstance(status.get("message", ""), str):
        status = {**status, "message": ""}
    err = api_error_for(code, status)
    if isinstance(err, Unauthorized):
        err.hint = "your credentials were rejected: log in again or check the kubeconfig user"
    elif isinstance(err, Forbidden):
        err.hint = "ask a cluster admin for the RBAC permission named above"
    return err


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _reason(e: Exception) -> str:
    inner = getattr(e, "reason", None)
    text = str(inner or e)
    for marker in ("Connection refused", "timed out", "Name or service not known", "certificate"):
        if marker.lower() in text.lower():
            return (
                marker.lower()
                if marker != "certificate"
                else "TLS certificate problem: " + text[-120:]
            )
    return text.splitlines()[0][:200]


__all__ = [
    "ACCESS_REVIEWS",
    "CONFIGMAPS",
    "DAEMONSETS",
    "DEPLOYMENTS",
    "EVENTS",
    "NAMESPACES",
    "NODES",
    "PODS",
    "SECRETS",
    "STATEFULSETS",
    "Cluster",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Resource",
    "TkeApi",
]
