"""The sandbox facade: build a scenario, serve it over HTTP, steer it from tests."""

from __future__ import annotations

import base64
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import ipamdflags, kubeconfig_file, scenarios
from .clock import Clock
from .core import SandboxCore
from .frozen import FrozenAnswers
from .resources import builtin_types, tke_types
from .server import _Server, ca_data, make_server

CLUSTER_NAME = kubeconfig_file.CLUSTER


class Sandbox(SandboxCore):
    """An emulated TKE VPC-CNI cluster.

    `now` fixes the virtual present (tests); by default it is the wall clock. With `frozen`
    (the default) time moves only through `advance`; `sandbox serve` runs it unfrozen.
    `ipamd_flag_library` ("flag" or "pflag") and `expiry_zero_annotation` ("never" or "flag")
    choose how the simulated ipamd reads what real ipamd's documentation leaves open (see
    ipamdflags); `pause_controller`/`resume_controller` stop and start a simulated controller.
    """

    def __init__(
        self,
        scenario: str = "demo",
        *,
        size: int = 1000,
        now: datetime | None = None,
        frozen: bool = True,
        tke: bool = True,
        tke_version: str = "v1",
        rollout_seconds: float = 0.0,
        seed: int = 1,
        ipamd_flag_library: ipamdflags.FlagLibrary = "flag",
        expiry_zero_annotation: ipamdflags.ZeroAnnotation = "never",
    ) -> None:
        present = (
            (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
        )
        types = (
            builtin_types()
            + (tke_types(tke_version) if tke else [])
            + scenarios.extra_types(scenario)
        )
        super().__init__(
            types,
            present - scenarios.HISTORY,
            rollout_seconds=rollout_seconds,
            ipamd_flag_library=ipamd_flag_library,
            expiry_zero_annotation=expiry_zero_annotation,
        )
        self.present = present
        self.scenario = scenario
        scenarios.build(self, scenario, size=size, seed=seed)
        if self.clock.now() < present:
            self.clock.advance(present - self.clock.now())
        self.tick()
        self.clock.frozen = frozen
        if not frozen:
            # keep virtual time continuous from `present` on
            self.clock = _continue_running(self.clock)
            self.world.clock = self.clock
            self.store.clock = self.clock
        self._server: _Server | None = None
        # read-only, reads answered from kept bytes (`sandbox serve --frozen`, frozen.py)
        self.answers: FrozenAnswers | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # ------------------------------------------------------------------ serving

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        srv = make_server(self, host, port)
        srv.frozen = self.answers
        self._server = srv
        t = threading.Thread(
            target=srv.serve_forever, args=(0.05,), name="sandbox-http", daemon=True
        )
        t.start()
        self._threads.append(t)
        if not self.clock.frozen:
            ticker = threading.Thread(target=self._tick_loop, name="sandbox-clock", daemon=True)
            ticker.start()
            self._threads.append(ticker)
        return self.url

    def freeze(self) -> None:
        """Read-only from now on, each read answered from the bytes of its first answer
        (`sandbox serve --frozen`, frozen.py). Time stops too."""
        self.clock.frozen = True
        self.answers = FrozenAnswers()
        if self._server is not None:
            self._server.frozen = self.answers

    def _tick_loop(self) -> None:
        while not self._stop.wait(1.0):
            self.tick()

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.stopping = True
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not serving; call start() first")
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    def kubeconfig(self, namespace: str = "default") -> dict[str, Any]:
        ca = base64.b64encode(ca_data()).decode()
        cluster = {
            "name": CLUSTER_NAME,
            "cluster": {"server": self.url, "certificate-authority-data": ca},
        }
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": [
                {"name": "sandbox-admin", "user": {"token": self.admin_token}},
                {"name": "sandbox-viewer", "user": {"token": self.viewer_token}},
            ],
            "contexts": [
                {
                    "name": CLUSTER_NAME,
                    "context": {
                        "cluster": CLUSTER_NAME,
                        "user": "sandbox-admin",
                        "namespace": namespace,
                    },
                },
                {
                    "name": f"{CLUSTER_NAME}-readonly",
                    "context": {
                        "cluster": CLUSTER_NAME,
                        "user": "sandbox-viewer",
                        "namespace": namespace,
                    },
                },
            ],
            "current-context": CLUSTER_NAME,
            "preferences": {},
        }

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """Marked as the sandbox's, 0600 from creation (see kubeconfig_file)."""
        return kubeconfig_file.write(path, self.kubeconfig(namespace), server=self.url)


def _continue_running(clock: Clock) -> Clock:
    running = Clock(clock.now(), frozen=False)
    return running
