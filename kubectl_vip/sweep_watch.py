"""Follow ipamd's expiry sweep: watch claims until the ones due are gone (a workflow)."""

from __future__ import annotations

import time
from collections.abc import Callable

from . import schema
from .cluster import Cluster, TkeApi
from .errors import ApiError

Key = tuple[str, str]


def _trim(o: dict[str, object]) -> dict[str, object]:
    return {
        "metadata": {"namespace": schema.namespace(o), "name": schema.name(o), "uid": schema.uid(o)}
    }


def wait_claims_gone(
    c: Cluster,
    tke: TkeApi,
    due: dict[Key, str | None],
    deadline: float,
    progress: Callable[[int], None] | None = None,
) -> set[Key]:
    """Watch claims (all namespaces) until every one of `due` (key → uid) is deleted, or the
    monotonic `deadline` passes; returns those still there. A claim of the same name with
    another uid is a new claim (its Pod came back after ours was reclaimed): ours is gone."""
    pending = dict(due)

    def gone(key: Key, uid: str | None) -> bool:
        want = pending.get(key)
        return key in pending and (want is None or uid is None or uid == want)

    while pending and time.monotonic() < deadline:
        items, rv = c.list(tke.claims, None, trim=_trim)
        present = {(schema.namespace(o), schema.name(o)): schema.uid(o) for o in items}
        for key, want in list(pending.items()):
            if key not in present or (want and present[key] and present[key] != want):
                del pending[key]
                if progress:
                    progress(1)
        if not pending:
            break
        remaining = max(1, int(deadline - time.monotonic()))
        try:
            for etype, obj in c.watch(tke.claims, resource_version=rv, timeout_seconds=remaining):
                key = (schema.namespace(obj), schema.name(obj))
                if etype == "DELETED" and gone(key, schema.uid(obj)):
                    del pending[key]
                    if progress:
                        progress(1)
                if not pending or time.monotonic() >= deadline:
                    break
        except ApiError:
            continue  # an expired resourceVersion or a broken stream: list again
    return set(pending)
