"""The `kubectl-vip` console script: `--version` and the root `--help` before anything heavy
is imported, a plain `list` line through the fast path, anything else through typer."""

from __future__ import annotations

import sys


def main() -> None:
    # `--version` answers before anything heavy is imported: it is what plugin managers probe
    if sys.argv[1:] == ["--version"]:
        from .. import __version__

        print(f"kubectl-vip {__version__}")
        return
    if sys.argv[1:] in ([], ["--help"], ["-h"]):
        text = root_help()
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
    from ..interrupt import record_interrupts
    from ..shared.malloc import one_arena

    one_arena()  # before any thread starts
    record_interrupts()
    if "list" in sys.argv[1:]:
        import gc

        from .fastpath import run_fast

        gc.disable()  # as app.run does: the objects of a large list make no cycles
        code = run_fast(sys.argv[1:])
        if code is not None:
            from .outcome import finish

            finish(code)
    from .app import run

    run()


def root_help() -> str | None:
    """The root help, generated from the app into help_root.json (completion_gen.py keeps it in
    step), for the text width click would use here; None for a width not generated."""
    import json
    import shutil
    from pathlib import Path

    width = max(min(shutil.get_terminal_size().columns, 100) - 2, 50)
    try:
        texts = json.loads(Path(__file__).with_name("help_root.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    text = texts.get(str(width))
    return text if isinstance(text, str) else None
