"""kube-controller-manager's node lifecycle controller and taint-based eviction, simplified, and
the one thing a node's kubelet does when it answers again.

- A node whose `Ready` condition is `Unknown` (kubelet stopped posting status) is tainted
  `node.kubernetes.io/unreachable`, one whose condition is `False` `node.kubernetes.io/not-ready`,
  each with effects NoSchedule and NoExecute and a `timeAdded` (controller_utils
  SwapNodeControllerTaint); the taints go when the condition is `True` again. A node without a
  Ready condition is left alone. The controller records a `NodeNotReady` Event on the node.
- Taint-based eviction: a Pod on a node with a NoExecute taint it does not tolerate is deleted
  once its toleration runs out: `tolerationSeconds` of a matching toleration, else 300 s — the
  DefaultTolerationSeconds admission plugin gives every Pod that toleration, which the sandbox
  does not write into the Pods. The delete is graceful (the Pod's grace period), and with no
  kubelet to confirm it the Pod stays Terminating (`TaintManagerEviction` Event).
- MarkPodsNotReady: when the controller sees a node's Ready condition leave True, it sets the
  `Ready` condition of every Pod on the node to False (through `pods/status`) and records a
  Warning `NodeNotReady` Event ("Node is not ready") on each; a resumed controller catches up.
- When a node is Ready again, its kubelet finishes the Pods marked for deletion (deletes them
  with grace period 0) and reports the others Ready again.

`World.paused` with `nodelifecycle` stops the controller (not the kubelet part).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .clock import parse_rfc3339
from .store import Event, Obj
from .world import World, node_ready

MANAGER = "kube-controller-manager"
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
EFFECTS = ("NoSchedule", "NoExecute")
DEFAULT_TOLERATION = timedelta(seconds=300)  # DefaultTolerationSeconds admission plugin


def taint_for(ready: str | None) -> str | None:
    """The node-controller taint key a Ready condition status calls for."""
    return {"Unknown": UNREACHABLE, "False": NOT_READY}.get(ready or "True")


def tolerates(pod: Obj, taint: dict[str, Any]) -> tuple[bool, timedelta | None]:
    """(tolerated?, for how long; None: for ever) — corev1 Toleration.ToleratesTaint."""
    for t in (pod.get("spec") or {}).get("tolerations") or []:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator") or "Equal"
        if t.get("key"):
            if t.get("key") != taint.get("key"):
                continue
        elif op != "Exists":
            continue
        if op == "Equal" and (t.get("value") or "") != (taint.get("value") or ""):
            continue
        seconds = t.get("tolerationSeconds")
        return True, None if seconds is None else timedelta(seconds=max(int(seconds), 0))
    return False, None


class NodeLifecycle:
    def __init__(self, world: World) -> None:
        self.w = world

    @property
    def running(self) -> bool:
        return "nodelifecycle" not in self.w.paused

    def on_event(self, ev: Event) -> None:
        if ev.rtype is not self.w.t.nodes or ev.type == "DELETED":
            return
        name = ev.obj["metadata"]["name"]
        ready, was = node_ready(ev.obj), node_ready(ev.old) if ev.old is not None else None
        if self.running:
            self._taint(ev.obj)
            if ready != was and ready in ("Unknown", "False") and was in (None, "True"):
                self.w.event(
                    ev.obj,
                    "NodeNotReady",
                    f"Node {name} status is now: NodeNotReady",
                    component="node-controller",
                )
                self._mark_pods_not_ready(name)
            self._evict(name)
        if ready == "True" and was in ("Unknown", "False"):
            self._kubelet_back(name)

    def tick(self) -> None:
        if not self.running:
            return
        for node in list(self.w.store.objects(self.w.t.nodes)):
            self._taint(node)
            self._evict(node["metadata"]["name"])

    def resume(self) -> None:
        """The controller starts again: it catches up with every node."""
        for node in list(self.w.store.objects(self.w.t.nodes)):
            if node_ready(node) in ("Unknown", "False"):
                self._mark_pods_not_ready(node["metadata"]["name"])
        self.tick()

    def _pods_on(self, node_name: str) -> list[Obj]:
        return [
            p
            for p in self.w.store.objects(self.w.t.pods)
            if (p.get("spec") or {}).get("nodeName") == node_name
        ]

    def _mark_pods_not_ready(self, node_name: str) -> None:
        """controller_utils MarkPodsNotReady: the Pods' Ready condition goes False."""
        now = self.w.now()
        for pod in self._pods_on(node_name):
            conds = (pod.get("status") or {}).get("conditions") or []
            if not any(c.get("type") == "Ready" and c.get("status") != "False" for c in conds):
                continue

            def not_ready(p: Obj) -> None:
                for c in p["status"]["conditions"]:
                    if c.get("type") == "Ready" and c.get("status") != "False":
                        c["status"] = "False"
                        c["lastTransitionTime"] = now

            meta = pod["metadata"]
            marked = self.w.store.mutate(
                self.w.t.pods, meta["namespace"], meta["name"], not_ready, manager=MANAGER
            )
            if marked is not None:
                self.w.event(
                    marked,
                    "NodeNotReady",
                    "Node is not ready",
                    type_="Warning",
                    component="node-controller",
                )

    def _taint(self, node: Obj) -> None:
        ready = node_ready(node)
        if ready is None:
            return
        want = taint_for(ready)
        taints = (node.get("spec") or {}).get("taints") or []
        ours = [t for t in taints if t.get("key") in (UNREACHABLE, NOT_READY)]
        if {(t.get("key"), t.get("effect")) for t in ours} == {(want, e) for e in EFFECTS if want}:
            return
        now = self.w.now()

        def swap(n: Obj) -> None:
            spec = n.setdefault("spec", {})
            kept = [
                t for t in spec.get("taints") or [] if t.get("key") not in (UNREACHABLE, NOT_READY)
            ]
            if want:
                kept += [{"key": want, "effect": e, "timeAdded": now} for e in EFFECTS]
            if kept:
                spec["taints"] = kept
            else:
                spec.pop("taints", None)

        self.w.store.mutate(self.w.t.nodes, "", node["metadata"]["name"], swap, manager=MANAGER)

    def _evict(self, node_name: str) -> None:
        node = self.w.store.peek(self.w.t.nodes, "", node_name)
        taints = [
            t
            for t in ((node or {}).get("spec") or {}).get("taints") or []
            if t.get("effect") == "NoExecute" and t.get("key") in (UNREACHABLE, NOT_READY)
        ]
        if not taints:
            return
        now = self.w.clock.now()
        for pod in list(self.w.store.objects(self.w.t.pods)):
            meta = pod["metadata"]
            if (pod.get("spec") or {}).get("nodeName") != node_name or meta.get(
                "deletionTimestamp"
            ):
                continue
            due = None
            for taint in taints:
                tolerated, seconds = tolerates(pod, taint)
                if tolerated and seconds is None:
                    continue
                added = parse_rfc3339(str(taint.get("timeAdded") or self.w.now()))
                at = added + (seconds if tolerated and seconds is not None else DEFAULT_TOLERATION)
                due = at if due is None or at < due else due
            if due is None or now < due:
                continue
            self.w.event(
                pod,
                "TaintManagerEviction",
                f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
                component="taint-eviction-controller",
            )
            self.w.delete(self.w.t.pods, meta["namespace"], meta["name"])

    def _kubelet_back(self, node_name: str) -> None:
        now = self.w.now()

        def ready_again(p: Obj) -> None:
            for c in p["status"]["conditions"]:
                if c.get("type") == "Ready" and c.get("status") != "True":
                    c["status"] = "True"
                    c["lastTransitionTime"] = now

        for pod in self._pods_on(node_name):
            meta = pod["metadata"]
            st = pod.get("status") or {}
            if meta.get("deletionTimestamp"):
                self.w.delete(self.w.t.pods, meta["namespace"], meta["name"], grace=0)
            elif st.get("phase") == "Running" and all(
                cs.get("ready") for cs in st.get("containerStatuses") or []
            ):
                self.w.store.mutate(
                    self.w.t.pods, meta["namespace"], meta["name"], ready_again, manager="kubelet"
                )
