"""A plain `list` line runs without typer (cli/fastpath.py): every line it takes must mean
exactly what it means to the typer app, and every other line must be left to typer."""

from __future__ import annotations

import inspect
import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_vip.cli import claims_view, fastpath, list_cmd
from kubectl_vip.cli.app import invoke
from kubectl_vip.errors import VipError
from kubectl_vip.term.render import Out

GLOBAL_FIELDS = ("kubeconfig", "context", "namespace", "all_namespaces", "request_timeout")
GLOBAL_FIELDS += ("sandbox", "verbose", "contexts", "all_contexts", "max_parallel")


def _full(args: dict[str, Any]) -> dict[str, Any]:
    bound = inspect.signature(claims_view.run_list).bind(None, **args)
    bound.apply_defaults()
    out = dict(bound.arguments)
    out.pop("g")
    out["state"] = list(out["state"] or [])
    return out


def through_typer(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, Any, str]:
    """What the typer app makes of the line: (exit code, (globals, run_list args), stderr)."""
    seen: list[Any] = []

    def record(g: Any, *args: Any) -> int:
        names = list(inspect.signature(claims_view.run_list).parameters)[1:]
        seen.append(
            ({f: getattr(g, f) for f in GLOBAL_FIELDS}, _full(dict(zip(names, args, strict=True))))
        )
        return 0

    with monkeypatch.context() as m:
        m.setattr(list_cmd, "run_list", record)
        err = io.StringIO()
        code = invoke(argv, Out(io.StringIO(), err, color=False))
    return code, (seen[0] if seen else None), err.getvalue()


def through_fastpath(argv: list[str]) -> tuple[Any, str | None] | None:
    """What the fast path makes of it: None if it leaves the line to typer; else the values,
    or the error its flags raise."""
    parsed = fastpath.parse(argv)
    if parsed is None:
        return None
    _, fields, args = parsed
    try:
        g = fastpath.globals_from(fields, Out(io.StringIO(), io.StringIO(), color=False))
    except VipError as e:
        return None, e.message
    return ({f: getattr(g, f) for f in GLOBAL_FIELDS}, _full(args)), None


TAKEN = {
    "bare": ["list"],
    "all-namespaces": ["list", "-A"],
    "globals-first": ["-n", "db", "--context", "c1", "list"],
    "globals-after": ["list", "-o", "json", "--kubeconfig", "/tmp/kc", "-A", "-v"],
    "attached-short": ["list", "-ojson", "-ndb", "-lapp=web"],
    "long-equals": ["list", "--output=wide", "--namespace=db", "--selector=tier in (a,b)"],
    "states": ["list", "--state", "orphaned", "--state=Retained,inuse"],
    "last-wins": ["list", "-o", "json", "-o", "yaml", "-n", "a", "-n", "b"],
    "ips": ["list", "--ips", "--no-headers", "--sort-by", "ip"],
    "chunk": ["list", "--chunk-size", "0", "--chunk-size=007"],
    "timeout": ["list", "--request-timeout", "5s", "--sandbox"],
    "unknown-format-is-run_list's-error": ["list", "-o", "bogus"],
}

LEFT = {
    "help": ["list", "--help"],
    "short-help": ["list", "-h"],
    "no-command": ["-A"],
    "other-command": ["usage", "-A"],
    "stray-argument": ["list", "pods"],
    "double-dash": ["list", "--", "-A"],
    "combined-flags": ["list", "-Av"],
    "fleet": ["list", "--contexts", "a,b"],
    "all-contexts": ["list", "--all-contexts"],
    "missing-value": ["list", "-o"],
    "value-like-a-flag": ["list", "-n", "-A"],
    "empty-value": ["list", "-n", ""],
    "negative-chunk": ["list", "--chunk-size", "-1"],
    "word-chunk": ["list", "--chunk-size", "ten"],
    "underscore-chunk": ["list", "--chunk-size", "1_0"],
    "flag-with-value": ["list", "--ips=yes"],
    "short-equals": ["list", "-n=db"],
    "list-flag-before-command": ["-o", "json", "list"],
    "unknown-flag": ["list", "--watch"],
    "version": ["list", "--version"],
}


@pytest.mark.parametrize("argv", list(TAKEN.values()), ids=list(TAKEN))
def test_a_line_taken_means_what_it_means_to_typer(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = through_fastpath(argv)
    assert fast is not None, "the fast path should take this line"
    code, typer_values, _ = through_typer(argv, monkeypatch)
    assert code == 0
    assert fast == (typer_values, None)


@pytest.mark.parametrize("argv", list(LEFT.values()), ids=list(LEFT))
def test_any_other_line_is_left_to_typer(argv: list[str]) -> None:
    assert fastpath.parse(argv) is None


def test_a_bad_global_value_is_the_same_error_either_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for argv in (["list", "-n", "Bad_NS"], ["list", "--request-timeout", "soon"]):
        fast = through_fastpath(argv)
        code, values, err = through_typer(argv, monkeypatch)
        assert fast is not None and fast[0] is None and values is None
        assert code == 2 and f"error: {fast[1]}" in err


TOKENS = [
    "list", "-A", "-n", "db", "-ndb", "--namespace=db", "-n", "Bad_NS", "-o", "json",
    "-ojson", "-owide", "--output=yaml", "--state", "orphaned", "--state=Retained,inuse",
    "-l", "app=x", "--selector=a in (b)", "--sort-by", "age", "--chunk-size", "0",
    "--chunk-size=007", "--chunk-size=-1", "--ips", "--no-headers", "-v", "--verbose",
    "--sandbox", "--context", "ctx", "--kubeconfig", "/tmp/kc", "--request-timeout", "5s",
    "--request-timeout=0", "-Av", "--", "-h", "extra", "=x", "-", "", "--ips=1", "-n=db",
    "--contexts", "a", "--all-namespaces", "usage",
]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=9))
def test_no_line_means_something_else_to_the_fast_path(argv: list[str]) -> None:
    fast = through_fastpath(argv)
    if fast is None:
        return  # typer's to parse
    with pytest.MonkeyPatch.context() as monkeypatch:
        code, values, err = through_typer(argv, monkeypatch)
    if fast[0] is None:  # a flag's value is wrong: typer says the same
        assert code == 2 and f"error: {fast[1]}" in err
    else:
        assert code == 0 and fast == (values, None), err


LINES = [
    ["list", "-A"],
    ["list", "-A", "-o", "json"],
    ["list", "-owide", "-n", "db"],
    ["list", "--ips", "-A", "--no-headers"],
    ["list", "-A", "--state", "orphaned,retained", "-o", "name"],
    ["list", "-n", "nowhere"],
    ["list", "-n", "Bad_NS"],
    ["list", "-A", "-o", "bogus"],
]


@pytest.mark.parametrize("argv", LINES, ids=[" ".join(a) for a in LINES])
def test_same_output_and_exit_code_as_the_app(argv: list[str], kubeconfig: Path) -> None:
    line = ["--kubeconfig", str(kubeconfig), *argv]
    outs = []
    for run in (invoke, fastpath.run_fast):
        out, err = io.StringIO(), io.StringIO()
        code = run(line, Out(out, err, color=False))
        outs.append((code, out.getvalue(), err.getvalue()))
    assert outs[0][1] or outs[0][2], "the line should print something"
    assert outs[1] == outs[0]


def test_the_console_script_runs_list_without_typer(kubeconfig: Path) -> None:
    p = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "kubectl_vip",
            "list",
            "-A",
            "-o",
            "name",
            "--kubeconfig",
            str(kubeconfig),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0 and p.stdout.startswith("vpcipclaim.")
    imported = {line.split("|")[-1].strip() for line in p.stderr.splitlines()}
    assert "kubectl_vip.cli.claims_view" in imported
    assert not {"typer", "pydantic", "click"} & imported
