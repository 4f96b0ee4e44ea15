"""Read what classification needs from the cluster: one paged list per kind, in parallel."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from ..api import cluster as api
from ..api.cluster import Cluster, Resource
from ..errors import ApiError, Forbidden, RefusedError
from ..model import ipamd, records, schema
from ..model.claims import (
    SAME_NAME_KINDS,
    STATEFULSET,
    ClaimRow,
    Inventory,
    attached_nodes,
    classify,
    kind_key,
    parse_kind_key,
)
from ..model.ipamd_info import IpamdInfo, ipamd_info
from ..model.run_needs import owner_reads
from ..shared.gcpause import paused_gc

Obj = dict[str, Any]


def cluster_identity(c: Cluster) -> dict[str, Any]:
    """Server and kube-system uid: a plan made on one cluster is refused on another."""
    try:
        ks = c.get(api.NAMESPACES, "kube-system")
    except ApiError:
        ks = None
    return {"server": c.server, "kubeSystemUID": (ks or {}).get("metadata", {}).get("uid")}


def read_ipamd(c: Cluster) -> IpamdInfo:
    try:
        dep = c.get(api.DEPLOYMENTS, ipamd.DEPLOYMENT_NAME, ipamd.DEPLOYMENT_NAMESPACE)
    except Forbidden as e:
        return IpamdInfo(None, None, None, None, f"cannot read the ipamd Deployment: {e.message}")
    if dep is None:
        return IpamdInfo(None, None, None, None, "kube-system/tke-eni-ipamd does not exist")
    return ipamd_info(dep)


@dataclass
class Snapshot:
    inventory: Inventory
    ipamd: IpamdInfo
    warnings: list[str] = field(default_factory=list)


def owner_kinds(claims: list[records.ClaimRec]) -> set[str]:
    return {kind_key(r.group, r.kind) for c in claims for r in c.owners}


def resolve_kind(c: Cluster, key: str) -> Resource | str:
    """The resource that serves owner kind `key`, or why it cannot be read."""
    group, kind = parse_kind_key(key)
    try:
        res = c.resource_for(group, kind)
    except Forbidden as e:
        return f"cannot read API discovery: {e.message}"
    except ApiError as e:
        return f"cannot read API discovery: {e.message}"
    if res is None:
        if group and not c.serves_group(group):
            return f"API group {group} is not served"
        return f"API group {group or 'core'} serves no {kind}"
    return res


def read_owner_kinds(
    c: Cluster,
    referenced: set[str],
    namespace: str | None,
    lst: Any,
) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """List every owner kind claims refer to, plus the same-name controllers that name inference
    tries when their group is served. Returns (listed, unknown kind → why)."""
    listed: dict[str, list[Any]] = {}
    unknown: dict[str, str] = {}
    for key in sorted(referenced | set(SAME_NAME_KINDS)):
        if key == STATEFULSET:
            continue  # listed with the claims
        res = resolve_kind(c, key)
        if isinstance(res, str):
            if key in referenced:
                unknown[key] = res
            continue
        try:
            listed[key] = lst(res, namespace, records.workload_record)
        except Forbidden:
            unknown[key] = f"may not list {res.qualified}"
        except ApiError as e:
            unknown[key] = f"cannot list {res.qualified}: {e.message}"
    return listed, unknown


def read_owners_of(
    c: Cluster, claim: Obj, extra: list[schema.OwnerRef] | None = None
) -> tuple[dict[str, list[Obj]], dict[str, str]]:
    """The workloads that may own one claim, each read by name through its own API right now:
    its ownerReferences' kinds (and `extra` ones, such as its Pod's controller), and the
    same-name controllers named like it without the ordinal. Returns (found by kind, unknown
    kind → why); a kind with an empty list was read and the owner is not there."""
    ns, name = schema.namespace(claim), schema.name(claim)
    refs_all = schema.owner_refs(claim) + list(extra or [])
    wanted = owner_reads(name, refs_all)
    found: dict[str, list[Obj]] = {}
    unknown: dict[str, str] = {}
    refs = {kind_key(r.group, r.kind) for r in refs_all}
    for key, names in sorted(wanted.items()):
        res = resolve_kind(c, key)
        if isinstance(res, str):
            if key in refs:
                unknown[key] = res
            continue
        objs: list[Obj] = []
        try:
            for n in sorted(names):
                obj = c.get(res, n, ns)
                if obj is not None:
                    objs.append(schema.trim_workload(obj))
        except Forbidden:
            unknown[key] = f"may not get {res.qualified}"
            continue
        found[key] = objs
    return found, unknown


def snapshot(
    c: Cluster,
    namespace: str | None,
    *,
    label_selector: str | None = None,
    chunk_size: int = 500,
    with_pods: bool = True,
    assumed: tuple[str, str, str] | None = None,
) -> Snapshot:
    """Claims (in `namespace`, None = all), every VpcIP, the Pods and StatefulSets in scope,
    other owner workloads only when some claim names one, and the ipamd policy."""
    tke = c.tke()
    with paused_gc():
        return _snapshot(c, tke, namespace, label_selector, chunk_size, with_pods, assumed)


def _snapshot(
    c: Cluster,
    tke: api.TkeApi,
    namespace: str | None,
    label_selector: str | None,
    chunk_size: int,
    with_pods: bool,
    assumed: tuple[str, str, str] | None,
) -> Snapshot:
    def lst(res: Resource, ns: str | None, trim: Any, selector: str | None = None) -> list[Any]:
        items, _ = c.list(res, ns, label_selector=selector, chunk_size=chunk_size, trim=trim)
        return items

    with ThreadPoolExecutor(max_workers=6) as pool:
        f_claims = pool.submit(lst, tke.claims, namespace, records.claim_record, label_selector)
        f_vips = pool.submit(lst, tke.vips, None, records.vip_record)
        f_pods = pool.submit(lst, api.PODS, namespace, records.pod_record) if with_pods else None
        f_sts = pool.submit(lst, api.STATEFULSETS, namespace, records.workload_record)
        f_ipamd = pool.submit(read_ipamd, c)
        f_scalers = pool.submit(read_scalers, c, namespace, lst)
        claims = f_claims.result()
        vips = f_vips.result()
        pods = f_pods.result() if f_pods else []
        workloads: dict[str, list[Any]] = {STATEFULSET: f_sts.result()}
        info = f_ipamd.result()
        scalers, scalers_unknown = f_scalers.result()
    warnings = [info.problem] if info.problem else []
    listed, unknown = read_owner_kinds(c, owner_kinds(claims), namespace, lst)
    workloads.update(listed)
    inv = Inventory.build(claims, vips, pods, workloads, unknown, assumed, scalers, scalers_unknown)
    inv.nodes.update(read_nodes(c, attached_nodes(inv)))
    return Snapshot(inv, info, warnings)


def read_nodes(c: Cluster, names: Iterable[str]) -> dict[str, Any]:
    """One GET per node (few: only where a claim without a Pod still has its VpcIP attached):
    its record, None when it is gone, or why it cannot be read."""
    wanted = sorted(set(names))
    if not wanted:
        return {}

    def one(name: str) -> Any:
        try:
            node = c.get(api.NODES, name)
        except Forbidden as e:
            return f"may not get nodes: {e.message}"
        except ApiError as e:
            return e.message
        return records.node_record(node) if node is not None else None

    with ThreadPoolExecutor(max_workers=min(4, len(wanted))) as pool:
        return dict(zip(wanted, pool.map(one, wanted), strict=True))


# Autoscalers: what may scale a controller back up without anyone deciding to. Any object with
# `spec.scaleTargetRef` does; these are the kinds we know and list (group, kind, the field of
# its maximum, the maximum when the field is absent).
SCALERS = (
    ("autoscaling", "HorizontalPodAutoscaler", "maxReplicas", None),
    ("keda.sh", "ScaledObject", "maxReplicaCount", 100),
)


def read_scalers(
    c: Cluster, namespace: str | None, lst: Any
) -> tuple[list[records.ScalerRec] | None, str]:
    """Every autoscaler in scope, or (None, why) when one kind of them cannot be read: then
    whether a controller may be scaled back up is unknown."""
    found: list[records.ScalerRec] = []
    for group, kind, field_, default in SCALERS:
        try:
            if group != "autoscaling" and not c.serves_group(group):
                continue
            res = c.resource_for(group, kind)
        except ApiError as e:
            return None, f"cannot read API discovery: {e.message}"
        if res is None:
            continue  # not served: there is none of this kind

        def trim(o: Obj, kind: str = kind, field_: str = field_, default: Any = default) -> Any:
            return records.scaler_record(o, kind, field_, default)

        try:
            items = lst(res, namespace, trim)
        except Forbidden:
            return None, f"may not list {res.qualified}"
        except ApiError as e:
            return None, f"cannot list {res.qualified}: {e.message}"
        found += [x for x in items if x is not None]
    return found, ""


def read_rows(
    c: Cluster, scope: str | None, selector: str | None, chunk_size: int
) -> tuple[Snapshot, list[ClaimRow], datetime]:
    """One cluster's claims, read and classified: the snapshot, every row, and "now"."""
    snap = snapshot(c, scope, label_selector=selector, chunk_size=chunk_size)
    now = c.now()
    return snap, classify(snap.inventory, snap.ipamd.policy, now), now


def ensure_namespace(c: Cluster, namespace: str) -> None:
    """A namespace that does not exist is said so (RefusedError), instead of an empty answer."""
    try:
        found = c.get(api.NAMESPACES, namespace)
    except ApiError:
        return  # this check only improves a message; never fail on it
    if found is None:
        raise RefusedError(f'namespace "{namespace}" not found') from None


def claims_labelled(
    c: Cluster, scope: str | None, selector: str, chunk_size: int = 500
) -> set[tuple[str, str]]:
    """(namespace, name) of the claims that carry these labels (the API selects them)."""
    key: Any = lambda o: (schema.namespace(o), schema.name(o))  # noqa: E731 - a trim, typed Any
    keys, _ = c.list(
        c.tke().claims, scope, label_selector=selector, chunk_size=chunk_size, trim=key
    )
    found: set[tuple[str, str]] = set(cast(list[tuple[str, str]], keys))
    return found
