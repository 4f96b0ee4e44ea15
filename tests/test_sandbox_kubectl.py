"""The real kubectl against a served sandbox: what it prints must be what it prints on a real
TKE cluster (discovery, get with selectors and paging, create/delete/patch, dry-run, RBAC,
watch-based waiting)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import RequestInfo
from kubectl_vip.sandbox.resources import ResourceType

from .conftest import Result, Runner, kubectl_path

GROUP = "networking.tke.cloud.tencent.com"
NS_NAME = '{range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}'

DEMO_CLAIMS = [
    "db/analytics-0",
    "db/mysql-0",
    "db/mysql-1",
    "db/mysql-2",
    "db/redis-0",
    "db/redis-1",
    "db/redis-2",
    "db/redis-3",
    "default/canary-0",
    "default/debug-shell",
    "jobs/etl-worker-0",
    "jobs/etl-worker-1",
    "jobs/report-20261120",
    "web/api-0",
    "web/api-1",
    "web/api-2",
    "web/api-3",
    "web/api-4",
    "web/api-5",
    "web/api-old-7",
    "web/frontend-6f7d9c-q2x8z",
    "web/legacy-api-0",
    "web/legacy-api-1",
]
DEMO_VIPS = [
    "10.0.1.10",
    "10.0.1.13",
    "10.0.1.14",
    "10.0.1.2",
    "10.0.1.3",
    "10.0.1.4",
    "10.0.1.5",
    "10.0.1.6",
    "10.0.1.7",
    "10.0.1.8",
    "10.0.1.9",
    "10.0.2.10",
    "10.0.2.11",
    "10.0.2.2",
    "10.0.2.3",
    "10.0.2.4",
    "10.0.2.5",
    "10.0.2.6",
    "10.0.2.60",
    "10.0.2.61",
    "10.0.2.7",
    "10.0.2.8",
    "10.0.2.9",
    "10.0.3.2",
]
# the Pods of kube-system (ipamd's and the static-IP scheduler's ReplicaSets, the eni agent's
# DaemonSet): none of them carries an `app` label or a StatefulSet's pod-index
SYSTEM = "kube-system/*"
DEMO_ARGS = [
    "--logtostderr",
    "--v",
    "3",
    "--cluster-id",
    "cls-sandbox1",
    "--claim-expired-duration",
    "0s",
]


def claim_yaml(name: str, namespace: str = "default", *, finalizer: str = "") -> str:
    fin = f"\n  finalizers: [{finalizer}]" if finalizer else ""
    return (
        f"apiVersion: {GROUP}/v1\nkind: VpcIPClaim\nmetadata:\n  name: {name}\n"
        f"  namespace: {namespace}\n  labels:\n    app: manual{fin}\nspec: {{}}\n"
    )


def claims_type(sandbox: Sandbox) -> ResourceType:
    rtype = sandbox.world.t.claims
    assert rtype is not None
    return rtype


def rv_of(sandbox: Sandbox, kind: str, namespace: str, name: str) -> str:
    rtype = getattr(sandbox.world.t, kind)
    return str(sandbox.store.get(rtype, namespace, name)["metadata"]["resourceVersion"])


def ipamd_container(sandbox: Sandbox) -> dict[str, Any]:
    dep = sandbox.store.get(sandbox.world.t.deployments, "kube-system", "tke-eni-ipamd")
    containers: list[dict[str, Any]] = dep["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "tke-eni-ipamd")


# ------------------------------------------------------------------------------ discovery


def test_version_prints_the_server_version(kubectl: Runner) -> None:
    r = kubectl("version", "-o", "json")
    assert r.code == 0, r.stderr
    server = json.loads(r.stdout)["serverVersion"]
    assert (server["gitVersion"], server["major"], server["minor"]) == (
        "v1.32.2-tke.sandbox",
        "1",
        "32",
    )
    plain = kubectl("version")
    assert "Server Version: v1.32.2-tke.sandbox" in plain.stdout.splitlines()


def test_api_resources_lists_the_tke_kinds(kubectl: Runner) -> None:
    r = kubectl("api-resources", f"--api-group={GROUP}")
    assert r.code == 0, r.stderr
    rows = [line.split() for line in r.stdout.splitlines()]
    assert rows == [
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"],
        ["nodeeniconfigs", "nec", f"{GROUP}/v1", "false", "NodeENIConfig"],
        ["vpcenis", "veni", f"{GROUP}/v1", "false", "VpcENI"],
        ["vpcipclaims", "vipc", f"{GROUP}/v1", "true", "VpcIPClaim"],
        ["vpcips", "vip", f"{GROUP}/v1", "false", "VpcIP"],
    ]
    core = kubectl("api-resources", "--api-group=", "-o", "name")
    assert core.stdout.split() == [
        "configmaps",
        "events",
        "namespaces",
        "nodes",
        "pods",
        "resourcequotas",
        "secrets",
        "serviceaccounts",
        "services",
    ]


# ------------------------------------------------------------------------------ get


def test_get_returns_exactly_the_demo_objects(kubectl: Runner) -> None:
    claims = kubectl("get", "vipc", "-A", "-o", f"jsonpath={NS_NAME}")
    assert claims.stdout.splitlines() == DEMO_CLAIMS
    vips = kubectl("get", "vip", "-o", "name")
    assert vips.stdout.splitlines() == [f"vpcip.{GROUP}/{ip}" for ip in DEMO_VIPS]
    mysql = kubectl("get", "pods", "-l", "app=mysql", "-n", "db", "-o", "name")
    assert mysql.stdout.splitlines() == ["pod/mysql-0", "pod/mysql-1", "pod/mysql-2"]
    nec = kubectl("get", "nec", "node-c", "-o", "json")
    assert json.loads(nec.stdout)["status"] == {}


def test_get_events_by_field_selector(kubectl: Runner) -> None:
    r = kubectl("get", "events", "-A", "--field-selector", "reason=ENILimit", "-o", "json")
    assert r.code == 0, r.stderr
    items = json.loads(r.stdout)["items"]
    assert [(e["metadata"]["namespace"], e["involvedObject"]["kind"]) for e in items] == [
        ("default", "Node")
    ]
    assert items[0]["involvedObject"]["name"] == "node-c"
    assert items[0]["type"] == "Warning"
    assert "1000 per VPC per region" in items[0]["message"]
    bad = kubectl("get", "events", "-A", "--field-selector", "color=blue")
    assert bad.code == 1
    assert "field label not supported: color" in bad.stderr


def rows(r: Result) -> list[list[str]]:
    assert r.code == 0, r.stderr
    return [line.split() for line in r.stdout.splitlines()]


def test_get_prints_server_side_tables_aged_by_the_virtual_clock(kubectl: Runner) -> None:
    assert rows(kubectl("get", "pods", "-n", "db", "-o", "wide")) == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
         "READINESS", "GATES"],
        ["analytics-0", "0/1", "ContainerCreating", "0", "24h", "<none>", "node-c", "<none>",
         "<none>"],
        *[
            [f"{app}-{i}", "1/1", "Running", "0", "10d", ip, "node-a", "<none>", "<none>"]
            for app, i, ip in [
                ("mysql", 0, "10.0.1.2"),
                ("mysql", 1, "10.0.1.3"),
                ("mysql", 2, "10.0.1.4"),
                ("redis", 0, "10.0.1.5"),
                ("redis", 1, "10.0.1.6"),
            ]
        ],
    ]  # fmt: skip
    assert rows(kubectl("get", "vipc", "-n", "default")) == [
        ["NAME", "AGE"],
        ["canary-0", "24h"],
        ["debug-shell", "10d"],
    ]
    assert rows(kubectl("get", "pod", "report-20261120", "-n", "jobs"))[1][:3] == [
        "report-20261120", "0/1", "Completed",
    ]  # fmt: skip
    assert rows(kubectl("get", "sts", "-n", "db")) == [
        ["NAME", "READY", "AGE"],
        ["analytics", "0/1", "24h"],
        ["mysql", "3/3", "10d"],
        ["redis", "2/2", "10d"],
    ]
    assert rows(kubectl("get", "deploy", "tke-eni-ipamd", "-n", "kube-system")) == [
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["tke-eni-ipamd", "1/1", "1", "1", "10d"],
    ]
    events = kubectl("get", "events", "-n", "default", "--field-selector", "reason=ENILimit")
    assert events.stdout.splitlines()[0].split() == [
        "LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE",
    ]  # fmt: skip
    assert events.stdout.splitlines()[1].split()[:4] == [
        "24h",
        "Warning",
        "ENILimit",
        "node/node-c",
    ]
    labelled = rows(kubectl("get", "vip", "10.0.3.2", "-L", "tke.cloud.tencent.com/node-name"))
    assert labelled == [["NAME", "AGE", "NODE-NAME"], ["10.0.3.2", "24h", "node-c"]]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (
            "app!=mysql",
            [
                "db/analytics-0",
                "db/redis-0",
                "db/redis-1",
                "jobs/report-20261120",
                SYSTEM,
                *[f"web/api-{i}" for i in range(6)],
                "web/frontend-6f7d9c-q2x8z",
                "web/geo-0",
            ],
        ),
        (
            "app in (mysql,redis)",
            ["db/mysql-0", "db/mysql-1", "db/mysql-2", "db/redis-0", "db/redis-1"],
        ),
        (
            "app notin (mysql,redis,api)",
            [
                "db/analytics-0",
                "jobs/report-20261120",
                SYSTEM,
                "web/frontend-6f7d9c-q2x8z",
                "web/geo-0",
            ],
        ),
        (
            "apps.kubernetes.io/pod-index",
            [
                "db/analytics-0",
                "db/mysql-0",
                "db/mysql-1",
                "db/mysql-2",
                "db/redis-0",
                "db/redis-1",
                *[f"web/api-{i}" for i in range(6)],
                "web/geo-0",
            ],
        ),
        (
            "!apps.kubernetes.io/pod-index",
            ["jobs/report-20261120", SYSTEM, "web/frontend-6f7d9c-q2x8z"],
        ),
        ("app=api,apps.kubernetes.io/pod-index in (0,5)", ["web/api-0", "web/api-5"]),
    ],
    ids=["not-equal", "in", "notin", "exists", "not-exists", "and"],
)
def test_label_selector_operators(kubectl: Runner, selector: str, expected: list[str]) -> None:
    system = kubectl("get", "pods", "-n", "kube-system", "-o", f"jsonpath={NS_NAME}")
    assert len(system.stdout.splitlines()) == 6  # ipamd, the scheduler, 4 agents
    r = kubectl("get", "pods", "-A", "-l", selector, "-o", f"jsonpath={NS_NAME}")
    assert r.code == 0, r.stderr
    want = [n for e in expected for n in (system.stdout.splitlines() if e == SYSTEM else [e])]
    assert r.stdout.splitlines() == want


def test_bad_label_selector_is_a_bad_request(kubectl: Runner) -> None:
    r = kubectl("get", "pods", "-A", "-l", "app=a=b")
    assert r.code == 1
    assert "found '=', expected: ',' or 'end of string'" in r.stderr
    assert r.stderr.startswith("Error from server (BadRequest)")


def test_chunked_get_pages_through_everything(kubectl: Runner, sandbox: Sandbox) -> None:
    whole = kubectl("get", "vipc", "-A", "-o", f"jsonpath={NS_NAME}")
    sandbox.controls.clear_log()
    paged = kubectl("get", "vipc", "-A", "--chunk-size=2", "-o", f"jsonpath={NS_NAME}")
    assert paged.code == 0, paged.stderr
    assert paged.stdout == whole.stdout
    lists = [q for q in sandbox.controls.resource_requests() if q.resource == "vpcipclaims"]
    assert len(lists) == 12  # 23 claims, two a page
    assert all(q.verb == "list" and q.query["limit"] == "2" for q in lists)
    assert "continue" not in lists[0].query
    assert all(q.query.get("continue") for q in lists[1:])


def test_get_in_a_missing_namespace_finds_nothing(kubectl: Runner) -> None:
    r = kubectl("get", "vipc", "-n", "nope")
    assert (r.code, r.stdout) == (0, "")
    assert r.stderr.strip() == "No resources found in nope namespace."


def test_get_a_missing_object_is_not_found(kubectl: Runner) -> None:
    r = kubectl("get", "vipc", "ghost", "-n", "db")
    assert r.code == 1
    assert r.stderr.strip() == (
        f'Error from server (NotFound): vpcipclaims.{GROUP} "ghost" not found'
    )


# ------------------------------------------------------------------------------ writes


def test_create_then_delete_changes_what_get_returns(kubectl: Runner, sandbox: Sandbox) -> None:
    created = kubectl("create", "-f", "-", input=claim_yaml("manual-1"))
    assert created.code == 0, created.stderr
    assert created.stdout.strip() == f"vpcipclaim.{GROUP}/manual-1 created"
    got = json.loads(kubectl("get", "vipc", "manual-1", "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"app": "manual"}
    assert got["metadata"]["generation"] == 1 and got["metadata"]["uid"]
    again = kubectl("create", "-f", "-", input=claim_yaml("manual-1"))
    assert again.code == 1
    assert f'vpcipclaims.{GROUP} "manual-1" already exists' in again.stderr

    deleted = kubectl("delete", "vipc", "manual-1", "-n", "default")
    assert deleted.code == 0, deleted.stderr
    assert deleted.stdout.strip() == (
        f'vpcipclaim.{GROUP} "manual-1" deleted from default namespace'
    )
    gone = kubectl("get", "vipc", "manual-1")
    assert gone.code == 1 and "NotFound" in gone.stderr
    assert sandbox.store.peek(claims_type(sandbox), "default", "manual-1") is None


def test_create_in_a_missing_namespace(kubectl: Runner) -> None:
    r = kubectl("create", "-f", "-", input=claim_yaml("x", "nope"))
    assert r.code == 1
    assert r.stderr.strip() == (
        'Error from server (NotFound): error when creating "STDIN": namespaces "nope" not found'
    )


def test_server_dry_run_delete_keeps_the_claim(kubectl: Runner, sandbox: Sandbox) -> None:
    before = rv_of(sandbox, "claims", "default", "debug-shell")
    r = kubectl("delete", "vipc", "debug-shell", "-n", "default", "--dry-run=server")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == (
        f'vpcipclaim.{GROUP} "debug-shell" deleted from default namespace (server dry run)'
    )
    assert rv_of(sandbox, "claims", "default", "debug-shell") == before
    assert kubectl("get", "vipc", "debug-shell", "-o", "name").stdout.strip() == (
        f"vpcipclaim.{GROUP}/debug-shell"
    )
    deletes = [q for q in sandbox.controls.resource_requests() if q.verb == "delete"]
    assert [(q.resource, q.name) for q in deletes] == [("vpcipclaims", "debug-shell")]


def test_json_patch_with_a_test_op_edits_ipamd_args(kubectl: Runner, sandbox: Sandbox) -> None:
    path = "/spec/template/spec/containers/0/args"
    new_args = [*DEMO_ARGS[:-2], "--claim-expired-duration=2h", "--enable-ownerref"]
    patch = [
        {"op": "test", "path": path, "value": DEMO_ARGS},
        {"op": "replace", "path": path, "value": new_args},
    ]
    r = kubectl(
        "patch", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--type=json",
        "-p", json.dumps(patch),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "deployment.apps/tke-eni-ipamd patched"
    got = kubectl("get", "deploy", "tke-eni-ipamd", "-n", "kube-system", "-o", "json")
    assert json.loads(got.stdout)["spec"]["template"]["spec"]["containers"][0]["args"] == new_args
    assert sandbox.world.ipamd_flag("claim-expired-duration") == "2h"
    assert sandbox.world.cascade() is True


def test_json_patch_whose_test_fails_changes_nothing(kubectl: Runner, sandbox: Sandbox) -> None:
    before = rv_of(sandbox, "deployments", "kube-system", "tke-eni-ipamd")
    path = "/spec/template/spec/containers/0/args"
    patch = [
        {"op": "test", "path": path, "value": ["--something-else"]},
        {"op": "replace", "path": path, "value": []},
    ]
    r = kubectl(
        "patch", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--type=json",
        "-p", json.dumps(patch),
    )  # fmt: skip
    assert r.code == 1
    assert r.stderr.strip() == (
        "The request is invalid: the server rejected our request due to an error in our request"
    )
    assert rv_of(sandbox, "deployments", "kube-system", "tke-eni-ipamd") == before
    assert ipamd_container(sandbox)["args"] == DEMO_ARGS


def test_merge_patch_on_a_claim_and_no_strategic_for_crs(kubectl: Runner, sandbox: Sandbox) -> None:
    r = kubectl(
        "patch", "vipc", "mysql-0", "-n", "db", "--type=merge",
        "-p", '{"metadata":{"labels":{"tier":"data","app":null}}}',
    )  # fmt: skip
    assert r.code == 0, r.stderr
    labels = json.loads(kubectl("get", "vipc", "mysql-0", "-n", "db", "-o", "json").stdout)[
        "metadata"
    ]["labels"]
    assert labels == {
        "tier": "data",
        "statefulset.kubernetes.io/pod-name": "mysql-0",
        "apps.kubernetes.io/pod-index": "0",
    }
    before = rv_of(sandbox, "claims", "db", "mysql-0")
    smp = kubectl("patch", "vipc", "mysql-0", "-n", "db", "-p", '{"metadata":{"labels":{}}}')
    assert smp.code == 1
    assert smp.stderr.strip() == (
        f"error: application/strategic-merge-patch+json is not supported by {GROUP}/v1, "
        "Kind=VpcIPClaim: the body of the request was in an unknown format - accepted media "
        "types include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml"
    )
    assert rv_of(sandbox, "claims", "db", "mysql-0") == before


def test_strategic_merge_patch_merges_containers_by_name(kubectl: Runner, sandbox: Sandbox) -> None:
    before = ipamd_container(sandbox)
    args = ["--logtostderr", "--claim-expired-duration=30m"]
    patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "tke-eni-ipamd", "args": args}]}}}
    }
    r = kubectl("patch", "deploy", "tke-eni-ipamd", "-n", "kube-system", "-p", json.dumps(patch))
    assert r.code == 0, r.stderr
    after = ipamd_container(sandbox)
    # only args changed: the container was merged by name, not replaced
    assert after == {**before, "args": args}
    assert sandbox.world.ipamd_flag("claim-expired-duration") == "30m"
    # the same body as a merge patch replaces the whole list
    r = kubectl(
        "patch", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--type=merge",
        "-p", json.dumps(patch),
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert ipamd_container(sandbox) == {"name": "tke-eni-ipamd", "args": args}


def test_read_only_context_is_forbidden_to_delete(kubectl: Runner, sandbox: Sandbox) -> None:
    ctx = "--context=vip-sandbox-readonly"
    assert kubectl(ctx, "get", "vipc", "mysql-0", "-n", "db", "-o", "name").code == 0
    r = kubectl(ctx, "delete", "vipc", "mysql-0", "-n", "db")
    assert r.code == 1
    assert r.stderr.strip() == (
        f'Error from server (Forbidden): vpcipclaims.{GROUP} "mysql-0" is forbidden: User '
        f'"viewer" cannot delete resource "vpcipclaims" in API group "{GROUP}" in the '
        'namespace "db"'
    )
    assert sandbox.store.peek(claims_type(sandbox), "db", "mysql-0") is not None
    r = kubectl(ctx, "delete", "vip", "10.0.2.60")
    assert f'cannot delete resource "vpcips" in API group "{GROUP}" at the cluster scope' in (
        r.stderr
    )
    allowed = kubectl(ctx, "auth", "can-i", "delete", "vipc", "-n", "db")
    assert (allowed.code, allowed.stdout.strip()) == (1, "no")
    assert kubectl("auth", "can-i", "delete", "vipc", "-n", "db").stdout.strip() == "yes"


# ------------------------------------------------------------------------------ watch


def _release_during_watch(sandbox: Sandbox, ns: str, name: str, finalizer: str) -> list[str]:
    """Remove `finalizer` from the claim when kubectl's plain watch (its fallback after the
    WatchList request is refused) arrives; returns the watch queries seen."""
    seen: list[str] = []
    claims = claims_type(sandbox)

    def hook(req: RequestInfo) -> None:
        seen.append("initial-events" if "sendInitialEvents" in req.query else "watch")
        if seen[-1] == "watch" and seen.count("watch") == 1:
            sandbox.store.remove_finalizer(claims, ns, name, finalizer)

    sandbox.controls.on("watch", "vpcipclaims", hook, once=False)
    return seen


def test_delete_waits_on_a_finalizer_through_a_watch(kubectl: Runner, sandbox: Sandbox) -> None:
    fin = "example.com/hold"
    assert kubectl("create", "-f", "-", input=claim_yaml("held", finalizer=fin)).code == 0
    seen = _release_during_watch(sandbox, "default", "held", fin)
    r = kubectl("delete", "vipc", "held", "--timeout=20s")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == f'vpcipclaim.{GROUP} "held" deleted from default namespace'
    # WatchList is refused with 422, kubectl falls back to list + watch
    assert seen == ["initial-events", "watch"]
    assert kubectl("get", "vipc", "held").code == 1


def test_wait_for_delete(kubectl: Runner, sandbox: Sandbox) -> None:
    fin = "example.com/hold"
    assert kubectl("create", "-f", "-", input=claim_yaml("held", finalizer=fin)).code == 0
    marked = kubectl("delete", "vipc", "held", "--wait=false", "-o", "name")
    assert marked.code == 0, marked.stderr
    stored = sandbox.store.get(claims_type(sandbox), "default", "held")
    assert stored["metadata"]["deletionTimestamp"] == "2026-11-20T12:00:00Z"
    assert stored["metadata"]["finalizers"] == [fin]
    seen = _release_during_watch(sandbox, "default", "held", fin)
    r = kubectl("wait", "--for=delete", "vipc/held", "--timeout=10s")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == f"vpcipclaim.{GROUP}/held condition met"
    assert seen == ["initial-events", "watch"]


@pytest.fixture
def kubectl_env(kubeconfig: Path, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KUBECONFIG=str(kubeconfig), KUBECACHEDIR=str(tmp_path / "kc"), HOME=str(tmp_path))
    return env


class Streamed:
    """A long-running kubectl whose stdout lines are read on a thread."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [kubectl_path(), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_lines(self, n: int, timeout: float = 20) -> list[str]:
        return [self.lines.get(timeout=timeout) for _ in range(n)]

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._pump.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def streamed(kubectl_env: dict[str, str]) -> Iterator[Callable[..., Streamed]]:
    started: list[Streamed] = []

    def start(*args: str) -> Streamed:
        started.append(Streamed(list(args), kubectl_env))
        return started[-1]

    yield start
    for s in started:
        s.close()


def test_get_watch_streams_events(sandbox: Sandbox, streamed: Callable[..., Streamed]) -> None:
    claims = claims_type(sandbox)

    def create_on_watch(req: RequestInfo) -> None:
        sandbox.store.create(claims, "default", {"metadata": {"name": "late"}, "spec": {}})
        sandbox.store.delete(claims, "default", "late")

    sandbox.controls.on("watch", "vpcipclaims", create_on_watch)
    w = streamed(
        "get", "vipc", "-n", "default", "-w", "--output-watch-events",
        "-o", 'jsonpath={.type} {.object.metadata.name}{"\\n"}',
    )  # fmt: skip
    assert w.next_lines(4) == ["ADDED canary-0", "ADDED debug-shell", "ADDED late", "DELETED late"]
