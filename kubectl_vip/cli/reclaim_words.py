"""How reclaim's outcomes read, for one context's run and the fleet's alike."""

from __future__ import annotations

from typing import Any

from ..model.reclaim import Outcome, Target
from .common import Globals

# a dry run decides on the state it has just listed; the real run checks each claim again
RECHECK_NOTE = (
    "A real run reads each claim's Pod, VpcIP and owner again right before its delete, "
    "and leaves alone any that changed."
)

ACTION_WORDS = {
    Outcome.REFUSED: "refuse",
    Outcome.NOT_FOUND: "none",
    Outcome.ALREADY: "none",
}

OUTCOME_WORDS = {
    "wouldReclaim": "would reclaim",
    "notFound": "not found",
    "alreadyReclaimed": "already reclaimed",
}


def show_unsure(g: Globals, unsure: list[tuple[Any, str]], where: str = "") -> None:
    """Claims a criterion would have taken had the facts it needs been known: a release time
    that is only estimated (--retained-for), or a scale-in that is paused, under an autoscaler
    or of unknown age (--scaled-in). `where`: the context, in a fleet run."""
    timed = [(r, why) for r, why in unsure if not r.scaled_in]
    scaled = [(r, why) for r, why in unsure if r.scaled_in]
    if timed:
        g.out.info(
            f"{where}not selected, release time unknown (only estimated): {_names(timed)}; "
            "reclaim them by name once you know their Pods are gone for good"
        )
    for r, why in scaled[:10]:
        g.out.info(f"{where}not selected by --scaled-in: {r.namespace}/{r.name}: {why}")
    if len(scaled) > 10:
        g.out.info(f"{where}not selected by --scaled-in: {len(scaled) - 10} more")


def _names(rows: list[tuple[Any, str]]) -> str:
    names = ", ".join(f"{r.namespace}/{r.name}" for r, _ in rows[:10])
    return names + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")


def target_doc(t: Target, not_released: set[str]) -> dict[str, Any]:
    return {
        "namespace": t.namespace,
        "name": t.name,
        "uid": t.uid,
        "resourceVersion": t.resource_version,
        "ip": t.ip,
        "state": t.state,
        "result": (t.outcome or Outcome.SKIPPED).value,
        "reason": t.detail or t.reason,
        "released": None
        if t.outcome is not Outcome.RECLAIMED or not t.ip
        else t.ip not in not_released,
    }
