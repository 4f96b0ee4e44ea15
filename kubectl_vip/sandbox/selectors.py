"""Label and field selectors, parsed the way kube-apiserver parses them.

The label grammar, lexer quirks and error texts follow k8s.io/apimachinery pkg/labels/selector.go
(with key/value validation from pkg/api/validate/content); the field selector follows
pkg/fields/selector.go and the per-kind field label conversion functions. Every parse failure
raises a 400 BadRequest `StatusError` with apiserver's message.

Selectors are parsed once; `matches` is a tight loop over precomputed requirements so that a list
can filter tens of thousands of objects cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kubectl_vip.sandbox.apierrors import bad_request
from kubectl_vip.shared.labels import LabelSelector, SelectorError, go_quote
from kubectl_vip.shared.labels import parse_label_selector as _parse_labels

__all__ = [
    "FieldSelector",
    "LabelSelector",
    "parse_field_selector",
    "parse_label_selector",
]


def parse_label_selector(text: str) -> LabelSelector:
    """labels.Parse; a syntax or validation error raises 400 BadRequest with apiserver's text."""
    try:
        return _parse_labels(text)
    except SelectorError as e:
        raise bad_request(str(e)) from None


# ------------------------------------------------------------------------------ field selector

_Getter = Callable[[Mapping[str, Any]], str]


def _field_string(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _path_getter(path: str, default: str = "") -> _Getter:
    parts = tuple(path.split("."))

    def get(obj: Mapping[str, Any]) -> str:
        cur: Any = obj
        for p in parts:
            if not isinstance(cur, Mapping):
                return default
            cur = cur.get(p)
            if cur is None:
                return default
        return _field_string(cur)

    return get


def _pod_ip(obj: Mapping[str, Any]) -> str:
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return ""
    ips = status.get("podIPs")
    if isinstance(ips, list) and ips and isinstance(ips[0], Mapping):
        return _field_string(ips[0].get("ip"))
    return _field_string(status.get("podIP"))


def _event_source(obj: Mapping[str, Any]) -> str:
    src = obj.get("source")
    comp = _field_string(src.get("component")) if isinstance(src, Mapping) else ""
    return comp or _field_string(obj.get("reportingComponent"))


def _always_empty(obj: Mapping[str, Any]) -> str:
    return ""


# Fields whose selectable value is not simply the JSON value at the dotted path
# (the per-kind ToSelectableFields / GetAttrs functions of kube-apiserver).
_SPECIAL_GETTERS: dict[tuple[str, str], _Getter] = {
    ("Pod", "status.podIP"): _pod_ip,
    # Accepted by the label conversion but absent from the Pod's selectable field set,
    # so it compares as "" exactly like on a real apiserver.
    ("Pod", "status.podIPs"): _always_empty,
    ("Pod", "spec.hostNetwork"): _path_getter("spec.hostNetwork", "false"),
    ("Node", "spec.unschedulable"): _path_getter("spec.unschedulable", "false"),
    ("Event", "source"): _event_source,
    ("ReplicationController", "status.replicas"): _path_getter("status.replicas", "0"),
}
# Old v1 clients send spec.host; the Pod conversion function maps it to spec.nodeName.
_FIELD_ALIASES: dict[tuple[str, str], str] = {("Pod", "spec.host"): "spec.nodeName"}


class FieldTerm:
    """`field=value` (equal=True) or `field!=value` (equal=False), value unescaped."""

    __slots__ = ("equal", "field", "get", "value")

    def __init__(self, field: str, value: str, equal: bool, get: _Getter) -> None:
        self.field = field
        self.value = value
        self.equal = equal
        self.get = get

    def __repr__(self) -> str:
        return f"FieldTerm({self.field}{'=' if self.equal else '!='}{self.value})"


class FieldSelector:
    """An AND of field terms; the empty selector matches everything."""

    __slots__ = ("_terms", "terms")

    def __init__(self, terms: list[FieldTerm]) -> None:
        self.terms = tuple(terms)
        self._terms = tuple((t.get, t.value, t.equal) for t in terms)

    @property
    def empty(self) -> bool:
        return not self._terms

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for get, value, equal in self._terms:  # noqa: SIM110 - a plain loop is faster than all()
            if (get(obj) == value) is not equal:
                return False
        return True

    def requires_exact_match(self, field: str) -> str | None:
        for t in self.terms:
            if t.field == field and t.equal:
                return t.value
        return None

    def exact_name(self) -> str | None:
        return self.requires_exact_match("metadata.name")

    def exact_namespace(self) -> str | None:
        return self.requires_exact_match("metadata.namespace")

    def __repr__(self) -> str:
        return f"FieldSelector({list(self.terms)!r})"


def _split_terms(sel: str) -> list[str]:
    """fields.splitTerms: split on commas not escaped by a backslash."""
    if not sel:
        return []
    terms: list[str] = []
    start, in_slash = 0, False
    for i, c in enumerate(sel):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(sel[start:i])
            start = i + 1
    terms.append(sel[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in ("!=", "==", "="):
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op) :]
    return None


def _unescape_value(s: str) -> str:
    if "\\" not in s and "," not in s and "=" not in s:
        return s
    out: list[str] = []
    in_slash = False
    for c in s:
        if in_slash:
            if c not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune with %v, i.e. as its code point number.
            raise bad_request(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise bad_request("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_selector(
    text: str, supported: frozenset[str], kind: str, *, default_conversion: bool = False
) -> FieldSelector:
    """fields.ParseSelector followed by the kind's field label conversion.

    `supported` is the set of field labels the kind accepts. An unsupported label raises 400
    `field label not supported: <label>`; with `default_conversion=True` (built-in kinds that have
    no conversion function of their own, e.g. ConfigMap) the text is meta/v1's
    `"<label>" is not a known field selector: only "metadata.name", "metadata.namespace"`.
    """
    parts = sorted(_split_terms(text))  # apiserver sorts the terms before parsing them
    parsed: list[tuple[str, str, bool]] = []
    for part in parts:
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        lhs, op, rhs = split
        parsed.append((lhs, _unescape_value(rhs), op != "!="))
    terms: list[FieldTerm] = []
    for label, value, equal in parsed:
        field = _FIELD_ALIASES.get((kind, label), label)
        if field not in supported:
            if default_conversion:
                raise bad_request(
                    f"{go_quote(label)} is not a known field selector: "
                    'only "metadata.name", "metadata.namespace"'
                )
            raise bad_request(f"field label not supported: {label}")
        get = _SPECIAL_GETTERS.get((kind, field)) or _path_getter(field)
        terms.append(FieldTerm(field, value, equal, get))
    return FieldSelector(terms)
