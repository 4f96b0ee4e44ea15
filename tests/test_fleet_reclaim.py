"""reclaim across contexts: a fleet dry run is a plan whose items carry context and cluster;
a fleet plan reclaims in each item's own cluster only, each context's part checked as a
single-cluster plan is."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.errors import ExitCode
from kubectl_vip.sandbox import Sandbox

from .conftest import Result, make_sandbox, run_vip
from .fleet_support import merged_kubeconfig
from .test_reclaim import state_dir  # noqa: F401 - autouse: audit files stay in tmp_path

ORPHANED = {("db", "redis-2"), ("db", "redis-3"), ("web", "legacy-api-0"), ("web", "legacy-api-1")}
# legacy-api's owner is gone; redis was scaled in six days before the demo's present
BULK = ("--orphaned", "--scaled-in", "--scaled-in-for", "24h")


@pytest.fixture
def pair() -> Iterator[dict[str, Sandbox]]:
    sbs = {"prod-a": make_sandbox(), "prod-b": make_sandbox()}
    yield sbs
    for sb in sbs.values():
        sb.stop()


@pytest.fixture
def kc(pair: dict[str, Sandbox], tmp_path: Path) -> Path:
    return merged_kubeconfig(tmp_path / "kubeconfig", pair, dead=("dead-c",))


def vip(kc: Path, *args: str) -> Result:
    return run_vip(*args, kubeconfig=kc)


def claims(sb: Sandbox) -> set[tuple[str, str]]:
    """What the sandbox holds, read by its own store (not through our client)."""
    rtype = sb.registry.lookup("networking.tke.cloud.tencent.com", "v1", "vpcipclaims")
    assert rtype is not None
    entries, *_ = sb.store.list(rtype, None)
    return {(e.obj["metadata"]["namespace"], e.obj["metadata"]["name"]) for e in entries}


def plan(kc: Path, *contexts: str) -> dict[str, Any]:
    r = vip(
        kc,
        "reclaim",
        *BULK,
        "-A",
        "--dry-run",
        "-o",
        "json",
        "--contexts",
        ",".join(contexts),
    )
    assert r.code == 0, r.stderr
    return json.loads(r.stdout)  # type: ignore[no-any-return]


def test_fleet_dry_run_is_a_plan_with_context_and_cluster(
    kc: Path, pair: dict[str, Sandbox]
) -> None:
    before = {n: claims(sb) for n, sb in pair.items()}
    r = vip(kc, "--all-contexts", "reclaim", *BULK, "-A", "--dry-run")
    assert r.code == ExitCode.FAILED  # dead-c did not answer
    assert r.lines[0].split()[:3] == ["CONTEXT", "NAMESPACE", "CLAIM"]
    assert "prod-a: 4 would reclaim" in r.lines and "prod-b: 4 would reclaim" in r.lines
    assert "context dead-c: cannot reach" in r.stderr
    doc = plan(kc, "prod-a,prod-b")
    for name in pair:
        mine = [i for i in doc["items"] if i["context"] == name]
        assert {(i["namespace"], i["name"]) for i in mine} == ORPHANED
        assert all(i["result"] == "wouldReclaim" for i in mine)
        single = json.loads(
            vip(kc, "--context", name, "reclaim", *BULK, "-A", "--dry-run", "-o", "json").stdout
        )
        assert {json.dumps(i["cluster"]) for i in mine} == {
            json.dumps(single["metadata"]["cluster"])
        }
    assert {n: claims(sb) for n, sb in pair.items()} == before  # a dry run changes nothing


def test_real_reclaim_across_contexts_needs_a_plan(kc: Path, pair: dict[str, Sandbox]) -> None:
    r = vip(kc, "--all-contexts", "reclaim", "--orphaned", "-A", "--yes")
    assert r.code == ExitCode.USAGE
    assert "add --dry-run for a fleet plan" in r.stderr
    assert all(claims(sb) >= ORPHANED for sb in pair.values())


def test_fleet_plan_reclaims_in_the_right_cluster_only(
    kc: Path, pair: dict[str, Sandbox], tmp_path: Path
) -> None:
    doc = plan(kc, "prod-*")
    doc["items"] = [i for i in doc["items"] if i["context"] == "prod-a"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    r = vip(kc, "reclaim", "--from-file", str(path), "-A", "--yes", "-o", "json")
    assert r.code == 0, r.stderr
    out = json.loads(r.stdout)
    assert {(i["context"], i["result"]) for i in out["items"]} == {("prod-a", "reclaimed")}
    assert not ORPHANED & claims(pair["prod-a"])
    assert claims(pair["prod-b"]) >= ORPHANED  # the same names in another cluster: untouched


def test_fleet_plan_item_with_another_clusters_identity_is_refused(
    kc: Path, pair: dict[str, Sandbox], tmp_path: Path
) -> None:
    doc = plan(kc, "prod-a", "prod-b")
    a_cluster = next(i["cluster"] for i in doc["items"] if i["context"] == "prod-a")
    for i in doc["items"]:
        if i["context"] == "prod-b" and i["name"] == "redis-2":
            i["cluster"] = a_cluster  # says prod-a's cluster, names context prod-b
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    r = vip(kc, "reclaim", "--from-file", str(path), "-A", "--yes")
    assert r.code == ExitCode.FAILED
    assert "refused   vipc/db/redis-2: the plan was made on another cluster" in r.stdout
    assert not ORPHANED & claims(pair["prod-a"])
    assert claims(pair["prod-b"]) & ORPHANED == {("db", "redis-2")}  # only the forged item kept


def test_fleet_plan_keeps_namespace_bounds_per_context(
    kc: Path, pair: dict[str, Sandbox], tmp_path: Path
) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan(kc, "prod-*")))
    r = vip(kc, "reclaim", "--from-file", str(path), "-n", "db", "--yes", "-o", "json")
    assert r.code == ExitCode.FAILED
    results = {(i["context"], i["namespace"], i["result"]) for i in json.loads(r.stdout)["items"]}
    assert results == {
        (c, ns, "reclaimed" if ns == "db" else "refused")
        for c in ("prod-a", "prod-b")
        for ns in ("db", "web")
    }
    for sb in pair.values():
        assert claims(sb) & ORPHANED == {("web", "legacy-api-0"), ("web", "legacy-api-1")}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda i: i.pop("cluster"), "names no cluster"),
        (lambda i: i.update(context=""), "names no context"),
    ],
    ids=["no-cluster", "no-context"],
)
def test_fleet_plan_without_identity_is_refused_before_any_request(
    kc: Path, pair: dict[str, Sandbox], tmp_path: Path, edit: Any, message: str
) -> None:
    doc = plan(kc, "prod-*")
    edit(doc["items"][-1])
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc))
    r = vip(kc, "reclaim", "--from-file", str(path), "-A", "--yes")
    assert r.code == ExitCode.USAGE
    assert message in r.stderr
    assert all(claims(sb) >= ORPHANED for sb in pair.values())


def test_fleet_dry_run_says_what_it_left_out_and_what_max_would_refuse(
    kc: Path, pair: dict[str, Sandbox]
) -> None:
    """As a one-context dry run does: claims a time criterion skips because their release time
    is only estimated (notSelected, per context), and the contexts whose real run --max would
    refuse (a warning naming them, exit 1)."""
    sb = pair["prod-b"]
    t = sb.world.t.claims
    assert t is not None

    def no_release_time(o: dict[str, Any]) -> None:
        o["status"].pop("releaseTime", None)

    sb.store.mutate(t, "default", "debug-shell", no_release_time, manager="tke-eni-ipamd")
    sb.advance(timedelta(hours=1))  # its last status write: an hour ago
    args = ("reclaim", "--retained-for", "1s", "-A", "--dry-run", "--contexts", "prod-a,prod-b")
    args = (*args, "--scaled-in-for", "24h")  # redis-2, -3 are ScaledIn (kept 6d)
    r = vip(kc, *args, "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["metadata"]["notSelected"] == [
        {
            "context": "prod-b",
            "namespace": "default",
            "name": "debug-shell",
            "reason": doc["metadata"]["notSelected"][0]["reason"],
        }
    ]
    assert "release time" in doc["metadata"]["notSelected"][0]["reason"]
    assert not any(i["context"] == "prod-b" and i["name"] == "debug-shell" for i in doc["items"])
    assert "refusedByMax" not in doc["metadata"]
    r = vip(kc, *args)
    assert "prod-b: not selected, release time unknown (only estimated): default/debug-shell" in (
        r.stderr
    )
    a_count = sum(1 for i in doc["items"] if i["context"] == "prod-a")
    b_count = sum(1 for i in doc["items"] if i["context"] == "prod-b")
    assert a_count == b_count + 1  # debug-shell is left out in prod-b only
    r = vip(kc, *args, "--max", str(b_count))
    assert r.code == ExitCode.FAILED
    assert (
        f"Warning: the real run would be refused in prod-a: more claims than --max {b_count}"
        in r.stderr
    )
    doc = json.loads(vip(kc, *args, "--max", str(b_count), "-o", "json").stdout)
    assert doc["metadata"]["refusedByMax"] == b_count
    assert vip(kc, *args, "--max", str(a_count)).code == ExitCode.OK
