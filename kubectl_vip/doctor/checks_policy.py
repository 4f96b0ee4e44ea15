"""Area `policy`: how ipamd reclaims retained claims (expiry, cascade) and whether it can."""

from __future__ import annotations

from datetime import timedelta

from ..model import ipamd, settings
from ..model.claims import ORDINAL, ClaimRow, State
from ..model.duration import (
    MIN_EXPIRY,
    DurationError,
    format_compact,
    format_human,
    parse_go_duration,
)
from .evidence import MAX_EXAMPLES, examples
from .reads import CLAIMS, CLASSIFY, DEPLOYMENTS, SECRETS, VIPS
from .registry import Issue, Severity, check
from .snapshot import Snapshot, change_fix, names, plural

SUGGESTED_EXPIRY = timedelta(hours=1)


def _kept(rows: list[ClaimRow]) -> list[ClaimRow]:
    """Claims without a Pod that nothing will ever reclaim: no expiry, not Immediate."""
    return [
        r
        for r in rows
        if r.pod_phase is None and r.expiry is None and r.state in (State.RETAINED, State.ORPHANED)
    ]


def _oldest(rows: list[ClaimRow]) -> ClaimRow | None:
    timed = [r for r in rows if r.retained_for is not None]
    return max(timed, key=lambda r: r.retained_for or timedelta(0)) if timed else None


@check(
    "VIP-POL-001",
    area="policy",
    title="Expiry configured while claims are retained",
    needs=(*CLASSIFY, DEPLOYMENTS),
    uses=(SECRETS,),
)
def expiry_never(s: Snapshot) -> list[Issue]:
    """ipamd's --claim-expired-duration is unset (or 0s: never) while claims without a Pod are
    kept: those IPs are never given back unless someone reclaims them."""
    info = s.ipamd
    if info is None or info.flags is None or info.flags.expiry is not None:
        return []
    if info.flags.expiry_invalid:
        return []  # VIP-IPAMD-003 reports an unreadable value
    kept = _kept(s.rows)
    if not kept:
        return []
    by_state = {st: sum(r.state == st for r in kept) for st in (State.RETAINED, State.ORPHANED)}
    evidence = [
        f"ipamd --{ipamd.EXPIRY_FLAG}: {settings.expiry_text(info.flags)}",
        f"{plural(len(kept), 'claim')} without a Pod kept forever: "
        + ", ".join(f"{n} {st.value}" for st, n in by_state.items() if n),
    ]
    oldest = _oldest(kept)
    if oldest is not None and oldest.retained_for is not None:
        evidence.append(
            f"oldest: {oldest.namespace}/{oldest.name} ({oldest.ip or 'no IP'}), retained for "
            f"{format_human(oldest.retained_for)}"
        )
    evidence.append("claims: " + names(f"{r.namespace}/{r.name}" for r in kept))
    cmd = (
        f"kubectl vip set-expiry {format_compact(SUGGESTED_EXPIRY)}   "
        "# pick a duration longer than any static Pod is ever away"
    )
    return [
        Issue(
            Severity.WARNING,
            f"Expiry is never while {plural(len(kept), 'claim')} without a Pod are kept",
            evidence,
            change_fix(s, settings.Target(expiry=SUGGESTED_EXPIRY), cmd),
            [f"VpcIPClaim/{r.namespace}/{r.name}" for r in kept],
        )
    ]


def _short(raw: str | None) -> timedelta | None:
    if raw is None:
        return None
    try:
        td = parse_go_duration(raw)
    except DurationError:
        return None
    return td if timedelta(0) < td < MIN_EXPIRY else None


@check(
    "VIP-POL-002",
    area="policy",
    title="Expiry not below 5m",
    needs=(DEPLOYMENTS,),
    uses=(CLAIMS, VIPS),
)
def expiry_short(s: Snapshot) -> list[Issue]:
    """The expiry flag, or the claim-expired-duration annotation of a claim or VpcIP, is below
    the documented 5m minimum: a Pod that takes longer to come back loses its IP."""
    evidence: list[str] = []
    objects: list[str] = []
    flags = s.ipamd.flags if s.ipamd is not None else None
    if flags is not None and flags.expiry is not None and flags.expiry < MIN_EXPIRY:
        evidence.append(f"ipamd --{ipamd.EXPIRY_FLAG}={format_compact(flags.expiry)}")
        objects.append(f"Deployment/{ipamd.DEPLOYMENT_NAMESPACE}/{ipamd.DEPLOYMENT_NAME}")
    for c in s.inventory.claims:
        td = _short(c.expiry)
        if td is not None:
            evidence.append(f"claim {c.namespace}/{c.name}: annotation {format_compact(td)}")
            objects.append(f"VpcIPClaim/{c.namespace}/{c.name}")
    for v in s.inventory.vips:
        td = _short(v.expiry)
        if td is not None:
            evidence.append(f"VpcIP {v.name}: annotation {format_compact(td)}")
            objects.append(f"VpcIP/{v.name}")
    if not evidence:
        return []
    details = evidence if len(evidence) > MAX_EXAMPLES else []
    count = len(evidence)
    evidence = examples(evidence)
    cmd = f"kubectl vip set-expiry {format_compact(MIN_EXPIRY)}"
    fix = change_fix(s, settings.Target(expiry=MIN_EXPIRY), cmd)
    if len(objects) > 1 or not objects[0].startswith("Deployment/"):
        fix += (
            "\nfor annotations: set tke.cloud.tencent.com/claim-expired-duration to 5m or more "
            "on the claims (kubectl annotate vipc NAME -n NS "
            "tke.cloud.tencent.com/claim-expired-duration=5m --overwrite), where ipamd reads it"
        )
    return [
        Issue(
            Severity.WARNING,
            f"Expiry below {format_compact(MIN_EXPIRY)} ({plural(count, 'place')})",
            evidence,
            fix,
            objects,
            details,
        )
    ]


@check(
    "VIP-POL-003",
    area="policy",
    title="Cascade reclaim on",
    needs=(*CLASSIFY, DEPLOYMENTS),
    uses=(SECRETS,),
)
def cascade_off(s: Snapshot) -> list[Issue]:
    """--enable-ownerref is off: deleting a workload keeps its claims. Reports how many claims
    without a Pod belong to workloads that are already gone."""
    info = s.ipamd
    if info is None or info.flags is None or info.flags.cascade:
        return []
    gone = [
        r for r in s.rows if r.pod_phase is None and r.owner is not None and r.owner.exists is False
    ]
    groups: dict[tuple[str, str, str], int] = {}
    for r in gone:
        assert r.owner is not None
        key = (r.owner.kind, r.namespace, r.owner.name)
        groups[key] = groups.get(key, 0) + 1
    evidence = [f"ipamd --{ipamd.CASCADE_FLAG} is off: deleting a workload keeps its claims"]
    per_owner = [
        f"{kind}/{name} -n {ns} (deleted): {plural(n, 'claim')}"
        for (kind, ns, name), n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    evidence += examples(per_owner)
    cmd = "kubectl vip enable-cascade   # covers workloads created from now on"
    fix = change_fix(s, settings.Target(cascade=True), cmd)
    ownerless = ownerless_groups(s.rows)
    if ownerless:
        evidence += [
            f"{ns}/{base}-N: {plural(len(members), 'claim')} without a Pod, an ownerReference or "
            f"a workload named {base} (made before cascade was on?)"
            for (ns, base), members in sorted(ownerless.items())[:10]
        ]
        fix += "".join(
            f"\nkubectl vip reclaim --owner statefulset/{base} -n {ns} --dry-run"
            "   # if StatefulSet (or tapp/...) " + base + " was deleted: its claims carry no owner"
            for (ns, base) in sorted(ownerless)[:5]
        )
    if gone:
        fix += "\nkubectl vip reclaim --orphaned -A   # claims whose owner is confirmed gone"
        title = f"Cascade is off: {plural(len(gone), 'claim')} of deleted workloads kept"
        sev = Severity.WARNING
    else:
        title = "Cascade is off: deleting a workload keeps its claims"
        evidence.append("no claim of a deleted workload is kept now")
        sev = Severity.INFO
    objects = [f"VpcIPClaim/{r.namespace}/{r.name}" for r in gone]
    details = per_owner if len(per_owner) > MAX_EXAMPLES else []
    return [Issue(sev, title, evidence, fix, objects, details)]


def ownerless_groups(rows: list[ClaimRow]) -> dict[tuple[str, str], list[str]]:
    """Claims with no Pod and no owner of any kind, named like `<base>-<ordinal>`: candidates for
    `reclaim --owner` (claims of a workload deleted before cascade carry no ownerReference)."""
    out: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        if r.pod_phase is not None or r.owner is not None or r.ordinal is not None:
            continue
        m = ORDINAL.match(r.name)
        if m:
            out.setdefault((r.namespace, m.group(1)), []).append(r.name)
    return out


@check(
    "VIP-POL-004",
    area="policy",
    title="Expiry annotations honoured",
    needs=(DEPLOYMENTS, CLAIMS, VIPS),
)
def annotations_ignored(s: Snapshot) -> list[Issue]:
    """Claims or VpcIPs carry the claim-expired-duration annotation but ipamd is older than
    v3.3.2, which ignores it: only the flag counts."""
    info = s.ipamd
    if info is None or info.version is None or info.version >= ipamd.ANNOTATION_EXPIRY_FROM:
        return []
    annotated = [f"VpcIPClaim/{c.namespace}/{c.name}" for c in s.inventory.claims if c.expiry]
    annotated += [f"VpcIP/{v.name}" for v in s.inventory.vips if v.expiry]
    if not annotated:
        return []
    return [
        Issue(
            Severity.WARNING,
            f"ipamd {info.version} ignores the expiry annotation of "
            + plural(len(annotated), "object"),
            [
                f"per-object expiry needs ipamd >= {ipamd.ANNOTATION_EXPIRY_FROM}",
                "annotated: " + names(annotated),
            ],
            _upgrade_advice(s) + ", or rely on the flag: kubectl vip set-expiry DURATION",
            annotated,
        )
    ]


def _upgrade_advice(s: Snapshot) -> str:
    """Where ipamd is upgraded: the add-on's page when the add-on manages it, else its image."""
    if s.management.addon is settings.Addon.FOUND:
        return "Upgrade the eniipamd add-on to v3.3.2 or later (TKE console → Add-On Management)"
    return (
        f"Upgrade tke-eni-ipamd to v3.3.2 or later (the image of deploy/{ipamd.DEPLOYMENT_NAME} "
        f"in {ipamd.DEPLOYMENT_NAMESPACE})"
    )
