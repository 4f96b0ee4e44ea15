"""`sandbox serve --frozen`: a read-only sandbox that answers every read from bytes made once.

A real kube-apiserver serves lists from its watch cache in Go, fast; the sandbox's Python server
is slow enough to hide a client's own cost. Frozen, nothing changes: the virtual clock stands
still, writes are refused, and so every answer to a read is fixed. The first answer to a request
(method, path with its query, Accept, credentials) is computed as usual (paging, continue tokens,
resourceVersion, Table, protobuf) and kept as bytes; the same request later gets those bytes.
The benchmark warms every request it makes before it measures, so a measured run costs the
server a dictionary lookup and a socket write per page.

Not kept: watches (they stay open and see no event: nothing changes) and any answer but 200.
Reviews (SelfSubjectAccessReview and friends) are POSTs that change nothing: they stay allowed.
Every other write, server-side dry runs included, is refused with 403 Forbidden naming why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from . import apierrors
from .resources import ResourceType

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REVIEWS = frozenset(
    {"selfsubjectaccessreviews", "selfsubjectrulesreviews", "subjectaccessreviews", "tokenreviews"}
)
WHY = "the sandbox is frozen (sandbox serve --frozen): it serves reads only"

Key = tuple[str, str, str, str]


@dataclass
class Answer:
    body: bytes
    content_type: str
    headers: dict[str, str]


@dataclass
class FrozenAnswers:
    """Answers to reads, kept whole after the first time."""

    answers: dict[Key, Answer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Key) -> Answer | None:
        return self.answers.get(key)

    def put(self, key: Key, answer: Answer) -> None:
        with self.lock:
            self.answers.setdefault(key, answer)


def cache_key(method: str, path: str, query: dict[str, str], accept: str, auth: str) -> Key | None:
    """The key of a read whose answer may be kept; None for watches and writes."""
    if method not in ("GET", "HEAD") or query.get("watch") in ("true", "1"):
        return None
    return (method, path, accept, auth)


def refuse_write(rtype: ResourceType, name: str, verb: str) -> None:
    """Raise Forbidden for a request that would change the frozen sandbox."""
    if verb in ("get", "list", "watch") or rtype.plural in REVIEWS:
        return
    raise apierrors.forbidden_reason(rtype.plural, rtype.group, name, WHY)
