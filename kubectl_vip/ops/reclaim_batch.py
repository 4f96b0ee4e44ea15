"""The reads a bulk reclaim shares between its claims: each owner kind and the VpcIPs, listed
right before the run and again whenever the last list is older than a few seconds.

A claim's re-check right before its delete needs its VpcIP, its Pod and every workload that may
own it. One GET each makes a bulk run of 900 claims cost the API server some 5,000 requests;
with these lists it costs one GET (the Pod), the delete and the Event per claim, plus a list per
owner kind every few seconds. No delete is decided on owner state older than RELIST_SECONDS:
a StatefulSet scaled up meanwhile is seen before the next delete after its list, and the
delete's preconditions (uid, resourceVersion) and the Pod read right before it still catch a
Pod that came back at the last moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from ..api.cluster import Cluster, Resource, TkeApi
from ..errors import ApiError, Forbidden
from ..model import schema
from ..model.claims import kind_key
from ..model.run_needs import owner_reads
from .gather import resolve_kind

Obj = dict[str, Any]

RELIST_SECONDS = 3.0
# fewer claims than this: one GET each is lighter on the API server than the lists
BATCH_MIN = 8


class BatchReads:
    """Owners by kind and name, and VpcIPs by name, as last listed (at most `max_age` old)."""

    def __init__(
        self,
        c: Cluster,
        tke: TkeApi,
        claims: Iterable[Obj],
        *,
        max_age: float = RELIST_SECONDS,
        chunk_size: int = 500,
    ) -> None:
        self.c, self.tke, self.max_age, self.chunk_size = c, tke, max_age, chunk_size
        claims = list(claims)
        namespaces = {schema.namespace(o) for o in claims}
        self.scope = next(iter(namespaces)) if len(namespaces) == 1 else None
        self.kinds = sorted(
            {key for o in claims for key in owner_reads(schema.name(o), schema.owner_refs(o))}
        )
        self.lists = 0
        self._lock = threading.Lock()
        self._at: float | None = None
        self._owners: dict[str, dict[tuple[str, str], Obj]] = {}
        self._unknown: dict[str, str] = {}
        self._kind_names: dict[str, str] = {}  # kind key -> qualified resource (for messages)
        self._vips: dict[str, Obj] = {}

    def _fresh(self) -> None:
        with self._lock:
            if self._at is not None and time.monotonic() - self._at <= self.max_age:
                return
            owners: dict[str, dict[tuple[str, str], Obj]] = {}
            unknown: dict[str, str] = {}
            # the clock starts before the lists: their age counts from their request
            started = time.monotonic()
            for key in self.kinds:
                res = resolve_kind(self.c, key)
                if isinstance(res, str):
                    unknown[key] = res
                    continue
                self._kind_names[key] = res.qualified
                try:
                    owners[key] = self._index(res)
                except Forbidden:
                    unknown[key] = f"may not list {res.qualified}"
            vips, _ = self.c.list(
                self.tke.vips, None, chunk_size=self.chunk_size, trim=schema.trim_vip
            )
            self._vips = {schema.name(v): v for v in vips}
            self._owners, self._unknown, self._at = owners, unknown, started
            self.lists += 1

    def _index(self, res: Resource) -> dict[tuple[str, str], Obj]:
        items, _ = self.c.list(
            res, self.scope, chunk_size=self.chunk_size, trim=schema.trim_workload
        )
        return {(schema.namespace(o), schema.name(o)): o for o in items}

    def vip(self, ip: str) -> Obj | None:
        self._fresh()
        return self._vips.get(ip)

    def owners_of(self, claim: Obj) -> tuple[dict[str, list[Obj]], dict[str, str]]:
        """As `gather.read_owners_of` answers, from the lists: (found by kind, unknown kind →
        why); a kind with an empty list was listed and the owner is not there."""
        self._fresh()
        ns, name = schema.namespace(claim), schema.name(claim)
        refs_all = schema.owner_refs(claim)
        refs = {kind_key(r.group, r.kind) for r in refs_all}
        found: dict[str, list[Obj]] = {}
        unknown: dict[str, str] = {}
        for key, names in sorted(owner_reads(name, refs_all).items()):
            if key in self._unknown:
                # a kind the claim only may have (a same-name controller of an unserved
                # group) says nothing; one it names is unknown
                if key in refs or self._unknown[key].startswith("may not"):
                    unknown[key] = self._unknown[key]
                continue
            listed = self._owners.get(key)
            if listed is None:
                continue  # not among the kinds listed (a claim added after the start)
            found[key] = [listed[(ns, n)] for n in sorted(names) if (ns, n) in listed]
        return found, unknown


def batched(
    c: Cluster, tke: TkeApi, claims: list[Obj], max_age: float = RELIST_SECONDS
) -> BatchReads | None:
    """Shared reads for a run of this many claims, or None (few: one GET each)."""
    if len(claims) < BATCH_MIN:
        return None
    try:
        return BatchReads(c, tke, claims, max_age=max_age)
    except ApiError:
        return None
