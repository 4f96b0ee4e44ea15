"""From check results to what the user sees (pure): grouping, the summary line, the exit code,
the `DoctorReport` document and the text lines.

`DoctorReport` (apiVersion kubectl-vip/v1), stable keys:

- `metadata`: `generatedAt`, `server`, `tke` {`group`, `version`, `kinds`}, `failOn`
- `summary`: `error`, `warning`, `info` (finding counts), `checksRun`, `checksSkipped`,
  `checksFailed`, `exitCode`, `text` (the summary line)
- `reads`: [{`resource`, `what`, `state` (ok|forbidden|failed|not-served|not-needed),
  `reason`, `items`}]
- `checks`: [{`id`, `area`, `title`, `status` (ok|findings|skipped|failed), `severity` (the
  highest of its findings, or null), `findings` (count), `missing` (reads it needed and did not
  get), `limitedBy` (optional reads it did without), `reason`}]
- `findings`: [{`id`, `area`, `severity` (error|warning|info), `title`, `evidence` [str],
  `fix` (str; lines separated by newlines), `objects` [Kind/namespace/name], `details` [str]}]

`evidence` is grouped and bounded (counts per node, subnet or owner, at most ~10 examples and
"... and N more"), so a finding reads in one screen at any scale; `details` holds one line per
item behind it (empty when the evidence already lists them all).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..errors import ExitCode
from .registry import AREAS, Check, CheckResult, Finding, Severity, Status
from .snapshot import Snapshot

API_VERSION = "kubectl-vip/v1"
FAIL_ON = ("error", "warning", "never")
Line = list[tuple[str, str | None]]


def findings(results: Iterable[CheckResult]) -> list[Finding]:
    return [f for r in results for f in r.findings]


def counts(results: Iterable[CheckResult]) -> dict[str, int]:
    out = {s.value: 0 for s in Severity}
    for f in findings(results):
        out[f.severity.value] += 1
    return out


def _levels(fail_on: str) -> set[Severity]:
    if fail_on == "never":
        return set()
    return {Severity.ERROR} if fail_on == "error" else {Severity.ERROR, Severity.WARNING}


def nothing_ran(results: Iterable[CheckResult]) -> bool:
    """No check that reads the cluster could run, and RBAC is why (a read was forbidden).
    Checks that read nothing (the CRDs are served: discovery said so) do not count."""
    readers = [r for r in results if r.check.reads]
    return (
        bool(readers)
        and not any(r.ran or r.status == Status.FAILED for r in readers)
        and any(r.forbidden for r in readers)
    )


def blind_spots(results: Iterable[CheckResult], fail_on: str) -> list[CheckResult]:
    """Checks that RBAC kept from running and that could have raised a finding at `fail_on`."""
    levels = _levels(fail_on)
    return [r for r in results if r.forbidden and r.check.worst in levels]


def exit_code(results: Iterable[CheckResult], fail_on: str) -> int:
    """3 when no check could run for lack of permissions; else 1 when a finding reaches
    `fail_on`, a check failed, or a forbidden check could have found something at that level
    (unless `never`); else 0."""
    results = list(results)
    if nothing_ran(results):
        return ExitCode.ACCESS
    if fail_on == "never":
        return ExitCode.OK
    worst = _levels(fail_on)
    if any(f.severity in worst for f in findings(results)):
        return ExitCode.FAILED
    if any(r.status == Status.FAILED for r in results):
        return ExitCode.FAILED
    if blind_spots(results, fail_on):
        return ExitCode.FAILED
    return ExitCode.OK


def _n(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(results: Iterable[CheckResult], fail_on: str) -> str:
    results = list(results)
    c = counts(results)
    ran = sum(1 for r in results if r.ran)
    skipped = sum(1 for r in results if r.status == Status.SKIPPED)
    failed = sum(1 for r in results if r.status == Status.FAILED)
    parts = [_n(c["error"], "error"), _n(c["warning"], "warning"), f"{c['info']} info"]
    checks = f"{_n(ran, 'check')} run"
    if skipped:
        checks += f", {skipped} skipped"
    if failed:
        checks += f", {failed} failed"
    code = exit_code(results, fail_on)
    line = f"{', '.join(parts)} from {checks}; exit {code} (--fail-on {fail_on})"
    note = skip_note(results, fail_on)
    return f"{line}: {note}" if note else line


def skip_note(results: Iterable[CheckResult], fail_on: str) -> str | None:
    """Why checks that did not run decide the exit code, when they alone do."""
    results = list(results)
    if nothing_ran(results):
        return "no check that reads the cluster could run: RBAC denies the reads they need"
    blind = blind_spots(results, fail_on)
    levels = _levels(fail_on)
    if not blind or any(r.status == Status.FAILED for r in results):
        return None
    if any(f.severity in levels for f in findings(results)):
        return None  # the findings decide the exit code already
    found = "errors" if fail_on == "error" else "errors or warnings"
    ids = ", ".join(r.check.id for r in blind)
    return (
        f"{_n(len(blind), 'check')} skipped for lack of permission ({ids}) could have found {found}"
    )


def by_area(results: Iterable[CheckResult]) -> dict[str, list[CheckResult]]:
    out: dict[str, list[CheckResult]] = {a: [] for a in AREAS}
    for r in results:
        out.setdefault(r.check.area, []).append(r)
    return {a: rs for a, rs in out.items() if rs}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def finding_doc(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "area": f.area,
        "severity": f.severity.value,
        "title": f.title,
        "evidence": list(f.evidence),
        "fix": f.fix,
        "objects": list(f.objects),
        "details": list(f.details),
    }


def check_doc(r: CheckResult) -> dict[str, Any]:
    sev = r.severity
    return {
        "id": r.check.id,
        "area": r.check.area,
        "title": r.check.title,
        "status": r.status.value,
        "severity": sev.value if sev else None,
        "findings": len(r.findings),
        "missing": list(r.missing),
        "limitedBy": list(r.limited_by),
        "reason": r.reason,
    }


def document(
    results: list[CheckResult], snap: Snapshot, *, server: str, fail_on: str
) -> dict[str, Any]:
    c = counts(results)
    return {
        "apiVersion": API_VERSION,
        "kind": "DoctorReport",
        "metadata": {
            "generatedAt": _iso(snap.now),
            "server": server,
            "tke": {
                "group": snap.tke_group,
                "version": snap.tke_version,
                "kinds": [snap.served[p] for p in sorted(snap.served)],
            },
            "failOn": fail_on,
        },
        "summary": {
            **c,
            "checksRun": sum(1 for r in results if r.ran),
            "checksSkipped": sum(1 for r in results if r.status == Status.SKIPPED),
            "checksFailed": sum(1 for r in results if r.status == Status.FAILED),
            "exitCode": int(exit_code(results, fail_on)),
            "text": summary_line(results, fail_on),
        },
        "reads": [
            {
                "resource": r.key,
                "what": r.what,
                "state": r.state,
                "reason": r.reason,
                "items": r.items,
            }
            for r in snap.reads.values()
        ],
        "checks": [check_doc(r) for r in results],
        "findings": [finding_doc(f) for f in findings(results)],
    }


# ---------------------------------------------------------------------------- text

SEV_WIDTH = 9
ID_WIDTH = 15


def _head(label: str, ident: str, title: str) -> Line:
    return [
        ("  ", None),
        (label.ljust(SEV_WIDTH), label),
        (ident.ljust(ID_WIDTH), None),
        (title, None),
    ]


MAX_EVIDENCE_LINES = 25


def _bounded_text(evidence: list[str]) -> list[str]:
    """A safety net for any check: never more than MAX_EVIDENCE_LINES evidence lines on a
    terminal (-o json keeps them all)."""
    if len(evidence) <= MAX_EVIDENCE_LINES:
        return evidence
    rest = len(evidence) - MAX_EVIDENCE_LINES + 1
    return [*evidence[: MAX_EVIDENCE_LINES - 1], f"... and {rest} more lines (all in -o json)"]


def text_lines(results: list[CheckResult], fail_on: str) -> list[Line]:
    """The report for people: per area, each finding with its evidence and fix; a check with
    no finding on one `ok` line; skipped and failed checks with why; the summary last."""
    indent = " " * (2 + SEV_WIDTH + ID_WIDTH)
    lines: list[Line] = []
    for area, rs in by_area(results).items():
        if lines:
            lines.append([])
        lines.append([(AREAS.get(area, area), "bold")])
        for r in rs:
            if r.status == Status.OK:
                lines.append(_head("ok", r.check.id, r.check.title))
            elif r.status in (Status.SKIPPED, Status.FAILED):
                label = r.status.value
                lines.append(_head(label, r.check.id, f"{r.check.title}: {label}"))
                what = "needs " if r.missing else ""
                lines.append([(f"{indent}{what}{r.reason}", None)])
            for f in r.findings:
                lines.append(_head(f.severity.value, f.id, f.title))
                for e in _bounded_text(f.evidence):
                    # a line indented by the check belongs to the one above it
                    nested = e.startswith("  ")
                    text = f"{indent}    {e.strip()}" if nested else f"{indent}- {e}"
                    lines.append([(text, None)])
                for i, fix_line in enumerate(f.fix.split("\n") if f.fix else ["-"]):
                    prefix = "fix: " if i == 0 else "     "
                    lines.append([(f"{indent}{prefix}{fix_line}", None)])
            if r.limited_by and r.status != Status.SKIPPED:
                lines.append([(f"{indent}(without: {'; '.join(r.limited_by)})", "dim")])
    lines.append([])
    lines.append([("Summary: " + summary_line(results, fail_on), "bold")])
    return lines


def check_list_doc(checks: list[Check]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "DoctorCheckList",
        "items": [
            {
                "id": c.id,
                "area": c.area,
                "title": c.title,
                "needs": list(c.needs),
                "uses": list(c.uses),
                "description": c.doc,
            }
            for c in checks
        ],
    }
