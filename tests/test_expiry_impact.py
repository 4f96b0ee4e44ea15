"""What a new ipamd expiry makes ipamd reclaim (pure, table-driven), then end to end on the
sandbox: the impact shown equals what the simulated ipamd then reclaims."""

from __future__ import annotations

import io
import json
import shlex
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.cli.app import invoke
from kubectl_vip.model import expiry_impact as ei
from kubectl_vip.model.claims import Inventory, IpamdPolicy
from kubectl_vip.model.expiry_impact import Due
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.scenario_kit import B
from kubectl_vip.term.render import Out

from .conftest import Result, Runner, aimed, make_sandbox, run_vip
from .test_claims import NOW, claim, pod, sts, vip
from .test_settings import _advancing

M = timedelta(minutes=1)
H = timedelta(hours=1)
NEVER = IpamdPolicy(None)
Obj = dict[str, Any]


def _inv(
    claims: list[Obj], pods: list[Obj] | None = None, sts_: list[Obj] | None = None
) -> Inventory:
    vips = [
        vip(c["status"]["ip"], c["metadata"]["namespace"], c["metadata"]["name"], uid=None)
        for c in claims
    ]
    return Inventory.build(claims, vips, pods or [], {"StatefulSet": sts_ or []})


# (id, claim kwargs, current policy, new expiry, want due, want by_change)
DUE_CASES: list[tuple[str, dict[str, Any], IpamdPolicy, timedelta | None, Due | None, bool]] = [
    ("retained-past-new", {"released": 3 * H}, NEVER, H, Due.NEXT_SWEEP, True),
    ("retained-at-exactly", {"released": H}, NEVER, H, Due.NEXT_SWEEP, True),
    ("due-within-24h", {"released": 30 * M}, NEVER, H, Due.WITHIN, True),
    ("due-after-24h", {"released": 3 * H}, NEVER, 30 * H, None, False),
    ("estimated-release", {"managed_status_at": 3 * H}, NEVER, H, Due.UNKNOWN, True),
    ("annotation-wins", {"released": 3 * H, "expiry": "48h"}, NEVER, H, None, False),
    (
        "annotation-due-anyway",
        {"released": 3 * H, "expiry": "30m"},
        NEVER,
        H,
        Due.NEXT_SWEEP,
        False,
    ),
    (
        "annotation-ignored-old-ipamd",
        {"released": 3 * H, "expiry": "48h"},
        IpamdPolicy(None, annotation_supported=False),
        H,
        Due.NEXT_SWEEP,
        True,
    ),
    # "0s" may read as never or as unset (then the new flag applies): the worse case counts
    (
        "annotation-zero-is-unknown",
        {"released": 3 * H, "expiry": "0s"},
        NEVER,
        H,
        Due.NEXT_SWEEP,
        True,
    ),
    ("protected", {"released": 30 * H, "expiry": "87600h"}, NEVER, H, None, False),
    ("never-reclaims-nothing", {"released": 3 * H}, IpamdPolicy(2 * H), None, None, False),
    ("both-due", {"released": 3 * H}, IpamdPolicy(2 * H), H, Due.NEXT_SWEEP, False),
    ("brought-forward", {"released": 90 * M}, IpamdPolicy(2 * H), H, Due.NEXT_SWEEP, True),
    ("later-within", {"released": 90 * M}, IpamdPolicy(2 * H), 3 * H, Due.WITHIN, False),
    ("shorter-unknown", {"managed_status_at": H}, IpamdPolicy(2 * H), H, Due.UNKNOWN, True),
    ("immediate-unaffected", {"released": 3 * H, "policy": "Immediate"}, NEVER, None, None, False),
]


@pytest.mark.parametrize(
    ("kw", "current", "new", "want", "by_change"),
    [c[1:] for c in DUE_CASES],
    ids=[c[0] for c in DUE_CASES],
)
def test_due(
    kw: dict[str, Any],
    current: IpamdPolicy,
    new: timedelta | None,
    want: Due | None,
    by_change: bool,
) -> None:
    impact = ei.compute(_inv([claim(**kw)]), current, new, NOW)
    got = [(i.due, i.by_change) for i in impact.items]
    assert got == ([] if want is None else [(want, by_change)])


def test_a_claim_with_its_pod_is_never_in_the_impact() -> None:
    inv = _inv([claim(released=3 * H)], [pod()])
    assert ei.compute(inv, NEVER, 5 * M, NOW).items == []


def test_returning_pods_are_flagged_and_listed_first() -> None:
    owner = ("StatefulSet", "web", "s-uid")
    inv = _inv(
        [
            claim("web-1", released=2 * H, owner=owner, uid="c1", ip="10.0.1.6"),  # in range
            claim("web-5", released=5 * H, owner=owner, uid="c5", ip="10.0.1.7"),  # scaled away
            claim("solo", released=4 * H, uid="c9", ip="10.0.1.8"),
        ],
        [],
        [sts("web", replicas=3)],
    )
    impact = ei.compute(inv, NEVER, H, NOW)
    assert [(i.row.name, i.returning, i.state) for i in impact.items] == [
        ("web-1", True, "Retained"),
        ("web-5", True, "ScaledIn"),  # returns if web is scaled up again
        ("solo", False, "Retained"),
    ]
    assert [i.row.name for i in impact.returning] == ["web-1", "web-5"]
    assert "StatefulSet/web recreates its Pod, which would get a new IP" in ei.reason(
        impact.items[0]
    )
    assert "2 claims belong to Pods that come back" in " ".join(ei.summary(impact))


def test_protect_command_really_protects() -> None:
    owner = ("StatefulSet", "web", "s-uid")
    claims = [
        claim("web-0", released=2 * H, owner=owner, uid="c0", ip="10.0.1.5"),
        claim("web-2", released=3 * H, owner=owner, uid="c2", ip="10.0.1.6"),
    ]
    impact = ei.compute(_inv(claims, [], [sts("web", replicas=3)]), NEVER, H, NOW)
    cmds = ei.protect_commands(impact)
    assert cmds == [
        "kubectl annotate vipc web-0 web-2 -n app "
        "tke.cloud.tencent.com/claim-expired-duration=87600h --overwrite"
    ]
    # do what it says to the objects, and assess again: nothing returning is due any more
    (assignment,) = [a for a in shlex.split(cmds[0]) if "=" in a]
    key, _, value = assignment.partition("=")
    for c in claims:
        c["metadata"]["annotations"][key] = value
    again = ei.compute(_inv(claims, [], [sts("web", replicas=3)]), NEVER, H, NOW)
    assert again.items == [] and ei.protect_commands(again) == []


@given(
    retained=st.integers(min_value=0, max_value=10 * 24 * 60),
    old=st.one_of(st.none(), st.integers(min_value=5, max_value=3 * 24 * 60)),
    new=st.integers(min_value=5, max_value=3 * 24 * 60),
)
def test_rules_for_every_duration(retained: int, old: int | None, new: int) -> None:
    """Due at the next sweep exactly when retained at least the new expiry; a change that does
    not shorten the expiry is never the cause of a reclaim."""
    inv = _inv([claim(released=retained * M)])
    current = IpamdPolicy(None if old is None else old * M)
    impact = ei.compute(inv, current, new * M, NOW)
    assert bool(impact.of(Due.NEXT_SWEEP)) == (retained >= new)
    if old is not None and new >= old:
        assert impact.caused == []


def test_table_is_bounded() -> None:
    claims = [
        claim(f"c-{i:02d}", uid=f"u{i}", ip=f"10.0.1.{i + 1}", released=2 * H) for i in range(25)
    ]
    impact = ei.compute(_inv(claims), NEVER, H, NOW)
    rows, more = ei.table_rows(impact)
    assert len(rows) == ei.TABLE_LIMIT and more == 5
    assert rows[0][:6] == ["app", "c-00", "10.0.1.1", "Retained", "120m", "next sweep"]


def test_unknown_release_is_never_stated_as_due() -> None:
    impact = ei.compute(_inv([claim(managed_status_at=3 * H)]), NEVER, H, NOW)
    (item,) = impact.items
    assert ei.due_text(item, NOW) == "unknown"
    assert ei.reason(item).startswith("may be reclaimed at the next sweep (release time unknown")
    doc = ei.item_doc(item)
    assert doc["due"] == "unknown" and doc["dueAt"] is None and doc["releaseEstimated"] is True


# ============================================================================ end to end

ITEM_KEYS = {
    "namespace",
    "name",
    "ip",
    "state",
    "retainedFor",
    "releaseEstimated",
    "due",
    "dueAt",
    "returning",
    "byThisChange",
    "worseCase",
    "reason",
}
DEMO_DUE_1H = {
    ("db", "redis-2"),
    ("db", "redis-3"),
    ("default", "debug-shell"),
    ("jobs", "etl-worker-0"),
    ("jobs", "etl-worker-1"),
    ("web", "api-old-7"),
    ("web", "legacy-api-0"),
    ("web", "legacy-api-1"),
}
Key = tuple[str, str]


def _claim_keys(sb: Sandbox) -> set[Key]:
    assert sb.world.t.claims is not None
    return {
        (o["metadata"]["namespace"], o["metadata"]["name"])
        for o in sb.store.objects(sb.world.t.claims)
    }


def _items(r: Result) -> list[dict[str, Any]]:
    assert r.code == 0, r.stderr
    items: list[dict[str, Any]] = json.loads(r.stdout)["impact"]["items"]
    return items


def _keys(items: list[dict[str, Any]], *due: str) -> set[Key]:
    return {(i["namespace"], i["name"]) for i in items if not due or i["due"] in due}


def _ipamd_args(sb: Sandbox) -> list[str]:
    dep = sb.store.peek(sb.world.t.deployments, "kube-system", "tke-eni-ipamd")
    assert dep is not None
    return list(dep["spec"]["template"]["spec"]["containers"][0]["args"])


def _changes(sb: Sandbox) -> list[str]:
    return [q.verb for q in sb.controls.resource_requests() if q.verb not in ("get", "list")]


def test_dry_run_json_contract(sandbox: Sandbox, vip: Runner, kubeconfig: Path) -> None:
    args = _ipamd_args(sandbox)
    sandbox.controls.clear_log()
    r = vip("set-expiry", "1h", "--dry-run", "-o", "json")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "IpamdChange" and doc["applied"] is False and doc["sweep"] is None
    impact = doc["impact"]
    assert set(impact) == {"horizon", "counts", "protectCommands", "items"}
    assert impact["horizon"] == "24h"
    assert impact["protectCommands"] == [  # redis returns if it is scaled up again
        aimed(
            "kubectl annotate vipc redis-2 redis-3 -n db "
            "tke.cloud.tencent.com/claim-expired-duration=87600h --overwrite",
            kubeconfig,
        )
    ]
    assert impact["counts"] == {
        "nextSweep": 8,
        "within24h": 0,
        "unknown": 0,
        "returning": 2,
        "byThisChange": 6,  # the etl-workers' own 30m annotation has made them due already
    }
    assert all(set(i) == ITEM_KEYS for i in impact["items"])
    assert _keys(impact["items"], "nextSweep") == DEMO_DUE_1H
    redis = next(i for i in impact["items"] if i["name"] == "redis-2")
    assert redis == {
        "namespace": "db",
        "name": "redis-2",
        "ip": "10.0.1.7",
        "state": "ScaledIn",
        "retainedFor": "144h",
        "releaseEstimated": False,
        "due": "nextSweep",
        "dueAt": "2026-11-14T13:00:00Z",
        "returning": True,
        "byThisChange": True,
        "worseCase": False,
        "reason": "retained longer than its flag expiry 1h; returns if StatefulSet/redis is "
        "scaled up, with a new IP",
    }
    assert "Impact of expiry 1h: ipamd reclaims 8 claims at its next sweep" in r.stderr
    assert _changes(sandbox) == [] and _ipamd_args(sandbox) == args


@pytest.mark.parametrize("expiry", ["1h", "100h"])
def test_impact_is_what_the_simulated_ipamd_reclaims(
    sandbox: Sandbox, vip: Runner, expiry: str
) -> None:
    items = _items(vip("set-expiry", expiry, "--dry-run", "-o", "json"))
    before = _claim_keys(sandbox)
    r = vip("set-expiry", expiry, "--yes")
    assert r.code == 0, r.stderr
    assert f"Impact of expiry {expiry}: ipamd reclaims" in r.stdout
    assert "NAMESPACE   CLAIM" in r.stdout and "redis-2" in r.stdout  # the table
    sandbox.advance(timedelta(seconds=1))  # ipamd's next sweep
    assert before - _claim_keys(sandbox) == _keys(items, "nextSweep")
    sandbox.advance(timedelta(hours=24))
    assert before - _claim_keys(sandbox) == _keys(items, "nextSweep", "within24h")
    if expiry == "100h":
        assert _keys(items, "within24h") == {("default", "debug-shell")}


def test_non_interactive_run_refuses_and_sends_nothing(sandbox: Sandbox, vip: Runner) -> None:
    args = _ipamd_args(sandbox)
    sandbox.controls.clear_log()
    r = vip("set-expiry", "1h")
    assert r.code == 1
    assert (
        "error: refusing to set expiry 1h (ipamd would reclaim 6 claims, 2 of Pods that come "
        "back) without confirmation "
        "on a non-interactive terminal; pass --yes, or --dry-run to preview"
    ) in r.stderr
    assert "legacy-api-0" in r.stdout  # what it would have done was shown
    assert _changes(sandbox) == [] and _ipamd_args(sandbox) == args
    sandbox.advance(timedelta(minutes=1))
    assert DEMO_DUE_1H - {("jobs", "etl-worker-0"), ("jobs", "etl-worker-1")} <= _claim_keys(
        sandbox
    )


def test_an_impact_not_caused_by_the_change_needs_no_confirmation(
    sandbox: Sandbox, vip: Runner
) -> None:
    r = vip("set-expiry", "720h")  # longer than any claim has been kept: only the annotated
    assert r.code == 0, r.stderr
    assert "ipamd reclaims 2 claims at its next sweep" in r.stdout
    assert "0 of them because of this change; the other 2 are due under the current" in r.stdout
    assert _ipamd_args(sandbox)[-1] == "720h"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "applied"), [("y\n", True), ("\n", False), ("no\n", False)])
def test_a_terminal_is_asked(
    sandbox: Sandbox,
    kubeconfig: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    applied: bool,
) -> None:
    monkeypatch.setattr(sys, "stdin", _Tty(answer))
    out, err = _Tty(), io.StringIO()
    sandbox.controls.clear_log()
    code = invoke(["--kubeconfig", str(kubeconfig), "set-expiry", "1h"], Out(out, err, color=False))
    prompt = capsys.readouterr().out  # click prompts on the process's stdout
    assert prompt == (
        "Set expiry 1h? ipamd will reclaim 6 claims because of it, 2 of Pods that come back. "
        "[y/N]: "
    )
    assert "legacy-api-0" in out.getvalue()  # shown before the question
    assert code == (0 if applied else 1)
    assert ("patch" in _changes(sandbox)) is applied
    if not applied:
        assert (
            "refusing to set expiry 1h (ipamd would reclaim 6 claims, 2 of Pods that come back): "
            "not confirmed" in (err.getvalue())
        )


def _returning_claim(sb: Sandbox) -> None:
    """default/game-0: a static Pod of a TApp (a group this cluster does not serve, so its owner
    cannot be read and the Pod may come back), gone for 3h."""
    claims = sb.world.t.claims
    assert claims is not None
    b = B(sb)
    b.pod("default", "game-0", b.template("game", static=True, zone="ap-guangzhou-3"))
    sb.advance(timedelta(seconds=1))

    def owned(c: Obj) -> None:  # as ipamd writes it with --enable-ownerref
        c["metadata"]["ownerReferences"] = [
            {
                "apiVersion": "apps.tkestack.io/v1",
                "kind": "TApp",
                "name": "game",
                "uid": "7d1c4b1e-0000-4000-8000-000000000001",
                "controller": False,
                "blockOwnerDeletion": True,
            }
        ]

    assert sb.store.mutate(claims, "default", "game-0", owned) is not None
    b.delete("pods", "default", "game-0")
    sb.advance(3 * H)


def test_returning_pods_are_flagged_and_the_printed_command_protects_them(
    sandbox: Sandbox, vip: Runner, kubectl: Runner, kubeconfig: Path
) -> None:
    _returning_claim(sandbox)
    r = vip("set-expiry", "1h", "--dry-run")
    assert r.code == 0, r.stderr
    assert "3 claims belong to Pods that come back (or may)" in r.stdout  # and redis-2, -3
    row = next(ln for ln in r.lines if " game-0 " in ln)
    assert row.split()[:7] == ["default", "game-0", "10.0.1.11", "Retained", "3h", "next", "sweep"]
    assert " maybe " in row and "owner TApp.apps.tkestack.io/game" in row
    # the Pods that come back (or may) first: game-0 and redis-2, -3 before the others
    assert r.lines.index(row) < next(i for i, ln in enumerate(r.lines) if " debug-shell " in ln)
    cmd = next(
        ln.strip()
        for ln in r.lines
        if ln.strip().startswith("kubectl ") and " annotate " in ln and " game-0 " in ln
    )
    # aimed at the cluster this run used (its --kubeconfig), not the current context
    assert cmd == aimed(
        "kubectl annotate vipc game-0 -n default "
        "tke.cloud.tencent.com/claim-expired-duration=87600h --overwrite",
        kubeconfig,
    )
    k = kubectl(*shlex.split(cmd)[1:])
    assert k.code == 0, k.stderr
    items = _items(vip("set-expiry", "1h", "--dry-run", "-o", "json"))
    assert ("default", "game-0") not in _keys(items)
    assert {(i["namespace"], i["name"]) for i in items if i["returning"]} == {
        ("db", "redis-2"),
        ("db", "redis-3"),
    }
    before = _claim_keys(sandbox)
    assert vip("set-expiry", "1h", "--yes").code == 0
    sandbox.advance(timedelta(seconds=1))
    assert before - _claim_keys(sandbox) == _keys(items, "nextSweep")
    assert ("default", "game-0") in _claim_keys(sandbox)  # kept for its Pod


def test_scale_impact_flags_returning_ordinals_and_matches_the_sweep(tmp_path: Path) -> None:
    sb = make_sandbox("scale", size=300)
    try:
        kc = sb.write_kubeconfig(tmp_path / "kubeconfig")
        items = _items(run_vip("set-expiry", "1h", "--dry-run", "-o", "json", kubeconfig=kc))
        assert items and all(i["due"] == "nextSweep" and i["byThisChange"] for i in items)
        returning = [i for i in items if i["returning"]]
        for i in items:  # kept, or scaled in: either way its StatefulSet may bring it back
            base, _, ordinal = i["name"].rpartition("-")
            s = sb.store.peek(sb.world.t.statefulsets, i["namespace"], base)
            assert s is not None and i["returning"], i
            scaled_in = int(ordinal) >= s["spec"]["replicas"]
            assert (i["state"] == "ScaledIn") == scaled_in, i
        assert "ScaledIn" in {i["state"] for i in items}
        before = _claim_keys(sb)
        r = run_vip("set-expiry", "1h", "--yes", kubeconfig=kc)
        assert r.code == 0, r.stderr
        assert f"{len(returning)} claims belong to Pods that come back" in r.stdout
        assert f"... and {len(items) - 20} more" in r.stdout
        sb.advance(timedelta(seconds=1))
        assert before - _claim_keys(sb) == _keys(items)
    finally:
        sb.stop()


def test_wait_follows_ipamds_sweep(sandbox: Sandbox, kubeconfig: Path) -> None:
    thread, stop = _advancing(sandbox)
    try:
        r = run_vip(
            "set-expiry", "1h", "--yes", "--wait", "--timeout", "60s", kubeconfig=kubeconfig
        )
    finally:
        stop.set()
        thread.join()
    assert r.code == 0, r.stderr
    assert (
        "ipamd reclaimed 8 of 8 claims due at its next sweep (2 of Pods that come back: they "
        "will get new IPs)." in r.stdout
    )
    assert not DEMO_DUE_1H & _claim_keys(sandbox)


def test_wait_says_what_ipamd_has_not_reclaimed_in_time(sandbox: Sandbox, vip: Runner) -> None:
    # the virtual clock stands still: ipamd's sweep never runs
    r = vip("set-expiry", "1h", "--yes", "--wait", "--timeout", "2s", "-o", "json")
    assert r.code == 1
    assert "ipamd reclaimed 0 of 8 claims due at its next sweep within 2s; still there: " in (
        r.stderr
    )
    assert "The change stays applied" in r.stderr
    doc = json.loads(r.stdout)
    assert doc["applied"] is True and doc["sweep"]["due"] == 8
    assert doc["sweep"]["remaining"] == sorted(f"{ns}/{n}" for ns, n in DEMO_DUE_1H)
    watches = [q for q in sandbox.controls.resource_requests() if q.verb == "watch"]
    assert any(q.resource == "vpcipclaims" for q in watches)


def test_cascade_changes_have_no_impact(sandbox: Sandbox, vip: Runner) -> None:
    r = vip("enable-cascade", "-o", "json")  # no confirmation: cascade reclaims nothing at once
    assert r.code == 0, r.stderr
    assert json.loads(r.stdout)["impact"] is None


def test_doctor_warns_before_the_expiry_takes_a_returning_pods_ip(
    sandbox: Sandbox, vip: Runner
) -> None:
    _returning_claim(sandbox)  # default/game-0, away 3h
    assert vip("set-expiry", "4h", "--yes").code == 0
    sandbox.advance(timedelta(seconds=1))
    B(sandbox).scale("db", "mysql", 2)  # mysql-2's Pod goes; its claim is kept
    sandbox.advance(timedelta(minutes=10))
    r = vip("doctor", "--check", "VIP-POL-005", "-o", "json")
    assert r.code == 0, r.stderr  # warnings: below the default --fail-on error
    # one finding for the check: a summary title, each workload's issue one line of evidence,
    # each whole (evidence, fix) in details
    (f,) = json.loads(r.stdout)["findings"]
    assert f["severity"] == "warning"
    assert f["title"] == (
        "2 workloads whose returning Pods lose their IPs to the expiry within 24h"
    )
    assert f["evidence"] == [
        "TApp.apps.tkestack.io/game -n default: Pods that come back, claim game-0 is due in 49m",
        "StatefulSet/mysql -n db scaled to 2: claim mysql-2 is due in 3h50m",
    ]
    game = f["details"][f["details"].index(f["evidence"][0]) :]
    assert (
        game[1] == "  default/game-0 (10.0.1.11): its Pod away 3h10m, due in 49m (flag expiry 4h)"
    )
    assert any(d.startswith("  fix: kubectl ") and " annotate vipc game-0 -n default " in d
               for d in game)  # fmt: skip
    r = vip("doctor", "--check", "VIP-POL-005", "--fail-on", "warning")
    assert r.code == 1
    assert "VIP-POL-005" in r.stdout


@pytest.mark.parametrize(
    ("image_tag", "says", "annotate"),
    [
        ("latest", "annotate their claims first (ipamd's version is unknown: it reads", True),
        ("v3.2.0", "ipamd v3.2.0 ignores per-claim expiry annotations (read from v3.3.2", False),
    ],
    ids=["version-unknown", "too-old-for-annotations"],
)
def test_protection_depends_on_what_ipamd_reads(
    sandbox: Sandbox, vip: Runner, kubeconfig: Path, image_tag: str, says: str, annotate: bool
) -> None:
    _returning_claim(sandbox)

    def set_image(d: Obj) -> None:
        c = d["spec"]["template"]["spec"]["containers"][0]
        c["image"] = c["image"].rsplit(":", 1)[0] + ":" + image_tag

    sandbox.store.mutate(sandbox.world.t.deployments, "kube-system", "tke-eni-ipamd", set_image)
    r = vip("set-expiry", "1h", "--dry-run")
    assert r.code == 0, r.stderr
    assert says in r.stdout
    assert (aimed("kubectl annotate vipc game-0 -n default", kubeconfig) in r.stdout) is annotate


def test_protect_covers_returning_claims_due_anyway() -> None:
    owner = ("StatefulSet", "web", "s-uid")
    inv = _inv([claim("web-0", released=3 * H, owner=owner)], [], [sts("web", replicas=3)])
    impact = ei.compute(inv, IpamdPolicy(2 * H), H, NOW)
    (item,) = impact.items
    assert item.returning and not item.by_change and impact.caused == []
    assert ei.protect_commands(impact) == [ei.protect_command("app", ["web-0"])]
