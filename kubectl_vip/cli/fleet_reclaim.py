"""reclaim across contexts: `--dry-run --contexts ...` makes a fleet plan (read-only, contexts
in parallel); `--from-file PLAN` with a fleet plan reclaims one context at a time, each
context's part checked exactly as a single-cluster plan (its cluster identity, -n bounds,
--max, confirmation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from ..api.redact import redact
from ..errors import ExitCode, RefusedError, VipError
from ..model import reclaim as rc
from ..model.duration import format_go_duration
from ..model.reclaim import Criteria, Outcome, Rules, Target
from ..ops.fleet import exit_code
from ..term.render import Out
from . import common
from .common import Globals
from .fleet_views import Clusters
from .reclaim_words import ACTION_WORDS, OUTCOME_WORDS, RECHECK_NOTE, show_unsure, target_doc


def fleet_dry_run(
    g: Globals,
    fmt: str,
    criteria: Criteria,
    selector: str | None,
    rules: Rules,
    maximum: int,
) -> None:
    from ..ops.reclaim_access import Access, check
    from ..ops.reclaim_exec import AUDIT_FILE, dry_run
    from ..ops.reclaim_select import decide_all, select_targets

    def work(c: Any) -> tuple[list[Target], list[tuple[Any, str]], bool, Access | None]:
        one = g.for_context(c.conn.context, cluster=c)
        chosen = select_targets(
            c,
            one.scope(),
            (),
            None,
            criteria,
            selector,
            rules,
            None,
            one.state_dir() / AUDIT_FILE,
        )
        if chosen.note:
            one.out.info(chosen.note)
        targets, unsure, snap = chosen.targets, chosen.unsure, chosen.snap
        decide_all(targets, rules)
        todo = [t for t in targets if t.outcome is None]
        over_max = len(todo) > maximum  # as that context's real run counts, before its checks
        # the real run's last checks, as the one-context dry run makes them: on this snapshot
        dry_run(todo, snap.inventory, snap.ipamd.policy, c.now(), rules)
        would = [t for t in todo if t.outcome is Outcome.WOULD_RECLAIM]
        return targets, unsure, over_max, check(c, would, snap.inventory) if would else None

    answers = g.run_fleet(work)
    # one cluster reached through two contexts is planned once, through a context that may
    # do the real run where there is one
    cs = Clusters(answers, prefer=lambda a: not (a.value and a.value[3] and a.value[3].lacks))
    results = cs.done
    done = [(a, targets) for a, (targets, _u, _m, _x) in results]
    unsure = [(a.context, r, why) for a, (_t, u, _m, _x) in results for r, why in u]
    over_max = [a.context for a, (_t, _u, over, _x) in results if over]
    lacks = [(a.context, x) for a, (_t, _u, _m, x) in results if x is not None]
    worst = ExitCode.OK
    for _a, targets in done:
        if any(t.outcome is not Outcome.WOULD_RECLAIM for t in targets):
            worst = ExitCode.FAILED  # as a one-context dry run: something would be refused
    if over_max or any(x.lacks for _c, x in lacks):
        worst = ExitCode.FAILED
    max_note = (
        f"the real run would be refused in {', '.join(over_max)}: more claims than --max "
        f"{maximum}; raise --max to go ahead"
        if over_max
        else None
    )
    code = exit_code(answers, worst)
    would = any(t.outcome is Outcome.WOULD_RECLAIM for _a, targets in done for t in targets)
    if fmt in ("json", "yaml"):
        items = [
            {"context": a.context, "cluster": a.cluster, **target_doc(t, set())}
            for a, targets in done
            for t in sorted(targets, key=lambda t: t.key)
        ]
        doc = common.document(
            "ReclaimResult",
            items,
            metadata={
                "dryRun": True,
                "fleet": True,
                "contexts": [{**m, **_access_meta(dict(lacks).get(m["name"]))} for m in cs.meta()],
                **(
                    {
                        "notSelected": [
                            {
                                "context": ctx,
                                "namespace": r.namespace,
                                "name": r.name,
                                "reason": why,
                            }
                            for ctx, r, why in unsure
                        ]
                    }
                    if unsure
                    else {}
                ),
                **({"refusedByMax": maximum} if over_max else {}),
                **(
                    {"scaledInFor": format_go_duration(rules.scaled_in_for)}
                    if rules.scaled_in_for is not None
                    else {}
                ),
            },
            summary=_counts([t for _a, targets in done for t in targets]),
        )
        g.out.document(doc, fmt)
        if max_note:
            g.out.warn(max_note)
        _say_lacks(g, lacks)
        if would:
            g.out.info(RECHECK_NOTE)
        raise typer.Exit(code)
    rows = [
        [
            a.context,
            t.namespace,
            t.name,
            t.ip or "<none>",
            t.state,
            ACTION_WORDS.get(t.outcome, "reclaim") if t.outcome else "reclaim",
            t.detail or t.reason,
        ]
        for a, targets in done
        for t in sorted(targets, key=lambda t: t.key)
    ]
    if rows:
        headers = ["CONTEXT", "NAMESPACE", "CLAIM", "IP", "STATE", "ACTION", "REASON"]
        g.out.table(headers, rows, style_column="STATE")
        g.out.line()
    elif done:
        g.out.info("No claims to reclaim in any context.")
    every: list[Target] = []
    for a, targets in done:
        every += targets
        g.out.line(f"{cs.label(a.context)}: {_summary(targets)}")
    cs.say_duplicates(g)
    g.out.line(f"Dry run, fleet ({cs.note()}): {_summary(every)}")
    for a, (_t, u, _m, _x) in results:
        show_unsure(g, u, f"{a.context}: ")
    if max_note:
        g.out.warn(max_note)
    _say_lacks(g, lacks)
    if would:
        g.out.info(
            "To reclaim: save this plan with -o json > plan.json, then "
            "kubectl vip reclaim --from-file plan.json (one context at a time)"
        )
        g.out.info(RECHECK_NOTE)
    raise typer.Exit(code)


def _access_meta(access: Any) -> dict[str, Any]:
    if access is None:
        return {}
    meta: dict[str, Any] = {}
    if access.lacks:
        meta["missingPermissions"] = [lk.doc() for lk in access.lacks]
    if access.unknown:
        meta["permissionsUnknown"] = access.unknown
    return meta


def _say_lacks(g: Globals, lacks: list[tuple[str, Any]]) -> None:
    for ctx, access in lacks:
        for lk in access.lacks:
            g.out.warn(f"context {ctx}: {lk.line()}")
        if access.unknown:
            g.out.warn(
                f"context {ctx}: {access.unknown}: the real run's permissions are not checked"
            )


def _counts(targets: list[Target]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in targets:
        key = (t.outcome or Outcome.SKIPPED).value
        counts[key] = counts.get(key, 0) + 1
    return counts


def _summary(targets: list[Target]) -> str:
    counts = _counts(targets)
    return ", ".join(f"{n} {OUTCOME_WORDS.get(k, k)}" for k, n in counts.items()) or "nothing to do"


class _Collect(Out):
    """An Out whose documents are kept (merged into one fleet document) instead of written."""

    def __init__(self, base: Out) -> None:
        super().__init__(base.stdout, base.stderr, color=base.color)
        self.docs: list[Any] = []

    def document(self, doc: Any, fmt: str) -> None:
        self.docs.append(doc)


def run_fleet_plan(
    g: Globals, doc: dict[str, Any], fmt: str, run_one: Callable[[Globals, Any], None]
) -> None:
    """Each context's part of the plan, one context after another, through the one-context
    reclaim. A part that is refused (another cluster, -n bounds, --max, no confirmation) is
    refused item by item; the other contexts still run."""
    from ..api import kubeconfig

    parts = rc.split_fleet_plan(doc)
    available = set(kubeconfig.context_names(g.kubeconfig))
    wanted = set(g.fleet_contexts()) if g.fleet else ({g.context} if g.context else None)
    codes: list[int] = []
    items: list[dict[str, Any]] = []
    contexts: list[dict[str, Any]] = []
    for part in parts:
        why = ""
        if wanted is not None and part.context not in wanted:
            why = f"in context {part.context}, outside --context/--contexts"
        elif part.context not in available:
            why = f'context "{part.context}" not found in the kubeconfig'
        out = _Collect(g.out) if fmt != "table" else g.out
        if fmt == "table":
            g.out.styled([(f"Context {part.context}:", "bold")])
        code: int = ExitCode.OK
        error: str | None = None
        if why:
            code = ExitCode.FAILED
            _refuse(g, fmt, part, why, items)
        else:
            one = g.for_context(part.context, out=out)
            try:
                run_one(one, part.doc)
            except typer.Exit as e:
                if e.exit_code == 130:
                    raise
                code = e.exit_code
            except RefusedError as e:
                code, error = ExitCode.FAILED, redact(e.message)
                _refuse(g, fmt, part, error, items)
            except VipError as e:
                code, error = e.exit_code, redact(e.message + (f"; {e.hint}" if e.hint else ""))
                g.out.error(f"context {part.context}: {error}")
                _refuse(g, fmt, part, error, items, Outcome.FAILED)
            finally:
                one.close()
        if isinstance(out, _Collect):
            for d in out.docs:
                meta = d.get("metadata", {})
                contexts.append({"name": part.context, **meta, "exitCode": int(code)})
                for item in d.get("items", []):
                    items.append({"context": part.context, "cluster": part.cluster, **item})
        elif fmt == "table":
            g.out.line()
        if why or error:
            contexts.append({"name": part.context, "cluster": part.cluster, "error": why or error})
        codes.append(int(code))
    if fmt != "table":
        summary: dict[str, int] = {}
        for item in items:
            summary[item["result"]] = summary.get(item["result"], 0) + 1
        g.out.document(
            common.document(
                "ReclaimResult",
                items,
                metadata={"fleet": True, "contexts": contexts},
                summary=summary,
            ),
            fmt,
        )
    if codes and all(c == ExitCode.ACCESS for c in codes):
        raise typer.Exit(ExitCode.ACCESS)
    if any(codes):
        raise typer.Exit(ExitCode.FAILED)


def _refuse(
    g: Globals,
    fmt: str,
    part: rc.PlanPart,
    why: str,
    items: list[dict[str, Any]],
    outcome: Outcome = Outcome.REFUSED,
) -> None:
    """Every item of a part that did not run, refused with the part's reason."""
    for item in part.doc["items"]:
        if not isinstance(item, dict):
            continue
        ns, name = item.get("namespace"), item.get("name")
        if fmt == "table":
            g.out.styled([(f"{outcome.value:<9}", "yellow"), (f" vipc/{ns}/{name}: {why}", None)])
        else:
            items.append(
                {
                    "context": part.context,
                    "cluster": part.cluster,
                    "namespace": ns,
                    "name": name,
                    "uid": item.get("uid"),
                    "resourceVersion": item.get("resourceVersion"),
                    "ip": item.get("ip"),
                    "state": item.get("state"),
                    "result": outcome.value,
                    "reason": why,
                    "released": None,
                }
            )
