"""`kubectl vip ...` through the real kubectl's plugin mechanism behaves exactly like
`kubectl-vip ...`: same stdout, stderr and exit code."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .conftest import BIN, Result, Runner, plugin_path


def direct(kubeconfig: Path, home: Path, *args: str) -> Result:
    """`kubectl-vip ARGS` with the environment the `kubectl` fixture gives kubectl."""
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(kubeconfig),
        KUBECACHEDIR=str(home / "kubecache"),
        HOME=str(home),
        PATH=plugin_path(env.get("PATH", "")),
        NO_COLOR="1",
    )
    p = subprocess.run(
        [str(BIN / "kubectl-vip"), *args], capture_output=True, text=True, env=env, timeout=120
    )
    return Result(p.returncode, p.stdout, p.stderr)


def test_kubectl_lists_the_plugin(kubectl: Runner) -> None:
    r = kubectl("plugin", "list", "--name-only")
    assert r.code == 0, r.stderr
    assert "kubectl-vip" in r.lines
    # the completion helper is not a plugin of its own
    assert not any(x.startswith("kubectl_complete") for x in r.lines)


CASES = [
    pytest.param(["--version"], 0, id="version"),
    pytest.param(["list", "-n", "db"], 0, id="list"),
    pytest.param(["-A", "list", "--state", "orphaned", "-o", "json"], 0, id="flags-anywhere"),
    pytest.param(["describe", "redis-3", "-n", "db", "-o", "yaml"], 0, id="describe"),
    pytest.param(["reclaim", "--orphaned", "-n", "db", "--dry-run"], 0, id="dry-run"),
    pytest.param(["reclaim", "redis-0", "-n", "db", "--yes"], 1, id="refused"),
    pytest.param(["reclaim"], 2, id="usage-error"),
    pytest.param(["list", "--sort-by", "colour"], 2, id="bad-value"),
    pytest.param(["--context", "nope", "list"], 3, id="config-error"),
    pytest.param(["completion", "bash"], 0, id="completion"),
    pytest.param([], 0, id="no-args-help"),
]


@pytest.mark.parametrize(("args", "code"), CASES)
def test_same_output_and_exit_code(
    args: list[str], code: int, kubectl: Runner, kubeconfig: Path, tmp_path: Path
) -> None:
    via_kubectl = kubectl("vip", *args)
    plain = direct(kubeconfig, tmp_path, *args)
    assert plain.code == code, plain.stderr
    assert via_kubectl.code == plain.code

    # the same, except that hints name the command as it was run
    def same(text: str) -> str:
        return text.replace("kubectl vip ", "kubectl-vip ")

    assert same(via_kubectl.stdout) == same(plain.stdout)
    assert same(via_kubectl.stderr) == same(plain.stderr)
    assert plain.stdout or plain.stderr


def test_hints_name_the_command_as_it_was_run(
    kubectl: Runner, kubeconfig: Path, tmp_path: Path
) -> None:
    """kubectl sets KUBECTL_PATH for a plugin: hints then say `kubectl vip`, else `kubectl-vip`."""
    via_kubectl = kubectl("vip", "list", "-A")
    plain = direct(kubeconfig, tmp_path, "list", "-A")
    assert "kubectl vip reclaim --orphaned --overdue -A --dry-run" in via_kubectl.stdout
    assert "kubectl-vip reclaim --orphaned --overdue -A --dry-run" in plain.stdout
    assert "kubectl-vip" not in via_kubectl.stdout


def test_reclaim_through_kubectl_changes_the_cluster(kubectl: Runner) -> None:
    r = kubectl("vip", "reclaim", "redis-3", "-n", "db", "--yes", "--scaled-in-for", "24h")
    assert r.code == 0, r.stderr
    after = kubectl("get", "vpcipclaims.networking.tke.cloud.tencent.com", "-n", "db", "-o", "name")
    names = {x.rsplit("/", 1)[1] for x in after.lines}
    assert "redis-3" not in names and "redis-2" in names
