"""A plan file's `ip` is somebody's words: an item that names an IP the claim does not hold is
"changed since the plan" and left alone (no request is made with it); "" or null is no IP."""

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
    (got,) = json.loads(r.stdout)["items"]
    assert got["name"] == "api-old-7"
    if ip:
        assert r.code == 1, r.stderr
        assert got["result"] == "skipped"
        assert f"the plan says IP {ip}, the claim holds none" in got["reason"]
        assert got["ip"] is None  # the live claim's, never the file's
        reads = [q for q in sandbox.controls.resource_requests() if q.resource == "vpcips"]
        assert all(q.name != ip for q in reads)
        return
    assert r.code == 0, r.stderr
    assert got["result"] == "reclaimed"
    assert got["ip"] is None  # no VpcIP names it: none was joined
