"""The sandbox's simulated controllers, in-process: tke-eni-ipamd's claim/VpcIP lifecycle driven
by its own Deployment args, StatefulSets, the garbage collector and namespace deletion."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.apierrors import StatusError
from kubectl_vip.sandbox.resources import ResourceType
from kubectl_vip.sandbox.store import Obj

from .conftest import FIXED_NOW

NEVER = {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Never"}
EXPIRY = "tke.cloud.tencent.com/claim-expired-duration"
ENI = {"requests": {"tke.cloud.tencent.com/eni-ip": "1"}}
GZ3 = {"topology.kubernetes.io/zone": "ap-guangzhou-3"}


class Cluster:
    """Typed access to a sandbox built without serving it."""

    def __init__(self, scenario: str = "demo", **kw: Any) -> None:
        self.sb = Sandbox(scenario, now=FIXED_NOW, **kw)
        self.store = self.sb.store
        self.t = self.sb.world.t

    def kind(self, name: str) -> ResourceType:
        rtype: ResourceType | None = getattr(self.t, name)
        assert rtype is not None
        return rtype

    def get(self, kind: str, ns: str, name: str) -> Obj | None:
        obj = self.store.peek(self.kind(kind), ns, name)
        return copy.deepcopy(obj) if obj is not None else None

    def claim(self, ns: str, name: str) -> Obj | None:
        return self.get("claims", ns, name)

    def vip(self, ip: str) -> Obj | None:
        return self.get("vips", "", ip)

    def pod(self, ns: str, name: str) -> Obj | None:
        return self.get("pods", ns, name)

    def names(self, kind: str, ns: str | None = None) -> list[str]:
        return [o["metadata"]["name"] for o in self.store.objects(self.kind(kind), ns)]

    def create(self, kind: str, ns: str, obj: Obj) -> Obj:
        return self.store.create(self.kind(kind), ns, obj)

    def delete(self, kind: str, ns: str, name: str, policy: str = "Background") -> Obj:
        obj, _ = self.store.delete(self.kind(kind), ns, name, propagation=policy)
        return obj

    def mutate(self, kind: str, ns: str, name: str, fn: Any) -> None:
        self.store.mutate(self.kind(kind), ns, name, fn)

    def static_pod(self, ns: str, name: str, **annotations: str) -> Obj:
        meta = {"name": name, "annotations": {**NEVER, **annotations}}
        spec = {"nodeSelector": GZ3, "containers": [{"name": "c", "resources": ENI}]}
        return self.create("pods", ns, {"metadata": meta, "spec": spec})

    def sts(self, ns: str, name: str, replicas: int, policy: str = "Never") -> Obj:
        ann = {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": policy}
        template = {
            "metadata": {"labels": {"app": name}, "annotations": ann},
            "spec": {"nodeSelector": GZ3, "containers": [{"name": name, "resources": ENI}]},
        }
        return self.create(
            "statefulsets",
            ns,
            {
                "metadata": {"name": name},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": name}},
                    "template": template,
                },
            },
        )

    def set_ipamd_args(self, args: list[str]) -> None:
        def edit(d: Obj) -> None:
            d["spec"]["template"]["spec"]["containers"][0]["args"] = args

        self.mutate("deployments", "kube-system", "tke-eni-ipamd", edit)

    def stalled(self) -> bool:
        return self.sb.world.sweep_stalled

    def ip_of(self, ns: str, name: str) -> str:
        c = self.claim(ns, name)
        assert c is not None
        return str(c["status"]["ip"])


@pytest.fixture
def demo() -> Cluster:
    return Cluster("demo")


@pytest.fixture
def healthy() -> Cluster:
    return Cluster("healthy")


# ------------------------------------------------------------------------------ pods and IPs


def test_a_vpc_cni_pod_gets_a_claim_a_vpcip_and_runs(demo: Cluster) -> None:
    pod = demo.static_pod("default", "solo")
    ip = demo.ip_of("default", "solo")
    assert ip == "10.0.1.11"  # the first free address of the zone's subnet
    running = demo.pod("default", "solo")
    assert running is not None and running["status"]["phase"] == "Running"
    assert running["status"]["podIP"] == ip and running["spec"]["nodeName"] == "node-a"
    vip, claim = demo.vip(ip), demo.claim("default", "solo")
    assert vip is not None and claim is not None
    assert claim["status"] == {"phase": "Bound", "ip": ip}
    assert vip["spec"]["claimRef"] == {
        "namespace": "default",
        "name": "solo",
        "uid": claim["metadata"]["uid"],
    }
    assert vip["status"]["phase"] == "Attached"
    assert vip["metadata"]["labels"]["tke.cloud.tencent.com/node-name"] == "node-a"
    assert pod["metadata"]["name"] == "solo"


def test_deleting_a_static_pod_keeps_claim_and_vpcip(demo: Cluster) -> None:
    demo.static_pod("default", "solo")
    ip = demo.ip_of("default", "solo")
    demo.sb.advance(timedelta(minutes=7))
    demo.delete("pods", "default", "solo")
    assert demo.pod("default", "solo") is None
    claim = demo.claim("default", "solo")
    assert claim is not None
    assert claim["status"] == {"phase": "Released", "ip": ip, "releaseTime": "2026-11-20T12:07:00Z"}
    vip = demo.vip(ip)
    assert vip is not None and vip["status"]["phase"] == "Assigned"
    assert "tke.cloud.tencent.com/node-name" not in vip["metadata"]["labels"]
    # the next Pod of that name gets the same IP back
    demo.static_pod("default", "solo")
    again = demo.pod("default", "solo")
    assert again is not None and again["status"]["podIP"] == ip
    claim = demo.claim("default", "solo")
    assert claim is not None and claim["status"] == {"phase": "Bound", "ip": ip}


def test_deleting_an_immediate_pod_releases_claim_and_vpcip(demo: Cluster) -> None:
    name = "frontend-6f7d9c-q2x8z"
    assert demo.ip_of("web", name) == "10.0.2.11"
    demo.delete("pods", "web", name)
    assert demo.claim("web", name) is None
    assert demo.vip("10.0.2.11") is None


def test_deleting_a_claim_releases_only_its_own_vpcip(demo: Cluster) -> None:
    demo.delete("claims", "default", "debug-shell")
    assert demo.vip("10.0.1.9") is None
    assert demo.vip("10.0.2.60") is not None  # leaked VpcIPs are never swept
    demo.delete("claims", "web", "api-old-7")  # unbound: no VpcIP to release
    assert len(demo.names("vips")) == 23


def test_a_pod_in_a_zone_without_subnet_stays_pending(demo: Cluster) -> None:
    geo = demo.pod("web", "geo-0")
    assert geo is not None and geo["status"]["phase"] == "Pending"
    assert geo["status"]["conditions"][0]["message"] == (
        "0/4 nodes are available: 4 Insufficient tke.cloud.tencent.com/eni-ip."
    )
    assert demo.claim("web", "geo-0") is None


def test_eni_limit_node(demo: Cluster) -> None:
    nec = demo.get("necs", "", "node-c")
    assert nec is not None and nec["status"] == {}
    analytics = demo.vip("10.0.3.2")
    assert analytics is not None and analytics["status"]["phase"] == "Attaching"
    spec = {
        "nodeSelector": {"topology.kubernetes.io/zone": "ap-guangzhou-6"},
        "containers": [{"name": "c", "resources": ENI}],
    }
    demo.create("pods", "db", {"metadata": {"name": "more", "annotations": NEVER}, "spec": spec})
    ip = demo.ip_of("db", "more")
    vip = demo.vip(ip)
    assert vip is not None
    assert vip["status"]["phase"] == "Attaching"
    assert vip["status"]["message"] == (
        "ENILimit: the number of ENIs in the VPC has reached the quota (1000 per VPC per region); "
        "cannot attach an ENI to node node-c"
    )
    pod = demo.pod("db", "more")
    assert pod is not None and pod["status"]["phase"] == "Pending"
    limit_events = [
        e for e in demo.store.objects(demo.kind("events"), "default") if e["reason"] == "ENILimit"
    ]
    assert [(e["involvedObject"]["name"], e["count"], e["type"]) for e in limit_events] == [
        ("node-c", 2, "Warning")
    ]
    sandbox_events = [
        e["involvedObject"]["name"]
        for e in demo.store.objects(demo.kind("events"), "db")
        if e["reason"] == "FailedCreatePodSandBox"
    ]
    assert sandbox_events == ["analytics-0", "more"]


# ------------------------------------------------------------------------------ expiry


def test_stalled_sweep_reclaims_nothing(demo: Cluster) -> None:
    assert demo.stalled()
    before = demo.names("claims")
    demo.sb.advance(timedelta(days=3))
    assert demo.names("claims") == before  # etl-worker-* are 30m overdue, still there


def test_expiry_after_ipamd_args_change_and_rollout(demo: Cluster) -> None:
    demo.set_ipamd_args(["--logtostderr", "--claim-expired-duration=24h"])
    assert not demo.stalled()  # the rollout of the new generation restarted it
    demo.sb.tick()
    # overdue by their 30m annotation, and debug-shell (released 4 days ago) by the 24h flag
    for ns, name, ip in [
        ("jobs", "etl-worker-0", "10.0.2.8"),
        ("jobs", "etl-worker-1", "10.0.2.9"),
        ("default", "debug-shell", "10.0.1.9"),
        ("db", "redis-2", "10.0.1.7"),
        ("web", "legacy-api-0", "10.0.1.14"),
    ]:
        assert demo.claim(ns, name) is None, name
        assert demo.vip(ip) is None, ip
    # canary-0: 48h annotation, released at 2026-11-19T14:00Z; api-old-7: released 2h ago
    assert demo.claim("default", "canary-0") is not None
    assert demo.claim("web", "api-old-7") is not None
    demo.sb.advance(timedelta(hours=25, minutes=59))
    assert demo.claim("default", "canary-0") is not None
    demo.sb.advance(timedelta(minutes=1))
    assert demo.claim("default", "canary-0") is None
    assert demo.vip("10.0.1.10") is None
    assert demo.claim("web", "api-old-7") is None  # 24h after 2026-11-20T10:00Z
    assert demo.claim("db", "mysql-0") is not None  # in use: never reclaimed


def test_a_slow_rollout_keeps_the_sweep_stalled_until_it_finishes() -> None:
    c = Cluster("demo", rollout_seconds=60)
    assert c.stalled() and c.claim("jobs", "etl-worker-0") is not None
    c.set_ipamd_args(["--claim-expired-duration=1h"])
    dep = c.get("deployments", "kube-system", "tke-eni-ipamd")
    # updatedReplicas is omitted at 0 (omitempty), as kube-controller-manager writes it
    assert dep is not None and dep["status"].get("updatedReplicas", 0) == 0
    assert dep["status"]["replicas"] == 1 and dep["status"]["availableReplicas"] == 1
    c.sb.advance(timedelta(seconds=59))
    assert c.stalled() and c.claim("jobs", "etl-worker-0") is not None
    c.sb.advance(timedelta(seconds=1))
    assert not c.stalled()
    assert c.claim("jobs", "etl-worker-0") is None


def test_per_object_annotation_overrides_the_flag(healthy: Cluster) -> None:
    healthy.static_pod("default", "short", **{EXPIRY: "10m"})
    healthy.static_pod("default", "plain")
    healthy.static_pod("default", "on-vip")
    vip_ip = healthy.ip_of("default", "on-vip")

    def annotate(v: Obj) -> None:
        v["metadata"]["annotations"] = {EXPIRY: "20m"}

    healthy.mutate("vips", "", vip_ip, annotate)
    for name in ("short", "plain", "on-vip"):
        healthy.delete("pods", "default", name)
    healthy.sb.advance(timedelta(minutes=9, seconds=59))
    assert healthy.names("claims", "default") == ["on-vip", "plain", "short"]
    healthy.sb.advance(timedelta(seconds=1))
    assert healthy.names("claims", "default") == ["on-vip", "plain"]
    healthy.sb.advance(timedelta(minutes=10))
    assert healthy.names("claims", "default") == ["plain"]
    assert healthy.vip(vip_ip) is None
    healthy.sb.advance(timedelta(minutes=40))  # the flag: 1h
    assert healthy.names("claims", "default") == []


def _set_image(c: Cluster, image: str) -> None:
    def edit(d: Obj) -> None:
        for ctr in d["spec"]["template"]["spec"]["containers"]:
            if "tke-eni-ipamd" in ctr.get("image", "") or ctr.get("name") == "tke-eni-ipamd":
                ctr["image"] = image

    c.mutate("deployments", "kube-system", "tke-eni-ipamd", edit)


@pytest.mark.parametrize("image_tag", ["v3.4.2", "v3.3.1"], ids=["reads-annotation", "too-old"])
def test_zero_and_unparseable_annotations_as_the_tool_reads_them(
    healthy: Cluster, image_tag: str
) -> None:
    """How ipamd reads "0s" or a value it cannot parse is not public: the sandbox plays "never"
    (its default), and the tool, told that reading, sweeps exactly the claims the sandbox
    sweeps, when it says so; an ipamd older than v3.3.2 reads no annotation. Without a reading
    the tool calls those claims' expiry unknown (never Expiring)."""
    from kubectl_vip.model import claims as cl
    from kubectl_vip.model.claims import IpamdPolicy, Reading, State

    _set_image(healthy, f"ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:{image_tag}")
    healthy.static_pod("default", "zero", **{EXPIRY: "0s"})
    healthy.static_pod("default", "garbled", **{EXPIRY: "soon"})
    healthy.static_pod("default", "vip-zero")
    healthy.static_pod("default", "plain")
    healthy.static_pod("default", "short", **{EXPIRY: "10m"})
    healthy.mutate(
        "vips",
        "",
        healthy.ip_of("default", "vip-zero"),
        lambda v: v["metadata"].__setitem__("annotations", {EXPIRY: "0s"}),
    )
    for name in ("zero", "garbled", "vip-zero", "plain", "short"):
        healthy.delete("pods", "default", name)
    healthy.sb.advance(timedelta(minutes=1))
    inv = cl.Inventory.build(
        [c for c in healthy.store.objects(healthy.t.claims)],
        [v for v in healthy.store.objects(healthy.t.vips)],
        [p for p in healthy.store.objects(healthy.t.pods)],
    )
    old = image_tag == "v3.3.1"
    policy = IpamdPolicy(timedelta(hours=1), annotation_supported=not old)
    now = healthy.sb.clock.now()
    unknown = {r.name for r in cl.classify(inv, policy, now) if r.expiry_options}
    assert unknown == (set() if old else {"zero", "garbled", "vip-zero"})
    played = Reading(zero_is_flag=False)  # the sandbox's default, expiry_zero_annotation="never"
    rows = {r.name: r for r in cl.classify(inv, policy, now, played) if r.namespace == "default"}
    expiring = {n for n, r in rows.items() if r.state is State.EXPIRING}
    every = {"zero", "garbled", "vip-zero", "plain", "short"}
    assert expiring == (every if old else {"plain", "short"})
    for step in (timedelta(minutes=10), timedelta(minutes=50), timedelta(days=30)):
        healthy.sb.advance(step)
        now = healthy.sb.clock.now()
        due = {n for n, r in rows.items() if r.reclaim_at is not None and r.reclaim_at <= now}
        assert set(healthy.names("claims", "default")) == set(rows) - due, now


# ------------------------------------------------------------------------------ statefulsets


def test_a_deleted_statefulset_pod_comes_back_with_the_same_ip(demo: Cluster) -> None:
    old = demo.pod("db", "mysql-0")
    assert old is not None
    demo.delete("pods", "db", "mysql-0")
    new = demo.pod("db", "mysql-0")
    assert new is not None and new["metadata"]["uid"] != old["metadata"]["uid"]
    assert new["status"]["phase"] == "Running"
    assert new["status"]["podIP"] == old["status"]["podIP"] == "10.0.1.2"
    claim = demo.claim("db", "mysql-0")
    assert claim is not None and claim["status"] == {"phase": "Bound", "ip": "10.0.1.2"}


def test_scale_in_deletes_the_top_ordinals_and_scale_out_restores_their_ips(
    demo: Cluster,
) -> None:
    ips = {n: demo.ip_of("db", n) for n in ("mysql-0", "mysql-1", "mysql-2")}

    def replicas(n: int) -> Any:
        return lambda s: s["spec"].update(replicas=n)

    demo.mutate("statefulsets", "db", "mysql", replicas(1))
    assert [n for n in demo.names("pods", "db") if n.startswith("mysql")] == ["mysql-0"]
    for n in ("mysql-1", "mysql-2"):
        claim = demo.claim("db", n)
        assert claim is not None and claim["status"]["phase"] == "Released"
    sts = demo.get("statefulsets", "db", "mysql")
    assert sts is not None and sts["status"]["readyReplicas"] == 1
    demo.mutate("statefulsets", "db", "mysql", replicas(3))
    for n, ip in ips.items():
        pod = demo.pod("db", n)
        assert pod is not None and pod["status"]["podIP"] == ip
    sts = demo.get("statefulsets", "db", "mysql")
    assert sts is not None and sts["status"]["readyReplicas"] == 3


def test_cascade_gives_new_claims_owner_references(healthy: Cluster) -> None:
    sts = healthy.sts("default", "web", 2)
    for i in range(2):
        claim = healthy.claim("default", f"web-{i}")
        assert claim is not None
        assert claim["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "StatefulSet",
                "name": "web",
                "uid": sts["metadata"]["uid"],
                "controller": False,
                "blockOwnerDeletion": True,
            }
        ]
    ips = [healthy.ip_of("default", f"web-{i}") for i in range(2)]
    healthy.delete("statefulsets", "default", "web")
    assert healthy.names("pods", "default") == []
    assert healthy.names("claims", "default") == []
    assert [healthy.vip(ip) for ip in ips] == [None, None]


def test_without_cascade_deleting_the_statefulset_keeps_static_claims(demo: Cluster) -> None:
    demo.sts("default", "web", 1)
    claim = demo.claim("default", "web-0")
    assert claim is not None and "ownerReferences" not in claim["metadata"]
    demo.delete("statefulsets", "default", "web")
    assert demo.pod("default", "web-0") is None
    claim = demo.claim("default", "web-0")
    assert claim is not None and claim["status"]["phase"] == "Released"
    assert demo.vip(claim["status"]["ip"]) is not None


# ------------------------------------------------------------------------------ GC policies


def test_foreground_deletion_removes_dependents_before_the_owner(healthy: Cluster) -> None:
    healthy.sts("default", "fg", 2)
    start = healthy.store.rv
    marked = healthy.delete("statefulsets", "default", "fg", policy="Foreground")
    assert marked["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert marked["metadata"]["deletionTimestamp"] == "2026-11-20T12:00:00Z"
    assert healthy.get("statefulsets", "default", "fg") is None
    deleted = [
        (ev.rtype.plural, ev.obj["metadata"]["name"])
        for ev in healthy.store.history
        if ev.rv > start and ev.type == "DELETED"
    ]
    owner_at = deleted.index(("statefulsets", "fg"))
    # the owner goes after its dependents (Pods, and the claims cascade gave an owner); the
    # VpcIPs are ipamd's to release once their claims are gone
    dependents = {(k, f"fg-{i}") for k in ("pods", "vpcipclaims") for i in range(2)}
    assert set(deleted[:owner_at]) == dependents
    assert [k for k, _ in deleted[owner_at + 1 :]] == ["vpcips", "vpcips"]


def test_foreground_owner_waits_for_a_blocking_dependent(healthy: Cluster) -> None:
    healthy.sts("default", "fg", 1)

    def hold(c: Obj) -> None:
        c["metadata"]["finalizers"] = ["example.com/hold"]

    healthy.mutate("claims", "default", "fg-0", hold)
    healthy.delete("statefulsets", "default", "fg", policy="Foreground")
    owner = healthy.get("statefulsets", "default", "fg")
    assert owner is not None and owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    held = healthy.claim("default", "fg-0")
    assert held is not None and held["metadata"]["deletionTimestamp"]
    healthy.store.remove_finalizer(healthy.kind("claims"), "default", "fg-0", "example.com/hold")
    assert healthy.claim("default", "fg-0") is None
    assert healthy.get("statefulsets", "default", "fg") is None


def test_orphan_deletion_keeps_dependents_without_references(healthy: Cluster) -> None:
    healthy.sts("default", "orph", 2)
    marked = healthy.delete("statefulsets", "default", "orph", policy="Orphan")
    assert marked["metadata"]["finalizers"] == ["orphan"]
    assert healthy.get("statefulsets", "default", "orph") is None
    for i in range(2):
        pod = healthy.pod("default", f"orph-{i}")
        claim = healthy.claim("default", f"orph-{i}")
        assert pod is not None and "ownerReferences" not in pod["metadata"]
        assert pod["status"]["phase"] == "Running"
        assert claim is not None and "ownerReferences" not in claim["metadata"]


def test_background_deletion_goes_at_once(healthy: Cluster) -> None:
    healthy.sts("default", "bg", 1)
    obj, removed = healthy.store.delete(healthy.kind("statefulsets"), "default", "bg")
    assert removed and "deletionTimestamp" not in obj["metadata"]
    assert healthy.pod("default", "bg-0") is None


# ------------------------------------------------------------------------------ namespaces


def test_namespace_deletion_purges_its_objects_and_releases_ips(demo: Cluster) -> None:
    answer = demo.delete("namespaces", "", "jobs")
    assert answer["status"]["phase"] == "Terminating"
    assert answer["metadata"]["deletionTimestamp"] == "2026-11-20T12:00:00Z"
    assert demo.get("namespaces", "", "jobs") is None
    for kind in ("pods", "claims", "events"):
        assert demo.names(kind, "jobs") == []
    for ip in ("10.0.2.8", "10.0.2.9", "10.0.2.10"):
        assert demo.vip(ip) is None
    assert demo.names("claims", "db")  # other namespaces untouched


def test_a_terminating_namespace_refuses_new_content(demo: Cluster) -> None:
    def hold(c: Obj) -> None:
        c["metadata"]["finalizers"] = ["example.com/hold"]

    demo.mutate("claims", "jobs", "etl-worker-0", hold)
    demo.delete("namespaces", "", "jobs")
    ns = demo.get("namespaces", "", "jobs")
    assert ns is not None and ns["status"]["phase"] == "Terminating"
    assert demo.names("claims", "jobs") == ["etl-worker-0"]
    with pytest.raises(StatusError) as err:
        demo.create("claims", "jobs", {"metadata": {"name": "late"}, "spec": {}})
    assert (err.value.code, err.value.reason) == (403, "Forbidden")
    assert err.value.message == (
        'vpcipclaims.networking.tke.cloud.tencent.com "late" is forbidden: unable to create new '
        "content in namespace jobs because it is being terminated"
    )
    demo.store.remove_finalizer(demo.kind("claims"), "jobs", "etl-worker-0", "example.com/hold")
    assert demo.get("namespaces", "", "jobs") is None


def test_a_created_namespace_gets_apiservers_defaults(demo: Cluster) -> None:
    ns = demo.create("namespaces", "", {"metadata": {"name": "fresh"}})
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "fresh"}


# ------------------------------------------------------------------------------ owners (issue 12)


def test_statefulset_ordinals_start_decides_its_pod_names(healthy: Cluster) -> None:
    """apps/v1 `spec.ordinals.start`: Pods take ordinals start .. start+replicas-1, none below."""
    healthy.sts("default", "pay", 3)
    healthy.mutate(
        "statefulsets", "default", "pay", lambda s: s["spec"].update(ordinals={"start": 1})
    )
    pods = sorted(n for n in healthy.names("pods", "default") if n.startswith("pay-"))
    assert pods == ["pay-1", "pay-2", "pay-3"]
    healthy.mutate("statefulsets", "default", "pay", lambda s: s["spec"].update(replicas=2))
    pods = sorted(n for n in healthy.names("pods", "default") if n.startswith("pay-"))
    assert pods == ["pay-1", "pay-2"]


def test_gc_keeps_a_dependent_whose_owner_kind_is_not_served(healthy: Cluster) -> None:
    """kube-controller-manager's GC cannot look up an owner of a group that is not served: it
    keeps the dependent and retries, never deletes it."""
    sts = healthy.sts("default", "web", 0)
    uid = sts["metadata"]["uid"]
    ref = {"kind": "StatefulSet", "name": "web", "uid": uid, "controller": True}
    for name, api in (("kruise-0", "apps.kruise.io/v1beta1"), ("apps-0", "apps/v1")):
        healthy.create(
            "configmaps",
            "default",
            {"metadata": {"name": name, "ownerReferences": [{**ref, "apiVersion": api}]}},
        )
    healthy.delete("statefulsets", "default", "web")
    left = healthy.names("configmaps", "default")
    assert "kruise-0" in left and "apps-0" not in left


def test_owners_scenario_serves_kruise_and_tapp_only_when_installed() -> None:
    served = Cluster("owners")
    kruise = served.sb.registry.for_api_version("apps.kruise.io/v1beta1", "StatefulSet")
    tapp = served.sb.registry.for_api_version("apps.tkestack.io/v1", "TApp")
    assert kruise is not None and tapp is not None
    assert served.store.peek(kruise, "shop", "shop") is not None
    bare = Cluster("owners-unserved")
    assert bare.sb.registry.for_api_version("apps.kruise.io/v1beta1", "StatefulSet") is None
    claim = bare.claim("shop", "shop-4")
    assert claim is not None
    assert claim["metadata"]["ownerReferences"][0]["apiVersion"] == "apps.kruise.io/v1beta1"
