"""Carrying out a reclaim: for each claim, read again, re-check, record, delete with
preconditions, leave an Event. Bounded concurrency; Ctrl-C stops starting new deletes.

Per claim, right before its delete:
1. the claim, as listed again just before the run: gone → reported as already gone (a plan
   file's item: not found); uid or resourceVersion changed since a plan was made → skipped;
2. classify it again from fresh reads right before its delete: its Pod (one GET), its VpcIP
   and every workload that may own it (its ownerReferences' kinds and the same-name
   controllers named like it), each through its own API: one GET each, or, in a bulk run,
   from lists at most a few seconds old (ops/reclaim_batch.py). Any Pod that is not Succeeded/Failed
   (or those without --include-completed) refuses the delete, no override; an owner that brings
   the Pod back, or that cannot be read, refuses it (--allow-new-ip); a claim that no longer
   meets the criterion that selected it (no longer Orphaned, release time now unknown) is
   refused;
3. append the full claim to the audit file (flushed and synced before the delete);
4. delete with preconditions uid + resourceVersion: Conflict means it changed at the last
   moment (a Pod came back and bound it): left alone and reported, never retried blindly;
   NotFound means it is already gone;
5. append the delete's outcome to the audit file (reclaimed, notFound, skipped, failed, or
   unknown when the answer never came: the delete may or may not have happened).
VpcIP objects are never deleted: ipamd releases them.

A dry run (`dry_run`) makes steps 1 and 2 on the objects just listed, with no request per claim:
it says what this run would decide on that state; the real run still reads each claim again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ..api import cluster as api
from ..api.cluster import Cluster, TkeApi
from ..errors import ApiError, Conflict, Forbidden, NotFound, Unreachable
from ..interrupt import InterruptFlag
from ..model import schema
from ..model.claims import (
    ATTACHED_PHASES,
    ClaimRow,
    Inventory,
    IpamdPolicy,
    PodIndex,
    classify,
)
from ..model.reclaim import Outcome, Rules, Target, against_listed, event_for, recheck
from ..model.records import ClaimRec, ScalerRec, VipRec
from ..shared.private import ensure_dir, open_private
from .gather import read_nodes, read_owners_of
from .reclaim_batch import RELIST_SECONDS, BatchReads, batched

Obj = dict[str, Any]


AUDIT_FILE = "reclaim-audit.jsonl"  # in state_dir()


def state_dir() -> Path:
    env = os.environ.get("KUBECTL_VIP_STATE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "kubectl-vip"


class Audit:
    """JSON lines: one per claim about to be deleted, synced to disk before the delete (the
    intent, with the whole claim), and one after it with what came of it (the outcome)."""

    def __init__(self, path: Path, cluster: dict[str, Any]) -> None:
        self.path = path
        self.cluster = cluster
        self._lock = threading.Lock()

    def record(self, claim: Obj, target: Target, now: datetime) -> None:
        self._append(
            {
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "action": "reclaim",
                "cluster": self.cluster,
                "state": target.state,
                "reason": target.reason,
                "ip": target.ip,
                "claim": claim,
            }
        )

    def outcome(self, target: Target, now: datetime, error: BaseException | None = None) -> None:
        """What came of the delete `record` announced: the target's outcome, or, when the
        delete raised `error`, failed (the API refused it) or unknown (no answer came: it may
        have been deleted)."""
        if error is None:
            result = str(target.outcome) if target.outcome is not None else "unknown"
            detail = target.detail
        else:
            result = "unknown" if isinstance(error, Unreachable) else str(Outcome.FAILED)
            detail = str(getattr(error, "message", "") or type(error).__name__)
        self._append(
            {
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "action": "reclaim-outcome",
                "cluster": self.cluster,
                "namespace": target.namespace,
                "name": target.name,
                "uid": target.uid,
                "ip": target.ip,
                "outcome": result,
                "detail": detail,
            }
        )

    def _append(self, record: Obj) -> None:
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            ensure_dir(self.path.parent)  # 0700, and the file 0600, from creation
            with open_private(self.path, "a", encoding="utf-8") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())


def audit_records(path: Path, namespace: str, name: str, server: str) -> list[str]:
    """Times at which the audit file records reclaiming this claim on this server, newest first."""
    found: list[str] = []
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                claim = rec.get("claim") if isinstance(rec, dict) else None
                cluster = rec.get("cluster") if isinstance(rec, dict) else None
                if not isinstance(claim, dict) or not isinstance(cluster, dict):
                    continue
                if (
                    schema.namespace(claim) == namespace
                    and schema.name(claim) == name
                    and cluster.get("server") == server
                ):
                    found.append(str(rec.get("time")))
    except OSError:
        return []
    return sorted(found, reverse=True)


@dataclass
class RunOptions:
    rules: Rules
    concurrency: int = 4
    strict_plan: bool = False  # items from a plan file: any change since the plan → skipped
    assumed: tuple[str, str, str] | None = None  # reclaim --owner: (kind key, namespace, name)
    # the autoscalers as listed right before the run (Inventory.scalers; None: unknown)
    scalers: dict[tuple[str, str, str], list[ScalerRec]] | None = None
    scalers_unknown: str = "not read"
    # a bulk run reads owners and VpcIPs from lists at most this old (ops/reclaim_batch.py)
    relist_seconds: float = RELIST_SECONDS


class Executor:
    def __init__(
        self,
        c: Cluster,
        tke: TkeApi,
        policy: IpamdPolicy,
        opts: RunOptions,
        audit: Audit | None,
        on_done: Callable[[Target], None],
        warn: Callable[[str], None],
    ) -> None:
        self.c = c
        self.tke = tke
        self.policy = policy
        self.opts = opts
        self.audit = audit
        self.on_done = on_done
        self.warn = warn
        self.assumed = opts.assumed
        self.stop = threading.Event()
        self._event_warned = False
        self._claims: dict[tuple[str, str], Obj] = {}
        self.batch: BatchReads | None = None
        self._seq = 0
        self._lock = threading.Lock()
        self._interrupt = InterruptFlag()

    # ------------------------------------------------------------------ the run

    def run(self, targets: list[Target]) -> bool:
        """Process every target; returns False when interrupted (the rest left untouched).

        The first Ctrl-C only stops new deletes from starting (see interrupt.py): the ones in
        flight finish and are reported."""
        interrupted = False
        self.prefetch(targets)
        workers = max(1, self.opts.concurrency)
        queue = list(targets)
        # the pool's shutdown (joining its threads) runs under our SIGINT handler too
        with InterruptFlag() as self._interrupt, ThreadPoolExecutor(workers) as pool:
            futures: dict[Future[None], Target] = {}
            try:
                while queue or futures:
                    while queue and len(futures) < workers and not self.stopping():
                        t = queue.pop(0)
                        futures[pool.submit(self._guarded, t)] = t
                    if not futures:
                        break
                    done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                    for f in done:
                        futures.pop(f)
                        f.result()  # re-raises access errors: they stop the whole run
            except KeyboardInterrupt:  # a second Ctrl-C, or no handler of ours in place
                interrupted = True
                self.stop.set()
                wait(futures)
            except BaseException:
                self.stop.set()
                raise
        interrupted = interrupted or self._interrupt.requested
        for t in queue:
            t.outcome, t.detail = Outcome.SKIPPED, "not started: interrupted"
        return not interrupted

    def stopping(self) -> bool:
        """An access error or Ctrl-C: nothing new starts."""
        return self.stop.is_set() or self._interrupt.requested

    def _guarded(self, t: Target) -> None:
        try:
            self._one(t)
        except (Forbidden, Unreachable):
            self.stop.set()
            raise
        except ApiError as e:
            t.outcome, t.detail = Outcome.FAILED, e.message
        if t.outcome is not None:
            self.on_done(t)

    # ------------------------------------------------------------------ one claim

    def prefetch(self, targets: list[Target]) -> None:
        """Read the claims again, one list, right before acting: whatever changed since the
        classification shows here (and the delete's preconditions catch anything later)."""
        namespaces = {t.namespace for t in targets}
        scope = next(iter(namespaces)) if len(namespaces) == 1 else None
        claims, _ = self.c.list(self.tke.claims, scope)
        self._claims = {
            (schema.namespace(o), schema.name(o)): o
            for o in claims
            if (schema.namespace(o) in namespaces)
        }
        mine = [self._claims[t.key] for t in targets if t.key in self._claims]
        self.batch = batched(self.c, self.tke, mine, self.opts.relist_seconds)

    def _one(self, t: Target) -> None:
        claim = self._claims.get(t.key)
        current = (schema.uid(claim), _rv(claim)) if claim is not None else None
        changed = against_listed(t, current, strict_plan=self.opts.strict_plan)
        if changed is None or claim is None:
            return
        # fresh VpcIP, Pod and owners, right before the delete
        row = self.reclassify(claim, t.ip)
        if not recheck(t, row, self.opts.rules, changed=changed):
            return
        if self.stopping():
            t.outcome, t.detail = Outcome.SKIPPED, "not started: interrupted"
            return
        now = self.c.now()
        if self.audit is not None:
            self.audit.record(claim, t, now)
        try:
            self.c.delete(
                self.tke.claims, t.name, t.namespace, uid=t.uid, resource_version=t.resource_version
            )
        except NotFound:
            t.outcome = Outcome.NOT_FOUND
            t.detail = "not found: already gone just before the delete"
        except Conflict as e:
            t.outcome = Outcome.SKIPPED
            t.detail = (
                "the claim changed just before the delete (a Pod may have come back and bound it); "
                f"left alone: {e.message}"
            )
        except ApiError as e:
            self._audit_outcome(t, e)
            raise
        else:
            t.outcome, t.detail = Outcome.RECLAIMED, t.reason
        self._audit_outcome(t)
        if t.outcome is Outcome.RECLAIMED:
            self._record_event(claim, t, now)

    def _audit_outcome(self, t: Target, error: ApiError | None = None) -> None:
        if self.audit is None:
            return
        try:
            self.audit.outcome(t, self.c.now(), error)
        except OSError as e:  # the delete is done: say so, and that its record is missing
            self.warn(
                f"could not record the outcome of {t.namespace}/{t.name} in the audit file: "
                f"{e.strerror or e}"
            )

    def reclassify(self, claim: Obj, listed_ip: str | None = None) -> ClaimRow:
        """Classify one claim from fresh reads of its VpcIP, its Pod and its possible owners.

        The VpcIP is the one the claim's IP names, or, for a claim that carries no IP, the one
        the listing joined it with (whose claimRef named it); classification joins it again only
        if it still names this claim."""
        ns, name = schema.namespace(claim), schema.name(claim)
        trimmed = schema.trim_claim(claim)
        ip = schema.claim_ip(trimmed)
        if ip is None and listed_ip and schema.is_dns_subdomain(listed_ip):
            ip = listed_ip  # (a plan file's item says it: only a well-formed object name)
        if self.batch is not None:  # a bulk run: from the lists, at most a few seconds old
            vip = self.batch.vip(ip) if ip else None
            workloads, unknown = self.batch.owners_of(claim)
        else:
            vip = self.c.get(self.tke.vips, ip) if ip else None
            workloads, unknown = read_owners_of(self.c, claim)
        pod = self.c.get(api.PODS, name, ns)  # the freshest read: right before the delete
        # the node its VpcIP is still attached to, if its Pod is gone: may the Pod still run?
        node = schema.vip_node(vip) if vip and pod is None else None
        attached = node and schema.vip_phase(vip or {}) in ATTACHED_PHASES
        inv = Inventory.build(
            [trimmed],
            [schema.trim_vip(vip)] if vip else [],
            [schema.trim_pod(pod)] if pod else [],
            workloads,
            unknown,
            self.assumed,
            nodes=read_nodes(self.c, [node]) if attached and node else None,
        )
        inv.scalers, inv.scalers_unknown = self.opts.scalers, self.opts.scalers_unknown
        return classify(inv, self.policy, self.c.now())[0]

    def _record_event(self, claim: Obj, t: Target, now: datetime) -> None:
        with self._lock:
            self._seq += 1
            seq = self._seq
        try:
            self.c.create(api.EVENTS, event_for(claim, t, now, seq), t.namespace)
        except Forbidden:
            with self._lock:
                if not self._event_warned:
                    self._event_warned = True
                    self.warn(
                        "cannot create Events (forbidden): reclaims are recorded in the audit "
                        "file only"
                    )
        except ApiError as e:
            self.warn(f"could not record an Event for {t.namespace}/{t.name}: {e.message}")


def _rv(obj: Obj) -> str | None:
    return schema.text(schema.dig(obj, "metadata", "resourceVersion"))


# ---------------------------------------------------------------------------- dry run


def dry_run(
    targets: list[Target],
    inv: Inventory,
    policy: IpamdPolicy,
    now: datetime,
    rules: Rules,
    *,
    strict_plan: bool = False,
) -> None:
    """What a run would decide for each target on the state just listed, with no request: the
    executor's own checks (`against_listed`, `recheck`) on the claim classified as `reclassify`
    sees it, from the listed objects instead of one read each. A real run still reads every
    claim again right before its delete."""
    wanted = {t.key: t.ip for t in targets if t.outcome is None}
    vips = {v.name: v for v in inv.vips}
    rows: dict[tuple[str, str], ClaimRow] = {}
    for c in inv.claims:
        key = (c.namespace, c.name)
        if key in wanted:
            one = _as_read_alone(inv, c, vips, wanted[key])
            rows[key] = classify(one, policy, now)[0]
    for t in targets:
        if t.outcome is not None:
            continue
        row = rows.get(t.key)
        current = (row.uid, row.resource_version) if row is not None else None
        changed = against_listed(t, current, strict_plan=strict_plan)
        if changed is None or row is None:
            continue
        if recheck(t, row, rules, changed=changed):
            t.outcome, t.detail = Outcome.WOULD_RECLAIM, t.reason


def _as_read_alone(
    inv: Inventory, claim: ClaimRec, vips: dict[str, VipRec], listed_ip: str | None
) -> Inventory:
    """One claim as `reclassify` reads it: the VpcIP its IP (else the listing) names, its Pod,
    and the owners the listed workloads hold (each kind read through its own API, as by name)."""
    key = (claim.namespace, claim.name)
    ip = claim.ip
    if ip is None and listed_ip and schema.is_dns_subdomain(listed_ip):
        ip = listed_ip
    vip = vips.get(ip) if ip else None
    pods = PodIndex()
    pod = inv.pods.get(key)
    if pod is not None:
        pods.add(pod)
    return Inventory(
        [claim],
        [vip] if vip is not None else [],
        pods,
        inv.workloads,
        inv.listed_kinds,
        inv.unknown_kinds,
        inv.assumed,
        inv.scalers,
        inv.scalers_unknown,
        inv.nodes,
    )
