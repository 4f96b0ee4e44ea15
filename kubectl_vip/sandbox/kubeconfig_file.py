"""The sandbox's kubeconfig file: marked as the sandbox's, private, and never written over a
kubeconfig that is not one the sandbox wrote or that a running sandbox still serves.

The mark is a comment header for people and a `preferences.extensions` entry named
`kubectl-vip-sandbox` (pid and server) that kubectl keeps when it rewrites the file
(`kubectl config set-context ...`).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..shared.private import ensure_dir, write_private

MARK = "kubectl-vip-sandbox"
CLUSTER = "vip-sandbox"  # the cluster and context name the sandbox writes


def default_path() -> Path:
    """Where `kubectl vip sandbox serve` writes its kubeconfig unless told otherwise."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubectl-vip" / "sandbox.kubeconfig"


@dataclass(frozen=True)
class Owner:
    """Who a kubeconfig file belongs to, as far as we can tell."""

    ours: bool  # written by a sandbox (else: a user's kubeconfig, or not one at all)
    pid: int | None = None
    server: str = ""

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
            return Owner(
                ours=True,
                pid=pid if isinstance(pid, int) else None,
                server=str(body.get("server") or ""),
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
    names = {x.get("name") for x in contexts if isinstance(x, dict)}
    return (
        c.get("name") == CLUSTER
        and str(body.get("server", "")).startswith("https://127.0.0.1:")
        and bool(names)
        and names <= {CLUSTER, f"{CLUSTER}-readonly"}
    )


def render(doc: dict[str, Any], *, pid: int, server: str) -> str:
    marked = dict(doc)
    prefs = dict(marked.get("preferences") or {})
    prefs["extensions"] = [{"name": MARK, "extension": {"pid": pid, "server": server}}]
    marked["preferences"] = prefs
    header = (
        f"# Written by kubectl-vip sandbox serve (pid {pid}, {server}).\n"
        "# The sandbox overwrites this file only when no running sandbox serves it.\n"
    )
    return header + yaml.safe_dump(marked, sort_keys=False)


def write(path: Path, doc: dict[str, Any], *, server: str) -> Path:
    """Write the marked kubeconfig: 0600 from creation, its directory 0700 if we make it."""
    ensure_dir(path.parent)
    write_private(path, render(doc, pid=os.getpid(), server=server).encode())
    return path
