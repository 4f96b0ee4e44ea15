"""Shell completion: the command tree as data, and the bash/zsh/fish scripts that use it.

The tree (subcommands, their flags, which flags take which values, which arguments are claim
names) is generated from the typer app into `completion_spec.json`, so `kubectl_complete-vip`
(see `complete_plugin.py`) answers static completions without importing typer, rich or the
kubernetes client. The shell scripts are thin: they pass the words to `kubectl_complete-vip`
(or `kubectl-vip __complete` in the single-file release) and show its answer, cobra style.

Regenerate them after changing a command, option or epilog (with `help_root.json`, the root
`--help` text that `kubectl-vip --help` prints without importing typer, see __main__.py):

    python -m kubectl_vip.cli.completion --write        # *.json + completions/*
    python -m kubectl_vip.cli.completion --check        # exit 1 when either is stale
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

PROG = "kubectl-vip"
HELPER = "kubectl_complete-vip"
SHELLS = ("bash", "zsh", "fish")
SPEC_FILE = Path(__file__).with_name("completion_spec.json")
HELP_FILE = Path(__file__).with_name("help_root.json")
# the help's text width (click: terminal columns up to 100, less 2): a pipe or an 80-column
# terminal, and a terminal of 100 columns or more; other widths are rendered by typer
HELP_WIDTHS = (78, 98)
SCRIPT_FILES = {"bash": "kubectl-vip.bash", "zsh": "_kubectl-vip", "fish": "kubectl-vip.fish"}
REGENERATE = "python -m kubectl_vip.cli.completion --write"

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

Spec = dict[str, Any]


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


def load_spec() -> Spec:
    """The generated tree (cheap: no typer)."""
    data: Spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------------------------- scripts

_HEADER = """\
{comment} {shell} completion for kubectl-vip. Generated by `{regen}`: do not edit.
{comment} Candidates come from `kubectl_complete-vip` (installed with the pip package), or from
{comment} `kubectl-vip __complete` (the krew single-file release). `kubectl vip <TAB>` completes
{comment} through kubectl itself (>= 1.26) with the same helper; no script is needed for that.
"""

_BASH = r"""
__kubectl_vip_request() {
    if command -v kubectl_complete-vip >/dev/null 2>&1; then
        kubectl_complete-vip "$@" 2>/dev/null
    else
        kubectl-vip __complete "$@" 2>/dev/null
    fi
}

_kubectl_vip() {
    # the words up to the cursor, split on blanks only (bash would also split at '=' and ':')
    local line=${COMP_LINE:0:COMP_POINT} cur=""
    local -a words
    read -r -a words <<<"$line"
    if [[ $line == *[[:blank:]] || ${#words[@]} -le 1 ]]; then
        cur=""
    else
        cur=${words[${#words[@]}-1]}
        unset 'words[${#words[@]}-1]'
    fi
    local out directive=0 IFS=$'\n'
    out=$(__kubectl_vip_request "${words[@]:1}" "$cur")
    local -a lines=() comps=()
    [[ -n $out ]] && read -r -d '' -a lines <<<"$out"
    local n=${#lines[@]}
    if (( n > 0 )) && [[ ${lines[n-1]} =~ ^:([0-9]+)$ ]]; then
        directive=${BASH_REMATCH[1]}
        unset 'lines[n-1]'
    else
        # no helper answered: offer the subcommands
        lines=(__COMMANDS__)
        local c; for c in "${lines[@]}"; do [[ $c == "$cur"* ]] && comps+=("$c"); done
        lines=("${comps[@]}"); comps=()
    fi
    # bash completes the part of the word after its last '=' or ':' (COMP_WORDBREAKS)
    local native=${COMP_WORDS[COMP_CWORD]} strip=""
    [[ $native == "=" || $native == ":" ]] && native=""
    strip=${cur%"$native"}
    local l
    for l in "${lines[@]}"; do
        l=${l%%$'\t'*}
        [[ -n $l ]] && comps+=("${l#"$strip"}")
    done
    (( directive & 2 )) && compopt -o nospace 2>/dev/null
    if (( ${#comps[@]} == 0 )); then
        if (( directive & 4 )); then
            compopt +o default 2>/dev/null
        fi
        COMPREPLY=()
        return 0
    fi
    compopt +o default 2>/dev/null
    COMPREPLY=("${comps[@]}")
}

complete -o default -F _kubectl_vip kubectl-vip
"""

_ZSH = r"""
__kubectl_vip_request() {
    if (( $+commands[kubectl_complete-vip] )); then
        kubectl_complete-vip "$@" 2>/dev/null
    else
        kubectl-vip __complete "$@" 2>/dev/null
    fi
}

_kubectl-vip() {
    local -a args lines comps
    local cur=${(Q)words[CURRENT]} out directive=0 l
    args=("${(@Q)words[2,CURRENT-1]}")
    out=$(__kubectl_vip_request "${args[@]}" "$cur")
    lines=("${(@f)out}")
    if [[ ${lines[-1]} == :<-> ]]; then
        directive=${lines[-1]#:}
        lines=("${(@)lines[1,-2]}")
    else
        lines=(__COMMANDS__)
    fi
    for l in "${lines[@]}"; do
        [[ -z $l ]] && continue
        if [[ $l == *$'\t'* ]]; then
            comps+=("${${l%%$'\t'*}//:/\\:}:${l#*$'\t'}")
        else
            comps+=("${l//:/\\:}")
        fi
    done
    if (( ${#comps} )); then
        if (( directive & 2 )); then
            _describe -t kubectl-vip 'kubectl-vip' comps -S ''
        else
            _describe -t kubectl-vip 'kubectl-vip' comps
        fi
        return
    fi
    if (( (directive & 4) == 0 )); then
        _files
    fi
}

if [[ $funcstack[1] == _kubectl-vip ]]; then
    _kubectl-vip "$@"
else
    compdef _kubectl-vip kubectl-vip
fi
"""

_FISH = r"""
function __kubectl_vip_complete
    set -l args (commandline -opc)
    set -e args[1]
    set -l cur (commandline -ct)
    set -l out
    if command -q kubectl_complete-vip
        set out (kubectl_complete-vip $args $cur 2>/dev/null)
    else
        set out (kubectl-vip __complete $args $cur 2>/dev/null)
    end
    set -l directive 0
    if test (count $out) -gt 0; and string match -qr '^:[0-9]+$' -- $out[-1]
        set directive (string sub -s 2 -- $out[-1])
        set -e out[-1]
    else
        set out (string match -- "$cur*" __COMMANDS__)
    end
    for l in $out
        test -n "$l"; and printf '%s\n' $l
    end
    if test (count $out) -eq 0; and test (math "floor($directive / 4) % 2") -eq 0
        __fish_complete_path $cur
    end
end

complete -c kubectl-vip -f -a '(__kubectl_vip_complete)'
"""


def render(shell: str, spec: Spec | None = None) -> str:
    """The completion script for `shell` (bash, zsh, fish)."""
    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}: use one of {', '.join(SHELLS)}")
    spec = spec if spec is not None else load_spec()
    names = list(spec.get("commands", {}))
    body = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}[shell]
    listed = " ".join(names)
    header = _HEADER.format(comment="#", shell=shell, regen=REGENERATE)
    if shell == "zsh":
        header = "#compdef kubectl-vip\n" + header
    return header + body.replace("__COMMANDS__", listed)


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
    usage = f"usage: {REGENERATE} [DIR] | python -m kubectl_vip.cli.completion --check [DIR]"
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
