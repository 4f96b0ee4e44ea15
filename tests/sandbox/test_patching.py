"""PATCH bodies: JSON patch, merge patch, strategic merge patch, content types and errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubectl_vip.sandbox.apierrors import StatusError
from kubectl_vip.sandbox.patching import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
)

ALL_TYPES = (
    "application/json-patch+json, application/merge-patch+json, "
    "application/strategic-merge-patch+json, application/apply-patch+yaml"
)
CR_TYPES = "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
UNKNOWN_FORMAT = "the body of the request was in an unknown format - accepted media types include: "
REJECTED = "the server rejected our request due to an error in our request"


def pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": "prod",
            "labels": {"app": "web", "tier": "fe"},
            "finalizers": ["a.io/x", "a.io/y"],
        },
        "spec": {
            "containers": [
                {"name": "main", "image": "nginx", "args": ["--a"]},
                {
                    "name": "side",
                    "image": "envoy",
                    "args": ["--b"],
                    "env": [{"name": "E1", "value": "1"}, {"name": "E2", "value": "2"}],
                    "ports": [{"containerPort": 80, "name": "http"}],
                },
            ],
            "tolerations": [{"key": "k1", "operator": "Exists"}],
        },
        "status": {"phase": "Running"},
    }


def run(patch: Any, content_type: str, *, builtin: bool = True, obj: Any = None) -> dict[str, Any]:
    body = patch if isinstance(patch, bytes) else json.dumps(patch).encode()
    return apply_patch(pod() if obj is None else obj, body, content_type, builtin=builtin)


def containers(result: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = result["spec"]["containers"]
    return out


# ----------------------------------------------------------------------------- content types


@pytest.mark.parametrize(
    ("content_type", "builtin", "accepted"),
    [
        (STRATEGIC_MERGE_PATCH, False, CR_TYPES),
        (APPLY_PATCH, True, ALL_TYPES),
        (APPLY_PATCH, False, CR_TYPES),
        ("application/json", True, ALL_TYPES),
        ("text/plain", False, CR_TYPES),
        ("", True, ALL_TYPES),
        ("Application/JSON-Patch+JSON", True, ALL_TYPES),
    ],
    ids=["smp-on-cr", "apply-builtin", "apply-cr", "plain-json", "text-cr", "empty", "wrong-case"],
)
def test_unsupported_media_types(content_type: str, builtin: bool, accepted: str) -> None:
    with pytest.raises(StatusError) as info:
        run({"metadata": {"labels": {"x": "1"}}}, content_type, builtin=builtin)
    err = info.value
    assert (err.code, err.reason, err.message) == (
        415,
        "UnsupportedMediaType",
        UNKNOWN_FORMAT + accepted,
    )


@pytest.mark.parametrize(
    "content_type",
    [JSON_PATCH + "; charset=utf-8", JSON_PATCH + ";charset=UTF-8", JSON_PATCH],
    ids=["charset", "charset-no-space", "bare"],
)
def test_content_type_parameters_are_ignored(content_type: str) -> None:
    out = run([{"op": "replace", "path": "/metadata/name", "value": "x"}], content_type)
    assert out["metadata"]["name"] == "x"


@pytest.mark.parametrize(
    ("content_type", "builtin"),
    [(JSON_PATCH, True), (MERGE_PATCH, True), (STRATEGIC_MERGE_PATCH, True), (MERGE_PATCH, False)],
    ids=["json", "merge", "strategic", "merge-cr"],
)
@pytest.mark.parametrize(
    "body",
    [b"{bad", b"", b"[1,", b"\xef\xbb\xbf{}", b"NaN"],
    ids=["brace", "empty", "open", "bom", "nan"],
)
def test_invalid_json_is_bad_request(content_type: str, builtin: bool, body: bytes) -> None:
    with pytest.raises(StatusError) as info:
        run(body, content_type, builtin=builtin)
    err = info.value
    assert (err.code, err.reason, err.message) == (400, "BadRequest", "invalid JSON patch")


# -------------------------------------------------------------------------------- JSON patch

JSON_PATCH_CASES: list[tuple[str, list[dict[str, Any]], list[Any], Any]] = [
    (
        "replace",
        [{"op": "replace", "path": "/metadata/name", "value": "x"}],
        ["metadata", "name"],
        "x",
    ),
    (
        "add-label",
        [{"op": "add", "path": "/metadata/labels/new", "value": "1"}],
        ["metadata", "labels", "new"],
        "1",
    ),
    (
        "remove",
        [{"op": "remove", "path": "/metadata/labels/tier"}],
        ["metadata", "labels"],
        {"app": "web"},
    ),
    (
        "append",
        [{"op": "add", "path": "/metadata/finalizers/-", "value": "z"}],
        ["metadata", "finalizers"],
        ["a.io/x", "a.io/y", "z"],
    ),
    (
        "test-then-replace",
        [
            {"op": "test", "path": "/status/phase", "value": "Running"},
            {"op": "replace", "path": "/status/phase", "value": "Failed"},
        ],
        ["status", "phase"],
        "Failed",
    ),
    (
        "copy",
        [{"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/n"}],
        ["metadata", "labels", "n"],
        "web",
    ),
    (
        "move",
        [{"op": "move", "from": "/metadata/labels/tier", "path": "/metadata/labels/t"}],
        ["metadata", "labels"],
        {"app": "web", "t": "fe"},
    ),
    (
        "escaped-pointer",
        [{"op": "add", "path": "/metadata/labels/a.io~1b", "value": "1"}],
        ["metadata", "labels", "a.io/b"],
        "1",
    ),
    (
        "second-container-args",
        [{"op": "replace", "path": "/spec/containers/1/args/0", "value": "--c"}],
        ["spec", "containers", 1, "args"],
        ["--c"],
    ),
]


def _dig(obj: Any, path: list[Any]) -> Any:
    for p in path:
        obj = obj[p]
    return obj


@pytest.mark.parametrize(
    ("ops", "path", "expected"),
    [c[1:] for c in JSON_PATCH_CASES],
    ids=[c[0] for c in JSON_PATCH_CASES],
)
def test_json_patch_applies(ops: list[dict[str, Any]], path: list[Any], expected: Any) -> None:
    assert _dig(run(ops, JSON_PATCH), path) == expected


def test_json_patch_null_body_is_empty_patch() -> None:
    assert run(None, JSON_PATCH) == pod()


JSON_PATCH_REJECTED: list[tuple[str, Any]] = [
    ("test-fails", [{"op": "test", "path": "/status/phase", "value": "Pending"}]),
    ("test-missing-path", [{"op": "test", "path": "/nope", "value": 1}]),
    ("replace-missing", [{"op": "replace", "path": "/spec/nope", "value": 1}]),
    ("remove-missing", [{"op": "remove", "path": "/metadata/labels/nope"}]),
    ("add-missing-parent", [{"op": "add", "path": "/a/b/c", "value": 1}]),
    ("index-out-of-range", [{"op": "remove", "path": "/metadata/finalizers/9"}]),
    ("into-scalar", [{"op": "add", "path": "/metadata/name/x", "value": 1}]),
    ("unknown-op", [{"op": "frob", "path": "/a"}]),
    ("missing-op", [{"path": "/a"}]),
    ("missing-value", [{"op": "add", "path": "/a"}]),
    ("path-without-slash", [{"op": "add", "path": "a", "value": 1}]),
    ("path-not-string", [{"op": "add", "path": 5, "value": 1}]),
    ("null-operation", [None]),
    ("move-missing-from", [{"op": "move", "from": "/nope", "path": "/x"}]),
]


@pytest.mark.parametrize(
    "ops", [c[1] for c in JSON_PATCH_REJECTED], ids=[c[0] for c in JSON_PATCH_REJECTED]
)
def test_json_patch_failures_are_rejected(ops: Any) -> None:
    original = pod()
    with pytest.raises(StatusError) as info:
        apply_patch(original, json.dumps(ops).encode(), JSON_PATCH, builtin=True)
    err = info.value
    assert (err.code, err.reason, err.message, err.details) == (422, "Invalid", REJECTED, {})
    assert original == pod()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"op": "add"}, "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
        ("x", "json: cannot unmarshal string into Go value of type jsonpatch.Patch"),
        ([1], "json: cannot unmarshal number into Go value of type jsonpatch.Operation"),
        ([["a"]], "json: cannot unmarshal array into Go value of type jsonpatch.Operation"),
    ],
    ids=["object", "string", "number-op", "array-op"],
)
def test_json_patch_wrong_shape_is_bad_request(body: Any, message: str) -> None:
    with pytest.raises(StatusError) as info:
        run(body, JSON_PATCH)
    assert (info.value.code, info.value.reason, info.value.message) == (400, "BadRequest", message)


def test_json_patch_replacing_root_with_scalar_is_invalid() -> None:
    with pytest.raises(StatusError) as info:
        run([{"op": "replace", "path": "", "value": 5}], JSON_PATCH)
    assert (info.value.code, info.value.reason) == (422, "Invalid")


# ------------------------------------------------------------------------------- merge patch

MERGE_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    (
        "null-deletes",
        {"metadata": {"labels": {"tier": None}}},
        {"app": "web"},
    ),
    (
        "objects-merge",
        {"metadata": {"labels": {"new": "1"}}},
        {"app": "web", "tier": "fe", "new": "1"},
    ),
    (
        "null-for-missing-key-is-noop",
        {"metadata": {"labels": {"nope": None}}},
        {"app": "web", "tier": "fe"},
    ),
]


@pytest.mark.parametrize(
    ("patch", "labels"), [c[1:] for c in MERGE_CASES], ids=[c[0] for c in MERGE_CASES]
)
def test_merge_patch_labels(patch: Any, labels: dict[str, str]) -> None:
    assert run(patch, MERGE_PATCH)["metadata"]["labels"] == labels


def test_merge_patch_lists_replace() -> None:
    out = run({"spec": {"containers": [{"name": "only"}]}}, MERGE_PATCH)
    assert containers(out) == [{"name": "only"}]


def test_merge_patch_null_deletes_whole_subtree() -> None:
    out = run({"metadata": {"labels": None}, "status": None}, MERGE_PATCH)
    assert "labels" not in out["metadata"]
    assert "status" not in out


def test_merge_patch_new_object_has_nulls_pruned() -> None:
    out = run({"spec": {"new": {"a": None, "b": {"c": None, "d": 1}}}}, MERGE_PATCH)
    assert out["spec"]["new"] == {"b": {"d": 1}}


def test_merge_patch_scalar_replaced_by_object() -> None:
    out = run({"status": {"phase": {"x": None, "y": 1}}}, MERGE_PATCH)
    assert out["status"]["phase"] == {"y": 1}


def test_merge_patch_on_custom_resource() -> None:
    cr = {"apiVersion": "x.io/v1", "kind": "Vip", "metadata": {"name": "v"}, "spec": {"ips": [1]}}
    out = run({"spec": {"ips": [2, 3]}}, MERGE_PATCH, builtin=False, obj=cr)
    assert out["spec"] == {"ips": [2, 3]}


@pytest.mark.parametrize(
    ("body", "code", "reason", "message"),
    [
        (None, 400, "BadRequest", "Invalid JSON Patch"),
        ("x", 400, "BadRequest", "Invalid JSON Patch"),
        (5, 400, "BadRequest", "Invalid JSON Patch"),
        ([1], 422, "Invalid", None),
    ],
    ids=["null", "string", "number", "array"],
)
def test_merge_patch_non_object(body: Any, code: int, reason: str, message: str | None) -> None:
    with pytest.raises(StatusError) as info:
        run(body, MERGE_PATCH)
    assert (info.value.code, info.value.reason) == (code, reason)
    if message is not None:
        assert info.value.message == message


# -------------------------------------------------------------------- strategic merge patch


def test_smp_containers_by_name_changes_only_the_named_one() -> None:
    out = run(
        {"spec": {"containers": [{"name": "side", "args": ["--x", "--y"]}]}}, STRATEGIC_MERGE_PATCH
    )
    assert containers(out)[0] == pod()["spec"]["containers"][0]
    side = containers(out)[1]
    assert side["args"] == ["--x", "--y"]
    assert side["image"] == "envoy"
    assert side["env"] == pod()["spec"]["containers"][1]["env"]


def test_smp_delete_directive_removes_element() -> None:
    out = run(
        {"spec": {"containers": [{"$patch": "delete", "name": "main"}]}}, STRATEGIC_MERGE_PATCH
    )
    assert [c["name"] for c in containers(out)] == ["side"]


def test_smp_delete_directive_for_absent_element_is_noop() -> None:
    out = run(
        {"spec": {"containers": [{"$patch": "delete", "name": "nope"}]}}, STRATEGIC_MERGE_PATCH
    )
    assert containers(out) == pod()["spec"]["containers"]


def test_smp_null_deletes() -> None:
    out = run({"metadata": {"labels": {"tier": None}}, "status": None}, STRATEGIC_MERGE_PATCH)
    assert out["metadata"]["labels"] == {"app": "web"}
    assert "status" not in out


SMP_LIST_CASES: list[tuple[str, dict[str, Any], list[Any], Any]] = [
    (
        "env-merged-by-name",
        {"spec": {"containers": [{"name": "side", "env": [{"name": "E2", "value": "two"}]}]}},
        ["spec", "containers", 1, "env"],
        [{"name": "E1", "value": "1"}, {"name": "E2", "value": "two"}],
    ),
    (
        "ports-merged-by-container-port",
        {
            "spec": {
                "containers": [
                    {"name": "side", "ports": [{"containerPort": 80, "protocol": "TCP"}]}
                ]
            }
        },
        ["spec", "containers", 1, "ports"],
        [{"containerPort": 80, "name": "http", "protocol": "TCP"}],
    ),
    (
        "args-replaced",
        {"spec": {"containers": [{"name": "main", "args": ["--z"]}]}},
        ["spec", "containers", 0, "args"],
        ["--z"],
    ),
    (
        "tolerations-replaced",
        {"spec": {"tolerations": [{"key": "k2", "operator": "Exists"}]}},
        ["spec", "tolerations"],
        [{"key": "k2", "operator": "Exists"}],
    ),
    (
        "finalizers-set-union-existing",
        {"metadata": {"finalizers": ["a.io/y"]}},
        ["metadata", "finalizers"],
        ["a.io/x", "a.io/y"],
    ),
    (
        "delete-from-primitive-list",
        {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x", "nope"]}},
        ["metadata", "finalizers"],
        ["a.io/y"],
    ),
    (
        "set-element-order-appends-new-container",
        {
            "spec": {
                "$setElementOrder/containers": [
                    {"name": "main"},
                    {"name": "side"},
                    {"name": "new"},
                ],
                "containers": [{"name": "new", "image": "busybox"}],
            }
        },
        ["spec", "containers"],
        [
            pod()["spec"]["containers"][0],
            pod()["spec"]["containers"][1],
            {"name": "new", "image": "busybox"},
        ],
    ),
    (
        "set-element-order-reorders",
        {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "main"}]}},
        ["spec", "containers"],
        [pod()["spec"]["containers"][1], pod()["spec"]["containers"][0]],
    ),
    (
        "list-replace-directive",
        {"spec": {"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]}},
        ["spec", "containers"],
        [{"name": "solo", "image": "x"}],
    ),
    (
        "map-replace-directive",
        {"metadata": {"labels": {"$patch": "replace", "only": "1"}}},
        ["metadata", "labels"],
        {"only": "1"},
    ),
    (
        "map-delete-directive",
        {"metadata": {"labels": {"$patch": "delete"}}},
        ["metadata", "labels"],
        {},
    ),
    (
        "retain-keys",
        {
            "spec": {
                "containers": [{"name": "main", "$retainKeys": ["name", "image"], "image": "n2"}]
            }
        },
        ["spec", "containers", 0],
        {"name": "main", "image": "n2"},
    ),
    (
        "new-value-nulls-discarded",
        {"metadata": {"annotations": {"a": "1", "b": None}}},
        ["metadata", "annotations"],
        {"a": "1"},
    ),
    (
        "null-for-missing-label-creates-empty-map",
        {"spec": {"nodeSelector": {"a": None}}},
        ["spec", "nodeSelector"],
        {},
    ),
]


@pytest.mark.parametrize(
    ("patch", "path", "expected"),
    [c[1:] for c in SMP_LIST_CASES],
    ids=[c[0] for c in SMP_LIST_CASES],
)
def test_smp_lists_and_directives(patch: dict[str, Any], path: list[Any], expected: Any) -> None:
    assert _dig(run(patch, STRATEGIC_MERGE_PATCH), path) == expected


def test_smp_new_item_without_set_element_order_goes_first() -> None:
    """Go's mergeSlice puts items unknown to the live list in front of it."""
    out = run({"metadata": {"finalizers": ["b.io/z"]}}, STRATEGIC_MERGE_PATCH)
    assert out["metadata"]["finalizers"] == ["b.io/z", "a.io/x", "a.io/y"]
    out = run({"spec": {"containers": [{"name": "new"}]}}, STRATEGIC_MERGE_PATCH)
    assert [c["name"] for c in containers(out)] == ["new", "main", "side"]


def test_smp_new_element_has_directives_and_nulls_removed() -> None:
    patch = {
        "spec": {
            "containers": [{"name": "c", "image": None, "env": [{"$patch": "delete", "name": "X"}]}]
        }
    }
    out = run(patch, STRATEGIC_MERGE_PATCH)
    assert containers(out)[0] == {"name": "c", "env": []}


def test_smp_service_ports_merge_by_port() -> None:
    svc = {"spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}}
    out = run(
        {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}, STRATEGIC_MERGE_PATCH, obj=svc
    )
    assert out["spec"]["ports"] == [
        {"port": 80, "name": "http"},
        {"port": 443, "name": "https", "targetPort": 8443},
    ]


def test_smp_pod_ips_and_conditions_merge_by_key() -> None:
    obj = {
        "status": {
            "podIPs": [{"ip": "10.0.0.1"}],
            "conditions": [{"type": "Ready", "status": "False"}],
        }
    }
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    out = run(patch, STRATEGIC_MERGE_PATCH, obj=obj)
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    assert out["status"]["podIPs"] == [{"ip": "10.0.0.1"}]


def test_smp_list_of_lists_is_rejected() -> None:
    obj: dict[str, Any] = {"metadata": {"finalizers": []}}
    with pytest.raises(StatusError) as info:
        run({"metadata": {"finalizers": [["a"]]}}, STRATEGIC_MERGE_PATCH, obj=obj)
    err = info.value
    assert (err.code, err.reason, err.message, err.details) == (422, "Invalid", REJECTED, {})


def test_smp_top_level_null_body_is_noop() -> None:
    assert run(None, STRATEGIC_MERGE_PATCH) == pod()


SMP_ERRORS: list[tuple[str, Any, int, str, str]] = [
    (
        "not-an-object",
        [1],
        400,
        "BadRequest",
        "json: cannot unmarshal array into Go value of type map[string]interface {}",
    ),
    (
        "missing-merge-key",
        {"spec": {"containers": [{"image": "x"}]}},
        500,
        "",
        "map: map[image:x] does not contain declared merge key: name",
    ),
    (
        "retain-keys-not-a-list",
        {"metadata": {"$retainKeys": "name"}},
        400,
        "BadRequest",
        "invalid patch format of retainKeys",
    ),
    (
        "retain-keys-missing-patched-key",
        {"metadata": {"$retainKeys": ["name"], "labels": {"a": "1"}}},
        400,
        "BadRequest",
        "invalid patch format of retainKeys",
    ),
    (
        "delete-list-without-slash",
        {"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}},
        400,
        "BadRequest",
        "invalid patch format of primitive list",
    ),
    (
        "set-order-without-slash",
        {"spec": {"$setElementOrdercontainers": []}},
        400,
        "BadRequest",
        "invalid patch format of setElementOrder list",
    ),
    (
        "unknown-map-directive",
        {"metadata": {"$patch": "frob"}},
        500,
        "",
        "unknown patch type: frob in map: map[$patch:frob]",
    ),
    (
        "merge-directive-in-list",
        {"spec": {"containers": [{"$patch": "merge"}]}},
        500,
        "",
        "merging lists cannot yet be specified in the patch",
    ),
    (
        "mixed-element-types",
        {"metadata": {"finalizers": [1]}},
        500,
        "",
        "list element types are not identical: [[a.io/x a.io/y] [1]]",
    ),
]


@pytest.mark.parametrize(
    ("patch", "code", "reason", "message"),
    [c[1:] for c in SMP_ERRORS],
    ids=[c[0] for c in SMP_ERRORS],
)
def test_smp_errors(patch: Any, code: int, reason: str, message: str) -> None:
    with pytest.raises(StatusError) as info:
        run(patch, STRATEGIC_MERGE_PATCH)
    assert (info.value.code, info.value.reason, info.value.message) == (code, reason, message)


# ----------------------------------------------------------------------------- non-mutation

NON_MUTATION_CASES: list[tuple[str, str, Any]] = [
    ("json", JSON_PATCH, [{"op": "add", "path": "/spec/containers/0/args/-", "value": "x"}]),
    ("merge", MERGE_PATCH, {"metadata": {"labels": {"app": None, "n": "1"}}, "spec": {"x": 1}}),
    (
        "strategic",
        STRATEGIC_MERGE_PATCH,
        {
            "metadata": {
                "$deleteFromPrimitiveList/finalizers": ["a.io/x"],
                "labels": {"app": None},
            },
            "spec": {"containers": [{"name": "side", "env": [{"name": "E1", "value": "x"}]}]},
        },
    ),
    ("strategic-retain", STRATEGIC_MERGE_PATCH, {"metadata": {"$retainKeys": ["name"]}}),
]


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [c[1:] for c in NON_MUTATION_CASES],
    ids=[c[0] for c in NON_MUTATION_CASES],
)
def test_input_is_never_mutated(content_type: str, patch: Any) -> None:
    original = pod()
    snapshot = copy.deepcopy(original)
    out = apply_patch(original, json.dumps(patch).encode(), content_type, builtin=True)
    assert original == snapshot
    assert out != original
    out["metadata"]["name"] = "changed"
    out["spec"]["containers"][0]["image"] = "changed"
    assert original == snapshot
