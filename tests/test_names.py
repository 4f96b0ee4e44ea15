"""Names and namespaces from the command line are checked (DNS-1123) before any URL is built:
`describe ..` once walked up the path and showed the Namespace object as a Pod."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubectl_vip.api.cluster import PODS, Resource
from kubectl_vip.errors import UsageError
from kubectl_vip.sandbox import Sandbox

from .conftest import Runner, run_vip

BAD = [
    (["describe", ".."], 'invalid Pod name ".."'),
    (["describe", "."], 'invalid Pod name "."'),
    (["describe", "pod/.."], 'invalid Pod name ".."'),
    (["describe", "MySQL-0", "-n", "db"], 'invalid Pod name "MySQL-0"'),
    (["describe", "a" * 254, "-n", "db"], "invalid Pod name"),
    (["describe", "mysql-0", "-n", ".."], 'invalid namespace ".."'),
    (["describe", "mysql-0", "-n", "db.x"], 'invalid namespace "db.x"'),
    (["list", "-n", ".."], 'invalid namespace ".."'),
    (["list", "--ips", "-n", "Db"], 'invalid namespace "Db"'),
    (["usage", "-n", "a" * 64], "invalid namespace"),
    (["reclaim", "..", "-n", "db", "--yes"], 'invalid claim name ".."'),
    (["reclaim", "ok-0", "bad name", "-n", "db", "--yes"], 'invalid claim name "bad name"'),
    (["reclaim", "--orphaned", "-n", "..", "--dry-run"], 'invalid namespace ".."'),
]


@pytest.mark.parametrize(("argv", "fragment"), BAD, ids=[" ".join(a)[:40] for a, _ in BAD])
def test_bad_names_are_usage_errors_and_nothing_is_sent(
    vip: Runner, sandbox: Sandbox, argv: list[str], fragment: str
) -> None:
    sandbox.controls.clear_log()
    r = vip(*argv)
    assert r.code == 2, (r.code, r.stdout, r.stderr)
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("error: ") and fragment in line
    assert sandbox.controls.requests == []


@pytest.mark.parametrize(
    "argv",
    [
        ["describe", "mysql-0", "-n", "db"],
        ["list", "-n", "db"],
        ["reclaim", "legacy-api-0", "-n", "web"],
    ],
)
def test_good_names_still_work(vip: Runner, argv: list[str]) -> None:
    r = vip(*argv, "--dry-run") if argv[0] == "reclaim" else vip(*argv)
    assert r.code == 0, r.stderr


def test_a_context_namespace_that_is_not_a_name_is_a_kubeconfig_error(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    cfg = sandbox.kubeconfig()
    cfg["contexts"][0]["context"]["namespace"] = ".."
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(cfg))
    sandbox.controls.clear_log()
    r = run_vip("describe", "mysql-0", kubeconfig=kc)
    assert r.code == 3, r.stderr
    assert 'invalid namespace ".."' in r.stderr and "kubeconfig context" in r.stderr
    assert sandbox.controls.requests == []


@pytest.mark.parametrize(
    ("namespace", "name"),
    [("default", ".."), ("default", "."), ("..", "x"), (".", None)],
)
def test_no_url_is_built_from_a_dot_segment(namespace: str, name: str | None) -> None:
    """The last guard, below every command: the URL parser would resolve the segment."""
    with pytest.raises(UsageError):
        PODS.path(namespace, name)


def test_names_are_quoted_into_one_segment() -> None:
    res = Resource("", "v1", "pods", True)
    assert res.path("db", "a/b?c") == "/api/v1/namespaces/db/pods/a%2Fb%3Fc"


def test_a_plan_file_with_a_bad_name_is_refused_before_any_delete(
    vip: Runner, sandbox: Sandbox, tmp_path: Path
) -> None:
    doc = json.loads(vip("list", "-n", "db", "--state", "ScaledIn", "-o", "json").stdout)
    doc["items"][0]["name"] = ".."
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc))
    sandbox.controls.clear_log()
    r = vip("reclaim", "--from-file", str(plan), "--yes")
    assert r.code == 2, r.stdout + r.stderr
    assert 'invalid claim name in the plan ".."' in r.stderr
    sent = sandbox.controls.resource_requests()
    assert not [q for q in sent if q.verb == "delete" or q.name == ".."]
    assert len(sandbox.store.objects(sandbox.world.t.claims, "db")) == 8  # nothing reclaimed
