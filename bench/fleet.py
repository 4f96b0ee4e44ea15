"""Fleet benchmark: one `kubectl vip --all-contexts list -A -o json` over C contexts against C
sequential single-context runs, each context its own sandbox process of N claims.

    python bench/fleet.py                     # 10 contexts of 3,000 claims; 3 runs
    python bench/fleet.py --contexts 4 --size 1000 --runs 1

bench/run.py runs it too (unless --no-fleet). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import VIP, Case, Server, measure


def merged_kubeconfig(sandboxes: list[Server], path: Path) -> list[str]:
    """One kubeconfig whose context ctx-I is sandbox I (names made distinct)."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": []}
    merged["contexts"] = []
    names = []
    for i, sb in enumerate(sandboxes):
        doc = yaml.safe_load(sb.kubeconfig.read_text())
        ctx = next(c for c in doc["contexts"] if c["name"] == doc["current-context"])
        cluster = next(c for c in doc["clusters"] if c["name"] == ctx["context"]["cluster"])
        user = next(u for u in doc["users"] if u["name"] == ctx["context"]["user"])
        name = f"ctx-{i}"
        names.append(name)
        merged["clusters"].append({"name": name, "cluster": cluster["cluster"]})
        merged["users"].append({"name": name, "user": user["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    merged["current-context"] = names[0]
    path.write_text(yaml.safe_dump(merged))
    path.chmod(0o600)
    return names


def bench_fleet(contexts: int, size: int, runs: int, workdir: Path) -> dict[str, Any]:
    sandboxes = [Server(size, workdir, frozen=False) for _ in range(contexts)]
    try:
        kc = workdir / "kubeconfig-fleet"
        names = merged_kubeconfig(sandboxes, kc)
        env = sandboxes[0].env()
        env["KUBECONFIG"] = str(kc)
        base = [*VIP, "list", "-A", "-o", "json"]
        fleet_cmd = [*base, "--all-contexts"]
        cases = {
            "fleet": Case([fleet_cmd]),
            "fleet_parallel_1": Case([[*fleet_cmd, "--max-parallel", "1"]]),
            "sequential": Case([[*base, "--context", n] for n in names]),
        }
        med = measure(cases, env, runs)  # a warm-up each, then interleaved
    finally:
        for sb in sandboxes:
            sb.stop()
    return {
        "contexts": contexts,
        "claims_per_context": size,
        **{k: {"seconds": m.seconds, "max_rss_mb": m.max_rss_mb} for k, m in med.items()},
        "ratio_fleet_vs_sequential": med["fleet"].seconds / med["sequential"].seconds,
    }


def print_fleet(r: dict[str, Any]) -> None:
    print(
        f"fleet list, {r['contexts']} contexts x {r['claims_per_context']:,} claims: "
        f"--all-contexts {r['fleet']['seconds']:.2f}s ({r['fleet']['max_rss_mb']:.0f} MB), "
        f"--max-parallel 1 {r['fleet_parallel_1']['seconds']:.2f}s, "
        f"{r['contexts']} sequential runs {r['sequential']['seconds']:.2f}s "
        f"(ratio {r['ratio_fleet_vs_sequential']:.2f})"
    )


def main() -> None:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, default=10)
    ap.add_argument("--size", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vip-bench-fleet-") as tmp:
        r = bench_fleet(args.contexts, args.size, args.runs, Path(tmp))
    print_fleet(r)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
