"""A plain `list` command line, run without typer.

Building the typer app costs more than a tenth of a second before any work (typer builds a
pydantic adapter for every parameter of every command), a tenth of `list -A` at 10,000 claims.
`kubectl vip list` is the command people run most and script around, so a line made only of the
flags below, in the forms click reads them, is parsed here, into the same `Globals` and the same
`run_list` arguments as the app would make; anything else (help, a fleet flag, an unknown or
malformed flag, a value that starts with "-", an empty value, a stray argument) is left to
typer, which parses it or says what is wrong. `tests/test_fastpath.py` checks that every line
taken here parses to the same values through typer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..term.render import Out
    from . import common

# global flags (as in app.main): option → Globals field
_GLOBAL_VALUE = {
    "--kubeconfig": "kubeconfig",
    "--context": "context",
    "-n": "namespace",
    "--namespace": "namespace",
    "--request-timeout": "request_timeout",
}
_GLOBAL_BOOL = {
    "-A": "all_namespaces",
    "--all-namespaces": "all_namespaces",
    "--sandbox": "sandbox",
    "-v": "verbose",
    "--verbose": "verbose",
}
# `list`'s own flags (as in list_cmd.list_command): option → run_list argument
_LIST_VALUE = {
    "-o": "output",
    "--output": "output",
    "-l": "selector",
    "--selector": "selector",
    "--sort-by": "sort_by",
    "--chunk-size": "chunk_size",
    "--state": "state",
}
_LIST_BOOL = {"--ips": "ips", "--no-headers": "no_headers"}
_COMMANDS = {"list"}
_PLAIN_INT = re.compile(r"[0-9]{1,9}")

Parsed = tuple[str, dict[str, Any], dict[str, Any]]


def parse(argv: list[str]) -> Parsed | None:
    """(command, Globals fields, command arguments) of a line this module takes; else None."""
    command: str | None = None
    globals_: dict[str, Any] = {}
    args: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if not token.startswith("-") or token == "-":
            if command is None and token in _COMMANDS:
                command = token
                continue
            return None  # a stray argument, or another command
        if token == "--":
            return None
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            attached: str | None = value if eq else None
        else:
            name, attached = token[:2], (token[2:] or None)
        if name in _GLOBAL_BOOL or name in _LIST_BOOL:
            if attached is not None:
                return None  # "--ips=x" or "-Av": click's business
            if name in _LIST_BOOL and command is None:
                return None
            table = _GLOBAL_BOOL if name in _GLOBAL_BOOL else _LIST_BOOL
            (globals_ if table is _GLOBAL_BOOL else args)[table[name]] = True
            continue
        if name not in _GLOBAL_VALUE and (name not in _LIST_VALUE or command is None):
            return None
        if attached is None:
            if i >= len(argv):
                return None
            attached = argv[i]
            i += 1
        if attached == "" or attached.startswith("-") or attached.startswith("="):
            return None
        if name in _GLOBAL_VALUE:
            globals_[_GLOBAL_VALUE[name]] = attached
        elif name == "--state":
            args.setdefault("state", []).append(attached)
        elif name == "--chunk-size":
            if not _PLAIN_INT.fullmatch(attached):
                return None
            args["chunk_size"] = int(attached)
        else:
            args[_LIST_VALUE[name]] = attached
    if command is None:
        return None
    return command, globals_, args


def run_fast(argv: list[str], out: Out | None = None) -> int | None:
    """Run the line and return its exit code; None when the line is typer's to parse."""
    parsed = parse(argv)
    if parsed is None:
        return None
    _command, fields, args = parsed
    from .. import interrupt
    from ..term.render import Out
    from . import common
    from .outcome import exit_code_for

    err = out or Out()
    common.set_out(err)
    interrupt.begin()
    try:
        g = globals_from(fields, err)
        g.aim_hints()
        try:
            from .claims_view import run_list

            return run_list(g, **args)
        finally:
            g.close()
    except (KeyboardInterrupt, Exception) as e:  # noqa: BLE001 - the top: one line, no traceback
        return exit_code_for(e, err, bool(fields.get("verbose")))


def globals_from(fields: dict[str, Any], out: Out) -> common.Globals:
    """The Globals the app's callback makes of these flags (the fleet flags at their defaults)."""
    from . import common

    namespace = fields.get("namespace")
    return common.Globals(
        kubeconfig=fields.get("kubeconfig"),
        context=fields.get("context"),
        namespace=common.check_namespace(namespace) if namespace else namespace,
        all_namespaces=bool(fields.get("all_namespaces")),
        request_timeout=common.parse_request_timeout(fields.get("request_timeout", "0")),
        sandbox=bool(fields.get("sandbox")),
        verbose=bool(fields.get("verbose")),
        out=out,
    )
