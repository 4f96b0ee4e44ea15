"""Address usage per container subnet and zone (pure): how full each subnet is, and with what.

Rules (documented in `kubectl vip usage --help` too):

- **Size** is the number of usable addresses: all addresses of the CIDR minus 3, because a
  Tencent Cloud VPC subnet reserves the network address, the gateway (first host) and the
  broadcast address. A subnet whose CIDR is unknown has size None ("unknown").
- **Used** counts VpcIP objects, one address each, split into disjoint buckets by the VpcIP's
  state (as in `kubectl vip list --ips`): `in_use` (a Pod holds it: InUse, Terminating,
  Completed), `retained`, `expiring`, `overdue`, `scaled_in`, `orphaned` (claims without a Pod),
  `leaked` (no claim), `attaching` (cannot attach to its node, often the VPC ENI quota) and
  `other` (VpcIPs that are not Pod IPs). ENI primary addresses and other VPC resources in the
  subnet are invisible to Kubernetes, so `free` is an upper bound.
- **Subnet of an IP**: the VpcIP's subnet id and CIDR; an id without a CIDR takes the CIDR that
  NodeENIConfigs or other VpcIPs pair with it; an IP with neither falls into the known CIDR
  that contains it, else into one "unknown" row (it never vanishes).
- **Zone of a subnet**: the zone label (`topology.kubernetes.io/zone`) of the nodes whose
  NodeENIConfig has an ENI in it, and of the nodes its VpcIPs are attached to (`zone_from`
  says which). A VPC subnet lives in one zone; should the labels disagree, every zone seen is
  kept. A subnet no node uses has no known zone: then no zone can be said to lack a subnet.
- **Configured subnets** (ipamd ConfigMap `TKE_ENI_IPAMD_SUBNET_ID`) with no known CIDR are
  listed with size unknown; `configured` tells whether a row's subnet is in that list (None
  when the ConfigMap could not be read).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .claims import IpRow

UNKNOWN = "unknown"
RESERVED_PER_SUBNET = 3  # network, gateway, broadcast

# disjoint buckets of "used", in display order; their sum is `used`
BUCKETS = (
    "in_use",
    "retained",
    "expiring",
    "overdue",
    "scaled_in",
    "orphaned",
    "leaked",
    "attaching",
    "other",
)
STATE_BUCKET = {
    "InUse": "in_use",
    "Terminating": "in_use",
    "Completed": "in_use",
    "Retained": "retained",
    "Expiring": "expiring",
    "Overdue": "overdue",
    "ScaledIn": "scaled_in",
    "Orphaned": "orphaned",
    "Leaked": "leaked",
    "Attaching": "attaching",
    "Other": "other",
    "Unknown": "other",  # whose claim reference cannot be read: not counted as leaked
}


@dataclass(frozen=True)
class SubnetUsage:
    subnet_id: str | None
    cidr: str | None
    zones: tuple[str, ...]
    size: int | None  # usable addresses; None: CIDR unknown
    used: int
    in_use: int
    retained: int
    expiring: int
    overdue: int
    scaled_in: int
    orphaned: int
    leaked: int
    attaching: int
    other: int
    free: int | None
    percent: float | None  # used / size * 100, one decimal
    configured: bool | None  # listed in ipamd's TKE_ENI_IPAMD_SUBNET_ID (None: not known)
    unknown: bool = False  # the row of IPs whose subnet is unknown
    zone_from: tuple[str, ...] = ()  # where its zone came from: ZONE_FROM_NEC, ZONE_FROM_VPCIP

    @property
    def zone(self) -> str | None:
        return ",".join(self.zones) if self.zones else None

    @property
    def kept(self) -> int:
        """Addresses held by claims without a Pod (Retained, Expiring, Overdue, ScaledIn,
        Orphaned)."""
        return self.retained + self.expiring + self.overdue + self.scaled_in + self.orphaned

    @property
    def held(self) -> int:
        """Addresses held for a Pod that exists (including ones still attaching)."""
        return self.in_use + self.attaching

    def count(self, bucket: str) -> int:
        value: int = getattr(self, bucket)
        return value


ZONE_FROM_LABEL = "node labels"
ZONE_FROM_NEC = "NodeENIConfig ENIs"
ZONE_FROM_VPCIP = "VpcIP nodes"


@dataclass(frozen=True)
class ZoneUsage:
    zone: str | None  # None: subnets whose zone is unknown
    nodes: int
    subnets: tuple[str, ...]  # subnet ids (or CIDRs when the id is unknown)
    size: int | None  # None when some subnet's size is unknown; 0 when the zone has none
    used: int
    free: int | None
    percent: float | None
    # where the zone came from: its nodes' zone labels, and how its subnets were placed in it
    source: tuple[str, ...] = ()


def usable_size(cidr: str | None) -> int | None:
    """Usable addresses of a VPC subnet: its addresses minus the 3 reserved ones."""
    net = _network(cidr)
    if net is None:
        return None
    return max(net.num_addresses - RESERVED_PER_SUBNET, 0)


def percent_of(used: int, size: int | None) -> float | None:
    if not size:
        return None
    return round(used * 100.0 / size, 1)


def _network(cidr: str | None) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not cidr:
        return None
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        return None


def _norm_cidr(cidr: str | None) -> str | None:
    if not cidr or not cidr.strip():
        return None
    net = _network(cidr)
    return str(net) if net is not None else cidr.strip()


@dataclass
class _Acc:
    subnet_id: str | None
    cidr: str | None
    zones: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    zone_from: set[str] = field(default_factory=set)


class _Subnets:
    """Subnet identity: ids and CIDRs seen together are the same subnet."""

    def __init__(self) -> None:
        self.id_cidr: dict[str, str] = {}
        self.cidr_id: dict[str, str] = {}

    def learn(self, subnet_id: str | None, cidr: str | None) -> None:
        if subnet_id and cidr:
            self.id_cidr.setdefault(subnet_id, cidr)
            self.cidr_id.setdefault(cidr, subnet_id)

    def resolve(self, subnet_id: str | None, cidr: str | None) -> tuple[str | None, str | None]:
        sid = subnet_id or (self.cidr_id.get(cidr) if cidr else None)
        return sid, (self.id_cidr.get(sid) if sid else None) or cidr

    def containing(self, ip: str) -> tuple[str | None, str | None]:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None, None
        cidrs = set(self.id_cidr.values()) | set(self.cidr_id)
        for c in sorted(cidrs):
            net = _network(c)
            if net is not None and addr.version == net.version and addr in net:
                return self.resolve(None, c)
        return None, None


def _key(subnet_id: str | None, cidr: str | None) -> str:
    return f"id:{subnet_id}" if subnet_id else f"cidr:{cidr}"


def compute_usage(
    ips: Iterable[IpRow],
    *,
    node_zones: Mapping[str, str | None] | None = None,
    nec_subnets: Mapping[str, Sequence[tuple[str | None, str]]] | None = None,
    configured: Sequence[str] | None = None,
) -> list[SubnetUsage]:
    """One row per subnet (and one "unknown" row when some IP's subnet is unknown).

    ips: the VpcIP view (`claims.classify_ips`, cluster-wide); node_zones: node name → zone
    label; nec_subnets: node name → its NodeENIConfig's (subnet id, CIDR) pairs; configured:
    ipamd's TKE_ENI_IPAMD_SUBNET_ID (None: the ConfigMap could not be read).
    """
    node_zones = node_zones or {}
    nec_subnets = nec_subnets or {}
    ip_rows = list(ips)
    # a cluster has a few subnets and tens of thousands of IPs: parse each CIDR once
    norm_cidr = functools.cache(_norm_cidr)
    reg = _Subnets()
    for pairs in nec_subnets.values():
        for sid, cidr in pairs:
            reg.learn(sid, norm_cidr(cidr))
    for r in ip_rows:
        reg.learn(r.subnet_id, norm_cidr(r.subnet_cidr))

    accs: dict[str, _Acc] = {}

    def acc(sid: str | None, cidr: str | None) -> _Acc:
        k = _key(sid, cidr)
        if k not in accs:
            accs[k] = _Acc(sid, cidr)
        return accs[k]

    for node, pairs in nec_subnets.items():
        zone = node_zones.get(node)
        for sid, cidr in pairs:
            a = acc(*reg.resolve(sid, norm_cidr(cidr)))
            if zone:
                a.zones.add(zone)
                a.zone_from.add(ZONE_FROM_NEC)
    for configured_id in configured or ():
        acc(*reg.resolve(configured_id, None))
    unknown = _Acc(None, None)
    for r in ip_rows:
        where = reg.resolve(r.subnet_id, norm_cidr(r.subnet_cidr))
        if where == (None, None):
            where = reg.containing(r.ip)
        a = acc(*where) if where != (None, None) else unknown
        a.counts[STATE_BUCKET.get(r.state, "other")] += 1
        zone = node_zones.get(r.node) if r.node else None
        if zone and a is not unknown:
            a.zones.add(zone)
            a.zone_from.add(ZONE_FROM_VPCIP)

    wanted = set(configured) if configured is not None else None
    rows = [_row(a, wanted) for a in accs.values()]
    rows.sort(key=_sort_key)
    if any(unknown.counts.values()):
        rows.append(_row(unknown, wanted, is_unknown=True))
    return rows


def _row(a: _Acc, configured: set[str] | None, *, is_unknown: bool = False) -> SubnetUsage:
    size = None if is_unknown else usable_size(a.cidr)
    used = sum(a.counts.values())
    is_configured: bool | None = None
    if configured is not None and not is_unknown:
        is_configured = a.subnet_id in configured if a.subnet_id else False
    return SubnetUsage(
        subnet_id=a.subnet_id,
        cidr=a.cidr,
        zones=tuple(sorted(a.zones)),
        size=size,
        used=used,
        **a.counts,
        free=max(size - used, 0) if size is not None else None,
        percent=percent_of(used, size),
        configured=is_configured,
        unknown=is_unknown,
        zone_from=tuple(x for x in (ZONE_FROM_NEC, ZONE_FROM_VPCIP) if x in a.zone_from),
    )


def _sort_key(r: SubnetUsage) -> tuple[int, int, int, str]:
    net = _network(r.cidr)
    if net is not None:
        return (0, net.version, int(net.network_address), r.subnet_id or "")
    return (1, 0, 0, r.subnet_id or r.cidr or "")


def zone_usage(
    rows: Iterable[SubnetUsage], node_zones: Mapping[str, str | None]
) -> list[ZoneUsage]:
    """Per zone: its nodes and the subnets seen in it. A zone with nodes and no subnet has
    size 0: Pods scheduled there get no IP. Subnets of unknown zone are grouped under None."""
    nodes: dict[str | None, int] = {}
    for z in node_zones.values():
        nodes[z or None] = nodes.get(z or None, 0) + 1
    by_zone: dict[str | None, list[SubnetUsage]] = {z: [] for z in nodes}
    for r in rows:
        if r.unknown:
            continue
        for z in r.zones or (None,):
            by_zone.setdefault(z, []).append(r)
    out = []
    for z, subnets in by_zone.items():
        if z is None and not subnets:
            continue  # nodes without a zone label and no subnet to show for them
        sizes = [s.size for s in subnets]
        size = None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)
        used = sum(s.used for s in subnets)
        source = ([ZONE_FROM_LABEL] if nodes.get(z) else []) + [
            x for x in (ZONE_FROM_NEC, ZONE_FROM_VPCIP) if any(x in s.zone_from for s in subnets)
        ]
        out.append(
            ZoneUsage(
                zone=z,
                nodes=nodes.get(z, 0),
                subnets=tuple(s.subnet_id or s.cidr or UNKNOWN for s in subnets),
                size=size,
                used=used,
                free=max(size - used, 0) if size is not None else None,
                percent=percent_of(used, size),
                source=tuple(source),
            )
        )
    out.sort(key=lambda u: (u.zone is None, u.zone or ""))
    return out


def zoneless(rows: Iterable[SubnetUsage]) -> list[str]:
    """Subnets (configured or seen) whose zone is not known."""
    return [r.subnet_id or r.cidr or UNKNOWN for r in rows if not r.unknown and not r.zones]


def subnetless_zone_note(z: ZoneUsage, unknown_zone: list[str]) -> str | None:
    """What can be said of a zone with nodes and no subnet seen in it: that it has none only
    when every subnet's zone is known."""
    if not z.zone or not z.nodes or z.subnets:
        return None
    nodes = "1 node" if z.nodes == 1 else f"{z.nodes} nodes"
    if unknown_zone:
        return (
            f"Zone {z.zone} has {nodes} and no container subnet known in it: the zone of "
            f"subnets {', '.join(unknown_zone)} is unknown (no node uses them yet)."
        )
    return f"Zone {z.zone} has {nodes} and no container subnet: VPC-CNI Pods there get no IP."


# ---------------------------------------------------------------------------- Prometheus

METRIC_PREFIX = "kubectl_vip_"
METRICS = (
    ("subnet_size", "Usable addresses of the container subnet (its addresses minus 3 reserved)."),
    (
        "subnet_ips",
        "VpcIPs in the subnet by state; states are disjoint and sum to kubectl_vip_subnet_used.",
    ),
    ("subnet_used", "VpcIPs in the subnet."),
    ("subnet_free", "Usable addresses of the subnet not taken by a VpcIP (an upper bound)."),
    ("subnet_used_ratio", "kubectl_vip_subnet_used / kubectl_vip_subnet_size."),
    ("zone_nodes", "Nodes in the zone (label topology.kubernetes.io/zone)."),
    (
        "zone_subnets",
        "Container subnets seen in the zone; 0 with nodes means Pods there get no IP.",
    ),
)


def escape_label(value: str) -> str:
    """A label value as the text exposition format wants it."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _labels(pairs: Sequence[tuple[str, str]]) -> str:
    return "{" + ",".join(f'{k}="{escape_label(v)}"' for k, v in pairs) + "}"


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(round(v, 6))


def prometheus_text(rows: Sequence[SubnetUsage], zones: Sequence[ZoneUsage]) -> str:
    """Gauges in the Prometheus text format (0.0.4), without timestamps, so the output can be
    dropped into node-exporter's textfile collector as is. Unknown values are the label
    value "unknown"; a sample whose value is unknown (size of a subnet without CIDR) is left
    out rather than written as NaN."""
    return prometheus_fleet_text([("", rows, zones)])


def prometheus_fleet_text(
    groups: Sequence[tuple[str, Sequence[SubnetUsage], Sequence[ZoneUsage]]],
) -> str:
    """One page for many clusters: each group's series labelled {context="..."} first (no
    label when the context is ""), each metric's HELP and TYPE once."""
    samples: dict[str, list[str]] = {name: [] for name, _ in METRICS}
    for context, rows, zones in groups:
        _samples(samples, [("context", context)] if context else [], rows, zones)
    lines: list[str] = []
    for name, help_text in METRICS:
        full = METRIC_PREFIX + name
        lines.append(f"# HELP {full} {_escape_help(help_text)}")
        lines.append(f"# TYPE {full} gauge")
        lines.extend(f"{full}{s}" for s in samples[name])
    return "\n".join(lines) + "\n"


def _samples(
    samples: dict[str, list[str]],
    extra: list[tuple[str, str]],
    rows: Sequence[SubnetUsage],
    zones: Sequence[ZoneUsage],
) -> None:
    for r in rows:
        base = [
            *extra,
            ("subnet", UNKNOWN if r.unknown else r.subnet_id or UNKNOWN),
            ("cidr", r.cidr or UNKNOWN),
            ("zone", r.zone or UNKNOWN),
        ]
        lab = _labels(base)
        if r.size is not None:
            samples["subnet_size"].append(f"{lab} {r.size}")
        for b in BUCKETS:
            samples["subnet_ips"].append(f"{_labels([*base, ('state', b)])} {r.count(b)}")
        samples["subnet_used"].append(f"{lab} {r.used}")
        if r.free is not None:
            samples["subnet_free"].append(f"{lab} {r.free}")
        if r.size:
            samples["subnet_used_ratio"].append(f"{lab} {_num(r.used / r.size)}")
    for z in zones:
        lab = _labels([*extra, ("zone", z.zone or UNKNOWN)])
        samples["zone_nodes"].append(f"{lab} {z.nodes}")
        samples["zone_subnets"].append(f"{lab} {len(z.subnets)}")
