"""`kubectl vip doctor`: every check, findings grouped by area with evidence and the fix."""

from __future__ import annotations

import typer

from ..errors import ExitCode, NoAccess, UsageError
from . import common

FORMATS = ("table", "json", "yaml")

HELP = """Run every check and print findings grouped by area, with evidence and the exact fix.

Each finding has a stable id (VIP-<AREA>-<NNN>), a severity (error, warning, info), a one-line
title, the evidence (objects, counts, Event messages) and the fix: a kubectl vip command, or the
console / ticket step from the TKE docs. Causes are linked where the evidence allows (a Pending
Pod, its ENI Events, its VpcIP stuck Attaching, the node's empty NodeENIConfig: one finding).
The run is cluster-wide (-n/-A are ignored) and reads each kind once.

Before reading, doctor asks the API what you may read (SelfSubjectAccessReview); checks that
need a forbidden read are listed as skipped with the missing permission, the rest still run.

-o json|yaml writes a DoctorReport (apiVersion kubectl-vip/v1):

\b
  metadata  generatedAt, server, tke {group, version, kinds}, failOn
  summary   error, warning, info (finding counts), checksRun, checksSkipped,
            checksFailed, exitCode, text
  reads     [{resource, what, state: ok|forbidden|failed|not-served|not-needed,
              reason, items}]
  checks    [{id, area, title, status: ok|findings|skipped|failed, severity,
              findings, missing, limitedBy, reason}]
  findings  [{id, area, severity, title, evidence: [str], fix: str, objects: [str],
              details: [str]}]   evidence grouped, at most ~10 examples; details: every item

With --contexts/--all-contexts the report is printed per context, then a table of findings per
context; -o json|yaml is a DoctorReportList whose items are the contexts' DoctorReports (each
with context and cluster) and whose summary counts by context.

Exit: 0 no finding at the --fail-on level; 1 a finding at that level, a check failed, or a check
that RBAC kept from running could have found one at that level; 3 cannot reach or authenticate,
or no check could run (the error names the reads RBAC denies); 4 not a TKE VPC-CNI static-IP
cluster.
"""

EPILOG = """Examples:

\b
  kubectl vip doctor                            # every check, grouped by area
  kubectl vip doctor --check VIP-ENI-001 -o json --fail-on warning
"""


def register(app: typer.Typer) -> None:
    app.command("doctor", help=HELP, epilog=EPILOG)(doctor_command)


def doctor_command(
    ctx: typer.Context,
    output: str = typer.Option("table", "-o", "--output", help="table|json|yaml"),
    fail_on: str = typer.Option(
        "error", "--fail-on", help="Exit 1 on a finding this severe or worse: error|warning|never."
    ),
    checks: list[str] = typer.Option(
        [], "--check", help="Run only this check (repeatable, or comma-separated ids)."
    ),
    list_checks: bool = typer.Option(
        False, "--list-checks", help="List the checks (id, area, title, reads) and exit."
    ),
    chunk_size: int = typer.Option(
        500, "--chunk-size", min=0, help="Page size of list requests (0: no paging)."
    ),
) -> int:
    g = common.globals_of(ctx)
    fmt = common.check_format(output, FORMATS)
    from .. import doctor
    from ..doctor import report

    mode = fail_on.strip().lower()
    if mode not in report.FAIL_ON:
        raise UsageError(f'unknown --fail-on "{fail_on}": use one of {", ".join(report.FAIL_ON)}')
    ids = [part for value in checks for part in value.split(",")]
    try:
        selected = doctor.select(ids)
    except KeyError as e:
        known = ", ".join(doctor.REGISTRY)
        raise UsageError(f"unknown check {e.args[0]}: use one of {known}") from None

    if list_checks:
        if fmt in ("json", "yaml"):
            g.out.document(report.check_list_doc(selected), fmt)
        else:
            rows = [[c.id, c.area, c.title, ", ".join(c.needs) or "-"] for c in selected]
            g.out.table(["ID", "AREA", "TITLE", "NEEDS"], rows)
        return ExitCode.OK

    if g.fleet:
        from .fleet_views import fleet_doctor

        return fleet_doctor(g, fmt, mode, selected, chunk_size)
    from ..ops.doctor_reads import examine

    c = g.cluster()
    results, snap = examine(c, selected, chunk_size)
    if fmt in ("json", "yaml"):
        doc = report.document(results, snap, server=c.server, fail_on=mode)
        g.out.document(common.aim_doc(g.out, doc), fmt)
        note = report.skip_note(results, mode)
        if note and not report.nothing_ran(results):
            g.out.warn(note)  # the text report's summary says it; a script's log should too
    else:
        for line in report.text_lines(results, mode):
            g.out.styled(line)
    if report.nothing_ran(results):
        denied = ", ".join(snap.forbidden_reads())
        raise NoAccess(
            f"doctor could run no check: RBAC denies {denied}",
            hint="ask a cluster admin for these read permissions (get/list/watch)",
        )
    return int(report.exit_code(results, mode))
