"""The `owners` scenarios: who brings a static Pod back, as a cluster with several kinds of
workload controllers shows it.

- pay/pay: an apps/v1 StatefulSet with `spec.ordinals.start: 1`, scaled from 3 to 2: pay-1 and
  pay-2 run, pay-3's claim is left (Orphaned: the set keeps ordinals 1..2).
- shop/shop: an OpenKruise Advanced StatefulSet (apps.kruise.io/v1beta1), 3 replicas with
  `reserveOrdinals: [1]`, so it keeps ordinals 0, 2, 3: shop-0 and shop-2 run; shop-3 has no
  Pod right now (it comes back); shop-1 (reserved) and shop-4 (beyond) are left.
- games/game: a TKE TApp (apps.tkestack.io/v1), 3 replicas with instance 1 Killed: game-0 and
  game-2 run, game-1 is stopped (it returns when restarted), game-3 is beyond its replicas.
- ext/worker-0: owned by apps.example.com/v1 Foo, a kind no served group knows.
- legacy/old-0, old-1: a StatefulSet deleted while cascade was off: its claims carry no
  ownerReference, and nothing tells who made them (`reclaim --owner statefulset/old`).

`owners` serves the Kruise and TApp CRDs with their objects; `owners-unserved` is the same
cluster after both CRDs were removed: the claims still name those owners, which cannot be read.
The sandbox runs no Kruise or TApp controller: their Pods are created here as those controllers
would have created them.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .resources import KRUISE_GROUP, TAPP_GROUP
from .scenario_kit import B, _seed_vip
from .store import Obj
from .world import DELETE_POLICY, Subnet

if TYPE_CHECKING:
    from .core import SandboxCore

GZ3, GZ4 = "ap-guangzhou-3", "ap-guangzhou-4"


def _owners(sb: SandboxCore, *, served: bool) -> None:

    b = B(sb)
    w = b.w
    b.ns("default", "kube-system", "kube-public", "pay", "shop", "games", "ext", "legacy")
    subnet_a = Subnet("subnet-a1b2c3d4", "10.0.1.0/26", GZ3)
    subnet_b = Subnet("subnet-e5f6a7b8", "10.0.2.0/26", GZ4)
    b.node("node-a", GZ3, "10.0.0.11")
    b.node("node-b", GZ4, "10.0.0.12")
    b.nec("node-a", subnet_a, "eni-5k2m9x1a")
    b.nec("node-b", subnet_b, "eni-7p3q8r2b")
    b.ipamd("v3.6.0", ["--cluster-id=cls-owners1"], [subnet_a, subnet_b])

    # an apps/v1 StatefulSet whose ordinals start at 1, scaled in by one
    pay = b.sts("pay", "pay", 3, b.template("pay", static=True, zone=GZ3))
    assert pay is not None

    def start_at_1(o: Obj) -> None:
        o["spec"]["ordinals"] = {"start": 1}

    w.store.mutate(b.t.statefulsets, "pay", "pay", start_at_1, manager="kubectl-edit")
    b.later(timedelta(hours=1))
    b.scale("pay", "pay", 2)

    # a StatefulSet deleted before cascade was on: claims without an ownerReference remain
    b.sts("legacy", "old", 2, b.template("old", static=True, zone=GZ4))
    b.later(timedelta(hours=1))
    b.delete("statefulsets", "legacy", "old")
    b.later(timedelta(hours=2))

    assert b.t.vips is not None
    hosts = [h for h in subnet_b.hosts() if w.store.peek(b.t.vips, "", h) is None]

    def claim(ns: str, name: str, ref: dict[str, Any]) -> None:
        """A claim ipamd made with --enable-ownerref on, whose Pod is gone."""
        assert b.t.claims is not None
        created = w.create(
            b.t.claims,
            {
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "annotations": {DELETE_POLICY: "Never"},
                    "ownerReferences": [ref],
                },
                "spec": {},
                "status": {"phase": "Released", "ip": hosts.pop(), "releaseTime": w.now()},
            },
            manager="tke-eni-ipamd",
        )
        assert created is not None
        _seed_vip(b, created["status"]["ip"], subnet_b, created)

    shop = _workload(
        sb,
        KRUISE_GROUP,
        "v1beta1",
        "StatefulSet",
        "shop",
        "shop",
        {"replicas": 3, "reserveOrdinals": [1]},
        served,
        # what its controller reports: two Pods (shop-0, shop-2), and the selector /scale reads
        {"replicas": 2, "readyReplicas": 2, "labelSelector": "app=shop"},
    )
    game = _workload(
        sb,
        TAPP_GROUP,
        "v1",
        "TApp",
        "games",
        "game",
        {"replicas": 3, "statuses": {"1": "Killed"}},
        served,
        {"replicas": 2, "readyReplicas": 2, "scaleLabelSelector": "app=game"},
    )
    foo_ref = _ref("apps.example.com/v1", "Foo", "worker", "6f1c2d3e-0000-4000-8000-00000000f00f")
    for ns, owner, names in (
        ("shop", shop, ("shop-1", "shop-3", "shop-4")),
        ("games", game, ("game-1", "game-3")),
        ("ext", foo_ref, ("worker-0",)),
    ):
        for name in names:
            claim(ns, name, {**owner, "controller": True, "blockOwnerDeletion": True})
    for ns, owner, names in (
        ("shop", shop, ("shop-0", "shop-2")),
        ("games", game, ("game-0", "game-2")),
    ):
        for name in names:
            b.pod(ns, name, b.template(owner["name"], static=True, zone=GZ4), owner=owner)
    b.later(timedelta(hours=3))


def _ref(api_version: str, kind: str, name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": uid, "controller": True}


def _workload(
    sb: SandboxCore,
    group: str,
    version: str,
    kind: str,
    ns: str,
    name: str,
    spec: dict[str, Any],
    served: bool,
    status: dict[str, Any],
) -> dict[str, Any]:
    """Create the workload when its CRD is served; its ownerReference either way."""
    uid = f"7a1b2c3d-0000-4000-8000-{zlib.crc32(f'{group}/{name}'.encode()):012d}"
    rtype = sb.registry.for_api_version(f"{group}/{version}", kind) if served else None
    if rtype is not None:
        obj = sb.world.create(
            rtype,
            {
                "apiVersion": f"{group}/{version}",
                "kind": kind,
                "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                "spec": {
                    "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}}},
                    **spec,
                },
                "status": status,
            },
        )
        assert obj is not None
        uid = obj["metadata"]["uid"]
    return _ref(f"{group}/{version}", kind, name, uid)


BUILDERS: dict[str, Callable[[SandboxCore], None]] = {
    "owners": lambda sb: _owners(sb, served=True),
    "owners-unserved": lambda sb: _owners(sb, served=False),
}
