"""`kubectl vip set-expiry`, `enable-cascade`, `disable-cascade`: version-aware ipamd patches.

Read the Deployment, plan the args (pure), show the diff, apply a JSON patch whose first op
tests the old args, print the restore command; optionally follow the rollout and check that
nothing reverted the change.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import typer
from typer.core import TyperCommand

from ..errors import ApiError, Conflict, Invalid, NotFound, RefusedError, UsageError, VipError
from ..model import ipamd, settings
from ..model.duration import DurationError, format_compact, parse_go_duration
from ..ops.rollout import RolloutStatus
from . import common
from .common import Globals
from .config_cmd import Inspected, read_deployment, read_helm_secrets
from .expiry_step import ImpactStep

Obj = dict[str, Any]
FORMATS = ("text", "json", "yaml")
DEFAULT_TIMEOUT = timedelta(minutes=5)

# "\b" keeps click from re-wrapping the example lines into one paragraph
SET_EXPIRY_EPILOG = """Examples:

\b
  kubectl vip set-expiry 1h --dry-run   # the args diff and what ipamd would reclaim
  kubectl vip set-expiry 90m --wait     # patch, follow the rollout and ipamd's next sweep
"""

ENABLE_EPILOG = """Examples:

\b
  kubectl vip enable-cascade --dry-run=server   # the diff, validated by the API server
  kubectl vip enable-cascade --wait --timeout 10m
"""

DISABLE_EPILOG = """Examples:

\b
  kubectl vip disable-cascade --dry-run         # show the args diff, send nothing
  kubectl vip disable-cascade -o json > change.json
"""


class DryRunCommand(TyperCommand):
    """Accepts kubectl's bare `--dry-run` (= client) next to `--dry-run=client|server|none`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        result: list[str] = super().parse_args(ctx, normalize_dry_run(args))
        return result


def normalize_dry_run(args: list[str]) -> list[str]:
    """Bare `--dry-run` becomes `--dry-run=client`, unless a mode follows (`--dry-run server`),
    so that it never swallows the DURATION argument."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out.extend(args[i:])
            break
        if a == "--dry-run":
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and nxt.strip().lower() in settings.DRY_RUN_MODES:
                out.append(f"--dry-run={nxt}")
                i += 2
                continue
            out.append("--dry-run=client")
        else:
            out.append(a)
        i += 1
    return out


def register(app: typer.Typer) -> None:
    app.command("set-expiry", cls=DryRunCommand, epilog=SET_EXPIRY_EPILOG)(set_expiry)
    app.command("enable-cascade", cls=DryRunCommand, epilog=ENABLE_EPILOG)(enable_cascade)
    app.command("disable-cascade", cls=DryRunCommand, epilog=DISABLE_EPILOG)(disable_cascade)


_DRY_RUN_HELP = "client: show the diff only; server: send it with dryRun=All. Bare = client."
_FORCE_HELP = "Patch even when the eniipamd add-on manages ipamd (an add-on update may revert it)."
_WAIT_HELP = "Follow the rollout, then check that the flag is still set."
_TIMEOUT_HELP = "How long --wait waits (a Go duration; default 5m)."
_OUTPUT_HELP = "text|json|yaml (json/yaml: an IpamdChange document; the diff goes to stderr)."
_YES_HELP = "Change the expiry without asking, even when ipamd will reclaim claims because of it."


def set_expiry(
    ctx: typer.Context,
    duration: str = typer.Argument(
        ..., metavar="DURATION|never", help="A Go duration of at least 5m (90m, 1h30m), or never."
    ),
    dry_run: str | None = typer.Option(
        None, "--dry-run", metavar="client|server", help=_DRY_RUN_HELP
    ),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    wait: bool = typer.Option(False, "--wait", help=_WAIT_HELP),
    timeout: str | None = typer.Option(None, "--timeout", metavar="DURATION", help=_TIMEOUT_HELP),
    output: str = typer.Option("text", "-o", "--output", help=_OUTPUT_HELP),
    yes: bool = typer.Option(False, "-y", "--yes", help=_YES_HELP),
) -> None:
    """Set how long ipamd keeps a released static IP (--claim-expired-duration).

    Before the change it shows which claims ipamd will reclaim because of it (at its next sweep
    and within 24h, Pods that come back flagged) and asks; --wait also follows that sweep.
    """
    target = settings.Target(expiry=settings.parse_expiry_arg(duration))
    _run(ctx, target, dry_run, force, wait, timeout, output, yes)


def enable_cascade(
    ctx: typer.Context,
    dry_run: str | None = typer.Option(
        None, "--dry-run", metavar="client|server", help=_DRY_RUN_HELP
    ),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    wait: bool = typer.Option(False, "--wait", help=_WAIT_HELP),
    timeout: str | None = typer.Option(None, "--timeout", metavar="DURATION", help=_TIMEOUT_HELP),
    output: str = typer.Option("text", "-o", "--output", help=_OUTPUT_HELP),
) -> None:
    """Turn on cascade reclaiming (--enable-ownerref) for new workloads."""
    _run(ctx, settings.Target(cascade=True), dry_run, force, wait, timeout, output)


def disable_cascade(
    ctx: typer.Context,
    dry_run: str | None = typer.Option(
        None, "--dry-run", metavar="client|server", help=_DRY_RUN_HELP
    ),
    force: bool = typer.Option(False, "--force", help=_FORCE_HELP),
    wait: bool = typer.Option(False, "--wait", help=_WAIT_HELP),
    timeout: str | None = typer.Option(None, "--timeout", metavar="DURATION", help=_TIMEOUT_HELP),
    output: str = typer.Option("text", "-o", "--output", help=_OUTPUT_HELP),
) -> None:
    """Turn off cascade reclaiming (remove --enable-ownerref from ipamd)."""
    _run(ctx, settings.Target(cascade=False), dry_run, force, wait, timeout, output)


def _parse_timeout(value: str | None, wait: bool) -> timedelta:
    if value is None:
        return DEFAULT_TIMEOUT
    if not wait:
        raise UsageError("--timeout only applies with --wait")
    try:
        td = parse_go_duration(value.strip())
    except DurationError as e:
        raise UsageError(f"invalid --timeout: {e}") from None
    if td <= timedelta(0):
        raise UsageError("--timeout must be positive")
    return td


def _run(
    ctx: typer.Context,
    target: settings.Target,
    dry_run_value: str | None,
    force: bool,
    wait: bool,
    timeout_value: str | None,
    output: str,
    yes: bool = False,
) -> None:
    g = common.globals_of(ctx)
    fmt = common.check_format(output, FORMATS)
    dry_run = settings.parse_dry_run(dry_run_value)
    timeout = _parse_timeout(timeout_value, wait)
    if wait and dry_run != "none":
        raise UsageError("--wait cannot be combined with --dry-run: nothing rolls out")
    Change(g, target, dry_run=dry_run, force=force, fmt=fmt, yes=yes).run(wait, timeout)


class Change:
    """One run of a settings command: every step prints what it did."""

    def __init__(
        self,
        g: Globals,
        target: settings.Target,
        *,
        dry_run: str,
        force: bool,
        fmt: str,
        yes: bool = False,
    ) -> None:
        self.g = g
        self.impact = ImpactStep(g, target, fmt, yes, self.say)
        self.target = target
        self.dry_run = dry_run
        self.force = force
        self.fmt = fmt
        self.applied = False
        self.rollout: str | None = None
        self.uncovered: list[settings.Uncovered] | None = None
        # the eniipamd add-on's values as its release renders them, or why they are unknown
        self.addon: settings.AddonRelease | None = None
        self.addon_unknown: str | None = None

    def say(self, text: str = "", style: str | None = None) -> None:
        """Human lines: stdout for text output, stderr when stdout carries a document."""
        if self.fmt == "text":
            self.g.out.line(text, style)
        else:
            self.g.out.info(text)

    def run(self, wait: bool, timeout: timedelta) -> None:
        from ..api.cluster import DEPLOYMENTS

        g = self.g
        secrets, problem = read_helm_secrets(g)
        if problem:
            g.out.warn(problem)
        # The plan is computed from this read, made right before the patch: nothing slow in
        # between, and the patch's first op tests exactly these args.
        dep = read_deployment(g)
        info = Inspected(dep)
        if info.problem:
            raise RefusedError(f"cannot change the ipamd flags: {info.problem}")
        try:
            plan = ipamd.plan_for_deployment(
                dep, expiry=self.target.expiry, cascade=self.target.cascade
            )
        except ipamd.IpamdError as e:
            raise RefusedError(f"cannot change the ipamd flags: {e}") from None
        if (
            plan.changed
            and settings.is_set(plan.before, self.target)
            and not plan.before.split_booleans  # rewriting an ambiguous flag is a real fix
        ):
            # the flags already mean this (e.g. "0s" for never, a repeated flag): restarting
            # ipamd to tidy the args is not worth it
            plan = dataclasses.replace(
                plan,
                new=list(plan.old),
                changed=False,
                json_patch=[],
                restore_patch=[],
                after=plan.before,
            )
        self.plan = plan
        self.container = info.name
        self.mgmt = settings.management(
            info.version, secrets, settings.helm_metadata(dep), image=info.image or ""
        )
        self.cluster_id = settings.cluster_id(plan.before)
        self.restore = (
            settings.restore_command(plan.restore_patch, context=g.context, kubeconfig=g.kubeconfig)
            if plan.changed
            else None
        )

        if not plan.changed:
            self.say(
                f"{self.target.describe()} is already set on deploy/{ipamd.DEPLOYMENT_NAME}: "
                "nothing to change, nothing sent."
            )
            self._cascade_report()
            self._emit()
            return

        self._show_diff()
        self.impact.assess(plan.after)
        self._gate()

        if self.dry_run == "client":
            self.say("Dry run (client): the patch above was not sent.")
            self._cascade_report()
            self._emit()
            return

        server_dry = self.dry_run == "server"
        if not server_dry:
            self.impact.confirm()
        try:
            result = g.cluster().patch_json(
                DEPLOYMENTS,
                ipamd.DEPLOYMENT_NAME,
                plan.json_patch,
                ipamd.DEPLOYMENT_NAMESPACE,
                dry_run=server_dry,
            )
        except (Invalid, Conflict) as e:
            raise self._refused_patch(e) from None
        except NotFound:
            raise RefusedError(
                f"deployment {ipamd.DEPLOYMENT_NAMESPACE}/{ipamd.DEPLOYMENT_NAME} was deleted "
                "since it was read; nothing was changed"
            ) from None
        if server_dry:
            self.say(
                f"deployment.apps/{ipamd.DEPLOYMENT_NAME} patched (server dry run): the API "
                "server accepted the patch with dryRun=All; nothing was changed."
            )
            self._cascade_report()
            self._emit()
            return

        self.applied = True
        self.say(f"deployment.apps/{ipamd.DEPLOYMENT_NAME} patched: {self.target.describe()}.")
        self.say("To restore the previous args:")
        self.say(f"  {self.restore}")
        if wait:
            generation = int(((result.get("metadata") or {}).get("generation")) or 0)
            deadline = time.monotonic() + timeout.total_seconds()
            self._wait(generation, timeout)
            if not self.impact.follow_sweep(deadline):
                self._emit()
                raise RefusedError(self.impact.sweep_failure(timeout))
            if self.addon_unknown is not None:
                self._watch_for_revert(deadline)
        else:
            self.say(
                "ipamd restarts with the new flags; follow it with --wait or: "
                + settings.ROLLOUT_STATUS_COMMAND
            )
        self._cascade_report()
        self._emit()

    # ---------------------------------------------------------------------------- steps

    def _show_diff(self) -> None:
        label = settings.diff_label(self.plan, self.container)
        for line in ipamd.unified_diff(self.plan.old, self.plan.new, label).splitlines():
            style = None
            if line.startswith(("+++", "---")):
                style = "bold"
            elif line.startswith("+"):
                style = "green"
            elif line.startswith("-"):
                style = "red"
            elif line.startswith("@@"):
                style = "cyan"
            self.say(line, style)

    def _gate(self) -> None:
        """Which rule of the pages applies (add-on first, then version), said before acting."""
        m = self.mgmt
        why = "; ".join([m.version_reason, *m.addon_evidence])
        self.say(f"Rule: {m.rule} ({why}).")
        for note in m.notes:
            self.g.out.warn(note)
        decision = settings.gate(m, force=self.force)
        if decision is settings.Gate.REFUSE:
            self._console_path()
            raise RefusedError(
                f"{ipamd.DEPLOYMENT_NAME}'s flags belong to the TKE console here ({m.rule}; "
                f"{why}): set it there as shown above; nothing was sent (--force patches the "
                "Deployment anyway, but an add-on update may revert it)"
            )
        if decision is settings.Gate.FORCED:
            self.g.out.warn(
                f"{ipamd.DEPLOYMENT_NAME}'s flags belong to the TKE console ({m.rule}; {why}); "
                "patching the Deployment anyway (--force). An add-on update may revert this "
                "hand edit: set the same in the console "
                f"(Add-On Management → {settings.ADDON} → Update configuration)."
            )
        for split in self.plan.before.split_booleans:
            self.say(f"{split!r} is ambiguous for Go's flag parsing: rewritten in = form.")

    def _console_path(self) -> None:
        for line in settings.console_steps(self.target, self.cluster_id):
            self.g.out.info(line)

    def _refused_patch(self, e: ApiError) -> VipError:
        """A 422 on our patch is most likely its `test` op: read again to say which."""
        try:
            now = read_deployment(self.g)
        except VipError:
            return RefusedError(f"the API server refused the patch: {e.message}; nothing changed")
        containers = (((now.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
            "containers"
        ) or []
        idx = self.plan.container_index
        current = containers[idx] if isinstance(containers, list) and idx < len(containers) else {}
        raw = current.get(self.plan.field)
        same_args = (raw is not None) == self.plan.field_existed and [
            str(a) for a in raw or []
        ] == self.plan.old
        if same_args and current.get("name") == self.container:
            return RefusedError(f"the API server refused the patch: {e.message}; nothing changed")
        return RefusedError(
            f"deploy/{ipamd.DEPLOYMENT_NAME} was changed by someone else between our read and "
            "our patch (its args are no longer those diffed above), so the patch's test failed "
            "and nothing was overwritten; run the command again to see a fresh diff"
        )

    def _wait(self, generation: int, timeout: timedelta) -> None:
        from ..ops.rollout import wait_for_rollout

        with self._progress() as report:
            status = wait_for_rollout(self.g.cluster(), generation, timeout.total_seconds(), report)
        if not status.done:
            self.rollout = "failed" if status.failed else "timeout"
            self._emit()
            why = (
                status.message
                if status.failed
                else (f"not finished within {format_compact(timeout)} ({status.message})")
            )
            raise RefusedError(
                f"the ipamd rollout is {why}; the patch stays applied. Inspect it with: "
                f"{settings.ROLLOUT_STATUS_COMMAND}; roll back with: {self.restore}"
            )
        self.say(status.message)
        again = Inspected(read_deployment(self.g))
        if again.flags is None or not settings.is_set(again.flags, self.target):
            self.rollout = "reverted"
            self._emit()
            self._console_path()
            raise RefusedError(
                f"the change was reverted: after the rollout deploy/{ipamd.DEPLOYMENT_NAME} no "
                f"longer has {self.target.describe()} (something rewrote its args, likely the "
                f"{settings.ADDON} add-on); set it in the TKE console as shown above"
            )
        self.rollout = "complete"
        self._check_addon()

    # ---------------------------------------------------------------------------- the add-on

    def _check_addon(self) -> None:
        """The change is set after the rollout; whether it lasts is the eniipamd add-on's
        call where it manages ipamd: it puts its release's args back over a hand edit."""
        wanted = self.target.describe()
        if self.mgmt.addon is settings.Addon.ABSENT:
            self.say(f"Checked after the rollout: {wanted} is still set.")
            return
        self.addon, self.addon_unknown = self._read_addon()
        release = self.addon
        if release is None or release.flags is None:
            self.say(f"Checked after the rollout: {wanted} is set.")
            return
        if settings.is_set(release.flags, self.target):
            self.say(
                f"Checked after the rollout: {wanted} is still set, and {release.describe()} "
                "renders it too: the add-on keeps it."
            )
            return
        self.rollout = "will-revert"
        self._emit()
        self._console_path()
        again = Inspected(read_deployment(self.g))
        differences = (
            settings.addon_differences(again.flags, release.flags)
            if again.flags is not None
            else []
        )
        raise RefusedError(
            f"{wanted} is set after the rollout, but {release.describe()} does not set it ("
            + "; ".join(differences or ["its args differ"])
            + f"): the {settings.ADDON} add-on puts its release's args back at its next "
            "reconcile or update, so this hand edit will not last; set it in the TKE console "
            f"as shown above. Until the add-on reverts it the patch stays; undo it with: "
            f"{self.restore}"
        )

    def _read_addon(self) -> tuple[settings.AddonRelease | None, str | None]:
        """The newest deployed eniipamd release's ipamd flags, or why they cannot be known.
        Only the ipamd args are kept of the release Secret."""
        from ..api.cluster import SECRETS

        names = self.mgmt.helm_secrets
        if names is None:
            return None, "its Helm release Secrets cannot be listed"
        if not names:
            return None, (
                "no Helm release Secret of it is in kube-system, only Helm's marks on the "
                "Deployment"
            )
        newest = sorted(names, key=lambda n: settings.release_revision(n) or 0, reverse=True)
        for name in newest[:3]:  # Helm keeps superseded (and failed) releases too
            try:
                secret = self.g.cluster().get(SECRETS, name, ipamd.DEPLOYMENT_NAMESPACE)
            except ApiError as e:  # forbidden, or the server failed: the change stays applied
                return None, f"its release Secret {name} cannot be read ({e.message})"
            release = settings.addon_release(secret) if secret is not None else None
            del secret
            if release is None:
                continue
            if release.flags is None:
                return release, f"{release.describe()}: {release.problem}"
            return release, None
        return None, "no deployed release of it was found"

    def _watch_for_revert(self, deadline: float) -> None:
        """The add-on's values are unknown: watch the Deployment for a revert for what is
        left of --timeout, and say that a later one cannot be ruled out."""
        from ..ops.rollout import watch_until

        wanted = self.target.describe()
        why = self.addon_unknown
        left = max(0.0, deadline - time.monotonic())
        window = format_compact(timedelta(seconds=round(left)))
        later = (
            f"the {settings.ADDON} add-on may still put its own args back: when it reconciles "
            "is not public, so check with kubectl vip config again after its next update"
        )
        if left < 1:
            self.rollout = "unconfirmed"
            self.g.out.warn(
                f"whether the {settings.ADDON} add-on reverts {wanted} cannot be known ({why}); "
                f"{later} (or wait longer with --timeout)"
            )
            return
        self.say(
            f"Whether the {settings.ADDON} add-on reverts it cannot be known ({why}): "
            f"watching deploy/{ipamd.DEPLOYMENT_NAME} for {window} (the rest of --timeout)."
        )

        def reverted(dep: Obj) -> bool:
            flags = Inspected(dep).flags
            return flags is None or not settings.is_set(flags, self.target)

        if watch_until(self.g.cluster(), reverted, left) is not None:
            self.rollout = "reverted"
            self._emit()
            self._console_path()
            raise RefusedError(
                f"the change was reverted: within {window} of the rollout "
                f"deploy/{ipamd.DEPLOYMENT_NAME} no longer had {wanted} (something rewrote its "
                f"args, likely the {settings.ADDON} add-on); set it in the TKE console as shown "
                "above"
            )
        self.rollout = "unconfirmed"
        self.say(f"No revert within {window}: {wanted} is still set.")
        self.g.out.warn(f"{later}")

    @contextmanager
    def _progress(self) -> Iterator[Callable[[RolloutStatus], None]]:
        console = self.g.out.err_console
        if not console.is_terminal:
            # the final "successfully rolled out" is said once, by the caller
            yield lambda st: None if st.done else self.g.out.info(st.message)
            return
        with console.status("Waiting for the rollout...") as spinner:
            yield lambda st: spinner.update(st.message)

    def _cascade_report(self) -> None:
        if self.target.cascade is not True:
            return
        from ..model import claims
        from ..ops import gather

        try:
            snap = gather.snapshot(self.g.cluster(), None)
        except VipError as e:
            self.g.out.warn(f"cannot list claims to see which workloads are covered: {e.message}")
            return
        rows = claims.classify(snap.inventory, snap.ipamd.policy, self.g.cluster().now())
        self.uncovered = settings.uncovered_workloads(rows)
        for line in settings.uncovered_lines(self.uncovered):
            self.say(line)

    def _emit(self) -> None:
        if self.fmt == "text":
            return
        doc = settings.change_doc(
            self.plan,
            self.target,
            container=self.container,
            dry_run=self.dry_run,
            applied=self.applied,
            forced=self.force and self.mgmt.console,
            restore=self.restore,
            mgmt=self.mgmt,
            rollout=self.rollout,
            uncovered=self.uncovered,
        )
        doc.update(self.impact.doc())
        self.g.out.document(common.aim_doc(self.g.out, doc), self.fmt)
