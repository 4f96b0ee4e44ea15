"""Every command's --help: a one-line summary, its flags, and at least two examples."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from kubectl_vip.cli.app import app
from kubectl_vip.cli.completion_gen import _summary

from .conftest import run_vip


def _walk(cmd: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, cmd)]
    for name, sub in sorted((getattr(cmd, "commands", None) or {}).items()):
        if not getattr(sub, "hidden", False):
            out.extend(_walk(sub, (*path, name)))
    return out


COMMANDS = _walk(typer.main.get_command(app), ())


def _cases() -> list[Any]:
    return [pytest.param(path, cmd, id=" ".join(path) or "kubectl-vip") for path, cmd in COMMANDS]


def test_walk_finds_the_commands() -> None:
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"list", "reclaim", "describe", "completion", "sandbox", "sandbox serve"} <= paths


@pytest.mark.parametrize(("path", "cmd"), _cases())
def test_help_has_summary_flags_and_two_examples(
    path: tuple[str, ...], cmd: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_vip(*path, "--help")
    text = capsys.readouterr().out + r.stdout
    assert r.code == 0, r.stderr
    assert text.startswith(f"Usage: kubectl-vip {' '.join(path)}".rstrip() + " ")
    # the summary: one line of its own under the usage line
    summary = _summary(cmd)
    assert summary, "no summary"
    first_paragraph = text.split("\n\n")[1]
    assert " ".join(first_paragraph.split()) == summary, "the summary is not a paragraph of its own"
    assert len(summary) <= 100 and "\n" not in summary
    # every visible flag is listed
    assert "Options:" in text
    for p in cmd.params:
        if getattr(p, "param_type_name", "") == "option" and not getattr(p, "hidden", False):
            for opt in p.opts:
                assert opt in text, f"{opt} missing from the help"
    # at least two examples, each a whole `kubectl vip ...` line of its own
    assert "Examples:" in text, "no Examples section"
    examples = text.split("Examples:", 1)[1]
    lines = [x.strip() for x in examples.splitlines() if x.strip().startswith("kubectl vip ")]
    assert len(lines) >= 2, f"fewer than two examples: {lines}"
    for x in lines:
        assert x.count("kubectl vip ") == 1, f"examples run together (no \\b?): {x!r}"
        assert x.startswith(f"kubectl vip {' '.join(path)}".rstrip()) or path[:1] == ("sandbox",)


CLUSTER_COMMANDS = [
    c for c in _cases() if c.values[0] and c.values[0][0] not in ("completion", "sandbox")
]


@pytest.mark.parametrize(("path", "cmd"), CLUSTER_COMMANDS)
def test_help_lists_the_global_flags_under_their_own_heading(
    path: tuple[str, ...], cmd: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_vip(*path, "--help")
    text = capsys.readouterr().out + r.stdout
    assert "Global flags (anywhere on the line, as with kubectl):" in text
    section = text.split("Global flags", 1)[1].split("Examples:", 1)[0]
    for flag in ("-n, --namespace", "-A, --all-namespaces", "--context", "--kubeconfig"):
        assert flag in section, f"{flag} missing under Global flags"
    assert "--request-timeout" in section


@pytest.mark.parametrize("prog", ["kubectl vip", "kubectl-vip"])
def test_a_usage_error_points_at_help_the_way_the_user_ran_us(prog: str) -> None:
    import io

    from kubectl_vip.cli.app import invoke
    from kubectl_vip.term.render import Out

    err = io.StringIO()
    code = invoke(["list", "--watch"], Out(io.StringIO(), err, color=False, prog=prog))
    assert code == 2
    assert err.getvalue() == f"error: No such option: --watch (see '{prog} list --help')\n"
