"""`kubectl vip bundle`: what a support ticket needs, in one bounded tar.gz.

Collected (each by one read, in parallel): the TKE objects (vipc, vip, nec, veni), the
kube-system tke-eni-* Deployments, DaemonSets and Pods (spec and status), the ipamd ConfigMap,
the names of the eniipamd Helm release Secrets, nodes (name, zone, taints, allocatable), Events
of the last `--since` in kube-system and the namespaces with claims (and those about nodes and
TKE objects), the TKE kinds' CRDs, and the `config` and `doctor` documents (the doctor's model
fit, VIP-CRD-002, among them).

`shapes` is the other bundle, `bundle --shapes`: a JSON file a user can post publicly, of the
TKE objects' field paths, JSON types and presence counts and of the CRDs' schemas, with no
value in it (model/field_shapes.py).

Never included: Secret objects (only the Helm release Secrets' names), environment values
(`env` keeps names, `envFrom` keeps the referenced names), `managedFields`, and the
last-applied-configuration annotation (a copy of the spec, env values included). Redacted, by
key and by value, in every member (model/redaction.py): annotations and ConfigMap keys that
look like secrets, keys of YAML/JSON documents embedded in them, URL userinfo, such flags and
their values in args and text (`--secret-key=X`, `--password X`, `--token -X`); a redacted
value is swept out of every other member too, the manifest included. `manifest.json` lists the
redactions (file, object, field path; never the value; the first 100, all counted).

Bounded: a size cap on the uncompressed members; a list that does not fit keeps as many items
as do and is marked `truncated`. `manifest.json` lists every collector with its status
(ok, truncated, forbidden, failed, not-served, missing, skipped) and why.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from ..api import cluster as api
from ..api.cluster import Cluster, Resource
from ..api.redact import redact
from ..errors import Forbidden, NotVpcCniError, VipError
from ..model import ipamd, schema, settings
from ..model.redaction import LAST_APPLIED, REDACTED, Redactions, scrub, scrub_text

Obj = dict[str, Any]
API_VERSION = "kubectl-vip/v1"
SYSTEM_NS = ipamd.DEPLOYMENT_NAMESPACE
TKE_PREFIX = "tke-eni-"
CLUSTER_EVENT_KINDS = ("Node", "VpcIP", "NodeENIConfig", "VpcENI", "VpcIPClaim")
MANIFEST = "manifest.json"
MANIFEST_RESERVE = 16 * 1024  # kept free under the cap for manifest.json (a quarter at most)
DEFAULT_MAX_SIZE = 50 * 1024 * 1024


# ---------------------------------------------------------------------------- scrubbing
# (pure: model/redaction.py; named here too, where the bundle's callers look for them)

MAX_LISTED_REDACTIONS = 100  # manifest.json lists this many, and counts them all


def is_secret(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("kind") == "Secret"


def node_summary(node: Obj) -> Obj:
    ready = None
    for cond in schema.dig(node, "status", "conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "Ready":
            ready = cond.get("status")
    alloc = schema.dig(node, "status", "allocatable") or {}
    cap = schema.dig(node, "status", "capacity") or {}
    keys = (schema.ENI_IP, schema.DIRECT_ENI, "pods")
    return {
        "name": schema.name(node),
        "zone": schema.node_zone(node),
        "taints": schema.dig(node, "spec", "taints") or [],
        "allocatable": {k: alloc[k] for k in keys if isinstance(alloc, dict) and k in alloc},
        "capacity": {k: cap[k] for k in keys if isinstance(cap, dict) and k in cap},
        "ready": ready,
        "providerID": schema.dig(node, "spec", "providerID"),
    }


# ---------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """One collector: what it reads and where its document goes in the archive."""

    name: str
    path: str
    read: Callable[[], Any]  # a list (of objects) or a document; None: not found
    what: str = ""


@dataclass
class Outcome:
    name: str
    path: str
    what: str
    status: str = "ok"  # ok | truncated | forbidden | failed | not-served | missing | skipped
    reason: str | None = None
    items: int | None = None
    bytes: int = 0
    value: Any = None


def _listing(
    c: Cluster,
    res: Resource | None,
    namespace: str | None = None,
    *,
    keep: Callable[[Obj], bool] | None = None,
    label_selector: str | None = None,
    chunk_size: int = 500,
) -> Callable[[], Any]:
    def read() -> Any:
        if res is None:
            raise _NotServed()
        items, _ = c.list(res, namespace, label_selector=label_selector, chunk_size=chunk_size)
        return [o for o in items if not is_secret(o) and (keep is None or keep(o))]

    return read


class _NotServed(Exception):
    pass


def _tke_system(obj: Obj) -> bool:
    return schema.name(obj).startswith(TKE_PREFIX)


def sources(c: Cluster, *, chunk_size: int = 500) -> list[Source]:
    """Every collector that reads the cluster directly, in archive priority order."""
    try:
        tke: api.TkeApi | None = c.tke()
    except NotVpcCniError:
        tke = None

    def tke_res(attr: str) -> Resource | None:
        return getattr(tke, attr) if tke is not None else None

    def helm_names() -> Any:
        items, _ = c.list(
            api.SECRETS, SYSTEM_NS, label_selector=settings.HELM_SECRET_SELECTOR, chunk_size=0
        )
        # names only: a Helm release Secret holds the whole release
        return {"names": settings.helm_release_secrets(schema.name(o) for o in items)}

    def nodes() -> Any:
        items, _ = c.list(api.NODES, chunk_size=chunk_size)
        return [node_summary(n) for n in items]

    def configmap() -> Any:
        cm = c.get(api.CONFIGMAPS, ipamd.DEPLOYMENT_NAME, SYSTEM_NS)
        if cm is not None:
            cm.setdefault("kind", "ConfigMap")  # a single GET may omit it
        return cm

    return [
        Source("version", "cluster/version.json", lambda: c.get_json("/version"), "get /version"),
        Source(
            "deployments",
            "kube-system/deployments.json",
            _listing(c, api.DEPLOYMENTS, SYSTEM_NS, keep=_tke_system, chunk_size=chunk_size),
            "list deployments in kube-system (tke-eni-*)",
        ),
        Source(
            "daemonsets",
            "kube-system/daemonsets.json",
            _listing(c, api.DAEMONSETS, SYSTEM_NS, keep=_tke_system, chunk_size=chunk_size),
            "list daemonsets in kube-system (tke-eni-*)",
        ),
        Source(
            "pods",
            "kube-system/pods.json",
            _listing(c, api.PODS, SYSTEM_NS, keep=_tke_system, chunk_size=chunk_size),
            "list pods in kube-system (tke-eni-*)",
        ),
        Source(
            "configmap",
            "kube-system/configmap-tke-eni-ipamd.json",
            configmap,
            "get configmaps/tke-eni-ipamd in kube-system",
        ),
        Source(
            "helm-release-secrets",
            "kube-system/helm-release-secrets.json",
            helm_names,
            "list secrets in kube-system (names only)",
        ),
        Source("nodes", "nodes.json", nodes, "list nodes"),
        Source(
            "nodeeniconfigs",
            "tke/nodeeniconfigs.json",
            _listing(c, tke_res("necs"), chunk_size=chunk_size),
            "list nodeeniconfigs",
        ),
        Source(
            "events",
            "events.json",
            _listing(c, api.EVENTS, chunk_size=chunk_size),
            "list events (all namespaces)",
        ),
        Source(
            "vpcips",
            "tke/vpcips.json",
            _listing(c, tke_res("vips"), chunk_size=chunk_size),
            "list vpcips",
        ),
        Source(
            "vpcipclaims",
            "tke/vpcipclaims.json",
            _listing(c, tke_res("claims"), chunk_size=chunk_size),
            "list vpcipclaims (all namespaces)",
        ),
        Source(
            "vpcenis",
            "tke/vpcenis.json",
            _listing(c, tke_res("enis"), chunk_size=chunk_size),
            "list vpcenis",
        ),
        Source("crds", "tke/crds.json", lambda: _crds(c), "get the TKE customresourcedefinitions"),
    ]


def _crds(c: Cluster) -> Any:
    from .doctor_reads import read_crds

    try:
        crds = read_crds(c)
    except NotVpcCniError:
        raise _NotServed() from None
    return {"items": [crd for crd in crds.values() if crd is not None]}


_NOTHING: Obj = {}


def shapes(c: Cluster, *, chunk_size: int = 500) -> Obj:
    """The shapes file of `bundle --shapes`: per TKE kind its CRD (versions, schemas, printer
    columns, subresources) and the field paths of its objects with their JSON types and how
    many objects have each, and how the objects answer the tool's field table. No value: no
    name, IP, uid, label or annotation value, no server or context name."""
    from ..model import fields
    from ..model.field_shapes import KindShape, crd_shape
    from .doctor_reads import read_crds

    tke = c.tke()
    out_kinds = []
    fit: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for res in (tke.claims, tke.vips, tke.necs, tke.enis):
        if res is None:
            continue
        shape = KindShape(res.kind)
        count = fields.FitCount(res.kind) if res.kind in fields.KIND_FIELDS else None

        def observe(o: Obj, shape: KindShape = shape, count: Any = count) -> Obj:
            shape.observe(o)
            if count is not None:
                count.observe(o)
            return _NOTHING  # the object is not kept: its shape is all we want

        try:
            c.list(res, None, chunk_size=chunk_size, trim=observe)
        except Forbidden as e:
            problems[res.plural] = f"forbidden: {e.message}"
            continue
        out_kinds.append({"plural": res.plural, **shape.doc()})
        if count is not None:
            fit[res.kind] = count.doc()
    try:
        crds = {p: crd_shape(crd) for p, crd in read_crds(c).items()}
    except Forbidden as e:
        crds, problems["customresourcedefinitions"] = {}, f"forbidden: {e.message}"
    return {
        "apiVersion": API_VERSION,
        "kind": "TkeShapes",
        "metadata": {"group": tke.claims.group, "version": tke.version},
        "crds": crds,
        "kinds": out_kinds,
        "fit": fit,
        "notRead": problems,
    }


def collect(
    srcs: Iterable[Source], *, workers: int = 6, red: Redactions | None = None
) -> list[Outcome]:
    """Run every collector and scrub what it read; a failure is recorded, never raised."""
    srcs = list(srcs)

    def one(s: Source) -> Outcome:
        out = Outcome(s.name, s.path, s.what)
        try:
            value = s.read()
            if isinstance(value, list):
                out.value = [scrub(o, red, file=s.path, label=s.name) for o in value]
            else:
                out.value = scrub(value, red, file=s.path, label=s.name)
        except _NotServed:
            out.status, out.reason = "not-served", "this cluster does not serve the kind"
        except Forbidden as e:
            out.status, out.reason = "forbidden", redact(e.message)
        except VipError as e:
            out.status, out.reason = "failed", redact(e.message)
        except Exception as e:  # noqa: BLE001 - a broken collector must not sink the bundle
            out.status, out.reason = "failed", redact(f"{type(e).__name__}: {e}")
        else:
            if out.value is None:
                out.status, out.reason = "missing", "not found"
        return out

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, srcs))


def recent_events(
    events: list[Obj], namespaces: set[str] | None, since: timedelta, now: datetime
) -> list[Obj]:
    """Events last seen within `since`, in kube-system and `namespaces` (None: any), plus those
    about nodes and TKE objects (cluster-scoped: they land in `default`)."""
    out = []
    for ev in events:
        _, last = schema.event_times(ev)
        if last is None or now - last > since:
            continue
        kind, _ = schema.event_object(ev)
        ns = schema.namespace(ev)
        if namespaces is None or ns == SYSTEM_NS or ns in namespaces or kind in CLUSTER_EVENT_KINDS:
            out.append(ev)
    return out


def refine(outcomes: list[Outcome], since: timedelta, now: datetime) -> None:
    """Cut the Events down to the window and the namespaces with claims."""
    by = {o.name: o for o in outcomes}
    ev, claims = by.get("events"), by.get("vpcipclaims")
    if ev is None or not isinstance(ev.value, list):
        return
    namespaces: set[str] | None = None
    if claims is not None and isinstance(claims.value, list):
        namespaces = {schema.namespace(o) for o in claims.value}
    else:
        ev.reason = "claims unreadable: Events of every namespace kept"
    total = len(ev.value)
    ev.value = recent_events(ev.value, namespaces, since, now)
    note = f"{len(ev.value)} of {total} Events seen in the last {_since_text(since)}"
    ev.reason = f"{note}; {ev.reason}" if ev.reason else note


def _since_text(td: timedelta) -> str:
    from ..model.duration import format_compact

    return format_compact(td)


# ---------------------------------------------------------------------------- packing


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode()


def _list_bytes(items: list[Any], budget: int) -> tuple[bytes, int]:
    """A `List` document of as many items as fit in `budget` bytes, and how many it holds."""
    head = b'{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [\n'
    tail = b"\n  ]\n}\n"
    parts: list[bytes] = []
    size = len(head) + len(tail)
    for item in items:
        blob = json.dumps(item, ensure_ascii=False, default=str).encode()
        extra = len(blob) + (2 if parts else 0) + 4
        if size + extra > budget:
            break
        parts.append(b"    " + blob)
        size += extra
    if not parts:
        return head.rstrip(b"\n") + b"]\n}\n", 0
    return head + b",\n".join(parts) + tail, len(parts)


@dataclass
class Bundle:
    top: str  # the directory every member sits in
    members: list[tuple[str, bytes]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(b) for _, b in self.members)


def pack(
    outcomes: list[Outcome],
    *,
    top: str,
    max_size: int,
    meta: Obj,
    now: datetime,
    red: Redactions | None = None,
) -> Bundle:
    """Members in collector order under the cap, then `manifest.json`."""
    b = Bundle(top, outcomes=outcomes)
    if red is not None:
        if red.values:
            for o in outcomes:
                if o.value is not None:
                    o.value = red.sweep(o.value, o.path)
        # listed up to a bound, so a cluster full of them cannot crowd out the data
        meta = {
            **meta,
            "redacted": red.entries[:MAX_LISTED_REDACTIONS],
            "redactedTotal": len(red.entries),
        }
    budget = max(max_size - min(MANIFEST_RESERVE, max_size // 4), 0)
    used = 0
    for o in outcomes:
        if o.status not in ("ok",) or o.value is None:
            continue
        if isinstance(o.value, list):
            data, kept = _list_bytes(o.value, budget - used)
            o.items = len(o.value)
            if kept < len(o.value):
                o.status = "truncated" if kept else "skipped"
                cut = f"size cap: kept {kept} of {len(o.value)} items"
                o.reason = f"{o.reason}; {cut}" if o.reason else cut
                if not kept:
                    continue
        else:
            data = _dump(o.value)
            if used + len(data) > budget:
                o.status, o.reason = "skipped", "size cap reached"
                continue
        b.members.append((o.path, data))
        o.bytes = len(data)
        used += len(data)
    while True:
        manifest = _dump(_clean(_manifest(outcomes, meta, now, max_size, used), red))
        if used + len(manifest) <= max_size or not b.members:
            break
        # the manifest must fit too: give up the last member
        path, data = b.members.pop()
        o = next(o for o in outcomes if o.path == path)
        o.status, o.reason, o.bytes = "skipped", "size cap reached", 0
        used -= len(data)
    b.members.insert(0, (MANIFEST, manifest))
    return b


def _clean(doc: Any, red: Redactions | None) -> Any:
    """The manifest's own strings (the server, the context, why a read failed) scrubbed by
    value as every member is, and swept of every redacted value."""
    if isinstance(doc, str):
        text = scrub_text(doc, None)
        return red.sweep(text, MANIFEST) if red is not None else text
    if isinstance(doc, list):
        return [_clean(v, red) for v in doc]
    if isinstance(doc, dict):
        return {k: _clean(v, red) for k, v in doc.items()}
    return doc


def _manifest(outcomes: list[Outcome], meta: Obj, now: datetime, max_size: int, used: int) -> Obj:
    return {
        "apiVersion": API_VERSION,
        "kind": "BundleManifest",
        **meta,
        "createdAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "maxSize": max_size,
        "size": used,
        "complete": all(o.status == "ok" for o in outcomes),
        "collectors": [
            {
                "name": o.name,
                "file": o.path if o.bytes else None,
                "read": o.what,
                "status": o.status,
                "reason": o.reason,
                "items": o.items,
                "bytes": o.bytes,
            }
            for o in outcomes
        ],
    }


def write_tar(bundle: Bundle, fileobj: IO[bytes], mtime: datetime) -> None:
    # stream mode ("w|gz") needs nothing but write(): a pipe on stdout works too
    with tarfile.open(fileobj=fileobj, mode="w|gz", format=tarfile.PAX_FORMAT) as tar:
        for path, data in bundle.members:
            info = tarfile.TarInfo(f"{bundle.top}/{path}")
            info.size = len(data)
            info.mtime = int(mtime.timestamp())
            info.mode = 0o600  # cluster data: private once unpacked too
            tar.addfile(info, io.BytesIO(data))


def safe_name(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned[:60] or "cluster"


def default_name(cluster_ish: str, now: datetime) -> str:
    return f"kubectl-vip-bundle-{safe_name(cluster_ish)}-{now.strftime('%Y%m%dT%H%M%SZ')}"


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?|[kmg]|B)?\s*$")
_UNITS = {
    None: 1,
    "B": 1,
    "k": 1000,
    "K": 1000,
    "M": 1000**2,
    "m": 1000**2,
    "G": 1000**3,
    "g": 1000**3,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
}


def parse_size(text: str) -> int:
    """Bytes from `1048576`, `500K`, `20Mi`, `1Gi`, ... ValueError otherwise."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f'invalid size "{text}": use bytes or a suffix K, Ki, M, Mi, G, Gi')
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


__all__ = [
    "DEFAULT_MAX_SIZE",
    "LAST_APPLIED",
    "REDACTED",
    "Bundle",
    "Outcome",
    "Redactions",
    "Source",
    "collect",
    "default_name",
    "human_size",
    "pack",
    "parse_size",
    "recent_events",
    "refine",
    "scrub",
    "sources",
    "write_tar",
]
