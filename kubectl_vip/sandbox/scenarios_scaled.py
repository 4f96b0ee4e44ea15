"""The `scaled-in` scenario: StatefulSets running fewer replicas than they once did, for as long
as their managedFields tell (each scale went through the `/scale` subresource), and one gone.

ipamd v3.4.2 with `--enable-ownerref` (every claim names its StatefulSet) and no expiry; node-a
(ap-guangzhou-3) and node-b (ap-guangzhou-4).

- db/mysql (static): scaled 3 → 0 "for maintenance" by `kubectl scale` two hours before the
  present: claims mysql-0..2 Released, no Pods.
- shop/web (static): scaled 4 → 2 a day before the present by its autoscaler, the
  `autoscaling/v2` HorizontalPodAutoscaler shop/web (scaleTargetRef apps/v1 StatefulSet web,
  minReplicas 2, maxReplicas 5; manager `kube-controller-manager`): web-0, web-1 run; the claims
  of web-2, web-3 are Released.
- shop/cache (static): scaled 5 → 3 by `kubectl scale` eight days before the present, no
  autoscaler: cache-0..2 run; cache-3, cache-4 Released.
- shop/legacy (static, 2 replicas): scaled to 0 and deleted three days before the present; its
  claims legacy-0, legacy-1 still name it (Orphaned: the owner is gone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from .scenario_kit import B
from .store import Obj
from .world import Subnet

if TYPE_CHECKING:
    from .core import SandboxCore

GZ3, GZ4 = "ap-guangzhou-3", "ap-guangzhou-4"
SUBNET_A = Subnet("subnet-a1b2c3d4", "10.0.1.0/26", GZ3)
SUBNET_B = Subnet("subnet-e5f6a7b8", "10.0.2.0/26", GZ4)
ARGS = ["--logtostderr", "--v=3", "--cluster-id=cls-scaled1", "--enable-ownerref"]
CPU = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}


def _hpa(b: B, ns: str, name: str, minimum: int, maximum: int) -> None:
    hpa = b.sb.registry.by_key["horizontalpodautoscalers.autoscaling"]
    b.w.create(
        hpa,
        {
            "metadata": {"name": name, "namespace": ns},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name},
                "minReplicas": minimum,
                "maxReplicas": maximum,
                "metrics": [{"type": "Resource", "resource": CPU}],
            },
        },
        manager="kubectl-create",
    )


def _autoscaled(b: B, ns: str, name: str, replicas: int) -> None:
    """The HPA controller scales its target in through `/scale`, then reports it."""
    hpa = b.sb.registry.by_key["horizontalpodautoscalers.autoscaling"]
    b.scale(ns, name, replicas, manager="kube-controller-manager")
    now = b.w.now()

    def report(h: Obj) -> None:
        h["status"] = {
            "lastScaleTime": now,
            "currentReplicas": replicas,
            "desiredReplicas": replicas,
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "current": {"averageUtilization": 9}},
                }
            ],
            "conditions": [
                {"type": t, "status": "True", "reason": r, "lastTransitionTime": now}
                for t, r in (
                    ("AbleToScale", "ReadyForNewScale"),
                    ("ScalingActive", "ValidMetricFound"),
                    ("ScalingLimited", "TooFewReplicas"),
                )
            ],
        }

    updated = b.w.store.mutate(hpa, ns, name, report, manager="kube-controller-manager")
    if updated is not None:
        b.w.event(
            updated,
            "SuccessfulRescale",
            f"New size: {replicas}; reason: All metrics below target",
            component="horizontal-pod-autoscaler",
        )


def _scaled_in(sb: SandboxCore) -> None:
    b = B(sb)
    b.ns("default", "kube-system", "db", "shop")
    b.node("node-a", GZ3, "10.0.0.11")
    b.node("node-b", GZ4, "10.0.0.12")
    b.nec("node-a", SUBNET_A, "eni-5k2m9x1a")
    b.nec("node-b", SUBNET_B, "eni-7p3q8r2b")
    b.ipamd("v3.4.2", ARGS, [SUBNET_A, SUBNET_B])
    b.sts("db", "mysql", 3, b.template("mysql", static=True, zone=GZ3))
    b.sts("shop", "web", 4, b.template("web", static=True, zone=GZ4))
    b.sts("shop", "cache", 5, b.template("cache", static=True, zone=GZ3))
    b.sts("shop", "legacy", 2, b.template("legacy", static=True, zone=GZ4))
    _hpa(b, "shop", "web", 2, 5)

    b.at(timedelta(days=8))
    b.scale("shop", "cache", 3)
    b.at(timedelta(days=3))
    b.scale("shop", "legacy", 0)
    b.later(timedelta(minutes=5))
    b.delete_uncollected("statefulsets", "shop", "legacy")
    b.at(timedelta(days=1))
    _autoscaled(b, "shop", "web", 2)
    b.at(timedelta(hours=2))
    b.scale("db", "mysql", 0)


BUILDERS: dict[str, Callable[[SandboxCore], None]] = {"scaled-in": _scaled_in}
