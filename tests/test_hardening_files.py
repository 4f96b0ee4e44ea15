"""Files the tool creates: a bundle is created new (O_EXCL|O_NOFOLLOW), never written into a
file or through a symbolic link someone planted first (a shared sticky /tmp), --force replaces
only a regular file and by rename; its members are 0600. The reclaim audit file records the
intent before each delete and the outcome after it."""

from __future__ import annotations

import json
import os
import stat
import tarfile
from pathlib import Path

import pytest

from kubectl_vip.errors import ExitCode
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault

from .conftest import run_vip

NOBODY = 65534


@pytest.fixture
def shared_dir(tmp_path: Path) -> Path:
    """A directory like /tmp: world-writable, sticky."""
    d = tmp_path / "shared"
    d.mkdir()
    d.chmod(0o1777)
    return d


def planted_file(path: Path) -> os.stat_result:
    """A 0666 file another user made (as root the test makes it theirs)."""
    path.write_bytes(b"planted")
    path.chmod(0o666)
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    return path.stat()


def test_a_planted_file_is_never_written_into(
    sandbox: Sandbox, kubeconfig: Path, shared_dir: Path
) -> None:
    out = shared_dir / "ticket.tar.gz"
    before = planted_file(out)
    r = run_vip("bundle", "-o", str(out), kubeconfig=kubeconfig)
    assert r.code == ExitCode.USAGE, r.stderr
    assert r.stderr.splitlines() == [
        f"error: {out} exists: refusing to write over it; choose another -o path, or pass "
        "--force to replace a file there"
    ]
    after = out.stat()
    assert out.read_bytes() == b"planted"
    assert (after.st_ino, after.st_uid, stat.S_IMODE(after.st_mode)) == (
        before.st_ino,
        before.st_uid,
        0o666,
    )
    assert not sandbox.controls.resource_requests()  # refused before any read


def test_force_replaces_a_file_with_a_new_private_one(
    sandbox: Sandbox, kubeconfig: Path, shared_dir: Path
) -> None:
    out = shared_dir / "ticket.tar.gz"
    before = planted_file(out)
    r = run_vip("bundle", "-o", str(out), "--force", kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    after = out.stat()
    assert after.st_ino != before.st_ino  # a new file, renamed into place
    assert after.st_uid == os.geteuid() and stat.S_IMODE(after.st_mode) == 0o600
    assert tarfile.is_tarfile(out)
    assert [p.name for p in shared_dir.iterdir()] == ["ticket.tar.gz"]  # no temporary left


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
@pytest.mark.parametrize("dangling", [False, True], ids=["to-a-file", "dangling"])
def test_a_planted_symlink_is_never_followed(
    sandbox: Sandbox,
    kubeconfig: Path,
    shared_dir: Path,
    tmp_path: Path,
    force: bool,
    dangling: bool,
) -> None:
    target = tmp_path / "victim"
    if not dangling:
        target.write_bytes(b"precious")
    out = shared_dir / "ticket.tar.gz"
    out.symlink_to(target)
    r = run_vip("bundle", "-o", str(out), *(["--force"] if force else []), kubeconfig=kubeconfig)
    assert r.code == ExitCode.USAGE, r.stderr
    assert len(r.stderr.splitlines()) == 1
    assert out.is_symlink() and os.readlink(out) == str(target)
    if dangling:
        assert not target.exists()
    else:
        assert target.read_bytes() == b"precious"


def test_a_symlink_planted_after_the_check_is_not_followed(
    sandbox: Sandbox, kubeconfig: Path, shared_dir: Path, tmp_path: Path
) -> None:
    """The race: the path is free when checked, a link is there when the archive is written
    (planted while the cluster is read). O_EXCL|O_NOFOLLOW refuses it: exit 1."""
    target = tmp_path / "victim"
    target.write_bytes(b"precious")
    out = shared_dir / "ticket.tar.gz"

    def plant(_req: object) -> None:
        if not out.is_symlink():
            out.symlink_to(target)

    sandbox.controls.on("list", "vpcipclaims", plant)
    r = run_vip("bundle", "-o", str(out), kubeconfig=kubeconfig)
    assert r.code == ExitCode.FAILED, r.stderr
    assert f"error: cannot write {out}: File exists" in r.stderr
    assert target.read_bytes() == b"precious" and out.is_symlink()


def test_archive_members_are_private(sandbox: Sandbox, kubeconfig: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    assert run_vip("bundle", "-o", str(out), kubeconfig=kubeconfig).code == 0
    with tarfile.open(out) as tar:
        modes = {m.name: stat.S_IMODE(m.mode) for m in tar.getmembers()}
    assert modes and set(modes.values()) == {0o600}, modes


# ---------------------------------------------------------------------------- the audit file


def audit_lines(state: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in (state / "reclaim-audit.jsonl").read_text().splitlines()]


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("KUBECTL_VIP_STATE_DIR", str(d))
    return d


@pytest.mark.parametrize(
    ("fault", "code", "outcome"),
    [
        (None, 0, "reclaimed"),
        (Fault(verb="delete", resource="vpcipclaims", code=404, reason="NotFound"), 0, "notFound"),
        (Fault(verb="delete", resource="vpcipclaims", code=409, reason="Conflict"), 1, "skipped"),
        (Fault(verb="delete", resource="vpcipclaims", code=500, message="etcd down"), 1, "failed"),
        (Fault(verb="delete", resource="vpcipclaims", reset=True), 3, "unknown"),
    ],
    ids=["reclaimed", "not-found", "conflict", "error", "no-answer"],
)
def test_each_delete_has_an_intent_and_an_outcome(
    sandbox: Sandbox, kubeconfig: Path, state: Path, fault: Fault | None, code: int, outcome: str
) -> None:
    if fault is not None:
        sandbox.controls.inject(fault)
    r = run_vip("reclaim", "debug-shell", "-n", "default", "--yes", kubeconfig=kubeconfig)
    assert r.code == code, r.stdout + r.stderr
    intent, result = audit_lines(state)
    assert intent["action"] == "reclaim"
    assert intent["claim"]["metadata"]["name"] == "debug-shell"  # type: ignore[index]
    assert result["action"] == "reclaim-outcome"
    assert (result["namespace"], result["name"], result["outcome"]) == (
        "default",
        "debug-shell",
        outcome,
    )
    assert result["uid"] == intent["claim"]["metadata"]["uid"]  # type: ignore[index]
    assert result["cluster"] == intent["cluster"] and result["detail"]
    if outcome == "failed":
        assert "etcd down" in str(result["detail"])
