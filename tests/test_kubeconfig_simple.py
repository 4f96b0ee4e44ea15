"""A kubeconfig with a static token, token file, basic auth or client certificate is read without
the kubernetes client (its import is a fifth of a large `list`), exactly as the client reads it;
anything else still goes through the client's loader."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.api import kubeconfig, kubeconfig_doc
from kubectl_vip.sandbox import Sandbox

PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = b"-----BEGIN PRIVATE KEY-----\nMIIC\n-----END PRIVATE KEY-----\n"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write(tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any]) -> Path:
    (tmp_path / "certs").mkdir(exist_ok=True)
    (tmp_path / "certs" / "ca.pem").write_bytes(PEM)
    (tmp_path / "certs" / "client.pem").write_bytes(PEM)
    (tmp_path / "certs" / "client.key").write_bytes(KEY)
    (tmp_path / "token").write_text("from-file\n")
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443/", **cluster}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "db"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


CASES = {
    "token": ({"token": "abc"}, {"certificate-authority-data": b64(PEM)}),
    "token-file": ({"tokenFile": "token"}, {"certificate-authority": "certs/ca.pem"}),
    "basic": ({"username": "ann", "password": "pw"}, {"insecure-skip-tls-verify": True}),
    "cert-data": (
        {"client-certificate-data": b64(PEM), "client-key-data": b64(KEY)},
        {"certificate-authority-data": b64(PEM), "tls-server-name": "api.internal"},
    ),
    "cert-files": (
        {"client-certificate": "certs/client.pem", "client-key": "certs/client.key"},
        {"certificate-authority": "certs/ca.pem", "proxy-url": "http://proxy:3128"},
    ),
}


def settings(c: kubeconfig.Connection) -> dict[str, Any]:
    def content(path: str | None) -> bytes | None:
        return Path(path).read_bytes() if path else None

    return {
        "server": c.server,
        "namespace": c.namespace,
        "context": c.context,
        "user": c.user,
        "ca": content(c.ca_file),
        "cert": content(c.cert_file),
        "key": content(c.key_file),
        "verify": c.verify,
        "tls_server_name": c.tls_server_name,
        "proxy": c.proxy,
        "auth": c.auth_header(),
    }


@pytest.mark.parametrize(("user", "cluster"), list(CASES.values()), ids=list(CASES))
def test_simple_contexts_read_as_the_client_reads_them(
    tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any]
) -> None:
    path = write(tmp_path, user, cluster)
    merged = kubeconfig_doc.merge([(path, kubeconfig_doc.read(path))])
    simple = kubeconfig._simple(None, merged)
    assert simple is not None
    by_client = kubeconfig._from_files(str(path), None, merged)
    assert settings(simple) == settings(by_client)


@pytest.mark.parametrize(
    ("user", "cluster"),
    [
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "x"}}, {}),
        ({"token": "abc"}, {"certificate-authority": "certs/missing.pem"}),
        ({"token": "abc"}, {"extensions": []}),
    ],
    ids=["exec", "missing-file", "unknown-field"],
)
def test_anything_else_goes_to_the_client(
    tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any]
) -> None:
    path = write(tmp_path, user, cluster)
    merged = kubeconfig_doc.merge([(path, kubeconfig_doc.read(path))])
    assert kubeconfig._simple(None, merged) is None


def test_list_as_json_imports_neither_the_kubernetes_client_nor_rich(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kubeconfig")
    code = (
        "import sys, io\n"
        "from kubectl_vip.cli.app import invoke\n"
        f"rc = invoke(['--kubeconfig', {str(kc)!r}, 'list', '-A', '-o', 'json'])\n"
        "heavy = sorted(m for m in ('kubernetes', 'oauthlib', 'rich') if m in sys.modules)\n"
        "print(rc, heavy, file=sys.stderr)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"NO_COLOR": "1"},
    )
    assert p.stderr.strip().splitlines()[-1] == "0 []"
    assert '"kind": "ClaimList"' in p.stdout
