"""What `reclaim` may delete, decided without I/O: target selection, the safety rules, the
plan-file format, and the Event that leaves a trail. The executor (`reclaim_exec`) applies these
decisions to what it reads again right before each delete.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from . import schema
from .claims import ClaimRow, State
from .errors import RefusedError, UsageError

Obj = dict[str, Any]
EVENT_REASON = "StaticIPReclaimed"
COMPONENT = "kubectl-vip"
DEFAULT_MAX = 50


class Outcome(str, Enum):
    RECLAIMED = "reclaimed"
    WOULD_RECLAIM = "wouldReclaim"  # --dry-run
    REFUSED = "refused"  # a safety rule says no
    SKIPPED = "skipped"  # changed since it was classified / planned
    FAILED = "failed"  # the API said something unexpected

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Rules:
    include_completed: bool = False
    allow_new_ip: bool = False


@dataclass(frozen=True)
class Criteria:
    """Bulk selection: the state flags are alternatives (OR); namespace and -l narrow them."""

    orphaned: bool = False
    overdue: bool = False
    retained_for: timedelta | None = None

    @property
    def any(self) -> bool:
        return self.orphaned or self.overdue or self.retained_for is not None


@dataclass
class Target:
    """One claim to consider, with the facts it was classified on."""

    namespace: str
    name: str
    uid: str | None
    resource_version: str | None
    ip: str | None
    state: str
    reason: str
    row: ClaimRow | None = None
    outcome: Outcome | None = None
    detail: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @classmethod
    def of(cls, row: ClaimRow) -> Target:
        return cls(
            row.namespace,
            row.name,
            row.uid,
            row.resource_version,
            row.ip,
            row.state.value,
            row.reason,
            row,
        )


def parse_ip(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text.strip()))
    except ValueError:
        raise UsageError(f'"{text}" is not an IPv4 address') from None


def select(rows: Iterable[ClaimRow], criteria: Criteria, rules: Rules) -> list[ClaimRow]:
    """Claims a bulk run asks for. With no state flag (only -l), every reclaimable claim."""
    out = []
    for r in rows:
        eligible = r.reclaimable or (rules.include_completed and r.state is State.COMPLETED)
        if not eligible:
            continue
        if not criteria.any:
            out.append(r)
            continue
        by_age = (
            criteria.retained_for is not None
            and r.retained_for is not None
            and r.retained_for >= criteria.retained_for
        )
        if (criteria.orphaned and r.orphaned) or (criteria.overdue and r.overdue) or by_age:
            out.append(r)
    return out


def decide(row: ClaimRow, rules: Rules) -> tuple[bool, str]:
    """(may reclaim?, why) from the classification. Live Pods are refused with no override."""
    if row.state is State.IN_USE:
        return False, (
            f"Pod {row.namespace}/{row.name} is {row.pod_phase}: deleting its claim would break "
            "its network; delete the Pod first"
        )
    if row.state is State.TERMINATING:
        return False, f"Pod {row.namespace}/{row.name} is terminating; wait until it is gone"
    if row.state is State.COMPLETED and not rules.include_completed:
        return False, (
            f"Pod {row.namespace}/{row.name} has {str(row.pod_phase).lower()} but still exists; "
            "delete it, or pass --include-completed"
        )
    if row.returning and not rules.allow_new_ip:
        return False, (
            f"{row.owner} will recreate Pod {row.name}, which gets this IP back; reclaiming gives "
            "it a new IP (pass --allow-new-ip to do it anyway)"
        )
    return True, row.reason


def pod_blocks(pod: Obj | None, rules: Rules) -> str | None:
    """The Pod as read right before the delete: a reason to refuse, or None."""
    if pod is None:
        return None
    ref = f"Pod {schema.namespace(pod)}/{schema.name(pod)}"
    if schema.deleting(pod):
        return f"{ref} is terminating; wait until it is gone"
    phase = schema.pod_phase(pod) or "Unknown"
    if phase in ("Succeeded", "Failed"):
        if rules.include_completed:
            return None
        return f"{ref} has {phase.lower()} but still exists; delete it, or pass --include-completed"
    return f"{ref} is {phase}: deleting its claim would break its network; delete the Pod first"


def check_cap(count: int, maximum: int) -> None:
    if count > maximum:
        raise RefusedError(
            f"{count} claims selected, more than --max {maximum}",
            hint="check the selection with --dry-run, then raise --max to go ahead",
        )


# ---------------------------------------------------------------------------- plan files


@dataclass
class Plan:
    cluster: dict[str, Any]
    items: list[Target] = field(default_factory=list)


def read_plan(doc: Any) -> Plan:
    """A `list -o json` ClaimList or a `reclaim --dry-run -o json` ReclaimResult."""
    if not isinstance(doc, dict) or doc.get("apiVersion") != "kubectl-vip/v1":
        raise UsageError("the plan file is not a kubectl-vip/v1 document (from list -o json)")
    kind = doc.get("kind")
    if kind not in ("ClaimList", "ReclaimResult"):
        raise UsageError(f"the plan file is a {kind}, not a ClaimList or ReclaimResult")
    meta = doc.get("metadata")
    cluster = meta.get("cluster") if isinstance(meta, dict) else None
    plan = Plan(cluster if isinstance(cluster, dict) else {})
    items = doc.get("items")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if kind == "ReclaimResult" and item.get("result") in ("refused", "skipped", "failed"):
            continue  # the plan did not propose these
        ns, name = schema.text(item.get("namespace")), schema.text(item.get("name"))
        uid, rv = schema.text(item.get("uid")), schema.text(item.get("resourceVersion"))
        if not (ns and name and uid and rv):
            raise UsageError(
                "every plan item needs namespace, name, uid and resourceVersion "
                f"(item {ns or '?'}/{name or '?'} lacks one)"
            )
        plan.items.append(
            Target(ns, name, uid, rv, schema.text(item.get("ip")), str(item.get("state", "")), "")
        )
    if not plan.items:
        raise UsageError("the plan file names no claims")
    return plan


def check_same_cluster(plan_cluster: dict[str, Any], here: dict[str, Any]) -> None:
    """The plan names the cluster it was made on: refuse it anywhere else."""
    want_uid, have_uid = plan_cluster.get("kubeSystemUID"), here.get("kubeSystemUID")
    if want_uid and have_uid:
        if want_uid != have_uid:
            raise RefusedError(
                f"the plan was made on another cluster (kube-system uid {want_uid}, "
                f"this one {have_uid})",
                hint="make a new plan on this cluster",
            )
        return
    if plan_cluster.get("server") and plan_cluster.get("server") != here.get("server"):
        raise RefusedError(
            f"the plan was made on {plan_cluster.get('server')}, not {here.get('server')}",
            hint="make a new plan on this cluster",
        )
    if not plan_cluster:
        raise RefusedError(
            "the plan does not say which cluster it was made on",
            hint="make it with `kubectl vip list -o json` or `reclaim --dry-run -o json`",
        )


# ---------------------------------------------------------------------------- trail


def event_for(claim: Obj, target: Target, now: datetime, seq: int) -> Obj:
    """A core/v1 Event recording one reclaim, so `kubectl get events` shows who freed what."""
    ts = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    name = schema.name(claim)
    ns = schema.namespace(claim)
    message = (
        f"kubectl-vip reclaimed static IP {target.ip or '<none>'} of Pod {ns}/{name} "
        f"(claim uid {schema.uid(claim)}, state {target.state}: {target.reason})"
    )
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{name}.kubectl-vip.{int(now.timestamp())}{seq:03d}",
            "namespace": ns,
        },
        "involvedObject": {
            "apiVersion": str(claim.get("apiVersion", "")),
            "kind": str(claim.get("kind", "VpcIPClaim")),
            "namespace": ns,
            "name": name,
            "uid": schema.uid(claim),
            "resourceVersion": schema.text(schema.dig(claim, "metadata", "resourceVersion")),
        },
        "reason": EVENT_REASON,
        "message": message[:1024],
        "type": "Normal",
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": COMPONENT,
        "action": "Reclaim",
        "firstTimestamp": ts,
        "lastTimestamp": ts,
        "count": 1,
    }
