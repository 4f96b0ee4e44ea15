"""The sandbox serves `apiextensions.k8s.io/v1` CustomResourceDefinitions as kube-apiserver
does, read-only; a kind served at a second version answers there with that apiVersion."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Rule, User

from .conftest import Runner, make_sandbox

TKE = "networking.tke.cloud.tencent.com"


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sb = make_sandbox(getattr(request, "param", "demo"))
    yield sb
    sb.stop()


def test_discovery_and_the_readonly_user(kubectl: Runner) -> None:
    r = kubectl("api-resources", "--api-group=apiextensions.k8s.io", "-o", "wide")
    assert r.code == 0, r.stderr
    (row,) = r.lines[1:]
    assert row.split()[:5] == [
        "customresourcedefinitions",
        "crd,crds",
        "apiextensions.k8s.io/v1",
        "false",
        "CustomResourceDefinition",
    ]
    assert row.split()[5:] == ["get,list,watch", "api-extensions"]
    viewer = kubectl("--context", "vip-sandbox-readonly", "get", "crd", "-o", "name")
    assert viewer.code == 0, viewer.stderr
    assert f"customresourcedefinition.apiextensions.k8s.io/vpcips.{TKE}" in viewer.lines


def test_a_crd_write_is_not_allowed_and_changes_nothing(kubectl: Runner) -> None:
    r = kubectl("delete", "crd", f"vpcips.{TKE}")
    assert r.code == 1
    assert "MethodNotAllowed" in r.stderr
    r = kubectl("label", "crd", f"vpcips.{TKE}", "a=b")
    assert "MethodNotAllowed" in r.stderr
    got = json.loads(kubectl("get", "crd", f"vpcips.{TKE}", "-o", "json").stdout)
    assert "labels" not in got["metadata"]
    assert kubectl("get", "vip").code == 0  # still served


def test_a_restricted_user_reads_no_crd(sandbox: Sandbox, kubectl: Runner) -> None:
    sandbox.controls.add_user(
        "few-token", User("few", [Rule(READ_ONLY_VERBS, frozenset({"pods"}))])
    )
    r = kubectl("--token", "few-token", "get", "crd")
    assert r.code == 1
    assert (
        'customresourcedefinitions.apiextensions.k8s.io is forbidden: User "few" cannot list '
        'resource "customresourcedefinitions" in API group "apiextensions.k8s.io" at the '
        "cluster scope"
    ) in r.stderr


@pytest.mark.parametrize("sandbox", ["owners"], indirect=True)
def test_workload_crds_declare_their_scale_subresource(kubectl: Runner) -> None:
    names = [ln.split()[0] for ln in kubectl("get", "crd").lines[1:]]
    assert "statefulsets.apps.kruise.io" in names and "tapps.apps.tkestack.io" in names
    for name, selector in (
        ("statefulsets.apps.kruise.io", ".status.labelSelector"),
        ("tapps.apps.tkestack.io", ".status.scaleLabelSelector"),
    ):
        crd = json.loads(kubectl("get", "crd", name, "-o", "json").stdout)
        (version,) = crd["spec"]["versions"]
        assert version["subresources"] == {
            "status": {},
            "scale": {
                "specReplicasPath": ".spec.replicas",
                "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": selector,
            },
        }
        assert crd["spec"]["scope"] == "Namespaced"


@pytest.mark.parametrize("sandbox", ["shape-v2"], indirect=True)
def test_a_second_served_version_is_preferred_and_both_answer(kubectl: Runner) -> None:
    group = json.loads(kubectl("get", "--raw", f"/apis/{TKE}").stdout)
    assert [v["version"] for v in group["versions"]] == ["v2", "v1"]  # kube-aware order
    assert group["preferredVersion"]["version"] == "v2"
    default = json.loads(kubectl("get", "vipc", "-n", "db", "mysql-0", "-o", "json").stdout)
    v1 = kubectl("get", f"vpcipclaims.v1.{TKE}", "-n", "db", "mysql-0", "-o", "json")
    stored = json.loads(v1.stdout)
    assert default["apiVersion"] == f"{TKE}/v2" and stored["apiVersion"] == f"{TKE}/v1"
    assert {**default, "apiVersion": ""} == {**stored, "apiVersion": ""}
    listed = json.loads(kubectl("get", "--raw", f"/apis/{TKE}/v2/vpcips").stdout)
    assert listed["apiVersion"] == f"{TKE}/v2"
    assert {i["apiVersion"] for i in listed["items"]} == {f"{TKE}/v2"}
    # a write at v2 is stored once, as v1, and read back at either version
    r = kubectl("annotate", "vipc", "-n", "db", "mysql-0", "note=seen")
    assert r.code == 0, r.stderr
    after = kubectl("get", f"vpcipclaims.v1.{TKE}", "-n", "db", "mysql-0", "-o", "json")
    again = json.loads(after.stdout)
    assert again["metadata"]["annotations"]["note"] == "seen"
    assert again["apiVersion"] == f"{TKE}/v1"
