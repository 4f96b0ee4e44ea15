"""`kubectl vip reclaim`: give static IPs back without ever breaking a live Pod."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from .. import reclaim as rc
from ..duration import DurationError, parse_go_duration
from ..errors import ExitCode, RefusedError, UsageError
from ..reclaim import Criteria, Outcome, Rules, Target
from ..render import Progress
from . import common
from .common import Globals

EPILOG = """Examples:

\b
  kubectl vip reclaim redis-3 -n db                  # one claim whose Pod is gone
  kubectl vip reclaim --orphaned --overdue -A --dry-run -o json > plan.json
  kubectl vip reclaim --from-file plan.json --yes --wait

Safety: a claim whose Pod exists (Running, Pending, Terminating) is always refused; the Pod is
read again right before each delete, and the delete carries the claim's uid and resourceVersion,
so a claim that changed meanwhile is left alone. VpcIPs are never deleted (ipamd releases them).
Every reclaimed claim is appended to an audit file first and recorded as an Event
(reason StaticIPReclaimed).
"""


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
        help="Reclaim even when a StatefulSet will bring the Pod back (it gets a new IP).",
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
    g = common.globals_of(ctx)
    fmt = common.check_format(output, common.DOC_FORMATS)
    names = [common.check_name(n, "claim name") for n in names or []]
    common.check_selector(selector)
    criteria = Criteria(
        orphaned, overdue, _duration(retained_for, "--retained-for") if retained_for else None
    )
    wait_timeout = _duration(timeout, "--timeout").total_seconds()
    ip_value = rc.parse_ip(ip) if ip is not None else None
    forms = sum(bool(x) for x in (names, ip_value, criteria.any or selector, from_file))
    if forms == 0:
        raise UsageError(
            "nothing to reclaim: name claims, or use --ip, --orphaned, --overdue, --retained-for, "
            "-l or --from-file"
        )
    if forms > 1:
        raise UsageError("claim names, --ip, bulk selection and --from-file cannot be combined")
    if names and g.all_namespaces:
        raise UsageError("claim names need one namespace (-n), not -A")
    if wait_ and dry_run:
        raise UsageError("--wait cannot be combined with --dry-run")
    rules = Rules(include_completed, allow_new_ip)
    doc = _load_plan(from_file) if from_file else None

    from .. import gather
    from ..reclaim_exec import Audit, Executor, RunOptions, state_dir, wait_released
    from .list_cmd import cluster_identity

    c = g.cluster()
    tke = c.tke()
    identity = cluster_identity(g)
    if doc is not None:
        plan = rc.read_plan(doc)
        rc.check_same_cluster(plan.cluster, identity)
        targets = plan.items
        for t in targets:  # a plan is a file anyone may have edited: names as on the line
            common.check_namespace(t.namespace, "in the plan")
            common.check_name(t.name, "claim name in the plan")
        namespaces = sorted({t.namespace for t in targets})
        snap = gather.snapshot(c, namespaces[0] if len(namespaces) == 1 else None)
        rows = {r.key: r for r in _classify(c, snap)}
        for t in targets:
            t.row = rows.get(t.key)
            if t.row is not None:
                t.state, t.reason = t.row.state.value, t.row.reason
    else:
        targets = _targets(g, c, tke, names, ip_value, criteria, selector, rules)
    for t in targets:  # what the classification says, before anything is read again
        if t.row is not None and t.outcome is None:
            ok, why = rc.decide(t.row, rules)
            if not ok:
                t.outcome, t.detail = Outcome.REFUSED, why
    todo = [t for t in targets if t.outcome is None]
    rc.check_cap(len(todo), maximum)
    out = g.out
    if fmt == "table":
        _show_plan(g, targets, dry_run)
    if not todo:
        _finish(g, targets, fmt, identity, dry_run, None, set())
        return
    if not dry_run:
        _check_delete_allowed(c, tke, todo)
        if not yes:
            _confirm(g, len(todo))
    audit = None if dry_run else Audit(state_dir() / "reclaim-audit.jsonl", identity)
    from ..claims import IpamdPolicy

    policy: IpamdPolicy = gather.read_ipamd(c).policy
    show_lines = fmt == "table" and not dry_run
    with Progress(out, len(todo), "reclaiming") as bar:

        def done(t: Target) -> None:
            if show_lines:
                _line(g, t)
            bar.advance()

        ex = Executor(
            c,
            tke,
            policy,
            RunOptions(rules, dry_run, concurrency, strict_plan=doc is not None),
            audit,
            done,
            out.warn,
        )
        completed = ex.run(todo)
    not_released: set[str] = set()
    if wait_ and completed:
        ips = {t.ip for t in todo if t.outcome is Outcome.RECLAIMED and t.ip}
        with Progress(out, len(ips), "waiting for VpcIPs") as bar:
            not_released = wait_released(c, tke, ips, wait_timeout, bar.advance)
    try:
        _finish(g, targets, fmt, identity, dry_run, audit.path if audit else None, not_released)
    finally:
        if not completed:
            out.error("interrupted: no new deletes were started; run the command again to finish")
            raise typer.Exit(130)  # the interruption decides the exit code


def _duration(text: str, flag: str) -> Any:
    try:
        return parse_go_duration(text)
    except DurationError as e:
        raise UsageError(f"invalid {flag}: {e}") from None


def _load_plan(path: Path) -> Any:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read the plan file {path}: {e.strerror or e}") from None
    try:
        return json.loads(text)
    except ValueError:
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            raise UsageError(f"the plan file {path} is neither JSON nor YAML") from None


def _classify(c: Any, snap: Any) -> list[Any]:
    from ..claims import classify

    return classify(snap.inventory, snap.ipamd.policy, c.now())


def _targets(
    g: Globals,
    c: Any,
    tke: Any,
    names: list[str],
    ip: str | None,
    criteria: Criteria,
    selector: str | None,
    rules: Rules,
) -> list[Target]:
    from .. import gather, schema

    if ip is not None:
        vip = c.get(tke.vips, ip)
        ref = schema.vip_claim_ref(vip) if vip else None
        snap = gather.snapshot(c, ref.namespace if ref else None)
        rows = [r for r in _classify(c, snap) if r.ip == ip]
        if not rows:
            raise RefusedError(
                f"no claim holds IP {ip}" + ("" if vip else " (and no VpcIP exists for it)")
            )
        return [Target.of(rows[0])]
    if names:
        ns = g.scope()
        assert ns is not None
        snap = gather.snapshot(c, ns)
        by_name = {r.name: r for r in _classify(c, snap)}
        missing = [n for n in names if n not in by_name]
        if missing:
            common.ensure_namespace(g, ns)
            which = ", ".join(f'"{n}"' for n in missing)
            raise RefusedError(f'claim {which} not found in namespace "{ns}"')
        return [Target.of(by_name[n]) for n in dict.fromkeys(names)]
    scope = g.scope()
    snap = gather.snapshot(c, scope, label_selector=selector)
    rows = _classify(c, snap)
    chosen = rc.select(rows, criteria, rules)
    skipped = len(rows) - len(chosen)
    if selector and not criteria.any and skipped:
        g.out.info(
            f"{skipped} claims matching -l {selector} are in use or not reclaimable: left alone"
        )
    return [Target.of(r) for r in chosen]


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


def _confirm(g: Globals, n: int) -> None:
    stdin_tty = sys.stdin.isatty() if hasattr(sys.stdin, "isatty") else False
    if not (stdin_tty and g.out.tty):
        raise RefusedError(
            f"refusing to reclaim {n} claims without confirmation on a non-interactive terminal",
            hint="pass --yes, or --dry-run to preview",
        )
    answer = typer.prompt(f"Reclaim {n} claims? [y/N]", default="", show_default=False)
    if answer.strip().lower() not in ("y", "yes"):
        raise RefusedError("nothing reclaimed: not confirmed")


def _show_plan(g: Globals, targets: list[Target], dry_run: bool) -> None:
    if not targets:
        g.out.info("No claims to reclaim.")
        return
    rows = []
    for t in targets:
        action = "refuse" if t.outcome is Outcome.REFUSED else "reclaim"
        rows.append([t.namespace, t.name, t.ip or "<none>", t.state, action, t.detail or t.reason])
    g.out.table(
        ["NAMESPACE", "CLAIM", "IP", "STATE", "ACTION", "REASON"], rows, style_column="STATE"
    )
    g.out.line()


_HUMAN = {"wouldReclaim": "would reclaim"}


def _line(g: Globals, t: Target) -> None:
    outcome = _HUMAN.get(t.outcome.value, t.outcome.value) if t.outcome else "?"
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
) -> None:
    counts: dict[str, int] = {o.value: 0 for o in Outcome}
    for t in targets:
        counts[(t.outcome or Outcome.SKIPPED).value] += 1
    if fmt in ("json", "yaml"):
        items = [
            {
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
            for t in sorted(targets, key=lambda t: t.key)
        ]
        doc = common.document(
            "ReclaimResult",
            items,
            metadata={
                "dryRun": dry_run,
                "cluster": identity,
                "auditFile": str(audit_path) if audit_path else None,
            },
            summary={k: v for k, v in counts.items() if v},
        )
        g.out.document(doc, fmt)
    else:
        if dry_run:
            for t in targets:
                if t.outcome is Outcome.REFUSED:
                    continue
                _line(g, t)
        summary = ", ".join(f"{v} {_HUMAN.get(k, k)}" for k, v in counts.items() if v)
        summary = summary or "nothing to do"
        g.out.line(("Dry run: " if dry_run else "") + summary)
        if audit_path is not None and counts["reclaimed"]:
            g.out.info(f"Audit: {audit_path}")
        if not_released:
            g.out.warn(
                "not released in time (ipamd may be down or slow): "
                + ", ".join(sorted(not_released))
            )
    bad = counts["refused"] + counts["failed"] + counts["skipped"]
    if bad or not_released:
        raise typer.Exit(ExitCode.FAILED)
