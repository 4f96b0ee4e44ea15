"""`kubectl vip reclaim` against the sandbox: what it deletes, and above all what it refuses."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.model.reclaim import Criteria, Rules, read_plan, select
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import RequestInfo

from .conftest import Result, Runner, run_vip

ORPHANED = ["web/legacy-api-0", "web/legacy-api-1"]
# redis scaled from 4 to 2 six days before the demo's present: it returns if scaled up
SCALED_IN = ["db/redis-2", "db/redis-3"]
KEPT_FOR = ("--scaled-in-for", "24h")  # the permission to take them: kept 6d >= 24h


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("KUBECTL_VIP_STATE_DIR", str(d))
    return d


def claims(sb: Sandbox) -> set[str]:
    t = sb.world.t.claims
    assert t is not None
    return {f"{o['metadata']['namespace']}/{o['metadata']['name']}" for o in sb.store.objects(t)}


def vips(sb: Sandbox) -> set[str]:
    t = sb.world.t.vips
    assert t is not None
    return {o["metadata"]["name"] for o in sb.store.objects(t)}


def deletes(sb: Sandbox) -> list[str]:
    return [
        f"{q.resource}:{q.namespace}/{q.name}"
        for q in sb.controls.resource_requests()
        if q.verb == "delete"
    ]


def snapshot(sb: Sandbox) -> dict[str, Any]:
    """Every object's resourceVersion, to prove that nothing changed."""
    return {
        t.key: {
            (o["metadata"].get("namespace", ""), o["metadata"]["name"]): o["metadata"][
                "resourceVersion"
            ]
            for o in sb.store.objects(t)
        }
        for t in sb.registry.types
    }


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "fragment", "advice"),
    [
        pytest.param(
            "mysql-0", "Pod db/mysql-0 is Running", "Scale StatefulSet/mysql down", id="running"
        ),
        pytest.param(
            "analytics-0",
            "Pod db/analytics-0 is Pending",
            "Scale StatefulSet/analytics down",
            id="pending",
        ),
    ],
)
def test_live_pod_is_refused(
    vip: Runner, sandbox: Sandbox, name: str, fragment: str, advice: str
) -> None:
    """A StatefulSet's live Pod comes back in seconds when deleted: the refusal says to scale the
    workload down (or delete it), never "delete the Pod first"."""
    before_vips = vips(sandbox)
    r = vip("reclaim", name, "-n", "db", "--yes")
    assert r.code == 1
    text = " ".join(r.stdout.split())
    assert fragment in text and advice in text
    assert "delete the Pod first" not in text
    assert f"db/{name}" in claims(sandbox)
    assert vips(sandbox) == before_vips
    assert deletes(sandbox) == []


def test_terminating_pod_with_finalizer_is_refused(vip: Runner, sandbox: Sandbox) -> None:
    pods = sandbox.world.t.pods

    def hold(o: dict[str, Any]) -> None:
        o["metadata"]["finalizers"] = ["example.com/hold"]

    sandbox.store.mutate(pods, "db", "redis-1", hold)
    sandbox.store.delete(pods, "db", "redis-1")
    assert sandbox.store.peek(pods, "db", "redis-1")["metadata"].get("deletionTimestamp")
    r = vip("reclaim", "redis-1", "-n", "db", "--yes")
    assert r.code == 1 and "terminating" in r.stdout
    assert "db/redis-1" in claims(sandbox)


def test_completed_pod_needs_include_completed(vip: Runner, sandbox: Sandbox) -> None:
    r = vip("reclaim", "report-20261120", "-n", "jobs", "--yes")
    assert r.code == 1 and "--include-completed" in r.stdout
    assert "jobs/report-20261120" in claims(sandbox)
    ok = vip("reclaim", "report-20261120", "-n", "jobs", "--yes", "--include-completed")
    assert ok.code == 0, ok.stdout + ok.stderr
    assert "jobs/report-20261120" not in claims(sandbox)
    assert "10.0.2.10" not in vips(sandbox)


def test_statefulset_will_return_needs_allow_new_ip(vip: Runner, sandbox: Sandbox) -> None:
    # mysql-1's Pod vanished for a moment: its StatefulSet (3 replicas) brings it back
    sandbox.store.listeners.remove(sandbox.kube.on_event)  # hold the controller for the test
    try:
        sandbox.store.delete(sandbox.world.t.pods, "db", "mysql-1")
        r = vip("reclaim", "mysql-1", "-n", "db", "--yes")
        assert r.code == 1 and "--allow-new-ip" in r.stdout and "gets this IP back" in r.stdout
        assert "db/mysql-1" in claims(sandbox)
        forced = vip("reclaim", "mysql-1", "-n", "db", "--yes", "--allow-new-ip")
        assert forced.code == 0, forced.stdout
        assert "db/mysql-1" not in claims(sandbox)
    finally:
        sandbox.store.listeners.insert(0, sandbox.kube.on_event)


def _on_second_claim_list(sandbox: Sandbox, action: Any) -> None:
    """Run `action` when reclaim lists the claims again right before acting (its 2nd list)."""
    seen: list[str] = []

    def hook(req: RequestInfo) -> None:
        seen.append(req.verb)
        if len(seen) == 2:
            action()

    sandbox.controls.on("list", "vpcipclaims", hook, once=False)


def test_statefulset_scaled_up_right_before_the_run_is_refused(
    vip: Runner, sandbox: Sandbox
) -> None:
    sts = sandbox.world.t.statefulsets
    sandbox.store.listeners.remove(sandbox.kube.on_event)  # the Pod has not been recreated yet

    def four(o: dict[str, Any]) -> None:
        o["spec"]["replicas"] = 4

    _on_second_claim_list(sandbox, lambda: sandbox.store.mutate(sts, "db", "redis", four))
    try:
        r = vip("reclaim", "redis-3", "-n", "db", "--yes", *KEPT_FOR)
    finally:
        sandbox.store.listeners.insert(0, sandbox.kube.on_event)
    assert r.code == 1 and "will recreate Pod redis-3" in r.stdout
    assert "db/redis-3" in claims(sandbox)


# ---------------------------------------------------------------------------- reclaiming


def test_deleted_static_pod_is_reclaimed_and_ip_released(
    vip: Runner, sandbox: Sandbox, state_dir: Path
) -> None:
    r = vip("reclaim", "debug-shell", "-n", "default", "--yes", "--wait")
    assert r.code == 0, r.stdout + r.stderr
    assert "reclaimed vipc/default/debug-shell (10.0.1.9)" in r.stdout
    assert "default/debug-shell" not in claims(sandbox)
    assert "10.0.1.9" not in vips(sandbox)
    # never a VpcIP delete from us: ipamd released it
    assert deletes(sandbox) == ["vpcipclaims:default/debug-shell"]
    delete = next(q for q in sandbox.controls.resource_requests() if q.verb == "delete")
    assert delete.query == {}
    audit = (state_dir / "reclaim-audit.jsonl").read_text().splitlines()
    entry = json.loads(audit[0])
    assert entry["claim"]["metadata"]["name"] == "debug-shell"
    assert entry["claim"]["status"]["ip"] == "10.0.1.9"
    assert entry["state"] == "Retained" and entry["cluster"]["kubeSystemUID"]
    events = [
        e
        for e in sandbox.store.objects(sandbox.world.t.events, "default")
        if e["reason"] == "StaticIPReclaimed"
    ]
    assert len(events) == 1
    assert events[0]["involvedObject"]["name"] == "debug-shell"
    assert "10.0.1.9" in events[0]["message"] and "state Retained" in events[0]["message"]


def _ipamd_replicas(sb: Sandbox, n: int) -> None:
    def scale(o: dict[str, Any]) -> None:
        o["spec"]["replicas"] = n

    sb.store.mutate(sb.world.t.deployments, "kube-system", "tke-eni-ipamd", scale)


def test_wait_follows_the_release_through_a_watch(vip: Runner, sandbox: Sandbox) -> None:
    _ipamd_replicas(sandbox, 0)  # ipamd is down: the VpcIP stays after the claim goes
    vips_t = sandbox.world.t.vips
    assert vips_t is not None

    def release_later(req: RequestInfo) -> None:
        if "watch" in req.query:  # ipamd comes back while we watch, and releases the IP
            timer = threading.Timer(0.3, lambda: sandbox.store.delete(vips_t, "", "10.0.1.9"))
            timer.start()

    sandbox.controls.on("watch", "vpcips", release_later)
    r = vip("reclaim", "debug-shell", "-n", "default", "--yes", "--wait", "--timeout", "30s")
    assert r.code == 0, r.stdout + r.stderr
    assert "10.0.1.9" not in vips(sandbox)
    assert "released     10.0.1.9 (vipc/default/debug-shell)" in r.lines  # said in text too
    assert any(
        q.verb == "watch" and q.resource == "vpcips" for q in sandbox.controls.resource_requests()
    )


def test_wait_reports_ips_not_released_in_time(vip: Runner, sandbox: Sandbox) -> None:
    _ipamd_replicas(sandbox, 0)
    r = vip(
        "reclaim",
        "debug-shell",
        "-n",
        "default",
        "--yes",
        "--wait",
        "--timeout",
        "2s",
        "-o",
        "json",
    )
    assert r.code == 1
    item = json.loads(r.stdout)["items"][0]
    assert (item["result"], item["released"]) == ("reclaimed", False)
    assert "default/debug-shell" not in claims(sandbox)
    assert "10.0.1.9" in vips(sandbox)  # left for ipamd: we never delete VpcIPs
    plain = vip("reclaim", "canary-0", "-n", "default", "--yes", "--wait", "--timeout", "1s")
    assert (
        plain.code == 1 and "not released in time" in plain.stderr and "10.0.1.10" in plain.stderr
    )
    assert "not released 10.0.1.10 (vipc/default/canary-0): still there after 1s" in plain.lines


def test_delete_carries_uid_and_resource_version_preconditions(
    vip: Runner, sandbox: Sandbox
) -> None:
    claim = sandbox.store.peek(sandbox.world.t.claims, "db", "redis-3")
    seen: list[dict[str, Any]] = []
    real_delete = sandbox.store.delete

    def spy(*args: Any, **kw: Any) -> Any:
        seen.append(kw.get("preconditions").__dict__ if kw.get("preconditions") else {})
        return real_delete(*args, **kw)

    sandbox.store.delete = spy  # type: ignore[method-assign]
    try:
        assert vip("reclaim", "redis-3", "-n", "db", "--yes", *KEPT_FOR).code == 0
    finally:
        sandbox.store.delete = real_delete  # type: ignore[method-assign]
    assert seen[0] == {
        "uid": claim["metadata"]["uid"],
        "resource_version": claim["metadata"]["resourceVersion"],
    }


def test_bulk_orphaned_reclaims_exactly_those_and_second_run_converges(
    vip: Runner, sandbox: Sandbox
) -> None:
    before = claims(sandbox)
    r = vip("reclaim", "--orphaned", "-A", "--yes")
    assert r.code == 0, r.stdout + r.stderr
    assert before - claims(sandbox) == set(ORPHANED)
    assert not {"10.0.1.13", "10.0.1.14"} & vips(sandbox)
    assert {"10.0.1.7", "10.0.1.8"} <= vips(sandbox)  # ScaledIn: --orphaned leaves them
    assert "2 reclaimed" in r.stdout
    again = vip("reclaim", "--orphaned", "-A", "--yes")
    assert again.code == 0
    assert "No claims to reclaim." in again.stderr and "nothing to do" in again.stdout


def test_combined_selection_is_a_union_narrowed_by_namespace_and_labels(
    vip: Runner, sandbox: Sandbox
) -> None:
    r = vip("reclaim", "--orphaned", "--overdue", "-A", "--dry-run", "-o", "json")
    names = [f"{i['namespace']}/{i['name']}" for i in json.loads(r.stdout)["items"]]
    assert names == [
        "jobs/etl-worker-0",
        "jobs/etl-worker-1",
        "web/legacy-api-0",
        "web/legacy-api-1",
    ]
    scoped = vip("reclaim", "--orphaned", "-n", "web", "--dry-run", "-o", "json")
    assert [i["name"] for i in json.loads(scoped.stdout)["items"]] == [
        "legacy-api-0",
        "legacy-api-1",
    ]
    labelled = vip("reclaim", "-l", "app=redis", "-n", "db", "--dry-run", "-o", "json")
    assert [i["name"] for i in json.loads(labelled.stdout)["items"]] == ["redis-2", "redis-3"]
    aged = vip("reclaim", "--retained-for", "120h", "-A", "--dry-run", "-o", "json")
    assert sorted(i["name"] for i in json.loads(aged.stdout)["items"]) == [
        "legacy-api-0",
        "legacy-api-1",
        "redis-2",
        "redis-3",
    ]


def test_dry_run_changes_nothing(vip: Runner, sandbox: Sandbox) -> None:
    before = snapshot(sandbox)
    r = vip("reclaim", "--orphaned", "--overdue", "-A", "--dry-run")
    assert r.code == 0, r.stdout + r.stderr
    assert "Dry run: 4 would reclaim" in r.stdout
    assert snapshot(sandbox) == before
    assert deletes(sandbox) == []


def test_no_tty_and_no_yes_refuses(vip: Runner, sandbox: Sandbox) -> None:
    r = vip("reclaim", "--orphaned", "-A")
    assert r.code == 1
    assert "without confirmation" in r.stderr and "--yes" in r.stderr
    assert claims(sandbox) >= set(ORPHANED)


def test_max_caps_bulk_runs(vip: Runner, sandbox: Sandbox) -> None:
    r = vip("reclaim", "--orphaned", "--overdue", "-A", "--yes", "--max", "3")
    assert r.code == 1
    assert "4 claims selected, more than --max 3" in r.stderr
    assert deletes(sandbox) == []
    assert vip("reclaim", "--orphaned", "--overdue", "-A", "--yes", "--max", "4").code == 0


def test_reclaim_by_ip(vip: Runner, sandbox: Sandbox) -> None:
    r = vip("reclaim", "--ip", "10.0.1.13", "--yes", "-o", "json")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [(i["namespace"], i["name"], i["result"]) for i in doc["items"]] == [
        ("web", "legacy-api-1", "reclaimed")
    ]
    assert "web/legacy-api-1" not in claims(sandbox)
    missing = vip("reclaim", "--ip", "10.9.9.9", "--yes")
    assert missing.code == 1 and "no claim holds IP 10.9.9.9" in missing.stderr


def test_race_statefulset_recreates_pod_between_classification_and_delete(
    vip: Runner, sandbox: Sandbox
) -> None:
    """The Pod comes back after our last read of it: ipamd binds the claim, whose
    resourceVersion changes, so the delete's precondition fails and the claim survives."""
    # debug-shell is a bare static Pod; recreate it right before our DELETE of its claim lands
    pods = sandbox.world.t.pods
    template = {
        "metadata": {
            "name": "debug-shell",
            "namespace": "default",
            "annotations": {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Never"},
        },
        "spec": {
            "containers": [
                {"name": "c", "resources": {"requests": {"tke.cloud.tencent.com/eni-ip": "1"}}}
            ]
        },
    }

    def come_back(req: RequestInfo) -> None:
        sandbox.store.create(pods, "default", template)

    sandbox.controls.on("delete", "vpcipclaims", come_back)
    r = vip("reclaim", "debug-shell", "-n", "default", "--yes")
    assert r.code == 1
    assert "changed just before the delete" in r.stdout
    assert "default/debug-shell" in claims(sandbox)
    claim = sandbox.store.peek(sandbox.world.t.claims, "default", "debug-shell")
    assert claim["status"]["ip"] == "10.0.1.9"  # the returning Pod keeps its IP
    assert sandbox.store.peek(pods, "default", "debug-shell")["status"]["podIP"] == "10.0.1.9"


def test_pod_reappears_before_the_recheck(vip: Runner, sandbox: Sandbox) -> None:
    """The StatefulSet scales up (and its controller recreates redis-3) after the
    classification: the claim read again has changed, is classified again, and is refused."""

    def four(o: dict[str, Any]) -> None:
        o["spec"]["replicas"] = 4

    _on_second_claim_list(
        sandbox, lambda: sandbox.store.mutate(sandbox.world.t.statefulsets, "db", "redis", four)
    )
    r = vip("reclaim", "redis-3", "-n", "db", "--yes", *KEPT_FOR)
    assert r.code == 1
    assert "db/redis-3" in claims(sandbox)
    assert sandbox.store.peek(sandbox.world.t.pods, "db", "redis-3") is not None


def test_plan_file_round_trip(vip: Runner, sandbox: Sandbox, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(vip("list", "-n", "web", "--state", "Orphaned", "-o", "json").stdout)
    r = vip("reclaim", "--from-file", str(plan), "--yes")
    assert r.code == 0, r.stdout + r.stderr
    assert not set(ORPHANED) & claims(sandbox)


def test_a_scaled_in_plan_runs_with_the_permission_it_was_made_with(
    vip: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    made = vip("reclaim", "--scaled-in", *KEPT_FOR, "-n", "db", "--dry-run", "-o", "json")
    assert made.code == 0, made.stderr
    assert json.loads(made.stdout)["metadata"]["scaledInFor"] == "24h0m0s"
    plan.write_text(made.stdout)
    r = vip("reclaim", "--from-file", str(plan), "--yes")
    assert r.code == 0, r.stdout + r.stderr
    assert not set(SCALED_IN) & claims(sandbox)


def test_plan_file_skips_what_changed(vip: Runner, sandbox: Sandbox, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(
        vip("reclaim", "--scaled-in", *KEPT_FOR, "-n", "db", "--dry-run", "-o", "json").stdout
    )

    def touch(o: dict[str, Any]) -> None:
        o["metadata"].setdefault("labels", {})["touched"] = "yes"

    sandbox.store.mutate(sandbox.world.t.claims, "db", "redis-2", touch)
    r = vip("reclaim", "--from-file", str(plan), "--yes", "-o", "json")
    assert r.code == 1
    results = {i["name"]: (i["result"], i["reason"]) for i in json.loads(r.stdout)["items"]}
    assert results["redis-3"][0] == "reclaimed"
    assert results["redis-2"][0] == "skipped" and "changed since the plan" in results["redis-2"][1]
    assert "db/redis-2" in claims(sandbox)


def test_plan_from_another_cluster_is_refused(
    vip: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    doc = json.loads(vip("list", "-n", "db", "-o", "json").stdout)
    doc["metadata"]["cluster"]["kubeSystemUID"] = "11111111-2222-3333-4444-555555555555"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc))
    r = vip("reclaim", "--from-file", str(plan), "--yes")
    assert r.code == 1 and "another cluster" in r.stderr
    assert deletes(sandbox) == []


def test_plan_with_in_use_claims_still_refuses_them(
    vip: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(vip("list", "-n", "db", "-o", "json").stdout)
    r = vip("reclaim", "--from-file", str(plan), "--yes", "-o", "json", *KEPT_FOR)
    results = {i["name"]: i["result"] for i in json.loads(r.stdout)["items"]}
    assert results["mysql-0"] == "refused" and results["redis-3"] == "reclaimed"
    assert r.code == 1
    assert "db/mysql-0" in claims(sandbox)


def test_forbidden_delete_exits_3(kubeconfig: Path, sandbox: Sandbox) -> None:
    r = run_vip(
        "--context",
        "vip-sandbox-readonly",
        "reclaim",
        "redis-3",
        "-n",
        "db",
        "--yes",
        *KEPT_FOR,
        kubeconfig=kubeconfig,
    )
    assert r.code == 3
    assert "delete vpcipclaims" in r.stderr
    assert "db/redis-3" in claims(sandbox)


def test_forbidden_event_is_a_warning_not_a_failure(vip: Runner, sandbox: Sandbox) -> None:
    from kubectl_vip.sandbox.controls import Fault

    sandbox.controls.inject(
        Fault(
            verb="create",
            resource="events",
            code=403,
            reason="Forbidden",
            message="events is forbidden",
            times=-1,
        )
    )
    r = vip("reclaim", "--orphaned", "-A", "--yes")
    assert r.code == 0
    assert r.stderr.count("cannot create Events") == 1


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(["reclaim"], "nothing to reclaim", id="no-target"),
        pytest.param(["reclaim", "--ip", "10.0.1"], "not an IPv4 address", id="bad-ip"),
        pytest.param(
            ["reclaim", "--retained-for", "banana", "-A"],
            "invalid --retained-for",
            id="bad-duration",
        ),
        pytest.param(["reclaim", "x", "--orphaned"], "cannot be combined", id="names-and-bulk"),
        pytest.param(["reclaim", "x", "-A"], "need one namespace", id="names-all-ns"),
        pytest.param(
            ["reclaim", "--orphaned", "-o", "wide"], "unknown output format", id="bad-output"
        ),
        pytest.param(
            ["reclaim", "--orphaned", "--wait", "--dry-run"], "cannot be combined", id="wait-dry"
        ),
        pytest.param(
            ["reclaim", "--orphaned", "--timeout", "soon"], "invalid --timeout", id="bad-timeout"
        ),
    ],
)
def test_bad_input_exit_2_and_nothing_sent(
    vip: Runner, sandbox: Sandbox, argv: list[str], fragment: str
) -> None:
    sandbox.controls.clear_log()
    r = vip(*argv)
    assert r.code == 2, r.stderr
    assert fragment in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert sandbox.controls.resource_requests() == []


def test_unknown_claim_names_namespace(vip: Runner, sandbox: Sandbox) -> None:
    r = vip("reclaim", "nope-0", "-n", "db", "--yes")
    assert r.code == 1
    assert r.stderr.strip() == 'error: claim "nope-0" not found in namespace "db"'


# ---------------------------------------------------------------------------- pure parts


def test_read_plan_rejects_incomplete_items() -> None:
    from kubectl_vip.errors import UsageError

    with pytest.raises(UsageError, match="needs namespace, name, uid and resourceVersion"):
        read_plan({"apiVersion": "kubectl-vip/v1", "kind": "ClaimList", "items": [{"name": "x"}]})
    with pytest.raises(UsageError, match="not a kubectl-vip/v1 document"):
        read_plan({"kind": "List"})


def test_select_never_picks_in_use_claims() -> None:
    from tests.test_claims import NOW, claim, one, pod

    in_use = one(claim(), pods=[pod()])
    assert select([in_use], Criteria(), Rules())[0] == []
    assert (
        select([in_use], Criteria(retained_for=timedelta(0)), Rules(include_completed=True))[0]
        == []
    )
    done = one(claim(), pods=[pod(phase="Succeeded")])
    assert select([done], Criteria(), Rules())[0] == []
    assert select([done], Criteria(), Rules(include_completed=True))[0] == [done]
    assert NOW


def _unused(r: Result) -> None:  # keeps the Result import meaningful for type checkers
    assert r
