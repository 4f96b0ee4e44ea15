"""Named scenarios: `demo` (a realistic mix of every state), `healthy`, `scale` (N claims), and
one module per family: owners (scenarios_owners), ipamd's settings and the ENI FAQs
(scenarios_ipamd), a node that stopped answering (scenarios_nodes), scaled-in StatefulSets
(scenarios_scaled), TKE objects in the other shapes of DESIGN §2 (scenarios_shapes).

`demo` and `healthy` are played as a history through the simulated controllers, starting
HISTORY before the present, so every timestamp and object is what those controllers produce.
`scale` seeds its final state directly (fast enough for 30,000 claims).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import (
    scenarios_ipamd,
    scenarios_nodes,
    scenarios_owners,
    scenarios_scaled,
    scenarios_shapes,
)
from .clock import rfc3339
from .resources import ResourceType, workload_crd_types
from .scenario_kit import (
    HISTORY,
    B,
    _seed_leaks,
    _seed_owned_claims,
    _seed_running_pod,
    _seed_unbound,
    _seed_vip,
)
from .world import (
    DELETE_POLICY,
    NODE_LABEL,
    POD_NAME_LABEL,
    POD_NS_LABEL,
    Subnet,
)

if TYPE_CHECKING:
    from .core import SandboxCore

__all__ = ["HISTORY", "SCENARIOS", "build", "extra_types"]


def build(sb: SandboxCore, name: str, *, size: int, seed: int) -> None:
    builders: dict[str, Callable[[SandboxCore], None]] = {
        "demo": _demo,
        "healthy": _healthy,
        "empty": _empty,
    }
    builders.update(scenarios_owners.BUILDERS)
    builders.update(scenarios_ipamd.BUILDERS)
    builders.update(scenarios_nodes.BUILDERS)
    builders.update(scenarios_scaled.BUILDERS)
    builders.update(scenarios_shapes.BUILDERS)
    if name == "scale":
        _scale(sb, size, seed)
    elif name in builders:
        builders[name](sb)
    else:
        raise ValueError(f"unknown scenario {name!r}: choose one of {', '.join(SCENARIOS)}")


SCENARIOS = (
    "demo",
    "healthy",
    "empty",
    "scale",
    "owners",
    "owners-unserved",
    "ipamd-addon",
    "ipamd-no-addon",
    "ipamd-old-addon",
    "ipamd-latest",
    "ipamd-split-bool",
    "ipamd-wrapper",
    "ipamd-suffix",
    "eni-faq",
    "unreachable-node",
    "scaled-in",
    "shape-alt-paths",
    "shape-no-release-time",
    "shape-v2",
)


def extra_types(name: str) -> list[ResourceType]:
    """Types beyond the built-in and TKE ones that a scenario installs (CRDs of workloads)."""
    return workload_crd_types() if name == "owners" else []


# ---------------------------------------------------------------------- scenarios


GZ3, GZ4, GZ6, GZ7 = "ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7"


def _demo(sb: SandboxCore) -> None:
    """Everything an operator meets, each once or twice:

    - db/mysql: a static StatefulSet in use; db/redis scaled from 4 to 2 (redis-2, -3 Orphaned)
    - web/legacy-api-0,1: claims whose owner StatefulSet is gone (Orphaned)
    - web/api: a non-static StatefulSet (Immediate policy)
    - default/debug-shell: a static Pod deleted days ago (Retained)
    - default/canary-0: a static Pod with a 48h expiry annotation, deleted a day ago (Expiring)
    - jobs/etl-worker-0,1: 30m expiry, released two days ago, ipamd's sweep stalled (Overdue)
    - jobs/report-20261120: a static Pod that completed (Completed)
    - two leaked VpcIPs, one Unbound claim
    - node-c (ap-guangzhou-6): VPC ENI quota reached: empty nec status, VpcIP Attaching, ENILimit
    - node-d (ap-guangzhou-7): no container subnet in its zone: eni-ip-unavailable taint
    - ipamd v3.4.2, split-form args, expiry unset (never), cascade off
    """
    b = B(sb)
    w = b.w
    b.ns("default", "kube-system", "kube-public", "db", "web", "jobs")
    subnet_a = Subnet("subnet-a1b2c3d4", "10.0.1.0/28", GZ3)
    subnet_b = Subnet("subnet-e5f6a7b8", "10.0.2.0/26", GZ4)
    subnet_c = Subnet("subnet-c9d0e1f2", "10.0.3.0/28", GZ6)
    b.node("node-a", GZ3, "10.0.0.11")
    b.node("node-b", GZ4, "10.0.0.12")
    b.node("node-c", GZ6, "10.0.0.13")
    b.node("node-d", GZ7, "10.0.0.14", eni_ips=0, taint=True)
    b.nec("node-a", subnet_a, "eni-5k2m9x1a")
    b.nec("node-b", subnet_b, "eni-7p3q8r2b")
    b.nec("node-c", None, "")
    b.nec("node-d", None, "")
    w.eni_limited_nodes.add("node-c")
    b.ipamd(
        "v3.4.2",
        [
            "--logtostderr",
            "--v",
            "3",
            "--cluster-id",
            "cls-sandbox1",
            "--claim-expired-duration",
            "0s",
        ],
        [subnet_a, subnet_b, subnet_c],
    )
    w.sweep_stalled = True

    b.sts("db", "mysql", 3, b.template("mysql", static=True, zone=GZ3))
    b.sts("db", "redis", 4, b.template("redis", static=True, zone=GZ3))
    b.sts("web", "api", 6, b.template("api", static=False, zone=GZ4))
    b.pod("default", "debug-shell", b.template("debug-shell", static=True, zone=GZ3))
    b.later(timedelta(days=2))

    # an earlier life of web/legacy-api: ipamd ran with --enable-ownerref then
    legacy = b.sts("web", "legacy-api", 0, b.template("legacy-api", static=True))
    assert legacy is not None
    b.delete("statefulsets", "web", "legacy-api")
    _seed_owned_claims(b, "web", legacy, 2, subnet_a)  # which the GC of the time never collected
    b.later(timedelta(days=2))

    b.scale("db", "redis", 2)
    b.later(timedelta(days=1))

    etl = b.template("etl-worker", static=True, expiry="30m", zone=GZ4)
    for i in range(2):
        b.pod("jobs", f"etl-worker-{i}", etl)
    b.pod("jobs", "report-20261120", b.template("report", static=True, zone=GZ4))
    b.finish("jobs", "report-20261120", "Succeeded")
    b.later(timedelta(days=1))
    b.delete("pods", "default", "debug-shell")
    b.later(timedelta(days=1, hours=6))
    for i in range(2):
        b.delete("pods", "jobs", f"etl-worker-{i}")
    b.later(timedelta(days=1, hours=18))
    b.pod("default", "canary-0", b.template("canary", static=True, expiry="48h", zone=GZ3))
    b.sts("db", "analytics", 1, b.template("analytics", static=True, zone=GZ6))
    b.sts("web", "geo", 1, b.template("geo", static=True, zone=GZ7))
    b.later(timedelta(hours=2))
    b.delete("pods", "default", "canary-0")
    b.later(timedelta(hours=20))
    _seed_leaks(b, subnet_b, ["10.0.2.60", "10.0.2.61"])
    _seed_unbound(b, "web", "api-old-7")
    b.pod("web", "frontend-6f7d9c-q2x8z", b.template("frontend", static=False, zone=GZ4))


def _healthy(sb: SandboxCore) -> None:
    """ipamd with expiry and cascade on, every claim in use, capacity to spare."""
    b = B(sb)
    b.ns("default", "kube-system", "db")
    subnet_a = Subnet("subnet-a1b2c3d4", "10.0.1.0/24", GZ3)
    subnet_b = Subnet("subnet-e5f6a7b8", "10.0.2.0/24", GZ4)
    b.node("node-a", GZ3, "10.0.0.11")
    b.node("node-b", GZ4, "10.0.0.12")
    b.nec("node-a", subnet_a, "eni-5k2m9x1a")
    b.nec("node-b", subnet_b, "eni-7p3q8r2b")
    b.ipamd(
        "v3.4.2",
        ["--logtostderr", "--v=3", "--claim-expired-duration=1h", "--enable-ownerref"],
        [subnet_a, subnet_b],
    )
    b.sts("db", "mysql", 3, b.template("mysql", static=True))
    b.later(timedelta(days=1))


def _empty(sb: SandboxCore) -> None:
    """Just namespaces and a node: for clusters without the TKE add-on (`tke=False`)."""
    b = B(sb)
    b.ns("default", "kube-system")
    b.node("node-a", GZ3, "10.0.0.11")


def _scale(sb: SandboxCore, size: int, seed: int) -> None:
    """N claims with as many VpcIPs, Pods for the claims in use: ~70% in use, ~15% retained,
    ~10% orphaned by scale-in, plus ~5% leaked VpcIPs. Seeded directly in their final state."""
    rng = random.Random(seed)
    b = B(sb)
    w = b.w
    store = w.store
    sb.clock.advance(HISTORY)  # seeded as of the present, not as a played history
    listeners, store.listeners = store.listeners, []
    try:
        namespaces = [f"team-{i:02d}" for i in range(max(1, min(50, size // 200)))]
        b.ns("default", "kube-system", *namespaces)
        zones = [GZ3, GZ4, GZ6]
        subnets = [Subnet(f"subnet-{i:08x}", f"10.{i + 1}.0.0/16", z) for i, z in enumerate(zones)]
        nodes = []
        for i in range(max(3, size // 50)):
            zone = zones[i % len(zones)]
            name = f"node-{i:04d}"
            b.node(name, zone, f"10.0.{i // 250}.{i % 250 + 1}", eni_ips=60)
            b.nec(name, subnets[i % len(zones)], f"eni-{i:08x}")
            nodes.append((name, subnets[i % len(zones)]))
        # the system workloads go through their controllers (a few hundred agent Pods);
        # the claims and Pods below are seeded in their final state
        store.listeners = listeners
        b.ipamd("v3.4.2", ["--logtostderr", "--v=3", "--claim-expired-duration=24h"], subnets)
        store.listeners = []
        w.sweep_stalled = True
        ip_iter = {s.id: iter(s.hosts()) for s in subnets}
        now = w.now()
        released = rfc3339(sb.clock.now() - timedelta(hours=3))
        made = 0
        sts_index = 0
        while made < size:
            ns = namespaces[sts_index % len(namespaces)]
            replicas = min(50, size - made)
            sts_name = f"app-{sts_index:04d}"
            sts_index += 1
            live = max(0, replicas - max(1, replicas // 10)) if rng.random() < 0.9 else replicas
            sts = b.sts(ns, sts_name, live, b.template(sts_name, static=True))
            assert sts is not None
            for ordinal in range(replicas):
                node, subnet = nodes[rng.randrange(len(nodes))]
                ip = next(ip_iter[subnet.id])
                pod_name = f"{sts_name}-{ordinal}"
                in_use = ordinal < live and rng.random() < 0.82
                if b.t.claims is None or b.t.vips is None:  # --no-tke: only the Pods
                    if in_use:
                        _seed_running_pod(b, ns, sts, pod_name, node, ip, now)
                    made += 1
                    continue
                status: dict[str, Any] = {"phase": "Bound", "ip": ip}
                if not in_use:
                    status = {"phase": "Released", "ip": ip, "releaseTime": released}
                claim = w.create(
                    b.t.claims,
                    {
                        "metadata": {
                            "name": pod_name,
                            "namespace": ns,
                            "labels": {"app": sts_name},
                            "annotations": {DELETE_POLICY: "Never"},
                        },
                        "spec": {},
                        "status": status,
                    },
                    manager="tke-eni-ipamd",
                    fresh=True,  # built here, whole
                )
                assert claim is not None
                cm = claim["metadata"]
                labels = {POD_NS_LABEL: ns, POD_NAME_LABEL: pod_name}
                if in_use:
                    labels[NODE_LABEL] = node
                w.create(
                    b.t.vips,
                    {
                        "metadata": {"name": ip, "labels": labels},
                        "spec": {
                            "type": "Pod",
                            "subnetID": subnet.id,
                            "claimRef": {"namespace": ns, "name": pod_name, "uid": cm["uid"]},
                        },
                        "status": {
                            "phase": "Attached" if in_use else "Assigned",
                            "subnetCIDR": subnet.cidr,
                        },
                    },
                    manager="tke-eni-ipamd",
                    fresh=True,  # built here, whole
                )
                if in_use:
                    _seed_running_pod(b, ns, sts, pod_name, node, ip, now)
                made += 1
        for i in range(max(1, size // 20)):
            node, subnet = nodes[rng.randrange(len(nodes))]
            ip = next(ip_iter[subnet.id])
            _seed_vip(
                b,
                ip,
                subnet,
                None,
                ref={
                    "namespace": namespaces[0],
                    "name": f"gone-{i}",
                    "uid": f"00000000-0000-4000-8000-{i:012d}",
                },
            )
    finally:
        store.listeners = listeners
        store._pending.clear()
