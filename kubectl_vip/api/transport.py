"""HTTP to the API server under one deadline per request, with bounded bodies.

urllib3's read timeout bounds each socket read, not the request: a server that trickles its
answer a byte at a time keeps one request alive for ever. Here a request (connect, headers and
body) has one deadline: a watchdog thread shuts the connection's socket down when it passes, so
whatever the request was blocked on returns at once, and the caller says "timed out" in one line.

Bodies are read raw and bounded: at most `MAX_BODY` bytes on the wire and, decoded, at most
`MAX_BODY` bytes too (we ask for `identity`; a gzip or deflate body is inflated only up to the
cap, any other encoding is refused), so a small compressed answer cannot expand into gigabytes.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import urllib3

MAX_BODY = 256 * 1024 * 1024  # decoded bytes of one answer (a page of a list is a few MiB)
MAX_ERROR_BODY = 1024 * 1024  # of an error answer: a Status is small, a proxy's page is cut
_READ_PIECE = 1024 * 1024


class BodyProblem(Exception):
    """A body we will not use: too large, or in an encoding we did not ask for."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# ---------------------------------------------------------------------------- the deadline


class Guard:
    """The deadline of one request: the connections it used are shut down when it passes."""

    __slots__ = ("_conns", "_lock", "deadline", "done", "expired")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.done = False
        self.expired = False
        self._conns: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, conn: Any) -> None:
        with self._lock:
            if self.done:
                return
            self._conns.append(conn)
            if self.expired:
                _shut(conn)

    def fire(self) -> None:
        with self._lock:
            if self.done:
                return
            self.expired = True
            for conn in self._conns:
                _shut(conn)

    def finish(self) -> None:
        with self._lock:
            self.done = True
            self._conns.clear()


def _shut(conn: Any) -> None:
    """Make any blocked read or write on `conn` return now (the connection is not reused)."""
    sock = getattr(conn, "sock", None)
    raw = getattr(sock, "socket", sock)  # an SSLTransport (TLS in TLS) wraps a socket
    if isinstance(raw, socket.socket):
        # the plain socket's shutdown, not SSLSocket's (which would drop its TLS state under
        # the reading thread's feet): the blocked recv sees the end of the stream
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(raw, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread for every deadline of the process: fires each guard at its time."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._heap: list[tuple[float, int, Guard]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, guard: Guard) -> None:
        with self._cv:
            if len(self._heap) > 512:  # finished guards wait in the heap until their time
                self._heap = [e for e in self._heap if not e[2].done]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (guard.deadline, next(self._seq), guard))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="kubectl-vip-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is guard:
                self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._heap:
                    self._cv.wait()
                when, _, guard = self._heap[0]
                if guard.done:
                    heapq.heappop(self._heap)
                    continue
                now = time.monotonic()
                if now < when:
                    self._cv.wait(when - now)
                    continue
                heapq.heappop(self._heap)
            guard.fire()


_WATCHDOG = _Watchdog()
_current = threading.local()  # the guard of the request this thread is making


class _GuardedConnection:
    """Mixed into urllib3's connection classes: a connection used for a request joins that
    request's guard (set by `guarded` in the same thread)."""

    def connect(self) -> None:
        self._join_guard()
        super().connect()  # type: ignore[misc] # the urllib3 class this is mixed into

    def request(self, *args: Any, **kwargs: Any) -> None:
        self._join_guard()
        super().request(*args, **kwargs)  # type: ignore[misc] # as above

    def _join_guard(self) -> None:
        guard: Guard | None = getattr(_current, "guard", None)
        if guard is not None:
            guard.attach(self)


def start(deadline: float | None) -> Guard | None:
    """A guard armed for `deadline` (a time.monotonic() value); None for no deadline."""
    if deadline is None:
        return None
    guard = Guard(deadline)
    _WATCHDOG.arm(guard)
    return guard


@contextlib.contextmanager
def joining(guard: Guard | None) -> Iterator[None]:
    """Connections used for a request made in this block join `guard` (this thread only)."""
    if guard is None:
        yield
        return
    _current.guard = guard
    try:
        yield
    finally:
        _current.guard = None


def use_guarded_connections(manager: urllib3.PoolManager) -> urllib3.PoolManager:
    """`manager` with its pools making guarded connections (direct, HTTP(S) or SOCKS proxy)."""
    manager.pool_classes_by_scheme = {
        scheme: _guarded_pool(cls) for scheme, cls in manager.pool_classes_by_scheme.items()
    }
    return manager


_POOLS: dict[type, Any] = {}


def _guarded_pool(pool_cls: type[urllib3.HTTPConnectionPool]) -> Any:
    if pool_cls not in _POOLS:
        conn_cls = type(
            f"Guarded{pool_cls.ConnectionCls.__name__}",
            (_GuardedConnection, pool_cls.ConnectionCls),
            {},
        )
        name = f"Guarded{pool_cls.__name__}"
        _POOLS[pool_cls] = type(name, (pool_cls,), {"ConnectionCls": conn_cls})
    return _POOLS[pool_cls]


# ---------------------------------------------------------------------------- bounded bodies


@dataclass
class Reply:
    """A whole answer: status, headers, and the body as decoded bytes."""

    status: int
    headers: Mapping[str, str]
    data: bytes


def read_body(resp: urllib3.BaseHTTPResponse, cap: int = MAX_BODY, *, cut: bool = False) -> bytes:
    """The body of `resp`, decoded, of at most `cap` bytes. Past the cap: BodyProblem, or with
    `cut` the first `cap` bytes (an error page is only looked at)."""
    encoding = (resp.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip", "deflate"):
        raise BodyProblem(f"a body in {encoding[:30]} encoding, which was not asked for")
    length = resp.headers.get("Content-Length")
    known = int(length) if length and length.strip().isdigit() else None
    if known is not None and known > cap and not cut:
        raise BodyProblem(f"an answer of {known} bytes (the limit is {cap // 2**20} MiB)")
    if known is not None and known <= cap:
        raw = resp.read(decode_content=False)  # one read into one buffer: the common case
    else:
        raw = _read_up_to(resp, cap, cut)
    try:
        if encoding in ("gzip", "x-gzip"):
            return _inflate(raw, 16 + zlib.MAX_WBITS, cap, cut)
        if encoding == "deflate":
            try:
                return _inflate(raw, zlib.MAX_WBITS, cap, cut)
            except zlib.error:  # some servers send raw deflate without the zlib header
                return _inflate(raw, -zlib.MAX_WBITS, cap, cut)
    except zlib.error:
        raise BodyProblem(f"a {encoding} body that does not inflate") from None
    return raw


def _read_up_to(resp: urllib3.BaseHTTPResponse, cap: int, cut: bool) -> bytes:
    pieces: list[bytes] = []
    total = 0
    while True:
        piece = resp.read(_READ_PIECE, decode_content=False)
        if not piece:
            return b"".join(pieces)
        pieces.append(piece)
        total += len(piece)
        if total > cap:
            if cut:
                return b"".join(pieces)[:cap]
            raise BodyProblem(f"an answer larger than {cap // 2**20} MiB")


def _inflate(raw: bytes, wbits: int, cap: int, cut: bool) -> bytes:
    """`raw` inflated a piece at a time, stopping past `cap`: at most the cap in memory."""
    d = zlib.decompressobj(wbits)
    pieces: list[bytes] = []
    total = 0
    data = raw
    while True:
        piece = d.decompress(data, _READ_PIECE) if data else d.flush()
        total += len(piece)
        if total > cap:
            if cut:
                return b"".join([*pieces, piece])[:cap]
            raise BodyProblem(
                f"a compressed answer that inflates past {cap // 2**20} MiB "
                f"({len(raw)} bytes compressed)"
            )
        pieces.append(piece)
        if not data:
            return b"".join(pieces)
        data = d.unconsumed_tail
