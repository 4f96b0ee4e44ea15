"""Which claims a reclaim takes, before anything is deleted: select them on one snapshot
(by name, IP, bulk criteria or a plan), decide what the classification allows, and check that
the user may delete. Shared by the one-context run, its dry run and the fleet dry run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import cluster as api
from ..api.cluster import Cluster
from ..errors import ApiError, Forbidden, RefusedError
from ..model import reclaim as rc
from ..model import schema
from ..model.claims import ClaimRow, classify
from ..model.reclaim import Criteria, Outcome, Plan, Rules, Target
from ..model.words import plural
from . import gather
from .reclaim_exec import audit_records


@dataclass
class Selection:
    targets: list[Target]
    unsure: list[tuple[Any, str]] = field(default_factory=list)  # (row, why not selected)
    snap: Any = None  # gather.Snapshot the targets were classified on
    note: str | None = None  # a line for the user about what was left alone


def select_targets(
    c: Cluster,
    scope: str | None,
    names: Sequence[str],
    ip: str | None,
    criteria: Criteria,
    selector: str | None,
    rules: Rules,
    assumed: tuple[str, str, str] | None,
    audit_file: Path,
) -> Selection:
    """The claims asked for, classified on one snapshot (kept too: a dry run decides on it),
    and those a time criterion leaves out for lack of facts. Claim names need `scope`."""
    tke = c.tke()
    if ip is not None:
        vip = c.get(tke.vips, ip)
        ref = schema.vip_claim_ref(vip) if vip else None
        snap = gather.snapshot(c, ref.namespace if ref else None)
        rows = [r for r in classify_snapshot(c, snap) if r.ip == ip]
        if not rows:
            raise RefusedError(
                f"no claim holds IP {ip}" + ("" if vip else " (and no VpcIP exists for it)")
            )
        return Selection([Target.of(rows[0])], [], snap)
    if names:
        ns = scope
        assert ns is not None, "claim names are looked up in one namespace"
        snap = gather.snapshot(c, ns)
        by_name = {r.name: r for r in classify_snapshot(c, snap)}
        targets = []
        missing = []
        for n in dict.fromkeys(names):
            if n in by_name:
                targets.append(Target.of(by_name[n]))
                continue
            when = reclaimed_before(c, ns, n, audit_file)
            if when is None:
                missing.append(n)
                continue
            t = Target(ns, n, None, None, None, "", "")
            t.outcome, t.detail = Outcome.ALREADY, f"already reclaimed ({when})"
            targets.append(t)
        if missing:
            gather.ensure_namespace(c, ns)
            which = ", ".join(f'"{n}"' for n in missing)
            raise RefusedError(f'claim {which} not found in namespace "{ns}"')
        return Selection(targets, [], snap)
    snap = gather.snapshot(c, scope, label_selector=selector, assumed=assumed)
    rows = classify_snapshot(c, snap)
    chosen, unsure = rc.select(rows, criteria, rules)
    skipped = len(rows) - len(chosen)
    note = None
    if selector and not criteria.any and skipped:
        note = (
            f"{plural(skipped, 'claim')} matching -l {selector} are in use or not reclaimable: "
            "left alone"
        )
    targets = [Target.of(r) for r in chosen]
    for t in targets:
        t.criteria = criteria
    return Selection(targets, unsure, snap, note)


def plan_targets(c: Cluster, plan: Plan, namespace: str | None) -> Selection:
    """A plan's items as targets, each joined with its claim as classified now; with
    `namespace` (-n), items of other namespaces are refused."""
    targets = plan.items
    if namespace is not None:
        for t in targets:
            if t.namespace != namespace:
                t.outcome = Outcome.REFUSED
                t.detail = (
                    f"in namespace {t.namespace}, outside -n {namespace} "
                    "(use -A to take the whole plan)"
                )
    namespaces = sorted({t.namespace for t in targets if t.outcome is None})
    snap = gather.snapshot(c, namespaces[0] if len(namespaces) == 1 else None)
    rows = {r.key: r for r in classify_snapshot(c, snap)}
    by_uid = {r.uid: r.key for r in rows.values() if r.uid}
    for t in targets:
        t.row = rows.get(t.key)
        drift = rc.plan_drift(t, t.row, by_uid) if t.outcome is None else None
        if t.row is not None:
            # what is shown and re-checked is the live claim, never the file's word for it
            t.state, t.reason, t.ip = t.row.state.value, t.row.reason, t.row.ip
        if drift is not None:
            t.outcome, t.detail = Outcome.SKIPPED, drift
        elif t.row is None and t.outcome is None:
            t.outcome, t.detail = Outcome.NOT_FOUND, "not found: the claim no longer exists"
    return Selection(targets, [], snap)


def decide_all(targets: list[Target], rules: Rules) -> None:
    """What the classification says, before anything is read again."""
    for t in targets:
        if t.row is not None and t.outcome is None:
            ok, why = rc.decide(t.row, rules)
            if not ok:
                t.outcome, t.detail = Outcome.REFUSED, why


def classify_snapshot(c: Cluster, snap: gather.Snapshot) -> list[ClaimRow]:
    return classify(snap.inventory, snap.ipamd.policy, c.now())


def reclaimed_before(c: Cluster, namespace: str, name: str, audit_file: Path) -> str | None:
    """Evidence that this tool reclaimed the claim earlier: our Event on it in the cluster, or a
    record in the local audit file for this cluster. None when there is none."""
    try:
        events, _ = c.list(
            api.EVENTS,
            namespace,
            field_selector=f"involvedObject.name={name},reason={rc.EVENT_REASON}",
        )
    except ApiError:
        events = []
    if events:
        last = max(schema.text(e.get("lastTimestamp")) or "" for e in events)
        return f"Event {rc.EVENT_REASON} {last}".strip()
    for rec in audit_records(audit_file, namespace, name, c.server):
        return f"audit file, {rec}"
    return None


def check_delete_allowed(c: Cluster, targets: list[Target]) -> None:
    """Ask once per namespace whether we may delete claims, before touching anything."""
    tke = c.tke()
    for ns in sorted({t.namespace for t in targets}):
        try:
            allowed = c.can_i("delete", tke.claims, ns)
        except ApiError:
            return  # cannot ask: the delete itself will tell
        if not allowed:
            raise Forbidden(
                f'you may not delete vpcipclaims.{tke.claims.group} in namespace "{ns}"',
                hint="ask for get, list and delete on vpcipclaims (README: RBAC)",
            )
