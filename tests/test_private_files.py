"""Files we create are private from the first byte (0600 files, 0700 directories), whatever
the umask and with no chmod after writing; --sandbox runs keep their audit records in the
sandbox's own temporary state."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.shared import private

from .conftest import run_vip


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """umask 0 (everything we create would be world-readable unless created private), and no
    chmod: a file made private only after it was written fails here."""
    old = os.umask(0)

    def no_chmod(*a: object, **kw: object) -> None:
        raise AssertionError(f"chmod after creation: {a}")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    try:
        yield
    finally:
        os.umask(old)


def test_bundle_archive_is_private(sandbox: Sandbox, tmp_path: Path, open_umask: None) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    r = run_vip("bundle", "-o", str(out), kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert mode(out) == 0o600
    # an existing, world-readable file is never written into: refused, and with --force
    # replaced by a new file, private from its first byte
    old = tmp_path / "old.tar.gz"
    fd = os.open(old, os.O_WRONLY | os.O_CREAT, 0o644)
    os.close(fd)
    assert mode(old) == 0o644
    assert run_vip("bundle", "-o", str(old), kubeconfig=kc).code == 2
    assert mode(old) == 0o644 and old.stat().st_size == 0
    assert run_vip("bundle", "-o", str(old), "--force", kubeconfig=kc).code == 0
    assert mode(old) == 0o600 and old.stat().st_size > 0


def test_audit_file_and_directory_are_private(
    sandbox: Sandbox, tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state" / "kubectl-vip"
    monkeypatch.setenv("KUBECTL_VIP_STATE_DIR", str(state))
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = run_vip("reclaim", "debug-shell", "-n", "default", "--yes", kubeconfig=kc)
    assert r.code == 0, r.stdout + r.stderr
    audit = state / "reclaim-audit.jsonl"
    assert json.loads(audit.read_text().splitlines()[0])["claim"]["metadata"]["name"]
    assert mode(audit) == 0o600
    assert mode(state) == 0o700 and mode(state.parent) == 0o700


def test_sandbox_kubeconfig_is_private(sandbox: Sandbox, tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "new" / "dir" / "sandbox.kubeconfig"
    sandbox.write_kubeconfig(path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert sandbox.admin_token in path.read_text()
    # rewritten in place (atomically), it stays private and no temporary file is left
    sandbox.write_kubeconfig(path)
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["sandbox.kubeconfig"]


def test_open_private_modes(tmp_path: Path, open_umask: None) -> None:
    with private.open_private(tmp_path / "a", "a", encoding="utf-8") as f:
        f.write("x\n")
    with private.open_private(tmp_path / "a", "a", encoding="utf-8") as f:
        f.write("y\n")
    assert (tmp_path / "a").read_text() == "x\ny\n" and mode(tmp_path / "a") == 0o600
    with private.open_private(tmp_path / "a", "wb") as g:
        g.write(b"z")
    assert (tmp_path / "a").read_bytes() == b"z"


@pytest.mark.parametrize("variable", ["KUBECTL_VIP_STATE_DIR", "XDG_STATE_HOME"])
def test_sandbox_runs_never_write_the_real_audit_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    real = tmp_path / "real-state"
    monkeypatch.delenv("KUBECTL_VIP_STATE_DIR", raising=False)
    monkeypatch.setenv(variable, str(real))
    r = run_vip("--sandbox", "reclaim", "debug-shell", "-n", "default", "--yes")
    assert r.code == 0, r.stdout + r.stderr
    assert "reclaimed vipc/default/debug-shell" in r.stdout
    assert not real.exists()  # nothing under the user's state directory
    # no path that is gone when the command exits: the user is told none was kept
    (line,) = [x for x in r.stderr.splitlines() if x.startswith("Audit: ")]
    assert line == "Audit: none kept (a --sandbox run's records go with its sandbox)"
    r = run_vip("--sandbox", "reclaim", "debug-shell", "-n", "default", "--yes", "-o", "json")
    assert json.loads(r.stdout)["metadata"]["auditFile"] is None
