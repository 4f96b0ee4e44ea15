"""The records `list` reduces each page to: the fast readers of the common shape give exactly
what the path-by-path accessors give, for any shape the API (or a proxy) may send."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_vip.api import shapes
from kubectl_vip.errors import MalformedAnswer
from kubectl_vip.model import records, schema

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["", "x", "Running", "10.0.0.1", "db", "node-1", "apps/v1", "Pod"]),
)
ANY = st.one_of(
    SCALAR, st.lists(SCALAR, max_size=2), st.dictionaries(st.text(max_size=2), SCALAR, max_size=2)
)


def fields(keys: list[str]) -> st.SearchStrategy[Any]:
    """A dict with some of `keys` (odd values included), or something that is not a dict."""
    return st.one_of(
        st.dictionaries(st.sampled_from(keys), ANY, max_size=len(keys)),
        st.fixed_dictionaries({}, optional={k: SCALAR for k in keys}),
        ANY,
    )


OWNER_REF = st.fixed_dictionaries(
    {},
    optional={
        "kind": st.sampled_from(["StatefulSet", "ReplicaSet", "", 5]),
        "name": st.sampled_from(["web", "", None]),
        "uid": st.sampled_from(["u1", "", None, 7]),
        "apiVersion": st.sampled_from(["apps/v1", "v1", None]),
        "controller": st.sampled_from([True, False, None, "true"]),
    },
)
META = st.fixed_dictionaries(
    {},
    optional={
        "name": SCALAR,
        "namespace": SCALAR,
        "uid": SCALAR,
        "creationTimestamp": st.sampled_from(["2026-11-29T21:16:13Z", "", "nope", None, 3]),
        "deletionTimestamp": st.sampled_from(["2026-11-29T21:16:13Z", None, ""]),
        "labels": fields([schema.NODE_LABEL, schema.POD_NS_LABEL, schema.POD_NAME_LABEL]),
        "annotations": fields([schema.EXPIRY, schema.DELETE_POLICY]),
        "ownerReferences": st.one_of(st.lists(OWNER_REF, max_size=3), ANY),
    },
)
# list items are dicts (shapes.check_list); their parts may be anything
OBJ = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.one_of(META, ANY),
        "spec": fields(["claimRef", "type", "subnetID", "nodeName"])
        | st.fixed_dictionaries(
            {"claimRef": fields(["namespace", "name", "uid"])},
            optional={"type": SCALAR, "subnetID": SCALAR},
        ),
        "status": fields(["phase", "message", "node", "subnetCIDR"]),
    },
)


@settings(max_examples=600, deadline=None)
@given(OBJ)
def test_vip_records_are_the_same_either_way(obj: Any) -> None:
    assert records.vip_record(obj) == records.vip_record_by_paths(obj)


@settings(max_examples=600, deadline=None)
@given(OBJ)
def test_pod_records_are_the_same_either_way(obj: Any) -> None:
    assert records.pod_record(obj) == records.pod_record_by_paths(obj)


CLAIM_OBJ = st.fixed_dictionaries(
    {},
    optional={
        "metadata": st.one_of(META, ANY),
        "status": fields([records._IP, records._RELEASE_TIME, records._DETACH_TIME])
        | st.fixed_dictionaries(
            {records._IP: st.sampled_from(["10.0.0.7", "", None, 7])},
            optional={
                records._RELEASE_TIME: st.sampled_from(["2026-11-29T21:16:13Z", "", "no", None]),
                records._DETACH_TIME: st.sampled_from(["2026-11-29T22:00:00Z", "", None, 1]),
            },
        ),
    },
)


@settings(max_examples=600, deadline=None)
@given(CLAIM_OBJ)
def test_claim_records_are_the_same_either_way(obj: Any) -> None:
    assert records.claim_record(obj) == records.claim_record_by_paths(obj)


def test_a_common_vpcip_and_pod_read_in_full() -> None:
    vip = {
        "metadata": {
            "name": "10.0.0.7",
            "creationTimestamp": "2026-11-29T21:16:13Z",
            "labels": {schema.NODE_LABEL: "node-1"},
            "annotations": {schema.EXPIRY: "1h"},
        },
        "spec": {"claimRef": {"namespace": "db", "name": "pg-0", "uid": "u1"}, "type": "Pod"},
        "status": {"phase": "Attached", "subnetCIDR": "10.0.0.0/24"},
    }
    rec = records.vip_record(vip)
    assert (rec.name, rec.node, rec.expiry, rec.phase, rec.vtype) == (
        "10.0.0.7",
        "node-1",
        "1h",
        "Attached",
        "Pod",
    )
    assert rec.claim == schema.ClaimRef("db", "pg-0", "u1")
    pod = {
        "metadata": {
            "name": "pg-0",
            "namespace": "db",
            "uid": "p1",
            "ownerReferences": [
                {
                    "kind": "StatefulSet",
                    "name": "pg",
                    "uid": "s1",
                    "apiVersion": "apps/v1",
                    "controller": True,
                },
            ],
        },
        "spec": {"nodeName": "node-1"},
        "status": {"phase": "Running"},
    }
    p = records.pod_record(pod)
    assert (p.namespace, p.name, p.uid, p.phase, p.node, p.deleting) == (
        "db",
        "pg-0",
        "p1",
        "Running",
        "node-1",
        False,
    )
    assert p.controller is not None and (p.controller.kind, p.controller.group) == (
        "StatefulSet",
        "apps",
    )


@settings(max_examples=600, deadline=None)
@given(st.one_of(OBJ, ANY))
def test_what_the_quick_shape_check_passes_the_full_one_passes(obj: Any) -> None:
    if shapes._plainly_fine(obj):
        assert shapes.check_metadata(obj, "item") is obj
    try:
        full = shapes.check_metadata(obj, "item")
    except MalformedAnswer as e:
        with pytest.raises(MalformedAnswer) as raised:
            shapes.check_object(obj, "item")
        assert raised.value.message == e.message
    else:
        assert shapes.check_object(obj, "item") is full


def test_parse_time_shares_one_datetime_per_text_and_stays_bounded() -> None:
    """A burst of objects made in one second parse their time once; the cache never grows past
    its bound, and what it answers is what a fresh parse answers."""
    a = schema.parse_time("2026-11-29T21:16:13Z")
    assert a is schema.parse_time("2026-11-29T21:16:13Z")
    assert a is not None and a.isoformat() == "2026-11-29T21:16:13+00:00"
    assert schema.parse_time("nope") is None and schema.parse_time("nope") is None
    assert schema.parse_time("") is None and schema.parse_time(3) is None
    for s in range(schema._TIMES_MAX + 10):
        t = f"2026-11-29T21:{s // 60 % 60:02d}:{s % 60:02d}.{s:06d}Z"
        assert schema.parse_time(t) == schema._parse_time(t)
    assert len(schema._TIMES) <= schema._TIMES_MAX


def test_pods_are_found_by_namespace_and_name() -> None:
    from kubectl_vip.model.claims import PodIndex

    pods = PodIndex()
    a = records.PodRec("db", "pg-0", "u1", "Running", False, "n1", None, None)
    b = records.PodRec("web", "pg-0", "u2", "Pending", False, None, None, None)
    pods.add(a)
    pods.add(b)
    pods.add(records.PodRec("db", "pg-0", "u1", "Running", False, "n1", None, None))  # again
    assert len(pods) == 2
    assert pods.get(("db", "pg-0")) == a and pods[("web", "pg-0")] is b
    assert ("db", "pg-0") in pods and ("db", "pg-1") not in pods and "db" not in pods
    assert pods.get(("nope", "x")) is None and pods.get(("db", "x"), 5) == 5
    assert sorted(pods) == [("db", "pg-0"), ("web", "pg-0")]
    with pytest.raises(KeyError):
        pods[("db", "pg-9")]
