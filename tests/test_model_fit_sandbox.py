"""The model fit through the real kubectl, on sandboxes whose CRDs and objects follow each shape
of DESIGN §2: doctor VIP-CRD-002's per-path counts equal a count of the objects made here (by
this file's own reading of the paths, not the tool's), its severity fits the shape, and the
note of `list` appears only where a needed path is unknown for most objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import Runner, make_sandbox

TKE = "networking.tke.cloud.tencent.com"
P = "tke.cloud.tencent.com/"
Obj = dict[str, Any]

# per fact as doctor names it: its ways, in order, each as printed and the paths it needs
WAYS: dict[str, list[tuple[str, list[tuple[str, ...]]]]] = {
    "VpcIPClaim IP": [
        ("status.ip", [("status", "ip")]),
        ("status.vpcIP", [("status", "vpcIP")]),
        ("spec.ip", [("spec", "ip")]),
    ],
    "VpcIPClaim release time": [
        ("status.releaseTime", [("status", "releaseTime")]),
        ("status.lastDetachTime", [("status", "lastDetachTime")]),
    ],
    "VpcIP claim reference": [
        (
            "spec.claimRef.namespace + spec.claimRef.name",
            [("spec", "claimRef", "namespace"), ("spec", "claimRef", "name")],
        ),
        (
            f"label {P}pod-namespace + label {P}pod-name",
            [("metadata", "labels", P + "pod-namespace"), ("metadata", "labels", P + "pod-name")],
        ),
    ],
    "VpcIP node": [
        (f"label {P}node-name", [("metadata", "labels", P + "node-name")]),
        ("status.node", [("status", "node")]),
    ],
}


@pytest.fixture(params=["demo", "shape-alt-paths", "shape-no-release-time", "shape-v2"])
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    sb = make_sandbox(request.param)
    yield sb
    sb.stop()


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        obj = obj.get(k) if isinstance(obj, dict) else None
    return obj


def direct_counts(kubectl: Runner) -> dict[str, dict[str, int]]:
    """Per fact, in how many objects each way is the first one present."""
    items = {
        "VpcIPClaim": _items(kubectl, "vipc", "-A"),
        "VpcIP": _items(kubectl, "vip"),
    }
    out: dict[str, dict[str, int]] = {}
    for fact, ways in WAYS.items():
        counts = out[fact] = {}
        for obj in items[fact.split(" ", 1)[0]]:
            for text, paths in ways:
                if all(_at(obj, p) not in (None, "", {}, []) for p in paths):
                    counts[text] = counts.get(text, 0) + 1
                    break
    return out


def _items(kubectl: Runner, *what: str) -> list[Obj]:
    r = kubectl("get", *what, "-o", "json")
    assert r.code == 0, r.stderr
    return list(json.loads(r.stdout)["items"])


def reported_counts(details: list[str]) -> dict[str, dict[str, int]]:
    """doctor's detail lines `VpcIPClaim IP: status.ip in 20, spec.ip in 3; unknown for ...`."""
    out: dict[str, dict[str, int]] = {}
    for line in details:
        fact, sep, rest = line.partition(": ")
        if fact not in WAYS or not sep:
            continue
        counts = out[fact] = {}
        for part in rest.split("; ")[0].split(", "):
            if part != "no path present":
                text, n = part.rsplit(" in ", 1)
                counts[text] = int(n.replace(",", ""))
    return out


def doctor(kubectl: Runner) -> Obj:
    r = kubectl("vip", "doctor", "--check", "VIP-CRD-002", "-o", "json")
    assert r.code == 0, r.stderr
    return dict(json.loads(r.stdout))


def test_doctor_counts_each_path_as_the_objects_have_it(
    sandbox: Sandbox, kubectl: Runner, tmp_path: Any
) -> None:
    report = doctor(kubectl)
    expected = direct_counts(kubectl)
    (check,) = report["checks"]
    if sandbox.scenario == "demo":  # fits as modelled: no finding, the counts in the shapes
        assert check["status"] == "ok" and report["findings"] == []
    else:
        (finding,) = report["findings"]
        assert reported_counts(finding["details"]) == expected
    # the same counts in the file a user sends (bundle --shapes), for every scenario
    path = tmp_path / "shapes.json"
    assert kubectl("vip", "bundle", "--shapes", "-o", str(path)).code == 0
    fit = json.loads(path.read_text())["fit"]
    keys = {
        "VpcIPClaim IP": ("VpcIPClaim", "claim.ip"),
        "VpcIPClaim release time": ("VpcIPClaim", "claim.releaseTime"),
        "VpcIP claim reference": ("VpcIP", "vip.claimRef"),
        "VpcIP node": ("VpcIP", "vip.node"),
    }
    for fact, (kind, key) in keys.items():
        paths = fit[kind]["fields"][key]["paths"]
        assert {p: n for p, n in paths.items() if n} == expected[fact], fact


def _released_without_pod(kubectl: Runner) -> int:
    pods = {
        (p["metadata"]["namespace"], p["metadata"]["name"]) for p in _items(kubectl, "pods", "-A")
    }
    return sum(
        1
        for c in _items(kubectl, "vipc", "-A")
        if (c["metadata"]["namespace"], c["metadata"]["name"]) not in pods
    )


def test_severity_and_words_fit_the_shape(sandbox: Sandbox, kubectl: Runner) -> None:
    report = doctor(kubectl)
    findings = report["findings"]
    text = json.dumps(findings)
    if sandbox.scenario == "demo":
        assert findings == []
        return
    (f,) = findings
    if sandbox.scenario == "shape-no-release-time":
        n = _released_without_pod(kubectl)
        assert n == 6
        assert f["severity"] == "warning"
        assert f["title"] == (
            f"The model does not fit: release time unknown for {n} of {n} claims without a Pod"
        )
        assert "VpcIPClaim schema v1 declares no path of its release time" in f["evidence"]
    elif sandbox.scenario == "shape-alt-paths":
        assert f["severity"] == "info"
        for path in ("status.vpcIP", "status.lastDetachTime", f"label {P}pod-name", "status.node"):
            assert f"read from {path}" in text or f"+ {path}" in text, path
    else:
        assert f["severity"] == "info"
        assert report["metadata"]["tke"]["version"] == "v2"  # the preferred version
        assert "VpcIPClaim: also v1 beside v2 (the version read)" in f["evidence"]
        # every kind by its name, VpcENI too (the tool reads none of its fields)
        assert "VpcENI: also v1 beside v2 (the version read)" in f["evidence"], f["evidence"]


def test_the_list_note_appears_only_where_a_needed_path_is_unknown(
    sandbox: Sandbox, kubectl: Runner
) -> None:
    r = kubectl("vip", "list", "-A")
    assert r.code == 0, r.stderr
    notes = [ln for ln in r.stderr.splitlines() if "VIP-CRD-002" in ln]
    if sandbox.scenario == "shape-no-release-time":
        assert len(notes) == 1, r.stderr
        assert "release time unknown for 6 of 6 claims without a Pod" in notes[0]
    else:
        assert notes == [], r.stderr


def _declares(schema: Obj, path: list[str]) -> bool:
    node: Any = schema
    for key in path:
        if node.get("x-kubernetes-preserve-unknown-fields"):
            return True
        if key == "[]":
            node = node.get("items")
        elif key in (node.get("properties") or {}):
            node = node["properties"][key]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return False
        if not isinstance(node, dict):
            return False
    return True


def _leaves(obj: Any, path: list[str]) -> Iterator[list[str]]:
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            yield from _leaves(v, [*path, k])
    elif isinstance(obj, list) and obj:
        for v in obj:
            yield from _leaves(v, [*path, "[]"])
    else:
        yield path


def test_crds_are_served_and_declare_what_the_objects_carry(
    sandbox: Sandbox, kubectl: Runner
) -> None:
    table = kubectl("get", "crd")
    assert table.code == 0, table.stderr
    assert table.lines[0].split() == ["NAME", "CREATED", "AT"]
    names = [ln.split()[0] for ln in table.lines[1:]]
    plurals = ("vpcipclaims", "vpcips", "nodeeniconfigs", "vpcenis")
    assert sorted(names) == sorted(f"{p}.{TKE}" for p in plurals)
    versions = ["v1", "v2"] if sandbox.scenario == "shape-v2" else ["v1"]
    for plural, short in zip(plurals, ("vipc", "vip", "nec", "veni"), strict=True):
        r = kubectl("get", "crd", f"{plural}.{TKE}", "-o", "json")
        crd = json.loads(r.stdout)
        spec = crd["spec"]
        assert spec["names"]["plural"] == plural and short in spec["names"]["shortNames"]
        assert [v["name"] for v in spec["versions"]] == versions
        assert [v["storage"] for v in spec["versions"]] == [True, False][: len(versions)]
        assert crd["status"]["storedVersions"] == ["v1"]
        established = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert established == {"NamesAccepted": "True", "Established": "True"}
        schema = spec["versions"][0]["schema"]["openAPIV3Schema"]
        objects = _items(kubectl, short, *(["-A"] if short == "vipc" else []))
        assert objects
        for obj in objects:
            assert obj["apiVersion"] == f"{TKE}/{versions[-1]}"  # the preferred version
            for part in ("spec", "status"):
                for leaf in _leaves(obj.get(part), [part]):
                    assert _declares(schema, leaf), (plural, leaf)
    release = ("releaseTime", "lastDetachTime")
    claim_crd = json.loads(kubectl("get", "crd", f"vpcipclaims.{TKE}", "-o", "json").stdout)
    status = claim_crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    declared = [k for k in release if k in status["properties"]]
    assert (
        declared
        == {
            "demo": ["releaseTime"],
            "shape-v2": ["releaseTime"],
            "shape-alt-paths": ["lastDetachTime"],
            "shape-no-release-time": [],
        }[sandbox.scenario]
    )
