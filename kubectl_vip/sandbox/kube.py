"""Simulated Kubernetes controllers: the scheduler (scheduler.py) and the kubelet, StatefulSets,
Deployments and ReplicaSets (replicasets.py), DaemonSets (daemonsets.py), the garbage collector
and namespace deletion. Each reacts to store events synchronously.

A kubelet starts the Pods bound to its node (a host-network Pod gets the node's address, any
other an overlay address unless ipamd gives it a VPC-CNI one); a kubelet whose node is down
(World.node_down) starts nothing until the node is Ready again."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from .daemonsets import DaemonSets
from .replicasets import Workloads
from .resources import ResourceType
from .scheduler import Scheduler
from .store import Event, Obj
from .world import ORDINAL, World, controller_ref, is_vpc_cni, node_ready, owner_ref


class KubeControllers:
    def __init__(self, world: World) -> None:
        self.w = world
        self._pod_ip_seq = 10
        self._service_seq = 0
        self.scheduler = Scheduler(world)
        self.workloads = Workloads(world)
        self.daemonsets = DaemonSets(world)
        world.store.settle_hooks.append(self.daemonsets.settle)

    # -------------------------------------------------------------- dispatch

    def on_event(self, ev: Event) -> None:
        t = self.w.t
        if ev.rtype is t.pods:
            self._on_pod(ev)
            self.workloads.on_pod(ev.obj)
            self.daemonsets.on_event(ev.type, ev.rtype.key, ev.obj)
        elif ev.rtype is t.statefulsets:
            if ev.type != "DELETED":
                self.reconcile_statefulset(
                    ev.obj["metadata"]["namespace"], ev.obj["metadata"]["name"]
                )
        elif ev.rtype.key == "services" and ev.type == "ADDED":
            self._allocate_cluster_ip(ev.rtype, ev.obj)
        elif ev.rtype is t.deployments:
            self.workloads.on_deployment(ev.type, ev.obj)
        elif ev.rtype.key == "replicasets.apps":
            self.workloads.on_replicaset(ev.type, ev.obj)
        elif ev.rtype is t.daemonsets:
            self.daemonsets.on_event(ev.type, ev.rtype.key, ev.obj)
        elif ev.rtype is t.nodes:
            self.daemonsets.on_event(ev.type, ev.rtype.key, ev.obj)
            back = ev.old is not None and node_ready(ev.old) not in (None, "True")
            if ev.type == "MODIFIED" and back and node_ready(ev.obj) == "True":
                self._node_back(ev.obj["metadata"]["name"])
            if ev.type != "DELETED":
                self.scheduler.node_event(ev.type, ev.old, ev.obj)
        elif ev.rtype is t.namespaces and ev.type != "DELETED":
            spec = ev.obj.get("spec") or {}
            if ev.obj["metadata"].get("deletionTimestamp") and "kubernetes" in (
                spec.get("finalizers") or []
            ):
                self._finalize_namespace(ev.obj)
        if ev.type == "DELETED" and ev.rtype.namespaced:
            # content that held a Terminating namespace is gone: finish the namespace
            ns = self.w.store.peek(t.namespaces, "", ev.obj["metadata"].get("namespace", ""))
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self._finalize_namespace(ns)
        self._collect_garbage(ev)

    def _allocate_cluster_ip(self, rtype: ResourceType, svc: Obj) -> None:
        """The Service defaults and ClusterIP allocation apiserver does on create."""
        if (svc.get("spec") or {}).get("clusterIP"):
            return
        self._service_seq += 1
        ip = str(ipaddress.IPv4Address("172.17.0.0") + self._service_seq)

        def allocate(s: Obj) -> None:
            spec = s.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            if spec["type"] == "ExternalName":
                return
            spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
            spec.setdefault("sessionAffinity", "None")
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")

        m = svc["metadata"]
        self.w.store.mutate(rtype, m["namespace"], m["name"], allocate, manager="kube-apiserver")

    def tick(self) -> None:
        self.workloads.tick()

    # -------------------------------------------------------------- pods

    def _on_pod(self, ev: Event) -> None:
        pod = ev.obj
        meta = pod["metadata"]
        if ev.type == "DELETED":
            self.scheduler.pod_gone(pod)
            ref = controller_ref(pod)
            if ref and ref.get("kind") == "StatefulSet":
                self.reconcile_statefulset(meta["namespace"], ref["name"])
            return
        if meta.get("deletionTimestamp"):
            return
        phase = pod.get("status", {}).get("phase", "Pending")
        if not pod.get("spec", {}).get("nodeName"):
            self.scheduler.schedule(pod)
        elif phase == "Pending" and (not is_vpc_cni(pod) or self.w.t.claims is None):
            # without the TKE CRDs (--no-tke) no ipamd assigns VPC IPs: the node's CNI does
            self._start_on_node(pod)
        was = ((ev.old or {}).get("status") or {}).get("phase", "Pending")
        if phase in ("Succeeded", "Failed") and was not in ("Succeeded", "Failed"):
            self.scheduler.pod_gone(pod)  # an ended Pod holds no capacity
        ref = controller_ref(pod)
        if ev.type == "MODIFIED" and was != phase and ref and ref.get("kind") == "StatefulSet":
            self.reconcile_statefulset(meta["namespace"], ref["name"])  # its ready count moved

    def _start_on_node(self, pod: Obj) -> None:
        node = pod["spec"]["nodeName"]
        if self.w.node_down(node):  # a kubelet that does not answer starts nothing
            return
        if pod["spec"].get("hostNetwork"):
            self._start(pod, self._host_ip(pod))  # the node's own address
        else:
            self._start(pod, self._next_pod_ip(node))

    def _node_back(self, node: str) -> None:
        """A node answers again: its kubelet starts the Pods bound to it meanwhile (ipamd sees
        to the VPC-CNI ones)."""
        for pod in list(self.w.store.objects(self.w.t.pods)):
            st, meta = pod.get("status") or {}, pod["metadata"]
            if (
                pod.get("spec", {}).get("nodeName") == node
                and st.get("phase", "Pending") == "Pending"
                and not meta.get("deletionTimestamp")
                and (not is_vpc_cni(pod) or self.w.t.claims is None)
            ):
                self._start_on_node(pod)

    def _next_pod_ip(self, node_name: str) -> str:
        self._pod_ip_seq += 1
        return str(ipaddress.IPv4Address("172.16.0.0") + self._pod_ip_seq)

    def start_vpc_pod(self, pod: Obj, ip: str) -> None:
        self._start(pod, ip)

    def sandbox_failed(self, pod: Obj, reason: str) -> None:
        """What kubelet shows while the CNI cannot give the Pod an IP: the Pod stays Pending,
        its containers waiting in ContainerCreating, and each attempt records a
        FailedCreatePodSandBox Event carrying the network plugin's reason."""
        meta = pod["metadata"]
        host_ip = self._host_ip(pod)
        now = self.w.now()

        def creating(p: Obj) -> None:
            st = p.get("status") or {}
            if st.get("phase", "Pending") != "Pending" or st.get("containerStatuses"):
                return  # already shown as creating (or past it): keep its timestamps
            conditions = [
                ("PodReadyToStartContainers", "False", ""),
                ("Initialized", "True", ""),
                ("Ready", "False", "ContainersNotReady"),
                ("ContainersReady", "False", "ContainersNotReady"),
                ("PodScheduled", "True", ""),
            ]
            p["status"] = {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": t,
                        "status": v,
                        **({"reason": r} if r else {}),
                        "lastTransitionTime": now,
                    }
                    for t, v, r in conditions
                ],
                "hostIP": host_ip,
                **({"hostIPs": [{"ip": host_ip}]} if host_ip else {}),
                "startTime": now,
                "containerStatuses": [
                    {
                        "name": c.get("name", ""),
                        "state": {"waiting": {"reason": "ContainerCreating"}},
                        "ready": False,
                        "restartCount": 0,
                        "image": c.get("image", ""),
                        "imageID": "",
                        "started": False,
                    }
                    for c in p.get("spec", {}).get("containers") or []
                ],
            }

        self.w.store.mutate(
            self.w.t.pods, meta["namespace"], meta["name"], creating, manager="kubelet"
        )
        self.w.event(
            pod,
            "FailedCreatePodSandBox",
            "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to set up "
            f'sandbox container "{meta["name"]}" network for pod "{meta["name"]}": '
            f"networkPlugin cni failed to set up pod network: {reason}",
            type_="Warning",
            component="kubelet",
        )

    def _host_ip(self, pod: Obj) -> str:
        node = self.w.store.peek(self.w.t.nodes, "", pod.get("spec", {}).get("nodeName", ""))
        for a in (node or {}).get("status", {}).get("addresses") or []:
            if a.get("type") == "InternalIP":
                return str(a.get("address", ""))
        return ""

    def _start(self, pod: Obj, ip: str) -> None:
        meta = pod["metadata"]
        host_ip = self._host_ip(pod)
        now = self.w.now()

        def run(p: Obj) -> None:
            if (p.get("status") or {}).get("phase") not in (None, "Pending"):
                return
            names = [c.get("name", "") for c in p.get("spec", {}).get("containers") or []]
            p["status"] = {
                "phase": "Running",
                "hostIP": host_ip,
                "podIP": ip,
                "podIPs": [{"ip": ip}],
                "startTime": now,
                "conditions": [
                    {"type": t, "status": "True", "lastTransitionTime": now}
                    for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
                ],
                "containerStatuses": [
                    {
                        "name": n,
                        "ready": True,
                        "restartCount": 0,
                        "started": True,
                        "state": {"running": {"startedAt": now}},
                        "image": "",
                        "imageID": "",
                    }
                    for n in names
                ],
            }

        self.w.store.mutate(self.w.t.pods, meta["namespace"], meta["name"], run, manager="kubelet")

    # -------------------------------------------------------------- statefulsets

    def reconcile_statefulset(self, namespace: str, name: str) -> None:
        """pkg/controller/statefulset, simplified: Pods of the live ordinals are created, those
        beyond deleted, a Failed or Succeeded one of the live range deleted and recreated under
        its name (once it is gone); a Terminating one is waited for. Nothing while the
        controller is paused (World.paused)."""
        store, t = self.w.store, self.w.t
        if "statefulset" in self.w.paused:
            return
        sts = store.peek(t.statefulsets, namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        spec = sts.get("spec", {})
        replicas = int(spec.get("replicas", 1))
        # spec.ordinals.start: the first ordinal (apps/v1, default 0); Pods take
        # ordinals start .. start+replicas-1
        start = int((spec.get("ordinals") or {}).get("start") or 0)
        uid = sts["metadata"]["uid"]
        owned: dict[int, Obj] = {}
        for pod in store.objects(t.pods, namespace):
            ref = controller_ref(pod)
            m = ORDINAL.match(pod["metadata"]["name"])
            if ref and ref.get("uid") == uid and m and m.group(1) == name:
                owned[int(m.group(2))] = pod
        for ordinal in sorted(owned, reverse=True):
            pod = owned[ordinal]
            live = start <= ordinal < start + replicas
            ended = (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded")
            if (not live or ended) and not pod["metadata"].get("deletionTimestamp"):
                self.w.delete(t.pods, namespace, pod["metadata"]["name"])
                if store.peek(t.pods, namespace, pod["metadata"]["name"]) is None:
                    del owned[ordinal]  # gone at once: a live ordinal is recreated below
        for ordinal in range(start, start + replicas):
            if ordinal not in owned:
                self._create_replica(sts, ordinal)
        ready = 0
        for pod in store.objects(t.pods, namespace):
            ref = controller_ref(pod)
            if ref and ref.get("uid") == uid and pod.get("status", {}).get("phase") == "Running":
                ready += 1

        def status(s: Obj) -> None:
            s["status"] = {
                "observedGeneration": s["metadata"].get("generation", 1),
                "replicas": replicas,
                "readyReplicas": ready,
                "currentReplicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": ready,
            }

        store.mutate(t.statefulsets, namespace, name, status, manager="kube-controller-manager")

    def _create_replica(self, sts: Obj, ordinal: int) -> None:
        meta = sts["metadata"]
        template = copy.deepcopy(sts.get("spec", {}).get("template", {}))
        tmeta: dict[str, Any] = template.get("metadata", {})
        pod_name = f"{meta['name']}-{ordinal}"
        labels = dict(tmeta.get("labels") or {})
        labels["statefulset.kubernetes.io/pod-name"] = pod_name
        labels["apps.kubernetes.io/pod-index"] = str(ordinal)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": meta["namespace"],
                "labels": labels,
                "annotations": dict(tmeta.get("annotations") or {}),
                "ownerReferences": [owner_ref(sts)],
            },
            "spec": template.get("spec", {"containers": []}),
        }
        created = self.w.create(self.w.t.pods, pod, manager="kube-controller-manager")
        if created is not None:
            self.w.event(
                sts,
                "SuccessfulCreate",
                f"create Pod {pod_name} in StatefulSet {meta['name']} successful",
                component="statefulset-controller",
            )

    # -------------------------------------------------------------- garbage collection

    def _collect_garbage(self, ev: Event) -> None:
        """The garbage collector: Background deletes dependents once their owner is gone,
        Orphan strips the owner's references, Foreground deletes the dependents first and lets
        the owner go once no dependent with blockOwnerDeletion is left."""
        meta = ev.obj.get("metadata", {})
        uid = meta.get("uid")
        if not uid:
            return
        finalizers = meta.get("finalizers") or []
        store = self.w.store
        if ev.type == "DELETED":
            for rtype, dep in store.dependents(uid):
                refs = dep["metadata"].get("ownerReferences") or []
                mine = [r for r in refs if r.get("uid") == uid]
                if any(
                    store.registry.for_api_version(str(r.get("apiVersion", "")), str(r.get("kind")))
                    is None
                    for r in mine
                ):
                    # the reference names a kind no served group has: kube-controller-manager's
                    # GC cannot look the owner up, so it keeps the dependent and retries
                    continue
                live = [r for r in refs if r.get("uid") != uid and self._owner_exists(r, dep)]
                if live:  # other owners remain: only the dangling reference goes
                    self._strip_owner(rtype, dep, uid)
                    continue
                self.w.delete(rtype, dep["metadata"].get("namespace", ""), dep["metadata"]["name"])
            # a Foreground-deleted owner waits for its blocking dependents
            for ref in meta.get("ownerReferences") or []:
                self._finish_foreground(ref, ev.obj)
        elif meta.get("deletionTimestamp") and "orphan" in finalizers:
            for rtype, dep in store.dependents(uid):
                self._strip_owner(rtype, dep, uid)
            store.remove_finalizer(ev.rtype, meta.get("namespace", ""), meta["name"], "orphan")
        elif meta.get("deletionTimestamp") and "foregroundDeletion" in finalizers:
            for rtype, dep in store.dependents(uid):
                if not dep["metadata"].get("deletionTimestamp"):
                    self.w.delete(
                        rtype,
                        dep["metadata"].get("namespace", ""),
                        dep["metadata"]["name"],
                        propagation="Foreground",
                    )
            if not self._blocking(uid):
                store.remove_finalizer(
                    ev.rtype, meta.get("namespace", ""), meta["name"], "foregroundDeletion"
                )

    def _blocking(self, uid: str) -> bool:
        return any(
            r.get("uid") == uid and r.get("blockOwnerDeletion")
            for _, dep in self.w.store.dependents(uid)
            for r in dep["metadata"].get("ownerReferences") or []
        )

    def _finish_foreground(self, ref: dict[str, Any], dependent: Obj) -> None:
        rtype = self.w.store.registry.for_api_version(
            str(ref.get("apiVersion", "")), str(ref.get("kind", ""))
        )
        if rtype is None:
            return
        ns = dependent["metadata"].get("namespace", "") if rtype.namespaced else ""
        owner = self.w.store.peek(rtype, ns, str(ref.get("name", "")))
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return
        om = owner["metadata"]
        if "foregroundDeletion" in (om.get("finalizers") or []) and not self._blocking(om["uid"]):
            self.w.store.remove_finalizer(rtype, ns, om["name"], "foregroundDeletion")

    def _strip_owner(self, rtype: ResourceType, dep: Obj, uid: str) -> None:
        def strip(o: Obj) -> None:
            refs = [r for r in o["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                o["metadata"]["ownerReferences"] = refs
            else:
                o["metadata"].pop("ownerReferences", None)

        self.w.store.mutate(
            rtype,
            dep["metadata"].get("namespace", ""),
            dep["metadata"]["name"],
            strip,
            manager="kube-controller-manager",
        )

    def _owner_exists(self, ref: dict[str, Any], dependent: Obj) -> bool:
        api, kind = ref.get("apiVersion", ""), ref.get("kind", "")
        rtype = self.w.store.registry.for_api_version(api, kind)
        if rtype is None:
            return True  # unknown kinds are left alone, as the real GC would wait for discovery
        owner = self.w.store.peek(
            rtype, dependent["metadata"].get("namespace", ""), ref.get("name", "")
        )
        return owner is not None and owner["metadata"].get("uid") == ref.get("uid")

    def _finalize_namespace(self, ns: Obj) -> None:
        """The namespace controller: delete everything in a Terminating namespace, then drop its
        `kubernetes` finalizer, which lets the namespace go."""
        name = ns["metadata"]["name"]
        if "kubernetes" not in ((ns.get("spec") or {}).get("finalizers") or []):
            return
        namespaced = [rt for rt in self.w.store.registry.by_key.values() if rt.namespaced]
        for _ in range(5):  # controllers may react to a deletion by creating more
            deleted = False
            for rtype in namespaced:
                for obj in list(self.w.store.objects(rtype, name)):
                    if not obj["metadata"].get("deletionTimestamp"):
                        self.w.delete(rtype, name, obj["metadata"]["name"])
                        deleted = True
            if not deleted:
                break

        def finalize(o: Obj) -> None:
            spec = o.setdefault("spec", {})
            spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != "kubernetes"]
            if not spec["finalizers"]:
                del spec["finalizers"]

        if any(self.w.store.objects(rt, name) for rt in namespaced):
            return  # content with finalizers of its own: the namespace stays Terminating
        self.w.store.mutate(self.w.t.namespaces, "", name, finalize, manager="namespace-controller")
