"""Which rule of the source pages applies to ipamd's settings, through the CLI on the sandbox's
ipamd scenarios: the add-on first (a Helm release, Helm's marks on the Deployment), then the
version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.scenarios_ipamd import ARGS, SPLIT_ARGS, install_addon

from .conftest import Result, make_sandbox, run_vip

CONSOLE = (
    "TKE console → Cluster → cls-addon01 → Add-On Management → eniipamd → Update configuration"
)
UNKNOWN_LINE = "version unknown: if the eniipamd add-on manages ipamd, use the console"


class Cluster:
    def __init__(self, sb: Sandbox, kubeconfig: Path) -> None:
        self.sb = sb
        self.kubeconfig = kubeconfig

    def vip(self, *args: str) -> Result:
        return run_vip(*args, kubeconfig=self.kubeconfig)

    def args(self) -> list[str]:
        dep = self.sb.store.peek(self.sb.world.t.deployments, "kube-system", "tke-eni-ipamd")
        assert dep is not None
        return list(dep["spec"]["template"]["spec"]["containers"][0]["args"])

    def patches(self) -> list[Any]:
        return [r for r in self.sb.controls.resource_requests() if r.verb == "patch"]

    def set_image(self, image: str) -> None:
        def apply(d: dict[str, Any]) -> None:
            d["spec"]["template"]["spec"]["containers"][0]["image"] = image

        self.sb.store.mutate(self.sb.world.t.deployments, "kube-system", "tke-eni-ipamd", apply)


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    sb = make_sandbox(request.param)
    yield Cluster(sb, sb.write_kubeconfig(tmp_path / "kubeconfig"))
    sb.stop()


def scenario(name: str) -> Any:
    return pytest.mark.parametrize("cluster", [name], indirect=True)


@scenario("ipamd-addon")
def test_v350_or_later_with_the_addon_goes_to_the_console(cluster: Cluster) -> None:
    """ "tke-eni-ipamd v3.5.0 or later ... On the Add-On Management page, click Update
    configuration in the Operation column of the eniipamd add-on." (组件版本 >= v3.5.0)"""
    cluster.sb.controls.clear_log()
    r = cluster.vip("set-expiry", "1h")
    assert r.code == 1
    assert "Rule: v3.5.0 or later with the eniipamd add-on: the console" in r.stdout
    assert CONSOLE in r.stderr
    assert "enter the expiration time 1h (3600 seconds)" in r.stderr
    assert "Helm release Secret sh.helm.release.v1.eniipamd.v1 in kube-system" in r.stderr
    assert "nothing was sent" in r.stderr
    assert cluster.patches() == [] and cluster.args() == ARGS


@scenario("ipamd-addon")
def test_forced_hand_edit_is_reverted_by_the_addon(cluster: Cluster) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" → the console: the add-on owns the args, so a hand
    edit made with --force does not last (the sandbox's add-on restores its release's args)."""
    r = cluster.vip("enable-cascade", "--force")
    assert r.code == 0, r.stderr
    assert "An add-on update may revert this hand edit" in r.stderr
    assert cluster.args() == [*ARGS, "--enable-ownerref"]
    cluster.sb.advance(timedelta(minutes=1))
    assert cluster.args() == [*ARGS, "--enable-ownerref"]  # not yet
    cluster.sb.advance(timedelta(minutes=1, seconds=1))
    assert cluster.args() == ARGS  # two minutes after the edit, the add-on put its args back
    events = cluster.sb.store.objects(cluster.sb.world.t.events, "kube-system")
    assert any(e["reason"] == "AddonReconciled" for e in events)
    r = cluster.vip("config", "-o", "json")
    assert json.loads(r.stdout)["flags"]["cascade"] is False


@scenario("ipamd-no-addon")
def test_v350_or_later_without_the_addon_patches_the_deployment(cluster: Cluster) -> None:
    """ "tke-eni-ipamd earlier than v3.5.0 or no eniipamd to manage: Run the command `kubectl
    edit deploy tke-eni-ipamd -n kube-system`" (组件版本 < v3.5.0 或组件管理中无 eniipamd 组件)."""
    r = cluster.vip("set-expiry", "1h")
    assert r.code == 0, r.stderr
    assert "Rule: no eniipamd add-on to manage ipamd: edit the Deployment" in r.stdout
    assert "ipamd v3.6.0 >= v3.5.0" in r.stdout
    assert "deployment.apps/tke-eni-ipamd patched: expiry 1h." in r.stdout
    assert cluster.args() == [*ARGS[:-1], "--claim-expired-duration=1h"]
    assert "Warning" not in r.stderr


@scenario("ipamd-old-addon")
def test_older_than_v350_with_the_addon_patches_and_warns(cluster: Cluster) -> None:
    """ "tke-eni-ipamd earlier than v3.5.0 ... add the launch parameter to
    `spec.template.spec.containers[0].args`": patched, with a warning that the add-on present
    may revert the hand edit on its next update."""
    r = cluster.vip("enable-cascade")
    assert r.code == 0, r.stderr
    assert "Rule: earlier than v3.5.0: edit the Deployment (ipamd v3.4.2 < v3.5.0; " in r.stdout
    assert "the eniipamd add-on is present: an update of the eniipamd add-on may revert" in (
        r.stderr
    )
    assert cluster.args() == [*ARGS, "--enable-ownerref"]


@scenario("ipamd-addon")
def test_pre_release_of_v350_is_earlier_than_v350(cluster: Cluster) -> None:
    """ "tke-eni-ipamd earlier than v3.5.0": v3.5.0-rc1 comes before v3.5.0 (semver), so it is
    patched like any earlier version, with the add-on's revert risk said."""
    cluster.set_image("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.5.0-rc1")
    r = cluster.vip("set-expiry", "30m")
    assert r.code == 0, r.stderr
    assert "Rule: earlier than v3.5.0: edit the Deployment (ipamd v3.5.0-rc1 < v3.5.0; " in (
        r.stdout
    )
    assert "may revert this hand edit" in r.stderr
    assert cluster.args()[-1] == "--claim-expired-duration=30m"


@scenario("ipamd-latest")
def test_unknown_version_without_the_addon_patches_and_says_so(cluster: Cluster) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" → the console, "... or no eniipamd to manage" → edit:
    with the version unknown (tag `latest`) and no add-on found, the edit is made and the plan
    says plainly what is not known."""
    r = cluster.vip("set-expiry", "1h")
    assert r.code == 0, r.stderr
    assert UNKNOWN_LINE in r.stderr
    assert 'version unknown: the image tag is "latest", which names no version' in r.stdout
    assert cluster.args()[-1] == "--claim-expired-duration=1h"


@scenario("ipamd-latest")
def test_unknown_version_with_the_addon_is_refused(cluster: Cluster) -> None:
    """ "On the Add-On Management page, click Update configuration in the Operation column of
    the eniipamd add-on": with the add-on found and the version unknown, nothing is patched."""
    install_addon(cluster.sb)
    cluster.sb.controls.clear_log()
    r = cluster.vip("enable-cascade")
    assert r.code == 1
    assert UNKNOWN_LINE in r.stderr
    assert "Rule: version unknown with the eniipamd add-on: the console" in r.stdout
    assert cluster.patches() == [] and cluster.args() == ARGS


@scenario("ipamd-split-bool")
def test_split_boolean_is_reported_and_rewritten(cluster: Cluster) -> None:
    """ "add the launch parameter to `spec.template.spec.containers[0].args`: - --enable-ownerref"
    is a bare boolean; written as `--enable-ownerref`, `false` it reads as true and Go's flag
    parsing stops at `false`, so the expiry after it is ignored (the sandbox's ipamd too)."""
    sb = cluster.sb
    assert sb.world.expiry() is None and sb.world.cascade() is True  # ipamd's own reading
    r = cluster.vip("config")
    assert r.code == 0
    assert "'--enable-ownerref false' is ambiguous" in r.stderr
    assert "--claim-expired-duration=1h after it may be ignored" in r.stderr
    assert "Cascade:          on (ambiguous: --enable-ownerref false, read as true)" in r.stdout
    d = cluster.vip("doctor", "--check", "VIP-IPAMD-003", "-o", "json")
    evidence = [e for f in json.loads(d.stdout)["findings"] for e in f["evidence"] + f["details"]]
    assert any("'--enable-ownerref false' is ambiguous" in e for e in evidence)
    r = cluster.vip("set-expiry", "1h")  # already "set", but the ambiguity is a real fix
    assert r.code == 0, r.stderr
    assert "-false" in r.stdout and "+--enable-ownerref=true" in r.stdout
    want = [*SPLIT_ARGS[:2], "--enable-ownerref=true", "--claim-expired-duration=1h"]
    assert cluster.args() == want
    assert sb.world.expiry() == timedelta(hours=1)  # ipamd now reads the expiry


RULES = [
    ("ipamd-addon", "v3.5.0 or later with the eniipamd add-on: the console"),
    ("ipamd-no-addon", "no eniipamd add-on to manage ipamd: edit the Deployment"),
    ("ipamd-old-addon", "earlier than v3.5.0: edit the Deployment"),
    ("ipamd-latest", "no eniipamd add-on to manage ipamd: edit the Deployment"),
]


@pytest.mark.parametrize(
    ("cluster", "rule"), RULES, ids=[r[0] for r in RULES], indirect=["cluster"]
)
def test_config_says_which_rule_applies_and_why(cluster: Cluster, rule: str) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" / "earlier than v3.5.0 or no eniipamd to manage":
    `config` names the rule it applied and what it read to choose it."""
    r = cluster.vip("config")
    assert r.code == 0, r.stderr
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("Rule:"))
    assert rule in line
    doc = json.loads(cluster.vip("config", "-o", "json").stdout)["management"]
    assert doc["rule"] == rule
    assert doc["route"] == ("console" if "console" in rule else "patch")


def test_every_scenario_is_offered_by_completion() -> None:
    """`sandbox serve --scenario` completes every scenario the sandbox can build."""
    import kubectl_vip
    from kubectl_vip.sandbox import scenarios_ipamd
    from kubectl_vip.sandbox.scenarios import SCENARIOS

    assert set(scenarios_ipamd.BUILDERS) <= set(SCENARIOS)

    spec = (Path(kubectl_vip.__file__).parent / "cli" / "completion_spec.json").read_text()
    for name in SCENARIOS:
        assert f'"{name}"' in spec, name


def _no_secrets_kubeconfig(cluster: Cluster, tmp: Path) -> Path:
    import yaml

    from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Rule, User

    user = User(
        "no-secrets",
        [
            Rule(READ_ONLY_VERBS, frozenset({"deployments", "configmaps", "namespaces"})),
            Rule(frozenset({"patch"}), frozenset({"deployments"})),
        ],
    )
    cluster.sb.controls.add_user("no-secrets-token", user)
    cfg = cluster.sb.kubeconfig()
    cfg["users"][0]["user"]["token"] = "no-secrets-token"
    kc = tmp / "no-secrets"
    kc.write_text(yaml.safe_dump(cfg))
    return kc


@scenario("ipamd-addon")
def test_addon_found_by_helms_marks_when_secrets_are_forbidden(
    cluster: Cluster, tmp_path: Path
) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" with the eniipamd add-on → the console: without the
    right to list Secrets, Helm's marks on the Deployment still show the add-on."""
    kc = _no_secrets_kubeconfig(cluster, tmp_path)
    r = run_vip("set-expiry", "1h", kubeconfig=kc)
    assert r.code == 1
    assert "cannot list Secrets in kube-system" in r.stderr
    assert "the Deployment carries Helm's annotation meta.helm.sh/release-name=eniipamd" in (
        r.stdout
    )
    assert cluster.args() == ARGS


@scenario("ipamd-no-addon")
def test_addon_not_ruled_out_at_v350_or_later_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" → the console unless there is "no eniipamd to manage":
    with the Secrets unreadable and no Helm mark, the add-on is not ruled out, so nothing is
    patched without --force."""
    kc = _no_secrets_kubeconfig(cluster, tmp_path)
    r = run_vip("enable-cascade", kubeconfig=kc)
    assert r.code == 1
    assert "Rule: v3.5.0 or later (or version unknown), add-on not ruled out: the console" in (
        r.stdout
    )
    assert cluster.args() == ARGS
    r = run_vip("enable-cascade", "--force", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert cluster.args() == [*ARGS, "--enable-ownerref"]
