"""The Deployment controller's revision history: one ReplicaSet per Pod template.

As pkg/controller/deployment does: a template seen for the first time gets a ReplicaSet
`<deployment>-<pod-template-hash>` owned by the Deployment, with the annotation
`deployment.kubernetes.io/revision` one above the highest so far; going back to an older template
(what `kubectl rollout undo` does) gives that template's ReplicaSet the next revision again. The
newest ReplicaSet carries the Deployment's replicas, the older ones none. The sandbox runs no
Pods for them (as for DaemonSets): their status reports the replicas as ready.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from .store import Obj
from .world import World, controller_ref, owner_ref

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
MANAGER = "kube-controller-manager"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery rand.SafeEncodeString's alphabet


def template_hash(template: dict[str, Any]) -> str:
    t = copy.deepcopy(template)
    (t.get("metadata") or {}).get("labels", {}).pop(HASH_LABEL, None)
    digest = hashlib.sha256(json.dumps(t, sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def _revision(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def sync(w: World, dep: Obj) -> None:
    rs_type = w.store.registry.by_key.get("replicasets.apps")
    meta = dep["metadata"]
    if rs_type is None or meta.get("deletionTimestamp"):
        return
    ns, uid = meta["namespace"], meta["uid"]
    template = (dep.get("spec") or {}).get("template") or {}
    replicas = int((dep.get("spec") or {}).get("replicas", 1))
    want = template_hash(template)
    owned = [
        rs for rs in w.store.objects(rs_type, ns) if (controller_ref(rs) or {}).get("uid") == uid
    ]
    top = max((_revision(rs) for rs in owned), default=0)
    current = next(
        (rs for rs in owned if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == want), None
    )
    if current is None:
        labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH_LABEL: want}
        rs_template = copy.deepcopy(template)
        rs_template.setdefault("metadata", {})["labels"] = labels
        selector = copy.deepcopy((dep.get("spec") or {}).get("selector") or {})
        selector.setdefault("matchLabels", {})[HASH_LABEL] = want
        rs_name = f"{meta['name']}-{want}"
        created = w.create(
            rs_type,
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": rs_name,
                    "namespace": ns,
                    "labels": labels,
                    "annotations": {REVISION: str(top + 1)},
                    "ownerReferences": [owner_ref(dep)],
                },
                "spec": {"replicas": replicas, "selector": selector, "template": rs_template},
            },
            manager=MANAGER,
        )
        if created is None:
            return
        w.event(
            dep,
            "ScalingReplicaSet",
            f"Scaled up replica set {rs_name} from 0 to {replicas}",
            component="deployment-controller",
        )
        owned.append(created)
        current, revision = created, top + 1
    else:
        revision = _revision(current) if _revision(current) == top else top + 1
    for rs in owned:
        newest = rs["metadata"]["name"] == current["metadata"]["name"]
        _scale(w, rs, replicas if newest else 0, revision if newest else None)

    def annotate(d: Obj) -> None:
        d["metadata"].setdefault("annotations", {})[REVISION] = str(revision)

    w.store.mutate(w.t.deployments, ns, meta["name"], annotate, manager=MANAGER)


def _scale(w: World, rs: Obj, replicas: int, revision: int | None) -> None:
    rs_type = w.store.registry.by_key["replicasets.apps"]

    def update(r: Obj) -> None:
        r.setdefault("spec", {})["replicas"] = replicas
        if revision is not None:
            r["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        r["status"] = {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "observedGeneration": r["metadata"].get("generation", 1),
        }
        if not replicas:
            for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
                del r["status"][k]

    m = rs["metadata"]
    w.store.mutate(rs_type, m["namespace"], m["name"], update, manager=MANAGER)
