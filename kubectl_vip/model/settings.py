"""Decisions and texts for `config`, `set-expiry`, `enable-cascade` and `disable-cascade` (pure).

Who manages ipamd (the `eniipamd` add-on or a hand-edited Deployment), whether we patch,
what the console says to set instead, the command that restores the previous args, which
workloads a new `--enable-ownerref` does not cover, and the result documents. No I/O here:
the CLI reads the cluster and passes plain data in.
"""

from __future__ import annotations

import enum
import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..errors import UsageError
from . import ipamd
from .claims import ClaimRow
from .duration import DurationError, format_compact, parse_expiry
from .ipamd import ADDON_MANAGED_FROM, UNSET, ArgsPlan, IpamdFlags, Unset, Version
from .schema import TKE_GROUP

API_VERSION = "kubectl-vip/v1"
ADDON = "eniipamd"
HELM_SECRET_PREFIX = f"sh.helm.release.v1.{ADDON}."
HELM_SECRET_SELECTOR = f"owner=helm,name={ADDON}"
CONSOLE_URL = "https://console.qcloud.com/tke2"
ROLLOUT_STATUS_COMMAND = "kubectl rollout status deploy/tke-eni-ipamd -n kube-system"
DRY_RUN_MODES = ("none", "client", "server")


# ---------------------------------------------------------------------------------- input


def parse_expiry_arg(text: str) -> timedelta | None:
    """`set-expiry`'s argument: None = never (remove the flag); else a duration >= 5m."""
    try:
        return parse_expiry(text)
    except DurationError as e:
        raise UsageError(f"{e} (or never to disable)") from None


def parse_dry_run(value: str | None) -> str:
    """kubectl's --dry-run: none (absent), client (bare flag) or server."""
    if value is None:
        return "none"
    v = value.strip().lower()
    if v not in DRY_RUN_MODES:
        raise UsageError(f'invalid --dry-run "{value}": use --dry-run=client or --dry-run=server')
    return v


# ---------------------------------------------------------------------------------- versions


def version_note(image: str | None, version: Version | None) -> str | None:
    """Why the version is unknown (None when it is known)."""
    if version is not None:
        return None
    if not image:
        return "the ipamd container has no image"
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    if tag is None and digest:
        return "the image is pinned by digest only; the tag carries the version"
    if tag is None:
        return "the image has no tag; the tag carries the version"
    if tag == "latest":
        return 'the image tag is "latest", which names no version'
    m = re.fullmatch(r"v?[0-9]+\.[0-9]+\.[0-9]+-([0-9A-Za-z.-]+).*", tag)
    if m:
        return (
            f'the image tag "{tag}" carries the suffix "-{m.group(1)}", which is no '
            "pre-release (rc, alpha, beta): whether it is before or after the release is unknown"
        )
    return f'the image tag "{tag}" is not a version'


# ---------------------------------------------------------------------------------- management


def helm_release_secrets(names: Iterable[str]) -> list[str]:
    """The eniipamd add-on's Helm release Secrets among these names, sorted."""
    return sorted(n for n in names if n.startswith(HELM_SECRET_PREFIX))


HELM_RELEASE_ANNOTATION = "meta.helm.sh/release-name"
HELM_NAMESPACE_ANNOTATION = "meta.helm.sh/release-namespace"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"


def helm_metadata(deployment: dict[str, Any] | None) -> list[str]:
    """The marks Helm (3.2+) puts on what it installs, as found on the ipamd Deployment."""
    meta = (deployment or {}).get("metadata") or {}
    ann = meta.get("annotations") or {}
    labels = meta.get("labels") or {}
    out = []
    release = ann.get(HELM_RELEASE_ANNOTATION)
    if isinstance(release, str) and release:
        out.append(f"annotation {HELM_RELEASE_ANNOTATION}={release}")
    if labels.get(MANAGED_BY_LABEL) == "Helm":
        out.append(f"label {MANAGED_BY_LABEL}=Helm")
    return out


class Addon(enum.Enum):
    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"  # Secrets not listable and no Helm mark on the Deployment


class Route(enum.Enum):
    CONSOLE = "console"  # the add-on's "Update configuration" page; patch only with --force
    PATCH = "patch"  # edit the Deployment's container args


# The rules of the source pages ("Reclaiming after expiration" and "Cascade reclaiming"):
#   "tke-eni-ipamd v3.5.0 or later" -> the console (Add-On Management -> eniipamd);
#   "tke-eni-ipamd earlier than v3.5.0 or no eniipamd to manage" -> `kubectl edit deploy`.
# Whether the add-on is there is decided first, then the version.
RULE_CONSOLE = "v3.5.0 or later with the eniipamd add-on: the console"
RULE_OLD = "earlier than v3.5.0: edit the Deployment"
RULE_NO_ADDON = "no eniipamd add-on to manage ipamd: edit the Deployment"
RULE_UNKNOWN_VERSION = "version unknown with the eniipamd add-on: the console"
RULE_ADDON_UNKNOWN = "v3.5.0 or later (or version unknown), add-on not ruled out: the console"
VERSION_UNKNOWN = f"version unknown: if the {ADDON} add-on manages ipamd, use the console"


@dataclass(frozen=True)
class Management:
    addon: Addon
    route: Route
    rule: str  # which rule of the pages applies
    addon_evidence: list[str]  # what shows the add-on, or its absence
    version_reason: str  # the version compared with v3.5.0, or why it is unknown
    notes: list[str]  # lines the plan prints: a revert risk, an unknown version
    helm_secrets: list[str] | None  # None: they could not be listed
    version: Version | None

    @property
    def reasons(self) -> list[str]:
        return [*self.addon_evidence, self.version_reason]

    @property
    def console(self) -> bool:
        return self.route is Route.CONSOLE

    @property
    def by(self) -> str:
        return {
            Addon.FOUND: "eniipamd add-on",
            Addon.ABSENT: "manual",
            Addon.UNKNOWN: "unknown",
        }[self.addon]

    def describe(self) -> str:
        head = {
            Addon.FOUND: f"the {ADDON} add-on",
            Addon.ABSENT: f"by hand (no {ADDON} add-on)",
            Addon.UNKNOWN: f"unknown (the {ADDON} add-on is not ruled out)",
        }[self.addon]
        return f"{head}: " + "; ".join(self.addon_evidence)

    def rule_text(self) -> str:
        return f"{self.rule} ({self.version_reason})"


def _addon(helm_secrets: list[str] | None, helm_meta: list[str]) -> tuple[Addon, list[str]]:
    found = []
    if helm_secrets:
        found.append("Helm release Secret " + ", ".join(helm_secrets) + " in kube-system")
    if helm_meta:
        found.append("the Deployment carries Helm's " + ", ".join(helm_meta))
    if found:
        return Addon.FOUND, found
    no_meta = "no Helm release marks on the Deployment"
    if helm_secrets is None:
        return Addon.UNKNOWN, [f"Helm release Secrets could not be listed; {no_meta}"]
    return Addon.ABSENT, [f"no {HELM_SECRET_PREFIX}* Secret in kube-system; {no_meta}"]


def management(
    version: Version | None,
    helm_secrets: list[str] | None,
    helm_meta: list[str] | None = None,
    *,
    image: str | None = None,
) -> Management:
    """Who owns ipamd's flags, decided by the add-on first, then by the version.

    | add-on \\ version | >= v3.5.0 | < v3.5.0            | unknown                |
    | found            | console   | patch, revert risk  | console                |
    | absent           | patch     | patch               | patch, "version unknown" line |
    | unknown          | console   | patch, revert risk  | console                |
    """
    addon, evidence = _addon(helm_secrets, helm_meta or [])
    notes: list[str] = []
    if version is None:
        why = version_note(image, None) if image is not None else None
        version_reason = "version unknown" + (f": {why}" if why else "")
    else:
        cmp = ">=" if version >= ADDON_MANAGED_FROM else "<"
        version_reason = f"ipamd {version} {cmp} {ADDON_MANAGED_FROM}"
    revert = (
        f"an update of the {ADDON} add-on may revert this hand edit of the Deployment: "
        "check with kubectl vip config after one"
    )
    if version is not None and version < ADDON_MANAGED_FROM:
        route, rule = Route.PATCH, RULE_OLD
        if addon is Addon.FOUND:
            notes.append(f"the {ADDON} add-on is present: {revert}")
        elif addon is Addon.UNKNOWN:
            notes.append(f"if the {ADDON} add-on manages ipamd, {revert}")
    elif addon is Addon.ABSENT:
        route, rule = Route.PATCH, RULE_NO_ADDON
        if version is None:
            notes.append(f"{VERSION_UNKNOWN}; no add-on was found, so the Deployment is edited")
    elif addon is Addon.FOUND:
        route = Route.CONSOLE
        rule = RULE_CONSOLE if version is not None else RULE_UNKNOWN_VERSION
        if version is None:
            notes.append(VERSION_UNKNOWN)
    else:
        route, rule = Route.CONSOLE, RULE_ADDON_UNKNOWN
        if version is None:
            notes.append(VERSION_UNKNOWN)
    return Management(addon, route, rule, evidence, version_reason, notes, helm_secrets, version)


# ---------------------------------------------------------------------------------- add-on values


@dataclass(frozen=True)
class AddonRelease:
    """What the eniipamd add-on's newest deployed Helm release renders for ipamd: the values
    the add-on puts back over a hand edit of the Deployment (at its next reconcile or update;
    when that is, is not public)."""

    secret: str  # sh.helm.release.v1.eniipamd.vN
    revision: int
    flags: IpamdFlags | None  # None: the release renders no ipamd container we can read
    problem: str | None = None  # why `flags` is None

    def describe(self) -> str:
        return f"the {ADDON} add-on's release {self.secret} (revision {self.revision})"


def release_revision(name: str) -> int | None:
    """N of `sh.helm.release.v1.eniipamd.vN`."""
    m = re.fullmatch(re.escape(HELM_SECRET_PREFIX) + r"v([0-9]+)", name)
    return int(m.group(1)) if m else None


def decode_helm_release(data: Any) -> dict[str, Any] | None:
    """A Helm 3 release from its Secret's `data.release`: the Secret's base64 of Helm's own
    base64 of the (gzipped) JSON release. None when it is not one."""
    import base64
    import gzip

    if not isinstance(data, str) or not data:
        return None
    try:
        inner = base64.b64decode(base64.b64decode(data, validate=True), validate=True)
        raw = gzip.decompress(inner) if inner[:2] == b"\x1f\x8b" else inner
        release = json.loads(raw)
    except (ValueError, OSError, EOFError):
        return None
    return release if isinstance(release, dict) else None


def _release_ipamd_container(release: dict[str, Any]) -> dict[str, Any] | None:
    """The ipamd container of the Deployment the release's manifest renders."""
    import yaml

    manifest = release.get("manifest")
    if not isinstance(manifest, str):
        return None
    try:
        docs = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError:
        return None
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "Deployment":
            continue
        if ((doc.get("metadata") or {}).get("name")) != ipamd.DEPLOYMENT_NAME:
            continue
        containers = (((doc.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        )
        if not isinstance(containers, list):
            return None
        try:
            found: dict[str, Any] = containers[ipamd.find_ipamd_container(containers)]
        except ipamd.IpamdError:
            return None
        return found
    return None


def addon_release(secret: dict[str, Any]) -> AddonRelease | None:
    """The ipamd flags a deployed eniipamd release Secret renders; None for a Secret that is not
    a deployed eniipamd release (Helm keeps superseded ones too). Nothing else of the release
    (values, chart, other manifests) is kept."""
    meta = secret.get("metadata") or {}
    name = str(meta.get("name") or "")
    revision = release_revision(name)
    labels = meta.get("labels") or {}
    if revision is None or labels.get("status") not in (None, "deployed"):
        return None
    release = decode_helm_release((secret.get("data") or {}).get("release"))
    if release is None:
        return AddonRelease(name, revision, None, "its release data cannot be decoded")
    container = _release_ipamd_container(release)
    if container is None:
        return AddonRelease(
            name, revision, None, f"its manifest renders no {ipamd.DEPLOYMENT_NAME} container"
        )
    try:
        return AddonRelease(name, revision, ipamd.read_flags(container))
    except ipamd.IpamdError as e:
        return AddonRelease(name, revision, None, f"its ipamd args cannot be read: {e}")


def newest_release(releases: Iterable[AddonRelease | None]) -> AddonRelease | None:
    found = [r for r in releases if r is not None]
    return max(found, key=lambda r: r.revision) if found else None


def flag_words(f: IpamdFlags) -> tuple[str, str]:
    return (
        "expiry " + _one_expiry(f.expiry, f.expiry_invalid, f.expiry_raw),
        "cascade " + ("on" if f.cascade else "off"),
    )


def addon_differences(current: IpamdFlags, addon: IpamdFlags) -> list[str]:
    """What the Deployment's ipamd runs with that the add-on's release does not (empty: the
    same), each as `expiry 2h here, never in the add-on's release`."""
    out = []
    for mine, theirs in zip(flag_words(current), flag_words(addon), strict=True):
        if mine != theirs:
            out.append(f"{mine} on the Deployment, {theirs.partition(' ')[2]} in the release")
    return out


class Gate(enum.Enum):
    PATCH = "patch"
    FORCED = "forced"  # the console's to change, patched anyway because of --force
    REFUSE = "refuse"


def gate(m: Management, *, force: bool) -> Gate:
    if m.route is Route.PATCH:
        return Gate.PATCH
    return Gate.FORCED if force else Gate.REFUSE


# ---------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """What a command asks for: expiry (UNSET: leave; None: never) and/or cascade (None: leave)."""

    expiry: timedelta | Unset | None = UNSET
    cascade: bool | None = None

    def describe(self) -> str:
        if not isinstance(self.expiry, Unset):
            return "expiry " + ("never" if self.expiry is None else format_compact(self.expiry))
        if self.cascade is not None:
            return "cascade " + ("on" if self.cascade else "off")
        return "nothing"

    def doc(self) -> dict[str, Any]:
        expiry: str | None = None
        if not isinstance(self.expiry, Unset):
            expiry = "never" if self.expiry is None else format_compact(self.expiry)
        return {"expiry": expiry, "cascade": self.cascade}


def is_set(flags: IpamdFlags, target: Target) -> bool:
    """Whether the flags already mean what the target asks (read back after a rollout)."""
    if not isinstance(target.expiry, Unset) and (
        flags.expiry_invalid or flags.expiry != target.expiry
    ):
        return False
    return target.cascade is None or (not flags.cascade_invalid and flags.cascade == target.cascade)


def console_action(target: Target) -> str:
    """What to do on the add-on's "Update configuration" page."""
    if not isinstance(target.expiry, Unset):
        if target.expiry is None:
            return "clear the expiration time of the static IP reclaiming policy (never reclaim)"
        seconds = int(target.expiry.total_seconds())
        return (
            f"enter the expiration time {format_compact(target.expiry)} ({seconds} seconds) "
            "in the static IP reclaiming policy"
        )
    if target.cascade:
        return 'select "Cascade reclaiming"'
    return 'clear the "Cascade reclaiming" checkbox'


def console_steps(target: Target, cluster_id: str | None = None) -> list[str]:
    """The console path from the TKE docs, with what to set at its end."""
    which = f" ({cluster_id})" if cluster_id else ""
    return [
        f"TKE console → Cluster → {cluster_id or '(your cluster)'} → Add-On Management → "
        f"{ADDON} → Update configuration:",
        f"  1. Log in to the TKE console ({CONSOLE_URL}) and click Cluster in the left sidebar.",
        f"  2. On the Cluster Management page, click the ID of the target cluster{which}.",
        "  3. On the cluster details page, select Add-On Management in the left sidebar.",
        f"  4. Click Update configuration in the Operation column of the {ADDON} add-on.",
        f"  5. On the Update configuration page, {console_action(target)}, and click Done.",
    ]


def cluster_id(flags: IpamdFlags | None) -> str | None:
    """ipamd's `--cluster-id` (names the cluster in the console), if it has one."""
    if flags is None:
        return None
    args = flags.other_args
    found: str | None = None
    for i, a in enumerate(args):
        name, eq, value = a.lstrip("-").partition("=")
        if not a.startswith("-") or name != "cluster-id":
            continue
        if eq:
            found = value
        elif i + 1 < len(args):
            found = args[i + 1]
    return found or None


# ---------------------------------------------------------------------------------- commands


def restore_command(
    restore_patch: list[dict[str, Any]],
    *,
    context: str | None = None,
    kubeconfig: str | None = None,
) -> str:
    """The kubectl line that puts the previous args back (its own `test` op guards it too)."""
    argv = ["kubectl"]
    if kubeconfig:
        argv += ["--kubeconfig", kubeconfig]
    if context:
        argv += ["--context", context]
    argv += [
        "patch",
        "deploy",
        ipamd.DEPLOYMENT_NAME,
        "-n",
        ipamd.DEPLOYMENT_NAMESPACE,
        "--type=json",
        "-p",
        json.dumps(restore_patch, separators=(",", ":"), ensure_ascii=False),
    ]
    return shlex.join(argv)


def diff_label(plan: ArgsPlan, container_name: str | None) -> str:
    where = container_name or f"containers[{plan.container_index}]"
    return f"deploy/{ipamd.DEPLOYMENT_NAME} {where} {plan.field}"


# ---------------------------------------------------------------------------------- cascade


@dataclass(frozen=True)
class Uncovered:
    """An existing workload whose claims have no ownerReference: deleting it keeps them."""

    kind: str
    namespace: str
    name: str
    claims: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.kind}/{self.name} -n {self.namespace}"


def uncovered_workloads(rows: Iterable[ClaimRow]) -> list[Uncovered]:
    """Workloads that still exist (or cannot be checked) whose claims name no owner themselves.

    `--enable-ownerref` only puts ownerReferences on claims created after it; an owner we found
    through the Pod or the claim's name is not one the garbage collector follows. Claims with
    the `Immediate` delete policy are left out: they go with their Pods anyway.
    """
    groups: dict[tuple[str, str, str], list[str]] = {}
    for r in rows:
        o = r.owner
        if o is None or o.source == "claim" or o.exists is False or r.policy == "Immediate":
            continue
        groups.setdefault((o.kind, r.namespace, o.name), []).append(r.name)
    return [
        Uncovered(kind, ns, name, sorted(claims))
        for (kind, ns, name), claims in sorted(
            groups.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
        )
    ]


def uncovered_lines(found: list[Uncovered]) -> list[str]:
    if not found:
        return ["Every existing workload's static claims already carry an ownerReference."]
    n_claims = sum(len(u.claims) for u in found)
    lines = [
        f"{len(found)} existing workloads ({n_claims} static claims) will not cascade: their "
        "claims carry no ownerReference (only workloads created from now on are covered):"
    ]
    lines += [
        f"  {u.kind}/{u.name} -n {u.namespace}: {len(u.claims)} "
        + ("claim" if len(u.claims) == 1 else "claims")
        for u in found
    ]
    return lines


def uncovered_doc(found: list[Uncovered]) -> list[dict[str, Any]]:
    return [
        {"kind": u.kind, "namespace": u.namespace, "name": u.name, "claims": list(u.claims)}
        for u in found
    ]


# ---------------------------------------------------------------------------------- documents


def management_doc(m: Management) -> dict[str, Any]:
    """`addon`: true (found), false (absent) or null (cannot tell); `route`: console|patch."""
    addon = {Addon.FOUND: True, Addon.ABSENT: False, Addon.UNKNOWN: None}[m.addon]
    return {
        "addon": addon,
        "managedBy": m.by,
        "route": m.route.value,
        "rule": m.rule,
        "reasons": list(m.reasons),
        "addonEvidence": list(m.addon_evidence),
        "versionReason": m.version_reason,
        "notes": list(m.notes),
        "helmReleaseSecrets": None if m.helm_secrets is None else list(m.helm_secrets),
    }


def change_doc(
    plan: ArgsPlan,
    target: Target,
    *,
    container: str | None,
    dry_run: str,
    applied: bool,
    forced: bool,
    restore: str | None,
    mgmt: Management,
    rollout: str | None = None,
    uncovered: list[Uncovered] | None = None,
) -> dict[str, Any]:
    """The `IpamdChange` result document (stable keys)."""
    return {
        "apiVersion": API_VERSION,
        "kind": "IpamdChange",
        "deployment": {
            "namespace": ipamd.DEPLOYMENT_NAMESPACE,
            "name": ipamd.DEPLOYMENT_NAME,
            "container": container,
            "field": plan.field,
        },
        "request": target.doc(),
        "before": {"args": list(plan.old), "flags": ipamd.describe_flags(plan.before)},
        "after": {"args": list(plan.new), "flags": ipamd.describe_flags(plan.after)},
        "changed": plan.changed,
        "applied": applied,
        "dryRun": dry_run,
        "forced": forced,
        "management": management_doc(mgmt),
        "jsonPatch": list(plan.json_patch),
        "restorePatch": list(plan.restore_patch),
        "restoreCommand": restore,
        "rollout": rollout,
        "uncoveredWorkloads": None if uncovered is None else uncovered_doc(uncovered),
    }


@dataclass(frozen=True)
class Replicas:
    desired: int
    ready: int
    updated: int
    available: int


def replicas_of(dep: dict[str, Any]) -> Replicas:
    spec = dep.get("spec") or {}
    st = dep.get("status") or {}

    def num(v: Any, default: int = 0) -> int:
        return v if isinstance(v, int) and not isinstance(v, bool) else default

    return Replicas(
        num(spec.get("replicas"), 1),
        num(st.get("readyReplicas")),
        num(st.get("updatedReplicas")),
        num(st.get("availableReplicas")),
    )


@dataclass(frozen=True)
class ConfigView:
    """What `kubectl vip config` shows."""

    image: str | None
    version: Version | None
    container: str | None
    replicas: Replicas
    mgmt: Management
    # the TKE claim API (VpcIPClaim, VpcIP) is served: what list, usage and doctor need
    static_ip_mode: bool | None  # None: could not be checked
    flags: IpamdFlags | None
    flags_problem: str | None
    subnets: list[str] | None  # None: the ConfigMap is missing or unreadable
    vpc_id: str | None
    warnings: list[str] = field(default_factory=list)
    ip_scheduler: bool | None = None  # kube-system/tke-eni-ip-scheduler exists (None: unread)


def config_warnings(flags: IpamdFlags | None) -> list[str]:
    if flags is None:
        return []
    out: list[str] = []
    if flags.expiry_invalid:
        out.append(
            f"--{ipamd.EXPIRY_FLAG} has an invalid value {json.dumps(flags.expiry_raw)}: ipamd "
            "would not start with it; fix it with kubectl vip set-expiry DURATION|never"
        )
    if flags.cascade_invalid:
        out.append(
            f"--{ipamd.CASCADE_FLAG} has an invalid value {json.dumps(flags.cascade_raw)}: ipamd "
            "would not start with it; fix it with kubectl vip enable-cascade or disable-cascade"
        )
    if flags.duplicate_flags:
        out.append("repeated flags (the last one wins): " + ", ".join(flags.duplicate_flags))
    for split in flags.split_booleans:
        flag, _, value = split.partition(" ")
        line = (
            f"{split!r} is ambiguous: a boolean flag does not take a separate value, so ipamd "
            f"reads {flag} as true whatever {value!r} says"
        )
        if flags.ignored_by_go_flag:
            line += (
                ", and Go's flag package stops at the bare value: "
                + ", ".join(flags.ignored_by_go_flag)
                + " after it may be ignored"
            )
        if flags.ambiguous:
            line += "; what ipamd runs with depends on its flag package, which is not public"
        out.append(
            line + f"; any kubectl vip patch rewrites it as {flag}=true (ipamd's current reading)"
        )
    return out


def expiry_text(flags: IpamdFlags) -> str:
    if flags.ambiguous and flags.split_booleans:
        split = flags.split_booleans[0]
        return (
            f"unknown: {_one_expiry(flags.expiry, flags.expiry_invalid, flags.expiry_raw)} if "
            f"ipamd's flag package reads on past {split!r} (as spf13/pflag does), "
            f"{_one_expiry(flags.stop_expiry, flags.stop_expiry_invalid, None)} if it stops "
            "there (as Go's flag does); which one ipamd uses is not public"
        )
    if flags.expiry_invalid:
        return f"invalid ({json.dumps(flags.expiry_raw)})"
    if flags.expiry is None:
        how = (
            "flag not set"
            if flags.expiry_raw is None
            else f"--{ipamd.EXPIRY_FLAG} {flags.expiry_raw}"
        )
        return f"never ({how})"
    return format_compact(flags.expiry)


def _one_expiry(td: timedelta | None, invalid: bool, raw: str | None) -> str:
    if invalid:
        return f"invalid ({json.dumps(raw)})"
    return format_compact(td) if td is not None else "never"


def _cascade_text(f: IpamdFlags) -> str:
    text = ("invalid " if f.cascade_invalid else "") + ("on" if f.cascade else "off")
    if f.split_booleans:
        text += " (ambiguous: " + ", ".join(f.split_booleans) + ", read as true)"
    return text


def static_mode_text(served: bool | None, scheduler: bool | None) -> str:
    """Static IP mode as list, usage and doctor detect it (the claim API is served), with what
    the scheduler Deployment adds; a missing scheduler alone never turns the mode off."""
    if served is False:
        return (
            f"off: this cluster does not serve {TKE_GROUP} (VpcIPClaim, VpcIP); "
            "list, usage, reclaim and doctor have nothing to work on"
        )
    sched = {
        True: "tke-eni-ip-scheduler deployed",
        False: "no tke-eni-ip-scheduler Deployment: see kubectl vip doctor",
        None: "tke-eni-ip-scheduler unreadable",
    }[scheduler]
    if served is None:
        return f"unknown (API discovery failed; {sched})"
    return f"on (VpcIPClaim and VpcIP served; {sched})"


def config_lines(v: ConfigView) -> list[tuple[str, str]]:
    """(label, value) rows of the `config` view."""
    version = str(v.version) if v.version else "unknown: " + (version_note(v.image, None) or "")
    r = v.replicas
    static = static_mode_text(v.static_ip_mode, v.ip_scheduler)
    rows = [
        ("Deployment", f"{ipamd.DEPLOYMENT_NAMESPACE}/{ipamd.DEPLOYMENT_NAME}"),
        ("Container", v.container or "-"),
        ("Image", v.image or "-"),
        ("Version", version),
        ("Replicas", f"{r.desired} desired, {r.ready} ready"),
        ("Managed by", v.mgmt.describe()),
        ("Static IP mode", static),
    ]
    if v.flags is None:
        rows.append(("Flags", f"unreadable: {v.flags_problem}"))
    else:
        f = v.flags
        rows += [
            ("Expiry", expiry_text(f)),
            ("Cascade", _cascade_text(f)),
            ("Other flags", shlex.join(f.other_args) if f.other_args else "-"),
            ("Flags in", f.location),
        ]
    if v.subnets is None:
        rows.append(("Subnets", "unknown (no ConfigMap kube-system/tke-eni-ipamd)"))
    else:
        rows.append(("Subnets", ", ".join(v.subnets) if v.subnets else "none configured"))
    rows.append(("VPC", v.vpc_id or "-"))
    rows.append(("Rule", v.mgmt.rule_text()))
    rows += [("Note", n) for n in v.mgmt.notes]
    if v.mgmt.console:
        change = f"TKE console → Add-On Management → {ADDON} → Update configuration"
    else:
        change = "kubectl vip set-expiry DURATION|never, kubectl vip enable-cascade|disable-cascade"
    rows.append(("Change with", change))
    return rows


def config_doc(v: ConfigView) -> dict[str, Any]:
    r = v.replicas
    return {
        "apiVersion": API_VERSION,
        "kind": "IpamdConfig",
        "deployment": {
            "namespace": ipamd.DEPLOYMENT_NAMESPACE,
            "name": ipamd.DEPLOYMENT_NAME,
            "container": v.container,
        },
        "image": v.image,
        "version": str(v.version) if v.version else None,
        "versionNote": version_note(v.image, v.version),
        "replicas": {
            "desired": r.desired,
            "ready": r.ready,
            "updated": r.updated,
            "available": r.available,
        },
        "management": management_doc(v.mgmt),
        "staticIPMode": v.static_ip_mode,
        "ipScheduler": v.ip_scheduler,
        "flags": ipamd.describe_flags(v.flags) if v.flags is not None else None,
        "flagsProblem": v.flags_problem,
        "subnets": v.subnets,
        "vpcID": v.vpc_id,
        "warnings": list(v.warnings),
    }


def subnets_of(configmap: dict[str, Any] | None) -> tuple[list[str] | None, str | None]:
    """Subnet IDs (TKE_ENI_IPAMD_SUBNET_ID, colon-separated) and the VPC ID of the ConfigMap."""
    if configmap is None:
        return None, None
    data = configmap.get("data") or {}
    raw = str(data.get("TKE_ENI_IPAMD_SUBNET_ID") or "")
    vpc = data.get("TKE_ENI_IPAMD_VPC_ID")
    return [s for s in raw.split(":") if s.strip()], (str(vpc) if vpc else None)


__all__ = [
    "DRY_RUN_MODES",
    "ROLLOUT_STATUS_COMMAND",
    "ConfigView",
    "Gate",
    "Management",
    "Target",
    "Uncovered",
    "change_doc",
    "cluster_id",
    "config_doc",
    "config_lines",
    "console_steps",
    "gate",
    "helm_release_secrets",
    "is_set",
    "management",
    "parse_dry_run",
    "parse_expiry_arg",
    "restore_command",
    "uncovered_workloads",
    "version_note",
]
