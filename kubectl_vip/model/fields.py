"""Every TKE field the tool reads, in one table: for each fact, the paths tried in order.

Public material shows the TKE objects only as screenshots; the paths are our best reading (DESIGN
§2). The accessors in `schema` and the records read through this table, and `doctor` VIP-CRD-002
measures against it how well a cluster fits: which path resolved in how many objects, what the
CRD schema declares, and what an unknown fact means for the user. Nothing reads a TKE field
outside it (a test checks the accessors against it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

TKE_GROUP = "networking.tke.cloud.tencent.com"
PREFIX = "tke.cloud.tencent.com/"
DELETE_POLICY = PREFIX + "vpc-ip-claim-delete-policy"
EXPIRY = PREFIX + "claim-expired-duration"
NODE_LABEL = PREFIX + "node-name"
POD_NS_LABEL = PREFIX + "pod-namespace"
POD_NAME_LABEL = PREFIX + "pod-name"

Obj = dict[str, Any]
Path = tuple[str, ...]
# one way to read a fact: every path of it present (a claim reference by labels needs both)
Alt = tuple[Path, ...]

CLAIM, VIP, NEC = "VpcIPClaim", "VpcIP", "NodeENIConfig"
PLURALS = {CLAIM: "vpcipclaims", VIP: "vpcips", NEC: "nodeeniconfigs"}
_OF_KIND = {CLAIM: "claims", VIP: "VpcIPs", NEC: "NodeENIConfigs"}
# every TKE kind by plural, VpcENI too (the tool reads none of its fields)
KINDS = {**{p: k for k, p in PLURALS.items()}, "vpcenis": "VpcENI"}


@dataclass(frozen=True)
class Field:
    """One fact of one TKE kind and the paths that give it, in order."""

    key: str
    kind: str
    fact: str  # "release time"
    alts: tuple[Alt, ...]
    json_type: str  # what the value is: string, date-time, integer, array, object
    # a view depends on it: unknown for most of the objects it applies to, the model does not
    # fit (doctor warns, list/usage/reclaim say so once)
    needed: bool
    unknown_means: str  # what the user loses when it is unknown, in their words
    fallback: str = ""  # what stands in when no path resolves
    applies: str = ""  # which objects must have it ("": every object of the kind)

    def __post_init__(self) -> None:
        if not self.applies:
            object.__setattr__(self, "applies", _OF_KIND[self.kind])

    def paths(self) -> list[str]:
        return [alt_text(a) for a in self.alts]


def alt_text(alt: Alt) -> str:
    return " + ".join(path_text(p) for p in alt)


def path_text(path: Path) -> str:
    if len(path) == 3 and path[0] == "metadata" and path[1] in ("labels", "annotations"):
        return f"{path[1][:-1]} {path[2]}"
    return ".".join(path)


FIELDS: tuple[Field, ...] = (
    Field(
        "claim.ip",
        CLAIM,
        "IP",
        ((("status", "ip"),), (("status", "vpcIP"),), (("spec", "ip"),)),
        "string",
        True,
        "list shows IP <none> unless a VpcIP names the claim; reclaim --ip cannot find them",
        fallback="the VpcIP whose claim reference names the claim",
    ),
    Field(
        "claim.releaseTime",
        CLAIM,
        "release time",
        ((("status", "releaseTime"),), (("status", "lastDetachTime"),)),
        "date-time",
        True,
        "--overdue and --retained-for select nothing; list shows RETAINED FOR as estimated "
        "(~) or unknown; no claim is Overdue or Expiring",
        fallback="the newest managedFields write of the status (estimated: never used)",
        applies="claims without a Pod",
    ),
    Field(
        "claim.deletePolicy",
        CLAIM,
        "delete policy",
        ((("metadata", "annotations", DELETE_POLICY),),),
        "string",
        False,
        "the policy column shows the Pod's annotation, else nothing",
        fallback="the Pod's annotation",
    ),
    Field(
        "claim.expiry",
        CLAIM,
        "expiry annotation",
        ((("metadata", "annotations", EXPIRY),),),
        "string",
        False,
        "nothing: without it ipamd's --claim-expired-duration applies",
        applies="claims given their own expiry",
    ),
    Field(
        "vip.claimRef",
        VIP,
        "claim reference",
        (
            (("spec", "claimRef", "namespace"), ("spec", "claimRef", "name")),
            (("metadata", "labels", POD_NS_LABEL), ("metadata", "labels", POD_NAME_LABEL)),
        ),
        "object",
        True,
        "list --ips shows these VpcIPs as Unknown: leaked VpcIPs cannot be found, and a claim "
        "without an IP of its own shows none",
    ),
    Field(
        "vip.phase",
        VIP,
        "phase",
        ((("status", "phase"),),),
        "string",
        True,
        "an IP stuck Attaching, or still attached to a node that is not Ready, cannot be told: "
        "reclaim refuses such claims only where the phase is known",
    ),
    Field(
        "vip.message",
        VIP,
        "message",
        ((("status", "message"),),),
        "string",
        False,
        "doctor cannot quote why an IP is stuck Attaching",
        applies="VpcIPs with something to say",
    ),
    Field(
        "vip.type",
        VIP,
        "type",
        ((("spec", "type"),),),
        "string",
        False,
        "every VpcIP is taken for a Pod IP",
    ),
    Field(
        "vip.node",
        VIP,
        "node",
        ((("metadata", "labels", NODE_LABEL),), (("status", "node"),)),
        "string",
        False,
        "list shows NODE -; whether an attached IP's node is Ready cannot be checked",
        applies="attached VpcIPs",
    ),
    Field(
        "vip.subnetID",
        VIP,
        "subnet id",
        ((("spec", "subnetID"),),),
        "string",
        False,
        "usage groups the IPs by CIDR alone",
    ),
    Field(
        "vip.subnetCIDR",
        VIP,
        "subnet CIDR",
        ((("status", "subnetCIDR"),),),
        "string",
        True,
        "usage cannot place these IPs in a subnet: sizes and free counts are unknown",
    ),
    Field(
        "nec.eniInfos",
        NEC,
        "ENIs and their subnets",
        ((("status", "eniInfos"),),),
        "array",
        False,
        "usage learns zones from VpcIP nodes only; doctor cannot count ENIs from NodeENIConfigs",
        applies="NodeENIConfigs with a status",
    ),
    Field(
        "nec.maxRouteENI",
        NEC,
        "ENI limit",
        ((("spec", "maxRouteENI"),),),
        "integer",
        False,
        "doctor cannot say how many ENIs the nodes may attach",
    ),
    Field(
        "nec.maxIPPerENI",
        NEC,
        "IPs per ENI",
        ((("spec", "maxIPPerENI"),),),
        "integer",
        False,
        "doctor cannot say how many IPs an ENI holds",
    ),
)
BY_KEY = {f.key: f for f in FIELDS}

# eniInfos[] items: read inside the list (schema.nec_subnets)
ENI_INFO_SUBNET_ID = "subnetID"
ENI_INFO_SUBNET_CIDR = "subnetCIDR"


def _at(obj: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != {} and value != []


def resolve(obj: Obj, f: Field) -> int | None:
    """The index of the first way of `f` that `obj` has (every path of it present)."""
    for i, alt in enumerate(f.alts):
        if all(_present(_at(obj, p)) for p in alt):
            return i
    return None


def value(obj: Obj, key: str) -> Any:
    """The value of a one-path fact by the first path present (None: none is)."""
    for alt in BY_KEY[key].alts:
        v = _at(obj, alt[0])
        if _present(v):
            return v
    return None


# ---------------------------------------------------------------------------- counting objects


@dataclass
class FitCount:
    """How the objects of one kind answered the table: per fact, how many resolved by each way
    and how many by none."""

    kind: str
    objects: int = 0
    by_alt: dict[str, list[int]] = field(default_factory=dict)  # key -> count per way
    missing: dict[str, int] = field(default_factory=dict)

    def observe(self, obj: Obj) -> None:
        self.objects += 1
        for f in KIND_FIELDS.get(self.kind, ()):
            i = resolve(obj, f)
            if i is None:
                self.missing[f.key] = self.missing.get(f.key, 0) + 1
            else:
                counts = self.by_alt.setdefault(f.key, [0] * len(f.alts))
                counts[i] += 1

    def resolved(self, key: str) -> int:
        return sum(self.by_alt.get(key, ()))

    def doc(self) -> Obj:
        return {
            "kind": self.kind,
            "objects": self.objects,
            "fields": {
                f.key: {
                    "paths": {
                        p: n
                        for p, n in zip(
                            f.paths(), self.by_alt.get(f.key, [0] * len(f.alts)), strict=True
                        )
                    },
                    "none": self.missing.get(f.key, 0),
                }
                for f in KIND_FIELDS.get(self.kind, ())
            },
        }


KIND_FIELDS: dict[str, tuple[Field, ...]] = {
    k: tuple(f for f in FIELDS if f.kind == k) for k in (CLAIM, VIP, NEC)
}


def counted(kind: str, trim: Any, count: FitCount) -> Any:
    """`trim` (a record builder) that first counts each object for `count`."""

    def both(obj: Obj) -> Any:
        count.observe(obj)
        return trim(obj)

    return both


# ---------------------------------------------------------------------------- CRD schemas


def crd_versions(crd: Obj) -> list[Obj]:
    spec = crd.get("spec") if isinstance(crd, dict) else None
    versions = spec.get("versions") if isinstance(spec, dict) else None
    return [v for v in versions if isinstance(v, dict)] if isinstance(versions, list) else []


def version_schema(version: Obj) -> Obj | None:
    s = _at(version, ("schema", "openAPIV3Schema"))
    return s if isinstance(s, dict) else None


def declared(schema: Obj | None, path: Path) -> str:
    """Whether an OpenAPI v3 schema declares `path`: "yes", "no", "open" (preserves unknown
    fields on the way: anything may be there), or "unknown" (no schema)."""
    if schema is None:
        return "unknown"
    if path[:2] in (("metadata", "labels"), ("metadata", "annotations")):
        return "yes"  # object metadata: every object may carry them
    node: Any = schema
    for key in path:
        if not isinstance(node, dict):
            return "no"
        if node.get("x-kubernetes-preserve-unknown-fields") is True:
            return "open"
        props = node.get("properties")
        if isinstance(props, dict) and key in props:
            node = props[key]
            continue
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            node = extra
            continue
        return "no"
    return "yes"


def schema_leaves(schema: Obj | None, limit: int = 400) -> Iterator[tuple[str, str]]:
    """(path, type) of the fields a schema declares under spec and status, depth first."""
    if schema is None:
        return
    seen = 0
    stack: list[tuple[Path, Any]] = []
    props = schema.get("properties")
    if isinstance(props, dict):
        stack = [((k,), props[k]) for k in ("status", "spec") if k in props]
    while stack and seen < limit:
        path, node = stack.pop()
        if not isinstance(node, dict):
            continue
        kind = str(node.get("type") or "any")
        sub = node.get("properties")
        if isinstance(sub, dict) and sub:
            stack += [((*path, k), sub[k]) for k in sorted(sub, reverse=True)]
            continue
        items = node.get("items")
        if (
            kind == "array"
            and isinstance(items, dict)
            and isinstance(items.get("properties"), dict)
        ):
            item_props = items["properties"]
            stack += [((*path, "[]", k), item_props[k]) for k in sorted(item_props, reverse=True)]
            continue
        seen += 1
        yield ".".join(path), kind


def read_paths(kind: str) -> set[str]:
    """The spec/status paths the table reads for `kind` (and the list items it reads)."""
    out = {".".join(p) for f in KIND_FIELDS.get(kind, ()) for a in f.alts for p in a}
    if kind == NEC:
        out |= {f"status.eniInfos.[].{k}" for k in (ENI_INFO_SUBNET_ID, ENI_INFO_SUBNET_CIDR)}
    if kind == VIP:
        out.add("spec.claimRef.uid")
    return out


def unread(kind: str, schema: Obj | None) -> list[str]:
    """Fields the schema declares that the tool never reads (what a newer ipamd may offer)."""
    reads = read_paths(kind)
    out = []
    for path, typ in schema_leaves(schema):
        if path in reads or any(r.startswith(path + ".") for r in reads):
            continue
        if path == "spec.claimRef" or path.startswith("spec.claimRef."):
            continue
        out.append(f"{path} ({typ})")
    return out


def names(objs: Iterable[Obj]) -> list[str]:
    return [str(_at(o, ("metadata", "name")) or "") for o in objs]
