"""The API's JSON parses to the same objects with orjson (the `fast` extra) and without it,
odd documents included (whatever orjson refuses goes to the standard library)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kubectl_vip.api import fastjson

DOCS = {
    "list": b'{"kind":"PodList","items":[{"metadata":{"name":"a","uid":"1"}}],"x":1.5}',
    "unicode": '{"m":"\\u00e9\\u2028 \\u0007 caf\u00e9"}'.encode(),
    "big-int": b'{"n": 123456789012345678901234567890}',
    "just-past-64-bits": b'{"n": 18446744073709551616}',
    "negative-past-64-bits": b"[1, -9223372036854775809]",
    "long-int-in-text": '{"m": "caf\u00e9", "n": 99999999999999999999}'.encode(),
    "longest-that-fits": b'{"n": 999999999999999999, "u": 18446744073709551615}',
    "lone-surrogate": b'{"s": "\\ud800"}',
    "nan": b'{"f": NaN}',
    "duplicate-key": b'{"a": 1, "a": 2}',
}


@pytest.mark.parametrize("raw", list(DOCS.values()), ids=list(DOCS))
def test_same_objects_as_the_standard_library(raw: bytes) -> None:
    assert repr(fastjson.loads(raw)) == repr(json.loads(raw))


@pytest.mark.parametrize(
    ("text", "long"),
    [
        ("1234567890123456789", True),
        ("123456789012345678", False),
        ('"a": 123456789012345678, "b": 1', False),
        ("x" * 1000 + "1234567890123456789" + "y", True),
        ("1234567890 1234567890", False),
        ("é1234567890123456789", True),
    ],
)
def test_runs_of_nineteen_digits_are_found(text: str, long: bool) -> None:
    assert fastjson._has_long_digits(text.encode()) is long
    assert fastjson._has_long_digits(text) is long


@pytest.mark.parametrize("raw", [b"<html>", b'{"a": ', b""], ids=["html", "cut", "empty"])
def test_not_json_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        fastjson.loads(raw)


def test_works_without_orjson() -> None:
    code = (
        "import sys; sys.modules['orjson'] = None\n"
        "from kubectl_vip.api import fastjson\n"
        "assert fastjson._fast_loads is None\n"
        "print(fastjson.loads(b'{\"a\": [1, 2.5, null]}'))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == "{'a': [1, 2.5, None]}"
