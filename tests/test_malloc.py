"""shared/malloc.py: one glibc arena for a process that parses lists in threads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_vip.shared import malloc


def test_one_arena_is_set_on_glibc_and_is_a_no_op_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # in a child: mallopt changes the allocator of the process that calls it
    code = "from kubectl_vip.shared.malloc import one_arena; print(one_arena())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import platform

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == str(glibc)
    monkeypatch.setattr(malloc.sys, "platform", "darwin")
    assert malloc.one_arena() is False


def test_a_list_runs_the_same_with_one_arena(kubeconfig: Path) -> None:
    """The console script sets it before any thread starts; a list still reads everything."""
    argv = [sys.executable, "-m", "kubectl_vip", "--kubeconfig", str(kubeconfig)]
    r = subprocess.run([*argv, "list", "-A", "-o", "name"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-0" in r.stdout.split()
