"""Label and field selectors: grammar, matching and apiserver's exact error texts."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_vip.sandbox.apierrors import StatusError
from kubectl_vip.sandbox.selectors import parse_field_selector, parse_label_selector

KEY_RULE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
REQ = "unable to parse requirement: "

LABELS = {"app": "web", "tier": "frontend", "n": "7", "empty": "", "example.com/role": "edge"}

LABEL_CASES: list[tuple[str, str, dict[str, str] | None, bool]] = [
    ("empty-everything", "", LABELS, True),
    ("blank-everything", "  \t ", None, True),
    ("eq-match", "app=web", LABELS, True),
    ("eq-miss", "app=db", LABELS, False),
    ("eq-absent", "zone=a", LABELS, False),
    ("deq-match", "app==web", LABELS, True),
    ("deq-miss", "app==db", LABELS, False),
    ("neq-match", "app!=db", LABELS, True),
    ("neq-miss", "app!=web", LABELS, False),
    ("neq-absent-matches", "zone!=a", LABELS, True),
    ("in-match", "app in (db,web)", LABELS, True),
    ("in-miss", "app in (db,cache)", LABELS, False),
    ("in-absent", "zone in (a)", LABELS, False),
    ("notin-match", "app notin (db,cache)", LABELS, True),
    ("notin-miss", "app notin (web)", LABELS, False),
    ("notin-absent-matches", "zone notin (a)", LABELS, True),
    ("exists-match", "tier", LABELS, True),
    ("exists-miss", "zone", LABELS, False),
    ("exists-empty-value", "empty", LABELS, True),
    ("not-exists-match", "!zone", LABELS, True),
    ("not-exists-miss", "!tier", LABELS, False),
    ("gt-match", "n>5", LABELS, True),
    ("gt-miss", "n>7", LABELS, False),
    ("gt-absent", "zone>1", LABELS, False),
    ("gt-non-integer-label", "app>1", LABELS, False),
    ("lt-match", "n<8", LABELS, True),
    ("lt-miss", "n<7", LABELS, False),
    ("and-match", "app=web,tier in (frontend),!zone,n>1", LABELS, True),
    ("and-one-miss", "app=web,tier=backend", LABELS, False),
    ("whitespace", "  app =  web ,  tier   in ( frontend , x ) ", LABELS, True),
    ("eq-empty-value", "empty=", LABELS, True),
    ("eq-empty-value-absent", "zone=", LABELS, False),
    ("in-empty-set-means-empty-value", "empty in ()", LABELS, True),
    ("in-leading-comma-empty-value", "empty in (,x)", LABELS, True),
    ("prefixed-key", "example.com/role=edge", LABELS, True),
    ("keyword-as-key", "in=x", {"in": "x"}, True),
    ("keyword-as-value", "a in (in,notin)", {"a": "notin"}, True),
    ("none-labels", "!app", None, True),
    ("none-labels-eq", "app=web", None, False),
]


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [c[1:] for c in LABEL_CASES],
    ids=[c[0] for c in LABEL_CASES],
)
def test_label_selector_matches(text: str, labels: dict[str, str] | None, expected: bool) -> None:
    assert parse_label_selector(text).matches(labels) is expected


LABEL_ERRORS: list[tuple[str, str, str]] = [
    ("lone-comma", ",", "found ',', expected: !, identifier, or 'end of string'"),
    ("double-equals-chain", "a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("trailing-comma", "a=b,", "found '', expected: identifier after ','"),
    ("comma-then-operator", "a,=b", "found '=', expected: identifier after ','"),
    ("leading-operator", "=a", "found '=', expected: !, identifier, or 'end of string'"),
    ("not-with-value", "!a=b", "found '=', expected: ',' or 'end of string'"),
    ("lone-bang", "!", REQ + "found '', expected: identifier"),
    (
        "missing-operator",
        "a b",
        REQ + "found 'b', expected: in, notin, =, ==, !=, gt, lt",
    ),
    ("in-without-parens", "a in b", REQ + "found 'b' expected: '('"),
    ("in-at-end", "a in", REQ + "found '' expected: '('"),
    ("in-missing-comma", "a in (b c)", REQ + "found 'c', expected: ',' or ')'"),
    ("in-unterminated", "a in (b,", REQ + "found '', expected: ',', or identifier"),
    ("in-operator-inside", "a in (=)", REQ + "found '=', expected: ',', ')' or identifier"),
    ("value-is-paren", "a=(b)", REQ + "found '(', expected: identifier"),
    (
        "bad-key",
        "-a=b",
        REQ + '<nil>: Invalid value: "-a": name part ' + KEY_RULE,
    ),
    (
        "key-too-long",
        "a" * 64,
        REQ + f'<nil>: Invalid value: "{"a" * 64}": name part must be no more than 63 bytes',
    ),
    ("empty-prefix", "/a", REQ + '<nil>: Invalid value: "/a": prefix part must be non-empty'),
    (
        "bad-prefix",
        "Ex.com/a",
        REQ + '<nil>: Invalid value: "Ex.com/a": prefix part ' + SUBDOMAIN_RULE,
    ),
    (
        "empty-name",
        "ex.com/",
        REQ + '<nil>: Invalid value: "ex.com/": name part must be non-empty; name part ' + KEY_RULE,
    ),
    (
        "two-slashes",
        "a/b/c",
        REQ
        + '<nil>: Invalid value: "a/b/c": a valid label key '
        + KEY_RULE
        + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ),
    ("bad-value", "a=b@", REQ + 'values[0][a]: Invalid value: "b@": ' + VALUE_RULE),
    (
        "value-too-long",
        "a=" + "v" * 64,
        REQ + f'values[0][a]: Invalid value: "{"v" * 64}": must be no more than 63 bytes',
    ),
    (
        "bad-value-in-set-sorted-index",
        "a in (z,-b)",
        REQ + 'values[0][a]: Invalid value: "-b": ' + VALUE_RULE,
    ),
    (
        "gt-not-integer",
        "a>x",
        REQ + "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be "
        "an integer",
    ),
    (
        "lt-empty-value",
        "a<",
        REQ + "values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be "
        "an integer",
    ),
    (
        "gt-negative-is-bad-label-value",
        "a>-1",
        REQ + 'values[0][a]: Invalid value: "-1": ' + VALUE_RULE,
    ),
    (
        "gt-aggregated-errors",
        "a>x@",
        REQ + "[values[0]: Invalid value: \"x@\": for 'Gt', 'Lt' operators, the value must be an "
        'integer, values[0][a]: Invalid value: "x@": ' + VALUE_RULE + "]",
    ),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in LABEL_ERRORS], ids=[c[0] for c in LABEL_ERRORS]
)
def test_label_selector_errors(text: str, message: str) -> None:
    with pytest.raises(StatusError) as info:
        parse_label_selector(text)
    err = info.value
    assert (err.code, err.reason, err.message) == (400, "BadRequest", message)
    assert err.body()["message"] == message


def test_label_selector_is_parsed_once_and_reusable() -> None:
    sel = parse_label_selector("tier in (b,a), app")
    assert str(sel) == "app,tier in (a,b)"
    assert sel.requires_exact_match("app") is None
    assert parse_label_selector("app=web").requires_exact_match("app") == "web"
    assert parse_label_selector("").empty
    objs = [{"app": "x", "tier": t} for t in ("a", "b", "c")] * 1000
    assert sum(sel.matches(o) for o in objs) == 2000


POD_FIELDS = frozenset(
    {
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
    }
)
NODE_FIELDS = frozenset({"metadata.name", "spec.unschedulable"})
EVENT_FIELDS = frozenset(
    {
        "metadata.name",
        "metadata.namespace",
        "involvedObject.kind",
        "involvedObject.name",
        "reason",
        "source",
        "type",
    }
)

POD = {
    "metadata": {"name": "web-1", "namespace": "prod"},
    "spec": {"nodeName": "n1"},
    "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.9"}], "podIP": "10.0.0.9"},
}
NODE = {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}}
EVENT = {
    "metadata": {"name": "e1", "namespace": "prod"},
    "involvedObject": {"kind": "Pod", "name": "web-1"},
    "reason": "Scheduled",
    "type": "Normal",
    "source": {"component": "default-scheduler"},
}

FIELD_CASES: list[tuple[str, str, frozenset[str], str, dict[str, Any], bool]] = [
    ("empty", "", POD_FIELDS, "Pod", POD, True),
    ("eq-match", "metadata.name=web-1", POD_FIELDS, "Pod", POD, True),
    ("eq-miss", "metadata.name=web-2", POD_FIELDS, "Pod", POD, False),
    ("deq-match", "status.phase==Running", POD_FIELDS, "Pod", POD, True),
    ("neq-match", "status.phase!=Pending", POD_FIELDS, "Pod", POD, True),
    ("neq-miss", "status.phase!=Running", POD_FIELDS, "Pod", POD, False),
    ("and", "metadata.namespace=prod,spec.nodeName=n1", POD_FIELDS, "Pod", POD, True),
    ("and-miss", "metadata.namespace=prod,spec.nodeName=n2", POD_FIELDS, "Pod", POD, False),
    ("missing-is-empty", "spec.nodeName=", POD_FIELDS, "Pod", {"metadata": {}}, True),
    ("missing-neq-empty", "spec.nodeName!=", POD_FIELDS, "Pod", {"metadata": {}}, False),
    ("pod-ip", "status.podIP=10.0.0.9", POD_FIELDS, "Pod", POD, True),
    ("pod-ips-not-selectable", "status.podIPs=10.0.0.9", POD_FIELDS, "Pod", POD, False),
    ("host-network-default", "spec.hostNetwork=false", POD_FIELDS, "Pod", POD, True),
    ("spec-host-alias", "spec.host=n1", POD_FIELDS, "Pod", POD, True),
    ("bool-true", "spec.unschedulable=true", NODE_FIELDS, "Node", NODE, True),
    ("bool-default-false", "spec.unschedulable=false", NODE_FIELDS, "Node", {}, True),
    ("event-involved", "involvedObject.name=web-1", EVENT_FIELDS, "Event", EVENT, True),
    ("event-reason-type", "reason=Scheduled,type=Normal", EVENT_FIELDS, "Event", EVENT, True),
    ("event-source", "source=default-scheduler", EVENT_FIELDS, "Event", EVENT, True),
    (
        "event-source-reporting-fallback",
        "source=kubelet",
        EVENT_FIELDS,
        "Event",
        {"reportingComponent": "kubelet"},
        True,
    ),
    (
        "escaped-comma",
        "metadata.name=a\\,b",
        POD_FIELDS,
        "Pod",
        {"metadata": {"name": "a,b"}},
        True,
    ),
    (
        "escaped-equals-and-backslash",
        "metadata.name=a\\=b\\\\c",
        POD_FIELDS,
        "Pod",
        {"metadata": {"name": "a=b\\c"}},
        True,
    ),
    ("empty-terms-skipped", ",metadata.name=web-1,,", POD_FIELDS, "Pod", POD, True),
]


@pytest.mark.parametrize(
    ("text", "supported", "kind", "obj", "expected"),
    [c[1:] for c in FIELD_CASES],
    ids=[c[0] for c in FIELD_CASES],
)
def test_field_selector_matches(
    text: str, supported: frozenset[str], kind: str, obj: dict[str, Any], expected: bool
) -> None:
    assert parse_field_selector(text, supported, kind).matches(obj) is expected


FIELD_ERRORS: list[tuple[str, str, str]] = [
    (
        "no-operator",
        "metadata.name",
        "invalid selector: 'metadata.name'; can't understand 'metadata.name'",
    ),
    (
        "terms-sorted-first-bad-reported",
        "zzz,aaa",
        "invalid selector: 'zzz,aaa'; can't understand 'aaa'",
    ),
    ("gt-not-supported", "a>1", "invalid selector: 'a>1'; can't understand 'a>1'"),
    (
        "unescaped-equals",
        "metadata.name=a=b",
        "invalid field selector: unescaped character in value: 61",
    ),
    ("bad-escape", "metadata.name=a\\x", "invalid field selector: invalid escape sequence: \\x"),
    (
        "trailing-backslash",
        "metadata.name=a\\",
        "invalid field selector: invalid escape sequence: \\",
    ),
    ("unsupported-label", "spec.foo=1", "field label not supported: spec.foo"),
    (
        "unsupported-after-valid",
        "metadata.name=a,status.bar=1",
        "field label not supported: status.bar",
    ),
    ("label-not-trimmed", "metadata.name =a", "field label not supported: metadata.name "),
]


@pytest.mark.parametrize(
    ("text", "message"), [c[1:] for c in FIELD_ERRORS], ids=[c[0] for c in FIELD_ERRORS]
)
def test_field_selector_errors(text: str, message: str) -> None:
    with pytest.raises(StatusError) as info:
        parse_field_selector(text, POD_FIELDS, "Pod")
    err = info.value
    assert (err.code, err.reason, err.message) == (400, "BadRequest", message)


def test_field_selector_namespace_unsupported_for_cluster_scoped_kind() -> None:
    with pytest.raises(StatusError) as info:
        parse_field_selector("metadata.namespace=x", NODE_FIELDS, "Node")
    assert info.value.message == "field label not supported: metadata.namespace"


def test_field_selector_default_conversion_message() -> None:
    with pytest.raises(StatusError) as info:
        parse_field_selector(
            "spec.x=1",
            frozenset({"metadata.name", "metadata.namespace"}),
            "ConfigMap",
            default_conversion=True,
        )
    assert info.value.code == 400
    assert info.value.message == (
        '"spec.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )


@pytest.mark.parametrize(
    ("text", "name", "namespace"),
    [
        ("metadata.name=a,metadata.namespace=ns", "a", "ns"),
        ("metadata.name==a", "a", None),
        ("metadata.name!=a,metadata.namespace=ns", None, "ns"),
        ("status.phase=Running", None, None),
        ("", None, None),
    ],
    ids=["both", "double-equals", "not-equal-ignored", "other-field", "empty"],
)
def test_field_selector_exact_helpers(text: str, name: str | None, namespace: str | None) -> None:
    sel = parse_field_selector(text, POD_FIELDS, "Pod")
    assert (sel.exact_name(), sel.exact_namespace()) == (name, namespace)
