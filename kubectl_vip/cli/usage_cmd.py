"""`kubectl vip usage`: how full each container subnet is, per zone, and with what."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import typer

from ..api.cluster import Cluster
from ..errors import ApiError
from ..model import claims as cl
from ..model import schema
from ..model import usage as us
from ..model.words import plural
from ..term.render import bar
from . import common
from .common import Globals, iso

FORMATS = ("table", "wide", "json", "yaml", "prometheus")

HELP = """Show address usage per container subnet and zone: size, used, free, and what holds them.

Usage is cluster-wide by nature (a subnet serves every namespace): -n/-A are ignored.
SIZE is the subnet's usable addresses: its CIDR's addresses minus 3 (network, gateway and
broadcast are reserved by the VPC). USED counts VpcIPs; IN USE are held by a Pod (or still
attaching), RETAINED by claims without a Pod (Retained, Expiring, Overdue, Orphaned; -o wide
breaks them out), LEAKED by no claim. FREE ignores ENI primary addresses, so it is an upper bound.
A subnet's CIDR comes from NodeENIConfigs and VpcIPs, its zone from the zone label of the nodes
that use it (ZONE FROM in the zone table); IPs of unknown subnet go to an "unknown" row, and
subnets configured in ipamd (TKE_ENI_IPAMD_SUBNET_ID) whose CIDR is not known are listed with
size unknown. A zone is said to have no container subnet only when every subnet's zone is known.

-o prometheus writes gauges (no timestamps) for node-exporter's textfile collector:

\b
  kubectl_vip_subnet_size, _used, _free, _used_ratio   {subnet, cidr, zone}
  kubectl_vip_subnet_ips     {subnet, cidr, zone, state}  state: in_use, retained, expiring,
                             overdue, orphaned, leaked, attaching, other (disjoint; sum = used)
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
    c = g.cluster()
    facts, rows, zones = compute(c, chunk_size)
    for w in facts.warnings:
        g.out.warn(w)
    if fmt == "prometheus":
        g.out.raw(us.prometheus_text(rows, zones))
    elif fmt in ("json", "yaml"):
        g.out.document(usage_doc(rows, zones, c), fmt)
    else:
        _table(g, rows, zones, wide=fmt == "wide")
    return 0


def compute(c: Cluster, chunk_size: int) -> tuple[Facts, list[us.SubnetUsage], list[us.ZoneUsage]]:
    """One cluster's usage: what was read, the subnet rows and the zone rows."""
    facts = read_facts(c, chunk_size)
    rows = us.compute_usage(
        facts.ips,
        node_zones=facts.node_zones,
        nec_subnets=facts.nec_subnets,
        configured=facts.configured,
    )
    return facts, rows, us.zone_usage(rows, facts.node_zones)


@dataclass
class Facts:
    ips: list[cl.IpRow]
    node_zones: dict[str, str | None]
    nec_subnets: dict[str, list[tuple[str | None, str]]]
    configured: list[str] | None
    warnings: list[str]


def read_facts(c: Cluster, chunk_size: int) -> Facts:
    """Every VpcIP classified (cluster-wide snapshot), plus nodes, NodeENIConfigs and the ipamd
    ConfigMap; what cannot be read only costs zones or CIDRs, with a warning."""
    from ..api import cluster as api
    from ..ops import gather

    tke = c.tke()
    warnings: list[str] = []

    def nodes() -> dict[str, str | None]:
        items, _ = c.list(api.NODES, chunk_size=chunk_size, trim=schema.trim_node)
        return {schema.name(n): schema.node_zone(n) for n in items}

    def necs() -> dict[str, list[tuple[str | None, str]]]:
        if tke.necs is None:
            return {}
        items, _ = c.list(tke.necs, chunk_size=chunk_size)
        return {schema.name(n): schema.nec_subnets(n) for n in items}

    def configmap() -> list[str] | None:
        cm = c.get(api.CONFIGMAPS, "tke-eni-ipamd", "kube-system")
        if cm is None:
            warnings.append(
                "ConfigMap kube-system/tke-eni-ipamd not found: configured subnets unknown"
            )
            return None
        return schema.ipamd_subnet_ids(cm)

    def soft(fut: Any, what: str, default: Any) -> Any:
        try:
            return fut.result()
        except ApiError as e:
            warnings.append(f"cannot read {what}: {e.message}")
            return default

    with ThreadPoolExecutor(max_workers=4) as pool:
        f_snap = pool.submit(gather.snapshot, c, None, chunk_size=chunk_size)
        f_nodes = pool.submit(nodes)
        f_necs = pool.submit(necs)
        f_cm = pool.submit(configmap)
        snap = f_snap.result()
        node_zones = soft(f_nodes, "nodes (zones unknown)", {})
        nec_subnets = soft(f_necs, "nodeeniconfigs (CIDRs from VpcIPs only)", {})
        configured = soft(f_cm, "the ipamd ConfigMap (configured subnets unknown)", None)
    rows = cl.classify(snap.inventory, snap.ipamd.policy, c.now())
    ips = cl.classify_ips(snap.inventory, rows, scoped_namespace=None)
    return Facts(ips, node_zones, nec_subnets, configured, [*snap.warnings, *warnings])


# ---------------------------------------------------------------------------- output


def _n(v: int | None) -> str:
    return "unknown" if v is None else str(v)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}%"


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
            headers += ["EXPIRING", "OVERDUE", "ORPHANED", "ATTACHING", "OTHER", "CONFIGURED"]
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
                _n(z.size),
                str(z.used),
                _n(z.free),
                _pct(z.percent),
                _zone_from(z),
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


def subnet_cells(r: us.SubnetUsage) -> list[str]:
    """SUBNET CIDR ZONE SIZE USED IN-USE RETAINED LEAKED FREE USE%."""
    return [
        us.UNKNOWN if r.unknown else r.subnet_id or "unknown",
        r.cidr or "unknown",
        r.zone or "unknown",
        _n(r.size),
        str(r.used),
        str(r.held),
        str(r.kept),
        str(r.leaked),
        _n(r.free),
        _pct(r.percent),
    ]


def _zone_from(z: us.ZoneUsage) -> str:
    """`node labels; subnets via NodeENIConfig ENIs, VpcIP nodes`."""
    parts = [x for x in z.source if x == us.ZONE_FROM_LABEL]
    via = [x for x in z.source if x != us.ZONE_FROM_LABEL]
    if via:
        parts.append("subnets via " + ", ".join(via))
    elif z.zone is None:
        parts.append("no node uses these subnets")
    return "; ".join(parts) or "-"


def _notes(rows: list[us.SubnetUsage], zones: list[us.ZoneUsage]) -> list[str]:
    out = []
    known = [r for r in rows if r.size is not None]
    if known:
        size = sum(r.size or 0 for r in known)
        used = sum(r.used for r in known)
        pct = _pct(us.percent_of(used, size))
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
            out.append(f"Subnet {name} is {_pct(r.percent)} used: {_n(r.free)} addresses left.")
    if any(r.orphaned or r.overdue for r in rows):
        out.append("Reclaimable now: kubectl vip reclaim --orphaned --overdue -A --dry-run")
    return out


def row_doc(r: us.SubnetUsage) -> dict[str, Any]:
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
        "orphaned": r.orphaned,
        "leaked": r.leaked,
        "attaching": r.attaching,
        "other": r.other,
        "free": r.free,
        "percent": r.percent,
    }


def usage_doc(rows: list[us.SubnetUsage], zones: list[us.ZoneUsage], c: Cluster) -> dict[str, Any]:
    return common.document(
        "SubnetUsageList",
        [row_doc(r) for r in rows],
        metadata={"generatedAt": iso(c.now()), "reservedPerSubnet": us.RESERVED_PER_SUBNET},
        zones=[zone_doc(z) for z in zones],
    )


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
