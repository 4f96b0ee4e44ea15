"""What changing ipamd's expiry makes ipamd reclaim (pure).

The claims are classified exactly as `kubectl vip list` does, once under the current ipamd policy
and once as if the new expiry were already set; a claim without a Pod is in the impact when,
under the new policy, ipamd reclaims it at its next sweep (due now), within the horizon (24h), or
at a time we cannot tell (its release time is only an estimate, so "may be reclaimed at the next
sweep" — never stated as a fact). Per-claim expiry annotations still win where ipamd reads them
(`IpamdPolicy.annotation_supported`), as in `list`.

Cascade (`--enable-ownerref`) has no immediate impact: it only puts ownerReferences on claims
created after it is set, and turning it off leaves the references already written (the garbage
collector keeps honouring them). So only expiry changes are assessed here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from . import schema
from .claims import ClaimRow, Inventory, IpamdPolicy, classify, odd_annotations
from .duration import format_compact, format_human
from .words import plural

HORIZON = timedelta(hours=24)
# What a per-claim annotation must say so that ipamd never reclaims the claim, whatever it makes
# of "0s" (ours reads it as never, but an ipamd that takes zero as "unset" would fall back to the
# flag): a duration no Pod is ever away for. Our classification then never lists it as due.
PROTECT_DURATION = timedelta(days=3650)
TABLE_LIMIT = 20


class Due(str, Enum):
    NEXT_SWEEP = "nextSweep"  # retained longer than its expiry: ipamd deletes it at its next sweep
    WITHIN = "within24h"  # due within the horizon
    UNKNOWN = "unknown"  # its release time is unknown: may be due at the next sweep

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ImpactItem:
    row: ClaimRow  # classified under the new policy
    due: Due
    by_change: bool  # the current setting would not reclaim it this soon
    state: str  # its state now, as `list` shows it
    # how ipamd reads its flags or the annotation is unknown, and under another reading this
    # claim is reclaimed later, or not at all: shown as the worse case
    uncertain: bool = False

    @property
    def returning(self) -> bool:
        """A Pod of this name comes back (or may: owner unknown, stopped instance)."""
        return self.row.returning or self.row.may_return

    @property
    def key(self) -> tuple[str, str]:
        return self.row.key


@dataclass(frozen=True)
class Impact:
    expiry: timedelta | None  # the new flag value (None: never)
    now: datetime
    items: list[ImpactItem]
    annotation_supported: bool | None  # None: ipamd's version is unknown

    def of(self, due: Due) -> list[ImpactItem]:
        return [i for i in self.items if i.due is due]

    @property
    def returning(self) -> list[ImpactItem]:
        return [i for i in self.items if i.returning]

    @property
    def caused(self) -> list[ImpactItem]:
        """What this change makes ipamd reclaim (sooner) — what a confirmation is asked for."""
        return [i for i in self.items if i.by_change]


def _effective(at: datetime | None, now: datetime) -> datetime | None:
    """When ipamd acts on a due time: a time already past means its next sweep (now)."""
    return None if at is None else max(at, now)


def _due(row: ClaimRow, now: datetime, horizon: timedelta) -> Due | None:
    if row.pod_phase is not None or row.expiry is None:
        return None  # a Pod holds it, or no expiry reclaims it
    if row.reclaim_at is None:
        return Due.UNKNOWN  # the release time is estimated or unknown
    if row.reclaim_at <= now:
        return Due.NEXT_SWEEP
    if row.reclaim_at <= now + horizon:
        return Due.WITHIN
    return None


def _by_change(new: ClaimRow, old: ClaimRow | None, now: datetime) -> bool:
    """Whether the new setting makes ipamd reclaim this claim sooner than the current one."""
    if old is None or old.pod_phase is not None or old.expiry is None:
        return True
    if new.reclaim_at is None or old.reclaim_at is None:
        # times unknown: only a shorter expiry brings it forward
        return new.expiry is not None and new.expiry < old.expiry
    old_at, new_at = _effective(old.reclaim_at, now), _effective(new.reclaim_at, now)
    assert old_at is not None and new_at is not None
    return new_at < old_at


def compute(
    inv: Inventory,
    current: IpamdPolicy,
    expiry: timedelta | None,
    now: datetime,
    horizon: timedelta = HORIZON,
) -> Impact:
    """The claims ipamd reclaims once its flag is `expiry`, within `horizon` (sorted: Pods that
    come back first, then by due time).

    Where how ipamd reads its flags or the annotation is unknown (IpamdPolicy.readings), each
    reading is tried, old and new alike (the patch writes every flag in `=` form, so after it
    the flags read one way): a claim is in the impact if any reading makes it due, with the
    soonest, and is caused by the change if any reading says so — the worse case counts."""
    new_policy = dataclasses.replace(current, expiry=expiry, ambiguous=False, stop_expiry=expiry)
    listed = {r.key: r for r in classify(inv, current, now)}  # its state as `list` shows it
    found: dict[tuple[str, str], list[ImpactItem]] = {}
    readings = current.readings(zero_matters=odd_annotations(inv))
    for reading in readings:
        old_rows = {r.key: r for r in classify(inv, current, now, reading)}
        for row in classify(inv, new_policy, now, reading):
            due = _due(row, now, horizon)
            if due is None:
                continue
            old = old_rows.get(row.key)
            state = (listed.get(row.key) or old or row).state.value
            found.setdefault(row.key, []).append(
                ImpactItem(row, due, _by_change(row, old, now), state)
            )
    items = [_worst(each, now, len(readings)) for each in found.values()]
    items.sort(
        key=lambda i: (
            not i.returning,
            ORDER[i.due],
            _effective(i.row.reclaim_at, now) or now,
            i.key,
        )
    )
    return Impact(expiry, now, items, current.annotation_supported)


ORDER = {Due.NEXT_SWEEP: 0, Due.WITHIN: 1, Due.UNKNOWN: 2}


def _worst(each: list[ImpactItem], now: datetime, readings: int) -> ImpactItem:
    """One claim's items under the readings that make it due: the soonest, caused by the change
    if any reading says so, and uncertain when the readings disagree."""
    first = min(each, key=lambda i: (ORDER[i.due], _effective(i.row.reclaim_at, now) or now))
    uncertain = len(each) < readings or len({(i.due, i.row.reclaim_at) for i in each}) > 1
    return dataclasses.replace(first, by_change=any(i.by_change for i in each), uncertain=uncertain)


# ------------------------------------------------------------------------------ presenting


def due_text(item: ImpactItem, now: datetime) -> str:
    if item.due is Due.UNKNOWN:
        return "unknown"
    at = item.row.reclaim_at
    assert at is not None
    return "next sweep" if at <= now else f"in {format_human(at - now)}"


def reason(item: ImpactItem) -> str:
    r = item.row
    expiry = format_compact(r.expiry) if r.expiry is not None else "?"
    if item.due is Due.UNKNOWN:
        head = (
            f"may be reclaimed at the next sweep (release time unknown; {r.expiry_source} "
            f"expiry {expiry})"
        )
    elif item.due is Due.NEXT_SWEEP:
        head = f"retained longer than its {r.expiry_source} expiry {expiry}"
    else:
        head = f"reaches its {r.expiry_source} expiry {expiry}"
    if not item.by_change:
        head += "; due already under the current setting"
    if item.returning:
        head += "; " + comes_back(r)
    if item.uncertain:
        head += "; the worse case: read another way, ipamd reclaims it later or not at all"
    return head


def comes_back(r: ClaimRow) -> str:
    """Why its Pod returns (or may), in a few words."""
    if r.returning:
        return f"{r.owner} recreates its Pod, which would get a new IP"
    if r.owner is None:
        return "its Pod may come back"
    if r.owner.exists is None:
        return f"owner {r.owner} ({r.owner.unknown or 'not read'}): its Pod may come back"
    if r.scaled_in:
        return f"returns if {r.owner} is scaled up, with a new IP"
    return f"{r.owner} may bring its Pod back (an instance stopped, or an ordinal it may keep)"


def counts(impact: Impact) -> dict[str, int]:
    return {
        Due.NEXT_SWEEP.value: len(impact.of(Due.NEXT_SWEEP)),
        Due.WITHIN.value: len(impact.of(Due.WITHIN)),
        Due.UNKNOWN.value: len(impact.of(Due.UNKNOWN)),
        "returning": len(impact.returning),
        "byThisChange": len(impact.caused),
    }


def summary(impact: Impact) -> list[str]:
    """The count lines shown before the table."""
    what = "never" if impact.expiry is None else format_compact(impact.expiry)
    if not impact.items:
        return [f"Impact of expiry {what}: ipamd reclaims no claim within {_horizon()}."]
    c = counts(impact)
    more = f"{c['within24h']} more" if c["within24h"] else "none more"
    lines = [
        f"Impact of expiry {what}: ipamd reclaims {_n(c['nextSweep'])} at its next sweep, "
        f"{more} within {_horizon()}"
        + (
            f"; {_n(c['unknown'])} may be reclaimed at the next sweep (release time unknown)"
            if c["unknown"]
            else ""
        )
        + "."
    ]
    if c["byThisChange"] != len(impact.items):
        lines.append(
            f"{c['byThisChange']} of them because of this change; the other "
            f"{len(impact.items) - c['byThisChange']} are due under the current setting too."
        )
    if c["returning"]:
        lines.append(
            f"{_n(c['returning'])} belong to Pods that come back (or may): they would return "
            "with new IPs."
        )
    return lines


def table_rows(impact: Impact, limit: int = TABLE_LIMIT) -> tuple[list[list[str]], int]:
    """At most `limit` rows (the Pods that come back first), and how many were left out."""
    rows = [
        [
            i.row.namespace,
            i.row.name,
            i.row.ip or "<none>",
            i.state,
            format_human(i.row.retained_for) if i.row.retained_for is not None else "<unknown>",
            due_text(i, impact.now),
            "yes" if i.row.returning else ("maybe" if i.row.may_return else "no"),
            reason(i),
        ]
        for i in impact.items[:limit]
    ]
    return rows, max(0, len(impact.items) - limit)


TABLE_HEADERS = ["NAMESPACE", "CLAIM", "IP", "STATE", "RETAINED", "DUE", "RETURNS", "REASON"]


def protect_commands(impact: Impact) -> list[str]:
    """`kubectl annotate` per namespace that keeps the returning claims (ipamd >= v3.3.2)."""
    by_ns: dict[str, list[str]] = {}
    for i in impact.returning:
        by_ns.setdefault(i.row.namespace, []).append(i.row.name)
    return [protect_command(ns, names) for ns, names in sorted(by_ns.items())]


def protect_command(namespace: str, names: Iterable[str]) -> str:
    """The `kubectl annotate` that makes ipamd (>= v3.3.2) keep these claims for their Pods."""
    return (
        f"kubectl annotate vipc {' '.join(sorted(names))} -n {namespace} "
        f"{schema.EXPIRY}={format_compact(PROTECT_DURATION)} --overwrite"
    )


def doc(impact: Impact | None) -> dict[str, Any] | None:
    """The `impact` part of the IpamdChange document."""
    if impact is None:
        return None
    return {
        "horizon": format_compact(HORIZON),
        "counts": counts(impact),
        "protectCommands": protect_commands(impact)
        if impact.annotation_supported is not False
        else [],
        "items": [item_doc(i) for i in impact.items],
    }


def item_doc(i: ImpactItem) -> dict[str, Any]:
    r = i.row
    return {
        "namespace": r.namespace,
        "name": r.name,
        "ip": r.ip,
        "state": i.state,
        "retainedFor": format_compact(r.retained_for) if r.retained_for is not None else None,
        "releaseEstimated": r.released_estimated,
        "due": i.due.value,
        "dueAt": _iso(r.reclaim_at),
        "returning": i.returning,
        "byThisChange": i.by_change,
        "worseCase": i.uncertain,
        "reason": reason(i),
    }


def _iso(t: datetime | None) -> str | None:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def _n(n: int) -> str:
    return plural(n, "claim")


def _horizon() -> str:
    return format_compact(HORIZON)
