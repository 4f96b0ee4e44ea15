"""`kubectl vip sandbox serve`: an emulated TKE VPC-CNI cluster to try the tool on."""

from __future__ import annotations

import gc
import os
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from ..errors import RefusedError, UsageError
from . import common

SANDBOX_EPILOG = """Examples:

\b
  kubectl vip sandbox serve --write-kubeconfig /tmp/vip.kubeconfig
  kubectl vip --sandbox list -A                   # or: a throwaway sandbox for one command
"""

sandbox_app = typer.Typer(
    help="An emulated TKE VPC-CNI cluster on loopback, for trying kubectl vip.",
    epilog=SANDBOX_EPILOG,
    no_args_is_help=True,
)

SERVE_EPILOG = """Examples:

\b
  kubectl vip sandbox serve                       # the demo scenario, until Ctrl-C
  kubectl vip sandbox serve --scenario scale --size 10000 --port 6443
"""


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")


def default_kubeconfig_path() -> Path:
    from ..sandbox.kubeconfig_file import default_path

    return default_path()


def check_kubeconfig_target(path: Path, *, explicit: bool) -> None:
    """Never overwrite a kubeconfig the sandbox did not write, nor one a running sandbox
    serves (its printed `export KUBECONFIG=...` must stay true while it runs)."""
    from ..sandbox.kubeconfig_file import owner

    found = owner(path)
    if found is None:
        return
    if path.is_dir():
        raise RefusedError(f"--write-kubeconfig {path} is a directory")
    if not found.ours:
        raise RefusedError(
            f"refusing to overwrite {path}: it is not a kubeconfig the sandbox wrote",
            hint="write the sandbox's elsewhere (--write-kubeconfig /tmp/vip-sandbox.kubeconfig) "
            f"and use both with KUBECONFIG=/tmp/vip-sandbox.kubeconfig:{path}",
        )
    if found.running() and found.pid != os.getpid():
        flag = "another --write-kubeconfig PATH" if explicit else "--write-kubeconfig PATH"
        raise RefusedError(
            f"{path} belongs to a running sandbox (pid {found.pid}, {found.server})",
            hint=f"use that sandbox, stop it first, or pass {flag} for a second one",
        )


@sandbox_app.command("serve", epilog=SERVE_EPILOG)
def serve(
    ctx: typer.Context,
    scenario: str = typer.Option(
        "demo",
        "--scenario",
        help="demo|healthy|empty|scale|owners|owners-unserved|ipamd-addon|ipamd-no-addon"
        "|ipamd-old-addon|ipamd-latest|ipamd-split-bool|ipamd-wrapper|ipamd-suffix|eni-faq"
        "|unreachable-node|scaled-in",
    ),
    size: int = typer.Option(1000, "--size", min=1, help="Claims in the scale scenario."),
    port: int = typer.Option(
        0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."
    ),
    write_kubeconfig: Path | None = typer.Option(
        None,
        "--write-kubeconfig",
        help="Where to write the kubeconfig (default: under ~/.cache/kubectl-vip). Never a "
        "kubeconfig the sandbox did not write, nor one a running sandbox serves (exit 1).",
    ),
    no_tke: bool = typer.Option(
        False, "--no-tke", help="Serve no TKE CRDs (a cluster without VPC-CNI)."
    ),
    frozen: bool = typer.Option(
        False,
        "--frozen",
        help="Read-only and still: time stands, writes are refused (403), and each read is "
        "answered from bytes kept after its first time, fast like a real API server's watch "
        "cache (for benchmarks).",
    ),
) -> None:
    """Serve an emulated cluster and print the kubeconfig to use; runs until stopped.

    The kubeconfig is written 0600 and marked as the sandbox's. serve refuses (exit 1) to
    overwrite a kubeconfig it did not write (merge instead: KUBECONFIG=SANDBOX:YOURS) or one
    that a running sandbox serves (a second serve needs its own --write-kubeconfig).
    """
    gc.enable()  # a long-running server needs the cyclic collector that short commands skip
    g = common.globals_of(ctx)
    from ..sandbox import Sandbox
    from ..sandbox.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        raise UsageError(f'unknown scenario "{scenario}": use one of {", ".join(SCENARIOS)}')
    path = write_kubeconfig or default_kubeconfig_path()
    check_kubeconfig_target(path, explicit=write_kubeconfig is not None)
    sb = Sandbox(scenario, size=size, frozen=frozen, tke=not no_tke)
    if frozen:
        sb.freeze()
    try:
        sb.start(port=port)
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    try:
        sb.write_kubeconfig(path)
    except OSError as e:
        sb.stop()
        raise RefusedError(f"cannot write the kubeconfig {path}: {e.strerror or e}") from None
    out = g.out
    still = ", frozen: read-only" if frozen else ""
    out.line(f"Sandbox cluster ({scenario}{still}) serving at {sb.url}")
    out.line(f"Contexts: vip-sandbox (admin), vip-sandbox-readonly (read-only). Kubeconfig: {path}")
    out.line("Stop with Ctrl-C. In another shell:")
    out.line(f"export KUBECONFIG={path}")
    out.stdout.flush()
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        sb.stop()
        out.info("sandbox stopped")
