"""PATCH bodies applied the way kube-apiserver applies them.

* JSON patch (RFC 6902) goes through the `jsonpatch` package; any failure while applying it is
  apiserver's 422 "the server rejected our request due to an error in our request".
* JSON merge patch (RFC 7386) follows evanphx/json-patch's MergePatch, which apiserver uses
  (nulls inside newly added objects are pruned, too).
* Strategic merge patch is a port of k8s.io/apimachinery pkg/util/strategicpatch's mergeMap with
  the patch metadata of the built-in types reduced to a table of list fields (`_list_meta`). It
  supports `$patch` (replace/delete, in maps and list elements), `$retainKeys`,
  `$deleteFromPrimitiveList/<field>` and `$setElementOrder/<field>` (reordering as Go does).
  Like Go, an element added to a merged list without `$setElementOrder` lands *before* the
  existing ones (kubectl sends `$setElementOrder` when it cares about order).
* Server-side apply (`application/apply-patch+yaml`) is not implemented by the sandbox: it is
  answered with 415 like any unknown content type, so clients see a clean, well-formed failure.

Failures are `StatusError`s with apiserver's codes and texts. Errors that apiserver does not
wrap in a Status (plain Go errors from strategicpatch) become a 500 with an empty reason, which is
what apiserver writes for them.
"""

from __future__ import annotations

import json
from typing import Any

import jsonpatch

from kubectl_vip.sandbox.apierrors import (
    StatusError,
    bad_request,
    patch_rejected,
    unsupported_media_type,
)

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "accepted_patch_types",
    "apply_patch",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

_BUILTIN_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)
_CUSTOM_TYPES = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)


def accepted_patch_types(builtin: bool) -> list[str]:
    """The media types apiserver lists in its 415 answer for this kind of resource."""
    return list(_BUILTIN_TYPES if builtin else _CUSTOM_TYPES)


def apply_patch(
    obj: dict[str, Any], body: bytes, content_type: str, *, builtin: bool
) -> dict[str, Any]:
    """Return a new object: `obj` patched with `body`. `obj` itself is never modified."""
    media_type = content_type
    idx = media_type.find(";")
    if idx > 0:  # apiserver drops "; charset=..." the same way
        media_type = media_type[:idx]
    media_type = media_type.strip()
    accepted = accepted_patch_types(builtin)
    if media_type not in accepted or media_type == APPLY_PATCH:
        raise unsupported_media_type(accepted)
    patch = _decode_json(body)
    if media_type == JSON_PATCH:
        result = _apply_json_patch(obj, patch)
    elif media_type == MERGE_PATCH:
        result = _apply_merge_patch(obj, patch)
    else:
        result = _apply_strategic_merge_patch(obj, patch)
    if not isinstance(result, dict):
        raise _not_an_object(result)
    return result


# ------------------------------------------------------------------------------------ helpers

_MISSING = object()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def _decode_json(body: bytes) -> Any:
    """apiserver checks json.Valid first: any syntax error is 400 `invalid JSON patch`."""
    try:
        return json.loads(body.decode("utf-8", "replace"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise bad_request("invalid JSON patch") from None


def _copy(v: Any) -> Any:
    """Deep copy of a JSON value (much faster than copy.deepcopy)."""
    if isinstance(v, dict):
        return {k: _copy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def _json_kind(v: Any) -> str:
    """The JSON type name encoding/json uses in `cannot unmarshal <kind> into ...`."""
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    return "number"


def _go_fmt(v: Any) -> str:
    """Go's `%v` for a decoded JSON value."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{_go_fmt(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(_go_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e21:
            return str(int(v))
        return repr(v).replace("e+0", "e+").replace("e-0", "e-")
    return str(v)


def _go_type(v: Any) -> str:
    """reflect.TypeOf(v).String() for a decoded JSON value (ints preserved as int64)."""
    if v is None:
        return "%!s(<nil>)"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int64"
    return "float64"


def _go_eq(a: Any, b: Any) -> bool:
    """Go interface equality for scalars: same dynamic type and value."""
    return _go_type(a) == _go_type(b) and a == b


def _plain_error(message: str) -> StatusError:
    """A non-Status Go error surfacing from the patch code: apiserver writes a 500, no reason."""
    return StatusError(500, "", message)


def _not_an_object(result: Any) -> StatusError:
    """The patched document does not decode into an object (approximation of apiserver's text)."""
    kind = _json_kind(result)
    detail = f"json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
    value = json.dumps(result, separators=(",", ":"))
    body = f"Invalid value: {json.dumps(value)}: {detail}"
    return StatusError(
        422,
        "Invalid",
        f' "" is invalid: patch: {body}',
        {"causes": [{"reason": "FieldValueInvalid", "message": body, "field": "patch"}]},
    )


# --------------------------------------------------------------------------------- JSON patch

_JSONPATCH_ERRORS = (
    jsonpatch.JsonPatchException,
    jsonpatch.JsonPointerException,
    TypeError,
    KeyError,
    IndexError,
    ValueError,
    AttributeError,
    RecursionError,
)


def _apply_json_patch(obj: dict[str, Any], patch: Any) -> Any:
    if patch is None:  # unmarshals to an empty patch
        return _copy(obj)
    if not isinstance(patch, list):
        raise bad_request(
            f"json: cannot unmarshal {_json_kind(patch)} into Go value of type jsonpatch.Patch"
        )
    for op in patch:
        if op is not None and not isinstance(op, dict):
            raise bad_request(
                f"json: cannot unmarshal {_json_kind(op)} into Go value of type jsonpatch.Operation"
            )
    if any(op is None for op in patch):
        raise patch_rejected()
    try:
        return jsonpatch.JsonPatch(patch).apply(_copy(obj), in_place=True)
    except _JSONPATCH_ERRORS:
        raise patch_rejected() from None


# -------------------------------------------------------------------------------- merge patch


def _prune_nulls(v: Any) -> Any:
    """evanphx pruneNulls: drop null members of objects, recursively (arrays keep nulls)."""
    if isinstance(v, dict):
        for k in [k for k, x in v.items() if x is None]:
            del v[k]
        for x in v.values():
            _prune_nulls(x)
    elif isinstance(v, list):
        for x in v:
            _prune_nulls(x)
    return v


def _merge_docs(doc: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if v is None:
            doc.pop(k, None)
            continue
        cur = doc.get(k)
        if cur is None or not isinstance(cur, dict):
            doc[k] = _prune_nulls(v)
        elif isinstance(v, dict):
            _merge_docs(cur, v)
        else:
            doc[k] = v


def _apply_merge_patch(obj: dict[str, Any], patch: Any) -> Any:
    if isinstance(patch, dict):
        doc = _copy(obj)
        _merge_docs(doc, patch)
        return doc
    if isinstance(patch, list):  # evanphx returns the array itself, which is not an object
        return _prune_nulls(patch)
    raise bad_request("Invalid JSON Patch")


# ---------------------------------------------------------------------- strategic merge patch

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
_SET_ELEMENT_ORDER = "$setElementOrder"

ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"

_CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})

# patchMergeKey of list fields with patchStrategy "merge" in the built-in types, by field name.
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
    "conditions": "type",
    "hostAliases": "ip",
    "podIPs": "ip",
    "hostIPs": "ip",
    "topologySpreadConstraints": "topologyKey",
    "schedulingGates": "name",
    "resourceClaims": "name",
    "webhooks": "name",
}
# List fields with patchStrategy "merge" and no key: primitive lists merged as ordered sets.
_PRIMITIVE_MERGE_LISTS = frozenset({"finalizers"})


def _list_meta(field: str, parent: str) -> tuple[bool, str]:
    """(merge?, merge key) of list `field` inside the map held by `parent` (its field name)."""
    if field == "ports":
        if parent in _CONTAINER_LISTS:
            return True, "containerPort"  # Container.Ports
        if parent == "spec":
            return True, "port"  # ServiceSpec.Ports
        return False, ""
    if field == "addresses":
        return (True, "type") if parent == "status" else (False, "")  # NodeStatus.Addresses
    key = _MERGE_KEYS.get(field)
    if key is not None:
        return True, key
    return (field in _PRIMITIVE_MERGE_LISTS), ""


def _apply_strategic_merge_patch(obj: dict[str, Any], patch: Any) -> Any:
    if patch is None:  # unmarshals into an empty map: nothing to do
        return _copy(obj)
    if not isinstance(patch, dict):
        raise bad_request(
            f"json: cannot unmarshal {_json_kind(patch)} into Go value of type "
            "map[string]interface {}"
        )
    try:
        return _merge_map(_copy(obj), patch, "")
    except RecursionError:
        raise bad_request("invalid JSON patch") from None


def _extract_key(key: str, prefix: str, error: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        raise bad_request(error)
    return rest


def _is_directive_key(k: str) -> bool:
    return (
        k == _RETAIN_KEYS
        or k.startswith(_SET_ELEMENT_ORDER)
        or k.startswith(_DELETE_FROM_PRIMITIVE_LIST)
    )


def _remove_directives(v: Any) -> tuple[Any, bool]:
    """removeDirectives: maps carrying `$patch` disappear. Unlike Go, the other directive keys
    are dropped as well (Go leaves them to the typed decoding, which discards them)."""
    if isinstance(v, dict):
        if _DIRECTIVE in v:
            return None, False
        for k in list(v):
            if _is_directive_key(k):
                del v[k]
                continue
            nv, keep = _remove_directives(v[k])
            if keep:
                v[k] = nv
            else:
                del v[k]
        return v, True
    if isinstance(v, list):
        out = []
        for x in v:
            nv, keep = _remove_directives(x)
            if keep:
                out.append(nv)
        return out, True
    return v, True


def _new_value(v: Any) -> tuple[Any, bool]:
    """A patch value taken as is (nothing to merge with): nulls discarded, directives removed."""
    _discard_nulls(v)
    return _remove_directives(v)


def _discard_nulls(v: Any) -> None:
    if isinstance(v, dict):
        for k in [k for k, x in v.items() if x is None]:
            del v[k]
        for x in v.values():
            _discard_nulls(x)
    elif isinstance(v, list):
        for x in v:
            _discard_nulls(x)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], parent: str) -> dict[str, Any]:
    if _DIRECTIVE in patch:
        directive = patch[_DIRECTIVE]
        if directive == "replace":
            del patch[_DIRECTIVE]
            replaced: dict[str, Any] = _new_value(patch)[0]
            return replaced
        if directive == "delete":
            return {}
        raise _plain_error(f"unknown patch type: {_go_fmt(directive)} in map: {_go_fmt(patch)}")

    _apply_retain_keys(original, patch)
    _merge_set_element_order(original, patch, parent)

    for key, pv in list(patch.items()):
        k, is_delete_list = key, False
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            k = _extract_key(
                key, _DELETE_FROM_PRIMITIVE_LIST, ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST
            )
            is_delete_list = True
        if pv is None:
            original.pop(k, None)
            continue
        ov = original.get(k, _MISSING)
        if ov is _MISSING or _go_type(ov) != _go_type(pv):
            if not is_delete_list:
                nv, keep = _new_value(pv)
                if keep:
                    original[k] = nv
                else:
                    original.pop(k, None)
            continue
        if isinstance(ov, dict):
            original[k] = _merge_map(ov, pv, k)
        elif isinstance(ov, list):
            original[k] = _merge_slice_handler(ov, pv, k, parent, is_delete_list)
        else:
            original[k] = pv
    return original


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    if not isinstance(retain, list):
        raise bad_request(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    keep = {k for k in retain if isinstance(k, str)}
    for k, v in patch.items():
        if (
            v is None
            or k.startswith(_DELETE_FROM_PRIMITIVE_LIST)
            or k.startswith(_SET_ELEMENT_ORDER)
        ):
            continue
        if k not in keep:
            raise bad_request(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS)
    for k in [k for k in original if k not in keep]:
        del original[k]


def _merge_slice_handler(
    original: list[Any], patch: list[Any], field: str, parent: str, is_delete_list: bool
) -> list[Any]:
    merge, merge_key = _list_meta(field, parent)
    if merge or is_delete_list:
        return _merge_slice(original, patch, field, merge_key, is_delete_list)
    return patch


def _element_kind(*lists: list[Any]) -> str:
    """sliceElementType: all elements of all lists must share one Go type."""
    prev = ""
    for lst in lists:
        for v in lst:
            cur = _go_type(v)
            if v is None:
                raise _plain_error("list element types are not identical: " + _go_fmt(list(lists)))
            if not prev:
                prev = cur
                if isinstance(v, list):
                    # ErrNoListOfLists becomes a generic 422 whose text is dropped.
                    raise patch_rejected()
            elif cur != prev:
                raise _plain_error("list element types are not identical: " + _go_fmt(list(lists)))
    if not prev:
        raise _plain_error("no elements in any of the given slices")
    return "map" if prev.startswith("map") else prev


def _no_merge_key(m: Any, key: str) -> StatusError:
    return _plain_error(f"map: {_go_fmt(m)} does not contain declared merge key: {key}")


def _find_by_key(items: list[Any], key: str, value: Any) -> int:
    """findMapInSliceBasedOnKeyValue: index of the map whose `key` equals `value`, else -1."""
    for i, v in enumerate(items):
        if not isinstance(v, dict):
            raise _plain_error(f"value for key {i} is not a map")
        if key in v and _go_eq(v[key], value):
            return i
    return -1


def _merge_slice(
    original: list[Any], patch: list[Any], field: str, merge_key: str, is_delete_list: bool
) -> list[Any]:
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    if kind != "map":
        if is_delete_list:
            drop = {(_go_type(v), v) for v in patch}
            return [v for v in original if (_go_type(v), v) not in drop]
        merged: list[Any] = []
        seen: set[tuple[str, Any]] = set()
        for v in original + patch:
            if (_go_type(v), v) not in seen:
                seen.add((_go_type(v), v))
                merged.append(v)
    else:
        if not merge_key:
            raise _plain_error(f"cannot merge lists without merge key for {field}")
        original, patch = _merge_special_elements(original, patch, merge_key)
        merged = list(original)
        for pv in patch:
            if merge_key not in pv:
                raise _no_merge_key(pv, merge_key)
            i = _find_by_key(merged, merge_key, pv[merge_key])
            if i >= 0:
                merged[i] = _merge_map(merged[i], pv, field)
            else:
                nv, _ = _new_value(pv)
                merged.append(nv)
    if not merge_key:
        patch_items, server_only = _partition_primitives(merged, patch)
    else:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    return _normalize_element_order(patch_items, server_only, patch, original, merge_key, kind)


def _merge_special_elements(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """mergeSliceWithSpecialElements: apply `$patch: delete` / `$patch: replace` elements."""
    plain: list[Any] = []
    replace = False
    for v in patch:
        if _DIRECTIVE not in v:
            plain.append(v)
            continue
        directive = v[_DIRECTIVE]
        if directive == "delete":
            if merge_key not in v:
                raise _no_merge_key(v, merge_key)
            value = v[merge_key]
            original = [
                o
                for o in original
                if not (isinstance(o, dict) and merge_key in o and _go_eq(o[merge_key], value))
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise _plain_error("merging lists cannot yet be specified in the patch")
        else:
            raise _plain_error(f"unknown patch type: {_go_fmt(directive)} in map: {_go_fmt(v)}")
    if replace:
        return plain, []
    return original, plain


def _partition_primitives(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    present = {(_go_type(v), v) for v in by if not isinstance(v, (dict, list))}
    inside: list[Any] = []
    outside: list[Any] = []
    for v in items:
        hashable = not isinstance(v, (dict, list))
        (inside if hashable and (_go_type(v), v) in present else outside).append(v)
    return inside, outside


def _partition_maps(items: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for v in items:
        if not isinstance(v, dict):
            raise _plain_error(
                f"expected a map[string]interface {{}}, but received a {_go_type(v)}"
            )
        if merge_key not in v:
            raise _no_merge_key(v, merge_key)
        (inside if _find_by_key(by, merge_key, v[merge_key]) >= 0 else outside).append(v)
    return inside, outside


def _order_value(item: Any, merge_key: str, kind: str) -> Any:
    if kind == "map":
        return item.get(merge_key) if isinstance(item, dict) else None
    return item


def _index(order: list[Any], item: Any, merge_key: str, kind: str) -> int:
    want = _order_value(item, merge_key, kind)
    for i, v in enumerate(order):
        if _go_eq(_order_value(v, merge_key, kind), want):
            return i
    return -1


def _normalize_slice_order(
    items: list[Any], order: list[Any], merge_key: str, kind: str
) -> list[Any]:
    deleted: list[Any] = []
    if kind == "map":
        for lst in (items, order):
            for v in lst:
                if not isinstance(v, dict):
                    raise _plain_error(
                        f"expected a map[string]interface {{}}, but received a {_go_type(v)}"
                    )
                if merge_key not in v:
                    raise _no_merge_key(v, merge_key)
        deleted = [v for v in items if v.get(_DIRECTIVE) == "delete"]
        items = [v for v in items if v.get(_DIRECTIVE) != "delete"]
    # Go sorts with a comparator that is only consistent when every item is in `order`, which is
    # always the case on these paths; items that are not are kept last, in their current order.
    end = len(order)

    def position(v: Any) -> int:
        i = _index(order, v, merge_key, kind)
        return i if i >= 0 else end

    return sorted(items, key=position) + deleted


def _normalize_element_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    kind: str,
) -> list[Any]:
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def _merge_sorted(
    left: list[Any], right: list[Any], server_order: list[Any], merge_key: str, kind: str
) -> list[Any]:
    """mergeSortedSlice: interleave server-only items (left) into patch items (right)."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _merge_set_element_order(original: dict[str, Any], patch: dict[str, Any], parent: str) -> None:
    """mergePatchIntoOriginal: merge each `$setElementOrder/<field>` list with its field and
    order the result: `$setElementOrder` first, then the patch, then the live object."""
    for key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise _plain_error(f"expected a []interface {{}}, but received a {_go_type(order)}")
        field = _extract_key(key, _SET_ELEMENT_ORDER, ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER)
        in_original, in_patch = field in original, field in patch
        original_list: list[Any] = []
        patch_list: list[Any] = []
        if in_original:
            if not isinstance(original[field], list):
                raise _plain_error(
                    f"expected a []interface {{}}, but received a {_go_type(original[field])}"
                )
            original_list = original[field]
        if in_patch:
            if not isinstance(patch[field], list):
                raise _plain_error(
                    f"expected a []interface {{}}, but received a {_go_type(patch[field])}"
                )
            patch_list = patch[field]
        _, merge_key = _list_meta(field, parent)
        _validate_set_order(patch_list, order, merge_key)
        if in_original and not in_patch:
            merged = original_list
        elif in_patch and not in_original:
            merged, _ = _new_value(patch_list)
        elif in_original and in_patch:
            merged = _merge_slice_handler(
                original_list, patch_list, field, parent, is_delete_list=False
            )
        else:
            continue
        if not merge_key:
            patch_items, server_only = _partition_primitives(merged, order)
        else:
            patch_items, server_only = _partition_maps(merged, order, merge_key)
        kind = _element_kind(original_list, patch_list)
        original[field] = _normalize_element_order(
            patch_items, server_only, order, original_list, merge_key, kind
        )
        patch.pop(field, None)


def _validate_set_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """validatePatchWithSetOrderList: patch items must appear in `order`, in the same order."""
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key:
        for v in patch_list:
            if not isinstance(v, dict):
                raise _plain_error(
                    f"expected a map[string]interface {{}}, but received a {_go_type(v)}"
                )
        items = [v for v in patch_list if v.get(_DIRECTIVE) != "delete"]
    pi = si = 0
    while pi < len(items) and si < len(order):
        item = items[pi]
        if isinstance(item, dict) and _DIRECTIVE in item:
            pi += 1
            continue
        if _merge_key_equal(item, order[si], merge_key):
            pi += 1
        si += 1
    if pi < len(items) and si >= len(order):
        raise _plain_error(
            f"The order in patch list:\n{_go_fmt(patch_list)}\n doesn't match "
            f"{_SET_ELEMENT_ORDER} list:\n{_go_fmt(order)}\n"
        )


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_eq(left, right)
    for v in (left, right):
        if not isinstance(v, dict):
            raise _plain_error(
                f"expected a map[string]interface {{}}, but received a {_go_type(v)}"
            )
        if merge_key not in v:
            raise _no_merge_key(v, merge_key)
    return _go_eq(left[merge_key], right[merge_key])
