"""Loopback servers that misbehave in one way each (a trickled body, a gzip bomb, a socket that
never answers), and kubeconfigs aimed at them; for the hardening tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

# a handler writes its whole answer (status line, headers, body) on the raw socket file
Answer = Callable[[BaseHTTPRequestHandler, threading.Event], None]


@contextlib.contextmanager
def http_server(answer: Answer) -> Iterator[str]:
    """A threaded HTTP server on loopback whose every GET/POST is answered by `answer`; yields
    its URL. On exit every handler is told to stop (`stop` is set) and the server closes."""
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            with contextlib.suppress(OSError):
                answer(self, stop)

        do_POST = do_GET
        do_DELETE = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def trickle(body: bytes, every: float) -> Answer:
    """A 200 whose headers come at once and whose body comes one byte per `every` seconds."""

    def answer(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        for i in range(len(body)):
            if stop.wait(every):
                return
            h.wfile.write(body[i : i + 1])
            h.wfile.flush()

    return answer


def fixed(
    body: bytes, *, code: int = 200, headers: dict[str, str] | None = None, length: bool = True
) -> Answer:
    """The same answer to every request. `length=False` sends the body chunked."""

    def answer(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        h.send_response(code)
        for k, v in (headers or {"Content-Type": "application/json"}).items():
            h.send_header(k, v)
        if length:
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        step = 1 << 16
        for i in range(0, len(body), step):
            if stop.is_set():
                return
            piece = body[i : i + step]
            h.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        h.wfile.write(b"0\r\n\r\n")

    return answer


class Silent:
    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted = threading.Event()


@contextlib.contextmanager
def silent_server() -> Iterator[Silent]:
    """A TCP port that accepts connections and never says a word (a TLS handshake waits);
    `accepted` is set once a client has connected."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()
    silent = Silent(listener.getsockname()[1])

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = listener.accept()
                held.append(conn)
                silent.accepted.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield silent
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def kubeconfig(
    path: Path,
    server: str,
    *,
    user: dict[str, Any] | None = None,
    cluster: dict[str, Any] | None = None,
    context: str = "odd",
) -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server, **(cluster or {})}}],
        "users": [{"name": context, "user": user if user is not None else {"token": "t0ken-x"}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def merge_kubeconfigs(path: Path, *parts: Path) -> Path:
    """One kubeconfig holding every context of `parts` (their names must differ)."""
    doc: dict[str, Any] = {"apiVersion": "v1", "kind": "Config"}
    for part in parts:
        one = yaml.safe_load(part.read_text())
        for key in ("clusters", "users", "contexts"):
            doc.setdefault(key, []).extend(one[key])
        doc.setdefault("current-context", one["current-context"])
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


class Clock:
    def __enter__(self) -> Clock:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start
