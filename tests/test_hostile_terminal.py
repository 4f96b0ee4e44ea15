"""Strings from the API never reach the terminal raw: every rendered string is escaped in one
place (render.escape), on a TTY and piped; JSON and YAML keep the exact strings, safely encoded.

The hostile strings are planted the way anyone with `create events` or `create vpcipclaims`
could: in Event messages, VpcIP status, ipamd's args and image, a Status message; and (through
a rewriting proxy, since the sandbox validates names as the API does) in object names.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.cli.app import invoke
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault, Rewrite
from kubectl_vip.term.escaping import escape
from kubectl_vip.term.render import Out

from .conftest import Result

FORGED = "FAKE: all claims verified safe"
CLEAR = "\x1b[2J"
OSC8 = "\x1b]8;;https://evil.example/\x07click here\x1b]8;;\x07"
# every trick at once: clear the screen, a hyperlink, a forged line, CR overwrite, 8-bit CSI,
# a bidi override and rich markup
HOSTILE = f"boom{CLEAR}{OSC8}\n{FORGED}\r\x9b31m\u202e[red]x[/red][link=https://e.x]y[/link]"
HOSTILE_NAME = f"evil{CLEAR}\n{FORGED}"
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the renderer's own colours, on a TTY only
# and, on a TTY's stderr, the progress bar's redraws: CR, hide/show cursor, erase line, up one
OURS = re.compile(r"\r|\x1b\[(?:[0-9;]*m|\?25[lh]|2K|1A)")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _set(sb: Sandbox, rtype: Any, ns: str, name: str, change: Any) -> None:
    obj = copy.deepcopy(sb.store.peek(rtype, ns, name))
    assert obj is not None, (ns, name)
    change(obj)
    sb.store.update(rtype, ns, name, obj)


def plant(sb: Sandbox) -> None:
    """Hostile strings in objects the demo scenario shows in every command."""
    t = sb.world.t
    assert t.vips is not None and t.claims is not None
    sb.store.create(
        t.events,
        "db",
        {
            "metadata": {"name": "analytics-0.hostile"},
            "involvedObject": {"kind": "Pod", "namespace": "db", "name": "analytics-0"},
            "reason": "ENILimit",
            "type": "Warning",
            "message": "ENILimit " + HOSTILE,
            "count": 3,
            "firstTimestamp": "2026-11-20T11:00:00Z",
            "lastTimestamp": "2026-11-20T11:59:00Z",
        },
    )

    def vip_message(o: Any) -> None:
        o["status"]["message"] = "ENILimit: " + HOSTILE

    _set(sb, t.vips, "", "10.0.3.2", vip_message)

    def vip_subnet(o: Any) -> None:
        o["spec"]["subnetID"] = "subnet-" + HOSTILE

    _set(sb, t.vips, "", "10.0.2.60", vip_subnet)

    def ipamd(o: Any) -> None:
        c = o["spec"]["template"]["spec"]["containers"][0]
        c["args"] = [*c.get("args", []), "--hostile=" + HOSTILE]

    _set(sb, t.deployments, "kube-system", "tke-eni-ipamd", ipamd)

    # a claim whose name and owner are hostile, served by a "proxy" (the store, like the API,
    # refuses such a name)
    def add_claim(doc: Any) -> Any:
        if not isinstance(doc.get("items"), list):
            return doc
        base = next(
            (i for i in doc["items"] if i["metadata"]["name"] == "debug-shell"),
            None,
        )
        if base is None:
            return doc
        evil = copy.deepcopy(base)
        evil["metadata"]["name"] = HOSTILE_NAME
        evil["metadata"]["uid"] = "hostile-uid"
        evil["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": HOSTILE, "uid": "u"}
        ]
        return {**doc, "items": [*doc["items"], evil]}

    sb.controls.rewrite(Rewrite(path="*/vpcipclaims", transform=add_claim))


COMMANDS = {
    "list": ["list", "-A", "-o", "wide"],
    "list-ips": ["list", "--ips", "-A", "-o", "wide"],
    "usage": ["usage"],
    "describe-pod": ["describe", "analytics-0", "-n", "db"],
    "describe-ip": ["describe", "10.0.3.2"],
    "reclaim": ["reclaim", "--retained-for", "1h", "-A", "--dry-run"],
    "config": ["config"],
    "doctor": ["doctor"],
}


def run(kubeconfig: Path, argv: list[str], tty: bool) -> Result:
    out, err = (Tty(), Tty()) if tty else (io.StringIO(), io.StringIO())
    code = invoke(["--kubeconfig", str(kubeconfig), *argv], Out(out, err, color=None))
    return Result(code, out.getvalue(), err.getvalue())


def assert_safe(text: str, tty: bool) -> None:
    if tty:
        text = OURS.sub("", text)  # our own styles; anything else is not ours
    assert "\x1b" not in text, text
    found = CONTROL.findall(text)
    assert not found, (found, text)
    for line in text.splitlines():
        assert not line.strip().startswith("FAKE"), line


@pytest.fixture
def colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.mark.parametrize("tty", [False, True], ids=["piped", "tty"])
@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_hostile_strings_are_escaped_in_every_command(
    sandbox: Sandbox, kubeconfig: Path, argv: list[str], tty: bool, colour_env: None
) -> None:
    plant(sandbox)
    r = run(kubeconfig, argv, tty)
    assert r.code in (0, 1), r.stderr  # doctor finds problems in the demo: 1
    assert "Traceback" not in r.stderr
    shown = r.stdout + r.stderr
    assert_safe(r.stdout, tty)
    assert_safe(r.stderr, tty)
    # the hostile text was shown, escaped, not dropped (the test is about rendering it)
    assert "\\x1b[2J" in shown and "\\n" + FORGED in shown, shown
    assert "[red]x[/red][link=https://e.x]y[/link]" in shown  # markup printed literally
    if tty and argv[0] in ("list", "doctor"):
        assert SGR.search(r.stdout), "colour was on: the test covers styled output"


@pytest.mark.parametrize("tty", [False, True], ids=["piped", "tty"])
def test_status_message_in_the_error_line_is_escaped(
    sandbox: Sandbox, kubeconfig: Path, tty: bool, colour_env: None
) -> None:
    sandbox.controls.inject(
        Fault(verb="list", resource="vpcipclaims", code=400, reason="BadRequest", message=HOSTILE)
    )
    r = run(kubeconfig, ["list", "-A"], tty)
    assert r.code == 1
    assert r.stdout == ""
    assert_safe(r.stderr, tty)
    assert len(r.stderr.splitlines()) == 1
    assert "\\n" + FORGED in r.stderr


def test_bundle_warnings_escape_what_the_api_said(
    sandbox: Sandbox, kubeconfig: Path, tmp_path: Path
) -> None:
    sandbox.controls.inject(
        Fault(verb="list", resource="events", code=400, reason="BadRequest", message=HOSTILE,
              times=-1)
    )  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    argv = ["--kubeconfig", str(kubeconfig), "bundle", "-o", str(tmp_path / "b.tar.gz")]
    code = invoke(argv, Out(out, err, color=False))
    assert code == 1, err.getvalue()  # written, but the events read failed
    assert_safe(out.getvalue(), False)
    assert_safe(err.getvalue(), False)
    assert "events: failed (boom\\x1b[2J" in err.getvalue()


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize(
    "argv",
    [["list", "-A"], ["list", "--ips", "-A"], ["describe", "10.0.3.2"], ["doctor"]],
    ids=["list", "list-ips", "describe", "doctor"],
)
def test_documents_keep_the_exact_strings_and_print_safely(
    sandbox: Sandbox, kubeconfig: Path, argv: list[str], fmt: str
) -> None:
    plant(sandbox)
    r = run(kubeconfig, [*argv, "-o", fmt], tty=False)
    assert r.code in (0, 1), r.stderr
    assert_safe(r.stdout, tty=False)
    doc = json.loads(r.stdout) if fmt == "json" else yaml.safe_load(r.stdout)
    strings = list(_strings(doc))
    assert any(HOSTILE in s for s in strings), "the exact string is kept as data"


def _strings(doc: Any) -> Any:
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for k, v in doc.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from _strings(v)


def test_name_output_escapes_a_forged_line(sandbox: Sandbox, kubeconfig: Path) -> None:
    plant(sandbox)
    r = run(kubeconfig, ["list", "-A", "-o", "name"], tty=False)
    assert r.code == 0
    assert_safe(r.stdout, tty=False)
    assert f"vpcipclaim.networking.tke.cloud.tencent.com/evil\\x1b[2J\\n{FORGED}" in r.lines


# ---------------------------------------------------------------------------- the function


def unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("plain é 中", "plain é 中", id="printable-unchanged"),
        pytest.param("a\nb", "a\\nb", id="newline"),
        pytest.param("a\rb\tc", "a\\rb\\tc", id="cr-tab"),
        pytest.param(CLEAR, "\\x1b[2J", id="esc"),
        pytest.param("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b", id="nul-del-c1"),
        pytest.param("\u2028\u202e\u2066", "\\u2028\\u202e\\u2066", id="separators-bidi"),
        pytest.param("C:\\x1b", "C:\\\\x1b", id="backslash-doubled"),
        pytest.param("[red]x[/red]", "[red]x[/red]", id="markup-is-text"),
    ],
)
def test_escape_table(raw: str, shown: str) -> None:
    assert escape(raw) == shown


@given(st.text())
def test_escape_leaves_no_control_character_and_is_reversible(text: str) -> None:
    shown = escape(text)
    assert not CONTROL.search(shown) and "\n" not in shown
    assert unescape(shown) == text  # unambiguous: the screen says exactly what the API said


@given(st.lists(st.text(), min_size=1, max_size=4), st.booleans())
def test_every_renderer_writes_only_its_own_newlines_and_styles(
    cells: list[str], colour: bool
) -> None:
    out, err = (Tty(), Tty()) if colour else (io.StringIO(), io.StringIO())
    o = Out(out, err, color=colour)
    o.table(["A"] * len(cells), [cells], style_column="A")
    o.line(cells[0], style="bold")
    o.styled([(c, "red") for c in cells])
    o.info(cells[0])
    o.warn(cells[0])
    o.error(cells[0])
    o.raw_line(cells[0])
    for text in (out.getvalue(), err.getvalue()):
        plain = SGR.sub("", text) if colour else text
        assert not CONTROL.search(plain), plain
        assert "\x1b" not in plain
    assert len(out.getvalue().splitlines()) == 5  # header, row, line, styled, raw_line
    assert len(err.getvalue().splitlines()) == 3


def test_a_verbose_traceback_escapes_what_the_exception_says(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """-v prints the traceback of an unexpected error; its text may quote the API."""
    from kubectl_vip.cli import config_cmd

    def broken(g: Any) -> Any:
        raise RuntimeError(HOSTILE)

    monkeypatch.setattr(config_cmd, "read_config", broken)
    out, err = io.StringIO(), io.StringIO()
    code = invoke(["-v", "--kubeconfig", str(kubeconfig), "config"], Out(out, err, color=False))
    assert code == 1
    trace = capsys.readouterr().err
    assert "Traceback" in trace and "\\x1b[2J" in trace
    assert "\x1b" not in trace and "\x9b" not in trace
    assert_safe(err.getvalue(), tty=False)
