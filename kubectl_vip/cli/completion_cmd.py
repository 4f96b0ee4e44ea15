"""`kubectl vip completion bash|zsh|fish`: print the shell completion script."""

from __future__ import annotations

import typer

from ..errors import UsageError
from . import common

HELP = """Print the shell completion script for kubectl-vip (bash, zsh or fish).

The scripts complete `kubectl-vip ...`: subcommands, flags and their values, and from the
cluster (2s timeout, silent on errors) claim names for reclaim/describe, namespaces for -n
and contexts for --context. `kubectl vip <TAB>` completes through kubectl itself (>= 1.26),
which runs `kubectl_complete-vip`: pip installs it; with krew, create it once:

\b
  printf '#!/bin/sh\\nexec kubectl-vip __complete "$@"\\n' > ~/.krew/bin/kubectl_complete-vip
  chmod +x ~/.krew/bin/kubectl_complete-vip
"""

EPILOG = """Examples:

\b
  source <(kubectl vip completion bash)          # bash, this shell; add it to ~/.bashrc
  kubectl vip completion zsh > "${fpath[1]}/_kubectl-vip"
  kubectl vip completion fish > ~/.config/fish/completions/kubectl-vip.fish
"""


def register(app: typer.Typer) -> None:
    app.command("completion", help=HELP, epilog=EPILOG)(completion_command)


def completion_command(
    ctx: typer.Context,
    shell: str = typer.Argument(..., metavar="bash|zsh|fish", help="The shell."),
) -> None:
    from .completion import SHELLS, render

    g = common.globals_of(ctx)
    name = shell.strip().lower()
    if name not in SHELLS:
        raise UsageError(f'unknown shell "{shell}": use one of {", ".join(SHELLS)}')
    g.out.raw(render(name))
