"""kubectl-vip benchmarks: every figure of the performance targets, in one run.

    python bench/run.py                  # fast server at 1k, 3k, 10k, 30k; the sandbox at 10k
                                         # (every command, as a ratio to the floor, at 10k and 30k)
    python bench/run.py --quick          # a smoke run at small sizes, one run each (~20 s)
    python bench/run.py --vip-src DIR    # measure the kubectl_vip package in DIR (e.g. main)

Every figure is the median of --runs runs of a whole process (start-up included), measured with
os.wait4 (wall time and peak RSS); the cases run interleaved, after one warm-up run each. The
yardstick is the floor (bench/floor.py): the kubeconfig read, the three lists fetched paged over
keep-alive connections and parsed with orjson, joined in dicts, nothing printed, no kubernetes
import; every command is given as a ratio to it, measured in the same run.

Two servers, each in its own process:
- the fast server, `kubectl vip sandbox serve --frozen`: read-only, each answer (a page of a
  list with its continue token, a Table, discovery, a get) is made once and then served from its
  bytes, as a real kube-apiserver serves lists from its watch cache; nearly all the time measured
  is the client's;
- the project sandbox, `kubectl vip sandbox serve` (live, Python), as before.

Results are printed as tables and written as JSON (bench/results/latest.json unless --out).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # bench/harness.py, beside this file
    HERE,
    KUBECTL,
    KUBECTL_VIP,
    VIP,
    Case,
    Measure,
    Server,
    measure,
    run_one,
)


def kubectl_fetch(chunk0: bool) -> Case:
    extra = ["--chunk-size=0"] if chunk0 else []
    return Case(
        [
            [KUBECTL, "get", "vipc", "-A", "-o", "json", *extra],
            [KUBECTL, "get", "vip", "-o", "json", *extra],
            [KUBECTL, "get", "pods", "-A", "-o", "json", *extra],
        ]
    )


LEAN = Case([[sys.executable, str(HERE / "lean.py")]])
FLOOR = Case([[sys.executable, str(HERE / "floor.py")]])


def vip(*args: str, tty: bool = False) -> Case:
    return Case([[*VIP, *args]], tty)


def claims_in_state(env: dict[str, str], state: str) -> list[dict[str, Any]]:
    """`list -A --state STATE -o json`'s items (to pick the bench's targets)."""
    p = subprocess.run(
        [KUBECTL_VIP, "list", "-A", "--state", state, "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    items: list[dict[str, Any]] = json.loads(p.stdout)["items"]
    return items


def an_ip_in_use(env: dict[str, str]) -> str:
    return next(i["ip"] for i in claims_in_state(env, "InUse") if i["ip"])


def client_cases(env: dict[str, str]) -> dict[str, Case]:
    """Every command of the targets at the main size."""
    return {
        "list_json": vip("list", "-A", "-o", "json"),
        "list_table": vip("list", "-A"),
        "list_tty": vip("list", "-A", tty=True),
        "list_ips": vip("list", "--ips", "-A"),
        "usage": vip("usage"),
        "describe_ip": vip("describe", an_ip_in_use(env)),
        "reclaim_dry_run": vip("reclaim", "--dry-run", *SCALED_IN, "-A"),
        "reclaim_orphaned": vip("reclaim", "--dry-run", "--orphaned", "-A"),
        "doctor": vip("doctor", "-o", "json", "--fail-on", "never"),
        "floor": FLOOR,
        "lean": LEAN,
        "kubectl_chunk0": kubectl_fetch(True),
    }


def growth_cases() -> dict[str, Case]:
    """Made when used: `--vip-src` changes the measured client after import."""
    return {
        "list_table": vip("list", "-A"),
        "list_json": vip("list", "-A", "-o", "json"),
        "doctor": vip("doctor", "-o", "json", "--fail-on", "never"),
        "floor": FLOOR,
        "lean": LEAN,
    }


def as_json(ms: dict[str, Measure]) -> dict[str, Any]:
    return {
        k: {"seconds": round(m.seconds, 3), "max_rss_mb": round(m.max_rss_mb, 1)}
        for k, m in ms.items()
    }


def bench_fast(sizes: list[int], mains: list[int], runs: int, work: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"growth": [], "mains": []}
    for n in sorted(set(sizes) | set(mains)):
        print(f"... fast server, N={n}", file=sys.stderr, flush=True)
        srv = Server(n, work, frozen=True)
        try:
            env = srv.env()
            main = n in mains
            cases = client_cases(env) if main else growth_cases()
            if main:
                tty_env = srv.env(color=True)
                tty = {"list_tty": cases.pop("list_tty")}
            ms = measure(cases, env, runs)
            if main:
                ms.update(measure(tty, tty_env, runs))
                out["mains"].append({"size": n, **as_json(ms)})
                if n == min(mains):
                    out["main"] = out["mains"][-1]
            out["growth"].append({"size": n, **as_json({k: ms[k] for k in growth_cases()})})
        finally:
            srv.stop()
    return out


def bench_live(size: int, runs: int, work: Path) -> dict[str, Any]:
    print(f"... project sandbox, N={size}", file=sys.stderr, flush=True)
    srv = Server(size, work, frozen=False)
    try:
        cases = {
            "list_json": vip("list", "-A", "-o", "json"),
            "list_table": vip("list", "-A"),
            "doctor": vip("doctor", "-o", "json", "--fail-on", "never"),
            "lean": LEAN,
            "kubectl_default": kubectl_fetch(False),
            "kubectl_chunk0": kubectl_fetch(True),
        }
        return {"size": size, **as_json(measure(cases, srv.env(), runs))}
    finally:
        srv.stop()


# the scale scenario's tenth of claims beyond their StatefulSets' replicas: ScaledIn, taken by
# --scaled-in once the controllers have kept their counts long enough (any time, here)
SCALED_IN = ("--scaled-in", "--scaled-in-for", "0s")


def scaled_in_claims(env: dict[str, str]) -> list[tuple[str, str]]:
    return [(i["namespace"], i["name"]) for i in claims_in_state(env, "ScaledIn")]


def bench_reclaim(size: int, work: Path) -> dict[str, Any]:
    """kubectl vip reclaim --scaled-in -A --yes, against a shell loop of kubectl delete vipc,
    each on its own fresh (live) sandbox holding the same claims."""
    print(f"... reclaim, N={size}", file=sys.stderr, flush=True)
    srv = Server(size, work, frozen=False)
    try:
        env = srv.env()
        targets = scaled_in_claims(env)
        argv = [*VIP, "-v", "reclaim", *SCALED_IN, "-A", "--yes", "--max", str(len(targets) + 1)]
        mine = run_one(argv, env)
        # "API requests: 2887 in all, 2776 for the 910 claims reclaimed or re-checked: 3.00
        # per claim (its Pod read, the delete, the Event), and 46 list pages they share (...)"
        m = re.search(
            r"API requests: (\d+) in all, (\d+) for .*?, and (\d+) list pages?", mine.stderr
        )
        requests = (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else (0, 0, 0)
        left = scaled_in_claims(env)
    finally:
        srv.stop()
    srv = Server(size, work, frozen=False)
    try:
        script = "\n".join(f"{KUBECTL} delete vipc {n} -n {ns} >/dev/null" for ns, n in targets)
        loop = run_one(["sh", "-c", script], srv.env())
    finally:
        srv.stop()
    return {
        "size": size,
        "claims": len(targets),
        "left_after_vip": len(left),
        "vip_reclaim": {"seconds": round(mine.seconds, 2), "max_rss_mb": round(mine.max_rss_mb, 1)},
        "kubectl_delete_loop": {"seconds": round(loop.seconds, 2)},
        "ratio": round(mine.seconds / loop.seconds, 3),
        "requests": requests[0],
        "requests_per_claim": round(requests[1] / max(1, len(targets)), 3),
        # the requests each claim makes (Pod GET, DELETE, Event), the shared list pages apart
        "requests_per_claim_own": round((requests[1] - requests[2]) / max(1, len(targets)), 3),
        "shared_list_pages": requests[2],
    }


def bench_startup(runs: int) -> dict[str, Any]:
    env = dict(os.environ, NO_COLOR="1")
    cases = {
        "version": Case([[*VIP, "--version"]]),
        "help": Case([[*VIP, "--help"]]),
        "kubectl_version_client": Case([[KUBECTL, "version", "--client"]]),
    }
    return as_json(measure(cases, env, runs))


# ---------------------------------------------------------------------------------- reporting

MIB = "MiB"


def fmt_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def verdict(value: float, target: float, unit: str = "") -> str:
    return f"<= {target:g}{unit}: {'ok' if value <= target else 'MISSED'}"


LABELS = {
    "list_json": "list -A -o json",
    "list_table": "list -A (table, piped)",
    "list_tty": "list -A (table, on a TTY)",
    "usage": "usage",
    "describe_ip": "describe IP",
    "reclaim_dry_run": "reclaim --dry-run --scaled-in -A",
    "doctor": "doctor",
    "list_ips": "list --ips -A",
    "reclaim_orphaned": "reclaim --dry-run --orphaned -A",
    "floor": "floor (bench/floor.py)",
    "lean": "lean fetch (bench/lean.py)",
    "kubectl_chunk0": "kubectl --chunk-size=0 (3 gets)",
    "kubectl_default": "kubectl (3 gets, chunks of 500)",
}
VS_LEAN = {
    "list_json": 1.1,
    "list_table": 1.2,
    "list_tty": 1.2,
    "usage": 1.2,
    "describe_ip": 1.2,
    "reclaim_dry_run": 1.2,
    "doctor": 2.0,
}
VS_KUBECTL = {"list_json": 0.2, "list_table": 0.2, "list_tty": 0.2}
# the targets against the floor (issue 28), and the peak RSS at 30,000 claims
VS_FLOOR = {
    "list_json": 1.5,
    "list_table": 1.5,
    "usage": 1.7,
    "reclaim_dry_run": 1.7,
    "reclaim_orphaned": 1.7,
    "doctor": 2.0,
}
RSS_AT_30K = {"list_table": 80, "list_ips": 80, "doctor": 110}


def report_main(m: dict[str, Any], runs: int) -> list[str]:
    floor = m["floor"]["seconds"]
    lean = m["lean"]["seconds"]
    k0 = m["kubectl_chunk0"]["seconds"]
    rows = [["command", "wall", "peak RSS", "vs floor", "target", "vs lean", "vs kubectl chunk0"]]
    for k, label in LABELS.items():
        if k not in m:
            continue
        s = m[k]["seconds"]
        rss = m[k]["max_rss_mb"]
        rss_note = ""
        if m["size"] >= 30000 and k in RSS_AT_30K:
            rss_note = f" ({verdict(rss, RSS_AT_30K[k], ' ' + MIB)})"
        rows.append(
            [
                label,
                f"{s:.2f} s",
                f"{rss:.0f} {MIB}{rss_note}",
                f"{s / floor:.2f}x",
                verdict(s / floor, VS_FLOOR[k]) if k in VS_FLOOR else "",
                f"{s / lean:.2f}x",
                f"{s / k0:.2f}x"
                + (f" ({verdict(s / k0, VS_KUBECTL[k])})" if k in VS_KUBECTL else ""),
            ]
        )
    head = f"Fast server (sandbox serve --frozen), N={m['size']:,} claims, median of {runs}:"
    return [head, fmt_table(rows)]


def report_growth(g: list[dict[str, Any]]) -> list[str]:
    rows = [["N", "list -A", "RSS", "list -o json", "RSS", "doctor", "RSS", "floor", "RSS"]]
    for r in g:
        row = [f"{r['size']:,}"]
        for k in ("list_table", "list_json", "doctor", "floor"):
            row += [f"{r[k]['seconds']:.2f} s", f"{r[k]['max_rss_mb']:.0f} {MIB}"]
        rows.append(row)
    lines = ["Growth on the fast server (time should grow linearly, memory sub-linearly):"]
    lines.append(fmt_table(rows))
    if len(g) >= 2:
        lo, hi = g[0], g[-1]
        x = hi["size"] / lo["size"]
        for k in ("list_table", "doctor"):
            t = hi[k]["seconds"] / lo[k]["seconds"]
            mem = hi[k]["max_rss_mb"] / lo[k]["max_rss_mb"]
            lines.append(
                f"  {LABELS[k]}: {x:.0f}x the claims take {t:.1f}x the time and "
                f"{mem:.1f}x the memory"
            )
    return lines


def report_rss(g: list[dict[str, Any]]) -> list[str]:
    top = max(g, key=lambda r: r["size"])
    a, d = top["list_table"]["max_rss_mb"], top["doctor"]["max_rss_mb"]
    target = 30000
    note = "" if top["size"] == target else f" (largest size run; the targets are at {target:,})"
    return [
        f"Peak RSS at N={top['size']:,}{note}: list -A {a:.0f} {MIB} "
        f"({verdict(a, RSS_AT_30K['list_table'], ' ' + MIB)}), doctor {d:.0f} {MIB} "
        f"({verdict(d, RSS_AT_30K['doctor'], ' ' + MIB)})"
    ]


def report_startup(s: dict[str, Any]) -> list[str]:
    base = s["kubectl_version_client"]["seconds"]
    v, h = s["version"]["seconds"], s["help"]["seconds"]
    return [
        f"Start-up: kubectl-vip --version {v * 1000:.0f} ms ({v / base:.2f}x, "
        f"{verdict(v / base, 1.0)}), --help {h * 1000:.0f} ms ({h / base:.2f}x, "
        f"{verdict(h / base, 2.0)}), kubectl version --client {base * 1000:.0f} ms"
    ]


def report_live(r: dict[str, Any], runs: int) -> list[str]:
    lean = r["lean"]["seconds"]
    k0 = r["kubectl_chunk0"]["seconds"]
    rows = [["command", "wall", "peak RSS", "vs lean", "vs kubectl chunk0"]]
    for k in ("list_json", "list_table", "doctor", "lean", "kubectl_chunk0", "kubectl_default"):
        s = r[k]["seconds"]
        rows.append(
            [
                LABELS[k],
                f"{s:.2f} s",
                f"{r[k]['max_rss_mb']:.0f} {MIB}",
                f"{s / lean:.2f}x",
                f"{s / k0:.2f}x",
            ]
        )
    head = f"Project sandbox (sandbox serve, live), N={r['size']:,} claims, median of {runs}:"
    return [head, fmt_table(rows)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", help="growth sizes (fast server; default 1000,3000,10000,30000)")
    ap.add_argument(
        "--size", help="the sizes every ratio is taken at (fast server; default 10000,30000)"
    )
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: sizes 200,500 (ratios at 500), one run"
    )
    ap.add_argument("--no-live", action="store_true", help="skip the project sandbox runs")
    ap.add_argument("--no-reclaim", action="store_true")
    ap.add_argument(
        "--no-fleet", action="store_true", help="skip the fleet rows (bench/fleet.py: 10 x 3,000)"
    )
    ap.add_argument("--vip-src", type=Path, help="measure the kubectl_vip package in this tree")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = ap.parse_args()
    if args.quick:
        args.sizes, args.size = args.sizes or "200,500", args.size or "500"
        args.runs, args.no_reclaim, args.no_fleet = 1, True, True
    args.sizes, args.size = args.sizes or "1000,3000,10000,30000", args.size or "10000,30000"
    mains = [int(s) for s in str(args.size).split(",") if s]
    if args.vip_src:
        src = str(args.vip_src.resolve())
        VIP[:] = [
            sys.executable,
            "-c",
            f"import sys; sys.path.insert(0, {src!r}); "
            "from kubectl_vip.__main__ import main; sys.argv[0] = 'kubectl-vip'; main()",
        ]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
        },
        "runs": args.runs,
        "client": str(args.vip_src or "installed"),
    }
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as tmp:
        work = Path(tmp)
        report["startup"] = bench_startup(max(5, args.runs * 2))
        report["fast"] = bench_fast(sizes, mains, args.runs, work)
        if not args.no_live:
            report["live"] = bench_live(min(mains), args.runs, work)
        if not args.no_reclaim:
            report["reclaim"] = bench_reclaim(min(mains), work)
        if not args.no_fleet:
            from fleet import bench_fleet  # bench/fleet.py, beside this file (it imports harness)

            print("... fleet: 10 contexts x 3,000 claims", file=sys.stderr, flush=True)
            report["fleet"] = bench_fleet(10, 3000, args.runs, work)

    lines = [f"{report['date']}, {report['machine']}", ""]
    for m in report["fast"]["mains"]:
        lines += [*report_main(m, args.runs), ""]
    lines += [*report_growth(report["fast"]["growth"]), ""]
    lines += report_rss(report["fast"]["growth"])
    lines += [*report_startup(report["startup"]), ""]
    if "live" in report:
        lines += [*report_live(report["live"], args.runs), ""]
    if "reclaim" in report:
        r = report["reclaim"]
        lines.append(
            f"reclaim {r['claims']} scaled-in claims: kubectl vip "
            f"{r['vip_reclaim']['seconds']:.1f} s, kubectl delete loop "
            f"{r['kubectl_delete_loop']['seconds']:.1f} s, ratio {r['ratio']:.3f}; "
            f"{r['requests']} API requests; per claim {r['requests_per_claim_own']:.2f} of its "
            f"own (Pod GET, DELETE, Event; target <= 3) and {r['shared_list_pages']} list pages "
            f"shared by the run: {r['requests_per_claim']:.3f} per claim in all"
        )
    print("\n".join(lines))
    if "fleet" in report:
        from fleet import print_fleet

        print_fleet(report["fleet"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
