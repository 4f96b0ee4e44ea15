"""A claim as a row, for one cluster's `list` and the fleet's alike: table headers and cells,
the JSON item, sorting, and the reclaim hint under the table."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from ..model import claims as cl
from ..model.claims import ClaimRow, State
from ..model.duration import format_go_duration, format_human
from ..model.words import plural
from .common import age, iso


def sort_rows(rows: list[ClaimRow], key: str) -> list[ClaimRow]:
    if key == "age":
        return sorted(
            rows, key=lambda r: (r.created is None, r.created or datetime.max), reverse=False
        )
    if key == "retained":
        return sorted(
            rows,
            key=lambda r: r.retained_for.total_seconds() if r.retained_for else -1,
            reverse=True,
        )
    if key == "ip":
        return sorted(rows, key=lambda r: cl._ip_sort_key(r.ip or "~"))
    return rows


def options_text(options: tuple[timedelta | None, ...], sep: str = "|") -> str:
    """`1h|never`: the expiries ipamd may apply when how it reads them is unknown."""
    return sep.join(format_human(o) if o is not None else "never" for o in options)


def options_doc(options: tuple[timedelta | None, ...]) -> list[str]:
    return [format_go_duration(o) if o is not None else "never" for o in options]


def _reclaim_at(r: ClaimRow, now: datetime) -> str:
    if r.pod_phase is not None:
        return "-"
    if r.expiry_options:
        return f"unknown ({options_text(r.expiry_options)})"
    if r.reclaim_at is None:
        return "never" if r.expiry is None and not r.overdue else "<unknown>"
    if r.reclaim_at <= now:
        return f"{format_human(now - r.reclaim_at)} ago"
    return f"in {format_human(r.reclaim_at - now)}"


def claim_headers(wide: bool, all_ns: bool) -> list[str]:
    headers = ["NAME", "IP", "STATE", "POD", "OWNER", "NODE", "AGE", "RETAINED FOR", "RECLAIM AT"]
    if all_ns:
        headers.insert(0, "NAMESPACE")
    if wide:
        headers += ["VIP PHASE", "SUBNET", "POLICY", "REASON"]
    return headers


_OWNER_TEXT: dict[tuple[str, str, str], str] = {}


def _owner_text(owner: cl.Owner | None) -> str:
    """ "Kind/name", one string per owner however many claims it has."""
    if owner is None:
        return "-"
    key = (owner.group, owner.kind, owner.name)
    text = _OWNER_TEXT.get(key)
    if text is None:
        text = _OWNER_TEXT[key] = str(owner)
    return text


def claim_cells(r: ClaimRow, wide: bool, all_ns: bool, now: datetime) -> list[str]:
    retained = "-"
    if r.retained_for is not None and r.pod_phase is None:
        retained = format_human(r.retained_for) + ("~" if r.released_estimated else "")
    cells = [
        r.name,
        r.ip or "<none>",
        r.state.value,
        r.pod_phase or "-",
        _owner_text(r.owner),
        r.node or "-",
        age(r.created, now),
        sys.intern(retained),
        sys.intern(_reclaim_at(r, now)),
    ]
    if all_ns:
        cells = [r.namespace, *cells]  # a new list of its exact size (insert over-allocates)
    if wide:
        cells += [
            ("<no VpcIP>" if r.unbound else r.vip_phase or "<unknown>"),
            r.subnet_cidr or r.subnet_id or "-",
            r.policy or "-",
            r.reason,
        ]
    return cells


def reclaim_hint(
    every: list[ClaimRow], states: set[str], namespace: str | None, selector: str | None
) -> str | None:
    """The reclaim command for what the listing shows, with every filter that made it (scope,
    -l, the states among Orphaned/Overdue), and how many IPs that very command would free."""
    from ..model.reclaim import Criteria, Rules, decide, select

    orphaned = not states or State.ORPHANED.value in states
    overdue = not states or State.OVERDUE.value in states
    if not (orphaned or overdue):
        return None
    chosen, _ = select(every, Criteria(orphaned=orphaned, overdue=overdue), Rules())
    free = sum(1 for r in chosen if decide(r, Rules())[0] and not r.unbound)
    if not free:
        return None
    flags = " ".join(f for f, on in (("--orphaned", orphaned), ("--overdue", overdue)) if on)
    scope = f"-n {namespace}" if namespace else "-A"
    label = f" -l {shlex.quote(selector)}" if selector else ""
    what = " + ".join(s for s, on in (("Orphaned", orphaned), ("Overdue", overdue)) if on)
    return (
        f"Reclaiming {what} claims would free {plural(free, 'IP')}: "
        f"kubectl vip reclaim {flags} {scope}{label} --dry-run"
    )


@lru_cache(maxsize=256)
def _go_duration(td: timedelta) -> str:
    return format_go_duration(td)  # a few expiries for thousands of claims


def _owner_doc(owner: cl.Owner) -> dict[str, Any]:
    return {
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "source": owner.source,
        "exists": owner.exists,
        "replicas": owner.replicas,
    }


def row_doc(
    r: ClaimRow, now: datetime, owners: dict[int, tuple[cl.Owner, dict[str, Any]]] | None = None
) -> dict[str, Any]:
    """The JSON item of a claim. `owners`: the owner items made so far, by the Owner object
    (classification shares one among a workload's claims), to share theirs."""
    owner = None
    if r.owner is not None:
        if owners is None:
            owner = _owner_doc(r.owner)
        else:
            made = owners.get(id(r.owner))
            if made is None or made[0] is not r.owner:
                made = owners[id(r.owner)] = (r.owner, _owner_doc(r.owner))
            owner = made[1]
    ref = f"{r.namespace}/{r.name}"
    return {
        "namespace": r.namespace,
        "name": r.name,
        "uid": r.uid,
        "resourceVersion": r.resource_version,
        "ip": r.ip,
        "state": r.state.value,
        "reason": r.reason,
        "reclaimable": r.reclaimable,
        "orphaned": r.orphaned,
        "overdue": r.overdue,
        "returning": r.returning,
        "scaledIn": {
            "keptSeconds": int(r.scale_age.total_seconds()) if r.scale_age is not None else None,
            "scaleBack": r.scale_back,
        }
        if r.scaled_in
        else None,
        "ipMayBeInUse": r.ip_in_use,  # why a Pod gone from the API may still run with its IP
        "pod": {"phase": r.pod_phase, "uid": r.pod_uid} if r.pod_phase else None,
        "owner": owner,
        "ordinal": r.ordinal,
        "node": r.node,
        "vpcIP": None
        if r.unbound
        else {
            "name": r.ip,
            "phase": r.vip_phase,
            "message": r.vip_message,
            "subnetID": r.subnet_id,
            "subnetCIDR": r.subnet_cidr,
        },
        "deletePolicy": r.policy,
        "createdAt": iso(r.created),
        "releasedAt": iso(r.released_at),
        "releasedAtEstimated": r.released_estimated,
        "retainedForSeconds": int(r.retained_for.total_seconds())
        if r.retained_for is not None
        else None,
        "expiry": _go_duration(r.expiry) if r.expiry is not None else None,
        "expirySource": r.expiry_source,
        "expiryOptions": options_doc(r.expiry_options) if r.expiry_options else [],
        "reclaimAt": iso(r.reclaim_at),
        "objects": {
            "vpcipclaim": ref,
            "vpcip": None if r.unbound else r.ip,
            "pod": ref if r.pod_phase else None,
        },
    }


def ipamd_doc(info: Any) -> dict[str, Any]:
    return {
        "version": str(info.version) if info.version else None,
        "expiry": format_go_duration(info.flags.expiry)
        if info.flags and info.flags.expiry
        else "never",
        "cascade": bool(info.flags and info.flags.cascade),
    }
