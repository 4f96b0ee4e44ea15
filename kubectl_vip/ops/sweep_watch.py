"""Follow deletions through list + watch until the objects asked for are gone (a workflow):
ipamd's expiry sweep deleting claims, ipamd releasing the VpcIPs of reclaimed claims."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ..api.cluster import Cluster, Resource, TkeApi
from ..errors import ApiError
from ..model import schema

Key = tuple[str, str]
K = TypeVar("K", bound=Hashable)


def watch_until_gone(
    c: Cluster,
    res: Resource,
    wanted: dict[K, str | None],
    key_of: Callable[[dict[str, Any]], K],
    deadline: float,
    progress: Callable[[int], None] | None = None,
) -> set[K]:
    """List, then watch, `res` (all namespaces) until every key of `wanted` (key → uid, or None
    for any) is deleted, or the monotonic `deadline` passes; returns the keys still there. An
    object of the same key with another uid is a new one: the one we waited for is gone. An
    expired resourceVersion or a broken stream lists again."""
    pending = dict(wanted)

    def trim(o: dict[str, Any]) -> dict[str, Any]:
        meta = {"namespace": schema.namespace(o), "name": schema.name(o), "uid": schema.uid(o)}
        return {"metadata": meta}

    def drop(key: K) -> None:
        del pending[key]
        if progress:
            progress(1)

    while pending and time.monotonic() < deadline:
        items, rv = c.list(res, None, trim=trim)
        present = {key_of(o): schema.uid(o) for o in items}
        for key, want in list(pending.items()):
            if key not in present or (want and present[key] and present[key] != want):
                drop(key)
        if not pending:
            break
        remaining = max(1, int(deadline - time.monotonic()))
        try:
            for etype, obj in c.watch(res, resource_version=rv, timeout_seconds=remaining):
                key, uid = key_of(obj), schema.uid(obj)
                want = pending.get(key, "")
                if etype == "DELETED" and key in pending and (not want or not uid or uid == want):
                    drop(key)
                if not pending or time.monotonic() >= deadline:
                    break
        except ApiError:
            continue
    return set(pending)


def wait_claims_gone(
    c: Cluster,
    tke: TkeApi,
    due: dict[Key, str | None],
    deadline: float,
    progress: Callable[[int], None] | None = None,
) -> set[Key]:
    """Until every claim of `due` (key → uid) is deleted: ipamd's sweep has run."""
    return watch_until_gone(
        c, tke.claims, due, lambda o: (schema.namespace(o), schema.name(o)), deadline, progress
    )


def wait_released(
    c: Cluster,
    tke: TkeApi,
    ips: set[str],
    timeout: float,
    progress: Callable[[int], None] | None = None,
) -> set[str]:
    """Until each VpcIP of `ips` is gone (ipamd released it); returns those still present."""
    deadline = time.monotonic() + timeout
    return watch_until_gone(c, tke.vips, dict.fromkeys(ips), schema.name, deadline, progress)
