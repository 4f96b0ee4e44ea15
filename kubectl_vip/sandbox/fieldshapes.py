"""Where the TKE objects keep their facts: DESIGN §2 lists, per fact, the paths a real cluster
may use. The simulated ipamd (tke.py) writes the first of each; the `shape-*` scenarios
(scenarios_shapes.py) seed objects, and declare CRD schemas (crds.py), in another shape."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .resources import ResourceType


@dataclass(frozen=True)
class Shape:
    claim_ip: str = "ip"  # the claim's IP: status.<claim_ip>
    release_time: str | None = "releaseTime"  # status.<release_time>; None: not recorded
    claim_ref: bool = True  # VpcIP spec.claimRef (else only the pod-namespace/-name labels)
    node_in_status: bool = False  # VpcIP status.node (else the node-name label)
    extra_version: str | None = None  # a version served beside the stored v1


FIRST = Shape()
ALT_PATHS = Shape(
    claim_ip="vpcIP", release_time="lastDetachTime", claim_ref=False, node_in_status=True
)
NO_RELEASE_TIME = Shape(release_time=None)
V2 = Shape(extra_version="v2")

SHAPES = {
    "shape-alt-paths": ALT_PATHS,
    "shape-no-release-time": NO_RELEASE_TIME,
    "shape-v2": V2,
}


def of(scenario: str) -> Shape:
    return SHAPES.get(scenario, FIRST)


def served(tke: list[ResourceType], shape: Shape) -> list[ResourceType]:
    """The TKE types as `shape` serves them: each also at its extra version, if any."""
    if shape.extra_version is None:
        return tke
    return tke + [replace(t, version=shape.extra_version, storage_version=t.version) for t in tke]
