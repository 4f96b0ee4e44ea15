"""Ctrl-C as a request, not an exception, while deletes are in flight.

Python raises KeyboardInterrupt at whatever bytecode the main thread is running. Inside
threading's own lock handling (`Event.wait`, `Thread.join`, a pool's shutdown) that can leave a
lock half released, and the run ends in "RuntimeError: release unlocked lock" instead of a clean
stop. While a bulk delete runs, the first Ctrl-C therefore only raises a flag that the loop
polls; a second Ctrl-C raises KeyboardInterrupt as usual, for a user who will not wait.

Elsewhere (reads) Ctrl-C still raises at once, but is recorded first: an exception that reaches
the top after a Ctrl-C was seen is the interruption's doing, and ends the run as "interrupted".

Every interrupted run says so once on stderr and exits 130: a command that knows what was done
says it (`report`), else the top says "interrupted" (typer itself would exit 130 silently).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Protocol

_seen = False


def _record(signum: int, frame: FrameType | None) -> None:
    global _seen
    _seen = True
    raise KeyboardInterrupt


def record_interrupts() -> None:
    """Note every Ctrl-C before raising KeyboardInterrupt (main thread, default handler only)."""
    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _record)


def seen() -> bool:
    """A Ctrl-C has arrived during this run."""
    return _seen


class _Says(Protocol):
    def error(self, text: str) -> None: ...


_said = False


def report(err: _Says, text: str = "interrupted") -> None:
    """Say on stderr that the run was interrupted, once (a command that knows what was done
    says so; the top says plain "interrupted" only when nobody has)."""
    global _said
    if not _said:
        err.error(text)
        _said = True


def said() -> bool:
    return _said


def begin() -> None:
    """A new run in this process (in-process tests run many): nothing seen or said yet."""
    global _said, _seen
    _said = _seen = False


class InterruptFlag:
    """`with InterruptFlag() as flag:` ... `flag.requested`. Installs its SIGINT handler only
    in the main thread and only over Python's default one (an ignored SIGINT stays ignored)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: object = None
        self._installed = False

    def __enter__(self) -> InterruptFlag:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler or previous is _record:
                self._previous = previous
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        global _seen
        _seen = True
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._installed = False
