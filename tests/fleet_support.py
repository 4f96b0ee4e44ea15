"""A merged kubeconfig over several sandboxes (and dead contexts), as a platform team has over
its clusters: distinct context, cluster and user names per sandbox."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import yaml

from kubectl_vip.sandbox import Sandbox


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def merged_kubeconfig(
    path: Path,
    sandboxes: dict[str, Sandbox],
    *,
    dead: tuple[str, ...] = (),
    namespace: str = "default",
) -> Path:
    """One kubeconfig: a context per sandbox (named by the dict's keys), plus one context per
    name in `dead` whose server is a closed loopback port."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": next(iter([*sandboxes, *dead])),
        "preferences": {},
    }
    for name, sb in sandboxes.items():
        one = sb.kubeconfig(namespace)
        cluster = dict(one["clusters"][0]["cluster"])
        doc["clusters"].append({"name": name, "cluster": cluster})
        doc["users"].append({"name": name, "user": {"token": sb.admin_token}})
        doc["contexts"].append(
            {"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}
        )
    for name in dead:
        ca = doc["clusters"][0]["cluster"]["certificate-authority-data"] if sandboxes else None
        server = {"server": f"https://127.0.0.1:{closed_port()}"}
        if ca:
            server["certificate-authority-data"] = ca
        doc["clusters"].append({"name": name, "cluster": server})
        doc["users"].append({"name": name, "user": {"token": "dead"}})
        doc["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path
