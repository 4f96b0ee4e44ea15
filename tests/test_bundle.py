"""`kubectl vip bundle` end to end on the sandbox: members and manifest, nothing secret inside
(Secret data, env values, last-applied copies), the Events window, the size cap, partial
bundles that say what they lack, stdout; and the pure scrubbing and size parsing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.ops import bundle as bd
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault

from .conftest import Result, make_sandbox, run_vip

Obj = dict[str, Any]
SENTINEL = "s3ntinel-Value-42"
SENTINEL_B64 = "czNudGluZWwtVmFsdWUtNDI="

MEMBERS = [
    "manifest.json",
    "cluster/version.json",
    "kubectl-vip/config.json",
    "kubectl-vip/doctor.json",
    "kube-system/deployments.json",
    "kube-system/daemonsets.json",
    "kube-system/pods.json",
    "kube-system/configmap-tke-eni-ipamd.json",
    "kube-system/helm-release-secrets.json",
    "nodes.json",
    "tke/nodeeniconfigs.json",
    "events.json",
    "tke/vpcips.json",
    "tke/vpcipclaims.json",
    "tke/vpcenis.json",
    "tke/crds.json",
]


def read_bundle(path: Path | bytes) -> dict[str, bytes]:
    """Archive members by path below the top directory."""
    fileobj = io.BytesIO(path) if isinstance(path, bytes) else path.open("rb")
    with fileobj, tarfile.open(fileobj=fileobj, mode="r:gz") as tar:
        out = {}
        tops = set()
        for m in tar.getmembers():
            top, _, rest = m.name.partition("/")
            tops.add(top)
            f = tar.extractfile(m)
            assert f is not None
            out[rest] = f.read()
    assert len(tops) == 1
    return out


def manifest(members: dict[str, bytes]) -> Obj:
    doc: Obj = json.loads(members["manifest.json"])
    return doc


def collectors(members: dict[str, bytes]) -> dict[str, Obj]:
    return {c["name"]: c for c in manifest(members)["collectors"]}


def bundle(kc: Path, out: Path, *args: str, context: str | None = None) -> Result:
    argv = ["--context", context] if context else []
    return run_vip(*argv, "bundle", "-o", str(out), *args, kubeconfig=kc)


def _plant_secrets(sb: Sandbox) -> None:
    """Secret data, env values and a last-applied copy that must never reach the bundle."""
    t = sb.world.t
    sb.store.create(
        t.secrets,
        "kube-system",
        {
            "metadata": {
                "name": "sh.helm.release.v1.eniipamd.v1",
                "labels": {"owner": "helm", "name": "eniipamd"},
            },
            "data": {"release": SENTINEL_B64},
        },
    )
    sb.store.create(
        t.secrets, "kube-system", {"metadata": {"name": "tke-token"}, "data": {"t": SENTINEL_B64}}
    )

    def add_env(obj: Obj) -> None:
        spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
        for c in spec["containers"]:
            c["env"] = [
                {"name": "TENCENTCLOUD_SECRET_KEY", "value": SENTINEL},
                {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "k", "key": "v"}}},
            ]
            c["envFrom"] = [{"secretRef": {"name": "ipamd-credentials"}, "prefix": "TC_"}]
        obj["metadata"].setdefault("annotations", {})[bd.LAST_APPLIED] = json.dumps(
            {"env": SENTINEL}
        )

    sb.store.mutate(t.deployments, "kube-system", "tke-eni-ipamd", add_env)
    sb.store.mutate(t.daemonsets, "kube-system", "tke-eni-agent", add_env)
    sb.store.mutate(t.pods, "kube-system", ipamd_pod(sb), add_env)


def ipamd_pod(sb: Sandbox) -> str:
    """The name of the sandbox's one tke-eni-ipamd Pod."""
    (name,) = [
        p["metadata"]["name"]
        for p in sb.store.objects(sb.world.t.pods, "kube-system")
        if p["metadata"]["name"].startswith("tke-eni-ipamd-")
    ]
    return str(name)


def test_demo_bundle(sandbox: Sandbox, tmp_path: Path) -> None:
    _plant_secrets(sandbox)
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    r = bundle(kc, out, "--since", "48h")
    assert r.code == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.startswith(f"Wrote {out}: ") and "16 files" in r.stdout
    members = read_bundle(out)
    assert list(members) == MEMBERS
    m = manifest(members)
    assert m["kind"] == "BundleManifest" and m["complete"] is True and m["since"] == "48h"
    assert all(c["status"] == "ok" for c in m["collectors"])
    assert {c["file"] for c in m["collectors"]} == set(MEMBERS) - {"manifest.json"}

    # nothing secret, in any member
    for path, data in members.items():
        assert SENTINEL.encode() not in data, path
        assert SENTINEL_B64.encode() not in data, path
        assert b'"kind": "Secret"' not in data, path
        assert b"managedFields" not in data, path
        assert bd.LAST_APPLIED.encode() not in data, path
    deps = json.loads(members["kube-system/deployments.json"])["items"]
    assert {d["metadata"]["name"] for d in deps} == {"tke-eni-ipamd", "tke-eni-ip-scheduler"}
    (ipamd,) = [d for d in deps if d["metadata"]["name"] == "tke-eni-ipamd"]
    container = ipamd["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "TENCENTCLOUD_SECRET_KEY"}, {"name": "FROM_SECRET"}]
    assert container["envFrom"] == [{"prefix": "TC_", "secretRef": {"name": "ipamd-credentials"}}]
    assert "--claim-expired-duration" in container["args"]  # the flags support needs stay
    helm = json.loads(members["kube-system/helm-release-secrets.json"])
    assert helm == {"names": ["sh.helm.release.v1.eniipamd.v1"]}

    # what support reads
    nodes = json.loads(members["nodes.json"])["items"]
    node_d = next(n for n in nodes if n["name"] == "node-d")
    assert node_d["zone"] == "ap-guangzhou-7"
    assert node_d["allocatable"]["tke.cloud.tencent.com/eni-ip"] == "0"
    assert node_d["taints"][0]["key"] == "tke.cloud.tencent.com/eni-ip-unavailable"
    doctor = json.loads(members["kubectl-vip/doctor.json"])
    assert doctor["kind"] == "DoctorReport" and doctor["summary"]["error"] >= 1
    config = json.loads(members["kubectl-vip/config.json"])
    assert config["kind"] == "IpamdConfig" and config["version"] == "v3.4.2"
    events = json.loads(members["events.json"])["items"]
    reasons = {e["reason"] for e in events}
    assert {"ENILimit", "FailedScheduling"} <= reasons  # Node/default and Pod/web
    assert collectors(members)["events"]["reason"].endswith("Events seen in the last 48h")
    claims = json.loads(members["tke/vpcipclaims.json"])["items"]
    assert len(claims) == 23


def test_events_window_defaults_to_an_hour(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    sandbox.advance(timedelta(minutes=1))
    r = bundle(kc, tmp_path / "b.tar.gz")
    assert r.code == 0
    members = read_bundle(tmp_path / "b.tar.gz")
    events = json.loads(members["events.json"])["items"]
    assert events == []  # the demo's newest Events are two hours old
    assert collectors(members)["events"]["reason"].startswith("0 of ")


def test_default_name_in_current_directory(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    r = run_vip("bundle", kubeconfig=kc)
    assert r.code == 0, r.stderr
    (made,) = os.listdir(work)
    assert made == "kubectl-vip-bundle-cls-sandbox1-20261120T120000Z.tar.gz"
    members = read_bundle(work / made)
    assert "manifest.json" in members
    assert f"Wrote {work / made}: " in r.stdout


def test_size_cap(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    cap = 48 * 1024
    r = bundle(kc, out, "--max-size", "48Ki", "--since", "48h")
    assert r.code == 1, r.stderr  # written, but not whole: the exit status says so
    assert "--max-size 48Ki left out or cut" in r.stderr and "raise --max-size" in r.stderr
    members = read_bundle(out)
    assert sum(len(b) for b in members.values()) <= cap
    assert out.stat().st_size <= cap
    m = manifest(members)
    assert m["maxSize"] == cap and m["complete"] is False
    cut = [c for c in m["collectors"] if c["status"] in ("truncated", "skipped")]
    assert {c["status"] for c in cut} == {"truncated", "skipped"}, m["collectors"]
    for c in cut:
        assert "size cap" in c["reason"]
        if c["status"] == "truncated":
            kept = json.loads(members[c["file"]])["items"]
            assert 0 < len(kept) < c["items"]
    assert "Warning: " in r.stderr and "size cap" in r.stderr


def test_partial_bundle_says_what_it_lacks(sandbox: Sandbox, tmp_path: Path) -> None:
    for resource in ("vpcenis", "secrets"):
        sandbox.controls.inject(
            Fault(verb="list", resource=resource, code=403, reason="Forbidden", times=-1)
        )
    sandbox.controls.inject(Fault(verb="list", resource="nodes", code=500, times=-1))
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    r = bundle(kc, out, context="vip-sandbox-readonly")
    assert r.code == 1, r.stderr  # the nodes read failed: partly failed
    members = read_bundle(out)
    by = collectors(members)
    assert by["vpcenis"]["status"] == "forbidden" and by["vpcenis"]["file"] is None
    assert by["helm-release-secrets"]["status"] == "forbidden"
    assert by["nodes"]["status"] == "failed"
    assert by["vpcipclaims"]["status"] == "ok"
    assert "tke/vpcenis.json" not in members and "nodes.json" not in members
    assert manifest(members)["complete"] is False
    assert "Warning: vpcenis: forbidden" in r.stderr


def test_bundle_without_tke_crds(tmp_path: Path) -> None:
    sb = make_sandbox("empty", tke=False)
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        out = tmp_path / "b.tar.gz"
        r = bundle(kc, out)
        assert r.code == 0, r.stderr
        by = collectors(read_bundle(out))
        assert by["vpcipclaims"]["status"] == "not-served"
        assert by["doctor"]["status"] == "failed" and "not a TKE VPC-CNI" in by["doctor"]["reason"]
    finally:
        sb.stop()


def test_stdout(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    p = subprocess.run(
        [sys.executable, "-m", "kubectl_vip", "--kubeconfig", str(kc), "bundle", "-o", "-"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode().startswith("Wrote stdout: ")
    assert list(read_bundle(p.stdout)) == MEMBERS


def test_unwritable_path(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = bundle(kc, tmp_path / "no" / "such" / "dir.tgz")
    assert r.code == 1 and "cannot write" in r.stderr


def test_stdout_needs_a_binary_stream(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = run_vip("bundle", "-o", "-", kubeconfig=kc)  # captured text streams
    assert r.code == 2 and "refusing to write a binary archive" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "soon"), "invalid --since"),
        (("--max-size", "lots"), "invalid --max-size"),
        (("--max-size", "1K"), "at least 4Ki"),
    ],
)
def test_usage_errors(
    sandbox: Sandbox, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    sandbox.controls.clear_log()
    r = bundle(kc, tmp_path / "b.tar.gz", *args)
    assert r.code == 2 and message in r.stderr
    assert sandbox.controls.resource_requests() == []
    assert not (tmp_path / "b.tar.gz").exists()


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_vip("bundle", "--help")
    text = r.stdout + capsys.readouterr().out
    assert r.code == 0
    assert text.splitlines()[2].strip().startswith("Collect what a support ticket needs")
    for flag in ("--since", "--max-size", "-o, --output"):
        assert flag in text
    examples = [ln for ln in text.splitlines() if ln.strip().startswith("kubectl vip bundle")]
    assert len(examples) == 3  # the last: --shapes


# --- pure ---------------------------------------------------------------------------------------


def test_scrub() -> None:
    obj = {
        "kind": "Pod",
        "metadata": {
            "name": "p",
            "managedFields": [{"manager": "x"}],
            "annotations": {bd.LAST_APPLIED: "{}", "keep": "me"},
        },
        "spec": {
            "initContainers": [{"name": "i", "env": [{"name": "A", "value": "1"}]}],
            "containers": [
                {
                    "name": "c",
                    "env": [{"name": "B", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
                    "envFrom": [{"configMapRef": {"name": "cm", "optional": True}}],
                }
            ],
        },
    }
    assert bd.scrub(obj) == {
        "kind": "Pod",
        "metadata": {"name": "p", "annotations": {"keep": "me"}},
        "spec": {
            "initContainers": [{"name": "i", "env": [{"name": "A"}]}],
            "containers": [
                {"name": "c", "env": [{"name": "B"}], "envFrom": [{"configMapRef": {"name": "cm"}}]}
            ],
        },
    }
    assert obj["metadata"]["managedFields"]  # the input is left alone


@pytest.mark.parametrize(
    ("text", "size"),
    [("4096", 4096), ("500K", 500_000), ("20Mi", 20 * 1024**2), ("1Gi", 1024**3), ("2M", 2e6)],
)
def test_parse_size(text: str, size: int) -> None:
    assert bd.parse_size(text) == size


def test_list_truncation_is_valid_json() -> None:
    items = [{"i": i, "pad": "x" * 50} for i in range(100)]
    data, kept = bd._list_bytes(items, 1000)
    assert len(data) <= 1000 and 0 < kept < 100
    assert json.loads(data)["items"] == items[:kept]
    data, kept = bd._list_bytes(items, 10)
    assert kept == 0 and json.loads(data)["items"] == []
