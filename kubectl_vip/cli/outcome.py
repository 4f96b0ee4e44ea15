"""How a command ends: an error becomes one line on stderr and an exit code, and the process
exits without the interpreter's teardown. Typer-free, so `fastpath` shares it with the app."""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import NoReturn

from .. import interrupt
from ..api.redact import redact
from ..errors import ExitCode, VipError
from ..term.escaping import escape_raw
from ..term.render import Out


def exit_code_for(e: BaseException, err: Out, verbose: bool) -> int:
    """The line and the exit code for an exception that reached the top (click's own errors
    are handled by the app before this)."""
    if isinstance(e, KeyboardInterrupt) or (isinstance(e, Exception) and interrupt.seen()):
        # after a Ctrl-C, whatever it broke on the way out (a lock half released in threading's
        # own code) is the interruption, not a bug to report
        interrupt.report(err)
        return 130
    if isinstance(e, VipError):
        err.error(redact(e.message + (f"; {e.hint}" if e.hint else "")))
        return int(e.exit_code)
    if isinstance(e, BrokenPipeError):
        return 0
    if not isinstance(e, Exception):
        raise e  # SystemExit and the like
    if verbose:
        import traceback

        # its own lines stay; a control character in an exception's text does not
        sys.stderr.write(escape_raw(redact(traceback.format_exc())))
    err.error(redact(f"unexpected {type(e).__name__}: {e} (run with -v for details)"))
    return int(ExitCode.FAILED)


def finish(code: int) -> NoReturn:
    """Exit with `code`, skipping the interpreter's teardown (freeing every object one by one
    takes a noticeable part of a large `list`), but still running the atexit handlers (the
    kubernetes client removes its temporary certificate files there)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
