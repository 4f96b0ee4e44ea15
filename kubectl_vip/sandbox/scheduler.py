"""kube-scheduler, simplified: binds a Pod to the least loaded node that fits, and keeps the Pods
that fit nowhere until the cluster changes in a way that may let them fit.

A node fits a Pod when its labels match the Pod's `nodeSelector` and required node affinity
(`matchExpressions` on labels, `matchFields` on `metadata.name`, as DaemonSet Pods carry), the
Pod tolerates its NoSchedule and NoExecute taints (a cordoned node counts as tainted
`node.kubernetes.io/unschedulable:NoSchedule`, as the NodeUnschedulable plugin reads it), and
its allocatable `pods` and `tke.cloud.tencent.com/eni-ip` have room for the Pod's requests next
to those of the Pods bound there that have not ended. A VPC-CNI Pod also needs a node that
advertises eni-ip and, with a static IP, one in the zone of its address (tke-eni-ip-scheduler's
job).

Unschedulable Pods wait (`waiting`) and are tried again, as the scheduling queue moves them back
on cluster events, when a node is added or changes for the better (uncordoned, a taint or label
changed, Ready again, more allocatable) and, for the Pods that some node lacked only room for,
when a bound Pod goes (capacity freed). A change for the worse tries nothing: a Pod is not
reported unschedulable again for no reason.

Spreading counts the Pods bound to each node, leaving out host-network Pods (system agents that
use no Pod address: the sandbox's choice, which keeps its scenarios' placements stable).
"""

from __future__ import annotations

from typing import Any

from .nodelifecycle import tolerates
from .resources import ResourceType
from .store import Obj
from .world import ENI_IP, ENI_UNAVAILABLE_TAINT, ZONE_LABEL, World, is_vpc_cni, node_ready

MANAGER = "kube-scheduler"
UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
Key = tuple[str, str]


def _quantity(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def eni_request(pod: Obj) -> int:
    """The eni-ip the Pod requests (an extended resource's limit is its request)."""
    total = 0
    for c in (pod.get("spec") or {}).get("containers") or []:
        res = c.get("resources") or {}
        value = (res.get("requests") or {}).get(ENI_IP, (res.get("limits") or {}).get(ENI_IP))
        total += _quantity(value) if value is not None else 0
    return total


def _match_expression(expr: dict[str, Any], value: str | None) -> bool:
    op, values = expr.get("operator"), [str(v) for v in expr.get("values") or []]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            a, b = int(value), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def affinity_allows(pod: Obj, node: Obj) -> bool:
    """requiredDuringSchedulingIgnoredDuringExecution: any term, each wholly matched."""
    required = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in terms:
        exprs = term.get("matchExpressions") or []
        field_exprs = term.get("matchFields") or []
        if not exprs and not field_exprs:
            continue  # an empty term matches nothing
        if all(_match_expression(e, labels.get(str(e.get("key")))) for e in exprs) and all(
            _match_expression(e, fields.get(str(e.get("key")))) for e in field_exprs
        ):
            return True
    return False


def affinity_node_names(pod: Obj) -> set[str] | None:
    """The only nodes the required node affinity can match by `metadata.name In` in every
    term (a DaemonSet Pod's one node), None when it names none: the NodeAffinity plugin's
    PreFilter, which spares looking at every other node."""
    required = (((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    names: set[str] = set()
    for term in required.get("nodeSelectorTerms") or []:
        found = [
            {str(v) for v in f.get("values") or []}
            for f in term.get("matchFields") or []
            if f.get("key") == "metadata.name" and f.get("operator") == "In"
        ]
        if not found:
            return None  # this term may match any node
        names |= set.intersection(*found)
    return names if required.get("nodeSelectorTerms") else None


def node_taints(node: Obj) -> list[dict[str, Any]]:
    """The node's taints, a cordon included."""
    spec = node.get("spec") or {}
    taints = list(spec.get("taints") or [])
    if spec.get("unschedulable"):
        taints.append({"key": UNSCHEDULABLE, "effect": "NoSchedule"})
    return taints


class Scheduler:
    def __init__(self, world: World) -> None:
        self.w = world
        # Pods that fit on no node, tried again on changes; True: a node lacks only room
        self.waiting: dict[Key, bool] = {}
        self._used: dict[str, list[int]] = {}
        world.store.commit_hooks.append(self.committed)

    # ------------------------------------------------------------------ fitting

    # Per node: the spreading load, the Pods that hold capacity, the eni-ip they request; kept
    # as each Pod is written (the scheduler's cache), seeded Pods included

    @staticmethod
    def _share(p: Obj) -> tuple[str, int, int, int]:
        spec = p.get("spec") or {}
        node = str(spec.get("nodeName") or "")
        if not node:
            return "", 0, 0, 0
        load = 0 if spec.get("hostNetwork") else 1
        if (p.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return node, load, 0, 0  # ended: holds no capacity
        return node, load, 1, eni_request(p)

    def _add(self, share: tuple[str, int, int, int], sign: int) -> None:
        node, load, pods, eni = share
        if node:
            have = self._used.setdefault(node, [0, 0, 0])
            have[0] += sign * load
            have[1] += sign * pods
            have[2] += sign * eni

    def committed(self, rtype: ResourceType, old: Obj | None, new: Obj | None) -> None:
        """A Pod written (store.commit_hooks): what it takes on its node, kept current."""
        if rtype is not self.w.t.pods:
            return
        if old is not None:
            self._add(self._share(old), -1)
        if new is not None:
            self._add(self._share(new), 1)

    def _usage(self) -> dict[str, list[int]]:
        return self._used

    def _misfit(
        self, pod: Obj, node: Obj, zone: str | None, used_pods: int, used_eni: int
    ) -> str | None:
        """Why the Pod does not fit on the node: `capacity` (only the Pods bound there are in
        the way) or `other`; None when it fits."""
        spec = pod.get("spec") or {}
        labels = node["metadata"].get("labels") or {}
        selector = spec.get("nodeSelector") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            return "other"
        if not affinity_allows(pod, node):
            return "other"
        # NoSchedule and NoExecute taints keep Pods that do not tolerate them off the node
        untolerated = {
            t.get("key")
            for t in node_taints(node)
            if t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(pod, t)[0]
        }
        alloc = (node.get("status") or {}).get("allocatable") or {}
        vpc = is_vpc_cni(pod)
        if vpc:
            if ENI_UNAVAILABLE_TAINT in untolerated or str(alloc.get(ENI_IP, "0")) in ("0", ""):
                return "other"
            if zone and labels.get(ZONE_LABEL) != zone:
                return "other"
        if untolerated - {ENI_UNAVAILABLE_TAINT}:
            return "other"
        if "pods" in alloc and used_pods + 1 > _quantity(alloc["pods"]):
            return "capacity"
        if vpc and used_eni + eni_request(pod) > _quantity(alloc.get(ENI_IP, "0")):
            return "capacity"
        return None

    # ------------------------------------------------------------------ binding

    def schedule(self, pod: Obj) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        total = self.w.store.count(self.w.t.nodes)
        only = affinity_node_names(pod)
        if only is None:
            nodes = self.w.store.objects(self.w.t.nodes)
        else:
            peeked = (self.w.store.peek(self.w.t.nodes, "", x) for x in sorted(only))
            nodes = [n for n in peeked if n is not None]
        used = self._usage()
        zone = self.w.pinned_zone(pod) if is_vpc_cni(pod) else None
        none = [0, 0, 0]
        misfits = {
            n["metadata"]["name"]: self._misfit(
                pod,
                n,
                zone,
                used.get(n["metadata"]["name"], none)[1],
                used.get(n["metadata"]["name"], none)[2],
            )
            for n in nodes
        }
        fit = [n for n in nodes if misfits[n["metadata"]["name"]] is None]
        if not fit:
            self.waiting[key] = "capacity" in misfits.values()
            self._unschedulable(pod, total)
            return
        self.waiting.pop(key, None)
        node = min(
            fit, key=lambda n: (used.get(n["metadata"]["name"], none)[0], n["metadata"]["name"])
        )
        node_name = node["metadata"]["name"]

        def bind(p: Obj) -> None:
            p.setdefault("spec", {})["nodeName"] = node_name
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["conditions"] = [{"type": "PodScheduled", "status": "True"}]

        bound = self.w.store.mutate(self.w.t.pods, *key, bind, manager=MANAGER)
        if bound is not None:
            self.w.event(
                bound,
                "Scheduled",
                f"Successfully assigned {key[0]}/{key[1]} to {node_name}",
                component="default-scheduler",
            )

    def _unschedulable(self, pod: Obj, total: int) -> None:
        meta = pod["metadata"]
        reason = f"Insufficient {ENI_IP}" if is_vpc_cni(pod) else "node(s) didn't match"
        msg = f"0/{total} nodes are available: {total} {reason}."

        def pending(p: Obj) -> None:
            st = p.setdefault("status", {})
            st["phase"] = "Pending"
            st["conditions"] = [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": msg,
                }
            ]

        self.w.store.mutate(
            self.w.t.pods, meta["namespace"], meta["name"], pending, manager=MANAGER
        )
        self.w.event(pod, "FailedScheduling", msg, type_="Warning", component="default-scheduler")

    # ------------------------------------------------------------------ the queue

    def forget(self, namespace: str, name: str) -> None:
        self.waiting.pop((namespace, name), None)

    def retry(self, *, capacity_only: bool = False) -> None:
        """Try the waiting Pods again (the scheduling queue's move to active); with
        `capacity_only`, those that some node lacked only room for."""
        for key in sorted(self.waiting):
            if capacity_only and not self.waiting.get(key):
                continue
            pod = self.w.store.peek(self.w.t.pods, *key)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                self.forget(*key)
            elif (pod.get("spec") or {}).get("nodeName"):
                self.forget(*key)  # bound by someone else
            else:
                self.schedule(pod)

    def node_event(self, etype: str, old: Obj | None, new: Obj) -> None:
        if self.waiting and (etype == "ADDED" or (old is not None and may_help(old, new))):
            self.retry()

    def pod_gone(self, pod: Obj) -> None:
        """A bound Pod is deleted (or ends): its node has room again, which helps only the
        Pods that lacked room (the NodeResourcesFit plugin's queueing hint)."""
        meta = pod["metadata"]
        self.forget(meta.get("namespace", ""), meta["name"])
        if self.waiting and (pod.get("spec") or {}).get("nodeName"):
            self.retry(capacity_only=True)


def may_help(old: Obj, new: Obj) -> bool:
    """Whether a node's change may let a waiting Pod fit (kube-scheduler's queueing hints, in
    short): taints or a cordon lifted, labels changed, Ready again, more allocatable."""

    def keys(n: Obj) -> set[tuple[Any, Any, Any]]:
        return {(t.get("key"), t.get("value"), t.get("effect")) for t in node_taints(n)}

    if keys(old) - keys(new):
        return True
    if (old["metadata"].get("labels") or {}) != (new["metadata"].get("labels") or {}):
        return True
    if node_ready(new) == "True" and node_ready(old) not in (None, "True"):
        return True
    before = (old.get("status") or {}).get("allocatable") or {}
    after = (new.get("status") or {}).get("allocatable") or {}
    return any(_quantity(after.get(k, 0)) > _quantity(before.get(k, 0)) for k in after)
