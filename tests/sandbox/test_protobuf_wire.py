"""The protobuf decoder's Go-JSON rules for values the captured fixtures do not all carry, and the
generator's reading of generated.proto plus Go struct tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import protobuf, protogen

META = "apimachinery.pkg.apis.meta.v1."


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number: int, value: int | bytes) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    return varint(number << 3 | 2) + varint(len(value)) + value


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        (META + "Time", b"", None),
        (META + "Time", field(1, 1795694400), "2026-11-26T12:00:00Z"),
        (
            META + "MicroTime",
            field(1, 1795694400) + field(2, 123456789),
            "2026-11-26T12:00:00.123456Z",
        ),
        (META + "Duration", field(1, 90 * 60 * 10**9), "1h30m0s"),
        (META + "Duration", field(1, 1_500_000), "1.5ms"),
        (META + "Duration", b"", "0s"),
        ("apimachinery.pkg.api.resource.Quantity", field(1, b"500m"), "500m"),
        ("apimachinery.pkg.api.resource.Quantity", b"", "0"),
        ("apimachinery.pkg.util.intstr.IntOrString", field(1, 0) + field(2, 8080), 8080),
        ("apimachinery.pkg.util.intstr.IntOrString", field(1, 1) + field(3, b"25%"), "25%"),
        ("apimachinery.pkg.runtime.RawExtension", field(1, b'{"a":1}'), {"a": 1}),
        ("apimachinery.pkg.runtime.RawExtension", b"", None),
        (META + "FieldsV1", field(1, b'{"f:spec":{}}'), {"f:spec": {}}),
    ],
    ids=[
        "zero-time-null",
        "time",
        "microtime",
        "duration-h",
        "duration-ms",
        "duration-zero",
        "quantity",
        "quantity-zero",
        "intorstring-int",
        "intorstring-str",
        "rawextension",
        "rawextension-empty",
        "fieldsv1",
    ],
)
def test_special_messages(name: str, data: bytes, expected: Any) -> None:
    assert protobuf.message(name, data) == expected


def test_negative_int32_and_pointer_zero_and_omitempty() -> None:
    # Container: name (string, always written), tty (bool omitempty: dropped when false);
    # PodSpec.terminationGracePeriodSeconds is a pointer: a written 0 stays
    container = field(1, b"c") + field(18, 0)
    spec = field(2, container) + field(4, 0)
    pod_spec = protobuf.message("api.core.v1.PodSpec", spec)
    assert pod_spec["containers"] == [{"name": "c", "resources": {}}]
    assert pod_spec["terminationGracePeriodSeconds"] == 0
    probe = protobuf.message("api.core.v1.Probe", field(2, -5))  # initialDelaySeconds
    assert probe["initialDelaySeconds"] == -5


def test_maps_and_bytes() -> None:
    entry = field(1, b"k") + field(2, b"\x00\xff")
    secret = protobuf.message("api.core.v1.Secret", field(2, entry))
    assert secret["data"] == {"k": "AP8="}
    labels = field(1, b"app") + field(2, b"web")
    meta = protobuf.message(META + "ObjectMeta", field(11, labels))
    assert meta == {"labels": {"app": "web"}}


def test_unknown_kind_and_garbage() -> None:
    with pytest.raises(protobuf.apierrors.StatusError) as e:
        protobuf.decode(b"k8s\x00" + field(1, field(1, b"v1") + field(2, b"Binding2")))
    assert e.value.code == 415
    with pytest.raises(protobuf.apierrors.StatusError) as e:
        protobuf.decode(b'{"kind":"Pod"}')
    assert (e.value.code, e.value.message) == (
        400,
        "error decoding request body: missing the k8s protobuf prefix",
    )


PROTO = """\
syntax = "proto2";
package k8s.io.api.demo.v1;
message Thing {
  optional .k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ThingSpec spec = 2;
}
message ThingSpec {
  optional int32 replicas = 1;
  repeated string args = 2;
  map<string, string> selector = 3;
  optional Source source = 4;
}
message Source {
  optional string path = 1;
}
"""
GO = """\
package v1

type ThingSpec struct {
\t// Replicas is a pointer.
\tReplicas *int32 `json:"replicas,omitempty" protobuf:"varint,1,opt,name=replicas"`
\tArgs []string `json:"args" protobuf:"bytes,2,rep,name=args"`
\tSelector map[string]string `json:"selector,omitempty" protobuf:"bytes,3,rep,name=selector"`
\tSource `json:"" protobuf:"bytes,4,opt,name=source"`
\tSkipped string `json:"-" protobuf:"bytes,9,opt,name=skipped"`
}
"""


def test_generator_joins_proto_numbers_with_go_json_rules(tmp_path: Path) -> None:
    (tmp_path / "generated.proto").write_text(PROTO)
    (tmp_path / "types.go").write_text(GO)
    messages = protogen.parse_proto(tmp_path / "generated.proto")
    spec = messages["k8s.io.api.demo.v1.ThingSpec"].fields
    assert (spec[2].label, spec[2].type) == ("repeated", "string")
    assert (spec[3].label, spec[3].type) == ("map", "string,string")
    assert spec[4].type == "k8s.io.api.demo.v1.Source"
    structs, _ = protogen.parse_go(tmp_path, "k8s.io.api.demo.v1")
    rows = [(f.number, f.json, f.flags) for f in structs["k8s.io.api.demo.v1.ThingSpec"]]
    assert rows == [(1, "replicas", "op"), (2, "args", ""), (3, "selector", "o"), (4, "", "i")]
