"""One truth whatever the flags: a filter chooses rows and never changes a state; a printed
hint selects the cluster and the claims its message counted; fleet totals count each cluster
once; a dry run promises only what the real run may do; a plan is compared with the cluster;
doctor's findings agree with each other and with list; config reads the mode as list does.

Each case of issue 25 is here, against the sandbox (served over HTTPS, read by the real code
path), with a metamorphic property over random label sets and random worlds (hypothesis)."""

from __future__ import annotations

import json
import re
import shlex
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_vip.errors import ExitCode
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Rule, User
from kubectl_vip.sandbox.scenario_kit import B

from .conftest import Result, make_sandbox, run_vip

Obj = dict[str, Any]
LABEL = "pick"


def items(r: Result) -> list[Obj]:
    assert r.code in (0, 1), r.stderr
    found: list[Obj] = json.loads(r.stdout)["items"]
    return found


def states(r: Result) -> dict[tuple[str, str], str]:
    return {(i["namespace"], i["name"]): i["state"] for i in items(r)}


def ip_states(r: Result) -> dict[str, str]:
    return {i["ip"]: i["state"] for i in items(r)}


def _label(sb: Sandbox, picked: set[tuple[str, str]]) -> None:
    """Exactly the `picked` claims carry the label pick=yes."""
    claims = sb.world.t.claims
    assert claims is not None
    for o in list(sb.store.objects(claims)):
        key = (o["metadata"]["namespace"], o["metadata"]["name"])
        has = LABEL in (o["metadata"].get("labels") or {})
        if has == (key in picked):
            continue

        def set_label(obj: Obj, on: bool = key in picked) -> None:
            labels = obj["metadata"].setdefault("labels", {})
            if on:
                labels[LABEL] = "yes"
            else:
                labels.pop(LABEL, None)

        sb.store.mutate(claims, key[0], key[1], set_label)


# ---------------------------------------------------------------------------- states and filters


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[Sandbox, Path]]:
    sb = make_sandbox()
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        yield sb, sb.write_kubeconfig(Path(d) / "kubeconfig")
    sb.stop()


def test_ips_with_a_selector_never_invent_leaks(shared: tuple[Sandbox, Path]) -> None:
    """`list --ips -l app=redis` showed every VpcIP, and those of unlabelled claims (db/mysql-0,
    Running) as Leaked: the selector had filtered the claims they are joined with."""
    _, kc = shared
    every = ip_states(run_vip("list", "-A", "--ips", "-o", "json", kubeconfig=kc))
    r = run_vip("list", "-A", "--ips", "-l", "app=redis", "-o", "json", kubeconfig=kc)
    shown = items(r)
    assert {i["claim"]["name"] for i in shown} == {"redis-0", "redis-1", "redis-2", "redis-3"}
    assert all(i["state"] == every[i["ip"]] for i in shown)
    assert not any(i["state"] == "Leaked" for i in shown)
    text = run_vip("list", "-A", "--ips", "-l", "app=redis", kubeconfig=kc)
    assert "mysql-0" not in text.stdout and "Leaked" not in text.stdout
    assert text.stdout.rstrip().endswith("4 VpcIPs: 2 InUse, 2 ScaledIn")


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_state_is_the_same_whatever_the_filters(
    shared: tuple[Sandbox, Path], data: st.DataObject
) -> None:
    sb, kc = shared
    full = states(run_vip("list", "-A", "-o", "json", kubeconfig=kc))
    keys = sorted(full)
    picked = data.draw(st.sets(st.sampled_from(keys)), label="labelled")
    _label(sb, picked)
    ns = data.draw(st.sampled_from(sorted({k[0] for k in keys})), label="namespace")
    state = data.draw(st.sampled_from(sorted(set(full.values()))), label="state")

    def run(*args: str) -> Result:
        return run_vip(*args, "-o", "json", kubeconfig=kc)

    labelled = states(run("list", "-A", "-l", f"{LABEL}=yes"))
    assert set(labelled) == picked
    assert all(full[k] == s for k, s in labelled.items())
    in_ns = states(run("list", "-n", ns))
    assert in_ns == {k: s for k, s in full.items() if k[0] == ns}
    chosen = states(run("list", "-A", "--state", state.lower()))
    assert chosen == {k: s for k, s in full.items() if s == state}
    both = states(run("list", "-A", "-l", f"{LABEL}=yes", "--state", state.lower()))
    assert both == {k: s for k, s in full.items() if s == state and k in picked}
    # the VpcIP view: the same states for the same IPs, whatever -l chose
    every_ip = items(run("list", "-A", "--ips"))
    by_ip = {i["ip"]: i["state"] for i in every_ip}
    some = items(run("list", "-A", "--ips", "-l", f"{LABEL}=yes"))
    assert {(i["claim"]["namespace"], i["claim"]["name"]) for i in some} <= picked
    assert all(by_ip[i["ip"]] == i["state"] for i in some)
    # a claim's state reads the same in describe as in list
    for key in sorted(picked)[:2]:
        d = json.loads(run("describe", key[1], "-n", key[0]).stdout)
        assert d["state"] == full[key], key


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    gone=st.sets(st.sampled_from(["mysql-0", "mysql-1", "redis-0", "redis-1"]), max_size=2),
    scale=st.sampled_from([None, 0, 1, 3]),
)
def test_list_usage_describe_and_doctor_agree_on_every_count(
    tmp_path_factory: pytest.TempPathFactory, gone: set[str], scale: int | None
) -> None:
    """A random world (Pods deleted, a StatefulSet scaled): each view counts as list does."""
    sb = make_sandbox()
    try:
        b = B(sb)
        for name in sorted(gone):
            b.delete("pods", "db", name)
        if scale is not None:
            b.scale("db", "redis", scale)
        sb.tick()
        kc = sb.write_kubeconfig(tmp_path_factory.mktemp("agree") / "kubeconfig")

        def run(*args: str) -> Any:
            r = run_vip(*args, "-o", "json", kubeconfig=kc)
            assert r.code in (0, 1), r.stderr
            return json.loads(r.stdout)

        listed = run("list", "-A")
        claim_states = Counter(i["state"] for i in listed["items"])
        assert {k: v for k, v in listed["summary"]["states"].items() if v} == dict(claim_states)
        ips = run("list", "-A", "--ips")["items"]
        # usage: per subnet, each bucket counts the VpcIPs list --ips puts in it (a Pod that
        # still exists, terminating or completed, holds its IP: in use)
        bucket = {
            "inUse": {"InUse", "Terminating", "Completed"},
            "retained": {"Retained"},
            "expiring": {"Expiring"},
            "overdue": {"Overdue"},
            "scaledIn": {"ScaledIn"},
            "orphaned": {"Orphaned"},
            "leaked": {"Leaked"},
            "attaching": {"Attaching"},
        }
        for sub in run("usage")["items"]:
            mine = [i for i in ips if i["subnetCIDR"] == sub["cidr"]]
            for key, names in bucket.items():
                assert sub[key] == sum(1 for i in mine if i["state"] in names), (sub, key)
        # describe: each claim's state as list has it
        for i in listed["items"]:
            if i["namespace"] == "db":
                d = run("describe", i["name"], "-n", "db")
                assert d["state"] == i["state"], i["name"]
        # doctor: the claims of its claim checks are list's
        doc = run("doctor")
        found = {f["id"]: f for f in doc["findings"]}
        for check, state in (
            ("VIP-CLM-001", "Orphaned"),
            ("VIP-CLM-002", "Overdue"),
            ("VIP-CLM-005", "ScaledIn"),
        ):
            objects = found[check]["objects"] if check in found else []
            claims = {o for o in objects if o.startswith("VpcIPClaim/")}
            want = {
                f"VpcIPClaim/{i['namespace']}/{i['name']}"
                for i in listed["items"]
                if i["state"] == state
            }
            assert claims == want, check
        leaked = {f"VpcIP/{i['ip']}" for i in ips if i["state"] == "Leaked"}
        got = set(found["VIP-CLM-003"]["objects"]) if "VIP-CLM-003" in found else set()
        assert got == leaked
        # one finding per check id
        ids = [f["id"] for f in doc["findings"]]
        assert len(ids) == len(set(ids))
    finally:
        sb.stop()


# ---------------------------------------------------------------------------- hints


HINT = re.compile(r"kubectl-vip (?:[^`#\n(]|\((?=\w))*")


def hints(text: str) -> list[list[str]]:
    """Every command of ours printed in `text`, as argv (without the program)."""
    found = []
    for m in HINT.finditer(text):
        cmd = re.split(r" (?:and|or|once|then) ", m.group(0))[0].strip().rstrip(".,;:)")
        argv = shlex.split(cmd)[1:]
        if argv and not any((a.isalpha() and a.isupper()) or "|" in a for a in argv):  # templates
            found.append(argv)
    return found


def would(r: Result) -> set[tuple[str, str]]:
    return {(i["namespace"], i["name"]) for i in items(r) if i["result"] == "wouldReclaim"}


def test_every_hint_under_sandbox_stays_in_the_sandbox() -> None:
    """`--sandbox list --state overdue` hinted `kubectl vip reclaim --overdue -A --dry-run`:
    pasted, it ran against the user's real current context."""
    r = run_vip("--sandbox", "list", "-A", "--state", "overdue")
    assert r.stdout.rstrip().endswith("kubectl-vip --sandbox reclaim --overdue -A --dry-run")
    d = run_vip("--sandbox", "describe", "legacy-api-0", "-n", "web")
    assert "`kubectl-vip --sandbox reclaim legacy-api-0 -n web`" in " ".join(d.stdout.split())
    doc = run_vip("--sandbox", "doctor")
    text = doc.stdout + doc.stderr
    assert re.findall(r"kubectl-vip (?!--sandbox )\S+", text) == []
    # plain kubectl commands go to the served sandbox's kubeconfig, never the current context
    plain = re.findall(r"(?<![\w/-])kubectl (\S+)", text)
    assert plain and all(p == "--kubeconfig" for p in plain), plain
    assert "sandbox.kubeconfig" in text
    # a reclaim under --sandbox names no audit file that is gone when it exits
    r = run_vip("--sandbox", "reclaim", "debug-shell", "-n", "default", "--yes")
    assert "Audit: none kept" in r.stderr and "kubectl-vip-sandbox-" not in r.stderr


def test_hints_carry_the_context_and_kubeconfig_of_the_run(
    shared: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    sb, _ = shared
    cfg = sb.kubeconfig()
    cfg["contexts"][0]["name"] = "other"
    cfg["current-context"] = "nosuch-current"
    kc = tmp_path / "kc"
    kc.write_text(yaml.safe_dump(cfg))
    r = run_vip("--context", "other", "list", "-A", kubeconfig=kc)
    assert r.code == 0, r.stderr
    (hint,) = hints(r.stdout)
    assert hint[:4] == ["--kubeconfig", str(kc), "--context", "other"]
    # run as printed, it reaches the same cluster and selects what was counted
    freed = int(re.search(r"would free (\d+) IP", r.stdout).group(1))  # type: ignore[union-attr]
    out = run_vip(*hint, "-o", "json")
    assert len(would(out)) == freed


def test_each_printed_hint_runs_and_selects_what_its_message_counted(
    shared: tuple[Sandbox, Path],
) -> None:
    _, kc = shared
    _label(shared[0], set())
    seen: list[list[str]] = []
    for args in (
        ["list", "-A"],
        ["list", "-A", "--state", "orphaned"],
        ["list", "-A", "--state", "overdue"],
        ["usage"],
        ["describe", "legacy-api-0", "-n", "web"],
        ["describe", "redis-2", "-n", "db"],
        ["doctor"],
        ["list", "--ips", "-n", "jobs"],
    ):
        r = run_vip(*args, kubeconfig=kc)
        found = hints(r.stdout + r.stderr)
        assert found, args
        for argv in found:
            assert argv[:2] == ["--kubeconfig", str(kc)], argv
            if argv[2] == "reclaim" and "--dry-run" not in argv:
                argv = [*argv, "--dry-run"]
            if argv[2] in ("set-expiry", "enable-cascade", "disable-cascade", "bundle"):
                continue  # changes or files: their own tests run them
            seen.append(argv)
            out = run_vip(*argv)
            assert out.code in (0, 1), (argv, out.stderr)  # never a usage or access error
    assert len(seen) >= 8
    # the counts: list's, doctor's and describe's messages against their commands
    listed = states(run_vip("list", "-A", "-o", "json", kubeconfig=kc))
    for state, flag in (("Orphaned", "--orphaned"), ("Overdue", "--overdue")):
        want = {k for k, s in listed.items() if s == state}
        got = would(run_vip("reclaim", flag, "-A", "--dry-run", "-o", "json", kubeconfig=kc))
        assert got == want, state
    doc = json.loads(run_vip("doctor", "-o", "json", kubeconfig=kc).stdout)
    clm5 = next(f for f in doc["findings"] if f["id"] == "VIP-CLM-005")
    counted = {tuple(o.split("/")[1:]) for o in clm5["objects"]}
    argv = hints(clm5["fix"])[0]
    plan = json.loads(run_vip(*argv, "-o", "json").stdout)
    considered = {(i["namespace"], i["name"]) for i in plan["items"]} | {
        (n["namespace"], n["name"]) for n in plan["metadata"].get("notSelected", [])
    }
    assert counted <= considered  # each counted claim is taken or said why not


# ---------------------------------------------------------------------------- fleet identity


@pytest.fixture(scope="module")
def two_names() -> Iterator[tuple[dict[str, Sandbox], Path]]:
    """Contexts `viewer` and `admin` reach cluster A (viewer first, read-only); `other` is B."""
    a, b = make_sandbox(), make_sandbox()
    a.controls.add_user(
        "viewer-token",
        User(
            "viewer",
            [
                Rule(READ_ONLY_VERBS),
                Rule(frozenset({"create"}), frozenset({"selfsubjectaccessreviews"})),
            ],
        ),
    )
    doc: Obj = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []}
    for name, sb, token in (
        ("viewer", a, "viewer-token"),
        ("admin", a, a.admin_token),
        ("other", b, b.admin_token),
    ):
        cluster = dict(sb.kubeconfig()["clusters"][0]["cluster"])
        doc["clusters"].append({"name": name, "cluster": cluster})
        doc["users"].append({"name": name, "user": {"token": token}})
        doc["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    doc["current-context"] = "admin"
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        kc = Path(d) / "kubeconfig"
        kc.write_text(yaml.safe_dump(doc))
        kc.chmod(0o600)
        yield {"A": a, "B": b}, kc
    a.stop()
    b.stop()


def test_fleet_counts_each_cluster_once(two_names: tuple[dict[str, Sandbox], Path]) -> None:
    _, kc = two_names
    one = len(items(run_vip("--context", "admin", "list", "-A", "-o", "json", kubeconfig=kc)))
    other = len(items(run_vip("--context", "other", "list", "-A", "-o", "json", kubeconfig=kc)))
    r = run_vip("--all-contexts", "list", "-A", "-o", "json", kubeconfig=kc)
    doc = json.loads(r.stdout)
    assert len(doc["items"]) == one + other  # not 2 * one + other
    assert sum(doc["summary"]["states"].values()) == one + other
    meta = {m["name"]: m for m in doc["metadata"]["contexts"]}
    assert meta["admin"]["sameClusterAs"] == "viewer"
    assert meta["viewer"]["sameClusterAs"] is None and meta["other"]["sameClusterAs"] is None
    text = run_vip("--all-contexts", "list", "-A", kubeconfig=kc).stdout
    assert "viewer (also: admin): " in text
    assert "admin: the same cluster as viewer, counted once there" in text
    assert f"Fleet (3 contexts answered, 2 distinct clusters): {one + other} claims" in text
    usage = run_vip("--all-contexts", "usage", "-o", "json", kubeconfig=kc)
    assert {i["context"] for i in items(usage)} == {"viewer", "other"}
    doctor = run_vip("--all-contexts", "doctor", kubeconfig=kc)
    assert re.search(r"^admin +- +- +- += viewer$", doctor.stdout, re.M), doctor.stdout


def test_fleet_plan_holds_each_claim_once_through_a_context_that_may_delete(
    two_names: tuple[dict[str, Sandbox], Path], tmp_path: Path
) -> None:
    sbs, kc = two_names
    r = run_vip("--all-contexts", "reclaim", "--orphaned", "-A", "--dry-run", "-o", "json",
                kubeconfig=kc)  # fmt: skip
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    keys = [(i["cluster"]["kubeSystemUID"], i["namespace"], i["name"]) for i in doc["items"]]
    assert len(keys) == len(set(keys)) == 4  # 2 Orphaned claims in each of the 2 clusters
    # the viewer comes first but may not delete: cluster A's part is planned through admin
    assert {i["context"] for i in doc["items"]} == {"admin", "other"}
    text = run_vip("--all-contexts", "reclaim", "--orphaned", "-A", "--dry-run", kubeconfig=kc)
    assert "Dry run, fleet (3 contexts answered, 2 distinct clusters): 4 would reclaim" in (
        text.stdout
    )
    plan = tmp_path / "plan.json"
    plan.write_text(r.stdout)
    done = run_vip("--all-contexts", "reclaim", "--from-file", str(plan), "--yes", "-o", "json",
                   kubeconfig=kc)  # fmt: skip
    assert done.code == 0, done.stderr
    results = Counter(i["result"] for i in json.loads(done.stdout)["items"])
    assert results == {"reclaimed": 4}
    for sb in sbs.values():
        left = states(run_vip("list", "-A", "-o", "json", kubeconfig=sb.write_kubeconfig(
            tmp_path / "one.kc")))  # fmt: skip
        assert "Orphaned" not in left.values()


# ---------------------------------------------------------------------------- dry run vs real run


def _user(sb: Sandbox, tmp_path: Path, name: str, rules: list[Rule]) -> Path:
    sb.controls.add_user(f"{name}-token", User(name, rules))
    cfg = sb.kubeconfig()
    cfg["users"][0]["user"]["token"] = f"{name}-token"
    kc = tmp_path / f"{name}.kc"
    kc.write_text(yaml.safe_dump(cfg))
    return kc


SSAR = Rule(frozenset({"create"}), frozenset({"selfsubjectaccessreviews"}))
EVERY_READ = Rule(READ_ONLY_VERBS)


@pytest.mark.parametrize(
    ("rules", "lacks"),
    [
        ([EVERY_READ, SSAR], ["delete vpcipclaims"]),
        (
            [
                Rule(frozenset({"list", "watch"})),
                Rule(READ_ONLY_VERBS, frozenset({"vpcipclaims", "vpcips", "deployments"})),
                SSAR,
                Rule(frozenset({"delete"}), frozenset({"vpcipclaims"})),
            ],
            ["get pods", "get statefulsets"],
        ),
    ],
    ids=["may-not-delete", "may-list-not-get"],
)
def test_the_dry_run_checks_the_real_runs_permissions(
    sandbox: Sandbox, tmp_path: Path, rules: list[Rule], lacks: list[str]
) -> None:
    kc = _user(sandbox, tmp_path, "limited", rules)
    r = run_vip("reclaim", "--orphaned", "-n", "web", "--dry-run", kubeconfig=kc)
    assert r.code == ExitCode.FAILED, r.stdout + r.stderr
    assert "Dry run: 2 would reclaim" in r.stdout
    for verb in lacks:
        assert re.search(rf'you may not {verb}\S* in namespace "web"', r.stderr), verb
    doc = json.loads(
        run_vip(
            "reclaim", "--orphaned", "-n", "web", "--dry-run", "-o", "json", kubeconfig=kc
        ).stdout
    )
    missing = {
        f"{m['verb']} {m['resource'].split('.')[0]}" for m in doc["metadata"]["missingPermissions"]
    }
    assert set(lacks) <= missing
    # the real run does fail, as the dry run said
    real = run_vip("reclaim", "--orphaned", "-n", "web", "--yes", kubeconfig=kc)
    assert real.code != 0
    admin = run_vip("reclaim", "--orphaned", "-n", "web", "--dry-run", "-o", "json",
                    kubeconfig=sandbox.write_kubeconfig(tmp_path / "admin.kc"))  # fmt: skip
    assert admin.code == 0 and "missingPermissions" not in json.loads(admin.stdout)["metadata"]


def test_a_dry_run_then_a_real_run_reclaim_the_planned_set_or_say_why(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = run_vip("reclaim", "--orphaned", "--overdue", "-A", "--dry-run", "-o", "json",
                kubeconfig=kc)  # fmt: skip
    planned = would(r)
    assert len(planned) == 4
    plan = tmp_path / "plan.json"
    plan.write_text(r.stdout)
    # one planned claim changes in between (labelled: a new resourceVersion)
    changed = sorted(planned)[0]
    sandbox.store.mutate(
        sandbox.world.t.claims,  # type: ignore[arg-type]
        changed[0],
        changed[1],
        lambda o: o["metadata"].setdefault("labels", {}).update(touched="yes"),
    )
    done = run_vip("reclaim", "--from-file", str(plan), "--yes", "-o", "json", kubeconfig=kc)
    assert done.code == ExitCode.FAILED
    out = {(i["namespace"], i["name"]): i for i in json.loads(done.stdout)["items"]}
    assert set(out) == planned
    assert {k for k, i in out.items() if i["result"] == "reclaimed"} == planned - {changed}
    assert "changed since the plan was made" in out[changed]["reason"]


# ---------------------------------------------------------------------------- plans


def _plan(sandbox: Sandbox, tmp_path: Path) -> tuple[Path, Obj]:
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    r = run_vip("reclaim", "--orphaned", "-n", "web", "--dry-run", "-o", "json", kubeconfig=kc)
    return kc, json.loads(r.stdout)


def _exists(kc: Path, ns: str, name: str) -> bool:
    return (ns, name) in states(run_vip("list", "-n", ns, "-o", "json", kubeconfig=kc))


def test_a_plan_item_whose_ip_was_edited_is_skipped_and_the_table_shows_the_live_ip(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc, doc = _plan(sandbox, tmp_path)
    item = next(i for i in doc["items"] if i["name"] == "legacy-api-0")
    live_ip = item["ip"]
    item["ip"] = "10.9.9.9"
    plan = tmp_path / "edited.json"
    plan.write_text(json.dumps(doc))
    r = run_vip("reclaim", "--from-file", str(plan), kubeconfig=kc)  # no --yes: the table
    row = next(ln.split() for ln in r.lines if ln.startswith("web ") and " legacy-api-0 " in ln)
    assert row[2] == live_ip  # the IP column: the live claim's, not the file's
    assert "changed since the plan: the plan says IP 10.9.9.9, the claim holds " + live_ip in (
        " ".join(r.stdout.split())
    )
    r = run_vip("reclaim", "--from-file", str(plan), "--yes", kubeconfig=kc)
    assert r.code == ExitCode.FAILED
    assert _exists(kc, "web", "legacy-api-0") and not _exists(kc, "web", "legacy-api-1")


def test_a_plan_item_renamed_with_another_claims_uid_is_changed_not_taken(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    kc, doc = _plan(sandbox, tmp_path)
    one, two = sorted(doc["items"], key=lambda i: i["name"])
    doc["items"] = [{**one, "name": two["name"], "ip": two["ip"]}]  # two's name, one's uid
    plan = tmp_path / "renamed.json"
    plan.write_text(json.dumps(doc))
    r = run_vip("reclaim", "--from-file", str(plan), "--yes", "-o", "json", kubeconfig=kc)
    assert r.code == ExitCode.FAILED
    (item,) = json.loads(r.stdout)["items"]
    assert item["result"] == "skipped"
    assert f"which is claim web/{one['name']}" in item["reason"]
    assert _exists(kc, "web", one["name"]) and _exists(kc, "web", two["name"])


# ---------------------------------------------------------------------------- doctor


def test_doctor_at_2000_claims_fits_a_screen_or_two(tmp_path: Path) -> None:
    sb = make_sandbox("scale", size=2000)
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        r = run_vip("doctor", kubeconfig=kc)
        assert len(r.lines) <= 120, len(r.lines)
        doc = json.loads(run_vip("doctor", "-o", "json", kubeconfig=kc).stdout)
        ids = [f["id"] for f in doc["findings"]]
        assert len(ids) == len(set(ids))
        for f in doc["findings"]:
            assert len(f["evidence"]) <= 14, f["id"]
        pol5 = next(f for f in doc["findings"] if f["id"] == "VIP-POL-005")
        n = int(pol5["title"].split()[0])
        assert n > 10 and len([d for d in pol5["details"] if not d.startswith(" ")]) == n
    finally:
        sb.stop()


def test_quota_findings_agree_and_name_the_nodes_taint(sandbox: Sandbox, tmp_path: Path) -> None:
    """VIP-ENI-001 said "VPC ENI quota reached" beside VIP-ENI-003 "ok: headroom"."""

    def taint(n: Obj) -> None:
        n.setdefault("spec", {}).setdefault("taints", []).append(
            {
                "key": "tke.cloud.tencent.com/eni-ip-unavailable",
                "value": "true",
                "effect": "NoSchedule",
            }
        )

    sandbox.store.mutate(sandbox.world.t.nodes, "", "node-c", taint)
    kc = sandbox.write_kubeconfig(tmp_path / "kc")
    doc = json.loads(run_vip("doctor", "-o", "json", kubeconfig=kc).stdout)
    found = {f["id"]: f for f in doc["findings"]}
    assert found["VIP-ENI-001"]["title"].startswith("VPC ENI quota reached")
    assert found["VIP-ENI-003"]["title"].startswith("VPC ENI quota reached")
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["VIP-ENI-003"]["status"] != "ok"
    assert any(
        "node node-c" in e and "taint tke.cloud.tencent.com/eni-ip-unavailable" in e
        for e in found["VIP-ENI-001"]["evidence"]
    )


# ---------------------------------------------------------------------------- config, durations


def test_config_reads_static_mode_as_list_does(tmp_path: Path) -> None:
    sb = make_sandbox(tke=False)
    try:
        kc = sb.write_kubeconfig(tmp_path / "kc")
        assert run_vip("list", "-A", kubeconfig=kc).code == ExitCode.NOT_VPC_CNI
        r = run_vip("config", kubeconfig=kc)
        assert "Static IP mode:   off: this cluster does not serve" in r.stdout
        assert (
            json.loads(run_vip("config", "-o", "json", kubeconfig=kc).stdout)["staticIPMode"]
            is False
        )
    finally:
        sb.stop()


@pytest.mark.parametrize(
    ("value", "write"), [("3d", "72h"), ("1w", "168h"), ("1d12h", "36h"), ("1.5d", "36h")]
)
def test_duration_hints_convert_days_and_weeks_exactly(value: str, write: str) -> None:
    r = run_vip("--sandbox", "reclaim", "--retained-for", value, "-A", "--dry-run")
    assert r.code == ExitCode.USAGE
    assert f"(write {write} instead)" in r.stderr
