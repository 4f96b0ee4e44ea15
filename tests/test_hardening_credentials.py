"""Credentials on disk: a client key from `client-key-data` (or an exec plugin) reaches TLS
without a file that outlives the process (in memory where the system has memfd; elsewhere a
0600 temporary file removed at exit and on SIGTERM and SIGHUP); relative certificate and key
paths resolve against the file that defines them, as client-go resolves them."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.api import kubeconfig as kcfg
from kubectl_vip.api import kubeconfig_doc
from kubectl_vip.sandbox import Sandbox

from .conftest import run_vip, with_default_sigint
from .hardening_support import silent_server

TLS = Path(__file__).resolve().parents[1] / "kubectl_vip" / "sandbox" / "tls"
CERT, KEY = (TLS / "cert.pem").read_bytes(), (TLS / "key.pem").read_bytes()
ROOT = Path(__file__).resolve().parents[1]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------- key material

RUN_WITHOUT_MEMFD = (
    "import os, runpy\n"
    "del os.memfd_create  # as on a system without anonymous memory files\n"
    "runpy.run_module('kubectl_vip', run_name='__main__', alter_sys=True)\n"
)


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "no-memfd"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_client_key_does_not_outlive_the_process(
    tmp_path: Path, memfd: bool, signum: int
) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    with silent_server() as silent:
        kc = tmp_path / "kc"
        kc.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "c",
                            "cluster": {
                                "server": f"https://127.0.0.1:{silent.port}",
                                "insecure-skip-tls-verify": True,
                            },
                        }
                    ],
                    "users": [
                        {
                            "name": "u",
                            "user": {
                                "client-certificate-data": b64(CERT),
                                "client-key-data": b64(KEY),
                            },
                        }
                    ],
                    "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                    "current-context": "x",
                }
            )
        )
        start = [sys.executable, "-m", "kubectl_vip"] if memfd else [
            sys.executable, "-c", RUN_WITHOUT_MEMFD,
        ]  # fmt: skip
        argv = [*start, "--kubeconfig", str(kc), "--request-timeout", "30s", "list", "-A"]
        env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}
        # a signal ignored where pytest was started (nohup: SIGHUP) would stay ignored
        p = subprocess.Popen(
            with_default_sigint(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            # the key is loaded before the connection: once it is made, the key is wherever
            # it is going to be
            assert silent.accepted.wait(30), p.communicate(timeout=5)
            time.sleep(0.2)
            on_disk = [f for f in tmp.rglob("*") if f.is_file() and KEY in f.read_bytes()]
            if memfd:
                assert on_disk == []  # never written to a file system
            else:
                assert len(on_disk) == 1 and on_disk[0].stat().st_mode & 0o777 == 0o600
            p.send_signal(signum)
            p.communicate(timeout=20)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()  # closes its pipes
    assert p.returncode == -signum  # ended as the signal ends it
    assert list(tmp.rglob("*")) == []


def test_key_material_paths_read_back_and_are_shared() -> None:
    from kubectl_vip.shared import private

    one = private.material_path(KEY, "client-key")
    again = private.material_path(KEY, "client-key")
    assert one == again and Path(one).read_bytes() == KEY
    if hasattr(os, "memfd_create"):  # Linux: a memory file of this process, no file system
        assert one.startswith("/proc/self/fd/")


# ---------------------------------------------------------------------------- relative paths


def split_kubeconfig(sb: Sandbox, tmp_path: Path, user_extra: dict[str, Any]) -> str:
    """KUBECONFIG=dA/user:dB/cluster: the user (with relative certificate and key paths) and
    the context in one directory, the cluster in another."""
    da, db = tmp_path / "dA", tmp_path / "dB"
    (da / "pki").mkdir(parents=True)
    db.mkdir()
    (da / "pki" / "client.crt").write_bytes(CERT)
    (da / "pki" / "client.key").write_bytes(KEY)
    cluster = sb.kubeconfig()["clusters"][0]
    user = {
        "token": sb.admin_token,
        "client-certificate": "pki/client.crt",
        "client-key": "pki/client.key",
        **user_extra,
    }
    (da / "user").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "x", "context": {"cluster": cluster["name"], "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    (db / "cluster").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [cluster]})
    )
    return os.pathsep.join([str(da / "user"), str(db / "cluster")])


@pytest.mark.parametrize(
    "user_extra", [{}, {"extensions": []}], ids=["simple-reader", "client-loader"]
)
def test_relative_client_paths_resolve_against_the_users_file(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user_extra: dict[str, Any]
) -> None:
    monkeypatch.setenv("KUBECONFIG", split_kubeconfig(sandbox, tmp_path, user_extra))
    conn = kcfg.load(None, None)
    assert conn.cert_file == str(tmp_path / "dA" / "pki" / "client.crt")
    assert conn.key_file == str(tmp_path / "dA" / "pki" / "client.key")
    r = run_vip("list", "-n", "db", "-o", "name")
    assert r.code == 0, r.stderr
    assert "vpcipclaim.networking.tke.cloud.tencent.com/mysql-0" in r.stdout


def test_the_simple_reader_and_the_client_loader_agree_on_split_files(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    paths = split_kubeconfig(sandbox, tmp_path, {}).split(os.pathsep)
    merged = kubeconfig_doc.merge([(Path(p), kubeconfig_doc.read(p)) for p in paths])
    simple = kcfg._simple(None, merged)
    assert simple is not None
    by_client = kcfg._from_files(os.pathsep.join(paths), None, merged)
    assert (simple.cert_file, simple.key_file) == (by_client.cert_file, by_client.key_file)
    assert simple.ca_file is not None and by_client.ca_file is not None
    assert Path(simple.ca_file).read_bytes() == Path(by_client.ca_file).read_bytes()
