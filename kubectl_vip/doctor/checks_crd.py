"""Area `crd`: which TKE kinds this cluster serves, in which version, and how well the tool's
model of their fields fits them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import fields, fit
from . import reads as keys
from .registry import Issue, Severity, check
from .snapshot import Snapshot, plural

Obj = dict[str, Any]

KIND_ORDER = ("vpcipclaims", "vpcips", "nodeeniconfigs", "vpcenis")


@check("VIP-CRD-001", area="crd", title="TKE CRDs served")
def crds_served(s: Snapshot) -> list[Issue]:
    """Which kinds the TKE group serves, in which version (a cluster that serves no VpcIPClaim
    and VpcIP stops the run with exit 4 before any check)."""
    served = [p for p in KIND_ORDER if p in s.served]
    served += sorted(p for p in s.served if p not in KIND_ORDER)
    kinds = ", ".join(s.served[p] or p for p in served) or "none"
    gv = f"{s.tke_group}/{s.tke_version or '?'}"
    evidence = [f"kinds: {kinds}"]
    title = f"TKE CRDs served: {gv}"
    if "nodeeniconfigs" not in s.served:
        evidence.append(
            "NodeENIConfig (nec) is not served: an empty ENI config (FAQ 2) cannot be seen; "
            "VpcIPs in Attaching and ENILimit Events are still checked"
        )
    return [Issue(Severity.INFO, title, evidence, "-", [f"APIGroup/{s.tke_group}"])]


# ---------------------------------------------------------------------------- model fit


@dataclass
class _Fact:
    """How one fact of the field table fared: resolved for `known` of the `applicable` objects
    (after any fallback), and by which path in how many objects."""

    f: fields.Field
    applicable: int
    known: int
    by_path: list[tuple[str, int]]
    none: int

    @property
    def misfit(self) -> bool:
        return fit.Coverage(self.f, self.known, self.applicable).misfit

    def line(self) -> str:
        paths = ", ".join(f"{p} in {n:,}" for p, n in self.by_path if n)
        where = f"{self.f.kind} {self.f.fact}: " + (paths or "no path present")
        unknown = self.applicable - self.known
        if self.applicable and unknown:
            where += f"; unknown for {unknown:,} of {self.applicable:,} {self.f.applies}"
            if self.f.fallback and self.none:
                where += f" (after: {self.f.fallback})"
        return where


def _facts(s: Snapshot) -> list[_Fact]:
    counts = s.fit or {}
    inv = s.inventory
    out = []
    for f in fields.FIELDS:
        count = counts.get(f.kind)
        if count is None:
            continue
        by_alt = count.by_alt.get(f.key, [0] * len(f.alts))
        applicable, known = count.objects, count.resolved(f.key)
        # as list, usage and reclaim count it (after the fallbacks), where they can
        cov = fit.coverage(f.key, inv)
        if f.key == "claim.releaseTime" and not s.has(keys.PODS):
            cov = None  # a claim's Pod decides whether it has a release time: not judged

        if cov is not None:
            applicable, known = cov.applicable, cov.known
        elif not f.needed or f.key == "claim.releaseTime":
            applicable = known  # optional, or not judged: its absence says nothing
        by_path = list(zip(f.paths(), by_alt, strict=True))
        out.append(_Fact(f, applicable, known, by_path, count.missing.get(f.key, 0)))
    return out


def _versions(crd: Obj) -> list[str]:
    return [
        str(v.get("name")) + ("" if v.get("served") is not False else " (not served)")
        for v in fields.crd_versions(crd)
    ]


def _schema_of(crd: Obj | None, version: str | None) -> Obj | None:
    for v in fields.crd_versions(crd or {}):
        if v.get("name") == version:
            return fields.version_schema(v)
    return None


@check(
    "VIP-CRD-002",
    area="crd",
    title="The tool's model fits this cluster's TKE objects",
    needs=(keys.CLAIMS, keys.VIPS),
    uses=(keys.NECS, keys.CRDS, keys.PODS, keys.STATEFULSETS),
    worst=Severity.WARNING,
)
def model_fit(s: Snapshot) -> list[Issue]:
    """Each fact of the field table (DESIGN §2) against the objects listed: which path resolved
    in how many, and for how many it is unknown; and against the CRDs' schemas (when they may
    be read): whether each path is declared, which versions are served, and which declared
    fields the tool never reads. A warning when a needed fact is unknown for most of the objects
    it applies to, in the user's words; info when it fits with something to know (another path,
    another version, unread fields, no schema); ok when it fits as modelled."""
    facts_ = _facts(s)
    misfits = [x for x in facts_ if x.misfit]
    notes: list[str] = []
    details: list[str] = [x.line() for x in facts_]
    for x in facts_:
        used = [(p, n) for p, n in x.by_path[1:] if n]
        if used:
            notes.append(
                f"{x.f.kind} {x.f.fact} read from "
                + ", ".join(f"{p} ({n:,} objects)" for p, n in used)
                + f", not {x.by_path[0][0]}"
            )
    crds = s.crds
    if crds is None:
        notes.append(f"CRD schemas not read ({s.missing(keys.CRDS)})")
    else:
        for res, crd in sorted(crds.items()):
            kind = fields.KINDS.get(res, res)
            if crd is None:
                notes.append(f"{kind}: no CustomResourceDefinition {res}.{s.tke_group}")
                continue
            versions = _versions(crd)
            others = [
                v for v in versions if not v.startswith(f"{s.tke_version} ") and v != s.tke_version
            ]
            if others:
                notes.append(
                    f"{kind}: also {', '.join(others)} beside {s.tke_version} (the version read)"
                )
            schema_ = _schema_of(crd, s.tke_version)
            for f in fields.KIND_FIELDS.get(kind, ()):
                said = {a: fields.declared(schema_, a[0]) for a in f.alts}
                if schema_ is not None and all(v == "no" for v in said.values()):
                    notes.append(f"{kind} schema {s.tke_version} declares no path of its {f.fact}")
            if kind in fields.KIND_FIELDS:  # of a kind the tool reads no field of, nothing
                details += [
                    f"{kind} schema declares, not read: {u}" for u in fields.unread(kind, schema_)
                ]
    served = [
        f"{res} {', '.join(_versions(crd)) or '?'}"
        for res, crd in sorted((crds or {}).items())
        if crd is not None
    ]
    versions_line = "served: " + ("; ".join(served) or f"{s.tke_group}/{s.tke_version}")
    objects = [f"CustomResourceDefinition/{p}.{s.tke_group}" for p in sorted(crds or {})]
    if misfits:
        first = misfits[0]
        unknown = first.applicable - first.known
        title = (
            f"The model does not fit: {first.f.fact} unknown for {unknown:,} of "
            f"{first.applicable:,} {first.f.applies}"
        )
        evidence = [
            f"{x.f.kind} {x.f.fact} unknown for {x.applicable - x.known:,} of {x.applicable:,} "
            f"{x.f.applies}: {x.f.unknown_means}"
            for x in misfits
        ]
        evidence += [x.line() for x in misfits]
        evidence += [versions_line, *notes[:3]]
        fix = (
            "kubectl vip bundle --shapes   # field paths and types, no values: send it to us "
            "(README: When the model does not fit)"
        )
        return [Issue(Severity.WARNING, title, evidence, fix, objects, details)]
    if notes:
        title = f"The model fits, with {plural(len(notes), 'note')}: {notes[0]}"
        return [Issue(Severity.INFO, title, [versions_line, *notes], "-", objects, details)]
    return []
