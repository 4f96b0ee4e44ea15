"""Kubeconfig files read as documents and checked the way kubectl's loader checks them.

kubectl decodes every file of KUBECONFIG into typed structs before it sends anything: a file
that is not a kubeconfig (`/etc/passwd`, a binary, a directory) is an error, and so is a string
where a boolean belongs (`insecure-skip-tls-verify: "false"` would otherwise read as "skip").
The merged view (first file to name an entry wins, as in kubectl) tells where a user was defined,
so a relative `tokenFile` resolves against that file's directory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

Obj = dict[str, Any]
SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
TOP_KEYS = ("apiVersion", "kind", "clusters", "users", "contexts", "current-context")
# boolean fields of the v1 kubeconfig schema, per section
BOOL_FIELDS = {
    "cluster": ("insecure-skip-tls-verify", "disable-compression"),
    "user": (),
    "context": (),
}
EXEC_BOOL_FIELDS = ("provideClusterInfo",)


@dataclass
class Entry:
    name: str
    body: Obj
    file: Path


@dataclass
class Merged:
    clusters: dict[str, Entry] = field(default_factory=dict)
    users: dict[str, Entry] = field(default_factory=dict)
    contexts: dict[str, Entry] = field(default_factory=dict)
    current_context: str = ""


def read(path: str | Path) -> Obj:
    """One kubeconfig file as a mapping ({} for an empty file); ConfigError if it is not one."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise ConfigError(f"kubeconfig {path} is a directory, not a kubeconfig file")
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"kubeconfig {path} does not exist", hint="check --kubeconfig") from None
    except OSError as e:
        raise ConfigError(f"cannot read kubeconfig {path}: {e.strerror or e}") from None
    not_one = f"{path} is not a kubeconfig"
    if b"\0" in raw:
        raise ConfigError(f"{not_one}: it holds binary data")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{not_one}: it is not UTF-8 text") from None
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        # the parser's own message quotes the offending line, which may hold a credential
        raise ConfigError(f"cannot read kubeconfig {path}: not valid YAML{where}") from None
    if doc is None:
        return {}  # an empty file is an empty kubeconfig, as for kubectl
    if not isinstance(doc, dict):
        raise ConfigError(
            f"{not_one}: it holds a YAML {_kind(doc)}, not a mapping with clusters, users "
            "and contexts"
        )
    if not any(k in doc for k in TOP_KEYS):
        raise ConfigError(f"{not_one}: it has none of {', '.join(TOP_KEYS)}")
    check(doc, str(path))
    return doc


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def check(doc: Obj, path: str) -> None:
    """Type checks kubectl's decoder makes; messages name the entry and field, never a value
    that could be a credential."""
    for section, body_key in SECTIONS:
        entries = doc.get(section)
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ConfigError(
                f"kubeconfig {path}: {section} must be a list, not a {_kind(entries)}"
            )
        for i, entry in enumerate(entries):
            where = f"kubeconfig {path}: {section}[{i}]"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where} must be a mapping, not a {_kind(entry)}")
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                raise ConfigError(f"{where} has no name")
            where = f'kubeconfig {path}: {body_key} "{name}"'
            body = entry.get(body_key)
            if body is None:
                continue
            if not isinstance(body, dict):
                raise ConfigError(f"{where}: {body_key} must be a mapping, not a {_kind(body)}")
            for key in BOOL_FIELDS[body_key]:
                _check_bool(body, key, where)
            exec_cfg = body.get("exec") if body_key == "user" else None
            if exec_cfg is not None:
                if not isinstance(exec_cfg, dict):
                    raise ConfigError(f"{where}: exec must be a mapping")
                for key in EXEC_BOOL_FIELDS:
                    _check_bool(exec_cfg, key, f"{where}: exec")
    current = doc.get("current-context")
    if current is not None and not isinstance(current, str):
        raise ConfigError(f"kubeconfig {path}: current-context must be a string")


def _check_bool(body: Obj, key: str, where: str) -> None:
    if key not in body or body[key] is None or isinstance(body[key], bool):
        return
    value = body[key]
    shown = f'the string "{value}"' if isinstance(value, str) and len(value) < 16 else _kind(value)
    raise ConfigError(
        f"{where}: {key} must be true or false, not {shown}",
        hint="kubectl rejects this kubeconfig too; write the boolean without quotes",
    )


def merge(docs: list[tuple[Path, Obj]]) -> Merged:
    """kubectl's merge of KUBECONFIG files: the first file to name an entry wins."""
    m = Merged()
    for path, doc in docs:
        for section, body_key in SECTIONS:
            target: dict[str, Entry] = getattr(m, section)
            for entry in doc.get(section) or []:
                name = str(entry["name"])
                if name not in target:
                    target[name] = Entry(name, entry.get(body_key) or {}, path)
        if not m.current_context and doc.get("current-context"):
            m.current_context = str(doc["current-context"])
    return m
