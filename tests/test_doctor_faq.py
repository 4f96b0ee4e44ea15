"""doctor against the FAQs of the source pages, through the CLI on the sandbox's `eni-faq` and
`demo` scenarios: what each finding says follows what the pages name, and what it does not
know it does not claim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.sandbox import Sandbox

from .conftest import Result, make_sandbox, run_vip

Obj = dict[str, Any]


@pytest.fixture
def faq(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sb = make_sandbox("eni-faq")
    yield sb, sb.write_kubeconfig(tmp_path / "kubeconfig")
    sb.stop()


def doctor_json(kc: Path, *checks: str) -> tuple[Result, Obj]:
    argv = ["doctor", "-o", "json"] + [a for c in checks for a in ("--check", c)]
    r = run_vip(*argv, kubeconfig=kc)
    return r, json.loads(r.stdout)


def findings(doc: Obj, check: str) -> list[Obj]:
    return [f for f in doc["findings"] if f["id"] == check]


def test_zone_without_subnet_is_faq1_not_the_quota(faq: tuple[Sandbox, Path]) -> None:
    """ "If IPAMD becomes abnormal or it is not configured with a subnet in the same AZ as the
    node ..., IPAMD cannot allocate a secondary ENI to the node." node-z has no taint and no
    eni-ip resource, only an empty nec status: FAQ 1 (no subnet), not the ENI quota case."""
    _, doc = doctor_json(faq[1], "VIP-ENI-001", "VIP-ENI-002")
    (faq1,) = findings(doc, "VIP-ENI-002")
    assert faq1["title"] == (
        "1 node in zone ap-guangzhou-7 gets no ENI: zone ap-guangzhou-7 has no container subnet"
    )
    assert "Node/node-z" in faq1["objects"]
    assert "Add a container subnet in zone ap-guangzhou-7" in faq1["fix"]
    (quota,) = findings(doc, "VIP-ENI-001")
    assert not any("node-z" in o for o in quota["objects"])


def test_ipamd_not_ready_is_a_faq1_cause(faq: tuple[Sandbox, Path]) -> None:
    """ "If IPAMD becomes abnormal ..., IPAMD cannot allocate a secondary ENI to the node.\""""
    sb, kc = faq

    def down(d: Obj) -> None:
        d["spec"]["replicas"] = 0

    sb.store.mutate(sb.world.t.deployments, "kube-system", "tke-eni-ipamd", down)
    sb.tick()
    _, doc = doctor_json(kc, "VIP-ENI-002")
    # one finding, a group per zone and cause: each whole in details
    (faq1,) = findings(doc, "VIP-ENI-002")
    assert "Node/node-z" in faq1["objects"] and "Node/node-q1" in faq1["objects"]
    groups = _groups(faq1["details"])
    z = next(g for head, g in groups.items() if "zone ap-guangzhou-7" in head)
    assert "  ipamd is not ready (0/0 replicas)" in z
    assert any("See VIP-IPAMD-001" in line for line in z if line.startswith("  fix: "))
    # the quota nodes now name ipamd too: reported here, with the quota as a cause
    q = next(g for g in groups.values() if any("node-q1" in line for line in g))
    assert "  the node has ENILimit Events or Attaching VpcIPs (see VIP-ENI-001)" in q


def _groups(details: list[str]) -> dict[str, list[str]]:
    """A merged finding's details: each issue's title, then its lines indented."""
    out: dict[str, list[str]] = {}
    head = ""
    for line in details:
        if not line.startswith("  "):
            head = line
            out[head] = []
        else:
            out[head].append(line)
    return out


def test_normal_enilimit_events_count(faq: tuple[Sandbox, Path]) -> None:
    """ "If `event` displays `ENILimit`, the quota is not appropriate": whatever the Event's
    type. The sandbox's ipamd records them as Normal; doctor reads Events of every type."""
    sb, kc = faq
    sb.controls.clear_log()
    _, doc = doctor_json(kc, "VIP-ENI-001")
    lists = [q for q in sb.controls.resource_requests() if q.resource == "events"]
    assert lists and all("type" not in (q.query.get("fieldSelector") or "") for q in lists)
    (quota,) = findings(doc, "VIP-ENI-001")
    assert any(d.startswith("Event ENILimit x15 on Node/node-q1") for d in quota["details"])
    assert any("(type Normal)" in e and "Event ENILimit" in e for e in quota["evidence"])


def test_quota_evidence_is_grouped_and_bounded(faq: tuple[Sandbox, Path]) -> None:
    """ "View `nec`, and you can see that its status is empty ... the VIP status is
    `Attaching`": 45 Attaching VpcIPs on 3 nodes read as one line per node with counts and a
    few examples; every VpcIP stays in -o json (`details`, `objects`)."""
    _, doc = doctor_json(faq[1], "VIP-ENI-001")
    (quota,) = findings(doc, "VIP-ENI-001")
    assert quota["title"] == (
        "VPC ENI quota reached: 3 nodes cannot attach an ENI (45 Pods Pending, 45 VpcIPs Attaching)"
    )
    assert quota["evidence"][:3] == [
        f"node node-q{i}: 15 VpcIPs Attaching, 15 Pods Pending, Events naming ENILimit x30 "
        "(type Normal, Warning), NodeENIConfig status empty"
        for i in (1, 2, 3)
    ]
    assert "Attaching VpcIPs by subnet: subnet-e5f6a7b8 45" in quota["evidence"]
    assert "Pending Pods by owner: StatefulSet web/api 45" in quota["evidence"]
    assert len(quota["evidence"]) <= 12
    attaching = [d for d in quota["details"] if d.startswith("VpcIP ")]
    assert len(attaching) == 45
    assert sum(o.startswith("VpcIP/") for o in quota["objects"]) == 45
    text = run_vip("doctor", "--check", "VIP-ENI-001", kubeconfig=faq[1]).stdout
    assert len(text.splitlines()) < 25


def test_eni_count_against_the_vpc_quota(faq: tuple[Sandbox, Path]) -> None:
    """ "Currently, up to 1,000 ENIs can be bound to a VPC": the ENIs counted from nec/veni
    against that quota, and a forecast when the count is near it."""
    sb, kc = faq
    _, doc = doctor_json(kc, "VIP-ENI-001", "VIP-ENI-003")
    (quota,) = findings(doc, "VIP-ENI-001")
    assert any(
        e.startswith("this cluster's nodes hold 1 ENI (VpcENIs), 0% of the VPC's default quota")
        for e in quota["evidence"]
    )
    # no "ok: headroom" beside "quota reached": the ENILimit Events decide, whatever the count
    (reached,) = findings(doc, "VIP-ENI-003")
    assert reached["severity"] == "warning"
    assert reached["title"].startswith("VPC ENI quota reached (VIP-ENI-001): no headroom")
    assert any(e.startswith("e.g. Event ") and "ENILimit" in e for e in reached["evidence"])
    enis = sb.world.t.enis
    assert enis is not None
    for i in range(820):
        sb.store.create(
            enis, "", {"metadata": {"name": f"eni-{i:08x}"}, "spec": {"nodeName": "node-a"}}
        )
    _, doc = doctor_json(kc, "VIP-ENI-003")
    (near,) = findings(doc, "VIP-ENI-003")
    assert near["severity"] == "warning"
    assert near["title"] == (
        "VPC ENI quota reached (VIP-ENI-001): no headroom; this cluster's nodes hold 821 ENIs "
        "of the VPC's"
    )
    assert any(e.startswith("this cluster's nodes hold 821 ENIs (VpcENIs)") for e in
               near["evidence"])  # fmt: skip
    assert "1,000 ENIs per VPC" in near["fix"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sb = make_sandbox("demo")
    yield sb, sb.write_kubeconfig(tmp_path / "kubeconfig")
    sb.stop()


def test_static_claims_without_scheduler_do_not_say_mode_off(demo: tuple[Sandbox, Path]) -> None:
    """ "For a Pod to which a static IP address is bound, `VpcIPClaim` and `VpcIP` will be
    retained after the Pod is terminated": static claims exist, so a missing
    tke-eni-ip-scheduler is not "static IP mode is off"."""
    sb, kc = demo
    sb.store.delete(sb.world.t.deployments, "kube-system", "tke-eni-ip-scheduler")
    _, doc = doctor_json(kc, "VIP-IPAMD-004")
    (f,) = findings(doc, "VIP-IPAMD-004")
    assert "static IP mode is off" not in f["title"]
    assert "static claims exist: static IPs are in use" in f["title"]
    assert any("with the static (Never) delete policy" in e for e in f["evidence"])


def test_leaked_advice_is_marked_as_ours(demo: tuple[Sandbox, Path]) -> None:
    """The pages say "kubectl delete vipc" for claims and nothing of VpcIPs without a claim:
    advice for those is marked as ours. A VpcIP whose claim reference cannot be read is not
    called leaked (whose it is cannot be told)."""
    sb, kc = demo
    vips = sb.world.t.vips
    assert vips is not None
    sb.store.create(
        vips,
        "",
        {
            "metadata": {"name": "10.0.2.62"},
            "spec": {"type": "Pod", "subnetID": "subnet-e5f6a7b8"},
            "status": {"phase": "Assigned", "subnetCIDR": "10.0.2.0/26"},
        },
    )
    _, doc = doctor_json(kc, "VIP-CLM-003")
    (f,) = findings(doc, "VIP-CLM-003")
    assert "rollout restart" not in f["fix"]
    assert "Our advice (the TKE docs say nothing of leaked VpcIPs)" in f["fix"]
    assert not any("10.0.2.62" in e for e in f["evidence"])
    assert "VpcIP/10.0.2.62" not in f["objects"]
    assert "VpcIP 10.0.2.60 (10.0.2.0/26): its claim web/batch-0 is gone" in f["evidence"]
    assert not any("claim none" in e for e in f["evidence"])
