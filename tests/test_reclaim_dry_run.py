"""`reclaim --dry-run` decides on the snapshot it has just listed, with no request per claim, and
decides what the real run decides on the same state; the real run still reads each claim's
VpcIP, Pod and owners again right before its delete."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_vip.cli.reclaim_cmd import RECHECK_NOTE
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.clock import rfc3339
from kubectl_vip.sandbox.controls import RequestInfo
from kubectl_vip.sandbox.resources import KRUISE_GROUP, TAPP_GROUP
from kubectl_vip.sandbox.world import DELETE_POLICY

from .conftest import Result, make_sandbox, run_vip
from .test_reclaim import state_dir  # noqa: F401 - autouse: audit files stay in tmp_path

EXPIRY = "tke.cloud.tencent.com/claim-expired-duration"
# what a per-claim re-read asks for: a claim's VpcIP, its Pod, its possible owners
PER_CLAIM = {"vpcips", "pods", "statefulsets", "tapps", "replicasets"}


def gets(sb: Sandbox) -> list[RequestInfo]:
    return [r for r in sb.controls.resource_requests() if r.verb == "get"]


def results(r: Result) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in json.loads(r.stdout)["items"]}


# ---------------------------------------------------------------------------- requests


# the scale scenario seeds its StatefulSets, scaled in, at the present
SCALED_IN = ("--scaled-in", "--scaled-in-for", "0s")


def test_dry_run_reads_no_claim_one_by_one_and_the_real_run_does(tmp_path: Path) -> None:
    """A few hundred claims: the dry run lists, and GETs only the ipamd Deployment and the
    kube-system Namespace (the cluster's identity); the real run GETs each selected claim's Pod
    right before its delete and reads VpcIPs and owners from lists made before the first."""
    sb = make_sandbox("scale", size=300)
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        sb.controls.clear_log()
        dry = run_vip("reclaim", *SCALED_IN, "-A", "--dry-run", "-o", "json", kubeconfig=kc)
        assert dry.code == 0, dry.stderr
        items = {(i["namespace"], i["name"]): i for i in json.loads(dry.stdout)["items"]}
        planned = {k for k, i in items.items() if i["result"] == "wouldReclaim"}
        assert len(planned) >= 20
        assert dry.stderr.strip() == RECHECK_NOTE
        asked = {(r.resource, r.name) for r in gets(sb)}
        assert asked == {("namespaces", "kube-system"), ("deployments", "tke-eni-ipamd")}
        # and asks, a few times, whether the real run may do what it counted
        reviews = [
            r for r in sb.controls.resource_requests() if r.resource == "selfsubjectaccessreviews"
        ]
        assert 0 < len(reviews) <= 8
        assert not any(
            r.mutating and r.resource != "selfsubjectaccessreviews"
            for r in sb.controls.resource_requests()
        )
        table = run_vip("reclaim", *SCALED_IN, "-A", "--dry-run", kubeconfig=kc)
        assert f"Dry run: {len(planned)} would reclaim" in table.stdout
        assert table.stderr.strip() == RECHECK_NOTE

        sb.controls.clear_log()
        real = run_vip("reclaim", *SCALED_IN, "-A", "--yes", "--max", "1000", kubeconfig=kc)
        assert real.code == 0, real.stdout + real.stderr
        assert RECHECK_NOTE not in real.stdout + real.stderr
        log = sb.controls.resource_requests()
        deletes = {
            (r.namespace, r.name): n
            for n, r in enumerate(log)
            if r.verb == "delete" and r.resource == "vpcipclaims"
        }
        assert deletes.keys() == planned
        for (ns, name), at in deletes.items():
            # right before its delete: its Pod read by name; its VpcIP and owner from the
            # lists of the bulk run, made before the first delete (ops/reclaim_batch.py)
            before = {(r.resource, r.namespace, r.name) for r in log[:at] if r.verb == "get"}
            lists = {r.resource for r in log[:at] if r.verb == "list"}
            assert ("pods", ns, name) in before, (ns, name)
            assert {"vpcips", "statefulsets", "vpcipclaims"} <= lists, (ns, name)
        # light on the API server: the Pod, the delete and the Event per claim, and a few lists
        per_claim = [r for r in log if r.verb in ("get", "delete", "create")]
        events = [r for r in log if r.verb == "create" and r.resource == "events"]
        assert len(events) == len(planned)
        assert len(per_claim) <= 3 * len(planned) + 10, len(per_claim)
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- same decisions

KINDS = {
    "sts": ("apps/v1", "StatefulSet"),
    "kruise": (f"{KRUISE_GROUP}/v1beta1", "StatefulSet"),
    "tapp": (f"{TAPP_GROUP}/v1", "TApp"),
    "foo": ("apps.example.com/v1", "Foo"),  # a group nobody serves: the owner is unknown
    "rs": ("apps/v1", "ReplicaSet"),  # never created: a gone owner of a new-name kind
}


@dataclass(frozen=True)
class Workload:
    replicas: int
    start: int
    reserve: tuple[int, ...]
    killed: tuple[int, ...]


@dataclass(frozen=True)
class ClaimSpec:
    name: str
    owner: str | None  # a KINDS key
    owner_uid_matches: bool
    released_hours_ago: int | None  # None: no release time (only estimated)
    policy: str | None
    expiry: str | None
    ip: str  # bound | no-vpcip | by-ref-only (no IP on the claim) | taken (VpcIP holds another)
    vip_expiry: str | None
    pod: str | None  # Running | Succeeded | Terminating
    labelled: bool


@dataclass(frozen=True)
class World:
    workloads: dict[str, Workload] = field(default_factory=dict)
    claims: tuple[ClaimSpec, ...] = ()


@st.composite
def worlds(draw: st.DrawFn) -> World:
    workloads = {}
    for kind in ("sts", "kruise", "tapp"):
        if draw(st.booleans()):
            workloads[kind] = Workload(
                draw(st.integers(0, 4)),
                draw(st.integers(0, 2)),
                tuple(draw(st.lists(st.integers(0, 5), max_size=2, unique=True))),
                tuple(draw(st.lists(st.integers(0, 4), max_size=2, unique=True))),
            )
    ordinals = draw(st.lists(st.integers(0, 6), min_size=2, max_size=5, unique=True))
    names = [f"w-{o}" for o in ordinals] + (["solo"] if draw(st.booleans()) else [])
    claims = tuple(
        ClaimSpec(
            name,
            draw(st.sampled_from([None, *KINDS])),
            draw(st.booleans()),
            draw(st.sampled_from([None, 0, 2, 200])),
            draw(st.sampled_from([None, "Never", "Immediate"])),
            draw(st.sampled_from([None, "1h", "100h", "soon"])),
            draw(st.sampled_from(["bound", "bound", "no-vpcip", "by-ref-only", "taken"])),
            draw(st.sampled_from([None, "1h"])),
            draw(st.sampled_from([None, None, None, "Running", "Succeeded", "Terminating"])),
            draw(st.booleans()),
        )
        for name in names
    )
    return World(workloads, claims)


SELECTIONS = [
    ["--orphaned"],
    ["--overdue"],
    ["--orphaned", "--overdue"],
    ["--retained-for", "1h"],
    ["--owner", "statefulset/w"],
    ["--owner", "tapp/w"],
    ["--owner", "statefulset.apps.kruise.io/w"],
    ["-l", "pick=yes"],
    ["--orphaned", "-l", "pick=yes"],
]
RULES = [[], ["--allow-new-ip"], ["--include-completed"], ["--allow-new-ip", "--include-completed"]]


class Cluster:
    """One sandbox (the `owners` scenario: Kruise and TApp served) with its controllers off, so
    what is built stays as built; each world gets a namespace of its own."""

    def __init__(self, sb: Sandbox, kubeconfig: Path) -> None:
        self.sb = sb
        self.kubeconfig = kubeconfig
        self.workdir = kubeconfig.parent
        self.count = itertools.count()
        self.ips = (f"10.9.{i // 250}.{i % 250 + 1}" for i in itertools.count())

    def vip(self, *args: str) -> Result:
        return run_vip(*args, kubeconfig=self.kubeconfig)

    def build(self, world: World) -> str:
        sb, w = self.sb, self.sb.world
        t = w.t
        assert t.claims is not None and t.vips is not None
        ns = f"world-{next(self.count)}"
        w.create(t.namespaces, {"metadata": {"name": ns}, "status": {"phase": "Active"}})
        uids: dict[str, str] = {}
        for kind, spec in world.workloads.items():
            api_version, k = KINDS[kind]
            rtype = sb.registry.for_api_version(api_version, k)
            assert rtype is not None
            spec_doc: dict[str, Any] = {
                "replicas": spec.replicas,
                "selector": {"matchLabels": {"app": "w"}},
                "template": {"metadata": {"labels": {"app": "w"}}},
            }
            if kind == "sts":
                spec_doc["ordinals"] = {"start": spec.start}
            elif kind == "kruise":
                spec_doc["reserveOrdinals"] = list(spec.reserve)
            else:
                spec_doc["statuses"] = {str(o): "Killed" for o in spec.killed}
            made = w.create(
                rtype,
                {
                    "apiVersion": api_version,
                    "kind": k,
                    "metadata": {"name": "w", "namespace": ns},
                    "spec": spec_doc,
                },
            )
            assert made is not None
            uids[kind] = made["metadata"]["uid"]
        now = sb.clock.now()
        for c in world.claims:
            self._claim(ns, c, uids, now)
        return ns

    def _claim(self, ns: str, c: ClaimSpec, uids: dict[str, str], now: Any) -> None:
        w = self.sb.world
        t = w.t
        assert t.claims is not None and t.vips is not None and t.pods is not None
        annotations = {}
        if c.policy:
            annotations[DELETE_POLICY] = c.policy
        if c.expiry:
            annotations[EXPIRY] = c.expiry
        meta: dict[str, Any] = {"name": c.name, "namespace": ns, "annotations": annotations}
        if c.labelled:
            meta["labels"] = {"pick": "yes"}
        if c.owner is not None:
            api_version, kind = KINDS[c.owner]
            uid = uids.get(c.owner, "4d1c0000-0000-4000-8000-000000000001")
            meta["ownerReferences"] = [
                {
                    "apiVersion": api_version,
                    "kind": kind,
                    "name": "w",
                    "uid": uid if c.owner_uid_matches else "4d1c0000-0000-4000-8000-0000000000ff",
                    "controller": True,
                }
            ]
        ip = next(self.ips)
        status: dict[str, Any] = {"phase": "Released"}
        if c.ip != "by-ref-only":
            status["ip"] = ip
        if c.released_hours_ago is not None:
            status["releaseTime"] = rfc3339(now - timedelta(hours=c.released_hours_ago))
        made = w.create(
            t.claims, {"metadata": meta, "spec": {}, "status": status}, manager="tke-eni-ipamd"
        )
        assert made is not None
        if c.ip != "no-vpcip":
            ref = {"namespace": ns, "name": c.name, "uid": made["metadata"]["uid"]}
            if c.ip == "taken":
                ref = {**ref, "name": "someone-else", "uid": "4d1c0000-0000-4000-8000-0000000000ee"}
            vmeta: dict[str, Any] = {"name": ip}
            if c.vip_expiry:
                vmeta["annotations"] = {EXPIRY: c.vip_expiry}
            w.create(
                t.vips,
                {
                    "metadata": vmeta,
                    "spec": {"type": "Pod", "subnetID": "subnet-9", "claimRef": ref},
                    "status": {"phase": "Assigned"},
                },
                manager="tke-eni-ipamd",
            )
        if c.pod is not None:
            pmeta: dict[str, Any] = {"name": c.name, "namespace": ns}
            if c.pod == "Terminating":
                pmeta["finalizers"] = ["example.com/hold"]
            pod = {
                "metadata": pmeta,
                "spec": {"containers": [{"name": "app", "image": "app:1"}]},
                "status": {"phase": "Running" if c.pod == "Terminating" else c.pod},
            }
            assert w.create(t.pods, pod) is not None
            if c.pod == "Terminating":
                w.delete(t.pods, ns, c.name)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    sb = make_sandbox("owners")
    listeners, sb.store.listeners = sb.store.listeners, []  # nothing reacts: state stays put
    d = tmp_path_factory.mktemp("dry-run")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBECTL_VIP_STATE_DIR", str(d / "state"))
        try:
            yield Cluster(sb, sb.write_kubeconfig(d / "kubeconfig"))
        finally:
            sb.store.listeners = listeners
            sb.stop()


def same_decisions(
    cluster: Cluster,
    world: World,
    selection: list[str],
    rules: list[str],
    form: str = "bulk",
    touch: bool = False,
) -> tuple[Result, Result]:
    """Runs the dry run, then the real run, on the same world; returns both. `form` names the
    claims on the line ("names") or through a plan file (`list -o json`, whose first item
    `touch` changes after the plan was made)."""
    ns = cluster.build(world)
    args = ["reclaim", *selection, *rules, "-n", ns, "--max", "1000", "-o", "json"]
    if form == "names":
        args = ["reclaim", *(c.name for c in world.claims), *rules, "-n", ns, "-o", "json"]
    elif form == "plan":
        made = cluster.vip("list", "-n", ns, "-o", "json")  # a ClaimList proposes every claim
        plan = json.loads(made.stdout)
        if touch and plan["items"]:
            first = plan["items"][0]["name"]

            def label(o: dict[str, Any]) -> None:
                o["metadata"].setdefault("labels", {})["touched"] = "yes"

            assert cluster.sb.world.t.claims is not None
            cluster.sb.store.mutate(cluster.sb.world.t.claims, ns, first, label)
        path = cluster.workdir / f"{ns}.json"
        path.write_text(made.stdout)
        args = ["reclaim", "--from-file", str(path), *rules, "-n", ns, "--max", "1000", "-o"]
        args.append("json")
    cluster.sb.controls.clear_log()
    dry = cluster.vip(*args, "--dry-run")
    per_claim = [r for r in gets(cluster.sb) if r.resource in PER_CLAIM | {"vpcipclaims"}]
    assert per_claim == []
    real = cluster.vip(*args, "--yes")
    assert dry.code == real.code, dry.stdout + dry.stderr + real.stdout + real.stderr
    if not dry.stdout:
        assert dry.stderr == real.stderr  # refused before a plan: the same one line
        return dry, real
    would, done = results(dry), results(real)
    assert would.keys() == done.keys()
    for name, item in would.items():
        real_item = done[name]
        want = {**real_item, "result": real_item["result"].replace("reclaimed", "wouldReclaim")}
        assert {**item, "released": None} == {**want, "released": None}, name
    meta_dry, meta_real = json.loads(dry.stdout)["metadata"], json.loads(real.stdout)["metadata"]
    assert meta_dry.get("notSelected") == meta_real.get("notSelected")
    return dry, real


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    worlds(),
    st.sampled_from(SELECTIONS),
    st.sampled_from(RULES),
    st.sampled_from(["bulk", "bulk", "names", "plan"]),
    st.booleans(),
)
def test_dry_run_decides_what_the_real_run_decides(
    cluster: Cluster, world: World, selection: list[str], rules: list[str], form: str, touch: bool
) -> None:
    """For any world the real run leaves unchanged until it acts, the dry run's items (result,
    reason, state, IP, uid, resourceVersion) are the real run's, `wouldReclaim` for
    `reclaimed`, and its exit code and notSelected are the same: by criteria, by name, and
    from a plan file (an item changed since the plan is skipped by both)."""
    same_decisions(cluster, world, selection, rules, form, touch)


def spec(name: str, **kw: Any) -> ClaimSpec:
    base: dict[str, Any] = {
        "owner": "sts",
        "owner_uid_matches": True,
        "released_hours_ago": 2,
        "policy": "Never",
        "expiry": None,
        "ip": "bound",
        "vip_expiry": None,
        "pod": None,
        "labelled": True,
    }
    return ClaimSpec(name, **{**base, **kw})


STS_2 = {"sts": Workload(2, 0, (), ())}
# (id, world, selection, rules, form, touch, {claim: (result, fragment of the reason)})
EDGES: list[tuple[Any, ...]] = [
    (
        "scaled-in-and-returning",
        World(STS_2, (spec("w-1"), spec("w-3"))),
        ["-l", "pick=yes"],
        ["--scaled-in-for", "0s"],
        "bulk",
        False,
        {"w-1": ("refused", "will recreate Pod w-1"), "w-3": ("reclaimed", "has 2 replicas")},
    ),
    (
        "scaled-in-without-the-permission",
        World(STS_2, (spec("w-1"), spec("w-3"))),
        ["-l", "pick=yes"],
        [],
        "bulk",
        False,
        {"w-1": ("refused", "will recreate Pod w-1"), "w-3": ("refused", "--scaled-in-for")},
    ),
    (
        "owner-gone",
        World({}, (spec("w-0"), spec("w-1", pod="Running"))),
        ["--orphaned"],
        [],
        "bulk",
        False,
        {"w-0": ("reclaimed", "owner StatefulSet/w is gone")},
    ),
    (
        "completed-pod-by-name",
        World({}, (spec("w-0", pod="Succeeded"), spec("w-1", pod="Terminating"))),
        [],
        ["--include-completed"],
        "names",
        False,
        {"w-0": ("reclaimed", "has succeeded"), "w-1": ("refused", "is terminating")},
    ),
    (
        # the claim carries no IP; its VpcIP names it, with the expiry: list sees it Overdue,
        # and so does the real run's re-read (it reads the VpcIP the listing joined it with)
        "vpcip-only-by-its-claim-ref",
        World(
            {},
            (spec("w-0", owner=None, released_hours_ago=200, ip="by-ref-only", vip_expiry="1h"),),
        ),
        ["--overdue"],
        [],
        "bulk",
        False,
        {"w-0": ("reclaimed", "ipamd has not reclaimed it")},
    ),
    (
        "estimated-release-time-is-not-selected",
        World({}, (spec("w-0", released_hours_ago=None), spec("w-1", released_hours_ago=200))),
        ["--retained-for", "1h"],
        [],
        "bulk",
        False,
        {"w-1": ("reclaimed", "owner StatefulSet/w is gone")},
    ),
    (
        "plan-item-changed-since",
        World({}, (spec("w-0"), spec("w-1"))),
        [],
        [],
        "plan",
        True,
        {"w-0": ("skipped", "changed since the plan"), "w-1": ("reclaimed", "is gone")},
    ),
]


@pytest.mark.parametrize(
    ("world", "selection", "rules", "form", "touch", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in EDGES],
)
def test_dry_run_and_real_run_agree_on_the_edges(
    cluster: Cluster,
    world: World,
    selection: list[str],
    rules: list[str],
    form: str,
    touch: bool,
    expected: dict[str, tuple[str, str]],
) -> None:
    _dry, real = same_decisions(cluster, world, selection, rules, form, touch)
    got = {name: i for name, i in results(real).items()}
    assert got.keys() == expected.keys()
    for name, (result, fragment) in expected.items():
        assert got[name]["result"] == result and fragment in got[name]["reason"], got[name]
