"""Bundles are redacted by value pattern as well as by field name: secret-looking annotations,
ipamd ConfigMap keys and flags keep their names with `<redacted>` values; manifest.json lists
each redaction; no planted value is anywhere in the archive (every member, decompressed)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.ops import bundle as bd
from kubectl_vip.sandbox import Sandbox

from .conftest import run_vip
from .test_bundle import ipamd_pod, manifest, read_bundle

Obj = dict[str, Any]

PLANTED = {
    "cm-key": "pl4nted-CM-secret-key",
    "cm-token": "pl4nted-cm-Token",
    "annotation": "pl4nted-annotation-pw",
    "pod-annotation": "pl4nted-pod-annotation",
    "flag-eq": "pl4nted-flag-equals",
    "flag-split": "pl4nted-flag-split",
    "flag-cred": "pl4nted-credential-file",
    "command": "pl4nted-command-token",
    "event": "pl4nted-event-token",
}


def _plant(sb: Sandbox) -> None:
    t = sb.world.t

    def cm(obj: Obj) -> None:
        obj["data"]["TENCENTCLOUD_SECRET_KEY"] = PLANTED["cm-key"]
        obj["data"]["apiToken"] = PLANTED["cm-token"]

    def deploy(obj: Obj) -> None:
        obj["metadata"].setdefault("annotations", {})["example.com/DB-Password"] = PLANTED[
            "annotation"
        ]
        spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
        c = spec["containers"][0]
        c["args"] = [
            *c.get("args", []),
            f"--secret-key={PLANTED['flag-eq']}",
            "--password",
            PLANTED["flag-split"],
            f"-credential-file={PLANTED['flag-cred']}",
            "--api-token",  # a secret flag alone takes the next item, whatever it looks like
            "--enable-ownerref=false",
        ]
        c["command"] = [*c.get("command", []), "--token", PLANTED["command"]]

    sb.store.mutate(t.configmaps, "kube-system", "tke-eni-ipamd", cm)
    sb.store.mutate(t.deployments, "kube-system", "tke-eni-ipamd", deploy)
    pod = ipamd_pod(sb)
    sb.store.mutate(t.pods, "kube-system", pod, deploy)

    def annotate(obj: Obj) -> None:
        obj["metadata"].setdefault("annotations", {})["vendor/access_key"] = PLANTED[
            "pod-annotation"
        ]

    claim = next(iter(sb.store.objects(sb.world.t.claims, "db")))["metadata"]["name"]
    sb.store.mutate(sb.world.t.claims, "db", claim, annotate)
    now = sb.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    sb.store.create(
        t.events,
        "kube-system",
        {
            "metadata": {"name": "ipamd-restart.1"},
            "involvedObject": {"kind": "Pod", "namespace": "kube-system", "name": pod},
            "reason": "Started",
            "message": f"started with --auth-token={PLANTED['event']} --v=4",
            "type": "Normal",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        },
    )


def test_whole_archive_holds_no_planted_value(sandbox: Sandbox, tmp_path: Path) -> None:
    _plant(sandbox)
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    r = run_vip("bundle", "-o", str(out), "--since", "48h", kubeconfig=kc)
    assert r.code == 0, r.stderr
    raw = gzip.decompress(out.read_bytes())  # the tar stream: every header and member
    members = read_bundle(out)
    for what, value in PLANTED.items():
        assert value.encode() not in raw, what
        for path, data in members.items():
            assert value.encode() not in data, (what, path)

    deps = json.loads(members["kube-system/deployments.json"])["items"]
    (ipamd,) = [d for d in deps if d["metadata"]["name"] == "tke-eni-ipamd"]
    c = ipamd["spec"]["template"]["spec"]["containers"][0]
    args = c["args"]
    assert "--secret-key=<redacted>" in args
    i = args.index("--password")
    assert args[i + 1] == "<redacted>"
    assert "-credential-file=<redacted>" in args
    # Go's flag packages give a non-boolean flag the next argument whatever it starts with
    assert args[-2:] == ["--api-token", "<redacted>"]
    assert any(a.startswith("--claim-expired-duration") for a in args)  # support still sees it
    assert c["command"][-2:] == ["--token", "<redacted>"]
    assert ipamd["metadata"]["annotations"]["example.com/DB-Password"] == "<redacted>"
    cm = json.loads(members["kube-system/configmap-tke-eni-ipamd.json"])
    assert cm["data"]["TENCENTCLOUD_SECRET_KEY"] == "<redacted>"
    assert cm["data"]["apiToken"] == "<redacted>"
    assert cm["data"]["TKE_ENI_IPAMD_VPC_ID"].startswith("vpc-")  # ordinary keys untouched
    config = json.loads(members["kubectl-vip/config.json"])
    assert "--secret-key=<redacted>" in config["flags"]["otherArgs"]
    events = json.loads(members["events.json"])["items"]
    (ev,) = [e for e in events if e["metadata"]["name"] == "ipamd-restart.1"]
    assert ev["message"] == "started with --auth-token=<redacted> --v=4"

    listed = manifest(members)["redacted"]
    assert manifest(members)["redactedTotal"] == len(listed)
    assert all(set(e) == {"file", "object", "field"} for e in listed)
    deploy_fields = {
        e["field"]
        for e in listed
        if e["file"] == "kube-system/deployments.json"
        and e["object"] == "Deployment kube-system/tke-eni-ipamd"
    }
    assert "metadata.annotations.example.com/DB-Password" in deploy_fields
    assert f"spec.template.spec.containers[0].args[{i + 1}]" in deploy_fields
    cm_fields = {
        e["field"] for e in listed if e["file"] == "kube-system/configmap-tke-eni-ipamd.json"
    }
    assert {"data.TENCENTCLOUD_SECRET_KEY", "data.apiToken"} <= cm_fields
    assert any(
        e["file"] == "tke/vpcipclaims.json"
        and e["field"] == "metadata.annotations.vendor/access_key"
        for e in listed
    )
    assert any(e["file"] == "kubectl-vip/config.json" for e in listed)


def test_many_redactions_are_counted_not_all_listed(sandbox: Sandbox, tmp_path: Path) -> None:
    def annotate(obj: Obj) -> None:
        notes = obj["metadata"].setdefault("annotations", {})
        for k in range(5):
            notes[f"vendor/api-token-{k}"] = f"tok-{k}-" + "x" * 20

    t = sandbox.world.t.claims
    claims = list(sandbox.store.objects(t))
    assert len(claims) * 5 > bd.MAX_LISTED_REDACTIONS
    for c in claims:
        sandbox.store.mutate(t, c["metadata"]["namespace"], c["metadata"]["name"], annotate)
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    assert run_vip("bundle", "-o", str(out), kubeconfig=kc).code == 0
    m = manifest(read_bundle(out))
    assert len(m["redacted"]) == bd.MAX_LISTED_REDACTIONS
    assert m["redactedTotal"] >= len(claims) * 5
    assert m["complete"] is True


@pytest.mark.parametrize(
    ("args", "want"),
    [
        (["--secret-key=abc123"], ["--secret-key=<redacted>"]),
        (["--password", "abc123", "--v=2"], ["--password", "<redacted>", "--v=2"]),
        (["--PASSWORD=", "x"], ["--PASSWORD=", "x"]),  # empty value: nothing to hide
        (["--token"], ["--token"]),
        (["--use-key", "--other"], ["--use-key", "<redacted>"]),  # the next item, whatever
        (["-client_secret=zz"], ["-client_secret=<redacted>"]),
        (["--cluster-id=cls-1", "--claim-expired-duration", "1h"], None),
        (["run --credential=xyz now"], ["run --credential=<redacted> now"]),
    ],
    ids=["equals", "split", "empty", "last", "flag-follows", "single-dash", "ordinary", "text"],
)
def test_scrub_flags(args: list[str], want: list[str] | None) -> None:
    red = bd.Redactions()
    got = bd.scrub({"spec": {"containers": [{"name": "c", "args": args}]}}, red, file="f")
    assert got["spec"]["containers"][0]["args"] == (args if want is None else want)
    assert len(red.entries) == sum("<redacted>" in a for a in want or [])
    for e in red.entries:
        assert e["field"].startswith("spec.containers[0].args[")
