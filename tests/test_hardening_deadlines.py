"""Deadlines: --request-timeout bounds each request as a whole (connect, headers and body), not
each socket read; an exec credential plugin gets the same bound; a fleet context has one
deadline for all it does, so one hung context never holds the run. Past a deadline: one line,
exit 3 (a fleet: that context's line)."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.errors import ExitCode, Unreachable
from kubectl_vip.ops import fleet
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault

from .conftest import make_sandbox, run_vip
from .fleet_support import merged_kubeconfig
from .hardening_support import Clock, http_server, kubeconfig, trickle

# a valid answer to /apis, padded: the old client read it byte by byte for 10 s
APIS = json.dumps({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}).encode()
TRICKLED = APIS + b" " * (200 - len(APIS))


def add_context(path: Path, name: str, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    doc = yaml.safe_load(path.read_text())
    doc["clusters"].append({"name": name, "cluster": cluster})
    doc["users"].append({"name": name, "user": user})
    doc["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    path.write_text(yaml.safe_dump(doc))
    return path


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_a_trickled_answer_is_cut_at_the_request_timeout(tmp_path: Path) -> None:
    """A 200 whose body comes a byte every 50 ms (each read well within the timeout) ends at
    --request-timeout, not when the body is done."""
    with http_server(trickle(TRICKLED, 0.05)) as url:
        kc = add_context(
            merged_kubeconfig(tmp_path / "kc", {}, dead=("unused",)),
            "trickle",
            {"server": url},
            {"token": "t0ken-trickle"},
        )
        with Clock() as clock:
            r = run_vip("--context", "trickle", "--request-timeout", "1s", "list", "-A",
                        kubeconfig=kc)  # fmt: skip
    assert r.code == ExitCode.ACCESS, r.stderr
    line = one_line(r.stderr)
    assert line.startswith(f"error: cannot reach the API server at {url}: timed out: no whole")
    assert "within 1s (--request-timeout)" in line
    assert clock.seconds < 4, clock.seconds


def test_a_trickling_context_does_not_hold_the_fleet(tmp_path: Path) -> None:
    good = make_sandbox()
    try:
        with http_server(trickle(TRICKLED, 0.05)) as url:
            kc = add_context(
                merged_kubeconfig(tmp_path / "kc", {"good": good}),
                "trickle",
                {"server": url},
                {"token": "t0ken-trickle"},
            )
            with Clock() as clock:
                r = run_vip("--request-timeout", "1s", "--all-contexts", "list", "-A", "-o",
                            "json", kubeconfig=kc)  # fmt: skip
    finally:
        good.stop()
    assert clock.seconds < 5, clock.seconds
    assert r.code == ExitCode.FAILED, r.stderr
    assert "error: context trickle: cannot reach the API server" in r.stderr
    assert "timed out" in r.stderr
    assert {i["context"] for i in json.loads(r.stdout)["items"]} == {"good"}


def test_a_fleet_context_has_one_deadline_for_all_its_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request of the slow context is within --request-timeout; together they are not
    within the context's deadline: that context fails, the other answers."""
    monkeypatch.setattr(fleet, "FLEET_REQUEST_TIMEOUT", 2.0)
    good, slow = make_sandbox(), make_sandbox()
    try:
        slow.controls.inject(Fault(code=0, latency=0.3, times=-1))
        kc = merged_kubeconfig(tmp_path / "kc", {"good": good, "slow": slow})
        with Clock() as clock:
            # pages of 2: a dozen requests one after the other, 0.3 s each
            r = run_vip("--request-timeout", "1s", "--all-contexts", "list", "-A", "-o", "json",
                        "--chunk-size", "2", kubeconfig=kc)  # fmt: skip
    finally:
        good.stop()
        slow.stop()
    assert r.code == ExitCode.FAILED, r.stderr
    assert "error: context slow: cannot reach the API server" in r.stderr
    assert "timed out: no whole answer within the fleet's per-context deadline" in r.stderr
    assert {i["context"] for i in json.loads(r.stdout)["items"]} == {"good"}
    assert clock.seconds < 2 + 2.5, clock.seconds


def test_fleet_run_gives_up_on_a_context_that_ignores_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What no request deadline can cut (a DNS lookup, a stuck auth provider) is given up on
    a grace after the context's deadline; the others' answers stand."""
    monkeypatch.setattr(fleet, "DEADLINE_GRACE", 0.2)
    release = threading.Event()

    class Fake:
        def __init__(self, name: str, deadline: float | None) -> None:
            self.server = f"https://{name}"
            self.name = name
            assert deadline is not None
            if name == "stuck":
                release.wait(30)  # stuck in "connect", deaf to its deadline

    try:
        with Clock() as clock:
            answers = fleet.run(
                ["a", "stuck", "b"],
                lambda c: c.name.upper(),
                connect=Fake,  # type: ignore[arg-type] # a stand-in with .server
                identity=lambda c: {"server": c.server},
                max_parallel=2,
                timeout=0.5,
            )
    finally:
        release.set()
    assert clock.seconds < 0.5 + 0.2 + 1.0, clock.seconds
    assert [a.value for a in answers] == ["A", None, "B"]
    assert isinstance(answers[1].error, Unreachable)
    assert answers[1].why().startswith("no answer within the fleet's per-context deadline (0.5s)")


# ---------------------------------------------------------------------------- exec plugins


def exec_user(sb: Sandbox, sleep: float) -> dict[str, Any]:
    """A user whose exec plugin answers the sandbox's admin token after `sleep` seconds."""
    out = json.dumps(
        {
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": {"token": sb.admin_token},
        }
    )
    code = f"import time, sys; time.sleep({sleep}); sys.stdout.write({out!r})"
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": ["-c", code],
            "interactiveMode": "Never",
        }
    }


def test_an_exec_plugin_answers_within_the_request_timeout(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc = merged_kubeconfig(tmp_path / "kc", {"quick": sandbox})
    cluster = yaml.safe_load(kc.read_text())["clusters"][0]["cluster"]
    add_context(kc, "sleepy", cluster, exec_user(sandbox, 8))
    add_context(kc, "prompt", cluster, exec_user(sandbox, 0))
    # a plugin that answers in time is used
    r = run_vip("--context", "prompt", "--request-timeout", "5s", "list", "-A", "-o", "name",
                kubeconfig=kc)  # fmt: skip
    assert r.code == 0, r.stderr
    with Clock() as clock:
        r = run_vip("--context", "sleepy", "--request-timeout", "1s", "list", "-A", kubeconfig=kc)
    assert clock.seconds < 4, clock.seconds
    assert r.code == ExitCode.ACCESS
    assert one_line(r.stderr) == (
        'error: the exec credential plugin of user "sleepy" failed: it did not answer within '
        "1s (--request-timeout): stopped; run the plugin's command by hand, or log in again"
    )


def test_a_slow_exec_plugin_costs_its_context_only(tmp_path: Path) -> None:
    good = make_sandbox()
    try:
        kc = merged_kubeconfig(tmp_path / "kc", {"good": good})
        cluster = yaml.safe_load(kc.read_text())["clusters"][0]["cluster"]
        add_context(kc, "sleepy", cluster, exec_user(good, 8))
        with Clock() as clock:
            r = run_vip("--request-timeout", "1s", "--all-contexts", "list", "-A", "-o", "json",
                        kubeconfig=kc)  # fmt: skip
    finally:
        good.stop()
    assert clock.seconds < 4, clock.seconds
    assert r.code == ExitCode.FAILED
    assert 'context sleepy: the exec credential plugin of user "sleepy" failed: it did not ' in (
        r.stderr
    )
    assert {i["context"] for i in json.loads(r.stdout)["items"]} == {"good"}


def endless_watch(h: BaseHTTPRequestHandler, stop: threading.Event) -> None:
    """A watch that never ends: a BOOKMARK every 0.2 s, timeoutSeconds or not."""
    if "watch=1" not in h.path:
        body = json.dumps({"kind": "Status", "status": "Failure", "code": 404}).encode()
        h.send_response(404)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
        return
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    bookmark = {"type": "BOOKMARK", "object": {"kind": "VpcIPClaim", "metadata": {}}}
    line = json.dumps(bookmark).encode() + b"\n"
    end = time.monotonic() + 15
    while not stop.wait(0.2) and time.monotonic() < end:
        h.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
        h.wfile.flush()


def test_a_watch_that_never_ends_is_cut_at_its_deadline(tmp_path: Path) -> None:
    """A watch lasts its timeoutSeconds; a server that keeps it open past that and a request
    timeout more is cut, so `--wait` cannot hang on it."""
    from kubectl_vip.api import kubeconfig as kcfg
    from kubectl_vip.api.cluster import Cluster, Resource

    claims = Resource("networking.tke.cloud.tencent.com", "v1", "vpcipclaims", True, "VpcIPClaim")
    with http_server(endless_watch) as url:
        kc = kubeconfig(tmp_path / "kc", url)
        c = Cluster(kcfg.load(str(kc), None), request_timeout=0.5)
        seen = 0
        with Clock() as clock, pytest.raises(Unreachable, match="timed out"):
            for kind, _obj in c.watch(claims, "db", timeout_seconds=1):
                assert kind == "BOOKMARK"
                seen += 1
    assert seen >= 3
    assert clock.seconds < 1 + 0.5 + 1.0, clock.seconds
