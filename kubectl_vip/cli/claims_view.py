"""`kubectl vip list`: every claim joined with its Pod, VpcIP and owner, in one state each.

Typer-free: `list_cmd` declares the flags; `fastpath` runs a plain `list` line without typer."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime
from typing import Any

from ..errors import UsageError
from ..model import claims as cl
from ..model.claims import ClaimRow, IpRow, State
from ..model.duration import format_go_duration, format_human
from ..model.words import plural
from ..term.render import PlainItems
from . import common
from .common import Globals, age, iso

SORT_KEYS = ("name", "age", "retained", "ip")
IP_ONLY_STATES = tuple(s.value for s in cl.IpState)


def run_list(
    g: Globals,
    output: str = "table",
    state: list[str] | None = None,
    selector: str | None = None,
    sort_by: str = "name",
    ips: bool = False,
    no_headers: bool = False,
    chunk_size: int = 500,
) -> int:
    """`list` once its flags are read (by typer in list_cmd, or by fastpath)."""
    fmt = common.check_format(output, common.LIST_FORMATS)
    states = _parse_states(state or [], ips)
    common.check_selector(selector)
    if sort_by not in SORT_KEYS:
        raise UsageError(f'unknown --sort-by "{sort_by}": use one of {", ".join(SORT_KEYS)}')
    if g.fleet:
        if ips:
            raise UsageError("--ips works on one context; it cannot be combined with --contexts")
        from .fleet_views import fleet_list

        return fleet_list(g, fmt, states, selector, sort_by, no_headers, chunk_size)
    c = g.cluster()
    scope = g.scope()
    snap, rows, now = read_rows(c, scope, selector, chunk_size)
    for w in snap.warnings:
        g.out.warn(w)
    if ips:
        every_ip = cl.classify_ips(snap.inventory, rows, scoped_namespace=scope)
        ip_rows = [r for r in every_ip if not states or r.state in states]
        if not ip_rows:
            common.ensure_namespace(g, scope)
            if fmt in ("table", "wide", "name"):
                _say_none(g, len(every_ip), "VpcIP", states, scope)
        if ip_rows or fmt in ("json", "yaml"):
            _emit_ips(g, ip_rows, fmt, now, scope, no_headers)
        if scope is not None and fmt in ("table", "wide"):
            _left_out(g, snap.inventory, len(every_ip), scope)
        return 0
    cl.release(snap.inventory)
    shown = [r for r in rows if not states or r.state.value in states]
    shown = _sorted(shown, sort_by)
    if not shown and fmt in ("table", "wide", "name"):
        common.ensure_namespace(g, scope)
        _say_none(g, len(rows), "claim", states, scope)
        return 0
    if fmt in ("json", "yaml"):
        g.out.document(claim_list_doc(g, rows, shown, now, scope, snap), fmt)
    elif fmt == "name":
        # kubectl's own form, so `list -n NS -o name | xargs kubectl get -n NS` works
        kind = f"{c.tke().claims.kind.lower()}.{c.tke().claims.group}"
        for r in shown:
            g.out.raw_line(f"{kind}/{r.name}")
    else:
        _table(g, shown, rows, fmt == "wide", scope is None, now, no_headers, states, selector)
    return 0


def read_rows(
    c: Any, scope: str | None, selector: str | None, chunk_size: int
) -> tuple[Any, list[ClaimRow], datetime]:
    """One cluster's claims, read and classified: the snapshot, every row, and "now"."""
    from ..ops import gather

    snap = gather.snapshot(c, scope, label_selector=selector, chunk_size=chunk_size)
    now = c.now()
    return snap, cl.classify(snap.inventory, snap.ipamd.policy, now), now


def _parse_states(values: list[str], ips: bool) -> set[str]:
    """The states asked for, in their canonical spelling; those of the view in use only."""
    known = cl.CLAIM_STATES + (IP_ONLY_STATES if ips else ())
    by_lower = {s.lower(): s for s in known}
    out = set()
    for v in values:
        for part in v.split(","):
            s = by_lower.get(part.strip().lower())
            if s is None:
                extra = (
                    f" ({part.strip()} is a state of the --ips view)"
                    if not ips and part.strip().lower() in {x.lower() for x in IP_ONLY_STATES}
                    else ""
                )
                raise UsageError(f'unknown state "{part}": use one of {", ".join(known)}{extra}')
            out.add(s)
    return out


def _say_none(g: Globals, total: int, noun: str, states: set[str], scope: str | None) -> None:
    where = f"namespace {scope}" if scope else "any namespace"
    if total and states:
        asked = ",".join(sorted(s.lower() for s in states))
        g.out.info(f"0 of {plural(total, noun)} in {where} match --state {asked}.")
    else:
        g.out.info(f"No {noun}s found in {where}.")


def _left_out(g: Globals, inv: cl.Inventory, shown: int, scope: str) -> None:
    """VpcIPs are cluster-wide: say how many the namespace scope leaves out (those of claims in
    other namespaces, and Leaked ones whose claim ref names another namespace or none)."""
    hidden = len(inv.vips) - shown
    if hidden > 0:
        g.out.info(
            f"{plural(hidden, 'VpcIP')} of other namespaces or of no claim not shown "
            f"(-n {scope}): kubectl vip list --ips -A"
        )


def _sorted(rows: list[ClaimRow], key: str) -> list[ClaimRow]:
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


def _reclaim_at(r: ClaimRow, now: datetime) -> str:
    if r.pod_phase is not None:
        return "-"
    if r.reclaim_at is None:
        return "never" if r.expiry is None and not r.overdue else "<unknown>"
    if r.reclaim_at <= now:
        return f"{format_human(now - r.reclaim_at)} ago"
    return f"in {format_human(r.reclaim_at - now)}"


def _table(
    g: Globals,
    shown: list[ClaimRow],
    every: list[ClaimRow],
    wide: bool,
    all_ns: bool,
    now: datetime,
    no_headers: bool,
    states: set[str],
    selector: str | None,
) -> None:
    headers = claim_headers(wide, all_ns)
    rows = [claim_cells(r, wide, all_ns, now) for r in shown]
    g.out.table(headers, rows, style_column="STATE", no_headers=no_headers)
    if no_headers:
        return
    counts = cl.summarize(shown)
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    g.out.line()
    g.out.line(f"{plural(len(shown), 'claim')}: " + ", ".join(parts))
    hint = reclaim_hint(every, states, None if all_ns else g.scope(), selector)
    if hint:
        g.out.line(hint)
    if any(r.released_estimated for r in shown):
        g.out.line("~ release time estimated from the claim's managedFields")


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


def row_doc(r: ClaimRow, now: datetime) -> dict[str, Any]:
    owner = None
    if r.owner is not None:
        owner = {
            "kind": r.owner.kind,
            "name": r.owner.name,
            "uid": r.owner.uid,
            "source": r.owner.source,
            "exists": r.owner.exists,
            "replicas": r.owner.replicas,
        }
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
        "expiry": format_go_duration(r.expiry) if r.expiry is not None else None,
        "expirySource": r.expiry_source,
        "reclaimAt": iso(r.reclaim_at),
        "objects": {
            "vpcipclaim": f"{r.namespace}/{r.name}",
            "vpcip": None if r.unbound else r.ip,
            "pod": f"{r.namespace}/{r.name}" if r.pod_phase else None,
        },
    }


def claim_list_doc(
    g: Globals,
    every: list[ClaimRow],
    shown: list[ClaimRow],
    now: datetime,
    scope: str | None,
    snap: Any,
) -> dict[str, Any]:
    from ..ops import gather

    info: gather.IpamdInfo = snap.ipamd
    return common.document(
        "ClaimList",
        PlainItems(row_doc(r, now) for r in shown),
        metadata={
            "generatedAt": iso(now),
            "namespace": scope,
            "cluster": gather.cluster_identity(g.cluster()),
            "ipamd": ipamd_doc(info),
        },
        summary={"states": cl.summarize(shown), "freeable": cl.freeable(every)},
    )


def ipamd_doc(info: Any) -> dict[str, Any]:
    return {
        "version": str(info.version) if info.version else None,
        "expiry": format_go_duration(info.flags.expiry)
        if info.flags and info.flags.expiry
        else "never",
        "cascade": bool(info.flags and info.flags.cascade),
    }


def _emit_ips(
    g: Globals, rows: list[IpRow], fmt: str, now: datetime, scope: str | None, no_headers: bool
) -> None:
    if fmt in ("json", "yaml"):
        items = [
            {
                "ip": r.ip,
                "state": r.state,
                "phase": r.phase,
                "message": r.message,
                "node": r.node,
                "subnetID": r.subnet_id,
                "subnetCIDR": r.subnet_cidr,
                "type": r.vip_type,
                "claim": {"namespace": r.claim[0], "name": r.claim[1]} if r.claim else None,
                "claimState": r.claim_state.value if r.claim_state else None,
                "createdAt": iso(r.created),
            }
            for r in rows
        ]
        doc = common.document(
            "IPList", PlainItems(items), metadata={"generatedAt": iso(now), "namespace": scope}
        )
        g.out.document(doc, fmt)
        return
    if fmt == "name":
        for r in rows:
            g.out.raw_line(f"vip/{r.ip}")
        return
    headers = ["IP", "STATE", "PHASE", "CLAIM", "NODE", "SUBNET", "AGE"]
    if fmt == "wide":
        headers += ["TYPE", "MESSAGE"]
    table = []
    for r in rows:
        cells = [
            r.ip,
            r.state,
            r.phase or "<unknown>",
            f"{r.claim[0]}/{r.claim[1]}" if r.claim else "<none>",
            r.node or "-",
            r.subnet_cidr or r.subnet_id or "-",
            age(r.created, now),
        ]
        if fmt == "wide":
            cells += [r.vip_type or "<unknown>", r.message or "-"]
        table.append(cells)
    g.out.table(headers, table, style_column="STATE", no_headers=no_headers)
    if not no_headers:
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.state] = counts.get(r.state, 0) + 1
        g.out.line()
        g.out.line(
            f"{plural(len(rows), 'VpcIP')}: "
            + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        )
