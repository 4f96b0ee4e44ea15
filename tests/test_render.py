"""The terminal door: colour only on a TTY and never with NO_COLOR; streamed JSON documents."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.cli.app import invoke
from kubectl_vip.render import Out, color_enabled, json_chunks


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stream", "env", "expected"),
    [
        pytest.param(Tty(), {}, True, id="tty"),
        pytest.param(Tty(), {"NO_COLOR": ""}, False, id="tty-NO_COLOR-empty"),
        pytest.param(Tty(), {"NO_COLOR": "1"}, False, id="tty-NO_COLOR"),
        pytest.param(Tty(), {"TERM": "dumb"}, False, id="tty-dumb"),
        pytest.param(io.StringIO(), {}, False, id="pipe"),
    ],
)
def test_colour_only_on_a_tty_without_no_color(
    stream: io.StringIO, env: dict[str, str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert color_enabled(stream) is expected


def test_list_colours_the_state_column_on_a_tty(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out, err = Tty(), io.StringIO()
    assert invoke(["--kubeconfig", str(kubeconfig), "list", "-n", "db"], Out(out, err)) == 0
    text = out.getvalue()
    assert "\x1b[" in text  # styled
    assert "\x1b[35mOrphaned" in text  # magenta, as STATE_STYLES says
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Tty()
    assert invoke(["--kubeconfig", str(kubeconfig), "list", "-n", "db"], Out(plain, err)) == 0
    assert "\x1b[" not in plain.getvalue()


@pytest.mark.parametrize(
    "doc",
    [
        pytest.param({"a": 1, "items": [{"x": 1}, {"y": [1, 2]}]}, id="items"),
        pytest.param({"a": 1, "items": []}, id="no-items"),
        pytest.param({"items": [1]}, id="only-items"),
        pytest.param([1, 2], id="not-a-dict"),
        pytest.param({"k": "v"}, id="no-items-key"),
    ],
)
def test_json_chunks_parse_back(doc: Any) -> None:
    assert json.loads("".join(json_chunks(doc))) == doc


def test_json_chunks_stream_a_generator_one_item_per_line() -> None:
    produced: list[int] = []

    def items() -> Any:
        for i in range(3):
            produced.append(i)
            yield {"n": i, "name": f"claim-{i}"}

    chunks = json_chunks({"kind": "ClaimList", "items": items()})
    first = next(chunks)
    assert produced == [0]  # nothing is built ahead of the writer
    text = first + "".join(chunks)
    assert json.loads(text)["items"][2] == {"n": 2, "name": "claim-2"}
    assert '    {"n": 1, "name": "claim-1"},' in text.splitlines()
