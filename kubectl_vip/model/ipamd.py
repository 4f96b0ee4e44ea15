"""Reading and planning the flags of the `kube-system/tke-eni-ipamd` Deployment (pure).

Two flags matter: `--claim-expired-duration=<Go duration>` (absent or zero: never reclaim) and
the boolean `--enable-ownerref`. They follow Go's `flag` syntax: one or two dashes; `=value`
for both; a separate value item only for the non-boolean `--claim-expired-duration` (a boolean
flag never takes the next item); the last occurrence wins; `--` ends the flags.

ipamd's flags are the items after its binary (the item whose basename names ipamd): in
`command` and then `args`, or in `args` when `command` is only a wrapper (`/tini --`); with no
`command`, `args` (after the image's entrypoint). A command that names no ipamd binary cannot be
read, nor patched. Limits: a value that another, unknown, flag takes as its separate value item
is still read as a flag.

Which flag package ipamd parses with is not public, and it matters after a boolean written as
two items (`--enable-ownerref`, `false`): Go's `flag` stops there (every later flag ignored),
spf13/pflag reads on. Both readings are kept (`IpamdFlags.stop_*`); where they differ, what
ipamd runs with is unknown.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import enum
import functools
import json
import posixpath
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from kubectl_vip.model.duration import (
    MIN_EXPIRY,
    DurationError,
    format_compact,
    format_go_duration,
    parse_go_duration,
)

__all__ = [
    "ADDON_MANAGED_FROM",
    "ANNOTATION_EXPIRY_FROM",
    "CASCADE_FLAG",
    "CONTAINER_NAME",
    "CRD_V1_FROM",
    "DEPLOYMENT_NAME",
    "DEPLOYMENT_NAMESPACE",
    "EXPIRY_FLAG",
    "UNSET",
    "ArgsPlan",
    "IpamdError",
    "IpamdFlags",
    "Unset",
    "Version",
    "describe_flags",
    "find_ipamd_container",
    "parse_version",
    "plan_args",
    "plan_for_deployment",
    "read_flags",
    "unified_diff",
]

DEPLOYMENT_NAMESPACE = "kube-system"
DEPLOYMENT_NAME = "tke-eni-ipamd"
CONTAINER_NAME = "tke-eni-ipamd"
EXPIRY_FLAG = "claim-expired-duration"
CASCADE_FLAG = "enable-ownerref"

FieldName = Literal["args", "command"]
# "splitbool": a boolean flag followed by a separate true/false item (`--enable-ownerref`,
# `false`): Go's flag package takes the flag as true and stops parsing at the bare value, so
# every later flag is ignored; pflag takes it as true and the value as a positional argument.
_Form = Literal["eq", "split", "bare", "splitbool"]


class IpamdError(ValueError):
    """The ipamd Deployment has a shape we refuse to read or rewrite; one line for a user."""


class Unset(enum.Enum):
    """Sentinel type: "leave this flag as it is" (distinct from None = remove it)."""

    UNSET = "UNSET"


UNSET = Unset.UNSET


# ---------------------------------------------------------------------------------------------
# versions


@functools.total_ordering
@dataclass(frozen=True)
class Version:
    """A semantic version: a pre-release (`v3.5.0-rc1`) sorts below its release (`v3.5.0`)."""

    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()  # pre-release identifiers, e.g. ("rc1",); () for a release

    def __str__(self) -> str:
        pre = "-" + ".".join(self.pre) if self.pre else ""
        return f"v{self.major}.{self.minor}.{self.patch}{pre}"

    def _key(self) -> tuple[Any, ...]:
        # semver 2.0.0 section 11: numeric identifiers numerically, below alphanumeric ones;
        # a release (no pre-release) above every pre-release of the same version
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, not self.pre, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()


ADDON_MANAGED_FROM = Version(3, 5, 0)
ANNOTATION_EXPIRY_FROM = Version(3, 3, 2)
CRD_V1_FROM = Version(3, 4, 1)

_TAG_VERSION = re.compile(
    r"v?([0-9]+)\.([0-9]+)\.([0-9]+)(?:-([0-9A-Za-z.-]+))?(?:[+.][0-9A-Za-z.+-]*)?"
)
# the pre-releases a version tag may carry; any other suffix (`-amd64`, `-tke.1`, `-20230301`)
# is a vendor's or a build's, whose order against the release nobody can tell
_PRE_RELEASE = re.compile(r"(?i)(rc|alpha|beta)[.-]?[0-9]*(\.[0-9]+)*")


def _image_repo_and_tag(image: str) -> tuple[str, str | None]:
    name = image.split("@", 1)[0]  # drop a digest
    last = name.rsplit("/", 1)[-1]  # a ':' before the last '/' is a registry port
    if ":" in last:
        repo_last, tag = last.split(":", 1)
        return name[: len(name) - len(last)] + repo_last, tag
    return name, None


def parse_version(image: str) -> Version | None:
    """The version in an image tag (`...:v3.4.2`, `3.5.0`, `v3.5.0-rc1`), else None.

    A pre-release suffix (`-rc1`, `-alpha.2`, `-beta`) is kept: `v3.5.0-rc1` sorts below v3.5.0,
    as semver orders them. Any other suffix (`-amd64`, `-tke.1`, `-20230301`) leaves the version
    unknown: whether it is before or after the release is not written in it. Build metadata
    (`+...`) and a fourth dotted part are ignored.
    """
    _, tag = _image_repo_and_tag(image.strip())
    if not tag:
        return None
    m = _TAG_VERSION.fullmatch(tag)
    if m is None:
        return None
    suffix = m.group(4) or ""
    if suffix and not _PRE_RELEASE.fullmatch(suffix):
        return None
    pre = tuple(p for p in suffix.split(".") if p)
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)


# ---------------------------------------------------------------------------------------------
# finding the container


def find_ipamd_container(containers: list[dict[str, Any]]) -> int:
    """Index of the ipamd container: by name, else the one whose image is tke-eni-ipamd.

    Image matching tries the repository's last path element first, then a substring; two
    candidates at the same level are refused rather than guessed between.
    """
    for i, c in enumerate(containers):
        if c.get("name") == CONTAINER_NAME:
            return i
    images = [str(c.get("image") or "") for c in containers]
    repos = [_image_repo_and_tag(im)[0].rsplit("/", 1)[-1] for im in images]
    exact = [i for i, repo in enumerate(repos) if repo == CONTAINER_NAME]
    loose = [i for i, im in enumerate(images) if CONTAINER_NAME in im]
    for candidates in (exact, loose):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            names = ", ".join(str(containers[i].get("name")) for i in candidates)
            raise IpamdError(
                f"several containers have a tke-eni-ipamd image ({names}); refusing to guess"
            )
    raise IpamdError(
        "no container named tke-eni-ipamd or with a tke-eni-ipamd image in the Deployment; "
        "refusing to guess"
    )


# ---------------------------------------------------------------------------------------------
# scanning args


@dataclass(frozen=True)
class _Occurrence:
    flag: str  # EXPIRY_FLAG or CASCADE_FLAG
    dashes: str
    form: _Form
    value: str | None  # None: bare boolean, or a split flag with no item left for its value
    positions: tuple[tuple[FieldName, int], ...]


@dataclass(frozen=True)
class _Scan:
    occurrences: list[_Occurrence]
    others: list[str]
    terminator: dict[FieldName, int]  # index of "--" per field, where present


def _split_flag(token: str) -> tuple[str, str, str | None] | None:
    """(dashes, name, value-after-=) for a flag-looking token, else None."""
    if token.startswith("--"):
        dashes, body = "--", token[2:]
    elif token.startswith("-"):
        dashes, body = "-", token[1:]
    else:
        return None
    if not body or body.startswith("-") or body.startswith("="):
        return None
    name, sep, value = body.partition("=")
    return dashes, name, (value if sep else None)


def _scan(argv: list[tuple[FieldName, int, str]]) -> _Scan:
    occurrences: list[_Occurrence] = []
    others: list[str] = []
    terminator: dict[FieldName, int] = {}
    i = 0
    ended = False
    while i < len(argv):
        fld, idx, token = argv[i]
        i += 1
        if ended:
            others.append(token)
            continue
        if token == "--":
            ended = True
            terminator[fld] = idx
            others.append(token)
            continue
        parts = _split_flag(token)
        if parts is None or parts[1] not in (EXPIRY_FLAG, CASCADE_FLAG):
            others.append(token)
            continue
        dashes, name, value = parts
        positions: list[tuple[FieldName, int]] = [(fld, idx)]
        form: _Form = "eq"
        if value is None and name == CASCADE_FLAG:
            form = "bare"
            nxt = argv[i][2] if i < len(argv) else None
            if nxt is not None and _go_bool(nxt) is not None:
                form = "splitbool"
                value = nxt
                positions.append((argv[i][0], argv[i][1]))
                i += 1
        elif value is None:
            form = "split"
            if i < len(argv):  # Go takes the next item whatever it looks like
                vfld, vidx, value = argv[i]
                positions.append((vfld, vidx))
                i += 1
        occurrences.append(_Occurrence(name, dashes, form, value, tuple(positions)))
    return _Scan(occurrences, others, terminator)


def _is_binary(token: str) -> bool:
    return "ipamd" in posixpath.basename(token)


def _binary(container: dict[str, Any]) -> tuple[FieldName, int]:
    """Where ipamd's binary stands: (field, index); ("args", -1) with no command (the image's
    entrypoint runs ipamd). IpamdError when no item of a command names it: a wrapper or a
    script whose arguments we cannot tell are ipamd's."""
    command = [str(t) for t in container.get("command") or []]
    args = [str(t) for t in container.get("args") or []]
    if not command:
        return "args", -1
    for i, t in enumerate(command):
        if _is_binary(t):
            return "command", i
    for i, t in enumerate(args):
        if _is_binary(t):
            return "args", i
    raise IpamdError(
        f"the ipamd container's command ({' '.join(command)[:120]}) names no tke-eni-ipamd "
        "binary: which of its arguments are ipamd's flags cannot be told; read or change them "
        "by hand"
    )


def _flags_from(container: dict[str, Any], fld: FieldName) -> int:
    """Index in `fld` where ipamd's flags start."""
    at, i = _binary(container)
    if at == fld:
        return i + 1
    return len(container.get(fld) or []) if fld == "command" else 0


def _argv(container: dict[str, Any]) -> list[tuple[FieldName, int, str]]:
    command = [str(t) for t in container.get("command") or []]
    args = [str(t) for t in container.get("args") or []]
    c0, a0 = _flags_from(container, "command"), _flags_from(container, "args")
    return [("command", i, t) for i, t in enumerate(command) if i >= c0] + [
        ("args", i, t) for i, t in enumerate(args) if i >= a0
    ]


_SHELLS = {"sh", "bash", "ash", "dash", "zsh", "busybox"}


def _refuse_shell(container: dict[str, Any]) -> None:
    command = [str(t) for t in container.get("command") or []]
    if command and command[0].rsplit("/", 1)[-1] in _SHELLS and "-c" in command[1:]:
        raise IpamdError(
            "the ipamd container is started through a shell (command "
            f"{command[0]} -c ...); its flags cannot be read or changed safely, edit it by hand"
        )


_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def _go_bool(value: str) -> bool | None:
    """strconv.ParseBool; None when Go would refuse the value."""
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    return None


# ---------------------------------------------------------------------------------------------
# reading


@dataclass(frozen=True)
class IpamdFlags:
    expiry: timedelta | None  # None: never (absent, zero) — or invalid, see expiry_invalid
    expiry_raw: str | None  # the last value as written; None when absent or missing
    expiry_invalid: bool  # present but not a valid non-negative Go duration (or no value)
    cascade: bool
    cascade_raw: str | None  # the `=value` of the last --enable-ownerref, if any
    cascade_invalid: bool  # `=value` that Go's ParseBool refuses (ipamd would not start)
    other_args: list[str]  # every item of command[1:] + args that is neither flag, in order
    location: FieldName  # where the flags live, or where new ones would go
    duplicate_flags: list[str] = field(default_factory=list)  # e.g. ["--enable-ownerref"]
    # boolean flags written with a separate value item, as written: ["--enable-ownerref false"]
    split_booleans: list[str] = field(default_factory=list)
    # flags after the first split boolean: Go's flag package stops there and ignores them
    ignored_by_go_flag: list[str] = field(default_factory=list)
    # what ipamd runs with if its flag package stops at the first split boolean (Go's `flag`);
    # the fields above are what spf13/pflag reads. Equal when nothing stops the parse.
    stop_expiry: timedelta | None = None
    stop_expiry_invalid: bool = False
    stop_cascade: bool = False

    @property
    def ambiguous(self) -> bool:
        """The two flag packages read these args differently: what ipamd runs with is
        unknown (which package it parses with is not public)."""
        return (self.expiry, self.expiry_invalid, self.cascade) != (
            self.stop_expiry,
            self.stop_expiry_invalid,
            self.stop_cascade,
        )


def _default_location(container: dict[str, Any]) -> FieldName:
    """Where new flags go when neither flag is present.

    `args` if the container has an `args` key; else `command` when it already carries flags
    after the binary (keeping all flags in one list); else `args`.
    """
    if container.get("args") is not None:
        return "args"
    command = [str(t) for t in container.get("command") or []]
    if any(t.startswith("-") for t in command[_flags_from(container, "command") :]):
        return "command"
    return "args"


def _location(container: dict[str, Any], scan: _Scan) -> FieldName:
    fields = {f for occ in scan.occurrences for f, _ in occ.positions}
    if "args" in fields:
        return "args"
    if "command" in fields:
        return "command"
    return _default_location(container)


def _last(scan: _Scan, flag: str) -> _Occurrence | None:
    found = [o for o in scan.occurrences if o.flag == flag]
    return found[-1] if found else None


def _expiry_of(occ: _Occurrence | None) -> tuple[timedelta | None, bool]:
    """(effective expiry, invalid) of the last occurrence."""
    if occ is None:
        return None, False
    if occ.value is None:
        return None, True
    try:
        td = parse_go_duration(occ.value)
    except DurationError:
        return None, True
    return (td or None), False


def _cascade_of(occ: _Occurrence | None) -> tuple[bool, bool]:
    """(effective cascade, invalid) of the last occurrence."""
    if occ is None:
        return False, False
    if occ.value is None or occ.form == "splitbool":
        return True, False  # a bare boolean flag is true whatever follows it
    parsed = _go_bool(occ.value)
    return bool(parsed), parsed is None


def _after_split(argv: list[tuple[FieldName, int, str]], scan: _Scan) -> list[str]:
    splits = [o for o in scan.occurrences if o.form == "splitbool"]
    if not splits:
        return []
    end = splits[0].positions[-1]
    at = next(k for k, (f, i, _) in enumerate(argv) if (f, i) == end)
    return [t for _, _, t in argv[at + 1 :] if _split_flag(t) is not None]


def _stopped(scan: _Scan) -> _Scan:
    """The occurrences Go's flag package reads: up to the first split boolean, itself included
    (it sets the flag true, then stops at the bare value)."""
    first = next((k for k, o in enumerate(scan.occurrences) if o.form == "splitbool"), None)
    if first is None:
        return scan
    return dataclasses.replace(scan, occurrences=scan.occurrences[: first + 1])


def read_flags(container: dict[str, Any]) -> IpamdFlags:
    _refuse_shell(container)
    argv = _argv(container)
    scan = _scan(argv)
    exp_occ = _last(scan, EXPIRY_FLAG)
    cas_occ = _last(scan, CASCADE_FLAG)
    expiry, expiry_invalid = _expiry_of(exp_occ)
    cascade, cascade_invalid = _cascade_of(cas_occ)
    stopped = _stopped(scan)
    stop_expiry, stop_invalid = _expiry_of(_last(stopped, EXPIRY_FLAG))
    stop_cascade, _ = _cascade_of(_last(stopped, CASCADE_FLAG))
    dups = [
        "--" + flag
        for flag in (EXPIRY_FLAG, CASCADE_FLAG)
        if sum(o.flag == flag for o in scan.occurrences) > 1
    ]
    return IpamdFlags(
        expiry=expiry,
        expiry_raw=exp_occ.value if exp_occ else None,
        expiry_invalid=expiry_invalid,
        cascade=cascade,
        cascade_raw=cas_occ.value if cas_occ and cas_occ.form != "splitbool" else None,
        cascade_invalid=cascade_invalid,
        other_args=scan.others,
        location=_location(container, scan),
        duplicate_flags=dups,
        split_booleans=[
            f"{o.dashes}{o.flag} {o.value}" for o in scan.occurrences if o.form == "splitbool"
        ],
        ignored_by_go_flag=_after_split(argv, scan),
        stop_expiry=stop_expiry,
        stop_expiry_invalid=stop_invalid,
        stop_cascade=stop_cascade,
    )


def describe_flags(flags: IpamdFlags) -> dict[str, Any]:
    """Stable JSON form. `expiry` is a Go duration ("1h0m0s"), "never", or the raw text when
    invalid (then `expiryInvalid` is true)."""
    if flags.expiry_invalid:
        expiry = flags.expiry_raw if flags.expiry_raw is not None else ""
    elif flags.expiry is None:
        expiry = "never"
    else:
        expiry = format_go_duration(flags.expiry)
    return {
        "expiry": expiry,
        "expiryRaw": flags.expiry_raw,
        "expiryInvalid": flags.expiry_invalid,
        "cascade": flags.cascade,
        "cascadeInvalid": flags.cascade_invalid,
        "otherArgs": list(flags.other_args),
        "location": flags.location,
        "duplicateFlags": list(flags.duplicate_flags),
        "splitBooleans": list(flags.split_booleans),
        "ignoredByGoFlag": list(flags.ignored_by_go_flag),
        # what ipamd runs with if its flag package stops at the split boolean (Go's flag);
        # null when both packages read the args alike
        "ifFlagStops": {
            "expiry": format_go_duration(flags.stop_expiry)
            if flags.stop_expiry is not None
            else "never",
            "cascade": flags.stop_cascade,
        }
        if flags.ambiguous
        else None,
    }


# ---------------------------------------------------------------------------------------------
# planning


@dataclass(frozen=True)
class ArgsPlan:
    container_index: int
    field: FieldName
    field_existed: bool
    old: list[str]
    new: list[str]
    changed: bool
    json_patch: list[dict[str, Any]]  # empty when unchanged
    restore_patch: list[dict[str, Any]]  # empty when unchanged
    before: IpamdFlags
    after: IpamdFlags

    @property
    def path(self) -> str:
        return f"/spec/template/spec/containers/{self.container_index}/{self.field}"


def _emit(flag: str, dashes: str, form: _Form, value: str | None) -> list[str]:
    if form == "bare" or value is None:
        return [f"{dashes}{flag}"]
    if form == "split":
        return [f"{dashes}{flag}", value]
    return [f"{dashes}{flag}={value}"]  # "eq"; a split boolean is never written back split


def _verbatim(old: list[str], occ: _Occurrence) -> list[str]:
    return [old[i] for _, i in occ.positions]


def _plan_expiry(
    old: list[str], occs: list[_Occurrence], expiry: timedelta | Unset | None
) -> list[str] | None:
    """Items to write at the first occurrence (or to append); None removes the flag."""
    last = occs[-1] if occs else None
    if isinstance(expiry, Unset):
        if last is None:
            return None
        if last.value is None:
            raise IpamdError(
                f"--{EXPIRY_FLAG} is the last argument and has no value; "
                "fix it first with: kubectl vip set-expiry DURATION|never"
            )
        if len(occs) == 1:
            return _verbatim(old, last)
        return _emit(EXPIRY_FLAG, occs[0].dashes, occs[0].form, last.value)
    if expiry is None or expiry == timedelta(0):
        return None
    if expiry < MIN_EXPIRY:
        raise IpamdError(
            f"expiry {format_compact(expiry)} is below the {format_compact(MIN_EXPIRY)} "
            "minimum that tke-eni-ipamd accepts"
        )
    current, invalid = _expiry_of(last)
    value = last.value if last and not invalid and current == expiry else format_compact(expiry)
    if not occs:
        return _emit(EXPIRY_FLAG, "--", "eq", value)
    return _emit(EXPIRY_FLAG, occs[0].dashes, occs[0].form, value)


def _plan_cascade(
    old: list[str], occs: list[_Occurrence], cascade: bool | None
) -> list[str] | None:
    last = occs[-1] if occs else None
    if cascade is None:
        if last is None:
            return None
        if last.form == "splitbool":
            # ipamd runs with it true whatever the separate item says: keep what it runs with,
            # in a form no parser reads two ways
            return _emit(CASCADE_FLAG, occs[0].dashes, "eq", "true")
        if len(occs) == 1:
            return _verbatim(old, last)
        form: _Form = "bare" if last.value is None else "eq"
        return _emit(CASCADE_FLAG, occs[0].dashes, form, last.value)
    if not cascade:
        return None
    if not occs:
        return _emit(CASCADE_FLAG, "--", "bare", None)
    first = occs[0]
    if first.form == "bare":
        return _emit(CASCADE_FLAG, first.dashes, "bare", None)
    if last is not None and last.form == "splitbool":
        return _emit(CASCADE_FLAG, first.dashes, "eq", "true")
    current, invalid = _cascade_of(last)
    keep = last is not None and last.value is not None and current and not invalid
    value = last.value if keep and last is not None else "true"
    return _emit(CASCADE_FLAG, first.dashes, "eq", value)


def plan_args(
    container: dict[str, Any],
    *,
    container_index: int,
    expiry: timedelta | Unset | None = UNSET,
    cascade: bool | None = None,
) -> ArgsPlan:
    """Plan the new `args` (or `command`) of the ipamd container.

    `expiry`: UNSET leaves it, None (or zero) removes the flag, a timedelta (>= 5m) sets it.
    `cascade`: None leaves it, True sets bare `--enable-ownerref`, False removes every form.
    A flag is rewritten at its first occurrence, in the form found there (`=` or split item,
    one or two dashes); its other occurrences are removed, so none is ever duplicated — even
    for a flag left as it is, whose effective (last) value is kept. A value that already means
    what is asked is kept as written ("90m" is not rewritten to "1h30m"). New flags are
    inserted before a `--` terminator, else appended: `--claim-expired-duration=<compact>`
    ("1h", "1h30m", "1m30s") and bare `--enable-ownerref`.
    """
    _refuse_shell(container)
    before = read_flags(container)
    full = _scan(_argv(container))
    fields = {f for occ in full.occurrences for f, _ in occ.positions}
    if len(fields) > 1:
        raise IpamdError(
            "the ipamd flags are spread over both command and args of the container; "
            "edit it by hand"
        )
    fld = before.location
    raw = container.get(fld)
    field_existed = raw is not None
    old = [str(t) for t in raw or []]
    start = _flags_from(container, fld)
    scan = _scan([(fld, i, t) for i, t in enumerate(old)][start:])

    exp_occs = [o for o in scan.occurrences if o.flag == EXPIRY_FLAG]
    cas_occs = [o for o in scan.occurrences if o.flag == CASCADE_FLAG]
    writes: list[tuple[list[_Occurrence], list[str] | None]] = [
        (exp_occs, _plan_expiry(old, exp_occs, expiry)),
        (cas_occs, _plan_cascade(old, cas_occs, cascade)),
    ]

    at: dict[int, list[str]] = {}
    drop: set[int] = set()
    appended: list[str] = []
    for occs, items in writes:
        for occ in occs:
            drop.update(i for _, i in occ.positions)
        if items is None:
            continue
        if occs:
            at[occs[0].positions[0][1]] = items
        else:
            appended.extend(items)

    new: list[str] = []
    insert_at = scan.terminator.get(fld, len(old))
    for i, token in enumerate(old):
        if i == insert_at:
            new.extend(appended)
        if i in at:
            new.extend(at[i])
        if i not in drop:
            new.append(token)
    if insert_at == len(old):
        new.extend(appended)

    changed = new != old
    path = f"/spec/template/spec/containers/{container_index}/{fld}"
    json_patch: list[dict[str, Any]] = []
    restore_patch: list[dict[str, Any]] = []
    if changed:
        name_test: list[dict[str, Any]] = []
        if container.get("name") is not None:
            name_test = [
                {
                    "op": "test",
                    "path": f"/spec/template/spec/containers/{container_index}/name",
                    "value": container["name"],
                }
            ]
        if field_existed:
            json_patch = [
                {"op": "test", "path": path, "value": list(old)},
                *name_test,
                {"op": "replace", "path": path, "value": list(new)},
            ]
            restore_patch = [
                {"op": "test", "path": path, "value": list(new)},
                {"op": "replace", "path": path, "value": list(old)},
            ]
        else:
            json_patch = [*name_test, {"op": "add", "path": path, "value": list(new)}]
            restore_patch = [
                {"op": "test", "path": path, "value": list(new)},
                {"op": "remove", "path": path},
            ]

    after_container = copy.deepcopy(container)
    after_container[fld] = list(new)
    return ArgsPlan(
        container_index=container_index,
        field=fld,
        field_existed=field_existed,
        old=old,
        new=new,
        changed=changed,
        json_patch=json_patch,
        restore_patch=restore_patch,
        before=before,
        after=read_flags(after_container),
    )


def plan_for_deployment(
    deployment: dict[str, Any],
    *,
    expiry: timedelta | Unset | None = UNSET,
    cascade: bool | None = None,
) -> ArgsPlan:
    """`plan_args` for the ipamd container of a Deployment object (as read from the API)."""
    try:
        containers = deployment["spec"]["template"]["spec"]["containers"]
    except (KeyError, TypeError) as exc:
        raise IpamdError("the Deployment has no spec.template.spec.containers") from exc
    if not isinstance(containers, list):
        raise IpamdError("the Deployment's spec.template.spec.containers is not a list")
    index = find_ipamd_container(containers)
    plan = plan_args(containers[index], container_index=index, expiry=expiry, cascade=cascade)
    rv = (deployment.get("metadata") or {}).get("resourceVersion")
    if plan.changed and not plan.field_existed and rv:
        # An `add` of a missing field would overwrite one added meanwhile and there is no old
        # value to `test`: test the whole object's resourceVersion instead (any change stops it).
        guard = {"op": "test", "path": "/metadata/resourceVersion", "value": rv}
        plan = dataclasses.replace(plan, json_patch=[guard, *plan.json_patch])
    return plan


def _diff_line(arg: str) -> str:
    if arg != arg.strip() or any(ch < " " for ch in arg) or not arg:
        return json.dumps(arg, ensure_ascii=False)
    return arg


def unified_diff(old: list[str], new: list[str], label: str) -> str:
    """One argument per line; "" when equal. Args with spaces at the ends or control
    characters are shown JSON-quoted."""
    lines = difflib.unified_diff(
        [_diff_line(a) for a in old],
        [_diff_line(a) for a in new],
        fromfile=f"{label} (current)",
        tofile=f"{label} (planned)",
        lineterm="",
    )
    return "\n".join(lines)
