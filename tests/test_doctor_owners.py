"""doctor classifies claims as `list` does: owners of other API groups (an OpenKruise
StatefulSet, a TApp, a kind nothing models) are read through their own API there too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Runner, make_sandbox, run_vip


@pytest.fixture(params=["owners", "owners-unserved"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Runner]]:
    sb = make_sandbox(request.param)
    kc = sb.write_kubeconfig(tmp_path / "kubeconfig")
    yield request.param, lambda *a: run_vip(*a, kubeconfig=kc)
    sb.stop()


def test_doctor_finds_the_orphaned_and_scaled_in_claims_list_finds(
    cluster: tuple[str, Runner],
) -> None:
    scenario, vip = cluster
    found: dict[str, set[str]] = {}
    for state, check in (("orphaned", "VIP-CLM-001"), ("scaledin", "VIP-CLM-005")):
        listed = json.loads(vip("list", "-A", "--state", state, "-o", "json").stdout)
        want = {f"VpcIPClaim/{i['namespace']}/{i['name']}" for i in listed["items"]}
        r = vip("doctor", "--check", check, "-o", "json")
        findings = json.loads(r.stdout)["findings"]
        found[state] = {o for f in findings if f["id"] == check for o in f["objects"]}
        assert found[state] == want
    # every controller of the scenario still runs: their ordinals beyond it are ScaledIn
    assert found["orphaned"] == set() and "VpcIPClaim/pay/pay-0" in found["scaledin"]
    # with the OpenKruise and TApp CRDs the claims they left behind are ScaledIn in both;
    # without them those owners are unknown, so neither calls their claims ScaledIn
    others = {"VpcIPClaim/shop/shop-1", "VpcIPClaim/games/game-3"}
    assert others <= found["scaledin"] if scenario == "owners" else not others & found["scaledin"]


def test_an_owner_of_an_unserved_kind_stays_unknown_in_doctor(
    cluster: tuple[str, Runner],
) -> None:
    _, vip = cluster
    r = vip("doctor", "--check", "VIP-CLM-001", "-o", "json")
    findings = json.loads(r.stdout)["findings"]
    assert not any("ext/worker-0" in o for f in findings for o in f["objects"])
    assert r.code == 0
