"""What every benchmark here measures with: the tools, one whole process timed with os.wait4
(wall time, peak RSS) by bench/spawn.py, a small process of its own (so that the bench's own
memory never counts in a command's peak RSS), cases run interleaved after a warm-up, and the
sandbox servers."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
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


KUBECTL_VIP = tool("kubectl-vip")  # serves the sandboxes (never measured)
KUBECTL = tool("kubectl")
VIP = [KUBECTL_VIP]  # the measured client; --vip-src changes it


@dataclass
class Measure:
    seconds: float
    max_rss_mb: float
    stderr: str = ""


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 1 << 16):
            pass
    except OSError:  # EIO: the child closed the terminal
        pass


def run_one(argv: list[str], env: dict[str, str], tty: bool = False) -> Measure:
    """One whole process, its stdout to /dev/null or (tty) to a pseudo-terminal 200x50."""
    reader = None
    if tty:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        reader = threading.Thread(target=_drain, args=(master,), daemon=True)
        reader.start()
        stdout: Any = slave
    else:
        stdout = subprocess.DEVNULL
    fd, figures = tempfile.mkstemp(prefix="vip-bench-", suffix=".json")
    os.close(fd)
    launch = [sys.executable, "-I", "-S", str(HERE / "spawn.py"), figures, *argv]
    p = subprocess.Popen(launch, env=env, stdout=stdout, stderr=subprocess.PIPE)
    if tty:
        os.close(slave)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    p.wait()
    if reader is not None:
        reader.join(5)
        os.close(master)
    try:
        got = json.loads(Path(figures).read_text() or "{}")
    finally:
        os.unlink(figures)
    if p.returncode not in (0, 1) or not got:
        raise RuntimeError(f"{argv} exited {p.returncode}: {err.strip()[-400:]}")
    return Measure(got["seconds"], got["max_rss_kib"] / 1024, err)


@dataclass
class Case:
    argvs: list[list[str]]  # run one after another: summed time, max RSS
    tty: bool = False


def run_case(case: Case, env: dict[str, str]) -> Measure:
    parts = [run_one(a, env, case.tty) for a in case.argvs]
    return Measure(sum(p.seconds for p in parts), max(p.max_rss_mb for p in parts))


def measure(cases: dict[str, Case], env: dict[str, str], runs: int) -> dict[str, Measure]:
    for c in cases.values():  # warm-up: discovery caches, the fast server's kept answers
        run_case(c, env)
    samples: dict[str, list[Measure]] = {k: [] for k in cases}
    for _ in range(runs):  # interleaved, so drift affects every case alike
        for name, c in cases.items():
            samples[name].append(run_case(c, env))
    return {
        k: Measure(
            statistics.median(m.seconds for m in v), statistics.median(m.max_rss_mb for m in v)
        )
        for k, v in samples.items()
    }


class Server:
    """`kubectl vip sandbox serve --scenario scale` (with --frozen: the fast server)."""

    def __init__(self, size: int, workdir: Path, *, frozen: bool) -> None:
        self.kubeconfig = workdir / f"kubeconfig-{size}-{frozen}-{time.monotonic_ns()}"
        self.workdir = workdir
        argv = [KUBECTL_VIP, "sandbox", "serve", "--scenario", "scale", "--size", str(size)]
        argv += ["--write-kubeconfig", str(self.kubeconfig)] + (["--frozen"] if frozen else [])
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert self.proc.stdout is not None
        t0 = time.monotonic()
        for line in self.proc.stdout:
            if line.startswith("export KUBECONFIG="):
                break
        else:
            raise RuntimeError(f"sandbox exited: {self.proc.poll()}")
        self.build_seconds = time.monotonic() - t0

    def env(self, color: bool = False) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            KUBECONFIG=str(self.kubeconfig),
            KUBECACHEDIR=str(self.workdir / "kubecache"),
            KUBECTL_VIP_STATE_DIR=str(self.workdir / "state"),
        )
        if color:
            env.pop("NO_COLOR", None)
            env["TERM"] = "xterm-256color"
        else:
            env["NO_COLOR"] = "1"
        return env

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
