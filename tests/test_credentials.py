"""Credentials and kubeconfigs read as kubectl (client-go) reads them, against the sandbox:
tokenFile trimmed, no credential ever printed, booleans that are booleans, files that are not
kubeconfigs, failing exec plugins, proxies (proxy-url with credentials, HTTPS_PROXY/NO_PROXY,
SOCKS without PySocks)."""

from __future__ import annotations

import base64
import json
import select
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.api import proxy, redact
from kubectl_vip.sandbox import Sandbox

from .conftest import Result, run_vip

Obj = dict[str, Any]


def write_kc(
    sb: Sandbox,
    path: Path,
    *,
    cluster: Obj | None = None,
    user: Obj | None = None,
    drop_ca: bool = False,
) -> Path:
    """The sandbox's kubeconfig with the admin user and the cluster entry changed."""
    doc = sb.kubeconfig()
    c = doc["clusters"][0]["cluster"]
    if drop_ca:
        c.pop("certificate-authority-data")
    c.update(cluster or {})
    if user is not None:
        doc["users"][0]["user"] = user
    path.write_text(yaml.safe_dump(doc))
    return path


def one_line(r: Result, code: int = 3) -> str:
    assert r.code == code, (r.code, r.stdout, r.stderr)
    assert len(r.stderr.splitlines()) == 1, r.stderr
    return r.stderr


# ---------------------------------------------------------------------------- tokens


def test_token_file_with_a_newline_is_trimmed(sandbox: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "token").write_text(sandbox.admin_token + "\n")
    # relative to the kubeconfig's directory, as kubectl resolves it
    kc = write_kc(sandbox, tmp_path / "kc", user={"tokenFile": "token"})
    r = run_vip("list", "-A", "-o", "name", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert "vpcipclaim.networking.tke.cloud.tencent.com/mysql-0" in r.stdout


def test_a_token_that_cannot_be_a_header_is_not_printed(sandbox: Sandbox, tmp_path: Path) -> None:
    token = sandbox.admin_token
    kc = write_kc(sandbox, tmp_path / "kc", user={"token": f"{token}\nsecond-line"})
    for args in (("list",), ("-v", "list")):
        r = run_vip(*args, kubeconfig=kc)
        line = one_line(r)
        assert "credentials of user" in line and "line break" in line
        assert token not in r.stderr and token not in r.stdout


def test_unreadable_or_empty_token_file(sandbox: Sandbox, tmp_path: Path) -> None:
    kc = write_kc(sandbox, tmp_path / "kc", user={"tokenFile": str(tmp_path / "absent")})
    assert "cannot read the token file" in one_line(run_vip("list", kubeconfig=kc))
    (tmp_path / "empty").write_text("\n")
    kc = write_kc(sandbox, tmp_path / "kc", user={"tokenFile": str(tmp_path / "empty")})
    assert "is empty" in one_line(run_vip("list", kubeconfig=kc))
    # with a static token beside it, client-go falls back to that token
    user = {"tokenFile": str(tmp_path / "absent"), "token": sandbox.admin_token}
    kc = write_kc(sandbox, tmp_path / "kc", user=user)
    assert run_vip("list", "-o", "name", kubeconfig=kc).code == 0


def test_unexpected_errors_and_tracebacks_are_redacted(
    sandbox: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Whatever the failure, a credential the kubeconfig holds never reaches the terminal."""
    from kubectl_vip.api import cluster

    token = sandbox.admin_token

    def boom(self: Any, *a: Any, **kw: Any) -> Any:
        raise ValueError(f"Invalid header value b'Bearer {token}\\n' (proxy http://u:pw9@h:1)")

    kc = write_kc(sandbox, tmp_path / "kc", user={"token": token})
    monkeypatch.setattr(cluster.Cluster, "request", boom)
    r = run_vip("-v", "list", kubeconfig=kc)
    err = r.stderr + capfd.readouterr().err
    assert r.code == 1 and "unexpected ValueError" in r.stderr
    assert "Traceback" in err  # -v still shows where it failed
    assert token not in err and "pw9" not in err
    assert "Bearer <redacted>" in r.stderr


@pytest.mark.parametrize(
    ("text", "secrets", "want"),
    [
        ("Authorization: Bearer abc.def.ghi", [], "Authorization: Bearer <redacted>"),
        ("b'Basic dXNlcjpwdw=='", [], "b'Basic <redacted>'"),
        ("http://bob:s3cr3t@proxy:3128", [], "http://bob:<redacted>@proxy:3128"),
        ("token is hunter2-long here", ["hunter2-long"], "token is <redacted> here"),
        ("b'tok\\n'", ["tok\n-xyz"], "b'tok\\n'"),  # not the remembered value: kept
        ("got 'line\\nbreak-secret'", ["line\nbreak-secret"], "got '<redacted>'"),
        ("nothing to hide", ["abc"], "nothing to hide"),  # too short to be remembered
        ("basic checks failed; Bearer token", [], "basic checks failed; Bearer token"),
    ],
    ids=["bearer", "basic", "url-password", "remembered", "other", "escaped", "short", "prose"],
)
def test_redact(text: str, secrets: list[str], want: str) -> None:
    redact.forget_all()
    redact.remember(*secrets)
    try:
        assert redact.redact(text) == want
    finally:
        redact.forget_all()


# ---------------------------------------------------------------------------- kubeconfig


def test_string_boolean_is_rejected_not_read_as_true(sandbox: Sandbox, tmp_path: Path) -> None:
    # no CA: had "false" turned verification off (as it did), the command would succeed
    kc = write_kc(
        sandbox, tmp_path / "kc", cluster={"insecure-skip-tls-verify": "false"}, drop_ca=True
    )
    line = one_line(run_vip("list", kubeconfig=kc))
    assert 'cluster "vip-sandbox"' in line and "insecure-skip-tls-verify" in line
    assert 'must be true or false, not the string "false"' in line
    # a real boolean false keeps verification on: the self-signed sandbox is rejected
    kc = write_kc(
        sandbox, tmp_path / "kc", cluster={"insecure-skip-tls-verify": False}, drop_ca=True
    )
    line = one_line(run_vip("list", kubeconfig=kc))
    assert "certificate" in line
    kc = write_kc(
        sandbox, tmp_path / "kc", cluster={"insecure-skip-tls-verify": True}, drop_ca=True
    )
    assert run_vip("list", kubeconfig=kc).code == 0


def test_the_real_kubectl_rejects_it_too(sandbox: Sandbox, tmp_path: Path) -> None:
    import subprocess

    from .conftest import kubectl_path

    kc = write_kc(sandbox, tmp_path / "kc", cluster={"insecure-skip-tls-verify": "false"})
    p = subprocess.run(
        [kubectl_path(), "--kubeconfig", str(kc), "get", "ns"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode != 0 and "insecure-skip-tls-verify" in p.stderr


@pytest.mark.parametrize(
    ("make", "want"),
    [
        (lambda d: Path("/etc/passwd"), "is not a kubeconfig"),
        (lambda d: _write(d / "bin", b"\x7fELF\x02\x01\x00\x00garbage"), "binary data"),
        (lambda d: _write(d / "latin", b"caf\xe9: 1\n"), "not UTF-8"),
        (lambda d: _write(d / "list", b"- a\n- b\n"), "holds a YAML list"),
        (lambda d: _write(d / "other", b"services:\n  web: {}\n"), "has none of apiVersion"),
        (lambda d: _write(d / "clusters", b"clusters: 3\n"), "clusters must be a list"),
        (lambda d: d, "is a directory"),
        (lambda d: d / "absent", "does not exist"),
    ],
    ids=["passwd", "binary", "latin1", "yaml-list", "other-yaml", "wrong-type", "dir", "absent"],
)
def test_not_a_kubeconfig(tmp_path: Path, make: Any, want: str) -> None:
    path = make(tmp_path)
    r = run_vip("list", kubeconfig=path)
    line = one_line(r)
    assert want in line and str(path) in line
    assert "Error" not in line and "unexpected" not in line


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_kubeconfig_list_skips_missing_files_but_not_bad_ones(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kc = write_kc(sandbox, tmp_path / "kc")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'absent'}:{kc}")
    assert run_vip("list", "-o", "name").code == 0
    monkeypatch.setenv("KUBECONFIG", f"{kc}:/etc/passwd")
    assert "/etc/passwd is not a kubeconfig" in one_line(run_vip("list"))


# ---------------------------------------------------------------------------- exec plugins


def _exec_user(tmp_path: Path, body: str) -> Obj:
    script = tmp_path / "plugin.py"
    script.write_text(body)
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(script)],
            "interactiveMode": "Never",
        }
    }


def test_missing_exec_plugin_command(sandbox: Sandbox, tmp_path: Path) -> None:
    user = _exec_user(tmp_path, "")
    user["exec"]["command"] = str(tmp_path / "no-such-login-helper")
    kc = write_kc(sandbox, tmp_path / "kc", user=user)
    line = one_line(run_vip("list", kubeconfig=kc))
    assert 'the exec credential plugin of user "sandbox-admin" failed: cannot run ' in line
    assert "no-such-login-helper: No such file or directory" in line


def test_exec_plugin_token(sandbox: Sandbox, tmp_path: Path) -> None:
    out = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": sandbox.admin_token},
    }
    user = _exec_user(tmp_path, f"print({json.dumps(json.dumps(out))})")
    kc = write_kc(sandbox, tmp_path / "kc", user=user)
    assert run_vip("list", "-o", "name", kubeconfig=kc).code == 0


@pytest.mark.parametrize(
    ("body", "want"),
    [
        (
            "import sys; sys.stderr.write('session expired: run tke-login\\n'); sys.exit(1)",
            "process returned 1. session expired: run tke-login",
        ),
        ("print('{not json')", "failed to decode process output"),
        (
            'print(\'{"apiVersion": "client.authentication.k8s.io/v1beta1", '
            '"kind": "ExecCredential", "status": {}}\')',
            "neither a token",
        ),
    ],
    ids=["exit-1", "bad-json", "no-token"],
)
def test_failing_exec_plugin_stops_with_its_message(
    sandbox: Sandbox, tmp_path: Path, body: str, want: str
) -> None:
    kc = write_kc(sandbox, tmp_path / "kc", user=_exec_user(tmp_path, body))
    before = len(sandbox.controls.requests)
    line = one_line(run_vip("list", kubeconfig=kc))
    assert 'the exec credential plugin of user "sandbox-admin" failed' in line and want in line
    assert len(sandbox.controls.requests) == before  # nothing was sent without credentials


# ---------------------------------------------------------------------------- proxies


class ConnectProxy:
    """A loopback HTTP CONNECT proxy that records each tunnel's target and Proxy-Authorization
    and relays to the target (names in `resolve` are mapped to addresses, as a DNS would)."""

    def __init__(self, resolve: dict[str, str] | None = None) -> None:
        self.resolve = resolve or {}
        self.seen: list[tuple[str, str | None]] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                conn.close()
                return
            buf += chunk
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        assert method == "CONNECT"
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])
        }
        self.seen.append((target, headers.get("proxy-authorization")))
        host, _, port = target.rpartition(":")
        try:
            up = socket.create_connection((self.resolve.get(host, host), int(port)), timeout=10)
        except OSError:
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            conn.close()
            return
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            up.sendall(rest)
        self._relay(conn, up)

    @staticmethod
    def _relay(a: socket.socket, b: socket.socket) -> None:
        try:
            while True:
                ready, _, _ = select.select([a, b], [], [], 30)
                if not ready:
                    return
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


@pytest.fixture
def connect_proxy() -> Iterator[ConnectProxy]:
    p = ConnectProxy(resolve={"sandbox.test": "127.0.0.1"})
    yield p
    p.close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def _port(sb: Sandbox) -> int:
    return int(sb.url.rsplit(":", 1)[1])


def test_proxy_url_credentials_go_as_proxy_authorization(
    sandbox: Sandbox, tmp_path: Path, connect_proxy: ConnectProxy, no_proxy_env: None
) -> None:
    url = f"http://ops:p%40ss%3Aword@127.0.0.1:{connect_proxy.port}"
    kc = write_kc(sandbox, tmp_path / "kc", cluster={"proxy-url": url})
    r = run_vip("list", "-A", "-o", "name", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert "vpcipclaim.networking.tke.cloud.tencent.com/mysql-0" in r.stdout
    want = "Basic " + base64.b64encode(b"ops:p@ss:word").decode()
    assert connect_proxy.seen and all(
        s == (f"127.0.0.1:{_port(sandbox)}", want) for s in connect_proxy.seen
    )
    # a proxy that does not answer is named (without its password)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once this is closed
    url = f"http://ops:p%40ss%3Aword@127.0.0.1:{closed}"
    kc = write_kc(sandbox, tmp_path / "kc", cluster={"proxy-url": url})
    line = one_line(run_vip("--request-timeout", "3s", "list", kubeconfig=kc))
    assert f"through the proxy http://127.0.0.1:{closed}: connection refused" in line
    assert "p%40ss" not in line and "p@ss" not in line


def test_https_proxy_and_no_proxy_from_the_environment(
    sandbox: Sandbox,
    tmp_path: Path,
    connect_proxy: ConnectProxy,
    no_proxy_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _port(sandbox)
    kc = write_kc(
        sandbox,
        tmp_path / "kc",
        cluster={"server": f"https://sandbox.test:{port}", "tls-server-name": "localhost"},
    )
    monkeypatch.setenv("https_proxy", f"u:pw@127.0.0.1:{connect_proxy.port}")  # no scheme: http
    monkeypatch.setenv("NO_PROXY", "example.com, 10.0.0.0/8")
    r = run_vip("list", "-o", "name", "-n", "db", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert connect_proxy.seen[0] == (
        f"sandbox.test:{port}",
        "Basic " + base64.b64encode(b"u:pw").decode(),
    )
    # NO_PROXY names the domain: straight to sandbox.test, which no DNS knows
    connect_proxy.seen.clear()
    monkeypatch.setenv("NO_PROXY", ".test")
    line = one_line(run_vip("--request-timeout", "5s", "list", kubeconfig=kc))
    assert "cannot reach the API server" in line and "pw" not in line
    assert connect_proxy.seen == []
    # loopback never goes through an environment proxy (as in Go)
    monkeypatch.delenv("NO_PROXY")
    kc = write_kc(sandbox, tmp_path / "kc")
    assert run_vip("list", "-o", "name", kubeconfig=kc).code == 0
    assert connect_proxy.seen == []


class Socks5Proxy:
    """A loopback SOCKS5 proxy (RFC 1928, user/password per RFC 1929) that records the
    credentials and the requested address of each connection and relays to it."""

    def __init__(self, resolve: dict[str, str]) -> None:
        self.resolve = resolve
        self.seen: list[tuple[str, str, str]] = []  # (user, password, host:port)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn: socket.socket, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise OSError("closed")
            buf += chunk
        return buf

    def _handle(self, conn: socket.socket) -> None:
        try:
            _ver, n = self._read(conn, 2)
            methods = self._read(conn, n)
            if 2 not in methods:  # we require user/password
                conn.sendall(b"\x05\xff")
                return
            conn.sendall(b"\x05\x02")
            _v, ulen = self._read(conn, 2)
            user = self._read(conn, ulen).decode()
            (plen,) = self._read(conn, 1)
            password = self._read(conn, plen).decode()
            conn.sendall(b"\x01\x00")
            _v, _cmd, _rsv, atyp = self._read(conn, 4)
            if atyp == 3:
                (hlen,) = self._read(conn, 1)
                host = self._read(conn, hlen).decode()
            else:
                host = socket.inet_ntoa(self._read(conn, 4))
            port = int.from_bytes(self._read(conn, 2), "big")
            self.seen.append((user, password, f"{host}:{port}"))
            up = socket.create_connection((self.resolve.get(host, host), port), timeout=10)
            conn.sendall(b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00")
        except OSError:
            conn.close()
            return
        ConnectProxy._relay(conn, up)

    def close(self) -> None:
        self.sock.close()


def test_socks5_proxy_url(sandbox: Sandbox, tmp_path: Path, no_proxy_env: None) -> None:
    socks = Socks5Proxy(resolve={"sandbox.test": "127.0.0.1"})
    try:
        port = _port(sandbox)
        kc = write_kc(
            sandbox,
            tmp_path / "kc",
            cluster={
                "server": f"https://sandbox.test:{port}",
                "tls-server-name": "localhost",
                "proxy-url": f"socks5://me:s%40cret@127.0.0.1:{socks.port}",
            },
        )
        r = run_vip("list", "-n", "db", "-o", "name", kubeconfig=kc)
        assert r.code == 0, r.stderr
        assert "vpcipclaim.networking.tke.cloud.tencent.com/mysql-0" in r.stdout
        # the host name goes to the proxy unresolved, as Go's SOCKS5 dialer sends it
        assert socks.seen and set(socks.seen) == {("me", "s@cret", f"sandbox.test:{port}")}
    finally:
        socks.close()


def test_socks_proxy_without_pysocks_is_one_line(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy_env: None
) -> None:
    monkeypatch.setitem(sys.modules, "urllib3.contrib.socks", None)  # as if not installed
    kc = write_kc(sandbox, tmp_path / "kc", cluster={"proxy-url": "socks5://me:pw12@127.0.0.1:1"})
    line = one_line(run_vip("list", kubeconfig=kc))
    assert "is a SOCKS proxy" in line and "pip install PySocks" in line
    assert "pw12" not in line and "socks5://127.0.0.1:1" in line


@pytest.mark.parametrize(
    ("server", "no_proxy", "proxied"),
    [
        ("https://api.example.com", "", True),
        ("https://api.example.com", "*", False),
        ("https://api.example.com", "example.com", False),
        ("https://example.com", "example.com", False),
        ("https://example.com", ".example.com", True),
        ("https://api.example.com", ".example.com", False),
        ("https://api.example.com", "*.example.com", False),
        ("https://notexample.com", "example.com", True),
        ("https://api.example.com:6443", "example.com:443", True),
        ("https://api.example.com:6443", "example.com:6443", False),
        ("https://api.example.com", "example.com:443", False),
        ("https://10.1.2.3:6443", "10.0.0.0/8", False),
        ("https://11.1.2.3:6443", "10.0.0.0/8", True),
        ("https://10.1.2.3", "10.1.2.3", False),
        ("https://10.1.2.3:6443", "10.1.2.3:443", True),
        ("https://[fd00::1]:6443", "fd00::/8", False),
        ("https://[fd00::1]:6443", "[fd00::1]:6443", False),
        ("https://API.Example.com", " EXAMPLE.COM ,", False),
        ("https://localhost:6443", "", False),
        ("https://127.0.0.5:6443", "", False),
        ("https://[::1]:6443", "", False),
    ],
    ids=lambda v: str(v),
)
def test_no_proxy_rules(server: str, no_proxy: str, proxied: bool) -> None:
    env = {"HTTPS_PROXY": "proxy:3128", "NO_PROXY": no_proxy}
    assert (proxy.from_environment(server, env) == "http://proxy:3128") is proxied


def test_proxy_variables_by_scheme() -> None:
    env = {"HTTP_PROXY": "http://h:1", "https_proxy": "socks5://s:2"}
    assert proxy.from_environment("http://api:80", env) == "http://h:1"
    assert proxy.from_environment("https://api", env) == "socks5://s:2"
    assert proxy.from_environment("https://api", {"HTTP_PROXY": "http://h:1"}) is None
    parts = proxy.split_credentials("http://a%20b:c%2Fd@h:1/")
    assert (parts.url, parts.username, parts.password) == ("http://h:1/", "a b", "c/d")


def test_in_cluster_token_file_is_trimmed(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_proxy_env: None
) -> None:
    """In a Pod: the service account token file is read and trimmed as client-go does it,
    and its namespace is the default scope."""
    from kubernetes.config import incluster_config

    from kubectl_vip.api import kubeconfig
    from kubectl_vip.sandbox.server import ca_data

    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text(sandbox.admin_token + "\n")
    (sa / "ca.crt").write_bytes(ca_data())
    (sa / "namespace").write_text("db")
    monkeypatch.setattr(kubeconfig, "SA_DIR", sa)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(sa / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(sa / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(_port(sandbox)))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    r = run_vip("list", "-o", "name")
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("vpcipclaim.networking.tke.cloud.tencent.com/")


def test_token_file_is_read_again_after_a_401(sandbox: Sandbox, tmp_path: Path) -> None:
    """A rotated token file (a projected service account token, a login helper writing a
    file) is read again when the server answers 401, as client-go's file token source does."""
    from kubectl_vip.sandbox.controls import ADMIN, Fault, RequestInfo

    token_file = tmp_path / "token"
    token_file.write_text(sandbox.admin_token + "\n")
    kc = write_kc(sandbox, tmp_path / "kc", user={"tokenFile": str(token_file)})

    def rotate(req: RequestInfo) -> None:
        sandbox.controls.users.pop(sandbox.admin_token)
        sandbox.controls.add_user("rotated-token-0123", ADMIN)
        token_file.write_text("rotated-token-0123\n")

    sandbox.controls.on("list", "vpcipclaims", rotate)
    sandbox.controls.inject(
        Fault(verb="list", resource="vpcipclaims", code=401, reason="Unauthorized")
    )
    r = run_vip("list", "-n", "db", "-o", "name", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("vpcipclaim.networking.tke.cloud.tencent.com/")
