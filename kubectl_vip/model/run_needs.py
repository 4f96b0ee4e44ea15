"""What a real reclaim run reads and writes, request by request: the permissions its dry run
checks first (SelfSubjectAccessReview), so a reviewed plan does not stop half-way."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .claims import ATTACHED_PHASES, SAME_NAME_KINDS, Inventory, kind_key
from .reclaim import Target
from .schema import OwnerRef

CLAIMS = "vpcipclaims"
VIPS = "vpcips"
PODS = "pods"
NODES = "nodes"


@dataclass(frozen=True)
class Need:
    """One verb the real run uses. `resource` is a plural of ours (CLAIMS, VIPS, PODS, NODES)
    or an owner kind key (`apps/StatefulSet`); `namespace` None: cluster-scoped."""

    resource: str
    verb: str
    namespace: str | None
    owner: bool = False


def owner_reads(name: str, refs: Iterable[OwnerRef]) -> dict[str, set[str]]:
    """kind key -> names: the workloads read by name for one claim right before its delete: its
    owner references, and the same-name controllers named like it without the ordinal."""
    wanted: dict[str, set[str]] = {}
    for r in refs:
        wanted.setdefault(kind_key(r.group, r.kind), set()).add(r.name)
    base, _, ordinal = name.rpartition("-")
    if base and ordinal.isdigit():
        for key in SAME_NAME_KINDS:
            wanted.setdefault(key, set()).add(base)
    return wanted


def needs(targets: Iterable[Target], inv: Inventory, *, batched: bool = False) -> list[Need]:
    """The verbs a real run of these targets uses: it lists and deletes the claims, and reads
    each one's VpcIP, Pod and possible owners (and the node a VpcIP is still attached to): one
    get each, or, `batched` (a bulk run), the VpcIPs and each owner kind listed."""
    targets = list(targets)
    claims = {(c.namespace, c.name): c for c in inv.claims}
    vips = {v.name: v for v in inv.vips}
    namespaces = {t.namespace for t in targets}
    verb = "list" if batched else "get"
    out: set[Need] = set()
    for t in targets:
        ns = t.namespace
        # a bulk run lists owners in its one namespace, else across them all
        owner_ns = ns if not batched or len(namespaces) == 1 else None
        out |= {Need(CLAIMS, "list", ns), Need(CLAIMS, "delete", ns), Need(PODS, "get", ns)}
        if t.ip or batched:
            out.add(Need(VIPS, verb, None))
            vip = vips.get(t.ip) if t.ip else None
            if vip is not None and vip.phase in ATTACHED_PHASES and vip.node:
                out.add(Need(NODES, "get", None))
        claim = claims.get(t.key)
        refs = claim.owners if claim is not None else ()
        for key in owner_reads(t.name, refs):
            out.add(Need(key, verb, owner_ns, owner=True))
    return sorted(out, key=lambda n: (n.owner, n.resource, n.verb, n.namespace or ""))
