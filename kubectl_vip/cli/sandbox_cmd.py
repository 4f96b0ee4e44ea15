"""`kubectl vip sandbox serve`: an emulated TKE VPC-CNI cluster to try the tool on."""

from __future__ import annotations

import gc
import os
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from ..errors import UsageError
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
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubectl-vip" / "sandbox.kubeconfig"


@sandbox_app.command("serve", epilog=SERVE_EPILOG)
def serve(
    ctx: typer.Context,
    scenario: str = typer.Option(
        "demo",
        "--scenario",
        help="demo|healthy|empty|scale|owners|owners-unserved|ipamd-addon|ipamd-no-addon"
        "|ipamd-old-addon|ipamd-latest|ipamd-split-bool|eni-faq",
    ),
    size: int = typer.Option(1000, "--size", min=1, help="Claims in the scale scenario."),
    port: int = typer.Option(
        0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."
    ),
    write_kubeconfig: Path | None = typer.Option(
        None,
        "--write-kubeconfig",
        help="Where to write the kubeconfig (default: under ~/.cache/kubectl-vip).",
    ),
    no_tke: bool = typer.Option(
        False, "--no-tke", help="Serve no TKE CRDs (a cluster without VPC-CNI)."
    ),
) -> None:
    """Serve an emulated cluster and print the kubeconfig to use; runs until stopped."""
    gc.enable()  # a long-running server needs the cyclic collector that short commands skip
    g = common.globals_of(ctx)
    from ..sandbox import Sandbox
    from ..sandbox.scenarios import SCENARIOS

    if scenario not in SCENARIOS:
        raise UsageError(f'unknown scenario "{scenario}": use one of {", ".join(SCENARIOS)}')
    sb = Sandbox(scenario, size=size, frozen=False, tke=not no_tke)
    try:
        sb.start(port=port)
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    path = sb.write_kubeconfig(write_kubeconfig or default_kubeconfig_path())
    out = g.out
    out.line(f"Sandbox cluster ({scenario}) serving at {sb.url}")
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
