"""Derive the sandbox's protobuf field table from upstream Kubernetes sources.

Run by hand with checkouts of k8s.io/api and k8s.io/apimachinery:

    python -m kubectl_vip.sandbox.protogen API APIMACHINERY > kubectl_vip/sandbox/prototable.py

Field numbers and types come from each package's `generated.proto`; JSON names, `omitempty`,
`omitzero`, `inline` and pointer-ness come from the Go struct tags of the same types (the JSON
encoding kubectl would have produced is defined by those tags, not by the proto). Only the
messages reachable from ROOTS are written. Nothing here runs at serve time.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# (apiVersion, Kind, proto package directory under k8s.io/api)
ROOTS: list[tuple[str, str, str]] = [
    ("v1", kind, "core/v1")
    for kind in (
        "Namespace",
        "Pod",
        "Service",
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        "Event",
        "ResourceQuota",
        "Node",
        "Binding",
    )
]
ROOTS += [
    ("apps/v1", k, "apps/v1") for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
]
ROOTS += [("batch/v1", k, "batch/v1") for k in ("Job", "CronJob")]
ROOTS += [
    ("rbac.authorization.k8s.io/v1", k, "rbac/v1")
    for k in ("Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")
]
ROOTS += [("policy/v1", k, "policy/v1") for k in ("PodDisruptionBudget", "Eviction")]
ROOTS += [("networking.k8s.io/v1", "Ingress", "networking/v1")]
ROOTS += [("autoscaling/v1", k, "autoscaling/v1") for k in ("HorizontalPodAutoscaler", "Scale")]
ROOTS += [("autoscaling/v2", "HorizontalPodAutoscaler", "autoscaling/v2")]
ROOTS += [("scheduling.k8s.io/v1", "PriorityClass", "scheduling/v1")]
ROOTS += [("authorization.k8s.io/v1", "SelfSubjectAccessReview", "authorization/v1")]
ROOTS += [("meta.k8s.io/v1", "DeleteOptions", "!apimachinery/pkg/apis/meta/v1")]

# apimachinery packages: proto package → directory
MACHINERY = {
    "k8s.io.apimachinery.pkg.apis.meta.v1": "pkg/apis/meta/v1",
    "k8s.io.apimachinery.pkg.api.resource": "pkg/api/resource",
    "k8s.io.apimachinery.pkg.runtime": "pkg/runtime",
    "k8s.io.apimachinery.pkg.runtime.schema": "pkg/runtime/schema",
    "k8s.io.apimachinery.pkg.util.intstr": "pkg/util/intstr",
}
# messages the decoder turns into JSON by their own rules (see protobuf.py)
OPAQUE = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "k8s.io.apimachinery.pkg.runtime.RawExtension",
}

_MESSAGE = re.compile(r"^message (\w+) \{")
_FIELD = re.compile(r"^\s*(optional|repeated) ([.\w]+) (\w+) = (\d+);")
_MAP = re.compile(r"^\s*map<([.\w]+), ?([.\w]+)> (\w+) = (\d+);")
_PACKAGE = re.compile(r"^package ([.\w]+);")
_STRUCT = re.compile(r"^type (\w+) struct \{")
_LIST_TYPE = re.compile(r"^type (\w+) \[\]\w+\s*$")
_GO_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?(\S+)\s+`([^`]*)`")
_TAG = re.compile(r'(\w+):"([^"]*)"')


@dataclass
class ProtoField:
    number: int
    label: str  # optional | repeated | map
    type: str  # scalar, or a full message name; "k,v" for maps


@dataclass
class Message:
    name: str
    fields: dict[int, ProtoField] = field(default_factory=dict)


@dataclass
class GoField:
    number: int
    json: str
    flags: str


def _qualify(package: str, type_: str) -> str:
    if type_.startswith("."):
        return type_[1:]
    if "." in type_ or type_ in SCALARS:
        return type_
    return f"{package}.{type_}"


SCALARS = {"string", "int32", "int64", "uint32", "uint64", "bool", "bytes", "double", "float"}


def parse_proto(path: Path) -> dict[str, Message]:
    package = ""
    out: dict[str, Message] = {}
    current: Message | None = None
    depth = 0
    for line in path.read_text().splitlines():
        if m := _PACKAGE.match(line):
            package = m.group(1)
        elif m := _MESSAGE.match(line):
            current = Message(f"{package}.{m.group(1)}")
            out[current.name] = current
            depth = 1
        elif current is not None:
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                current = None
            elif m := _FIELD.match(line):
                label, type_, _, num = m.groups()
                current.fields[int(num)] = ProtoField(int(num), label, _qualify(package, type_))
            elif m := _MAP.match(line):
                k, v, _, num = m.groups()
                pf = ProtoField(int(num), "map", f"{_qualify(package, k)},{_qualify(package, v)}")
                current.fields[int(num)] = pf
    return out


def parse_go(directory: Path, package: str) -> tuple[dict[str, list[GoField]], set[str]]:
    """Struct name (as a full proto name) → its proto-tagged fields in Go order; and the named
    slice types (which JSON writes as a plain array)."""
    structs: dict[str, list[GoField]] = {}
    lists: set[str] = set()
    for path in sorted(directory.glob("*.go")):
        if path.name.endswith("_test.go") or path.name.startswith(("generated", "zz_")):
            continue
        current: list[GoField] | None = None
        for line in path.read_text().splitlines():
            if m := _STRUCT.match(line):
                current = structs.setdefault(f"{package}.{m.group(1)}", [])
                continue
            if m := _LIST_TYPE.match(line):
                lists.add(f"{package}.{m.group(1)}")
                continue
            if current is None:
                continue
            if line.startswith("}"):
                current = None
                continue
            fm = _GO_FIELD.match(line)
            if fm is None:
                continue
            go_name, go_type, tag_text = fm.groups()
            tags = dict(_TAG.findall(tag_text))
            if "protobuf" not in tags or "json" not in tags:
                continue
            number = int(tags["protobuf"].split(",")[1])
            json_name, *opts = tags["json"].split(",")
            if json_name == "-":
                continue
            flags = ""
            if "omitempty" in opts:
                flags += "o"
            if "omitzero" in opts:
                flags += "z"
            if go_name is None and not json_name:  # encoding/json promotes an embedded struct
                flags += "i"
            if go_type.startswith("*"):
                flags += "p"
            current.append(GoField(number, json_name, flags))
    return structs, lists


def load(
    api: Path, machinery: Path
) -> tuple[dict[str, Message], dict[str, list[GoField]], set[str]]:
    messages: dict[str, Message] = {}
    structs: dict[str, list[GoField]] = {}
    lists: set[str] = set()
    dirs = [
        (p.parent, f"k8s.io.api.{p.parent.parent.name}.{p.parent.name}")
        for p in sorted(api.glob("*/*/generated.proto"))
    ]
    dirs += [(machinery / d, pkg) for pkg, d in MACHINERY.items()]
    for directory, package in dirs:
        messages.update(parse_proto(directory / "generated.proto"))
        s, li = parse_go(directory, package)
        structs.update(s)
        lists |= li
    return messages, structs, lists


def root_message(directory: str, kind: str) -> str:
    if directory.startswith("!apimachinery/"):
        return (
            "k8s.io.apimachinery."
            + directory.removeprefix("!apimachinery/").replace("/", ".")
            + f".{kind}"
        )
    group, version = directory.split("/")
    return f"k8s.io.api.{group}.{version}.{kind}"


def build(
    api: Path, machinery: Path
) -> tuple[dict[str, str], dict[str, list[tuple[int, str, str, str]]]]:
    messages, structs, lists = load(api, machinery)
    kinds: dict[str, str] = {}
    table: dict[str, list[tuple[int, str, str, str]]] = {}
    todo: list[str] = []
    for api_version, kind, directory in ROOTS:
        name = root_message(directory, kind)
        if name not in messages:
            raise SystemExit(f"protogen: no message {name}")
        kinds[f"{api_version}/{kind}"] = name
        todo.append(name)
    while todo:
        name = todo.pop()
        if name in table or name in OPAQUE:
            continue
        msg = messages[name]
        if name in lists:  # a named slice: one repeated field, written as an array
            (only,) = msg.fields.values()
            table[name] = [(only.number, "", only.type, "L")]
            todo.append(only.type)
            continue
        go = structs.get(name)
        if go is None:
            raise SystemExit(f"protogen: no Go struct for {name}")
        rows = []
        for gf in go:
            pf = msg.fields.get(gf.number)
            if pf is None:
                raise SystemExit(f"protogen: {name} field {gf.number} ({gf.json}) not in proto")
            flags = gf.flags + ("r" if pf.label == "repeated" else "")
            type_ = pf.type if pf.label != "map" else "map:" + pf.type
            rows.append((gf.number, gf.json, type_, flags))
            for t in pf.type.split(","):
                if t not in SCALARS:
                    todo.append(t)
        table[name] = rows
    return kinds, table


def _short(name: str) -> str:
    return name.removeprefix("k8s.io.")


def render(kinds: dict[str, str], table: dict[str, list[tuple[int, str, str, str]]]) -> str:
    q = json.dumps

    def short_type(t: str) -> str:
        if t.startswith("map:"):
            return "map:" + ",".join(_short(x) for x in t[4:].split(","))
        return _short(t)

    out = [
        '"""Protobuf field numbers of the Kubernetes kinds the sandbox decodes.',
        "",
        "GENERATED by `python -m kubectl_vip.sandbox.protogen API APIMACHINERY` from upstream",
        "k8s.io/api and k8s.io/apimachinery (generated.proto + Go struct tags). Do not edit.",
        "",
        "MESSAGES: message → [(field number, JSON name, type, flags)] in Go field order; a type",
        "is a scalar, a message (without the `k8s.io.` prefix) or `map:KEY,VALUE`. Flags:",
        "o omitempty, z omitzero, i inline, p pointer, r repeated, L a named slice (a JSON array).",
        '"""',
        "",
        "# ruff: noqa: E501  (generated: one field a line, however long its names)",
        "from __future__ import annotations",
        "",
        "# fmt: off",
        "KINDS: dict[str, str] = {",
    ]
    out += [f"    {q(k)}: {q(_short(v))}," for k, v in sorted(kinds.items())]
    out += ["}", "", "MESSAGES: dict[str, list[tuple[int, str, str, str]]] = {"]
    for name in sorted(table):
        out.append(f"    {q(_short(name))}: [")
        out += [f"        ({n}, {q(j)}, {q(short_type(t))}, {q(f)})," for n, j, t, f in table[name]]
        out.append("    ],")
    out += ["}", "# fmt: on", ""]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(
            "usage: python -m kubectl_vip.sandbox.protogen K8S_API_DIR APIMACHINERY_DIR",
            file=sys.stderr,
        )
        return 2
    kinds, table = build(Path(argv[0]), Path(argv[1]))
    sys.stdout.write(render(kinds, table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
