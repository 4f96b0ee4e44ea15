"""Direction marks (LRM U+200E, RLM U+200F, ALM U+061C) are escaped with the other bidi
controls: a mark can reorder what a line shows around it (an IP, a path) as an override can."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from kubectl_vip.cli.app import invoke
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.term.escaping import escape, escape_in_json, escape_raw
from kubectl_vip.term.render import Out

MARKS = "\u200e\u200f\u061c"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param("10.0.\u200e3.2", "10.0.\\u200e3.2", id="lrm"),
        pytest.param("a\u200fb", "a\\u200fb", id="rlm"),
        pytest.param("a\u061cb", "a\\u061cb", id="alm"),
        pytest.param("\u200e\u202e", "\\u200e\\u202e", id="with-override"),
        pytest.param(
            "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "العربية", id="arabic-letters-kept"
        ),
    ],
)
def test_direction_marks_are_escaped(raw: str, shown: str) -> None:
    assert escape(raw) == shown
    assert escape_raw(raw) == shown
    for mark in MARKS:
        assert mark not in escape_in_json(json.dumps(raw, ensure_ascii=False))


def _plant_event(sb: Sandbox, message: str) -> None:
    sb.store.create(
        sb.world.t.events,
        "db",
        {
            "metadata": {"name": "analytics-0.marks"},
            "involvedObject": {"kind": "Pod", "namespace": "db", "name": "analytics-0"},
            "reason": "ENILimit",
            "type": "Warning",
            "message": message,
            "count": 1,
            "firstTimestamp": "2026-11-20T11:00:00Z",
            "lastTimestamp": "2026-11-20T11:59:00Z",
        },
    )


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_marks_from_the_api_never_reach_the_terminal(
    sandbox: Sandbox, kubeconfig: Path, fmt: str
) -> None:
    message = f"ENILimit on node 10.0.\u200f1.7 {MARKS} end"
    _plant_event(sandbox, message)
    out, err = io.StringIO(), io.StringIO()
    argv = ["--kubeconfig", str(kubeconfig), "describe", "analytics-0", "-n", "db"]
    code = invoke([*argv, *([] if fmt == "table" else ["-o", fmt])], Out(out, err, color=False))
    assert code == 0, err.getvalue()
    text = out.getvalue() + err.getvalue()
    for mark in MARKS:
        assert mark not in text, (fmt, mark)
    if fmt == "table":
        assert "10.0.\\u200f1.7" in text
    else:  # documents keep the exact string as data
        doc = json.loads(out.getvalue()) if fmt == "json" else yaml.safe_load(out.getvalue())
        assert message in json.dumps(doc, ensure_ascii=False)
