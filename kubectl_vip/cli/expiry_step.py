"""The part of `set-expiry` about what ipamd reclaims: show it, ask for it, follow it.

Pure decisions live in `expiry_impact`; this wires them to the cluster and the terminal.
Cascade changes reclaim nothing at once (see `expiry_impact`), so this step does nothing for
them, unless the args read two ways now: the patch settles them (see `ImpactStep.assess`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ..errors import VipError
from ..model import expiry_impact as ei
from ..model.duration import format_compact
from ..model.ipamd import ANNOTATION_EXPIRY_FROM, IpamdFlags, Version
from ..model.settings import Target
from ..model.words import plural
from ..term.render import Progress
from . import common
from .common import Globals

Say = Callable[..., None]


class ImpactStep:
    def __init__(self, g: Globals, target: Target, fmt: str, yes: bool, say: Say) -> None:
        self.g = g
        self.target = target
        self.fmt = fmt
        self.yes = yes
        self.say = say
        self.impact: ei.Impact | None = None
        self.unknown: str | None = None  # why the impact could not be assessed
        self.version: Version | None = None
        self.sweep: dict[str, Any] | None = None
        self.applies = False  # assessed: what the change makes ipamd reclaim asks confirmation

    @property
    def sets_expiry(self) -> bool:
        return self.target.expiry is None or isinstance(self.target.expiry, timedelta)

    def assess(self, after: IpamdFlags) -> None:
        """Classify every claim as if the new args were set (`after`: as the plan reads them),
        and show what ipamd reclaims. A cascade change reclaims nothing at once, unless the
        current args read two ways (a split boolean): the patch settles them on one reading,
        whose expiry may then reclaim claims the other did not."""
        from ..ops import gather

        if not self.sets_expiry:
            info = gather.read_ipamd(self.g.cluster())
            if info.flags is None or not info.flags.ambiguous:
                return
        c = self.g.cluster()
        try:
            snap = gather.snapshot(c, None)
        except VipError as e:
            self.unknown = e.message
            self.applies = True
            self.g.out.warn(f"cannot list the claims to see what ipamd will reclaim: {e.message}")
            return
        self.applies = True
        self.version = snap.ipamd.version
        self.impact = ei.compute(snap.inventory, snap.ipamd.policy, after.expiry, c.now())
        self._show(self.impact)

    def _show(self, impact: ei.Impact) -> None:
        for line in ei.summary(impact):
            self.say(line)
        if not impact.items:
            return
        if self.fmt == "text":
            rows, more = ei.table_rows(impact)
            self.g.out.table(ei.TABLE_HEADERS, rows, style_column="STATE")
            if more:
                self.say(f"... and {more} more (-o json lists them all)")
        commands = ei.protect_commands(impact)
        if not commands:
            return
        if impact.annotation_supported is False:
            self.say(
                f"ipamd {self.version} ignores per-claim expiry annotations (read from "
                f"{ANNOTATION_EXPIRY_FROM} on): bring those Pods back first, or choose a longer "
                "expiry."
            )
            return
        note = ""
        if self.version is None:
            note = f" (ipamd's version is unknown: it reads them from {ANNOTATION_EXPIRY_FROM} on)"
        self.say(f"To keep the IPs of the Pods that come back, annotate their claims first{note}:")
        for cmd in commands:
            self.say(f"  {cmd}")

    def confirm(self) -> None:
        """Ask before a change that makes ipamd reclaim claims; refuse without a TTY or --yes."""
        if not self.applies or self.yes:
            return
        what = self.target.describe()
        if self.unknown is not None:
            common.confirm(
                self.g,
                f"Set {what} without knowing what ipamd will reclaim?",
                f"refusing to set {what} (what ipamd would reclaim is unknown)",
            )
            return
        caused = self.impact.caused if self.impact is not None else []
        if not caused:
            return
        back = sum(i.returning for i in caused)
        of_returning = f", {back} of Pods that come back" if back else ""
        common.confirm(
            self.g,
            f"Set {what}? ipamd will reclaim {_n(len(caused))} because of it{of_returning}.",
            f"refusing to set {what} (ipamd would reclaim {_n(len(caused))}{of_returning})",
        )

    def follow_sweep(self, deadline: float) -> bool:
        """After the rollout: watch the claims due at the next sweep until ipamd deleted them.
        False when some are still there at the deadline."""
        if self.impact is None:
            return True
        due = self.impact.of(ei.Due.NEXT_SWEEP)
        if not due:
            return True
        from ..ops.sweep_watch import wait_claims_gone

        c = self.g.cluster()
        wanted = {i.key: i.row.uid for i in due}
        self.g.out.info(f"Waiting for ipamd's next sweep to reclaim {_n(len(wanted))}...")
        with Progress(self.g.out, len(wanted), "ipamd's sweep") as bar:
            left = wait_claims_gone(c, c.tke(), wanted, deadline, bar.advance)
        back = sum(i.returning for i in due if i.key not in left)
        self.sweep = {
            "due": len(wanted),
            "reclaimed": len(wanted) - len(left),
            "reclaimedReturning": back,
            "remaining": [f"{ns}/{name}" for ns, name in sorted(left)],
        }
        if left:
            return False
        self.say(
            f"ipamd reclaimed {len(wanted)} of {_n(len(wanted))} due at its next sweep"
            + (f" ({back} of Pods that come back: they will get new IPs)." if back else ".")
        )
        return True

    def sweep_failure(self, timeout: timedelta) -> str:
        assert self.sweep is not None
        left = self.sweep["remaining"]
        shown = ", ".join(left[:10]) + (f" and {len(left) - 10} more" if len(left) > 10 else "")
        return (
            f"ipamd reclaimed {self.sweep['reclaimed']} of {_n(self.sweep['due'])} due at its "
            f"next sweep within {format_compact(timeout)}; still there: {shown}. The change "
            "stays applied; ipamd may be slow or its sweep stalled: kubectl vip list -A "
            "--state Overdue"
        )

    def doc(self) -> dict[str, Any]:
        return {"impact": ei.doc(self.impact), "sweep": self.sweep}


def _n(n: int) -> str:
    return plural(n, "claim")
