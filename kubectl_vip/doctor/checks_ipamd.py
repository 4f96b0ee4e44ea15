"""Area `ipamd`: the network component that allocates and reclaims the IPs."""

from __future__ import annotations

from ..model import ipamd, schema, settings
from .reads import CLAIMS, DAEMONSETS, DEPLOYMENTS, PODS, SECRETS, STATEFULSETS, VIPS
from .registry import Issue, Severity, check
from .snapshot import AGENT, SCHEDULER, SYSTEM_NS, Snapshot, console_path, plural

DEPLOY = f"{SYSTEM_NS}/{ipamd.DEPLOYMENT_NAME}"
LOGS = f"kubectl logs -n {SYSTEM_NS} deploy/{ipamd.DEPLOYMENT_NAME} --tail=200"
BAD_WAITING = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
)
MANY_RESTARTS = 5


@check(
    "VIP-IPAMD-001", area="ipamd", title="ipamd Deployment present and ready", needs=(DEPLOYMENTS,)
)
def ipamd_ready(s: Snapshot) -> list[Issue]:
    """The tke-eni-ipamd Deployment exists and has its replicas ready: without it no Pod gets
    an IP, no node gets an ENI and no claim is reclaimed."""
    dep = s.deployment(ipamd.DEPLOYMENT_NAME)
    obj = [f"Deployment/{DEPLOY}"]
    if dep is None:
        return [
            Issue(
                Severity.ERROR,
                f"Deployment {DEPLOY} does not exist",
                [
                    f"no Deployment {ipamd.DEPLOYMENT_NAME} in {SYSTEM_NS}, yet the TKE CRDs "
                    "are served: VPC-CNI Pods get no IP and nodes get no ENI"
                ],
                "Reinstall the VPC-CNI network component: TKE console → Cluster → Add-On "
                "Management → eniipamd; if it is listed there, open a ticket with the output "
                "of `kubectl vip bundle`.",
                obj,
            )
        ]
    r = settings.replicas_of(dep)
    if r.desired == 0:
        return [
            Issue(
                Severity.ERROR,
                f"Deployment {DEPLOY} is scaled to 0",
                ["spec.replicas is 0: nothing allocates or reclaims IPs"],
                f"kubectl scale deploy/{ipamd.DEPLOYMENT_NAME} -n {SYSTEM_NS} --replicas=1",
                obj,
            )
        ]
    if r.ready < r.desired:
        return [
            Issue(
                Severity.ERROR,
                f"ipamd is not ready: {r.ready}/{r.desired} replicas",
                [
                    f"{DEPLOY}: {r.desired} desired, {r.ready} ready, {r.available} available, "
                    f"{r.updated} updated"
                ],
                f"kubectl describe deploy/{ipamd.DEPLOYMENT_NAME} -n {SYSTEM_NS}; then {LOGS}",
                obj,
            )
        ]
    return []


@check(
    "VIP-IPAMD-002", area="ipamd", title="ipamd Pods not crash-looping", needs=(DEPLOYMENTS, PODS)
)
def ipamd_pods(s: Snapshot) -> list[Issue]:
    """No container of an ipamd Pod is waiting in CrashLoopBackOff (or an image/config error),
    and none restarted 5 times or more."""
    issues: list[Issue] = []
    crashing: list[str] = []
    restarting: list[str] = []
    objects: list[str] = []
    for pod in s.ipamd_pods():
        pname = f"{SYSTEM_NS}/{pod.name}"
        for c in pod.containers:
            line = f"Pod {pname} container {c.name}: {plural(c.restarts, 'restart')}"
            if c.last_terminated:
                line += f", last terminated: {c.last_terminated}"
            if c.waiting in BAD_WAITING:
                crashing.append(
                    f"{line}; waiting: {c.waiting}" + (f" ({c.message})" if c.message else "")
                )
                objects.append(f"Pod/{pname}")
            elif c.restarts >= MANY_RESTARTS:
                restarting.append(line)
                objects.append(f"Pod/{pname}")
    if crashing:
        issues.append(
            Issue(
                Severity.ERROR,
                f"ipamd is crash-looping ({plural(len(crashing), 'container')})",
                crashing + restarting,
                f"{LOGS} --previous; fix what the log names (often the subnet or credentials "
                "in ConfigMap kube-system/tke-eni-ipamd), or open a ticket with "
                "`kubectl vip bundle`",
                sorted(set(objects)),
            )
        )
    elif restarting:
        issues.append(
            Issue(
                Severity.WARNING,
                f"ipamd restarted {MANY_RESTARTS} times or more",
                restarting,
                f"{LOGS} --previous",
                sorted(set(objects)),
            )
        )
    return issues


@check(
    "VIP-IPAMD-003",
    area="ipamd",
    title="ipamd version and management",
    needs=(DEPLOYMENTS,),
    uses=(SECRETS,),
)
def ipamd_version(s: Snapshot) -> list[Issue]:
    """ipamd's version (the image tag) and who owns its flags: the eniipamd add-on (v3.5.0+ or
    Helm release Secrets: change them in the console) or the Deployment's args (by hand); and,
    with the add-on, whether the Deployment's flags are those its release renders (a hand edit
    it will revert) or that this cannot be known."""
    info = s.ipamd
    if info is None:
        return []  # VIP-IPAMD-001 reports a missing Deployment
    m = s.management
    obj = [f"Deployment/{DEPLOY}"]
    version = str(info.version) if info.version else "unknown"
    evidence = [f"image {info.image or '<none>'}", f"managed {m.describe()}"]
    if info.flags is not None:
        f = info.flags
        evidence.append(
            f"flags: expiry {settings.expiry_text(f)}, cascade " + ("on" if f.cascade else "off")
        )
    evidence.append(f"rule: {m.rule}")
    evidence += m.notes
    if m.console:
        fix = (
            f"Change expiry and cascade in the console: {console_path(s)} (a hand edit of "
            "the Deployment may be reverted by the add-on)"
        )
    else:
        fix = (
            "Change them with kubectl vip set-expiry DURATION|never and "
            "kubectl vip enable-cascade|disable-cascade (they edit the Deployment's args)"
        )
    who = {
        settings.Addon.FOUND: "managed by the eniipamd add-on",
        settings.Addon.ABSENT: "no eniipamd add-on",
        settings.Addon.UNKNOWN: "eniipamd add-on not ruled out",
    }[m.addon]
    issues = [
        Issue(
            Severity.INFO,
            f"ipamd {version}, {who}: change its flags "
            + ("in the console" if m.console else "in the Deployment"),
            evidence,
            fix,
            obj,
        )
    ]
    drift = _addon_drift(s, info.flags)
    if drift is not None:
        issues.append(drift)
    elif m.addon is not settings.Addon.ABSENT:
        evidence.append(_addon_values_line(s, info.flags))
    problems = []
    note = settings.version_note(info.image, info.version)
    if note:
        problems.append(f"{settings.VERSION_UNKNOWN} ({note})")
    if info.problem:
        problems.append(f"flags unreadable: {info.problem}")
    problems += settings.config_warnings(info.flags)
    if problems:
        issues.append(
            Issue(
                Severity.WARNING,
                "ipamd's configuration cannot be read as expected",
                problems,
                "kubectl vip config; correct the container args of "
                f"deploy/{ipamd.DEPLOYMENT_NAME} (kubectl vip set-expiry / enable-cascade "
                "rewrite them cleanly)",
                obj,
            )
        )
    return issues


def _addon_values_line(s: Snapshot, flags: ipamd.IpamdFlags | None) -> str:
    """What is known of the add-on's own values: the same as the Deployment's, or why that
    cannot be told (never guessed)."""
    release = s.addon_release
    if release is not None and release.flags is not None and flags is not None:
        return f"its flags are those {release.describe()} renders: the add-on keeps them"
    if release is not None:
        why = f"{release.describe()}: {release.problem or 'the Deployment has no readable flags'}"
    elif s.helm_secrets is None:
        why = "its Helm release Secrets cannot be listed"
    elif not s.helm_secrets:
        why = "no Helm release Secret of it is in kube-system, only Helm's marks"
    else:
        why = "no deployed release of it was found"
    return (
        f"whether these flags are the {settings.ADDON} add-on's own cannot be known ({why}): a "
        "hand edit is put back at its next reconcile or update, whose time is not public; "
        "check again after one"
    )


def _addon_drift(s: Snapshot, flags: ipamd.IpamdFlags | None) -> Issue | None:
    """The Deployment's flags differ from what the add-on's newest deployed release renders:
    a hand edit that the add-on will put back."""
    release = s.addon_release
    if release is None or release.flags is None or flags is None:
        return None
    differences = settings.addon_differences(flags, release.flags)
    if not differences:
        return None
    return Issue(
        Severity.WARNING,
        f"ipamd's flags differ from the {settings.ADDON} add-on's: the add-on will revert "
        "this hand edit",
        [
            *differences,
            f"{release.describe()} is what the add-on puts back over a hand edit of "
            f"deploy/{ipamd.DEPLOYMENT_NAME}, at its next reconcile or update (when: not public)",
        ],
        f"To keep the change, make it in the console: {console_path(s)}; otherwise the "
        f"add-on brings back {', '.join(settings.flag_words(release.flags))}",
        [f"Deployment/{DEPLOY}", f"Secret/{SYSTEM_NS}/{release.secret}"],
    )


def _no_scheduler(s: Snapshot) -> Issue:
    """No tke-eni-ip-scheduler: say what the claims show, never more (a finding must not
    contradict its evidence: thousands of static claims mean static IPs are in use)."""
    evidence = [
        f"no Deployment {SCHEDULER} in {SYSTEM_NS}: in static IP mode it schedules a returning "
        "Pod where its IP can be used"
    ]
    static = None
    if s.claims is not None:
        static = sum(1 for r in s.rows if r.policy == "Never")
        evidence.append(
            plural(len(s.claims), "VpcIPClaim")
            + f" in the cluster, {static} with the static (Never) delete policy"
        )
    else:
        evidence.append("claims not read: whether static IPs are in use is unknown")
    if static:
        title = (
            f"Deployment {SYSTEM_NS}/{SCHEDULER} not found, yet {plural(static, 'static claim')} "
            + ("exists" if static == 1 else "exist")
            + ": static IPs are in use without the scheduler we know"
        )
        fix = (
            f"kubectl get deploy -n {SYSTEM_NS}   # is the scheduler there under another name?\n"
            "If not, open a TKE ticket with `kubectl vip bundle` (Static Pod IP support is "
            "enabled, its scheduler is missing)"
        )
    else:
        known = "no claim is static" if static == 0 else "claims not read"
        title = f"Deployment {SYSTEM_NS}/{SCHEDULER} not found: static IP mode looks off ({known})"
        fix = (
            "Enable Static Pod IP support for the cluster in the TKE console, or open a "
            "ticket if it is enabled"
        )
    return Issue(Severity.WARNING, title, evidence, fix, [f"Deployment/{SYSTEM_NS}/{SCHEDULER}"])


@check(
    "VIP-IPAMD-004",
    area="ipamd",
    title="Static IP components running",
    needs=(DEPLOYMENTS,),
    uses=(DAEMONSETS, CLAIMS, VIPS, PODS, STATEFULSETS),
    many="{n} static IP components not running as they should",
)
def static_components(s: Snapshot) -> list[Issue]:
    """tke-eni-ip-scheduler (exists only in static-IP mode) is deployed and ready, and the
    tke-eni-agent DaemonSet is ready on every node it runs on."""
    issues: list[Issue] = []
    sched = s.deployment(SCHEDULER)
    if sched is None:
        issues.append(_no_scheduler(s))
    else:
        r = settings.replicas_of(sched)
        if r.desired > 0 and r.ready < r.desired:
            issues.append(
                Issue(
                    Severity.WARNING,
                    f"{SCHEDULER} is not ready: {r.ready}/{r.desired} replicas",
                    [f"{SYSTEM_NS}/{SCHEDULER}: {r.desired} desired, {r.ready} ready"],
                    f"kubectl describe deploy/{SCHEDULER} -n {SYSTEM_NS}; "
                    f"kubectl logs -n {SYSTEM_NS} deploy/{SCHEDULER} --tail=200",
                    [f"Deployment/{SYSTEM_NS}/{SCHEDULER}"],
                )
            )
    agent = s.daemonset(AGENT)
    if agent is not None:
        desired, ready = schema.daemonset_counts(agent)
        if desired is not None and ready is not None and ready < desired:
            issues.append(
                Issue(
                    Severity.WARNING,
                    f"{AGENT} is not ready on {desired - ready} of {desired} nodes",
                    [
                        f"DaemonSet {SYSTEM_NS}/{AGENT}: {desired} scheduled, {ready} ready; "
                        "VPC-CNI Pods on those nodes get no network"
                    ],
                    f"kubectl get pods -n {SYSTEM_NS} -l k8s-app={AGENT} -o wide; then "
                    f"kubectl logs on the Pods that are not ready",
                    [f"DaemonSet/{SYSTEM_NS}/{AGENT}"],
                )
            )
    return issues
