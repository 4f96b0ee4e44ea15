"""`kubectl-vip sandbox serve` as a user runs it (subprocesses): it never overwrites a
kubeconfig it did not write, and what one serve prints stays true while it runs — a second
serve refuses the default kubeconfig of a running one (naming its pid and port) and works
with its own."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .conftest import BIN

EXE = str(BIN / "kubectl-vip")


@dataclass
class Serve:
    proc: subprocess.Popen[str]
    lines: list[str]

    @property
    def kubeconfig(self) -> Path:
        (line,) = [x for x in self.lines if x.startswith("export KUBECONFIG=")]
        return Path(line.split("=", 1)[1])

    @property
    def url(self) -> str:
        (line,) = [x for x in self.lines if "serving at " in x]
        return line.rsplit(" ", 1)[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "cache"), NO_COLOR="1")
    e.pop("KUBECONFIG", None)
    return e


@pytest.fixture
def serves(env: dict[str, str]) -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for s in started:  # only the processes this test started
        if s.proc.poll() is None:
            s.proc.send_signal(signal.SIGTERM)
            try:
                s.proc.wait(10)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait(10)
        for stream in (s.proc.stdout, s.proc.stderr):
            if stream is not None:
                stream.close()


def serve(env: dict[str, str], started: list[Serve], *args: str) -> Serve:
    """Start `sandbox serve` and read its banner (up to the export line, or its exit)."""
    proc = subprocess.Popen(
        [EXE, "sandbox", "serve", "--scenario", "empty", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    s = Serve(proc, [])
    started.append(s)
    assert proc.stdout is not None
    for line in proc.stdout:
        s.lines.append(line.rstrip("\n"))
        if line.startswith("export KUBECONFIG="):
            break
    return s


def finished(s: Serve) -> tuple[int, str]:
    assert s.proc.stderr is not None
    code = s.proc.wait(30)
    return code, s.proc.stderr.read()


def vip_list(env: dict[str, str], kubeconfig: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXE, "--kubeconfig", str(kubeconfig), "list", "-A", "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_refuses_to_overwrite_a_kubeconfig_it_did_not_write(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    mine = tmp_path / "home" / ".kube" / "config"
    mine.parent.mkdir(parents=True)
    text = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "prod", "cluster": {"server": "https://prod.example:6443"}}],
            "users": [{"name": "admin", "user": {"token": "prod-token-123"}}],
            "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "admin"}}],
            "current-context": "prod",
        }
    )
    mine.write_text(text)
    s = serve(env, serves, "--write-kubeconfig", str(mine))
    code, err = finished(s)
    assert code == 1
    assert len(err.splitlines()) == 1
    assert f"refusing to overwrite {mine}: it is not a kubeconfig the sandbox wrote" in err
    assert f"KUBECONFIG=/tmp/vip-sandbox.kubeconfig:{mine}" in err
    assert mine.read_text() == text  # untouched: production context and token included
    assert "prod-token-123" not in err
    # not YAML at all, or a directory: refused as well
    junk = tmp_path / "junk"
    junk.write_bytes(b"\x00\x01binary")
    code, err = finished(serve(env, serves, "--write-kubeconfig", str(junk)))
    assert code == 1 and "not a kubeconfig the sandbox wrote" in err
    assert junk.read_bytes() == b"\x00\x01binary"
    code, err = finished(serve(env, serves, "--write-kubeconfig", str(tmp_path)))
    assert code == 1 and "is a directory" in err


def test_second_serve_never_breaks_the_first(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    first = serve(env, serves)
    default = first.kubeconfig
    assert default == tmp_path / "cache" / "kubectl-vip" / "sandbox.kubeconfig"
    assert stat.S_IMODE(default.stat().st_mode) == 0o600
    assert default.read_text().startswith("# Written by kubectl-vip sandbox serve")
    before = default.read_bytes()

    second = serve(env, serves)
    code, err = finished(second)
    assert code == 1 and len(err.splitlines()) == 1
    port = first.url.rsplit(":", 1)[1]
    assert f"belongs to a running sandbox (pid {first.proc.pid}, https://127.0.0.1:{port})" in err
    assert "--write-kubeconfig" in err
    assert default.read_bytes() == before
    assert vip_list(env, default).returncode == 0

    # a second one with its own kubeconfig: both work, and stopping it leaves the first alone
    other = tmp_path / "other.kubeconfig"
    third = serve(env, serves, "--write-kubeconfig", str(other))
    assert third.kubeconfig == other and third.url != first.url
    assert vip_list(env, other).returncode == 0
    # the real kubectl reads the marked file too
    kubectl = BIN / "kubectl"
    p = subprocess.run(
        [str(kubectl), "--kubeconfig", str(other), "get", "ns", "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    third.proc.send_signal(signal.SIGTERM)
    assert finished(third)[0] == 0
    assert vip_list(env, default).returncode == 0
    assert default.read_bytes() == before

    # once the first stops, its file is stale: the next serve takes the default path over
    first.proc.send_signal(signal.SIGTERM)
    assert finished(first)[0] == 0
    fourth = serve(env, serves)
    assert fourth.kubeconfig == default and fourth.proc.poll() is None
    assert f"pid {fourth.proc.pid}," in default.read_text()
    assert vip_list(env, default).returncode == 0


def test_an_unmarked_sandbox_kubeconfig_from_an_older_version_is_taken_over(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    default = tmp_path / "cache" / "kubectl-vip" / "sandbox.kubeconfig"
    default.parent.mkdir(parents=True)
    old = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "vip-sandbox", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "sandbox-admin", "user": {"token": "t"}}],
        "contexts": [
            {"name": "vip-sandbox", "context": {"cluster": "vip-sandbox", "user": "sandbox-admin"}}
        ],
        "current-context": "vip-sandbox",
    }
    default.write_text(yaml.safe_dump(old))
    s = serve(env, serves)
    assert s.proc.poll() is None and s.kubeconfig == default
    assert vip_list(env, default).returncode == 0
    # the same shape pointing anywhere but loopback is somebody's real cluster: refused
    other = tmp_path / "prod.kubeconfig"
    old["clusters"][0]["cluster"]["server"] = "https://10.0.0.1:6443"  # type: ignore[index]
    other.write_text(yaml.safe_dump(old))
    code, err = finished(serve(env, serves, "--write-kubeconfig", str(other)))
    assert code == 1 and "not a kubeconfig the sandbox wrote" in err
