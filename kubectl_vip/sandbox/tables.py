"""`meta.k8s.io` Table responses, which `kubectl get` asks for when it prints for people.

Columns and cells follow kubernetes pkg/printers/internalversion/printers.go for the built-in
kinds the sandbox serves, and the CRD default (Name, Age) for custom resources. Ages are rendered
by the server against the virtual clock, as apiserver renders them against its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .clock import parse_rfc3339
from .resources import ResourceType
from .store import Entry, Obj, dumps

TABLE_GROUP = "meta.k8s.io"
Row = list[Any]
Column = tuple[str, str, str, int]  # name, type, format, priority


def wants_table(accept: str) -> str | None:
    """The meta.k8s.io version of a Table the client prefers to plain JSON, if any."""
    for part in accept.split(","):
        media, *rest = part.split(";")
        params = dict(p.strip().split("=", 1) for p in rest if "=" in p)
        if "as" not in params:
            if media.strip() in ("application/json", "*/*", "application/*"):
                return None
            continue
        table = params["as"] == "Table" and params.get("g") == TABLE_GROUP
        if table and params.get("v") in ("v1", "v1beta1"):
            return params["v"]
    return None


def human_duration(seconds: float) -> str:
    """apimachinery pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


class _Cells:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def since(self, ts: Any) -> str:
        if not ts:
            return "<unknown>"
        try:
            return human_duration((self.now - parse_rfc3339(str(ts))).total_seconds())
        except ValueError:
            return "<unknown>"

    def age(self, o: Obj) -> str:
        return self.since(o.get("metadata", {}).get("creationTimestamp"))


def _containers(o: Obj) -> list[dict[str, Any]]:
    spec = ((o.get("spec") or {}).get("template") or {}).get("spec") or {}
    return list(spec.get("containers") or [])


def _names_images(o: Obj) -> list[str]:
    cs = _containers(o)
    return [
        ",".join(str(c.get("name", "")) for c in cs),
        ",".join(str(c.get("image", "")) for c in cs),
    ]


def _selector(o: Obj) -> str:
    sel = (o.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        op, vals = str(e.get("operator", "")), ",".join(e.get("values") or [])
        key = str(e.get("key", ""))
        parts.append(
            {"In": f"{key} in ({vals})", "NotIn": f"{key} notin ({vals})", "Exists": key}.get(
                op, f"!{key}"
            )
        )
    return ",".join(parts) or "<none>"


def _pod(c: _Cells, o: Obj) -> Row:
    meta, spec, st = o["metadata"], o.get("spec") or {}, o.get("status") or {}
    phase = str(st.get("phase") or "")
    reason = str(st.get("reason") or phase)
    restarts, ready, running = 0, 0, False
    for cs in reversed(st.get("containerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = str(waiting["reason"])
        elif terminated and terminated.get("reason"):
            reason = str(terminated["reason"])
        elif terminated:
            reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
        elif cs.get("ready") and state.get("running") is not None:
            running = True
            ready += 1
    if reason == "Completed" and running:
        reason = "Running"
    if meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    ips = st.get("podIPs") or []
    ip = (ips[0].get("ip") if ips else "") or "<none>"
    return [
        meta["name"],
        f"{ready}/{len(spec.get('containers') or [])}",
        reason,
        str(restarts),
        c.age(o),
        ip,
        spec.get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _node(c: _Cells, o: Obj) -> Row:
    st, spec = o.get("status") or {}, o.get("spec") or {}
    status = []
    for cond in st.get("conditions") or []:
        if cond.get("type") == "Ready":
            status.append("Ready" if cond.get("status") == "True" else "NotReady")
    status = status or ["Unknown"]
    if spec.get("unschedulable"):
        status.append("SchedulingDisabled")
    labels = o["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    info = st.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for a in st.get("addresses") or []:
            if a.get("type") == kind:
                return str(a.get("address", ""))
        return "<none>"

    return [
        o["metadata"]["name"],
        ",".join(status),
        ",".join(roles) or "<none>",
        c.age(o),
        info.get("kubeletVersion", ""),
        address("InternalIP"),
        address("ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


def _event(c: _Cells, o: Obj) -> Row:
    first = (
        c.since(o.get("firstTimestamp")) if o.get("firstTimestamp") else c.since(o.get("eventTime"))
    )
    last = c.since(o["lastTimestamp"]) if o.get("lastTimestamp") else first
    io = o.get("involvedObject") or {}
    kind = str(io.get("kind", "")).lower()
    target = f"{kind}/{io['name']}" if io.get("name") else kind
    src = o.get("source") or {}
    source = ", ".join(x for x in (src.get("component"), src.get("host")) if x) or str(
        o.get("reportingComponent") or ""
    )
    return [
        last,
        o.get("type", ""),
        o.get("reason", ""),
        target,
        io.get("fieldPath", ""),
        source,
        str(o.get("message", "")).strip(),
        first,
        int(o.get("count") or 1),
        o["metadata"]["name"],
    ]


def _deployment(c: _Cells, o: Obj) -> Row:
    st = o.get("status") or {}
    want = int((o.get("spec") or {}).get("replicas", 1))
    return [
        o["metadata"]["name"],
        f"{int(st.get('readyReplicas') or 0)}/{want}",
        int(st.get("updatedReplicas") or 0),
        int(st.get("availableReplicas") or 0),
        c.age(o),
        *_names_images(o),
        _selector(o),
    ]


def _statefulset(c: _Cells, o: Obj) -> Row:
    st = o.get("status") or {}
    want = int((o.get("spec") or {}).get("replicas", 1))
    ready = f"{int(st.get('readyReplicas') or 0)}/{want}"
    return [o["metadata"]["name"], ready, c.age(o), *_names_images(o)]


def _daemonset(c: _Cells, o: Obj) -> Row:
    st = o.get("status") or {}
    spec = ((o.get("spec") or {}).get("template") or {}).get("spec") or {}
    node_sel = ",".join(f"{k}={v}" for k, v in sorted((spec.get("nodeSelector") or {}).items()))
    counts = (
        "desiredNumberScheduled",
        "currentNumberScheduled",
        "numberReady",
        "updatedNumberScheduled",
        "numberAvailable",
    )
    return [
        o["metadata"]["name"],
        *(int(st.get(k) or 0) for k in counts),
        node_sel or "<none>",
        c.age(o),
        *_names_images(o),
        _selector(o),
    ]


def _replicaset(c: _Cells, o: Obj) -> Row:
    st = o.get("status") or {}
    want = int((o.get("spec") or {}).get("replicas", 1))
    return [
        o["metadata"]["name"],
        want,
        int(st.get("replicas") or 0),
        int(st.get("readyReplicas") or 0),
        c.age(o),
        *_names_images(o),
        _selector(o),
    ]


def _service(c: _Cells, o: Obj) -> Row:
    spec = o.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        ports.append(f"{p.get('port')}{node}/{p.get('protocol', 'TCP')}")
    sel = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    external = ",".join(spec.get("externalIPs") or []) or (
        spec.get("externalName", "") if spec.get("type") == "ExternalName" else ""
    )
    if spec.get("type") == "LoadBalancer" and not external:
        external = "<pending>"
    return [
        o["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        external or "<none>",
        ",".join(ports) or "<none>",
        c.age(o),
        sel or "<none>",
    ]


def _namespace(c: _Cells, o: Obj) -> Row:
    return [o["metadata"]["name"], (o.get("status") or {}).get("phase", ""), c.age(o)]


def _configmap(c: _Cells, o: Obj) -> Row:
    n = len(o.get("data") or {}) + len(o.get("binaryData") or {})
    return [o["metadata"]["name"], n, c.age(o)]


def _secret(c: _Cells, o: Obj) -> Row:
    n = len(o.get("data") or {}) + len(o.get("stringData") or {})
    return [o["metadata"]["name"], o.get("type", ""), n, c.age(o)]


def _default(c: _Cells, o: Obj) -> Row:
    return [o["metadata"]["name"], c.age(o)]


NAME: Column = ("Name", "string", "name", 0)
AGE: Column = ("Age", "string", "", 0)
CONTAINERS_IMAGES: list[Column] = [
    ("Containers", "string", "", 1),
    ("Images", "string", "", 1),
]
PRINTERS: dict[str, tuple[list[Column], Callable[[_Cells, Obj], Row]]] = {
    "pods": (
        [
            NAME,
            ("Ready", "string", "", 0),
            ("Status", "string", "", 0),
            ("Restarts", "string", "", 0),
            AGE,
            ("IP", "string", "", 1),
            ("Node", "string", "", 1),
            ("Nominated Node", "string", "", 1),
            ("Readiness Gates", "string", "", 1),
        ],
        _pod,
    ),
    "nodes": (
        [
            NAME,
            ("Status", "string", "", 0),
            ("Roles", "string", "", 0),
            AGE,
            ("Version", "string", "", 0),
            ("Internal-IP", "string", "", 1),
            ("External-IP", "string", "", 1),
            ("OS-Image", "string", "", 1),
            ("Kernel-Version", "string", "", 1),
            ("Container-Runtime", "string", "", 1),
        ],
        _node,
    ),
    "events": (
        [
            ("Last Seen", "string", "", 0),
            ("Type", "string", "", 0),
            ("Reason", "string", "", 0),
            ("Object", "string", "", 0),
            ("Subobject", "string", "", 1),
            ("Source", "string", "", 1),
            ("Message", "string", "", 0),
            ("First Seen", "string", "", 1),
            ("Count", "string", "", 1),
            ("Name", "string", "name", 1),
        ],
        _event,
    ),
    "namespaces": ([NAME, ("Status", "string", "", 0), AGE], _namespace),
    "configmaps": ([NAME, ("Data", "string", "", 0), AGE], _configmap),
    "secrets": ([NAME, ("Type", "string", "", 0), ("Data", "string", "", 0), AGE], _secret),
    "deployments": (
        [
            NAME,
            ("Ready", "string", "", 0),
            ("Up-to-date", "string", "", 0),
            ("Available", "string", "", 0),
            AGE,
            *CONTAINERS_IMAGES,
            ("Selector", "string", "", 1),
        ],
        _deployment,
    ),
    "statefulsets": ([NAME, ("Ready", "string", "", 0), AGE, *CONTAINERS_IMAGES], _statefulset),
    "replicasets": (
        [
            NAME,
            ("Desired", "integer", "", 0),
            ("Current", "integer", "", 0),
            ("Ready", "integer", "", 0),
            AGE,
            *CONTAINERS_IMAGES,
            ("Selector", "string", "", 1),
        ],
        _replicaset,
    ),
    "services": (
        [
            NAME,
            ("Type", "string", "", 0),
            ("Cluster-IP", "string", "", 0),
            ("External-IP", "string", "", 0),
            ("Port(s)", "string", "", 0),
            AGE,
            ("Selector", "string", "", 1),
        ],
        _service,
    ),
    "daemonsets": (
        [
            NAME,
            ("Desired", "integer", "", 0),
            ("Current", "integer", "", 0),
            ("Ready", "integer", "", 0),
            ("Up-to-date", "integer", "", 0),
            ("Available", "integer", "", 0),
            ("Node Selector", "string", "", 0),
            AGE,
            *CONTAINERS_IMAGES,
            ("Selector", "string", "", 1),
        ],
        _daemonset,
    ),
}
# CRDs without additionalPrinterColumns: Name, and Age as a `date` column
CUSTOM: tuple[list[Column], Callable[[_Cells, Obj], Row]] = (
    [NAME, ("Age", "date", "", 0)],
    _default,
)


# apiserver's default table convertor (CustomResourceDefinitions): the creation time, absolute
CREATED: tuple[list[Column], Callable[[_Cells, Obj], Row]] = (
    [NAME, ("Created At", "date", "", 0)],
    lambda c, o: [o["metadata"]["name"], o["metadata"].get("creationTimestamp") or ""],
)


def _printer(rtype: ResourceType) -> tuple[list[Column], Callable[[_Cells, Obj], Row]]:
    if rtype.plural == "customresourcedefinitions":
        return CREATED
    if rtype.custom or rtype.group not in ("", "apps"):
        return CUSTOM
    return PRINTERS.get(rtype.plural, CUSTOM)


def _column_docs(columns: Iterable[Column]) -> list[dict[str, Any]]:
    return [
        {"name": n, "type": t, "format": f, "description": "", "priority": p}
        for n, t, f, p in columns
    ]


def table(
    rtype: ResourceType,
    entries: Iterable[Entry],
    list_meta: dict[str, Any],
    *,
    version: str,
    now: datetime,
    include: str = "Metadata",
    headers: bool = True,
) -> bytes:
    """The Table document for these objects, serialized."""
    columns, cells_of = _printer(rtype)
    cells = _Cells(now)
    head: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": f"{TABLE_GROUP}/{version}",
        "metadata": list_meta,
        "columnDefinitions": _column_docs(columns) if headers else None,
    }
    partial = b'{"kind":"PartialObjectMetadata","apiVersion":"%s/%s","metadata":' % (
        TABLE_GROUP.encode(),
        version.encode(),
    )
    rows = []
    for e in entries:
        row = b'{"cells":' + dumps(cells_of(cells, e.obj))
        if include == "Object":
            row += b',"object":' + e.raw
        elif include == "None":
            row += b',"object":null'
        else:
            row += b',"object":' + partial + dumps(e.obj["metadata"]) + b"}"
        rows.append(row + b"}")
    return dumps(head)[:-1] + b',"rows":[' + b",".join(rows) + b"]}"


def scale_table(scale: Obj, *, version: str) -> bytes:
    """The Table apiserver prints for a Scale subresource (`kubectl get --subresource=scale`)."""
    columns: list[Column] = [
        NAME,
        ("Desired", "integer", "", 0),
        ("Available", "integer", "", 0),
    ]
    meta = scale["metadata"]
    cells = [
        meta["name"],
        int((scale.get("spec") or {}).get("replicas") or 0),
        int((scale.get("status") or {}).get("replicas") or 0),
    ]
    partial = {"kind": "PartialObjectMetadata", "apiVersion": f"{TABLE_GROUP}/{version}"}
    return dumps(
        {
            "kind": "Table",
            "apiVersion": f"{TABLE_GROUP}/{version}",
            "metadata": {"resourceVersion": meta.get("resourceVersion", "")},
            "columnDefinitions": _column_docs(columns),
            "rows": [{"cells": cells, "object": {**partial, "metadata": meta}}],
        }
    )
