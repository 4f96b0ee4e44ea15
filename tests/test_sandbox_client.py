"""The official `kubernetes` Python client against the sandbox through its kubeconfig: list,
get, create, delete, preconditions, dry-run, paging and watch answer as kube-apiserver does."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import RequestInfo
from kubectl_vip.sandbox.resources import ResourceType

G, V, CLAIMS = "networking.tke.cloud.tencent.com", "v1", "vpcipclaims"
STATUS_KEYS = ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]


@pytest.fixture
def api(kubeconfig: Path) -> Iterator[client.ApiClient]:
    c = config.new_client_from_config(config_file=str(kubeconfig))
    yield c
    c.close()


@pytest.fixture
def co(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


def claims_type(sandbox: Sandbox) -> ResourceType:
    rtype = sandbox.world.t.claims
    assert rtype is not None
    return rtype


def claim(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": f"{G}/{V}",
        "kind": "VpcIPClaim",
        "metadata": {"name": name, **meta},
        "spec": {},
    }


def failure(e: client.ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(e.body)
    assert list(body) == [k for k in STATUS_KEYS if k in body]  # apiserver's field order
    return body


def token(continue_value: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(base64.urlsafe_b64decode(continue_value + "=="))
    return doc


# ------------------------------------------------------------------------------ CRUD


def test_custom_objects_list_get_create_delete(
    co: client.CustomObjectsApi, sandbox: Sandbox
) -> None:
    listed = co.list_namespaced_custom_object(G, V, "default", CLAIMS)
    assert listed["kind"] == "VpcIPClaimList" and listed["apiVersion"] == f"{G}/{V}"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["canary-0", "debug-shell"]
    got = co.get_namespaced_custom_object(G, V, "default", CLAIMS, "debug-shell")
    assert got["status"]["phase"] == "Released" and got["status"]["ip"] == "10.0.1.9"

    made = co.create_namespaced_custom_object(G, V, "default", CLAIMS, claim("py-1"))
    meta = made["metadata"]
    assert (meta["namespace"], meta["generation"]) == ("default", 1)
    assert int(meta["resourceVersion"]) > int(listed["metadata"]["resourceVersion"])
    assert meta["creationTimestamp"] == "2026-11-20T12:00:00Z"
    assert co.get_namespaced_custom_object(G, V, "default", CLAIMS, "py-1") == made

    gone = co.delete_namespaced_custom_object(G, V, "default", CLAIMS, "py-1")
    assert gone == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "py-1", "group": G, "kind": CLAIMS, "uid": meta["uid"]},
    }
    with pytest.raises(client.ApiException) as err:
        co.get_namespaced_custom_object(G, V, "default", CLAIMS, "py-1")
    assert err.value.status == 404
    assert failure(err.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{CLAIMS}.{G} "py-1" not found',
        "reason": "NotFound",
        "details": {"name": "py-1", "group": G, "kind": CLAIMS},
        "code": 404,
    }
    assert sandbox.store.peek(claims_type(sandbox), "default", "py-1") is None


def test_cluster_scoped_vpcips(co: client.CustomObjectsApi) -> None:
    vip = co.get_cluster_custom_object(G, V, "vpcips", "10.0.3.2")
    assert vip["status"]["phase"] == "Attaching"
    assert vip["spec"]["claimRef"]["name"] == "analytics-0"
    assert "namespace" not in vip["metadata"]


def test_core_list_pods_with_label_selector(core: client.CoreV1Api) -> None:
    pods = core.list_namespaced_pod(
        "db", label_selector="app in (redis),apps.kubernetes.io/pod-index!=1"
    )
    assert [p.metadata.name for p in pods.items] == ["redis-0"]
    assert pods.items[0].status.phase == "Running"
    assert pods.items[0].status.pod_ip == "10.0.1.5"
    assert pods.metadata._continue is None and pods.metadata.remaining_item_count is None
    everywhere = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=node-c")
    assert [(p.metadata.namespace, p.metadata.name[:14]) for p in everywhere.items] == [
        ("db", "analytics-0"),
        ("kube-system", "tke-eni-agent-"),  # the eni agent's DaemonSet Pod of the node
    ]
    assert everywhere.items[0].status.phase == "Pending"


def test_pod_delete_answers_the_object_and_missing_pod_has_no_group(
    core: client.CoreV1Api,
) -> None:
    deleted = core.delete_namespaced_pod("report-20261120", "jobs")
    assert isinstance(deleted, client.V1Pod)
    assert deleted.metadata.name == "report-20261120" and deleted.status.phase == "Succeeded"
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_pod("report-20261120", "jobs")
    assert failure(err.value)["details"] == {"name": "report-20261120", "kind": "pods"}
    assert failure(err.value)["message"] == 'pods "report-20261120" not found'


def test_invalid_name_and_update_rules(co: client.CustomObjectsApi) -> None:
    with pytest.raises(client.ApiException) as err:
        co.create_namespaced_custom_object(G, V, "default", CLAIMS, claim("Bad_Name"))
    body = failure(err.value)
    assert (err.value.status, body["reason"]) == (422, "Invalid")
    detail = (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character"
    )
    assert body["message"] == (
        f'VpcIPClaim.{G} "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": {detail}'
    )
    assert body["details"] == {
        "name": "Bad_Name",
        "group": G,
        "kind": "VpcIPClaim",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": f'Invalid value: "Bad_Name": {detail}',
                "field": "metadata.name",
            }
        ],
    }
    current = co.get_namespaced_custom_object(G, V, "db", CLAIMS, "mysql-0")
    stale = dict(current, metadata=dict(current["metadata"], resourceVersion="1001"))
    with pytest.raises(client.ApiException) as err:
        co.replace_namespaced_custom_object(G, V, "db", CLAIMS, "mysql-0", stale)
    assert err.value.status == 409
    assert failure(err.value)["message"] == (
        f'Operation cannot be fulfilled on {CLAIMS}.{G} "mysql-0": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert failure(err.value)["details"] == {"name": "mysql-0", "group": G, "kind": CLAIMS}
    unversioned = dict(current, metadata={"name": "mysql-0", "namespace": "db"})
    with pytest.raises(client.ApiException) as err:
        co.replace_namespaced_custom_object(G, V, "db", CLAIMS, "mysql-0", unversioned)
    assert err.value.status == 422
    assert failure(err.value)["message"] == (
        f'VpcIPClaim.{G} "mysql-0" is invalid: metadata.resourceVersion: Invalid value: 0: '
        "must be specified for an update"
    )


# ------------------------------------------------------------------------------ delete


def test_stale_resource_version_precondition_conflicts(
    co: client.CustomObjectsApi, sandbox: Sandbox
) -> None:
    before = sandbox.store.get(claims_type(sandbox), "default", "debug-shell")
    rv = before["metadata"]["resourceVersion"]
    opts = client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1001"))
    with pytest.raises(client.ApiException) as err:
        co.delete_namespaced_custom_object(G, V, "default", CLAIMS, "debug-shell", body=opts)
    assert (err.value.status, err.value.reason) == (409, "Conflict")
    assert failure(err.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            f'Operation cannot be fulfilled on VpcIPClaim.{G} "debug-shell": the '
            f"ResourceVersion in the precondition (1001) does not match the ResourceVersion in "
            f"record ({rv}). The object might have been modified"
        ),
        "reason": "Conflict",
        "details": {"name": "debug-shell", "group": G, "kind": "VpcIPClaim"},
        "code": 409,
    }
    assert sandbox.store.get(claims_type(sandbox), "default", "debug-shell") == before


def test_uid_precondition_mismatch_conflicts(co: client.CustomObjectsApi, sandbox: Sandbox) -> None:
    before = sandbox.store.get(claims_type(sandbox), "default", "debug-shell")
    wrong = "00000000-0000-4000-8000-0000000000ff"
    opts = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=wrong))
    with pytest.raises(client.ApiException) as err:
        co.delete_namespaced_custom_object(G, V, "default", CLAIMS, "debug-shell", body=opts)
    assert err.value.status == 409
    assert failure(err.value)["message"] == (
        f'Operation cannot be fulfilled on VpcIPClaim.{G} "debug-shell": the UID in the '
        f"precondition ({wrong}) does not match the UID in record ({before['metadata']['uid']}). "
        "The object might have been deleted and then recreated"
    )
    assert sandbox.store.get(claims_type(sandbox), "default", "debug-shell") == before
    # matching preconditions delete it
    exact = client.V1DeleteOptions(
        preconditions=client.V1Preconditions(
            uid=before["metadata"]["uid"], resource_version=before["metadata"]["resourceVersion"]
        )
    )
    done = co.delete_namespaced_custom_object(G, V, "default", CLAIMS, "debug-shell", body=exact)
    assert done["status"] == "Success"


def test_finalizer_keeps_a_deleted_claim_until_removed(
    co: client.CustomObjectsApi, sandbox: Sandbox
) -> None:
    co.create_namespaced_custom_object(
        G, V, "default", CLAIMS, claim("held", finalizers=["example.com/hold"])
    )
    marked = co.delete_namespaced_custom_object(G, V, "default", CLAIMS, "held")
    meta = marked["metadata"]
    assert marked["kind"] == "VpcIPClaim"  # the object, not a Status: it is still there
    assert (meta["deletionTimestamp"], meta["deletionGracePeriodSeconds"]) == (
        "2026-11-20T12:00:00Z",
        0,
    )
    assert meta["generation"] == 2 and meta["finalizers"] == ["example.com/hold"]
    again = co.delete_namespaced_custom_object(G, V, "default", CLAIMS, "held")
    assert again == marked  # a second delete changes nothing
    with pytest.raises(client.ApiException) as err:
        co.create_namespaced_custom_object(G, V, "default", CLAIMS, claim("held"))
    assert failure(err.value)["message"] == (
        f'object is being deleted: {CLAIMS}.{G} "held" already exists'
    )
    last = co.patch_namespaced_custom_object(
        G,
        V,
        "default",
        CLAIMS,
        "held",
        [{"op": "remove", "path": "/metadata/finalizers"}],
        _content_type="application/json-patch+json",
    )
    assert last["metadata"]["finalizers"] == ["example.com/hold"]  # its last stored state
    assert int(last["metadata"]["resourceVersion"]) > int(meta["resourceVersion"])
    assert sandbox.store.peek(claims_type(sandbox), "default", "held") is None


def test_orphan_dependents_false_is_accepted_with_202(
    api: client.ApiClient, sandbox: Sandbox
) -> None:
    co = client.CustomObjectsApi(api)
    co.create_namespaced_custom_object(
        G, V, "default", CLAIMS, claim("held", finalizers=["example.com/hold"])
    )
    _, status, _ = co.delete_namespaced_custom_object_with_http_info(
        G, V, "default", CLAIMS, "held", body=client.V1DeleteOptions(orphan_dependents=False)
    )
    assert status == 202
    with pytest.raises(client.ApiException) as err:
        co.delete_namespaced_custom_object(
            G,
            V,
            "default",
            CLAIMS,
            "held",
            body=client.V1DeleteOptions(orphan_dependents=True, propagation_policy="Orphan"),
        )
    assert err.value.status == 422
    assert failure(err.value)["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": '
        "orphanDependents and deletionPropagation cannot be both set"
    )


# ------------------------------------------------------------------------------ dry run


def test_dry_run_create_persists_nothing(co: client.CustomObjectsApi, sandbox: Sandbox) -> None:
    rv = sandbox.store.rv
    made = co.create_namespaced_custom_object(
        G, V, "default", CLAIMS, claim("ghost"), dry_run="All"
    )
    assert "resourceVersion" not in made["metadata"]
    assert made["metadata"]["uid"] and made["metadata"]["creationTimestamp"]
    assert sandbox.store.rv == rv
    with pytest.raises(client.ApiException) as err:
        co.get_namespaced_custom_object(G, V, "default", CLAIMS, "ghost")
    assert err.value.status == 404
    with pytest.raises(client.ApiException) as err:
        co.create_namespaced_custom_object(G, V, "default", CLAIMS, claim("ghost"), dry_run="Some")
    assert err.value.status == 422
    assert failure(err.value)["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Some"}: '
        'supported values: "All"'
    )


def test_dry_run_patch_and_no_op_patch_keep_the_resource_version(
    co: client.CustomObjectsApi, sandbox: Sandbox
) -> None:
    before = sandbox.store.get(claims_type(sandbox), "db", "mysql-1")
    rv = before["metadata"]["resourceVersion"]
    patch = {"metadata": {"labels": {"tier": "data"}}}
    previewed = co.patch_namespaced_custom_object(
        G, V, "db", CLAIMS, "mysql-1", patch, dry_run="All"
    )
    assert previewed["metadata"]["labels"]["tier"] == "data"
    assert previewed["metadata"]["resourceVersion"] == rv
    assert sandbox.store.get(claims_type(sandbox), "db", "mysql-1") == before
    same = {"metadata": {"labels": {"app": "mysql"}}}
    unchanged = co.patch_namespaced_custom_object(G, V, "db", CLAIMS, "mysql-1", same)
    assert unchanged["metadata"]["resourceVersion"] == rv
    applied = co.patch_namespaced_custom_object(G, V, "db", CLAIMS, "mysql-1", patch)
    assert int(applied["metadata"]["resourceVersion"]) > int(rv)
    assert applied["metadata"]["generation"] == before["metadata"]["generation"]  # metadata only


# ------------------------------------------------------------------------------ paging


def test_paging_with_limit_and_continue(co: client.CustomObjectsApi) -> None:
    pages: list[dict[str, Any]] = []
    cont: str | None = None
    while True:
        page = co.list_cluster_custom_object(G, V, CLAIMS, limit=10, _continue=cont)
        pages.append(page)
        cont = page["metadata"].get("continue")
        if not cont:
            break
    assert [len(p["items"]) for p in pages] == [10, 10, 3]
    assert [p["metadata"].get("remainingItemCount") for p in pages] == [13, 3, None]
    assert len({p["metadata"]["resourceVersion"] for p in pages}) == 1
    names = [
        f"{i['metadata']['namespace']}/{i['metadata']['name']}" for p in pages for i in p["items"]
    ]
    assert names == [
        f"{i['metadata']['namespace']}/{i['metadata']['name']}"
        for i in co.list_cluster_custom_object(G, V, CLAIMS)["items"]
    ]
    first = token(pages[0]["metadata"]["continue"])
    assert first == {
        "v": "meta.k8s.io/v1",
        "rv": int(pages[0]["metadata"]["resourceVersion"]),
        "start": "default/debug-shell\x00",
    }
    scoped = co.list_namespaced_custom_object(G, V, "db", CLAIMS, limit=3)
    assert token(scoped["metadata"]["continue"])["start"] == "mysql-1\x00"
    assert scoped["metadata"]["remainingItemCount"] == 5
    selected = co.list_namespaced_custom_object(
        G, V, "db", CLAIMS, limit=1, label_selector="app=redis"
    )
    assert selected["metadata"]["continue"] and "remainingItemCount" not in selected["metadata"]
    cached = co.list_cluster_custom_object(G, V, CLAIMS, limit=2, resource_version="0")
    assert len(cached["items"]) == 23 and "continue" not in cached["metadata"]


def test_bad_continue_tokens_are_bad_requests(co: client.CustomObjectsApi) -> None:
    cases = {
        "%%%": "illegal base64 data at input byte 0",
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v2","rv":5,"start":"a"}').decode(): (
            "server does not recognize this encoded version meta.k8s.io/v2"
        ),
        base64.urlsafe_b64encode(b'{"v":"meta.k8s.io/v1","rv":0,"start":"a"}').decode(): (
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ),
    }
    for tok, why in cases.items():
        with pytest.raises(client.ApiException) as err:
            co.list_cluster_custom_object(G, V, CLAIMS, limit=2, _continue=tok.rstrip("="))
        assert err.value.status == 400
        assert failure(err.value)["message"] == (
            f"invalid continue token: continue key is not valid: {why}"
        )
    page = co.list_cluster_custom_object(G, V, CLAIMS, limit=2)
    with pytest.raises(client.ApiException) as err:
        co.list_cluster_custom_object(
            G, V, CLAIMS, limit=2, _continue=page["metadata"]["continue"], resource_version="5"
        )
    assert failure(err.value)["message"] == (
        "specifying resource version is not allowed when using continue"
    )


# ------------------------------------------------------------------------------ watch


def test_watch_sees_added_and_deleted(co: client.CustomObjectsApi, sandbox: Sandbox) -> None:
    claims = claims_type(sandbox)
    start = co.list_namespaced_custom_object(G, V, "default", CLAIMS)["metadata"]["resourceVersion"]

    def churn(req: RequestInfo) -> None:
        sandbox.store.create(claims, "default", {"metadata": {"name": "w1"}, "spec": {}})
        sandbox.store.mutate(claims, "default", "w1", lambda o: o.update(spec={"x": 1}))
        sandbox.store.delete(claims, "default", "w1")
        sandbox.store.create(claims, "jobs", {"metadata": {"name": "elsewhere"}, "spec": {}})

    sandbox.controls.on("watch", CLAIMS, churn)
    w = watch.Watch()
    seen: list[tuple[str, str, str]] = []
    for ev in w.stream(
        co.list_namespaced_custom_object,
        G,
        V,
        "default",
        CLAIMS,
        resource_version=start,
        timeout_seconds=10,
    ):
        obj = ev["object"]
        seen.append((ev["type"], obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))
        if len(seen) == 3:
            w.stop()
    assert [s[:2] for s in seen] == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    rvs = [int(s[2]) for s in seen]
    assert rvs == sorted(rvs) and int(start) < rvs[0] and len(set(rvs)) == 3


def test_watch_without_version_starts_with_the_current_objects(
    co: client.CustomObjectsApi,
) -> None:
    w = watch.Watch()
    events = [
        (ev["type"], ev["object"]["metadata"]["name"])
        for ev in w.stream(
            co.list_namespaced_custom_object, G, V, "jobs", CLAIMS, timeout_seconds=1
        )
    ]
    assert events == [
        ("ADDED", "etl-worker-0"),
        ("ADDED", "etl-worker-1"),
        ("ADDED", "report-20261120"),
    ]


def test_label_watch_reports_objects_leaving_the_selection(
    co: client.CustomObjectsApi, sandbox: Sandbox
) -> None:
    claims = claims_type(sandbox)
    start = co.list_namespaced_custom_object(G, V, "db", CLAIMS)["metadata"]["resourceVersion"]

    def relabel(req: RequestInfo) -> None:
        def move(o: dict[str, Any]) -> None:
            o["metadata"]["labels"]["app"] = "other"

        sandbox.store.mutate(claims, "db", "redis-3", move)

    sandbox.controls.on("watch", CLAIMS, relabel)
    w = watch.Watch()
    events = []
    for ev in w.stream(
        co.list_namespaced_custom_object,
        G,
        V,
        "db",
        CLAIMS,
        label_selector="app=redis",
        resource_version=start,
        timeout_seconds=10,
    ):
        events.append(ev)
        w.stop()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("DELETED", "redis-3")
    ]
    gone = events[0]["object"]["metadata"]
    assert gone["labels"]["app"] == "redis"  # its last state that matched
    assert int(gone["resourceVersion"]) > int(start)


def test_watch_list_is_refused_so_clients_fall_back(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as err:
        core.list_namespaced_pod(
            "db",
            watch=True,
            send_initial_events=True,
            resource_version_match="NotOlderThan",
            allow_watch_bookmarks=True,
        )
    assert err.value.status == 422
    assert failure(err.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": (
            'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: '
            "sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"
        ),
        "reason": "Invalid",
        "details": {
            "group": "meta.k8s.io",
            "kind": "ListOptions",
            "causes": [
                {
                    "reason": "FieldValueForbidden",
                    "message": (
                        "Forbidden: sendInitialEvents is forbidden for watch unless the "
                        "WatchList feature gate is enabled"
                    ),
                    "field": "sendInitialEvents",
                }
            ],
        },
        "code": 422,
    }


def test_foreground_delete_marks_first_even_without_dependents(
    co: client.CustomObjectsApi, sandbox: Sandbox
) -> None:
    answer = co.delete_namespaced_custom_object(
        G, V, "web", CLAIMS, "api-old-7", propagation_policy="Foreground"
    )
    # apiserver adds the finalizer whatever the dependents; the garbage collector then finds
    # none and lets the object go
    assert answer["kind"] == "VpcIPClaim"
    assert answer["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert answer["metadata"]["deletionTimestamp"] == "2026-11-20T12:00:00Z"
    assert sandbox.store.peek(claims_type(sandbox), "web", "api-old-7") is None


def test_lists_follow_etcd_key_order(co: client.CustomObjectsApi, core: client.CoreV1Api) -> None:
    # keys are `namespace/name`: "app-b/" sorts before "app/" ('-' < '/')
    for ns in ("app", "app-b"):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        co.create_namespaced_custom_object(G, V, ns, CLAIMS, claim("x"))
        co.create_namespaced_custom_object(G, V, ns, CLAIMS, claim("x-1"))
    want = ["app-b/x", "app-b/x-1", "app/x", "app/x-1"]

    def ours(items: list[dict[str, Any]]) -> list[str]:
        keys = [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in items]
        return [k for k in keys if k.startswith("app")]

    assert ours(co.list_cluster_custom_object(G, V, CLAIMS)["items"]) == want
    paged: list[dict[str, Any]] = []
    cont = None
    while True:
        page = co.list_cluster_custom_object(G, V, CLAIMS, limit=1, _continue=cont)
        paged += page["items"]
        cont = page["metadata"].get("continue")
        if not cont:
            break
    assert ours(paged) == want and len(paged) == 27
