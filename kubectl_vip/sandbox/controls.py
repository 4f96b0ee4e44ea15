"""What tests steer in the sandbox: users and their rights, injected faults, hooks, a request
log."""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RequestInfo:
    method: str
    path: str
    verb: str  # get list watch create update patch delete deletecollection, or "" (non-resource)
    group: str = ""
    resource: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    query: dict[str, str] = field(default_factory=dict)
    user: str = ""

    @property
    def mutating(self) -> bool:
        return self.verb in ("create", "update", "patch", "delete", "deletecollection")


@dataclass
class Rule:
    """Allows `verbs` on `resources` (plural names, `*` for all) in `namespaces` (None = all)."""

    verbs: frozenset[str]
    resources: frozenset[str] = frozenset({"*"})
    namespaces: frozenset[str] | None = None

    def allows(self, verb: str, resource: str, namespace: str) -> bool:
        if "*" not in self.verbs and verb not in self.verbs:
            return False
        if "*" not in self.resources and resource not in self.resources:
            return False
        return self.namespaces is None or namespace in self.namespaces


@dataclass
class User:
    name: str
    rules: list[Rule]

    def allows(self, verb: str, resource: str, namespace: str) -> bool:
        return any(r.allows(verb, resource, namespace) for r in self.rules)


ADMIN = User("admin", [Rule(frozenset({"*"}))])
READ_ONLY_VERBS = frozenset({"get", "list", "watch"})


def read_only(name: str = "viewer") -> User:
    """Reads everything; may still ask what it is allowed to do (SelfSubjectAccessReview)."""
    return User(
        name,
        [
            Rule(READ_ONLY_VERBS),
            Rule(frozenset({"create"}), frozenset({"selfsubjectaccessreviews"})),
        ],
    )


@dataclass
class Fault:
    """An injected failure for matching requests (`*` matches anything).

    `times` counts how often it fires (-1: always). `latency` delays the answer (real seconds);
    with `code=0` the request is then served normally. `reset` closes the connection without
    answering; `expire_continue` answers paged list requests that carry a continue token with
    410 Expired and a fresh token. `retry_after` adds the `Retry-After` header (and
    `details.retryAfterSeconds`), which client-go honours by retrying 429s and 5xx.
    """

    verb: str = "*"
    resource: str = "*"
    name: str = "*"
    namespace: str = "*"
    code: int = 500
    reason: str = "InternalError"
    message: str = "sandbox: injected fault"
    times: int = 1
    latency: float = 0.0
    reset: bool = False
    expire_continue: bool = False
    retry_after: int | None = None
    fired: int = 0

    def matches(self, req: RequestInfo) -> bool:
        if self.times >= 0 and self.fired >= self.times:
            return False
        if self.expire_continue and not req.query.get("continue"):
            return False
        return all(
            want == "*" or want == got
            for want, got in (
                (self.verb, req.verb),
                (self.resource, req.resource),
                (self.name, req.name),
                (self.namespace, req.namespace),
            )
        )


@dataclass
class Rewrite:
    """Changes an answer on its way out, for tests of odd servers: a proxy's HTML page, junk
    JSON. Matches the method and the URL path (fnmatch pattern; discovery paths too).

    `code`, `body` and `content_type` replace the answer's own; `transform` gets the decoded
    JSON answer and returns what to send instead (encoded as JSON). `times` as for Fault.
    """

    path: str = "*"
    method: str = "GET"
    code: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    transform: Callable[[Any], Any] | None = None
    times: int = -1
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times >= 0 and self.fired >= self.times:
            return False
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.path)

    def apply(self, code: int, body: bytes, content_type: str) -> tuple[int, bytes, str]:
        if self.transform is not None and "json" in content_type:  # a JSON answer's data only
            body = json.dumps(self.transform(json.loads(body))).encode()
        if self.body is not None:
            body = self.body
        return (
            self.code if self.code is not None else code,
            body,
            self.content_type if self.content_type is not None else content_type,
        )


Hook = Callable[[RequestInfo], None]


class Controls:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.users: dict[str, User] = {}  # bearer token → user; empty = no authentication
        self.faults: list[Fault] = []
        self.hooks: list[tuple[str, str, Hook, bool]] = []
        self.requests: list[RequestInfo] = []
        self.rewrites: list[Rewrite] = []

    def add_user(self, token: str, user: User) -> None:
        self.users[token] = user

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def rewrite(self, rewrite: Rewrite) -> Rewrite:
        with self._lock:
            self.rewrites.append(rewrite)
        return rewrite

    def rewritten(
        self, method: str, path: str, code: int, body: bytes, content_type: str
    ) -> tuple[int, bytes, str]:
        """The answer to send: the first matching Rewrite applied, else unchanged."""
        with self._lock:
            match = next((r for r in self.rewrites if r.matches(method, path)), None)
            if match is None:
                return code, body, content_type
            match.fired += 1
        return match.apply(code, body, content_type)

    def on(self, verb: str, resource: str, hook: Hook, *, once: bool = True) -> None:
        """Run `hook` before the sandbox handles a matching request (to interleave a race)."""
        with self._lock:
            self.hooks.append((verb, resource, hook, once))

    def take_fault(self, req: RequestInfo) -> Fault | None:
        with self._lock:
            for f in self.faults:
                if f.matches(req):
                    f.fired += 1
                    return f
        return None

    def run_hooks(self, req: RequestInfo) -> None:
        with self._lock:
            due = [h for h in self.hooks if h[0] in ("*", req.verb) and h[1] in ("*", req.resource)]
            self.hooks = [h for h in self.hooks if not (h in due and h[3])]
        for _, _, hook, _ in due:
            hook(req)

    def log(self, req: RequestInfo) -> None:
        with self._lock:
            self.requests.append(req)

    def resource_requests(self) -> list[RequestInfo]:
        """Requests for API resources (discovery and version probes left out)."""
        with self._lock:
            return [r for r in self.requests if r.verb]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()
