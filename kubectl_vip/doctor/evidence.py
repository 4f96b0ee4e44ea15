"""Evidence that reads in one screen at any scale (pure): counts per group, a few examples,
"... and N more". The full list goes to a finding's `details` (-o json)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..model.records import PodRec
    from .facts import PodFacts

MAX_EXAMPLES = 10
MAX_GROUPS = 10


def examples(lines: list[str], limit: int = MAX_EXAMPLES) -> list[str]:
    """At most `limit` lines, then how many more there are."""
    if len(lines) <= limit:
        return list(lines)
    return [*lines[:limit], f"... and {len(lines) - limit} more (all of them in -o json)"]


def counts_by(keys: Iterable[str], what: str, limit: int = MAX_GROUPS) -> str:
    """`by node: node-q1 15, node-q2 15 ... and 3 more nodes`, largest groups first."""
    counts = Counter(keys)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {n}" for k, n in top[:limit])
    if len(top) > limit:
        text += f" ... and {len(top) - limit} more"
    return f"by {what}: {text}"


def pod_owner(pod: PodRec | PodFacts) -> str:
    """`StatefulSet ns/name` of the Pod's controller, for counting Pods by owner."""
    ref = pod.controller
    if ref is not None:
        return f"{ref.kind} {pod.namespace}/{ref.name}"
    return f"Pod {pod.namespace}/{pod.name} (no owner)"
