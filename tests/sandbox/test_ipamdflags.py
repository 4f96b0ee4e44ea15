"""How the sandbox's ipamd finds and parses its flags: after its binary (wrappers), and as Go's
`flag` or spf13/pflag reads them (the two differ after a bool flag given a separate value)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.sandbox.ipamdflags import (
    FLAG_LIBRARIES,
    FlagLibrary,
    ZeroAnnotation,
    annotation_expiry,
    flag_items,
    read_flags,
)

FLAGS = ["--claim-expired-duration=1h", "--v=3"]

ITEMS = [
    ("binary-in-command", {"command": ["/usr/bin/tke-eni-ipamd"], "args": FLAGS}, FLAGS),
    (
        "wrapper-then-binary-in-command",
        {"command": ["/tini", "--", "/tke-eni-ipamd"], "args": FLAGS},
        FLAGS,
    ),
    (
        "flags-in-command-after-the-binary",
        {"command": ["/tini", "--", "/tke-eni-ipamd", "--v=3"], "args": ["--enable-ownerref"]},
        ["--v=3", "--enable-ownerref"],
    ),
    (
        "wrapper-command-binary-in-args",
        {"command": ["/tini", "--"], "args": ["/tke-eni-ipamd", *FLAGS]},
        FLAGS,
    ),
    ("no-command", {"args": FLAGS}, FLAGS),
    ("relative-binary", {"command": ["./tke-eni-ipamd", "--v=3"]}, ["--v=3"]),
    (
        "a-shell-names-no-binary",
        {"command": ["/bin/sh", "-c"], "args": ["exec ipamd"]},
        ["-c", "exec ipamd"],
    ),
    ("a-longer-name-is-not-the-binary", {"command": ["/tke-eni-ipamd-wrapper"]}, []),
]


@pytest.mark.parametrize(("container", "want"), [i[1:] for i in ITEMS], ids=[i[0] for i in ITEMS])
def test_flags_are_the_items_after_the_binary(container: dict[str, Any], want: list[str]) -> None:
    assert flag_items(container) == want


SPLIT = ["--logtostderr", "--enable-ownerref", "false", "--claim-expired-duration=1h"]

READS = [
    ("eq-form", ["--claim-expired-duration=1h"], {"claim-expired-duration": "1h"}, None),
    ("split-form", ["--claim-expired-duration", "1h"], {"claim-expired-duration": "1h"}, None),
    ("single-dash", ["-claim-expired-duration=5m"], {"claim-expired-duration": "5m"}, None),
    ("last-wins", ["--v=1", "--v", "3"], {"v": "3"}, None),
    ("bare-bool", ["--enable-ownerref"], {"enable-ownerref": "true"}, None),
    ("bool-eq-false", ["--enable-ownerref=false"], {"enable-ownerref": "false"}, None),
    (
        "split-bool-flag-stops",
        SPLIT,
        {"logtostderr": "true", "enable-ownerref": "true"},
        "flag",
    ),
    (
        "split-bool-pflag-reads-on",
        SPLIT,
        {"logtostderr": "true", "enable-ownerref": "true", "claim-expired-duration": "1h"},
        "pflag",
    ),
    ("double-dash-ends-flags", ["--v=3", "--", "--enable-ownerref"], {"v": "3"}, None),
    (
        "a-value-flag-takes-the-next-item-whatever-it-is",
        ["--claim-expired-duration", "--enable-ownerref"],
        {"claim-expired-duration": "--enable-ownerref"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("items", "want", "library"), [r[1:] for r in READS], ids=[r[0] for r in READS]
)
def test_read_flags(items: list[str], want: dict[str, str], library: FlagLibrary | None) -> None:
    for lib in FLAG_LIBRARIES if library is None else (library,):
        assert read_flags(items, lib) == want, lib


@given(st.lists(st.sampled_from(["--v=3", "--enable-ownerref", "false", "x", "--cluster-id"])))
def test_pflag_reads_at_least_what_flag_reads(items: list[str]) -> None:
    """Go's flag stops where pflag reads on: whatever flag reads, pflag reads the same way up to
    there, so every flag Go's flag sets is set by pflag too."""
    assert set(read_flags(items, "flag")) <= set(read_flags(items, "pflag"))


HOUR = timedelta(hours=1)
EXPIRIES = [
    ("zero-never", timedelta(0), "never", None),
    ("zero-flag", timedelta(0), "flag", HOUR),
    ("unparsable-never", None, "never", None),
    ("unparsable-flag", None, "flag", HOUR),
    ("a-value-wins-never", timedelta(minutes=5), "never", timedelta(minutes=5)),
    ("a-value-wins-flag", timedelta(minutes=5), "flag", timedelta(minutes=5)),
]


@pytest.mark.parametrize(
    ("parsed", "reading", "want"), [e[1:] for e in EXPIRIES], ids=[e[0] for e in EXPIRIES]
)
def test_annotation_expiry_readings(
    parsed: timedelta | None, reading: ZeroAnnotation, want: timedelta | None
) -> None:
    assert annotation_expiry(parsed, HOUR, reading) == want
