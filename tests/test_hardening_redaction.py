"""Bundle redaction by value as well as by key: a secret planted in any of the shapes below
never appears in any member of the archive (every member decompressed, the tar stream too),
and manifest.json lists where it was taken out, never the value.

Shapes: a secret flag and its value inside one string (`--api-token V`), a URL's userinfo
(`--db-url=postgres://admin:V@db/x`, `mysql://root:V@host/db` in an annotation), a split flag
whose value starts with `-` (`--tencentcloud-secret-id`, `-V`), secret-named keys of YAML or
JSON documents embedded in a ConfigMap value or an annotation (`password: V`,
`{"password": "V"}`), `NAME=V` in a script."""

from __future__ import annotations

import gzip
import io
import json
import string
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_vip.ops import bundle as bd
from kubectl_vip.sandbox import Sandbox

from .conftest import run_vip
from .test_bundle import manifest, read_bundle

Obj = dict[str, Any]
NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=timezone.utc)

# what a password may hold and still be one token of each shape: no quote, backslash or
# blank (they end a token), and none of @ : / (they end a URL's userinfo)
ALPHABET = string.ascii_letters + string.digits + "-_.~+=!$*%^&#,;()[]{}?|<>"
SECRETS = st.text(ALPHABET, min_size=6, max_size=24).map(lambda s: "Zq" + s)


def _cm(data: dict[str, str], annotations: dict[str, str] | None = None) -> Obj:
    return {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {
            "name": "tke-eni-ipamd",
            "namespace": "kube-system",
            "annotations": annotations or {},
        },
        "data": {"TKE_ENI_IPAMD_VPC_ID": "vpc-1", **data},
    }


def _deploy(args: list[str], command: list[str] | None = None) -> Obj:
    container: Obj = {"name": "tke-eni-ipamd", "image": "ccr/tke-eni-ipamd:v3.6.0", "args": args}
    if command is not None:
        container["command"] = command
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }


def _claim(annotations: dict[str, str]) -> Obj:
    return {
        "kind": "VpcIPClaim",
        "metadata": {"name": "mysql-0", "namespace": "db", "annotations": annotations},
        "status": {"ip": "10.0.1.2"},
    }


def _event(message: str) -> Obj:
    return {
        "kind": "Event",
        "metadata": {"name": "ipamd.1", "namespace": "kube-system"},
        "involvedObject": {"kind": "Pod", "namespace": "kube-system", "name": "ipamd"},
        "reason": "Started",
        "message": message,
    }


# each shape: where the secret goes -> (path in the archive, the collected value)
SHAPES: dict[str, Callable[[str], tuple[str, Any]]] = {
    "args-string-flag-and-url": lambda v: (
        "kube-system/deployments.json",
        [
            _deploy(
                ["--v=2"],
                ["sh", "-c", f"exec ipamd --api-token {v} --db-url=postgres://admin:{v}@db/x"],
            )
        ],
    ),
    "split-flag-dash-value": lambda v: (
        "kube-system/deployments.json",
        [_deploy(["--tencentcloud-secret-id", f"-{v}", "--cluster-id=cls-1"])],
    ),
    "split-flag-value": lambda v: (
        "kube-system/deployments.json",
        [_deploy(["--password", v, "--cluster-id=cls-1"])],
    ),
    "flag-equals": lambda v: (
        "kube-system/deployments.json",
        [_deploy([f"--secret-key={v}"])],
    ),
    "url-in-annotation": lambda v: (
        "tke/vpcipclaims.json",
        [_claim({"example.com/backup-target": f"mysql://root:{v}@host/db"})],
    ),
    "json-in-annotation": lambda v: (
        "tke/vpcipclaims.json",
        [_claim({"example.com/config": json.dumps({"password": v})})],
    ),
    "yaml-in-annotation": lambda v: (
        "tke/vpcipclaims.json",
        [_claim({"example.com/config": f"user: app\npassword: {v}\n"})],
    ),
    "yaml-in-configmap": lambda v: (
        "kube-system/configmap-tke-eni-ipamd.json",
        _cm({"config.yaml": f"password: {v}"}),
    ),
    "nested-yaml-in-configmap": lambda v: (
        "kube-system/configmap-tke-eni-ipamd.json",
        _cm({"app.yaml": yaml.safe_dump({"db": {"host": "db", "connection": {"token": v}}})}),
    ),
    "block-scalar-in-configmap": lambda v: (
        "kube-system/configmap-tke-eni-ipamd.json",
        _cm({"app.yaml": f"db:\n  privateKey: |\n    {v}\n    {v[::-1]}\n  port: 5432\n"}),
    ),
    "json-in-configmap": lambda v: (
        "kube-system/configmap-tke-eni-ipamd.json",
        _cm({"app.json": json.dumps({"db": {"password": v, "port": 5432}})}),
    ),
    "list-under-secret-key": lambda v: (
        "kube-system/configmap-tke-eni-ipamd.json",
        _cm({"app.json": json.dumps({"tokens": [v]})}),
    ),
    "env-in-script": lambda v: (
        "kube-system/configmap-tke-eni-ipamd.json",
        _cm({"run.sh": f"#!/bin/sh\nexport DB_PASSWORD={v}\nexec app\n"}),
    ),
    "event-message": lambda v: (
        "events.json",
        [_event(f"restarted with --auth-token {v} --v=4")],
    ),
}


def archive(shape: str, secret: str) -> tuple[bytes, dict[str, bytes]]:
    """The tar stream and the members of a bundle of what the shape puts the secret in, made
    as `kubectl vip bundle` makes one (collect, scrub, sweep, pack, write)."""
    path, value = SHAPES[shape](secret)
    red = bd.Redactions()
    srcs = [bd.Source(path.split("/")[-1].split(".")[0], path, lambda: value, "planted")]
    # a document that quotes the secret elsewhere (as config.json quotes ipamd's args)
    srcs.append(bd.Source("config", "kubectl-vip/config.json", lambda: {"note": "see the archive"}))
    outcomes = bd.collect(srcs, red=red)
    b = bd.pack(
        outcomes,
        top="kubectl-vip-bundle-test",
        max_size=bd.DEFAULT_MAX_SIZE,
        meta={"server": "https://10.0.0.1", "context": "test"},
        now=NOW,
        red=red,
    )
    buf = io.BytesIO()
    bd.write_tar(b, buf, NOW)
    return gzip.decompress(buf.getvalue()), read_bundle(buf.getvalue())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(secret=SECRETS)
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPES.keys())
def test_a_planted_secret_never_reaches_the_archive(shape: str, secret: str) -> None:
    raw, members = archive(shape, secret)
    assert secret.encode() not in raw, shape
    for name, data in members.items():
        assert secret.encode() not in data, (shape, name)
        assert secret not in json.dumps(json.loads(data), ensure_ascii=False), (shape, name)
    listed = manifest(members)["redacted"]
    assert listed, "the manifest says what was taken out"
    assert all(set(e) == {"file", "object", "field"} for e in listed)


def test_what_stays_readable() -> None:
    """Redaction by value keeps the rest: the user in a URL, the flag names, the other keys."""
    _, members = archive("args-string-flag-and-url", "Zqsecret1")
    (dep,) = json.loads(members["kube-system/deployments.json"])["items"]
    cmd = dep["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert cmd == "exec ipamd --api-token <redacted> --db-url=postgres://admin:<redacted>@db/x"
    _, members = archive("nested-yaml-in-configmap", "Zqsecret2")
    cm = json.loads(members["kube-system/configmap-tke-eni-ipamd.json"])
    assert yaml.safe_load(cm["data"]["app.yaml"]) == {
        "db": {"host": "db", "connection": {"token": "<redacted>"}}
    }
    assert cm["data"]["TKE_ENI_IPAMD_VPC_ID"] == "vpc-1"
    fields = {e["field"] for e in manifest(members)["redacted"]}
    assert "data.app.yaml.db.connection.token" in fields
    _, members = archive("split-flag-dash-value", "Zqsecret3")
    (dep,) = json.loads(members["kube-system/deployments.json"])["items"]
    assert dep["spec"]["template"]["spec"]["containers"][0]["args"] == [
        "--tencentcloud-secret-id",
        "<redacted>",
        "--cluster-id=cls-1",
    ]


def test_the_whole_command_redacts_every_shape(sandbox: Sandbox, tmp_path: Path) -> None:
    """End to end through the sandbox: every shape at once, in the objects the bundle reads."""
    secret = "Zq-e2e-s3cret"
    t = sandbox.world.t

    def cm(obj: Obj) -> None:
        obj["data"]["config.yaml"] = f"user: app\npassword: {secret}1\n"
        obj["data"]["app.json"] = json.dumps({"db": {"password": f"{secret}2"}})

    def deploy(obj: Obj) -> None:
        spec = obj["spec"]["template"]["spec"] if "template" in obj["spec"] else obj["spec"]
        c = spec["containers"][0]
        c["args"] = [*c.get("args", []), "--tencentcloud-secret-id", f"-{secret}3"]
        c["command"] = ["sh", "-c", f"--api-token {secret}4 --db-url=postgres://a:{secret}5@db/x"]
        notes = obj["metadata"].setdefault("annotations", {})
        notes["example.com/backup"] = f"mysql://root:{secret}6@host/db"
        notes["example.com/conf"] = json.dumps({"password": f"{secret}7"})

    sandbox.store.mutate(t.configmaps, "kube-system", "tke-eni-ipamd", cm)
    sandbox.store.mutate(t.deployments, "kube-system", "tke-eni-ipamd", deploy)
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    out = tmp_path / "b.tar.gz"
    r = run_vip("bundle", "-o", str(out), kubeconfig=kc)
    assert r.code == 0, r.stderr
    raw = gzip.decompress(out.read_bytes())
    assert secret.encode() not in raw
    members = read_bundle(out)
    assert all(secret.encode() not in data for data in members.values())
    fields = {(e["file"], e["field"]) for e in manifest(members)["redacted"]}
    assert ("kube-system/configmap-tke-eni-ipamd.json", "data.config.yaml.password") in fields
    assert ("kube-system/configmap-tke-eni-ipamd.json", "data.app.json.db.password") in fields
