"""Building blocks of the scenarios: small builders over World (`B`), so a scenario reads as a
story, and the seeders that put objects in their final state directly."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import subresources
from .store import Obj
from .world import (
    DELETE_POLICY,
    ENI_IP,
    ENI_UNAVAILABLE_TAINT,
    EXPIRY_ANNOTATION,
    NODE_LABEL,
    POD_NAME_LABEL,
    POD_NS_LABEL,
    ZONE_LABEL,
    Subnet,
    World,
)

if TYPE_CHECKING:
    from .core import SandboxCore

HISTORY = timedelta(days=10)
REGISTRY = "ccr.ccs.tencentyun.com/tkeimages"
IPAMD_IMAGE = REGISTRY + "/tke-eni-ipamd:{version}"
VPC_ID = "vpc-sb7x2k9d"


# ---------------------------------------------------------------------- building blocks


class B:
    """Small builders over World, so scenarios read as a story."""

    def __init__(self, sb: SandboxCore) -> None:
        self.sb = sb
        self.w: World = sb.world
        self.t = sb.world.t

    def later(self, delta: timedelta) -> None:
        self.sb.advance(delta)

    def at(self, ago: timedelta) -> None:
        """Go on to `ago` before the scenario's present (HISTORY after its start)."""
        target = self.sb.began + HISTORY - ago
        if target > self.sb.clock.now():
            self.sb.advance(target - self.sb.clock.now())

    def ns(self, *names: str) -> None:
        for n in names:
            self.w.create(
                self.t.namespaces,
                {
                    "metadata": {"name": n},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
            )

    def node(
        self, name: str, zone: str, ip: str, *, eni_ips: int = 30, taint: bool = False
    ) -> None:
        spec: dict[str, Any] = {"providerID": f"qcloud:///{zone}/ins-{name}"}
        if taint:
            spec["taints"] = [
                {"key": ENI_UNAVAILABLE_TAINT, "value": "true", "effect": "NoSchedule"}
            ]
        self.w.create(
            self.t.nodes,
            {
                "metadata": {
                    "name": name,
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        ZONE_LABEL: zone,
                        "node.kubernetes.io/instance-type": "SA5.2XLARGE16",
                    },
                },
                "spec": spec,
                "status": {
                    "addresses": [{"type": "InternalIP", "address": ip}],
                    "capacity": {"cpu": "8", "memory": "16Gi", "pods": "61", ENI_IP: str(eni_ips)},
                    "allocatable": {
                        "cpu": "7800m",
                        "memory": "14Gi",
                        "pods": "61",
                        ENI_IP: str(eni_ips),
                    },
                    "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
                    "nodeInfo": {
                        "kubeletVersion": "v1.32.2-tke.1",
                        "osImage": "TencentOS Server 3.1",
                    },
                },
            },
        )

    def nec(self, node: str, subnet: Subnet | None, eni: str) -> None:
        status: dict[str, Any] = {}
        if subnet is not None:
            status = {
                "eniInfos": [
                    {
                        "eniID": eni,
                        "subnetID": subnet.id,
                        "subnetCIDR": subnet.cidr,
                        "phase": "Attached",
                    }
                ]
            }
        if self.t.necs is None:
            return  # --no-tke: a cluster without the TKE CRDs has no NodeENIConfigs
        self.w.create(
            self.t.necs,
            {
                "metadata": {"name": node},
                "spec": {"maxRouteENI": 3, "maxIPPerENI": 10},
                "status": status,
            },
        )
        if subnet is not None and self.t.enis is not None:
            self.w.create(
                self.t.enis,
                {
                    "metadata": {"name": eni, "labels": {NODE_LABEL: node}},
                    "spec": {"nodeName": node, "subnetID": subnet.id, "type": "route"},
                    "status": {"phase": "Attached", "subnetCIDR": subnet.cidr},
                },
            )

    def ipamd(
        self,
        version: str,
        args: list[str],
        subnets: list[Subnet],
        *,
        replicas: int = 1,
        command: list[str] | None = None,
    ) -> None:
        """ipamd's ConfigMap and Deployment (its container runs `command`, by default the binary
        itself, with `args`), the eni agent (a DaemonSet on every node) and the static-IP
        scheduler (a Deployment): their controllers run their Pods."""
        self.w.subnets = subnets
        self.w.create(
            self.t.configmaps,
            {
                "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
                "data": {
                    "TKE_ENI_IPAMD_SUBNET_ID": ":".join(s.id for s in subnets),
                    "TKE_ENI_IPAMD_VPC_ID": VPC_ID,
                },
            },
        )
        labels = {"k8s-app": "tke-eni-ipamd"}
        self.w.create(
            self.t.deployments,
            {
                "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system", "labels": labels},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "serviceAccountName": "tke-eni-ipamd",
                            "hostNetwork": True,
                            "containers": [
                                {
                                    "name": "tke-eni-ipamd",
                                    "image": IPAMD_IMAGE.format(version=version),
                                    "command": command or ["/usr/bin/tke-eni-ipamd"],
                                    "args": args,
                                }
                            ],
                        },
                    },
                },
            },
        )
        agent = {"k8s-app": "tke-eni-agent"}
        self.w.create(
            self.t.daemonsets,
            {
                "metadata": {"name": "tke-eni-agent", "namespace": "kube-system", "labels": agent},
                "spec": {
                    "selector": {"matchLabels": agent},
                    "template": {
                        "metadata": {"labels": agent},
                        "spec": {
                            "hostNetwork": True,
                            "tolerations": [{"operator": "Exists"}],
                            "containers": [
                                {
                                    "name": "tke-eni-agent",
                                    "image": f"{REGISTRY}/tke-eni-agent:{version}",
                                }
                            ],
                        },
                    },
                },
            },
        )
        sched = {"k8s-app": "tke-eni-ip-scheduler"}
        self.w.create(
            self.t.deployments,
            {
                "metadata": {
                    "name": "tke-eni-ip-scheduler",
                    "namespace": "kube-system",
                    "labels": sched,
                },
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": sched},
                    "template": {
                        "metadata": {"labels": sched},
                        "spec": {
                            "containers": [
                                {
                                    "name": "tke-eni-ip-scheduler",
                                    "image": f"{REGISTRY}/tke-eni-ip-scheduler:{version}",
                                }
                            ]
                        },
                    },
                },
            },
        )

    def template(
        self,
        app: str,
        *,
        static: bool,
        expiry: str | None = None,
        zone: str | None = None,
        vpc: bool = True,
    ) -> dict[str, Any]:
        ann = {DELETE_POLICY: "Never" if static else "Immediate"}
        if expiry:
            ann[EXPIRY_ANNOTATION] = expiry
        res = {"requests": {ENI_IP: "1"}, "limits": {ENI_IP: "1"}} if vpc else {}
        spec: dict[str, Any] = {
            "containers": [
                {"name": app, "image": f"registry.example.com/{app}:1.0", "resources": res}
            ]
        }
        if zone:
            spec["nodeSelector"] = {ZONE_LABEL: zone}
        return {"metadata": {"labels": {"app": app}, "annotations": ann}, "spec": spec}

    def sts(self, ns: str, name: str, replicas: int, template: dict[str, Any]) -> Obj | None:
        return self.w.create(
            self.t.statefulsets,
            {
                "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
                "spec": {
                    "replicas": replicas,
                    "serviceName": name,
                    "selector": {"matchLabels": template["metadata"]["labels"]},
                    "template": template,
                },
            },
        )

    def scale(self, ns: str, name: str, replicas: int, *, manager: str = "kubectl") -> None:
        """Scale a StatefulSet as `kubectl scale` does (manager `kubectl`) or an autoscaler
        (`kube-controller-manager`): through its `/scale` subresource, so managedFields tell
        who set the replicas and when."""
        scale = subresources.scale_of(self.w.store.get(self.t.statefulsets, ns, name))
        scale["spec"] = {"replicas": replicas}
        subresources.write_scale(
            self.w.store, self.t.statefulsets, ns, name, scale, dry_run=False, manager=manager
        )

    def delete_uncollected(self, rtype_name: str, ns: str, name: str) -> None:
        """Delete an object unseen by the controllers (the garbage collector above all): its
        dependents keep their ownerReferences to it, which the GC of the time never collected
        (demo's legacy-api tells the same story). How else would a claim still name a deleted
        StatefulSet that cascade (`--enable-ownerref`) made its owner."""
        store = self.w.store
        listeners, store.listeners = store.listeners, []
        try:
            self.delete(rtype_name, ns, name)
        finally:
            store.listeners = listeners

    def node_lost(self, name: str) -> None:
        """The node's kubelet stops posting status: the node lifecycle controller sets its
        Ready condition to Unknown (and then taints the node; see nodelifecycle)."""
        now = self.w.now()

        def unknown(n: Obj) -> None:
            for c in n.setdefault("status", {}).setdefault("conditions", []):
                if c.get("type") == "Ready":
                    c.update(
                        status="Unknown",
                        reason="NodeStatusUnknown",
                        message="Kubelet stopped posting node status.",
                        lastTransitionTime=now,
                    )

        self.w.store.mutate(self.t.nodes, "", name, unknown, manager="kube-controller-manager")

    def force_delete(self, ns: str, name: str) -> None:
        """`kubectl delete pod --grace-period=0 --force`: gone at once, whatever its node."""
        self.w.delete(self.t.pods, ns, name, grace=0)

    def pod(
        self, ns: str, name: str, template: dict[str, Any], owner: dict[str, Any] | None = None
    ) -> Obj | None:
        meta: dict[str, Any] = {"name": name, "namespace": ns, **template["metadata"]}
        if owner:
            meta["ownerReferences"] = [owner]
        return self.w.create(self.t.pods, {"metadata": meta, "spec": template["spec"]})

    def delete(self, rtype_name: str, ns: str, name: str) -> None:
        self.w.delete(getattr(self.t, rtype_name), ns, name)

    def finish(self, ns: str, name: str, phase: str) -> None:
        def done(p: Obj) -> None:
            st = p.setdefault("status", {})
            st["phase"] = phase
            for c in st.get("containerStatuses") or []:
                c["ready"] = False
                c["state"] = {
                    "terminated": {
                        "exitCode": 0 if phase == "Succeeded" else 1,
                        "reason": "Completed" if phase == "Succeeded" else "Error",
                    }
                }

        self.w.store.mutate(self.t.pods, ns, name, done, manager="kubelet")


def _seed_owned_claims(b: B, ns: str, owner: Obj, count: int, subnet: Subnet) -> None:
    """Claims (and VpcIPs) of an owner's Pods that were deleted while cascade was on."""
    if b.t.claims is None or b.t.vips is None:
        return
    om = owner["metadata"]
    ref = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": om["name"],
        "uid": om["uid"],
        "controller": False,
        "blockOwnerDeletion": True,
    }
    hosts = [h for h in subnet.hosts() if b.w.store.peek(b.t.vips, "", h) is None]
    for i in range(count):
        name = f"{om['name']}-{i}"
        claim = b.w.create(
            b.t.claims,
            {
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": {"app": om["name"]},
                    "annotations": {DELETE_POLICY: "Never"},
                    "ownerReferences": [ref],
                },
                "spec": {},
                "status": {"phase": "Released", "ip": hosts[-1 - i], "releaseTime": b.w.now()},
            },
            manager="tke-eni-ipamd",
        )
        assert claim is not None
        _seed_vip(b, hosts[-1 - i], subnet, claim)


def _seed_vip(
    b: B, ip: str, subnet: Subnet, claim: Obj | None, *, ref: dict[str, str] | None = None
) -> None:
    if b.t.vips is None:
        return
    if claim is not None:
        cm = claim["metadata"]
        ref = {"namespace": cm["namespace"], "name": cm["name"], "uid": cm["uid"]}
    assert ref is not None
    b.w.create(
        b.t.vips,
        {
            "metadata": {
                "name": ip,
                "labels": {POD_NS_LABEL: ref["namespace"], POD_NAME_LABEL: ref["name"]},
            },
            "spec": {"type": "Pod", "subnetID": subnet.id, "claimRef": dict(ref)},
            "status": {"phase": "Assigned", "subnetCIDR": subnet.cidr},
        },
        manager="tke-eni-ipamd",
        fresh=True,  # built here, whole
    )


def _seed_leaks(b: B, subnet: Subnet, ips: list[str]) -> None:
    """VpcIPs whose claim is gone: a claim deleted while ipamd was down never released them."""
    for i, ip in enumerate(ips):
        _seed_vip(
            b,
            ip,
            subnet,
            None,
            ref={
                "namespace": "web",
                "name": f"batch-{i}",
                "uid": f"00000000-0000-4000-8000-00000000000{i}",
            },
        )


def _seed_unbound(b: B, ns: str, name: str) -> None:
    if b.t.claims is None:
        return
    b.w.create(
        b.t.claims,
        {
            "metadata": {"name": name, "namespace": ns, "annotations": {DELETE_POLICY: "Never"}},
            "spec": {},
            "status": {"phase": "Released", "releaseTime": b.w.now()},
        },
        manager="tke-eni-ipamd",
    )


# ---------------------------------------------------------------------- scale


def _seed_running_pod(b: B, ns: str, sts: Obj, name: str, node: str, ip: str, now: str) -> None:
    sts_name = sts["metadata"]["name"]
    tmpl = b.template(sts_name, static=True)
    b.w.create(
        b.t.pods,
        {
            "metadata": {
                "name": name,
                "namespace": ns,
                **tmpl["metadata"],
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "StatefulSet",
                        "name": sts_name,
                        "uid": sts["metadata"]["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {**tmpl["spec"], "nodeName": node},
            "status": {"phase": "Running", "podIP": ip, "startTime": now},
        },
        fresh=True,  # built here, whole (b.template makes a new template each time)
    )
