"""Area `claims`: claims and VpcIPs that hold an address nobody will use."""

from __future__ import annotations

from datetime import timedelta

from ..model import ipamd
from ..model.claims import ClaimRow, IpState, State
from ..model.duration import format_human
from ..term.escaping import escape
from .evidence import MAX_EXAMPLES, counts_by, examples
from .reads import CLAIMS, CLASSIFY, DEPLOYMENTS, VIPS
from .registry import Issue, Severity, check
from .snapshot import Snapshot, plural

# a claim whose Pod exists may wait a little for its VpcIP
UNBOUND_GRACE = timedelta(minutes=10)
LOGS = f"kubectl logs -n {ipamd.DEPLOYMENT_NAMESPACE} deploy/{ipamd.DEPLOYMENT_NAME} --tail=200"


def _grouped(rows: list[ClaimRow], lines: list[str]) -> tuple[list[str], list[str]]:
    """(evidence, details): counts by owner, at most MAX_EXAMPLES lines; every line in
    details when some were left out."""
    if len(lines) <= MAX_EXAMPLES:
        return lines, []
    owners = [
        f"{r.owner.kind} {r.namespace}/{r.owner.name}" if r.owner else f"{r.namespace} (no owner)"
        for r in rows
    ]
    return [counts_by(owners, "owner"), *examples(lines)], lines


def _line(r: ClaimRow) -> str:
    return f"{r.namespace}/{r.name} ({r.ip or 'no IP'}): {r.reason}"


def _objects(rows: list[ClaimRow]) -> list[str]:
    return [f"VpcIPClaim/{r.namespace}/{r.name}" for r in rows]


@check(
    "VIP-CLM-001", area="claims", title="No Orphaned claims", needs=CLASSIFY, uses=(DEPLOYMENTS,)
)
def orphaned(s: Snapshot) -> list[Issue]:
    """Claims without a Pod that nothing will recreate: their owner is confirmed gone (a
    controller that still runs, at any scale, makes them ScaledIn: VIP-CLM-005). Their IPs are
    reclaimable now."""
    rows = [r for r in s.rows if r.state == State.ORPHANED]
    if not rows:
        return []
    ips = sum(1 for r in rows if not r.unbound)
    evidence, details = _grouped(rows, [_line(r) for r in rows])
    return [
        Issue(
            Severity.WARNING,
            f"{plural(len(rows), 'Orphaned claim')} hold {plural(ips, 'IP')} nothing will use",
            evidence,
            "kubectl vip reclaim --orphaned -A --dry-run   # review the plan\n"
            "kubectl vip reclaim --orphaned -A",
            _objects(rows),
            details,
        )
    ]


@check("VIP-CLM-002", area="claims", title="No Overdue claims", needs=CLASSIFY, uses=(DEPLOYMENTS,))
def overdue(s: Snapshot) -> list[Issue]:
    """Claims past their expiry (or with the Immediate policy and no Pod) that ipamd has not
    reclaimed: ipamd's sweep is not working."""
    rows = [r for r in s.rows if r.state == State.OVERDUE]
    if not rows:
        return []
    late = [r for r in rows if r.reclaim_at is not None]
    evidence, details = _grouped(rows, [_line(r) for r in rows])
    if late:
        worst = min(late, key=lambda r: r.reclaim_at or s.now)
        assert worst.reclaim_at is not None
        evidence.append(
            f"the most overdue, {worst.namespace}/{worst.name}, was due "
            f"{format_human(s.now - worst.reclaim_at)} ago: ipamd is not reclaiming"
        )
    # an error rests on a known due time only; claims whose release time is an estimate warn
    known = [r for r in rows if not r.released_estimated]
    return [
        Issue(
            Severity.ERROR if known else Severity.WARNING,
            f"{plural(len(rows), 'Overdue claim')}: past expiry, ipamd has not reclaimed them",
            evidence,
            f"{LOGS}   # why ipamd's sweep stalls\n"
            "kubectl vip reclaim --overdue -A   # give the IPs back now",
            _objects(rows),
            details,
        )
    ]


@check("VIP-CLM-003", area="claims", title="No leaked VpcIPs", needs=(CLAIMS, VIPS))
def leaked(s: Snapshot) -> list[Issue]:
    """Pod VpcIPs whose claim is gone: the address is taken and no Pod will get it back."""
    rows = [r for r in s.ip_rows if r.state == IpState.LEAKED.value]
    if not rows:
        return []
    lines = []
    for r in rows:
        subnet = r.subnet_cidr or r.subnet_id or "subnet unknown"
        assert r.claim is not None  # Leaked: its reference names a claim that is gone
        lines.append(f"VpcIP {r.ip} ({subnet}): its claim {r.claim[0]}/{r.claim[1]} is gone")
    subnets = [r.subnet_cidr or r.subnet_id or "subnet unknown" for r in rows]
    first = rows[0].ip
    return [
        Issue(
            Severity.WARNING,
            f"{plural(len(rows), 'leaked VpcIP')}: taken, with no claim to give them back",
            [counts_by(subnets, "subnet"), *examples(lines)],
            "kubectl vip list --ips -A   # every VpcIP, the Leaked ones among them\n"
            f"kubectl vip describe {first}   # confirm no claim or Pod uses it\n"
            "Our advice (the TKE docs say nothing of leaked VpcIPs): open a TKE ticket with "
            "`kubectl vip bundle` attached; VpcIPs belong to ipamd and this tool never "
            "deletes them",
            [f"VpcIP/{r.ip}" for r in rows],
            lines if len(lines) > MAX_EXAMPLES else [],
        )
    ]


@check(
    "VIP-CLM-004",
    area="claims",
    title="Every claim has a VpcIP",
    needs=CLASSIFY,
    uses=(DEPLOYMENTS,),
)
def unbound(s: Snapshot) -> list[Issue]:
    """Claims that no VpcIP holds: without a Pod they only clutter; with a Pod that waited more
    than 10m, ipamd cannot allocate an IP for it."""
    rows = []
    lines = []
    for r in s.rows:
        if not r.unbound:
            continue
        if r.pod_phase is None:
            rows.append(r)
            lines.append(f"{r.namespace}/{r.name}: no VpcIP and no Pod ({r.state.value})")
        elif r.state == State.IN_USE and r.created and s.now - r.created > UNBOUND_GRACE:
            rows.append(r)
            lines.append(
                f"{r.namespace}/{r.name}: Pod {r.pod_phase}, no VpcIP after "
                f"{format_human(s.now - r.created)}: ipamd cannot allocate (see VIP-SCH-001, "
                "VIP-ENI-002)"
            )
    if not rows:
        return []
    evidence, details = _grouped(rows, lines)
    podless = [r for r in rows if r.pod_phase is None]
    # a fix is lines joined by newlines: a name from the API must not add one
    fix = "\n".join(
        f"kubectl vip reclaim {escape(r.name)} -n {escape(r.namespace)}" for r in podless[:5]
    )
    if len(podless) > 5:
        fix += f"\n... and {len(podless) - 5} more"
    if len(podless) < len(rows):
        fix = (fix + "\n" if fix else "") + f"{LOGS}   # why the Pods' claims get no IP"
    return [
        Issue(
            Severity.WARNING,
            f"{plural(len(rows), 'claim')} without a VpcIP",
            evidence,
            fix,
            _objects(rows),
            details,
        )
    ]


@check(
    "VIP-CLM-005",
    area="claims",
    title="Claims of scaled-in controllers",
    needs=CLASSIFY,
    uses=(DEPLOYMENTS,),
)
def scaled_in(s: Snapshot) -> list[Issue]:
    """Claims of ordinals a live controller no longer runs: their Pods return, with these IPs,
    if it is scaled up. A pause (0 replicas) or an autoscaler keeps them; a controller scaled
    in for good frees them with --scaled-in. Information, not a fault: only the user knows."""
    rows = [r for r in s.rows if r.state == State.SCALED_IN]
    if not rows:
        return []
    kept = [r for r in rows if r.scale_back is not None]
    free = [r for r in rows if r.scale_back is None]
    evidence, details = _grouped(rows, [_line(r) for r in rows])
    if kept:
        evidence.append(
            f"{plural(len(kept), 'claim')} kept for a scale-up nobody has to decide (paused at "
            "0, an autoscaler, or autoscalers that cannot be read): --scaled-in leaves them"
        )
    oldest = max((r.scale_age for r in free if r.scale_age is not None), default=None)
    fix = (
        "kubectl vip reclaim --scaled-in --scaled-in-for 168h -A --dry-run   # scaled in for a "
        "week or more; raise or lower the duration to what you know of your workloads"
    )
    if oldest is not None:
        evidence.append(
            f"the longest any of their controllers has kept its replica count: "
            f"{format_human(oldest)}"
        )
    return [
        Issue(
            Severity.INFO,
            f"{plural(len(rows), 'claim')} of scaled-in controllers hold "
            f"{plural(sum(1 for r in rows if not r.unbound), 'IP')} for a scale-up",
            evidence,
            fix,
            _objects(rows),
            details,
        )
    ]
