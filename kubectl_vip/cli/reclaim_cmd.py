"""`kubectl vip reclaim`: give static IPs back without ever breaking a live Pod."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from .. import interrupt
from ..errors import ExitCode, RefusedError, UsageError
from ..model import reclaim as rc
from ..model.duration import DurationError, parse_go_duration
from ..model.reclaim import Criteria, Outcome, Rules, Target
from ..model.words import plural
from ..term.render import Progress
from . import common
from .common import Globals

EPILOG = """Examples:

\b
  kubectl vip reclaim redis-3 -n db                  # one claim whose Pod is gone
  kubectl vip reclaim --orphaned --overdue -A --dry-run -o json > plan.json
  kubectl vip reclaim --from-file plan.json --yes --wait
  kubectl vip reclaim --owner statefulset/web -n shop --dry-run   # a workload deleted earlier

Safety: a claim whose Pod exists (Running, Pending, Terminating) is always refused; the Pod is
read again right before each delete, and the delete carries the claim's uid and resourceVersion,
so a claim that changed meanwhile is left alone. VpcIPs are never deleted (ipamd releases them).
Every reclaimed claim is appended to an audit file first and recorded as an Event
(reason StaticIPReclaimed).
"""


AUDIT_FILE = "reclaim-audit.jsonl"
# a dry run decides on the state it has just listed; the real run checks each claim again
RECHECK_NOTE = (
    "A real run reads each claim's Pod, VpcIP and owner again right before its delete, "
    "and leaves alone any that changed."
)
OPTIONS = (
    "names",
    "ip",
    "orphaned",
    "overdue",
    "retained_for",
    "owner",
    "selector",
    "from_file",
    "dry_run",
    "yes",
    "wait_",
    "timeout",
    "include_completed",
    "allow_new_ip",
    "maximum",
    "concurrency",
    "output",
)


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
    owner: str | None = typer.Option(
        None,
        "--owner",
        help="Claims NAME-<ordinal> of a workload that is gone (or of ordinals it no longer "
        "keeps), e.g. statefulset/web, tapp/web, statefulset.apps.kruise.io/web. One namespace.",
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
    options = {
        "names": names,
        "ip": ip,
        "orphaned": orphaned,
        "overdue": overdue,
        "retained_for": retained_for,
        "owner": owner,
        "selector": selector,
        "from_file": from_file,
        "dry_run": dry_run,
        "yes": yes,
        "wait_": wait_,
        "timeout": timeout,
        "include_completed": include_completed,
        "allow_new_ip": allow_new_ip,
        "maximum": maximum,
        "concurrency": concurrency,
        "output": output,
    }
    reclaim(common.globals_of(ctx), options)


def reclaim(g: Globals, options: dict[str, Any], plan_doc: Any = None) -> None:
    """One context's reclaim. A fleet plan runs this once per context, with that context's
    part of the plan as `plan_doc` (checked exactly as a plan file is)."""
    (
        names,
        ip,
        orphaned,
        overdue,
        retained_for,
        owner,
        selector,
        from_file,
        dry_run,
        yes,
        wait_,
        timeout,
        include_completed,
        allow_new_ip,
        maximum,
        concurrency,
        output,
    ) = (options[k] for k in OPTIONS)
    fmt = common.check_format(output, common.DOC_FORMATS)
    names = [common.check_name(n, "claim name") for n in names or []]
    common.check_selector(selector)
    owner_key = rc.parse_owner(owner) if owner is not None else None
    criteria = Criteria(
        orphaned,
        overdue,
        _duration(retained_for, "--retained-for") if retained_for else None,
        owner_key,
    )
    wait_timeout = _duration(timeout, "--timeout").total_seconds()
    ip_value = rc.parse_ip(ip) if ip is not None else None
    forms = sum(bool(x) for x in (names, ip_value, criteria.any or selector, from_file is not None))
    if forms == 0:
        raise UsageError(
            "nothing to reclaim: give claim names, --ip, --orphaned, --overdue, --retained-for, "
            "--owner, -l or --from-file (a namespace alone selects nothing)"
        )
    if forms > 1:
        raise UsageError("claim names, --ip, bulk selection and --from-file cannot be combined")
    if names and g.all_namespaces:
        raise UsageError("claim names need one namespace (-n), not -A")
    if owner_key is not None and g.all_namespaces:
        raise UsageError("--owner needs one namespace (-n), not -A")
    if wait_ and dry_run:
        raise UsageError("--wait cannot be combined with --dry-run")
    rules = Rules(include_completed, allow_new_ip)
    doc = plan_doc
    if doc is None and from_file is not None:
        doc = _load_plan(from_file)
        if rc.is_fleet_plan(doc):
            from .fleet_reclaim import run_fleet_plan

            return run_fleet_plan(g, doc, fmt, lambda one, part: reclaim(one, options, part))
    if g.fleet:
        from .fleet_reclaim import fleet_dry_run

        if not dry_run:
            raise UsageError(
                "reclaim changes one context at a time: add --dry-run for a fleet plan "
                "(-o json > plan.json), then reclaim --from-file plan.json"
            )
        if names or ip_value or owner_key or from_file is not None:
            raise UsageError(
                "across contexts, reclaim selects with --orphaned, --overdue, --retained-for "
                "or -l only"
            )
        return fleet_dry_run(g, fmt, criteria, selector, rules, maximum)
    plan = rc.read_plan(doc) if from_file is not None else None
    for t in plan.items if plan is not None else []:
        # a plan is a file anyone may have edited: its names are checked as on the line
        common.check_namespace(t.namespace, "in the plan")
        common.check_name(t.name, "claim name in the plan")

    from ..ops import gather
    from ..ops.reclaim_exec import Audit, Executor, RunOptions
    from ..ops.reclaim_exec import dry_run as decide_dry_run
    from ..ops.sweep_watch import wait_released

    c = g.cluster()
    tke = c.tke()
    identity = gather.cluster_identity(c)
    unsure: list[tuple[Any, str]] = []
    assumed = (owner_key[0], g.scope() or "", owner_key[1]) if owner_key else None
    if plan is not None:
        rc.check_same_cluster(plan.cluster, identity)
        targets = plan.items
        if g.namespace is not None and not g.all_namespaces:
            for t in targets:
                if t.namespace != g.namespace:
                    t.outcome = Outcome.REFUSED
                    t.detail = (
                        f"in namespace {t.namespace}, outside -n {g.namespace} "
                        "(use -A to take the whole plan)"
                    )
        namespaces = sorted({t.namespace for t in targets if t.outcome is None})
        snap = gather.snapshot(c, namespaces[0] if len(namespaces) == 1 else None)
        rows = {r.key: r for r in _classify(c, snap)}
        for t in targets:
            t.row = rows.get(t.key)
            if t.row is not None:
                t.state, t.reason = t.row.state.value, t.row.reason
            elif t.outcome is None:
                t.outcome, t.detail = Outcome.NOT_FOUND, "not found: the claim no longer exists"
    else:
        targets, unsure, snap = select_targets(
            g, c, tke, names, ip_value, criteria, selector, rules, assumed
        )
    decide_all(targets, rules)
    todo = [t for t in targets if t.outcome is None]
    over_max = len(todo) > maximum  # as the real run counts, before its last checks
    if dry_run:  # the real run's last checks, on the state just listed: no request per claim
        strict = plan is not None
        decide_dry_run(todo, snap.inventory, snap.ipamd.policy, c.now(), rules, strict_plan=strict)
    out = g.out
    if fmt == "table":
        _show_plan(g, targets, dry_run)
        show_unsure(g, unsure)
    if dry_run or not todo:
        _finish(
            g, targets, fmt, identity, dry_run, None, set(), unsure, maximum if over_max else None
        )
        return
    rc.check_cap(len(todo), maximum)
    _check_delete_allowed(c, tke, todo)
    if not yes:
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
            RunOptions(rules, concurrency, strict_plan=plan is not None, assumed=assumed),
            audit,
            done,
            out.warn,
        )
        completed = ex.run(todo)
    finished = False  # the lines, the wait and the result all written
    try:
        if show_lines:
            for t in sorted(todo, key=lambda t: t.key):
                if t.outcome is not None:
                    _line(g, t)
        not_released: set[str] = set()
        if wait_ and completed:
            ips = {t.ip for t in todo if t.outcome is Outcome.RECLAIMED and t.ip}
            with Progress(out, len(ips), "waiting for VpcIPs") as bar:
                not_released = wait_released(c, tke, ips, wait_timeout, bar.advance)
            if fmt == "table":
                for t in sorted(todo, key=lambda t: t.key):
                    if t.outcome is Outcome.RECLAIMED and t.ip:
                        freed = t.ip not in not_released
                        g.out.styled(
                            [
                                (f"{'released' if freed else 'not released':<12}", None),
                                (f" {t.ip} (vipc/{t.namespace}/{t.name})", None),
                                ("" if freed else f": still there after {timeout}", None),
                            ]
                        )
        _finish(
            g,
            targets,
            fmt,
            identity,
            dry_run,
            audit.path,
            not_released,
            unsure,
            maximum if over_max else None,
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
            f"what was reclaimed is recorded in {audit.path}",
        )
        raise typer.Exit(130)


def decide_all(targets: list[Target], rules: Rules) -> None:
    """What the classification says, before anything is read again."""
    for t in targets:
        if t.row is not None and t.outcome is None:
            ok, why = rc.decide(t.row, rules)
            if not ok:
                t.outcome, t.detail = Outcome.REFUSED, why


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


def _classify(c: Any, snap: Any) -> list[Any]:
    from ..model.claims import classify

    return classify(snap.inventory, snap.ipamd.policy, c.now())


def select_targets(
    g: Globals,
    c: Any,
    tke: Any,
    names: list[str],
    ip: str | None,
    criteria: Criteria,
    selector: str | None,
    rules: Rules,
    assumed: tuple[str, str, str] | None,
) -> tuple[list[Target], list[tuple[Any, str]], Any]:
    """The claims asked for, classified on one snapshot (returned too: a dry run decides on it),
    and those a time criterion leaves out for lack of facts."""
    from ..model import schema
    from ..ops import gather

    if ip is not None:
        vip = c.get(tke.vips, ip)
        ref = schema.vip_claim_ref(vip) if vip else None
        snap = gather.snapshot(c, ref.namespace if ref else None)
        rows = [r for r in _classify(c, snap) if r.ip == ip]
        if not rows:
            raise RefusedError(
                f"no claim holds IP {ip}" + ("" if vip else " (and no VpcIP exists for it)")
            )
        return [Target.of(rows[0])], [], snap
    if names:
        ns = g.scope()
        assert ns is not None
        snap = gather.snapshot(c, ns)
        by_name = {r.name: r for r in _classify(c, snap)}
        targets = []
        missing = []
        for n in dict.fromkeys(names):
            if n in by_name:
                targets.append(Target.of(by_name[n]))
                continue
            when = _reclaimed_before(c, ns, n, g.state_dir() / AUDIT_FILE)
            if when is None:
                missing.append(n)
                continue
            t = Target(ns, n, None, None, None, "", "")
            t.outcome, t.detail = Outcome.ALREADY, f"already reclaimed ({when})"
            targets.append(t)
        if missing:
            common.ensure_namespace(g, ns)
            which = ", ".join(f'"{n}"' for n in missing)
            raise RefusedError(f'claim {which} not found in namespace "{ns}"')
        return targets, [], snap
    scope = g.scope()
    snap = gather.snapshot(c, scope, label_selector=selector, assumed=assumed)
    rows = _classify(c, snap)
    chosen, unsure = rc.select(rows, criteria, rules)
    skipped = len(rows) - len(chosen)
    if selector and not criteria.any and skipped:
        g.out.info(
            f"{plural(skipped, 'claim')} matching -l {selector} are in use or not reclaimable: "
            "left alone"
        )
    targets = [Target.of(r) for r in chosen]
    for t in targets:
        t.criteria = criteria
    return targets, unsure, snap


def _reclaimed_before(c: Any, namespace: str, name: str, audit_file: Path) -> str | None:
    """Evidence that this tool reclaimed the claim earlier: our Event on it in the cluster, or a
    record in the local audit file for this cluster. None when there is none."""
    from ..api import cluster as api
    from ..errors import ApiError
    from ..model import schema
    from ..ops.reclaim_exec import audit_records

    try:
        events, _ = c.list(
            api.EVENTS,
            namespace,
            field_selector=f"involvedObject.name={name},reason={rc.EVENT_REASON}",
        )
    except ApiError:
        events = []
    if events:
        last = max(schema.text(e.get("lastTimestamp")) or "" for e in events)
        return f"Event {rc.EVENT_REASON} {last}".strip()
    for rec in audit_records(audit_file, namespace, name, c.server):
        return f"audit file, {rec}"
    return None


def _check_delete_allowed(c: Any, tke: Any, targets: list[Target]) -> None:
    """Ask once per namespace whether we may delete claims, before touching anything."""
    from ..errors import ApiError, Forbidden

    for ns in sorted({t.namespace for t in targets}):
        try:
            allowed = c.can_i("delete", tke.claims, ns)
        except ApiError:
            return  # cannot ask: the delete itself will tell
        if not allowed:
            raise Forbidden(
                f'you may not delete vpcipclaims.{tke.claims.group} in namespace "{ns}"',
                hint="ask for get, list and delete on vpcipclaims (README: RBAC)",
            )


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


ACTION_WORDS = {
    Outcome.REFUSED: "refuse",
    Outcome.NOT_FOUND: "none",
    Outcome.ALREADY: "none",
}


def show_unsure(g: Globals, unsure: list[tuple[Any, str]], where: str = "") -> None:
    """Claims a time criterion would have taken, had their release time been known (`where`:
    the context, in a fleet run)."""
    if not unsure:
        return
    names = ", ".join(f"{r.namespace}/{r.name}" for r, _ in unsure[:10])
    more = f" and {len(unsure) - 10} more" if len(unsure) > 10 else ""
    g.out.info(
        f"{where}not selected, release time unknown (only estimated): {names}{more}; "
        "reclaim them by name once you know their Pods are gone for good"
    )


OUTCOME_WORDS = {
    "wouldReclaim": "would reclaim",
    "notFound": "not found",
    "alreadyReclaimed": "already reclaimed",
}


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


def target_doc(t: Target, not_released: set[str]) -> dict[str, Any]:
    return {
        "namespace": t.namespace,
        "name": t.name,
        "uid": t.uid,
        "resourceVersion": t.resource_version,
        "ip": t.ip,
        "state": t.state,
        "result": (t.outcome or Outcome.SKIPPED).value,
        "reason": t.detail or t.reason,
        "released": None
        if t.outcome is not Outcome.RECLAIMED or not t.ip
        else t.ip not in not_released,
    }


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
) -> None:
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
        doc = common.document(
            "ReclaimResult",
            items,
            metadata=meta,
            summary={k: v for k, v in counts.items() if v},
        )
        g.out.document(doc, fmt)
        if max_note:
            g.out.warn(max_note)
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
        if dry_run and counts["wouldReclaim"]:
            g.out.info(RECHECK_NOTE)
        if audit_path is not None and counts["reclaimed"]:
            g.out.info(f"Audit: {audit_path}")
        if not_released:
            g.out.warn(
                "not released in time (ipamd may be down or slow): "
                + ", ".join(sorted(not_released))
            )
    bad = counts["refused"] + counts["failed"] + counts["skipped"]
    if bad or not_released or (dry_run and refused_by_max is not None):
        raise typer.Exit(ExitCode.FAILED)
