"""Plan files are read within a time and memory budget and end in one line, exit 2, whatever
they hold: JSON first (fast at any size up to the cap), YAML only up to 2 MiB (the pure Python
parser needs about 1.5 s per MiB: a 60 MiB YAML plan took minutes and gigabytes), integers of
at most 30 digits, no aliases, a bounded depth. Nothing is sent to the cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubectl_vip.errors import ExitCode

from .conftest import run_vip
from .hardening_support import Clock

ITEM = {
    "namespace": "db",
    "name": "mysql-0",
    "uid": "2a6e1f0c-0000-4000-8000-000000000000",
    "resourceVersion": "12",
    "ip": "10.0.1.2",
    "state": "Orphaned",
}


def plan_doc(items: int) -> dict[str, object]:
    return {
        "apiVersion": "kubectl-vip/v1",
        "kind": "ClaimList",
        "metadata": {"cluster": {"server": "https://127.0.0.1:1"}},
        "items": [dict(ITEM, name=f"mysql-{i}") for i in range(items)],
    }


def reclaim_from(tmp_path: Path, text: str | bytes) -> tuple[int, str, float]:
    """`reclaim --from-file` on `text`, against a server nothing listens on: a plan that is
    read would be sent there (exit 3); one refused as a plan never is (exit 2)."""
    plan = tmp_path / "plan"
    plan.write_bytes(text.encode() if isinstance(text, str) else text)
    kc = tmp_path / "kc"
    kc.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t0ken-plan"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    with Clock() as clock:
        r = run_vip("reclaim", "--from-file", str(plan), "--yes", kubeconfig=kc)
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    return r.code, lines[0], clock.seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '{"apiVersion": "kubectl-vip/v1", "kind": "ClaimList", "items": [], "n": '
            + "9" * 5000
            + "}",
            "holds an integer of 5000 digits: not a plan",
            id="json-long-int",
        ),
        pytest.param(
            "apiVersion: kubectl-vip/v1\nkind: ClaimList\nitems: []\nn: " + "9" * 5000 + "\n",
            "holds an integer of 5000 digits: not a plan",
            id="yaml-long-int",
        ),
        pytest.param(
            "apiVersion: kubectl-vip/v1\nkind: ClaimList\nitems: []\nwhen: 2026-13-45\n",
            "holds a value that cannot be read",
            id="yaml-bad-date",
        ),
        pytest.param("[" * 100_000 + "]" * 100_000, "is nested too deeply", id="json-deep"),
        pytest.param("a: " + "[" * 100_000, "is nested too deeply", id="yaml-deep"),
        pytest.param(
            "a: &x [1]\nb: [*x, *x]\n", "aliases are not allowed in a plan file", id="yaml-alias"
        ),
    ],
)
def test_a_plan_past_a_bound_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    code, line, _ = reclaim_from(tmp_path, text)
    assert code == ExitCode.USAGE, line
    assert line.startswith("error: the plan file ") and message in line, line
    assert "unexpected" not in line


@pytest.mark.parametrize("mib", [3, 60])
def test_a_large_yaml_plan_is_refused_at_once(tmp_path: Path, mib: int) -> None:
    """Block YAML past 2 MiB is not parsed at all (60 MiB took 169 s and 4.1 GB)."""
    one = yaml.safe_dump(plan_doc(1), sort_keys=False)
    head, _, item = one.partition("items:\n")
    body = item * (mib * 1024 * 1024 // len(item) + 1)
    code, line, seconds = reclaim_from(tmp_path, head + "items:\n" + body)
    assert code == ExitCode.USAGE, line
    assert "is not JSON, and YAML larger than 2 MiB takes too long to read" in line
    assert "-o json" in line
    assert seconds < 3, seconds


def test_a_large_json_plan_is_still_read(tmp_path: Path) -> None:
    """The same size as JSON is read, and goes on to the cluster (here: nobody listens)."""
    text = json.dumps(plan_doc(20_000))
    assert len(text) > 2 * 1024 * 1024
    code, line, seconds = reclaim_from(tmp_path, text)
    assert code == ExitCode.ACCESS and "cannot reach the API server" in line, line
    assert seconds < 10, seconds


def test_a_small_yaml_plan_is_still_read(tmp_path: Path) -> None:
    code, line, _ = reclaim_from(tmp_path, yaml.safe_dump(plan_doc(3)))
    assert code == ExitCode.ACCESS and "cannot reach the API server" in line, line
