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


# ------------------------------------------------------------------------------ names


def kubectl_env(env: dict[str, str], *kubeconfigs: Path) -> dict[str, str]:
    """The environment of a user who merged kubeconfigs, with kubectl-vip as a kubectl plugin."""
    from .conftest import plugin_path

    e = dict(env)
    e["KUBECONFIG"] = os.pathsep.join(str(k) for k in kubeconfigs)
    e["PATH"] = plugin_path(e.get("PATH", ""))
    return e


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, env=env, timeout=120)


def test_named_sandboxes_merge_as_two_clusters(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    gz = serve(env, serves, "--name", "prod-gz")
    sh = serve(env, serves, "--name", "prod-sh")
    cache = tmp_path / "cache" / "kubectl-vip"
    assert (gz.kubeconfig, sh.kubeconfig) == (
        cache / "prod-gz.kubeconfig",
        cache / "prod-sh.kubeconfig",
    )
    assert "Contexts: prod-gz (admin), prod-gz-readonly (read-only)." in gz.lines[1]
    merged = kubectl_env(env, gz.kubeconfig, sh.kubeconfig)
    kubectl = str(BIN / "kubectl")
    names = run(merged, kubectl, "config", "get-contexts", "-o", "name")
    assert names.stdout.split() == ["prod-gz", "prod-gz-readonly", "prod-sh", "prod-sh-readonly"]
    users = run(merged, kubectl, "config", "get-users")
    assert users.stdout.split()[1:] == ["prod-gz-admin", "prod-gz-viewer", "prod-sh-admin",
                                        "prod-sh-viewer"]  # fmt: skip
    r = run(merged, EXE, "--all-contexts", "list", "-A")
    assert r.returncode == 0, r.stderr
    assert "Fleet (4 contexts answered, 2 distinct clusters): 0 claims" in r.stdout
    assert "prod-gz-readonly: the same cluster as prod-gz, counted once there" in r.stdout
    # the default name keeps what it always wrote
    default = serve(env, serves)
    doc = yaml.safe_load(default.kubeconfig.read_text())
    assert [c["name"] for c in doc["contexts"]] == ["vip-sandbox", "vip-sandbox-readonly"]
    assert [u["name"] for u in doc["users"]] == ["sandbox-admin", "sandbox-viewer"]


def test_a_bad_name_is_a_usage_error(env: dict[str, str], serves: list[Serve]) -> None:
    code, err = finished(serve(env, serves, "--name", "Prod_GZ"))
    assert code == 2 and 'invalid --name "Prod_GZ"' in err


def _readme_block(command: str) -> list[str]:
    """The lines the README shows under `$ COMMAND`, up to the next command or the block's end."""
    text = (Path(__file__).parent.parent / "README.md").read_text()
    lines = text.split(f"$ {command}\n", 1)[1].split("\n```", 1)[0].splitlines()
    end = next((i for i, ln in enumerate(lines) if ln.startswith("$ ")), len(lines))
    block = lines[:end]
    while block and not block[-1]:
        block.pop()
    return block


def test_the_fleet_scenario_reproduces_the_readme_example(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    s = serve(env, serves, "--scenario", "fleet")
    assert s.kubeconfig == tmp_path / "cache" / "kubectl-vip" / "fleet.kubeconfig"
    assert "Contexts: prod-gz, prod-sh, staging-bj." in "\n".join(s.lines)
    merged = kubectl_env(env, s.kubeconfig)
    command = "kubectl vip list -A --all-contexts --state orphaned,overdue"
    r = run(merged, str(BIN / "kubectl"), *command.split()[1:])
    assert r.returncode == 1
    want = [ln for ln in _readme_block(command) if ln and not ln.startswith(("error:", "#"))]
    assert r.stdout.splitlines() == [*want[:9], "", *want[9:]]
    (err,) = [ln for ln in _readme_block(command) if ln.startswith("error:")]
    dead = err.split("https://127.0.0.1:", 1)[1].split(":", 1)[0]
    assert r.stderr.strip() == err.replace(dead, s.lines[2].split("127.0.0.1:", 1)[1].split()[0])
    usage = "kubectl vip usage --contexts 'prod-*'"
    r = run(merged, str(BIN / "kubectl"), "vip", "usage", "--contexts", "prod-*")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == _readme_block(usage)
    # doctor's table, after each context's report
    doctor = "kubectl vip doctor --all-contexts      # after each context's report:"
    r = run(merged, str(BIN / "kubectl"), "vip", "doctor", "--all-contexts")
    assert r.returncode == 1
    table = r.stdout.splitlines()
    start = max(i for i, ln in enumerate(table) if ln.startswith("CONTEXT      ERRORS"))
    assert table[start:] == _readme_block(doctor)


# ------------------------------------------------------------------------------ one writer


def test_two_serves_started_together_never_both_take_one_kubeconfig(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    race = tmp_path / "race.kc"
    # a scenario that takes a moment to build: both look at the path long before either writes
    argv = [EXE, "sandbox", "serve", "--scenario", "scale", "--size", "2000"]
    procs = [
        subprocess.Popen(
            [*argv, "--write-kubeconfig", str(race)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    started = [Serve(p, []) for p in procs]
    serves.extend(started)
    for s in started:
        assert s.proc.stdout is not None
        for line in s.proc.stdout:
            s.lines.append(line.rstrip("\n"))
            if line.startswith("export KUBECONFIG="):
                break
    exported = [s for s in started if any(x.startswith("export KUBECONFIG=") for x in s.lines)]
    assert len(exported) == 1
    (loser,) = [s for s in started if s not in exported]
    code, err = finished(loser)
    assert code == 1 and f"belongs to a running sandbox (pid {exported[0].proc.pid}" in err
    assert f"pid {exported[0].proc.pid}," in race.read_text()
    assert vip_list(env, race).returncode == 0


def test_a_stopped_sandboxs_file_with_added_credentials_is_kept(
    env: dict[str, str], serves: list[Serve], tmp_path: Path
) -> None:
    path = tmp_path / "mine.kc"
    first = serve(env, serves, "--write-kubeconfig", str(path))
    first.proc.send_signal(signal.SIGTERM)
    assert finished(first)[0] == 0
    kubectl = str(BIN / "kubectl")
    for argv in (
        ["config", "set-credentials", "prod-admin", "--token=prod-token-123"],
        ["config", "set-context", "prod", "--cluster=vip-sandbox", "--user=prod-admin"],
    ):
        r = run(env, kubectl, "--kubeconfig", str(path), *argv)
        assert r.returncode == 0, r.stderr
    before = path.read_bytes()
    code, err = finished(serve(env, serves, "--write-kubeconfig", str(path)))
    assert code == 1 and len(err.splitlines()) == 1
    assert f"refusing to overwrite {path}: a sandbox wrote it, but it now also holds " in err
    assert "context prod, user prod-admin" in err and "prod-token-123" not in err
    assert path.read_bytes() == before
