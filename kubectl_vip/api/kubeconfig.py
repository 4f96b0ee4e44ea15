"""Connection settings from a kubeconfig (or in-cluster), loaded the way kubectl users expect.

The kubernetes client does the loading: KUBECONFIG with several files, contexts, exec
credential plugins with token refresh, client certificates, in-cluster service accounts. We
keep only what a raw HTTP client needs, so nothing else depends on the client's generated API.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..shared.private import material_path
from . import kubeconfig_doc, redact
from .proxy import from_environment as proxy_from_environment

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


def load(
    kubeconfig: str | None, context: str | None, *, exec_timeout: float | None = None
) -> Connection:
    """The connection of `context` (the current one when None). An exec credential plugin,
    now or at a refresh, must answer within `exec_timeout` seconds (None: no limit)."""
    paths = _kubeconfig_paths(kubeconfig)
    # An explicit --kubeconfig must be a kubeconfig; of KUBECONFIG's list, files that do not
    # exist are skipped (as kubectl does), but anything else there must be a kubeconfig too.
    existing = [kubeconfig] if kubeconfig else [p for p in paths if Path(p).expanduser().exists()]
    if not existing:
        if os.environ.get("KUBERNETES_SERVICE_HOST") and (SA_DIR / "token").is_file():
            return _in_cluster()
        raise ConfigError(
            f"no kubeconfig found (looked at {', '.join(paths)})",
            hint="set KUBECONFIG or pass --kubeconfig; try `kubectl vip --sandbox ...` for a demo",
        )
    docs = [(Path(p).expanduser(), kubeconfig_doc.read(p)) for p in existing]
    merged = kubeconfig_doc.merge(docs)
    simple = _simple(context, merged)
    if simple is not None:
        return simple
    return _from_files(os.pathsep.join(existing), context, merged, exec_timeout)


# What a kubeconfig entry may hold for `_simple` to read it without the kubernetes client
SIMPLE_USER = frozenset(
    {
        "token",
        "tokenFile",
        "client-certificate",
        "client-certificate-data",
        "client-key",
        "client-key-data",
        "username",
        "password",
    }
)
SIMPLE_CLUSTER = frozenset(
    {
        "server",
        "certificate-authority",
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "tls-server-name",
        "proxy-url",
    }
)
SIMPLE_CONTEXT = frozenset({"cluster", "user", "namespace"})


class _SimpleConfig:
    """The few settings `_connection` reads, as the client's Configuration holds them."""

    username = None
    password = None

    def __init__(self, host: str, authorization: str | None) -> None:
        self.host = host
        self.authorization = authorization
        self.ssl_ca_cert: str | None = None
        self.cert_file: str | None = None
        self.key_file: str | None = None
        self.verify_ssl = True
        self.tls_server_name: str | None = None

    def auth_settings(self) -> dict[str, dict[str, str]]:
        if not self.authorization:
            return {}
        return {
            "BearerToken": {"in": "header", "key": "authorization", "value": self.authorization}
        }


def _simple(context: str | None, merged: kubeconfig_doc.Merged) -> Connection | None:
    """A context with a static token, token file, basic auth or client certificate, read the way
    the kubernetes client's loader reads it, without importing the client (a fifth of a large
    `list`'s time). None for anything else (exec and auth-provider users, unknown fields, any
    doubt): then the client's loader reads it and reports what is wrong."""
    try:
        return _simple_or_none(context, merged)
    except Exception:  # noqa: BLE001 - any doubt: the client's loader decides and explains
        return None


def _simple_or_none(context: str | None, merged: kubeconfig_doc.Merged) -> Connection | None:
    chosen = merged.contexts.get(context or merged.current_context)
    if chosen is None or not set(chosen.body) <= SIMPLE_CONTEXT:
        return None
    user = merged.users.get(str(chosen.body.get("user") or ""))
    cluster = merged.clusters.get(str(chosen.body.get("cluster") or ""))
    if user is None or cluster is None:
        return None
    if not set(user.body) <= SIMPLE_USER or not set(cluster.body) <= SIMPLE_CLUSTER:
        return None
    u, cl = user.body, cluster.body
    server = cl.get("server")
    proxy_url = cl.get("proxy-url")
    if not isinstance(server, str) or not isinstance(proxy_url, (str, type(None))):
        return None
    if not all(isinstance(v, str) for k, v in u.items()):
        return None
    redact.remember(*(u.get(k) for k in ("token", "password", "client-key-data")))
    token_file = _token_file(user)
    static_token = _str_or_none(u.get("token"))
    if token_file is not None:
        read_token_file(token_file, static_token)
    authorization = None
    if static_token:
        authorization = f"Bearer {static_token}"
    elif u.get("username") and u.get("password"):
        import urllib3

        basic = f"{u['username']}:{u['password']}"
        authorization = urllib3.util.make_headers(basic_auth=basic).get("authorization")
    cfg = _SimpleConfig(server.rstrip("/"), authorization)
    if cfg.host.startswith("https"):
        # a relative path is relative to the file that holds the field, as in client-go: the
        # cluster's CA to the cluster's file, the user's certificate and key to the user's
        cfg.ssl_ca_cert = _file_or_data(cl, "certificate-authority", cluster.file.parent)
        cfg.cert_file = _file_or_data(u, "client-certificate", user.file.parent)
        cfg.key_file = _file_or_data(u, "client-key", user.file.parent)
    if "insecure-skip-tls-verify" in cl:
        cfg.verify_ssl = not cl["insecure-skip-tls-verify"]
    if "tls-server-name" in cl:
        cfg.tls_server_name = cl["tls-server-name"]
    return _connection(
        cfg,
        str(chosen.body.get("namespace") or "default"),
        chosen.name,
        str(chosen.body.get("user") or ""),
        token_file=token_file,
        static_token=static_token,
        proxy_url=proxy_url or None,
    )


def _file_or_data(body: dict[str, Any], key: str, base: Path | str) -> str | None:
    """The client's FileOrData.as_file: `key-data` (base64) as key material that does not
    outlive the process (shared/private.py: in memory where the system allows), else `key`
    relative to `base` (the directory of the file that defines it); the file must exist."""
    import base64

    data = body.get(f"{key}-data")
    if data is not None:
        content = base64.standard_b64decode(data)
        return material_path(content, key) if content else None
    if key not in body or not body[key]:
        return None
    path = os.path.normpath(os.path.join(os.path.abspath(base), body[key]))
    if not os.path.isfile(path):
        raise FileNotFoundError(path)  # the client's loader says so in its words
    return path


def context_names(kubeconfig: str | None) -> list[str]:
    """Every context name of the kubeconfig files, in kubectl's merge order (fleet commands)."""
    paths = _kubeconfig_paths(kubeconfig)
    existing = [kubeconfig] if kubeconfig else [p for p in paths if Path(p).expanduser().exists()]
    if not existing:
        raise ConfigError(
            f"no kubeconfig found (looked at {', '.join(paths)})",
            hint="set KUBECONFIG or pass --kubeconfig",
        )
    docs = [(Path(p).expanduser(), kubeconfig_doc.read(p)) for p in existing]
    return list(kubeconfig_doc.merge(docs).contexts)


def _from_files(
    config_file: str,
    context: str | None,
    merged: kubeconfig_doc.Merged,
    exec_timeout: float | None = None,
) -> Connection:
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
    ctx = chosen.get("context") or {}
    user_name = str(ctx.get("user") or "")
    user = merged.users.get(user_name)
    cluster = merged.clusters.get(str(ctx.get("cluster") or ""))
    if user is not None:
        redact.remember(*(user.body.get(k) for k in ("token", "password", "client-key-data")))
    token_file = _token_file(user)
    static_token = _str_or_none(user.body.get("token")) if user is not None else None
    if token_file is not None:  # fail here, naming the file, before the client reads it
        read_token_file(token_file, static_token)
    cfg = Configuration()
    try:
        loader = _strict_loader()(
            config_dict=kube_config.KubeConfigMerger(config_file).config,
            active_context=context,
            config_base_path=None,
        )
        loader.exec_timeout = exec_timeout  # at a refresh too: the loader runs it again
        loader.load_and_set(cfg)
    except _ExecFailed as e:
        raise ConfigError(
            f'the exec credential plugin of user "{user_name}" failed: {e}',
            hint="run the plugin's command by hand, or log in again",
        ) from None
    except (ConfigException, yaml.YAMLError, OSError, TypeError, ValueError, KeyError) as e:
        raise ConfigError(f"cannot use kubeconfig {config_file}: {_first_line(e)}") from None
    proxy_url = cluster.body.get("proxy-url") if cluster is not None else None
    if proxy_url is not None and not isinstance(proxy_url, str):
        raise ConfigError(f"kubeconfig {config_file}: a cluster's proxy-url must be a string")
    return _connection(
        cfg,
        str(ctx.get("namespace") or "default"),
        str(chosen.get("name")),
        user_name,
        token_file=token_file,
        static_token=static_token,
        proxy_url=proxy_url or None,
    )


def _token_file(user: kubeconfig_doc.Entry | None) -> Path | None:
    """The user's tokenFile, relative to the kubeconfig that defines the user."""
    if user is None or not user.body.get("tokenFile"):
        return None
    value = user.body["tokenFile"]
    if not isinstance(value, str):
        raise ConfigError(f'kubeconfig {user.file}: user "{user.name}": tokenFile must be a path')
    path = Path(value).expanduser()
    return path if path.is_absolute() else user.file.parent / path


def read_token_file(path: Path, fallback: str | None = None) -> str:
    """client-go's file token source: the file's content without surrounding whitespace, read
    again at each refresh; a static `token` is used only when the file cannot be read."""
    try:
        token = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError as e:
        if fallback:
            return fallback
        raise ConfigError(f"cannot read the token file {path}: {e.strerror or e}") from None
    if not token:
        if fallback:
            return fallback
        raise ConfigError(f"the token file {path} is empty")
    redact.remember(token)
    return token


class _ExecFailed(Exception):
    """An exec credential plugin failed; the client would only log it and go on without."""


def _run_exec(provider: Any, timeout: float | None) -> Any:
    """The client's ExecProvider.run (the same ExecCredential in, the same checks of what comes
    out), within `timeout` seconds: past it the plugin is killed and the command stops, as a
    request past --request-timeout does (the client waits for ever)."""
    import json
    import subprocess
    import sys

    from kubernetes.config import ConfigException

    interactive = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    info: dict[str, Any] = {
        "apiVersion": provider.api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": interactive},
    }
    if provider.cluster:
        info["spec"]["cluster"] = provider.cluster.value
        for ext in provider.cluster.value.get("extensions") or []:
            if ext.get("name") == "client.authentication.k8s.io/exec":
                info["spec"]["cluster"]["config"] = ext.get("extension")
                break
    env = {**provider.env, "KUBERNETES_EXEC_INFO": json.dumps(info)}
    process = subprocess.Popen(
        provider.args,
        stdout=subprocess.PIPE,
        stderr=sys.stderr if interactive else subprocess.PIPE,
        stdin=sys.stdin if interactive else None,
        cwd=provider.cwd,
        env=env,
        universal_newlines=True,
        shell=provider.shell,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        # a child of the plugin may still hold its pipes: never wait on them
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)
        raise _ExecFailed(
            f"it did not answer within {timeout:g}s (--request-timeout): stopped"
        ) from None
    if process.returncode != 0:
        msg = f"exec: process returned {process.returncode}"
        if stderr and stderr.strip():
            msg += f". {stderr.strip()}"
        raise ConfigException(msg)
    try:
        data = json.loads(stdout)
    except ValueError as e:
        raise ConfigException(f"exec: failed to decode process output: {e}") from None
    if not isinstance(data, dict):
        raise ConfigException("exec: malformed response: not an object")
    for key in ("apiVersion", "kind", "status"):
        if key not in data:
            raise ConfigException(f"exec: malformed response. missing key '{key}'")
    if data["apiVersion"] != provider.api_version:
        raise ConfigException(
            f"exec: plugin api version {data['apiVersion']} does not match {provider.api_version}"
        )
    return data["status"]


_LOADER: Any = None


def _strict_loader() -> Any:
    """The client's kubeconfig loader, except that a failing exec plugin stops us.

    The client logs a plugin's failure and carries on without credentials, so every request
    would answer 401 and the plugin's own message (log in again, MFA, ...) would be lost.
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    from kubernetes.config import ConfigException, kube_config
    from kubernetes.config.dateutil import parse_rfc3339
    from kubernetes.config.exec_provider import ExecProvider

    class StrictLoader(kube_config.KubeConfigLoader):
        exec_timeout: float | None = None

        def _load_from_exec_plugin(self) -> bool | None:
            user: Any = self._user
            cluster: Any = self._cluster
            if "exec" not in user:
                return None
            base_path = self._get_base_path(cluster.path)
            try:
                provider = ExecProvider(user["exec"], base_path, cluster)
                # a command path with a separator is relative to the user's file (client-go)
                command = str(provider.args[0])
                if os.sep in command and not os.path.isabs(command) and user.path:
                    provider.args[0] = os.path.join(self._get_base_path(user.path), command)
                status = _run_exec(provider, self.exec_timeout)
            except ConfigException as e:
                raise _ExecFailed(_one_line(str(e))) from None
            except OSError as e:  # the command is missing or cannot be run
                exec_cfg: Any = user["exec"]  # the client's ConfigNode
                command = exec_cfg.safe_get("command") or "the plugin"
                raise _ExecFailed(f"cannot run {command}: {e.strerror or e}") from None
            if not isinstance(status, dict):
                raise _ExecFailed("the plugin's output has no status")
            if status.get("token"):
                redact.remember(str(status["token"]))
                self.token = f"Bearer {status['token']}"
            elif status.get("clientCertificateData") and status.get("clientKeyData"):
                redact.remember(str(status["clientKeyData"]))
                # PEM text, handed to TLS without a file on disk where the system allows
                self.cert_file = material_path(
                    str(status["clientCertificateData"]).encode(), "client-certificate"
                )
                self.key_file = material_path(str(status["clientKeyData"]).encode(), "client-key")
            else:
                raise _ExecFailed(
                    "the plugin's output has neither a token nor clientCertificateData with "
                    "clientKeyData"
                )
            if status.get("expirationTimestamp"):
                self.expiry = parse_rfc3339(status["expirationTimestamp"])
            return True

        def _load_cluster_info(self) -> None:
            """The client's, except that relative paths resolve against the file that holds
            the field (the user's certificate and key against the user's file, as client-go
            does; the client took the cluster's) and `-data` fields never go to a file."""
            cluster: Any = self._cluster
            user: Any = self._user
            if "server" in cluster:
                self.host = cluster["server"].rstrip("/")
                if self.host.startswith("https"):
                    self.ssl_ca_cert = _file_or_data(
                        cluster.value, "certificate-authority", self._get_base_path(cluster.path)
                    )
                    if "cert_file" not in self.__dict__ and user:
                        # (an exec plugin may have given the certificate and key)
                        base = self._get_base_path(user.path)
                        self.cert_file = _file_or_data(user.value, "client-certificate", base)
                        self.key_file = _file_or_data(user.value, "client-key", base)
            if "insecure-skip-tls-verify" in cluster:
                self.verify_ssl = not cluster["insecure-skip-tls-verify"]
            if "tls-server-name" in cluster:
                self.tls_server_name = cluster["tls-server-name"]
            if "proxy-url" in cluster:
                self.proxy = cluster["proxy-url"]

    _LOADER = StrictLoader
    return _LOADER


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
    return _connection(cfg, namespace, "in-cluster", "serviceaccount", token_file=SA_DIR / "token")


AUTH_CACHE_SECONDS = 30.0


def _connection(
    cfg: Any,
    namespace: str,
    context: str,
    user: str,
    *,
    token_file: Path | None = None,
    static_token: str | None = None,
    proxy_url: str | None = None,
) -> Connection:
    cache: dict[str, Any] = {"value": None, "at": -AUTH_CACHE_SECONDS}

    def auth_header(force: bool = False) -> str | None:
        # The client's refresh hook re-reads exec/OIDC credentials when they expire; calling it
        # on every request costs more than the request itself, so ask at most every 30 s
        # (and at once after a 401: force).
        now = time.monotonic()
        if not force and now - cache["at"] < AUTH_CACHE_SECONDS:
            return cache["value"]  # type: ignore[no-any-return]
        value: str | None = None
        if token_file is not None:
            value = "Bearer " + read_token_file(token_file, static_token)
        else:
            try:
                settings = cfg.auth_settings().values()
            except _ExecFailed as e:
                raise ConfigError(
                    f'the exec credential plugin of user "{user}" failed: {e}',
                    hint="run the plugin's command by hand, or log in again",
                ) from None
            for setting in settings:
                if setting.get("in") == "header" and setting.get("value"):
                    value = str(setting["value"])
                    break
        if value is None and (getattr(cfg, "username", None) or getattr(cfg, "password", None)):
            value = str(cfg.get_basic_auth_token())
        if value is not None:
            redact.remember(value, value.partition(" ")[2])
            if not _header_safe(value):
                raise ConfigError(
                    f'the credentials of user "{user}" hold a line break or another character '
                    "not allowed in an HTTP header",
                    hint="check the token (or the content of tokenFile) in the kubeconfig",
                )
        cache["value"], cache["at"] = value, now
        return value

    server = str(cfg.host).rstrip("/")
    # the client's own environment proxy ignores NO_PROXY: decide as kubectl does instead
    proxy = proxy_url or proxy_from_environment(server, os.environ)
    return Connection(
        server=server,
        namespace=namespace,
        context=context,
        user=user,
        ca_file=getattr(cfg, "ssl_ca_cert", None),
        cert_file=getattr(cfg, "cert_file", None),
        key_file=getattr(cfg, "key_file", None),
        verify=bool(getattr(cfg, "verify_ssl", True)),
        tls_server_name=getattr(cfg, "tls_server_name", None),
        proxy=proxy,
        auth_header=auth_header,
    )


def _header_safe(value: str) -> bool:
    return all(0x20 <= ord(ch) < 0x7F or 0xA0 <= ord(ch) <= 0xFF or ch == "\t" for ch in value)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:400]


def _first_line(e: BaseException) -> str:
    text = str(e).strip() or e.__class__.__name__
    return redact.redact(text.splitlines()[0])
