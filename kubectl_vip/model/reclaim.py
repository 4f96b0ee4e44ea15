"""What `reclaim` may delete, decided without I/O: target selection, the safety rules, the
plan-file format, and the Event that leaves a trail. The executor (`reclaim_exec`) applies these
decisions to what it reads again right before each delete.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from ..errors import RefusedError, UsageError
from ..shared.gcpause import paused_gc
from . import schema
from .claims import KRUISE_STATEFULSET, SAME_NAME_KINDS, STATEFULSET, TAPP, ClaimRow, State
from .duration import DurationError, format_human, parse_go_duration
from .words import plural

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
    NOT_FOUND = "notFound"  # the claim does not exist (any more): nothing deleted by this run
    ALREADY = "alreadyReclaimed"  # gone, and our audit trail says we reclaimed it earlier

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Rules:
    include_completed: bool = False
    allow_new_ip: bool = False
    # --scaled-in-for: a claim of a scaled-in ordinal may go once its controller has kept its
    # replica count this long, is not at 0, and no autoscaler may scale it back over it
    scaled_in_for: timedelta | None = None


@dataclass(frozen=True)
class Criteria:
    """Bulk selection: the state flags are alternatives (OR); namespace and -l narrow them.

    `owner` is `reclaim --owner`: (kind key, name) of a workload whose claims are wanted once it
    is confirmed gone (the ordinals a live one no longer keeps are `--scaled-in`'s). `scaled_in`
    is `--scaled-in` with its `--scaled-in-for` duration."""

    orphaned: bool = False
    overdue: bool = False
    retained_for: timedelta | None = None
    owner: tuple[str, str] | None = None
    scaled_in: timedelta | None = None

    @property
    def any(self) -> bool:
        return (
            self.orphaned
            or self.overdue
            or self.retained_for is not None
            or self.owner is not None
            or self.scaled_in is not None
        )


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
    criteria: Criteria | None = None  # what selected it (bulk): re-checked before the delete
    # a plan file's item: the IP it states (None: states no IP), when it states one at all
    planned_ip: str | None = None
    plan_states_ip: bool = False

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


OWNER_KINDS = {
    "statefulset": STATEFULSET,
    "statefulsets": STATEFULSET,
    "sts": STATEFULSET,
    "statefulset.apps": STATEFULSET,
    "statefulset.apps.kruise.io": KRUISE_STATEFULSET,
    "statefulsets.apps.kruise.io": KRUISE_STATEFULSET,
    "asts": KRUISE_STATEFULSET,
    "advancedstatefulset": KRUISE_STATEFULSET,
    "tapp": TAPP,
    "tapps": TAPP,
    "tapp.apps.tkestack.io": TAPP,
    "tapps.apps.tkestack.io": TAPP,
}


def parse_owner(text: str) -> tuple[str, str]:
    """`--owner KIND/NAME` → (kind key, name), for the controllers that recreate Pods by name."""
    kind, sep, name = text.partition("/")
    key = OWNER_KINDS.get(kind.strip().lower())
    if not sep or key is None or not schema.is_dns_subdomain(name):
        raise UsageError(
            f'invalid --owner "{text}": use statefulset/NAME, tapp/NAME or '
            "statefulset.apps.kruise.io/NAME"
        )
    return key, name


def parse_ip(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text.strip()))
    except ValueError:
        raise UsageError(f'"{text}" is not an IPv4 address') from None


def matches(r: ClaimRow, criteria: Criteria) -> tuple[bool, str]:
    """Does the claim meet a bulk criterion? (yes/no, and why not). Only facts select: an
    estimated release time never meets --retained-for, an unknown owner never --orphaned."""
    if criteria.orphaned and r.orphaned:
        return True, ""
    if criteria.overdue and r.overdue:
        return True, ""
    owner = r.owner
    if r.orphaned and owner is not None and (owner.key, owner.name) == criteria.owner:
        return True, ""
    if criteria.scaled_in is not None and r.scaled_in:
        return scaled_in_ok(r, criteria.scaled_in)
    if _old_enough(r, criteria):
        if r.released_estimated:
            return False, (
                "its release time is unknown (only estimated from its last status write), "
                "so --retained-for cannot select it"
            )
        return True, ""
    return False, f"no longer selected: {r.state}: {r.reason}"


def scaled_in_ok(r: ClaimRow, at_least: timedelta) -> tuple[bool, str]:
    """A scaled-in claim may go only on facts: its controller is not paused at 0, no
    autoscaler may scale it back over the ordinal, and it has kept its count `at_least` long."""
    if not r.scaled_in:
        return False, f"not scaled in: {r.state}: {r.reason}"
    if r.scale_back is not None:
        return False, f"{r.scale_back}: --scaled-in leaves it"
    if r.scale_age is None:
        return False, (
            "how long its controller has kept its replica count is unknown: "
            "--scaled-in-for cannot select it"
        )
    if r.scale_age < at_least:
        return False, (
            f"its controller has kept its replica count for {format_human(r.scale_age)}, "
            f"less than --scaled-in-for {format_human(at_least)}"
        )
    return True, ""


def _old_enough(r: ClaimRow, criteria: Criteria) -> bool:
    return (
        criteria.retained_for is not None
        and r.retained_for is not None
        and r.retained_for >= criteria.retained_for
    )


def select(
    rows: Iterable[ClaimRow], criteria: Criteria, rules: Rules
) -> tuple[list[ClaimRow], list[tuple[ClaimRow, str]]]:
    """Claims a bulk run asks for, and those it leaves out for lack of facts (with why).
    With no criterion (only -l), every reclaimable claim."""
    out: list[ClaimRow] = []
    unsure: list[tuple[ClaimRow, str]] = []
    for r in rows:
        eligible = r.reclaimable or (rules.include_completed and r.state is State.COMPLETED)
        if not eligible:
            continue
        if not criteria.any:
            out.append(r)
            continue
        ok, why = matches(r, criteria)
        if ok:
            out.append(r)
        elif r.released_estimated and _old_enough(r, criteria):
            unsure.append((r, why))
        elif criteria.scaled_in is not None and r.scaled_in:
            unsure.append((r, why))  # scaled in, but not on the facts --scaled-in needs
    return out, unsure


def still_selected(row: ClaimRow, criteria: Criteria) -> tuple[bool, str]:
    """Right before the delete, from fresh reads: the claim still meets what selected it."""
    if not criteria.any:
        return True, row.reason
    ok, why = matches(row, criteria)
    return (True, row.reason) if ok else (False, why)


def recheck(t: Target, row: ClaimRow, rules: Rules, *, changed: bool = False) -> bool:
    """The last check before a delete, on the claim as read right then: the safety rules and the
    criterion that selected it. Refused: `t` is marked so, with why (`changed`: the claim is not
    the object that was listed). Otherwise `t` takes the row's facts, whose uid and
    resourceVersion the delete's preconditions carry."""
    ok, why = decide(row, rules)
    if ok and t.criteria is not None:
        ok, why = still_selected(row, t.criteria)
    if not ok:
        t.outcome = Outcome.REFUSED
        t.detail = f"changed since it was listed: {why}" if changed else why
        return False
    t.uid, t.resource_version, t.state, t.reason = (
        row.uid,
        row.resource_version,
        row.state.value,
        why,
    )
    t.ip, t.row = row.ip, row
    return True


def against_listed(
    t: Target, current: tuple[str | None, str | None] | None, *, strict_plan: bool
) -> bool | None:
    """The claim as read again (its uid and resourceVersion; None: gone) against the target.
    Returns whether it changed since it was listed, or None when that settles the target (marked
    so): gone, or, for a plan file's item, any change since the plan was made."""
    if current is None:
        t.outcome = Outcome.NOT_FOUND
        t.detail = "not found: the claim is already gone (nothing was deleted by this run)"
        return None
    uid, rv = current
    changed = uid != t.uid or rv != t.resource_version
    if changed and strict_plan:
        t.outcome = Outcome.SKIPPED
        t.detail = (
            f"changed since the plan was made (uid {t.uid} rv {t.resource_version} → "
            f"uid {uid} rv {rv})"
        )
        return None
    return changed


def plan_drift(t: Target, row: ClaimRow | None, by_uid: dict[str, tuple[str, str]]) -> str | None:
    """How a plan file's item differs from the live claim of its namespace and name (`row`;
    None: no such claim), or None when it names that claim as it is. `by_uid`: the live claims'
    uids. A hand-edited or stale item (another IP, a uid that is now another claim's, a claim
    renamed or in another namespace) is never taken for the claim it names."""
    where = by_uid.get(t.uid or "")
    if row is None:
        if where is not None:
            return (
                f"changed since the plan: uid {t.uid} is claim {where[0]}/{where[1]} now, "
                f"not {t.namespace}/{t.name}"
            )
        return None  # gone: not found, as any claim deleted since
    if t.uid != row.uid:
        if where is not None:
            return (
                f"changed since the plan: the plan pairs {t.namespace}/{t.name} with uid {t.uid}, "
                f"which is claim {where[0]}/{where[1]}"
            )
        return f"changed since the plan: the claim was recreated (uid {t.uid} → {row.uid})"
    if t.plan_states_ip and t.planned_ip != row.ip:
        return (
            f"changed since the plan: the plan says IP {t.planned_ip or 'none'}, "
            f"the claim holds {row.ip or 'none'}"
        )
    return None


def decide(row: ClaimRow, rules: Rules) -> tuple[bool, str]:
    """(may reclaim?, why) from the classification. Live Pods are refused with no override;
    a Pod that may come back (its owner recreates it, or cannot be read) needs --allow-new-ip."""
    if row.state is State.IN_USE:
        return False, f"Pod {row.namespace}/{row.name} is {row.pod_phase}: " + _live_pod_hint(row)
    if row.state is State.TERMINATING:
        return False, f"Pod {row.namespace}/{row.name} is terminating; wait until it is gone"
    if row.state is State.COMPLETED and not rules.include_completed:
        return False, (
            f"Pod {row.namespace}/{row.name} has {str(row.pod_phase).lower()} but still exists; "
            "delete it, or pass --include-completed"
        )
    if row.ip_in_use:
        # no override: a second Pod given this IP would break both
        return False, f"{row.ip_in_use}; wait until the node is back (or gone) and try again"
    if row.scaled_in and not rules.allow_new_ip:
        if rules.scaled_in_for is None:
            return False, (
                f"{row.reason}; its Pod returns, with a new IP, if the controller is scaled up "
                "(--scaled-in --scaled-in-for DURATION takes claims of controllers scaled in for "
                "good; --allow-new-ip overrides)"
            )
        ok, why = scaled_in_ok(row, rules.scaled_in_for)
        return (True, row.reason) if ok else (False, why)
    if row.returning and not rules.allow_new_ip:
        return False, (
            f"{row.owner} will recreate Pod {row.name}, which gets this IP back; reclaiming gives "
            "it a new IP (pass --allow-new-ip to do it anyway)"
        )
    if row.may_return and not rules.allow_new_ip:
        return False, (
            f"{row.reason}; a Pod of this name may come back and would get a new IP "
            "(pass --allow-new-ip if you know it will not)"
        )
    return True, row.reason


def _live_pod_hint(row: ClaimRow) -> str:
    """What to do about a live Pod: its claim can only go once the Pod is gone for good."""
    o = row.owner
    if o is not None and o.key in SAME_NAME_KINDS:
        kind = o.kind.lower() if o.group == "apps" else f"{o.kind.lower()}.{o.group}"
        return (
            "deleting its claim would break its network, and deleting the Pod does not help: "
            f"{o} recreates it under the same name. Scale {o} down below this ordinal "
            f"(kubectl scale {kind} {o.name} -n {row.namespace} --replicas=N), or delete the "
            "workload"
        )
    return "deleting its claim would break its network; delete the Pod first"


def check_cap(count: int, maximum: int) -> None:
    if count > maximum:
        raise RefusedError(
            f"{plural(count, 'claim')} selected, more than --max {maximum}",
            hint="check the selection with --dry-run, then raise --max to go ahead",
        )


# ---------------------------------------------------------------------------- plan files

PLAN_MAX_BYTES = 64 * 1024 * 1024  # a 30,000-claim `list -o json` is about 25 MiB
# YAML is read by a pure Python parser at about 1.5 s and 40 MiB per MiB: past this a plan
# must be JSON (`-o json`, read in a second at the size cap). 2 MiB is about 4,000 claims.
PLAN_MAX_YAML_BYTES = 2 * 1024 * 1024
# a plan's integers are counts: anything longer is not a plan (and Python refuses to convert
# integers past 4,300 digits with a ValueError of its own)
PLAN_MAX_INT_DIGITS = 30
PLAN_KINDS = ("ClaimList", "ReclaimResult")
_NOT_PROPOSED = ("refused", "skipped", "failed", "notFound", "alreadyReclaimed")


@dataclass
class Plan:
    cluster: dict[str, Any]
    items: list[Target] = field(default_factory=list)
    # the --scaled-in-for the plan was made with: its real run takes ScaledIn claims on it
    scaled_in_for: timedelta | None = None


def parse_plan_text(data: bytes, source: str) -> Any:
    """The plan document from a file's bytes: UTF-8 JSON, or YAML without aliases (so a small
    file cannot expand into gigabytes) of at most PLAN_MAX_YAML_BYTES (so it reads in seconds);
    integers of at most PLAN_MAX_INT_DIGITS digits. Anything else is a usage error, before
    any request."""
    if len(data) > PLAN_MAX_BYTES:
        raise UsageError(
            f"the plan file {source} is larger than {PLAN_MAX_BYTES // (1024 * 1024)} MiB"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"the plan file {source} is not UTF-8 text") from None
    if "\x00" in text:
        raise UsageError(f"the plan file {source} is not text (it holds NUL bytes)")

    def bounded_int(digits: str) -> int:
        n = len(digits.lstrip("+-").replace("_", ""))
        if n > PLAN_MAX_INT_DIGITS:
            raise UsageError(f"the plan file {source} holds an integer of {n} digits: not a plan")
        return int(digits)

    try:
        with paused_gc():
            return json.loads(text, parse_int=bounded_int)
    except RecursionError:
        raise UsageError(f"the plan file {source} is nested too deeply") from None
    except ValueError:
        pass
    if len(data) > PLAN_MAX_YAML_BYTES:
        raise UsageError(
            f"the plan file {source} is not JSON, and YAML larger than "
            f"{PLAN_MAX_YAML_BYTES // (1024 * 1024)} MiB takes too long to read",
            hint="write the plan as JSON: kubectl vip reclaim ... --dry-run -o json > plan.json",
        )
    import yaml

    class _Bounded(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases are not allowed in a plan file")
            return super().compose_node(parent, index)

        def construct_yaml_int(self, node: Any) -> int:
            bounded_int(str(node.value))  # before the parser's own conversion
            return int(super().construct_yaml_int(node))

    _Bounded.add_constructor("tag:yaml.org,2002:int", _Bounded.construct_yaml_int)
    try:
        with paused_gc():
            return yaml.load(text, Loader=_Bounded)  # a SafeLoader subclass: safe
    except RecursionError:
        raise UsageError(f"the plan file {source} is nested too deeply") from None
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0] if str(e) else "not YAML"
        raise UsageError(f"the plan file {source} is neither JSON nor YAML: {first}") from None
    except ValueError as e:  # a value the YAML parser cannot convert (a date, a number)
        raise UsageError(f"the plan file {source} holds a value that cannot be read: {e}") from None


def read_plan(doc: Any) -> Plan:
    """A `list -o json` ClaimList or a `reclaim --dry-run -o json` ReclaimResult.

    Anything that is not such a document with an `items` list (an empty file, `null`, only
    comments) is a usage error: a failed `list -o json > plan.json` must never turn into a bulk
    run."""
    hint = "make one with `kubectl vip reclaim ... --dry-run -o json > plan.json`"
    if not isinstance(doc, dict) or doc.get("apiVersion") != "kubectl-vip/v1":
        what = "empty" if doc is None else f"a {type(doc).__name__}, not a kubectl-vip/v1 document"
        raise UsageError(f"the plan file is {what}", hint=hint)
    kind = doc.get("kind")
    if kind not in PLAN_KINDS:
        raise UsageError(f"the plan file is a {_short(kind)}, not a ClaimList or ReclaimResult")
    meta = doc.get("metadata")
    cluster = meta.get("cluster") if isinstance(meta, dict) else None
    if cluster is not None and not isinstance(cluster, dict):
        raise UsageError("the plan file's metadata.cluster is not a mapping")
    plan = Plan(cluster or {})
    kept_for = meta.get("scaledInFor") if isinstance(meta, dict) else None
    if kept_for is not None:
        try:
            plan.scaled_in_for = parse_go_duration(str(kept_for))
        except DurationError:
            raise UsageError(
                f"the plan file's metadata.scaledInFor is not a Go duration: {_short(kept_for)}"
            ) from None
    items = doc.get("items")
    if not isinstance(items, list):
        raise UsageError("the plan file has no items list", hint=hint)
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise UsageError(f"plan item {n} is a {type(item).__name__}, not a mapping")
        if kind == "ReclaimResult" and item.get("result") in _NOT_PROPOSED:
            continue  # the plan did not propose these
        fields = {k: item.get(k) for k in ("namespace", "name", "uid", "resourceVersion")}
        bad = [k for k, v in fields.items() if not isinstance(v, str) or not v]
        if bad:
            raise UsageError(
                f"plan item {n} needs namespace, name, uid and resourceVersion as strings "
                f"({', '.join(bad)} missing or not a string)"
            )
        ip = item.get("ip")
        state = item.get("state", "")
        ns, name, uid, rv = (
            str(fields[k]) for k in ("namespace", "name", "uid", "resourceVersion")
        )
        if ip is not None and not isinstance(ip, str):
            raise UsageError(f"plan item {n}: ip is a {type(ip).__name__}, not a string or null")
        ip = ip or None  # "" is no IP, as `list` writes null
        t = Target(ns, name, uid, rv, ip, state if isinstance(state, str) else "", "")
        t.planned_ip, t.plan_states_ip = ip, "ip" in item
        plan.items.append(t)
    if not plan.items:
        raise UsageError("the plan file names no claims to reclaim")
    return plan


def is_fleet_plan(doc: Any) -> bool:
    """A plan made across contexts (`reclaim --dry-run --contexts ... -o json`, or a fleet
    `list -o json`): its items carry their context."""
    items = doc.get("items") if isinstance(doc, dict) else None
    return isinstance(items, list) and any(isinstance(i, dict) and "context" in i for i in items)


@dataclass
class PlanPart:
    """The items of a fleet plan that name one context and one cluster identity: run as a
    single-cluster plan of that identity, in that context."""

    context: str
    cluster: dict[str, Any]
    doc: dict[str, Any]


def split_fleet_plan(doc: dict[str, Any]) -> list[PlanPart]:
    """A fleet plan cut into single-cluster plans, one per (context, cluster identity) in the
    order first seen. Every item must name its context and cluster: a plan that mixes items
    with and without is refused whole (a usage error), before any request."""
    parts: dict[tuple[str, str], PlanPart] = {}
    for n, item in enumerate(doc["items"]):
        if not isinstance(item, dict):
            raise UsageError(f"plan item {n} is a {type(item).__name__}, not a mapping")
        if doc.get("kind") == "ReclaimResult" and item.get("result") in _NOT_PROPOSED:
            continue  # the plan did not propose these
        context, cluster = item.get("context"), item.get("cluster")
        if not isinstance(context, str) or not context:
            raise UsageError(f"plan item {n} of a fleet plan names no context")
        if not isinstance(cluster, dict):
            raise UsageError(f"plan item {n} (context {_short(context)}) names no cluster")
        key = (context, json.dumps(cluster, sort_keys=True, default=str))
        part = parts.get(key)
        if part is None:
            meta: dict[str, Any] = {"cluster": cluster}
            planned = doc.get("metadata")
            if isinstance(planned, dict) and "scaledInFor" in planned:
                meta["scaledInFor"] = planned["scaledInFor"]  # each part runs as planned
            part = PlanPart(context, cluster, {**doc, "metadata": meta, "items": []})
            parts[key] = part
        part.doc["items"].append({k: v for k, v in item.items() if k not in ("context", "cluster")})
    if not parts:
        raise UsageError("the plan file names no claims to reclaim")
    return list(parts.values())


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "..."


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def check_same_cluster(plan_cluster: dict[str, Any], here: dict[str, Any]) -> None:
    """The plan names the cluster it was made on: refuse it anywhere else, and refuse a plan
    whose identity is not one (a kube-system uid, or at least an https server address)."""
    new_plan = "make a new plan on this cluster"
    want_uid, have_uid = plan_cluster.get("kubeSystemUID"), here.get("kubeSystemUID")
    server = plan_cluster.get("server")
    if not plan_cluster:
        raise RefusedError(
            "the plan does not say which cluster it was made on",
            hint="make it with `kubectl vip list -o json` or `reclaim --dry-run -o json`",
        )
    uid_ok = isinstance(want_uid, str) and bool(_UUID.match(want_uid))
    server_ok = isinstance(server, str) and server.startswith(("https://", "http://"))
    if (want_uid is not None and not uid_ok) or (server is not None and not server_ok):
        raise RefusedError("the plan's cluster identity is not a real one", hint=new_plan)
    if not uid_ok and not server_ok:
        raise RefusedError("the plan's cluster identity names no cluster", hint=new_plan)
    if uid_ok and have_uid:
        if want_uid != have_uid:
            raise RefusedError(
                f"the plan was made on another cluster (kube-system uid {want_uid}, "
                f"this one {have_uid})",
                hint=new_plan,
            )
        return
    if server_ok and server != here.get("server"):
        here_server = here.get("server")
        raise RefusedError(f"the plan was made on {server}, not {here_server}", hint=new_plan)
    if not server_ok:
        raise RefusedError(
            "the plan names this cluster only by its kube-system uid, which cannot be read here",
            hint="grant get on namespaces/kube-system, or make the plan on this cluster",
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
