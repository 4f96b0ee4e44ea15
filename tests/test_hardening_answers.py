"""Answers no API server sends are one line and exit 3, bounded in what they cost: JSON nested
past the parsers' depth, an integer of thousands of digits, a body past the size cap, a gzip
body that inflates past it (we ask for identity), and a 404 that is not a Kubernetes Status
(a proxy's or web server's page must never read as "object gone")."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from kubectl_vip.errors import ExitCode
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Rewrite

from .conftest import run_vip
from .hardening_support import Clock, fixed, http_server, kubeconfig

CAP = 256 * 1024 * 1024  # the documented cap on an answer (README: Security)
HTML_404 = b"<html><head><title>404 Not Found</title></head><body>nginx PAGE-BODY</body></html>"


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def deep(levels: int) -> bytes:
    return b'{"kind":"VpcIPClaimList","items":' + b"[" * levels + b"]" * levels + b"}"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        pytest.param(deep(5000), "JSON nested deeper than", id="deep-5000"),
        pytest.param(deep(1100), "JSON nested deeper than", id="deep-1100"),
        pytest.param(
            b'{"kind":"VpcIPClaimList","metadata":{"x":' + b"7" * 5000 + b'},"items":[]}',
            "an integer of 5000 digits",
            id="int-5000-digits",
        ),
    ],
)
def test_json_past_the_parsers_bounds_is_one_line_exit_3(
    sandbox: Sandbox, kubeconfig: Path, body: bytes, detail: str
) -> None:
    sandbox.controls.rewrite(Rewrite(path="*/vpcipclaims", body=body))
    r = run_vip("list", "-A", kubeconfig=kubeconfig)
    assert r.code == ExitCode.ACCESS, r.stderr
    line = one_line(r.stderr)
    assert line.startswith(f"error: unexpected response from {sandbox.url}: HTTP 200, ")
    assert "not a Kubernetes API server answer" in line and detail in line
    assert "RecursionError" not in line and "ValueError" not in line


def test_deep_json_in_an_error_answer_is_not_a_python_error(
    sandbox: Sandbox, kubeconfig: Path
) -> None:
    sandbox.controls.rewrite(Rewrite(path="*/vpcipclaims", code=500, body=deep(5000)))
    r = run_vip("list", "-A", kubeconfig=kubeconfig)
    assert r.code == ExitCode.ACCESS, r.stderr
    assert one_line(r.stderr).startswith(f"error: unexpected response from {sandbox.url}: HTTP 500")


def test_a_body_past_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A Content-Length past the cap is refused at once (the old client waited for it)."""
    size = CAP + 1

    def answer(h, stop):  # type: ignore[no-untyped-def] # http.server's handler and event
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        h.wfile.write(b'{"kind":"APIGroupList","groups":[')
        h.wfile.flush()
        stop.wait(10)

    with http_server(answer) as url:
        kc = kubeconfig(tmp_path / "kc", url)
        with Clock() as clock:
            r = run_vip("--request-timeout", "5s", "list", "-A", kubeconfig=kc)
    assert clock.seconds < 3, clock.seconds
    assert r.code == ExitCode.ACCESS, r.stderr
    line = one_line(r.stderr)
    assert line.startswith(f"error: unexpected response from {url}: HTTP 200, application/json")
    assert f"an answer of {size} bytes (the limit is 256 MiB)" in line


def test_a_chunked_body_past_the_cap_is_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kubectl_vip.api.transport.MAX_BODY", 1 << 20)
    body = b'{"kind":"APIGroupList","groups":[],"pad":"' + b"x" * (3 << 20) + b'"}'
    with http_server(fixed(body, length=False)) as url:
        r = run_vip("list", "-A", kubeconfig=kubeconfig(tmp_path / "kc", url))
    assert r.code == ExitCode.ACCESS, r.stderr
    assert "an answer larger than 1 MiB" in one_line(r.stderr)


def bomb(inflated: int) -> bytes:
    """A gzip body that inflates to `inflated` bytes of (the start of) a JSON answer: one
    compressed block of spaces, repeated (its trailer never comes: no reader gets that far)."""
    head = b'{"kind":"APIGroupList","groups":[],"pad":"'
    block = b" " * (1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    c.compress(block)
    c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # the same bytes each time now
    return start + again * (inflated // len(block))


def test_a_gzip_bomb_inflates_no_further_than_the_cap(tmp_path: Path) -> None:
    """We ask for identity; a server that sends gzip anyway is inflated only up to the cap.
    Run as its own process, to read its peak memory: about the cap, not the bomb."""
    body = bomb(1024 * 1024 * 1024)  # 1 GiB inflated
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    with http_server(fixed(body, headers=headers)) as url:
        kc = kubeconfig(tmp_path / "kc", url)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        argv = [sys.executable, "-m", "kubectl_vip", "--kubeconfig", str(kc), "list", "-A"]
        with (
            Clock() as clock,
            (tmp_path / "out").open("wb") as out,
            (tmp_path / "err").open("wb") as err,
        ):
            p = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, for its usage
    stderr = (tmp_path / "err").read_text()
    assert p.returncode == ExitCode.ACCESS, stderr
    line = one_line(stderr)
    assert line.startswith(f"error: unexpected response from {url}: HTTP 200, application/json")
    assert "a compressed answer that inflates past 256 MiB" in line
    peak_mib = usage.ru_maxrss / 1024
    assert peak_mib < 256 + 200, peak_mib  # the cap and the interpreter, never the gigabyte
    assert clock.seconds < 20, clock.seconds


def test_a_small_gzip_answer_is_still_read(tmp_path: Path) -> None:
    """A proxy that compresses anyway, within the cap, is still understood."""
    body = gzip.compress(json.dumps({"kind": "APIGroupList", "groups": []}).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    with http_server(fixed(body, headers=headers)) as url:
        r = run_vip("list", "-A", kubeconfig=kubeconfig(tmp_path / "kc", url))
    assert r.code == ExitCode.NOT_VPC_CNI, r.stderr  # read: it has no TKE group


@pytest.mark.parametrize(
    ("encoding", "body", "detail"),
    [
        ("br", b"\x0b\x02\x80{}\x03", "a body in br encoding, which was not asked for"),
        ("gzip", b"not gzip at all", "a gzip body that does not inflate"),
    ],
    ids=["brotli", "broken-gzip"],
)
def test_an_encoding_we_cannot_read_is_refused(
    tmp_path: Path, encoding: str, body: bytes, detail: str
) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    with http_server(fixed(body, headers=headers)) as url:
        r = run_vip("list", "-A", kubeconfig=kubeconfig(tmp_path / "kc", url))
    assert r.code == ExitCode.ACCESS, r.stderr
    assert detail in one_line(r.stderr)


# ---------------------------------------------------------------------------- 404 pages


def test_an_html_404_is_not_object_gone(sandbox: Sandbox, kubeconfig: Path) -> None:
    """describe must not read a proxy's 404 page for the Pod as "the Pod is gone" (which would
    show its live claim Retained)."""
    sandbox.controls.rewrite(
        Rewrite(
            path="/api/v1/namespaces/db/pods/mysql-0",
            code=404,
            body=HTML_404,
            content_type="text/html",
        )
    )
    r = run_vip("describe", "mysql-0", "-n", "db", kubeconfig=kubeconfig)
    assert r.code == ExitCode.ACCESS, (r.stdout, r.stderr)
    assert r.stdout == ""
    line = one_line(r.stderr)
    assert line.startswith(
        f"error: unexpected response from {sandbox.url}: HTTP 404, text/html: not a Kubernetes "
        "API server answer"
    )
    assert "PAGE-BODY" not in line


@pytest.mark.parametrize(
    "content_type", ["text/html", "text/plain", "application/json"], ids=["html", "text", "json"]
)
def test_a_404_page_for_discovery_is_exit_3(
    sandbox: Sandbox, kubeconfig: Path, content_type: str
) -> None:
    body = HTML_404 if content_type != "application/json" else b'{"error":"not found"}'
    sandbox.controls.rewrite(Rewrite(path="/apis", code=404, body=body, content_type=content_type))
    r = run_vip("list", "-A", kubeconfig=kubeconfig)
    assert r.code == ExitCode.ACCESS, r.stderr
    line = one_line(r.stderr)
    assert "could not find the requested resource" not in line
    assert f"HTTP 404, {content_type}: not a Kubernetes API server answer" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "-A", "-o", "json"],
        ["describe", "mysql-0", "-n", "db", "-o", "yaml"],
        ["doctor", "-o", "json"],
        ["bundle"],
    ],
    ids=["list", "describe", "doctor", "bundle"],
)
def test_json_nested_just_within_the_parsers_bound_breaks_no_command(
    sandbox: Sandbox, kubeconfig: Path, tmp_path: Path, argv: list[str]
) -> None:
    """1,000 levels parse (orjson stops at 1,024); what walks objects afterwards (the bundle's
    scrubbing) cuts them instead of failing with a RecursionError."""
    from kubectl_vip.api import kubeconfig as kcfg
    from kubectl_vip.api.cluster import Cluster

    c = Cluster(kcfg.load(str(kubeconfig), None))
    doc = json.loads(c.request("GET", c.tke().claims.path()).data)
    (item,) = [i for i in doc["items"] if i["metadata"]["name"] == "mysql-0"]
    item["status"]["deep"] = "DEEP-HERE"
    body = json.dumps(doc).encode().replace(b'"DEEP-HERE"', b"[" * 1000 + b"]" * 1000)
    sandbox.controls.rewrite(Rewrite(path="*/vpcipclaims", body=body))
    if argv == ["bundle"]:
        argv = ["bundle", "-o", str(tmp_path / "b.tar.gz")]
    r = run_vip(*argv, kubeconfig=kubeconfig)
    assert r.code in (0, 1), r.stderr  # doctor finds the demo's problems: 1
    assert "RecursionError" not in r.stderr and "unexpected" not in r.stderr, r.stderr
    assert "failed" not in r.stderr, r.stderr
