"""The `shape-*` scenarios: a small cluster whose TKE objects and CRD schemas follow another
shape of DESIGN §2 (fieldshapes.py), for the tool's model fit (doctor VIP-CRD-002):

- `shape-alt-paths`: the claim's IP at `status.vpcIP`, its release time at
  `status.lastDetachTime`; a VpcIP names its claim by the pod-namespace/pod-name labels only
  (no `spec.claimRef`) and its node at `status.node` (no node-name label)
- `shape-no-release-time`: claims record no release time at all
- `shape-v2`: the first paths, the TKE kinds also served at `v2` beside the stored `v1`

The same story in each: db/mysql (3 claims in use); web/api scaled from 4 to 2 two days ago
(api-2, api-3 released); jobs/etl-0..2 deleted 3 hours ago (released); web/api-old-7 released
without an IP; two leaked VpcIPs. Seeded in their final state: the simulated ipamd writes
only the first paths, so it is stopped here (its Deployment runs; Pods deleted later keep their
claims as they are).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import fieldshapes
from .clock import rfc3339
from .fieldshapes import Shape
from .scenario_kit import HISTORY, B, _seed_running_pod
from .store import Obj
from .world import DELETE_POLICY, NODE_LABEL, POD_NAME_LABEL, POD_NS_LABEL, Subnet

if TYPE_CHECKING:
    from .core import SandboxCore

GZ3, GZ4 = "ap-guangzhou-3", "ap-guangzhou-4"


class _Seeder:
    def __init__(self, b: B, shape: Shape) -> None:
        self.b, self.shape = b, shape
        self.hosts: dict[str, list[str]] = {}

    def ip(self, subnet: Subnet) -> str:
        hosts = self.hosts.setdefault(subnet.id, subnet.hosts())
        return hosts.pop(0)

    def claim(self, ns: str, name: str, ip: str | None, released: str | None) -> Obj:
        st: dict[str, Any] = {"phase": "Released" if released else "Bound"}
        if ip:
            st[self.shape.claim_ip] = ip
        if released and self.shape.release_time:
            st[self.shape.release_time] = released
        assert self.b.t.claims is not None
        made = self.b.w.create(
            self.b.t.claims,
            {
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": {"app": name.rsplit("-", 1)[0]},
                    "annotations": {DELETE_POLICY: "Never"},
                },
                "spec": {},
                "status": st,
            },
            manager="tke-eni-ipamd",
            fresh=True,
        )
        assert made is not None
        return made

    def vip(self, ip: str, subnet: Subnet, ref: dict[str, str], node: str | None) -> None:
        labels = {POD_NS_LABEL: ref["namespace"], POD_NAME_LABEL: ref["name"]}
        spec: dict[str, Any] = {"type": "Pod", "subnetID": subnet.id}
        if self.shape.claim_ref:
            spec["claimRef"] = dict(ref)
        st: dict[str, Any] = {"phase": "Attached" if node else "Assigned"}
        st["subnetCIDR"] = subnet.cidr
        if node and self.shape.node_in_status:
            st["node"] = node
        elif node:
            labels[NODE_LABEL] = node
        assert self.b.t.vips is not None
        self.b.w.create(
            self.b.t.vips,
            {"metadata": {"name": ip, "labels": labels}, "spec": spec, "status": st},
            manager="tke-eni-ipamd",
            fresh=True,
        )

    def claimed(
        self, ns: str, name: str, subnet: Subnet, *, node: str | None, released: str | None
    ) -> str:
        ip = self.ip(subnet)
        c = self.claim(ns, name, ip, released)["metadata"]
        self.vip(ip, subnet, {"namespace": ns, "name": name, "uid": c["uid"]}, node)
        return ip


def _shaped(sb: SandboxCore, shape: Shape) -> None:
    b = B(sb)
    w = b.w
    b.ns("default", "kube-system", "db", "web", "jobs")
    subnet_a = Subnet("subnet-a1b2c3d4", "10.0.1.0/26", GZ3)
    subnet_b = Subnet("subnet-e5f6a7b8", "10.0.2.0/26", GZ4)
    b.node("node-a", GZ3, "10.0.0.11")
    b.node("node-b", GZ4, "10.0.0.12")
    b.nec("node-a", subnet_a, "eni-5k2m9x1a")
    b.nec("node-b", subnet_b, "eni-7p3q8r2b")
    b.ipamd(
        "v3.6.0", ["--cluster-id=cls-shape1", "--claim-expired-duration=0s"], [subnet_a, subnet_b]
    )
    w.paused.add("ipamd")
    b.at(timedelta(days=5))

    def ago(delta: timedelta) -> str:
        return rfc3339(sb.began + HISTORY - delta)

    s = _Seeder(b, shape)
    store = w.store
    listeners, store.listeners = store.listeners, []
    try:
        now = w.now()
        for ns, app, replicas, live, node, subnet in (
            ("db", "mysql", 3, 3, "node-a", subnet_a),
            ("web", "api", 4, 2, "node-b", subnet_b),
        ):
            sts = b.sts(ns, app, live, b.template(app, static=True))
            assert sts is not None
            for i in range(replicas):
                name = f"{app}-{i}"
                if i < live:
                    ip = s.claimed(ns, name, subnet, node=node, released=None)
                    _seed_running_pod(b, ns, sts, name, node, ip, now)
                else:
                    s.claimed(ns, name, subnet, node=None, released=ago(timedelta(days=2)))
        for i in range(3):
            s.claimed("jobs", f"etl-{i}", subnet_b, node=None, released=ago(timedelta(hours=3)))
        s.claim("web", "api-old-7", None, ago(timedelta(days=1)))
        for i in range(2):
            ref = {
                "namespace": "web",
                "name": f"batch-{i}",
                "uid": f"00000000-0000-4000-8000-00000000000{i}",
            }
            s.vip(s.ip(subnet_b), subnet_b, ref, None)
    finally:
        store.listeners = listeners
        store._pending.clear()


def _builder(shape: Shape) -> Callable[[SandboxCore], None]:
    return lambda sb: _shaped(sb, shape)


BUILDERS: dict[str, Callable[[SandboxCore], None]] = {
    name: _builder(shape) for name, shape in fieldshapes.SHAPES.items()
}
