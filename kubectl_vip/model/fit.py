"""How much of a fact the objects of a view answered: for the one-line note of `list`, `usage`
and `reclaim --dry-run` (and doctor VIP-CRD-002) when a fact a view depends on is unknown for
most of the objects it applies to: the tool's model may not fit this cluster."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .claims import ATTACHED_PHASES, Inventory
from .fields import BY_KEY, Field

CHECK = "VIP-CRD-002"


@dataclass(frozen=True)
class Coverage:
    field: Field
    known: int
    applicable: int

    @property
    def unknown(self) -> int:
        return self.applicable - self.known

    @property
    def misfit(self) -> bool:
        """Needed, and unknown for most of the objects it applies to."""
        return self.field.needed and self.applicable > 0 and self.known * 2 < self.applicable


def coverage(key: str, inv: Inventory, *, quick: bool = False) -> Coverage | None:
    """What the records of a view say of one fact (after its fallbacks): None when the view
    read nothing it applies to, or the fact is not one counted from records. `quick`: exact
    only where it may be a misfit (the fallback join is skipped when it cannot matter)."""
    f = BY_KEY[key]
    claims, vips = inv.claims, inv.vips
    if key == "claim.releaseTime":
        podless = [c for c in claims if (c.namespace, c.name) not in inv.pods]
        known = sum(1 for c in podless if c.released is not None and not c.released_estimated)
        return Coverage(f, known, len(podless))
    if key == "claim.ip":
        without = [c for c in claims if not c.ip]
        if not without or (quick and len(without) * 2 <= len(claims)):
            # cheap: no VpcIP needs looking at (quick: it cannot be unknown for most)
            return Coverage(f, len(claims) - len(without), len(claims))
        named = {(v.claim.namespace, v.claim.name) for v in vips if v.claim is not None}
        known = len(claims) - sum(1 for c in without if (c.namespace, c.name) not in named)
        return Coverage(f, known, len(claims))
    if key == "vip.claimRef":
        return Coverage(f, sum(1 for v in vips if v.claim is not None), len(vips))
    if key == "vip.subnetCIDR":
        return Coverage(f, sum(1 for v in vips if v.subnet_cidr), len(vips))
    if key == "vip.phase":
        return Coverage(f, sum(1 for v in vips if v.phase), len(vips))
    if key == "vip.node":
        attached = [v for v in vips if v.phase in ATTACHED_PHASES]
        return Coverage(f, sum(1 for v in attached if v.node), len(attached))
    return None


def view_note(keys: Iterable[str], inv: Inventory) -> str | None:
    """One line when a fact this view depends on is unknown for most objects, else None."""
    found = (coverage(k, inv, quick=True) for k in keys)
    misfits = [c for c in found if c is not None and c.misfit]
    if not misfits:
        return None
    parts = [
        f"{c.field.fact} unknown for {c.unknown:,} of {c.applicable:,} {c.field.applies} "
        f"({c.field.unknown_means})"
        for c in misfits
    ]
    return (
        "the tool's model may not fit this cluster: "
        + "; ".join(parts)
        + f"; see kubectl vip doctor --check {CHECK}"
    )
