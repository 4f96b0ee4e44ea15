"""The terminal door: colour only on a TTY and never with NO_COLOR; streamed JSON documents."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.cli.app import invoke
from kubectl_vip.term import render
from kubectl_vip.term.render import JSON_BATCH, Out, PlainItems, color_enabled, json_chunks


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
    assert "\x1b[34mScaledIn" in text  # blue, as STATE_STYLES says
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


@pytest.mark.parametrize("plain", [False, True], ids=["any-items", "plain-items"])
def test_json_chunks_stream_a_generator_one_item_per_line(plain: bool) -> None:
    produced: list[int] = []
    n = JSON_BATCH * 2 + 3

    def items() -> Any:
        for i in range(n):
            produced.append(i)
            yield {"n": i, "name": f"claim-{i}"}

    chunks = json_chunks({"kind": "ClaimList", "items": PlainItems(items()) if plain else items()})
    first = next(chunks)
    assert len(produced) == JSON_BATCH  # a batch at a time: never the whole list ahead
    text = first + "".join(chunks)
    assert len(json.loads(text)["items"]) == n
    assert json.loads(text)["items"][2] == {"n": 2, "name": "claim-2"}
    assert '    {"n":1,"name":"claim-1"},' in text.splitlines()
    assert text.splitlines()[-3] == f'    {{"n":{n - 1},"name":"claim-{n - 1}"}}'


PLAIN_VALUES = [
    0,
    -(2**63),
    2**63 - 1,
    2**64 - 1,
    2**64,  # past 64 bits: orjson refuses it, the standard library writes it
    -(2**70),
    True,
    False,
    None,
    "",
    "plain",
    'caf\u00e9 \u2028 \x7f \x00 \\ " /',
    [1, "a", None, [], {}],
    {"nested": {"k": ["v", 1, {"x": None}]}},
]


def test_plain_items_are_the_same_bytes_with_or_without_orjson(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    every_char = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    chars = [every_char[i : i + 4096] for i in range(0, len(every_char), 4096)]
    items = [{"v": v} for v in PLAIN_VALUES] + [{"s": c} for c in chars]
    doc = {"kind": "X", "items": PlainItems(items)}
    assert render._orjson_dumps() is not None, "the test extras install orjson"
    fast = "".join(json_chunks(doc))
    monkeypatch.setattr(render, "_orjson_dumps", lambda: None)
    slow = "".join(json_chunks(doc))
    assert render._orjson_dumps() is None
    assert fast == slow
    assert json.loads(fast)["items"] == items


@pytest.mark.parametrize(
    "t",
    [
        "2026-12-08T00:27:37+00:00",
        "2026-12-08T00:27:37.250000+00:00",
        "2026-12-08T08:27:37+08:00",
        "0999-01-02T03:04:05+00:00",
    ],
)
def test_iso_writes_what_strftime_writes(t: str) -> None:
    from datetime import datetime

    from kubectl_vip.cli.common import iso

    when = datetime.fromisoformat(t)
    assert iso(when) == when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert iso(None) is None


def test_yaml_writes_a_shared_owner_out_for_every_claim(kubeconfig: Path) -> None:
    """Claims of one StatefulSet share its owner item; YAML writes it in full each time, never
    as an anchor and aliases (kubectl never writes those)."""
    import yaml

    from .conftest import run_vip

    r = run_vip("list", "-A", "-o", "yaml", kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    assert "&id" not in r.stdout and "*id" not in r.stdout
    items = yaml.safe_load(r.stdout)["items"]
    owners = [
        i["owner"]["name"] for i in items if i["owner"] and i["owner"]["kind"] == "StatefulSet"
    ]
    assert len(owners) > len(set(owners))  # some owner is shared by several claims
    j = json.loads(run_vip("list", "-A", "-o", "json", kubeconfig=kubeconfig).stdout)["items"]
    assert [i["owner"] for i in j] == [i["owner"] for i in items]
