"""Read what classification needs from the cluster: one paged list per kind, in parallel."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
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


def _owner_kinds(claims: list[schema.ClaimRec]) -> set[str]:
    return {r.kind for c in claims for r in c.owners}


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
    with paused_gc():
        return _snapshot(c, tke, namespace, label_selector, chunk_size, with_pods)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Parsing tens of thousands of objects makes no reference cycles; without this the cyclic
    collector would scan every new dict again and again (about a fifth of the run time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _snapshot(
    c: Cluster,
    tke: api.TkeApi,
    namespace: str | None,
    label_selector: str | None,
    chunk_size: int,
    with_pods: bool,
) -> Snapshot:
    def lst(res: Resource, ns: str | None, trim: Any, selector: str | None = None) -> list[Any]:
        items, _ = c.list(res, ns, label_selector=selector, chunk_size=chunk_size, trim=trim)
        return items

    with ThreadPoolExecutor(max_workers=5) as pool:
        f_claims = pool.submit(lst, tke.claims, namespace, schema.claim_record, label_selector)
        f_vips = pool.submit(lst, tke.vips, None, schema.vip_record)
        f_pods = pool.submit(lst, api.PODS, namespace, schema.pod_record) if with_pods else None
        f_sts = pool.submit(lst, api.STATEFULSETS, namespace, schema.workload_record)
        f_ipamd = pool.submit(read_ipamd, c)
        claims = f_claims.result()
        vips = f_vips.result()
        pods = f_pods.result() if f_pods else []
        workloads: dict[str, list[Any]] = {"StatefulSet": f_sts.result()}
        info = f_ipamd.result()
    warnings = [info.problem] if info.problem else []
    for kind, res in (("Deployment", api.DEPLOYMENTS), ("DaemonSet", api.DAEMONSETS)):
        if kind in _owner_kinds(claims):
            try:
                workloads[kind] = lst(res, namespace, schema.workload_record)
            except ApiError as e:
                warnings.append(f"cannot list {res.qualified}: {e.message}")
    return Snapshot(Inventory.build(claims, vips, pods, workloads), info, warnings)
