"""The `unreachable-node` scenario: a node that stopped answering, and what force-deleting its
Pods leaves behind — addresses still in use by containers nobody can see.

A small cluster (ipamd v3.4.2, `--enable-ownerref`, no expiry) with three nodes, one per zone:

- node-a (ap-guangzhou-3) and node-b (ap-guangzhou-4): Ready. db/mysql (2, static) and web/api
  (2, Immediate) run there.
- web/old-api-0: its StatefulSet was scaled to 0 and deleted three days ago; the claim (with
  the ownerReference cascade gave it) stays, Released, its VpcIP detached (`Assigned`): a claim
  whose owner is gone, on a node that answers — what a bulk reclaim may take.
- node-c (ap-guangzhou-6): its kubelet stopped posting status ten minutes before the present:
  Ready=Unknown (NodeStatusUnknown), tainted `node.kubernetes.io/unreachable` (NoSchedule and
  NoExecute), its Pods marked not Ready (`NodeNotReady` Events). Five minutes later taint-based
  eviction marked its Pods for deletion (all but the eni agent's DaemonSet Pod, which tolerates
  the taint); no kubelet confirms, so they stay Terminating:
  - web/cache-0 (StatefulSet cache, static) is still Terminating: claim Bound, VpcIP Attached.
  - db/pg-0: StatefulSet pg was scaled to 0 and pg-0 force-deleted (`--grace-period=0
    --force`) three minutes before the present, then pg was deleted: the claim (ownerReference
    to the gone pg) is Released, its VpcIP still `Attached` to node-c.
  - ops/toolbox, a bare static Pod, force-deleted at the same time: claim Released (no
    owner), VpcIP still `Attached` to node-c.
  When node-c is Ready again, its kubelet finishes cache-0 and the agent detaches the VpcIPs
  (or releases one whose claim was deleted meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from .scenario_kit import B
from .world import Subnet

if TYPE_CHECKING:
    from .core import SandboxCore

GZ3, GZ4, GZ6 = "ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6"
SUBNET_A = Subnet("subnet-a1b2c3d4", "10.0.1.0/26", GZ3)
SUBNET_B = Subnet("subnet-e5f6a7b8", "10.0.2.0/26", GZ4)
SUBNET_C = Subnet("subnet-c9d0e1f2", "10.0.3.0/26", GZ6)
ARGS = ["--logtostderr", "--v=3", "--cluster-id=cls-unreach1", "--enable-ownerref"]


def _unreachable_node(sb: SandboxCore) -> None:
    b = B(sb)
    b.ns("default", "kube-system", "db", "web", "ops")
    for name, subnet, ip, eni in (
        ("node-a", SUBNET_A, "10.0.0.11", "eni-5k2m9x1a"),
        ("node-b", SUBNET_B, "10.0.0.12", "eni-7p3q8r2b"),
        ("node-c", SUBNET_C, "10.0.0.13", "eni-2w8v4c6n"),
    ):
        b.node(name, subnet.zone, ip)
        b.nec(name, subnet, eni)
    b.ipamd("v3.4.2", ARGS, [SUBNET_A, SUBNET_B, SUBNET_C])
    b.sts("db", "mysql", 2, b.template("mysql", static=True, zone=GZ3))
    b.sts("web", "api", 2, b.template("api", static=False, zone=GZ4))
    b.sts("web", "old-api", 1, b.template("old-api", static=True, zone=GZ3))
    b.sts("db", "pg", 1, b.template("pg", static=True, zone=GZ6))
    b.sts("web", "cache", 1, b.template("cache", static=True, zone=GZ6))
    b.pod("ops", "toolbox", b.template("toolbox", static=True, zone=GZ6))

    b.at(timedelta(days=3))
    b.scale("web", "old-api", 0)
    b.later(timedelta(minutes=10))
    b.delete_uncollected("statefulsets", "web", "old-api")

    b.at(timedelta(minutes=10))
    b.node_lost("node-c")  # tainted at once; its Pods are marked for deletion 300 s later
    b.at(timedelta(minutes=5))
    b.at(timedelta(minutes=3))
    b.scale("db", "pg", 0)
    b.force_delete("db", "pg-0")
    b.force_delete("ops", "toolbox")
    b.at(timedelta(minutes=2))
    b.delete_uncollected("statefulsets", "db", "pg")


BUILDERS: dict[str, Callable[[SandboxCore], None]] = {"unreachable-node": _unreachable_node}
