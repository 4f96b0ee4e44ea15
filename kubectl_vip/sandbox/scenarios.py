"""Named scenarios: `demo` (a realistic mix of every state), `healthy`, `scale` (N claims).

`demo` and `healthy` are played as a history through the simulated controllers, starting
HISTORY before the present, so every timestamp and object is what those controllers produce.
`scale` seeds its final state directly (fast enough for 30,000 claims).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .clock import rfc3339
from .resources import ResourceType, workload_crd_types
from .store import Obj
from .world import (
    DELETE_POLICY,
    ENI_IP,
    ENI_UNAVAILABLE_TAINT,
    EXPIRY_ANNOTATION,
    NODE_LABEL,
    POD_NAME_LABEL,
    POD_NS_LABEL,
    ZONE_LABEL,
    Subnet,
    World,
)

if TYPE_CHECKING:
    from .facade import Sandbox

HISTORY = timedelta(days=10)
REGISTRY = "ccr.ccs.tencentyun.com/tkeimages"
IPAMD_IMAGE = REGISTRY + "/tke-eni-ipamd:{version}"
VPC_ID = "vpc-sb7x2k9d"


def build(sb: Sandbox, name: str, *, size: int, seed: int) -> None:
    builders: dict[str, Callable[[Sandbox], None]] = {
        "demo": _demo,
        "healthy": _healthy,
        "empty": _empty,
    }
    from . import scenarios_ipamd, scenarios_owners

    builders.update(scenarios_owners.BUILDERS)
    builders.update(scenarios_ipamd.BUILDERS)
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
    "eni-faq",
)


def extra_types(name: str) -> list[ResourceType]:
    """Types beyond the built-in and TKE ones that a scenario installs (CRDs of workloads)."""
    return workload_crd_types() if name == "owners" else []


# ---------------------------------------------------------------------- building blocks


class B:
    """Small builders over World, so scenarios read as a story."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.w: World = sb.world
        self.t = sb.world.t

    def later(self, delta: timedelta) -> None:
        self.sb.advance(delta)

    def ns(self, *names: str) -> None:
        for n in names:
            self.w.create(
                self.t.namespaces,
                {
                    "metadata": {"name": n},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )

    def node(
        self, name: str, zone: str, ip: str, *, eni_ips: int = 30, taint: bool = False
    ) -> None:
        spec: dict[str, Any] = {"providerID": f"qcloud:///{zone}/ins-{name}"}
        if taint:
            spec["taints"] = [
                {"key": ENI_UNAVAILABLE_TAINT, "value": "true", "effect": "NoSchedule"}
            ]
        self.w.create(
            self.t.nodes,
            {
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        ZONE_LABEL: zone,
                        "node.kubernetes.io/instance-type": "SA5.2XLARGE16",
                    },
                },
                "spec": spec,
                "status": {
                    "addresses": [{"type": "InternalIP", "address": ip}],
                    "capacity": {"cpu": "8", "memory": "16Gi", "pods": "61", ENI_IP: str(eni_ips)},
                    "allocatable": {
                        "cpu": "7800m",
                        "memory": "14Gi",
                        "pods": "61",
                        ENI_IP: str(eni_ips),
                    },
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                    "nodeInfo": {
                        "kubeletVersion": "v1.32.2-tke.1",
                        "osImage": "TencentOS Server 3.1",
                    },
                },
            },
        )

    def nec(self, node: str, subnet: Subnet | None, eni: str) -> None:
        status: dict[str, Any] = {}
        if subnet is not None:
            status = {
                "eniInfos": [
                    {
                        "eniID": eni,
                        "subnetID": subnet.id,
                        "subnetCIDR": subnet.cidr,
                        "phase": "Attached",
                    }
                ]
            }
        if self.t.necs is None:
            return  # --no-tke: a cluster without the TKE CRDs has no NodeENIConfigs
        self.w.create(
            self.t.necs,
            {
                "metadata": {"name": node},
                "spec": {"maxRouteENI": 3, "maxIPPerENI": 10},
                "status": status,
            },
        )
        if subnet is not None and self.t.enis is not None:
            self.w.create(
                self.t.enis,
                {
                    "metadata": {"name": eni, "labels": {NODE_LABEL: node}},
                    "spec": {"nodeName": node, "subnetID": subnet.id, "type": "route"},
                    "status": {"phase": "Attached", "subnetCIDR": subnet.cidr},
                },
            )

    def ipamd(
        self, version: str, args: list[str], subnets: list[Subnet], *, replicas: int = 1
    ) -> None:
        self.w.subnets = subnets
        self.w.create(
            self.t.configmaps,
            {
                "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
                "data": {
                    "TKE_ENI_IPAMD_SUBNET_ID": ":".join(s.id for s in subnets),
                    "TKE_ENI_IPAMD_VPC_ID": VPC_ID,
                },
            },
        )
        labels = {"k8s-app": "tke-eni-ipamd"}
        self.w.create(
            self.t.deployments,
            {
                "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system", "labels": labels},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "serviceAccountName": "tke-eni-ipamd",
                            "hostNetwork": True,
                            "containers": [
                                {
                                    "name": "tke-eni-ipamd",
                                    "image": IPAMD_IMAGE.format(version=version),
                                    "command": ["/usr/bin/tke-eni-ipamd"],
                                    "args": args,
                                }
                            ],
                        },
                    },
                },
            },
        )
        for suffix in ("x2lp9", "q7k4m", "b8n3t")[:replicas]:
            self.system_pod(
                f"tke-eni-ipamd-7c9d8f6b5-{suffix}",
                labels,
                "tke-eni-ipamd",
                IPAMD_IMAGE.format(version=version),
            )
        agent = {"k8s-app": "tke-eni-agent"}
        self.w.create(
            self.t.daemonsets,
            {
                "metadata": {"name": "tke-eni-agent", "namespace": "kube-system", "labels": agent},
                "spec": {
                    "selector": {"matchLabels": agent},
                    "template": {
                        "metadata": {"labels": agent},
                        "spec": {
                            "containers": [
                                {
                                    "name": "tke-eni-agent",
                                    "image": f"{REGISTRY}/tke-eni-agent:{version}",
                                }
                            ]
                        },
                    },
                },
            },
        )
        sched = {"k8s-app": "tke-eni-ip-scheduler"}
        self.w.create(
            self.t.deployments,
            {
                "metadata": {
                    "name": "tke-eni-ip-scheduler",
                    "namespace": "kube-system",
                    "labels": sched,
                },
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": sched},
                    "template": {
                        "metadata": {"labels": sched},
                        "spec": {
                            "containers": [
                                {
                                    "name": "tke-eni-ip-scheduler",
                                    "image": f"{REGISTRY}/tke-eni-ip-scheduler:{version}",
                                }
                            ]
                        },
                    },
                },
            },
        )

    def system_pod(
        self,
        name: str,
        labels: dict[str, str],
        container: str,
        image: str,
        *,
        restarts: int = 0,
        crash: bool = False,
    ) -> None:
        now = self.w.now()
        state: dict[str, Any] = {"running": {"startedAt": now}}
        if crash:
            state = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container",
                }
            }
        self.w.create(
            self.t.pods,
            {
                "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
                "spec": {
                    "nodeName": "node-a",
                    "hostNetwork": True,
                    "containers": [{"name": container, "image": image}],
                },
                "status": {
                    "phase": "Running",
                    "hostIP": "10.0.0.11",
                    "podIP": "10.0.0.11",
                    "podIPs": [{"ip": "10.0.0.11"}],
                    "conditions": [{"type": "Ready", "status": "False" if crash else "True"}],
                    "containerStatuses": [
                        {
                            "name": container,
                            "ready": not crash,
                            "restartCount": restarts,
                            "state": state,
                            "image": image,
                            "imageID": "",
                        }
                    ],
                },
            },
        )

    def template(
        self,
        app: str,
        *,
        static: bool,
        expiry: str | None = None,
        zone: str | None = None,
        vpc: bool = True,
    ) -> dict[str, Any]:
        ann = {DELETE_POLICY: "Never" if static else "Immediate"}
        if expiry:
            ann[EXPIRY_ANNOTATION] = expiry
        res = {"requests": {ENI_IP: "1"}, "limits": {ENI_IP: "1"}} if vpc else {}
        spec: dict[str, Any] = {
            "containers": [
                {"name": app, "image": f"registry.example.com/{app}:1.0", "resources": res}
            ]
        }
        if zone:
            spec["nodeSelector"] = {ZONE_LABEL: zone}
        return {"metadata": {"labels": {"app": app}, "annotations": ann}, "spec": spec}

    def sts(self, ns: str, name: str, replicas: int, template: dict[str, Any]) -> Obj | None:
        return self.w.create(
            self.t.statefulsets,
            {
                "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                "spec": {
                    "replicas": replicas,
                    "serviceName": name,
                    "selector": {"matchLabels": template["metadata"]["labels"]},
                    "template": template,
                },
            },
        )

    def scale(self, ns: str, name: str, replicas: int) -> None:
        def set_replicas(o: Obj) -> None:
            o["spec"]["replicas"] = replicas

        self.w.store.mutate(self.t.statefulsets, ns, name, set_replicas, manager="kubectl-scale")

    def pod(
        self, ns: str, name: str, template: dict[str, Any], owner: dict[str, Any] | None = None
    ) -> Obj | None:
        meta: dict[str, Any] = {"name": name, "namespace": ns, **template["metadata"]}
        if owner:
            meta["ownerReferences"] = [owner]
        return self.w.create(self.t.pods, {"metadata": meta, "spec": template["spec"]})

    def delete(self, rtype_name: str, ns: str, name: str) -> None:
        self.w.delete(getattr(self.t, rtype_name), ns, name)

    def finish(self, ns: str, name: str, phase: str) -> None:
        def done(p: Obj) -> None:
            st = p.setdefault("status", {})
            st["phase"] = phase
            for c in st.get("containerStatuses") or []:
                c["ready"] = False
                c["state"] = {
                    "terminated": {
                        "exitCode": 0 if phase == "Succeeded" else 1,
                        "reason": "Completed" if phase == "Succeeded" else "Error",
                    }
                }

        self.w.store.mutate(self.t.pods, ns, name, done, manager="kubelet")


# ---------------------------------------------------------------------- scenarios


GZ3, GZ4, GZ6, GZ7 = "ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7"


def _demo(sb: Sandbox) -> None:
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


def _healthy(sb: Sandbox) -> None:
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


def _empty(sb: Sandbox) -> None:
    """Just namespaces and a node: for clusters without the TKE add-on (`tke=False`)."""
    b = B(sb)
    b.ns("default", "kube-system")
    b.node("node-a", GZ3, "10.0.0.11")


def _seed_owned_claims(b: B, ns: str, owner: Obj, count: int, subnet: Subnet) -> None:
    """Claims (and VpcIPs) of an owner's Pods that were deleted while cascade was on."""
    if b.t.claims is None or b.t.vips is None:
        return
    om = owner["metadata"]
    ref = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": om["name"],
        "uid": om["uid"],
        "controller": False,
        "blockOwnerDeletion": True,
    }
    hosts = [h for h in subnet.hosts() if b.w.store.peek(b.t.vips, "", h) is None]
    for i in range(count):
        name = f"{om['name']}-{i}"
        claim = b.w.create(
            b.t.claims,
            {
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": {"app": om["name"]},
                    "annotations": {DELETE_POLICY: "Never"},
                    "ownerReferences": [ref],
                },
                "spec": {},
                "status": {"phase": "Released", "ip": hosts[-1 - i], "releaseTime": b.w.now()},
            },
            manager="tke-eni-ipamd",
        )
        assert claim is not None
        _seed_vip(b, hosts[-1 - i], subnet, claim)


def _seed_vip(
    b: B, ip: str, subnet: Subnet, claim: Obj | None, *, ref: dict[str, str] | None = None
) -> None:
    if b.t.vips is None:
        return
    if claim is not None:
        cm = claim["metadata"]
        ref = {"namespace": cm["namespace"], "name": cm["name"], "uid": cm["uid"]}
    assert ref is not None
    b.w.create(
        b.t.vips,
        {
            "metadata": {
                "name": ip,
                "labels": {POD_NS_LABEL: ref["namespace"], POD_NAME_LABEL: ref["name"]},
            },
            "spec": {"type": "Pod", "subnetID": subnet.id, "claimRef": ref},
            "status": {"phase": "Assigned", "subnetCIDR": subnet.cidr},
        },
        manager="tke-eni-ipamd",
    )


def _seed_leaks(b: B, subnet: Subnet, ips: list[str]) -> None:
    """VpcIPs whose claim is gone: a claim deleted while ipamd was down never released them."""
    for i, ip in enumerate(ips):
        _seed_vip(
            b,
            ip,
            subnet,
            None,
            ref={
                "namespace": "web",
                "name": f"batch-{i}",
                "uid": f"00000000-0000-4000-8000-00000000000{i}",
            },
        )


def _seed_unbound(b: B, ns: str, name: str) -> None:
    if b.t.claims is None:
        return
    b.w.create(
        b.t.claims,
        {
            "metadata": {"name": name, "namespace": ns, "annotations": {DELETE_POLICY: "Never"}},
            "spec": {},
            "status": {"phase": "Released", "releaseTime": b.w.now()},
        },
        manager="tke-eni-ipamd",
    )


# ---------------------------------------------------------------------- scale


def _seed_running_pod(b: B, ns: str, sts: Obj, name: str, node: str, ip: str, now: str) -> None:
    sts_name = sts["metadata"]["name"]
    tmpl = b.template(sts_name, static=True)
    b.w.create(
        b.t.pods,
        {
            "metadata": {
                "name": name,
                "namespace": ns,
                **tmpl["metadata"],
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "name": sts_name,
                        "uid": sts["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {**tmpl["spec"], "nodeName": node},
            "status": {"phase": "Running", "podIP": ip, "startTime": now},
        },
    )


def _scale(sb: Sandbox, size: int, seed: int) -> None:
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
        b.ipamd("v3.4.2", ["--logtostderr", "--v=3", "--claim-expired-duration=24h"], subnets)
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
