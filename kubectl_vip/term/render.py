r"""The one door to the terminal: kubectl-style tables, JSON, YAML, messages, bars.

Colour only on a TTY and never with NO_COLOR; piped output is plain aligned text.

Every string printed as text (table cells, lines, warnings, errors, progress labels, `-o name`)
goes through `escape` first, on a TTY and piped alike: strings from the API (Event messages,
names, annotations, ipamd args) may hold control characters that would clear the screen, hide
text, make a hyperlink or forge a whole line. Escape form, Python-style and unambiguous:
`\n`, `\r`, `\t` for newline, carriage return and tab; `\xNN` for the other C0 controls,
DEL and the C1 controls (ESC is `\x1b`); `\uNNNN` for the Unicode line and paragraph
separators and the bidirectional overrides and isolates; and a backslash already in the text
is doubled (`\\`), so an escape seen on screen is always one we made. Nothing is parsed as
rich markup: `[red]x[/red]` prints literally. The only control characters on the terminal are
the renderer's own newlines and, with colour on, its own ANSI styles.

JSON and YAML keep the exact strings (they are data): the encoders write every control
character as an escape inside a quoted string, so a document is safe to print too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from .escaping import UNSAFE, escape, escape_cells, escape_in_json, escape_raw

STATE_STYLES = {
    "InUse": "green",
    "Terminating": "yellow",
    "Completed": "dim",
    "Retained": "cyan",
    "Expiring": "yellow",
    "Overdue": "bold red",
    "ScaledIn": "blue",
    "Orphaned": "magenta",
    "Leaked": "bold red",
    "Unknown": "dim",
    "Attaching": "bold red",
    "Unbound": "red",
    "error": "bold red",
    "warning": "yellow",
    "info": "cyan",
    "ok": "green",
    "skipped": "dim",
}
PADDING = 3  # kubectl's tabwriter padding

if TYPE_CHECKING:
    from rich.console import Console


def _yaml_dumper(base: Any) -> Any:
    """`base` writing every string that holds a control character double-quoted, where YAML
    escapes it (plain or single-quoted style would print a newline raw)."""

    class Dumper(base):  # type: ignore[misc] # a class made from a runtime value
        def ignore_aliases(self, data: Any) -> bool:
            return True  # an object met twice (a shared owner item) is written out twice

    def represent_str(dumper: Any, data: str) -> Any:
        style = '"' if UNSAFE.search(data) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, represent_str)
    return Dumper


def color_enabled(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR") is not None or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


PLUGIN = "kubectl vip"
PLUGIN_CALL = PLUGIN + " "
# a plain kubectl command in a hint (not ours, and not already aimed at a cluster)
_KUBECTL_CALL = re.compile(r"(?<![\w/-])kubectl (?!vip |--kubeconfig|--context)(?=[a-z])")


def invocation() -> str:
    """How the user ran us: kubectl sets KUBECTL_PATH in a plugin's environment."""
    return PLUGIN if os.environ.get("KUBECTL_PATH") else "kubectl-vip"


class Out:
    """Where a command writes: stdout for results, stderr for warnings and errors."""

    def __init__(
        self,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        *,
        color: bool | None = None,
        prog: str | None = None,
    ) -> None:
        # hints are written "kubectl vip ..."; they print as the user ran us (`invocation`)
        self.prog = prog or invocation()
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.color = color_enabled(self.stdout) if color is None else color
        self.err_color = color_enabled(self.stderr) if color is None else color
        self._console: Console | None = None
        self._err_console: Console | None = None
        self._ansi: dict[str, tuple[str, str]] = {}
        self._call = self.prog + " "  # how our own commands are printed (see `aim`)
        self._kubectl = ""  # what plain kubectl commands are given

    def aim(self, vip_flags: list[str], kubectl_flags: list[str]) -> None:
        """What selects the cluster this run used, added to every command it prints: a hint
        pasted as printed must act on this cluster, never on the current context."""
        self._call = " ".join([self.prog, *map(shlex.quote, vip_flags)]) + " "
        self._kubectl = " ".join(map(shlex.quote, kubectl_flags))

    # rich is imported only where it adds colour (or a progress bar): plain text is written
    # straight, exactly as rich would write it without colour

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = _console(self.stdout, self.color)
        return self._console

    @property
    def err_console(self) -> Console:
        if self._err_console is None:
            self._err_console = _console(self.stderr, self.err_color)
        return self._err_console

    def _styled(self, style: str) -> tuple[str, str]:
        """The ANSI codes rich writes around a text in `style` on this terminal."""
        codes = self._ansi.get(style)
        if codes is None:
            from rich.text import Text

            with self.console.capture() as cap:
                self.console.print(Text("\0", style=style), end="")
            before, _, after = cap.get().partition("\0")
            codes = self._ansi[style] = (before, after)
        return codes

    @property
    def tty(self) -> bool:
        return bool(getattr(self.stdout, "isatty", lambda: False)())

    # ---------------------------------------------------------------- results

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        style_column: str | None = None,
        no_headers: bool = False,
    ) -> None:
        """Columns separated like kubectl's tabwriter; the `style_column` cells are coloured."""
        lines = [[escape(h) for h in headers]] if not no_headers else []
        lines += [escape_cells(r) for r in rows]
        if not lines:
            return
        widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
        styled = headers.index(style_column) if style_column in headers and self.color else -1
        last = len(headers) - 1
        out: list[str] = []
        write = self.stdout.write
        for n, line in enumerate(lines):
            if len(out) == 1000:  # a large table goes out in parts, never held whole as text
                out.append("")
                write("\n".join(out))
                out.clear()
            parts = []
            for i, cell in enumerate(line):
                pad = "" if i == last else " " * (widths[i] - len(cell) + PADDING)
                style = STATE_STYLES.get(cell) if (i == styled and (n > 0 or no_headers)) else None
                if style is not None:
                    before, after = self._styled(style)
                    cell = before + cell + after
                parts.append(cell + pad)
            out.append("".join(parts))
        out.append("")
        write("\n".join(out))
        self.stdout.flush()

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.color and style and text:
            before, after = self._styled(style)
            text = before + escape(self.ours(text)) + after
        else:
            text = escape(self.ours(text))
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def styled(self, parts: Sequence[tuple[str, str | None]]) -> None:
        text = []
        for s, style in parts:
            if self.color and style and s:
                before, after = self._styled(style)
                text.append(before + escape(self.ours(s)) + after)
            else:
                text.append(escape(self.ours(s)))
        self.stdout.write("".join(text) + "\n")
        self.stdout.flush()

    def ours(self, text: str) -> str:
        """Our hints name the command as the user ran it (`kubectl vip` as a kubectl plugin,
        `kubectl-vip` when run directly), with what selects the same cluster (`aim`)."""
        if PLUGIN_CALL in text:
            text = text.replace(PLUGIN_CALL, self._call)
        if self._kubectl and "kubectl " in text:
            text = _KUBECTL_CALL.sub("kubectl " + self._kubectl + " ", text)
        return text

    def json(self, doc: Any) -> None:
        write = self.stdout.write
        for chunk in json_chunks(doc):
            write(escape_in_json(chunk))
        self.stdout.flush()

    def yaml(self, doc: Any) -> None:
        import yaml  # only where YAML is asked for: it is not on the start-up path

        base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when the wheel has it
        text = yaml.dump(
            doc, Dumper=_yaml_dumper(base), sort_keys=False, allow_unicode=True, width=1000
        )
        # YAML prints the bidi controls raw even double-quoted; there `\\u` is the same data
        self.stdout.write(escape_in_json(text))
        self.stdout.flush()

    def document(self, doc: Any, fmt: str) -> None:
        if fmt == "yaml":
            if isinstance(doc, dict) and not isinstance(doc.get("items", []), list):
                doc = {**doc, "items": list(doc["items"])}  # YAML cannot stream a generator
            self.yaml(doc)
        else:
            self.json(doc)

    def raw(self, text: str) -> None:
        """Text we composed whole (a script, a metrics page): its own newlines and tabs stay,
        any other control character is escaped."""
        self.stdout.write(escape_raw(text))
        self.stdout.flush()

    def raw_line(self, text: str) -> None:
        """One line of plain output (`-o name`), escaped like a table cell; no flush, so
        thousands of lines stay cheap."""
        self.stdout.write(escape(text) + "\n")

    # ---------------------------------------------------------------- diagnostics

    def info(self, text: str) -> None:
        """A note for people, on stderr so it never mixes with a script's data."""
        self._err(escape(self.ours(text)))

    def warn(self, text: str) -> None:
        self._err(self._err_label("Warning:", "yellow") + " " + escape(self.ours(text)))

    def error(self, text: str) -> None:
        self._err(self._err_label("error:", "bold red") + " " + escape(self.ours(text)))

    def _err_label(self, label: str, style: str) -> str:
        if not self.err_color:
            return label
        from rich.text import Text

        with self.err_console.capture() as cap:
            self.err_console.print(Text(label, style=style), end="")
        return cap.get()

    def _err(self, line: str) -> None:
        self.stderr.write(line + "\n")
        self.stderr.flush()


class Progress:
    """A progress bar on a TTY's stderr for long runs; silent otherwise."""

    def __init__(self, out: Out, total: int, label: str, *, minimum: int = 6) -> None:
        self._bar: Any = None
        self._task: Any = None
        if out.err_console.is_terminal and total >= minimum:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn(escape(label), markup=False),
                BarColumn(),
                MofNCompleteColumn(),
                console=out.err_console,
                transient=True,
            )
            self._task = self._bar.add_task(label, total=total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
        return self

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


class PlainItems:
    """Items made only of str, int, bool, None, lists and dicts with str keys (no floats: the
    encoders write those differently). orjson writes such items byte for byte as the standard
    library does with the same separators (checked for every code point in
    tests/test_render.py), ten times faster; `-o json` of a large list is mostly this."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


JSON_BATCH = 500  # items encoded, escaped and written at once


def _orjson_dumps() -> Callable[[Any], bytes] | None:
    try:
        from orjson import dumps
    except ImportError:  # the `fast` extra is optional
        return None
    return dumps


def json_chunks(doc: Any) -> Iterator[str]:
    """Indented JSON, except that each element of a top-level `items` list is one compact line.

    The stdlib's C encoder is used only without indentation, so encoding every item compactly
    keeps `list -A -o json` fast at tens of thousands of items; a document still reads well
    (one object per line) and parses anywhere. `items` may be any iterable (a generator
    streams a large document without holding every item in memory); `PlainItems` are encoded
    by orjson when it is installed, with the same bytes.
    """
    items = doc.get("items") if isinstance(doc, dict) else None
    if items is None or isinstance(items, (str, bytes, dict)):
        yield json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        return
    head = {k: v for k, v in doc.items() if k != "items"}
    opening = json.dumps(head, indent=2, ensure_ascii=False)[:-2] + ",\n" if head else "{\n"
    std = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    fast = _orjson_dumps() if isinstance(items, PlainItems) else None
    first = True
    batch: list[str] = []
    for item in items:
        text = None
        if fast is not None:
            with contextlib.suppress(TypeError):  # an int past 64 bits: the stdlib writes it
                text = fast(item).decode()
        batch.append(std(item) if text is None else text)
        if len(batch) == JSON_BATCH:
            yield (opening + '  "items": [\n    ' if first else ",\n    ") + ",\n    ".join(batch)
            first = False
            batch.clear()
    if batch:
        yield (opening + '  "items": [\n    ' if first else ",\n    ") + ",\n    ".join(batch)
        first = False
    yield (opening + '  "items": []\n}\n') if first else "\n  ]\n}\n"


def _console(stream: IO[str], color: bool) -> Console:
    from rich.console import Console

    return Console(
        file=stream,
        color_system="auto" if color else None,
        force_terminal=color or None,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
        width=100_000 if not color else None,
    )


def bar(fraction: float, width: int = 20) -> str:
    fraction = min(max(fraction, 0.0), 1.0)
    full = round(fraction * width)
    return "█" * full + "░" * (width - full)
