"""The sandbox's ipamd and what nobody knows of the real one: flags after a wrapper, Go's `flag`
or pflag (`ipamd_flag_library`), a zero expiry annotation (`expiry_zero_annotation`); and the
`ipamd-wrapper` and `ipamd-suffix` scenarios."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.ipamdflags import FlagLibrary, ZeroAnnotation
from kubectl_vip.sandbox.scenarios_ipamd import ARGS, WRAPPER, WRAPPER_ARGS
from kubectl_vip.sandbox.store import Obj
from kubectl_vip.sandbox.tke import decode_release

from .conftest import FIXED_NOW, Runner, make_sandbox
from .test_sandbox_workloads import kubectl_on

EXPIRY = "tke.cloud.tencent.com/claim-expired-duration"
NEVER = {"tke.cloud.tencent.com/vpc-ip-claim-delete-policy": "Never"}
ENI = {"requests": {"tke.cloud.tencent.com/eni-ip": "1"}}


def claims(sb: Sandbox, ns: str) -> list[str]:
    assert sb.world.t.claims is not None
    return [c["metadata"]["name"] for c in sb.store.objects(sb.world.t.claims, ns)]


def static_pod(sb: Sandbox, name: str, **annotations: str) -> None:
    meta = {"name": name, "annotations": {**NEVER, **annotations}}
    spec = {
        "nodeSelector": {"topology.kubernetes.io/zone": "ap-guangzhou-3"},
        "containers": [{"name": "c", "resources": ENI}],
    }
    sb.store.create(sb.world.t.pods, "default", {"metadata": meta, "spec": spec})


def gone_for(sb: Sandbox, names: list[str], delta: timedelta) -> None:
    for name in names:
        sb.store.delete(sb.world.t.pods, "default", name)
    sb.advance(delta)


def set_container(sb: Sandbox, **fields: Any) -> None:
    def edit(d: Obj) -> None:
        d["spec"]["template"]["spec"]["containers"][0].update(fields)

    sb.store.mutate(sb.world.t.deployments, "kube-system", "tke-eni-ipamd", edit)


# ------------------------------------------------------------------------------ wrappers


@pytest.fixture
def wrapper(tmp_path: Path) -> Iterator[tuple[Sandbox, Runner]]:
    sb = make_sandbox("ipamd-wrapper")
    yield sb, kubectl_on(sb, tmp_path)
    sb.stop()


def test_ipamd_wrapper_scenario_expires_claims(wrapper: tuple[Sandbox, Runner]) -> None:
    sb, kubectl = wrapper
    r = kubectl("get", "deploy", "tke-eni-ipamd", "-n", "kube-system", "-o", "json")
    (container,) = json.loads(r.stdout)["spec"]["template"]["spec"]["containers"]
    assert container["command"] == WRAPPER == ["/tini", "--", "/tke-eni-ipamd"]
    assert container["args"] == WRAPPER_ARGS
    assert container["args"][0] == "--claim-expired-duration=1h"
    assert container["image"].endswith("/tke-eni-ipamd:v3.4.2")
    released = {
        c["metadata"]["name"]: c["status"].get("releaseTime")
        for c in json.loads(kubectl("get", "vipc", "-n", "default", "-o", "json").stdout)["items"]
    }
    # debug-shell, deleted 3h ago, was reclaimed an hour later
    assert released == {"canary": "2026-11-20T11:10:00Z", "tmp-worker": "2026-11-20T11:40:00Z"}
    assert kubectl("get", "vip", "10.0.1.3").code == 1  # debug-shell's, released
    sb.advance(timedelta(minutes=9, seconds=59))
    assert claims(sb, "default") == ["canary", "tmp-worker"]
    sb.advance(timedelta(seconds=1))
    assert claims(sb, "default") == ["tmp-worker"]
    assert kubectl("get", "vip", "10.0.1.4").code == 1


@pytest.mark.parametrize(
    ("command", "args"),
    [
        (["/tini", "--"], ["/tke-eni-ipamd", "--claim-expired-duration=10m"]),
        (["/tini", "--", "/usr/bin/tke-eni-ipamd", "--claim-expired-duration=10m"], []),
        (None, ["--claim-expired-duration=10m"]),
    ],
    ids=["binary-in-args", "flags-in-command", "no-command"],
)
def test_the_flags_after_the_binary_count(command: list[str] | None, args: list[str]) -> None:
    sb = Sandbox("healthy", now=FIXED_NOW)
    set_container(sb, command=command, args=args)
    assert sb.world.expiry() == timedelta(minutes=10)
    static_pod(sb, "solo")
    gone_for(sb, ["solo"], timedelta(minutes=10))
    assert claims(sb, "default") == []


def test_a_wrapper_set_with_kubectl_keeps_the_expiry(tmp_path: Path) -> None:
    sb = make_sandbox("healthy")
    try:
        kubectl = kubectl_on(sb, tmp_path)
        patch = [
            {
                "op": "replace",
                "path": "/spec/template/spec/containers/0/command",
                "value": ["/tini", "--", "/tke-eni-ipamd"],
            }
        ]
        r = kubectl(
            "patch", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--type=json",
            "-p", json.dumps(patch),
        )  # fmt: skip
        assert r.code == 0, r.stderr
        assert sb.world.expiry() == timedelta(hours=1) and sb.world.cascade()
    finally:
        sb.stop()


# ------------------------------------------------------------------------------ flag libraries


@pytest.mark.parametrize(
    ("library", "expiry"), [("flag", None), ("pflag", timedelta(hours=1))], ids=["flag", "pflag"]
)
def test_split_bool_reads_as_the_flag_library_does(
    library: FlagLibrary, expiry: timedelta | None
) -> None:
    """`--enable-ownerref`, `false`, `--claim-expired-duration=1h`: cascade is on either way
    (a bool flag takes no separate value); Go's flag ignores the expiry after the bare `false`,
    pflag reads it."""
    sb = Sandbox("ipamd-split-bool", now=FIXED_NOW, ipamd_flag_library=library)
    assert sb.world.ipamd_flag_library == library
    assert sb.world.cascade() and sb.world.expiry() == expiry
    static_pod(sb, "solo")
    gone_for(sb, ["solo"], timedelta(hours=1))
    assert claims(sb, "default") == ([] if expiry else ["solo"])
    owned = sb.store.peek(sb.world.t.claims, "db", "mysql-0")
    assert owned is not None and owned["metadata"]["ownerReferences"][0]["name"] == "mysql"


# ------------------------------------------------------------------------------ zero annotation


@pytest.mark.parametrize(
    ("reading", "left"),
    [("never", ["garbled", "vip-zero", "zero"]), ("flag", [])],
    ids=["zero-is-never", "zero-is-unset"],
)
def test_a_zero_expiry_annotation_reads_as_switched(
    reading: ZeroAnnotation, left: list[str]
) -> None:
    sb = Sandbox("healthy", now=FIXED_NOW, expiry_zero_annotation=reading)
    static_pod(sb, "zero", **{EXPIRY: "0s"})
    static_pod(sb, "garbled", **{EXPIRY: "soon"})  # unparsable: read as a zero is
    static_pod(sb, "vip-zero")
    ip = (sb.store.peek(sb.world.t.claims, "default", "vip-zero") or {})["status"]["ip"]

    def annotate(v: Obj) -> None:
        v["metadata"]["annotations"] = {EXPIRY: "0s"}

    sb.store.mutate(sb.world.t.vips, "", ip, annotate)
    gone_for(sb, ["zero", "garbled", "vip-zero"], timedelta(minutes=59))
    assert claims(sb, "default") == ["garbled", "vip-zero", "zero"]
    sb.advance(timedelta(minutes=1))
    assert claims(sb, "default") == left


def test_unknown_readings_are_refused() -> None:
    cobra: dict[str, Any] = {"ipamd_flag_library": "cobra"}
    with pytest.raises(ValueError, match="ipamd_flag_library: one of flag, pflag"):
        Sandbox("empty", now=FIXED_NOW, tke=False, **cobra)
    zero: dict[str, Any] = {"expiry_zero_annotation": "0"}
    with pytest.raises(ValueError, match="expiry_zero_annotation: one of never, flag"):
        Sandbox("empty", now=FIXED_NOW, tke=False, **zero)


# ------------------------------------------------------------------------------ suffix


def test_ipamd_suffix_scenario(tmp_path: Path) -> None:
    sb = make_sandbox("ipamd-suffix")
    try:
        kubectl = kubectl_on(sb, tmp_path)
        r = kubectl("get", "deploy", "tke-eni-ipamd", "-n", "kube-system", "-o", "json")
        dep = json.loads(r.stdout)
        (container,) = dep["spec"]["template"]["spec"]["containers"]
        assert container["image"] == ("ccr.ccs.tencentyun.com/tkeimages/tke-eni-ipamd:v3.5.0-amd64")
        assert container["args"] == ARGS
        assert dep["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
        assert dep["metadata"]["annotations"]["meta.helm.sh/release-name"] == "eniipamd"
        r = kubectl("get", "secret", "-n", "kube-system", "-l", "owner=helm,name=eniipamd",
                    "-o", "json")  # fmt: skip
        (secret,) = json.loads(r.stdout)["items"]
        assert secret["metadata"]["name"] == "sh.helm.release.v1.eniipamd.v1"
        release = decode_release(secret["data"]["release"])
        assert release is not None and release["chart"]["metadata"]["version"] == "3.5.0"
        assert sb.world.ipamd_reads_expiry_annotation()
    finally:
        sb.stop()
