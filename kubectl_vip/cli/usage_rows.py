"""A subnet and a zone as rows, for one cluster's `usage` and the fleet's alike."""

from __future__ import annotations

from typing import Any

from ..model import usage as us


def count_text(v: int | None) -> str:
    return "unknown" if v is None else str(v)


def percent_text(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}%"


def subnet_cells(r: us.SubnetUsage) -> list[str]:
    """SUBNET CIDR ZONE SIZE USED IN-USE RETAINED LEAKED FREE USE%."""
    return [
        us.UNKNOWN if r.unknown else r.subnet_id or "unknown",
        r.cidr or "unknown",
        r.zone or "unknown",
        count_text(r.size),
        str(r.used),
        str(r.held),
        str(r.kept),
        str(r.leaked),
        count_text(r.free),
        percent_text(r.percent),
    ]


def zone_from(z: us.ZoneUsage) -> str:
    """`node labels; subnets via NodeENIConfig ENIs, VpcIP nodes`."""
    parts = [x for x in z.source if x == us.ZONE_FROM_LABEL]
    via = [x for x in z.source if x != us.ZONE_FROM_LABEL]
    if via:
        parts.append("subnets via " + ", ".join(via))
    elif z.zone is None:
        parts.append("no node uses these subnets")
    return "; ".join(parts) or "-"


def subnet_doc(r: us.SubnetUsage) -> dict[str, Any]:
    return {
        "subnetID": r.subnet_id,
        "cidr": r.cidr,
        "zone": r.zone,
        "zones": list(r.zones),
        "zoneFrom": list(r.zone_from),
        "unknown": r.unknown,
        "configured": r.configured,
        "size": r.size,
        "used": r.used,
        "inUse": r.in_use,
        "retained": r.retained,
        "expiring": r.expiring,
        "overdue": r.overdue,
        "scaledIn": r.scaled_in,
        "orphaned": r.orphaned,
        "leaked": r.leaked,
        "attaching": r.attaching,
        "other": r.other,
        "free": r.free,
        "percent": r.percent,
    }


def zone_doc(z: us.ZoneUsage) -> dict[str, Any]:
    return {
        "zone": z.zone,
        "nodes": z.nodes,
        "subnets": list(z.subnets),
        "size": z.size,
        "used": z.used,
        "free": z.free,
        "percent": z.percent,
        "source": list(z.source),
    }
