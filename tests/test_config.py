"""`kubectl vip config` end to end on the sandbox, and its pure view (table-driven)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.model import ipamd, settings
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Rule, User

from .conftest import Runner, run_vip

DEMO_TEXT = """\
Deployment:       kube-system/tke-eni-ipamd
Container:        tke-eni-ipamd
Image:            ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.4.2
Version:          v3.4.2
Replicas:         1 desired, 1 ready
Managed by:       by hand (no eniipamd add-on): no sh.helm.release.v1.eniipamd.* Secret in \
kube-system; no Helm release marks on the Deployment
Static IP mode:   on (VpcIPClaim and VpcIP served; tke-eni-ip-scheduler deployed)
Expiry:           never (--claim-expired-duration 0s)
Cascade:          off
Other flags:      --logtostderr --v 3 --cluster-id cls-sandbox1
Flags in:         args
Subnets:          subnet-a1b2c3d4, subnet-e5f6a7b8, subnet-c9d0e1f2
VPC:              vpc-sb7x2k9d
Rule:             earlier than v3.5.0: edit the Deployment (ipamd v3.4.2 < v3.5.0)
Change with:      kubectl vip set-expiry DURATION|never, kubectl vip enable-cascade|disable-cascade
"""

CONFIG_KEYS = {
    "apiVersion", "kind", "deployment", "image", "version", "versionNote", "replicas",
    "management", "staticIPMode", "ipScheduler", "flags", "flagsProblem", "subnets", "vpcID",
    "warnings",
}  # fmt: skip
FLAG_KEYS = {
    "expiry", "expiryRaw", "expiryInvalid", "cascade", "cascadeInvalid", "otherArgs",
    "location", "duplicateFlags", "splitBooleans", "ignoredByGoFlag", "ifFlagStops",
}  # fmt: skip


def test_config_demo_exact(sandbox: Sandbox, vip: Runner) -> None:
    r = vip("config")
    assert r.code == 0, r.stderr
    assert r.stdout == DEMO_TEXT
    assert r.stderr == ""


def test_config_json_stable_keys(sandbox: Sandbox, vip: Runner) -> None:
    r = vip("config", "-o", "json")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == CONFIG_KEYS
    assert set(doc["flags"]) == FLAG_KEYS
    assert set(doc["management"]) == {
        "addon", "managedBy", "route", "rule", "reasons", "addonEvidence", "versionReason",
        "notes", "helmReleaseSecrets",
    }  # fmt: skip
    assert set(doc["replicas"]) == {"desired", "ready", "updated", "available"}
    assert (doc["apiVersion"], doc["kind"]) == ("kubectl-vip/v1", "IpamdConfig")
    assert doc["deployment"] == {
        "namespace": "kube-system",
        "name": "tke-eni-ipamd",
        "container": "tke-eni-ipamd",
    }
    assert doc["version"] == "v3.4.2" and doc["versionNote"] is None
    assert doc["replicas"] == {"desired": 1, "ready": 1, "updated": 1, "available": 1}
    assert doc["management"]["addon"] is False and doc["management"]["managedBy"] == "manual"
    assert doc["management"]["helmReleaseSecrets"] == []
    assert doc["staticIPMode"] is True
    assert doc["flags"]["expiry"] == "never" and doc["flags"]["expiryRaw"] == "0s"
    assert doc["flags"]["cascade"] is False
    assert doc["flags"]["otherArgs"] == [
        "--logtostderr",
        "--v",
        "3",
        "--cluster-id",
        "cls-sandbox1",
    ]
    assert doc["subnets"] == ["subnet-a1b2c3d4", "subnet-e5f6a7b8", "subnet-c9d0e1f2"]
    assert doc["vpcID"] == "vpc-sb7x2k9d"
    y = vip("config", "-o", "yaml")
    assert y.code == 0 and yaml.safe_load(y.stdout) == doc


def test_config_missing_deployment_exits_4(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.store.delete(sandbox.world.t.deployments, "kube-system", "tke-eni-ipamd")
    r = vip("config")
    assert r.code == 4
    assert r.stdout == ""
    assert r.stderr.startswith("error: deployment kube-system/tke-eni-ipamd not found")
    assert len(r.stderr.strip().splitlines()) == 1


def test_config_bad_output_is_usage_error(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.clear_log()
    r = vip("config", "-o", "wide")
    assert r.code == 2 and "unknown output format" in r.stderr
    assert sandbox.controls.resource_requests() == []


# ----------------------------------------------------------------------- variations, end to end

Obj = dict[str, Any]


def _ipamd_container(sb: Sandbox, fn: Callable[[Obj], None]) -> None:
    def apply(d: Obj) -> None:
        fn(d["spec"]["template"]["spec"]["containers"][0])

    sb.store.mutate(sb.world.t.deployments, "kube-system", "tke-eni-ipamd", apply)


def _image(image: str) -> Callable[[Sandbox], None]:
    def setup(sb: Sandbox) -> None:
        def set_image(c: Obj) -> None:
            c["image"] = image

        _ipamd_container(sb, set_image)

    return setup


def _args(args: list[str]) -> Callable[[Sandbox], None]:
    def setup(sb: Sandbox) -> None:
        def set_args(c: Obj) -> None:
            c["args"] = args

        _ipamd_container(sb, set_args)

    return setup


def _helm(sb: Sandbox) -> None:
    for name, labels in (
        ("sh.helm.release.v1.eniipamd.v1", {"owner": "helm", "name": "eniipamd"}),
        ("sh.helm.release.v1.eniipamd.v2", {"owner": "helm", "name": "eniipamd"}),
        ("sh.helm.release.v1.other.v1", {"owner": "helm", "name": "other"}),
    ):
        sb.store.create(
            sb.world.t.secrets,
            "kube-system",
            {"metadata": {"name": name, "labels": labels}, "data": {"release": "c2VjcmV0"}},
        )


def _no_scheduler(sb: Sandbox) -> None:
    sb.store.delete(sb.world.t.deployments, "kube-system", "tke-eni-ip-scheduler")


def _no_configmap(sb: Sandbox) -> None:
    sb.store.delete(sb.world.t.configmaps, "kube-system", "tke-eni-ipamd")


REPO = "ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd"
VARIANTS: list[tuple[str, Callable[[Sandbox], None], dict[str, Any], list[str]]] = [
    (
        "v3.6.0-no-addon",
        _image(f"{REPO}:v3.6.0"),
        {"version": "v3.6.0", "management.addon": False, "management.route": "patch"},
        ["Rule:             no eniipamd add-on to manage ipamd: edit the Deployment "
         "(ipamd v3.6.0 >= v3.5.0)",
         "Change with:      kubectl vip set-expiry"],
    ),
    (
        "v3.6.0-addon",
        lambda sb: (_image(f"{REPO}:v3.6.0")(sb), _helm(sb)),
        {"version": "v3.6.0", "management.addon": True, "management.route": "console"},
        ["Rule:             v3.5.0 or later with the eniipamd add-on: the console",
         "Change with:      TKE console → Add-On Management → eniipamd → Update configuration"],
    ),
    (
        "digest-only",
        _image(f"{REPO}@sha256:" + "a" * 64),
        {"version": None, "management.addon": False},
        ["Version:          unknown: the image is pinned by digest only"],
    ),
    (
        "latest",
        _image(f"{REPO}:latest"),
        {"version": None},
        ['Version:          unknown: the image tag is "latest", which names no version'],
    ),
    (
        "helm-secrets",
        _helm,
        {"management.addon": True, "management.helmReleaseSecrets": [
            "sh.helm.release.v1.eniipamd.v1", "sh.helm.release.v1.eniipamd.v2"]},
        ["Managed by:       the eniipamd add-on: Helm release Secret "
         "sh.helm.release.v1.eniipamd.v1, sh.helm.release.v1.eniipamd.v2 in kube-system",
         "Note:             the eniipamd add-on is present: an update of the eniipamd add-on "
         "may revert"],
    ),
    (
        "no-scheduler",
        _no_scheduler,
        # the mode is what list, usage and doctor read (the claim API is served): still on
        {"staticIPMode": True, "ipScheduler": False},
        ["Static IP mode:   on (VpcIPClaim and VpcIP served; no tke-eni-ip-scheduler "
         "Deployment: see kubectl vip doctor)"],
    ),
    (
        "no-configmap",
        _no_configmap,
        {"subnets": None, "vpcID": None},
        ["Subnets:          unknown (no ConfigMap kube-system/tke-eni-ipamd)"],
    ),
    (
        "flags-set",
        _args(["--v=3", "--claim-expired-duration=90m", "--enable-ownerref"]),
        {"flags.expiry": "1h30m0s", "flags.cascade": True},
        ["Expiry:           1h30m", "Cascade:          on", "Other flags:      --v=3"],
    ),
    (
        "expiry-unset",
        _args(["--v=3"]),
        {"flags.expiry": "never", "flags.expiryRaw": None},
        ["Expiry:           never (flag not set)"],
    ),
    (
        "expiry-invalid",
        _args(["--claim-expired-duration=banana"]),
        {"flags.expiryInvalid": True, "flags.expiry": "banana"},
        ['Expiry:           invalid ("banana")'],
    ),
]  # fmt: skip


def _get(doc: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc[part]
    return doc


@pytest.mark.parametrize(
    ("setup", "want", "lines"), [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS]
)
def test_config_variants(
    sandbox: Sandbox,
    vip: Runner,
    setup: Callable[[Sandbox], None],
    want: dict[str, Any],
    lines: list[str],
) -> None:
    setup(sandbox)
    r = vip("config", "-o", "json")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    for key, value in want.items():
        assert _get(doc, key) == value, key
    text = vip("config").stdout.splitlines()
    for line in lines:
        assert any(t.startswith(line) for t in text), (line, text)


def test_config_warns_about_an_invalid_flag(sandbox: Sandbox, vip: Runner) -> None:
    _args(["--claim-expired-duration=banana", "--enable-ownerref", "--enable-ownerref"])(sandbox)
    r = vip("config")
    assert r.code == 0
    assert 'Warning: --claim-expired-duration has an invalid value "banana"' in r.stderr
    assert "repeated flags (the last one wins): --enable-ownerref" in r.stderr


def test_helm_secrets_listed_by_label_and_data_never_shown(sandbox: Sandbox, vip: Runner) -> None:
    _helm(sandbox)
    sandbox.controls.clear_log()
    r = vip("config", "-o", "json")
    assert r.code == 0
    secret_reqs = [q for q in sandbox.controls.resource_requests() if q.resource == "secrets"]
    assert [(q.verb, q.namespace) for q in secret_reqs] == [("list", "kube-system")]
    assert secret_reqs[0].query["labelSelector"] == "owner=helm,name=eniipamd"
    assert "c2VjcmV0" not in r.stdout and "release" not in json.loads(r.stdout)["management"]


def test_secrets_forbidden_is_a_warning(sandbox: Sandbox, tmp_path: Path) -> None:
    no_secrets = User(
        "no-secrets",
        [Rule(READ_ONLY_VERBS, frozenset({"deployments", "configmaps", "namespaces"}))],
    )
    sandbox.controls.add_user("no-secrets-token", no_secrets)
    cfg = sandbox.kubeconfig()
    cfg["users"][0]["user"]["token"] = "no-secrets-token"
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(cfg))
    r = run_vip("config", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert "Warning: cannot list Secrets in kube-system" in r.stderr
    assert "Helm release Secrets could not be listed" in r.stdout


def test_config_help(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_vip("config", "--help")
    text = r.stdout + capsys.readouterr().out
    assert r.code == 0
    assert text.splitlines()[2].strip().startswith("Show how tke-eni-ipamd is configured")
    assert "-o, --output" in text
    assert len([ln for ln in text.splitlines() if ln.strip().startswith("kubectl vip config")]) == 2


# ----------------------------------------------------------------------- the pure view

LINES: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("static-unknown", {"static_ip_mode": None}, ("Static IP mode", "unknown (API discovery")),
    ("static-off", {"static_ip_mode": False},
     ("Static IP mode", "off: this cluster does not serve networking.tke.cloud.tencent.com")),
    ("no-subnets", {"subnets": []}, ("Subnets", "none configured")),
    ("flags-unreadable", {"flags": None, "flags_problem": "started through a shell"},
     ("Flags", "unreadable: started through a shell")),
    ("no-vpc", {"vpc_id": None}, ("VPC", "-")),
]  # fmt: skip


def _view(**kw: Any) -> settings.ConfigView:
    base: dict[str, Any] = {
        "image": "r/tke-eni-ipamd:v3.4.2",
        "version": ipamd.Version(3, 4, 2),
        "container": "tke-eni-ipamd",
        "replicas": settings.Replicas(1, 1, 1, 1),
        "mgmt": settings.management(ipamd.Version(3, 4, 2), []),
        "static_ip_mode": True,
        "flags": ipamd.read_flags({"args": ["--v=3"]}),
        "flags_problem": None,
        "subnets": ["subnet-1"],
        "vpc_id": "vpc-1",
    }
    base.update(kw)
    return settings.ConfigView(**base)


@pytest.mark.parametrize(("kw", "row"), [x[1:] for x in LINES], ids=[x[0] for x in LINES])
def test_config_lines(kw: dict[str, Any], row: tuple[str, str]) -> None:
    rows = dict(settings.config_lines(_view(**kw)))
    assert rows[row[0]].startswith(row[1])


SUBNETS: list[tuple[str, Obj | None, tuple[list[str] | None, str | None]]] = [
    ("missing", None, (None, None)),
    ("empty", {"data": {}}, ([], None)),
    ("colons", {"data": {"TKE_ENI_IPAMD_SUBNET_ID": "a::b:", "TKE_ENI_IPAMD_VPC_ID": "v"}},
     (["a", "b"], "v")),
]  # fmt: skip


@pytest.mark.parametrize(("cm", "want"), [s[1:] for s in SUBNETS], ids=[s[0] for s in SUBNETS])
def test_subnets_of(cm: Obj | None, want: tuple[list[str] | None, str | None]) -> None:
    assert settings.subnets_of(cm) == want


def test_replicas_of_defaults() -> None:
    assert settings.replicas_of({}) == settings.Replicas(1, 0, 0, 0)
    assert settings.replicas_of({"spec": {"replicas": 0}}) == settings.Replicas(0, 0, 0, 0)
