"""The sandbox facade: build a scenario, serve it over HTTP, steer it from tests."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import crds, fieldshapes, ipamdflags, kubeconfig_file, scenarios
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
    `name` names its cluster, contexts and users in the kubeconfig it writes
    (kubeconfig_file.names).
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
        name: str = CLUSTER_NAME,
    ) -> None:
        self.name = name  # of its cluster and contexts in the kubeconfig it writes
        present = (
            (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
        )
        shape = fieldshapes.of(scenario)
        types = (
            builtin_types()
            + fieldshapes.served(tke_types(tke_version) if tke else [], shape)
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
        crds.install(self, shape)
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

    def kubeconfig(self, namespace: str = "default", *, readonly: bool = True) -> dict[str, Any]:
        """Its cluster, an admin context and (unless not `readonly`) a read-only one, named
        after the sandbox (kubeconfig_file.names)."""
        n = kubeconfig_file.names(self.name)
        ca = base64.b64encode(ca_data()).decode()
        cluster = {
            "name": n.cluster,
            "cluster": {"server": self.url, "certificate-authority-data": ca},
        }
        users = [{"name": n.admin_user, "user": {"token": self.admin_token}}]
        contexts = [
            {
                "name": n.admin,
                "context": {"cluster": n.cluster, "user": n.admin_user, "namespace": namespace},
            }
        ]
        if readonly:
            users.append({"name": n.viewer_user, "user": {"token": self.viewer_token}})
            contexts.append(
                {
                    "name": n.readonly,
                    "context": {
                        "cluster": n.cluster,
                        "user": n.viewer_user,
                        "namespace": namespace,
                    },
                }
            )
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": users,
            "contexts": contexts,
            "current-context": n.admin,
            "preferences": {},
        }

    def write_kubeconfig(
        self,
        path: Path,
        namespace: str = "default",
        *,
        decide: Callable[[kubeconfig_file.Owner | None], None] | None = None,
    ) -> Path:
        """Marked as the sandbox's, 0600 from creation; `decide` may refuse what is at `path`
        (see kubeconfig_file.write)."""
        return kubeconfig_file.write(
            path, self.kubeconfig(namespace), server=self.url, decide=decide
        )


def unreachable_kubeconfig(name: str, server: str) -> dict[str, Any]:
    """A context whose API server does not answer (a cluster that is down)."""
    ca = base64.b64encode(ca_data()).decode()
    return {
        "clusters": [
            {"name": name, "cluster": {"server": server, "certificate-authority-data": ca}}
        ],
        "users": [{"name": name, "user": {"token": secrets.token_hex(16)}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
    }


def _continue_running(clock: Clock) -> Clock:
    running = Clock(clock.now(), frozen=False)
    return running
