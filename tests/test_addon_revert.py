"""A hand edit of an add-on-managed ipamd does not last, and the tool says so (issue 27): the
eniipamd add-on puts its Helm release's args back (the sandbox's add-on two minutes after the
edit). What the add-on's values are is read from its release Secret as a real cluster shows it;
where that cannot be read, `set-expiry --wait` watches for a revert for the rest of --timeout
and says that a later one cannot be ruled out, and doctor says it cannot know."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.model import ipamd, settings
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import READ_ONLY_VERBS, Rule, User
from kubectl_vip.sandbox.scenarios_ipamd import ARGS
from kubectl_vip.sandbox.tke import decode_release, encode_release

from .conftest import Result, make_sandbox, run_vip

RELEASE = "sh.helm.release.v1.eniipamd.v1"
DRIFT = "ipamd's flags differ from the eniipamd add-on's: the add-on will revert this hand edit"


@pytest.fixture
def addon(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sb = make_sandbox("ipamd-addon")
    yield sb, sb.write_kubeconfig(tmp_path / "kubeconfig")
    sb.stop()


def args_of(sb: Sandbox) -> list[str]:
    dep = sb.store.peek(sb.world.t.deployments, "kube-system", "tke-eni-ipamd")
    assert dep is not None
    return list(dep["spec"]["template"]["spec"]["containers"][0]["args"])


def doctor_003(kc: Path) -> dict[str, Any]:
    r = run_vip("doctor", "--check", "VIP-IPAMD-003", "-o", "json", kubeconfig=kc)
    (finding,) = json.loads(r.stdout)["findings"]
    return dict(finding)


def advancing(sb: Sandbox) -> tuple[threading.Thread, threading.Event]:
    """Virtual time runs fast (5s every 0.1s) while a command waits."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.1):
            sb.advance(timedelta(seconds=5))

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, stop


def while_time_runs(sb: Sandbox, *argv: str, kubeconfig: Path) -> Result:
    thread, stop = advancing(sb)
    try:
        return run_vip(*argv, kubeconfig=kubeconfig)
    finally:
        stop.set()
        thread.join()


# ------------------------------------------------------------------------------ known values


def test_wait_says_the_addon_will_revert_a_forced_hand_edit(
    addon: tuple[Sandbox, Path],
) -> None:
    sb, kc = addon
    r = run_vip("set-expiry", "2h", "--force", "--yes", "--wait", kubeconfig=kc)
    assert r.code == 1
    assert "is still set" not in r.stdout
    assert (
        f"expiry 2h is set after the rollout, but the eniipamd add-on's release {RELEASE} "
        "(revision 1) does not set it (expiry 2h on the Deployment, never in the release): the "
        "eniipamd add-on puts its release's args back at its next reconcile or update, so this "
        "hand edit will not last; set it in the TKE console as shown above"
    ) in r.stderr
    assert "Add-On Management → eniipamd → Update configuration" in r.stderr
    assert args_of(sb)[-1] == "--claim-expired-duration=2h"  # applied, for now
    # doctor sees the same: the Deployment's flags are not the release's
    f = doctor_003(kc)
    assert f["severity"] == "warning"
    assert f["title"] == DRIFT + " (+1 more below)"
    details = "\n".join(f["details"])
    assert "expiry 2h on the Deployment, never in the release" in details
    assert f"the eniipamd add-on's release {RELEASE} (revision 1) is what the add-on puts back" in (
        details
    )
    assert "otherwise the add-on brings back expiry never, cascade off" in details
    # two minutes later the add-on has put its args back: nothing differs any more
    sb.advance(timedelta(minutes=2, seconds=1))
    assert args_of(sb) == ARGS
    f = doctor_003(kc)
    assert f["severity"] == "info"
    assert (
        f"its flags are those the eniipamd add-on's release {RELEASE} (revision 1) renders: the "
        "add-on keeps them"
    ) in f["evidence"]


def test_wait_reports_the_revert_state_in_json(addon: tuple[Sandbox, Path]) -> None:
    _, kc = addon
    r = run_vip("enable-cascade", "--force", "--wait", "-o", "json", kubeconfig=kc)
    assert r.code == 1
    doc = json.loads(r.stdout)
    assert (doc["applied"], doc["rollout"]) == (True, "will-revert")
    assert "cascade on on the Deployment, off in the release" in r.stderr


def _deploy_release_v2(sb: Sandbox, args: list[str]) -> None:
    """What an update in the console does: a new deployed release, the old one superseded."""
    secrets = sb.world.t.secrets
    old = sb.store.get(secrets, "kube-system", RELEASE)
    release = decode_release(old["data"]["release"])
    assert release is not None
    docs = list(yaml.safe_load_all(release["manifest"]))
    dep = next(d for d in docs if isinstance(d, dict))
    dep["spec"]["template"]["spec"]["containers"][0]["args"] = args
    release["manifest"] = "---\n" + yaml.safe_dump(dep, sort_keys=False)
    release["version"] = 2
    labels = {**old["metadata"]["labels"], "version": "2"}

    def superseded(s: dict[str, Any]) -> None:
        s["metadata"]["labels"]["status"] = "superseded"

    sb.store.mutate(secrets, "kube-system", RELEASE, superseded, manager="helm")
    sb.store.create(
        secrets,
        "kube-system",
        {
            "metadata": {"name": RELEASE[:-1] + "2", "labels": labels},
            "type": "helm.sh/release.v1",
            "data": {"release": encode_release(release)},
        },
        manager="helm",
    )


def test_a_change_the_release_renders_too_is_kept(addon: tuple[Sandbox, Path]) -> None:
    sb, kc = addon
    _deploy_release_v2(sb, [*ARGS[:-1], "--claim-expired-duration=2h"])
    r = run_vip("set-expiry", "2h", "--force", "--yes", "--wait", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert (
        "Checked after the rollout: expiry 2h is still set, and the eniipamd add-on's release "
        "sh.helm.release.v1.eniipamd.v2 (revision 2) renders it too: the add-on keeps it."
    ) in r.stdout
    sb.advance(timedelta(minutes=5))
    assert args_of(sb)[-1] == "--claim-expired-duration=2h"


# ------------------------------------------------------------------------------ unknown values


def _no_secrets(sb: Sandbox, tmp: Path) -> Path:
    """A user who reads everything but Secrets, may patch Deployments and ask what it may do."""
    readable = frozenset(t.plural for t in sb.registry.types if t.plural != "secrets")
    user = User(
        "no-secrets",
        [
            Rule(READ_ONLY_VERBS, readable),
            Rule(frozenset({"patch"}), frozenset({"deployments"})),
            Rule(frozenset({"create"}), frozenset({"selfsubjectaccessreviews"})),
        ],
    )
    sb.controls.add_user("no-secrets-token", user)
    cfg = sb.kubeconfig()
    cfg["users"][0]["user"]["token"] = "no-secrets-token"
    kc = tmp / "no-secrets"
    kc.write_text(yaml.safe_dump(cfg))
    return kc


def test_unknown_values_wait_sees_the_revert_within_the_timeout(
    addon: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    sb, _ = addon
    kc = _no_secrets(sb, tmp_path)
    argv = ("set-expiry", "2h", "--force", "--yes", "--wait", "--timeout", "60s")
    r = while_time_runs(sb, *argv, kubeconfig=kc)
    assert r.code == 1
    assert (
        "Whether the eniipamd add-on reverts it cannot be known (its Helm release Secrets cannot "
        "be listed): watching deploy/tke-eni-ipamd for "
    ) in r.stdout
    assert "the change was reverted: within " in r.stderr
    assert args_of(sb) == ARGS


def test_unknown_values_without_a_revert_say_how_long_they_watched(
    addon: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    sb, _ = addon
    kc = _no_secrets(sb, tmp_path)
    r = run_vip("set-expiry", "2h", "--force", "--yes", "--wait", "--timeout", "3s", kubeconfig=kc)
    assert r.code == 0, r.stderr
    assert "watching deploy/tke-eni-ipamd for " in r.stdout
    assert "No revert within " in r.stdout and ": expiry 2h is still set." in r.stdout
    assert (
        "the eniipamd add-on may still put its own args back: when it reconciles is not public, "
        f"so check with kubectl-vip --kubeconfig {kc} config again after its next update"
    ) in r.stderr
    # doctor cannot tell either, and says so instead of guessing
    f = doctor_003(kc)
    assert f["severity"] == "info"
    assert any(
        e.startswith(
            "whether these flags are the eniipamd add-on's own cannot be known (its Helm "
            "release Secrets cannot be listed)"
        )
        for e in f["evidence"]
    )


# ------------------------------------------------------------------------------ reading it


def _secret(release: dict[str, Any] | None, *, status: str = "deployed", gz: bool = True) -> Any:
    raw = json.dumps(release).encode()
    inner = base64.b64encode(gzip.compress(raw) if gz else raw)
    return {
        "metadata": {"name": RELEASE, "labels": {"status": status}},
        "data": {"release": base64.b64encode(inner).decode()},
    }


def _manifest(args: list[str]) -> dict[str, Any]:
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "sidecar", "image": "busybox"},
                        {
                            "name": "tke-eni-ipamd",
                            "image": "ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.6.0",
                            "args": args,
                        },
                    ]
                }
            }
        },
    }
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}
    return {"manifest": yaml.safe_dump(service) + "---\n" + yaml.safe_dump(dep)}


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_a_release_secret_is_read_for_ipamds_flags_only(gz: bool) -> None:
    rel = settings.addon_release(_secret(_manifest(["--enable-ownerref", "--v=3"]), gz=gz))
    assert rel is not None and rel.flags is not None
    assert (rel.secret, rel.revision, rel.flags.cascade, rel.flags.expiry) == (
        RELEASE,
        1,
        True,
        None,
    )


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        (_secret(None), "its release data cannot be decoded"),
        ({"metadata": {"name": RELEASE}, "data": {"release": "%%%"}}, "cannot be decoded"),
        (_secret({"manifest": "kind: Service\n"}), "renders no tke-eni-ipamd container"),
    ],
    ids=["null", "not-base64", "no-deployment"],
)
def test_an_unreadable_release_says_why(secret: Any, problem: str) -> None:
    rel = settings.addon_release(secret)
    assert rel is not None and rel.flags is None and rel.problem is not None
    assert problem in rel.problem


def test_only_a_deployed_eniipamd_release_counts() -> None:
    assert settings.addon_release(_secret(_manifest([]), status="superseded")) is None
    other = _secret(_manifest([]))
    other["metadata"]["name"] = "sh.helm.release.v1.other.v1"
    assert settings.addon_release(other) is None
    one = settings.addon_release(_secret(_manifest([])))
    two = settings.AddonRelease(RELEASE[:-1] + "12", 12, None, "x")
    assert settings.newest_release([one, None, two]) is two


def test_differences_name_both_sides() -> None:
    def flags(*args: str) -> ipamd.IpamdFlags:
        return ipamd.read_flags({"name": "tke-eni-ipamd", "args": list(args)})

    assert settings.addon_differences(flags("--v=3"), flags("--claim-expired-duration=0s")) == []
    assert settings.addon_differences(
        flags("--claim-expired-duration=1h", "--enable-ownerref"), flags()
    ) == [
        "expiry 1h on the Deployment, never in the release",
        "cascade on on the Deployment, off in the release",
    ]
