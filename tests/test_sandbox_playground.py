"""The sandbox as a playground: what people type into the real kubectl works as on a cluster
(typed creates in protobuf, scale, autoscale, drain, cordon, taint, expose, run, rollout undo,
watch, wait), or answers as a cluster without that add-on does (top)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import RequestInfo

from .conftest import BIN, Runner, kubectl_path, make_sandbox, run_vip
from .test_sandbox_kubectl import Streamed, rows

JSONPATH_NAME = "jsonpath={.metadata.name}"


@pytest.fixture
def watcher(kubeconfig: Path, tmp_path: Path) -> Iterator[Callable[..., Streamed]]:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), HOME=str(tmp_path))
    started: list[Streamed] = []

    def start(*args: str) -> Streamed:
        started.append(Streamed(list(args), env))
        return started[-1]

    yield start
    for s in started:
        s.close()


def claim_states(vip: Runner, namespace: str) -> dict[str, str]:
    r = vip("list", "-n", namespace, "-o", "json")
    assert r.code == 0, r.stderr
    return {c["name"]: c["state"] for c in json.loads(r.stdout)["items"]}


# ------------------------------------------------------------------------------ typed creates

TYPED_CREATES = [
    (["create", "namespace", "x"], "namespace/x created", ["get", "ns", "x"]),
    (
        ["create", "deployment", "web", "--image=nginx", "-n", "web"],
        "deployment.apps/web created",
        ["get", "deploy", "web", "-n", "web"],
    ),
    (
        ["create", "configmap", "cfg", "--from-literal=a=b"],
        "configmap/cfg created",
        ["get", "cm", "cfg"],
    ),
    (
        ["create", "secret", "generic", "pw", "--from-literal=k=v"],
        "secret/pw created",
        ["get", "secret", "pw"],
    ),
    (
        ["create", "job", "once", "--image=busybox", "--", "true"],
        "job.batch/once created",
        ["get", "job", "once"],
    ),
    (
        ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"],
        "cronjob.batch/tick created",
        ["get", "cronjob", "tick"],
    ),
    (
        ["create", "role", "reader", "--verb=get", "--resource=pods"],
        "role.rbac.authorization.k8s.io/reader created",
        ["get", "role", "reader"],
    ),
    (
        ["create", "rolebinding", "read", "--role=reader", "--user=alice"],
        "rolebinding.rbac.authorization.k8s.io/read created",
        ["get", "rolebinding", "read"],
    ),
    (
        ["create", "clusterrole", "nodes", "--verb=get", "--resource=nodes"],
        "clusterrole.rbac.authorization.k8s.io/nodes created",
        ["get", "clusterrole", "nodes"],
    ),
    (
        ["create", "clusterrolebinding", "nodes", "--clusterrole=nodes", "--user=bob"],
        "clusterrolebinding.rbac.authorization.k8s.io/nodes created",
        ["get", "clusterrolebinding", "nodes"],
    ),
    (
        ["create", "quota", "small", "--hard=pods=10"],
        "resourcequota/small created",
        ["get", "quota", "small"],
    ),
    (
        ["create", "pdb", "web", "--selector=app=web", "--min-available=1"],
        "poddisruptionbudget.policy/web created",
        ["get", "pdb", "web"],
    ),
    (
        ["create", "ingress", "web", "--rule=foo.example.com/=web:80"],
        "ingress.networking.k8s.io/web created",
        ["get", "ingress", "web"],
    ),
    (
        ["create", "priorityclass", "high", "--value=1000"],
        "priorityclass.scheduling.k8s.io/high created",
        ["get", "priorityclass", "high"],
    ),
    (
        ["create", "service", "clusterip", "api", "--tcp=80:8080"],
        "service/api created",
        ["get", "service", "api"],
    ),
    (
        ["create", "serviceaccount", "robot"],
        "serviceaccount/robot created",
        ["get", "sa", "robot"],
    ),
]


@pytest.mark.parametrize(
    ("create", "said", "get"), TYPED_CREATES, ids=[c[0][1] for c in TYPED_CREATES]
)
def test_typed_create_works(kubectl: Runner, create: list[str], said: str, get: list[str]) -> None:
    r = kubectl(*create)
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == said
    got = kubectl(*get, "-o", JSONPATH_NAME)
    assert got.code == 0, got.stderr
    assert got.stdout == create[3 if create[1] in ("secret", "service") else 2]


# ------------------------------------------------------------------------------ scale


def test_scaling_a_static_statefulset_down_makes_orphaned_claims(
    kubectl: Runner, vip: Runner
) -> None:
    r = kubectl("scale", "sts", "redis", "-n", "db", "--replicas=1")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "statefulset.apps/redis scaled"
    replicas = kubectl("get", "sts", "redis", "-n", "db", "-o", "jsonpath={.spec.replicas}")
    assert replicas.stdout == "1"
    states = claim_states(vip, "db")
    assert {k: v for k, v in states.items() if k.startswith("redis")} == {
        "redis-0": "InUse",
        "redis-1": "ScaledIn",
        "redis-2": "ScaledIn",
        "redis-3": "ScaledIn",
    }
    # scaling back up brings the Pod back with its static IP
    assert kubectl("scale", "sts", "redis", "-n", "db", "--replicas=3").code == 0
    ip = kubectl("get", "pod", "redis-2", "-n", "db", "-o", "jsonpath={.status.podIP}")
    assert ip.stdout == "10.0.1.7"
    assert claim_states(vip, "db")["redis-2"] == "InUse"


def test_scale_subresource_is_discovered_and_served(kubectl: Runner) -> None:
    apps = json.loads(kubectl("get", "--raw", "/apis/apps/v1").stdout)
    subs = {r["name"]: r for r in apps["resources"] if "/" in r["name"]}
    assert set(subs) == {"deployments/scale", "statefulsets/scale", "replicasets/scale"}
    assert subs["statefulsets/scale"]["kind"] == "Scale"
    assert subs["statefulsets/scale"]["group"] == "autoscaling"
    scale = json.loads(
        kubectl("get", "--raw", "/apis/apps/v1/namespaces/db/statefulsets/redis/scale").stdout
    )
    assert scale["kind"] == "Scale"
    assert scale["spec"] == {"replicas": 2}
    assert scale["status"] == {"replicas": 2, "selector": "app=redis"}
    assert rows(kubectl("get", "sts", "redis", "-n", "db", "--subresource=scale")) == [
        ["NAME", "DESIRED", "AVAILABLE"],
        ["redis", "2", "2"],
    ]


def test_scale_with_a_stale_resource_version_is_a_conflict(
    kubectl: Runner, kubeconfig: Path
) -> None:
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=str(kubeconfig))
    apps = client.AppsV1Api(api)
    stale = {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": "redis", "namespace": "db", "resourceVersion": "1"},
        "spec": {"replicas": 4},
    }
    with pytest.raises(client.ApiException) as e:
        apps.replace_namespaced_stateful_set_scale("redis", "db", stale)
    assert e.value.status == 409
    assert json.loads(e.value.body)["message"] == (
        'Operation cannot be fulfilled on statefulsets.apps "redis": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    replicas = kubectl("get", "sts", "redis", "-n", "db", "-o", "jsonpath={.spec.replicas}")
    assert replicas.stdout == "2"
    current = apps.read_namespaced_stateful_set_scale("redis", "db")
    stale["metadata"]["resourceVersion"] = current.metadata.resource_version
    done = apps.replace_namespaced_stateful_set_scale("redis", "db", stale)
    api.close()
    assert done.spec.replicas == 4
    replicas = kubectl("get", "sts", "redis", "-n", "db", "-o", "jsonpath={.spec.replicas}")
    assert replicas.stdout == "4"


def test_autoscale_creates_an_hpa_for_the_deployment(kubectl: Runner) -> None:
    assert kubectl("create", "deployment", "web", "--image=nginx").code == 0
    r = kubectl("autoscale", "deployment", "web", "--min=1", "--max=3", "--cpu=80%")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "horizontalpodautoscaler.autoscaling/web autoscaled"
    hpa = json.loads(kubectl("get", "hpa", "web", "-o", "json").stdout)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 3)


# ------------------------------------------------------------------------------ pod status


def test_a_pod_without_an_ip_waits_in_container_creating_then_runs(
    kubectl: Runner, sandbox: Sandbox
) -> None:
    assert (
        kubectl("scale", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--replicas=0").code == 0
    )
    assert kubectl("scale", "sts", "mysql", "-n", "db", "--replicas=4").code == 0
    waiting = rows(kubectl("get", "pod", "mysql-3", "-n", "db"))
    assert waiting[1][:3] == ["mysql-3", "0/1", "ContainerCreating"]
    assert kubectl(
        "get", "pod", "mysql-3", "-n", "db", "-o", "jsonpath={.status.phase}"
    ).stdout == ("Pending")
    events = kubectl(
        "get", "events", "-n", "db", "--field-selector",
        "involvedObject.name=mysql-3,reason=FailedCreatePodSandBox", "-o", "json",
    )  # fmt: skip
    (event,) = json.loads(events.stdout)["items"]
    assert event["type"] == "Warning"
    assert event["source"] == {"component": "kubelet"}
    assert "tke-eni-ipamd has no running replica" in event["message"]
    assert (
        kubectl("scale", "deploy", "tke-eni-ipamd", "-n", "kube-system", "--replicas=1").code == 0
    )
    sandbox.advance(timedelta(seconds=1))  # kubelet's next attempt
    running = rows(kubectl("get", "pod", "mysql-3", "-n", "db", "-o", "wide"))
    assert running[1][:3] == ["mysql-3", "1/1", "Running"]
    assert running[1][5] == "10.0.1.11"


def test_no_free_ip_is_shown_as_kubelet_shows_it(kubectl: Runner) -> None:
    # subnet-a (10.0.1.0/28) has two free addresses left: the third new Pod gets none
    assert kubectl("scale", "sts", "mysql", "-n", "db", "--replicas=6").code == 0
    status = rows(kubectl("get", "pod", "mysql-5", "-n", "db"))
    assert status[1][2] == "ContainerCreating"
    events = kubectl(
        "get", "events", "-n", "db", "--field-selector",
        "involvedObject.name=mysql-5,reason=FailedCreatePodSandBox",
        "-o", "jsonpath={.items[*].message}",
    )  # fmt: skip
    assert "InsufficientIPorENI: subnet subnet-a1b2c3d4 (10.0.1.0/28) has no free IP" in (
        events.stdout
    )


# ------------------------------------------------------------------------------ --no-tke


@pytest.mark.parametrize("scenario", ["demo", "healthy", "empty", "scale"])
def test_every_scenario_serves_without_tke(scenario: str, tmp_path: Path) -> None:
    sb = make_sandbox(scenario, tke=False, size=50)
    try:
        config = sb.write_kubeconfig(tmp_path / "kubeconfig")
        assert sb.world.t.claims is None
        pods = [
            p
            for p in sb.store.objects(sb.world.t.pods)
            if p["metadata"]["namespace"] != "kube-system"
        ]
        running = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        assert (len(running) > 0) == (scenario != "empty")
        r = run_vip("list", "-A", kubeconfig=config)
        assert r.code == 4, r.stderr
        assert "networking.tke.cloud.tencent.com" in r.stderr
    finally:
        sb.stop()


# ------------------------------------------------------------------------------ other commands


def test_top_answers_as_a_cluster_without_metrics_server(kubectl: Runner) -> None:
    for what in ("pods", "nodes"):
        r = kubectl("top", what)
        assert r.code == 1
        assert r.stderr.strip() == "error: Metrics API not available"


def test_cordon_taint_and_back(kubectl: Runner) -> None:
    assert kubectl("cordon", "node-b").stdout.strip() == "node/node-b cordoned"
    assert rows(kubectl("get", "node", "node-b"))[1][1] == "Ready,SchedulingDisabled"
    r = kubectl("taint", "nodes", "node-b", "dedicated=db:NoSchedule")
    assert r.stdout.strip() == "node/node-b tainted", r.stderr
    taints = json.loads(kubectl("get", "node", "node-b", "-o", "jsonpath={.spec.taints}").stdout)
    assert taints == [{"effect": "NoSchedule", "key": "dedicated", "value": "db"}]
    assert kubectl("taint", "nodes", "node-b", "dedicated:NoSchedule-").code == 0
    assert kubectl("uncordon", "node-b").stdout.strip() == "node/node-b uncordoned"
    assert kubectl("get", "node", "node-b", "-o", "jsonpath={.spec}").stdout == (
        '{"providerID":"qcloud:///ap-guangzhou-4/ins-node-b"}'
    )


def test_drain_evicts_through_the_eviction_api(kubectl: Runner, vip: Runner) -> None:
    refused = kubectl("drain", "node-b", "--ignore-daemonsets", "--timeout=10s")
    assert refused.code == 1
    assert "cannot delete Pods that declare no controller" in refused.stderr
    r = kubectl("drain", "node-b", "--ignore-daemonsets", "--force", "--timeout=20s")
    assert r.code == 0, r.stderr
    assert "evicting pod web/api-0" in r.stderr + r.stdout
    assert r.stdout.strip().endswith("node/node-b drained")
    left = kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName=node-b", "-o", "json")
    # only the eni agent's DaemonSet Pod stays (--ignore-daemonsets)
    assert [
        (
            p["metadata"]["name"][: len("tke-eni-agent-")],
            p["metadata"]["ownerReferences"][0]["kind"],
        )
        for p in json.loads(left.stdout)["items"]
    ] == [("tke-eni-agent-", "DaemonSet")]
    # the StatefulSet recreated api-0, which cannot leave its zone: it waits, keeping its claim
    assert rows(kubectl("get", "pod", "api-0", "-n", "web"))[1][2] == "Pending"
    assert claim_states(vip, "web")["api-0"] == "InUse"


def test_eviction_respects_a_disruption_budget(kubectl: Runner) -> None:
    pdb = kubectl("create", "pdb", "mysql", "-n", "db", "--selector=app=mysql", "--min-available=3")
    assert pdb.code == 0, pdb.stderr
    r = kubectl("drain", "node-a", "--pod-selector=app=mysql", "--timeout=3s")
    assert r.code == 1
    assert "Cannot evict pod as it would violate the pod's disruption budget." in r.stderr
    assert kubectl("get", "pod", "mysql-0", "-n", "db", "-o", "name").stdout.strip() == (
        "pod/mysql-0"
    )


def test_expose_makes_a_cluster_ip_service(kubectl: Runner) -> None:
    assert kubectl("create", "deployment", "web", "--image=nginx").code == 0
    r = kubectl("expose", "deployment", "web", "--port=80", "--target-port=8080")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "service/web exposed"
    (head, row) = rows(kubectl("get", "svc", "web"))
    assert head == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert row[:5] == ["web", "ClusterIP", "172.17.0.1", "<none>", "80/TCP"]


def test_run_starts_a_pod(kubectl: Runner) -> None:
    r = kubectl("run", "shell", "--image=busybox", "--", "sleep", "3600")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "pod/shell created"
    row = rows(kubectl("get", "pod", "shell", "-o", "wide"))[1]
    assert row[:3] == ["shell", "1/1", "Running"]
    assert row[5].startswith("172.16.") and row[6].startswith("node-")  # an overlay IP


def test_rollout_undo_goes_back_one_revision(kubectl: Runner) -> None:
    assert kubectl("create", "deployment", "web", "--image=nginx:1.1").code == 0
    assert kubectl("set", "image", "deployment/web", "nginx=nginx:1.2").code == 0
    history = kubectl("rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line] == ["1", "2"]
    r = kubectl("rollout", "undo", "deployment/web")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "deployment.apps/web rolled back"
    image = "jsonpath={.spec.template.spec.containers[0].image}"
    assert kubectl("get", "deploy", "web", "-o", image).stdout == "nginx:1.1"
    history = kubectl("rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line] == ["2", "3"]
    again = kubectl("rollout", "undo", "deployment/web", "--to-revision=3")
    assert "skipped rollback (current template already matches revision 3)" in again.stdout


def test_get_watch_shows_a_deleted_pod(kubectl: Runner, watcher: Callable[..., Streamed]) -> None:
    w = watcher(
        "get", "pods", "-n", "default", "--watch", "--output-watch-events",
        "-o", 'jsonpath={.type} {.object.metadata.name}{"\\n"}',
    )  # fmt: skip
    assert kubectl("run", "shell", "--image=busybox").code == 0
    assert w.next_lines(1) == ["ADDED shell"]
    assert kubectl("delete", "pod", "shell", "--wait=false").code == 0
    lines = []
    while "DELETED shell" not in lines:
        lines += w.next_lines(1)
    assert set(lines) <= {"MODIFIED shell", "DELETED shell"}


def test_wait_for_delete_of_a_pod(kubectl: Runner, sandbox: Sandbox) -> None:
    fin = "example.com/hold"
    overrides = json.dumps({"metadata": {"finalizers": [fin]}})
    assert kubectl("run", "shell", "--image=busybox", f"--overrides={overrides}").code == 0
    assert kubectl("delete", "pod", "shell", "--wait=false").code == 0
    pods = sandbox.world.t.pods
    assert sandbox.store.get(pods, "default", "shell")["metadata"]["deletionTimestamp"]

    def release(req: RequestInfo) -> None:
        sandbox.store.remove_finalizer(pods, "default", "shell", fin)

    sandbox.controls.on("watch", "pods", release)
    r = kubectl("wait", "--for=delete", "pod/shell", "--timeout=10s")
    assert r.code == 0, r.stderr
    assert r.stdout.strip() == "pod/shell condition met"
    assert kubectl("get", "pod", "shell").code == 1


def test_debug_node_creates_its_pod_in_protobuf(kubectl: Runner) -> None:
    r = kubectl("debug", "node/node-a", "--image=busybox", "--profile=legacy")
    assert r.code == 0, r.stderr
    assert r.stdout.startswith("Creating debugging pod node-debugger-node-a-")
    name = r.stdout.split()[3]
    pod = json.loads(kubectl("get", "pod", name, "-o", "json").stdout)
    assert pod["spec"]["nodeName"] == "node-a"
    assert pod["spec"]["volumes"] == [{"name": "host-root", "hostPath": {"path": "/"}}]
    assert pod["status"]["phase"] == "Running"


@pytest.mark.parametrize("scenario", ["demo", "healthy"])
def test_sandbox_serve_no_tke_serves_the_scenario(scenario: str, tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    env = dict(os.environ, HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    serve = subprocess.Popen(
        [str(BIN / "kubectl-vip"), "sandbox", "serve", "--no-tke", "--scenario", scenario,
         "--write-kubeconfig", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert serve.stdout is not None
        first = serve.stdout.readline()
        assert first.startswith(f"Sandbox cluster ({scenario}) serving at https://127.0.0.1:")
        for line in serve.stdout:  # the banner ends with the export line
            if line.startswith("export KUBECONFIG="):
                break
        kubectl = [kubectl_path(), "--kubeconfig", str(config)]
        nodes = subprocess.run(
            [*kubectl, "get", "nodes", "-o", "name"], capture_output=True, text=True, env=env
        )
        assert nodes.returncode == 0, nodes.stderr
        assert "node/node-a" in nodes.stdout.split()
        crds = subprocess.run(
            [*kubectl, "get", "vipc", "-A"], capture_output=True, text=True, env=env
        )
        assert crds.returncode == 1
        assert 'the server doesn\'t have a resource type "vipc"' in crds.stderr
    finally:
        serve.send_signal(signal.SIGINT)
        _, err = serve.communicate(timeout=20)
    assert serve.returncode == 0, err
    assert "Traceback" not in err and "AssertionError" not in err
