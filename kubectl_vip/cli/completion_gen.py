"""Generate what completion and the fast root help read, from the typer app.

Regenerate after changing a command, option or epilog: `completion_spec.json` (the command
tree `complete_plugin.py` answers from), `help_root.json` (the root `--help` text that
`kubectl-vip --help` prints without importing typer, see entry.py) and `completions/*`:

    python -m kubectl_vip.cli.completion_gen --write        # *.json + completions/*
    python -m kubectl_vip.cli.completion_gen --check        # exit 1 when any is stale
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from .completion import HELP_FILE, REGENERATE, SCRIPT_FILES, SHELLS, SPEC_FILE, Spec, render

# the help's text width (click: terminal columns up to 100, less 2): a pipe or an 80-column
# terminal, and a terminal of 100 columns or more; other widths are rendered by typer
HELP_WIDTHS = (78, 98)

# values completed from the cluster or the kubeconfig, by option name
OPTION_VALUES: dict[str, str] = {
    "--namespace": "namespace",
    "--context": "context",
    "--contexts": "context",
    "--kubeconfig": "file",
}
# positional arguments completed from the cluster: (command path, parameter name) -> kind
ARGUMENT_VALUES: dict[tuple[str, str], str] = {
    ("reclaim", "names"): "reclaimable-claim",
    ("describe", "target"): "claim",
}
# `a|b|c` at the start of an option's help or metavar, or ending its help after a colon,
# lists its values
_WORDS = r"([A-Za-z0-9][\w-]*(?:\|[A-Za-z0-9][\w-]*)+)"
_CHOICES = re.compile(rf"^\s*{_WORDS}(?![\w|])|:\s*{_WORDS}\.?\s*$")


# ---------------------------------------------------------------------------------- the tree


def build_spec() -> Spec:
    """Walk the typer app's click command tree into plain data."""
    import typer

    from . import app as app_module
    from .app import app

    root = typer.main.get_command(app)
    spec = _node(root, ())
    hoisted = app_module._GLOBAL_VALUE | app_module._GLOBAL_BOOL
    for flag in spec["flags"]:
        if set(flag["opts"]) & hoisted:
            flag["global"] = True  # accepted anywhere on the line (hoist_globals)
    return spec


def _summary(cmd: Any) -> str:
    text = str(getattr(cmd, "short_help", None) or getattr(cmd, "help", None) or "").strip()
    return text.splitlines()[0].strip() if text else ""


def _node(cmd: Any, path: tuple[str, ...]) -> Spec:
    flags = [_flag(p) for p in cmd.params if _is_option(p) and not getattr(p, "hidden", False)]
    flags.append({"opts": ["-h", "--help"], "help": "Show help and exit.", "value": None})
    args = []
    for p in cmd.params:
        if _is_option(p):
            continue
        kind: str | list[str] = ARGUMENT_VALUES.get((" ".join(path), str(p.name)), "text")
        choices = _choices(str(getattr(p, "metavar", None) or ""))
        if kind == "text" and choices:
            kind = choices
        args.append({"name": str(p.name), "value": kind, "many": getattr(p, "nargs", 1) == -1})
    node: Spec = {"help": _summary(cmd), "flags": flags, "args": args}
    subs = getattr(cmd, "commands", None)
    if subs:
        node["commands"] = {
            name: _node(sub, (*path, name))
            for name, sub in sorted(subs.items())
            if not getattr(sub, "hidden", False)
        }
    return node


def _is_option(p: Any) -> bool:
    return getattr(p, "param_type_name", "") == "option"


def _flag(p: Any) -> Spec:
    opts = [*p.opts, *p.secondary_opts]
    help_text = " ".join(str(p.help or "").split())
    out: Spec = {"opts": opts, "help": help_text}
    if getattr(p, "is_flag", False) and not getattr(p, "secondary_opts", None):
        out["value"] = None
        return out
    if getattr(p, "multiple", False):
        out["multiple"] = True
    long = next((o for o in opts if o.startswith("--")), opts[0])
    out["value"] = _value_kind(p, long, help_text)
    if long == "--state" and "--ips" in help_text:
        from ..model.claims import IpState

        # values that only another flag of the command makes valid: list --ips --state leaked
        out["valuesWith"] = {"--ips": [s.value for s in IpState]}
    if long == "--dry-run":
        out["optional"] = True  # kubectl's bare --dry-run next to --dry-run=client|server
    return out


def _value_kind(p: Any, long: str, help_text: str) -> str | list[str]:
    if long == "--state":
        from ..model.claims import CLAIM_STATES

        return list(CLAIM_STATES)
    if long == "--check":
        from ..doctor.registry import all_checks

        return [c.id for c in all_checks()]
    if long in OPTION_VALUES:
        return OPTION_VALUES[long]
    annotation = getattr(getattr(p, "type_descriptor", None), "annotation", None)
    click_type = getattr(p, "type", None)
    if annotation is Path or getattr(click_type, "name", "") == "path":
        return "file"
    for text in (str(p.metavar or ""), help_text):
        choices = _choices(text)
        if choices:
            return choices
    return "text"


def _choices(text: str) -> list[str] | None:
    """`table|json|yaml` -> its values; `DURATION|never` (a placeholder in it) -> None."""
    m = _CHOICES.search(text)
    if not m:
        return None
    values = (m.group(1) or m.group(2)).split("|")
    return None if any(v.isupper() for v in values) else values


def spec_json(spec: Spec) -> str:
    return json.dumps(spec, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------- root help


def root_help_json() -> str:
    """`kubectl-vip --help` as the app prints it, at each of HELP_WIDTHS."""
    import contextlib
    import io
    import os

    from .app import invoke

    texts = {}
    saved = os.environ.get("COLUMNS")
    try:
        for width in HELP_WIDTHS:
            os.environ["COLUMNS"] = str(width + 2)  # what click reads for the terminal width
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                invoke(["--help"])
            texts[str(width)] = buf.getvalue()
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return json.dumps(texts, indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------- files


def default_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "completions"


def expected_files(directory: Path) -> dict[Path, str]:
    spec = build_spec()
    files = {SPEC_FILE: spec_json(spec), HELP_FILE: root_help_json()}
    for shell in SHELLS:
        files[directory / SCRIPT_FILES[shell]] = render(shell, spec)
    return files


def stale(directory: Path | None = None) -> list[Path]:
    """Files whose content is not what the app generates now."""
    out = []
    for path, text in expected_files(directory or default_dir()).items():
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            out.append(path)
    return out


def write(directory: Path | None = None) -> list[Path]:
    directory = directory or default_dir()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in expected_files(directory).items():
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    usage = f"usage: {REGENERATE} [DIR] | python -m kubectl_vip.cli.completion_gen --check [DIR]"
    if not args or args[0] not in ("--write", "--check") or len(args) > 2:
        print(usage, file=sys.stderr)
        return 2
    directory = Path(args[1]) if len(args) == 2 else None
    if args[0] == "--write":
        for p in write(directory):
            print(f"wrote {p}")
        return 0
    bad = stale(directory)
    for p in bad:
        print(f"stale: {p} (run `{REGENERATE}`)", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
