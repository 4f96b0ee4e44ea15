"""The lean yardstick: the practical limit for Python on this data.

The kubernetes client's config loading, raw paged JSON of claims, VpcIPs and Pods (sequential,
limit 500, urllib3), and a dict join of claims with their Pod and VpcIP; nothing else.
Usage: python bench/lean.py  (KUBECONFIG points at the cluster)
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import urlencode

t0 = time.perf_counter()
import urllib3  # noqa: E402
from kubernetes import client, config  # noqa: E402

cfg = client.Configuration()
config.load_kube_config(client_configuration=cfg)
http = urllib3.PoolManager(ca_certs=cfg.ssl_ca_cert, cert_reqs="CERT_REQUIRED")
headers = {
    "Accept": "application/json",
    **{"authorization": cfg.get_api_key_with_prefix("BearerToken") or ""},
}
GROUP = "/apis/networking.tke.cloud.tencent.com/v1"


def paged(path: str) -> list[dict]:
    items: list[dict] = []
    token = ""
    while True:
        q = {"limit": 500, **({"continue": token} if token else {})}
        doc = json.loads(
            http.request("GET", f"{cfg.host}{path}?{urlencode(q)}", headers=headers).data
        )
        items.extend(doc["items"])
        token = doc["metadata"].get("continue", "")
        if not token:
            return items


claims = paged(GROUP + "/vpcipclaims")
vips = {v["metadata"]["name"]: v for v in paged(GROUP + "/vpcips")}
pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in paged("/api/v1/pods")}
joined = 0
for c in claims:
    m = c["metadata"]
    pod = pods.get((m["namespace"], m["name"]))
    vip = vips.get((c.get("status") or {}).get("ip", ""))
    joined += 1 if (pod is not None or vip is not None) else 0
print(
    json.dumps({"claims": len(claims), "joined": joined, "seconds": time.perf_counter() - t0}),
    file=sys.stderr,
)
