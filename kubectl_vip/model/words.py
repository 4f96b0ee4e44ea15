"""Counts as English reads them: "1 claim", "2 claims", "1 IP"."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
