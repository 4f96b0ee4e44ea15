"""Tables and lines are written without rich (a large `list` spent most of its output time in
rich's per-line rendering), byte for byte as rich writes them, coloured on a TTY and plain
otherwise; rich is imported only for colour."""

from __future__ import annotations

import io
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from kubectl_vip.term.escaping import escape
from kubectl_vip.term.render import PADDING, STATE_STYLES, Out, _console

STANDARD = Console(force_terminal=True, color_system="standard")._color_system


def rich_table(rows: list[list[str]], color: bool, no_headers: bool) -> str:
    """The table as rich rendered it, one Text per line (the renderer before the plain path)."""
    buf = io.StringIO()
    console = _console(buf, color)  # the console the renderer printed through
    if color:
        console._color_system = STANDARD
    headers = ["NAME", "STATE", "NOTE"]
    lines = ([headers] if not no_headers else []) + [[escape(c) for c in r] for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    for n, line in enumerate(lines):
        t = Text()
        for i, cell in enumerate(line):
            pad = "" if i == 2 else " " * (widths[i] - len(cell) + PADDING)
            style = STATE_STYLES.get(cell) if i == 1 and (n > 0 or no_headers) else None
            t.append(cell, style=style if color else None)
            t.append(pad)
        console.print(t, soft_wrap=True, overflow="ignore", crop=False)
    return buf.getvalue()


cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
states = st.sampled_from([*STATE_STYLES, "Other", ""])
rows = st.lists(st.tuples(cells, states, cells).map(list), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(rows=rows, color=st.booleans(), no_headers=st.booleans())
def test_table_is_written_as_rich_writes_it(
    rows: list[list[str]], color: bool, no_headers: bool
) -> None:
    buf = io.StringIO()
    out = Out(buf, io.StringIO(), color=color)
    if color:
        out.console._color_system = STANDARD
    out.table(["NAME", "STATE", "NOTE"], rows, style_column="STATE", no_headers=no_headers)
    assert buf.getvalue() == rich_table(rows, color, no_headers)


def test_plain_output_does_not_import_rich() -> None:
    code = (
        "import io, sys\n"
        "from kubectl_vip.term.render import Out\n"
        "o = Out(io.StringIO(), io.StringIO(), color=False)\n"
        "o.table(['A', 'STATE'], [['x\\x1b[2J', 'Orphaned']], style_column='STATE')\n"
        "o.line('y'); o.warn('w'); o.error('e'); o.info('i')\n"
        "print(repr(o.stdout.getvalue()), repr(o.stderr.getvalue()), 'rich' in sys.modules)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip() == (
        "'A          STATE\\nx\\\\x1b[2J   Orphaned\\ny\\n' 'Warning: w\\nerror: e\\ni\\n' False"
    )


def test_a_large_table_written_in_parts_is_the_same() -> None:
    rows = [[f"claim-{i}", "Orphaned" if i % 3 else "InUse", "x" * (i % 17)] for i in range(2345)]
    for color in (False, True):
        buf = io.StringIO()
        out = Out(buf, io.StringIO(), color=color)
        if color:
            out.console._color_system = STANDARD
        out.table(["NAME", "STATE", "NOTE"], rows, style_column="STATE")
        assert buf.getvalue() == rich_table(rows, color, no_headers=False)
