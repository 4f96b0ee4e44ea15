"""The emulated cluster's state and time: the API objects, the simulated controllers, the
users, and the virtual clock. Scenarios build on it; the HTTP server serves it; `Sandbox`
(facade.py) puts the three together."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from . import ipamdflags, strategies
from .clock import Clock
from .controls import ADMIN, Controls, read_only
from .kube import KubeControllers
from .nodelifecycle import NodeLifecycle
from .resources import Registry, ResourceType
from .store import Store
from .tke import IpamdController
from .world import CONTROLLERS, World


class SandboxCore:
    """Objects, controllers and users of one emulated cluster, on a clock frozen at `start`."""

    def __init__(
        self,
        types: list[ResourceType],
        start: datetime,
        *,
        rollout_seconds: float = 0.0,
        ipamd_flag_library: ipamdflags.FlagLibrary = "flag",
        expiry_zero_annotation: ipamdflags.ZeroAnnotation = "never",
    ) -> None:
        if ipamd_flag_library not in ipamdflags.FLAG_LIBRARIES:
            raise ValueError(f"ipamd_flag_library: one of {', '.join(ipamdflags.FLAG_LIBRARIES)}")
        if expiry_zero_annotation not in ipamdflags.ZERO_ANNOTATION_READINGS:
            raise ValueError(
                "expiry_zero_annotation: one of " + ", ".join(ipamdflags.ZERO_ANNOTATION_READINGS)
            )
        self.registry = Registry(types)
        self.began = start  # when a scenario's history begins (its present: HISTORY later)
        self.clock = Clock(start, frozen=True)
        self.store = Store(self.registry, self.clock)
        self.world = World.build(self.store, self.clock)
        self.world.rollout_seconds = rollout_seconds
        self.world.ipamd_flag_library = ipamd_flag_library
        self.world.expiry_zero_annotation = expiry_zero_annotation
        self.store.grace_period = strategies.grace_period(self.world)
        self.kube = KubeControllers(self.world)
        self.ipamd = IpamdController(self.world, self.kube)
        self.nodes = NodeLifecycle(self.world)
        self.store.listeners = [self.kube.on_event, self.nodes.on_event, self.ipamd.on_event]
        self.controls = Controls()
        self.admin_token = secrets.token_hex(16)
        self.viewer_token = secrets.token_hex(16)
        self.controls.add_user(self.admin_token, ADMIN)
        self.controls.add_user(self.viewer_token, read_only("viewer"))

    def tick(self) -> None:
        with self.store.lock:
            self.kube.tick()
            self.nodes.tick()
            self.ipamd.tick()
            self.store._dispatch()

    # ---- test hooks: kube-controller-manager's controllers stopped and started again ----

    def pause_controller(self, name: str) -> None:
        """Stop a simulated controller (`statefulset`, `nodelifecycle`): it leaves objects
        alone until resumed, as when kube-controller-manager is down."""
        if name not in CONTROLLERS:
            raise ValueError(f"unknown controller {name!r}: one of {', '.join(CONTROLLERS)}")
        with self.store.lock:
            self.world.paused.add(name)

    def resume_controller(self, name: str) -> None:
        """Start it again: like a restarted controller, it resyncs every object it owns."""
        if name not in CONTROLLERS:
            raise ValueError(f"unknown controller {name!r}: one of {', '.join(CONTROLLERS)}")
        with self.store.lock:
            self.world.paused.discard(name)
            if name == "statefulset":
                for sts in list(self.store.objects(self.world.t.statefulsets)):
                    m = sts["metadata"]
                    self.kube.reconcile_statefulset(m["namespace"], m["name"])
            else:
                self.nodes.resume()
            self.store._dispatch()

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.tick()
