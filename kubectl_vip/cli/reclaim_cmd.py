"""`kubectl vip reclaim`: give static IPs back without ever breaking a live Pod."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from .. import interrupt
from ..errors import ExitCode, UsageError
from ..model import reclaim as rc
from ..model.duration import DurationError, format_go_duration, parse_go_duration
from ..model.reclaim import Criteria, Outcome, Rules, Target
from ..model.words import plural
from ..term.render import Progress
from . import common
from .common import Globals

if TYPE_CHECKING:
    from ..ops.reclaim_access import Access

from .reclaim_words import (
    ACTION_WORDS,
    OUTCOME_WORDS,
    RECHECK_NOTE,
    show_unsure,
    target_doc,
)

EPILOG = """Examples:

\b
  kubectl vip reclaim debug-shell -n default         # one claim whose Pod is gone
  kubectl vip reclaim --orphaned --overdue -A --dry-run -o json > plan.json
  kubectl vip reclaim --scaled-in --scaled-in-for 168h -n db --dry-run   # scaled in a week ago
  kubectl vip reclaim --from-file plan.json --yes --wait
  kubectl vip reclaim --owner statefulset/web -n shop --dry-run   # a workload deleted earlier

Safety: a claim whose Pod exists (Running, Pending, Terminating) is always refused; the Pod is
read again right before each delete, and the delete carries the claim's uid and resourceVersion,
so a claim that changed meanwhile is left alone. VpcIPs are never deleted (ipamd releases them).
Every reclaimed claim is appended to an audit file first and recorded as an Event
(reason StaticIPReclaimed).
"""


@dataclass(frozen=True)
class ReclaimOptions:
    """`reclaim`'s flags, checked and parsed once by the command (`parse_options`)."""

    fmt: str = "table"
    names: tuple[str, ...] = ()
    ip: str | None = None
    criteria: Criteria = field(default_factory=Criteria)
    selector: str | None = None
    from_file: Path | None = None
    dry_run: bool = False
    yes: bool = False
    wait: bool = False
    timeout: str = "2m"  # as given, for messages
    wait_seconds: float = 120.0
    rules: Rules = field(default_factory=Rules)
    maximum: int = rc.DEFAULT_MAX
    concurrency: int = 4

    @property
    def owner(self) -> tuple[str, str] | None:
        return self.criteria.owner


def register(app: typer.Typer) -> None:
    app.command("reclaim", epilog=EPILOG)(reclaim_command)


def reclaim_command(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        None, help="Claim (= Pod) names in the namespace.", show_default=False
    ),
    ip: str | None = typer.Option(None, "--ip", help="Reclaim the claim that holds this IP."),
    orphaned: bool = typer.Option(False, "--orphaned", help="Claims nothing will use again."),
    overdue: bool = typer.Option(False, "--overdue", help="Claims past their expiry."),
    retained_for: str | None = typer.Option(
        None, "--retained-for", help="Claims retained at least this long (Go duration, e.g. 24h)."
    ),
    scaled_in: bool = typer.Option(
        False,
        "--scaled-in",
        help="Claims of ordinals a live controller no longer runs (ScaledIn), once it has kept "
        "its replica count --scaled-in-for long; never at 0 replicas or under an autoscaler "
        "that may scale it back.",
    ),
    scaled_in_for: str | None = typer.Option(
        None,
        "--scaled-in-for",
        help="How long a controller must have kept its replica count for its ScaledIn claims "
        "to go (Go duration, e.g. 168h; needed by --scaled-in).",
    ),
    owner: str | None = typer.Option(
        None,
        "--owner",
        help="Claims NAME-<ordinal> of a workload that is gone (the ordinals a live one no "
        "longer runs: --scaled-in), e.g. statefulset/web, tapp/web, "
        "statefulset.apps.kruise.io/web. One namespace.",
    ),
    selector: str | None = typer.Option(
        None, "-l", "--selector", help="Only claims with these labels."
    ),
    from_file: Path | None = typer.Option(
        None,
        "--from-file",
        help="Reclaim exactly the claims of a plan (list -o json or reclaim --dry-run -o json).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would be reclaimed and why; change nothing."
    ),
    yes: bool = typer.Option(False, "-y", "--yes", help="Do not ask for confirmation."),
    wait_: bool = typer.Option(
        False, "--wait", help="Wait until each reclaimed IP's VpcIP is released."
    ),
    timeout: str = typer.Option("2m", "--timeout", help="How long --wait waits (Go duration)."),
    include_completed: bool = typer.Option(
        False,
        "--include-completed",
        help="Also reclaim claims whose Pod exists but has Succeeded/Failed.",
    ),
    allow_new_ip: bool = typer.Option(
        False,
        "--allow-new-ip",
        help="Reclaim even when the owner brings the Pod back, or cannot be read (the Pod "
        "would get a new IP).",
    ),
    maximum: int = typer.Option(
        rc.DEFAULT_MAX, "--max", min=1, help="Refuse to reclaim more claims than this."
    ),
    concurrency: int = typer.Option(
        4, "--concurrency", min=1, max=32, help="Deletes in flight at once."
    ),
    output: str = typer.Option("table", "-o", "--output", help="table|json|yaml"),
) -> None:
    """Delete claims of Pods that are gone, safely, so ipamd frees their IPs."""
    options = parse_options(
        names=names or [],
        ip=ip,
        orphaned=orphaned,
        overdue=overdue,
        retained_for=retained_for,
        scaled_in=scaled_in,
        scaled_in_for=scaled_in_for,
        owner=owner,
        selector=selector,
        from_file=from_file,
        dry_run=dry_run,
        yes=yes,
        wait=wait_,
        timeout=timeout,
        include_completed=include_completed,
        allow_new_ip=allow_new_ip,
        maximum=maximum,
        concurrency=concurrency,
        output=output,
    )
    reclaim(common.globals_of(ctx), options)


def parse_options(
    *,
    names: list[str],
    ip: str | None,
    orphaned: bool,
    overdue: bool,
    retained_for: str | None,
    scaled_in: bool,
    scaled_in_for: str | None,
    owner: str | None,
    selector: str | None,
    from_file: Path | None,
    dry_run: bool,
    yes: bool,
    wait: bool,
    timeout: str,
    include_completed: bool,
    allow_new_ip: bool,
    maximum: int,
    concurrency: int,
    output: str,
) -> ReclaimOptions:
    """Check every flag that needs no cluster (usage errors, exit 2) and parse it once."""
    fmt = common.check_format(output, common.DOC_FORMATS)
    checked = tuple(common.check_name(n, "claim name") for n in names)
    common.check_selector(selector)
    owner_key = rc.parse_owner(owner) if owner is not None else None
    kept_for = _duration(scaled_in_for, "--scaled-in-for") if scaled_in_for else None
    if scaled_in and kept_for is None:
        raise UsageError(
            "--scaled-in needs --scaled-in-for DURATION: how long a controller must have kept "
            "its replica count (e.g. 168h) before the claims of ordinals it no longer runs go"
        )
    criteria = Criteria(
        orphaned,
        overdue,
        _duration(retained_for, "--retained-for") if retained_for else None,
        owner_key,
        kept_for if scaled_in else None,
    )
    wait_seconds = _duration(timeout, "--timeout").total_seconds()
    ip_value = rc.parse_ip(ip) if ip is not None else None
    forms = sum(
        bool(x) for x in (checked, ip_value, criteria.any or selector, from_file is not None)
    )
    if forms == 0:
        raise UsageError(
            "nothing to reclaim: give claim names, --ip, --orphaned, --overdue, --retained-for, "
            "--scaled-in, --owner, -l or --from-file (a namespace alone selects nothing)"
        )
    if forms > 1:
        raise UsageError("claim names, --ip, bulk selection and --from-file cannot be combined")
    if wait and dry_run:
        raise UsageError("--wait cannot be combined with --dry-run")
    return ReclaimOptions(
        fmt=fmt,
        names=checked,
        ip=ip_value,
        criteria=criteria,
        selector=selector,
        from_file=from_file,
        dry_run=dry_run,
        yes=yes,
        wait=wait,
        timeout=timeout,
        wait_seconds=wait_seconds,
        rules=Rules(include_completed, allow_new_ip, kept_for),
        maximum=maximum,
        concurrency=concurrency,
    )


def reclaim(g: Globals, o: ReclaimOptions, plan_doc: Any = None) -> None:
    """One context's reclaim. A fleet plan runs this once per context, with that context's
    part of the plan as `plan_doc` (checked exactly as a plan file is)."""
    if o.names and g.all_namespaces:
        raise UsageError("claim names need one namespace (-n), not -A")
    if o.owner is not None and g.all_namespaces:
        raise UsageError("--owner needs one namespace (-n), not -A")
    fmt, rules, maximum = o.fmt, o.rules, o.maximum
    doc = plan_doc
    if doc is None and o.from_file is not None:
        doc = _load_plan(o.from_file)
        if rc.is_fleet_plan(doc):
            from .fleet_reclaim import run_fleet_plan

            return run_fleet_plan(g, doc, fmt, lambda one, part: reclaim(one, o, part))
    if g.fleet:
        from .fleet_reclaim import fleet_dry_run

        if not o.dry_run:
            raise UsageError(
                "reclaim changes one context at a time: add --dry-run for a fleet plan "
                "(-o json > plan.json), then reclaim --from-file plan.json"
            )
        if o.names or o.ip or o.owner or o.from_file is not None:
            raise UsageError(
                "across contexts, reclaim selects with --orphaned, --overdue, --retained-for, "
                "--scaled-in or -l only"
            )
        return fleet_dry_run(g, fmt, o.criteria, o.selector, rules, maximum)
    plan = rc.read_plan(doc) if o.from_file is not None else None
    for t in plan.items if plan is not None else []:
        # a plan is a file anyone may have edited: its names are checked as on the line
        common.check_namespace(t.namespace, "in the plan")
        common.check_name(t.name, "claim name in the plan")

    from ..ops import gather
    from ..ops.reclaim_exec import AUDIT_FILE, Audit, Executor, RunOptions
    from ..ops.reclaim_exec import dry_run as decide_dry_run
    from ..ops.reclaim_select import (
        check_delete_allowed,
        decide_all,
        plan_targets,
        select_targets,
    )
    from ..ops.sweep_watch import wait_released

    c = g.cluster()
    tke = c.tke()
    identity = gather.cluster_identity(c)
    owner_key = o.owner
    assumed = (owner_key[0], g.scope() or "", owner_key[1]) if owner_key else None
    if plan is not None:
        rc.check_same_cluster(plan.cluster, identity)
        if rules.scaled_in_for is None and plan.scaled_in_for is not None:
            rules = replace(rules, scaled_in_for=plan.scaled_in_for)  # as it was planned
        bound = g.namespace if g.namespace is not None and not g.all_namespaces else None
        chosen = plan_targets(c, plan, bound)
    else:
        chosen = select_targets(
            c,
            g.scope(),
            o.names,
            o.ip,
            o.criteria,
            o.selector,
            rules,
            assumed,
            g.state_dir() / AUDIT_FILE,
        )
        if chosen.note:
            g.out.info(chosen.note)
    targets, unsure, snap = chosen.targets, chosen.unsure, chosen.snap
    if o.criteria.overdue or o.criteria.retained_for is not None:
        from ..model.fit import view_note

        # time criteria select on release times: say so once when most are unknown
        misfit = view_note(("claim.releaseTime",), snap.inventory)
        if misfit:
            g.out.warn(misfit)
    decide_all(targets, rules)
    todo = [t for t in targets if t.outcome is None]
    over_max = len(todo) > maximum  # as the real run counts, before its last checks
    access: Access | None = None  # a dry run: may the real run do what it counted?
    if o.dry_run:  # the real run's last checks, on the state just listed: no request per claim
        strict = plan is not None
        decide_dry_run(todo, snap.inventory, snap.ipamd.policy, c.now(), rules, strict_plan=strict)
        from ..ops.reclaim_access import check

        would = [t for t in todo if t.outcome is Outcome.WOULD_RECLAIM]
        access = check(c, would, snap.inventory) if would else None
    out = g.out
    if fmt == "table":
        _show_plan(g, targets, o.dry_run)
        show_unsure(g, unsure)
    if o.dry_run or not todo:
        _finish(
            g,
            targets,
            fmt,
            identity,
            o.dry_run,
            None,
            set(),
            unsure,
            maximum if over_max else None,
            rules.scaled_in_for,
            access,
        )
        return
    rc.check_cap(len(todo), maximum)
    check_delete_allowed(c, todo)
    if not o.yes:
        common.confirm(
            g,
            f"Reclaim {plural(len(todo), 'claim')}?",
            f"refusing to reclaim {plural(len(todo), 'claim')}",
        )
    audit = Audit(g.state_dir() / AUDIT_FILE, identity)
    from ..model.claims import IpamdPolicy

    policy: IpamdPolicy = gather.read_ipamd(c).policy
    show_lines = fmt == "table"
    with Progress(out, len(todo), "reclaiming") as bar:

        def done(t: Target) -> None:
            bar.advance()

        ex = Executor(
            c,
            tke,
            policy,
            RunOptions(
                rules,
                o.concurrency,
                strict_plan=plan is not None,
                assumed=assumed,
                scalers=snap.inventory.scalers,
                scalers_unknown=snap.inventory.scalers_unknown,
            ),
            audit,
            done,
            out.warn,
        )
        before, pages_before = c.requests, c.list_pages
        completed = ex.run(todo)
    if g.verbose:  # what the run cost the API server (bench/run.py reads it)
        pages = c.list_pages - pages_before
        each = (c.requests - before - pages) / max(1, len(todo))
        # a bulk run reads owners and VpcIPs from shared lists; a few claims, one GET each
        own = "its Pod read" if ex.batch is not None else "its VpcIP, owners and Pod read"
        shared = "the claims read again" + (", owners and VpcIPs" if ex.batch is not None else "")
        out.info(
            f"API requests: {c.requests} in all, {c.requests - before} for the "
            f"{plural(len(todo), 'claim')} reclaimed or re-checked: {each:.2f} per claim ({own}, "
            f"the delete, the Event), and {plural(pages, 'list page')} they share ({shared})"
        )
    finished = False  # the lines, the wait and the result all written
    try:
        if show_lines:
            for t in sorted(todo, key=lambda t: t.key):
                if t.outcome is not None:
                    _line(g, t)
        not_released: set[str] = set()
        if o.wait and completed:
            ips = {t.ip for t in todo if t.outcome is Outcome.RECLAIMED and t.ip}
            with Progress(out, len(ips), "waiting for VpcIPs") as bar:
                not_released = wait_released(c, tke, ips, o.wait_seconds, bar.advance)
            if fmt == "table":
                for t in sorted(todo, key=lambda t: t.key):
                    if t.outcome is Outcome.RECLAIMED and t.ip:
                        freed = t.ip not in not_released
                        g.out.styled(
                            [
                                (f"{'released' if freed else 'not released':<12}", None),
                                (f" {t.ip} (vipc/{t.namespace}/{t.name})", None),
                                ("" if freed else f": still there after {o.timeout}", None),
                            ]
                        )
        _finish(
            g,
            targets,
            fmt,
            identity,
            o.dry_run,
            None if g.sandbox else audit.path,  # a --sandbox run's audit goes with it
            not_released,
            unsure,
            maximum if over_max else None,
            rules.scaled_in_for,
        )
        finished = True
    except KeyboardInterrupt:
        pass  # said below, with what was done
    finally:
        if not completed:  # the interruption decides the exit code, whatever else happened
            interrupt.report(
                out, "interrupted: no new deletes were started; run the command again to finish"
            )
            raise typer.Exit(130)
    if not finished:  # a Ctrl-C while waiting or writing the result: the deletes were all done
        interrupt.report(
            out,
            "interrupted after the deletes: every selected claim was processed; "
            "what was reclaimed is recorded in "
            + ("the sandbox's audit, gone with it" if g.sandbox else str(audit.path)),
        )
        raise typer.Exit(130)


def _duration(text: str, flag: str) -> Any:
    try:
        return parse_go_duration(text)
    except DurationError as e:
        raise UsageError(f"invalid {flag}: {e}") from None


def _load_plan(path: Path) -> Any:
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(rc.PLAN_MAX_BYTES + 1)
        else:
            with path.open("rb") as f:
                data = f.read(rc.PLAN_MAX_BYTES + 1)
    except OSError as e:
        raise UsageError(f"cannot read the plan file {path}: {e.strerror or e}") from None
    return rc.parse_plan_text(data, str(path))


def _show_plan(g: Globals, targets: list[Target], dry_run: bool) -> None:
    if not targets:
        g.out.info("No claims to reclaim.")
        return
    rows = []
    for t in sorted(targets, key=lambda t: t.key):
        action = ACTION_WORDS.get(t.outcome, "reclaim") if t.outcome else "reclaim"
        rows.append([t.namespace, t.name, t.ip or "<none>", t.state, action, t.detail or t.reason])
    g.out.table(
        ["NAMESPACE", "CLAIM", "IP", "STATE", "ACTION", "REASON"], rows, style_column="STATE"
    )
    g.out.line()


def _line(g: Globals, t: Target) -> None:
    outcome = OUTCOME_WORDS.get(t.outcome.value, t.outcome.value) if t.outcome else "?"
    ip = f" ({t.ip})" if t.ip else ""
    g.out.styled(
        [
            (f"{outcome:<9}", _STYLE.get(outcome)),
            (f" vipc/{t.namespace}/{t.name}{ip}: {t.detail}", None),
        ]
    )


_STYLE = {"reclaimed": "green", "refused": "yellow", "skipped": "yellow", "failed": "red"}


def _finish(
    g: Globals,
    targets: list[Target],
    fmt: str,
    identity: dict[str, Any],
    dry_run: bool,
    audit_path: Path | None,
    not_released: set[str],
    unsure: list[tuple[Any, str]],
    refused_by_max: int | None = None,
    kept_for: timedelta | None = None,
    access: Access | None = None,
) -> None:
    """The result: a table's lines and summary, or one document. A dry run also says which verbs
    of the real run this user lacks (`access`), and fails (exit 1) when any is missing."""
    counts: dict[str, int] = {o.value: 0 for o in Outcome}
    for t in targets:
        counts[(t.outcome or Outcome.SKIPPED).value] += 1
    max_note = (
        f"the real run would be refused: {plural(counts['wouldReclaim'], 'claim')} are more than "
        f"--max {refused_by_max}; raise --max to go ahead"
        if refused_by_max is not None
        else None
    )
    if fmt in ("json", "yaml"):
        items = [target_doc(t, not_released) for t in sorted(targets, key=lambda t: t.key)]
        meta: dict[str, Any] = {
            "dryRun": dry_run,
            "cluster": identity,
            "auditFile": str(audit_path) if audit_path else None,
        }
        if unsure:
            meta["notSelected"] = [
                {"namespace": r.namespace, "name": r.name, "reason": why} for r, why in unsure
            ]
        if max_note:
            meta["refusedByMax"] = refused_by_max
        if kept_for is not None:
            meta["scaledInFor"] = format_go_duration(kept_for)
        if access is not None and access.lacks:
            meta["missingPermissions"] = [lk.doc() for lk in access.lacks]
        if access is not None and access.unknown:
            meta["permissionsUnknown"] = access.unknown
        doc = common.document(
            "ReclaimResult",
            items,
            metadata=meta,
            summary={k: v for k, v in counts.items() if v},
        )
        g.out.document(doc, fmt)
        if max_note:
            g.out.warn(max_note)
        _say_access(g, access)
        if dry_run and counts["wouldReclaim"]:
            g.out.info(RECHECK_NOTE)
    else:
        if dry_run:
            for t in sorted(targets, key=lambda t: t.key):
                if t.outcome is Outcome.REFUSED:
                    continue
                _line(g, t)
        elif any(t.outcome in (Outcome.NOT_FOUND, Outcome.ALREADY) for t in targets):
            for t in sorted(targets, key=lambda t: t.key):
                if t.outcome in (Outcome.NOT_FOUND, Outcome.ALREADY) and t.row is None:
                    _line(g, t)  # not run through the executor, so not printed yet
        summary = ", ".join(f"{v} {OUTCOME_WORDS.get(k, k)}" for k, v in counts.items() if v)
        summary = summary or "nothing to do"
        g.out.line(("Dry run: " if dry_run else "") + summary)
        if max_note:
            g.out.warn(max_note)
        _say_access(g, access)
        if dry_run and counts["wouldReclaim"]:
            g.out.info(RECHECK_NOTE)
        if audit_path is not None and counts["reclaimed"]:
            g.out.info(f"Audit: {audit_path}")
        elif g.sandbox and counts["reclaimed"]:
            g.out.info("Audit: none kept (a --sandbox run's records go with its sandbox)")
        if not_released:
            g.out.warn(
                "not released in time (ipamd may be down or slow): "
                + ", ".join(sorted(not_released))
            )
    bad = counts["refused"] + counts["failed"] + counts["skipped"]
    lacking = access is not None and bool(access.lacks)
    if bad or not_released or lacking or (dry_run and refused_by_max is not None):
        raise typer.Exit(ExitCode.FAILED)


def _say_access(g: Globals, access: Access | None) -> None:
    if access is None:
        return
    for lk in access.lacks:
        g.out.warn(lk.line())
    if access.lacks:
        g.out.info("Ask for these verbs before the real run (README: RBAC).")
    if access.unknown:
        g.out.warn(f"{access.unknown}: the real run's rights are not checked")
