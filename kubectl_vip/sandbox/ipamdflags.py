"""How the sandbox's tke-eni-ipamd reads its command line, and the readings nobody knows.

Which items are ipamd's flags: the items after the one whose basename is `tke-eni-ipamd`, in
`command` (`["/tini", "--", "/tke-eni-ipamd", "--v=3"]`) and then all of `args`, or in `args`
when `command` is only a wrapper (`command: ["/tini", "--"]`, `args: ["/tke-eni-ipamd", ...]`);
with no `command` at all (the image's entrypoint runs ipamd) `args` are the flags. A command that
names no ipamd binary (a shell) is read as before: everything after its first item.

Two things real ipamd does that the public material does not say; the sandbox plays either
(World's switches, `Sandbox(...)` keywords), so a tool can be tested against both:

- `ipamd_flag_library`: `"flag"` (default) — Go's `flag` package: `--enable-ownerref`, a bool,
  takes no separate value, so `--enable-ownerref`, `false` sets it true and parsing stops at the
  bare `false`: every later flag is ignored (so is anything after any other non-flag item).
  `"pflag"` — spf13/pflag (`FlagSet.parseLongArg`: a bool flag has `NoOptDefVal` "true", so
  `--enable-ownerref` without `=` is true and the next item is not consumed; `parseArgs` with
  `interspersed` on, its default, keeps `false` as a positional argument and reads on): the flag
  is true, `false` is a positional argument (ipamd is taken to ignore it), later flags count.
  Both stop at `--` and let the last occurrence of a flag win.
- `expiry_zero_annotation` (the `tke.cloud.tencent.com/claim-expired-duration` annotation):
  the first annotation found (the claim's, then its VpcIP's) decides. `"never"` (default) — `0s`
  (any zero duration), or a value Go's `time.ParseDuration` rejects, means never expire, as the
  flag's own zero does; `"flag"` — such a value counts as not set: the flag's expiry applies
  (the VpcIP's annotation is not read then).
"""

from __future__ import annotations

import posixpath
from datetime import timedelta
from typing import Any, Literal

FlagLibrary = Literal["flag", "pflag"]
ZeroAnnotation = Literal["never", "flag"]
FLAG_LIBRARIES: tuple[FlagLibrary, ...] = ("flag", "pflag")
ZERO_ANNOTATION_READINGS: tuple[ZeroAnnotation, ...] = ("never", "flag")

BINARY = "tke-eni-ipamd"
# ipamd's boolean flags (klog's among them): written without `=`, they take no value
BOOL_FLAGS = frozenset({"enable-ownerref", "logtostderr", "alsologtostderr"})
# flags known to take a value: written without `=`, the next item is theirs, whatever it is
VALUE_FLAGS = frozenset({"claim-expired-duration", "cluster-id", "v"})
GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # strconv.ParseBool


def flag_items(container: dict[str, Any]) -> list[str]:
    """The items of a container's command line that ipamd parses as its flags."""
    command = [str(a) for a in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    line = command + args
    for i, item in enumerate(line):
        if posixpath.basename(item) == BINARY:
            return line[i + 1 :]
    if not command:
        return args
    return command[1:] + args


def read_flags(items: list[str], library: FlagLibrary) -> dict[str, str]:
    """Flag name → value (the last occurrence), as `library` parses `items`.

    Flags ipamd does not declare are not known here: one written without `=` takes the next
    item as its value unless that item is itself a flag.
    """
    values: dict[str, str] = {}
    i = 0
    while i < len(items):
        item = items[i]
        i += 1
        if item == "--":
            break  # both libraries: the rest are positional arguments
        if len(item) < 2 or not item.startswith("-"):
            if library == "flag":
                break  # Go's flag stops at the first non-flag argument
            continue  # pflag: a positional argument; parsing goes on
        name, eq, value = item.lstrip("-").partition("=")
        if not eq:
            if name in BOOL_FLAGS:
                value = "true"
            elif i < len(items) and (name in VALUE_FLAGS or not items[i].startswith("-")):
                value = items[i]
                i += 1
        values[name] = value
    return values


def go_bool(value: str | None) -> bool:
    return value in GO_TRUE


def annotation_expiry(
    parsed: timedelta | None, flag: timedelta | None, reading: ZeroAnnotation
) -> timedelta | None:
    """The expiry an annotation gives (None: never), from its value as Go parses it (`parsed`
    None: unparsable) and the flag's expiry."""
    if parsed is None or parsed <= timedelta(0):
        return None if reading == "never" else flag  # zero or unparsable: never, or not set
    return parsed
