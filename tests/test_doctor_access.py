"""What doctor and bundle say when RBAC keeps them from reading: a doctor that could run no
check exits 3 naming the missing permissions; a partial run cannot pass --fail-on when a check
it skipped could have failed it; a bundle that could read nothing exits 3 and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubectl_vip.doctor import all_checks, reads, report
from kubectl_vip.doctor.registry import Check, CheckResult, Finding, Issue, Severity, Status, run
from kubectl_vip.doctor.snapshot import Snapshot
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Rule, User

from .conftest import FIXED_NOW, Result, run_vip

ALL_READS = frozenset(
    {"vpcipclaims", "vpcips", "nodeeniconfigs", "pods", "nodes", "events", "statefulsets",
     "deployments", "daemonsets", "configmaps", "secrets"}
)  # fmt: skip


def kubeconfig_for(sb: Sandbox, tmp_path: Path, name: str, readable: frozenset[str]) -> Path:
    rules = [Rule(frozenset({"create"}), frozenset({"selfsubjectaccessreviews"}))]
    if readable:
        rules.append(Rule(READ_ONLY_VERBS, readable))
    token = f"token-{name}"
    sb.controls.add_user(token, User(name, rules))
    cfg = sb.kubeconfig()
    cfg["users"][0]["user"]["token"] = token
    kc = tmp_path / f"kc-{name}"
    kc.write_text(yaml.safe_dump(cfg))
    return kc


def test_doctor_that_can_run_no_check_exits_3_naming_what_is_missing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc = kubeconfig_for(sandbox, tmp_path, "nobody", frozenset())
    r = run_vip("doctor", kubeconfig=kc)
    assert r.code == 3, (r.stdout, r.stderr)
    (line,) = r.stderr.splitlines()
    assert line.startswith("error: doctor could run no check: RBAC denies ")
    for what in ("list vpcipclaims", "list pods (all namespaces)", "list events", "list nodes"):
        assert what in line
    assert "ask a cluster admin" in line
    skipped = len(all_checks()) - 1  # VIP-CRD-001 reads nothing: discovery answered it
    assert f"1 check run, {skipped} skipped; exit 3" in r.lines[-1]
    assert "no check that reads the cluster could run" in r.lines[-1]


@pytest.mark.parametrize("fail_on", ["error", "warning", "never"])
def test_nothing_ran_is_exit_3_whatever_fail_on_says(
    sandbox: Sandbox, tmp_path: Path, fail_on: str
) -> None:
    kc = kubeconfig_for(sandbox, tmp_path, "nobody", frozenset())
    r = run_vip("doctor", "-o", "json", "--fail-on", fail_on, kubeconfig=kc)
    assert r.code == 3
    doc = json.loads(r.stdout)
    assert doc["summary"]["exitCode"] == 3
    assert doc["summary"]["checksSkipped"] == len(all_checks()) - 1
    assert "doctor could run no check" in r.stderr


def _partial(sandbox: Sandbox, tmp_path: Path, *args: str) -> Result:
    """Events forbidden: VIP-SCH-001 (Pending Pods and their Events) cannot run; VIP-IPAMD-001
    runs and finds nothing in the demo."""
    kc = kubeconfig_for(sandbox, tmp_path, "no-events", ALL_READS - {"events"})
    return run_vip("doctor", "--check", "VIP-SCH-001,VIP-IPAMD-001", *args, kubeconfig=kc)


@pytest.mark.parametrize("fail_on", ["error", "warning"])
def test_a_forbidden_check_that_could_fail_the_run_fails_it(
    sandbox: Sandbox, tmp_path: Path, fail_on: str
) -> None:
    r = _partial(sandbox, tmp_path, "--fail-on", fail_on)
    assert r.code == 1, r.stdout
    assert "skipped  VIP-SCH-001" in r.stdout
    last = r.lines[-1]
    assert "1 check run, 1 skipped; exit 1" in last
    assert "1 check skipped for lack of permission (VIP-SCH-001) could have found errors" in last


def test_the_json_report_says_so_on_stderr(sandbox: Sandbox, tmp_path: Path) -> None:
    r = _partial(sandbox, tmp_path, "-o", "json")
    assert r.code == 1
    assert json.loads(r.stdout)["summary"]["exitCode"] == 1
    assert r.stderr.strip() == (
        "Warning: 1 check skipped for lack of permission (VIP-SCH-001) could have found errors"
    )


def test_fail_on_never_still_passes_a_partial_run(sandbox: Sandbox, tmp_path: Path) -> None:
    r = _partial(sandbox, tmp_path, "--fail-on", "never")
    assert r.code == 0
    assert "1 skipped; exit 0" in r.lines[-1]


# ---------------------------------------------------------------------------- the rule (pure)


def _check(id: str, worst: Severity = Severity.ERROR) -> Check:
    return Check(id, "claims", id, (reads.PODS,), (), lambda s: [], worst=worst)


def _finding(sev: Severity) -> Finding:
    return Finding("VIP-X", "claims", sev, "t", [], "", [])


OK = CheckResult(_check("A"), Status.OK)
WARNED = CheckResult(_check("B"), Status.FINDINGS, [_finding(Severity.WARNING)])
FAILED = CheckResult(_check("C"), Status.FAILED, reason="boom")
FORBIDDEN = CheckResult(_check("D"), Status.SKIPPED, forbidden=True)
FORBIDDEN_INFO_ONLY = CheckResult(_check("E", Severity.INFO), Status.SKIPPED, forbidden=True)
FORBIDDEN_WARN_ONLY = CheckResult(_check("F", Severity.WARNING), Status.SKIPPED, forbidden=True)
NOT_SERVED = CheckResult(_check("G"), Status.SKIPPED)  # the kind does not exist here


@pytest.mark.parametrize(
    ("results", "fail_on", "code"),
    [
        pytest.param([OK], "error", 0, id="all-ok"),
        pytest.param([OK, NOT_SERVED], "error", 0, id="not-served-is-no-blind-spot"),
        pytest.param([OK, FORBIDDEN], "error", 1, id="forbidden-could-find-an-error"),
        pytest.param([OK, FORBIDDEN], "never", 0, id="never"),
        pytest.param([OK, FORBIDDEN_INFO_ONLY], "warning", 0, id="info-only-check"),
        pytest.param([OK, FORBIDDEN_WARN_ONLY], "error", 0, id="warning-only-under-error"),
        pytest.param([OK, FORBIDDEN_WARN_ONLY], "warning", 1, id="warning-only-under-warning"),
        pytest.param([WARNED, FORBIDDEN], "warning", 1, id="findings-decide"),
        pytest.param([FORBIDDEN, NOT_SERVED], "never", 3, id="nothing-ran"),
        pytest.param([FORBIDDEN_INFO_ONLY], "error", 3, id="nothing-ran-info-only"),
        pytest.param([NOT_SERVED], "error", 0, id="nothing-served-is-not-an-access-problem"),
        pytest.param([FAILED, FORBIDDEN], "error", 1, id="a-failed-check-ran"),
    ],
)
def test_exit_code_rule(results: list[CheckResult], fail_on: str, code: int) -> None:
    assert report.exit_code(results, fail_on) == code


# ---------------------------------------------------------------------------- bundle


def test_bundle_that_can_read_nothing_exits_3_and_writes_nothing(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc = kubeconfig_for(sandbox, tmp_path, "nobody", frozenset())
    out = tmp_path / "b.tar.gz"
    r = run_vip("bundle", "-o", str(out), kubeconfig=kc)
    assert r.code == 3, (r.stdout, r.stderr)
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("error: bundle: nothing could be read (forbidden: ")
    assert "list vpcipclaims (all namespaces)" in line
    assert not out.exists()


def test_bundle_with_one_readable_kind_is_written(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = kubeconfig_for(sandbox, tmp_path, "claims-only", frozenset({"vpcipclaims"}))
    out = tmp_path / "b.tar.gz"
    r = run_vip("bundle", "-o", str(out), kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert out.exists() and "Warning: vpcips: forbidden" in r.stderr


def test_a_check_that_raises_above_its_declared_worst_fails() -> None:
    """A check's `worst` decides the exit when it cannot run, so the runner holds it to it."""

    def warns(s: Snapshot) -> list[Issue]:
        return [Issue(Severity.WARNING, "t", [], "")]

    c = Check("VIP-T-001", "claims", "t", (), (), warns, worst=Severity.INFO)
    (result,) = run([c], Snapshot(now=FIXED_NOW))
    assert result.status == Status.FAILED
    assert result.reason == "raised warning above its declared worst (info)"
    ok = Check("VIP-T-002", "claims", "t", (), (), warns, worst=Severity.WARNING)
    assert run([ok], Snapshot(now=FIXED_NOW))[0].status == Status.FINDINGS
