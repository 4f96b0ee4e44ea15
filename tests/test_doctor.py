"""`kubectl vip doctor` end to end on the sandbox: the demo's findings in every area, the causal
chain of FAQ 2, a healthy cluster, --fail-on, --check, --list-checks, the JSON contract, RBAC
(SelfSubjectAccessReview denials and 403s become skipped checks), and one read per kind."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.doctor import all_checks
from kubectl_vip.doctor.registry import AREAS
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Fault, Rule, User

from .conftest import Result, Runner, aimed, make_sandbox, run_vip

Obj = dict[str, Any]

TOP_KEYS = {"apiVersion", "kind", "metadata", "summary", "reads", "checks", "findings"}
METADATA_KEYS = {"generatedAt", "server", "tke", "failOn"}
SUMMARY_KEYS = {
    "error", "warning", "info", "checksRun", "checksSkipped", "checksFailed", "exitCode", "text",
}  # fmt: skip
READ_KEYS = {"resource", "what", "state", "reason", "items"}
CHECK_KEYS = {
    "id", "area", "title", "status", "severity", "findings", "missing", "limitedBy", "reason",
}  # fmt: skip
FINDING_KEYS = {"id", "area", "severity", "title", "evidence", "fix", "objects", "details"}


def doc_of(r: Result) -> Obj:
    doc: Obj = json.loads(r.stdout)
    return doc


@pytest.fixture(scope="module")
def demo_doc() -> Iterator[tuple[Result, Obj]]:
    """One demo run shared by the read-only tests of its report (the sandbox is not changed)."""
    sb = make_sandbox("demo")
    try:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            kc = sb.write_kubeconfig(Path(tmp) / "kc")
            r = run_vip("doctor", "-o", "json", kubeconfig=kc)
            yield r, doc_of(r)
    finally:
        sb.stop()


def _findings(doc: Obj, check_id: str) -> list[Obj]:
    return [f for f in doc["findings"] if f["id"] == check_id]


def test_demo_finds_something_in_every_area(demo_doc: tuple[Result, Obj]) -> None:
    r, doc = demo_doc
    assert r.code == 1, r.stderr
    assert r.stderr == ""
    assert {f["area"] for f in doc["findings"]} == set(AREAS)
    got = {(f["id"], f["severity"]) for f in doc["findings"]}
    assert {
        ("VIP-POL-001", "warning"),  # expiry never, 6 claims kept
        ("VIP-POL-003", "warning"),  # cascade off, legacy-api's claims kept
        ("VIP-CLM-001", "warning"),  # redis-2/3 scaled in, legacy-api gone
        ("VIP-CLM-002", "error"),  # etl-worker: ipamd's sweep stalled
        ("VIP-CLM-003", "warning"),  # 10.0.2.60/61
        ("VIP-CLM-004", "warning"),  # web/api-old-7
        ("VIP-ENI-001", "error"),  # node-c
        ("VIP-ENI-002", "error"),  # node-d
        ("VIP-CAP-001", "warning"),  # 10.0.1.0/28 at 84.6%
        ("VIP-SCH-001", "error"),  # web/geo-0
    } <= got
    assert doc["summary"]["checksSkipped"] == 0 and doc["summary"]["checksFailed"] == 0


def test_demo_eni_quota_chain(demo_doc: tuple[Result, Obj]) -> None:
    _, doc = demo_doc
    (f,) = _findings(doc, "VIP-ENI-001")
    assert f["title"] == (
        "VPC ENI quota reached: 1 node cannot attach an ENI (1 Pod Pending, 1 VpcIP Attaching)"
    )
    assert f["evidence"][0].startswith("node node-c: 1 VpcIP Attaching, 1 Pod Pending")
    text = "\n".join(f["details"])
    chain = [
        "Pod db/analytics-0 is Pending on node-c",
        "Event FailedCreatePodSandBox on Pod/analytics-0",
        "VpcIP 10.0.3.2 (claim db/analytics-0) is Attaching: ENILimit",
        "Event ENILimit on Node/node-c",
        "NodeENIConfig node-c has an empty status",
    ]
    at = [text.index(step) for step in chain]
    assert at == sorted(at), text
    assert set(f["objects"]) >= {
        "Pod/db/analytics-0",
        "VpcIP/10.0.3.2",
        "Node/node-c",
        "NodeENIConfig/node-c",
    }
    assert "1,000 ENIs per VPC" in f["fix"] and "workorder" in f["fix"]


def test_demo_details(demo_doc: tuple[Result, Obj]) -> None:
    _, doc = demo_doc
    (cap,) = _findings(doc, "VIP-CAP-001")
    assert cap["title"].startswith("Subnet subnet-a1b2c3d4 (10.0.1.0/28) in ap-guangzhou-3")
    assert any(e.startswith("reclaiming Orphaned + Overdue claims would free 2") for e in
               cap["evidence"])  # fmt: skip
    assert any(e.startswith("forecast: ") for e in cap["evidence"])
    (sch,) = _findings(doc, "VIP-SCH-001")
    assert "Pod/web/geo-0" in sch["objects"]
    assert "zone ap-guangzhou-7 has no container subnet" in sch["title"]
    (eni2,) = _findings(doc, "VIP-ENI-002")
    assert eni2["objects"][:2] == ["Node/node-d", "NodeENIConfig/node-d"]
    (orph,) = _findings(doc, "VIP-CLM-001")
    # the fixes in JSON are aimed as the text's are: they name the kubeconfig of the run
    assert re.search(r"^kubectl-vip --kubeconfig \S+ reclaim --orphaned -A", orph["fix"], re.M)
    (pol,) = _findings(doc, "VIP-POL-001")
    assert re.match(r"kubectl-vip --kubeconfig \S+ set-expiry 1h", pol["fix"])


def test_json_contract(demo_doc: tuple[Result, Obj]) -> None:
    _, doc = demo_doc
    assert set(doc) == TOP_KEYS
    assert doc["apiVersion"] == "kubectl-vip/v1" and doc["kind"] == "DoctorReport"
    assert set(doc["metadata"]) == METADATA_KEYS
    assert set(doc["metadata"]["tke"]) == {"group", "version", "kinds"}
    assert set(doc["summary"]) == SUMMARY_KEYS
    assert all(set(r) == READ_KEYS for r in doc["reads"])
    assert all(set(c) == CHECK_KEYS for c in doc["checks"])
    assert all(set(f) == FINDING_KEYS for f in doc["findings"])
    assert [c["id"] for c in doc["checks"]] == [c.id for c in all_checks()]
    for f in doc["findings"]:
        assert f["severity"] in ("error", "warning", "info")
        assert isinstance(f["evidence"], list) and all(isinstance(e, str) for e in f["evidence"])
        assert isinstance(f["fix"], str) and f["fix"]
    s = doc["summary"]
    assert (s["error"], s["exitCode"]) == (
        sum(f["severity"] == "error" for f in doc["findings"]),
        1,
    )


def test_text_report(sandbox: Sandbox, vip: Runner, kubeconfig: Path) -> None:
    r = vip("doctor")
    assert r.code == 1
    lines = r.lines
    assert lines[0] == "TKE CRDs"
    for heading in AREAS.values():
        assert heading in lines
    # the served CRDs fit the demo's objects: VIP-CRD-002 is ok
    assert lines[-1].startswith("Summary: 4 errors, 7 warnings, 3 info from 22 checks run; exit 1")
    assert any(ln.startswith("  ok       VIP-CRD-002") for ln in lines)
    assert any(ln.startswith("  error    VIP-ENI-001    VPC ENI quota reached") for ln in lines)
    # never "ok: headroom" beside "quota reached"
    assert any(ln.startswith("  warning  VIP-ENI-003    VPC ENI quota reached") for ln in lines)
    assert not any("ok       VIP-ENI-003" in ln for ln in lines)
    assert aimed("fix: kubectl-vip reclaim api-old-7 -n web", kubeconfig) in [
        ln.strip() for ln in lines
    ]
    assert any(ln.startswith("  ok       VIP-IPAMD-001") for ln in lines)


def test_yaml_output(sandbox: Sandbox, vip: Runner) -> None:
    r = vip("doctor", "-o", "yaml", "--check", "VIP-CLM-003")
    doc = yaml.safe_load(r.stdout)
    assert doc["kind"] == "DoctorReport"
    assert [f["objects"] for f in doc["findings"]] == [["VpcIP/10.0.2.60", "VpcIP/10.0.2.61"]]


def test_healthy_has_no_error_or_warning(tmp_path: Path) -> None:
    sb = make_sandbox("healthy")
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        r = run_vip("doctor", "-o", "json", "--fail-on", "warning", kubeconfig=kc)
        doc = doc_of(r)
        assert r.code == 0, doc["findings"]
        assert [f for f in doc["findings"] if f["severity"] != "info"] == []
        assert doc["summary"]["checksSkipped"] == 0
    finally:
        sb.stop()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--fail-on", "never"), 0),
        (("--fail-on", "error"), 1),
        (("--check", "VIP-CLM-001"), 0),  # only a warning
        (("--check", "VIP-CLM-001", "--fail-on", "warning"), 1),
        (("--check", "VIP-CRD-001", "--fail-on", "warning"), 0),  # info only
    ],
    ids=["never", "error", "warning-below-error", "warning", "info"],
)
def test_fail_on(sandbox: Sandbox, vip: Runner, args: tuple[str, ...], code: int) -> None:
    r = vip("doctor", "-o", "json", *args)
    assert r.code == code, r.stdout
    assert doc_of(r)["summary"]["exitCode"] == code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fail-on", "sometimes"), 'unknown --fail-on "sometimes"'),
        (("--check", "VIP-NOPE-001"), "unknown check VIP-NOPE-001"),
        (("-o", "wide"), 'unknown output format "wide"'),
    ],
)
def test_usage_errors(sandbox: Sandbox, vip: Runner, args: tuple[str, ...], message: str) -> None:
    sandbox.controls.clear_log()
    r = vip("doctor", *args)
    assert r.code == 2 and message in r.stderr
    assert sandbox.controls.resource_requests() == []


def test_list_checks_reads_nothing(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.clear_log()
    r = vip("doctor", "--list-checks")
    assert r.code == 0
    assert r.lines[0].split() == ["ID", "AREA", "TITLE", "NEEDS"]
    assert [ln.split()[0] for ln in r.lines[1:]] == [c.id for c in all_checks()]
    doc = doc_of(vip("doctor", "--list-checks", "-o", "json"))
    assert doc["kind"] == "DoctorCheckList"
    assert set(doc["items"][0]) == {"id", "area", "title", "needs", "uses", "description"}
    assert sandbox.controls.resource_requests() == []


def test_single_check_reads_only_what_it_needs(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.clear_log()
    r = vip("doctor", "--check", "vip-clm-003,VIP-CRD-001", "-o", "json")
    doc = doc_of(r)
    assert [c["id"] for c in doc["checks"]] == ["VIP-CRD-001", "VIP-CLM-003"]
    reads = {(q.verb, q.resource) for q in sandbox.controls.resource_requests()}
    assert reads == {
        ("create", "selfsubjectaccessreviews"),
        ("list", "vpcipclaims"),
        ("list", "vpcips"),
    }
    states = {x["resource"]: x["state"] for x in doc["reads"]}
    assert states["events"] == "not-needed" and states["vpcips"] == "ok"


def test_each_kind_read_once(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.clear_log()
    assert vip("doctor", "-o", "json").code == 1
    reqs = Counter(
        (q.verb, q.resource)
        for q in sandbox.controls.resource_requests()
        if q.resource not in ("selfsubjectaccessreviews", "customresourcedefinitions")
    )
    assert reqs and all(n == 1 for n in reqs.values()), reqs
    # the TKE kinds' CRDs: one get each (one review for them all)
    crds = [
        q for q in sandbox.controls.resource_requests() if "customresourcedefinitions" in q.path
    ]
    assert all(q.method == "GET" for q in crds)
    assert sorted(q.path.rsplit("/", 1)[1] for q in crds) == [
        f"{p}.networking.tke.cloud.tencent.com"
        for p in ("nodeeniconfigs", "vpcenis", "vpcipclaims", "vpcips")
    ]
    reviews = [q for q in sandbox.controls.resource_requests() if q.verb == "create"]
    assert len(reviews) == len(reqs) + 1  # one review per read, asked before it


def _kubeconfig_for(sb: Sandbox, tmp_path: Path, user: User, context: str | None = None) -> Path:
    token = f"token-{user.name}"
    sb.controls.add_user(token, user)
    cfg = sb.kubeconfig()
    cfg["users"][0]["user"]["token"] = token
    kc = tmp_path / f"kc-{user.name}"
    kc.write_text(yaml.safe_dump(cfg))
    return kc


def test_forbidden_list_skips_checks(sandbox: Sandbox, tmp_path: Path) -> None:
    """The read-only user may read all (SSAR says yes), but listing Events answers 403."""
    sandbox.controls.inject(
        Fault(verb="list", resource="events", code=403, reason="Forbidden", times=-1)
    )
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = run_vip("--context", "vip-sandbox-readonly", "doctor", "-o", "json", kubeconfig=kc)
    doc = doc_of(r)
    assert r.code == 1 and r.stderr == ""
    checks = {c["id"]: c for c in doc["checks"]}
    sch = checks["VIP-SCH-001"]
    assert sch["status"] == "skipped"
    assert sch["missing"][0].startswith("list events (all namespaces): forbidden")
    assert checks["VIP-ENI-001"]["status"] == "findings"  # events are optional there
    assert checks["VIP-ENI-001"]["limitedBy"][0].startswith("list events")
    assert doc["summary"]["checksSkipped"] == 1
    assert {f["area"] for f in doc["findings"]} == set(AREAS) - {"scheduling"}
    text = run_vip("--context", "vip-sandbox-readonly", "doctor", kubeconfig=kc)
    assert "skipped  VIP-SCH-001" in text.stdout
    assert "1 skipped" in text.lines[-1]


def test_rbac_denial_is_planned_before_reading(sandbox: Sandbox, tmp_path: Path) -> None:
    """A user who may not list events or secrets: the review says no, nothing is tried."""
    allowed = frozenset(
        {"vpcipclaims", "vpcips", "nodeeniconfigs", "pods", "nodes", "statefulsets",
         "deployments", "daemonsets", "configmaps"}
    )  # fmt: skip
    user = User(
        "limited",
        [
            Rule(READ_ONLY_VERBS, allowed),
            Rule(frozenset({"create"}), frozenset({"selfsubjectaccessreviews"})),
        ],
    )
    kc = _kubeconfig_for(sandbox, tmp_path, user)
    sandbox.controls.clear_log()
    r = run_vip("doctor", "-o", "json", kubeconfig=kc)
    doc = doc_of(r)
    assert r.stderr == ""
    tried = {q.resource for q in sandbox.controls.resource_requests() if q.verb != "create"}
    assert "events" not in tried and "secrets" not in tried
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["VIP-SCH-001"]["status"] == "skipped"
    assert checks["VIP-SCH-001"]["missing"] == [
        "list events (all namespaces): forbidden (RBAC denies it (SelfSubjectAccessReview))"
    ]
    assert checks["VIP-IPAMD-003"]["status"] == "findings"
    assert checks["VIP-IPAMD-003"]["limitedBy"][0].startswith("list secrets in kube-system")
    (info,) = [f for f in doc["findings"] if f["id"] == "VIP-IPAMD-003"]
    assert any("could not be listed" in e for e in info["evidence"])


def test_review_unavailable_falls_back_to_trying(sandbox: Sandbox, tmp_path: Path) -> None:
    for f in (
        Fault(verb="create", resource="selfsubjectaccessreviews", code=403, reason="Forbidden",
              times=-1),
        Fault(verb="list", resource="pods", code=403, reason="Forbidden", times=-1),
    ):  # fmt: skip
        sandbox.controls.inject(f)
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = run_vip("doctor", "-o", "json", kubeconfig=kc)
    doc = doc_of(r)
    skipped = {c["id"] for c in doc["checks"] if c["status"] == "skipped"}
    assert "VIP-CLM-001" in skipped and "VIP-SCH-001" in skipped
    assert "VIP-CLM-003" not in skipped  # leaked VpcIPs need no Pods
    assert r.code == 1  # the checks that ran still found errors


def test_not_a_vpc_cni_cluster_exits_4(tmp_path: Path) -> None:
    sb = make_sandbox("empty", tke=False)
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        r = run_vip("doctor", kubeconfig=kc)
        assert r.code == 4
        assert "not a TKE VPC-CNI cluster" in r.stderr
        assert r.stdout == ""
    finally:
        sb.stop()


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_vip("doctor", "--help")
    text = r.stdout + capsys.readouterr().out
    assert r.code == 0
    assert text.splitlines()[2].strip().startswith("Run every check and print findings")
    for flag in ("--fail-on", "--check", "--list-checks", "-o, --output"):
        assert flag in text
    examples = [ln for ln in text.splitlines() if ln.strip().startswith("kubectl vip doctor")]
    assert len(examples) == 2
    assert "findings  [{id, area, severity, title, evidence: [str], fix: str" in text
