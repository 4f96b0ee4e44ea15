"""kubectl-vip benchmarks against the real kubectl, on the same sandbox, in one run.

    python bench/run.py                       # N = 1,000, 10,000, 30,000; 3 runs each
    python bench/run.py --sizes 10000 --runs 5 --no-reclaim

Every figure is the median of --runs runs of a whole process (start-up included), measured
with os.wait4 (wall time and peak RSS). The sandbox runs as a separate process (`kubectl vip
sandbox serve --scenario scale`) so it does not share the measured process's interpreter; it
serves every list from pre-serialized JSON over TLS on loopback. Results are printed as tables
and written as JSON (bench/results/latest.json unless --out).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    exe = BIN / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: install the project with its test extras first")
    return found


KUBECTL_VIP = tool("kubectl-vip")
KUBECTL = tool("kubectl")


@dataclass
class Measure:
    seconds: float
    max_rss_mb: float


def run_one(argv: list[str], env: dict[str, str]) -> Measure:
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{argv} exited {p.returncode}: {err.strip()[-400:]}")
    return Measure(wall, usage.ru_maxrss / 1024)


def run_seq(commands: list[list[str]], env: dict[str, str]) -> Measure:
    """Several processes one after another (kubectl fetching three lists): summed time, max RSS."""
    parts = [run_one(c, env) for c in commands]
    return Measure(sum(p.seconds for p in parts), max(p.max_rss_mb for p in parts))


def median(ms: list[Measure]) -> Measure:
    return Measure(
        statistics.median(m.seconds for m in ms), statistics.median(m.max_rss_mb for m in ms)
    )


class Sandbox:
    """`kubectl vip sandbox serve` in its own process."""

    def __init__(self, scenario: str, size: int, workdir: Path) -> None:
        self.kubeconfig = workdir / f"kubeconfig-{scenario}-{size}-{time.monotonic_ns()}"
        self.proc = subprocess.Popen(
            [
                KUBECTL_VIP,
                "sandbox",
                "serve",
                "--scenario",
                scenario,
                "--size",
                str(size),
                "--write-kubeconfig",
                str(self.kubeconfig),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.proc.stdout is not None
        t0 = time.monotonic()
        for line in self.proc.stdout:
            if line.startswith("export KUBECONFIG="):
                break
            if time.monotonic() - t0 > 600:
                raise RuntimeError("sandbox did not start")
        else:
            raise RuntimeError(f"sandbox exited: {self.proc.poll()}")
        self.build_seconds = time.monotonic() - t0

    def env(self, workdir: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            KUBECACHEDIR=str(workdir / "kubecache"),
            NO_COLOR="1",
            KUBECTL_VIP_STATE_DIR=str(workdir / "state"),
        )
        return env

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


TKE = "networking.tke.cloud.tencent.com"


def kubectl_fetch(chunk0: bool) -> list[list[str]]:
    extra = ["--chunk-size=0"] if chunk0 else []
    return [
        [KUBECTL, "get", "vipc", "-A", "-o", "json", *extra],
        [KUBECTL, "get", "vip", "-o", "json", *extra],
        [KUBECTL, "get", "pods", "-A", "-o", "json", *extra],
    ]


def bench_lists(size: int, runs: int, workdir: Path) -> dict[str, Any]:
    sb = Sandbox("scale", size, workdir)
    try:
        env = sb.env(workdir)
        cases: dict[str, list[list[str]]] = {
            "vip_list": [[KUBECTL_VIP, "list", "-A", "-o", "json"]],
            "kubectl_default": kubectl_fetch(False),
            "kubectl_chunk0": kubectl_fetch(True),
            "lean": [[sys.executable, str(HERE / "lean.py")]],
        }
        if has_command("doctor"):
            cases["vip_doctor"] = [[KUBECTL_VIP, "doctor", "-o", "json", "--fail-on", "never"]]
        for argvs in cases.values():  # warm-up: discovery caches, page cache
            run_seq(argvs, env)
        samples: dict[str, list[Measure]] = {k: [] for k in cases}
        for _ in range(runs):  # interleaved, so drift affects every case alike
            for name, argvs in cases.items():
                samples[name].append(run_seq(argvs, env))
        med = {k: median(v) for k, v in samples.items()}
        out: dict[str, Any] = {"size": size, "sandbox_build_seconds": round(sb.build_seconds, 2)}
        for k, m in med.items():
            out[k] = {"seconds": round(m.seconds, 3), "max_rss_mb": round(m.max_rss_mb, 1)}
        v = med["vip_list"].seconds
        out["ratio_vs_kubectl_chunk0"] = round(v / med["kubectl_chunk0"].seconds, 3)
        out["ratio_vs_kubectl_default"] = round(v / med["kubectl_default"].seconds, 3)
        out["ratio_vs_lean"] = round(v / med["lean"].seconds, 3)
        out["vip_list_us_per_claim"] = round(v / size * 1e6, 1)
        return out
    finally:
        sb.stop()


def has_command(name: str) -> bool:
    return subprocess.run([KUBECTL_VIP, name, "--help"], capture_output=True).returncode == 0


def orphaned_claims(env: dict[str, str]) -> list[tuple[str, str]]:
    p = subprocess.run(
        [KUBECTL_VIP, "list", "-A", "--state", "Orphaned", "-o", "name"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [tuple(line.split("/")[1:3]) for line in p.stdout.splitlines()]  # type: ignore[misc]


def bench_reclaim(size: int, workdir: Path) -> dict[str, Any]:
    """kubectl vip reclaim --orphaned -A --yes, against a shell loop of kubectl delete vipc,
    each on its own fresh sandbox holding the same claims."""
    sb = Sandbox("scale", size, workdir)
    try:
        env = sb.env(workdir)
        targets = orphaned_claims(env)
        vip = run_one(
            [KUBECTL_VIP, "reclaim", "--orphaned", "-A", "--yes", "--max", str(len(targets) + 1)],
            env,
        )
        left = orphaned_claims(env)
    finally:
        sb.stop()
    sb = Sandbox("scale", size, workdir)
    try:
        env = sb.env(workdir)
        script = "\n".join(f"{KUBECTL} delete vipc {n} -n {ns} >/dev/null" for ns, n in targets)
        loop = run_one(["sh", "-c", script], env)
    finally:
        sb.stop()
    return {
        "size": size,
        "claims": len(targets),
        "left_after_vip": len(left),
        "vip_reclaim": {"seconds": round(vip.seconds, 2), "max_rss_mb": round(vip.max_rss_mb, 1)},
        "kubectl_delete_loop": {"seconds": round(loop.seconds, 2)},
        "ratio": round(vip.seconds / loop.seconds, 3),
    }


def bench_startup(runs: int) -> dict[str, Any]:
    env = dict(os.environ, NO_COLOR="1")
    cases = {
        "vip_version": [KUBECTL_VIP, "--version"],
        "vip_help": [KUBECTL_VIP, "--help"],
        "kubectl_version_client": [KUBECTL, "version", "--client"],
    }
    res = {k: median([run_one(a, env) for _ in range(runs)]) for k, a in cases.items()}
    out: dict[str, Any] = {k: {"seconds": round(m.seconds, 4)} for k, m in res.items()}
    base = res["kubectl_version_client"].seconds
    out["ratio_version"] = round(res["vip_version"].seconds / base, 2)
    out["ratio_help"] = round(res["vip_help"].seconds / base, 2)
    return out


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float, float]:
    """Least squares y = a + b·x: (a, b, r²)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    b = sxy / sxx if sxx else 0.0
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    return a, b, (1 - ss_res / ss_tot) if ss_tot else 1.0


def growth(lists: list[dict[str, Any]]) -> dict[str, float]:
    xs = [float(r["size"]) for r in lists]
    a, b, r2 = linear_fit(xs, [r["vip_list"]["seconds"] for r in lists])
    ma, mb, mr2 = linear_fit(xs, [r["vip_list"]["max_rss_mb"] for r in lists])
    return {
        "seconds_intercept": round(a, 3),
        "seconds_per_1k_claims": round(b * 1000, 4),
        "seconds_r2": round(r2, 4),
        "rss_mb_intercept": round(ma, 1),
        "rss_mb_per_1k_claims": round(mb * 1000, 3),
        "rss_r2": round(mr2, 4),
    }


def fmt_table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,30000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--reclaim-size",
        type=int,
        default=10000,
        help="scale size for the reclaim benchmark (about a tenth is orphaned)",
    )
    ap.add_argument("--no-reclaim", action="store_true")
    ap.add_argument(
        "--no-fleet", action="store_true", help="skip the fleet rows (bench/fleet.py: 10 x 3,000)"
    )
    ap.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "runs": args.runs,
    }
    with tempfile.TemporaryDirectory(prefix="vip-bench-") as tmp:
        work = Path(tmp)
        report["startup"] = bench_startup(max(5, args.runs * 3))
        report["lists"] = []
        for n in sizes:
            print(f"... N={n}", file=sys.stderr, flush=True)
            report["lists"].append(bench_lists(n, args.runs, work))
        if not args.no_reclaim:
            print(f"... reclaim at N={args.reclaim_size}", file=sys.stderr, flush=True)
            report["reclaim"] = bench_reclaim(args.reclaim_size, work)
        if not args.no_fleet:
            from fleet import bench_fleet  # bench/fleet.py, beside this file

            print("... fleet: 10 contexts x 3,000 claims", file=sys.stderr, flush=True)
            report["fleet"] = bench_fleet(10, 3000, args.runs, work)

    rows = [
        [
            "N",
            "vip list",
            "RSS MB",
            "kubectl",
            "kubectl chunk0",
            "lean",
            "vs chunk0",
            "vs default",
            "vs lean",
            "us/claim",
            "doctor",
        ]
    ]
    for r in report["lists"]:
        rows.append(
            [
                f"{r['size']:,}",
                f"{r['vip_list']['seconds']:.2f}s",
                f"{r['vip_list']['max_rss_mb']:.0f}",
                f"{r['kubectl_default']['seconds']:.2f}s",
                f"{r['kubectl_chunk0']['seconds']:.2f}s",
                f"{r['lean']['seconds']:.2f}s",
                f"{r['ratio_vs_kubectl_chunk0']:.2f}",
                f"{r['ratio_vs_kubectl_default']:.2f}",
                f"{r['ratio_vs_lean']:.2f}",
                f"{r['vip_list_us_per_claim']:.0f}",
                f"{r['vip_doctor']['seconds']:.2f}s" if "vip_doctor" in r else "-",
            ]
        )
    print(fmt_table(rows))
    s = report["startup"]
    print(
        f"\nstart-up: --version {s['vip_version']['seconds'] * 1000:.0f} ms, --help "
        f"{s['vip_help']['seconds'] * 1000:.0f} ms, kubectl version --client "
        f"{s['kubectl_version_client']['seconds'] * 1000:.0f} ms "
        f"(ratios {s['ratio_version']} / {s['ratio_help']})"
    )
    if "reclaim" in report:
        r = report["reclaim"]
        vip_s, loop_s = r["vip_reclaim"]["seconds"], r["kubectl_delete_loop"]["seconds"]
        print(
            f"reclaim {r['claims']} orphaned claims: kubectl vip {vip_s:.1f}s, "
            f"kubectl delete loop {loop_s:.1f}s, ratio {r['ratio']:.3f}"
        )
    if "fleet" in report:
        from fleet import print_fleet

        print_fleet(report["fleet"])
    if len(report["lists"]) >= 2:
        report["growth"] = growth(report["lists"])
        g = report["growth"]
        print(
            f"growth of vip list: {g['seconds_per_1k_claims']:.3f} s and "
            f"{g['rss_mb_per_1k_claims']:.2f} MB per 1,000 claims on top of "
            f"{g['seconds_intercept']:.2f} s / {g['rss_mb_intercept']:.0f} MB "
            f"(linear fit, r² {g['seconds_r2']:.3f} / {g['rss_r2']:.3f})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
