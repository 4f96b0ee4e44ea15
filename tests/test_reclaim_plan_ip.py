"""A plan file's `ip` is somebody's words: for a claim that carries no IP, a run reads the VpcIP
the plan names only when that is a well-formed object name, and joins it only if its claimRef
names the claim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import Runner
from .test_reclaim import state_dir  # noqa: F401 - autouse: audit files stay in tmp_path


@pytest.mark.parametrize("ip", ["..", ".", "a/b?c", "10.0.9.9", ""], ids=repr)
def test_a_plan_ip_for_a_claim_without_ip_is_only_a_candidate(
    vip: Runner, sandbox: Sandbox, tmp_path: Path, ip: str
) -> None:
    listed = json.loads(vip("list", "-n", "web", "-o", "json").stdout)
    (item,) = [i for i in listed["items"] if i["name"] == "api-old-7"]
    assert item["ip"] is None  # the demo's claim that carries no IP
    listed["items"] = [{**item, "ip": ip}]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(listed))
    r = vip("reclaim", "--from-file", str(plan), "-n", "web", "--yes", "-o", "json")
    assert r.code == 0, r.stderr
    (got,) = json.loads(r.stdout)["items"]
    assert got["name"] == "api-old-7" and got["result"] == "reclaimed"
    assert got["ip"] is None  # no VpcIP names it: none was joined
