"""The emulated cluster's state and time: the API objects, the simulated controllers, the
users, and the virtual clock. Scenarios build on it; the HTTP server serves it; `Sandbox`
(facade.py) puts the three together."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from .clock import Clock
from .controls import ADMIN, Controls, read_only
from .kube import KubeControllers
from .resources import Registry, ResourceType
from .store import Store
from .tke import IpamdController
from .world import World


class SandboxCore:
    """Objects, controllers and users of one emulated cluster, on a clock frozen at `start`."""

    def __init__(
        self, types: list[ResourceType], start: datetime, *, rollout_seconds: float = 0.0
    ) -> None:
        self.registry = Registry(types)
        self.clock = Clock(start, frozen=True)
        self.store = Store(self.registry, self.clock)
        self.world = World.build(self.store, self.clock)
        self.world.rollout_seconds = rollout_seconds
        self.kube = KubeControllers(self.world)
        self.ipamd = IpamdController(self.world, self.kube)
        self.store.listeners = [self.kube.on_event, self.ipamd.on_event]
        self.controls = Controls()
        self.admin_token = secrets.token_hex(16)
        self.viewer_token = secrets.token_hex(16)
        self.controls.add_user(self.admin_token, ADMIN)
        self.controls.add_user(self.viewer_token, read_only("viewer"))

    def tick(self) -> None:
        with self.store.lock:
            self.kube.tick()
            self.ipamd.tick()
            self.store._dispatch()

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        self.tick()
