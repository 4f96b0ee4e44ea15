"""What a doctor check is, what it returns, and the registry of checks (pure).

A check is one small function `(Snapshot) -> list[Issue]` registered with `@check(...)`: a
stable id, an area, a title, the reads it cannot run without (`needs`) and the reads it uses
when they are there (`uses`). The runner turns its issues into `Finding`s carrying the id and
area, and records a `CheckResult` (ok, findings, skipped for lack of a read, failed).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .reads import READ_KEYS

if TYPE_CHECKING:
    from .snapshot import Snapshot


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


# areas in report order, with their headings
AREAS = {
    "crd": "TKE CRDs",
    "ipamd": "ipamd",
    "policy": "Reclaim policy",
    "claims": "Claims and IPs",
    "eni": "ENIs",
    "capacity": "Subnet capacity",
    "scheduling": "Scheduling",
}


@dataclass(frozen=True)
class Issue:
    """What a check found, before the runner stamps its id and area on it."""

    severity: Severity
    title: str
    evidence: list[str]
    fix: str
    objects: list[str] = field(default_factory=list)
    # every item behind a grouped, bounded `evidence` (one line each): -o json only
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Finding:
    id: str
    area: str
    severity: Severity
    title: str
    evidence: list[str]
    fix: str
    objects: list[str]
    details: list[str] = field(default_factory=list)


CheckFn = Callable[["Snapshot"], list[Issue]]


@dataclass(frozen=True)
class Check:
    id: str
    area: str
    title: str
    needs: tuple[str, ...]
    uses: tuple[str, ...]
    fn: CheckFn
    doc: str = ""
    # the most severe finding it can raise: a check that could not run is assumed to have
    # found that much (what we do not know is not "healthy")
    worst: Severity = Severity.ERROR
    # the summary of several issues as one finding, `{n}` their count (see `one_finding`);
    # "" : the worst one's title, and how many more
    many: str = ""

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.needs + self.uses))


class Status(str, enum.Enum):
    OK = "ok"  # ran, found nothing
    FINDINGS = "findings"
    SKIPPED = "skipped"  # a read it needs is forbidden, failed, or not served
    FAILED = "failed"  # the check itself raised: a bug or data it did not expect

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: Status
    findings: list[Finding] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # needed reads it did not get, and why
    limited_by: list[str] = field(default_factory=list)  # optional reads it did without
    reason: str | None = None  # why it was skipped or failed
    forbidden: bool = False  # skipped because RBAC denies a read it needs

    @property
    def ran(self) -> bool:
        return self.status in (Status.OK, Status.FINDINGS)

    @property
    def severity(self) -> Severity | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: s.rank)


REGISTRY: dict[str, Check] = {}


def check(
    id: str,
    *,
    area: str,
    title: str,
    needs: Iterable[str] = (),
    uses: Iterable[str] = (),
    worst: Severity = Severity.ERROR,
    many: str = "",
) -> Callable[[CheckFn], CheckFn]:
    """Register a check. Ids are stable: never renumber or reuse one. `many` summarises several
    issues of one run (`{n}` their count): they make one finding."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}")
    needs_t, uses_t = tuple(needs), tuple(uses)
    for key in needs_t + uses_t:
        if key not in READ_KEYS:
            raise ValueError(f"{id}: unknown read {key!r}")

    def register(fn: CheckFn) -> CheckFn:
        if id in REGISTRY:
            raise ValueError(f"check id {id} registered twice")
        doc = (fn.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        REGISTRY[id] = Check(id, area, title, needs_t, uses_t, fn, doc, worst, many)
        return fn

    return register


def all_checks() -> list[Check]:
    """Every registered check, in report order (area, then id)."""
    order = list(AREAS)
    return sorted(REGISTRY.values(), key=lambda c: (order.index(c.area), c.id))


def select(ids: Iterable[str]) -> list[Check]:
    """The checks named (case-insensitive); every check when none is named. KeyError names the
    first unknown id."""
    wanted = [i.strip().upper() for i in ids if i.strip()]
    if not wanted:
        return all_checks()
    for w in wanted:
        if w not in REGISTRY:
            raise KeyError(w)
    return [c for c in all_checks() if c.id in wanted]


def run(checks: Iterable[Check], snap: Snapshot) -> list[CheckResult]:
    """Run each check whose needed reads the snapshot holds; a check that raises is recorded as
    failed and the others still run."""
    results = []
    for c in checks:
        absent = [key for key in c.needs if not snap.has(key)]
        if absent:
            missing = [snap.missing(key) for key in absent]
            # a read the user may not do skips the check; a read that broke fails it
            broke = any(snap.read_failed(key) for key in absent)
            status = Status.FAILED if broke else Status.SKIPPED
            forbidden = any(snap.read_forbidden(key) for key in absent)
            results.append(
                CheckResult(
                    c, status, missing=missing, reason="; ".join(missing), forbidden=forbidden
                )
            )
            continue
        limited = [snap.missing(key) for key in c.uses if not snap.has(key)]
        try:
            issues = c.fn(snap)
        except Exception as e:  # noqa: BLE001 - one broken check must not hide the others
            results.append(
                CheckResult(c, Status.FAILED, limited_by=limited, reason=f"{type(e).__name__}: {e}")
            )
            continue
        over = [i for i in issues if i.severity.rank > c.worst.rank]
        if over:  # its declared worst decides --fail-on when it cannot run: it must hold
            reason = f"raised {over[0].severity.value} above its declared worst ({c.worst.value})"
            results.append(CheckResult(c, Status.FAILED, limited_by=limited, reason=reason))
            continue
        findings = [one_finding(c, issues)] if issues else []
        status = Status.FINDINGS if findings else Status.OK
        results.append(CheckResult(c, status, findings, limited_by=limited))
    return results


# evidence lines a finding shows, about ten (a screen stays a screen at any scale); the
# rest is in `details`. A check's own bounded evidence (ten examples, "... and N more", a few
# facts after them) fits.
MAX_EVIDENCE = 14


def one_finding(c: Check, issues: list[Issue]) -> Finding:
    """A check's issues as one finding: its most severe issue's severity; for several, a
    summary title (`c.many`), their titles as evidence (the worst first), the worst one's fix,
    and every issue whole (evidence, fix, objects) in `details`. Evidence is bounded to about
    ten lines either way."""
    ordered = sorted(issues, key=lambda i: -i.severity.rank)  # stable: the check's own order
    worst = ordered[0]
    objects = list(dict.fromkeys(o for i in ordered for o in i.objects))
    if len(ordered) == 1:
        shown, kept = _bounded(list(worst.evidence), list(worst.details))
        return Finding(c.id, c.area, worst.severity, worst.title, shown, worst.fix, objects, kept)
    mixed = len({i.severity for i in ordered}) > 1
    heads = [(f"{i.severity.value}: " if mixed else "") + i.title for i in ordered]
    evidence, _ = _bounded(heads, [], limit=10)
    details: list[str] = []
    for head, i in zip(heads, ordered, strict=True):
        details.append(head)
        details += ["  " + e for e in i.evidence]
        details += ["  fix: " + line for line in i.fix.splitlines()]
        details += ["  " + d for d in i.details]
    fix = worst.fix
    if any(i.fix != worst.fix for i in ordered[1:]):
        fix += f"\n(that is for the first; the fix of each of the {len(ordered)}: -o json details)"
    more = len(ordered) - 1
    title = c.many.format(n=len(ordered)) if c.many else f"{worst.title} (+{more} more below)"
    return Finding(c.id, c.area, worst.severity, title, evidence, fix, objects, details)


def _bounded(
    evidence: list[str], details: list[str], limit: int = MAX_EVIDENCE
) -> tuple[list[str], list[str]]:
    """At most `limit` lines (the last saying how many more); what is cut goes to details."""
    if len(evidence) <= limit:
        return evidence, details
    rest = len(evidence) - (limit - 1)
    shown = [*evidence[: limit - 1], f"... and {rest} more (all of them in -o json details)"]
    return shown, details or evidence
