"""`kubectl vip list`: its flags (the work is in claims_view, which fastpath also runs)."""

from __future__ import annotations

import typer

from ..model import claims as cl
from . import common
from .claims_view import IP_ONLY_STATES, run_list

EPILOG = """Examples:

\b
  kubectl vip list -A                      # every claim in the cluster, with its state
  kubectl vip list -n db --state orphaned --state overdue -o json > plan.json
"""


def register(app: typer.Typer) -> None:
    app.command("list", epilog=EPILOG)(list_command)


def list_command(
    ctx: typer.Context,
    output: str = typer.Option("table", "-o", "--output", help="table|wide|json|yaml|name"),
    state: list[str] = typer.Option(
        [],
        "--state",
        help="Only rows in this state (repeatable, or comma-separated): "
        + ", ".join(cl.CLAIM_STATES)
        + "; with --ips also "
        + ", ".join(IP_ONLY_STATES),
    ),
    selector: str | None = typer.Option(None, "-l", "--selector", help="Label selector on claims."),
    sort_by: str = typer.Option("name", "--sort-by", help="name|age|retained|ip"),
    ips: bool = typer.Option(
        False, "--ips", help="Show VpcIPs instead: each IP with its claim, or Leaked."
    ),
    no_headers: bool = typer.Option(False, "--no-headers", help="Omit the header and the summary."),
    chunk_size: int = typer.Option(
        500, "--chunk-size", min=0, help="Page size of list requests (0: no paging)."
    ),
) -> int:
    """List static-IP claims joined with their Pod, VpcIP and owner, one state each."""
    g = common.globals_of(ctx)
    return run_list(g, output, state, selector, sort_by, ips, no_headers, chunk_size)
