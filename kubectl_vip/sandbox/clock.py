"""The sandbox's virtual clock: tests advance it instead of sleeping."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Virtual time = a start instant plus (optionally) real elapsed time plus manual advances.

    Frozen clocks (tests) move only when `advance` is called; running clocks (`sandbox serve`)
    also follow the wall clock so that an interactive user sees time pass.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = True) -> None:
        base = start or datetime.now(timezone.utc)
        self._start = base.replace(microsecond=0)
        self._real_start = time.monotonic()
        self._offset = timedelta()
        self.frozen = frozen
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            t = self._start + self._offset
            if not self.frozen:
                t += timedelta(seconds=time.monotonic() - self._real_start)
            return t

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()


def rfc3339(t: datetime) -> str:
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))
