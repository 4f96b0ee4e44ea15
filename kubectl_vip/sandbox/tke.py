"""Simulated tke-eni-ipamd in static-IP mode, driven by the args of the sandbox's own
`kube-system/tke-eni-ipamd` Deployment.

- A scheduled VPC-CNI Pod gets a VpcIPClaim (same namespace/name) and a VpcIP (named by the IP,
  from the subnet of the node's zone), then runs with that IP.
- Pod deleted: delete policy `Immediate` (default) releases both; `Never` keeps them and records
  `status.releaseTime`; the next Pod of that name gets the same IP back.
- `--claim-expired-duration` (or the per-object annotation) reclaims kept claims after it.
- `--enable-ownerref` puts the Pod's controller as owner on new claims (the GC cascades).
- Deleting a claim releases its VpcIP. VpcIPs are never released by scanning, so leaked ones stay.
- A node that does not answer (Ready not True): its agent cannot detach an address, so a VpcIP
  of a Pod gone from it stays `Attached` with its node label (the claim is still released or
  deleted as usual); when the node is Ready again the VpcIP is detached (`Assigned`) for a kept
  claim, or released for a claim deleted meanwhile. Pods bound to such a node get no address.
- A node whose ENIs cannot attach (VPC ENI quota) has an empty NodeENIConfig status; its VpcIPs
  stay `Attaching` with an error, `ENILimit` Events are recorded (type `eni_limit_event_type`,
  Warning unless a scenario says Normal), and its Pods stay Pending.
- The `eniipamd` add-on, when its Helm release Secret exists: `AddonController` reads the
  release's rendered manifest and puts the ipamd container's args back when a hand edit has
  differed from it for `ADDON_REVERT_AFTER` (what an add-on update does to a hand edit).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import yaml

from .clock import parse_rfc3339
from .kube import KubeControllers
from .store import Event, Obj
from .world import (
    DELETE_POLICY,
    EXPIRY_ANNOTATION,
    NODE_LABEL,
    POD_NAME_LABEL,
    POD_NS_LABEL,
    ZONE_LABEL,
    World,
    controller_ref,
    is_vpc_cni,
    node_ready,
)

MANAGER = "tke-eni-ipamd"
RETRY = timedelta(minutes=5)  # kubelet's longest back-off between sandbox attempts
IPAMD_DOWN = "tke-eni-ipamd has no running replica: no VPC IP can be allocated"
ENI_LIMIT_MESSAGE = (
    "ENILimit: the number of ENIs in the VPC has reached the quota (1000 per VPC per region); "
    "cannot attach an ENI to node {node}"
)


ADDON = "eniipamd"
ADDON_MANAGER = "tke-addon-controller"
ADDON_REVERT_AFTER = timedelta(minutes=2)
IPAMD = "tke-eni-ipamd"
# in World.paused: the simulated ipamd leaves claims and VpcIPs alone (it writes the first paths
# of DESIGN §2 only, and the shape-* scenarios keep theirs elsewhere)
IPAMD_PAUSED = "ipamd"


def encode_release(release: dict[str, Any]) -> str:
    """A Helm 3 release as its Secret's `data.release` holds it: base64 of Helm's own
    base64(gzip(JSON)) string."""
    inner = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(inner).decode()


def decode_release(data: str) -> dict[str, Any] | None:
    try:
        inner = base64.b64decode(base64.b64decode(data))
        release = json.loads(gzip.decompress(inner) if inner[:2] == b"\x1f\x8b" else inner)
    except (ValueError, OSError):
        return None
    return release if isinstance(release, dict) else None


def _ipamd_args_in(manifest: str) -> list[str] | None:
    """The ipamd container's args in a release's rendered manifest, if it renders one."""
    try:
        docs = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError:
        return None
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "Deployment":
            continue
        if (doc.get("metadata") or {}).get("name") != IPAMD:
            continue
        for c in ((doc.get("spec") or {}).get("template") or {}).get("spec", {}).get(
            "containers"
        ) or []:
            if c.get("name") == IPAMD:
                return [str(a) for a in c.get("args") or []]
    return None


class AddonController:
    """The eniipamd add-on as far as a hand edit meets it: reverts the ipamd args."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.drift_since: datetime | None = None

    def _release_args(self) -> list[str] | None:
        """The args of the newest deployed eniipamd release, read from its Secret."""
        newest: tuple[int, list[str]] | None = None
        for sec in self.w.store.objects(self.w.t.secrets, "kube-system"):
            labels = sec["metadata"].get("labels") or {}
            if (labels.get("owner"), labels.get("name")) != ("helm", ADDON):
                continue
            if labels.get("status") != "deployed":
                continue
            release = decode_release(str((sec.get("data") or {}).get("release", "")))
            args = _ipamd_args_in(str((release or {}).get("manifest", "")))
            version = int(str(labels.get("version", "0")) or 0)
            if args is not None and (newest is None or version > newest[0]):
                newest = (version, args)
        return newest[1] if newest else None

    def deployment_changed(self) -> None:
        """The ipamd Deployment was written: a drift, if any, dates from now."""
        if self.drift_since is None:
            self.drift_since = self.w.clock.now()

    def tick(self) -> None:
        want = self._release_args()
        dep = self.w.store.peek(self.w.t.deployments, "kube-system", IPAMD)
        if want is None or dep is None:
            self.drift_since = None
            return
        containers = dep["spec"]["template"]["spec"].get("containers") or []
        have = next((c.get("args") for c in containers if c.get("name") == IPAMD), None)
        if have == want:
            self.drift_since = None
            return
        now = self.w.clock.now()
        if self.drift_since is None:
            self.drift_since = now
            return
        if now - self.drift_since < ADDON_REVERT_AFTER:
            return

        def revert(d: Obj) -> None:
            for c in d["spec"]["template"]["spec"].get("containers") or []:
                if c.get("name") == IPAMD:
                    c["args"] = list(want)

        reverted = self.w.store.mutate(
            self.w.t.deployments, "kube-system", IPAMD, revert, manager=ADDON_MANAGER
        )
        self.drift_since = None
        if reverted is not None:
            self.w.event(
                reverted,
                "AddonReconciled",
                f"the {ADDON} add-on restored the args of container {IPAMD} from its release",
                component=ADDON_MANAGER,
            )


class IpamdController:
    def __init__(self, world: World, kube: KubeControllers) -> None:
        self.w = world
        self.kube = kube
        self.addon = AddonController(world)
        self.eni_limit_event_type = "Warning"
        self._retry_at: dict[tuple[str, str], datetime] = {}

    def on_event(self, ev: Event) -> None:
        t = self.w.t
        meta = ev.obj.get("metadata") or {}
        if ev.rtype is t.deployments and (meta.get("namespace"), meta.get("name")) == (
            "kube-system",
            IPAMD,
        ):
            self.addon.deployment_changed()
        if t.claims is None or t.vips is None or IPAMD_PAUSED in self.w.paused:
            return
        if ev.rtype is t.pods:
            if ev.type == "DELETED":
                self._pod_gone(ev.obj)
            elif not _status_only(ev):  # kubelet's own status writes need no new attempt
                self._pod_changed(ev.obj)
        elif ev.rtype is t.claims and ev.type == "DELETED":
            self._release_ip(ev.obj)
        elif ev.rtype is t.nodes and ev.type == "MODIFIED" and ev.old is not None:
            name = ev.obj["metadata"]["name"]
            if node_ready(ev.obj) == "True" and node_ready(ev.old) not in (None, "True"):
                self._node_back(name)
        elif ev.rtype is t.deployments and ev.obj["metadata"]["name"] == "tke-eni-ipamd":
            self._retry_at.clear()  # ipamd changed: waiting Pods try again at the next tick

    def tick(self) -> None:
        self.addon.tick()
        if self.w.t.claims is None or IPAMD_PAUSED in self.w.paused:
            return
        self._retry_waiting_pods()
        if not self.w.ipamd_running() or self.w.sweep_stalled:
            return
        now = self.w.clock.now()
        default = self.w.expiry()
        for claim in list(self.w.store.objects(self.w.t.claims)):
            released = (claim.get("status") or {}).get("releaseTime")
            if not released:
                continue
            meta = claim["metadata"]
            if self.w.store.peek(self.w.t.pods, meta["namespace"], meta["name"]) is not None:
                continue
            expiry = self._expiry_of(claim, default)
            if expiry is not None and now >= parse_rfc3339(released) + expiry:
                self.w.delete(self.w.t.claims, meta["namespace"], meta["name"])

    def _retry_waiting_pods(self) -> None:
        """kubelet retries a failed sandbox with a back-off (at most RETRY apart): a Pod that
        waits for an IP gets one once ipamd runs again or an address is freed."""
        now = self.w.clock.now()
        for pod in list(self.w.store.objects(self.w.t.pods)):
            st = pod.get("status") or {}
            waiting = st.get("phase") == "Pending" and not st.get("podIP")
            node = pod.get("spec", {}).get("nodeName")
            # an ENI quota outlives any retry (the sandbox never lifts it): no new attempts
            if not waiting or not node or not is_vpc_cni(pod) or node in self.w.eni_limited_nodes:
                continue
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            if now < self._retry_at.get(key, now):
                continue
            self._retry_at[key] = now + RETRY
            self._pod_changed(pod)

    # ------------------------------------------------------------------ helpers

    def _expiry_of(self, claim: Obj, default: timedelta | None) -> timedelta | None:
        """The claim's expiry: its annotation, else its VpcIP's (read since ipamd v3.3.2; how a
        zero or unparsable value reads is World.expiry_zero_annotation's), else the flag's.
        None: never."""
        if not self.w.ipamd_reads_expiry_annotation():
            return default
        ip = (claim.get("status") or {}).get("ip")
        vip = self.w.store.peek(self.w.t.vips, "", ip) if ip and self.w.t.vips else None
        for obj in (claim, vip or {}):
            raw = ((obj.get("metadata") or {}).get("annotations") or {}).get(EXPIRY_ANNOTATION)
            if raw:
                return self.w.annotation_expiry(str(raw), default)
        return default

    def _mutate_claim(self, ns: str, name: str, fn: Callable[[Obj], None]) -> Obj | None:
        assert self.w.t.claims is not None
        return self.w.store.mutate(self.w.t.claims, ns, name, fn, manager=MANAGER)

    def _mutate_vip(self, ip: str, fn: Callable[[Obj], None]) -> Obj | None:
        assert self.w.t.vips is not None
        return self.w.store.mutate(self.w.t.vips, "", ip, fn, manager=MANAGER)

    # ------------------------------------------------------------------ pods

    def _pod_changed(self, pod: Obj) -> None:
        meta = pod["metadata"]
        node_name = pod.get("spec", {}).get("nodeName")
        if (
            not node_name
            or meta.get("deletionTimestamp")
            or not is_vpc_cni(pod)
            or (pod.get("status") or {}).get("phase", "Pending") != "Pending"
            or self.w.node_down(node_name)  # its CNI and agent do not answer: nothing asks
        ):
            return
        if not self.w.ipamd_running():
            self.kube.sandbox_failed(pod, IPAMD_DOWN)
            return
        assert self.w.t.claims is not None and self.w.t.vips is not None
        ns, name = meta["namespace"], meta["name"]
        claim = self.w.store.peek(self.w.t.claims, ns, name)
        if claim is None:
            claim = self._create_claim(pod)
            if claim is None:
                return
        ip = (claim.get("status") or {}).get("ip")
        vip = self.w.store.peek(self.w.t.vips, "", ip) if ip else None
        if vip is None:
            ip = self._allocate(pod, claim, node_name)
            if ip is None:
                return  # _allocate said why
        assert ip is not None
        limited = node_name in self.w.eni_limited_nodes
        now = self.w.now()

        def attach(v: Obj) -> None:
            v["metadata"].setdefault("labels", {})[NODE_LABEL] = node_name
            st = v.setdefault("status", {})
            if limited:
                st["phase"] = "Attaching"
                st["message"] = ENI_LIMIT_MESSAGE.format(node=node_name)
            else:
                st["phase"] = "Attached"
                st.pop("message", None)
            st["lastTransitionTime"] = now

        self._mutate_vip(ip, attach)

        def bind(c: Obj) -> None:
            st = c.setdefault("status", {})
            st["ip"] = ip
            st["phase"] = "Bound"
            st.pop("releaseTime", None)

        self._mutate_claim(ns, name, bind)
        if limited:
            node = self.w.store.peek(self.w.t.nodes, "", node_name)
            if node is not None:
                self.w.event(
                    node,
                    "ENILimit",
                    ENI_LIMIT_MESSAGE.format(node=node_name),
                    type_=self.eni_limit_event_type,
                    component=MANAGER,
                )
            self.kube.sandbox_failed(
                pod, f"VpcIP {ip} is still Attaching: " + ENI_LIMIT_MESSAGE.format(node=node_name)
            )
            return
        self.kube.start_vpc_pod(pod, ip)

    def _create_claim(self, pod: Obj) -> Obj | None:
        assert self.w.t.claims is not None
        meta = pod["metadata"]
        ann = meta.get("annotations") or {}
        claim_ann = {DELETE_POLICY: ann.get(DELETE_POLICY, "Immediate")}
        if EXPIRY_ANNOTATION in ann:
            claim_ann[EXPIRY_ANNOTATION] = ann[EXPIRY_ANNOTATION]
        claim_meta: dict[str, Any] = {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "labels": dict(meta.get("labels") or {}),
            "annotations": claim_ann,
        }
        if self.w.cascade():
            ref = controller_ref(pod)
            if ref is not None:
                ref["controller"] = False
                ref["blockOwnerDeletion"] = True
                claim_meta["ownerReferences"] = [ref]
        return self.w.create(
            self.w.t.claims,
            {"metadata": claim_meta, "spec": {}, "status": {"phase": "Pending"}},
            manager=MANAGER,
        )

    def _allocate(self, pod: Obj, claim: Obj, node_name: str) -> str | None:
        assert self.w.t.vips is not None
        node = self.w.store.peek(self.w.t.nodes, "", node_name) or {}
        zone = (node.get("metadata", {}).get("labels") or {}).get(ZONE_LABEL, "")
        subnet = self.w.subnet_for_zone(zone)
        if subnet is None:
            self._no_ip(pod, f"no container subnet configured for zone {zone or 'unknown'}")
            return None
        used = {v["metadata"]["name"] for v in self.w.store.objects(self.w.t.vips)}
        free = next((h for h in subnet.hosts() if h not in used), None)
        if free is None:
            self._no_ip(pod, f"subnet {subnet.id} ({subnet.cidr}) has no free IP")
            return None
        cmeta = claim["metadata"]
        vmeta: dict[str, Any] = {
            "name": free,
            "labels": {
                NODE_LABEL: node_name,
                POD_NS_LABEL: cmeta["namespace"],
                POD_NAME_LABEL: cmeta["name"],
            },
        }
        cann = cmeta.get("annotations") or {}
        if EXPIRY_ANNOTATION in cann:
            vmeta["annotations"] = {EXPIRY_ANNOTATION: cann[EXPIRY_ANNOTATION]}
        created = self.w.create(
            self.w.t.vips,
            {
                "metadata": vmeta,
                "spec": {
                    "type": "Pod",
                    "subnetID": subnet.id,
                    "claimRef": {
                        "namespace": cmeta["namespace"],
                        "name": cmeta["name"],
                        "uid": cmeta["uid"],
                    },
                },
                "status": {"phase": "Assigned", "subnetCIDR": subnet.cidr},
            },
            manager=MANAGER,
        )
        return free if created is not None else None

    def _no_ip(self, pod: Obj, reason: str) -> None:
        """ipamd's own Event, and kubelet's view of it: the Pod waits in ContainerCreating."""
        self.w.event(pod, "InsufficientIPorENI", reason, type_="Warning", component=MANAGER)
        self.kube.sandbox_failed(pod, f"InsufficientIPorENI: {reason}")

    def _pod_gone(self, pod: Obj) -> None:
        assert self.w.t.claims is not None
        meta = pod["metadata"]
        ns, name = meta["namespace"], meta["name"]
        if self.w.store.peek(self.w.t.pods, ns, name) is not None:
            return
        claim = self.w.store.peek(self.w.t.claims, ns, name)
        if claim is None or not self.w.ipamd_running():
            return
        policy = (claim["metadata"].get("annotations") or {}).get(DELETE_POLICY, "Immediate")
        if policy != "Never":
            self.w.delete(self.w.t.claims, ns, name)
            return
        now = self.w.now()

        def release(c: Obj) -> None:
            st = c.setdefault("status", {})
            st["phase"] = "Released"
            st["releaseTime"] = now

        self._mutate_claim(ns, name, release)
        ip = (claim.get("status") or {}).get("ip")
        if ip and not self._held_by_down_node(ip):
            self._detach(ip)

    def _detach(self, ip: str) -> None:
        now = self.w.now()

        def detach(v: Obj) -> None:
            v["metadata"].get("labels", {}).pop(NODE_LABEL, None)
            st = v.setdefault("status", {})
            st["phase"] = "Assigned"
            st.pop("message", None)
            st["lastTransitionTime"] = now

        self._mutate_vip(ip, detach)

    def _held_by_down_node(self, ip: str) -> bool:
        """The VpcIP is attached to a node that does not answer: its agent cannot detach it (the
        Pod's container may still hold the address), so it stays Attached, with its node label,
        until the node is Ready again (`_node_back`)."""
        assert self.w.t.vips is not None
        vip = self.w.store.peek(self.w.t.vips, "", ip)
        node = ((vip or {}).get("metadata", {}).get("labels") or {}).get(NODE_LABEL)
        return self.w.node_down(node)

    def _release_ip(self, claim: Obj) -> None:
        assert self.w.t.vips is not None
        ip = (claim.get("status") or {}).get("ip")
        if not ip or not self.w.ipamd_running():
            return  # a claim deleted while ipamd is down leaves its VpcIP behind: leaked
        vip = self.w.store.peek(self.w.t.vips, "", ip)
        ref = ((vip or {}).get("spec") or {}).get("claimRef") or {}
        if vip is not None and ref.get("uid") == claim["metadata"].get("uid"):
            if self._held_by_down_node(ip):
                return  # released once its node answers again (_node_back)
            self.w.delete(self.w.t.vips, "", ip)

    def _node_back(self, node: str) -> None:
        """A node answers again: its agent detaches the VpcIPs it kept for Pods that are gone —
        released for a claim deleted meanwhile, back to Assigned for a kept (Released) claim."""
        assert self.w.t.vips is not None and self.w.t.claims is not None
        if not self.w.ipamd_running():
            return
        for vip in list(self.w.store.objects(self.w.t.vips)):
            meta = vip["metadata"]
            if (meta.get("labels") or {}).get(NODE_LABEL) != node:
                continue
            ref = (vip.get("spec") or {}).get("claimRef") or {}
            ns, name = str(ref.get("namespace", "")), str(ref.get("name", ""))
            if self.w.store.peek(self.w.t.pods, ns, name) is not None:
                continue  # its Pod is there: ipamd deals with it when the Pod goes
            claim = self.w.store.peek(self.w.t.claims, ns, name)
            if claim is None or claim["metadata"].get("uid") != ref.get("uid"):
                self.w.delete(self.w.t.vips, "", meta["name"])
            elif (claim.get("status") or {}).get("phase") == "Released":
                self._detach(meta["name"])
        for pod in list(self.w.store.objects(self.w.t.pods)):
            if pod.get("spec", {}).get("nodeName") == node:
                self._pod_changed(pod)  # Pods bound to it meanwhile get their address


def _status_only(ev: Event) -> bool:
    """A MODIFIED event that changed nothing but `status` (and the bookkeeping metadata)."""
    if ev.type != "MODIFIED" or ev.old is None:
        return False

    def rest(o: Obj) -> Obj:
        meta = {
            k: v
            for k, v in o.get("metadata", {}).items()
            if k not in ("resourceVersion", "managedFields")
        }
        return {**{k: v for k, v in o.items() if k != "status"}, "metadata": meta}

    return rest(ev.old) == rest(ev.obj)
