"""Kubernetes' protobuf request bodies, read into the JSON the same object has.

kubectl's typed commands (`create deployment`, `create ns`, `run`, `auth can-i`, `drain`, ...)
send built-in objects as `application/vnd.kubernetes.protobuf`: the magic `k8s\\0`, then a
`runtime.Unknown` envelope (`typeMeta{apiVersion, kind}`, `raw`), `raw` being the object's own
message. The field numbers, JSON names and Go JSON rules (omitempty, omitzero, inline, pointers)
of every kind we read are in `prototable`, generated from upstream sources by `protogen`. The
result is what Go's encoding/json writes for that object, so a protobuf create stores exactly what
`kubectl create -f` of the JSON manifest stores. Kinds not in the table get 415 naming the kind.
Answers are always JSON, which every client also accepts.
"""

from __future__ import annotations

import base64
import json
import struct
from datetime import datetime, timezone
from typing import Any

from . import apierrors, prototable

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"
_META = "apimachinery.pkg.apis.meta.v1."

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
    """Protobuf wire format → field number → values (ints, or bytes for length-delimited and
    fixed-width fields)."""
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
        if i > len(data):
            raise ValueError("truncated field")
        out.setdefault(number, []).append(value)
    return out


def _str(f: Fields, n: int) -> str:
    v = f.get(n)
    return bytes(v[-1]).decode() if v else ""


def _int(f: Fields, n: int) -> int:
    v = f.get(n)
    return _signed(v[-1]) if v else 0


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


# ---------------------------------------------------------------- scalars and special messages


def _scalar(type_: str, raw: Any) -> Any:
    if type_ == "string":
        return bytes(raw).decode()
    if type_ == "bytes":
        return base64.b64encode(bytes(raw)).decode()
    if type_ == "bool":
        return bool(raw)
    if type_ in ("int32", "int64"):
        return _signed(raw)
    if type_ == "double":
        return struct.unpack("<d", raw)[0]
    if type_ == "float":
        return struct.unpack("<f", raw)[0]
    return int(raw)


SCALARS = frozenset(
    {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float"}
)
_ZERO = {"string": "", "bool": False, "bytes": None, "double": 0.0, "float": 0.0}


def _time(data: bytes, micro: bool) -> str | None:
    f = fields(data)
    if not f:
        return None  # the zero time, which JSON writes as null
    seconds, nanos = _int(f, 1), _int(f, 2)
    t = datetime.fromtimestamp(seconds, timezone.utc)
    if not micro:
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos // 1000:06d}Z"


def _duration(ns: int) -> str:
    """Go's time.Duration.String for the values an API object carries."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return f"{sign}{_trim(ns / size)}{unit}"
    h, rest = divmod(ns, 3_600_000_000_000)
    m, rest = divmod(rest, 60_000_000_000)
    s = _trim(rest / 1e9)
    if h:
        return f"{sign}{h}h{m}m{s}s"
    if m:
        return f"{sign}{m}m{s}s"
    return f"{sign}{s}s"


def _trim(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")
    return text or "0"


def _special(name: str, data: bytes) -> tuple[bool, Any]:
    """(handled, JSON value) for the messages whose JSON is not their field list."""
    if name == _META + "Time":
        return True, _time(data, micro=False)
    if name == _META + "MicroTime":
        return True, _time(data, micro=True)
    if name == _META + "Duration":
        return True, _duration(_int(fields(data), 1))
    if name == _META + "FieldsV1":
        raw = fields(data).get(1)
        return True, json.loads(bytes(raw[-1])) if raw else None
    if name == "apimachinery.pkg.api.resource.Quantity":
        return True, _str(fields(data), 1) or "0"
    if name == "apimachinery.pkg.util.intstr.IntOrString":
        f = fields(data)
        return True, _str(f, 3) if _int(f, 1) == 1 else _int(f, 2)
    if name == "apimachinery.pkg.runtime.RawExtension":
        raw = fields(data).get(1)
        return True, json.loads(bytes(raw[-1])) if raw and raw[-1] else None
    return False, None


def _is_zero(v: Any) -> bool:
    if isinstance(v, dict):
        return all(_is_zero(x) for x in v.values())
    return v is None or v is False or v == "" or (type(v) in (int, float) and v == 0)


# ---------------------------------------------------------------- messages


def _value(type_: str, raw: Any) -> Any:
    """One value of a field: a scalar, or a message's JSON."""
    if type_.startswith("map:"):
        raise ValueError("a map is not a single value")
    if type_ in SCALARS:
        return _scalar(type_, raw)
    return message(type_, bytes(raw))


def _repeated(type_: str, values: list[Any]) -> list[Any]:
    if type_ in ("int32", "int64", "bool", "uint32", "uint64"):
        out: list[Any] = []
        for v in values:
            if isinstance(v, (bytes, bytearray, memoryview)):  # packed
                data, i = bytes(v), 0
                while i < len(data):
                    n, i = _varint(data, i)
                    out.append(_scalar(type_, n))
            else:
                out.append(_scalar(type_, v))
        return out
    return [_value(type_, v) for v in values]


def _map(type_: str, entries: list[Any]) -> dict[str, Any]:
    key_type, value_type = type_[4:].split(",")
    out: dict[str, Any] = {}
    for e in entries:
        f = fields(bytes(e))
        key = _scalar(key_type, f[1][-1]) if 1 in f else _ZERO.get(key_type, 0)
        if 2 in f:
            value = _value(value_type, f[2][-1])
        elif value_type in SCALARS:
            value = _ZERO.get(value_type, 0)
        else:
            value = message(value_type, b"")
        out[str(key)] = value
    return out


def message(name: str, data: bytes) -> Any:
    """A message's bytes → the JSON Go's encoding/json writes for the same Go value."""
    handled, special = _special(name, data)
    if handled:
        return special
    rows = prototable.MESSAGES.get(name)
    if rows is None:
        raise ValueError(f"no field table for {name}")
    f = fields(data)
    if rows and rows[0][3] == "L":  # a named slice: a plain JSON array
        number, _, type_, _ = rows[0]
        return _repeated(type_, f.get(number, []))
    out: dict[str, Any] = {}
    for number, json_name, type_, flags in rows:
        values = f.get(number)
        omit_empty, pointer = "o" in flags, "p" in flags
        if type_.startswith("map:"):
            if values:
                out[json_name] = _map(type_, values)
            elif not omit_empty:
                out[json_name] = None
            continue
        if "r" in flags:
            if values:
                out[json_name] = _repeated(type_, values)
            elif not omit_empty:
                out[json_name] = None
            continue
        if "i" in flags:
            inner = message(type_, bytes(values[-1]) if values else b"")
            out.update(inner)
            continue
        if values is None and pointer:
            if not omit_empty and "z" not in flags:
                out[json_name] = None
            continue
        if type_ in SCALARS:
            value = _scalar(type_, values[-1]) if values else _ZERO.get(type_, 0)
            if not pointer and omit_empty and _is_zero(value):
                continue
            if type_ == "bytes" and not values and omit_empty:
                continue
        else:
            value = message(type_, bytes(values[-1]) if values else b"")
            # encoding/json's omitempty never drops a struct; null (a zero Time) it does
            if not pointer and (
                ("z" in flags and _is_zero(value)) or (omit_empty and value is None)
            ):
                continue
        out[json_name] = value
    return out


# ---------------------------------------------------------------- the envelope


def decode(body: bytes) -> dict[str, Any]:
    """A `k8s\\0` + runtime.Unknown body → the object as JSON (kind and apiVersion first)."""
    try:
        if not body.startswith(_MAGIC):
            raise ValueError("missing the k8s protobuf prefix")
        unknown = fields(body[len(_MAGIC) :])
        type_meta = fields(bytes(unknown[1][-1])) if unknown.get(1) else {}
        api_version, kind = _str(type_meta, 1), _str(type_meta, 2)
        name = prototable.KINDS.get(f"{api_version}/{kind}")
        if name is None:
            raise apierrors.unsupported_media_type(
                ["application/json", "application/yaml"],
                f"the sandbox reads protobuf only for built-in kinds it knows, not {kind} "
                f"({api_version or 'no apiVersion'}); send it as JSON",
            )
        raw = bytes(unknown[2][-1]) if unknown.get(2) else b""
        obj = message(name, raw)
    except (ValueError, IndexError, KeyError, UnicodeDecodeError, struct.error) as e:
        raise apierrors.bad_request(f"error decoding request body: {e}") from None
    return {"kind": kind, "apiVersion": api_version, **obj}
