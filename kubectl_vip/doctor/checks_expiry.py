"""Area `policy`: the expiry reclaims the claims of Pods that come back.

A Pod that returns after its claim was reclaimed gets a new IP: the very thing a static IP is
for. Two shapes, both from the same classification as `list`:

- a claim without a Pod whose owner recreates it (an ordinal in its live range, a stopped TApp
  instance) or may (an owner we cannot read), with a due time;
- a StatefulSet scaled below ordinals whose claims ipamd is about to reclaim: if it is scaled
  back up after that, those Pods come back with new IPs.

Warnings only: a due time rests on the release time ipamd recorded and on the owner's spec as
read now, and an estimated release time never yields a due time at all.
"""

from __future__ import annotations

from datetime import datetime

from ..model.claims import STATEFULSET, ClaimRow
from ..model.duration import format_compact, format_human
from ..model.expiry_impact import HORIZON, protect_command
from .reads import CLASSIFY, DEPLOYMENTS
from .registry import Issue, Severity, check
from .snapshot import Snapshot, names


def _when(at: datetime, now: datetime) -> str:
    return "now" if at <= now else f"in {format_human(at - now)}"


def _evidence(r: ClaimRow, now: datetime) -> str:
    assert r.reclaim_at is not None
    away = format_human(r.retained_for) if r.retained_for is not None else "for an unknown time"
    expiry = format_compact(r.expiry) if r.expiry is not None else "?"
    return (
        f"{r.namespace}/{r.name} ({r.ip or 'no IP'}): its Pod away {away}, due "
        f"{_when(r.reclaim_at, now)} ({r.expiry_source} expiry {expiry})"
    )


def _claims(rows: list[ClaimRow], listed: str) -> str:
    return ("claim " if len(rows) == 1 else "claims ") + listed


def _scaled_below(r: ClaimRow) -> bool:
    o = r.owner
    return (
        r.scaled_in
        and o is not None
        and o.key == STATEFULSET
        and o.replicas is not None
        and r.ordinal is not None
    )


@check(
    "VIP-POL-005",
    area="policy",
    title="Expiry spares the Pods that come back",
    needs=(*CLASSIFY, DEPLOYMENTS),
    many="{n} workloads whose returning Pods lose their IPs to the expiry within 24h",
)
def returning_due(s: Snapshot) -> list[Issue]:
    """The expiry (flag or annotation) reclaims within 24h the claim of a Pod that comes back,
    or of a StatefulSet ordinal scaled away: the Pod would return with a new IP."""
    supported = s.policy.annotation_supported
    groups: dict[tuple[str, str, str], list[ClaimRow]] = {}
    for r in s.rows:
        if r.pod_phase is not None or r.reclaim_at is None or r.expiry is None:
            continue
        if r.reclaim_at > s.now + HORIZON:
            continue  # not soon (a claim kept on purpose has a far expiry)
        if r.scaled_in and r.overdue:
            continue  # already due: VIP-CLM-002
        if _scaled_below(r):
            kind = "scaled"
        elif r.returning or r.may_return:
            kind = "returning"
        else:
            continue
        owner = str(r.owner) if r.owner is not None else "(no owner)"
        groups.setdefault((kind, r.namespace, owner), []).append(r)
    issues = []
    for (kind, ns, owner), rows in sorted(groups.items()):
        rows.sort(key=lambda r: (r.ordinal if r.ordinal is not None else -1, r.name))
        first = min(r.reclaim_at for r in rows if r.reclaim_at is not None)
        listed = names(r.name for r in rows) + f" {'is' if len(rows) == 1 else 'are'} due "
        listed += _when(first, s.now)
        fixes = []
        if kind == "scaled":
            o = rows[0].owner
            assert o is not None and o.replicas is not None
            title = f"{owner} -n {ns} scaled to {o.replicas}: {_claims(rows, listed)}"
            want = max(r.ordinal or 0 for r in rows) + 1
            fixes.append(
                f"kubectl scale statefulset {o.name} -n {ns} --replicas={want}   "
                "# if they are to come back: before the expiry"
            )
            why = "scaled back up after that, these Pods come back with new IPs"
        else:
            title = f"{owner} -n {ns}: Pods that come back, {_claims(rows, listed)}"
            why = "when these Pods return after that, they get new IPs"
        evidence = [_evidence(r, s.now) for r in rows[:20]]
        if len(rows) > 20:
            evidence.append(f"... and {len(rows) - 20} more")
        evidence.append(f"ipamd reclaims a claim at its expiry; {why}")
        if supported:
            fixes.append(
                protect_command(ns, (r.name for r in rows)) + "   # keep them for their Pods"
            )
        else:
            fixes.append(
                "kubectl vip set-expiry DURATION   # longer than these Pods are away "
                "(this ipamd ignores per-claim annotations)"
            )
        issues.append(
            Issue(
                Severity.WARNING,
                title,
                evidence,
                "\n".join(fixes),
                [f"VpcIPClaim/{r.namespace}/{r.name}" for r in rows],
            )
        )
    return issues
