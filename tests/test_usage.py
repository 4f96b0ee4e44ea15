from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_vip.cli.app import invoke
from kubectl_vip.model import schema
from kubectl_vip.model.claims import IpRow
from kubectl_vip.model.usage import (
    BUCKETS,
    STATE_BUCKET,
    SubnetUsage,
    compute_usage,
    escape_label,
    prometheus_text,
    usable_size,
    zone_usage,
)
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.controls import Fault
from kubectl_vip.term.render import Out

from .conftest import Runner, aimed

SA, SB = "subnet-aaaa", "subnet-bbbb"
CA, CB = "10.0.1.0/28", "10.0.2.0/26"


def ip(
    addr: str,
    state: str = "InUse",
    *,
    sid: str | None = SA,
    cidr: str | None = CA,
    node: str | None = None,
) -> IpRow:
    return IpRow(addr, state, None, None, node, sid, cidr, "Pod", None, None, None)


def by_subnet(rows: list[SubnetUsage]) -> dict[str, SubnetUsage]:
    return {("unknown" if r.unknown else r.subnet_id or r.cidr or "?"): r for r in rows}


# --- size -----------------------------------------------------------------------------------------

SIZES = [
    ("10.0.1.0/28", 13),
    ("10.0.2.0/26", 61),
    ("10.0.0.0/24", 253),
    ("10.0.0.0/16", 65533),
    ("10.0.1.5/28", 13),  # host bits set: still the /28
    (" 10.0.1.0/28 ", 13),
    ("10.0.0.0/30", 1),
    ("10.0.0.0/31", 0),
    ("10.0.0.1/32", 0),
    ("bogus", None),
    ("10.0.0.0/33", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("cidr", "want"), SIZES, ids=[str(c) for c, _ in SIZES])
def test_usable_size(cidr: str | None, want: int | None) -> None:
    assert usable_size(cidr) == want


@pytest.mark.parametrize(
    ("state", "bucket"), sorted(STATE_BUCKET.items()), ids=sorted(STATE_BUCKET)
)
def test_each_state_lands_in_one_bucket(state: str, bucket: str) -> None:
    (row,) = compute_usage([ip("10.0.1.2", state)])
    assert row.count(bucket) == 1
    assert row.used == 1
    assert sum(row.count(b) for b in BUCKETS) == 1


def test_an_unknown_state_counts_as_other() -> None:
    (row,) = compute_usage([ip("10.0.1.2", "Weird")])
    assert (row.other, row.used) == (1, 1)


# --- joining subnets --------------------------------------------------------------------------


def test_buckets_free_percent_and_aggregates() -> None:
    states = ["InUse", "InUse", "Terminating", "Completed", "Retained", "Expiring", "Overdue",
              "Orphaned", "Orphaned", "Leaked", "Attaching"]  # fmt: skip
    (row,) = compute_usage([ip(f"10.0.1.{i + 2}", s) for i, s in enumerate(states)])
    assert (row.subnet_id, row.cidr, row.size, row.used, row.free) == (SA, CA, 13, 11, 2)
    assert (row.in_use, row.retained, row.expiring, row.overdue, row.orphaned) == (4, 1, 1, 1, 2)
    assert (row.leaked, row.attaching, row.other) == (1, 1, 0)
    assert (row.held, row.kept) == (5, 5)
    assert row.percent == 84.6


CASES: list[tuple[str, dict[str, Any], dict[str, tuple[Any, ...]]]] = [
    (
        "id-only-ip-takes-cidr-from-nec",
        {
            "ips": [ip("10.0.1.2", cidr=None)],
            "nec_subnets": {"node-a": [(SA, CA)]},
            "node_zones": {"node-a": "gz-3"},
        },
        {SA: (CA, ("gz-3",), 13, 1)},
    ),
    (
        "cidr-only-ip-takes-id-from-another-vpcip",
        {"ips": [ip("10.0.1.2", sid=None), ip("10.0.1.3")]},
        {SA: (CA, (), 13, 2)},
    ),
    (
        "ip-without-subnet-falls-in-containing-cidr",
        {"ips": [ip("10.0.2.9", sid=None, cidr=None)], "nec_subnets": {"n": [(SB, CB)]}},
        {SB: (CB, (), 61, 1)},
    ),
    (
        "ip-of-no-known-subnet-goes-to-unknown-row",
        {"ips": [ip("192.168.0.9", sid=None, cidr=None), ip("10.0.1.2")]},
        {SA: (CA, (), 13, 1), "unknown": (None, (), None, 1)},
    ),
    (
        "configured-subnet-without-cidr-has-size-unknown",
        {"ips": [ip("10.0.1.2")], "configured": [SA, "subnet-zzzz"]},
        {SA: (CA, (), 13, 1), "subnet-zzzz": (None, (), None, 0)},
    ),
    (
        "zones-from-vpcip-nodes-and-necs",
        {
            "ips": [ip("10.0.1.2", node="node-b")],
            "nec_subnets": {"node-a": [(SA, CA)], "node-c": [(None, CB)]},
            "node_zones": {"node-a": "gz-3", "node-b": "gz-3", "node-c": "gz-4"},
        },
        {SA: (CA, ("gz-3",), 13, 1), CB: (CB, ("gz-4",), 61, 0)},
    ),
    (
        "disagreeing-zone-labels-are-all-kept",
        {
            "ips": [ip("10.0.1.2", node="node-b")],
            "nec_subnets": {"node-a": [(SA, CA)]},
            "node_zones": {"node-a": "gz-3", "node-b": "gz-4"},
        },
        {SA: (CA, ("gz-3", "gz-4"), 13, 1)},
    ),
    (
        "node-without-zone-label-adds-no-zone",
        {"ips": [ip("10.0.1.2", node="node-x")], "node_zones": {"node-x": None}},
        {SA: (CA, (), 13, 1)},
    ),
    (
        "cidr-is-normalised",
        {"ips": [ip("10.0.1.2", sid=None, cidr="10.0.1.7/28"), ip("10.0.1.3", sid=None)]},
        {CA: (CA, (), 13, 2)},
    ),
    (
        "over-full-subnet-clamps-free-to-zero",
        {"ips": [ip(f"10.0.3.{i}", sid="s", cidr="10.0.3.0/30") for i in range(3)]},
        {"s": ("10.0.3.0/30", (), 1, 3)},
    ),
]


@pytest.mark.parametrize(("kw", "want"), [(k, w) for _, k, w in CASES], ids=[c[0] for c in CASES])
def test_compute_usage(kw: dict[str, Any], want: dict[str, tuple[Any, ...]]) -> None:
    rows = by_subnet(compute_usage(kw.pop("ips"), **kw))
    got = {k: (r.cidr, r.zones, r.size, r.used) for k, r in rows.items()}
    assert got == want
    for r in rows.values():
        if r.size is not None:
            assert r.free == max(r.size - r.used, 0)


def test_rows_sort_by_address_then_unknown_cidr_then_unknown_row() -> None:
    ips = [
        ip("10.0.10.2", sid="s10", cidr="10.0.10.0/24"),
        ip("10.0.9.2", sid="s9", cidr="10.0.9.0/24"),
        ip("172.16.0.1", sid=None, cidr=None),
    ]
    rows = compute_usage(ips, configured=["s-nocidr", "s10", "s9"])
    assert [r.subnet_id for r in rows] == ["s9", "s10", "s-nocidr", None]
    assert rows[-1].unknown and rows[-1].configured is None
    assert [r.configured for r in rows[:3]] == [True, True, True]


def test_configured_flag() -> None:
    rows = by_subnet(compute_usage([ip("10.0.1.2")], configured=[SB]))
    assert rows[SA].configured is False and rows[SB].configured is True
    assert by_subnet(compute_usage([ip("10.0.1.2")]))[SA].configured is None


def test_no_input_no_rows() -> None:
    assert compute_usage([]) == []


# --- zones ------------------------------------------------------------------------------------


def test_zone_usage() -> None:
    node_zones = {"a": "gz-3", "b": "gz-3", "d": "gz-7", "x": None}
    ips = [
        ip("10.0.1.2", node="a"),
        ip("10.0.2.2", sid=SB, cidr=CB),
        ip("1.2.3.4", sid=None, cidr=None),
    ]
    rows = compute_usage(ips, node_zones=node_zones, configured=["subnet-nocidr"])
    zones = {z.zone: z for z in zone_usage(rows, node_zones)}
    assert list(zones) == ["gz-3", "gz-7", None]
    assert (zones["gz-3"].nodes, zones["gz-3"].subnets, zones["gz-3"].size) == (2, (SA,), 13)
    assert (zones["gz-3"].used, zones["gz-3"].free, zones["gz-3"].percent) == (1, 12, 7.7)
    assert (zones["gz-7"].nodes, zones["gz-7"].subnets, zones["gz-7"].size) == (1, (), 0)
    assert zones["gz-7"].percent is None
    # subnets of unknown zone, one of unknown size: the zone's size is unknown
    assert zones[None].subnets == (SB, "subnet-nocidr")
    assert (zones[None].nodes, zones[None].size, zones[None].free) == (1, None, None)


# --- Prometheus -------------------------------------------------------------------------------

SAMPLE = re.compile(
    r'^[a-zA-Z_:][a-zA-Z0-9_:]*\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\} '
    r"-?[0-9.e+-]+$"
)


def assert_valid_exposition(text: str) -> None:
    """Text format 0.0.4: HELP then TYPE then the family's samples, never interleaved, no
    timestamps, a trailing newline."""
    assert text.endswith("\n")
    seen: set[str] = set()
    current = None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split()[2]
            assert name not in seen, f"family {name} split"
            seen.add(name)
            current = name
        elif line.startswith("# TYPE "):
            assert line.split()[2:] == [current, "gauge"]
        else:
            assert SAMPLE.match(line), line
            assert line.split("{")[0] == current, line


@pytest.mark.parametrize(
    ("raw", "want"),
    [("plain", "plain"), ('a"b', 'a\\"b'), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb"), ("", "")],
    ids=["plain", "quote", "backslash", "newline", "empty"],
)
def test_escape_label(raw: str, want: str) -> None:
    assert escape_label(raw) == want


def test_prometheus_text_is_valid_and_complete() -> None:
    rows = compute_usage(
        [ip("10.0.1.2", node="a"), ip("10.0.1.3", "Leaked"), ip("9.9.9.9", sid=None, cidr=None)],
        node_zones={"a": 'we"ird\\zone\n'},
        configured=[SA, "subnet-nocidr"],
    )
    text = prometheus_text(rows, zone_usage(rows, {"a": 'we"ird\\zone\n'}))
    assert_valid_exposition(text)
    lab = 'subnet="subnet-aaaa",cidr="10.0.1.0/28",zone="we\\"ird\\\\zone\\n"'
    assert f"kubectl_vip_subnet_size{{{lab}}} 13" in text
    assert f'kubectl_vip_subnet_ips{{{lab},state="in_use"}} 1' in text
    assert f'kubectl_vip_subnet_ips{{{lab},state="leaked"}} 1' in text
    assert f"kubectl_vip_subnet_used_ratio{{{lab}}} 0.153846" in text
    # size unknown: no size/free/ratio sample, but used and states are there
    nocidr = 'subnet="subnet-nocidr",cidr="unknown",zone="unknown"'
    assert f"kubectl_vip_subnet_used{{{nocidr}}} 0" in text
    assert f"kubectl_vip_subnet_size{{{nocidr}}}" not in text
    assert f"kubectl_vip_subnet_free{{{nocidr}}}" not in text
    unknown = 'subnet="unknown",cidr="unknown",zone="unknown"'
    assert f'kubectl_vip_subnet_ips{{{unknown},state="in_use"}} 1' in text
    assert text.count("# TYPE ") == 7
    # every state of every row, so series do not come and go
    assert text.count("kubectl_vip_subnet_ips{") == len(BUCKETS) * len(rows)


def test_prometheus_text_of_nothing_is_still_valid() -> None:
    text = prometheus_text([], [])
    assert_valid_exposition(text)
    assert "kubectl_vip_subnet_size" in text


# --- schema accessors used here ---------------------------------------------------------------

SUBNET_IDS = [
    ({"data": {"TKE_ENI_IPAMD_SUBNET_ID": "subnet-a:subnet-b"}}, ["subnet-a", "subnet-b"]),
    ({"data": {"TKE_ENI_IPAMD_SUBNET_ID": " subnet-a : subnet-b: "}}, ["subnet-a", "subnet-b"]),
    ({"data": {"TKE_ENI_IPAMD_SUBNET_ID": "subnet-a,subnet-b:subnet-a"}}, ["subnet-a", "subnet-b"]),
    ({"data": {"TKE_ENI_IPAMD_SUBNET_ID": ""}}, []),
    ({"data": {"TKE_ENI_IPAMD_SUBNET_ID": 5}}, ["5"]),
    ({"data": {}}, []),
    ({"data": None}, []),
    ({}, []),
    (None, []),
]


@pytest.mark.parametrize(
    ("cm", "want"),
    SUBNET_IDS,
    ids=[
        "colons",
        "blanks",
        "commas-dupes",
        "empty",
        "number",
        "no-key",
        "null-data",
        "no-data",
        "none",
    ],
)
def test_ipamd_subnet_ids(cm: dict[str, Any] | None, want: list[str]) -> None:
    assert schema.ipamd_subnet_ids(cm) == want


def test_trim_node_keeps_name_and_zone() -> None:
    node = {
        "metadata": {
            "name": "node-a",
            "labels": {schema.ZONE_LABEL: "gz-3", "other": "x"},
            "annotations": {"big": "x" * 100},
        },
        "status": {"images": ["..."]},
    }
    slim = schema.trim_node(node)
    assert schema.name(slim) == "node-a" and schema.node_zone(slim) == "gz-3"
    assert "status" not in slim and "annotations" not in slim["metadata"]
    assert schema.node_zone(schema.trim_node({"metadata": {"name": "n"}})) is None


# --- end to end against the sandbox demo ------------------------------------------------------

TABLE = "".join(
    [
        "SUBNET            CIDR          ZONE             SIZE   "
        "USED   IN USE   RETAINED   LEAKED   FREE   USE%\n",
        "subnet-a1b2c3d4   10.0.1.0/28   ap-guangzhou-3   13     "
        "11     5        6          0        2      84.6%\n",
        "subnet-e5f6a7b8   10.0.2.0/26   ap-guangzhou-4   61     "
        "12     8        2          2        49     19.7%\n",
        "subnet-c9d0e1f2   10.0.3.0/28   ap-guangzhou-6   13     "
        "1      1        0          0        12     7.7%\n",
        "\n",
        "ZONE             NODES   SUBNETS           SIZE   USED   FREE   USE%    ZONE FROM\n",
        "ap-guangzhou-3   1       subnet-a1b2c3d4   13     11     2      84.6%   "
        "node labels; subnets via NodeENIConfig ENIs, VpcIP nodes\n",
        "ap-guangzhou-4   1       subnet-e5f6a7b8   61     12     49     19.7%   "
        "node labels; subnets via NodeENIConfig ENIs, VpcIP nodes\n",
        "ap-guangzhou-6   1       subnet-c9d0e1f2   13     1      12     7.7%    "
        "node labels; subnets via VpcIP nodes\n",
        "ap-guangzhou-7   1       <none>            0      0      0      -       node labels\n",
        "\n",
        "3 subnets: 24 of 87 usable addresses used (27.6%); "
        "8 held by claims without a Pod, 2 leaked.\n",
        "Zone ap-guangzhou-7 has 1 node and no container subnet: VPC-CNI Pods there get no IP.\n",
        "Reclaimable now: kubectl-vip reclaim --orphaned --overdue -A --dry-run\n",
    ]
)


def test_usage_table(vip: Runner, kubeconfig: Path) -> None:
    r = vip("usage")
    assert (r.code, r.stderr) == (0, "")
    assert r.stdout == aimed(TABLE, kubeconfig)


def test_usage_ignores_namespace(vip: Runner, kubeconfig: Path) -> None:
    r = vip("usage", "-n", "db")
    assert r.code == 0
    assert r.stdout == aimed(TABLE, kubeconfig)
    assert "cluster-wide" in r.stderr


def test_usage_wide(vip: Runner) -> None:
    r = vip("usage", "-o", "wide")
    assert r.code == 0
    header, a, b, c = r.lines[:4]
    assert header.split()[-8:] == [
        "EXPIRING",
        "OVERDUE",
        "SCALED",
        "IN",
        "ORPHANED",
        "ATTACHING",
        "OTHER",
        "CONFIGURED",
    ]
    assert a.split()[-7:] == ["1", "0", "2", "2", "0", "0", "yes"]
    assert b.split()[-7:] == ["0", "2", "0", "0", "0", "0", "yes"]
    assert c.split()[-7:] == ["0", "0", "0", "0", "1", "0", "yes"]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_usage_document(vip: Runner, fmt: str) -> None:
    r = vip("usage", "-o", fmt)
    assert r.code == 0
    doc = json.loads(r.stdout) if fmt == "json" else yaml.safe_load(r.stdout)
    assert (doc["apiVersion"], doc["kind"]) == ("kubectl-vip/v1", "SubnetUsageList")
    assert doc["metadata"] == {"generatedAt": "2026-11-20T12:00:00Z", "reservedPerSubnet": 3}
    a, b, c = doc["items"]
    assert a == {
        "subnetID": "subnet-a1b2c3d4", "cidr": "10.0.1.0/28", "zone": "ap-guangzhou-3",
        "zones": ["ap-guangzhou-3"], "zoneFrom": ["NodeENIConfig ENIs", "VpcIP nodes"],
        "unknown": False, "configured": True, "size": 13, "used": 11,
        "inUse": 5, "retained": 1, "expiring": 1, "overdue": 0, "scaledIn": 2, "orphaned": 2,
        "leaked": 0,
        "attaching": 0, "other": 0, "free": 2, "percent": 84.6,
    }  # fmt: skip
    got_b = (b["subnetID"], b["size"], b["used"], b["inUse"], b["overdue"], b["leaked"], b["free"])
    assert got_b == ("subnet-e5f6a7b8", 61, 12, 8, 2, 2, 49)
    assert (c["subnetID"], c["zone"], c["used"], c["attaching"], c["free"]) == (
        "subnet-c9d0e1f2", "ap-guangzhou-6", 1, 1, 12,
    )  # fmt: skip
    assert doc["zones"][-1] == {
        "zone": "ap-guangzhou-7", "nodes": 1, "subnets": [], "size": 0, "used": 0, "free": 0,
        "percent": None, "source": ["node labels"],
    }  # fmt: skip


def test_usage_prometheus(vip: Runner) -> None:
    r = vip("usage", "-o", "prometheus")
    assert (r.code, r.stderr) == (0, "")
    assert_valid_exposition(r.stdout)
    a = 'subnet="subnet-a1b2c3d4",cidr="10.0.1.0/28",zone="ap-guangzhou-3"'
    lines = set(r.lines)
    for want in [
        f"kubectl_vip_subnet_size{{{a}}} 13",
        f"kubectl_vip_subnet_used{{{a}}} 11",
        f"kubectl_vip_subnet_free{{{a}}} 2",
        f"kubectl_vip_subnet_used_ratio{{{a}}} 0.846154",
        f'kubectl_vip_subnet_ips{{{a},state="in_use"}} 5',
        f'kubectl_vip_subnet_ips{{{a},state="retained"}} 1',
        f'kubectl_vip_subnet_ips{{{a},state="expiring"}} 1',
        f'kubectl_vip_subnet_ips{{{a},state="scaled_in"}} 2',
        f'kubectl_vip_subnet_ips{{{a},state="orphaned"}} 2',
        'kubectl_vip_subnet_ips{subnet="subnet-e5f6a7b8",cidr="10.0.2.0/26",zone="ap-guangzhou-4",'
        'state="leaked"} 2',
        'kubectl_vip_subnet_ips{subnet="subnet-c9d0e1f2",cidr="10.0.3.0/28",zone="ap-guangzhou-6",'
        'state="attaching"} 1',
        'kubectl_vip_zone_nodes{zone="ap-guangzhou-7"} 1',
        'kubectl_vip_zone_subnets{zone="ap-guangzhou-7"} 0',
    ]:
        assert want in lines, want


def test_usage_bad_format(vip: Runner) -> None:
    r = vip("usage", "-o", "csv")
    assert r.code == 2
    assert 'unknown output format "csv"' in r.stderr


def test_usage_without_nodes_and_necs_warns_and_goes_on(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.inject(
        Fault(verb="list", resource="nodes", code=403, reason="Forbidden", times=-1)
    )
    sandbox.controls.inject(
        Fault(verb="list", resource="nodeeniconfigs", code=403, reason="Forbidden", times=-1)
    )
    r = vip("usage", "-o", "json")
    assert r.code == 0
    assert "cannot read nodes" in r.stderr and "cannot read nodeeniconfigs" in r.stderr
    doc = json.loads(r.stdout)
    # CIDRs still come from the VpcIPs; zones are unknown without nodes
    assert [(i["subnetID"], i["cidr"], i["zone"], i["used"]) for i in doc["items"]] == [
        ("subnet-a1b2c3d4", "10.0.1.0/28", None, 11),
        ("subnet-e5f6a7b8", "10.0.2.0/26", None, 12),
        ("subnet-c9d0e1f2", "10.0.3.0/28", None, 1),
    ]


def test_usage_lists_each_kind_once(sandbox: Sandbox, vip: Runner) -> None:
    sandbox.controls.clear_log()
    assert vip("usage").code == 0
    lists = sorted(r.resource for r in sandbox.controls.resource_requests() if r.verb == "list")
    assert lists == [
        "horizontalpodautoscalers",
        "nodeeniconfigs",
        "nodes",
        "pods",
        "statefulsets",
        "vpcipclaims",
        "vpcips",
    ]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_usage_draws_bars_on_a_tty(kubeconfig: Path) -> None:
    out, err = _Tty(), io.StringIO()
    code = invoke(["--kubeconfig", str(kubeconfig), "usage"], Out(out, err, color=True))
    assert code == 0
    lines = out.getvalue().splitlines()
    assert lines[1].rstrip().endswith("84.6%   " + "█" * 17 + "░" * 3)
    assert lines[3].rstrip().endswith("7.7%    " + "█" * 2 + "░" * 18)


def test_zone_without_subnet_only_when_every_subnet_zone_is_known(
    sandbox: Sandbox, vip: Runner
) -> None:
    """ "IPAMD will try binding an EIP from the subnet in the same AZ as the node (the subnet
    configured for IPAMD)": a zone is said to have no container subnet only when the zone of
    every configured subnet is known; a configured subnet no node uses may be in it."""
    r = vip("usage")
    assert "Zone ap-guangzhou-7 has 1 node and no container subnet: VPC-CNI Pods" in r.stdout

    def add_subnet(cm: dict[str, Any]) -> None:
        cm["data"]["TKE_ENI_IPAMD_SUBNET_ID"] += ":subnet-0f0f0f0f"

    sandbox.store.mutate(sandbox.world.t.configmaps, "kube-system", "tke-eni-ipamd", add_subnet)
    r = vip("usage")
    assert r.code == 0, r.stderr
    assert "has 1 node and no container subnet:" not in r.stdout
    assert (
        "Zone ap-guangzhou-7 has 1 node and no container subnet known in it: the zone of "
        "subnets subnet-0f0f0f0f is unknown (no node uses them yet)."
    ) in r.stdout
    unknown = next(ln for ln in r.stdout.splitlines() if ln.startswith("unknown "))
    assert "subnet-0f0f0f0f" in unknown and unknown.endswith("no node uses these subnets")
    doc = json.loads(vip("usage", "-o", "json").stdout)
    zones = {z["zone"]: z for z in doc["zones"]}
    assert zones["ap-guangzhou-6"]["source"] == ["node labels", "VpcIP nodes"]
    assert zones[None]["source"] == []
