"""The floor: the least a Python client can do for `list -A` on this data.

Reads the kubeconfig (PyYAML's C loader), fetches the claims, VpcIPs and Pods paged (limit 500),
each list on its own keep-alive HTTPS connection in its own thread, parses every page with
orjson, joins the claims with their Pod and VpcIP in dicts, and prints nothing. No kubernetes
client import, the cyclic garbage collector off (as the tool's list path has it). What the tool
does beyond this is its own cost: classification, owners, rendering.

Usage: python bench/floor.py  (KUBECONFIG points at the cluster; a token user, as the sandbox's)
"""

from __future__ import annotations

import base64
import gc
import http.client
import os
import ssl
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import yaml

gc.disable()
GROUP = "/apis/networking.tke.cloud.tencent.com/v1"


def kubeconfig() -> tuple[str, ssl.SSLContext, dict[str, str]]:
    path = os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    doc = yaml.load(Path(path.split(os.pathsep)[0]).read_text(), Loader=yaml.CSafeLoader)
    ctx = next(c["context"] for c in doc["contexts"] if c["name"] == doc["current-context"])
    cluster = next(c["cluster"] for c in doc["clusters"] if c["name"] == ctx["cluster"])
    user = next(u["user"] for u in doc["users"] if u["name"] == ctx["user"])
    tls = ssl.create_default_context(
        cadata=base64.b64decode(cluster["certificate-authority-data"]).decode()
    )
    return cluster["server"], tls, {"Authorization": f"Bearer {user['token']}"}


def paged(server: str, tls: ssl.SSLContext, headers: dict[str, str], path: str) -> list[Any]:
    u = urlsplit(server)
    conn = http.client.HTTPSConnection(u.hostname or "", u.port or 443, context=tls)
    items: list[Any] = []
    token = ""
    while True:
        q = {"limit": 500, **({"continue": token} if token else {})}
        conn.request(
            "GET", f"{path}?{urlencode(q)}", headers={**headers, "Accept": "application/json"}
        )
        doc = orjson.loads(conn.getresponse().read())
        items.extend(doc["items"])
        token = doc["metadata"].get("continue", "")
        if not token:
            conn.close()
            return items


def main() -> None:
    server, tls, headers = kubeconfig()
    got: dict[str, list[Any]] = {}

    def fetch(key: str, path: str) -> None:
        got[key] = paged(server, tls, headers, path)

    threads = [
        threading.Thread(target=fetch, args=(k, p))
        for k, p in (
            ("claims", GROUP + "/vpcipclaims"),
            ("vips", GROUP + "/vpcips"),
            ("pods", "/api/v1/pods"),
        )
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    vips = {v["metadata"]["name"]: v for v in got["vips"]}
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in got["pods"]}
    joined = 0
    for c in got["claims"]:
        m = c["metadata"]
        pod = pods.get((m["namespace"], m["name"]))
        vip = vips.get((c.get("status") or {}).get("ip", ""))
        joined += 1 if (pod is not None or vip is not None) else 0
    if "-v" in sys.argv:
        print(len(got["claims"]), joined, file=sys.stderr)


if __name__ == "__main__":
    main()
