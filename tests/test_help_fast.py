"""`kubectl-vip --help` (and a bare `kubectl-vip`) print the root help from help_root.json,
generated from the app (test_completion checks it is not stale), without importing typer, at
the widths it holds; other widths are rendered by typer. Either way the text is the app's."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import BIN

PROBE = (  # atexit: the CLI's run() ends with os._exit after the exit handlers
    "import atexit, sys\n"
    "atexit.register(lambda: print('typer' in sys.modules, file=sys.stderr, flush=True))\n"
    "from kubectl_vip.__main__ import main\n"
    "main()\n"
)


def run(args: list[str], columns: int, probe: bool) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1")
    argv = [sys.executable, "-c", PROBE, *args] if probe else [str(BIN / "kubectl-vip"), *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    ("args", "columns", "generated"),
    [
        (["--help"], 80, True),
        (["-h"], 160, True),
        ([], 100, True),
        (["--help"], 90, False),
    ],
    ids=["pipe-width", "wide", "no-args", "other-width"],
)
def test_root_help_is_the_apps(args: list[str], columns: int, generated: bool) -> None:
    fast = run(args, columns, probe=True)
    assert fast.returncode == 0
    assert fast.stderr.strip().splitlines()[-1] == str(not generated)  # typer imported?
    env = dict(os.environ, COLUMNS=str(columns), NO_COLOR="1")
    code = "import sys; from kubectl_vip.cli.app import run; run(sys.argv[1:])"
    by_typer = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert fast.stdout == by_typer.stdout
    assert "Usage: kubectl-vip [OPTIONS] COMMAND [ARGS]..." in fast.stdout
    assert run(args, columns, probe=False).stdout == by_typer.stdout  # the console script
