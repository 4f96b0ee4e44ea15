"""managedFields as the sandbox records `Update` operations: who set which field, and when."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_vip.sandbox.managedfields import record

T0, T1, T2 = "2026-11-10T12:00:00Z", "2026-11-12T12:00:00Z", "2026-11-14T12:00:00Z"


def sts(replicas: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "shop", "uid": "u", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "serviceName": "web", "template": {"spec": {}}},
    }


def entries(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list(obj["metadata"]["managedFields"])


def write(old: dict[str, Any], fn: Any, manager: str, sub: str, time: str) -> dict[str, Any]:
    new = copy.deepcopy(old)
    fn(new)
    record(old, new, manager=manager, subresource=sub, time=time)
    return new


def test_a_create_owns_every_field_it_sets_but_the_servers() -> None:
    obj = sts()
    record(None, obj, manager="kubectl-create", subresource="", time=T0)
    assert entries(obj) == [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {"f:replicas": {}, "f:serviceName": {}, "f:template": {"f:spec": {}}},
            },
        }
    ]


def test_a_scale_takes_the_replicas_from_their_previous_owner() -> None:
    obj = sts()
    record(None, obj, manager="kubectl-create", subresource="", time=T0)

    def scale(o: dict[str, Any]) -> None:
        o["spec"]["replicas"] = 1

    scaled = write(obj, scale, "kubectl", "scale", T1)
    creator, scaler = entries(scaled)
    assert creator["time"] == T0 and "f:replicas" not in creator["fieldsV1"]["f:spec"]
    assert scaler == {
        "manager": "kubectl",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": T1,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:spec": {"f:replicas": {}}},
        "subresource": "scale",
    }
    again = write(scaled, lambda o: o["spec"].update(replicas=0), "kubectl", "scale", T2)
    assert [e["time"] for e in entries(again)] == [T0, T2]  # one entry per manager, newest time


def test_status_writes_are_their_own_entry_and_a_manager_that_owns_nothing_goes() -> None:
    obj = sts()
    record(None, obj, manager="a", subresource="", time=T0)
    with_status = write(obj, lambda o: o.update(status={"replicas": 3}), "kcm", "status", T1)
    assert entries(with_status)[-1]["fieldsV1"] == {"f:status": {"f:replicas": {}}}
    assert entries(with_status)[-1]["subresource"] == "status"

    def relabel(o: dict[str, Any]) -> None:
        o["metadata"]["labels"] = {"app": "shop"}

    # "b" takes the only field "a" had in metadata; "a" keeps its spec
    relabeled = write(with_status, relabel, "b", "", T2)
    owners = {e["manager"]: e["fieldsV1"] for e in entries(relabeled)}
    assert "f:metadata" not in owners["a"] and owners["b"] == {
        "f:metadata": {"f:labels": {"f:app": {}}}
    }
    # "c" sets the replicas and drops the rest of the spec: nothing is left of a's
    whole = write(relabeled, lambda o: o.update(spec={"replicas": 2}), "c", "", T2)
    assert [e["manager"] for e in entries(whole)] == ["kcm", "b", "c"]
    gone = write(whole, lambda o: o.pop("spec"), "c", "", T2)
    assert [e["manager"] for e in entries(gone)] == ["kcm", "b"]
