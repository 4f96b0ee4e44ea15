"""Area `capacity`: how full each container subnet is, what reclaiming would free, and when it
fills up at the recent pace."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..model.claims import ClaimRow
from ..model.usage import SubnetUsage
from .causes import RECLAIM, WHERE_SUBNETS
from .reads import CLASSIFY, CONFIGMAP, DEPLOYMENTS, NECS, NODES
from .registry import Issue, Severity, check
from .snapshot import Snapshot, plural

WARN_PERCENT = 80.0
ERROR_PERCENT = 95.0
WINDOW = timedelta(days=7)
MIN_HISTORY = timedelta(days=2)
SOON = 14.0  # days: a forecast this close is worth a warning of its own


@dataclass(frozen=True)
class Forecast:
    days: float | None  # days until no address is free; None: not enough data or no growth
    rate: float | None  # claims created per day over the window
    text: str


def forecast(created: list[datetime], free: int | None, now: datetime) -> Forecast:
    """Days until the subnet is full at the pace claims were created over the last 7 days (or
    since the oldest claim, if younger): creations per day, assuming none are given back."""
    past = [t for t in created if t <= now]
    if not past:
        return Forecast(None, None, "forecast: not enough data (no claim in this subnet)")
    history = now - min(past)
    if history < MIN_HISTORY:
        return Forecast(
            None,
            None,
            f"forecast: not enough data (claims go back {_days(history)} days; 2 needed)",
        )
    span = min(WINDOW, history)
    recent = [t for t in past if now - t <= span]
    span_days = span.total_seconds() / 86400
    if not recent:
        return Forecast(
            None, 0.0, f"forecast: no growth (no claim created in the last {_days(span)} days)"
        )
    rate = len(recent) / span_days
    pace = f"{plural(len(recent), 'claim')} created in the last {_days(span)} days ({rate:.2g}/day)"
    if free is None:
        return Forecast(None, rate, f"forecast: {pace}; free addresses unknown")
    days = free / rate
    when = "full now" if free == 0 else f"full in about {_days_text(days)}"
    return Forecast(days, rate, f"forecast: {pace}: {when}")


def _days(td: timedelta) -> str:
    return f"{td.total_seconds() / 86400:.3g}"


def _days_text(days: float) -> str:
    if days < 1:
        return f"{days * 24:.0f} hours"
    return f"{days:.0f} days" if days >= 1.5 else "1 day"


def _in_subnet(r: ClaimRow, u: SubnetUsage) -> bool:
    if u.subnet_id and r.subnet_id:
        return r.subnet_id == u.subnet_id
    return bool(u.cidr) and _cidr(r.subnet_cidr) == _cidr(u.cidr)


def _cidr(text: str | None) -> str | None:
    try:
        return str(ipaddress.ip_network((text or "").strip(), strict=False)) if text else None
    except ValueError:
        return text


def subnet_forecast(s: Snapshot, u: SubnetUsage) -> Forecast:
    created = [r.created for r in s.rows if r.created is not None and _in_subnet(r, u)]
    return forecast(created, u.free, s.now)


def _label(u: SubnetUsage) -> str:
    name = u.subnet_id or u.cidr or "?"
    if u.subnet_id and u.cidr:
        name += f" ({u.cidr})"
    return name + (f" in {u.zone}" if u.zone else "")


def usage_lines(u: SubnetUsage) -> list[str]:
    kept = (
        f"{u.kept} held by claims without a Pod ({u.retained} Retained, {u.expiring} Expiring, "
        f"{u.overdue} Overdue, {u.scaled_in} ScaledIn, {u.orphaned} Orphaned)"
    )
    lines = [
        f"{u.used} of {u.size} usable addresses used ({u.percent}%): {u.in_use} in use, {kept}, "
        f"{u.leaked} leaked, {u.attaching} attaching, {u.other} other; {u.free} free"
    ]
    now = u.orphaned + u.overdue
    lines.append(
        f"reclaiming Orphaned + Overdue claims would free {now}; leaked VpcIPs hold {u.leaked} "
        f"more (VIP-CLM-003); the {u.retained + u.expiring + u.scaled_in} Retained, Expiring "
        "and ScaledIn may be wanted back by their Pods"
    )
    return lines


@check(
    "VIP-CAP-001",
    area="capacity",
    title="Subnets below 80 % used",
    needs=CLASSIFY,
    uses=(NODES, NECS, CONFIGMAP, DEPLOYMENTS),
    many="{n} subnets 80 % used or more",
)
def subnet_full(s: Snapshot) -> list[Issue]:
    """Per container subnet: warning at 80 % used, error at 95 %, with retained and leaked IPs
    counted apart (what reclaiming would free) and a forecast of the days until it is full."""
    issues = []
    for u in s.usage:
        if u.unknown or not u.size or u.percent is None or u.percent < WARN_PERCENT:
            continue
        sev = Severity.ERROR if u.percent >= ERROR_PERCENT else Severity.WARNING
        evidence = [*usage_lines(u), subnet_forecast(s, u).text]
        for zone in u.zones:
            others = [o for o in s.subnets_in_zone(zone) if o is not u and o.free]
            if others:
                room = sum(o.free or 0 for o in others)
                evidence.append(
                    f"zone {zone} has {room} free in {plural(len(others), 'other subnet')}"
                )
        fix = []
        if u.orphaned + u.overdue:
            fix.append(RECLAIM)
        if u.leaked:
            fix.append("Leaked VpcIPs: see VIP-CLM-003")
        zone = u.zones[0] if len(u.zones) == 1 else "the same zone"
        fix.append(f"For lasting room, add a container subnet in {zone} ({WHERE_SUBNETS})")
        issues.append(
            Issue(
                sev,
                f"Subnet {_label(u)} is {u.percent}% used ({u.free} free)",
                evidence,
                "\n".join(fix),
                [f"Subnet/{u.subnet_id or u.cidr}"],
            )
        )
    return issues


@check(
    "VIP-CAP-002",
    area="capacity",
    title="No subnet full within 14 days",
    needs=CLASSIFY,
    uses=(NODES, NECS, CONFIGMAP, DEPLOYMENTS),
    many="{n} subnets full within 14 days",
)
def subnet_soon_full(s: Snapshot) -> list[Issue]:
    """A subnet below 80 % that fills within 14 days at the pace of the last 7 days."""
    issues = []
    for u in s.usage:
        if u.unknown or not u.size or u.percent is None or u.percent >= WARN_PERCENT:
            continue
        f = subnet_forecast(s, u)
        if f.days is None or f.days > SOON:
            continue
        issues.append(
            Issue(
                Severity.WARNING,
                f"Subnet {_label(u)} fills up in about {_days_text(f.days)}",
                [*usage_lines(u), f.text],
                f"{RECLAIM}\nPlan more room: add a container subnet in "
                f"{u.zone or 'the same zone'} ({WHERE_SUBNETS})",
                [f"Subnet/{u.subnet_id or u.cidr}"],
            )
        )
    return issues
