"""Following the ipamd Deployment's rollout through a watch (no sleep loop).

`rollout_status` is pure (the checks of `kubectl rollout status`); `wait_for_rollout` watches
`kube-system/tke-eni-ipamd` by name until the new generation is rolled out or time is up;
`watch_until` watches it until a condition holds (an add-on reverting a hand edit).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..api.cluster import DEPLOYMENTS, Cluster
from ..errors import Gone, RefusedError
from ..model import ipamd

Obj = dict[str, Any]


@dataclass(frozen=True)
class RolloutStatus:
    done: bool
    message: str
    failed: bool = False  # the Deployment gave up (ProgressDeadlineExceeded)


def _num(v: Any, default: int = 0) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else default


def rollout_status(dep: Obj, generation: int) -> RolloutStatus:
    """Done when the controller saw `generation` and every replica is updated and available."""
    name = str((dep.get("metadata") or {}).get("name") or ipamd.DEPLOYMENT_NAME)
    spec = dep.get("spec") or {}
    st = dep.get("status") or {}
    replicas = _num(spec.get("replicas"), 1)
    if _num(st.get("observedGeneration")) < generation:
        return RolloutStatus(False, "Waiting for deployment spec update to be observed...")
    for cond in st.get("conditions") or []:
        if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
            return RolloutStatus(False, f'deployment "{name}" exceeded its progress deadline', True)
    updated = _num(st.get("updatedReplicas"))
    available = _num(st.get("availableReplicas"))
    total = _num(st.get("replicas"), updated)
    waiting = f'Waiting for deployment "{name}" rollout to finish: '
    if updated < replicas:
        return RolloutStatus(
            False, waiting + f"{updated} out of {replicas} new replicas have been updated..."
        )
    if total > updated:
        return RolloutStatus(
            False, waiting + f"{total - updated} old replicas are pending termination..."
        )
    if available < updated:
        return RolloutStatus(
            False, waiting + f"{available} of {updated} updated replicas are available..."
        )
    if updated != replicas or available != replicas:
        return RolloutStatus(
            False, waiting + f"{available} available, {updated} updated, {replicas} desired..."
        )
    return RolloutStatus(True, f'deployment "{name}" successfully rolled out')


def _ipamd_states(
    c: Cluster, deadline: float, clock: Callable[[], float], during: str
) -> Iterator[Obj]:
    """The ipamd Deployment as it is now and then as it changes, until `deadline`.

    Every watch starts without a resourceVersion, so its first event is the current state; a
    stream the server ends (its timeout, or 410 Gone) is simply opened again. A deleted
    Deployment stops it (RefusedError, "deleted `during`")."""
    selector = f"metadata.name={ipamd.DEPLOYMENT_NAME}"
    while True:
        remaining = deadline - clock()
        if remaining <= 0:
            return
        if c.request_timeout:
            # a quiet stream must end on the server's side before our read timeout fires
            remaining = min(remaining, max(1.0, c.request_timeout - 1))
        try:
            for etype, obj in c.watch(
                DEPLOYMENTS,
                ipamd.DEPLOYMENT_NAMESPACE,
                field_selector=selector,
                timeout_seconds=max(1, math.ceil(remaining)),
            ):
                if etype == "DELETED":
                    raise RefusedError(
                        f"{ipamd.DEPLOYMENT_NAMESPACE}/{ipamd.DEPLOYMENT_NAME} was deleted" + during
                    )
                if etype in ("ADDED", "MODIFIED"):  # not BOOKMARK
                    yield obj
                if clock() >= deadline:
                    return
        except Gone:
            continue


def wait_for_rollout(
    c: Cluster,
    generation: int,
    timeout: float,
    on_status: Callable[[RolloutStatus], None],
    *,
    clock: Callable[[], float] = time.monotonic,
) -> RolloutStatus:
    """Watch the ipamd Deployment until `generation` is rolled out, it fails, or `timeout`
    seconds pass (then the last status is returned, not done). Each new status is reported."""
    last: RolloutStatus | None = None
    for obj in _ipamd_states(c, clock() + timeout, clock, " during the rollout"):
        status = rollout_status(obj, generation)
        if status != last:
            last = status
            on_status(status)
        if status.done or status.failed:
            return status
    return last or RolloutStatus(False, "no status seen")


def watch_until(
    c: Cluster,
    until: Callable[[Obj], bool],
    timeout: float,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Obj | None:
    """Watch the ipamd Deployment until `until` holds for it (that object is returned) or
    `timeout` seconds pass (None): e.g. until an add-on puts its own args back. Each watch
    starts from the current state, so a change made before it began is seen too."""
    for obj in _ipamd_states(c, clock() + timeout, clock, ""):
        if until(obj):
            return obj
    return None


__all__ = ["RolloutStatus", "rollout_status", "wait_for_rollout", "watch_until"]
