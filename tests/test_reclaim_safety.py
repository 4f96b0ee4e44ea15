"""`reclaim` takes exactly what was asked, and never a claim whose Pod may come back: owners of
other API groups, StatefulSet ordinals.start, estimated times, plan files and bulk runs
(end to end on the sandbox; the real kubectl checks what the cluster holds afterwards)."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import Result, Runner, aimed, make_sandbox, run_vip
from .test_reclaim import _on_second_claim_list, claims, deletes


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "state"
    monkeypatch.setenv("KUBECTL_VIP_STATE_DIR", str(d))
    return d


@pytest.fixture
def owners(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Sandbox, Runner]]:
    scenario = getattr(request, "param", "owners")
    sb = make_sandbox(scenario)
    kc = sb.write_kubeconfig(tmp_path / "owners.kubeconfig")
    yield sb, lambda *a: run_vip(*a, kubeconfig=kc)
    sb.stop()


# the owners scenario's controllers keep their replica counts since it was played; the demo's
# redis was scaled in six days before its present
SCALED = ("--scaled-in", "--scaled-in-for", "1s")
DEMO_BULK = ("--orphaned", "--scaled-in", "--scaled-in-for", "24h")


def plan_names(r: Result) -> set[str]:
    doc = json.loads(r.stdout)
    return {f"{i['namespace']}/{i['name']}" for i in doc["items"] if i["result"] == "wouldReclaim"}


# ---------------------------------------------------------------------------- owners


def test_orphaned_takes_only_owners_confirmed_gone(owners: tuple[Sandbox, Runner]) -> None:
    """Every controller of the scenario still runs, at a smaller scale: --orphaned takes
    nothing; --scaled-in takes the ordinals they no longer run. Kruise keeps shop-3
    (reserveOrdinals shifts its ordinals), TApp keeps game-1 (Killed, restartable), a Foo owner
    cannot be read, legacy claims name no owner: none of those is taken."""
    _, vip = owners
    r = vip("reclaim", "--orphaned", "-A", "--dry-run", "-o", "json")
    assert r.code == 0, r.stderr
    assert plan_names(r) == set()
    r = vip("reclaim", *SCALED, "-A", "--dry-run", "-o", "json")
    assert r.code == 0, r.stderr
    assert plan_names(r) == {
        "pay/pay-0",
        "pay/pay-3",
        "shop/shop-1",
        "shop/shop-4",
        "games/game-3",
    }


@pytest.mark.parametrize("owners", ["owners-unserved"], indirect=True)
def test_owner_whose_group_is_not_served_is_unknown_never_orphaned(
    owners: tuple[Sandbox, Runner],
) -> None:
    """An OpenKruise-owned claim was looked up as an apps/v1 StatefulSet, found missing and
    reclaimed: with the group not served, its owner is unknown and the claim stays."""
    sb, vip = owners
    r = vip("reclaim", *SCALED, "-A", "--yes")
    assert r.code == 0, r.stdout + r.stderr
    left = claims(sb)
    assert {"shop/shop-1", "shop/shop-3", "shop/shop-4", "games/game-1", "games/game-3"} <= left
    assert {"pay/pay-0", "pay/pay-3"}.isdisjoint(left)
    listed = vip("list", "-n", "shop", "-o", "json")
    reasons = {i["name"]: i["reason"] for i in json.loads(listed.stdout)["items"]}
    assert "apps.kruise.io is not served" in reasons["shop-4"]
    r = vip("reclaim", "shop-4", "-n", "shop", "--yes")
    assert r.code == 1 and "--allow-new-ip" in r.stdout
    assert "shop/shop-4" in claims(sb)


def test_live_ordinal_after_ordinals_start_is_refused(owners: tuple[Sandbox, Runner]) -> None:
    """StatefulSet pay keeps ordinals [start, start+replicas) = 1..2: pay-2 with its Pod gone for
    a moment is a Pod that comes back, never Orphaned."""
    sb, vip = owners
    sb.store.listeners.remove(sb.kube.on_event)  # the Pod has not been recreated yet
    try:
        sb.world.delete(sb.world.t.pods, "pay", "pay-2")
        r = vip("reclaim", *SCALED, "-n", "pay", "--dry-run", "-o", "json")
        assert plan_names(r) == {"pay/pay-0", "pay/pay-3"}
        r = vip("reclaim", "pay-2", "-n", "pay", "--yes")
    finally:
        sb.store.listeners.insert(0, sb.kube.on_event)
    assert r.code == 1 and "StatefulSet/pay will recreate Pod pay-2" in r.stdout
    assert "pay/pay-2" in claims(sb)


def test_owner_read_again_right_before_the_delete(owners: tuple[Sandbox, Runner]) -> None:
    """The Kruise StatefulSet is scaled to 5 between the plan and the delete: shop-4 is a live
    ordinal again, so its delete is refused; shop-1 (reserved) is still scaled in, but its
    controller's replica count changed just now: --scaled-in-for is no longer met."""
    sb, vip = owners
    rtype = sb.registry.for_api_version("apps.kruise.io/v1beta1", "StatefulSet")
    assert rtype is not None

    def five(o: dict[str, Any]) -> None:
        o["spec"]["replicas"] = 5

    _on_second_claim_list(sb, lambda: sb.store.mutate(rtype, "shop", "shop", five))
    r = vip("reclaim", *SCALED, "-n", "shop", "--yes")
    assert r.code == 1
    assert {"shop/shop-1", "shop/shop-4"} <= claims(sb)
    assert "will recreate Pod shop-4" in r.stdout
    assert "kept its replica count for 0s, less than --scaled-in-for 1s" in r.stdout


def test_owner_flag_takes_claims_of_a_workload_deleted_before_cascade(
    owners: tuple[Sandbox, Runner],
) -> None:
    sb, vip = owners
    assert "legacy/old-0" in claims(sb)
    r = vip("reclaim", "--orphaned", "-n", "legacy", "--dry-run", "-o", "json")
    assert plan_names(r) == set()  # no ownerReference: never Orphaned by itself
    r = vip("reclaim", "--owner", "statefulset/old", "-n", "legacy", "--dry-run")
    assert r.code == 0 and "StatefulSet/old is gone" in r.stdout
    r = vip("reclaim", "--owner", "statefulset/old", "-n", "legacy", "--yes")
    assert r.code == 0, r.stdout + r.stderr
    assert {"legacy/old-0", "legacy/old-1"}.isdisjoint(claims(sb))
    # an existing owner: none (the ordinals it no longer runs are --scaled-in's)
    r = vip("reclaim", "--owner", "statefulset/pay", "-n", "pay", "--dry-run", "-o", "json")
    assert plan_names(r) == set()
    r = vip("reclaim", "--owner", "tapp/game", "-n", "games", "--dry-run", "-o", "json")
    assert plan_names(r) == set()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        pytest.param(["--owner", "statefulset/old", "-A"], "one namespace", id="all-namespaces"),
        pytest.param(["--owner", "deployment/web", "-n", "x"], "invalid --owner", id="kind"),
        pytest.param(["--owner", "statefulset/Bad_Name", "-n", "x"], "invalid --owner", id="name"),
        pytest.param(["-A", "--yes"], "--owner", id="no-criterion-all"),
        pytest.param(["-n", "db", "--yes"], "a namespace alone selects nothing", id="no-criterion"),
    ],
)
def test_bulk_without_a_criterion_is_a_usage_error(
    vip: Runner, sandbox: Sandbox, args: list[str], fragment: str
) -> None:
    r = vip("reclaim", *args)
    assert r.code == 2 and fragment in r.stderr
    assert deletes(sandbox) == []


# ---------------------------------------------------------------------------- times


def test_estimated_release_time_never_selects(vip: Runner, sandbox: Sandbox) -> None:
    """A claim whose release time is only estimated (no status.releaseTime) is not selected by
    --retained-for, and the plan says why."""
    t = sandbox.world.t.claims
    assert t is not None

    def no_release_time(o: dict[str, Any]) -> None:
        o["status"].pop("releaseTime", None)

    sandbox.store.mutate(t, "default", "debug-shell", no_release_time, manager="tke-eni-ipamd")
    sandbox.advance(timedelta(hours=1))  # its last status write: an hour ago
    r = vip("reclaim", "--retained-for", "1s", "-n", "default", "--dry-run")
    assert r.code == 0
    assert "release time unknown" in r.stderr + r.stdout and "default/debug-shell" in (
        r.stderr + r.stdout
    )
    r = vip("reclaim", "--retained-for", "1s", "-n", "default", "--dry-run", "-o", "json")
    doc = json.loads(r.stdout)
    assert "default/debug-shell" not in plan_names(r)
    assert [i["name"] for i in doc["metadata"]["notSelected"]] == ["debug-shell"]


# ---------------------------------------------------------------------------- plans


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"null\n", id="null"),
        pytest.param(b"~\n", id="tilde"),
        pytest.param(b"# only a comment\n", id="comments"),
        pytest.param(b'{"apiVersion": "kubectl-vip/v1", "kind": "ClaimList"}', id="no-items"),
        pytest.param(
            b'{"apiVersion":"kubectl-vip/v1","kind":"ClaimList","items":[1]}', id="item-type"
        ),
        pytest.param(
            b'{"apiVersion":"kubectl-vip/v1","kind":"ClaimList","items":[{"namespace":"db",'
            b'"name":"redis-3","uid":7,"resourceVersion":"1"}]}',
            id="field-type",
        ),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", id="binary"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested"),
        pytest.param(
            b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
                f"*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},"
                f"*{chr(97 + i)}]\n".encode()
                for i in range(8)
            ),
            id="alias-bomb",
        ),
    ],
)
def test_a_plan_that_is_not_a_plan_is_a_usage_error(
    vip: Runner, sandbox: Sandbox, tmp_path: Path, content: bytes
) -> None:
    plan = tmp_path / "plan.json"
    plan.write_bytes(content)
    started = time.monotonic()
    r = vip("reclaim", "--from-file", str(plan), "-A", "--yes")
    assert time.monotonic() - started < 30  # the alias bomb is refused, not expanded
    assert r.code == 2, r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2 and "Traceback" not in r.stderr
    assert deletes(sandbox) == []


def _plan(vip: Runner, *args: str) -> dict[str, Any]:
    r = vip("reclaim", *DEMO_BULK, *args, "--dry-run", "-o", "json")
    assert r.code == 0, r.stderr
    doc: dict[str, Any] = json.loads(r.stdout)
    return doc


def test_namespace_bounds_a_plan(vip: Runner, sandbox: Sandbox, tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(_plan(vip, "-A")))
    r = vip("reclaim", "--from-file", str(plan), "-n", "db", "--yes")
    assert r.code == 1
    assert "outside -n db" in r.stdout
    left = claims(sandbox)
    assert {"db/redis-2", "db/redis-3"}.isdisjoint(left)
    assert {"web/legacy-api-0", "web/legacy-api-1"} <= left
    r = vip("reclaim", "--from-file", str(plan), "-A", "--yes")
    assert r.code == 0, r.stdout
    assert {"web/legacy-api-0", "web/legacy-api-1"}.isdisjoint(claims(sandbox))


def test_plan_item_that_does_not_exist_is_not_found(
    vip: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    doc = _plan(vip, "-n", "db")
    doc["items"].append({**doc["items"][0], "name": "redis-9", "uid": "x"})
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc))
    r = vip("reclaim", "--from-file", str(plan), "-n", "db", "--yes", "-o", "json")
    assert r.code == 0, r.stdout
    results = {i["name"]: i["result"] for i in json.loads(r.stdout)["items"]}
    assert results == {"redis-2": "reclaimed", "redis-3": "reclaimed", "redis-9": "notFound"}


@pytest.mark.parametrize(
    "cluster",
    [
        pytest.param({"kubeSystemUID": "not-a-uid"}, id="bad-uid"),
        pytest.param({"server": 42}, id="bad-server"),
        pytest.param({"anything": "else"}, id="no-identity"),
    ],
)
def test_plan_with_a_fake_identity_is_refused(
    vip: Runner, sandbox: Sandbox, tmp_path: Path, cluster: dict[str, Any]
) -> None:
    doc = _plan(vip, "-n", "db")
    doc["metadata"]["cluster"] = cluster
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc))
    r = vip("reclaim", "--from-file", str(plan), "-n", "db", "--yes")
    assert r.code == 1 and "identity" in r.stderr
    assert deletes(sandbox) == []


def test_dry_run_past_max_prints_the_whole_plan(vip: Runner, sandbox: Sandbox) -> None:
    r = vip("reclaim", *DEMO_BULK, "-A", "--dry-run", "--max", "1", "-o", "json")
    assert r.code == 1
    assert len(plan_names(r)) == 4  # every item, so `> plan.json` is a whole plan
    assert "--max 1" in r.stderr
    r = vip("reclaim", *DEMO_BULK, "-A", "--dry-run", "--max", "1")
    assert r.code == 1 and "would reclaim" in r.stdout and "--max 1" in r.stderr
    assert deletes(sandbox) == []


def test_named_reclaim_twice_converges(vip: Runner, sandbox: Sandbox) -> None:
    assert vip("reclaim", "redis-3", "-n", "db", "--yes", "--scaled-in-for", "24h").code == 0
    r = vip("reclaim", "redis-3", "-n", "db", "--yes")
    assert r.code == 0, r.stdout + r.stderr
    assert "already reclaimed" in r.stdout
    r = vip("reclaim", "no-such-claim", "-n", "db", "--yes")
    assert r.code == 1 and "not found" in r.stderr


def test_list_hint_carries_every_filter(vip: Runner, kubectl: Runner, kubeconfig: Path) -> None:
    """The hinted command selects what was shown: -l and --state included."""
    assert kubectl("label", "vipc", "legacy-api-0", "-n", "web", "tier=cache").code == 0
    r = vip("list", "-A", "-l", "tier=cache", "--state", "orphaned")
    hint = r.stdout.strip().splitlines()[-1]
    assert "would free 1 IP:" in hint
    assert hint.endswith(
        aimed("kubectl-vip reclaim --orphaned -A -l tier=cache --dry-run", kubeconfig)
    )
    cmd = shlex.split(hint.split(": ", 1)[1])[1:]  # run as printed: it names its kubeconfig
    r = run_vip(*cmd, "-o", "json")
    assert plan_names(r) == {"web/legacy-api-0"}


# ---------------------------------------------------------------------------- describe, kubectl


def test_describe_names_the_owner_of_another_group(owners: tuple[Sandbox, Runner]) -> None:
    _, vip = owners
    r = vip("describe", "shop-3", "-n", "shop")
    text = " ".join(r.stdout.split())
    assert r.code == 0, r.stderr
    assert "StatefulSet.apps.kruise.io/shop recreates it, and it gets IP" in text
    r = vip("describe", "game-1", "-n", "games")
    assert "instance 1 Killed" in " ".join(r.stdout.split())


@pytest.mark.parametrize("owners", ["owners-unserved"], indirect=True)
def test_through_the_real_kubectl(owners: tuple[Sandbox, Runner], tmp_path: Path) -> None:
    """`kubectl vip reclaim --orphaned -A --yes` run by kubectl itself, then `kubectl get vipc`:
    the claims of owners whose API group is not served are still there."""
    import os
    import subprocess

    from .conftest import kubectl_path, plugin_path

    assert owners[0].url  # serving: its kubeconfig is owners.kubeconfig
    env = dict(os.environ)
    env.update(
        KUBECONFIG=str(tmp_path / "owners.kubeconfig"),
        KUBECACHEDIR=str(tmp_path / "kubecache"),
        HOME=str(tmp_path),
        PATH=plugin_path(env.get("PATH", "")),
        NO_COLOR="1",
    )

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kubectl_path(), *args], capture_output=True, text=True, env=env, timeout=120
        )

    p = kubectl("vip", "reclaim", *SCALED, "-A", "--yes")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "reclaimed vipc/pay/pay-3" in p.stdout
    got = kubectl("get", "vipc", "-A", "-o", "name")
    names = {line.rsplit("/", 1)[1] for line in got.stdout.split()}
    assert {"shop-1", "shop-3", "shop-4", "game-1", "game-3", "worker-0"} <= names
    assert "pay-3" not in names and "pay-0" not in names
    p = kubectl("vip", "reclaim", "--from-file", str(tmp_path / "missing.json"), "-A", "--yes")
    assert p.returncode == 2 and "cannot read the plan file" in p.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("")
    p = kubectl("vip", "reclaim", "--from-file", str(empty), "-A", "--yes")
    assert p.returncode == 2 and "the plan file is empty" in p.stderr
    assert {"shop-1", "game-3"} <= {
        line.rsplit("/", 1)[1] for line in kubectl("get", "vipc", "-A", "-o", "name").stdout.split()
    }
    # StatefulSet pay keeps ordinals 1..2 (ordinals.start 1): pay-2 without its Pod for a moment
    sb = owners[0]
    sb.store.listeners.remove(sb.kube.on_event)  # its controller has not recreated it yet
    try:
        sb.world.delete(sb.world.t.pods, "pay", "pay-2")
        p = kubectl("vip", "reclaim", "pay-2", "-n", "pay", "--yes")
    finally:
        sb.store.listeners.insert(0, sb.kube.on_event)
    assert p.returncode == 1 and "StatefulSet/pay will recreate Pod pay-2" in p.stdout
    assert "pay-2" in kubectl("get", "vipc", "-n", "pay", "-o", "name").stdout


def test_bulk_lines_come_in_namespace_name_order(vip: Runner, sandbox: Sandbox) -> None:
    """Deletes run 4 at a time and finish in any order; the report lists them sorted."""
    import random

    real_delete = sandbox.store.delete

    def jittery(*a: Any, **kw: Any) -> Any:
        time.sleep(random.uniform(0, 0.05))
        return real_delete(*a, **kw)

    sandbox.store.delete = jittery  # type: ignore[method-assign]
    r = vip("reclaim", *DEMO_BULK, "-A", "--yes", "--concurrency", "4")
    assert r.code == 0, r.stdout + r.stderr
    done = [ln.split()[1] for ln in r.lines if ln.startswith("reclaimed ")]
    assert done == sorted(done) and len(done) == 4


def test_reproduced_cases_through_the_real_kubectl(
    kubectl: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    """Each case of the reclaim-safety report, run as an operator runs it: `kubectl vip ...`."""
    # a namespace alone selects nothing
    r = kubectl("vip", "reclaim", "-A", "--yes")
    assert r.code == 2 and "--owner" in r.stderr
    # --dry-run past --max still writes the whole plan, and says the real run would be refused
    r = kubectl("vip", "reclaim", *DEMO_BULK, "-A", "--dry-run", "--max", "1", "-o", "json")
    assert r.code == 1 and len(plan_names(r)) == 4 and "--max 1" in r.stderr
    plan = tmp_path / "plan.json"
    plan.write_text(r.stdout)
    # -n bounds a plan: only db's items go
    r = kubectl("vip", "reclaim", "--from-file", str(plan), "-n", "db", "--yes")
    assert r.code == 1 and "outside -n db" in r.stdout
    left = claims(sandbox)
    assert "db/redis-3" not in left and "web/legacy-api-0" in left
    # the same named reclaim again converges
    r = kubectl("vip", "reclaim", "redis-3", "-n", "db", "--yes")
    assert r.code == 0 and "already reclaimed" in r.stdout
    # the list hint keeps -l and --state, and selects what was shown
    assert kubectl("label", "vipc", "legacy-api-1", "-n", "web", "tier=old").code == 0
    r = kubectl("vip", "list", "-A", "-l", "tier=old", "--state", "orphaned")
    hint = r.stdout.strip().splitlines()[-1]
    assert hint.endswith("kubectl vip reclaim --orphaned -A -l tier=old --dry-run"), hint
    r = kubectl("vip", *hint.split(": ", 1)[1].split()[2:], "-o", "json")
    assert plan_names(r) == {"web/legacy-api-1"}


def test_doctor_points_claims_without_owner_at_reclaim_owner(
    owners: tuple[Sandbox, Runner],
) -> None:
    """The seeds: cascade covers only workloads created after --enable-ownerref. Claims of a
    workload deleted before carry no ownerReference: doctor names `reclaim --owner` for them,
    never `reclaim --orphaned` (which rightly does not take them)."""
    _, vip = owners
    r = vip("doctor", "--check", "VIP-POL-003", "-o", "json")
    (finding,) = json.loads(r.stdout)["findings"]
    assert " reclaim --owner statefulset/old -n legacy --dry-run" in finding["fix"]
    assert any("legacy/old-N: 2 claims" in e for e in finding["evidence"])
