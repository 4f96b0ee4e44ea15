"""Parsing the API's JSON: orjson when it is installed (the `fast` extra), else the standard
library. Both give the same objects: whatever orjson refuses (lone surrogates, NaN) is handed
to the standard library, which decides; so is a document with a run of 19 digits or more
anywhere, where an integer might not fit in 64 bits (orjson would make it a float).

Bounded: a document nested deeper than orjson's limit (1,024 levels; the standard library stops
at Python's recursion limit, about 1,000) or holding an integer of more than `MAX_INT_DIGITS`
digits (the API's integers are 64-bit: 19 digits) is refused with `Unusable`, a ValueError that
says which bound it broke, never a RecursionError or a conversion error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_fast_loads: Callable[[bytes | str], Any] | None
try:
    from orjson import loads as _fast_loads
except ImportError:  # optional (the krew archives carry it): a plain install goes without
    _fast_loads = None


_LONG_DIGITS_STR = re.compile(r"[0-9]{19}")
# Finding a run of 19 digits in bytes: map every digit to "0" and every other byte to ".", then
# look for nineteen "0"s. Both steps run in C at memory speed, ten times faster than a regex
# search (which took three times as long as orjson's parse itself).
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 46 for i in range(256))
_NINETEEN = b"0" * 19


def _has_long_digits(data: bytes | str) -> bool:
    if isinstance(data, str):
        return _LONG_DIGITS_STR.search(data) is not None
    return data.translate(_DIGITS_AS_ZERO).find(_NINETEEN) >= 0


MAX_INT_DIGITS = 100


class Unusable(ValueError):
    """Valid-looking JSON past one of our bounds (depth, integer size)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise Unusable(f"an integer of {digits} digits (the limit is {MAX_INT_DIGITS})")
    return int(text)


def loads(data: bytes | str) -> Any:
    long_digits = _has_long_digits(data)
    if _fast_loads is not None and not long_digits:
        try:
            return _fast_loads(data)
        except ValueError as e:  # orjson.JSONDecodeError is a ValueError
            if "depth limit" in str(e):
                raise Unusable("JSON nested deeper than 1024 levels") from None
    try:
        # integers are checked only where a long run of digits says one may be long
        return json.loads(data, parse_int=_bounded_int) if long_digits else json.loads(data)
    except RecursionError:
        raise Unusable("JSON nested deeper than about 1000 levels") from None
