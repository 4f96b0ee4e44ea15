"""What a support bundle may not carry, taken out of every document (pure: data in, data out).

Removed: managedFields, the last-applied-configuration annotation (a copy of the spec, env
values included), every env value (`env` keeps names, `envFrom` the referenced names).

Redacted by key: annotations and ConfigMap keys whose names look like secrets (password,
passwd, passphrase, pwd, secret, token, key, credential; any case) keep their name with the
value `<redacted>`; inside an embedded YAML or JSON document (a ConfigMap's `config.yaml`, an
annotation holding `{"password": ...}`) every key counts: the document is parsed, scrubbed by
key and written back.

Redacted by value, in every string: a URL's userinfo (`mysql://root:PASS@db` keeps `root`),
such flags with their value (`--secret-key=X`, `--api-token X`, `--token -X`: the value is
whatever follows, even one that starts with `-`), `NAME=value` and `"name": "value"` and
`name: value` pairs with such names. In an argument list, a flag of such a name alone
(`--password`) takes the next item as its value whatever it starts with, as Go's flag
packages read it (a boolean flag of such a name costs the next argument its value: a
support bundle errs on the side of less).

`Redactions` records each redaction (file, object, field path; never the value) for the
manifest, and keeps the redacted values so no other member can still quote them (`sweep`).
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from . import schema

Obj = dict[str, Any]
REDACTED = "<redacted>"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
MIN_SWEEP = 4  # values shorter than this are not swept out of other members
MAX_DEPTH = 100  # deeper is cut (no Kubernetes object comes near; Python's stack would)
EMBEDDED_MAX = 256 * 1024  # larger strings are scrubbed as text only, never parsed
CUT = "<cut: nested too deeply>"

_WORDS = r"(?:password|passwd|passphrase|pwd|secret|token|key|credential)"
# a key or flag name that looks like it holds a secret
SECRET_NAME = re.compile(f"(?i){_WORDS}")
# `--name=value` / `-name=value`, and `--name` alone (its value is the next arg)
FLAG = re.compile(r"^(-{1,2}[A-Za-z0-9][\w.-]*)(?:=(.*))?$", re.S)
# a string worth a closer look: a secret-like word, or a URL that may carry userinfo
_MAYBE = re.compile(f"(?i){_WORDS}|://")
_VALUE = r"(\"[^\"]*\"|'[^']*'|[^\s\"']+)"
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # user:password@ and token@ in a URL: the password (or the lone user part) goes
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']*:)([^/\s@\"']+)(@)"), "url"),
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://)([^/\s:@\"']+)(@)"), "url-user"),
    # a secret flag and its value: `--secret-key=X`, `--api-token X`, `-token "a b"`
    (re.compile(f"(?i)((?<![\\w-])-{{1,2}}[\\w.-]*{_WORDS}[\\w.-]*(?:=|[ \\t]+)){_VALUE}()"), ""),
    # NAME=value (an environment, a connection string's `password=x;`)
    (re.compile(f"(?i)((?<![\\w.-])(?:[A-Za-z_][\\w.]*)?{_WORDS}[\\w.]*=){_VALUE}()"), ""),
    # "name": "value" (JSON inside text)
    (re.compile(f'(?i)("[^"\\n]*{_WORDS}[^"\\n]*"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*")()'), ""),
    # name: value at the start of a line (YAML that did not parse as a whole)
    (
        re.compile(
            f"(?im)(^[ \\t]*(?:-[ \\t]+)?[\"']?[\\w.-]*{_WORDS}[\\w.-]*[\"']?[ \\t]*:[ \\t]+)"
            r"(?![|>][-+0-9]*[ \t]*$)([^\n]*?)()[ \t]*$"
        ),
        "",
    ),
    # name: | (or >) and the block scalar below it
    (
        re.compile(
            f"(?im)(^([ \\t]*)(?:-[ \\t]+)?[\"']?[\\w.-]*{_WORDS}[\\w.-]*[\"']?[ \\t]*:[ \\t]*"
            r"[|>][-+0-9]*[ \t]*\n)((?:\2[ \t]+[^\n]*(?:\n|$)|[ \t]*(?:\n|$))+)"
        ),
        "block",
    ),
)


@dataclass
class Redactions:
    """What was redacted (object and field path, never the value), for manifest.json; and the
    values, so no other member (the config and doctor documents) can still quote them."""

    entries: list[Obj] = field(default_factory=list)
    values: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, file: str, obj: str | None, path: str, value: Any, *, sweep: bool = True) -> None:
        """One redaction at `path`; `value` is what was taken out (a list: several strings)."""
        with self._lock:
            self.entries.append({"file": file, "object": obj, "field": path})
            for v in value if isinstance(value, list) else [value]:
                # swept elsewhere: a value of a few characters or more, and one word (a
                # sentence taken out of an Event message would blank it everywhere)
                if (
                    sweep
                    and isinstance(v, str)
                    and len(v) >= MIN_SWEEP
                    and not any(ch.isspace() for ch in v)
                ):
                    self.values.add(v)

    def sweep(self, obj: Any, file: str, path: str = "") -> Any:
        """A copy of a collected document where no string still holds a redacted value (the
        config and doctor documents quote ipamd's args, for one)."""
        if not self.values:
            return obj
        ordered = sorted(self.values, key=len, reverse=True)
        return self._sweep(obj, file, path, ordered, 0)

    def _sweep(self, obj: Any, file: str, path: str, ordered: list[str], depth: int) -> Any:
        if isinstance(obj, str):
            out = obj
            for v in ordered:
                if v in out:
                    out = out.replace(v, REDACTED)
            if out != obj:
                with self._lock:
                    self.entries.append({"file": file, "object": None, "field": path})
            return out
        if depth > MAX_DEPTH:
            return CUT
        if isinstance(obj, list):
            return [
                self._sweep(o, file, f"{path}[{i}]", ordered, depth + 1) for i, o in enumerate(obj)
            ]
        if isinstance(obj, dict):
            return {
                k: self._sweep(v, file, _join(path, str(k)), ordered, depth + 1)
                for k, v in obj.items()
            }
        return obj


@dataclass
class _Ctx:
    red: Redactions | None
    file: str
    label: str
    kind: str

    def note(self, path: str, value: Any, *, sweep: bool = True) -> None:
        if self.red is not None and value != REDACTED:
            self.red.add(self.file, self.label, path, value, sweep=sweep)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _scrub_container(c: Any, path: str, ctx: _Ctx, depth: int) -> Any:
    if not isinstance(c, dict):
        return c
    out = dict(c)
    env = out.get("env")
    if isinstance(env, list):
        out["env"] = [{"name": e.get("name")} for e in env if isinstance(e, dict)]
    env_from = out.get("envFrom")
    if isinstance(env_from, list):
        kept = []
        for e in env_from:
            if not isinstance(e, dict):
                continue
            ref: Obj = {k: e[k] for k in ("prefix",) if k in e}
            for key in ("configMapRef", "secretRef"):
                if isinstance(e.get(key), dict):
                    ref[key] = {"name": e[key].get("name")}
            kept.append(ref)
        out["envFrom"] = kept
    return _scrub(out, path, ctx, depth)


def _scrub_args(items: list[Any], path: str, ctx: _Ctx, depth: int) -> list[Any]:
    """`--secret-key=VALUE` keeps its name; `--password VALUE` keeps the flag, not the value,
    whatever the value starts with (`--secret-id -X`: Go's flag packages give it -X)."""
    out: list[Any] = []
    value_next = False
    for i, item in enumerate(items):
        here = f"{path}[{i}]"
        if value_next and isinstance(item, str):
            value_next = False
            if item not in ("", REDACTED):
                ctx.note(here, item)
                out.append(REDACTED)
                continue
        value_next = False
        m = FLAG.match(item) if isinstance(item, str) else None
        if m is not None and SECRET_NAME.search(m.group(1)):
            if m.group(2) is None:
                value_next = True
            elif m.group(2) and m.group(2) != REDACTED:
                ctx.note(here, m.group(2))
                out.append(f"{m.group(1)}={REDACTED}")
                continue
        out.append(_scrub(item, here, ctx, depth + 1))
    return out


def _secret_map(values: Obj, path: str, ctx: _Ctx, depth: int, *, every_key: bool = False) -> Obj:
    """Every value under a secret-looking key redacted (a list or a mapping whole); the rest
    scrubbed as usual, strings as possible embedded documents."""
    out: Obj = {}
    for k, v in values.items():
        here = _join(path, str(k))
        if SECRET_NAME.search(str(k)) and v not in (None, "", REDACTED, [], {}):
            ctx.note(here, _leaves(v, depth))
            out[k] = REDACTED
        else:
            out[k] = _scrub(v, here, ctx, depth + 1, embedded=True, every_key=every_key)
    return out


def _leaves(v: Any, depth: int) -> list[str]:
    """The strings under `v` (each swept out of the other members)."""
    if isinstance(v, str):
        return [v]
    found: list[str] = []
    if depth <= MAX_DEPTH and isinstance(v, (list, dict)):
        for x in v.values() if isinstance(v, dict) else v:
            found.extend(_leaves(x, depth + 1))
    return found


def _scrub_text(text: str, path: str, ctx: _Ctx, depth: int, embedded: bool) -> str:
    if not _MAYBE.search(text):
        return text  # the common case: one scan, no copy
    doc = _embedded(text, depth) if embedded or _looks_like_document(text) else None
    if doc is not None:
        inner = _Ctx(None, ctx.file, ctx.label, "")
        if _scrub(doc[0], path, inner, depth + 1, embedded=True, every_key=True) != doc[0]:
            # the same walk, now noting what it takes out
            cleaned = _scrub(doc[0], path, ctx, depth + 1, embedded=True, every_key=True)
            text = doc[1](cleaned)
    for pattern, how in _TEXT_RULES:
        text = pattern.sub(functools.partial(_redact_match, how=how, path=path, ctx=ctx), text)
    return text


def _redact_match(m: re.Match[str], how: str, path: str, ctx: _Ctx) -> str:
    value = m.group(3) if how == "block" else m.group(2)
    if value.strip("\"'") in ("", REDACTED) or (REDACTED in value and len(value) < 16):
        return m.group(0)
    # a user name alone in a URL may be a token, and is redacted; it is not swept (a name
    # such as "admin" would blank every other mention)
    ctx.note(path, value.strip("\"'"), sweep=how != "url-user")
    if how == "block":
        indent = m.group(2)
        return f"{m.group(1)}{indent}  {REDACTED}\n"
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] else ""
    return f"{m.group(1)}{quote}{REDACTED}{quote}{m.group(3)}"


def _looks_like_document(text: str) -> bool:
    head = text.lstrip()[:1]
    return head in ("{", "[") or "\n" in text.strip()


def _embedded(text: str, depth: int) -> tuple[Any, Any] | None:
    """(document, how to write it back) when `text` is a JSON or YAML mapping or list."""
    if len(text) > EMBEDDED_MAX or depth > MAX_DEPTH // 2:
        return None
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            doc = json.loads(stripped)
        except (ValueError, RecursionError):
            doc = None
        if isinstance(doc, (dict, list)):
            return doc, lambda d: json.dumps(d, ensure_ascii=False)
    if ":" not in text and "- " not in text:
        return None
    try:
        doc = _load_yaml(text)
    except Exception:  # noqa: BLE001 - not YAML (or not one we read): scrubbed as text
        return None
    if isinstance(doc, (dict, list)) and doc:
        return doc, _dump_yaml
    return None


def _load_yaml(text: str) -> Any:
    import yaml

    class NoAliases(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                raise yaml.YAMLError("aliases")
            return super().compose_node(parent, index)

    return yaml.load(text, Loader=NoAliases)  # a SafeLoader subclass: safe


def _dump_yaml(doc: Any) -> str:
    import yaml

    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=False))


def _scrub(
    obj: Any,
    path: str,
    ctx: _Ctx,
    depth: int = 0,
    *,
    embedded: bool = False,
    every_key: bool = False,
) -> Any:
    if isinstance(obj, str):
        return _scrub_text(obj, path, ctx, depth, embedded)
    if depth > MAX_DEPTH:
        ctx.note(path, None, sweep=False)
        return CUT
    if isinstance(obj, list):
        return _scrub_args(obj, path, ctx, depth)
    if not isinstance(obj, dict):
        return obj
    if every_key:  # inside an embedded document: every key is a name that may hold a secret
        return _secret_map(obj, path, ctx, depth, every_key=True)
    out: Obj = {}
    for k, v in obj.items():
        here = _join(path, str(k))
        if k == "managedFields":
            continue
        if k == "annotations" and isinstance(v, dict):
            out[k] = _secret_map(
                {a: x for a, x in v.items() if a != LAST_APPLIED}, here, ctx, depth
            )
        elif k in ("data", "binaryData") and ctx.kind == "ConfigMap" and isinstance(v, dict):
            out[k] = _secret_map(v, here, ctx, depth)
        elif k in CONTAINER_LISTS and isinstance(v, list):
            out[k] = [_scrub_container(c, f"{here}[{i}]", ctx, depth + 1) for i, c in enumerate(v)]
        else:
            out[k] = _scrub(v, here, ctx, depth + 1)
    return out


def _label(obj: Any, fallback: str) -> str:
    if not isinstance(obj, dict) or not isinstance(obj.get("metadata"), dict):
        return fallback
    ns, name = schema.namespace(obj), schema.name(obj)
    return f"{obj.get('kind') or fallback} {ns + '/' if ns else ''}{name}"


def scrub(obj: Any, red: Redactions | None = None, *, file: str = "", label: str = "") -> Any:
    """A copy without managedFields, the last-applied annotation and any env value, with
    secrets redacted by key and by value (see the module's doc)."""
    kind = str(obj.get("kind") or "") if isinstance(obj, dict) else ""
    return _scrub(obj, "", _Ctx(red, file, _label(obj, label or file), kind))


def scrub_text(text: str, red: Redactions | None = None, *, file: str = "", where: str = "") -> str:
    """`text` with the secrets its words carry redacted (a manifest's server, a message)."""
    return _scrub_text(text, where, _Ctx(red, file, where, ""), 0, embedded=False)
