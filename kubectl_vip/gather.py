"""Read what classification needs from the cluster: one paged list per kind, in parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import cluster as api
from . import ipamd, schema
from .claims import Inventory, IpamdPolicy
from .cluster import Cluster, Resource
from .errors import ApiError, Forbidden

Obj = dict[str, Any]


@dataclass
class IpamdInfo:
    """The ipamd Deployment as far as we could read it."""

    deployment: Obj | None
    flags: ipamd.IpamdFlags | None
    version: ipamd.Version | None
    image: str | None
    problem: str | None = None  # why it could not be read, for a warning line

    @property
    def policy(self) -> IpamdPolicy:
        if self.flags is None:
            return IpamdPolicy()
        supported = self.version is None or self.version >= ipamd.ANNOTATION_EXPIRY_FROM
        return IpamdPolicy(self.flags.expiry, supported, self.flags.cascade)


def read_ipamd(c: Cluster) -> IpamdInfo:
    try:
        dep = c.get(api.DEPLOYMENTS, ipamd.DEPLOYMENT_NAME, ipamd.DEPLOYMENT_NAMESPACE)
    except Forbidden as e:
        return IpamdInfo(None, None, None, None, f"cannot read the ipamd Deployment: {e.message}")
    if dep is None:
        return IpamdInfo(None, None, None, None, "kube-system/tke-eni-ipamd does not exist")
    return ipamd_info(dep)


def ipamd_info(dep: Obj) -> IpamdInfo:
    containers = schema.dig(dep, "spec", "template", "spec", "containers")
    containers = containers if isinstance(containers, list) else []
    try:
        idx = ipamd.find_ipamd_container(containers)
        container = containers[idx]
        flags = ipamd.read_flags(container)
    except ipamd.IpamdError as e:
        return IpamdInfo(dep, None, None, None, str(e))
    image = schema.text(container.get("image"))
    return IpamdInfo(dep, flags, ipamd.parse_version(image or ""), image)


@dataclass
class Snapshot:
    inventory: Inventory
    ipamd: IpamdInfo
    warnings: list[str] = field(default_factory=list)


def _owner_kinds(claims: list[Obj]) -> set[str]:
    return {r.kind for c in claims for r in schema.owner_refs(c)}


def snapshot(
    c: Cluster,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    chunk_size: int = 500,
    with_pods: bool = True,
) -> Snapshot:
    """Claims (in `namespace`, None = all), every VpcIP, the Pods and StatefulSets in scope,
    other owner workloads only when some claim names one, and the ipamd policy."""
    tke = c.tke()

    def lst(res: Resource, ns: str | None, trim: Any, selector: str | None = None) -> list[Obj]:
        items, _ = c.list(res, ns, label_selector=selector, chunk_size=chunk_size, trim=trim)
        return items

    with ThreadPoolExecutor(max_workers=5) as pool:
        f_claims = pool.submit(lst, tke.claims, namespace, schema.trim_claim, label_selector)
        f_vips = pool.submit(lst, tke.vips, None, schema.trim_vip)
        f_pods = pool.submit(lst, api.PODS, namespace, schema.trim_pod) if with_pods else None
        f_sts = pool.submit(lst, api.STATEFULSETS, namespace, schema.trim_workload)
        f_ipamd = pool.submit(read_ipamd, c)
        claims = f_claims.result()
        vips = f_vips.result()
        pods = f_pods.result() if f_pods else []
        workloads: dict[str, list[Obj]] = {"StatefulSet": f_sts.result()}
        info = f_ipamd.result()
    warnings = [info.problem] if info.problem else []
    for kind, res in (("Deployment", api.DEPLOYMENTS), ("DaemonSet", api.DAEMONSETS)):
        if kind in _owner_kinds(claims):
            try:
                workloads[kind] = lst(res, namespace, schema.trim_workload)
            except ApiError as e:
                warnings.append(f"cannot list {res.qualified}: {e.message}")
    return Snapshot(Inventory.build(claims, vips, pods, workloads), info, warnings)
