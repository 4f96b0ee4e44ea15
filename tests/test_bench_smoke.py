"""bench/run.py still runs and prints every figure (a smoke run at a tiny size; the figures
themselves are never asserted: the bench is not part of the test run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "run.py"


def test_bench_quick_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = [sys.executable, str(BENCH), "--quick", "--no-live", "--sizes", "60,120"]
    p = subprocess.run(
        [*argv, "--size", "120", "--out", str(out)], capture_output=True, text=True, timeout=170
    )
    assert p.returncode == 0, p.stderr[-2000:]
    for label in (
        "Fast server (sandbox serve --frozen), N=120 claims",
        "list -A -o json",
        "list -A (table, piped)",
        "list -A (table, on a TTY)",
        "usage",
        "describe IP",
        "reclaim --dry-run --scaled-in -A",
        "doctor",
        "floor (bench/floor.py)",
        "list --ips -A",
        "reclaim --dry-run --orphaned -A",
        "lean fetch (bench/lean.py)",
        "kubectl --chunk-size=0 (3 gets)",
        "Growth on the fast server",
        "Peak RSS at N=120",
        "Start-up: kubectl-vip --version",
    ):
        assert label in p.stdout, label
    report = json.loads(out.read_text())
    assert [g["size"] for g in report["fast"]["growth"]] == [60, 120]
