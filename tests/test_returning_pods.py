"""Pods that come back keep their IPs, end to end: each case of the report reproduced through
`kubectl vip ...` on a sandbox scenario (a paused StatefulSet, an autoscaler, a completed Pod its
controller replaces, a Pod force-deleted on an unreachable node, args two flag packages read
differently, vendor suffixes on the image tag, a zero annotation, the Immediate policy, a
wrapper entrypoint), and `describe` agreeing with `list` on every claim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import Result, Runner, make_sandbox, run_vip

Obj = dict[str, Any]
EXPIRY = "tke.cloud.tencent.com/claim-expired-duration"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("KUBECTL_VIP_STATE_DIR", str(d))
    return d


def served(scenario: str, tmp_path: Path, **kw: Any) -> tuple[Sandbox, Runner]:
    sb = make_sandbox(scenario, **kw)
    kc = sb.write_kubeconfig(tmp_path / f"{scenario}.kubeconfig")
    return sb, lambda *a: run_vip(*a, kubeconfig=kc)


@pytest.fixture
def scaled(tmp_path: Path) -> Iterator[tuple[Sandbox, Runner]]:
    sb, vip = served("scaled-in", tmp_path)
    yield sb, vip
    sb.stop()


def states(r: Result) -> dict[str, str]:
    assert r.code == 0, r.stderr
    return {f"{i['namespace']}/{i['name']}": i["state"] for i in json.loads(r.stdout)["items"]}


def planned(r: Result) -> set[str]:
    doc = json.loads(r.stdout)
    return {f"{i['namespace']}/{i['name']}" for i in doc["items"] if i["result"] == "wouldReclaim"}


def not_selected(r: Result) -> dict[str, str]:
    doc = json.loads(r.stdout)
    return {
        f"{i['namespace']}/{i['name']}": i["reason"] for i in doc["metadata"].get("notSelected", [])
    }


# ---------------------------------------------------------------------------- 1: scale-in


def test_a_statefulset_paused_at_zero_is_not_orphaned(scaled: tuple[Sandbox, Runner]) -> None:
    _, vip = scaled
    got = states(vip("list", "-n", "db", "-o", "json"))
    assert got == {f"db/mysql-{i}": "ScaledIn" for i in range(3)}
    r = vip("describe", "mysql-1", "-n", "db")
    assert "StatefulSet/mysql is at 0 replicas: paused, not gone" in " ".join(r.stdout.split())
    # --orphaned (what doctor used to advise) takes none; --scaled-in leaves a paused one
    assert planned(vip("reclaim", "--orphaned", "-n", "db", "--dry-run", "-o", "json")) == set()
    r = vip(
        "reclaim", "--scaled-in", "--scaled-in-for", "1h", "-n", "db", "--dry-run", "-o", "json"
    )
    assert planned(r) == set()
    assert all("paused, not gone" in why for why in not_selected(r).values())
    assert set(not_selected(r)) == {f"db/mysql-{i}" for i in range(3)}


def test_an_autoscaler_keeps_the_ordinals_it_may_bring_back(scaled: tuple[Sandbox, Runner]) -> None:
    _, vip = scaled
    args = ("reclaim", "--scaled-in", "--scaled-in-for", "72h", "-n", "shop", "--dry-run")
    r = vip(*args, "-o", "json")
    # cache was scaled 5 -> 3 eight days ago, no autoscaler: its two top ordinals go; web is
    # under an HPA of max 5 (web-2, -3 come back when it scales); legacy's owner is gone
    assert planned(r) == {"shop/cache-3", "shop/cache-4"}
    why = not_selected(r)
    assert "HorizontalPodAutoscaler/web may scale StatefulSet/web up to 5" in why["shop/web-2"]
    assert states(vip("list", "-n", "shop", "-o", "json"))["shop/legacy-0"] == "Orphaned"
    # kept 8 days: a longer --scaled-in-for leaves cache too
    r = vip("reclaim", "--scaled-in", "--scaled-in-for", "240h", "-n", "shop", "--dry-run",
            "-o", "json")  # fmt: skip
    assert (
        planned(r) == set() and "less than --scaled-in-for 10d" in not_selected(r)["shop/cache-3"]
    )
    r = vip("reclaim", "--scaled-in", "-n", "shop", "--dry-run")
    assert r.code == 2 and "--scaled-in needs --scaled-in-for" in r.stderr


def test_doctor_sends_scaled_in_claims_to_their_own_finding(scaled: tuple[Sandbox, Runner]) -> None:
    _, vip = scaled
    doc = json.loads(vip("doctor", "-o", "json").stdout)
    by_id: dict[str, list[Obj]] = {}
    for f in doc["findings"]:
        by_id.setdefault(f["id"], []).append(f)
    (orph,) = by_id["VIP-CLM-001"]
    assert set(orph["objects"]) == {"VpcIPClaim/shop/legacy-0", "VpcIPClaim/shop/legacy-1"}
    (scaled_in,) = by_id["VIP-CLM-005"]
    assert scaled_in["severity"] == "info"
    assert "VpcIPClaim/db/mysql-0" in scaled_in["objects"]
    assert "--scaled-in --scaled-in-for" in scaled_in["fix"]


def test_scaling_to_zero_with_the_real_kubectl(kubectl: Runner, vip: Runner) -> None:
    """`kubectl scale sts mysql -n db --replicas=0` for maintenance: ScaledIn (paused), never
    Orphaned, never taken; scaled back up, the Pods get their IPs back."""
    before = {i["name"]: i["ip"] for i in json.loads(vip("list", "-n", "db", "-o", "json").stdout)[
        "items"]}  # fmt: skip
    assert kubectl("scale", "sts", "mysql", "-n", "db", "--replicas=0").code == 0
    got = states(vip("list", "-n", "db", "-o", "json"))
    assert {got[f"db/mysql-{i}"] for i in range(3)} == {"ScaledIn"}
    r = vip("reclaim", "--orphaned", "--scaled-in", "--scaled-in-for", "0s", "-n", "db",
            "--dry-run", "-o", "json")  # fmt: skip
    assert not {f"db/mysql-{i}" for i in range(3)} & planned(r)
    assert kubectl("scale", "sts", "mysql", "-n", "db", "--replicas=3").code == 0
    after = {i["name"]: i["ip"] for i in json.loads(vip("list", "-n", "db", "-o", "json").stdout)[
        "items"]}  # fmt: skip
    assert {n: after[n] for n in ("mysql-0", "mysql-1", "mysql-2")} == {
        n: before[n] for n in ("mysql-0", "mysql-1", "mysql-2")
    }


# ---------------------------------------------------------------------------- 2: completed


def test_a_failed_pod_its_statefulset_replaces_keeps_its_claim(
    sandbox: Sandbox, kubectl: Runner, vip: Runner
) -> None:
    sandbox.pause_controller("statefulset")  # it has not replaced the Pod yet
    patch = '{"status":{"phase":"Failed","reason":"Evicted"}}'
    k = kubectl("patch", "pod", "mysql-1", "-n", "db", "--subresource=status", "--type=merge",
                "-p", patch)  # fmt: skip
    assert k.code == 0, k.stderr
    assert states(vip("list", "-n", "db", "-o", "json"))["db/mysql-1"] == "Completed"
    r = vip("reclaim", "mysql-1", "-n", "db", "--include-completed", "--yes")
    assert r.code == 1 and "StatefulSet/mysql will recreate Pod mysql-1" in r.stdout
    assert sandbox.store.peek(sandbox.world.t.claims, "db", "mysql-1") is not None
    sandbox.resume_controller("statefulset")  # it recreates mysql-1, which gets its IP back
    pod = sandbox.store.peek(sandbox.world.t.pods, "db", "mysql-1")
    assert pod is not None and pod["status"]["podIP"] == "10.0.1.3"


# ---------------------------------------------------------------------------- 3: unreachable node


def test_a_pod_force_deleted_on_an_unreachable_node_keeps_its_ip(tmp_path: Path) -> None:
    sb, vip = served("unreachable-node", tmp_path)
    try:
        r = vip("reclaim", "--orphaned", "-A", "--dry-run", "-o", "json")
        assert planned(r) == {"web/old-api-0"}  # pg-0's VpcIP is still Attached on node-c
        items = {i["name"]: i for i in json.loads(r.stdout)["items"]}
        assert items["pg-0"]["result"] == "refused"
        assert "node-c, which is Ready=Unknown (NodeStatusUnknown)" in items["pg-0"]["reason"]
        real = vip("reclaim", "toolbox", "-n", "ops", "--yes", "--allow-new-ip")
        assert real.code == 1 and "its Pod may still run there" in real.stdout
        assert sb.store.peek(sb.world.t.claims, "ops", "toolbox") is not None
        # the list's hint counts what that very command would take
        hint = vip("list", "-A").stdout.strip().splitlines()[-1]
        assert "would free 1 IP" in hint
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- 4: flag packages


def _retained(sb: Sandbox, name: str, away: timedelta) -> None:
    from kubectl_vip.sandbox.scenario_kit import B

    b = B(sb)
    b.pod("default", name, b.template(name, static=True, zone="ap-guangzhou-3"))
    sb.advance(timedelta(seconds=1))
    b.delete("pods", "default", name)
    sb.advance(away)


@pytest.mark.parametrize("library", ["flag", "pflag"])
def test_split_boolean_impact_is_the_worst_of_both_readings(tmp_path: Path, library: str) -> None:
    """`--enable-ownerref`, `false`, then `--claim-expired-duration=1h`: Go's flag package
    stops at `false` (expiry never), pflag reads on (1h). The tool shows the claim's expiry as
    unknown, counts the worse reading as caused by `set-expiry 2h`, so it refuses without a
    terminal, and what it says ipamd reclaims is what the sandbox's ipamd reclaims, whichever
    package it parses with."""
    sb, vip = served("ipamd-split-bool", tmp_path)  # played with Go's flag package
    try:
        _retained(sb, "solo", 3 * timedelta(hours=1))  # away 3h: under 1h it would be gone
        assert states(vip("list", "-n", "default", "-o", "json"))["default/solo"] == "Retained"
        row = json.loads(vip("list", "-n", "default", "-o", "json").stdout)["items"][0]
        assert row["expiry"] is None and row["expiryOptions"] == ["1h0m0s", "never"]
        assert "unknown (60m|never)" in vip("list", "-n", "default").stdout
        assert vip("reclaim", "--overdue", "-A", "--dry-run", "-o", "json").stdout.count(
            '"solo"') == 0  # fmt: skip
        sb.controls.clear_log()
        r = vip("set-expiry", "2h")
        assert r.code == 1 and "without confirmation" in r.stderr
        assert not [q for q in sb.controls.resource_requests() if q.verb == "patch"]
        doc = json.loads(vip("set-expiry", "2h", "--dry-run", "-o", "json").stdout)
        due = {i["name"] for i in doc["impact"]["items"] if i["due"] == "nextSweep"}
        caused = {i["name"] for i in doc["impact"]["items"] if i["byThisChange"]}
        assert due == {"solo"} and caused == {"solo"}
        sb.world.ipamd_flag_library = library  # now the sandbox's ipamd parses with `library`
        assert vip("set-expiry", "2h", "--yes").code == 0
        sb.advance(timedelta(seconds=1))
        gone = {"solo"} - {o["metadata"]["name"] for o in sb.store.objects(sb.world.t.claims)}
        assert gone == due
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- 5: suffixes


def test_a_vendor_suffix_leaves_the_version_unknown_and_the_console_rule(tmp_path: Path) -> None:
    sb, vip = served("ipamd-suffix", tmp_path)
    try:
        cfg = vip("config").stdout
        assert 'the image tag "v3.5.0-amd64" carries the suffix "-amd64"' in cfg
        r = vip("set-expiry", "2h", "--yes")
        assert r.code == 1 and "console" in (r.stdout + r.stderr).lower()
        assert vip("set-expiry", "2h", "--yes", "--force").code == 0
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- 6: zero annotation


def test_a_zero_annotation_is_unknown_everywhere(tmp_path: Path) -> None:
    sb, vip = served("healthy", tmp_path)
    try:
        _retained(sb, "zero", timedelta(minutes=30))
        claims = sb.world.t.claims
        assert claims is not None

        def zero(c: Obj) -> None:
            c["metadata"].setdefault("annotations", {})[EXPIRY] = "0s"

        sb.store.mutate(claims, "default", "zero", zero)
        row = json.loads(vip("list", "-n", "default", "-o", "json").stdout)["items"]
        (item,) = [i for i in row if i["name"] == "zero"]
        assert item["state"] == "Retained" and item["expiryOptions"]
        d = vip("describe", "zero", "-n", "default")
        assert "Expiry:         unknown: " in d.stdout and "never" in d.stdout
        doc = json.loads(vip("set-expiry", "10m", "--dry-run", "-o", "json").stdout)
        (it,) = [i for i in doc["impact"]["items"] if i["name"] == "zero"]
        assert it["worseCase"] and it["due"] == "nextSweep"
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- 7: Immediate


def _frontend(vip: Runner) -> Obj:
    got = json.loads(vip("list", "-n", "web", "-o", "json").stdout)["items"]
    (row,) = [i for i in got if i["name"] == "frontend-6f7d9c-q2x8z"]
    return row  # type: ignore[no-any-return]


def test_an_immediate_claim_gets_a_sweep_of_grace(sandbox: Sandbox, vip: Runner) -> None:
    """ipamd releases an Immediate claim with its Pod at its next sweep: only past that grace is
    it Overdue; when its Pod went is only estimated (ipamd was down: nobody wrote it), doctor
    warns but raises no error and states no due time."""
    from kubectl_vip.sandbox.clock import rfc3339

    def stop(d: Obj) -> None:
        d["spec"]["replicas"] = 0

    sandbox.store.mutate(sandbox.world.t.deployments, "kube-system", "tke-eni-ipamd", stop)
    sandbox.store.delete(sandbox.world.t.pods, "web", "frontend-6f7d9c-q2x8z")
    # nobody wrote when its Pod went: its last status write (two hours ago) stands in
    assert _frontend(vip)["state"] == "Overdue" and _frontend(vip)["reclaimAt"] is None
    doc = json.loads(vip("doctor", "--check", "VIP-CLM-002", "-o", "json").stdout)
    (f,) = doc["findings"]  # an error: the demo's etl-workers are past a known due time
    assert not any("was due" in e and "frontend" in e for e in f["evidence"])
    claims = sandbox.world.t.claims
    assert claims is not None
    now = rfc3339(sandbox.clock.now())

    def released(c: Obj) -> None:  # ... and now it is known: just now
        c["status"]["releaseTime"] = now

    sandbox.store.mutate(claims, "web", "frontend-6f7d9c-q2x8z", released)
    sandbox.advance(timedelta(minutes=1))
    assert _frontend(vip)["state"] == "Retained"
    assert "at its next sweep" in _frontend(vip)["reason"]
    sandbox.advance(timedelta(minutes=10))
    assert _frontend(vip)["state"] == "Overdue"
    assert _frontend(vip)["reclaimAt"] is not None


# ---------------------------------------------------------------------------- 8: wrappers


def test_flags_after_a_wrapper_are_read_and_patched_in_place(tmp_path: Path) -> None:
    sb, vip = served("ipamd-wrapper", tmp_path)
    try:
        assert "Expiry:           1h" in vip("config").stdout
        assert vip("set-expiry", "2h", "--yes").code == 0
        dep = sb.store.peek(sb.world.t.deployments, "kube-system", "tke-eni-ipamd")
        assert dep is not None
        (c,) = dep["spec"]["template"]["spec"]["containers"]
        assert c["command"] == ["/tini", "--", "/tke-eni-ipamd"]
        assert c["args"][0] == "--claim-expired-duration=2h"
        assert sb.world.expiry() == timedelta(hours=2)

        def script(d: Obj) -> None:
            (ctr,) = d["spec"]["template"]["spec"]["containers"]
            ctr["command"] = ["/entrypoint.sh"]

        sb.store.mutate(sb.world.t.deployments, "kube-system", "tke-eni-ipamd", script)
        r = vip("set-expiry", "3h", "--yes")
        assert r.code == 1 and "names no tke-eni-ipamd binary" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- one truth


def test_describe_and_list_agree_on_every_claim(vip: Runner) -> None:
    rows = json.loads(vip("list", "-A", "-o", "json").stdout)["items"]
    for row in rows:
        d = json.loads(vip("describe", row["name"], "-n", row["namespace"], "-o", "json").stdout)
        assert d["claim"]["state"] == row["state"], row["name"]
