"""The sandbox's kubeconfig file: marked as the sandbox's, private, named after its sandbox, and
written in one step with the check of what is there.

The mark is a comment header for people and a `preferences.extensions` entry named
`kubectl-vip-sandbox` (pid, server, and the contexts, clusters and users it wrote) that kubectl
keeps when it rewrites the file (`kubectl config set-context ...`): a name in the file that the
mark does not list was added by someone else, and the file is no longer only the sandbox's.

`write` decides and writes under an exclusive lock on the file's directory: the caller's
`decide` sees what is at the path (None: nothing) and raises to refuse; then the new content,
already complete in a private temporary file of the same directory, is linked into place (an
exclusive create: if a file appeared after all, nothing is overwritten) or renamed over the file
`decide` accepted. Two sandboxes started at once cannot both take one path.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..shared.private import ensure_dir

MARK = "kubectl-vip-sandbox"
CLUSTER = "vip-sandbox"  # the default name of the sandbox's cluster and admin context
FLEET = "fleet"  # `sandbox serve --scenario fleet`'s kubeconfig: <cache>/kubectl-vip/fleet...


@dataclass(frozen=True)
class Names:
    """The names one sandbox writes: its cluster, its two contexts and their users."""

    cluster: str
    admin: str  # the admin context
    readonly: str  # the read-only context
    admin_user: str
    viewer_user: str

    @property
    def written(self) -> dict[str, list[str]]:
        return {
            "contexts": [self.admin, self.readonly],
            "clusters": [self.cluster],
            "users": [self.admin_user, self.viewer_user],
        }


def names(name: str = CLUSTER) -> Names:
    """`NAME` and `NAME-readonly` for the cluster and contexts; users `NAME-admin` and
    `NAME-viewer` (the default name keeps its first users, `sandbox-admin`, `sandbox-viewer`)."""
    if name == CLUSTER:
        return Names(CLUSTER, CLUSTER, f"{CLUSTER}-readonly", "sandbox-admin", "sandbox-viewer")
    return Names(name, name, f"{name}-readonly", f"{name}-admin", f"{name}-viewer")


def default_path(name: str = CLUSTER) -> Path:
    """Where `kubectl vip sandbox serve` writes its kubeconfig unless told otherwise:
    `sandbox.kubeconfig` for the default name, else `NAME.kubeconfig`, under the user's cache."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    file = "sandbox.kubeconfig" if name == CLUSTER else f"{name}.kubeconfig"
    return Path(base) / "kubectl-vip" / file


@dataclass(frozen=True)
class Owner:
    """Who a kubeconfig file belongs to, as far as we can tell."""

    ours: bool  # written by a sandbox (else: a user's kubeconfig, or not one at all)
    pid: int | None = None
    server: str = ""
    # contexts, clusters and users in the file that the sandbox did not write (someone added
    # them, e.g. with `kubectl config set-credentials`)
    foreign: tuple[str, ...] = ()

    def running(self) -> bool:
        """The sandbox that wrote it still runs: its process exists and its port answers."""
        if not self.ours or self.pid is None or not _alive(self.pid):
            return False
        parts = urlsplit(self.server)
        if parts.hostname is None or parts.port is None:
            return False
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1):
                return True
        except OSError:
            return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    except OSError:
        return False
    return True


def _entries(doc: dict[str, Any], key: str) -> set[str]:
    items = doc.get(key)
    return {
        str(i.get("name"))
        for i in (items if isinstance(items, list) else [])
        if isinstance(i, dict) and i.get("name") is not None
    }


def _foreign(doc: dict[str, Any], written: Any) -> tuple[str, ...]:
    """What the file names beyond what the mark says the sandbox wrote; a mark from before
    the list stands for the default names."""
    if not isinstance(written, dict):
        written = names().written
    out = []
    for key, what in (("contexts", "context"), ("clusters", "cluster"), ("users", "user")):
        listed = written.get(key)
        ours = {str(n) for n in listed} if isinstance(listed, list) else set()
        out += [f"{what} {n}" for n in sorted(_entries(doc, key) - ours)]
    return tuple(out)


def owner(path: Path) -> Owner | None:
    """None when nothing is at `path`; otherwise whose file it is."""
    if not path.exists() and not path.is_symlink():
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return Owner(ours=False)
    prefs = doc.get("preferences") if isinstance(doc, dict) else None
    exts = prefs.get("extensions") if isinstance(prefs, dict) else None
    for ext in exts if isinstance(exts, list) else []:
        if isinstance(ext, dict) and ext.get("name") == MARK:
            body: Any = ext.get("extension")
            if not isinstance(body, dict):
                body = {}
            pid = body.get("pid")
            assert isinstance(doc, dict)
            return Owner(
                ours=True,
                pid=pid if isinstance(pid, int) else None,
                server=str(body.get("server") or ""),
                foreign=_foreign(doc, body.get("written")),
            )
    if _unmarked_sandbox(doc):
        return Owner(ours=True)  # written by a version before the mark: not known to be running
    return Owner(ours=False)


def _unmarked_sandbox(doc: Any) -> bool:
    """A sandbox kubeconfig from before the mark: its one cluster is the loopback sandbox and
    its contexts are the sandbox's own."""
    if not isinstance(doc, dict):
        return False
    clusters = doc.get("clusters")
    contexts = doc.get("contexts")
    if not isinstance(clusters, list) or len(clusters) != 1 or not isinstance(contexts, list):
        return False
    c: Any = clusters[0] if isinstance(clusters[0], dict) else {}
    body: Any = c.get("cluster") if isinstance(c.get("cluster"), dict) else {}
    found = {x.get("name") for x in contexts if isinstance(x, dict)}
    return (
        c.get("name") == CLUSTER
        and str(body.get("server", "")).startswith("https://127.0.0.1:")
        and bool(found)
        and found <= {CLUSTER, f"{CLUSTER}-readonly"}
    )


def render(doc: dict[str, Any], *, pid: int, server: str) -> str:
    marked = dict(doc)
    prefs = dict(marked.get("preferences") or {})
    written = {key: sorted(_entries(doc, key)) for key in ("contexts", "clusters", "users")}
    prefs["extensions"] = [
        {"name": MARK, "extension": {"pid": pid, "server": server, "written": written}}
    ]
    marked["preferences"] = prefs
    header = (
        f"# Written by kubectl-vip sandbox serve (pid {pid}, {server}).\n"
        "# The sandbox overwrites this file only when no running sandbox serves it and it\n"
        "# holds nothing but what the sandbox wrote.\n"
    )
    return header + yaml.safe_dump(marked, sort_keys=False)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on the directory (flock), held while deciding and writing."""
    if os.name != "posix":  # pragma: no cover - no flock: the exclusive link alone guards
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        import fcntl  # POSIX only

        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write(
    path: Path,
    doc: dict[str, Any],
    *,
    server: str,
    decide: Callable[[Owner | None], None] | None = None,
) -> Path:
    """Write the marked kubeconfig, 0600 from creation (its directory 0700 if we make it):
    complete in a temporary file first, then linked (nothing there) or renamed (a file `decide`
    accepted) into place, deciding and writing under the directory's lock."""
    ensure_dir(path.parent)
    data = render(doc, pid=os.getpid(), server=server).encode()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with _locked(path.parent):
            found = owner(path)
            if decide is not None:
                decide(found)
            if found is None:
                _create(Path(tmp), path, data)
            else:
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return path


def _create(tmp: Path, path: Path, data: bytes) -> None:
    """An exclusive create of `path`: FileExistsError, and nothing written, if it exists."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links: an O_EXCL create
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def merged(docs: list[dict[str, Any]], *, current: str) -> dict[str, Any]:
    """One kubeconfig holding the clusters, users and contexts of several."""
    out: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": current,
        "preferences": {},
    }
    for d in docs:
        for key in ("clusters", "users", "contexts"):
            out[key] += list(d.get(key) or [])
    return out
