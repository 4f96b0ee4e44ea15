"""Fleet: list, usage and doctor across many contexts of one kubeconfig (two sandboxes, a dead
context), and the pure parts: pattern resolution, the bounded runner, the exit code."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.errors import ConfigError, ExitCode, UsageError
from kubectl_vip.ops import fleet
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault

from .conftest import Result, make_sandbox, run_vip
from .fleet_support import merged_kubeconfig

# ---------------------------------------------------------------------------- pure

CONTEXTS = ["prod-gz", "prod-sh", "staging-gz", "dev"]


@pytest.mark.parametrize(
    ("patterns", "every", "want"),
    [
        (["dev"], False, ["dev"]),
        (["prod-*"], False, ["prod-gz", "prod-sh"]),
        (["*-gz", "dev"], False, ["prod-gz", "staging-gz", "dev"]),
        (["dev", "prod-gz", "dev"], False, ["prod-gz", "dev"]),  # kubeconfig order, once each
        (["prod-[gs]?"], False, ["prod-gz", "prod-sh"]),
        ([], True, CONTEXTS),
    ],
    ids=["name", "glob", "glob-and-name", "dedup-order", "char-class", "all"],
)
def test_resolve(patterns: list[str], every: bool, want: list[str]) -> None:
    assert fleet.resolve(patterns, CONTEXTS, every=every) == want


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        (["prod"], 'context "prod" not found'),
        (["qa-*"], 'pattern "qa-*" matches no context'),
    ],
    ids=["unknown-name", "glob-matches-nothing"],
)
def test_resolve_refuses_what_matches_nothing(patterns: list[str], message: str) -> None:
    # a kubeconfig error, exit 3, as `--context prod` is
    with pytest.raises(ConfigError, match=re.escape(message)) as e:
        fleet.resolve(patterns, CONTEXTS, every=False)
    assert "prod-gz" in e.value.hint  # names the contexts there are


def test_split_patterns() -> None:
    assert fleet.split_patterns(["a,b", " c ", "", "d,,"]) == ["a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("oks", "worst", "want"),
    [
        ([True, True], 0, ExitCode.OK),
        ([True, False], 0, ExitCode.FAILED),
        ([False, False], 0, ExitCode.ACCESS),
        ([True, True], 1, ExitCode.FAILED),
    ],
    ids=["all-answer", "one-failed", "all-failed", "findings"],
)
def test_exit_code(oks: list[bool], worst: int, want: int) -> None:
    answers: list[fleet.Answer[Any]] = [
        fleet.Answer(f"c{i}", error=None if ok else UsageError("x")) for i, ok in enumerate(oks)
    ]
    assert fleet.exit_code(answers, worst) == want


def test_run_is_bounded_and_keeps_order() -> None:
    """At most max_parallel contexts at once; answers in the order asked, whatever the
    order they finish in; a failing context is an answer with its error."""
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    class FakeCluster:
        def __init__(self, name: str, deadline: float | None = None) -> None:
            self.server = f"https://{name}"
            self.name = name

    def work(c: Any) -> str:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05 if c.name != "c0" else 0.15)
        with lock:
            state["now"] -= 1
        if c.name == "c3":
            raise UsageError("broken")
        return c.name.upper()

    names = [f"c{i}" for i in range(7)]
    answers = fleet.run(
        names,
        work,
        connect=FakeCluster,  # type: ignore[arg-type] # a stand-in with .server
        identity=lambda c: {"server": c.server},
        max_parallel=3,
    )
    assert state["peak"] == 3
    assert [a.context for a in answers] == names
    assert answers[0].value == "C0" and answers[0].cluster == {"server": "https://c0"}
    assert answers[3].value is None and answers[3].why() == "broken"


# ---------------------------------------------------------------------------- sandboxes


@pytest.fixture(scope="module")
def pair() -> Iterator[dict[str, Sandbox]]:
    sbs = {"prod-a": make_sandbox(), "prod-b": make_sandbox()}
    yield sbs
    for sb in sbs.values():
        sb.stop()


@pytest.fixture(scope="module")
def fleet_kc(pair: dict[str, Sandbox], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "kubeconfig"
    return merged_kubeconfig(path, pair, dead=("dead-c",))


def vip(kc: Path, *args: str) -> Result:
    return run_vip(*args, kubeconfig=kc)


def test_list_json_merged_counts_equal_the_sum_per_context(
    fleet_kc: Path, pair: dict[str, Sandbox]
) -> None:
    r = vip(fleet_kc, "list", "-A", "--all-contexts", "-o", "json")
    assert r.code == ExitCode.FAILED  # one context failed, the others answered
    doc = json.loads(r.stdout)
    per_context = {}
    for name in pair:
        one = json.loads(vip(fleet_kc, "--context", name, "list", "-A", "-o", "json").stdout)
        per_context[name] = one
    assert len(doc["items"]) == sum(len(d["items"]) for d in per_context.values())
    for name, one in per_context.items():
        mine = [i for i in doc["items"] if i["context"] == name]
        assert [(i["namespace"], i["name"], i["uid"]) for i in mine] == [
            (i["namespace"], i["name"], i["uid"]) for i in one["items"]
        ]
        # each item names its cluster: the same identity a single-context plan carries
        assert {json.dumps(i["cluster"]) for i in mine} == {json.dumps(one["metadata"]["cluster"])}
        assert doc["summary"]["contexts"][name]["states"] == one["summary"]["states"]
    uids = {i["cluster"]["kubeSystemUID"] for i in doc["items"]}
    assert len(uids) == 2
    dead = [c for c in doc["metadata"]["contexts"] if c["name"] == "dead-c"]
    assert dead[0]["error"].startswith("cannot reach the API server")
    # the failure is one line on stderr naming the context
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: context dead-c: cannot reach")


def test_list_table_has_context_column_and_summaries(fleet_kc: Path) -> None:
    r = vip(fleet_kc, "--contexts", "prod-*", "list", "-A", "--state", "Orphaned")
    assert r.code == 0, r.stderr
    lines = r.lines
    assert lines[0].split()[:3] == ["CONTEXT", "NAMESPACE", "NAME"]
    rows = [line.split() for line in lines[1:] if line.startswith("prod-")]
    by_ctx = {
        c: [row for row in rows if row[0] == c and row[4] == "Orphaned"]
        for c in ("prod-a", "prod-b")
    }
    assert by_ctx["prod-a"] and len(by_ctx["prod-a"]) == len(by_ctx["prod-b"])
    n = len(by_ctx["prod-a"])
    assert f"prod-a: {n} claims: {n} Orphaned" in lines
    assert f"Fleet (2 contexts answered): {2 * n} claims: {2 * n} Orphaned" in lines
    hint = next(line for line in lines if line.startswith("Reclaiming"))
    assert hint.startswith(f"Reclaiming Orphaned claims would free {2 * n} IPs: ")
    assert hint.endswith(" reclaim --orphaned -A --contexts 'prod-*' --dry-run")


def test_all_contexts_dead_exits_3(tmp_path: Path) -> None:
    kc = merged_kubeconfig(tmp_path / "kc", {}, dead=("gone-1", "gone-2"))
    r = vip(kc, "list", "--all-contexts")
    assert r.code == ExitCode.ACCESS
    assert r.stdout == ""
    assert "context gone-1: cannot reach" in r.stderr and "context gone-2: cannot reach" in r.stderr


def test_slow_context_does_not_hold_the_others(tmp_path: Path) -> None:
    fast, slow = make_sandbox(), make_sandbox()
    try:
        slow.controls.inject(Fault(code=0, latency=6.0, times=-1))
        kc = merged_kubeconfig(tmp_path / "kc", {"fast": fast, "slow": slow})
        start = time.monotonic()
        r = vip(kc, "--request-timeout", "1s", "--all-contexts", "list", "-A", "-o", "json")
        took = time.monotonic() - start
    finally:
        fast.stop()
        slow.stop()
    assert took < 4.0, took  # the timeout (1s) and some slack, not the 6s latency
    assert r.code == ExitCode.FAILED
    assert "context slow: cannot reach" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["items"] and {i["context"] for i in doc["items"]} == {"fast"}


def test_usage_prometheus_labels_every_series_with_context(fleet_kc: Path) -> None:
    r = vip(fleet_kc, "usage", "--contexts", "prod-a,prod-b", "-o", "prometheus")
    assert r.code == 0, r.stderr
    samples = [line for line in r.lines if line and not line.startswith("#")]
    assert samples and all(re.search(r'\{context="prod-[ab]",', s) for s in samples)
    helps = [line for line in r.lines if line.startswith("# HELP kubectl_vip_subnet_used ")]
    assert len(helps) == 1  # one family, series from both contexts
    used = [s for s in samples if s.startswith("kubectl_vip_subnet_used{")]
    assert {s.split('"')[1] for s in used} == {"prod-a", "prod-b"}


def test_usage_table_totals(fleet_kc: Path) -> None:
    r = vip(fleet_kc, "usage", "--contexts", "prod-a", "--contexts", "prod-b")
    assert r.code == 0, r.stderr
    assert r.lines[0].split()[:2] == ["CONTEXT", "SUBNET"]
    used = {}
    for line in r.lines:
        m = re.match(r"(prod-[ab]): \d+ subnets, (\d+) IPs used", line)
        if m:
            used[m[1]] = int(m[2])
    assert set(used) == {"prod-a", "prod-b"}
    total = re.search(r"^Fleet \(2 contexts answered\): 6 subnets, (\d+) IPs used", r.stdout, re.M)
    assert total and int(total[1]) == sum(used.values())


def test_doctor_groups_by_context(fleet_kc: Path) -> None:
    r = vip(fleet_kc, "doctor", "--all-contexts", "--check", "VIP-POL-001")
    assert r.code == ExitCode.FAILED
    heads = [line for line in r.lines if line.startswith("Context ")]
    assert [h.split()[1] for h in heads] == ["prod-a", "prod-b"]
    table = [
        line.split() for line in r.lines if line.split()[:1] in (["prod-a"], ["prod-b"], ["dead-c"])
    ]
    assert table[0][:4] == ["prod-a", "0", "1", "0"]
    assert table[2] == ["dead-c", "-", "-", "-", "failed"]
    assert "context dead-c: cannot reach" in r.stderr
    j = vip(fleet_kc, "doctor", "--contexts", "prod-*", "--check", "VIP-POL-001", "-o", "json")
    doc = json.loads(j.stdout)
    assert doc["kind"] == "DoctorReportList"
    assert [i["context"] for i in doc["items"]] == ["prod-a", "prod-b"]
    assert doc["summary"]["contexts"]["prod-b"]["warning"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--context", "prod-a", "--contexts", "prod-b", "list"], "--context cannot be combined"),
        (["--contexts", "prod-a", "describe", "x"], "this command works on one context"),
        (["--all-contexts", "list", "--ips"], "cannot be combined with --all-contexts"),
        (["--contexts", "prod-a", "list", "--ips"], "cannot be combined with --contexts"),
        (["--contexts", "", "list"], '--contexts "" names no context'),
        (["--contexts", ",", "reclaim", "--orphaned", "-n", "db", "--yes"], "names no context"),
        (["--contexts", "prod-a", "--contexts", "", "usage"], "names no context"),
    ],
    ids=[
        "context-and-contexts",
        "single-context-command",
        "ips-all-contexts",
        "ips-contexts",
        "empty",
        "only-commas-reclaim",
        "one-empty-of-two",
    ],
)
def test_fleet_usage_errors(fleet_kc: Path, args: list[str], message: str) -> None:
    r = vip(fleet_kc, *args)
    assert r.code == ExitCode.USAGE
    assert message in r.stderr


def test_completion_offers_context_names_for_contexts(fleet_kc: Path) -> None:
    from kubectl_vip.cli.complete_plugin import complete

    got, _ = complete(["--kubeconfig", str(fleet_kc), "list", "--contexts", "prod"])
    assert [v for v, _ in got] == ["prod-a", "prod-b"]
    # comma-separated: the last item is completed, the ones before kept
    got, _ = complete(["--kubeconfig", str(fleet_kc), "usage", "--contexts=prod-a,d"])
    assert [v for v, _ in got] == ["--contexts=prod-a,dead-c"]


def test_a_context_without_tke_crds_is_reported_and_the_others_answer(
    tmp_path: Path, pair: dict[str, Sandbox]
) -> None:
    plain = make_sandbox(tke=False)
    try:
        kc = merged_kubeconfig(tmp_path / "kc", {"prod-a": pair["prod-a"], "plain": plain})
        r = vip(kc, "--all-contexts", "usage", "-o", "json")
    finally:
        plain.stop()
    assert r.code == ExitCode.FAILED
    assert "error: context plain: this cluster does not serve networking.tke" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["items"] and {i["context"] for i in doc["items"]} == {"prod-a"}


def test_progress_line_on_a_terminal(fleet_kc: Path) -> None:
    """With a terminal on stderr, a progress line counts the contexts that answered."""
    import io

    from kubectl_vip.cli.app import invoke
    from kubectl_vip.term.render import Out

    out, err = io.StringIO(), io.StringIO()
    code = invoke(
        ["--kubeconfig", str(fleet_kc), "--contexts", "prod-*", "list", "-A", "-o", "json"],
        Out(out, err, color=True),
    )
    assert code == 0
    assert "contexts answered" in err.getvalue()
    piped = vip(fleet_kc, "--contexts", "prod-*", "list", "-A", "-o", "json")
    assert "contexts answered" not in piped.stderr  # never in a pipe or a log


def test_list_name_output_names_context_and_namespace(fleet_kc: Path) -> None:
    r = vip(
        fleet_kc, "--contexts", "prod-*", "list", "-A", "--state", "orphaned,scaledin", "-o", "name"
    )
    assert r.code == 0, r.stderr
    kind = "vpcipclaim.networking.tke.cloud.tencent.com"
    assert f"prod-a db {kind}/redis-2" in r.lines and f"prod-b web {kind}/legacy-api-0" in r.lines
    assert len(r.lines) == 8


def test_a_forbidden_context_is_one_line_and_the_others_answer(
    pair: dict[str, Sandbox], tmp_path: Path
) -> None:
    """A context whose user may read nothing: one line naming it and the permission; the
    other context still answers; exit 1 (some failed), not 3 (not all did)."""
    import yaml

    from kubectl_vip.sandbox.controls import User

    sb = pair["prod-a"]
    sb.controls.add_user("nobody-token", User("nobody", []))
    kc = merged_kubeconfig(tmp_path / "kc", pair)
    doc = yaml.safe_load(kc.read_text())
    for u in doc["users"]:
        if u["name"] == "prod-a":
            u["user"] = {"token": "nobody-token"}
    kc.write_text(yaml.safe_dump(doc))
    r = vip(kc, "list", "--all-contexts", "-A", "-o", "json")
    assert r.code == ExitCode.FAILED, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "context prod-a:" in lines[0] and "forbidden" in lines[0]
    items = json.loads(r.stdout)["items"]
    assert items and {i["context"] for i in items} == {"prod-b"}


@pytest.mark.parametrize(
    "args",
    [
        ["--context", "nope", "list"],
        ["--contexts", "nope", "list"],
        ["--contexts", "nope-*", "list"],
        ["--contexts", "prod-a,nope", "usage"],
    ],
    ids=["context", "contexts", "contexts-pattern", "one-of-two"],
)
def test_unknown_contexts_exit_3_whichever_flag_names_them(fleet_kc: Path, args: list[str]) -> None:
    r = vip(fleet_kc, *args)
    assert r.code == ExitCode.ACCESS, r.stderr
    assert "nope" in r.stderr and r.stdout == ""
