"""Parsing the API's JSON: orjson when it is installed (the `fast` extra), else the standard
library. Both give the same objects: whatever orjson refuses (lone surrogates, NaN) is handed
to the standard library, which decides; so is a document with a run of 19 digits or more
anywhere, where an integer might not fit in 64 bits (orjson would make it a float)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_fast_loads: Callable[[bytes | str], Any] | None
try:
    from orjson import loads as _fast_loads
except ImportError:  # optional: the krew archive and a plain install go without it
    _fast_loads = None


_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_STR = re.compile(r"[0-9]{19}")


def loads(data: bytes | str) -> Any:
    long = _LONG_DIGITS.search(data) if isinstance(data, bytes) else _LONG_DIGITS_STR.search(data)
    if _fast_loads is not None and long is None:
        try:
            return _fast_loads(data)
        except ValueError:  # orjson.JSONDecodeError is a ValueError
            pass
    return json.loads(data)
