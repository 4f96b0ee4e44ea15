"""The Deployment and ReplicaSet controllers (pkg/controller/deployment, pkg/controller/replicaset),
simplified.

Deployments keep one ReplicaSet per Pod template: a template seen for the first time gets a
ReplicaSet `<deployment>-<pod-template-hash>` owned by the Deployment, with the annotation
`deployment.kubernetes.io/revision` one above the highest so far; going back to an older
template (what `kubectl rollout undo` does) gives that template's ReplicaSet the next revision
again. The newest ReplicaSet carries the Deployment's replicas, the older ones none. With
`World.rollout_seconds` (a slow rollout) a new template's ReplicaSet is scaled up only that long
after the change, while the previous one keeps running; the Deployment's status says so
(`updatedReplicas` 0) until then. Its status is summed from its ReplicaSets', as the controller
does, so `READY 3/3` means three Pods that run and are ready.

A ReplicaSet runs its replicas as Pods `<replicaset>-<5 characters>` from its template, owned by
it (controller ownerReference): a Pod that is deleted, ends (Succeeded, Failed) or is being
deleted is replaced, and a scale-down deletes the Pods that matter least first (not yet
scheduled, pending, not ready, newest). Pods that ask for a VPC-CNI address get one through the
simulated ipamd as any other Pod.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from .clock import parse_rfc3339
from .resources import ResourceType
from .store import Obj
from .world import SAFE_ALPHABET, World, controller_ref, owner_ref

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
MANAGER = "kube-controller-manager"
_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def template_hash(template: dict[str, Any]) -> str:
    t = copy.deepcopy(template)
    (t.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    digest = hashlib.sha256(json.dumps(t, sort_keys=True).encode()).digest()
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:10])


def _revision(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _replicas(obj: Obj, default: int = 1) -> int:
    value = (obj.get("spec") or {}).get("replicas", default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _ready(pod: Obj) -> bool:
    st = pod.get("status") or {}
    return st.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in st.get("conditions") or []
    )


def active(pod: Obj) -> bool:
    """Counts as a replica: not being deleted and not ended (controller.FilterActivePods)."""
    phase = (pod.get("status") or {}).get("phase")
    return not pod["metadata"].get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


class Workloads:
    """The Deployment and ReplicaSet controllers of one sandbox."""

    def __init__(self, world: World) -> None:
        self.w = world
        # Deployment uid -> (template hash, when its slow rollout started)
        self.rollouts: dict[str, tuple[str, datetime]] = {}

    @property
    def rs_type(self) -> ResourceType | None:
        return self.w.store.registry.by_key.get("replicasets.apps")

    # ------------------------------------------------------------------ events

    def on_deployment(self, etype: str, dep: Obj) -> None:
        if etype == "DELETED":
            self.rollouts.pop(dep["metadata"].get("uid", ""), None)
            return
        current = self.w.store.peek(
            self.w.t.deployments, dep["metadata"]["namespace"], dep["metadata"]["name"]
        )
        if current is not None:
            self.sync(current)

    def on_replicaset(self, etype: str, rs: Obj) -> None:
        meta = rs["metadata"]
        if etype != "DELETED":
            self.reconcile(meta["namespace"], meta["name"])
        ref = controller_ref(rs)
        if ref and ref.get("kind") == "Deployment":
            dep = self.w.store.peek(self.w.t.deployments, meta["namespace"], str(ref["name"]))
            if dep is not None and dep["metadata"]["uid"] == ref.get("uid"):
                self.deployment_status(dep)

    def on_pod(self, pod: Obj) -> None:
        ref = controller_ref(pod)
        if ref and ref.get("kind") == "ReplicaSet":
            self.reconcile(pod["metadata"]["namespace"], str(ref["name"]))

    def tick(self) -> None:
        """Slow rollouts whose time has come."""
        if not self.rollouts:
            return
        for dep in list(self.w.store.objects(self.w.t.deployments)):
            if dep["metadata"]["uid"] in self.rollouts:
                self.sync(dep)

    # ------------------------------------------------------------------ Deployments

    def owned(self, dep: Obj) -> list[Obj]:
        rs_type = self.rs_type
        if rs_type is None:
            return []
        uid = dep["metadata"]["uid"]
        return [
            o
            for t, o in self.w.store.dependents(uid)
            if t is rs_type and (controller_ref(o) or {}).get("uid") == uid
        ]

    def sync(self, dep: Obj) -> None:
        """The Deployment's ReplicaSets: one per template, the newest carrying the replicas."""
        rs_type = self.rs_type
        meta = dep["metadata"]
        if rs_type is None or meta.get("deletionTimestamp"):
            return
        ns, uid = meta["namespace"], meta["uid"]
        template = (dep.get("spec") or {}).get("template") or {}
        replicas = _replicas(dep)
        want = template_hash(template)
        owned = self.owned(dep)
        top = max((_revision(rs) for rs in owned), default=0)
        current = next(
            (rs for rs in owned if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == want),
            None,
        )
        running = [
            rs
            for rs in owned
            if rs is not current and (_replicas(rs, 0) or (rs.get("status") or {}).get("replicas"))
        ]
        due = self._due(uid, want, bool(running) and (current is None or not _replicas(current, 0)))
        if current is None:
            current = self._new_replicaset(dep, want, template, replicas if due else 0, top + 1)
            if current is None:
                return
            owned.append(current)
            revision = top + 1
        else:
            revision = _revision(current) if _revision(current) == top else top + 1
        keep = None if due else max(running, key=_revision)
        for rs in owned:
            if rs["metadata"]["name"] == current["metadata"]["name"]:
                self._scale(dep, rs, replicas if due else 0, revision)
            else:
                self._scale(dep, rs, replicas if rs is keep else 0, None)

        def annotate(d: Obj) -> None:
            d["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        self.w.store.mutate(self.w.t.deployments, ns, meta["name"], annotate, manager=MANAGER)
        fresh = self.w.store.peek(self.w.t.deployments, ns, meta["name"])
        if fresh is not None:
            self.deployment_status(fresh)

    def _due(self, uid: str, want: str, rolling: bool) -> bool:
        """Whether a new template's ReplicaSet may carry the replicas now (slow rollouts)."""
        if self.w.rollout_seconds <= 0 or not rolling:
            self.rollouts.pop(uid, None)
            return True
        now = self.w.clock.now()
        started = self.rollouts.get(uid)
        if started is None or started[0] != want:
            started = (want, now)
            self.rollouts[uid] = started
        if now - started[1] >= timedelta(seconds=self.w.rollout_seconds):
            del self.rollouts[uid]
            return True
        return False

    def _new_replicaset(
        self, dep: Obj, want: str, template: dict[str, Any], replicas: int, revision: int
    ) -> Obj | None:
        rs_type = self.rs_type
        assert rs_type is not None
        meta = dep["metadata"]
        labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH_LABEL: want}
        rs_template = copy.deepcopy(template)
        rs_template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy((dep.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = want
        name = f"{meta['name']}-{want}"
        created = self.w.create(
            rs_type,
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": meta["namespace"],
                    "labels": labels,
                    "annotations": {REVISION: str(revision)},
                    "ownerReferences": [owner_ref(dep)],
                },
                "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
            },
            manager=MANAGER,
        )
        if created is not None and replicas:
            self.w.event(
                dep,
                "ScalingReplicaSet",
                f"Scaled up replica set {name} from 0 to {replicas}",
                component="deployment-controller",
            )
        return created

    def _scale(self, dep: Obj, rs: Obj, replicas: int, revision: int | None) -> None:
        rs_type = self.rs_type
        assert rs_type is not None
        was = _replicas(rs, 0)
        if was == replicas and (revision is None or _revision(rs) == revision):
            return

        def update(r: Obj) -> None:
            r.setdefault("spec", {})["replicas"] = replicas
            if revision is not None:
                r["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

        m = rs["metadata"]
        self.w.store.mutate(rs_type, m["namespace"], m["name"], update, manager=MANAGER)
        if was != replicas:
            how = "up" if replicas > was else "down"
            self.w.event(
                dep,
                "ScalingReplicaSet",
                f"Scaled {how} replica set {m['name']} from {was} to {replicas}",
                component="deployment-controller",
            )

    def deployment_status(self, dep: Obj) -> None:
        """The Deployment's status, summed from its ReplicaSets'."""
        meta = dep["metadata"]
        replicas = _replicas(dep)
        want = template_hash((dep.get("spec") or {}).get("template") or {})
        total = updated = ready = available = 0
        new_name = ""
        for rs in self.owned(dep):
            st = rs.get("status") or {}
            total += int(st.get("replicas") or 0)
            ready += int(st.get("readyReplicas") or 0)
            available += int(st.get("availableReplicas") or 0)
            if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == want:
                updated = int(st.get("replicas") or 0)
                new_name = rs["metadata"]["name"]
        gen = int(meta.get("generation", 1))
        done = updated == replicas and total == updated and available >= updated
        # maxUnavailable 25% (rounded down), the default RollingUpdate strategy's
        minimum = replicas - replicas * 25 // 100
        now = self.w.now()

        def status(d: Obj) -> None:
            old = {c.get("type"): c for c in (d.get("status") or {}).get("conditions") or []}

            def cond(kind: str, ok: bool, reason: str, message: str) -> dict[str, Any]:
                state = "True" if ok else "False"
                prev = old.get(kind) or {}
                since = prev.get("lastTransitionTime") if prev.get("status") == state else None
                return {
                    "type": kind,
                    "status": state,
                    "lastTransitionTime": since or now,
                    "reason": reason,
                    "message": message,
                }

            st: dict[str, Any] = {
                "observedGeneration": gen,
                "replicas": total,
                "updatedReplicas": updated,
                "readyReplicas": ready,
                "availableReplicas": available,
                "unavailableReplicas": max(replicas - available, 0),
            }
            st = {k: v for k, v in st.items() if v or k == "observedGeneration"}
            if available >= minimum:
                avail = cond(
                    "Available",
                    True,
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            else:
                avail = cond(
                    "Available",
                    False,
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            if done:
                progress = cond(
                    "Progressing",
                    True,
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{new_name}" has successfully progressed.',
                )
            else:
                progress = cond(
                    "Progressing",
                    True,
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{new_name}" is progressing.',
                )
            st["conditions"] = [avail, progress]
            d["status"] = st

        updated_dep = self.w.store.mutate(
            self.w.t.deployments, meta["namespace"], meta["name"], status, manager=MANAGER
        )
        if done and updated_dep is not None:
            self._rolled_out(updated_dep, gen)

    def _rolled_out(self, dep: Obj, gen: int) -> None:
        """ipamd's stalled expiry sweep starts again once a newer generation has rolled out."""
        meta = dep["metadata"]
        stalled = self.w.stalled_at_generation
        ipamd = (meta["namespace"], meta["name"]) == ("kube-system", "tke-eni-ipamd")
        if ipamd and stalled is not None and gen > stalled:
            self.w.sweep_stalled = False

    # ------------------------------------------------------------------ ReplicaSets

    def pods_of(self, rs: Obj) -> list[Obj]:
        uid = rs["metadata"]["uid"]
        return [
            o
            for t, o in self.w.store.dependents(uid)
            if t is self.w.t.pods and (controller_ref(o) or {}).get("uid") == uid
        ]

    def reconcile(self, namespace: str, name: str) -> None:
        """Create or delete Pods until the ReplicaSet runs its replicas; report its status."""
        rs_type = self.rs_type
        if rs_type is None:
            return
        rs = self.w.store.peek(rs_type, namespace, name)
        if rs is None or rs["metadata"].get("deletionTimestamp"):
            return
        want = _replicas(rs)
        live = [p for p in self.pods_of(rs) if active(p)]
        for _ in range(want - len(live)):
            self._create_pod(rs)
        if len(live) > want:
            live.sort(key=_deletion_rank)
            for pod in live[: len(live) - want]:
                self.w.delete(self.w.t.pods, namespace, pod["metadata"]["name"])
                self.w.event(
                    rs,
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    component="replicaset-controller",
                )
        self._status(rs_type, namespace, name)

    def _create_pod(self, rs: Obj) -> None:
        meta = rs["metadata"]
        template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
        tmeta: dict[str, Any] = template.get("metadata") or {}
        name = self.w.generate_name(f"{meta['name']}-", self.w.t.pods, meta["namespace"])
        pod_meta: dict[str, Any] = {
            "name": name,
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": dict(tmeta.get("labels") or {}),
            "ownerReferences": [owner_ref(rs)],
        }
        if tmeta.get("annotations"):
            pod_meta["annotations"] = dict(tmeta["annotations"])
        created = self.w.create(
            self.w.t.pods,
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": pod_meta,
                "spec": template.get("spec") or {"containers": []},
            },
            manager=MANAGER,
            fresh=True,  # built from a deep copy of the template
        )
        if created is not None:
            self.w.event(
                rs, "SuccessfulCreate", f"Created pod: {name}", component="replicaset-controller"
            )

    def _status(self, rs_type: ResourceType, namespace: str, name: str) -> None:
        rs = self.w.store.peek(rs_type, namespace, name)
        if rs is None:
            return
        live = [p for p in self.pods_of(rs) if active(p)]
        ready = sum(1 for p in live if _ready(p))

        def status(r: Obj) -> None:
            st = {
                "replicas": len(live),
                "fullyLabeledReplicas": len(live),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "observedGeneration": r["metadata"].get("generation", 1),
            }
            r["status"] = {
                k: v for k, v in st.items() if v or k in ("replicas", "observedGeneration")
            }

        self.w.store.mutate(rs_type, namespace, name, status, manager=MANAGER)


def _deletion_rank(pod: Obj) -> tuple[int, int, int, float]:
    """The Pods a scale-down deletes first sort first (controller.ActivePods, in short):
    unscheduled, then pending, not ready, and the newest."""
    st = pod.get("status") or {}
    created = pod["metadata"].get("creationTimestamp")
    age = parse_rfc3339(created).timestamp() if created else 0.0
    return (
        1 if (pod.get("spec") or {}).get("nodeName") else 0,
        _PHASE_RANK.get(str(st.get("phase", "Pending")), 0),
        1 if _ready(pod) else 0,
        -age,
    )
