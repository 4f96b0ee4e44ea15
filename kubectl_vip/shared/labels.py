"""Label selectors, parsed the way kube-apiserver parses them (pure).

The grammar, lexer quirks and error texts follow k8s.io/apimachinery pkg/labels/selector.go (with
key/value validation from pkg/api/validate/content). The CLI checks a user's `-l` with it before
sending anything; the sandbox answers with the same texts. A selector is parsed once; `matches`
is a tight loop over precomputed requirements, cheap across tens of thousands of objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "DNS1123_LABEL_RE",
    "DNS1123_SUBDOMAIN_RE",
    "LabelSelector",
    "Requirement",
    "SelectorError",
    "go_quote",
    "parse_label_selector",
]

# --------------------------------------------------------------------------- Go-style formatting


def go_quote(s: str) -> str:
    """Go's `%q` (strconv.Quote) for a string, close enough for error messages."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif ch.isprintable():
            out.append(ch)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES["\v"] = "\\v"


def _regex_error(msg: str, regex: str, *examples: str) -> str:
    """content.RegexError, including its odd `'a',  or 'b'` spacing."""
    if not examples:
        return f"{msg} (regex used for validation is '{regex}')"
    msg += " (e.g. "
    for i, ex in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{ex}', "
    return msg + f"regex used for validation is '{regex}')"


def _blen(s: str) -> int:
    return len(s.encode("utf-8", "surrogatepass"))


# ------------------------------------------------------------------- label key/value validation

_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_KEY_RE = re.compile(_LABEL_KEY_FMT)
_LABEL_VALUE_FMT = f"({_LABEL_KEY_FMT})?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
# object names (subdomain) and namespace names (label), for checks before a URL is built
DNS1123_SUBDOMAIN_RE = _DNS1123_SUBDOMAIN_RE
DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)


def _label_key_errors(key: str) -> list[str]:
    """content.IsLabelKey."""
    errs: list[str] = []
    parts = key.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if _blen(prefix) > 253:
                errs.append("prefix part must be no more than 253 bytes")
            if not _DNS1123_SUBDOMAIN_RE.fullmatch(prefix):
                errs.append(
                    "prefix part "
                    + _regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com")
                )
    else:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif _blen(name) > 63:
        errs.append("name part must be no more than 63 bytes")
    if not _LABEL_KEY_RE.fullmatch(name):
        errs.append(
            "name part "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
        )
    return errs


def _label_value_errors(value: str) -> list[str]:
    """content.IsLabelValue."""
    errs: list[str] = []
    if _blen(value) > 63:
        errs.append("must be no more than 63 bytes")
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(
            _regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errs


def _invalid(path: str, value: str, detail: str) -> str:
    """field.Invalid(...).Error() for a string bad value."""
    return f"{path}: Invalid value: {go_quote(value)}: {detail}"


def _aggregate(errs: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error() after field.ErrorList.ToAggregate de-duplication."""
    seen: list[str] = []
    for e in errs:
        if e not in seen:
            seen.append(e)
    return seen[0] if len(seen) == 1 else "[" + ", ".join(seen) + "]"


_INT_RE = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(s: str) -> int | None:
    """strconv.ParseInt(s, 10, 64), None on error."""
    if not _INT_RE.fullmatch(s):
        return None
    n = int(s)
    return n if _INT64_MIN <= n <= _INT64_MAX else None


# --------------------------------------------------------------------------------- label lexer

# Token kinds (names follow selector.go).
_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DEQ, _EQ, _GT, _IDENT, _IN, _LT, _NEQ, _NOTIN, _OPEN = range(
    14
)
_STRING2TOKEN = {
    ")": _CLOSE,
    ",": _COMMA,
    "!": _NOT,
    "==": _DEQ,
    "=": _EQ,
    ">": _GT,
    "in": _IN,
    "<": _LT,
    "!=": _NEQ,
    "notin": _NOTIN,
    "(": _OPEN,
}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"


def _lex(s: str) -> list[tuple[int, str]]:
    """Lexer.Lex repeated until end of string (Parser.scan)."""
    # Go's lexer reads bytes and treats a NUL byte as the end of the input.
    nul = s.find("\x00")
    if nul >= 0:
        s = s[:nul]
    items: list[tuple[int, str]] = []
    pos, n = 0, len(s)
    while True:
        while pos < n and s[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            items.append((_EOS, ""))
            return items
        if s[pos] in _SPECIAL:
            # scanSpecialSymbol: longest run of special symbols that still forms a token.
            start, last_tok, last_end = pos, _ERROR, pos
            while pos < n and s[pos] in _SPECIAL:
                tok = _STRING2TOKEN.get(s[start : pos + 1], _ERROR)
                if tok != _ERROR:
                    last_tok, last_end = tok, pos + 1
                elif last_tok != _ERROR:
                    break
                pos += 1
            if last_tok == _ERROR:  # unreachable: every single special symbol is a token
                items.append((_ERROR, f"error expected: keyword found '{s[start:pos]}'"))
                continue
            pos = last_end
            items.append((last_tok, s[start:pos]))
        else:
            start = pos
            while pos < n and s[pos] not in _SPECIAL and s[pos] not in _WHITESPACE:
                pos += 1
            lit = s[start:pos]
            items.append((_STRING2TOKEN.get(lit, _IDENT), lit))


# -------------------------------------------------------------------------------- label parser

# Operators (values of selection.Operator).
OP_IN = "in"
OP_NOTIN = "notin"
OP_EQ = "="
OP_DEQ = "=="
OP_NEQ = "!="
OP_EXISTS = "exists"
OP_NOT_EXISTS = "!"
OP_GT = "gt"
OP_LT = "lt"

_TOKEN2OP = {
    _IN: OP_IN,
    _EQ: OP_EQ,
    _DEQ: OP_DEQ,
    _GT: OP_GT,
    _LT: OP_LT,
    _NOTIN: OP_NOTIN,
    _NEQ: OP_NEQ,
}

# Compact opcodes used by the matcher.
_M_IN, _M_NOTIN, _M_EXISTS, _M_NOT_EXISTS, _M_GT, _M_LT = range(6)


class SelectorError(ValueError):
    pass


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool = True) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        if values and tok in (_IN, _NOTIN):
            tok = _IDENT
        return tok, lit

    def consume(self, values: bool = True) -> tuple[int, str]:
        tok, lit = self.lookahead(values)
        self.pos += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok in (_IDENT, _NOT):
                try:
                    reqs.append(self.parse_requirement())
                except SelectorError as e:
                    raise SelectorError(f"unable to parse requirement: {e}") from None
                t, lit2 = self.consume()
                if t == _EOS:
                    return reqs
                if t == _COMMA:
                    t2, l2 = self.lookahead()
                    if t2 not in (_IDENT, _NOT):
                        raise SelectorError(f"found '{l2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit2}', expected: ',' or 'end of string'")
            elif tok == _EOS:
                return reqs
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, op = self.parse_key_and_infer_operator()
        if op in (OP_EXISTS, OP_NOT_EXISTS):
            return _new_requirement(key, op, [])
        op = self.parse_operator()
        values = self.parse_values() if op in (OP_IN, OP_NOTIN) else self.parse_exact_value()
        return _new_requirement(key, op, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        op = ""
        tok, lit = self.consume()
        if tok == _NOT:
            op = OP_NOT_EXISTS
            tok, lit = self.consume()
        if tok != _IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        errs = _label_key_errors(lit)
        if errs:
            raise SelectorError(_invalid("<nil>", lit, "; ".join(errs)))
        t, _ = self.lookahead()
        if t in (_EOS, _COMMA) and op != OP_NOT_EXISTS:
            op = OP_EXISTS
        return lit, op

    def parse_operator(self) -> str:
        tok, lit = self.consume(values=False)
        op = _TOKEN2OP.get(tok)
        if op is None:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        return op

    def parse_values(self) -> set[str]:
        tok, lit = self.consume()
        if tok != _OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok in (_IDENT, _COMMA):
            values = self.parse_identifiers_list()
            if self.consume()[0] != _CLOSE:  # unreachable, kept for parity with Go
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _CLOSE:
            self.consume()
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume()
            if tok == _IDENT:
                values.add(lit)
                tok2, lit2 = self.lookahead()
                if tok2 == _COMMA:
                    continue
                if tok2 == _CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _COMMA:
                if not values:
                    values.add("")  # "(,"
                tok2, _ = self.lookahead()
                if tok2 == _CLOSE:
                    values.add("")  # ",)"
                    return values
                if tok2 == _COMMA:
                    self.consume()
                    values.add("")  # ",,"
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead()
        if tok in (_EOS, _COMMA):
            return {""}
        tok, lit = self.consume()
        if tok == _IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


class Requirement:
    """One parsed requirement: key, operator (one of the OP_* strings) and sorted values."""

    __slots__ = ("_code", "_ival", "_vset", "key", "operator", "values")

    def __init__(self, key: str, operator: str, values: list[str]) -> None:
        self.key = key
        self.operator = operator
        self.values = tuple(values)
        self._vset = frozenset(values)
        self._ival = 0
        if operator in (OP_IN, OP_EQ, OP_DEQ):
            self._code = _M_IN
        elif operator in (OP_NOTIN, OP_NEQ):
            self._code = _M_NOTIN
        elif operator == OP_EXISTS:
            self._code = _M_EXISTS
        elif operator == OP_NOT_EXISTS:
            self._code = _M_NOT_EXISTS
        else:
            self._code = _M_GT if operator == OP_GT else _M_LT
            self._ival = _parse_int64(values[0]) or 0

    def __str__(self) -> str:
        head = ("!" if self.operator == OP_NOT_EXISTS else "") + self.key
        if self.operator in (OP_EXISTS, OP_NOT_EXISTS):
            return head
        sep = {OP_IN: " in ", OP_NOTIN: " notin ", OP_GT: ">", OP_LT: "<"}.get(
            self.operator, self.operator
        )
        vals = ",".join(self.values)
        return f"{head}{sep}({vals})" if self.operator in (OP_IN, OP_NOTIN) else head + sep + vals

    def __repr__(self) -> str:
        return f"Requirement({self})"


def _new_requirement(key: str, op: str, values: list[str]) -> Requirement:
    """labels.NewRequirement's validation for what the parser can produce."""
    errs: list[str] = []
    if op in (OP_GT, OP_LT):
        for i, v in enumerate(values):
            if _parse_int64(v) is None:
                errs.append(
                    _invalid(
                        f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"
                    )
                )
    for i, v in enumerate(values):
        verrs = _label_value_errors(v)
        if verrs:
            errs.append(_invalid(f"values[{i}][{key}]", v, "; ".join(verrs)))
    if errs:
        raise SelectorError(_aggregate(errs))
    return Requirement(key, op, values)


class LabelSelector:
    """An AND of requirements; the empty selector matches everything."""

    __slots__ = ("_reqs", "requirements")

    def __init__(self, requirements: list[Requirement]) -> None:
        self.requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._reqs = tuple((r.key, r._code, r._vset, r._ival) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self._reqs

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if labels is None:
            labels = {}
        for key, code, vset, ival in self._reqs:
            value = labels.get(key)
            if code == _M_IN:
                if value is None or value not in vset:
                    return False
            elif code == _M_NOTIN:
                if value is not None and value in vset:
                    return False
            elif code == _M_EXISTS:
                if value is None:
                    return False
            elif code == _M_NOT_EXISTS:
                if value is not None:
                    return False
            else:
                n = None if value is None else _parse_int64(value)
                if n is None or (n <= ival if code == _M_GT else n >= ival):
                    return False
        return True

    def requires_exact_match(self, key: str) -> str | None:
        """The single value `key` must have (`k=v`, `k==v`, `k in (v)`), else None."""
        for r in self.requirements:
            if r.key == key:
                if r.operator in (OP_IN, OP_EQ, OP_DEQ) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"LabelSelector({str(self)!r})"


def parse_label_selector(text: str) -> LabelSelector:
    """labels.Parse; a syntax or validation error raises SelectorError with apiserver's text."""
    return LabelSelector(_Parser(text).parse())
