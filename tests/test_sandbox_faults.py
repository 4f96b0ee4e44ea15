"""Fault injection, hooks and the request log, seen over HTTP as a client sees them."""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault, RequestInfo
from kubectl_vip.sandbox.server import ca_data

from .conftest import make_sandbox

G = "networking.tke.cloud.tencent.com"
CLAIMS = f"/apis/{G}/v1/vpcipclaims"
DB_CLAIMS = f"/apis/{G}/v1/namespaces/db/vpcipclaims"


class Client:
    """A bare HTTPS client: status, headers and body exactly as the sandbox sends them."""

    def __init__(self, sandbox: Sandbox, token: str | None) -> None:
        url = urlsplit(sandbox.url)
        ctx = ssl.create_default_context(cadata=ca_data().decode())
        self.host, self.port, self.ctx = url.hostname or "", url.port or 443, ctx
        self.token = token
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=10)

    def request(
        self, method: str, path: str, body: Any = None, **query: str
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
            if method == "PATCH":
                headers["Content-Type"] = "application/merge-patch+json"
        target = f"{path}?{urlencode(query)}" if query else path
        try:
            self.conn.request(method, target, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
        except (ConnectionError, http.client.HTTPException):
            self.conn.close()
            self.conn = self._connect()
            raise
        streamed = resp.headers.get("Transfer-Encoding") == "chunked"  # a watch: lines of JSON
        is_json = resp.headers.get_content_type() == "application/json"
        doc = json.loads(raw) if raw and is_json and not streamed else raw
        return resp.status, dict(resp.headers), doc

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = make_sandbox()
    yield sb
    sb.stop()


@pytest.fixture
def raw(sandbox: Sandbox) -> Iterator[Client]:
    c = Client(sandbox, sandbox.admin_token)
    yield c
    c.close()


def failure(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


# ------------------------------------------------------------------------------ faults


def test_internal_error_fires_once_by_default(raw: Client, sandbox: Sandbox) -> None:
    fault = sandbox.controls.inject(Fault(verb="list", resource="vpcipclaims"))
    code, _, body = raw.request("GET", CLAIMS)
    assert (code, body) == (500, failure(500, "InternalError", "sandbox: injected fault"))
    assert fault.fired == 1
    code, _, body = raw.request("GET", CLAIMS)
    assert code == 200 and len(body["items"]) == 23
    assert fault.fired == 1


def test_too_many_requests_counts_times_and_sends_retry_after(
    raw: Client, sandbox: Sandbox
) -> None:
    sandbox.controls.inject(
        Fault(
            verb="get",
            resource="vpcipclaims",
            code=429,
            reason="TooManyRequests",
            message="Too many requests, please try again later.",
            times=2,
            retry_after=3,
        )
    )
    for _ in range(2):
        code, headers, body = raw.request("GET", f"{DB_CLAIMS}/mysql-0")
        assert code == 429 and headers["Retry-After"] == "3"
        assert body == {
            **failure(429, "TooManyRequests", "Too many requests, please try again later."),
            "details": {"retryAfterSeconds": 3},
        }
        assert list(body) == [
            "kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code",
        ]  # fmt: skip
    code, headers, _ = raw.request("GET", f"{DB_CLAIMS}/mysql-0")
    assert code == 200 and "Retry-After" not in headers


def test_forbidden_fault_matches_only_its_target(raw: Client, sandbox: Sandbox) -> None:
    msg = (
        f'vpcipclaims.{G} "mysql-0" is forbidden: User "admin" cannot delete resource '
        f'"vpcipclaims" in API group "{G}" in the namespace "db"'
    )
    sandbox.controls.inject(
        Fault(
            verb="delete",
            resource="vpcipclaims",
            namespace="db",
            name="mysql-0",
            code=403,
            reason="Forbidden",
            message=msg,
            times=-1,
        )
    )
    for _ in range(3):
        code, _, body = raw.request("DELETE", f"{DB_CLAIMS}/mysql-0")
        assert (code, body) == (403, failure(403, "Forbidden", msg))
    assert raw.request("GET", f"{DB_CLAIMS}/mysql-0")[0] == 200  # other verbs pass
    assert raw.request("DELETE", f"{DB_CLAIMS}/redis-3")[0] == 200  # other names pass
    sandbox.controls.clear_faults()
    assert raw.request("DELETE", f"{DB_CLAIMS}/mysql-0")[0] == 200


def test_latency_delays_the_answer(raw: Client, sandbox: Sandbox) -> None:
    sandbox.controls.inject(Fault(verb="get", resource="vpcips", code=0, latency=0.3))
    t0 = time.perf_counter()
    code, _, body = raw.request("GET", f"/apis/{G}/v1/vpcips/10.0.2.60")
    slow = time.perf_counter() - t0
    assert code == 200 and body["metadata"]["name"] == "10.0.2.60"
    assert slow >= 0.3
    t0 = time.perf_counter()
    assert raw.request("GET", f"/apis/{G}/v1/vpcips/10.0.2.60")[0] == 200
    assert time.perf_counter() - t0 < 0.3


def test_reset_drops_the_connection(raw: Client, sandbox: Sandbox) -> None:
    sandbox.controls.inject(Fault(verb="list", resource="pods", reset=True))
    with pytest.raises((ConnectionError, http.client.HTTPException, ssl.SSLError)):
        raw.request("GET", "/api/v1/namespaces/db/pods")
    code, _, body = raw.request("GET", "/api/v1/namespaces/db/pods")
    assert code == 200 and len(body["items"]) == 6


def test_expired_continue_gives_a_fresh_token(raw: Client, sandbox: Sandbox) -> None:
    code, _, first = raw.request("GET", CLAIMS, limit="10")
    assert code == 200
    sandbox.controls.inject(Fault(verb="list", resource="vpcipclaims", expire_continue=True))
    sandbox.store.create(
        sandbox.world.t.claims,  # type: ignore[arg-type]  # the demo serves the TKE kinds
        "web",
        {"metadata": {"name": "zz-late"}, "spec": {}},
    )
    # a plain list is not a continuation: the fault waits for one
    assert raw.request("GET", CLAIMS, limit="10")[0] == 200
    code, _, body = raw.request(
        "GET", CLAIMS, limit="10", **{"continue": first["metadata"]["continue"]}
    )
    assert code == 410
    fresh = body["metadata"].pop("continue")
    assert body == failure(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You "
        "can start a new list without the continue parameter, or use the continue token in this "
        "response to retrieve the remainder of the results. Continuing with the provided token "
        "results in an inconsistent list - objects that were created, modified, or deleted "
        "between the time the first chunk was returned and now may show up in the list.",
    )
    tok = json.loads(base64.urlsafe_b64decode(fresh + "=" * (-len(fresh) % 4)))
    assert tok == {"v": "meta.k8s.io/v1", "rv": -1, "start": "default/debug-shell\x00"}
    # going on with it reads the rest at the latest version, the new claim included
    names: list[str] = []
    token: str | None = fresh
    while token:
        code, _, page = raw.request("GET", CLAIMS, limit="10", **{"continue": token})
        assert code == 200
        assert int(page["metadata"]["resourceVersion"]) == sandbox.store.rv
        names += [i["metadata"]["name"] for i in page["items"]]
        token = page["metadata"].get("continue")
    assert len(names) == 14 and names[0] == "etl-worker-0" and names[-1] == "zz-late"


def test_unauthenticated_requests_get_401(sandbox: Sandbox) -> None:
    anonymous = Client(sandbox, None)
    try:
        code, _, body = anonymous.request("GET", CLAIMS)
    finally:
        anonymous.close()
    assert (code, body) == (401, failure(401, "Unauthorized", "Unauthorized"))
    assert sandbox.controls.resource_requests() == []  # refused before it is routed


# ------------------------------------------------------------------------------ hooks and log


def test_a_hook_runs_before_the_request_it_matches(raw: Client, sandbox: Sandbox) -> None:
    claims = sandbox.world.t.claims
    assert claims is not None
    seen: list[RequestInfo] = []

    def race(req: RequestInfo) -> None:
        seen.append(req)

        def touch(o: dict[str, Any]) -> None:
            o["metadata"].setdefault("labels", {})["touched"] = "yes"

        sandbox.store.mutate(claims, req.namespace, req.name, touch)

    rv = sandbox.store.get(claims, "db", "redis-3")["metadata"]["resourceVersion"]
    sandbox.controls.on("delete", "vpcipclaims", race)
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": rv}}
    code, _, status = raw.request("DELETE", f"{DB_CLAIMS}/redis-3", body)
    # the hook changed the claim first, so the precondition no longer holds
    assert code == 409 and "does not match the ResourceVersion in record" in status["message"]
    assert [(r.verb, r.resource, r.namespace, r.name, r.user) for r in seen] == [
        ("delete", "vpcipclaims", "db", "redis-3", "admin")
    ]
    # once=True (the default): the next delete runs unhooked
    code, _, _ = raw.request("DELETE", f"{DB_CLAIMS}/redis-3")
    assert code == 200 and len(seen) == 1


def test_a_repeating_hook_and_wildcards(raw: Client, sandbox: Sandbox) -> None:
    calls: list[tuple[str, str]] = []
    sandbox.controls.on("*", "pods", lambda r: calls.append((r.verb, r.name)), once=False)
    raw.request("GET", "/api/v1/namespaces/db/pods")
    raw.request("GET", "/api/v1/namespaces/db/pods/mysql-0")
    raw.request("GET", CLAIMS)
    assert calls == [("list", ""), ("get", "mysql-0")]


def test_the_request_log_records_verbs_and_resources(raw: Client, sandbox: Sandbox) -> None:
    sandbox.controls.clear_log()
    raw.request("GET", "/apis")  # discovery is not a resource request
    raw.request("GET", CLAIMS, limit="5", labelSelector="app=mysql")
    raw.request("GET", f"{DB_CLAIMS}/mysql-0")
    claim = {"apiVersion": f"{G}/v1", "kind": "VpcIPClaim", "metadata": {"name": "x"}}
    raw.request("POST", DB_CLAIMS, claim)
    raw.request("PATCH", f"{DB_CLAIMS}/x", {"metadata": {"labels": {"a": "b"}}})
    raw.request("DELETE", f"{DB_CLAIMS}/x", dryRun="All")
    raw.request("DELETE", f"/apis/{G}/v1/vpcips/10.0.2.61")
    code, _, stream = raw.request("GET", "/api/v1/nodes", watch="true", timeoutSeconds="1")
    # one event a line; without a resourceVersion the current objects come first as ADDED
    events = [json.loads(line) for line in stream.splitlines()]
    assert code == 200 and [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", f"node-{x}") for x in "abcd"
    ]
    log = sandbox.controls.resource_requests()
    assert [(r.method, r.verb, r.resource, r.namespace, r.name) for r in log] == [
        ("GET", "list", "vpcipclaims", "", ""),
        ("GET", "get", "vpcipclaims", "db", "mysql-0"),
        ("POST", "create", "vpcipclaims", "db", ""),
        ("PATCH", "patch", "vpcipclaims", "db", "x"),
        ("DELETE", "delete", "vpcipclaims", "db", "x"),
        ("DELETE", "delete", "vpcips", "", "10.0.2.61"),
        ("GET", "watch", "nodes", "", ""),
    ]
    assert log[0].query == {"limit": "5", "labelSelector": "app=mysql"}
    assert log[0].group == G and log[-1].group == ""
    assert log[4].query == {"dryRun": "All"} and log[3].mutating and not log[0].mutating
    assert {r.user for r in log} == {"admin"}
    sandbox.controls.clear_log()
    assert sandbox.controls.resource_requests() == []


def _handler_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "process_request_thread" in t.name}


def test_a_dropped_watch_frees_its_server_thread(sandbox: Sandbox) -> None:
    before = _handler_threads()
    watcher = Client(sandbox, sandbox.admin_token)
    headers = {"Authorization": f"Bearer {sandbox.admin_token}"}
    watcher.conn.request("GET", f"{CLAIMS}?watch=true&timeoutSeconds=600", headers=headers)
    resp = watcher.conn.getresponse()
    assert resp.status == 200
    (serving,) = _handler_threads() - before
    resp.close()
    watcher.close()
    serving.join(timeout=5)  # the stream notices within its 0.5 s heartbeat, not in 600 s
    assert not serving.is_alive()
