from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.model.duration import (
    MIN_EXPIRY,
    DurationError,
    format_compact,
    format_go_duration,
    format_human,
    parse_expiry,
    parse_go_duration,
)

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
US = timedelta(microseconds=1)

PARSE_OK = [
    ("90m", 90 * M),
    ("1h30m", H + 30 * M),
    ("10m0s", 10 * M),
    ("1.5h", H + 30 * M),
    ("300ms", timedelta(milliseconds=300)),
    ("0", timedelta(0)),
    ("0s", timedelta(0)),
    ("+0", timedelta(0)),
    ("-0s", timedelta(0)),
    ("+5m", 5 * M),
    (".5h", 30 * M),
    ("5.h", 5 * H),
    ("1h1m1s1ms1us", H + M + S + timedelta(milliseconds=1) + US),
    ("2µs", 2 * US),  # U+00B5 micro sign
    ("2μs", 2 * US),  # U+03BC Greek mu
    ("1ns", US),  # rounded up: a non-zero duration never becomes zero
    ("1500ns", 2 * US),
    ("1s500ms", timedelta(milliseconds=1500)),
    ("2h45m30.5s", 2 * H + 45 * M + timedelta(seconds=30.5)),
]


@pytest.mark.parametrize(("text", "want"), PARSE_OK, ids=[t for t, _ in PARSE_OK])
def test_parse_go_duration(text: str, want: timedelta) -> None:
    assert parse_go_duration(text) == want


PARSE_BAD = [
    ("", "empty"),
    ("5", "missing unit"),
    ("banana", ""),
    ("1d", 'unknown unit "d" (write 24h instead)'),
    ("1w", 'unknown unit "w"'),
    ("1y", 'unknown unit "y"'),
    ("1mm", 'unknown unit "mm"'),
    ("1h 30m", 'unknown unit "h "'),
    (" 1h", ""),
    ("1H", 'unknown unit "H"'),
    ("-5m", "must not be negative"),
    (".", ""),
    ("-", ""),
    ("1h30", "missing unit"),
    ("1..5s", ""),
    ("0.0", "missing unit"),
    ("9999999h", "out of range"),
    ("\u0661s", ""),  # Arabic-Indic digit: Go only takes ASCII digits
]


@pytest.mark.parametrize(("text", "fragment"), PARSE_BAD, ids=[repr(t) for t, _ in PARSE_BAD])
def test_parse_go_duration_refuses(text: str, fragment: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_go_duration(text)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f'invalid duration "{text}"')
    assert fragment in message


def test_duration_error_is_value_error() -> None:
    assert issubclass(DurationError, ValueError)
    with pytest.raises(DurationError, match=r'^invalid duration "banana": use a Go duration'):
        parse_go_duration("banana")


GO_STRING = [
    (timedelta(0), "0s"),
    (H, "1h0m0s"),
    (H + 30 * M, "1h30m0s"),
    (5 * M, "5m0s"),
    (timedelta(seconds=1.5), "1.5s"),
    (timedelta(milliseconds=300), "300ms"),
    (timedelta(microseconds=1500), "1.5ms"),
    (2 * US, "2µs"),
    (26 * H + 3 * S, "26h0m3s"),
    (-(5 * M), "-5m0s"),
    (timedelta(seconds=59, microseconds=999999), "59.999999s"),
]


@pytest.mark.parametrize(("td", "want"), GO_STRING, ids=[w for _, w in GO_STRING])
def test_format_go_duration(td: timedelta, want: str) -> None:
    assert format_go_duration(td) == want


COMPACT = [
    (timedelta(0), "0s"),
    (H, "1h"),
    (H + 30 * M, "1h30m"),
    (90 * S, "1m30s"),
    (4 * M + 59 * S, "4m59s"),
    (5 * M, "5m"),
    (H + 5 * S, "1h5s"),
    (timedelta(seconds=1.5), "1.5s"),
    (timedelta(milliseconds=300), "300ms"),
    (48 * H, "48h"),
]


@pytest.mark.parametrize(("td", "want"), COMPACT, ids=[w for _, w in COMPACT])
def test_format_compact(td: timedelta, want: str) -> None:
    assert format_compact(td) == want


# Cases from k8s.io/apimachinery/pkg/util/duration/duration_test.go (TestHumanDuration).
HUMAN = [
    (-2 * S, "<invalid>"),
    (-timedelta(seconds=1.9), "0s"),  # tolerated clock skew
    (-S, "0s"),
    (timedelta(0), "0s"),
    (S, "1s"),
    (45 * S, "45s"),
    (90 * S, "90s"),
    (119 * S, "119s"),
    (2 * M, "2m"),
    (5 * M, "5m"),
    (5 * M + 30 * S, "5m30s"),
    (9 * M + 59 * S, "9m59s"),
    (10 * M, "10m"),
    (95 * M, "95m"),
    (3 * H - S, "179m"),
    (3 * H, "3h"),
    (5 * H + 30 * M, "5h30m"),
    (8 * H, "8h"),
    (30 * H, "30h"),
    (48 * H - S, "47h"),
    (48 * H, "2d"),
    (3 * D + 5 * H, "3d5h"),
    (8 * D - S, "7d23h"),
    (8 * D, "8d"),
    (300 * D, "300d"),
    (2 * 365 * D - S, "729d"),
    (2 * 365 * D, "2y"),
    (2 * 365 * D + 30 * D, "2y30d"),
    (8 * 365 * D - S, "7y364d"),
    (8 * 365 * D, "8y"),
    (20 * 365 * D, "20y"),
]


@pytest.mark.parametrize(("td", "want"), HUMAN, ids=[f"{w}-{td}" for td, w in HUMAN])
def test_format_human(td: timedelta, want: str) -> None:
    assert format_human(td) == want


EXPIRY_OK: list[tuple[str, timedelta | None]] = [
    ("never", None),
    ("Never", None),
    ("0", None),
    ("0s", None),
    ("0h0m", None),
    ("-0s", None),
    ("5m", 5 * M),
    (" 5m ", 5 * M),
    ("300s", 5 * M),
    ("1h", H),
    ("90m", 90 * M),
    ("1h30m", 90 * M),
    ("720h", 30 * D),
]


@pytest.mark.parametrize(("text", "want"), EXPIRY_OK, ids=[t for t, _ in EXPIRY_OK])
def test_parse_expiry(text: str, want: timedelta | None) -> None:
    assert parse_expiry(text) == want


EXPIRY_BAD = [
    ("4m59s", "expiry 4m59s is below the 5m minimum that tke-eni-ipamd accepts"),
    ("299999ms", "expiry 4m59.999s is below the 5m minimum"),
    ("1ns", "expiry 1µs is below the 5m minimum"),
    ("-5m", "must not be negative"),
    ("banana", 'invalid duration "banana"'),
    ("1d", 'unknown unit "d"'),
    ("", 'invalid duration ""'),
    ("5", "missing unit"),
    ("nevermore", 'invalid duration "nevermore"'),
]


@pytest.mark.parametrize(("text", "fragment"), EXPIRY_BAD, ids=[repr(t) for t, _ in EXPIRY_BAD])
def test_parse_expiry_refuses(text: str, fragment: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_expiry(text)
    assert fragment in str(info.value)


# Go's time.Duration range, at microsecond resolution.
go_durations = st.integers(min_value=0, max_value=(2**63 - 1) // 1000).map(
    lambda us: timedelta(microseconds=us)
)


@given(go_durations)
def test_go_string_round_trips(td: timedelta) -> None:
    assert parse_go_duration(format_go_duration(td)) == td


@given(go_durations)
def test_compact_round_trips_and_is_never_longer(td: timedelta) -> None:
    compact = format_compact(td)
    assert parse_go_duration(compact) == td
    assert len(compact) <= len(format_go_duration(td))


@given(st.integers(min_value=0, max_value=10**12).map(lambda s: timedelta(seconds=s)))
def test_human_is_never_invalid_for_non_negative(td: timedelta) -> None:
    text = format_human(td)
    assert text != "<invalid>"
    assert text[0].isdigit()


@given(st.integers(min_value=5 * 60 * 10**6, max_value=10**13))
def test_expiry_accepts_every_duration_from_the_minimum(us: int) -> None:
    td = timedelta(microseconds=us)
    assert td >= MIN_EXPIRY
    assert parse_expiry(format_compact(td)) == td
