"""`kubectl vip describe POD|IP`: the whole chain for one Pod or IP, and what deleting it does."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import typer

from ..api import cluster as api
from ..api.cluster import Cluster, Resource
from ..errors import (
    ApiError,
    MalformedAnswer,
    RefusedError,
    UnexpectedResponse,
    UsageError,
)
from ..model import describe as ds
from ..model import schema
from ..model.duration import format_go_duration, format_human
from ..model.records import ScalerRec
from . import common
from .claims_rows import options_doc, options_text
from .common import Globals, age, iso

T = TypeVar("T")
FORMATS = ("table", "json", "yaml")

HELP = """Show the whole chain for one Pod (or claim) or one IP, and what deleting it does now.

Claim, VpcIP (phase, message), node and its NodeENIConfig, owner workload, delete policy, expiry
and when ipamd reclaims it, recent Events of the Pod, claim and VpcIP (and of the node when the
IP is stuck Attaching), and a sentence each on deleting the Pod and its workload.

POD is looked up in -n (default: the context's namespace). An argument that parses as an IPv4
address (e.g. 10.0.1.7) describes that IP, whichever namespace holds it; since a Pod name may
look like an address, write pod/NAME to force a name (and ip/ADDR to force an address). Anything
else, 10.0.1.256 included, is a name.
"""

EPILOG = """Examples:

\b
  kubectl vip describe mysql-0 -n db      # claim, IP, node, ENI, owner, events, what-if
  kubectl vip describe 10.0.1.7 -o yaml   # the same chain, starting from an IP
"""


def register(app: typer.Typer) -> None:
    app.command("describe", help=HELP, epilog=EPILOG)(describe_command)


def describe_command(
    ctx: typer.Context,
    target: str = typer.Argument(..., metavar="POD|IP", help="A Pod/claim name, or an IP address."),
    output: str = typer.Option("table", "-o", "--output", help="table|json|yaml"),
    events: int = typer.Option(10, "--events", min=0, help="Show at most this many recent Events."),
) -> None:
    g = common.globals_of(ctx)
    fmt = common.check_format(output, FORMATS)
    try:
        t = ds.parse_target(target)
    except ds.TargetError as e:
        raise UsageError(str(e)) from None
    if t.kind == "name":
        common.check_name(t.value, "Pod name")
    if t.kind == "name" and g.all_namespaces:
        raise UsageError("describe POD works in one namespace: use -n NAMESPACE, not -A")
    c = g.cluster()
    scope = None if t.kind == "ip" else g.scope()  # checked before anything is sent
    from ..ops import gather

    with ThreadPoolExecutor(max_workers=4) as pool:
        f_ipamd = pool.submit(gather.read_ipamd, c)
        facts, warnings = fetch(c, pool, t, scope)
        info = f_ipamd.result()
    if info.problem:
        warnings.insert(0, info.problem)
    for w in warnings:
        g.out.warn(w)
    now = c.now()
    d = ds.describe(facts, info.policy, now, max_events=events)
    if fmt in ("json", "yaml"):
        g.out.document(description_doc(d, now), fmt)
    else:
        render(g, d, now)


# ---------------------------------------------------------------------------- reads


def fetch(
    c: Cluster, pool: ThreadPoolExecutor, t: ds.Target, namespace: str | None
) -> tuple[ds.Facts, list[str]]:
    """GET the claim, Pod, VpcIP, node, NodeENIConfig and owner; one Events list per involved
    object. Nothing is listed whole."""
    from ..ops import gather

    tke = c.tke()
    warnings: list[str] = []

    def soft(fut: Future[T], what: str, default: T) -> T:
        try:
            return fut.result()
        except (MalformedAnswer, UnexpectedResponse):
            raise  # not a partial answer: the server (or something before it) is broken
        except ApiError as e:  # Forbidden, or a selector the server refuses: show the rest
            warnings.append(f"cannot read {what}: {e.message}")
            return default

    def events(ns: str | None, selector: str) -> list[api.Obj]:
        items, _ = c.list(api.EVENTS, ns, field_selector=selector)
        return items

    def run(fn: Callable[..., T], *args: Any) -> Future[T]:
        return pool.submit(fn, *args)

    if t.kind == "ip":
        vip = c.get(tke.vips, t.value)
        if vip is None:
            raise RefusedError(f'no VpcIP "{t.value}" in the cluster: no Pod holds that address')
        ref = schema.vip_claim_ref(vip)
        facts = ds.Facts(ref.namespace if ref else None, ref.name if ref else None, ip=t.value)
        facts.vip = vip
    else:
        assert namespace is not None
        facts = ds.Facts(namespace, t.value)
    ns, name = facts.namespace, facts.name
    f_ev: Future[list[api.Obj]] | None = None
    if ns and name:
        f_claim = run(c.get, tke.claims, name, ns)
        f_pod = run(c.get, api.PODS, name, ns)
        f_ev = run(events, ns, f"involvedObject.name={name}")
        facts.claim = f_claim.result()
        facts.pod = soft(f_pod, f"pod {ns}/{name}", None)
        if t.kind == "name" and facts.claim is None and facts.pod is None:
            from ..ops.gather import ensure_namespace

            ensure_namespace(c, ns)
            raise RefusedError(f'no claim and no Pod "{name}" in namespace "{ns}"')

    if facts.vip is None:
        ip = (schema.claim_ip(facts.claim) if facts.claim else None) or (
            schema.pod_ip(facts.pod) if facts.pod else None
        )
        facts.vip = _find_vip(c, tke.vips, ip, ns or "", name or "")
    vip = facts.vip
    f_owners = None
    f_scalers: Future[tuple[list[ScalerRec] | None, str]] | None = None
    if ns and name:
        stub = facts.claim or {"metadata": {"name": name, "namespace": ns}}
        pod_refs = schema.owner_refs(facts.pod) if facts.pod else []
        f_owners = run(gather.read_owners_of, c, stub, [r for r in pod_refs if r.controller])
        if facts.pod is None:  # a claim without its Pod may be scaled in: what may scale it up
            f_scalers = run(
                gather.read_scalers, c, ns, lambda res, n, trim: c.list(res, n, trim=trim)[0]
            )
    node_name = (schema.vip_node(vip) if vip else None) or (
        schema.pod_node(facts.pod) if facts.pod else None
    )
    f_node = run(c.get, api.NODES, node_name) if node_name else None
    f_nec = run(c.get, tke.necs, node_name) if node_name and tke.necs else None
    f_vip_ev = None
    if vip is not None:
        f_vip_ev = run(
            events, None, f"involvedObject.kind=VpcIP,involvedObject.name={schema.name(vip)}"
        )

    facts.node_name = node_name
    facts.nec_served = tke.necs is not None
    if f_owners is not None:
        facts.workloads, facts.unknown_kinds = soft(f_owners, "the owner workloads", ({}, {}))
    if f_scalers is not None:
        facts.scalers, facts.scalers_unknown = f_scalers.result()
    facts.node = soft(f_node, f"node {node_name}", None) if f_node else None
    facts.nec = soft(f_nec, f"nodeeniconfig {node_name}", None) if f_nec else None
    all_events: list[api.Obj] = []
    if f_ev is not None:
        named: list[api.Obj] = soft(f_ev, f"events in {ns}", [])
        # the same name may belong to other kinds (a Service, a PVC...): keep the Pod's and claim's
        all_events += [e for e in named if schema.event_object(e)[0] in ("Pod", "VpcIPClaim", None)]
    if f_vip_ev is not None:
        vip_events: list[api.Obj] = soft(f_vip_ev, "events of the VpcIP", [])
        all_events += vip_events
    attaching = vip is not None and schema.vip_phase(vip) == "Attaching"
    nec_empty = facts.nec is not None and not schema.nec_healthy(facts.nec)
    if node_name and (attaching or nec_empty):
        selector = f"involvedObject.kind=Node,involvedObject.name={node_name}"
        node_events: list[api.Obj] = soft(run(events, None, selector), "events of the node", [])
        all_events += node_events
    facts.events = all_events
    return facts, warnings


def _find_vip(c: Cluster, res: Resource, ip: str | None, ns: str, name: str) -> api.Obj | None:
    """The VpcIP named by the claim's (or Pod's) IP when its claim ref agrees; else the one
    whose pod labels name this claim (a label-selected list, not a full one)."""
    if ip:
        vip = c.get(res, ip)
        ref = schema.vip_claim_ref(vip) if vip else None
        if vip is not None and (ref is None or (ref.namespace, ref.name) == (ns, name)):
            return vip
    if not ns or not name:
        return None
    selector = f"{schema.POD_NS_LABEL}={ns},{schema.POD_NAME_LABEL}={name}"
    try:
        items, _ = c.list(res, label_selector=selector)
    except (MalformedAnswer, UnexpectedResponse):
        raise
    except ApiError:
        return None
    return items[0] if items else None


# ---------------------------------------------------------------------------- output


def _when(t: datetime | None, now: datetime) -> str:
    if t is None:
        return "<unknown>"
    rel = f"in {format_human(t - now)}" if t > now else f"{format_human(now - t)} ago"
    return f"{iso(t)} ({rel})"


def _lines(d: ds.Description, now: datetime) -> list[tuple[int, str, str]]:
    """(indent, key, value) rows of the text layout."""
    out: list[tuple[int, str, str]] = []
    add = out.append
    add((0, "Name", d.name or "<none>"))
    add((0, "Namespace", d.namespace or "<none>"))
    add((0, "IP", d.ip or "<none>"))
    add((0, "State", d.state))
    add((0, "Reason", d.reason))
    r = d.claim
    if r is None:
        add((0, "Claim", "<none>"))
    else:
        add((0, "Claim", f"vipc/{r.name}"))
        add((2, "UID", r.uid or "<unknown>"))
        add((2, "Created", _when(r.created, now)))
        unset = (
            "<unset> (ipamd default: Immediate)"
            if r.pod_phase is not None
            else "<unset> (its Pod is gone: unknown)"
        )
        add((2, "Delete Policy", r.policy or unset))
        expiry = "never (no expiry)"
        if r.expiry_options:
            expiry = "unknown: " + options_text(r.expiry_options, " or ")
        elif r.expiry is not None:
            expiry = f"{format_go_duration(r.expiry)} (from the {r.expiry_source})"
        add((2, "Expiry", expiry))
        if r.pod_phase is None:
            rel = _when(r.released_at, now) + (" (estimated)" if r.released_estimated else "")
            add((2, "Released", rel))
            if r.reclaim_at is not None:
                add((2, "Reclaim At", _when(r.reclaim_at, now)))
            elif r.expiry_options:
                add((2, "Reclaim At", "unknown: ipamd's expiry for it is unknown"))
            elif r.expiry is None:
                add((2, "Reclaim At", "never: ipamd keeps it until reclaimed by hand"))
    p = d.pod
    if p is None:
        add((0, "Pod", "<none>"))
    else:
        add((0, "Pod", f"pod/{d.name}"))
        add((2, "Phase", "Terminating" if p.terminating else p.phase or "<unknown>"))
        add((2, "Pod IP", p.ip or "<none>"))
        add((2, "Node", p.node or "<none>"))
        add((2, "VPC-CNI", "yes" if p.vpc_cni else "no"))
    v = d.vip
    if v is None:
        add((0, "VpcIP", "<none>"))
    else:
        add((0, "VpcIP", f"vip/{v.ip}"))
        add((2, "State", v.state))
        add((2, "Phase", v.phase or "<unknown>"))
        add((2, "Message", v.message or "<none>"))
        add((2, "Type", v.vip_type or "<unknown>"))
        subnet = v.subnet_id or "<unknown>"
        add((2, "Subnet", f"{subnet} ({v.subnet_cidr})" if v.subnet_cidr else subnet))
        add((2, "Claim Ref", f"{v.claim[0]}/{v.claim[1]}" if v.claim else "<none>"))
    n = d.node
    if n is None:
        add((0, "Node", "<none>"))
    else:
        add((0, "Node", n.name + ("" if n.exists else " (not found)")))
        add((2, "Zone", n.zone or "<unknown>"))
        if n.eni_unavailable:
            add((2, "Taint", f"{schema.ENI_UNAVAILABLE_TAINT} (no ENI IPs on this node)"))
        add((2, "ENI Config", _nec_text(n.nec)))
    o = d.owner
    add((0, "Owner", _owner_text(d)))
    if o is not None and r is not None and r.returning:
        add((2, "Returns", f"yes: ordinal {r.ordinal} < {o.replicas} replicas"))
    add((0, "Cascade", "on (--enable-ownerref)" if d.cascade else "off"))
    add((0, "If Deleted", ""))
    add((2, "Pod" if d.pod is not None else "Now", d.if_pod_deleted))
    if d.if_workload_deleted is not None:
        add((2, "Workload", d.if_workload_deleted))
    return out


def _nec_text(nec: ds.NecInfo | None) -> str:
    if nec is None:
        return "<not served>"
    if not nec.exists:
        return "<none> (no NodeENIConfig for this node)"
    if not nec.healthy:
        return "empty status: no ENI attached (VPC ENI quota? see Events)"
    subnets = ", ".join(f"{sid or '<unknown>'} {cidr}" for sid, cidr in nec.subnets) or "none"
    limits = f"max {nec.max_enis or '?'} ENIs x {nec.max_ips_per_eni or '?'} IPs"
    return f"healthy ({len(nec.subnets)} ENI: {subnets}; {limits})"


def _owner_text(d: ds.Description) -> str:
    o = d.owner
    if o is None:
        return "<none>"
    if o.exists is False:
        return f"{o} (gone)"
    if o.exists is None:
        return f"{o} (not checked)"
    via = {"claim": "ownerReference on the claim", "pod": "the Pod's controller", "name": "by name"}
    reps = ""
    if o.replicas is not None:
        reps = f", {o.replicas} replica" + ("" if o.replicas == 1 else "s")
    deleting = ", being deleted" if o.deleting else ""
    return f"{o} ({via.get(o.source, o.source)}{reps}{deleting})"


def render(g: Globals, d: ds.Description, now: datetime) -> None:
    rows = _lines(d, now)
    width = max(indent + len(key) for indent, key, _ in rows) + 3  # kubectl's describe padding
    for indent, key, value in rows:
        label = f"{' ' * indent}{key}:".ljust(width)
        if key == "State" and indent == 0 and g.out.color:
            g.out.styled([(label, None), (value, _state_style(value))])
        else:
            g.out.line(f"{label}{value}".rstrip())
    g.out.line("Events:" + ("" if d.events else "  <none>"))
    if d.events:
        table = [["AGE", "TYPE", "REASON", "OBJECT", "MESSAGE"]]
        for e in d.events:
            when = age(e.last, now)
            if e.count > 1:
                when += f" (x{e.count} over {age(e.first, now)})"
            table.append(
                [when, e.type or "<unknown>", e.reason or "<unknown>", e.object, e.message or ""]
            )
        widths = [max(len(row[i]) for row in table) for i in range(4)]
        for row in table:
            cells = [c.ljust(widths[i] + 3) for i, c in enumerate(row[:4])]
            g.out.line(("  " + "".join(cells) + row[4]).rstrip())


def _state_style(state: str) -> str | None:
    from ..term.render import STATE_STYLES

    return STATE_STYLES.get(state)


def description_doc(d: ds.Description, now: datetime) -> dict[str, Any]:
    """`kind: ClaimDescription`: a stable document for scripts."""
    r, p, v, n, o = d.claim, d.pod, d.vip, d.node, d.owner
    return {
        "apiVersion": common.API_VERSION,
        "kind": "ClaimDescription",
        "metadata": {"generatedAt": iso(now), "namespace": d.namespace, "name": d.name},
        "ip": d.ip,
        "state": d.state,
        "reason": d.reason,
        "claim": None
        if r is None
        else {
            "namespace": r.namespace,
            "name": r.name,
            "uid": r.uid,
            "resourceVersion": r.resource_version,
            "createdAt": iso(r.created),
            "state": r.state.value,
            "reclaimable": r.reclaimable,
            "deletePolicy": r.policy,
            "expiry": format_go_duration(r.expiry) if r.expiry is not None else None,
            "expirySource": r.expiry_source,
            "expiryOptions": options_doc(r.expiry_options),
            "releasedAt": iso(r.released_at),
            "releasedAtEstimated": r.released_estimated,
            "reclaimAt": iso(r.reclaim_at),
            "orphaned": r.orphaned,
            "overdue": r.overdue,
            "returning": r.returning,
            "scaledIn": r.scaled_in,
            "scaleBack": r.scale_back,
            "ipMayBeInUse": r.ip_in_use,
            "ordinal": r.ordinal,
        },
        "pod": None
        if p is None
        else {
            "phase": p.phase,
            "terminating": p.terminating,
            "uid": p.uid,
            "node": p.node,
            "podIP": p.ip,
            "vpcCNI": p.vpc_cni,
            "createdAt": iso(p.created),
        },
        "vpcIP": None
        if v is None
        else {
            "name": v.ip,
            "state": v.state,
            "phase": v.phase,
            "message": v.message,
            "type": v.vip_type,
            "subnetID": v.subnet_id,
            "subnetCIDR": v.subnet_cidr,
            "node": v.node,
            "claimRef": {"namespace": v.claim[0], "name": v.claim[1]} if v.claim else None,
            "createdAt": iso(v.created),
        },
        "node": None
        if n is None
        else {
            "name": n.name,
            "exists": n.exists,
            "zone": n.zone,
            "eniUnavailableTaint": n.eni_unavailable,
            "nodeENIConfig": None
            if n.nec is None
            else {
                "exists": n.nec.exists,
                "healthy": n.nec.healthy,
                "subnets": [{"subnetID": s, "subnetCIDR": c} for s, c in n.nec.subnets],
                "maxRouteENI": n.nec.max_enis,
                "maxIPPerENI": n.nec.max_ips_per_eni,
            },
        },
        "owner": None
        if o is None
        else {
            "kind": o.kind,
            "name": o.name,
            "uid": o.uid,
            "source": o.source,
            "exists": o.exists,
            "replicas": o.replicas,
            "deleting": o.deleting,
        },
        "cascade": d.cascade,
        "ifDeleted": {"pod": d.if_pod_deleted, "workload": d.if_workload_deleted},
        "events": [
            {
                "type": e.type,
                "reason": e.reason,
                "object": e.object,
                "message": e.message,
                "count": e.count,
                "firstTimestamp": iso(e.first),
                "lastTimestamp": iso(e.last),
            }
            for e in d.events
        ],
    }
