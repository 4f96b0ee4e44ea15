"""`kubectl vip sandbox serve`: an emulated TKE VPC-CNI cluster to try the tool on."""

from __future__ import annotations

import gc
import os
import re
import signal
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from ..errors import RefusedError, UsageError
from . import common

if TYPE_CHECKING:
    from ..sandbox import Sandbox
    from ..sandbox.kubeconfig_file import Owner

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
  kubectl vip sandbox serve --name prod-gz        # contexts prod-gz, prod-gz-readonly
  kubectl vip sandbox serve --scenario fleet      # two clusters and a dead one
"""


def register(app: typer.Typer) -> None:
    app.add_typer(sandbox_app, name="sandbox")


def default_kubeconfig_path(name: str | None = None) -> Path:
    from ..sandbox.kubeconfig_file import CLUSTER, default_path

    return default_path(name or CLUSTER)


def kubeconfig_decider(path: Path, *, explicit: bool) -> Callable[[Owner | None], None]:
    """What serve accepts at its kubeconfig path, decided under the directory's lock as the
    file is written (kubeconfig_file.write): nothing, or a file a sandbox wrote that no running
    sandbox serves and that holds nothing but what the sandbox wrote. Never a kubeconfig the
    sandbox did not write, one a running sandbox serves (its printed `export KUBECONFIG=...`
    must stay true while it runs), nor one to which contexts or credentials were added."""

    def decide(found: Owner | None) -> None:
        if found is None:
            return
        if path.is_dir():
            raise RefusedError(f"--write-kubeconfig {path} is a directory")
        if not found.ours:
            raise RefusedError(
                f"refusing to overwrite {path}: it is not a kubeconfig the sandbox wrote",
                hint="write the sandbox's elsewhere (--write-kubeconfig "
                f"/tmp/vip-sandbox.kubeconfig) and use both with "
                f"KUBECONFIG=/tmp/vip-sandbox.kubeconfig:{path}",
            )
        if found.running() and found.pid != os.getpid():
            flag = "another --write-kubeconfig PATH" if explicit else "--write-kubeconfig PATH"
            raise RefusedError(
                f"{path} belongs to a running sandbox (pid {found.pid}, {found.server})",
                hint=f"use that sandbox, stop it first, or pass {flag} for a second one",
            )
        if found.foreign:
            raise RefusedError(
                f"refusing to overwrite {path}: a sandbox wrote it, but it now also holds "
                + ", ".join(found.foreign),
                hint="move what you added to a kubeconfig of your own, or pass "
                "--write-kubeconfig PATH",
            )

    return decide


_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")


@sandbox_app.command("serve", epilog=SERVE_EPILOG)
def serve(
    ctx: typer.Context,
    scenario: str = typer.Option(
        "demo",
        "--scenario",
        help="demo|healthy|empty|scale|owners|owners-unserved|ipamd-addon|ipamd-no-addon"
        "|ipamd-old-addon|ipamd-latest|ipamd-split-bool|ipamd-wrapper|ipamd-suffix|eni-faq"
        "|unreachable-node|scaled-in|shape-alt-paths|shape-no-release-time|shape-v2"
        "|fleet (fleet: two demo sandboxes, prod-gz and prod-sh, "
        "and a context staging-bj that answers nothing, in one kubeconfig)",
    ),
    size: int = typer.Option(1000, "--size", min=1, help="Claims in the scale scenario."),
    port: int = typer.Option(
        0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: any free port)."
    ),
    name: str | None = typer.Option(
        None,
        "--name",
        metavar="NAME",
        help="Name of its cluster and contexts: NAME (admin) and NAME-readonly, users "
        "NAME-admin and NAME-viewer; the kubeconfig defaults to ~/.cache/kubectl-vip/"
        "NAME.kubeconfig (default name: vip-sandbox, in sandbox.kubeconfig).",
    ),
    write_kubeconfig: Path | None = typer.Option(
        None,
        "--write-kubeconfig",
        help="Where to write the kubeconfig (default: under ~/.cache/kubectl-vip). Never a "
        "kubeconfig the sandbox did not write, one a running sandbox serves, nor one to which "
        "contexts or credentials were added (exit 1).",
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

    The kubeconfig is written 0600 and marked as the sandbox's, in one step with the check of
    what is there. serve refuses (exit 1) to overwrite a kubeconfig it did not write (merge
    instead: KUBECONFIG=SANDBOX:YOURS), one that a running sandbox serves (a second serve needs
    its own --name or --write-kubeconfig), or one to which contexts or users were added.
    """
    gc.enable()  # a long-running server needs the cyclic collector that short commands skip
    g = common.globals_of(ctx)
    from ..sandbox import Sandbox
    from ..sandbox.kubeconfig_file import CLUSTER, FLEET, owner
    from ..sandbox.scenarios import SCENARIOS

    fleet = scenario == FLEET
    if not fleet and scenario not in SCENARIOS:
        choices = ", ".join([*SCENARIOS, FLEET])
        raise UsageError(f'unknown scenario "{scenario}": use one of {choices}')
    if name is not None and not _NAME.match(name):
        raise UsageError(
            f'invalid --name "{name}": lower-case letters, digits, "-" and ".", at most 63, '
            "starting and ending with a letter or digit"
        )
    if fleet and name is not None:
        raise UsageError(
            "--name names one sandbox; --scenario fleet names its own (prod-gz, prod-sh)"
        )
    if fleet and port:
        raise UsageError(
            "--port picks one sandbox's port; --scenario fleet serves two on free ports"
        )
    path = write_kubeconfig or default_kubeconfig_path(FLEET if fleet else name)
    # refused before a large scenario is built; decided again, under a lock, as it is written
    kubeconfig_decider(path, explicit=write_kubeconfig is not None)(owner(path))
    if fleet:
        _serve_fleet(g, path, write_kubeconfig is not None, size, no_tke, frozen)
        return
    sb = Sandbox(scenario, size=size, frozen=frozen, tke=not no_tke, name=name or CLUSTER)
    if frozen:
        sb.freeze()
    try:
        sb.start(port=port)
    except OSError as e:
        raise UsageError(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}") from None
    _write(
        path,
        lambda: sb.write_kubeconfig(
            path, decide=kubeconfig_decider(path, explicit=write_kubeconfig is not None)
        ),
        [sb],
    )
    out = g.out
    still = ", frozen: read-only" if frozen else ""
    out.line(f"Sandbox cluster ({scenario}{still}) serving at {sb.url}")
    n = sb.kubeconfig()["contexts"]
    out.line(f"Contexts: {n[0]['name']} (admin), {n[1]['name']} (read-only). Kubeconfig: {path}")
    _run_until_stopped(g, [sb], path)


def _write(path: Path, write: Callable[[], Path], sandboxes: list[Sandbox]) -> None:
    """Write the kubeconfig; on a refusal or an error stop what was started."""
    try:
        write()
    except (RefusedError, FileExistsError) as e:
        for sb in sandboxes:
            sb.stop()
        if isinstance(e, FileExistsError):
            raise RefusedError(f"{path} appeared while the sandbox was writing it") from None
        raise
    except OSError as e:
        for sb in sandboxes:
            sb.stop()
        raise RefusedError(f"cannot write the kubeconfig {path}: {e.strerror or e}") from None


FLEET_SANDBOXES = ("prod-gz", "prod-sh")
FLEET_DOWN = "staging-bj"


def _serve_fleet(
    g: common.Globals, path: Path, explicit: bool, size: int, no_tke: bool, frozen: bool
) -> None:
    """The README's fleet: two demo sandboxes and a context whose API server answers nothing,
    in one kubeconfig (their admin contexts only, so each cluster is one context)."""
    from ..sandbox import Sandbox, kubeconfig_file
    from ..sandbox.facade import unreachable_kubeconfig

    sandboxes = [
        Sandbox("demo", size=size, frozen=frozen, tke=not no_tke, name=n) for n in FLEET_SANDBOXES
    ]
    # a loopback port held bound but not listening: connections to it are refused
    down = socket.socket()
    down.bind(("127.0.0.1", 0))
    dead = f"https://127.0.0.1:{down.getsockname()[1]}"
    try:
        for sb in sandboxes:
            if frozen:
                sb.freeze()
            sb.start()
        doc = kubeconfig_file.merged(
            [sb.kubeconfig(readonly=False) for sb in sandboxes]
            + [unreachable_kubeconfig(FLEET_DOWN, dead)],
            current=FLEET_SANDBOXES[0],
        )
        decide = kubeconfig_decider(path, explicit=explicit)
        _write(
            path,
            lambda: kubeconfig_file.write(path, doc, server=sandboxes[0].url, decide=decide),
            sandboxes,
        )
        out = g.out
        still = ", frozen: read-only" if frozen else ""
        for sb in sandboxes:
            out.line(f"Sandbox cluster {sb.name} (demo{still}) serving at {sb.url}")
        out.line(f"Context {FLEET_DOWN}: its API server {dead} answers nothing (a cluster down)")
        names = ", ".join([*FLEET_SANDBOXES, FLEET_DOWN])
        out.line(f"Contexts: {names}. Kubeconfig: {path}")
        _run_until_stopped(g, sandboxes, path)
    finally:
        down.close()


def _run_until_stopped(g: common.Globals, sandboxes: list[Sandbox], path: Path) -> None:
    out = g.out
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # in place before the banner: whoever reads `export KUBECONFIG=` may stop us at once
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    out.line("Stop with Ctrl-C. In another shell:")
    out.line(f"export KUBECONFIG={path}")
    out.stdout.flush()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sb in sandboxes:
            sb.stop()
        out.info("sandbox stopped")
