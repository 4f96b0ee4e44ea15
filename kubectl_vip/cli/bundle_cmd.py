"""`kubectl vip bundle`: a tar.gz of what a support ticket needs, never a secret."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any, cast

import typer

from .. import __version__
from ..errors import ExitCode, NoAccess, RefusedError, UsageError
from ..model.duration import DurationError, parse_go_duration
from ..model.words import plural
from ..shared.private import create_new
from . import common
from .common import Globals

HELP = """Collect what a support ticket needs into one tar.gz, and print what was written.

Contents: vipc, vip, nec and veni objects; the kube-system tke-eni-* Deployments, DaemonSets and
Pods (ipamd, ip-scheduler, agent: spec and status); the ipamd ConfigMap; the names of the
eniipamd Helm release Secrets; node names, zones, taints and allocatable; Events of the last
--since in kube-system and in namespaces with claims (and those about nodes and TKE objects);
the TKE CRDs; the `config -o json` and `doctor -o json` documents (with the model fit,
VIP-CRD-002).

--shapes writes instead a JSON file you can post publicly (an issue, a forum): for each TKE kind
its CRD schema and the field paths of its objects with their JSON types and how many objects
have each, and how they answer the tool's field table. No value at all: no name, IP, uid, label
or annotation value, server or context (map keys that may be data become <key>). It is what we
need when `doctor` says the tool's model does not fit (VIP-CRD-002): kubectl-vip-shapes.json in
the current directory, or -o FILE, or -o - for stdout.

Never: Secret objects or their data, env values (env keeps names, envFrom the referenced
names), ServiceAccount tokens, managedFields, the last-applied-configuration annotation.
Redacted by key and by value, in every file: annotations and ipamd ConfigMap keys named like
secrets (password, secret, token, key, credential, ...) and such keys of YAML or JSON embedded
in them; in any string, URL userinfo (mysql://root:PASS@db), such flags and their value
(--secret-key=X, --api-token X, --secret-id -X), NAME=X and name: X; each becomes <redacted>.
manifest.json lists each redaction (file, object, field), never the value.

Bounded by --max-size (uncompressed; a list that does not fit keeps what fits and is marked
truncated). manifest.json lists every collector with ok, truncated, forbidden, failed,
not-served, missing or skipped and why, so a partial bundle says what it lacks.

The file is kubectl-vip-bundle-<cluster>-<UTC time>.tar.gz in the current directory (<cluster>:
ipamd's --cluster-id, else the kubeconfig context). It is created new, 0600 (its members 0600
too): an existing path is refused, a file or symbolic link planted there never written through;
--force replaces an existing regular file (written beside it, then renamed over it). -o -
writes the archive to stdout (not to a terminal) and the report to stderr. -n/-A are ignored:
the bundle is cluster-wide.

Exit: 0 written (what RBAC forbids or the cluster does not serve is warned about and listed);
1 written, but a read of objects failed (an error, or an answer that could not be used), or
--max-size left a collector out or cut it; 2 the output path exists (without --force);
3 nothing could be read (every collector of cluster objects forbidden or failed): no archive.
"""

EPILOG = """Examples:

\b
  kubectl vip bundle                             # ./kubectl-vip-bundle-<cluster>-<time>.tar.gz
  kubectl vip bundle --since 6h --max-size 10Mi -o - | ssh support 'cat > ticket.tgz'
  kubectl vip bundle --shapes                    # ./kubectl-vip-shapes.json: no values
"""


def register(app: typer.Typer) -> None:
    app.command("bundle", help=HELP, epilog=EPILOG)(bundle_command)


def bundle_command(
    ctx: typer.Context,
    output: str | None = typer.Option(
        None, "-o", "--output", help="Archive path (default: generated name in .); - for stdout."
    ),
    since: str = typer.Option("1h", "--since", help="Events seen within this (Go duration)."),
    max_size: str = typer.Option(
        "50Mi", "--max-size", help="Cap on the uncompressed contents (bytes, K, Ki, M, Mi, G, Gi)."
    ),
    chunk_size: int = typer.Option(
        500, "--chunk-size", min=0, help="Page size of list requests (0: no paging)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing file at the -o path (a regular file only)."
    ),
    shapes: bool = typer.Option(
        False,
        "--shapes",
        help="Write the field paths and types of the TKE objects and their CRDs, no values "
        "(kubectl-vip-shapes.json): for when doctor says the model does not fit.",
    ),
) -> int:
    g = common.globals_of(ctx)
    from ..ops import bundle as bd

    if shapes:
        return _write_shapes(g, output, force, chunk_size)

    try:
        window = parse_go_duration(since)
    except DurationError as e:
        raise UsageError(f"invalid --since: {e}") from None
    if window.total_seconds() <= 0:
        raise UsageError("--since must be positive")
    try:
        cap = bd.parse_size(max_size)
    except ValueError as e:
        raise UsageError(f"invalid --max-size: {e}") from None
    if cap < 4096:
        raise UsageError("--max-size must be at least 4Ki")
    to_stdout = output == "-"
    stream = getattr(g.out.stdout, "buffer", None) if to_stdout else None
    if to_stdout and (stream is None or g.out.tty):
        raise UsageError("refusing to write a binary archive to a terminal: redirect, or -o FILE")
    if output and not to_stdout:
        _check_output(Path(output), force)  # before anything is read from the cluster

    c = g.cluster()
    srcs = bd.sources(c, chunk_size=chunk_size)
    srcs[1:1] = [
        bd.Source(
            "config", "kubectl-vip/config.json", lambda: _config_doc(g), "kubectl vip config"
        ),
        bd.Source(
            "doctor",
            "kubectl-vip/doctor.json",
            lambda: _doctor_doc(g, chunk_size),
            "kubectl vip doctor",
        ),
    ]
    red = bd.Redactions()
    outcomes = bd.collect(srcs, red=red)
    _require_something(outcomes)
    now = c.now()
    bd.refine(outcomes, window, now)
    name = bd.default_name(_cluster_ish(g, outcomes), now)
    meta = {
        "tool": f"kubectl-vip {__version__}",
        "server": c.server,
        "context": c.conn.context,
        "since": since,
    }
    b = bd.pack(outcomes, top=name, max_size=cap, meta=meta, now=now, red=red)
    lacking = [o for o in outcomes if o.status != "ok"]
    if to_stdout:
        assert stream is not None
        counter = _Counting(stream)
        bd.write_tar(b, cast(IO[bytes], counter), now)
        stream.flush()
        where, size = "stdout", counter.n
        report = g.out.info
    else:
        path = Path(output) if output else Path.cwd() / f"{name}.tar.gz"
        try:
            # created new and 0600 from the first byte (it holds cluster data); removed if
            # writing fails, so no half-written archive is left behind
            with create_new(path, replace=force) as f:
                bd.write_tar(b, f, now)
        except FileExistsError as e:
            # taken since the check above (or a symbolic link put there): never written through
            why = e.strerror or str(e)
            raise RefusedError(f"cannot write {path}: {why}", hint=_FORCE_HINT) from None
        except OSError as e:
            raise RefusedError(f"cannot write {path}: {e.strerror or e}") from None
        where, size = str(path), path.stat().st_size
        report = g.out.line
    report(
        f"Wrote {where}: {bd.human_size(size)} compressed, {len(b.members)} files, "
        f"{bd.human_size(b.size)} of content (cap {bd.human_size(cap)})"
    )
    for o in lacking:
        g.out.warn(f"{o.name}: {o.status}" + (f" ({o.reason})" if o.reason else ""))
    # forbidden, not served, not found: what this cluster and user allow, said in the manifest;
    # a failed read of objects (an error, an answer we could not use) is a partial failure
    failed = any(o.status == "failed" and o.name not in DERIVED for o in outcomes)
    # a bundle cut short by --max-size lacks what support asked for: say so in the exit status
    capped = [o.name for o in outcomes if o.status in ("skipped", "truncated")]
    if capped:
        g.out.warn(
            f"--max-size {max_size} left out or cut {plural(len(capped), 'collector')} "
            f"({', '.join(capped)}): raise --max-size for a whole bundle"
        )
    return ExitCode.FAILED if failed or capped else ExitCode.OK


_FORCE_HINT = "choose another -o path, or pass --force to replace a file there"
SHAPES_FILE = "kubectl-vip-shapes.json"


def _write_shapes(g: Globals, output: str | None, force: bool, chunk_size: int) -> int:
    """`bundle --shapes`: one JSON document, no values (ops/bundle.shapes)."""
    import json

    from ..ops import bundle as bd

    path = None if output == "-" else Path(output or SHAPES_FILE)
    if path is not None:
        _check_output(path, force)
    doc = bd.shapes(g.cluster(), chunk_size=chunk_size)
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if path is None:
        g.out.raw(text)
        return ExitCode.OK
    try:
        with create_new(path, replace=force) as f:
            f.write(text.encode())
    except FileExistsError as e:
        raise RefusedError(f"cannot write {path}: {e.strerror or e}", hint=_FORCE_HINT) from None
    except OSError as e:
        raise RefusedError(f"cannot write {path}: {e.strerror or e}") from None
    kinds = ", ".join(f"{k['kind']} {k['objects']:,}" for k in doc["kinds"])
    g.out.line(f"Wrote {path}: field paths and types of {kinds}; no values")
    for what, why in doc["notRead"].items():
        g.out.warn(f"{what}: {why}")
    return ExitCode.FAILED if doc["notRead"] else ExitCode.OK


def _check_output(path: Path, force: bool) -> None:
    """An -o path that is taken is a usage error before any request: without --force anything
    there (a file, a symbolic link, a directory); with --force anything but a regular file."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from None
    import stat

    if not force:
        raise UsageError(f"{path} exists: refusing to write over it", hint=_FORCE_HINT)
    if stat.S_ISLNK(st.st_mode):
        raise UsageError(
            f"{path} is a symbolic link: refusing to replace it, even with --force",
            hint="remove the link, or choose another -o path",
        )
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file: refusing to replace it")


# collectors that answer even when every object read is denied, and the CRDs (schemas, not the
# cluster's state): they do not make a bundle on their own
DERIVED = frozenset({"version", "config", "doctor", "crds"})


def _require_something(outcomes: list[Any]) -> None:
    """NoAccess (exit 3, no archive) when no collector of cluster objects read anything."""
    reads = [o for o in outcomes if o.name not in DERIVED]
    if not reads or any(o.status in ("ok", "missing") for o in reads):
        return
    by_state: dict[str, list[str]] = {}
    for o in reads:
        by_state.setdefault(o.status, []).append(o.what or o.name)
    parts = [f"{state}: {', '.join(whats)}" for state, whats in by_state.items()]
    hint = "check --context; ask a cluster admin for read access to these"
    if "failed" in by_state:
        failed = next(o for o in reads if o.status == "failed")
        hint = f"the first failure: {failed.reason}; " + hint
    raise NoAccess(f"bundle: nothing could be read ({'; '.join(parts)})", hint=hint)


class _Counting(io.RawIOBase):
    """A write-only file object that counts what passes through (stdout cannot be stat'ed)."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner
        self.n = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.n += len(data)
        written: int = self.inner.write(data)
        return written

    def flush(self) -> None:
        self.inner.flush()


def _config_doc(g: Globals) -> Any:
    from ..model import settings
    from .config_cmd import read_config

    return settings.config_doc(read_config(g))


def _doctor_doc(g: Globals, chunk_size: int) -> Any:
    from .. import doctor
    from ..doctor import report
    from ..ops.doctor_reads import gather

    c = g.cluster()
    checks = doctor.all_checks()
    snap = gather(c, checks, chunk_size=chunk_size)
    results = doctor.run_checks(checks, snap)
    return report.document(results, snap, server=c.server, fail_on="error")


def _cluster_ish(g: Globals, outcomes: list[Any]) -> str:
    """ipamd's --cluster-id (names the cluster in the console), else the context's name."""
    from ..model import ipamd, schema, settings
    from ..model.ipamd_info import ipamd_info

    for o in outcomes:
        if o.name != "deployments" or not isinstance(o.value, list):
            continue
        for dep in o.value:
            if schema.name(dep) == ipamd.DEPLOYMENT_NAME:
                cid = settings.cluster_id(ipamd_info(dep).flags)
                if cid:
                    return cid
    return g.cluster().conn.context or "cluster"
