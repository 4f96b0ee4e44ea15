"""The DaemonSet controller (pkg/controller/daemon), simplified: one Pod per node that the
DaemonSet's Pods may run on, kept there.

A node is eligible when it matches the template's `nodeSelector` and the Pod tolerates its
NoSchedule and NoExecute taints, counting the tolerations the controller adds to every DaemonSet
Pod (not-ready and unreachable NoExecute, the pressure taints, unschedulable, and
network-unavailable for host-network Pods: so a cordoned or unreachable node keeps its agent).
Each Pod `<daemonset>-<5 characters>` is owned by the DaemonSet and pinned to its node through a
required node affinity on `metadata.name`, which the scheduler honours. A deleted Pod comes back;
a Pod on a node that is gone or no longer eligible, or of an older template (its
`controller-revision-hash`), is deleted (and replaced). The status counts the Pods.
"""

from __future__ import annotations

import copy
from typing import Any

from .nodelifecycle import NOT_READY, UNREACHABLE, tolerates
from .replicasets import active, template_hash
from .scheduler import UNSCHEDULABLE, node_taints
from .store import Obj
from .world import World, controller_ref, owner_ref

MANAGER = "kube-controller-manager"
HASH_LABEL = "controller-revision-hash"
GENERATION_LABEL = "pod-template-generation"


def _auto_tolerations(host_network: bool) -> list[dict[str, Any]]:
    """util.AddOrUpdateDaemonPodTolerations."""
    out: list[dict[str, Any]] = [
        {"key": NOT_READY, "operator": "Exists", "effect": "NoExecute"},
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": UNSCHEDULABLE, "operator": "Exists", "effect": "NoSchedule"},
    ]
    if host_network:
        out.append(
            {
                "key": "node.kubernetes.io/network-unavailable",
                "operator": "Exists",
                "effect": "NoSchedule",
            }
        )
    return out


def pod_spec(ds: Obj, node: str) -> dict[str, Any]:
    """The template's spec as the controller writes it for `node`."""
    spec: dict[str, Any] = copy.deepcopy(
        ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    )
    spec.setdefault("containers", [])
    have = {(t.get("key"), t.get("effect")) for t in spec.get("tolerations") or []}
    spec["tolerations"] = list(spec.get("tolerations") or []) + [
        t
        for t in _auto_tolerations(bool(spec.get("hostNetwork")))
        if (t["key"], t["effect"]) not in have
    ]
    spec["affinity"] = {
        **(spec.get("affinity") or {}),
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                ]
            }
        },
    }
    return spec


class DaemonSets:
    def __init__(self, world: World) -> None:
        self.w = world
        self.dirty: set[tuple[str, str]] = set()

    def on_event(self, etype: str, rtype_key: str, obj: Obj) -> None:
        """Marks what to reconcile once the event queue is drained (`settle`), as the
        controller's work queue collapses many events of one DaemonSet into one sync."""
        t = self.w.t
        if rtype_key == t.daemonsets.key and etype != "DELETED":
            self.dirty.add((obj["metadata"]["namespace"], obj["metadata"]["name"]))
        elif rtype_key == t.nodes.key:
            self.dirty.update(
                (d["metadata"]["namespace"], d["metadata"]["name"])
                for d in self.w.store.objects(t.daemonsets)
            )
        elif rtype_key == t.pods.key:
            ref = controller_ref(obj)
            if ref and ref.get("kind") == "DaemonSet":
                self.dirty.add((obj["metadata"]["namespace"], str(ref["name"])))

    def settle(self) -> None:
        while self.dirty:
            namespace, name = min(self.dirty)
            self.dirty.discard((namespace, name))
            self.reconcile(namespace, name)

    @staticmethod
    def _eligible(ds: Obj, node: Obj, probe: Obj) -> bool:
        template = (ds.get("spec") or {}).get("template") or {}
        labels = node["metadata"].get("labels") or {}
        selector = (template.get("spec") or {}).get("nodeSelector") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            return False
        return all(
            tolerates(probe, taint)[0]
            for taint in node_taints(node)
            if taint.get("effect") in ("NoSchedule", "NoExecute")
        )

    def reconcile(self, namespace: str, name: str) -> None:
        store, t = self.w.store, self.w.t
        ds = store.peek(t.daemonsets, namespace, name)
        if ds is None or ds["metadata"].get("deletionTimestamp"):
            return
        uid = ds["metadata"]["uid"]
        want = template_hash((ds.get("spec") or {}).get("template") or {})
        probe = {"spec": {"tolerations": pod_spec(ds, "")["tolerations"]}}
        eligible = {
            n["metadata"]["name"] for n in store.objects(t.nodes) if self._eligible(ds, n, probe)
        }
        by_node: dict[str, list[Obj]] = {}
        for rtype, pod in store.dependents(uid):
            if rtype is not t.pods or (controller_ref(pod) or {}).get("uid") != uid:
                continue
            if not active(pod):
                continue
            node = self._node_of(pod)
            outdated = (pod["metadata"].get("labels") or {}).get(HASH_LABEL) != want
            if node not in eligible or outdated or node in by_node:
                self._delete(ds, pod)
                continue
            by_node[node] = [pod]
        for node in sorted(eligible - set(by_node)):
            self._create(ds, node, want)
        self._status(namespace, name, eligible)

    @staticmethod
    def _node_of(pod: Obj) -> str:
        spec = pod.get("spec") or {}
        if spec.get("nodeName"):
            return str(spec["nodeName"])
        terms = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution", {}
        ).get("nodeSelectorTerms") or []
        for term in terms:
            for f in term.get("matchFields") or []:
                if f.get("key") == "metadata.name" and f.get("values"):
                    return str(f["values"][0])
        return ""

    def _delete(self, ds: Obj, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        self.w.delete(self.w.t.pods, pod["metadata"]["namespace"], name)
        self.w.event(
            ds, "SuccessfulDelete", f"Deleted pod: {name}", component="daemonset-controller"
        )

    def _create(self, ds: Obj, node: str, want: str) -> None:
        meta = ds["metadata"]
        tmeta = ((ds.get("spec") or {}).get("template") or {}).get("metadata") or {}
        labels = {
            **(tmeta.get("labels") or {}),
            HASH_LABEL: want,
            GENERATION_LABEL: str(meta.get("generation", 1)),
        }
        name = self.w.generate_name(f"{meta['name']}-", self.w.t.pods, meta["namespace"])
        pod_meta: dict[str, Any] = {
            "name": name,
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner_ref(ds)],
        }
        if tmeta.get("annotations"):
            pod_meta["annotations"] = dict(tmeta["annotations"])
        created = self.w.create(
            self.w.t.pods,
            {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": pod_spec(ds, node)},
            manager=MANAGER,
            fresh=True,  # pod_spec deep-copies the template
        )
        if created is not None:
            self.w.event(
                ds, "SuccessfulCreate", f"Created pod: {name}", component="daemonset-controller"
            )

    def _status(self, namespace: str, name: str, eligible: set[str]) -> None:
        store, t = self.w.store, self.w.t
        ds = store.peek(t.daemonsets, namespace, name)
        if ds is None:
            return
        uid = ds["metadata"]["uid"]
        want = template_hash((ds.get("spec") or {}).get("template") or {})
        pods = [
            p
            for rtype, p in store.dependents(uid)
            if rtype is t.pods and (controller_ref(p) or {}).get("uid") == uid and active(p)
        ]
        scheduled = {(p.get("spec") or {}).get("nodeName") for p in pods} - {None, ""}
        ready = sum(
            1
            for p in pods
            if (p.get("status") or {}).get("phase") == "Running"
            and any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (p.get("status") or {}).get("conditions") or []
            )
        )
        updated = sum(
            1 for p in pods if (p["metadata"].get("labels") or {}).get(HASH_LABEL) == want
        )

        def status(d: Obj) -> None:
            st = {
                "currentNumberScheduled": len(scheduled & eligible),
                "numberMisscheduled": len(scheduled - eligible),
                "desiredNumberScheduled": len(eligible),
                "numberReady": ready,
                "observedGeneration": d["metadata"].get("generation", 1),
                "updatedNumberScheduled": updated,
                "numberAvailable": ready,
                "numberUnavailable": max(len(eligible) - ready, 0),
            }
            keep = (
                "currentNumberScheduled",
                "numberMisscheduled",
                "desiredNumberScheduled",
                "numberReady",
            )
            d["status"] = {k: v for k, v in st.items() if v or k in keep}

        store.mutate(t.daemonsets, namespace, name, status, manager=MANAGER)
