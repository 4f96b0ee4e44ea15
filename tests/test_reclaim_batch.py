"""A bulk reclaim reads owners and VpcIPs from lists shared by its claims (ops/reclaim_batch.py):
light on the API server, and never deciding on owner state older than the last list."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_vip.ops import reclaim_exec
from kubectl_vip.ops.reclaim_batch import BatchReads
from kubectl_vip.sandbox import Sandbox
from kubectl_vip.sandbox.scenario_kit import B

from .conftest import make_sandbox, run_vip
from .test_reclaim import state_dir  # noqa: F401 - autouse: audit files stay in tmp_path

SCALED_IN = ("--scaled-in", "--scaled-in-for", "0s")


@pytest.fixture
def scale(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    sb = make_sandbox("scale", size=300)
    yield sb, sb.write_kubeconfig(tmp_path / "kc")
    sb.stop()


def _scaled_in(kc: Path) -> dict[tuple[str, str], dict[str, Any]]:
    r = run_vip("list", "-A", "--state", "scaledin", "-o", "json", kubeconfig=kc)
    return {(i["namespace"], i["name"]): i for i in json.loads(r.stdout)["items"]}


def test_a_statefulset_scaled_up_after_the_list_is_seen_before_the_next_delete(
    scale: tuple[Sandbox, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    sb, kc = scale
    targets = _scaled_in(kc)
    by_owner: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ns, name in targets:
        by_owner[ns, name.rpartition("-")[0]].append(name)
    (ns, sts), names = max(by_owner.items(), key=lambda kv: len(kv[1]))
    assert len(names) >= 2
    top = max(int(n.rpartition("-")[2]) for n in names)
    # lists older than zero seconds are made again: every delete after the scale-up sees it
    real = reclaim_exec.batched
    monkeypatch.setattr(
        reclaim_exec, "batched", lambda c, tke, claims, max_age: real(c, tke, claims, 0.0)
    )

    def scale_up(req: Any) -> None:
        sb.pause_controller("statefulset")  # no Pod comes back: only the owner says it
        B(sb).scale(ns, sts, top + 1)

    first = next(k for k in sorted(targets) if k[0] != ns or k[1] not in names)
    sb.controls.on("delete", "vpcipclaims", scale_up)  # before the first delete is served
    r = run_vip("reclaim", *SCALED_IN, "-A", "--yes", "--max", "1000", "--concurrency", "1",
                "-o", "json", kubeconfig=kc)  # fmt: skip
    items = {(i["namespace"], i["name"]): i for i in json.loads(r.stdout)["items"]}
    deleted = [k for k, i in items.items() if i["result"] == "reclaimed"]
    assert first in targets
    mine = {(ns, n) for n in names}
    # the first delete may be one of them (its decision came before the scale-up); no other
    assert len(mine & set(deleted)) <= 1, sorted(mine & set(deleted))
    refused = [items[k] for k in mine if items[k]["result"] == "refused"]
    assert len(refused) >= len(mine) - 1
    assert all(f"StatefulSet/{sts}" in i["reason"] for i in refused), refused
    assert len(deleted) > len(targets) // 2  # the others went ahead


def test_a_bulk_run_costs_the_pod_the_delete_and_the_event_per_claim(
    scale: tuple[Sandbox, Path],
) -> None:
    sb, kc = scale
    targets = _scaled_in(kc)
    sb.controls.clear_log()
    r = run_vip("reclaim", *SCALED_IN, "-A", "--yes", "--max", "1000", "-v", kubeconfig=kc)
    assert r.code == 0, r.stderr
    log = sb.controls.resource_requests()
    per_claim = [q for q in log if q.verb in ("get", "delete", "create")]
    lists = [q for q in log if q.verb == "list"]
    assert len(per_claim) <= 3 * len(targets) + 6, len(per_claim)
    assert len(lists) < 20
    # -v says what the run cost: each claim's own requests apart from the shared list pages
    m = re.search(
        r"for the (\d+) claims .*?: ([\d.]+) per claim .*?, and (\d+) list pages", r.stderr
    )
    assert m is not None, r.stderr
    assert int(m.group(1)) == len(targets)
    assert float(m.group(2)) <= 3.0
    assert int(m.group(3)) >= 2  # the claims read again, and the VpcIPs at least
    assert "(its Pod read, the delete, the Event)" in r.stderr


def test_few_claims_are_read_one_get_each(sandbox: Sandbox, kubeconfig: Path) -> None:
    sandbox.controls.clear_log()
    r = run_vip("reclaim", "--orphaned", "-n", "web", "--yes", "-v", kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    gets = {(q.resource, q.name) for q in sandbox.controls.resource_requests() if q.verb == "get"}
    assert ("statefulsets", "legacy-api") in gets and ("vpcips", "10.0.1.14") in gets
    # -v says what each claim's requests were: here its own GETs, no shared owner list
    assert "per claim (its VpcIP, owners and Pod read, the delete, the Event)" in r.stderr
    assert "list page they share (the claims read again)" in r.stderr


def test_owners_of_answers_as_one_get_each(sandbox: Sandbox, kubeconfig: Path) -> None:
    """The lists give each claim the same owners, found or gone, as one GET per owner."""
    from kubectl_vip.api import kubeconfig as kcfg
    from kubectl_vip.api.cluster import Cluster
    from kubectl_vip.ops.gather import read_owners_of

    c = Cluster(kcfg.load(str(kubeconfig), None))
    tke = c.tke()
    claims, _ = c.list(tke.claims, None)
    batch = BatchReads(c, tke, claims)
    for claim in claims:
        assert batch.owners_of(claim) == read_owners_of(c, claim), claim["metadata"]["name"]
    assert batch.lists == 1


# ---------------------------------------------------------------------------- 429 on a write


def test_a_delete_refused_with_429_is_sent_again_after_retry_after(
    sandbox: Sandbox, kubeconfig: Path
) -> None:
    """429 Too Many Requests: the API server did not run the request; the delete is sent again
    after the Retry-After it names (writes are otherwise never retried)."""
    from kubectl_vip.sandbox.controls import Fault

    sandbox.controls.inject(
        Fault(verb="delete", resource="vpcipclaims", code=429, reason="TooManyRequests",
              message="too many requests", times=1, retry_after=1)
    )  # fmt: skip
    sandbox.controls.clear_log()
    r = run_vip("reclaim", "legacy-api-0", "-n", "web", "--yes", kubeconfig=kubeconfig)
    assert r.code == 0, r.stderr
    assert "reclaimed vipc/web/legacy-api-0" in r.stdout
    deletes = [q for q in sandbox.controls.resource_requests() if q.verb == "delete"]
    assert len(deletes) == 2  # refused once, then run


def test_a_write_always_refused_with_429_stops_in_one_line(
    sandbox: Sandbox, kubeconfig: Path
) -> None:
    from kubectl_vip.sandbox.controls import Fault

    sandbox.controls.inject(
        Fault(verb="delete", resource="vpcipclaims", code=429, reason="TooManyRequests",
              message="too many requests", times=-1, retry_after=0)
    )  # fmt: skip
    r = run_vip("reclaim", "legacy-api-0", "-n", "web", "--yes", kubeconfig=kubeconfig)
    assert r.code == 1
    assert "too many requests" in r.stdout + r.stderr
    deletes = [q for q in sandbox.controls.resource_requests() if q.verb == "delete"]
    assert len(deletes) == 5  # the first and 4 more, then it gives up
    assert "Traceback" not in r.stderr
