"""What `usage` reads: every VpcIP classified, plus nodes, NodeENIConfigs and the ipamd
ConfigMap, and the subnet and zone rows computed from them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..api.cluster import Cluster
from ..errors import ApiError
from ..model import claims as cl
from ..model import schema
from ..model import usage as us
from ..model.fit import view_note


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
    misfit: str | None = None  # a fact usage depends on unknown for most VpcIPs (model fit)


def read_facts(c: Cluster, chunk_size: int) -> Facts:
    """Every VpcIP classified (cluster-wide snapshot), plus nodes, NodeENIConfigs and the ipamd
    ConfigMap; what cannot be read only costs zones or CIDRs, with a warning."""
    from ..api import cluster as api
    from . import gather

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
    misfit = view_note(("vip.subnetCIDR", "vip.claimRef"), snap.inventory)
    return Facts(ips, node_zones, nec_subnets, configured, [*snap.warnings, *warnings], misfit)
