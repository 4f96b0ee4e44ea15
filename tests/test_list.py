"""`kubectl vip list` end to end against the sandbox's demo scenario."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kubectl_vip.sandbox import Sandbox

from .conftest import Result, Runner, aimed, make_sandbox, run_vip

DEMO_STATES = {
    "db/analytics-0": "InUse",
    "db/mysql-0": "InUse",
    "db/mysql-1": "InUse",
    "db/mysql-2": "InUse",
    "db/redis-0": "InUse",
    "db/redis-1": "InUse",
    "db/redis-2": "ScaledIn",
    "db/redis-3": "ScaledIn",
    "default/canary-0": "Expiring",
    "default/debug-shell": "Retained",
    "jobs/etl-worker-0": "Overdue",
    "jobs/etl-worker-1": "Overdue",
    "jobs/report-20261120": "Completed",
    "web/api-0": "InUse",
    "web/api-1": "InUse",
    "web/api-2": "InUse",
    "web/api-3": "InUse",
    "web/api-4": "InUse",
    "web/api-5": "InUse",
    "web/api-old-7": "Retained",
    "web/frontend-6f7d9c-q2x8z": "InUse",
    "web/legacy-api-0": "Orphaned",
    "web/legacy-api-1": "Orphaned",
}


def table(r: Result) -> list[list[str]]:
    """Rows of a kubectl-style table (split on runs of 3+ spaces), up to the blank line."""
    rows = []
    for line in r.stdout.splitlines():
        if not line.strip():
            break
        rows.append([c.strip() for c in line.split("   ") if c.strip()])
    return rows


def test_all_namespaces_table(vip: Runner, kubeconfig: Path) -> None:
    r = vip("list", "-A")
    assert r.code == 0, r.stderr
    rows = table(r)
    assert rows[0] == [
        "NAMESPACE",
        "NAME",
        "IP",
        "STATE",
        "POD",
        "OWNER",
        "NODE",
        "AGE",
        "RETAINED FOR",
        "RECLAIM AT",
    ]
    assert {f"{x[0]}/{x[1]}": x[3] for x in rows[1:]} == DEMO_STATES
    by_name = {x[1]: x for x in rows[1:]}
    assert by_name["redis-2"] == [
        "db",
        "redis-2",
        "10.0.1.7",
        "ScaledIn",
        "-",
        "StatefulSet/redis",
        "-",
        "10d",
        "6d",
        "never",
    ]
    assert by_name["canary-0"][7:] == ["24h", "22h", "in 26h"]
    assert by_name["etl-worker-0"][8:] == ["2d18h", "2d17h ago"]
    assert by_name["api-old-7"][2] == "<none>"
    assert (
        "23 claims: 13 InUse, 1 Completed, 2 Retained, 1 Expiring, 2 Overdue, 2 ScaledIn, "
        "2 Orphaned" in r.stdout
    )
    assert (
        aimed("would free 4 IPs: kubectl-vip reclaim --orphaned --overdue -A --dry-run", kubeconfig)
        in r.stdout
    )
    assert "\x1b[" not in r.stdout  # no colour when not a TTY


def test_namespace_scope_and_context_default(vip: Runner) -> None:
    r = vip("list", "-n", "db")
    names = [x[0] for x in table(r)[1:]]
    assert names == [
        "analytics-0",
        "mysql-0",
        "mysql-1",
        "mysql-2",
        "redis-0",
        "redis-1",
        "redis-2",
        "redis-3",
    ]
    assert table(r)[0][0] == "NAME"  # no NAMESPACE column without -A
    default_ns = vip("list")  # the context's namespace is "default"
    assert [x[0] for x in table(default_ns)[1:]] == ["canary-0", "debug-shell"]


def test_global_flags_anywhere(vip: Runner) -> None:
    before = vip("-n", "jobs", "list", "-o", "name")
    after = vip("list", "-o", "name", "--namespace=jobs")
    assert (
        before.stdout
        == after.stdout
        == (
            "vpcipclaim.networking.tke.cloud.tencent.com/etl-worker-0\nvpcipclaim.networking.tke.cloud.tencent.com/etl-worker-1\nvpcipclaim.networking.tke.cloud.tencent.com/report-20261120\n"
        )
    )


def test_state_filter_is_repeatable_and_case_insensitive(vip: Runner) -> None:
    r = vip("list", "-A", "--state", "orphaned", "--state", "OVERDUE", "-o", "name")
    assert r.stdout.splitlines() == [
        "vpcipclaim.networking.tke.cloud.tencent.com/etl-worker-0",
        "vpcipclaim.networking.tke.cloud.tencent.com/etl-worker-1",
        "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-0",
        "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-1",
    ]
    comma = vip("list", "-A", "--state", "orphaned,overdue", "-o", "name")
    assert comma.stdout == r.stdout
    scaled = vip("list", "-A", "--state", "scaledin", "-o", "name")
    assert scaled.stdout.splitlines() == [
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-2",
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-3",
    ]


def test_label_selector_passes_to_the_api(vip: Runner, sandbox: Sandbox) -> None:
    sandbox.controls.clear_log()
    r = vip("list", "-A", "-l", "app=redis", "-o", "name")
    assert r.stdout.splitlines() == [
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-0",
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-1",
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-2",
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-3",
    ]
    claim_lists = [q for q in sandbox.controls.resource_requests() if q.resource == "vpcipclaims"]
    assert [q.query.get("labelSelector") for q in claim_lists] == ["app=redis"]


def test_one_list_per_kind_never_per_claim(vip: Runner, sandbox: Sandbox) -> None:
    sandbox.controls.clear_log()
    assert vip("list", "-A").code == 0
    reqs = sandbox.controls.resource_requests()
    lists = sorted(q.resource for q in reqs if q.verb == "list")
    assert lists == ["horizontalpodautoscalers", "pods", "statefulsets", "vpcipclaims", "vpcips"]
    gets = [q for q in reqs if q.verb == "get"]
    assert [(q.resource, q.name) for q in gets] == [("deployments", "tke-eni-ipamd")]
    assert all(q.query.get("limit") == "500" for q in reqs if q.verb == "list")


def test_paging_with_small_chunks_gives_the_same_rows(vip: Runner) -> None:
    assert vip("list", "-A", "--chunk-size", "2").stdout == vip("list", "-A").stdout


def test_json_document(vip: Runner) -> None:
    r = vip("list", "-A", "-o", "json")
    doc = json.loads(r.stdout)
    assert doc["apiVersion"] == "kubectl-vip/v1" and doc["kind"] == "ClaimList"
    assert doc["metadata"]["ipamd"] == {"version": "v3.4.2", "expiry": "never", "cascade": False}
    assert doc["metadata"]["cluster"]["kubeSystemUID"]
    assert doc["summary"]["freeable"] == 4
    items = {f"{i['namespace']}/{i['name']}": i for i in doc["items"]}
    assert {k: v["state"] for k, v in items.items()} == DEMO_STATES
    redis3 = items["db/redis-3"]
    assert redis3["owner"] == {
        "kind": "StatefulSet",
        "name": "redis",
        "uid": redis3["owner"]["uid"],
        "source": "name",
        "exists": True,
        "replicas": 2,
    }
    assert redis3["ordinal"] == 3 and redis3["reclaimable"] and not redis3["orphaned"]
    assert redis3["scaledIn"] == {"keptSeconds": 6 * 86400, "scaleBack": None}
    assert redis3["vpcIP"]["subnetCIDR"] == "10.0.1.0/28"
    assert redis3["uid"] and redis3["resourceVersion"]
    canary = items["default/canary-0"]
    assert (canary["expiry"], canary["expirySource"]) == ("48h0m0s", "annotation")
    assert canary["reclaimAt"] == "2026-11-21T14:00:00Z"
    assert items["web/api-old-7"]["vpcIP"] is None


def test_yaml_matches_json(vip: Runner) -> None:
    as_json = json.loads(vip("list", "-n", "jobs", "-o", "json").stdout)
    as_yaml = yaml.safe_load(vip("list", "-n", "jobs", "-o", "yaml").stdout)
    assert as_yaml == as_json


def test_wide_adds_phase_subnet_policy_reason(vip: Runner) -> None:
    rows = table(vip("list", "-n", "db", "-o", "wide"))
    assert rows[0][-4:] == ["VIP PHASE", "SUBNET", "POLICY", "REASON"]
    analytics = rows[1]
    assert analytics[0] == "analytics-0" and analytics[-4:-1] == [
        "Attaching",
        "10.0.3.0/28",
        "Never",
    ]


def test_sort_by_retained(vip: Runner) -> None:
    r = vip("list", "-A", "--state", "orphaned", "--sort-by", "retained", "-o", "name")
    assert r.stdout.splitlines()[:2] == [
        "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-0",
        "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-1",
    ]


def test_ips_view(vip: Runner) -> None:
    r = vip("list", "--ips", "-A", "-o", "json")
    items = {i["ip"]: i for i in json.loads(r.stdout)["items"]}
    assert items["10.0.2.60"]["state"] == "Leaked"
    assert items["10.0.2.60"]["claim"] == {"namespace": "web", "name": "batch-0"}
    assert items["10.0.3.2"]["state"] == "Attaching" and "ENILimit" in items["10.0.3.2"]["message"]
    assert items["10.0.1.7"]["state"] == "ScaledIn"
    assert len(items) == 24
    scoped = json.loads(vip("list", "--ips", "-n", "jobs", "-o", "json").stdout)["items"]
    assert [i["ip"] for i in scoped] == ["10.0.2.8", "10.0.2.9", "10.0.2.10"]


def test_empty_namespace_and_missing_namespace(vip: Runner) -> None:
    empty = vip("list", "-n", "kube-public")
    assert (empty.code, empty.stdout) == (0, "")
    assert "No claims found in namespace kube-public." in empty.stderr
    missing = vip("list", "-n", "nope")
    assert missing.code == 1
    assert missing.stderr.strip() == 'error: namespace "nope" not found'


def test_bad_input_is_one_line_and_exit_2(vip: Runner, sandbox: Sandbox) -> None:
    sandbox.controls.clear_log()
    cases = [
        (["list", "-o", "xml"], 'unknown output format "xml"'),
        (["list", "--state", "Happy"], 'unknown state "Happy"'),
        (["list", "--sort-by", "size"], 'unknown --sort-by "size"'),
        (["list", "--state", "Leaked"], "Leaked is a state of the --ips view"),
        (["list", "--bogus"], "No such option: --bogus"),
        (["--request-timeout", "soon", "list"], "invalid --request-timeout"),
    ]
    for argv, fragment in cases:
        r = vip(*argv)
        assert r.code == 2, (argv, r.stderr)
        assert fragment in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        assert "Traceback" not in r.stderr
    assert sandbox.controls.resource_requests() == []


def test_not_a_vpc_cni_cluster_exits_4(tmp_path: Path) -> None:
    sb = make_sandbox("empty", tke=False)
    try:
        r = run_vip("list", "-A", kubeconfig=sb.write_kubeconfig(tmp_path / "kc"))
    finally:
        sb.stop()
    assert r.code == 4
    assert "not a TKE VPC-CNI cluster" in r.stderr and len(r.stderr.splitlines()) == 1


def test_other_crd_version_is_discovered(tmp_path: Path) -> None:
    sb = make_sandbox("healthy", tke_version="v1beta1")
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        r = run_vip("list", "-n", "db", "-o", "name", kubeconfig=kc)
        paths = {q.path for q in sb.controls.resource_requests() if q.resource == "vpcipclaims"}
    finally:
        sb.stop()
    assert r.stdout.splitlines() == [
        "vpcipclaim.networking.tke.cloud.tencent.com/mysql-0",
        "vpcipclaim.networking.tke.cloud.tencent.com/mysql-1",
        "vpcipclaim.networking.tke.cloud.tencent.com/mysql-2",
    ]
    assert paths == {"/apis/networking.tke.cloud.tencent.com/v1beta1/namespaces/db/vpcipclaims"}


def test_forbidden_and_unauthorized_exit_3(kubeconfig: Path, sandbox: Sandbox) -> None:
    from kubectl_vip.sandbox.controls import Fault

    sandbox.controls.inject(
        Fault(
            verb="list",
            resource="vpcips",
            code=403,
            reason="Forbidden",
            message='vpcips.networking.tke.cloud.tencent.com is forbidden: User "x" '
            'cannot list resource "vpcips" in API group '
            '"networking.tke.cloud.tencent.com" at the cluster scope',
        )
    )
    r = run_vip("list", "-A", kubeconfig=kubeconfig)
    assert r.code == 3
    assert 'cannot list resource "vpcips"' in r.stderr and len(r.stderr.splitlines()) == 1
    sandbox.controls.users.clear()
    sandbox.controls.add_user("other-token", sandbox.controls.users.get("x") or _admin())
    r = run_vip("list", "-A", kubeconfig=kubeconfig)
    assert r.code == 3 and "Unauthorized" in r.stderr


def _admin():  # type: ignore[no-untyped-def]
    from kubectl_vip.sandbox.controls import ADMIN

    return ADMIN


def test_unreachable_server_exit_3(tmp_path: Path) -> None:
    sb = make_sandbox("empty")
    kc = sb.write_kubeconfig(tmp_path / "kc")
    sb.stop()
    r = run_vip("--request-timeout", "2s", "list", kubeconfig=kc)
    assert r.code == 3
    assert "cannot reach the API server" in r.stderr and len(r.stderr.splitlines()) == 1


def test_broken_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "broken"
    bad.write_text("apiVersion: v1\nclusters: [\n")
    r = run_vip("list", kubeconfig=bad)
    assert r.code == 3 and r.stderr.startswith("error: cannot read kubeconfig")
    r = run_vip("list", kubeconfig=tmp_path / "absent")
    assert r.code == 3 and "does not exist" in r.stderr


def test_unknown_context(kubeconfig: Path) -> None:
    r = run_vip("--context", "nope", "list", kubeconfig=kubeconfig)
    assert r.code == 3
    assert 'context "nope" not found' in r.stderr and "vip-sandbox-readonly" in r.stderr


def test_through_real_kubectl_plugin(kubectl: Runner) -> None:
    r = kubectl("vip", "list", "-A", "--state", ["Leaked", "Orphaned"][1], "-o", "name")
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-0",
        "vpcipclaim.networking.tke.cloud.tencent.com/legacy-api-1",
    ]
    bad = kubectl("vip", "list", "-o", "xml")
    assert bad.code == 2 and "unknown output format" in bad.stderr


# ---------------------------------------------------------------------------- wording (issue 18)


def test_ips_view_takes_its_own_states(vip: Runner) -> None:
    r = vip("list", "--ips", "-A", "--state", "leaked")
    assert r.code == 0, r.stderr
    rows = [ln.split() for ln in r.lines[1:] if ln.strip() and not ln.startswith("2 VpcIPs")]
    assert [row[:2] for row in rows] == [["10.0.2.60", "Leaked"], ["10.0.2.61", "Leaked"]]
    assert r.lines[-1] == "2 VpcIPs: 2 Leaked"


def test_ips_in_a_namespace_say_what_the_scope_leaves_out(vip: Runner, kubeconfig: Path) -> None:
    r = vip("list", "--ips", "-n", "jobs")
    assert r.code == 0
    assert (
        aimed(
            "VpcIPs of other namespaces or of no claim not shown (-n jobs): "
            "kubectl-vip list --ips -A",
            kubeconfig,
        )
        in r.stderr
    )
    everything = vip("list", "--ips", "-A", "-o", "json")
    here = vip("list", "--ips", "-n", "jobs", "-o", "json")
    n_all = len(json.loads(everything.stdout)["items"])
    n_here = len(json.loads(here.stdout)["items"])
    assert f"{n_all - n_here} VpcIPs of other namespaces" in r.stderr


def test_a_filter_that_matches_nothing_says_so(vip: Runner) -> None:
    r = vip("list", "-n", "db", "--state", "overdue,expiring")
    assert (r.code, r.stdout) == (0, "")
    total = len(json.loads(vip("list", "-n", "db", "-o", "json").stdout)["items"])
    assert (
        r.stderr.strip() == f"0 of {total} claims in namespace db match --state expiring,overdue."
    )


def test_counts_read_as_english(vip: Runner) -> None:
    r = vip("list", "-n", "default", "--state", "retained")
    assert r.lines[-1] == "1 claim: 1 Retained"


def test_name_output_pipes_into_the_real_kubectl(vip: Runner, kubectl: Runner) -> None:
    """`list -n db -o name | xargs kubectl get -n db` works: kubectl's own name form."""
    names = vip("list", "-n", "db", "--state", "scaledin", "-o", "name").stdout.split()
    assert names == [
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-2",
        "vpcipclaim.networking.tke.cloud.tencent.com/redis-3",
    ]
    got = kubectl("get", "-n", "db", *names, "-o", "name")
    assert got.code == 0, got.stderr
    assert got.stdout.split() == names
