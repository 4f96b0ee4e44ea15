"""The field table and the model fit: every TKE fact read through one table; doctor VIP-CRD-002
counts, per path, what the objects and the CRD schemas say; list, usage and reclaim --dry-run
say once when a fact they depend on is unknown for most objects."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_vip.doctor import REGISTRY, run_checks
from kubectl_vip.doctor.registry import Severity, Status
from kubectl_vip.doctor.snapshot import Snapshot
from kubectl_vip.model import fields, records, schema
from kubectl_vip.model.claims import Inventory
from kubectl_vip.model.fit import view_note
from kubectl_vip.sandbox import Sandbox

from .conftest import run_vip
from .test_doctor_checks import NOW, base, claim, nec, pod, vip

Obj = dict[str, Any]
D = timedelta(days=1)


# ---------------------------------------------------------------------------- the table


def _put(obj: Obj, path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        obj = obj.setdefault(key, {})
    obj[path[-1]] = value


@given(data=st.data())
def test_each_accessor_reads_the_first_way_the_object_has(data: st.DataObject) -> None:
    """schema's accessors and the records agree with the table: for any subset of a fact's
    ways present, the value read is that of the first one present."""
    for key, read in (
        ("claim.ip", schema.claim_ip),
        ("vip.node", schema.vip_node),
        ("vip.phase", schema.vip_phase),
        ("vip.subnetCIDR", lambda o: schema.vip_subnet(o)[1]),
    ):
        f = fields.BY_KEY[key]
        present = data.draw(st.lists(st.booleans(), min_size=len(f.alts), max_size=len(f.alts)))
        obj: Obj = {"metadata": {"name": "x", "namespace": "ns"}, "spec": {}, "status": {}}
        for i, (alt, on) in enumerate(zip(f.alts, present, strict=True)):
            if on:
                _put(obj, alt[0], f"v{i}")
        want = next((f"v{i}" for i, on in enumerate(present) if on), None)
        assert read(obj) == want, (key, obj)
        assert fields.resolve(obj, f) == (present.index(True) if any(present) else None)
        if f.kind == fields.CLAIM:
            assert records.claim_record(obj).ip == want
        else:
            rec = records.vip_record(obj)
            got = {"vip.node": rec.node, "vip.phase": rec.phase, "vip.subnetCIDR": rec.subnet_cidr}
            assert got[key] == want


def test_claim_reference_by_labels_needs_both() -> None:
    f = fields.BY_KEY["vip.claimRef"]
    one = {"metadata": {"labels": {fields.POD_NS_LABEL: "db"}}}
    both = {"metadata": {"labels": {fields.POD_NS_LABEL: "db", fields.POD_NAME_LABEL: "a-0"}}}
    assert fields.resolve(one, f) is None and schema.vip_claim_ref(one) is None
    assert fields.resolve(both, f) == 1
    ref = schema.vip_claim_ref(both)
    assert ref is not None and (ref.namespace, ref.name) == ("db", "a-0")


def test_nothing_outside_the_table_names_a_tke_status_path() -> None:
    """The TKE field names of spec/status appear in the package only in the table (and the
    sandbox, which plays the cluster, and the JSON keys of our own output)."""
    root = Path(__file__).resolve().parent.parent / "kubectl_vip"
    names = ('"releaseTime"', '"lastDetachTime"', '"claimRef"', '"eniInfos"', '"maxRouteENI"')
    offenders = []
    for py in root.rglob("*.py"):
        rel = py.relative_to(root).as_posix()
        if rel.startswith("sandbox/") or rel == "model/fields.py":
            continue
        text = py.read_text()
        offenders += [f"{rel}: {n}" for n in names if n in text and not rel.startswith("cli/")]
    assert offenders == []


# ---------------------------------------------------------------------------- CRD schemas


def schema_of(kind: str, extra: dict[str, Any] | None = None) -> Obj:
    """An openAPIV3Schema declaring the first way of each of the kind's facts (and `extra`)."""
    root: Obj = {"type": "object", "properties": {}}
    for f in fields.KIND_FIELDS[kind]:
        for path in f.alts[0]:
            if path[0] == "metadata":
                continue
            node = root
            for key in path[:-1]:
                node = node["properties"].setdefault(key, {"type": "object", "properties": {}})
            node["properties"][path[-1]] = {"type": f.json_type if len(path) else "string"}
    for dotted, typ in (extra or {}).items():
        node = root
        *head, last = dotted.split(".")
        for key in head:
            node = node["properties"].setdefault(key, {"type": "object", "properties": {}})
        node["properties"][last] = {"type": typ}
    return root


def crd(kind: str, versions: dict[str, Obj | None]) -> Obj:
    plural = fields.PLURALS[kind]
    return {
        "metadata": {"name": f"{plural}.{fields.TKE_GROUP}"},
        "spec": {
            "names": {"kind": kind, "plural": plural},
            "versions": [
                {"name": v, "served": True, "storage": v == "v1", "schema": {"openAPIV3Schema": s}}
                for v, s in versions.items()
            ],
        },
    }


def test_declared_reads_properties_and_open_objects() -> None:
    s = schema_of(fields.CLAIM)
    assert fields.declared(s, ("status", "ip")) == "yes"
    assert fields.declared(s, ("status", "vpcIP")) == "no"
    assert fields.declared(s, ("metadata", "annotations", "x")) == "yes"
    assert fields.declared(None, ("status", "ip")) == "unknown"
    open_ = {
        "type": "object",
        "properties": {"status": {"x-kubernetes-preserve-unknown-fields": True}},
    }
    assert fields.declared(open_, ("status", "anything")) == "open"


def test_unread_lists_what_the_schema_offers_beyond_the_table() -> None:
    s = schema_of(fields.CLAIM, {"status.allocatedAt": "string", "spec.zone": "string"})
    assert fields.unread(fields.CLAIM, s) == ["spec.zone (string)", "status.allocatedAt (string)"]


# ---------------------------------------------------------------------------- the check


def fitted(snap: Snapshot, crds: dict[str, Obj | None] | None) -> Snapshot:
    """The snapshot as the doctor's reads leave it: fit counted over its objects."""
    counts = {k: fields.FitCount(k) for k in (fields.CLAIM, fields.VIP, fields.NEC)}
    for kind, objs in (
        (fields.CLAIM, snap.claims),
        (fields.VIP, snap.vips),
        (fields.NEC, snap.necs),
    ):
        for o in objs or []:
            counts[kind].observe(o)
    snap.fit, snap.crds = counts, crds
    return snap


def all_crds(**extra: dict[str, Obj | None]) -> dict[str, Obj | None]:
    out: dict[str, Obj | None] = {}
    for kind in (fields.CLAIM, fields.VIP, fields.NEC):
        out[fields.PLURALS[kind]] = crd(kind, extra.get(kind) or {"v1": schema_of(kind)})
    out["vpcenis"] = crd(fields.CLAIM, {"v1": schema_of(fields.CLAIM)}) | {
        "metadata": {"name": "vpcenis." + fields.TKE_GROUP}
    }
    return out


def check(snap: Snapshot) -> list[Any]:
    (result,) = run_checks([REGISTRY["VIP-CRD-002"]], snap)
    assert result.status in (Status.OK, Status.FINDINGS), result.reason
    return result.findings


def released_claims(n: int, *, with_time: bool) -> list[Obj]:
    return [
        claim(f"old-{i}", ip=f"10.0.1.{10 + i}", released=NOW - D if with_time else None)
        for i in range(n)
    ]


def _vips_for(claims: list[Obj]) -> list[Obj]:
    return [vip(c["status"]["ip"], ("db", c["metadata"]["name"]), node=None) for c in claims]


def test_a_cluster_that_fits_is_ok() -> None:
    old = released_claims(3, with_time=True)
    snap = base(claims=base().claims + old, vips=base().vips + _vips_for(old))
    assert check(fitted(snap, all_crds())) == []


def test_release_time_unknown_for_most_released_claims_is_a_warning_in_the_users_words() -> None:
    old = released_claims(4, with_time=False)
    snap = fitted(base(claims=base().claims + old, vips=base().vips + _vips_for(old)), all_crds())
    (f,) = check(snap)
    assert f.severity is Severity.WARNING
    assert f.title == "The model does not fit: release time unknown for 4 of 4 claims without a Pod"
    assert any("--overdue and --retained-for select nothing" in e for e in f.evidence)
    assert "bundle --shapes" in f.fix
    # the claim in use has no release time and is not counted against the model
    assert any(d.startswith("VpcIPClaim release time: no path present") for d in f.details)


def test_an_alternative_path_another_version_and_unread_fields_are_info() -> None:
    old = released_claims(3, with_time=True)
    for c in old:  # this cluster writes lastDetachTime
        c["status"]["lastDetachTime"] = c["status"].pop("releaseTime")
    newer = schema_of(fields.CLAIM, {"status.allocatedAt": "string"})
    crds = all_crds(**{fields.CLAIM: {"v1": newer, "v2": newer}})
    snap = fitted(base(claims=base().claims + old, vips=base().vips + _vips_for(old)), crds)
    (f,) = check(snap)
    assert f.severity is Severity.INFO
    assert any(
        "release time read from status.lastDetachTime (3 objects), not status.releaseTime" in e
        for e in f.evidence
    )
    assert any("VpcIPClaim: also v2 beside v1" in e for e in f.evidence)
    assert "VpcIPClaim schema declares, not read: status.allocatedAt (string)" in f.details
    # the per-path counts of each fact, for a direct count of the objects to check
    assert "VpcIPClaim release time: status.lastDetachTime in 3" in f.details


def test_counts_equal_a_direct_count_of_the_objects() -> None:
    claims = [claim("a-0", ip="10.0.1.2"), claim("a-1"), claim("a-2", ip="10.0.1.4")]
    claims[1]["spec"] = {"ip": "10.0.1.3"}
    snap = fitted(base(claims=claims, vips=[]), all_crds())
    count = snap.fit[fields.CLAIM]  # type: ignore[index]
    assert count.objects == 3
    assert count.by_alt["claim.ip"] == [2, 0, 1]
    assert count.doc()["fields"]["claim.ip"]["paths"] == {
        "status.ip": 2,
        "status.vpcIP": 0,
        "spec.ip": 1,
    }


# ---------------------------------------------------------------------------- the views' note


def test_view_note_only_when_most_are_unknown() -> None:
    def inv(known: int, unknown: int) -> Inventory:
        cs = released_claims(known, with_time=True) + [
            claim(f"x-{i}", ip=f"10.0.2.{i}") for i in range(unknown)
        ]
        return Inventory.build(cs, [])

    assert view_note(["claim.releaseTime"], inv(2, 1)) is None
    assert view_note(["claim.releaseTime"], inv(2, 2)) is None  # half known: not most unknown
    note = view_note(["claim.releaseTime"], inv(1, 2))
    assert note is not None and "release time unknown for 2 of 3 claims without a Pod" in note
    assert note.endswith("see kubectl vip doctor --check VIP-CRD-002")


def _drop_release_times(sb: Sandbox) -> None:
    claims = sb.world.t.claims
    assert claims is not None
    for o in list(sb.store.objects(claims)):
        if "releaseTime" in (o.get("status") or {}):

            def drop(obj: Obj) -> None:
                obj["status"].pop("releaseTime", None)
                obj["metadata"].pop("managedFields", None)

            sb.store.mutate(claims, o["metadata"]["namespace"], o["metadata"]["name"], drop)


@pytest.mark.parametrize(
    "args",
    [
        ["list", "-A"],
        ["list", "-A", "-o", "json"],
        ["reclaim", "--overdue", "-A", "--dry-run"],
        ["reclaim", "--retained-for", "1h", "-A", "--dry-run"],
    ],
    ids=["list", "list-json", "overdue", "retained-for"],
)
def test_the_note_appears_exactly_when_release_times_are_unknown_for_most(
    sandbox: Sandbox, kubeconfig: Path, args: list[str]
) -> None:
    before = run_vip(*args, kubeconfig=kubeconfig)
    assert "VIP-CRD-002" not in before.stderr
    _drop_release_times(sandbox)
    after = run_vip(*args, kubeconfig=kubeconfig)
    lines = [ln for ln in after.stderr.splitlines() if "VIP-CRD-002" in ln]
    assert len(lines) == 1, after.stderr  # once, not per object
    assert "release time unknown for" in lines[0] and "claims without a Pod" in lines[0]
    usage = run_vip("usage", kubeconfig=kubeconfig)
    assert "VIP-CRD-002" not in usage.stderr  # usage does not depend on release times


def test_doctor_counts_through_the_sandbox(sandbox: Sandbox, kubeconfig: Path) -> None:
    _drop_release_times(sandbox)
    r = run_vip("doctor", "--check", "VIP-CRD-002", "-o", "json", kubeconfig=kubeconfig)
    (f,) = json.loads(r.stdout)["findings"]
    assert f["severity"] == "warning"
    assert f["title"].startswith("The model does not fit: release time unknown for ")
    claims = sandbox.world.t.claims
    assert claims is not None
    objs = sandbox.store.objects(claims)
    with_ip = sum(1 for o in objs if (o.get("status") or {}).get("ip"))
    assert f"VpcIPClaim IP: status.ip in {with_ip}" in " ".join(f["details"])


def test_pods_are_not_needed_for_the_schema_part() -> None:
    snap = fitted(base(pods=None), all_crds())
    assert check(snap) == []


def test_nec_counts(tmp_path: Path) -> None:
    snap = fitted(base(necs=[nec("node-a"), nec("node-b", subnet=None)]), all_crds())
    count = snap.fit[fields.NEC]  # type: ignore[index]
    assert (count.objects, count.resolved("nec.eniInfos")) == (2, 1)
    assert pod  # the builders are shared with test_doctor_checks


# ---------------------------------------------------------------------------- shapes


# values as a cluster has them: names with digits, dashes or dots (an IP, node-3, eni-1a2b)
_value = st.from_regex(r"[a-z]{2,8}[0-9.-][a-z0-9.-]{3,10}", fullmatch=True)


@given(secret=_value, key=_value)
def test_a_shape_holds_no_value_of_the_objects(secret: str, key: str) -> None:
    from kubectl_vip.model.field_shapes import KindShape

    shape = KindShape(fields.VIP)
    obj = {
        "metadata": {
            "name": secret,
            "uid": secret,
            "labels": {key: secret, fields.NODE_LABEL: secret},
            "annotations": {key: secret},
        },
        "spec": {"claimRef": {"name": secret, "namespace": secret}, "byName": {key: secret}},
        "status": {"phase": secret, "list": [{"ip": secret}]},
    }
    shape.observe(obj)
    text = json.dumps(shape.doc())
    assert secret not in text and key not in text  # no value, and no key that is data
    doc = shape.doc()["paths"]
    assert doc["spec.claimRef.name"] == {"types": {"string": 1}, "present": 1}
    assert doc["status.list[].ip"]["present"] == 1
    assert "spec.byName.<key>" in doc and "metadata.labels.<other>" in doc


def _values(sb: Sandbox) -> set[str]:
    """Every name, IP, uid, label and annotation value of the scenario's objects."""
    out: set[str] = set()
    t = sb.world.t
    for rtype in (t.claims, t.vips, t.necs, t.enis, t.pods, t.nodes, t.statefulsets):
        if rtype is None:
            continue
        for o in sb.store.objects(rtype):
            meta = o.get("metadata") or {}
            out |= {str(meta.get(k)) for k in ("name", "uid", "namespace") if meta.get(k)}
            for k in ("labels", "annotations"):
                out |= {str(v) for v in (meta.get(k) or {}).values()}
            st = o.get("status") or {}
            out |= {str(st[k]) for k in ("ip", "podIP", "subnetCIDR") if st.get(k)}
    return {v for v in out if len(v) >= 4}


def test_bundle_shapes_holds_no_value_of_the_scenario(
    sandbox: Sandbox, kubeconfig: Path, tmp_path: Path
) -> None:
    path = tmp_path / "shapes.json"
    r = run_vip("bundle", "--shapes", "-o", str(path), kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    assert "no values" in r.stdout
    text = path.read_text()
    values = _values(sandbox)
    assert len(values) > 50  # names, IPs, uids, label and annotation values to look for
    leaked = sorted(v for v in values if v in text)
    assert leaked == []
    doc = json.loads(text)
    assert doc["kind"] == "TkeShapes"
    kinds = {k["kind"]: k for k in doc["kinds"]}
    claims = sandbox.store.objects(sandbox.world.t.claims)  # type: ignore[arg-type]
    assert kinds["VpcIPClaim"]["objects"] == len(claims)
    with_ip = sum(1 for o in claims if (o.get("status") or {}).get("ip"))
    assert kinds["VpcIPClaim"]["paths"]["status.ip"]["present"] == with_ip
    assert doc["fit"]["VpcIPClaim"]["fields"]["claim.ip"]["paths"]["status.ip"] == with_ip
    # refused where a file is (created new), replaced with --force
    assert run_vip("bundle", "--shapes", "-o", str(path), kubeconfig=kubeconfig).code == 2
    assert (
        run_vip("bundle", "--shapes", "-o", str(path), "--force", kubeconfig=kubeconfig).code == 0
    )
