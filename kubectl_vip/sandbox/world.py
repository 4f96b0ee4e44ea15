"""Shared helpers for the simulated controllers: typed access to the store, Events, ownership."""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from . import ipamdflags
from .apierrors import StatusError
from .clock import Clock, rfc3339
from .resources import TKE_GROUP, ResourceType
from .store import Obj, Store

ENI_IP = "tke.cloud.tencent.com/eni-ip"
DIRECT_ENI = "tke.cloud.tencent.com/direct-eni"
NETWORKS = "tke.cloud.tencent.com/networks"
DELETE_POLICY = "tke.cloud.tencent.com/vpc-ip-claim-delete-policy"
EXPIRY_ANNOTATION = "tke.cloud.tencent.com/claim-expired-duration"
NODE_LABEL = "tke.cloud.tencent.com/node-name"
POD_NS_LABEL = "tke.cloud.tencent.com/pod-namespace"
POD_NAME_LABEL = "tke.cloud.tencent.com/pod-name"
ENI_UNAVAILABLE_TAINT = "tke.cloud.tencent.com/eni-ip-unavailable"
ZONE_LABEL = "topology.kubernetes.io/zone"
ORDINAL = re.compile(r"^(.*)-(\d+)$")
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery rand.SafeEncodeString's
CONTROLLERS = ("statefulset", "nodelifecycle")  # what tests may stop (Sandbox.pause_controller)


@dataclass
class Subnet:
    id: str
    cidr: str
    zone: str

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr)

    def hosts(self) -> list[str]:
        """Assignable addresses: the network, the gateway (first host) and broadcast are
        reserved."""
        return [str(h) for h in itertools.islice(self.network.hosts(), 1, None)]


@dataclass
class Types:
    namespaces: ResourceType
    nodes: ResourceType
    pods: ResourceType
    events: ResourceType
    configmaps: ResourceType
    secrets: ResourceType
    deployments: ResourceType
    statefulsets: ResourceType
    daemonsets: ResourceType
    claims: ResourceType | None
    vips: ResourceType | None
    necs: ResourceType | None
    enis: ResourceType | None


@dataclass
class World:
    """What controllers share: the store, the clock, the types, and TKE's cloud-side facts."""

    store: Store
    clock: Clock
    t: Types
    subnets: list[Subnet] = field(default_factory=list)
    eni_limited_nodes: set[str] = field(default_factory=set)
    rollout_seconds: float = 0.0
    # ipamd's expiry sweep has stopped (the demo's story): the generation of the ipamd
    # Deployment when it stalled; finishing the rollout of a newer generation restarts it
    stalled_at_generation: int | None = None
    # readings of real ipamd that are not known (ipamdflags): the sandbox plays either
    ipamd_flag_library: ipamdflags.FlagLibrary = "flag"
    expiry_zero_annotation: ipamdflags.ZeroAnnotation = "never"
    # controllers a test has stopped (kube-controller-manager down): they leave objects alone
    paused: set[str] = field(default_factory=set)
    _event_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _name_seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # (namespace, involved uid, reason, message) -> the Event recorded for them
    _events: dict[tuple[str, str, str, str], str] = field(default_factory=dict)

    @classmethod
    def build(cls, store: Store, clock: Clock) -> World:
        by = store.registry.by_key
        tke = {t.plural: t for t in by.values() if t.group == TKE_GROUP}
        t = Types(
            by["namespaces"],
            by["nodes"],
            by["pods"],
            by["events"],
            by["configmaps"],
            by["secrets"],
            by["deployments.apps"],
            by["statefulsets.apps"],
            by["daemonsets.apps"],
            tke.get("vpcipclaims"),
            tke.get("vpcips"),
            tke.get("nodeeniconfigs"),
            tke.get("vpcenis"),
        )
        return cls(store, clock, t)

    @property
    def sweep_stalled(self) -> bool:
        """ipamd's expiry sweep has stopped; only a rollout of a changed ipamd restarts it."""
        return self.stalled_at_generation is not None

    @sweep_stalled.setter
    def sweep_stalled(self, stalled: bool) -> None:
        if not stalled:
            self.stalled_at_generation = None
            return
        dep = self.store.peek(self.t.deployments, "kube-system", "tke-eni-ipamd")
        self.stalled_at_generation = int(((dep or {}).get("metadata") or {}).get("generation", 0))

    def now(self) -> str:
        return rfc3339(self.clock.now())

    def generate_name(self, prefix: str, rtype: ResourceType, namespace: str) -> str:
        """`generateName`: the prefix and five characters of apimachinery's safe alphabet, as
        kube-apiserver makes them (random there; drawn from a sequence here, so a scenario
        plays the same names each time), not yet taken in the namespace."""
        while True:
            digest = hashlib.sha256(f"{prefix}{next(self._name_seq)}".encode()).digest()
            name = prefix + "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest[:5])
            if self.store.peek(rtype, namespace, name) is None:
                return name

    def create(
        self, rtype: ResourceType, obj: Obj, manager: str = "sandbox", *, fresh: bool = False
    ) -> Obj | None:
        """Create as a controller does; None when the namespace is gone or the name taken.
        `fresh`: `obj` (every part of it) was built for this call; the answer is then the
        stored object, read only (Store.create)."""
        ns = obj.get("metadata", {}).get("namespace", "")
        try:
            return self.store.create(rtype, ns, obj, manager=manager, _fresh=fresh)
        except StatusError as e:
            # 404: namespace gone, 409: exists, 403: namespace terminating
            if e.code in (403, 404, 409):
                return None
            raise

    def delete(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        propagation: str = "Background",
        *,
        grace: int | None = None,
    ) -> None:
        try:
            self.store.delete(rtype, namespace, name, propagation=propagation, grace_seconds=grace)
        except StatusError as e:
            if e.code != 404:
                raise

    def event(
        self,
        involved: Obj,
        reason: str,
        message: str,
        *,
        type_: str = "Normal",
        component: str = "sandbox",
    ) -> None:
        """Record an Event; a repeat of the same reason and message bumps its count."""
        meta = involved.get("metadata", {})
        ns = meta.get("namespace") or "default"
        name = meta.get("name", "")
        key = (ns, str(meta.get("uid", "")), reason, message)
        seen = self._events.get(key)
        ev = self.store.peek(self.t.events, ns, seen) if seen else None
        if ev is not None:
            now = self.now()

            def bump(o: Obj, now: str = now) -> None:
                o["count"] = int(o.get("count", 1)) + 1
                o["lastTimestamp"] = now

            self.store.mutate(self.t.events, ns, ev["metadata"]["name"], bump)
            return
        now = self.now()
        event_name = f"{name}.{next(self._event_seq):016x}"
        self._events[key] = event_name
        self.create(
            self.t.events,
            {
                "metadata": {"name": event_name, "namespace": ns},
                "involvedObject": {
                    "kind": involved.get("kind", ""),
                    "namespace": meta.get("namespace", ""),
                    "name": name,
                    "uid": meta.get("uid", ""),
                    "apiVersion": involved.get("apiVersion", ""),
                    "resourceVersion": meta.get("resourceVersion", ""),
                },
                "reason": reason,
                "message": message,
                "source": {"component": component},
                "reportingComponent": component,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "eventTime": None,
                "count": 1,
                "type": type_,
            },
            fresh=True,
        )

    # ---- facts about objects -------------------------------------------------------------

    def subnet_for_zone(self, zone: str) -> Subnet | None:
        configured = set(self.configured_subnet_ids())
        for s in self.subnets:
            if s.zone == zone and s.id in configured:
                return s
        return None

    def subnet_of_ip(self, ip: str) -> Subnet | None:
        addr = ipaddress.IPv4Address(ip)
        for s in self.subnets:
            if addr in s.network:
                return s
        return None

    def pinned_zone(self, pod: Obj) -> str | None:
        """A static IP pins its Pod to the zone of its subnet (tke-eni-ip-scheduler's job)."""
        if self.t.claims is None:
            return None
        meta = pod.get("metadata", {})
        claim = self.store.peek(self.t.claims, meta.get("namespace", ""), meta.get("name", ""))
        ip = ((claim or {}).get("status") or {}).get("ip")
        subnet = self.subnet_of_ip(ip) if ip else None
        return subnet.zone if subnet else None

    def configured_subnet_ids(self) -> list[str]:
        cm = self.store.peek(self.t.configmaps, "kube-system", "tke-eni-ipamd")
        raw = str(((cm or {}).get("data") or {}).get("TKE_ENI_IPAMD_SUBNET_ID", ""))
        return [s for s in raw.split(":") if s]

    def ipamd_container(self) -> dict[str, Any] | None:
        dep = self.store.peek(self.t.deployments, "kube-system", "tke-eni-ipamd")
        if dep is None:
            return None
        for c in dep.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            if c.get("name") == "tke-eni-ipamd" or "tke-eni-ipamd" in str(c.get("image", "")):
                return dict(c)
        return None

    def ipamd_args(self) -> list[str]:
        """The items ipamd parses as flags (after its binary: see ipamdflags)."""
        c = self.ipamd_container()
        return ipamdflags.flag_items(c) if c is not None else []

    def ipamd_running(self) -> bool:
        """A Pod of the ipamd Deployment runs and is ready (through its ReplicaSets)."""
        dep = self.store.peek(self.t.deployments, "kube-system", "tke-eni-ipamd")
        if dep is None or int(dep.get("spec", {}).get("replicas", 1)) <= 0:
            return False
        for _, rs in self.store.dependents(dep["metadata"]["uid"]):
            for rtype, pod in self.store.dependents(rs["metadata"]["uid"]):
                st = pod.get("status") or {}
                if (
                    rtype is self.t.pods
                    and st.get("phase") == "Running"
                    and not pod["metadata"].get("deletionTimestamp")
                    and any(
                        c.get("type") == "Ready" and c.get("status") == "True"
                        for c in st.get("conditions") or []
                    )
                ):
                    return True
        return False

    def ipamd_flag(self, name: str) -> str | None:
        """The value of `--name` as ipamd's flag library reads its args (`ipamd_flag_library`)."""
        return ipamdflags.read_flags(self.ipamd_args(), self.ipamd_flag_library).get(name)

    def expiry(self) -> timedelta | None:
        return parse_duration(self.ipamd_flag("claim-expired-duration"))

    def ipamd_reads_expiry_annotation(self) -> bool:
        """ipamd reads the per-object expiry annotation since v3.3.2 (an image whose tag is not
        a version is taken to be recent)."""
        dep = self.store.peek(self.t.deployments, "kube-system", "tke-eni-ipamd")
        images = [
            str(c.get("image", ""))
            for c in (dep or {})
            .get("spec", {})
            .get("template", {})
            .get("spec", {})
            .get("containers", [])
        ]
        for image in images:
            m = re.search(r"tke-eni-ipamd:v?(\d+)\.(\d+)\.(\d+)", image)
            if m:
                return tuple(int(g) for g in m.groups()) >= (3, 3, 2)
        return True

    def cascade(self) -> bool:
        return ipamdflags.go_bool(self.ipamd_flag("enable-ownerref"))

    def annotation_expiry(self, raw: str, flag: timedelta | None) -> timedelta | None:
        """The expiry an expiry annotation's value gives (None: never), as
        `expiry_zero_annotation` reads a zero value (see ipamdflags)."""
        return ipamdflags.annotation_expiry(
            parse_duration_exact(raw), flag, self.expiry_zero_annotation
        )

    # ---- nodes ---------------------------------------------------------------------------

    def node_down(self, name: str | None) -> bool:
        """The node's kubelet and ENI agent do not answer: its Ready condition is there and not
        True. A node without a Ready condition (none posted yet) or gone is not taken as down."""
        node = self.store.peek(self.t.nodes, "", name) if name else None
        return node is not None and node_ready(node) not in (None, "True")


def parse_duration(text: str | None) -> timedelta | None:
    """Go duration → timedelta; None for absent, zero or unparseable (ipamd would not expire)."""
    td = parse_duration_exact(text)
    return td if td is not None and td > timedelta(0) else None


def parse_duration_exact(text: str | None) -> timedelta | None:
    """Go duration → timedelta, zero included; None for absent or unparseable."""
    if not text:
        return None
    import durationpy  # a dependency of the kubernetes client

    try:
        return durationpy.from_str(text)
    except ValueError:
        return None


def is_vpc_cni(pod: Obj) -> bool:
    ann = pod.get("metadata", {}).get("annotations") or {}
    if ann.get(NETWORKS) in ("tke-route-eni", "tke-direct-eni"):
        return True
    for c in pod.get("spec", {}).get("containers") or []:
        res = c.get("resources") or {}
        for part in ("requests", "limits"):
            if ENI_IP in (res.get(part) or {}) or DIRECT_ENI in (res.get(part) or {}):
                return True
    return False


def controller_ref(obj: Obj) -> dict[str, Any] | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def owner_ref(owner: Obj, *, controller: bool = True) -> dict[str, Any]:
    m = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": m["name"],
        "uid": m["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def node_ready(node: Obj) -> str | None:
    """The status of the node's Ready condition (`True`, `False`, `Unknown`), None without one."""
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return str(c.get("status"))
    return None
