"""Control characters made visible (pure, no rich): the escape form `render.py` documents and
every renderer applies. Here so that code which composes display text without printing it
(a doctor fix line, a shell completion answer) uses the same rule without importing rich."""

from __future__ import annotations

import re
from collections.abc import Sequence

# C0 controls, DEL, C1 controls, line/paragraph separators, bidi embeddings/overrides/isolates
# and the direction marks (LRM U+200E, RLM U+200F, ALM U+061C): a mark alone can reorder the
# neutral characters around it (an IP, a path), so it is shown, never obeyed
_BIDI = r"\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_UNSAFE_CLASS = r"\x00-\x1f\x7f-\x9f" + _BIDI
UNSAFE = re.compile(f"[{_UNSAFE_CLASS}]")
_UNSAFE_OR_BACKSLASH = re.compile(f"[{_UNSAFE_CLASS}\\\\]")
_RAW_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape_char(m: re.Match[str]) -> str:
    ch = m.group()
    named = _NAMED.get(ch)
    if named is not None:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` with every control character written as a visible escape (render.py's form)."""
    if not _UNSAFE_OR_BACKSLASH.search(text):
        return text  # the common case: one C-level scan, no copy
    return _UNSAFE_OR_BACKSLASH.sub(_escape_char, text)


def escape_cells(cells: Sequence[str]) -> list[str]:
    """`escape` of each cell; one scan of the whole row in the common case (a large table)."""
    if not _UNSAFE_OR_BACKSLASH.search("".join(cells)):
        return cells if isinstance(cells, list) else list(cells)  # no copy of a large table
    return [escape(c) for c in cells]


# what `json` leaves raw with ensure_ascii off (it escapes C0 itself)
_JSON_RAW = re.compile(r"[\x7f-\x9f" + _BIDI + "]")


def escape_in_json(chunk: str) -> str:
    """DEL, C1 and the separators, marks and overrides as JSON escapes. They only ever occur inside
    strings of encoded JSON, where `\\u` escapes are the same data."""
    if chunk.isascii() and "\x7f" not in chunk:
        return chunk  # the common case, without a regex scan (isascii is a flag lookup)
    if not _JSON_RAW.search(chunk):
        return chunk
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", chunk)


def escape_raw(text: str) -> str:
    """Like `escape`, but newlines, tabs and backslashes stay: for whole text we composed (a
    script, a metrics page) whose own lines are meant."""
    return _RAW_UNSAFE.sub(_escape_char, text)
