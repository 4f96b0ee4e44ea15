"""`sandbox serve --frozen`: the benchmark's fast server answers reads exactly as the live sandbox
does (paging, continue tokens, Tables, discovery), from bytes it keeps, and refuses writes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import FIXED_NOW, Result, kubectl_path, run_vip


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sb = Sandbox("demo", now=FIXED_NOW)
    sb.start()
    try:
        yield sb, sb.write_kubeconfig(tmp_path / "kubeconfig")
    finally:
        sb.stop()


def kubectl(kubeconfig: Path, *args: str) -> Result:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), NO_COLOR="1")
    env["KUBECACHEDIR"] = str(kubeconfig.parent / f"cache-{kubeconfig.name}")
    p = subprocess.run([kubectl_path(), *args], capture_output=True, text=True, env=env, timeout=60)
    return Result(p.returncode, p.stdout, p.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ("get", "vipc", "-A", "-o", "json", "--chunk-size=2"),
        ("get", "vipc", "-A", "--chunk-size=3"),  # Tables, page by page
        ("get", "pods", "-A", "-o", "json", "--chunk-size=0"),
        ("get", "vip", "-o", "wide"),
    ],
    ids=["json-pages", "table-pages", "unpaged", "wide"],
)
def test_frozen_answers_reads_like_the_live_sandbox(
    served: tuple[Sandbox, Path], args: tuple[str, ...]
) -> None:
    sb, kc = served
    want = kubectl(kc, *args)
    assert want.code == 0, want.stderr
    sb.freeze()
    first = kubectl(kc, *args)
    again = kubectl(kc, *args)  # from the kept bytes
    assert first.stdout == want.stdout
    assert again.stdout == want.stdout
    assert sb.answers is not None and sb.answers.answers  # kept


def test_vip_list_is_the_same_on_a_frozen_sandbox(served: tuple[Sandbox, Path]) -> None:
    sb, kc = served
    want = run_vip("list", "-A", "-o", "wide", kubeconfig=kc)
    assert want.code == 0
    sb.freeze()
    for _ in range(2):
        got = run_vip("list", "-A", "-o", "wide", kubeconfig=kc)
        assert (got.code, got.stdout) == (0, want.stdout)


def test_a_frozen_sandbox_refuses_writes_but_answers_reviews(
    served: tuple[Sandbox, Path],
) -> None:
    sb, kc = served
    sb.freeze()
    claim = kubectl(
        kc,
        "get",
        "vipc",
        "-A",
        "-o",
        "jsonpath={.items[0].metadata.namespace} {.items[0].metadata.name}",
    )
    ns, name = claim.stdout.split()
    gone = kubectl(kc, "delete", "vipc", name, "-n", ns)
    assert gone.code == 1
    assert "is forbidden: the sandbox is frozen (sandbox serve --frozen)" in gone.stderr
    still = kubectl(kc, "get", "vipc", name, "-n", ns, "-o", "name")
    assert (still.code, still.stdout.strip()) == (
        0,
        f"vpcipclaim.networking.tke.cloud.tencent.com/{name}",
    )
    label = kubectl(kc, "label", "vipc", name, "-n", ns, "x=y")
    assert label.code == 1 and "the sandbox is frozen" in label.stderr
    can = kubectl(kc, "auth", "can-i", "delete", "vipc", "-A")  # a SelfSubjectAccessReview
    assert (can.code, can.stdout.strip()) == (0, "yes")
