"""`kubectl vip usage`: how full each container subnet is, per zone, and with what."""

from __future__ import annotations

from typing import Any

import typer

from ..api.cluster import Cluster
from ..model import usage as us
from ..model.words import plural
from ..term.render import bar
from . import common
from .common import Globals, iso
from .usage_rows import count_text, percent_text, subnet_cells, subnet_doc, zone_doc, zone_from

FORMATS = ("table", "wide", "json", "yaml", "prometheus")

HELP = """Show address usage per container subnet and zone: size, used, free, and what holds them.

Usage is cluster-wide by nature (a subnet serves every namespace): -n/-A are ignored.
SIZE is the subnet's usable addresses: its CIDR's addresses minus 3 (network, gateway and
broadcast are reserved by the VPC). USED counts VpcIPs; IN USE are held by a Pod (or still
attaching), RETAINED by claims without a Pod (Retained, Expiring, Overdue, ScaledIn,
Orphaned; -o wide breaks them out), LEAKED by no claim. FREE ignores ENI primary addresses, so
it is an upper bound.
A subnet's CIDR comes from NodeENIConfigs and VpcIPs, its zone from the zone label of the nodes
that use it (ZONE FROM in the zone table); IPs of unknown subnet go to an "unknown" row, and
subnets configured in ipamd (TKE_ENI_IPAMD_SUBNET_ID) whose CIDR is not known are listed with
size unknown. A zone is said to have no container subnet only when every subnet's zone is known.

-o prometheus writes gauges (no timestamps) for node-exporter's textfile collector:

\b
  kubectl_vip_subnet_size, _used, _free, _used_ratio   {subnet, cidr, zone}
  kubectl_vip_subnet_ips     {subnet, cidr, zone, state}  state: in_use, retained, expiring,
                             overdue, scaled_in, orphaned, leaked, attaching, other
                             (disjoint; sum = used)
  kubectl_vip_zone_nodes, kubectl_vip_zone_subnets      {zone}

Unknown label values read "unknown"; unknown sizes are left out, not NaN.
"""

EPILOG = """Examples:

\b
  kubectl vip usage                        # per subnet: size, used, retained, leaked, free
  kubectl vip usage -o prometheus > /var/lib/node-exporter/textfile/kubectl_vip.prom
"""


def register(app: typer.Typer) -> None:
    app.command("usage", help=HELP, epilog=EPILOG)(usage_command)


def usage_command(
    ctx: typer.Context,
    output: str = typer.Option("table", "-o", "--output", help="table|wide|json|yaml|prometheus"),
    chunk_size: int = typer.Option(
        500, "--chunk-size", min=0, help="Page size of list requests (0: no paging)."
    ),
) -> int:
    g = common.globals_of(ctx)
    fmt = common.check_format(output, FORMATS)
    if g.namespace and fmt in ("table", "wide"):
        g.out.info("Note: usage is cluster-wide; -n is ignored.")
    if g.fleet:
        from .fleet_views import fleet_usage

        return fleet_usage(g, fmt, chunk_size)
    from ..ops.usage_reads import compute

    c = g.cluster()
    facts, rows, zones = compute(c, chunk_size)
    for w in facts.warnings:
        g.out.warn(w)
    if facts.misfit:
        g.out.warn(facts.misfit)
    if fmt == "prometheus":
        g.out.raw(us.prometheus_text(rows, zones))
    elif fmt in ("json", "yaml"):
        g.out.document(usage_doc(rows, zones, c), fmt)
    else:
        _table(g, rows, zones, wide=fmt == "wide")
    return 0


# ---------------------------------------------------------------------------- output


def _table(
    g: Globals, rows: list[us.SubnetUsage], zones: list[us.ZoneUsage], *, wide: bool
) -> None:
    if not rows:
        g.out.info("No container subnets or VpcIPs found.")
    else:
        headers = [
            "SUBNET",
            "CIDR",
            "ZONE",
            "SIZE",
            "USED",
            "IN USE",
            "RETAINED",
            "LEAKED",
            "FREE",
            "USE%",
        ]
        if wide:
            headers += ["EXPIRING", "OVERDUE", "SCALED IN", "ORPHANED", "ATTACHING", "OTHER"]
            headers.append("CONFIGURED")
        if g.out.tty:
            headers.append("")
        table = []
        for r in rows:
            cells = subnet_cells(r)
            if wide:
                configured = "-" if r.configured is None else ("yes" if r.configured else "no")
                cells += [
                    str(r.expiring),
                    str(r.overdue),
                    str(r.scaled_in),
                    str(r.orphaned),
                    str(r.attaching),
                    str(r.other),
                    configured,
                ]
            if g.out.tty:
                cells.append(bar((r.percent or 0.0) / 100.0) if r.percent is not None else "")
            table.append(cells)
        g.out.table(headers, table)
    if zones:
        g.out.line()
        zt = [
            [
                z.zone or "unknown",
                str(z.nodes),
                ",".join(z.subnets) or "<none>",
                count_text(z.size),
                str(z.used),
                count_text(z.free),
                percent_text(z.percent),
                zone_from(z),
            ]
            for z in zones
        ]
        headers = ["ZONE", "NODES", "SUBNETS", "SIZE", "USED", "FREE", "USE%", "ZONE FROM"]
        g.out.table(headers, zt)
    notes = _notes(rows, zones)
    if notes:
        g.out.line()
        for n in notes:
            g.out.line(n)


def _notes(rows: list[us.SubnetUsage], zones: list[us.ZoneUsage]) -> list[str]:
    out = []
    known = [r for r in rows if r.size is not None]
    if known:
        size = sum(r.size or 0 for r in known)
        used = sum(r.used for r in known)
        pct = percent_text(us.percent_of(used, size))
        kept, leaked = sum(r.kept for r in rows), sum(r.leaked for r in rows)
        out.append(
            f"{plural(len(known), 'subnet')}: {used} of {size} usable addresses used ({pct}); "
            f"{kept} held by claims without a Pod, {leaked} leaked."
        )
    unknown_zone = us.zoneless(rows)
    for z in zones:
        note = us.subnetless_zone_note(z, unknown_zone)
        if note:
            out.append(note)
    for r in rows:
        if r.unknown:
            out.append(
                f"{plural(r.used, 'VpcIP')} name no subnet and fall in no known CIDR (row unknown)."
            )
        elif r.configured is False:
            out.append(f"Subnet {r.subnet_id or r.cidr} is not in ipamd's TKE_ENI_IPAMD_SUBNET_ID.")
        elif r.percent is not None and r.percent >= 90.0:
            name = r.subnet_id or r.cidr
            left = count_text(r.free)
            out.append(f"Subnet {name} is {percent_text(r.percent)} used: {left} addresses left.")
    if any(r.orphaned or r.overdue for r in rows):
        out.append("Reclaimable now: kubectl vip reclaim --orphaned --overdue -A --dry-run")
    return out


def usage_doc(rows: list[us.SubnetUsage], zones: list[us.ZoneUsage], c: Cluster) -> dict[str, Any]:
    return common.document(
        "SubnetUsageList",
        [subnet_doc(r) for r in rows],
        metadata={"generatedAt": iso(c.now()), "reservedPerSubnet": us.RESERVED_PER_SUBNET},
        zones=[zone_doc(z) for z in zones],
    )
