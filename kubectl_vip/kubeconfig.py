"""Connection settings from a kubeconfig (or in-cluster), loaded the way kubectl users expect.

The kubernetes client does the loading: KUBECONFIG with several files, contexts, exec
credential plugins with token refresh, client certificates, in-cluster service accounts. We
keep only what a raw HTTP client needs, so nothing else depends on the client's generated API.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass
class Connection:
    server: str
    namespace: str
    context: str
    user: str = ""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    tls_server_name: str | None = None
    proxy: str | None = None
    # the Authorization header value; force=True refreshes exec/OIDC tokens (after a 401)
    auth_header: Callable[..., str | None] = field(default=lambda force=False: None)


def _kubeconfig_paths(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path.home() / ".kube" / "config")]


def load(kubeconfig: str | None, context: str | None) -> Connection:
    paths = _kubeconfig_paths(kubeconfig)
    existing = [p for p in paths if Path(p).expanduser().is_file()]
    if kubeconfig and not existing:
        raise ConfigError(f"kubeconfig {kubeconfig} does not exist", hint="check --kubeconfig")
    if not existing:
        if os.environ.get("KUBERNETES_SERVICE_HOST") and (SA_DIR / "token").is_file():
            return _in_cluster()
        raise ConfigError(
            f"no kubeconfig found (looked at {', '.join(paths)})",
            hint="set KUBECONFIG or pass --kubeconfig; try `kubectl vip --sandbox ...` for a demo",
        )
    return _from_files(os.pathsep.join(existing), context)


def _from_files(config_file: str, context: str | None) -> Connection:
    import yaml
    from kubernetes.client import Configuration
    from kubernetes.config import ConfigException, kube_config

    try:
        contexts, current = kube_config.list_kube_config_contexts(config_file)
    except (ConfigException, yaml.YAMLError, OSError, TypeError, AttributeError, KeyError) as e:
        raise ConfigError(f"cannot read kubeconfig {config_file}: {_first_line(e)}") from None
    names = [c.get("name") for c in contexts or []]
    chosen: dict[str, Any] | None = None
    if context:
        chosen = next((c for c in contexts or [] if c.get("name") == context), None)
        if chosen is None:
            raise ConfigError(
                f'context "{context}" not found in kubeconfig {config_file}',
                hint=f"contexts: {', '.join(str(n) for n in names) or 'none'}",
            )
    else:
        chosen = current
        if not chosen:
            raise ConfigError(
                f"kubeconfig {config_file} has no current context",
                hint="pass --context or run `kubectl config use-context NAME`",
            )
    cfg = Configuration()
    try:
        kube_config.load_kube_config(
            config_file=config_file,
            context=context,
            client_configuration=cfg,
            persist_config=False,
        )
    except (ConfigException, yaml.YAMLError, OSError, TypeError, ValueError, KeyError) as e:
        raise ConfigError(f"cannot use kubeconfig {config_file}: {_first_line(e)}") from None
    ctx = chosen.get("context") or {}
    return _connection(
        cfg,
        str(ctx.get("namespace") or "default"),
        str(chosen.get("name")),
        str(ctx.get("user") or ""),
    )


def _in_cluster() -> Connection:
    from kubernetes.client import Configuration
    from kubernetes.config import ConfigException, incluster_config

    cfg = Configuration()
    try:
        incluster_config.load_incluster_config(client_configuration=cfg)
    except ConfigException as e:
        raise ConfigError(f"cannot use the in-cluster service account: {_first_line(e)}") from None
    ns_file = SA_DIR / "namespace"
    namespace = ns_file.read_text().strip() if ns_file.is_file() else "default"
    return _connection(cfg, namespace, "in-cluster", "serviceaccount")


AUTH_CACHE_SECONDS = 30.0


def _connection(cfg: Any, namespace: str, context: str, user: str) -> Connection:
    cache: dict[str, Any] = {"value": None, "at": -AUTH_CACHE_SECONDS}

    def auth_header(force: bool = False) -> str | None:
        # The client's refresh hook re-reads exec/OIDC credentials when they expire; calling it
        # on every request costs more than the request itself, so ask at most every 30 s
        # (and at once after a 401: force).
        now = time.monotonic()
        if not force and now - cache["at"] < AUTH_CACHE_SECONDS:
            return cache["value"]  # type: ignore[no-any-return]
        value: str | None = None
        for setting in cfg.auth_settings().values():
            if setting.get("in") == "header" and setting.get("value"):
                value = str(setting["value"])
                break
        if value is None and (getattr(cfg, "username", None) or getattr(cfg, "password", None)):
            value = str(cfg.get_basic_auth_token())
        cache["value"], cache["at"] = value, now
        return value

    return Connection(
        server=str(cfg.host).rstrip("/"),
        namespace=namespace,
        context=context,
        user=user,
        ca_file=getattr(cfg, "ssl_ca_cert", None),
        cert_file=getattr(cfg, "cert_file", None),
        key_file=getattr(cfg, "key_file", None),
        verify=bool(getattr(cfg, "verify_ssl", True)),
        tls_server_name=getattr(cfg, "tls_server_name", None),
        proxy=getattr(cfg, "proxy", None),
        auth_header=auth_header,
    )


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or e.__class__.__name__
    return text.splitlines()[0]
