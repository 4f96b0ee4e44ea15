"""Which proxy a request to the API server goes through, decided as kubectl decides it.

A cluster's `proxy-url` is used for every request to that cluster. Otherwise the environment
decides, as Go's `net/http` (golang.org/x/net/http/httpproxy) reads it: HTTPS_PROXY (then
https_proxy) for https servers, HTTP_PROXY for http ones, and NO_PROXY (then no_proxy), a
comma-separated list of
- `*`: no proxy at all;
- an IP address or a CIDR (`10.0.0.0/8`): the server's IP in it;
- a host name, optionally with a leading `.` or `*.`: `example.com` matches that host and its
  subdomains, `.example.com` only the subdomains;
- any of these with `:port`: only that port.
`localhost` and loopback addresses never go through an environment proxy. Pure: the caller
passes the environment.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"http": "80", "https": "443"}
SCHEMES = ("http", "https", "socks5", "socks5h")


def _env(env: Mapping[str, str], *names: str) -> str:
    for n in names:
        v = env.get(n)
        if v:
            return v
    return ""


def from_environment(server: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL for `server` from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, or None (direct)."""
    parts = urlsplit(server)
    scheme = (parts.scheme or "https").lower()
    proxy = (
        _env(env, "HTTPS_PROXY", "https_proxy")
        if scheme == "https"
        else _env(env, "HTTP_PROXY", "http_proxy")
    )
    if not proxy:
        return None
    host = (parts.hostname or "").lower()
    port = str(parts.port or DEFAULT_PORTS.get(scheme, ""))
    if not use_proxy(host, port, _env(env, "NO_PROXY", "no_proxy")):
        return None
    return normalise(proxy)


def normalise(proxy: str) -> str:
    """A proxy without a scheme is an http:// one (as Go reads it)."""
    text = proxy.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in SCHEMES:
        return "http://" + text
    return text


def use_proxy(host: str, port: str, no_proxy: str) -> bool:
    if not host:
        return True
    if host == "localhost":
        return False
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return False
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return False
        if _matches(entry, host, port, ip):
            return False
    return True


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _matches(
    entry: str, host: str, port: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
) -> bool:
    if "/" in entry:
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
        return ip is not None and ip in net
    if _ip(entry) is not None:
        return ip is not None and ip == _ip(entry)
    want_port = ""
    name = entry
    if entry.startswith("[") and "]" in entry:  # [v6]:port
        name, _, rest = entry[1:].partition("]")
        want_port = rest.lstrip(":")
        if _ip(name) is not None:
            return ip is not None and ip == _ip(name) and (not want_port or want_port == port)
    elif entry.count(":") == 1:
        name, want_port = entry.split(":")
        if _ip(name) is not None:
            return ip is not None and ip == _ip(name) and want_port == port
    if want_port and want_port != port:
        return False
    if name.startswith("*."):
        name = name[1:]
    if name.startswith("."):
        return host.endswith(name)
    return host == name or host.endswith("." + name)


@dataclass(frozen=True)
class ProxyParts:
    url: str  # without credentials
    scheme: str
    username: str | None
    password: str | None


def split_credentials(proxy: str) -> ProxyParts:
    """The proxy URL without user:password, and the (percent-decoded) credentials."""
    parts = urlsplit(normalise(proxy))
    netloc = parts.netloc.rpartition("@")[2]
    url = parts._replace(netloc=netloc).geturl()
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return ProxyParts(url, parts.scheme.lower(), user, password)
