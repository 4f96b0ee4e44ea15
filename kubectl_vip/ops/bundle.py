"""`kubectl vip bundle`: what a support ticket needs, in one bounded tar.gz.

Collected (each by one read, in parallel): the TKE objects (vipc, vip, nec, veni), the
kube-system tke-eni-* Deployments, DaemonSets and Pods (spec and status), the ipamd ConfigMap,
the names of the eniipamd Helm release Secrets, nodes (name, zone, taints, allocatable), Events
of the last `--since` in kube-system and the namespaces with claims (and those about nodes and
TKE objects), and the `config` and `doctor` documents.

Never included: Secret objects (only the Helm release Secrets' names), environment values
(`env` keeps names, `envFrom` keeps the referenced names), `managedFields`, and the
last-applied-configuration annotation (a copy of the spec, env values included). Redacted by
name: annotations and ConfigMap keys that look like secrets (password, secret, token, key,
credential) and the values of such flags in args and text (`--secret-key=X`, `--password X`)
keep their name with the value `<redacted>`; a redacted value is swept out of every other
member too. `manifest.json` lists the redactions (file, object, field path; never the value;
the first 100, all counted).

Bounded: a size cap on the uncompressed members; a list that does not fit keeps as many items
as do and is marked `truncated`. `manifest.json` lists every collector with its status
(ok, truncated, forbidden, failed, not-served, missing, skipped) and why.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
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

Obj = dict[str, Any]
API_VERSION = "kubectl-vip/v1"
SYSTEM_NS = ipamd.DEPLOYMENT_NAMESPACE
TKE_PREFIX = "tke-eni-"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
CLUSTER_EVENT_KINDS = ("Node", "VpcIP", "NodeENIConfig", "VpcENI", "VpcIPClaim")
MANIFEST = "manifest.json"
MANIFEST_RESERVE = 16 * 1024  # kept free under the cap for manifest.json (a quarter at most)
DEFAULT_MAX_SIZE = 50 * 1024 * 1024


# ---------------------------------------------------------------------------- scrubbing

# a key or flag name that looks like it holds a secret
SECRET_NAME = re.compile(r"(?i)(password|passwd|secret|token|key|credential)")
# `--name=value` / `-name=value`, and `--name` alone (its value is the next arg)
FLAG = re.compile(r"^(-{1,2}[A-Za-z0-9][\w.-]*)(?:=(.*))?$", re.S)
# a secret flag inside free text (doctor evidence, messages)
INLINE_FLAG = re.compile(
    r"(-{1,2}[\w.-]*(?:password|passwd|secret|token|key|credential)[\w.-]*=)([^\s\"',;]+)",
    re.I,
)
REDACTED = "<redacted>"
MIN_SWEEP = 4  # values shorter than this are not swept out of other members
MAX_LISTED_REDACTIONS = 100  # manifest.json lists this many, and counts them all


@dataclass
class Redactions:
    """What was redacted (object and field path, never the value), for manifest.json; and the
    values, so no other member (the config and doctor documents) can still quote them."""

    entries: list[Obj] = field(default_factory=list)
    values: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, file: str, obj: str, path: str, value: Any) -> None:
        with self._lock:
            self.entries.append({"file": file, "object": obj, "field": path})
            if isinstance(value, str) and len(value) >= MIN_SWEEP:
                self.values.add(value)

    def sweep(self, obj: Any, file: str, path: str = "") -> Any:
        """A copy of a collected document where no string still holds a redacted value (the
        config and doctor documents quote ipamd's args, for one)."""
        if isinstance(obj, str):
            out = obj
            for v in sorted(self.values, key=len, reverse=True):
                out = out.replace(v, REDACTED)
            if out != obj:
                with self._lock:
                    self.entries.append({"file": file, "object": None, "field": path})
            return out
        if isinstance(obj, list):
            return [self.sweep(o, file, f"{path}[{i}]") for i, o in enumerate(obj)]
        if isinstance(obj, dict):
            return {k: self.sweep(v, file, _join(path, str(k))) for k, v in obj.items()}
        return obj


@dataclass
class _Ctx:
    red: Redactions | None
    file: str
    label: str
    kind: str

    def note(self, path: str, value: Any) -> None:
        if self.red is not None and value != REDACTED:
            self.red.add(self.file, self.label, path, value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _scrub_container(c: Any, path: str, ctx: _Ctx) -> Any:
    if not isinstance(c, dict):
        return c
    out = dict(c)
    env = out.get("env")
    if isinstance(env, list):
        out["env"] = [{"name": e.get("name")} for e in env if isinstance(e, dict)]
    env_from = out.get("envFrom")
    if isinstance(env_from, list):
        kept = []
        for e in env_from:
            if not isinstance(e, dict):
                continue
            ref: Obj = {k: e[k] for k in ("prefix",) if k in e}
            for key in ("configMapRef", "secretRef"):
                if isinstance(e.get(key), dict):
                    ref[key] = {"name": e[key].get("name")}
            kept.append(ref)
        out["envFrom"] = kept
    return _scrub(out, path, ctx)


def _scrub_args(items: list[Any], path: str, ctx: _Ctx) -> list[Any]:
    """`--secret-key=VALUE` keeps its name; `--password VALUE` keeps the flag, not the value."""
    out: list[Any] = []
    value_next = False
    for i, item in enumerate(items):
        here = f"{path}[{i}]"
        if value_next and isinstance(item, str) and not item.startswith("-"):
            ctx.note(here, item)
            out.append(REDACTED)
            value_next = False
            continue
        value_next = False
        m = FLAG.match(item) if isinstance(item, str) else None
        if m is not None and SECRET_NAME.search(m.group(1)):
            if m.group(2) is None:
                value_next = True
            elif m.group(2) and m.group(2) != REDACTED:
                ctx.note(here, m.group(2))
                out.append(f"{m.group(1)}={REDACTED}")
                continue
        out.append(_scrub(item, here, ctx))
    return out


def _scrub_text(text: str, path: str, ctx: _Ctx) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(2) == REDACTED:
            return m.group(0)
        ctx.note(path, m.group(2))
        return m.group(1) + REDACTED

    return INLINE_FLAG.sub(one, text)


def _secret_map(values: Obj, path: str, ctx: _Ctx) -> Obj:
    out: Obj = {}
    for k, v in values.items():
        if SECRET_NAME.search(str(k)) and v not in (None, "", REDACTED):
            ctx.note(_join(path, str(k)), v)
            out[k] = REDACTED
        else:
            out[k] = _scrub(v, _join(path, str(k)), ctx)
    return out


def _scrub(obj: Any, path: str, ctx: _Ctx) -> Any:
    if isinstance(obj, str):
        return _scrub_text(obj, path, ctx)
    if isinstance(obj, list):
        return _scrub_args(obj, path, ctx)
    if not isinstance(obj, dict):
        return obj
    out: Obj = {}
    for k, v in obj.items():
        here = _join(path, str(k))
        if k == "managedFields":
            continue
        if k == "annotations" and isinstance(v, dict):
            out[k] = _secret_map({a: x for a, x in v.items() if a != LAST_APPLIED}, here, ctx)
        elif k in ("data", "binaryData") and ctx.kind == "ConfigMap" and isinstance(v, dict):
            out[k] = _secret_map(v, here, ctx)
        elif k in CONTAINER_LISTS and isinstance(v, list):
            out[k] = [_scrub_container(c, f"{here}[{i}]", ctx) for i, c in enumerate(v)]
        else:
            out[k] = _scrub(v, here, ctx)
    return out


def _label(obj: Any, fallback: str) -> str:
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return fallback
    ns, name = schema.namespace(obj), schema.name(obj)
    return f"{obj.get('kind') or fallback} {ns + '/' if ns else ''}{name}"


def scrub(obj: Any, red: Redactions | None = None, *, file: str = "", label: str = "") -> Any:
    """A copy without managedFields, the last-applied annotation and any env value, with
    secret-looking annotations, ConfigMap keys and flags' values replaced by `<redacted>`."""
    kind = str(obj.get("kind") or "") if isinstance(obj, dict) else ""
    return _scrub(obj, "", _Ctx(red, file, _label(obj, label or file), kind))


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
    ]


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
        manifest = _dump(_manifest(outcomes, meta, now, max_size, used))
        if used + len(manifest) <= max_size or not b.members:
            break
        # the manifest must fit too: give up the last member
        path, data = b.members.pop()
        o = next(o for o in outcomes if o.path == path)
        o.status, o.reason, o.bytes = "skipped", "size cap reached", 0
        used -= len(data)
    b.members.insert(0, (MANIFEST, manifest))
    return b


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
    "Bundle",
    "Outcome",
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
