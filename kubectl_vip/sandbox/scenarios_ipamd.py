"""Scenarios for the rules of the source pages about ipamd's settings and the two FAQs.

ipamd settings ("tke-eni-ipamd v3.5.0 or later" → the console; "earlier than v3.5.0 or no
eniipamd to manage" → edit the Deployment):

- `ipamd-addon`: v3.6.0 installed by the eniipamd add-on (a Helm release Secret and Helm's
  marks on the Deployment); the simulated add-on reverts a hand edit of the args after a delay.
- `ipamd-no-addon`: v3.6.0 and no add-on.
- `ipamd-old-addon`: v3.4.2 installed by the add-on.
- `ipamd-latest`: the image tag is `latest` (version unknown), no add-on.
- `ipamd-split-bool`: `--enable-ownerref` followed by a separate `false` item.
- `ipamd-wrapper`: v3.4.2, no add-on, started through a wrapper: `command: ["/tini", "--",
  "/tke-eni-ipamd"]`, the flags in `args` (`--claim-expired-duration=1h` first). In default:
  debug-shell deleted 3h before the present (reclaimed by ipamd 2h before it), canary deleted
  50m before (10m left), tmp-worker 20m before (40m left).
- `ipamd-suffix`: as `ipamd-addon` (add-on release Secret, chart 3.5.0, Helm's marks), but the
  image tag is `v3.5.0-amd64`.

FAQs ("Node gets no ENI" and "ENI count over the VPC limit"):

- `eni-faq`: node-z in a zone with no container subnet (no taint, no eni-ip resource, empty
  NodeENIConfig status); three nodes in the VPC's ENI quota with `ENILimit` Events of type
  Normal and 45 Pods whose VpcIPs stay Attaching; one healthy node.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import yaml

from .scenario_kit import B
from .store import Obj
from .tke import ADDON, encode_release
from .world import ENI_IP, Subnet

if TYPE_CHECKING:
    from .core import SandboxCore

GZ3, GZ4, GZ7 = "ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-7"
SUBNET_A = Subnet("subnet-a1b2c3d4", "10.0.1.0/24", GZ3)
SUBNET_B = Subnet("subnet-e5f6a7b8", "10.0.2.0/24", GZ4)
ARGS = ["--logtostderr", "--v=3", "--cluster-id=cls-addon01", "--claim-expired-duration=0s"]
SPLIT_ARGS = [
    "--logtostderr",
    "--v=3",
    "--enable-ownerref",
    "false",
    "--claim-expired-duration=1h",
]
WRAPPER = ["/tini", "--", "/tke-eni-ipamd"]
WRAPPER_ARGS = ["--claim-expired-duration=1h", "--logtostderr", "--v=3", "--cluster-id=cls-wrap01"]


def install_addon(sb: SandboxCore, chart_version: str = "3.6.0") -> None:
    """Install ipamd "through the eniipamd add-on": a deployed Helm release whose manifest
    renders the Deployment as it is now, and Helm's ownership marks on the Deployment."""

    b = B(sb)
    dep = b.w.store.peek(b.t.deployments, "kube-system", "tke-eni-ipamd")
    assert dep is not None
    manifest = yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "tke-eni-ipamd", "namespace": "kube-system"},
            "spec": dep["spec"],
        },
        sort_keys=False,
    )
    release = {
        "name": ADDON,
        "namespace": "kube-system",
        "version": 1,
        "info": {"status": "deployed", "description": "Install complete"},
        "chart": {"metadata": {"name": ADDON, "version": chart_version}},
        "config": {},
        "manifest": "---\n# Source: eniipamd/templates/deployment.yaml\n" + manifest,
    }
    b.w.create(
        b.t.secrets,
        {
            "metadata": {
                "name": f"sh.helm.release.v1.{ADDON}.v1",
                "namespace": "kube-system",
                "labels": {
                    "owner": "helm",
                    "name": ADDON,
                    "status": "deployed",
                    "version": "1",
                },
            },
            "type": "helm.sh/release.v1",
            "data": {"release": encode_release(release)},
        },
        manager="helm",
    )

    def mark(d: Obj) -> None:
        meta = d["metadata"]
        meta.setdefault("labels", {})["app.kubernetes.io/managed-by"] = "Helm"
        meta.setdefault("annotations", {}).update(
            {"meta.helm.sh/release-name": ADDON, "meta.helm.sh/release-namespace": "kube-system"}
        )

    b.w.store.mutate(b.t.deployments, "kube-system", "tke-eni-ipamd", mark, manager="helm")


def _cluster(
    sb: SandboxCore,
    version: str,
    args: list[str],
    *,
    addon: bool = False,
    chart: str | None = None,
    command: list[str] | None = None,
) -> B:

    b = B(sb)
    b.ns("default", "kube-system", "db")
    b.node("node-a", GZ3, "10.0.0.11")
    b.node("node-b", GZ4, "10.0.0.12")
    b.nec("node-a", SUBNET_A, "eni-5k2m9x1a")
    b.nec("node-b", SUBNET_B, "eni-7p3q8r2b")
    b.ipamd(version, args, [SUBNET_A, SUBNET_B], command=command)
    if addon:
        install_addon(sb, chart or version.lstrip("v"))
    b.sts("db", "mysql", 2, b.template("mysql", static=True))
    b.later(timedelta(days=1))
    return b


def _addon(sb: SandboxCore) -> None:
    _cluster(sb, "v3.6.0", ARGS, addon=True)


def _no_addon(sb: SandboxCore) -> None:
    _cluster(sb, "v3.6.0", ARGS)


def _old_addon(sb: SandboxCore) -> None:
    _cluster(sb, "v3.4.2", ARGS, addon=True)


def _latest(sb: SandboxCore) -> None:
    _cluster(sb, "latest", ARGS)


def _split_bool(sb: SandboxCore) -> None:
    _cluster(sb, "v3.4.2", SPLIT_ARGS)


def _wrapper(sb: SandboxCore) -> None:
    """ipamd started by an init wrapper: the flags follow the binary in `args`. Bare static
    Pods deleted at several times show the 1h expiry acting."""
    b = _cluster(sb, "v3.4.2", WRAPPER_ARGS, command=WRAPPER)
    for name in ("debug-shell", "canary", "tmp-worker"):
        b.pod("default", name, b.template(name, static=True, zone=GZ3))
    b.at(timedelta(hours=3))
    b.delete("pods", "default", "debug-shell")
    b.at(timedelta(hours=2))  # its hour is up: ipamd reclaims it
    b.at(timedelta(minutes=50))
    b.delete("pods", "default", "canary")
    b.at(timedelta(minutes=20))
    b.delete("pods", "default", "tmp-worker")


def _suffix(sb: SandboxCore) -> None:
    """As ipamd-addon, but the image tag carries an architecture suffix."""
    _cluster(sb, "v3.5.0-amd64", ARGS, addon=True, chart="3.5.0")


def _eni_faq(sb: SandboxCore) -> None:

    b = B(sb)
    b.ns("default", "kube-system", "web", "db")
    b.node("node-a", GZ3, "10.0.0.11")
    quota_nodes = ["node-q1", "node-q2", "node-q3"]
    for i, name in enumerate(quota_nodes):
        b.node(name, GZ4, f"10.0.0.{21 + i}")
    b.node("node-z", GZ7, "10.0.0.31")

    def no_eni_resource(n: Obj) -> None:  # ipamd never bound an ENI: no eni-ip advertised
        for part in ("capacity", "allocatable"):
            n["status"][part].pop(ENI_IP, None)

    b.w.store.mutate(b.t.nodes, "", "node-z", no_eni_resource, manager="kubelet")
    b.nec("node-a", SUBNET_A, "eni-5k2m9x1a")
    for name in [*quota_nodes, "node-z"]:
        b.nec(name, None, "")
    b.w.eni_limited_nodes.update(quota_nodes)
    sb.ipamd.eni_limit_event_type = "Normal"
    b.ipamd(
        "v3.4.2",
        ["--logtostderr", "--v=3", "--claim-expired-duration=1h", "--enable-ownerref"],
        [SUBNET_A, SUBNET_B],
    )
    b.sts("db", "mysql", 2, b.template("mysql", static=True, zone=GZ3))
    b.sts("web", "api", 45, b.template("api", static=False, zone=GZ4))
    b.sts("db", "geo", 1, b.template("geo", static=True, zone=GZ7))
    b.later(timedelta(hours=2))


BUILDERS: dict[str, Callable[[SandboxCore], Any]] = {
    "ipamd-addon": _addon,
    "ipamd-no-addon": _no_addon,
    "ipamd-old-addon": _old_addon,
    "ipamd-latest": _latest,
    "ipamd-split-bool": _split_bool,
    "ipamd-wrapper": _wrapper,
    "ipamd-suffix": _suffix,
    "eni-faq": _eni_faq,
}
