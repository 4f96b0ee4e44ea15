"""The typer app: global kubectl flags, command registration, and the one place that turns
errors into a line on stderr and an exit code."""

from __future__ import annotations

import gc
import sys
from typing import Any

import typer

from .. import __version__, interrupt
from ..errors import ExitCode, UsageError
from ..term.render import PLUGIN, Out
from . import common
from .clickcompat import Abort, ClickException, NoArgsIsHelpError
from .clickcompat import UsageError as ClickUsageError
from .outcome import exit_code_for, finish

HELP = """See, reclaim and keep in check the static Pod IPs of TKE VPC-CNI clusters.

Global flags (--kubeconfig, --context, -n, -A, --request-timeout, --sandbox, -v, and the fleet
flags --contexts, --all-contexts, --max-parallel) may be given anywhere on the line, as with
kubectl. With --contexts or --all-contexts, list, usage, doctor and reclaim --dry-run answer for
many clusters at once (a CONTEXT column, a line per context, a fleet total); a context that
cannot answer is one line on stderr, and the exit code is 1 (3 when no context answered).

Exit codes: 0 done/healthy, 1 refused/partly failed/problems found, 2 usage error,
3 cannot reach/authenticate/forbidden, 4 not a TKE VPC-CNI static-IP cluster, 130 interrupted.
"""

EPILOG = """Examples:

\b
  kubectl vip list -A                    # every claim with its Pod, VpcIP, owner and state
  kubectl vip reclaim --orphaned -A --dry-run
  kubectl vip --sandbox doctor           # try it on the built-in emulated cluster
"""

app = typer.Typer(
    name="kubectl-vip",
    help=HELP,
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kubectl-vip {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    kubeconfig: str | None = typer.Option(
        None,
        "--kubeconfig",
        help="Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config).",
    ),
    context: str | None = typer.Option(None, "--context", help="The kubeconfig context to use."),
    namespace: str | None = typer.Option(
        None, "-n", "--namespace", help="Namespace scope (default: the context's namespace)."
    ),
    all_namespaces: bool = typer.Option(
        False, "-A", "--all-namespaces", help="Work across all namespaces."
    ),
    request_timeout: str = typer.Option(
        "0",
        "--request-timeout",
        help="Timeout per API request: 0 (none), seconds, or a duration (30s, 1m).",
    ),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Run against a built-in emulated TKE cluster (demo scenario), not a real one.",
    ),
    contexts: list[str] = typer.Option(
        [],
        "--contexts",
        help="Fleet: run list, usage, doctor or reclaim --dry-run in these kubeconfig contexts "
        "(repeatable or comma-separated; shell patterns such as 'prod-*').",
    ),
    all_contexts: bool = typer.Option(
        False, "--all-contexts", help="Fleet: run in every context of the kubeconfig."
    ),
    max_parallel: int = typer.Option(
        8, "--max-parallel", min=1, max=64, help="Fleet: contexts read at once."
    ),
    verbose: bool = typer.Option(
        False, "-v", "--verbose", help="Show details (a traceback) for unexpected errors."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    g = common.Globals(
        kubeconfig=kubeconfig,
        context=context,
        namespace=common.check_namespace(namespace) if namespace else namespace,
        all_namespaces=all_namespaces,
        request_timeout=common.parse_request_timeout(request_timeout),
        sandbox=sandbox,
        verbose=verbose,
        out=common.current_out(),
        contexts=fleet_patterns(contexts),
        all_contexts=all_contexts,
        max_parallel=max_parallel,
    )
    if g.fleet and (context or sandbox):
        flag = "--context" if context else "--sandbox"
        raise UsageError(f"{flag} cannot be combined with --contexts/--all-contexts")
    g.aim_hints()
    ctx.obj = g
    ctx.call_on_close(g.close)


def fleet_patterns(values: list[str]) -> list[str]:
    """An empty value (`--contexts "$UNSET"`) is refused: it must not fall back to the one
    current context, where a command meant for a fleet would act."""
    from ..ops.fleet import split_patterns

    for v in values:
        if not split_patterns([v]):
            raise UsageError(
                f'--contexts "{v}" names no context (an unset shell variable?)',
                hint="name the contexts (--contexts a,b or 'prod-*'), or use --all-contexts",
            )
    return split_patterns(values)


def _register() -> None:
    # one import and one register() call per command module
    from . import config_cmd, list_cmd, sandbox_cmd, settings_cmd

    list_cmd.register(app)
    sandbox_cmd.register(app)
    config_cmd.register(app)
    settings_cmd.register(app)
    from . import usage_cmd

    usage_cmd.register(app)
    from . import describe_cmd

    describe_cmd.register(app)
    from . import reclaim_cmd

    reclaim_cmd.register(app)
    from . import doctor_cmd

    doctor_cmd.register(app)
    from . import bundle_cmd

    bundle_cmd.register(app)
    from . import completion_cmd

    completion_cmd.register(app)


_register()

# Flags that belong to the app, wherever the user put them (kubectl accepts global flags anywhere).
_GLOBAL_VALUE = {
    "--kubeconfig",
    "--context",
    "-n",
    "--namespace",
    "--request-timeout",
    "--contexts",
    "--max-parallel",
}
_GLOBAL_BOOL = {"-A", "--all-namespaces", "--all-contexts", "--sandbox", "-v", "--verbose"}


def hoist_globals(argv: list[str]) -> list[str]:
    """Move global flags in front of the subcommand, so `kubectl vip list -n db` works."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest.extend(argv[i:])
            break
        name = a.split("=", 1)[0]
        if name in _GLOBAL_BOOL:
            front.append(a)
        elif name in _GLOBAL_VALUE:
            if "=" in a or i + 1 >= len(argv):
                front.append(a)
            else:
                front.extend(argv[i : i + 2])
                i += 1
        elif a.startswith("-n") and len(a) > 2 and not a.startswith("--"):
            front.append(a)  # -ndb
        else:
            rest.append(a)
        i += 1
    return front + rest


# commands that never talk to a cluster: the cluster flags mean nothing to them
_LOCAL_COMMANDS = {"completion", "sandbox"}


def with_global_help(group: Any) -> Any:
    """Each subcommand's --help also lists the global flags it honours, under their own
    heading (they are parsed by the app, so click would not show them there)."""
    flags = [p for p in group.params if p.name not in ("version",) and getattr(p, "help", None)]
    for name, cmd in getattr(group, "commands", {}).items():
        if name in _LOCAL_COMMANDS or getattr(cmd, "_vip_global_help", False):
            continue
        original = cmd.format_options

        def format_options(ctx: Any, formatter: Any, original: Any = original) -> None:
            original(ctx, formatter)
            rows = [r for r in (p.get_help_record(ctx) for p in flags) if r]
            with formatter.section("Global flags (anywhere on the line, as with kubectl)"):
                formatter.write_dl(rows)

        cmd.format_options = format_options
        cmd._vip_global_help = True
    return group


def run(argv: list[str] | None = None) -> None:
    # A command parses tens of thousands of acyclic objects and exits: the cyclic garbage
    # collector would only rescan them (a fifth of `list`'s time). Long-running commands
    # (`sandbox serve`) turn it back on.
    gc.disable()
    finish(invoke(sys.argv[1:] if argv is None else argv))


def invoke(argv: list[str], out: Out | None = None) -> int:
    """Run the CLI; return the exit code. Every error becomes one line on stderr."""
    err = out or Out()
    common.set_out(err)
    interrupt.begin()
    verbose = any(a in ("-v", "--verbose") for a in argv)
    command = with_global_help(typer.main.get_command(app))
    try:
        result: Any = command.main(
            args=hoist_globals(argv), prog_name="kubectl-vip", standalone_mode=False
        )
        code = int(result) if isinstance(result, int) else 0
        if code == 130:  # typer turns a Ctrl-C inside a command into a silent exit 130
            interrupt.report(err)
        return code
    except typer.Exit as e:
        if e.exit_code == 130:
            interrupt.report(err)
        return int(e.exit_code)
    except ClickUsageError as e:
        if NoArgsIsHelpError is not None and isinstance(e, NoArgsIsHelpError):
            typer.echo(e.ctx.get_help() if e.ctx else "")
            return 0
        # written as the plugin call: the error line names the command the way the user ran it
        path = e.ctx.command_path.replace("kubectl-vip", PLUGIN, 1) if e.ctx else ""
        hint = f" (see '{path} --help')" if e.ctx else ""
        err.error(f"{e.format_message()}{hint}")
        return ExitCode.USAGE
    except ClickException as e:
        err.error(e.format_message())
        return int(getattr(e, "exit_code", 1))
    except (Abort, typer.Abort):
        interrupt.report(err)
        return 130
    except (KeyboardInterrupt, Exception) as e:  # noqa: BLE001 - the top: one line, no traceback
        return exit_code_for(e, err, verbose)


__all__ = ["UsageError", "app", "hoist_globals", "invoke", "run"]
