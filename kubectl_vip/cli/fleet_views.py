"""Fleet output of list, usage and doctor (--contexts/--all-contexts): each command's own
one-cluster computation, run per context by ops/fleet.py, merged here.

Tables gain a first CONTEXT column, a summary line per context and a fleet total; a JSON/YAML
document's items each carry `context` and `cluster` (server, kube-system uid). Contexts that
reach one cluster (ops/fleet.group_clusters) are shown and counted once, under the first of
them; the others are named beside it and in `metadata.contexts[].sameClusterAs`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..model import claims as cl
from ..model.claims import ClaimRow
from ..model.words import plural
from ..ops.fleet import Answer, aliases, answered_note, distinct, exit_code, group_clusters
from ..ops.gather import read_rows
from ..term.render import PlainItems
from . import common
from .claims_rows import claim_cells, claim_headers, ipamd_doc, reclaim_hint, row_doc, sort_rows
from .common import Globals, iso
from .usage_rows import percent_text, subnet_cells, subnet_doc, zone_doc


class Clusters:
    """The answers grouped by cluster: `done` holds one answer per cluster."""

    def __init__(
        self, answers: list[Answer[Any]], prefer: Callable[[Answer[Any]], bool] | None = None
    ) -> None:
        self.answers = answers
        self.speaker = group_clusters(answers, prefer)
        self.also = aliases(self.speaker)
        self.done = [(a, a.value) for a in distinct(answers, self.speaker) if a.value is not None]

    def label(self, context: str) -> str:
        """`admin (also: readonly)` where other contexts reached the same cluster."""
        also = self.also.get(context)
        return f"{context} (also: {', '.join(also)})" if also else context

    def duplicates(self) -> list[tuple[str, str]]:
        """(context, the context it is counted under) for each context not counted itself."""
        return [(c, s) for c, s in self.speaker.items() if c != s]

    def note(self) -> str:
        return answered_note(self.answers, self.speaker)

    def meta(self) -> list[dict[str, Any]]:
        return [
            {
                "name": a.context,
                "cluster": a.cluster if a.ok else None,
                "error": None if a.ok else a.why(),
                "sameClusterAs": _other(self.speaker.get(a.context), a.context),
            }
            for a in self.answers
        ]

    def say_duplicates(self, g: Globals) -> None:
        for ctx, first in self.duplicates():
            g.out.line(f"{ctx}: the same cluster as {first}, counted once there")


def _other(speaker: str | None, context: str) -> str | None:
    return speaker if speaker and speaker != context else None


def _warn(g: Globals, context: str, warnings: list[str]) -> None:
    for w in warnings:
        g.out.warn(f"context {context}: {w}")


# ---------------------------------------------------------------------------- list


def fleet_list(
    g: Globals,
    fmt: str,
    states: set[str],
    selector: str | None,
    sort_by: str,
    no_headers: bool,
    chunk_size: int,
) -> int:
    def work(c: Any) -> tuple[Any, list[ClaimRow], datetime, str]:
        snap, rows, now = read_rows(c, g.scope_on(c), selector, chunk_size)
        claims = c.tke().claims  # found by the snapshot already
        return snap, rows, now, f"{claims.kind.lower()}.{claims.group}"

    answers = g.run_fleet(work)
    cs = Clusters(answers)
    done = cs.done
    shown: list[tuple[str, dict[str, Any], list[ClaimRow], list[ClaimRow], datetime]] = []
    kinds = {a.context: v[3] for a, v in done}
    for a, (snap, rows, now, _kind) in done:
        _warn(g, a.context, snap.warnings)
        picked = sort_rows([r for r in rows if not states or r.state.value in states], sort_by)
        shown.append((a.context, a.cluster, rows, picked, now))
    if fmt in ("json", "yaml"):
        items = (
            {"context": ctx, "cluster": ident, **row_doc(r, now)}
            for ctx, ident, _rows, picked, now in shown
            for r in picked
        )
        total = cl.summarize([r for *_, picked, _now in shown for r in picked])
        meta_ipamd = {a.context: ipamd_doc(v[0].ipamd) for a, v in done}
        doc = common.document(
            "ClaimList",
            PlainItems(items),
            metadata={
                "generatedAt": iso(datetime.now(timezone.utc)),
                "namespace": g.namespace if not g.all_namespaces else None,
                "fleet": True,
                "contexts": [{**m, "ipamd": meta_ipamd.get(m["name"])} for m in cs.meta()],
            },
            summary={
                "states": total,
                "freeable": sum(cl.freeable(rows) for _c, _i, rows, _p, _n in shown),
                "contexts": {
                    ctx: {"states": cl.summarize(picked), "freeable": cl.freeable(rows)}
                    for ctx, _i, rows, picked, _n in shown
                },
            },
        )
        g.out.document(doc, fmt)
        return exit_code(answers)
    if fmt == "name":
        for ctx, _i, _rows, picked, _n in shown:
            for r in picked:
                # CONTEXT NAMESPACE kind/name: what `kubectl --context C -n NS get` takes
                g.out.raw_line(f"{ctx} {r.namespace} {kinds[ctx]}/{r.name}")
        return exit_code(answers)
    wide = fmt == "wide"
    # a namespace column whenever contexts may differ in namespace (their own defaults)
    ns_column = True
    table = [
        [ctx, *claim_cells(r, wide, ns_column, now)]
        for ctx, _i, _rows, picked, now in shown
        for r in picked
    ]
    if table:
        headers = ["CONTEXT", *claim_headers(wide, ns_column)]
        g.out.table(headers, table, style_column="STATE", no_headers=no_headers)
    elif done:
        g.out.info("No claims found in any context.")
    if no_headers or not done:
        return exit_code(answers)
    g.out.line()
    every: list[ClaimRow] = []
    for ctx, _i, _rows, picked, _n in shown:
        every += picked
        g.out.line(f"{cs.label(ctx)}: {_claims_summary(picked)}")
    cs.say_duplicates(g)
    g.out.line(f"Fleet ({cs.note()}): {_claims_summary(every)}")
    if g.all_namespaces or g.namespace:  # else each context's own namespace: no one flag says it
        hint = reclaim_hint(
            [r for _c, _i, rows, _p, _n in shown for r in rows], states, g.namespace, selector
        )
        if hint:
            g.out.line(hint.replace(" --dry-run", f" {_contexts_flag(g)} --dry-run"))
    if any(r.released_estimated for r in every):
        g.out.line("~ release time estimated from the claim's managedFields")
    return exit_code(answers)


def _contexts_flag(g: Globals) -> str:
    import shlex

    if g.all_contexts:
        return "--all-contexts"
    return "--contexts " + shlex.quote(",".join(g.contexts))


def _claims_summary(rows: list[ClaimRow]) -> str:
    counts = cl.summarize(rows)
    parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    return plural(len(rows), "claim") + (f": {parts}" if parts else "")


# ---------------------------------------------------------------------------- usage


def fleet_usage(g: Globals, fmt: str, chunk_size: int) -> int:
    from ..model import usage as us
    from ..ops.usage_reads import compute

    answers = g.run_fleet(lambda c: compute(c, chunk_size))
    cs = Clusters(answers)
    done = cs.done
    for a, (facts, _rows, _zones) in done:
        _warn(g, a.context, facts.warnings)
    if fmt == "prometheus":
        g.out.raw(us.prometheus_fleet_text([(a.context, r, z) for a, (_f, r, z) in done]))
        return exit_code(answers)
    if fmt in ("json", "yaml"):
        doc = common.document(
            "SubnetUsageList",
            [
                {"context": a.context, "cluster": a.cluster, **subnet_doc(r)}
                for a, (_f, rows, _z) in done
                for r in rows
            ],
            metadata={
                "generatedAt": iso(datetime.now(timezone.utc)),
                "reservedPerSubnet": us.RESERVED_PER_SUBNET,
                "fleet": True,
                "contexts": cs.meta(),
            },
            zones=[
                {"context": a.context, **zone_doc(z)} for a, (_f, _r, zones) in done for z in zones
            ],
        )
        g.out.document(doc, fmt)
        return exit_code(answers)
    headers = ["CONTEXT", "SUBNET", "CIDR", "ZONE", "SIZE", "USED", "IN USE", "RETAINED"]
    headers += ["LEAKED", "FREE", "USE%"]
    table = [[a.context, *subnet_cells(r)] for a, (_f, rows, _z) in done for r in rows]
    if table:
        g.out.table(headers, table)
    elif done:
        g.out.info("No container subnets or VpcIPs found in any context.")
    if not done:
        return exit_code(answers)
    g.out.line()
    fleet_rows: list[Any] = []
    for a, (_f, rows, _z) in done:
        fleet_rows += rows
        g.out.line(f"{cs.label(a.context)}: {_usage_summary(rows)}")
    cs.say_duplicates(g)
    g.out.line(f"Fleet ({cs.note()}): {_usage_summary(fleet_rows)}")
    return exit_code(answers)


def _usage_summary(rows: list[Any]) -> str:
    from ..model import usage as us

    known = [r for r in rows if r.size is not None]
    size = sum(r.size or 0 for r in known)
    used = sum(r.used for r in rows)
    kept, leaked = sum(r.kept for r in rows), sum(r.leaked for r in rows)
    pct = percent_text(us.percent_of(sum(r.used for r in known), size)) if known else "-"
    return (
        f"{plural(len(rows), 'subnet')}, {used} IPs used of {size} usable ({pct}); "
        f"{kept} held by claims without a Pod, {leaked} leaked"
    )


# ---------------------------------------------------------------------------- doctor


def fleet_doctor(g: Globals, fmt: str, mode: str, selected: list[Any], chunk_size: int) -> int:
    from ..doctor import report
    from ..ops.doctor_reads import examine

    answers = g.run_fleet(lambda c: (c.server, *examine(c, selected, chunk_size)))
    cs = Clusters(answers)
    done = cs.done
    codes = {a.context: int(report.exit_code(results, mode)) for a, (_s, results, _n) in done}
    worst = max(codes.values(), default=0)
    if fmt in ("json", "yaml"):
        items = []
        for a, (server, results, snap) in done:
            g.aim_at(a.context)  # each context's fixes name it
            one = report.document(results, snap, server=server, fail_on=mode)
            items.append({"context": a.context, "cluster": a.cluster, **common.aim_doc(g.out, one)})
        g.aim_hints()
        summary: dict[str, Any] = {}
        for a in answers:
            if a.ok and cs.speaker.get(a.context) != a.context:
                summary[a.context] = {"sameClusterAs": cs.speaker[a.context]}
            elif a.ok and a.value is not None:
                summary[a.context] = {**report.counts(a.value[1]), "exitCode": codes[a.context]}
            elif a.error is not None:
                summary[a.context] = {"error": a.why(), "exitCode": int(a.error.exit_code)}
        doc = common.document(
            "DoctorReportList",
            items,
            metadata={"failOn": mode, "fleet": True, "contexts": cs.meta()},
            summary={"contexts": summary, "exitCode": exit_code(answers, worst)},
        )
        g.out.document(doc, fmt)
        return exit_code(answers, worst)
    for a, (server, results, _snap) in done:
        g.out.styled([(f"Context {cs.label(a.context)} ({server})", "bold")])
        g.aim_at(a.context)  # its fixes name it: pasted, they act on that cluster
        for line in report.text_lines(results, mode):
            g.out.styled(
                [("  " + text if i == 0 else text, style) for i, (text, style) in enumerate(line)]
            )
        g.aim_hints()
        g.out.line()
    rows = []
    for a in answers:
        first = cs.speaker.get(a.context)
        if a.ok and first != a.context:
            rows.append([a.context, "-", "-", "-", f"= {first}"])  # counted under `first`
        elif a.ok and a.value is not None:
            c = report.counts(a.value[1])
            rows.append(
                [
                    a.context,
                    str(c["error"]),
                    str(c["warning"]),
                    str(c["info"]),
                    str(codes[a.context]),
                ]
            )
        else:
            rows.append([a.context, "-", "-", "-", "failed"])
    g.out.table(["CONTEXT", "ERRORS", "WARNINGS", "INFO", "EXIT"], rows)
    if cs.duplicates():
        g.out.line("= the same cluster as that context, counted once there")
    totals = {"error": 0, "warning": 0, "info": 0}
    for _a, (_s, results, _n) in done:
        for k, v in report.counts(results).items():
            totals[k] += v
    g.out.line()
    g.out.line(
        f"Fleet ({cs.note()}): {plural(totals['error'], 'error')}, "
        f"{plural(totals['warning'], 'warning')}, {totals['info']} info; "
        f"exit {exit_code(answers, worst)} (--fail-on {mode})"
    )
    return exit_code(answers, worst)
