"""Go durations: parsing and formatting exactly as Go's `time` package and kubectl do.

`durationpy` (pulled in by `kubernetes`) is not used: it accepts units Go rejects (`d`, `w`,
`mm`, `y`), accepts spaces between terms and computes with floats. This module follows
`time.ParseDuration` and `Duration.String()` with integer nanoseconds instead.

`timedelta` has microsecond resolution: a positive remainder below 1µs is rounded *up*, so a
non-zero Go duration never turns into a zero timedelta (zero means "never" for ipamd).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

__all__ = [
    "MIN_EXPIRY",
    "DurationError",
    "format_compact",
    "format_go_duration",
    "format_human",
    "parse_expiry",
    "parse_go_duration",
]

MIN_EXPIRY = timedelta(minutes=5)

_NS = 1
_US = 1_000 * _NS
_MS = 1_000 * _US
_S = 1_000 * _MS
_M = 60 * _S
_H = 60 * _M
_MAX_NS = 2**63 - 1  # Go's time.Duration is an int64 of nanoseconds

# time.unitMap: "µs" is U+00B5 (micro sign), "μs" is U+03BC (Greek mu).
_UNITS = {"ns": _NS, "us": _US, "µs": _US, "μs": _US, "ms": _MS, "s": _S, "m": _M, "h": _H}
_TERM = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
_EXAMPLES = "use a Go duration such as 90m, 1h30m or 10m0s"
_FOREIGN_UNITS = {"d", "w", "y"}  # said in a hint converted, where the length is fixed


class DurationError(ValueError):
    """An invalid or unacceptable duration; the message is one line, fit for a user."""


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _invalid(text: str, reason: str = "") -> DurationError:
    detail = f"{reason}; " if reason else ""
    return DurationError(f"invalid duration {_quote(text)}: {detail}{_EXAMPLES}")


def _parse_ns(text: str, units: dict[str, int] = _UNITS) -> int:
    """`time.ParseDuration`, returning signed nanoseconds (exact, no float rounding)."""
    s = text
    neg = False
    if s[:1] in ("-", "+"):
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise _invalid(text, "empty" if not text else "")
    total = 0
    pos = 0
    while pos < len(s):
        m = _TERM.match(s, pos)
        assert m is not None  # every group may be empty, so the pattern always matches
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:
            raise _invalid(text)
        if not unit:
            raise _invalid(text, "missing unit")
        if unit not in units:
            reason = f"unknown unit {_quote(unit)}"
            if unit == "y":
                reason += " (a year has no fixed length: write hours, 8760h for 365 days)"
            elif unit in _FOREIGN_UNITS and units is _UNITS:
                hint = _in_go_units(text)
                reason += f" (write {hint} instead)" if hint else ""
            raise _invalid(text, reason)
        size = units[unit]
        value = int(whole or "0") * size
        if frac:
            value += int(frac) * size // 10 ** len(frac)
        total += value
        if total > 2**63:
            raise _invalid(text, "out of range")
        pos = m.end()
    if neg:
        return -total
    if total > _MAX_NS:
        raise _invalid(text, "out of range")
    return total


_WITH_DAYS = {**_UNITS, "d": 24 * _H, "w": 168 * _H}


def _in_go_units(text: str) -> str | None:
    """`3d` -> `72h`, `1w2d` -> `216h`, `1.5d` -> `36h`: the same length in Go's units, for the
    hint (the tool prints days; ipamd reads only Go durations). None when it still does not
    parse (a year has no fixed length)."""
    try:
        ns = _parse_ns(text, _WITH_DAYS)
    except DurationError:
        return None
    return format_compact(_ns_to_timedelta(ns))


def _ns_to_timedelta(ns: int) -> timedelta:
    us = -((-ns) // _US)  # ceil for positive values, so 1ns does not become 0
    return timedelta(microseconds=us)


def _timedelta_to_ns(td: timedelta) -> int:
    return (td // timedelta(microseconds=1)) * _US


def parse_go_duration(text: str) -> timedelta:
    """Parse Go `time.ParseDuration` syntax ("90m", "1h30m", "1.5h", "300ms", "0").

    Negative values are valid Go but meaningless here, so they are refused.
    """
    ns = _parse_ns(text)
    if ns < 0:
        raise DurationError(f"invalid duration {_quote(text)}: must not be negative")
    return _ns_to_timedelta(ns)


def _fmt_frac(v: int, prec: int) -> tuple[str, int]:
    """Go's fmtFrac: the fraction v/10**prec without trailing zeros, and the integer part."""
    digits = ""
    printing = False
    for _ in range(prec):
        digit = v % 10
        printing = printing or digit != 0
        if printing:
            digits = str(digit) + digits
        v //= 10
    return ("." + digits if printing else ""), v


def _fmt_small(u: int) -> str:
    """Go's form for 0 < u < 1s: 300ms, 1.5µs, 12ns."""
    if u < _US:
        return f"{u}ns"
    if u < _MS:
        frac, whole = _fmt_frac(u, 3)
        return f"{whole}{frac}µs"
    frac, whole = _fmt_frac(u, 6)
    return f"{whole}{frac}ms"


def format_go_duration(td: timedelta) -> str:
    """Go's `Duration.String()`: "1h0m0s", "1h30m0s", "5m0s", "0s", "1.5s", "300ms"."""
    ns = _timedelta_to_ns(td)
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u == 0:
        return "0s"
    if u < _S:
        return sign + _fmt_small(u)
    frac, secs = _fmt_frac(u, 9)
    out = f"{secs % 60}{frac}s"
    minutes = secs // 60
    if minutes:
        out = f"{minutes % 60}m" + out
        hours = minutes // 60
        if hours:
            out = f"{hours}h" + out
    return sign + out


def format_compact(td: timedelta) -> str:
    """Go duration syntax without zero terms: "1h", "1h30m", "1m30s", "4m59s", "1h5s", "0s".

    This is what we write into ipamd's args; it parses back to the same value in Go.
    """
    ns = _timedelta_to_ns(td)
    sign, u = ("-", -ns) if ns < 0 else ("", ns)
    if u == 0:
        return "0s"
    if u < _S:
        return sign + _fmt_small(u)
    frac, secs = _fmt_frac(u, 9)
    hours, rest = divmod(secs, 3600)
    minutes, seconds = divmod(rest, 60)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if seconds or frac:
        out += f"{seconds}{frac}s"
    return sign + out


def format_human(td: timedelta) -> str:
    """kubectl's age column: k8s.io/apimachinery/pkg/util/duration.HumanDuration.

    Like kubectl, a value down to -1.999s reads "0s" (clock skew); below that "<invalid>".
    """
    us = td // timedelta(microseconds=1)
    seconds = us // 1_000_000 if us >= 0 else -((-us) // 1_000_000)  # Go truncates toward 0
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if dy == 0 else f"{years}y{dy}d"
    return f"{hours // 24 // 365}y"


def parse_expiry(text: str) -> timedelta | None:
    """The argument of `set-expiry`: "never" or any zero duration → None (remove the flag);
    otherwise a Go duration of at least `MIN_EXPIRY`.
    """
    stripped = text.strip()
    if stripped.lower() == "never":
        return None
    ns = _parse_ns(stripped)
    if ns == 0:
        return None
    if ns < 0:
        raise DurationError(
            f"invalid expiry {_quote(stripped)}: must not be negative (use never to disable)"
        )
    td = _ns_to_timedelta(ns)
    if td < MIN_EXPIRY:
        raise DurationError(
            f"expiry {format_compact(td)} is below the {format_compact(MIN_EXPIRY)} minimum "
            "that tke-eni-ipamd accepts"
        )
    return td
