"""The doctor's only I/O: ask what the user may read, then read each kind once.

Plan: the union of the reads the selected checks need or use. For each, one
SelfSubjectAccessReview first (in parallel); a denied read is not attempted and its checks are
skipped with the missing permission. When the review itself is forbidden or not served, the
read is tried and a 403 answer is treated the same way. Then one paged list (or one get) per
kind, in parallel, each trimmed to what the checks read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..api import cluster as api
from ..api.cluster import Cluster, Resource, TkeApi
from ..doctor import facts
from ..doctor import reads as keys
from ..doctor.registry import Check
from ..doctor.snapshot import SYSTEM_NS, ReadState, Snapshot
from ..errors import ApiError, Forbidden, Unauthorized, UnexpectedResponse, Unreachable
from ..model import fields, ipamd, schema, settings
from ..model.claims import STATEFULSET
from ..model.records import ScalerRec, claim_record, vip_record
from ..shared.gcpause import paused_gc
from .gather import owner_kinds, read_owner_kinds, read_scalers

Obj = dict[str, Any]
TKE_SYSTEM_PREFIX = "tke-eni-"  # ipamd, ip-scheduler, agent: kept whole, others trimmed
CRDS = api.CRDS


@dataclass(frozen=True)
class ReadSpec:
    key: str
    verb: str  # list | get
    resource: Resource | None  # None: not served by this cluster
    namespace: str | None = None  # None: all namespaces (or a cluster-scoped kind)
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    trim: Callable[[Obj], Any] | None = None

    @property
    def what(self) -> str:
        plural = self.resource.qualified if self.resource else self.key
        target = f"{plural}/{self.name}" if self.name else plural
        if self.namespace:
            return f"{self.verb} {target} in {self.namespace}"
        if self.resource is not None and self.resource.namespaced:
            return f"{self.verb} {target} (all namespaces)"
        return f"{self.verb} {target}"


def _system_whole(obj: Obj) -> Obj:
    """A kube-system tke-eni-* workload whole (flags, selector, status), any other trimmed."""
    if schema.namespace(obj) == SYSTEM_NS and schema.name(obj).startswith(TKE_SYSTEM_PREFIX):
        meta = dict(obj.get("metadata") or {})
        meta.pop("managedFields", None)
        return {**obj, "metadata": meta}
    return schema.trim_workload(obj)


def _eni_record(obj: Obj) -> Obj:
    # a VpcENI counts against the VPC's ENI quota; its name and age are all the checks read
    meta = obj.get("metadata") or {}
    return {
        "metadata": {"name": meta.get("name"), "creationTimestamp": meta.get("creationTimestamp")}
    }


def _release_record(obj: Obj) -> Obj:
    # a Helm release Secret holds the whole release: keep its name and the ipamd flags an
    # eniipamd release renders (what the add-on puts back over a hand edit), nothing else
    return {"metadata": {"name": schema.name(obj)}, "release": settings.addon_release(obj)}


def read_specs(tke: TkeApi) -> dict[str, ReadSpec]:
    return {
        s.key: s
        for s in (
            ReadSpec(keys.CLAIMS, "list", tke.claims, trim=claim_record),
            ReadSpec(keys.VIPS, "list", tke.vips, trim=vip_record),
            ReadSpec(keys.NECS, "list", tke.necs, trim=facts.nec_record),
            ReadSpec(keys.ENIS, "list", tke.enis, trim=_eni_record),
            # one get per TKE kind (see _read_crds): these name the verb and resource asked
            ReadSpec(keys.CRDS, "get", CRDS, name=f"*.{tke.claims.group}"),
            # Pods and Events: each page reduced at once to records, never held whole
            ReadSpec(keys.PODS, "list", api.PODS, trim=facts.PodReader()),
            ReadSpec(keys.NODES, "list", api.NODES, trim=schema.trim_node_status),
            # every type: ipamd may record ENILimit as a Normal Event
            ReadSpec(keys.EVENTS, "list", api.EVENTS, trim=facts.event_record),
            ReadSpec(keys.STATEFULSETS, "list", api.STATEFULSETS, trim=schema.trim_workload),
            ReadSpec(keys.DEPLOYMENTS, "list", api.DEPLOYMENTS, trim=_system_whole),
            ReadSpec(keys.DAEMONSETS, "list", api.DAEMONSETS, trim=_system_whole),
            ReadSpec(
                keys.CONFIGMAP,
                "get",
                api.CONFIGMAPS,
                namespace=SYSTEM_NS,
                name=ipamd.DEPLOYMENT_NAME,
            ),
            ReadSpec(
                keys.SECRETS,
                "list",
                api.SECRETS,
                namespace=SYSTEM_NS,
                label_selector=settings.HELM_SECRET_SELECTOR,
                trim=_release_record,
            ),
        )
    }


def _allowed(c: Cluster, spec: ReadSpec) -> bool | None:
    """The review's answer; None when it cannot be asked (then the read is just tried)."""
    assert spec.resource is not None
    try:
        return c.can_i(spec.verb, spec.resource, spec.namespace)
    except ApiError:
        return None


def _read(c: Cluster, spec: ReadSpec, chunk_size: int) -> Any:
    assert spec.resource is not None
    if spec.key == keys.CRDS:
        return read_crds(c)
    if spec.verb == "get":
        assert spec.name is not None
        return c.get(spec.resource, spec.name, spec.namespace)
    items, _ = c.list(
        spec.resource,
        spec.namespace,
        label_selector=spec.label_selector,
        field_selector=spec.field_selector,
        chunk_size=chunk_size,
        trim=spec.trim,
    )
    return items


def read_crds(c: Cluster) -> dict[str, Obj | None]:
    """The served TKE kinds' CRDs by plural (None: no such CRD, e.g. an aggregated API)."""
    tke = c.tke()
    served = [r for r in (tke.claims, tke.vips, tke.necs, tke.enis) if r is not None]
    return {r.plural: c.get(CRDS, f"{r.plural}.{r.group}") for r in served}


def _counting(specs: dict[str, ReadSpec]) -> dict[str, fields.FitCount]:
    """Count, while the claims, VpcIPs and NodeENIConfigs are listed, which paths of the field
    table each object has (model fit): their record builders see each object first."""
    counts: dict[str, fields.FitCount] = {}
    for key, kind in (
        (keys.CLAIMS, fields.CLAIM),
        (keys.VIPS, fields.VIP),
        (keys.NECS, fields.NEC),
    ):
        spec = specs[key]
        count = counts[kind] = fields.FitCount(kind)
        specs[key] = ReadSpec(
            spec.key,
            spec.verb,
            spec.resource,
            spec.namespace,
            spec.name,
            spec.label_selector,
            spec.field_selector,
            fields.counted(kind, spec.trim, count),
        )
    return counts


def needed_reads(checks: Iterable[Check]) -> list[str]:
    wanted = {k for c in checks for k in c.reads}
    return [k for k in keys.READ_KEYS if k in wanted]


def gather(
    c: Cluster,
    checks: Iterable[Check],
    *,
    chunk_size: int = 500,
    workers: int = 6,
) -> Snapshot:
    """Read what `checks` need. NotVpcCniError (exit 4) when the TKE CRDs are not served."""
    checks = list(checks)
    tke = c.tke()
    specs = read_specs(tke)
    wanted = needed_reads(checks)
    fit = _counting(specs) if keys.CRDS in wanted else None
    reads: dict[str, ReadState] = {}
    for key, spec in specs.items():
        if key not in wanted:
            reads[key] = ReadState(key, spec.what, "not-needed")
        elif spec.resource is None:
            reads[key] = ReadState(key, spec.what, "not-served")
    todo = [specs[k] for k in wanted if k not in reads]
    results: dict[str, Any] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        verdicts = dict(
            zip([s.key for s in todo], pool.map(lambda s: _allowed(c, s), todo), strict=True)
        )
        for spec in todo:
            if verdicts[spec.key] is False:
                reads[spec.key] = ReadState(
                    spec.key, spec.what, "forbidden", "RBAC denies it (SelfSubjectAccessReview)"
                )
        go = [s for s in todo if s.key not in reads]
        with paused_gc():
            futures = {s.key: pool.submit(_read, c, s, chunk_size) for s in go}
            for spec in go:
                try:
                    results[spec.key] = futures[spec.key].result()
                except Forbidden as e:
                    reads[spec.key] = ReadState(spec.key, spec.what, "forbidden", e.message)
                except (Unreachable, Unauthorized, UnexpectedResponse):
                    raise  # not a partial answer: nothing can be read (exit 3)
                except ApiError as e:
                    reads[spec.key] = ReadState(spec.key, spec.what, "failed", e.message)
                else:
                    value = results[spec.key]
                    count = len(value) if isinstance(value, list) else (1 if value else 0)
                    reads[spec.key] = ReadState(spec.key, spec.what, "ok", items=count)
    served = {r.plural: r.kind for r in (tke.claims, tke.vips, tke.necs, tke.enis) if r is not None}

    def got(key: str) -> Any:
        return results.get(key) if reads[key].ok else None

    owners, owners_unknown = _read_owners(c, got(keys.CLAIMS), reads, chunk_size)
    scalers: list[ScalerRec] | None = None
    scalers_unknown = "not read"
    if all(k in wanted for k in keys.CLASSIFY) and got(keys.CLAIMS) is not None:
        # classifying claims uses the autoscalers (what may scale a controller back up)
        scalers, scalers_unknown, reads[SCALERS_KEY] = _read_scalers(c, chunk_size)
    secrets = got(keys.SECRETS)
    return Snapshot(
        now=c.now(),
        tke_version=tke.version,
        served=served,
        claims=got(keys.CLAIMS),
        vips=got(keys.VIPS),
        necs=got(keys.NECS),
        enis=got(keys.ENIS),
        pods=got(keys.PODS),
        nodes=got(keys.NODES),
        events=got(keys.EVENTS),
        statefulsets=got(keys.STATEFULSETS),
        deployments=got(keys.DEPLOYMENTS),
        daemonsets=got(keys.DAEMONSETS),
        ipamd_configmap=got(keys.CONFIGMAP),
        helm_secrets=(
            settings.helm_release_secrets(schema.name(o) for o in secrets)
            if secrets is not None
            else None
        ),
        addon_release=settings.newest_release(o.get("release") for o in secrets or []),
        reads=reads,
        owners=owners,
        owners_unknown=owners_unknown,
        scalers=scalers,
        scalers_unknown=scalers_unknown,
        crds=got(keys.CRDS),
        fit={k: v for k, v in fit.items() if reads[_FIT_KEY[k]].ok} if fit else None,
    )


_FIT_KEY = {fields.CLAIM: keys.CLAIMS, fields.VIP: keys.VIPS, fields.NEC: keys.NECS}


# owner kinds the doctor lists among its own reads (when those reads succeed)
_OWN_READS = {
    STATEFULSET: keys.STATEFULSETS,
    "Deployment.apps": keys.DEPLOYMENTS,
    "DaemonSet.apps": keys.DAEMONSETS,
}


def _read_owners(
    c: Cluster, claims: list[Any] | None, reads: dict[str, ReadState], chunk_size: int
) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Every other owner kind the claims name, and the same-name controllers of served groups,
    read as `list` reads them, so that doctor and `list` classify a claim alike."""
    if claims is None:
        return {}, {}
    referenced = owner_kinds(claims)
    own = {key for key, read in _OWN_READS.items() if read in reads and reads[read].ok}

    def lst(res: Resource, namespace: str | None, trim: Any) -> list[Any]:
        return c.list(res, namespace, chunk_size=chunk_size, trim=trim)[0]

    listed, unknown = read_owner_kinds(c, referenced - own, None, lst)
    return {k: v for k, v in listed.items() if k not in own}, unknown


SCALERS_KEY = "horizontalpodautoscalers"
_SCALERS_WHAT = "list autoscalers (all namespaces)"


def _read_scalers(c: Cluster, chunk_size: int) -> tuple[list[ScalerRec] | None, str, ReadState]:
    """The autoscalers, as `list` reads them, once RBAC is asked as for every other read."""
    try:
        hpa = c.resource_for("autoscaling", "HorizontalPodAutoscaler")
        allowed = c.can_i("list", hpa) if hpa is not None else True
    except ApiError:
        allowed = None  # cannot ask: the read itself will tell
    if allowed is False:
        why = "may not list horizontalpodautoscalers.autoscaling"
        return None, why, ReadState(SCALERS_KEY, _SCALERS_WHAT, "forbidden", why)

    def lst(res: Resource, namespace: str | None, trim: Any) -> list[Any]:
        return c.list(res, namespace, chunk_size=chunk_size, trim=trim)[0]

    found, why = read_scalers(c, None, lst)
    if found is None:
        return None, why, ReadState(SCALERS_KEY, _SCALERS_WHAT, "failed", why)
    return found, "", ReadState(SCALERS_KEY, _SCALERS_WHAT, "ok", items=len(found))


def examine(c: Any, selected: list[Any], chunk_size: int) -> tuple[list[Any], Any]:
    """One cluster's doctor run: the check results and the snapshot they read."""
    from .. import doctor

    snap = gather(c, selected, chunk_size=chunk_size)
    results = doctor.run_checks(selected, snap)
    snap.release()  # the report needs the reads, not the objects: free them before writing it
    return results, snap
