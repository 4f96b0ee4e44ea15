"""`kubectl vip list`: every claim joined with its Pod, VpcIP and owner, in one state each.

Typer-free: `list_cmd` declares the flags; `fastpath` runs a plain `list` line without typer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import UsageError
from ..model import claims as cl
from ..model.claims import ClaimRow, IpRow
from ..model.words import plural
from ..term.render import PlainItems
from . import common
from .claims_rows import claim_cells, claim_headers, ipamd_doc, reclaim_hint, row_doc, sort_rows
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
            flag = "--all-contexts" if g.all_contexts else "--contexts"
            raise UsageError(f"--ips works on one context; it cannot be combined with {flag}")
        from .fleet_views import fleet_list

        return fleet_list(g, fmt, states, selector, sort_by, no_headers, chunk_size)
    from ..model.fit import view_note
    from ..ops.gather import claims_labelled, read_rows

    c = g.cluster()
    scope = g.scope()
    # the VpcIP view joins every claim (a state never depends on a filter); -l then chooses
    # the VpcIPs whose claim carries those labels
    snap, rows, now = read_rows(c, scope, None if ips else selector, chunk_size)
    for w in snap.warnings:
        g.out.warn(w)
    # once, when a fact this view depends on is unknown for most objects (model fit)
    misfit = view_note(IP_FACTS if ips else CLAIM_FACTS, snap.inventory)
    if misfit:
        g.out.warn(misfit)
    if ips:
        # the claim records are done with once the rows are made, the claim rows and the
        # VpcIP records once the VpcIP rows are: let each go before the next takes room
        vips_in_all = len(snap.inventory.vips)
        cl.release(snap.inventory, keep_vips=True)
        every_ip = cl.classify_ips(snap.inventory, rows, scoped_namespace=scope)
        del rows
        cl.release(snap.inventory)
        chosen = every_ip
        if selector:
            labelled = claims_labelled(c, scope, selector, chunk_size)
            chosen = [r for r in every_ip if r.claim in labelled]
        ip_rows = [r for r in chosen if not states or r.state in states]
        if not ip_rows:
            common.ensure_namespace(g, scope)
            if fmt in ("table", "wide", "name"):
                _say_none(g, len(every_ip), "VpcIP", states, scope)
        if ip_rows or fmt in ("json", "yaml"):
            _emit_ips(g, ip_rows, fmt, now, scope, no_headers)
        if scope is not None and fmt in ("table", "wide"):
            _left_out(g, vips_in_all, len(every_ip), scope)
        return 0
    cl.release(snap.inventory)
    shown = [r for r in rows if not states or r.state.value in states]
    shown = sort_rows(shown, sort_by)
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


# the facts of the field table each view shows (model/fit.py)
CLAIM_FACTS = ("claim.ip", "claim.releaseTime")
IP_FACTS = ("vip.claimRef", "vip.phase")


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


def _left_out(g: Globals, vips_in_all: int, shown: int, scope: str) -> None:
    """VpcIPs are cluster-wide: say how many the namespace scope leaves out (those of claims in
    other namespaces, and Leaked ones whose claim ref names another namespace or none)."""
    hidden = vips_in_all - shown
    if hidden > 0:
        g.out.info(
            f"{plural(hidden, 'VpcIP')} of other namespaces or of no claim not shown "
            f"(-n {scope}): kubectl vip list --ips -A"
        )


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


def claim_list_doc(
    g: Globals,
    every: list[ClaimRow],
    shown: list[ClaimRow],
    now: datetime,
    scope: str | None,
    snap: Any,
) -> dict[str, Any]:
    from ..model.ipamd_info import IpamdInfo
    from ..ops import gather

    info: IpamdInfo = snap.ipamd
    owners: dict[int, Any] = {}
    return common.document(
        "ClaimList",
        PlainItems(row_doc(r, now, owners) for r in shown),
        metadata={
            "generatedAt": iso(now),
            "namespace": scope,
            "cluster": gather.cluster_identity(g.cluster()),
            "ipamd": ipamd_doc(info),
        },
        summary={"states": cl.summarize(shown), "freeable": cl.freeable(every)},
    )


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
