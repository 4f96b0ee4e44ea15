"""set-expiry / enable-cascade / disable-cascade: the pure decisions (table-driven), then end to
end on the sandbox through the same code path a user's command takes."""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.cli.settings_cmd import normalize_dry_run
from kubectl_vip.errors import UsageError
from kubectl_vip.model import ipamd, settings
from kubectl_vip.model.claims import ClaimRow, Owner, State
from kubectl_vip.model.ipamd import UNSET, Version
from kubectl_vip.ops.rollout import RolloutStatus, rollout_status
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import RequestInfo
from kubectl_vip.sandbox.scenario_kit import B

from .conftest import Result, Runner, aimed, make_sandbox, run_vip

M = timedelta(minutes=1)
H = timedelta(hours=1)
DEMO_ARGS = [
    "--logtostderr",
    "--v",
    "3",
    "--cluster-id",
    "cls-sandbox1",
    "--claim-expired-duration",
    "0s",
]
CONSOLE_STEP = "Add-On Management → eniipamd → Update configuration"

# ============================================================================ pure decisions

EXPIRY_OK: list[tuple[str, timedelta | None]] = [
    ("90m", 90 * M),
    ("1h30m", 90 * M),
    ("10m0s", 10 * M),
    ("5m", 5 * M),
    ("300s", 5 * M),
    ("1h", H),
    ("never", None),
    ("NEVER", None),
    ("0", None),
    ("0s", None),
]


@pytest.mark.parametrize(("text", "want"), EXPIRY_OK, ids=[t for t, _ in EXPIRY_OK])
def test_parse_expiry_arg(text: str, want: timedelta | None) -> None:
    assert settings.parse_expiry_arg(text) == want


EXPIRY_BAD: list[tuple[str, str]] = [
    ("4m59s", "below the 5m minimum"),
    ("banana", 'invalid duration "banana"'),
    ("1d", "write 24h instead"),
    ("-5m", "negative"),
    ("", "invalid duration"),
    ("5", "missing unit"),
    ("1h 30m", "invalid duration"),
]


@pytest.mark.parametrize(("text", "message"), EXPIRY_BAD, ids=[t or "empty" for t, _ in EXPIRY_BAD])
def test_parse_expiry_arg_refuses(text: str, message: str) -> None:
    with pytest.raises(UsageError) as e:
        settings.parse_expiry_arg(text)
    assert message in e.value.message
    assert "\n" not in e.value.message


DRY_RUNS: list[tuple[str | None, str | None]] = [
    (None, "none"),
    ("client", "client"),
    ("Server", "server"),
    ("none", "none"),
    ("true", None),
    ("", None),
]


@pytest.mark.parametrize(("value", "want"), DRY_RUNS, ids=[str(v) for v, _ in DRY_RUNS])
def test_parse_dry_run(value: str | None, want: str | None) -> None:
    if want is None:
        with pytest.raises(UsageError, match="--dry-run=client or --dry-run=server"):
            settings.parse_dry_run(value)
    else:
        assert settings.parse_dry_run(value) == want


NORMALIZE: list[tuple[str, list[str], list[str]]] = [
    ("bare-last", ["1h", "--dry-run"], ["1h", "--dry-run=client"]),
    ("bare-before-arg", ["--dry-run", "1h"], ["--dry-run=client", "1h"]),
    ("bare-before-never", ["--dry-run", "never"], ["--dry-run=client", "never"]),
    ("mode-follows", ["--dry-run", "server", "1h"], ["--dry-run=server", "1h"]),
    ("eq-form", ["--dry-run=server"], ["--dry-run=server"]),
    ("after-terminator", ["--", "--dry-run"], ["--", "--dry-run"]),
    ("absent", ["1h", "--wait"], ["1h", "--wait"]),
]


@pytest.mark.parametrize(
    ("args", "want"), [n[1:] for n in NORMALIZE], ids=[n[0] for n in NORMALIZE]
)
def test_normalize_dry_run(args: list[str], want: list[str]) -> None:
    assert normalize_dry_run(args) == want


VERSION_NOTES: list[tuple[str, str | None, str | None]] = [
    ("tagged", "repo/tke-eni-ipamd:v3.4.2", None),
    ("digest-only", "repo/tke-eni-ipamd@sha256:" + "a" * 64, "digest only"),
    ("latest", "repo/tke-eni-ipamd:latest", '"latest"'),
    ("untagged", "host:5000/tke-eni-ipamd", "no tag"),
    ("odd-tag", "repo/tke-eni-ipamd:stable", '"stable" is not a version'),
    ("no-image", None, "no image"),
]


@pytest.mark.parametrize(
    ("image", "note"), [v[1:] for v in VERSION_NOTES], ids=[v[0] for v in VERSION_NOTES]
)
def test_version_note(image: str | None, note: str | None) -> None:
    got = settings.version_note(image, ipamd.parse_version(image or ""))
    if note is None:
        assert got is None
    else:
        assert got is not None and note in got


V342, V350, V360 = Version(3, 4, 2), Version(3, 5, 0), Version(3, 6, 0)
V350RC = Version(3, 5, 0, ("rc1",))
HELM = ["sh.helm.release.v1.eniipamd.v1"]
META = ["annotation meta.helm.sh/release-name=eniipamd", "label app.kubernetes.io/managed-by=Helm"]
F, A, U = settings.Addon.FOUND, settings.Addon.ABSENT, settings.Addon.UNKNOWN
CON, PAT = settings.Route.CONSOLE, settings.Route.PATCH
REVERT = "may revert this hand edit"
UNKNOWN_LINE = "version unknown: if the eniipamd add-on manages ipamd, use the console"
# id, version, Helm Secrets (None: not listable), Helm marks on the Deployment,
# add-on, route, a reason, a note (or None: no note)
MANAGEMENT: list[
    tuple[
        str,
        Version | None,
        list[str] | None,
        list[str],
        settings.Addon,
        settings.Route,
        str,
        str | None,
    ]
] = [
    ("new-addon-secret", V360, HELM, [], F, CON, "Helm release Secret " + HELM[0], None),
    ("new-addon-meta", V350, [], META, F, CON, "carries Helm's annotation", None),
    ("new-no-addon", V360, [], [], A, PAT, "no sh.helm.release.v1.eniipamd.* Secret", None),
    ("rc1-is-old-no-addon", V350RC, [], [], A, PAT, "v3.5.0-rc1 < v3.5.0", None),
    ("rc1-is-old-addon", V350RC, HELM, [], F, PAT, "v3.5.0-rc1 < v3.5.0", REVERT),
    ("old-no-addon", V342, [], [], A, PAT, "ipamd v3.4.2 < v3.5.0", None),
    ("old-addon", V342, HELM, META, F, PAT, "ipamd v3.4.2 < v3.5.0", REVERT),
    ("old-addon-unknown", V342, None, [], U, PAT, "could not be listed", REVERT),
    ("new-addon-unknown", V360, None, [], U, CON, "could not be listed", None),
    ("new-addon-unknown-meta", V360, None, META, F, CON, "carries Helm's", None),
    ("unknown-no-addon", None, [], [], A, PAT, "version unknown", UNKNOWN_LINE),
    ("unknown-addon", None, HELM, [], F, CON, "version unknown", UNKNOWN_LINE),
    ("unknown-addon-unknown", None, None, [], U, CON, "version unknown", UNKNOWN_LINE),
]


@pytest.mark.parametrize(
    ("version", "secrets", "meta", "addon", "route", "reason", "note"),
    [m[1:] for m in MANAGEMENT],
    ids=[m[0] for m in MANAGEMENT],
)
def test_management(
    version: Version | None,
    secrets: list[str] | None,
    meta: list[str],
    addon: settings.Addon,
    route: settings.Route,
    reason: str,
    note: str | None,
) -> None:
    """The add-on first, then the version: "tke-eni-ipamd v3.5.0 or later" → the console;
    "tke-eni-ipamd earlier than v3.5.0 or no eniipamd to manage" → edit the Deployment."""
    m = settings.management(version, secrets, meta)
    assert (m.addon, m.route) == (addon, route)
    assert any(reason in r for r in m.reasons), m.reasons
    if note is None:
        assert m.notes == []
    else:
        assert any(note in n for n in m.notes), m.notes


GATES: list[tuple[str, settings.Route, bool, settings.Gate]] = [
    ("patch", PAT, False, settings.Gate.PATCH),
    ("patch-force", PAT, True, settings.Gate.PATCH),
    ("console", CON, False, settings.Gate.REFUSE),
    ("console-force", CON, True, settings.Gate.FORCED),
]


@pytest.mark.parametrize(
    ("route", "force", "want"), [g[1:] for g in GATES], ids=[g[0] for g in GATES]
)
def test_gate(route: settings.Route, force: bool, want: settings.Gate) -> None:
    m = settings.Management(F, route, "rule", [], "v", [], None, None)
    assert settings.gate(m, force=force) is want


def test_helm_metadata_reads_helms_marks() -> None:
    dep = {
        "metadata": {
            "labels": {"app.kubernetes.io/managed-by": "Helm"},
            "annotations": {"meta.helm.sh/release-name": "eniipamd"},
        }
    }
    assert settings.helm_metadata(dep) == META
    assert settings.helm_metadata({"metadata": {"labels": {"k8s-app": "x"}}}) == []
    assert settings.helm_metadata(None) == []


def test_helm_release_secrets_by_name() -> None:
    names = ["sh.helm.release.v1.eniipamd.v2", "sh.helm.release.v1.other.v1", "x", HELM[0]]
    assert settings.helm_release_secrets(names) == [HELM[0], "sh.helm.release.v1.eniipamd.v2"]


CONSOLE: list[tuple[str, settings.Target, str]] = [
    ("expiry", settings.Target(expiry=H), "enter the expiration time 1h (3600 seconds)"),
    ("expiry-90m", settings.Target(expiry=90 * M), "1h30m (5400 seconds)"),
    ("never", settings.Target(expiry=None), "clear the expiration time"),
    ("cascade-on", settings.Target(cascade=True), 'select "Cascade reclaiming"'),
    ("cascade-off", settings.Target(cascade=False), 'clear the "Cascade reclaiming" checkbox'),
]


@pytest.mark.parametrize(
    ("target", "action"), [c[1:] for c in CONSOLE], ids=[c[0] for c in CONSOLE]
)
def test_console_steps(target: settings.Target, action: str) -> None:
    steps = settings.console_steps(target, "cls-abc123")
    text = "\n".join(steps)
    assert steps[0].startswith("TKE console → Cluster → cls-abc123 → " + CONSOLE_STEP)
    assert "https://console.qcloud.com/tke2" in text
    assert "Update configuration in the Operation column of the eniipamd add-on" in text
    assert action in steps[-1] and steps[-1].endswith("and click Done.")


def test_console_steps_without_cluster_id() -> None:
    assert "(your cluster)" in settings.console_steps(settings.Target(cascade=True))[0]


CLUSTER_IDS: list[tuple[str, list[str], str | None]] = [
    ("split", ["--v", "3", "--cluster-id", "cls-1"], "cls-1"),
    ("eq", ["--cluster-id=cls-2"], "cls-2"),
    ("one-dash", ["-cluster-id=cls-3"], "cls-3"),
    ("absent", ["--v=3"], None),
    ("dangling", ["--cluster-id"], None),
]


@pytest.mark.parametrize(
    ("args", "want"), [c[1:] for c in CLUSTER_IDS], ids=[c[0] for c in CLUSTER_IDS]
)
def test_cluster_id(args: list[str], want: str | None) -> None:
    flags = ipamd.read_flags({"args": args})
    assert settings.cluster_id(flags) == want


@pytest.mark.parametrize(
    ("context", "kubeconfig"),
    [(None, None), ("prod", None), ("prod", "/home/me/my kube/config")],
    ids=["plain", "context", "kubeconfig-with-space"],
)
def test_restore_command_round_trips(context: str | None, kubeconfig: str | None) -> None:
    plan = ipamd.plan_for_deployment(_deployment(["--v=3", "it's"]), expiry=H)
    cmd = settings.restore_command(plan.restore_patch, context=context, kubeconfig=kubeconfig)
    argv = shlex.split(cmd)
    assert argv[0] == "kubectl"
    i = argv.index("patch")
    assert argv[i : i + 7] == [
        "patch",
        "deploy",
        "tke-eni-ipamd",
        "-n",
        "kube-system",
        "--type=json",
        "-p",
    ]
    assert json.loads(argv[-1]) == plan.restore_patch
    assert ("--context" in argv) is (context is not None)
    if kubeconfig:
        assert argv[argv.index("--kubeconfig") + 1] == kubeconfig


IS_SET: list[tuple[str, list[str], settings.Target, bool]] = [
    ("expiry-equal", ["--claim-expired-duration=60m"], settings.Target(expiry=H), True),
    ("expiry-other", ["--claim-expired-duration=2h"], settings.Target(expiry=H), False),
    ("never-zero", ["--claim-expired-duration", "0s"], settings.Target(expiry=None), True),
    ("never-absent", [], settings.Target(expiry=None), True),
    ("never-invalid", ["--claim-expired-duration=x"], settings.Target(expiry=None), False),
    ("cascade-on", ["--enable-ownerref"], settings.Target(cascade=True), True),
    ("cascade-eq-true", ["--enable-ownerref=true"], settings.Target(cascade=True), True),
    ("cascade-eq-false", ["--enable-ownerref=false"], settings.Target(cascade=False), True),
    ("cascade-missing", [], settings.Target(cascade=True), False),
    ("cascade-invalid", ["--enable-ownerref=yes"], settings.Target(cascade=True), False),
    ("nothing-asked", ["--v=3"], settings.Target(expiry=UNSET), True),
]


@pytest.mark.parametrize(
    ("args", "target", "want"), [c[1:] for c in IS_SET], ids=[c[0] for c in IS_SET]
)
def test_is_set(args: list[str], target: settings.Target, want: bool) -> None:
    assert settings.is_set(ipamd.read_flags({"args": args}), target) is want


def _row(
    name: str,
    owner: Owner | None,
    *,
    namespace: str = "db",
    policy: str | None = "Never",
) -> ClaimRow:
    return ClaimRow(
        namespace=namespace, name=name, uid=None, resource_version=None, created=None,
        state=State.IN_USE, reason="", ip=None, unbound=False, pod_phase="Running",
        pod_uid=None, owner=owner, ordinal=None, returning=False, may_return=False, node=None,
        vip_phase=None,
        vip_message=None, subnet_id=None, subnet_cidr=None, policy=policy, released_at=None,
        released_estimated=False, retained_for=None, expiry=None, expiry_source=None,
        reclaim_at=None, orphaned=False, overdue=False,
    )  # fmt: skip


def _owner(name: str, source: str, exists: bool | None = True, kind: str = "StatefulSet") -> Owner:
    return Owner(kind, name, "uid-" + name, source, exists)


SS = "StatefulSet"
UNCOVERED: list[tuple[str, list[ClaimRow], list[tuple[str, str, str, list[str]]]]] = [
    ("pod-owner", [_row("mysql-0", _owner("mysql", "pod"))], [(SS, "db", "mysql", ["mysql-0"])]),
    ("name-owner", [_row("redis-3", _owner("redis", "name"))], [(SS, "db", "redis", ["redis-3"])]),
    ("claim-owner-covered", [_row("a-0", _owner("a", "claim"))], []),
    ("owner-gone", [_row("old-0", _owner("old", "pod", exists=False))], []),
    (
        "owner-unknown-kind",
        [_row("rs-x", _owner("web-7f", "pod", None, "ReplicaSet"))],
        [("ReplicaSet", "db", "web-7f", ["rs-x"])],
    ),
    ("immediate-policy", [_row("api-0", _owner("api", "pod"), policy="Immediate")], []),
    ("no-owner", [_row("debug", None)], []),
    (
        "grouped-and-sorted",
        [
            _row("m-1", _owner("m", "pod")),
            _row("m-0", _owner("m", "pod")),
            _row("z-0", _owner("z", "pod"), namespace="a"),
        ],
        [(SS, "a", "z", ["z-0"]), (SS, "db", "m", ["m-0", "m-1"])],
    ),
]


@pytest.mark.parametrize(
    ("rows", "want"), [u[1:] for u in UNCOVERED], ids=[u[0] for u in UNCOVERED]
)
def test_uncovered_workloads(
    rows: list[ClaimRow], want: list[tuple[str, str, str, list[str]]]
) -> None:
    got = settings.uncovered_workloads(rows)
    assert [(u.kind, u.namespace, u.name, u.claims) for u in got] == want


def test_uncovered_lines_count_workloads_and_claims() -> None:
    rows = [
        _row("m-0", _owner("m", "pod")),
        _row("m-1", _owner("m", "pod")),
        _row("r-0", _owner("r", "name")),
    ]
    lines = settings.uncovered_lines(settings.uncovered_workloads(rows))
    assert lines[0].startswith("2 existing workloads (3 static claims) will not cascade")
    assert lines[1:] == ["  StatefulSet/m -n db: 2 claims", "  StatefulSet/r -n db: 1 claim"]
    assert "already carry an ownerReference" in settings.uncovered_lines([])[0]


CHANGE_KEYS = {
    "apiVersion", "kind", "deployment", "request", "before", "after", "changed", "applied",
    "dryRun", "forced", "management", "jsonPatch", "restorePatch", "restoreCommand", "rollout",
    "uncoveredWorkloads",
}  # fmt: skip


def test_change_doc_contract() -> None:
    plan = ipamd.plan_for_deployment(_deployment(DEMO_ARGS), expiry=H)
    doc = settings.change_doc(
        plan,
        settings.Target(expiry=H),
        container="tke-eni-ipamd",
        dry_run="client",
        applied=False,
        forced=False,
        restore="kubectl patch ...",
        mgmt=settings.management(V342, []),
    )
    assert set(doc) == CHANGE_KEYS
    assert (doc["apiVersion"], doc["kind"]) == ("kubectl-vip/v1", "IpamdChange")
    assert doc["before"]["args"] == DEMO_ARGS
    assert doc["after"]["args"] == [*DEMO_ARGS[:-1], "1h"]
    assert doc["request"] == {"expiry": "1h", "cascade": None}
    assert doc["changed"] is True and doc["dryRun"] == "client"
    assert doc["jsonPatch"][0] == {
        "op": "test",
        "path": "/spec/template/spec/containers/0/args",
        "value": DEMO_ARGS,
    }
    json.dumps(doc)  # serialisable as is


def _st(observed: int, replicas: int, updated: int, available: int) -> dict[str, Any]:
    return {
        "observedGeneration": observed,
        "replicas": replicas,
        "updatedReplicas": updated,
        "availableReplicas": available,
    }


DEADLINE = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
ROLLOUT: list[tuple[str, dict[str, Any], int, bool, bool, str]] = [
    ("not-observed", {"observedGeneration": 1}, 2, False, False, "spec update to be observed"),
    ("updating", _st(2, 1, 0, 0), 2, False, False, "0 out of 1 new replicas have been updated"),
    ("old-pending", _st(2, 2, 1, 1), 2, False, False, "1 old replicas are pending termination"),
    ("unavailable", _st(2, 1, 1, 0), 2, False, False, "0 of 1 updated replicas are available"),
    ("done", _st(2, 1, 1, 1), 2, True, False, "successfully rolled out"),
    ("newer-generation", _st(3, 1, 1, 1), 2, True, False, "successfully rolled out"),
    ("surge", _st(2, 2, 2, 2), 2, False, False, "2 available, 2 updated, 1 desired"),
    (
        "deadline",
        {"observedGeneration": 2, "conditions": [DEADLINE]},
        2,
        False,
        True,
        "exceeded its progress deadline",
    ),
    ("no-status", {}, 1, False, False, "spec update to be observed"),
]


@pytest.mark.parametrize(
    ("status", "generation", "done", "failed", "message"),
    [r[1:] for r in ROLLOUT],
    ids=[r[0] for r in ROLLOUT],
)
def test_rollout_status(
    status: dict[str, Any], generation: int, done: bool, failed: bool, message: str
) -> None:
    dep = {"metadata": {"name": "tke-eni-ipamd"}, "spec": {"replicas": 1}, "status": status}
    got = rollout_status(dep, generation)
    assert (got.done, got.failed) == (done, failed)
    assert message in got.message
    assert got == RolloutStatus(done, got.message, failed)


def _deployment(args: list[str], image: str = "repo/tke-eni-ipamd:v3.4.2") -> dict[str, Any]:
    return {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "tke-eni-ipamd",
                            "image": image,
                            "command": ["/usr/bin/tke-eni-ipamd"],
                            "args": list(args),
                        }
                    ]
                }
            }
        }
    }


# ============================================================================ end to end


def _dep(sb: Sandbox) -> dict[str, Any]:
    dep = sb.store.peek(sb.world.t.deployments, "kube-system", "tke-eni-ipamd")
    assert dep is not None
    return dep


def _container(sb: Sandbox) -> dict[str, Any]:
    c: dict[str, Any] = _dep(sb)["spec"]["template"]["spec"]["containers"][0]
    return c


def _args(sb: Sandbox) -> list[str]:
    return list(_container(sb)["args"])


def _patches(sb: Sandbox) -> list[RequestInfo]:
    return [r for r in sb.controls.resource_requests() if r.verb == "patch"]


def _mutate_ipamd(sb: Sandbox, fn: Callable[[dict[str, Any]], None]) -> None:
    def apply(d: dict[str, Any]) -> None:
        fn(d["spec"]["template"]["spec"]["containers"][0])

    sb.store.mutate(
        sb.world.t.deployments, "kube-system", "tke-eni-ipamd", apply, manager="someone"
    )


def _set_image(sb: Sandbox, image: str) -> None:
    def set_image(c: dict[str, Any]) -> None:
        c["image"] = image

    _mutate_ipamd(sb, set_image)


def _restore_argv(r: Result) -> list[str]:
    # (the impact may print `kubectl annotate` lines first: the restore command is the patch)
    line = next(
        ln.strip()
        for ln in r.stdout.splitlines()
        if ln.strip().startswith("kubectl ") and " patch deploy " in ln
    )
    return shlex.split(line)


def test_set_expiry_patches_exactly_the_args(
    sandbox: Sandbox, vip: Runner, kubectl: Runner
) -> None:
    before = _container(sandbox)
    sandbox.controls.clear_log()
    r = vip("set-expiry", "1h", "--yes")
    assert r.code == 0, r.stderr
    assert _args(sandbox) == [*DEMO_ARGS[:-1], "1h"]  # split form kept, in place
    after = _container(sandbox)
    assert {k: v for k, v in after.items() if k != "args"} == {
        k: v for k, v in before.items() if k != "args"
    }
    patches = _patches(sandbox)
    assert len(patches) == 1 and patches[0].query.get("dryRun") is None
    assert "-0s\n+1h" in r.stdout
    assert "deployment.apps/tke-eni-ipamd patched: expiry 1h." in r.stdout
    # the printed restore command, run with the real kubectl, puts the old args back
    argv = _restore_argv(r)
    assert argv[0] == "kubectl"
    k = kubectl(*argv[1:])
    assert k.code == 0, k.stderr
    assert _args(sandbox) == DEMO_ARGS


def test_second_run_sends_nothing(sandbox: Sandbox, vip: Runner) -> None:
    assert vip("set-expiry", "90m", "--yes").code == 0
    sandbox.controls.clear_log()
    r = vip("set-expiry", "1h30m")
    assert r.code == 0
    assert "expiry 1h30m is already set" in r.stdout and "nothing sent" in r.stdout
    assert _patches(sandbox) == []
    assert _args(sandbox)[-1] == "1h30m"  # written in compact Go form


def test_never_on_zero_is_already_set_and_never_removes_a_duration(
    sandbox: Sandbox, vip: Runner
) -> None:
    sandbox.controls.clear_log()
    r = vip("set-expiry", "never")
    assert r.code == 0 and "expiry never is already set" in r.stdout  # "0s" means never
    assert _patches(sandbox) == []
    assert vip("set-expiry", "2h", "--yes").code == 0
    r = vip("set-expiry", "0")  # a longer expiry reclaims nothing more: nothing to confirm
    assert r.code == 0, r.stderr
    assert _args(sandbox) == DEMO_ARGS[:-2]


def test_flags_in_command_are_patched_there(sandbox: Sandbox, vip: Runner) -> None:
    def command_layout(c: dict[str, Any]) -> None:
        c.pop("args")
        c["command"] = ["/usr/bin/tke-eni-ipamd", "--v=3", "-claim-expired-duration=30m"]

    _mutate_ipamd(sandbox, command_layout)
    r = vip("set-expiry", "2h")
    assert r.code == 0, r.stderr
    c = _container(sandbox)
    assert "args" not in c
    assert c["command"] == ["/usr/bin/tke-eni-ipamd", "--v=3", "-claim-expired-duration=2h"]
    assert "deploy/tke-eni-ipamd tke-eni-ipamd command (current)" in r.stdout


def test_ipamd_container_found_by_name_not_index(sandbox: Sandbox, vip: Runner) -> None:
    sidecar = {"name": "log-agent", "image": "repo/log-agent:1.0", "args": ["--v=3"]}

    def add_sidecar(d: dict[str, Any]) -> None:
        d["spec"]["template"]["spec"]["containers"].insert(0, sidecar)

    sandbox.store.mutate(sandbox.world.t.deployments, "kube-system", "tke-eni-ipamd", add_sidecar)
    r = vip("enable-cascade")
    assert r.code == 0, r.stderr
    containers = _dep(sandbox)["spec"]["template"]["spec"]["containers"]
    assert containers[0] == sidecar
    assert containers[1]["args"] == [*DEMO_ARGS, "--enable-ownerref"]
    assert "/spec/template/spec/containers/1/args" in r.stdout  # in the restore command


@pytest.mark.parametrize("bad", ["4m59s", "banana", "1d", "-5m"])
def test_bad_duration_exits_2_and_sends_nothing(sandbox: Sandbox, vip: Runner, bad: str) -> None:
    sandbox.controls.clear_log()
    r = vip("set-expiry", bad)
    assert r.code == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert sandbox.controls.resource_requests() == []
    assert _args(sandbox) == DEMO_ARGS


@pytest.mark.parametrize(
    "argv",
    [
        ["set-expiry", "1h", "--dry-run=maybe"],
        ["set-expiry", "1h", "--timeout", "2m"],
        ["set-expiry", "1h", "--wait", "--timeout", "soon"],
        ["set-expiry", "1h", "--wait", "--dry-run"],
        ["enable-cascade", "-o", "xml"],
        ["set-expiry"],
    ],
    ids=[
        "dry-run-mode",
        "timeout-without-wait",
        "bad-timeout",
        "wait-dry-run",
        "bad-output",
        "no-arg",
    ],
)
def test_usage_errors_send_nothing(sandbox: Sandbox, vip: Runner, argv: list[str]) -> None:
    sandbox.controls.clear_log()
    r = vip(*argv)
    assert r.code == 2, r.stderr
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert sandbox.controls.resource_requests() == []


@pytest.mark.parametrize(
    "argv",
    [
        ["set-expiry", "1h", "--dry-run"],
        ["set-expiry", "--dry-run", "1h"],
        ["set-expiry", "1h", "--dry-run=client"],
    ],
    ids=["bare-after", "bare-before", "client"],
)
def test_client_dry_run_sends_no_patch(sandbox: Sandbox, vip: Runner, argv: list[str]) -> None:
    sandbox.controls.clear_log()
    r = vip(*argv)
    assert r.code == 0, r.stderr
    assert "-0s\n+1h" in r.stdout
    assert "Dry run (client): the patch above was not sent." in r.stdout
    assert _patches(sandbox) == []
    assert _args(sandbox) == DEMO_ARGS


def test_server_dry_run_leaves_the_deployment(sandbox: Sandbox, vip: Runner) -> None:
    rv = _dep(sandbox)["metadata"]["resourceVersion"]
    sandbox.controls.clear_log()
    r = vip("enable-cascade", "--dry-run=server")
    assert r.code == 0, r.stderr
    patches = _patches(sandbox)
    assert len(patches) == 1 and patches[0].query.get("dryRun") == "All"
    assert "+--enable-ownerref" in r.stdout
    assert "patched (server dry run)" in r.stdout
    assert _dep(sandbox)["metadata"]["resourceVersion"] == rv
    assert _args(sandbox) == DEMO_ARGS


def test_concurrent_edit_is_detected_not_overwritten(sandbox: Sandbox, vip: Runner) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["args"] = [*c["args"], "--v=5"]

    def someone_edits(req: RequestInfo) -> None:
        _mutate_ipamd(sandbox, edit)

    sandbox.controls.on("patch", "deployments", someone_edits)
    r = vip("set-expiry", "1h", "--yes")
    assert r.code == 1
    assert "changed by someone else between our read and our patch" in r.stderr
    assert "nothing was overwritten" in r.stderr
    assert _args(sandbox) == [*DEMO_ARGS, "--v=5"]  # the concurrent edit stays


def test_addon_managed_version_refuses_without_force(sandbox: Sandbox, vip: Runner) -> None:
    """ "tke-eni-ipamd v3.5.0 or later" with the eniipamd add-on: the console."""
    _set_image(sandbox, "ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.6.0")
    _helm_secret(sandbox)
    sandbox.controls.clear_log()
    r = vip("set-expiry", "1h")
    assert r.code == 1
    assert "TKE console → Cluster → cls-sandbox1 → " + CONSOLE_STEP in r.stderr
    assert "enter the expiration time 1h (3600 seconds)" in r.stderr
    assert "belong to the TKE console here (v3.5.0 or later with the eniipamd add-on" in r.stderr
    assert "ipamd v3.6.0 >= v3.5.0" in r.stderr
    assert "--force" in r.stderr
    assert _patches(sandbox) == []
    assert _args(sandbox) == DEMO_ARGS


def test_addon_managed_version_patches_with_force(sandbox: Sandbox, vip: Runner) -> None:
    _set_image(sandbox, "ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.6.0")
    _helm_secret(sandbox)
    r = vip("enable-cascade", "--force")
    assert r.code == 0, r.stderr
    assert "Warning:" in r.stderr and "An add-on update may revert this hand edit" in r.stderr
    assert _args(sandbox) == [*DEMO_ARGS, "--enable-ownerref"]


def test_helm_release_secret_below_v350_patches_with_a_warning(
    sandbox: Sandbox, vip: Runner
) -> None:
    """ "tke-eni-ipamd earlier than v3.5.0 ... Run the command `kubectl edit deploy
    tke-eni-ipamd -n kube-system`", even with the add-on present (whose update may revert it)."""
    _helm_secret(sandbox)
    sandbox.controls.clear_log()
    r = vip("disable-cascade")
    assert r.code == 0 and "already set" in r.stdout  # nothing to do
    r = vip("enable-cascade")
    assert r.code == 0, r.stderr
    assert "Helm release Secret sh.helm.release.v1.eniipamd.v1 in kube-system" in r.stdout
    assert "the eniipamd add-on is present: an update of the eniipamd add-on may revert" in (
        r.stderr
    )
    secret_reqs = [q for q in sandbox.controls.resource_requests() if q.resource == "secrets"]
    assert secret_reqs and all(q.verb == "list" for q in secret_reqs)
    assert all(q.query.get("labelSelector") == "owner=helm,name=eniipamd" for q in secret_reqs)
    assert _args(sandbox) == [*DEMO_ARGS, "--enable-ownerref"]


def _helm_secret(sb: Sandbox) -> None:
    sb.store.create(
        sb.world.t.secrets,
        "kube-system",
        {
            "metadata": {
                "name": "sh.helm.release.v1.eniipamd.v1",
                "labels": {
                    "owner": "helm",
                    "name": "eniipamd",
                    "status": "deployed",
                    "version": "1",
                },
            },
            "type": "helm.sh/release.v1",
            "data": {"release": "SDRzSUFBQUFBQUFBLzZ5VQ=="},
        },
    )


def test_missing_deployment_exits_4(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.store.delete(sandbox.world.t.deployments, "kube-system", "tke-eni-ipamd")
    r = vip("enable-cascade")
    assert r.code == 4
    assert "deployment kube-system/tke-eni-ipamd not found" in r.stderr


def test_json_result_document(sandbox: Sandbox, vip: Runner) -> None:
    r = vip("set-expiry", "1h", "-o", "json", "--yes")
    assert r.code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == CHANGE_KEYS | {"impact", "sweep"}
    assert doc["kind"] == "IpamdChange" and doc["applied"] is True and doc["dryRun"] == "none"
    assert doc["before"]["args"] == DEMO_ARGS and doc["after"]["args"] == _args(sandbox)
    assert shlex.split(doc["restoreCommand"])[-1] == json.dumps(
        doc["restorePatch"], separators=(",", ":")
    )
    assert "-0s" in r.stderr  # the diff goes to stderr when stdout is a document


def test_expiry_flag_drives_the_simulated_ipamd(sandbox: Sandbox, vip: Runner) -> None:
    claims = sandbox.world.t.claims
    assert claims is not None
    sandbox.advance(timedelta(hours=2))
    assert sandbox.store.peek(claims, "default", "debug-shell") is not None  # never reclaimed
    assert vip("set-expiry", "1h", "--yes").code == 0  # the patch rolls ipamd out at once here
    sandbox.advance(timedelta(minutes=1))
    assert sandbox.store.peek(claims, "default", "debug-shell") is None  # released days ago
    assert sandbox.store.peek(claims, "db", "redis-2") is None
    assert sandbox.store.peek(claims, "db", "mysql-0") is not None  # in use


def test_enable_cascade_reports_uncovered_and_new_claims_get_owners(
    sandbox: Sandbox, vip: Runner
) -> None:
    r = vip("enable-cascade")
    assert r.code == 0, r.stderr
    assert _args(sandbox) == [*DEMO_ARGS, "--enable-ownerref"]
    assert "3 existing workloads (8 static claims) will not cascade" in r.stdout
    assert "  StatefulSet/redis -n db: 4 claims" in r.stdout
    b = B(sandbox)
    b.sts("db", "pg", 2, b.template("pg", static=True, zone="ap-guangzhou-3"))
    claims = sandbox.world.t.claims
    assert claims is not None
    for i in range(2):
        claim = sandbox.store.peek(claims, "db", f"pg-{i}")
        assert claim is not None
        refs = claim["metadata"].get("ownerReferences") or []
        assert [(o["kind"], o["name"]) for o in refs] == [("StatefulSet", "pg")]
    # the old ones stay uncovered; pg is covered
    r = vip("enable-cascade")
    assert r.code == 0 and "already set" in r.stdout
    assert "3 existing workloads (8 static claims)" in r.stdout and "pg" not in r.stdout
    r = vip("disable-cascade")
    assert r.code == 0, r.stderr
    assert _args(sandbox) == DEMO_ARGS


@pytest.fixture
def slow_sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sb = make_sandbox(rollout_seconds=30)
    yield sb, sb.write_kubeconfig(tmp_path / "kubeconfig")
    sb.stop()


def _advancing(sb: Sandbox) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.1):
            sb.advance(timedelta(seconds=5))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, stop


def test_wait_follows_the_rollout_to_the_end(slow_sandbox: tuple[Sandbox, Path]) -> None:
    sb, kc = slow_sandbox
    thread, stop = _advancing(sb)
    try:
        sb.controls.clear_log()
        r = run_vip("set-expiry", "1h", "--wait", "--timeout", "60s", "--yes", kubeconfig=kc)
    finally:
        stop.set()
        thread.join()
    assert r.code == 0, r.stderr
    assert "0 out of 1 new replicas have been updated" in r.stderr  # progress on stderr
    assert 'deployment "tke-eni-ipamd" successfully rolled out' in r.stdout
    both = r.stdout + r.stderr
    assert both.count("successfully rolled out") == 1  # said once, not as progress too
    assert "Checked after the rollout: expiry 1h is still set." in r.stdout
    watches = [
        q
        for q in sb.controls.resource_requests()
        if q.verb == "watch" and q.resource == "deployments"
    ]
    assert watches and all(
        q.query.get("fieldSelector") == "metadata.name=tke-eni-ipamd" for q in watches
    )


def test_wait_times_out_with_how_to_inspect_and_roll_back(
    slow_sandbox: tuple[Sandbox, Path],
) -> None:
    sb, kc = slow_sandbox
    r = run_vip("set-expiry", "1h", "--wait", "--timeout", "2s", "--yes", kubeconfig=kc)
    assert r.code == 1
    assert "not finished within 2s" in r.stderr
    assert aimed("kubectl rollout status deploy/tke-eni-ipamd -n kube-system", kc) in r.stderr
    assert "roll back with: kubectl " in r.stderr and "--type=json" in r.stderr
    assert _args(sb) == [*DEMO_ARGS[:-1], "1h"]  # the patch stays; we said how to undo it


def test_wait_detects_a_revert(sandbox: Sandbox, vip: Runner) -> None:
    def addon_reverts(req: RequestInfo) -> None:  # an add-on controller restoring its args
        def restore(c: dict[str, Any]) -> None:
            c["args"] = list(DEMO_ARGS)

        _mutate_ipamd(sandbox, restore)

    sandbox.controls.on("watch", "deployments", addon_reverts)
    r = vip("enable-cascade", "--wait", "--timeout", "30s")
    assert r.code == 1
    assert "the change was reverted" in r.stderr
    assert "TKE console → Cluster → cls-sandbox1 → " + CONSOLE_STEP in r.stderr
    assert _args(sandbox) == DEMO_ARGS


@pytest.mark.parametrize("command", ["set-expiry", "enable-cascade", "disable-cascade"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    r = run_vip(command, "--help")
    assert r.code == 0
    text = r.stdout + capsys.readouterr().out  # click prints help to the real stdout
    summary = text.splitlines()[2].strip()
    assert summary.endswith(".") and len(summary) < 80  # the one-line summary
    for flag in ("--dry-run", "--force", "--wait", "--timeout", "-o, --output"):
        assert flag in text
    examples = [ln for ln in text.splitlines() if ln.strip().startswith(f"kubectl vip {command}")]
    assert len(examples) == 2, text
