"""What kube-apiserver's Pod and Node strategies (pkg/registry/core/{pod,node}/strategy.go) do
beyond the generic store: the `status` subresource and graceful deletion.

- `status` subresource: `GET .../status` answers the whole object; a write (PUT or PATCH, with
  the patch types of the main resource) changes only `.status` — spec and metadata stay as they
  are, but for the bookkeeping (resourceVersion, managedFields with `subresource: status`).
- A write to the main resource keeps the old `.status` (PrepareForUpdate:
  `newPod.Status = oldPod.Status`, `newNode.Status = oldNode.Status`). The sandbox's own
  controllers and scenarios write status in-process, not through this path.
- Graceful deletion of Pods (podStrategy.CheckGracefulDelete): the period asked for, else
  `spec.terminationGracePeriodSeconds` (30 by default); 0 for a Pod not scheduled or already
  Succeeded/Failed. A kubelet that answers confirms at once, so the sandbox removes a Pod on a
  node that is not down right away; on a node that is down (World.node_down) it stays,
  Terminating, until deleted with grace period 0 or its node is Ready again.
"""

from __future__ import annotations

import copy

from .resources import ResourceType
from .store import GracePeriod, Obj
from .world import World

STATUS_KINDS = frozenset({"pods", "nodes"})
DEFAULT_GRACE = 30  # the API's default terminationGracePeriodSeconds


def keeps_status(rtype: ResourceType) -> bool:
    """The kind has a status subresource: main-resource writes keep the stored status."""
    return not rtype.group and rtype.plural in STATUS_KINDS


def main_write(rtype: ResourceType, current: Obj, new: Obj) -> Obj:
    """The object a PUT/PATCH of the main resource stores."""
    if not keeps_status(rtype):
        return new
    out = dict(new)
    if "status" in current:
        out["status"] = copy.deepcopy(current["status"])
    else:
        out.pop("status", None)
    return out


def status_write(current: Obj, new: Obj) -> Obj:
    """The object a PUT/PATCH of `/status` stores: the current one with the new status (and
    the resourceVersion the writer sent, for the conflict check)."""
    out = copy.deepcopy(current)
    if "status" in new:
        out["status"] = copy.deepcopy(new["status"])
    else:
        out.pop("status", None)
    sent = (new.get("metadata") or {}).get("resourceVersion")
    if sent:
        out["metadata"]["resourceVersion"] = sent
    else:
        out["metadata"].pop("resourceVersion", None)
    return out


def grace_period(w: World) -> GracePeriod:
    def period(rtype: ResourceType, obj: Obj, requested: int | None) -> int:
        if rtype is not w.t.pods:
            return 0
        spec = obj.get("spec") or {}
        seconds = requested
        if seconds is None:
            seconds = int(spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE))
        phase = (obj.get("status") or {}).get("phase")
        if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
            return 0
        if not w.node_down(spec.get("nodeName")):
            return 0  # its kubelet confirms the deletion at once
        return max(seconds, 0)

    return period
