"""The cyclic garbage collector, paused for a stretch of work."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection while it runs: parsing tens of thousands of objects makes no
    reference cycles, and the collector would scan every new dict again and again (about a
    fifth of a list's run time); and a parser standing at the recursion limit must not run a
    finaliser there (a socket's, a thread's), which would fail unreported."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
