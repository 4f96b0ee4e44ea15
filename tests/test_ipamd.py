from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.model.ipamd import (
    ADDON_MANAGED_FROM,
    ANNOTATION_EXPIRY_FROM,
    CRD_V1_FROM,
    UNSET,
    IpamdError,
    IpamdFlags,
    Unset,
    Version,
    describe_flags,
    find_ipamd_container,
    parse_version,
    plan_args,
    plan_for_deployment,
    read_flags,
    unified_diff,
)

M = timedelta(minutes=1)
H = timedelta(hours=1)
IMAGE = "ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.4.2"
BIN = "/tke-eni-ipamd"

# --- versions -------------------------------------------------------------------------------------

VERSIONS: list[tuple[str, Version | None]] = [
    (IMAGE, Version(3, 4, 2)),
    ("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.10.0", Version(3, 10, 0)),
    ("tke-eni-ipamd:3.5.0", Version(3, 5, 0)),
    ("tke-eni-ipamd:v3.5.0-rc1", Version(3, 5, 0, ("rc1",))),
    ("tke-eni-ipamd:v3.6.0-tke.1", None),  # a vendor's suffix: before or after v3.6.0?
    ("tke-eni-ipamd:v3.5.0-amd64", None),
    ("tke-eni-ipamd:v3.5.0-20230301", None),
    ("tke-eni-ipamd:v3.5.0-alpha.2", Version(3, 5, 0, ("alpha", "2"))),
    ("tke-eni-ipamd:v3.5.0-beta", Version(3, 5, 0, ("beta",))),
    ("tke-eni-ipamd:v3.6.0+build.7", Version(3, 6, 0)),
    ("host:5000/tkeimages/tke-eni-ipamd:v3.4.1", Version(3, 4, 1)),
    ("tke-eni-ipamd:v3.4.2@sha256:" + "a" * 64, Version(3, 4, 2)),
    ("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd@sha256:" + "a" * 64, None),
    ("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:latest", None),
    ("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd", None),
    ("host:5000/tke-eni-ipamd", None),
    ("tke-eni-ipamd:v3.4", None),
    ("tke-eni-ipamd:v3.4.2.1x", Version(3, 4, 2)),
    ("tke-eni-ipamd:", None),
    ("", None),
]


@pytest.mark.parametrize(("image", "want"), VERSIONS, ids=[i or "empty" for i, _ in VERSIONS])
def test_parse_version(image: str, want: Version | None) -> None:
    assert parse_version(image) == want


PRE_RELEASES = [
    ("rc-below-release", "v3.5.0-rc1", "v3.5.0"),
    ("alpha-below-beta", "v3.5.0-alpha", "v3.5.0-beta"),
    ("numeric-numerically", "v3.5.0-rc.2", "v3.5.0-rc.10"),
    ("shorter-below-longer", "v3.5.0-rc", "v3.5.0-rc.1"),
    ("release-below-next-pre", "v3.4.2", "v3.5.0-rc1"),
]


@pytest.mark.parametrize(
    ("low", "high"), [p[1:] for p in PRE_RELEASES], ids=[p[0] for p in PRE_RELEASES]
)
def test_pre_release_sorts_below(low: str, high: str) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" -> the console: `v3.5.0-rc1` is earlier than v3.5.0
    (semver's pre-release order), so it takes the Deployment-edit rule."""
    a, b = parse_version("r/tke-eni-ipamd:" + low), parse_version("r/tke-eni-ipamd:" + high)
    assert a is not None and b is not None
    assert a < b and not b < a and a != b
    assert str(a) == low


def test_version_order_and_str() -> None:
    assert str(Version(3, 4, 2)) == "v3.4.2"
    assert Version(3, 10, 0) > Version(3, 9, 9) >= ADDON_MANAGED_FROM > CRD_V1_FROM
    assert CRD_V1_FROM > ANNOTATION_EXPIRY_FROM == Version(3, 3, 2)
    assert sorted([Version(3, 10, 0), Version(3, 5, 0), Version(3, 4, 12)])[0] == Version(3, 4, 12)


# --- container finding ----------------------------------------------------------------------------

FIND: list[tuple[str, list[dict[str, Any]], int]] = [
    ("named", [{"name": "tke-eni-ipamd", "image": IMAGE}], 0),
    ("by-image", [{"name": "ipamd", "image": IMAGE}], 0),
    ("sidecar-first", [{"name": "proxy", "image": "envoy:v1"}, {"name": "x", "image": IMAGE}], 1),
    (
        "name-beats-image",
        [{"name": "other", "image": IMAGE}, {"name": "tke-eni-ipamd", "image": "custom:1"}],
        1,
    ),
    (
        "exact-repo-beats-substring",
        [{"name": "exp", "image": "r/tke-eni-ipamd-exporter:v1"}, {"name": "m", "image": IMAGE}],
        1,
    ),
    (
        "substring",
        [{"name": "a", "image": "busybox"}, {"name": "b", "image": "r/tke-eni-ipamd-amd64:v3.4.2"}],
        1,
    ),
]


@pytest.mark.parametrize(("containers", "want"), [c[1:] for c in FIND], ids=[c[0] for c in FIND])
def test_find_ipamd_container(containers: list[dict[str, Any]], want: int) -> None:
    assert find_ipamd_container(containers) == want


FIND_BAD: list[tuple[str, list[dict[str, Any]], str]] = [
    ("none", [{"name": "a", "image": "busybox"}, {"name": "b", "image": "nginx"}], "refusing"),
    ("empty", [], "no container named tke-eni-ipamd"),
    ("no-image", [{"name": "a"}], "refusing to guess"),
    ("two-by-image", [{"name": "a", "image": IMAGE}, {"name": "b", "image": IMAGE}], "a, b"),
]


@pytest.mark.parametrize(
    ("containers", "fragment"), [c[1:] for c in FIND_BAD], ids=[c[0] for c in FIND_BAD]
)
def test_find_ipamd_container_refuses(containers: list[dict[str, Any]], fragment: str) -> None:
    with pytest.raises(IpamdError, match=fragment):
        find_ipamd_container(containers)


# --- shapes seen on clusters ----------------------------------------------------------------------


def ctr(args: list[str] | None = None, command: list[str] | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"name": "tke-eni-ipamd", "image": IMAGE}
    if command is not None:
        c["command"] = command
    if args is not None:
        c["args"] = args
    return c


SHAPES: dict[str, dict[str, Any]] = {
    "equals": ctr(["--v=3", "--claim-expired-duration=1h", "--enable-ownerref", "--log-dir=/l"]),
    "split": ctr(["--v=3", "--claim-expired-duration", "1h", "--log-dir", "/l"]),
    "absent": ctr(["--v=3"]),
    "duplicated": ctr(
        [
            "--claim-expired-duration=1h",
            "--v=3",
            "--claim-expired-duration=30m",
            "--enable-ownerref=false",
            "--enable-ownerref",
        ]
    ),
    "zero": ctr(["--claim-expired-duration=0s"]),
    "command": ctr(command=[BIN, "--v=3", "--claim-expired-duration=1h"]),
    "command-no-flags": ctr(command=[BIN, "--v=3"]),
    "binary-only": ctr(command=[BIN]),
    "bare": ctr(),
    "single-dash": ctr(["-claim-expired-duration=1h", "-enable-ownerref=true"]),
    "single-dash-split": ctr(["-claim-expired-duration", "1h"]),
    "terminator": ctr(["--v=3", "--", "--claim-expired-duration=1h"]),
    "bad-bool": ctr(["--enable-ownerref=yes"]),
    "bad-duration": ctr(["--claim-expired-duration=1d"]),
    "missing-value": ctr(["--v=3", "--claim-expired-duration"]),
    "value-looks-like-flag": ctr(["--claim-expired-duration", "--enable-ownerref"]),
    "near-miss-names": ctr(["--claim-expired-duration-x=1h", "--enable-ownerrefs", "-"]),
    "args-and-command": ctr(["--enable-ownerref"], command=[BIN, "--claim-expired-duration=1h"]),
    "split-bool-false": ctr(["--enable-ownerref", "false", "--claim-expired-duration=1h", "-v=3"]),
    "split-bool-true": ctr(["--v=3", "--enable-ownerref", "true"]),
}

# (shape, expiry, expiry_raw, expiry_invalid, cascade, other_args, location, duplicates)
READ: list[tuple[str, timedelta | None, str | None, bool, bool, list[str], str, list[str]]] = [
    ("equals", H, "1h", False, True, ["--v=3", "--log-dir=/l"], "args", []),
    ("split", H, "1h", False, False, ["--v=3", "--log-dir", "/l"], "args", []),
    ("absent", None, None, False, False, ["--v=3"], "args", []),
    (
        "duplicated",
        30 * M,
        "30m",
        False,
        True,
        ["--v=3"],
        "args",
        ["--claim-expired-duration", "--enable-ownerref"],
    ),
    ("zero", None, "0s", False, False, [], "args", []),
    ("command", H, "1h", False, False, ["--v=3"], "command", []),
    ("command-no-flags", None, None, False, False, ["--v=3"], "command", []),
    ("binary-only", None, None, False, False, [], "args", []),
    ("bare", None, None, False, False, [], "args", []),
    ("single-dash", H, "1h", False, True, [], "args", []),
    ("single-dash-split", H, "1h", False, False, [], "args", []),
    (
        "terminator",
        None,
        None,
        False,
        False,
        ["--v=3", "--", "--claim-expired-duration=1h"],
        "args",
        [],
    ),
    ("bad-bool", None, None, False, False, [], "args", []),
    ("bad-duration", None, "1d", True, False, [], "args", []),
    ("missing-value", None, None, True, False, ["--v=3"], "args", []),
    ("value-looks-like-flag", None, "--enable-ownerref", True, False, [], "args", []),
    (
        "near-miss-names",
        None,
        None,
        False,
        False,
        ["--claim-expired-duration-x=1h", "--enable-ownerrefs", "-"],
        "args",
        [],
    ),
    ("args-and-command", H, "1h", False, True, [], "args", []),
    ("split-bool-false", H, "1h", False, True, ["-v=3"], "args", []),
    ("split-bool-true", None, None, False, True, ["--v=3"], "args", []),
]


@pytest.mark.parametrize(
    ("shape", "expiry", "raw", "invalid", "cascade", "others", "location", "dups"),
    READ,
    ids=[r[0] for r in READ],
)
def test_read_flags(
    shape: str,
    expiry: timedelta | None,
    raw: str | None,
    invalid: bool,
    cascade: bool,
    others: list[str],
    location: str,
    dups: list[str],
) -> None:
    flags = read_flags(SHAPES[shape])
    assert flags.expiry == expiry
    assert flags.expiry_raw == raw
    assert flags.expiry_invalid is invalid
    assert flags.cascade is cascade
    assert flags.other_args == others
    assert flags.location == location
    assert flags.duplicate_flags == dups


def test_read_flags_bad_bool_is_reported() -> None:
    flags = read_flags(SHAPES["bad-bool"])
    assert (flags.cascade, flags.cascade_invalid, flags.cascade_raw) == (False, True, "yes")


def test_split_boolean_is_reported_with_what_go_flag_ignores() -> None:
    """A split boolean (`--enable-ownerref`, `false`): the flag reads as true whatever the item
    says, and Go's flag package stops at the bare value, so later flags may be ignored."""
    flags = read_flags(SHAPES["split-bool-false"])
    assert flags.split_booleans == ["--enable-ownerref false"]
    assert flags.ignored_by_go_flag == ["--claim-expired-duration=1h", "-v=3"]
    assert flags.cascade is True and flags.cascade_raw is None
    assert read_flags(SHAPES["split-bool-true"]).ignored_by_go_flag == []


def test_shell_command_is_refused() -> None:
    c = ctr(command=["/bin/sh", "-c", "exec /tke-eni-ipamd --claim-expired-duration=1h"])
    with pytest.raises(IpamdError, match="shell"):
        read_flags(c)
    with pytest.raises(IpamdError, match="shell"):
        plan_args(c, container_index=0, cascade=True)


def test_describe_flags() -> None:
    assert describe_flags(read_flags(SHAPES["equals"])) == {
        "expiry": "1h0m0s",
        "expiryRaw": "1h",
        "expiryInvalid": False,
        "cascade": True,
        "cascadeInvalid": False,
        "otherArgs": ["--v=3", "--log-dir=/l"],
        "location": "args",
        "duplicateFlags": [],
        "splitBooleans": [],
        "ignoredByGoFlag": [],
        "ifFlagStops": None,
    }
    assert describe_flags(read_flags(SHAPES["zero"]))["expiry"] == "never"
    bad = describe_flags(read_flags(SHAPES["bad-duration"]))
    assert (bad["expiry"], bad["expiryInvalid"]) == ("1d", True)


# --- planning -------------------------------------------------------------------------------------

Expiry = timedelta | None | Unset
SET_2H: dict[str, Any] = {"expiry": 2 * H}
NEVER: dict[str, Any] = {"expiry": None}
ON: dict[str, Any] = {"cascade": True}
OFF: dict[str, Any] = {"cascade": False}

# (id, shape, operation, expected field, expected new list — None: unchanged)
PLANS: list[tuple[str, str, dict[str, Any], str, list[str] | None]] = [
    # equals form
    (
        "eq-set",
        "equals",
        SET_2H,
        "args",
        ["--v=3", "--claim-expired-duration=2h", "--enable-ownerref", "--log-dir=/l"],
    ),
    ("eq-set-same", "equals", {"expiry": 60 * M}, "args", None),
    ("eq-never", "equals", NEVER, "args", ["--v=3", "--enable-ownerref", "--log-dir=/l"]),
    ("eq-on", "equals", ON, "args", None),
    ("eq-off", "equals", OFF, "args", ["--v=3", "--claim-expired-duration=1h", "--log-dir=/l"]),
    # split form
    (
        "split-set",
        "split",
        SET_2H,
        "args",
        ["--v=3", "--claim-expired-duration", "2h", "--log-dir", "/l"],
    ),
    ("split-set-same", "split", {"expiry": H}, "args", None),
    ("split-never", "split", NEVER, "args", ["--v=3", "--log-dir", "/l"]),
    (
        "split-on",
        "split",
        ON,
        "args",
        ["--v=3", "--claim-expired-duration", "1h", "--log-dir", "/l", "--enable-ownerref"],
    ),
    ("split-off", "split", OFF, "args", None),
    # absent
    (
        "absent-set",
        "absent",
        {"expiry": 90 * M},
        "args",
        ["--v=3", "--claim-expired-duration=1h30m"],
    ),
    ("absent-never", "absent", NEVER, "args", None),
    ("absent-on", "absent", ON, "args", ["--v=3", "--enable-ownerref"]),
    ("absent-off", "absent", OFF, "args", None),
    # duplicated: collapsed to the first position, effective (last) value
    (
        "dup-set",
        "duplicated",
        SET_2H,
        "args",
        ["--claim-expired-duration=2h", "--v=3", "--enable-ownerref"],
    ),
    (
        "dup-set-same",
        "duplicated",
        {"expiry": 30 * M},
        "args",
        ["--claim-expired-duration=30m", "--v=3", "--enable-ownerref"],
    ),
    ("dup-never", "duplicated", NEVER, "args", ["--v=3", "--enable-ownerref"]),
    (
        "dup-on",
        "duplicated",
        ON,
        "args",
        ["--claim-expired-duration=30m", "--v=3", "--enable-ownerref=true"],
    ),
    ("dup-off", "duplicated", OFF, "args", ["--claim-expired-duration=30m", "--v=3"]),
    # zero
    ("zero-set", "zero", SET_2H, "args", ["--claim-expired-duration=2h"]),
    ("zero-never", "zero", NEVER, "args", []),
    ("zero-on", "zero", ON, "args", ["--claim-expired-duration=0s", "--enable-ownerref"]),
    ("zero-off", "zero", OFF, "args", None),
    # flags in command
    ("cmd-set", "command", SET_2H, "command", [BIN, "--v=3", "--claim-expired-duration=2h"]),
    ("cmd-never", "command", NEVER, "command", [BIN, "--v=3"]),
    (
        "cmd-on",
        "command",
        ON,
        "command",
        [BIN, "--v=3", "--claim-expired-duration=1h", "--enable-ownerref"],
    ),
    ("cmd-off", "command", OFF, "command", None),
    ("cmd-noflags-on", "command-no-flags", ON, "command", [BIN, "--v=3", "--enable-ownerref"]),
    ("binary-only-on", "binary-only", ON, "args", ["--enable-ownerref"]),
    ("binary-only-off", "binary-only", OFF, "args", None),
    ("bare-set", "bare", SET_2H, "args", ["--claim-expired-duration=2h"]),
    ("bare-never", "bare", NEVER, "args", None),
    # single dash
    (
        "dash-set",
        "single-dash",
        SET_2H,
        "args",
        ["-claim-expired-duration=2h", "-enable-ownerref=true"],
    ),
    ("dash-never", "single-dash", NEVER, "args", ["-enable-ownerref=true"]),
    ("dash-on", "single-dash", ON, "args", None),
    ("dash-off", "single-dash", OFF, "args", ["-claim-expired-duration=1h"]),
    ("dash-split-set", "single-dash-split", SET_2H, "args", ["-claim-expired-duration", "2h"]),
    # odd shapes
    (
        "terminator-set",
        "terminator",
        SET_2H,
        "args",
        ["--v=3", "--claim-expired-duration=2h", "--", "--claim-expired-duration=1h"],
    ),
    ("terminator-never", "terminator", NEVER, "args", None),
    ("bad-bool-on", "bad-bool", ON, "args", ["--enable-ownerref=true"]),
    ("bad-bool-off", "bad-bool", OFF, "args", []),
    ("bad-duration-set", "bad-duration", SET_2H, "args", ["--claim-expired-duration=2h"]),
    ("bad-duration-never", "bad-duration", NEVER, "args", []),
    (
        "missing-value-set",
        "missing-value",
        SET_2H,
        "args",
        ["--v=3", "--claim-expired-duration", "2h"],
    ),
    ("missing-value-never", "missing-value", NEVER, "args", ["--v=3"]),
    (
        "flaglike-value-on",
        "value-looks-like-flag",
        ON,
        "args",
        ["--claim-expired-duration", "--enable-ownerref", "--enable-ownerref"],
    ),
    ("flaglike-value-never", "value-looks-like-flag", NEVER, "args", []),
    (
        "both-ops",
        "absent",
        {"expiry": 5 * M, "cascade": True},
        "args",
        ["--v=3", "--claim-expired-duration=5m", "--enable-ownerref"],
    ),
    ("nothing-asked", "equals", {}, "args", None),
    # a split boolean is rewritten in = form, keeping what ipamd runs with (true)
    (
        "split-bool-leave",
        "split-bool-false",
        SET_2H,
        "args",
        ["--enable-ownerref=true", "--claim-expired-duration=2h", "-v=3"],
    ),
    (
        "split-bool-nothing-asked",
        "split-bool-true",
        {},
        "args",
        ["--v=3", "--enable-ownerref=true"],
    ),
    ("split-bool-on", "split-bool-true", ON, "args", ["--v=3", "--enable-ownerref=true"]),
    ("split-bool-off", "split-bool-false", OFF, "args", ["--claim-expired-duration=1h", "-v=3"]),
    (
        "nothing-asked-dedupes",
        "duplicated",
        {},
        "args",
        ["--claim-expired-duration=30m", "--v=3", "--enable-ownerref"],
    ),
]


@pytest.mark.parametrize(
    ("shape", "op", "field", "want"), [p[1:] for p in PLANS], ids=[p[0] for p in PLANS]
)
def test_plan_args(shape: str, op: dict[str, Any], field: str, want: list[str] | None) -> None:
    container = SHAPES[shape]
    before = copy.deepcopy(container)
    plan = plan_args(container, container_index=0, **op)
    assert container == before, "plan_args must not mutate its input"
    assert plan.field == field
    assert plan.old == list(container.get(field) or [])
    if want is None:
        assert not plan.changed
        assert plan.new == plan.old
        assert plan.json_patch == [] and plan.restore_patch == []
    else:
        assert plan.changed
        assert plan.new == want
        assert _apply(container, 0, plan.json_patch)[field] == want
    # planning the same operation again on the result changes nothing
    again = plan_args({**container, field: plan.new}, container_index=0, **op)
    assert not again.changed
    if "expiry" in op and op["expiry"] is not None:
        assert plan.after.expiry == op["expiry"]
    if "expiry" in op and op["expiry"] is None:
        assert plan.after.expiry is None and plan.after.expiry_raw is None
    if "cascade" in op:
        assert plan.after.cascade is op["cascade"]


PLAN_BAD: list[tuple[str, str, dict[str, Any], str]] = [
    ("below-minimum", "absent", {"expiry": 4 * M + 59 * timedelta(seconds=1)}, "4m59s"),
    ("negative", "absent", {"expiry": -H}, "below"),
    ("missing-value-untouched", "missing-value", ON, "has no value"),
    ("args-and-command", "args-and-command", SET_2H, "both command and args"),
]


@pytest.mark.parametrize(
    ("shape", "op", "fragment"), [p[1:] for p in PLAN_BAD], ids=[p[0] for p in PLAN_BAD]
)
def test_plan_args_refuses(shape: str, op: dict[str, Any], fragment: str) -> None:
    with pytest.raises(IpamdError, match=fragment):
        plan_args(SHAPES[shape], container_index=0, **op)


def test_zero_timedelta_means_never() -> None:
    plan = plan_args(SHAPES["equals"], container_index=0, expiry=timedelta(0))
    assert plan.new == ["--v=3", "--enable-ownerref", "--log-dir=/l"]


# --- JSON patches against a whole Deployment ------------------------------------------------------


def deployment(containers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": copy.deepcopy(containers)}}},
    }


def _apply(container: dict[str, Any], index: int, patch: list[dict[str, Any]]) -> dict[str, Any]:
    containers = [{"name": f"c{i}", "image": "busybox"} for i in range(index)] + [container]
    result = jsonpatch.apply_patch(deployment(containers), patch)
    out: dict[str, Any] = result["spec"]["template"]["spec"]["containers"][index]
    return out


def test_patch_shape_for_existing_field() -> None:
    dep = deployment([{"name": "proxy", "image": "envoy"}, SHAPES["equals"]])
    plan = plan_for_deployment(dep, expiry=2 * H)
    path = "/spec/template/spec/containers/1/args"
    assert plan.container_index == 1
    assert plan.json_patch[0] == {"op": "test", "path": path, "value": plan.old}
    assert plan.json_patch[-1] == {"op": "replace", "path": path, "value": plan.new}
    assert plan.restore_patch == [
        {"op": "test", "path": path, "value": plan.new},
        {"op": "replace", "path": path, "value": plan.old},
    ]
    patched = jsonpatch.apply_patch(dep, plan.json_patch)
    assert patched["spec"]["template"]["spec"]["containers"][1]["args"] == plan.new
    assert jsonpatch.apply_patch(patched, plan.restore_patch) == dep


def test_patch_adds_a_missing_field_and_restore_removes_it() -> None:
    dep = deployment([SHAPES["binary-only"]])
    plan = plan_for_deployment(dep, cascade=True)
    assert not plan.field_existed
    assert [op["op"] for op in plan.json_patch] == ["test", "add"]
    patched = jsonpatch.apply_patch(dep, plan.json_patch)
    assert patched["spec"]["template"]["spec"]["containers"][0]["args"] == ["--enable-ownerref"]
    assert jsonpatch.apply_patch(patched, plan.restore_patch) == dep


def test_patch_stops_on_a_concurrent_edit() -> None:
    dep = deployment([SHAPES["equals"]])
    plan = plan_for_deployment(dep, cascade=False)
    dep["spec"]["template"]["spec"]["containers"][0]["args"].append("--v=4")
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        jsonpatch.apply_patch(dep, plan.json_patch)


def test_plan_for_deployment_refuses_a_malformed_object() -> None:
    with pytest.raises(IpamdError, match="containers"):
        plan_for_deployment({"spec": {}}, cascade=True)


def test_unified_diff() -> None:
    plan = plan_args(SHAPES["equals"], container_index=0, expiry=2 * H)
    diff = unified_diff(plan.old, plan.new, "tke-eni-ipamd args")
    lines = diff.splitlines()
    assert lines[0] == "--- tke-eni-ipamd args (current)"
    assert lines[1] == "+++ tke-eni-ipamd args (planned)"
    assert "---claim-expired-duration=1h" in lines
    assert "+--claim-expired-duration=2h" in lines
    assert " --v=3" in lines
    assert unified_diff(plan.old, plan.old, "x") == ""
    assert '+" spaced"' in unified_diff([], [" spaced"], "x").splitlines()


# --- properties -----------------------------------------------------------------------------------

MANAGED = ("claim-expired-duration", "enable-ownerref")
OTHERS = st.sampled_from(
    [
        "--v=3",
        "--log-dir=/var/log",
        "-logtostderr",
        "serve",
        "--metrics-port=9090",
        "--claim-expired-duration-x=1h",
        "--enable-ownerrefs",
        "-",
    ]
)
VALUES = st.sampled_from(["0", "0s", "1h", "90m", "5m", "30m0s", "banana", "1d"])
DASHES = st.sampled_from(["-", "--"])
EXPIRY_CHUNK = st.one_of(
    st.builds(lambda d, v: [f"{d}claim-expired-duration={v}"], DASHES, VALUES),
    st.builds(lambda d, v: [f"{d}claim-expired-duration", v], DASHES, VALUES),
)
CASCADE_CHUNK = st.builds(
    lambda d, v: [f"{d}enable-ownerref{v}"],
    DASHES,
    st.sampled_from(["", "=true", "=false", "=1", "=F", "=yes"]),
)
SPLIT_BOOL_CHUNK = st.builds(
    lambda d, v: [f"{d}enable-ownerref", v], DASHES, st.sampled_from(["true", "false", "0"])
)
CHUNKS = st.lists(
    st.one_of(OTHERS.map(lambda t: [t]), EXPIRY_CHUNK, CASCADE_CHUNK, SPLIT_BOOL_CHUNK),
    max_size=12,
).map(lambda chunks: [t for chunk in chunks for t in chunk])
EXPIRIES: st.SearchStrategy[Expiry] = st.sampled_from([UNSET, None, 5 * M, H, 90 * M, 30 * M])
CASCADES = st.sampled_from([None, True, False])


@st.composite
def containers(draw: st.DrawFn) -> dict[str, Any]:
    items = draw(CHUNKS)
    if draw(st.booleans()):
        return ctr(items)
    return ctr(command=[BIN, *items])


def _name(token: str) -> str | None:
    for dashes in ("--", "-"):
        if token.startswith(dashes) and not token.startswith(dashes + "-"):
            return token[len(dashes) :].split("=", 1)[0]
    return None


def _others(tokens: list[str]) -> list[str]:
    """Independent projection: every item that is neither flag nor a split value."""
    out: list[str] = []
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        if token in ("--claim-expired-duration", "-claim-expired-duration"):
            skip = True
        elif token in ("--enable-ownerref", "-enable-ownerref"):
            skip = i + 1 < len(tokens) and tokens[i + 1] in ("true", "false", "0")
        elif _name(token) not in MANAGED:
            out.append(token)
    return out


@given(containers(), EXPIRIES, CASCADES)
def test_plan_properties(container: dict[str, Any], expiry: Expiry, cascade: bool | None) -> None:
    before = read_flags(container)
    plan = plan_args(container, container_index=2, expiry=expiry, cascade=cascade)
    after = plan.after

    # no duplicate of either flag remains
    names = [_name(t) for t in _others_and_flags(plan.new)]
    for flag in MANAGED:
        assert names.count(flag) <= 1
    assert after.duplicate_flags == []
    # a split boolean never survives a patch ("--enable-ownerref", "false" reads two ways)
    assert after.split_booleans == [] or not plan.changed
    # every other arg keeps its relative order (and the binary stays first)
    assert _others(plan.new) == _others(plan.old)
    assert after.other_args == before.other_args
    if plan.field == "command":
        assert plan.new[0] == BIN
    # what was asked holds; what was not asked is unchanged
    if isinstance(expiry, Unset):
        assert (after.expiry, after.expiry_invalid) == (before.expiry, before.expiry_invalid)
    else:
        assert after.expiry == expiry
        assert not after.expiry_invalid
    if cascade is None:
        assert (after.cascade, after.cascade_invalid) == (before.cascade, before.cascade_invalid)
    else:
        assert after.cascade is cascade
        assert not after.cascade_invalid
    # idempotent
    again = plan_args(
        {**container, plan.field: plan.new}, container_index=2, expiry=expiry, cascade=cascade
    )
    assert not again.changed and again.json_patch == []
    # the JSON patch yields `new`, and the restore patch gives back the original
    if plan.changed:
        dep = deployment([{"name": "a"}, {"name": "b"}, container])
        patched = jsonpatch.apply_patch(dep, plan.json_patch)
        assert patched["spec"]["template"]["spec"]["containers"][2][plan.field] == plan.new
        assert jsonpatch.apply_patch(patched, plan.restore_patch) == dep
    else:
        assert plan.json_patch == [] and plan.new == plan.old


def _others_and_flags(tokens: list[str]) -> list[str]:
    """The items that are not split values (so a value never counts as a flag)."""
    out: list[str] = []
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        skip = token in ("--claim-expired-duration", "-claim-expired-duration") or (
            token in ("--enable-ownerref", "-enable-ownerref")
            and i + 1 < len(tokens)
            and tokens[i + 1] in ("true", "false", "0")
        )
        out.append(token)
    return out


@given(containers())
def test_read_flags_mirrors_last_wins(container: dict[str, Any]) -> None:
    flags = read_flags(container)
    assert isinstance(flags, IpamdFlags)
    items = container["args"] if "args" in container else container["command"][1:]
    tokens = _others_and_flags(items)
    cascade_tokens = [t for t in tokens if _name(t) == "enable-ownerref"]
    if not cascade_tokens:
        assert flags.cascade is False
    else:
        last = cascade_tokens[-1]
        assert flags.cascade is (last.split("=", 1)[-1] in ("true", "1") or "=" not in last)


def test_adding_a_missing_args_field_is_guarded_by_the_resource_version() -> None:
    dep = {
        "metadata": {"name": "tke-eni-ipamd", "resourceVersion": "42"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "tke-eni-ipamd",
                            "image": "x/tke-eni-ipamd:v3.4.2",
                            "command": ["/ipamd"],
                        }
                    ]
                }
            }
        },
    }
    plan = plan_for_deployment(dep, cascade=True)
    assert plan.json_patch[0] == {"op": "test", "path": "/metadata/resourceVersion", "value": "42"}
    patched = jsonpatch.apply_patch(dep, plan.json_patch)
    assert patched["spec"]["template"]["spec"]["containers"][0]["args"] == ["--enable-ownerref"]
    moved = {**dep, "metadata": {**dep["metadata"], "resourceVersion": "43"}}
    with pytest.raises(jsonpatch.JsonPatchTestFailed):
        jsonpatch.apply_patch(moved, plan.json_patch)
