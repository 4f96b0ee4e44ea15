"""Just enough of Kubernetes' protobuf encoding to read what kubectl's typed clients send.

kubectl posts some built-in objects as `application/vnd.kubernetes.protobuf` (notably the
SelfSubjectAccessReview behind `kubectl auth can-i`). The sandbox decodes that one kind; other
protobuf bodies get 415, a clean failure instead of a garbled one. Answers are always JSON, which
every client also accepts.
"""

from __future__ import annotations

from typing import Any

from . import apierrors

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

Fields = dict[int, list[Any]]


def _varint(data: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def fields(data: bytes) -> Fields:
    """Protobuf wire format → field number → values (ints, or bytes for length-delimited)."""
    out: Fields = {}
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            n, i = _varint(data, i)
            if i + n > len(data):
                raise ValueError("truncated field")
            value, i = data[i : i + n], i + n
        elif wire == 1:
            value, i = data[i : i + 8], i + 8
        elif wire == 5:
            value, i = data[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def _str(f: Fields, n: int) -> str:
    v = f.get(n)
    return bytes(v[-1]).decode() if v else ""


def _msg(f: Fields, n: int) -> Fields:
    v = f.get(n)
    return fields(bytes(v[-1])) if v else {}


def decode_access_review(body: bytes) -> dict[str, Any]:
    """A protobuf SelfSubjectAccessReview as the JSON object it stands for."""
    try:
        if not body.startswith(_MAGIC):
            raise ValueError("missing the k8s protobuf prefix")
        unknown = fields(body[len(_MAGIC) :])
        type_meta = _msg(unknown, 1)
        kind = _str(type_meta, 2)
        if kind != "SelfSubjectAccessReview":
            raise apierrors.unsupported_media_type(["application/json", "application/yaml"])
        review = fields(bytes(unknown[2][-1])) if unknown.get(2) else {}
        spec = _msg(review, 2)
        out_spec: dict[str, Any] = {}
        res = _msg(spec, 1)
        if res:
            names = ("namespace", "verb", "group", "version", "resource", "subresource", "name")
            out_spec["resourceAttributes"] = {
                k: _str(res, i) for i, k in enumerate(names, 1) if _str(res, i)
            }
        non = _msg(spec, 2)
        if non:
            out_spec["nonResourceAttributes"] = {"path": _str(non, 1), "verb": _str(non, 2)}
    except (ValueError, IndexError, UnicodeDecodeError) as e:
        raise apierrors.bad_request(f"error decoding request body: {e}") from None
    return {
        "kind": kind,
        "apiVersion": _str(type_meta, 1) or "authorization.k8s.io/v1",
        "metadata": {},
        "spec": out_spec,
    }
