"""Reliability under faults: retries, expired continue tokens, access errors, malformed objects,
reclaim under churn and when killed midway, and the bad-input catalogue."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault, RequestInfo
from kubectl_vip.sandbox.store import Event

from .conftest import BIN, Runner, run_vip, with_default_sigint


def requests_for(sb: Sandbox, verb: str, resource: str) -> list[RequestInfo]:
    return [q for q in sb.controls.resource_requests() if q.verb == verb and q.resource == resource]


def names(r: Any) -> list[str]:
    return [f"{i['namespace']}/{i['name']}" for i in json.loads(r.stdout)["items"]]


# ---------------------------------------------------------------------------- reads retry


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault(verb="list", resource="vpcips", code=500, times=2), id="500-twice"),
        pytest.param(
            Fault(verb="list", resource="vpcips", code=503, reason="ServiceUnavailable", times=1),
            id="503",
        ),
        pytest.param(
            Fault(verb="list", resource="vpcips", code=429, reason="TooManyRequests", times=1),
            id="429",
        ),
        pytest.param(
            Fault(verb="list", resource="vpcips", reset=True, times=2), id="connection-reset"
        ),
    ],
)
def test_reads_retry_transient_failures(vip: Runner, sandbox: Sandbox, fault: Fault) -> None:
    expected = vip("list", "-A", "-o", "name").stdout
    sandbox.controls.clear_log()
    sandbox.controls.inject(fault)
    r = vip("list", "-A", "-o", "name")
    assert r.code == 0, r.stderr
    assert r.stdout == expected
    assert len(requests_for(sandbox, "list", "vpcips")) == fault.times + 1


def test_reads_give_up_after_bounded_retries(vip: Runner, sandbox: Sandbox) -> None:
    sandbox.controls.inject(
        Fault(
            verb="list", resource="vpcips", code=500, times=-1, message="etcdserver: leader changed"
        )
    )
    r = vip("list", "-A")
    assert r.code == 1
    assert r.stderr.strip() == "error: etcdserver: leader changed"
    assert len(requests_for(sandbox, "list", "vpcips")) == 4  # the first try and 3 retries


def test_request_timeout_bounds_a_slow_server(vip: Runner, sandbox: Sandbox) -> None:
    sandbox.controls.inject(
        Fault(verb="list", resource="vpcipclaims", code=0, latency=5.0, times=-1)
    )
    t0 = time.monotonic()
    r = vip("--request-timeout", "1s", "list", "-A")
    elapsed = time.monotonic() - t0
    assert r.code == 3
    assert "cannot reach the API server" in r.stderr and "timed out" in r.stderr
    assert elapsed < 30  # bounded by --request-timeout, not the server's 5 s per request


def test_writes_are_never_retried(vip: Runner, sandbox: Sandbox) -> None:
    sandbox.controls.inject(
        Fault(
            verb="delete",
            resource="vpcipclaims",
            name="redis-3",
            code=500,
            times=1,
            message="etcdserver: request timed out",
        )
    )
    kept = ("--scaled-in-for", "24h")  # redis was scaled in six days ago
    r = vip("reclaim", "redis-2", "redis-3", "-n", "db", "--yes", "-o", "json", *kept)
    assert r.code == 1
    results = {i["name"]: (i["result"], i["reason"]) for i in json.loads(r.stdout)["items"]}
    assert results["redis-2"][0] == "reclaimed"
    assert results["redis-3"] == ("failed", "etcdserver: request timed out")
    assert [q.name for q in requests_for(sandbox, "delete", "vpcipclaims")].count("redis-3") == 1
    assert sandbox.store.peek(sandbox.world.t.claims, "db", "redis-3") is not None
    rerun = vip("reclaim", "redis-3", "-n", "db", "--yes", *kept)
    assert rerun.code == 0


def test_expired_continue_restarts_the_list_without_gaps_or_duplicates(
    vip: Runner, sandbox: Sandbox
) -> None:
    expected = vip("list", "-A", "-o", "name").stdout
    sandbox.controls.clear_log()
    sandbox.controls.inject(
        Fault(verb="list", resource="vpcipclaims", expire_continue=True, times=1)
    )
    r = vip("list", "-A", "-o", "name", "--chunk-size", "5")
    assert r.code == 0, r.stderr
    assert r.stdout == expected
    tokens = [q.query.get("continue", "") for q in requests_for(sandbox, "list", "vpcipclaims")]
    assert tokens[0] == "" and tokens[1] != "" and tokens[2] == ""  # started over after the 410


# ---------------------------------------------------------------------------- access errors


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "-A"],
        ["usage"],
        ["config"],
        ["describe", "mysql-0", "-n", "db"],
        ["reclaim", "--orphaned", "-A", "--dry-run"],
    ],
)
def test_unauthorized_is_exit_3_everywhere(
    kubeconfig: Path, sandbox: Sandbox, argv: list[str]
) -> None:
    sandbox.controls.users.clear()
    from kubectl_vip.sandbox.controls import ADMIN

    sandbox.controls.add_user("somebody-else", ADMIN)
    r = run_vip(*argv, kubeconfig=kubeconfig)
    assert r.code == 3, r.stderr
    assert "Unauthorized" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "-A"],
        ["usage"],
        ["config"],
        ["describe", "mysql-0", "-n", "db"],
        ["reclaim", "--orphaned", "-A", "--dry-run"],
    ],
)
def test_connection_refused_is_exit_3_everywhere(tmp_path: Path, argv: list[str]) -> None:
    from .conftest import make_sandbox

    sb = make_sandbox("empty")
    kc = sb.write_kubeconfig(tmp_path / "kc")
    sb.stop()
    r = run_vip("--request-timeout", "2s", *argv, kubeconfig=kc)
    assert r.code == 3
    assert "cannot reach the API server" in r.stderr and "connection refused" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------------- malformed objects


def test_malformed_objects_show_unknown_instead_of_crashing(vip: Runner, sandbox: Sandbox) -> None:
    claims, vips = sandbox.world.t.claims, sandbox.world.t.vips
    assert claims is not None and vips is not None
    store = sandbox.store
    store.create(claims, "default", {"metadata": {"name": "no-status"}})
    store.create(
        claims,
        "default",
        {
            "metadata": {
                "name": "wrong-types",
                "annotations": {"tke.cloud.tencent.com/claim-expired-duration": "soon"},
            },
            "status": {"ip": 42, "releaseTime": 7},
        },
    )
    store.create(
        claims,
        "default",
        {
            "metadata": {"name": "huge", "annotations": {"x": "y" * 500_000}},
            "status": {"ip": "10.0.1.11", "phase": "Bogus"},
        },
    )
    store.create(
        vips,
        "",
        {
            "metadata": {"name": "10.0.1.11"},
            "spec": {"claimRef": "nope", "type": 3},
            "status": {"phase": "Teleporting"},
        },
    )
    store.create(vips, "", {"metadata": {"name": "10.0.1.12"}, "spec": None, "status": []})
    for argv in (
        ["list", "-n", "default", "-o", "wide"],
        ["list", "--ips", "-A", "-o", "wide"],
        ["list", "-n", "default", "-o", "json"],
        ["usage"],
        ["describe", "wrong-types"],
        ["describe", "10.0.1.11"],
        ["describe", "no-status"],
    ):
        r = vip(*argv)
        assert r.code == 0, (argv, r.stderr)
        assert "Traceback" not in r.stderr
    wide = vip("list", "-n", "default", "-o", "wide").stdout.split("\n\n")[0].splitlines()
    rows = {line.split()[0]: line.split() for line in wide[1:]}
    assert rows["no-status"][1:3] == ["<none>", "Retained"]
    assert "<no VpcIP>" in " ".join(rows["no-status"])
    assert rows["wrong-types"][1] == "42"  # shown as found, never a crash
    ips = {line.split()[0]: line.split() for line in vip("list", "--ips", "-A").lines[1:-2]}
    assert ips["10.0.1.12"][1:3] == ["Unknown", "<unknown>"]  # no readable claim ref: not Leaked
    assert ips["10.0.1.11"][2] == "Teleporting"


# ---------------------------------------------------------------------------- reclaim under churn


def _guard_live_pods(sb: Sandbox, broken: list[str]) -> None:
    """Record every claim deleted while a live (Pending/Running) Pod of its name existed."""
    pods = sb.world.t.pods

    def check(ev: Event) -> None:
        if ev.rtype is sb.world.t.claims and ev.type == "DELETED":
            m = ev.obj["metadata"]
            pod = sb.store.peek(pods, m["namespace"], m["name"])
            if pod is not None and pod.get("status", {}).get("phase") in (
                "Pending",
                "Running",
                None,
            ):
                broken.append(f"{m['namespace']}/{m['name']}")

    sb.store.listeners.insert(0, check)


def test_reclaim_under_churn_never_breaks_a_live_pod_and_converges(
    vip: Runner, sandbox: Sandbox
) -> None:
    rng = random.Random(7)
    pods = sandbox.world.t.pods
    broken: list[str] = []
    _guard_live_pods(sandbox, broken)
    targets = ["debug-shell", "canary-0"]
    template = {"annotations": {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Never"}}

    def churn(req: RequestInfo) -> None:
        # Pods come and go at random (seeded) while the bulk reclaim runs
        for name in targets:
            if rng.random() < 0.5:
                if sandbox.store.peek(pods, "default", name) is None:
                    sandbox.store.create(
                        pods,
                        "default",
                        {
                            "metadata": {"name": name, **template},
                            "spec": {
                                "containers": [
                                    {
                                        "name": "c",
                                        "resources": {
                                            "requests": {"tke.cloud.tencent.com/eni-ip": "1"}
                                        },
                                    }
                                ]
                            },
                        },
                    )
                else:
                    sandbox.store.delete(pods, "default", name)
        if rng.random() < 0.3:  # and a StatefulSet scales back up

            def up(o: dict[str, Any]) -> None:
                o["spec"]["replicas"] = 3

            sandbox.store.mutate(sandbox.world.t.statefulsets, "db", "redis", up)

    for verb in ("get", "delete", "list"):
        sandbox.controls.on(verb, "*", churn, once=False)
    # every reclaimable claim; ScaledIn ones too, however recently redis was scaled
    bulk = ("reclaim", "-A", "-l", "tke.cloud.tencent.com/none!=x", "--scaled-in-for", "0s")
    first = vip(*bulk, "--yes", "-o", "json")
    assert first.code in (0, 1), first.stderr
    sandbox.controls.hooks.clear()
    assert broken == []
    # with the churn over, running again converges: nothing left to refuse or fail
    again = vip(*bulk, "--yes", "-o", "json")
    third = vip(*bulk, "--yes", "-o", "json")
    assert third.code == 0, third.stdout
    assert json.loads(third.stdout)["items"] == [] or all(
        i["result"] == "reclaimed" for i in json.loads(third.stdout)["items"]
    )
    assert again.code in (0, 1)
    assert broken == []


def _slow_bulk_reclaim(
    sandbox: Sandbox, kubeconfig: Path, state: Path, *extra: str
) -> tuple[list[str], dict[str, str], list[str]]:
    """A bulk reclaim whose deletes take 0.4 s each, one at a time, as a separate process:
    (argv, env, the claims deleted so far as the sandbox sees them)."""
    env = dict(
        os.environ, KUBECONFIG=str(kubeconfig), KUBECTL_VIP_STATE_DIR=str(state), NO_COLOR="1"
    )
    sandbox.controls.inject(
        Fault(verb="delete", resource="vpcipclaims", code=0, latency=0.4, times=-1)
    )
    deleted: list[str] = []

    def seen(ev: Event) -> None:
        if ev.rtype is sandbox.world.t.claims and ev.type == "DELETED":
            deleted.append(f"{ev.obj['metadata']['namespace']}/{ev.obj['metadata']['name']}")

    sandbox.store.listeners.insert(0, seen)
    argv = [
        str(BIN / "kubectl-vip"),
        "reclaim",
        "--orphaned",
        "--overdue",
        "--scaled-in",  # redis-2, -3: scaled in six days before the demo's present
        "--scaled-in-for",
        "24h",
        "-A",
        "--yes",
        "--concurrency",
        "1",
        *extra,
    ]
    return argv, env, deleted


def test_killed_midway_loses_nothing_and_a_rerun_finishes(
    kubeconfig: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    argv, env, deleted = _slow_bulk_reclaim(sandbox, kubeconfig, state)
    with subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as p:
        deadline = time.monotonic() + 60
        while len(deleted) < 2 and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
    assert 1 <= len(deleted) < 6
    audit = state / "reclaim-audit.jsonl"
    recorded = {
        f"{e['claim']['metadata']['namespace']}/{e['claim']['metadata']['name']}"
        for e in map(json.loads, audit.read_text().splitlines())
        if e["action"] == "reclaim"  # the intent records (outcome records follow them)
    }
    assert set(deleted) <= recorded  # written (and synced) before each delete
    sandbox.controls.clear_faults()
    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    left = run_vip(
        "list",
        "-A",
        "--state",
        "Orphaned,ScaledIn",
        "--state",
        "Overdue",
        "-o",
        "name",
        kubeconfig=kubeconfig,
    )
    assert left.stdout == ""


# ---------------------------------------------------------------------------- bad input catalogue


BAD_INPUT = [
    (["list", "-o", "xml"], "unknown output format"),
    (["list", "-l", "a=b=c"], "invalid label selector"),
    (["list", "-l", "app in (x"], "invalid label selector"),
    (["list", "--state", "Happy"], "unknown state"),
    (["list", "--sort-by", "size"], "unknown --sort-by"),
    (["list", "--chunk-size", "-1"], "--chunk-size"),
    (["reclaim", "--ip", "10.0.1.300", "--yes"], "not an IPv4 address"),
    (["reclaim", "--ip", "fe80::1", "--yes"], "not an IPv4 address"),
    (["reclaim", "--retained-for", "1d", "-A"], "invalid --retained-for"),
    (["reclaim", "--retained-for", "banana", "-A"], "invalid --retained-for"),
    (["reclaim", "-l", "!!", "-A"], "invalid label selector"),
    (["reclaim", "--orphaned", "--max", "0"], "--max"),
    (["reclaim", "--orphaned", "--timeout", "-5s", "--wait"], "--timeout"),
    (["set-expiry", "4m59s"], "below the 5m minimum"),
    (["set-expiry", "banana"], "invalid duration"),
    (["set-expiry", "1d"], "1d"),
    (["usage", "-o", "csv"], "output format"),
    (["config", "-o", "xml"], "output format"),
    (["describe", "x", "-o", "table-ish"], "output format"),
    (["--request-timeout", "soon", "list"], "invalid --request-timeout"),
    (["list", "--no-such-flag"], "No such option"),
    (["no-such-command"], "No such command"),
]


@pytest.mark.parametrize(("argv", "fragment"), BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_catalogue(vip: Runner, sandbox: Sandbox, argv: list[str], fragment: str) -> None:
    sandbox.controls.clear_log()
    r = vip(*argv)
    assert r.code == 2, (r.code, r.stderr)
    assert fragment in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert sandbox.controls.resource_requests() == []


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "-n", "nope"],
        ["list", "--ips", "-n", "nope"],
        ["reclaim", "x-0", "-n", "nope", "--yes"],
        ["describe", "x", "-n", "nope"],
    ],
)
def test_missing_namespace_says_so(vip: Runner, argv: list[str]) -> None:
    r = vip(*argv)
    assert r.code == 1
    assert 'namespace "nope" not found' in r.stderr


def _ctrl_c_when(
    argv: list[str], env: dict[str, str], ready: Callable[[], object]
) -> tuple[int, str, str]:
    """Run `argv`, send it Ctrl-C as soon as `ready()` is true (or after 60 s, or when it has
    ended by itself); (exit code, stdout, stderr)."""
    with subprocess.Popen(
        with_default_sigint(argv),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as p:
        deadline = time.monotonic() + 60
        while not ready() and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.02)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    return p.returncode, out, err


def test_ctrl_c_stops_starting_new_deletes_and_reports(
    kubeconfig: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    argv, env, deleted = _slow_bulk_reclaim(sandbox, kubeconfig, tmp_path, "-o", "json")
    code, out, err = _ctrl_c_when(argv, env, lambda: deleted)
    assert code == 130, err
    assert "interrupted: no new deletes were started" in err
    results = [i["result"] for i in json.loads(out)["items"]]
    assert results.count("reclaimed") == len(deleted) < 6
    assert results.count("skipped") == 6 - len(deleted)


def test_ctrl_c_after_the_deletes_says_they_were_all_done(
    kubeconfig: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    """A Ctrl-C while `--wait` reads the VpcIPs (every delete already made): exit 130, and the
    line says every claim was processed and where the audit is, not "no new deletes"."""
    argv, env, deleted = _slow_bulk_reclaim(sandbox, kubeconfig, tmp_path, "--wait")
    sandbox.controls.clear_faults()  # deletes at full speed; the wait is what takes long
    waiting: list[RequestInfo] = []

    def slow_wait(req: RequestInfo) -> None:
        waiting.append(req)
        time.sleep(1)

    def after_the_deletes(ev: Event) -> None:
        if ev.type == "DELETED" and ev.rtype is sandbox.world.t.claims and len(deleted) == 6:
            sandbox.controls.on("list", "vpcips", slow_wait, once=False)

    sandbox.store.listeners.append(after_the_deletes)  # after `deleted` is appended to
    code, out, err = _ctrl_c_when(argv, env, lambda: waiting)
    assert code == 130, err
    assert len(deleted) == 6
    assert err.count("error:") == 1
    assert "interrupted after the deletes: every selected claim was processed" in err
    assert str(tmp_path / "reclaim-audit.jsonl") in err
    assert "no new deletes" not in err and "Traceback" not in err
    assert all(f"vipc/{key}" in out for key in deleted), out  # each delete's line came first


def test_ctrl_c_in_any_command_says_interrupted_once(
    kubeconfig: Path, sandbox: Sandbox, tmp_path: Path
) -> None:
    """typer ends a Ctrl-C inside a command with a silent exit 130; we say "interrupted"."""
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), NO_COLOR="1")
    listing: list[RequestInfo] = []

    def slow_list(req: RequestInfo) -> None:
        listing.append(req)
        time.sleep(2)

    sandbox.controls.on("list", "pods", slow_list, once=False)
    code, _, err = _ctrl_c_when([str(BIN / "kubectl-vip"), "doctor"], env, lambda: listing)
    assert code == 130, err
    assert err.strip() == "error: interrupted"
