"""`kubectl vip config`: how tke-eni-ipamd is set up (version, management, flags, subnets).

Also holds the reads that `set-expiry`/`enable-cascade`/`disable-cascade` share with it.
"""

from __future__ import annotations

from typing import Any

import typer

from ..errors import ApiError, Forbidden, NotVpcCniError
from ..model import ipamd, settings
from . import common
from .common import Globals

Obj = dict[str, Any]
SCHEDULER = "tke-eni-ip-scheduler"

# "\b" keeps click from re-wrapping the example lines into one paragraph
EPILOG = """Examples:

\b
  kubectl vip config                       # version, management, expiry, cascade, subnets
  kubectl vip config -o json | jq .flags.expiry
"""


def register(app: typer.Typer) -> None:
    app.command("config", epilog=EPILOG)(config_command)


def config_command(
    ctx: typer.Context,
    output: str = typer.Option("table", "-o", "--output", help="table|json|yaml"),
) -> None:
    """Show how tke-eni-ipamd is configured: version, management, expiry, cascade, subnets."""
    g = common.globals_of(ctx)
    fmt = common.check_format(output, common.DOC_FORMATS)
    view = read_config(g)
    for w in view.warnings:
        g.out.warn(w)
    if fmt in ("json", "yaml"):
        g.out.document(settings.config_doc(view), fmt)
        return
    rows = [[f"{label}:", value] for label, value in settings.config_lines(view)]
    g.out.table(["FIELD", "VALUE"], rows, no_headers=True)


# ------------------------------------------------------------------------------ shared reads


def read_deployment(g: Globals) -> Obj:
    """The ipamd Deployment; NotVpcCniError (exit 4) when it does not exist."""
    from ..api.cluster import DEPLOYMENTS

    dep = g.cluster().get(DEPLOYMENTS, ipamd.DEPLOYMENT_NAME, ipamd.DEPLOYMENT_NAMESPACE)
    if dep is None:
        raise NotVpcCniError(
            f"deployment {ipamd.DEPLOYMENT_NAMESPACE}/{ipamd.DEPLOYMENT_NAME} not found: this "
            "cluster does not run TKE's VPC-CNI network component (tke-eni-ipamd)",
            hint="check --context; VPC-CNI is chosen per cluster in the TKE console",
        )
    return dep


def _name_only(secret: Obj) -> Obj:
    # a Helm release Secret holds the whole release: keep nothing but its name
    return {"metadata": {"name": str((secret.get("metadata") or {}).get("name") or "")}}


def read_helm_secrets(g: Globals) -> tuple[list[str] | None, str | None]:
    """Names of the eniipamd add-on's Helm release Secrets (by label; data is never kept),
    or None and a warning when Secrets may not be listed."""
    from ..api.cluster import SECRETS

    try:
        items, _ = g.cluster().list(
            SECRETS,
            ipamd.DEPLOYMENT_NAMESPACE,
            label_selector=settings.HELM_SECRET_SELECTOR,
            trim=_name_only,
        )
    except Forbidden as e:
        return None, (
            f"cannot list Secrets in kube-system ({e.message}): whether the {settings.ADDON} "
            "add-on manages ipamd is judged by the Deployment's Helm metadata only"
        )
    return settings.helm_release_secrets(i["metadata"]["name"] for i in items), None


class Inspected:
    """The ipamd container of a Deployment, as far as it can be read."""

    def __init__(self, dep: Obj) -> None:
        self.container: Obj | None = None
        self.flags: ipamd.IpamdFlags | None = None
        self.problem: str | None = None
        containers = (((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        )
        try:
            if not isinstance(containers, list):
                raise ipamd.IpamdError("the Deployment has no list of containers")
            self.container = containers[ipamd.find_ipamd_container(containers)]
            self.flags = ipamd.read_flags(self.container)
        except ipamd.IpamdError as e:
            self.problem = str(e)
        image = (self.container or {}).get("image")
        self.image: str | None = str(image) if image else None
        self.version = ipamd.parse_version(self.image or "")
        name = (self.container or {}).get("name")
        self.name: str | None = str(name) if name else None


def management_of(g: Globals, dep: Obj) -> tuple[settings.Management, list[str]]:
    secrets, problem = read_helm_secrets(g)
    info = Inspected(dep)
    mgmt = settings.management(
        info.version, secrets, settings.helm_metadata(dep), image=info.image or ""
    )
    return mgmt, [problem] if problem else []


def read_config(g: Globals) -> settings.ConfigView:
    from ..api.cluster import CONFIGMAPS, DEPLOYMENTS

    c = g.cluster()
    dep = read_deployment(g)
    info = Inspected(dep)
    mgmt, warnings = management_of(g, dep)
    # static IP mode as every other command detects it: the TKE claim API is served
    try:
        c.tke()
        static: bool | None = True
    except NotVpcCniError:
        static = False
    except ApiError:
        static = None
    try:
        sched: bool | None = c.get(DEPLOYMENTS, SCHEDULER, ipamd.DEPLOYMENT_NAMESPACE) is not None
    except Forbidden:
        sched = None
    try:
        cm = c.get(CONFIGMAPS, ipamd.DEPLOYMENT_NAME, ipamd.DEPLOYMENT_NAMESPACE)
    except Forbidden as e:
        cm = None
        warnings.append(f"cannot read ConfigMap kube-system/tke-eni-ipamd: {e.message}")
    subnets, vpc = settings.subnets_of(cm)
    if info.problem:
        warnings.append(info.problem)
    warnings += settings.config_warnings(info.flags)
    return settings.ConfigView(
        image=info.image,
        version=info.version,
        container=info.name,
        replicas=settings.replicas_of(dep),
        mgmt=mgmt,
        static_ip_mode=static,
        ip_scheduler=sched,
        flags=info.flags,
        flags_problem=info.problem,
        subnets=subnets,
        vpc_id=vpc,
        warnings=warnings,
    )
