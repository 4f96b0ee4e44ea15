"""Whether the real reclaim run may do what its dry run counted: one SelfSubjectAccessReview
per verb it uses (model/run_needs), asked cluster-wide first and per namespace only where that
is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..api import cluster as api
from ..api.cluster import Cluster, Resource
from ..errors import ApiError
from ..model.claims import Inventory
from ..model.reclaim import Target
from ..model.run_needs import CLAIMS, NODES, PODS, VIPS, Need, needs
from .gather import resolve_kind
from .reclaim_batch import BATCH_MIN

# what the real run does when it lacks a verb
_STOPS = "the real run would stop there (exit 3)"
_REFUSES = "the real run cannot read the owner, so it refuses these claims (exit 1)"


def _order(n: Need) -> tuple[bool, str, str, str]:
    return (n.owner, n.resource, n.verb, n.namespace or "")


@dataclass(frozen=True)
class Lack:
    need: Need
    qualified: str  # vpcipclaims.networking.tke.cloud.tencent.com

    def line(self) -> str:
        where = f'in namespace "{self.need.namespace}"' if self.need.namespace else "cluster-wide"
        what = _REFUSES if self.need.owner else _STOPS
        return f"you may not {self.need.verb} {self.qualified} {where}: {what}"

    def doc(self) -> dict[str, str | None]:
        return {
            "verb": self.need.verb,
            "resource": self.qualified,
            "namespace": self.need.namespace,
        }


@dataclass
class Access:
    lacks: list[Lack]
    unknown: str | None = None  # why the permissions could not be asked


def check(c: Cluster, targets: list[Target], inv: Inventory) -> Access:
    """The verbs the real run of `targets` would use that this user lacks."""
    wanted = needs(targets, inv, batched=len(targets) >= BATCH_MIN)
    if not wanted:
        return Access([])
    tke = c.tke()
    ours = {CLAIMS: tke.claims, VIPS: tke.vips, PODS: api.PODS, NODES: api.NODES}
    resolved: list[tuple[Need, Resource]] = []
    for n in wanted:
        res = ours.get(n.resource) if not n.owner else resolve_kind(c, n.resource)
        if isinstance(res, Resource):  # a kind no API serves is an unknown owner, not a verb
            resolved.append((n, res))
    # one question cluster-wide per (verb, resource); per namespace only where that is refused
    pairs = sorted({(n.verb, res.qualified): res for n, res in resolved}.items())
    try:
        with ThreadPoolExecutor(4) as pool:
            wide = dict(
                zip(
                    [p for p, _r in pairs],
                    pool.map(lambda p: c.can_i(p[0][0], p[1]), pairs),
                    strict=True,
                )
            )
            narrow = [
                (n, res)
                for n, res in resolved
                if not wide[(n.verb, res.qualified)] and n.namespace is not None
            ]
            answers = list(pool.map(lambda nr: c.can_i(nr[0].verb, nr[1], nr[0].namespace), narrow))
    except ApiError as e:
        return Access([], f"cannot ask the API server what you may do: {e.message}")
    lacks = [Lack(n, res.qualified) for (n, res), ok in zip(narrow, answers, strict=True) if not ok]
    lacks += [
        Lack(n, res.qualified)
        for n, res in resolved
        if n.namespace is None and not wide[(n.verb, res.qualified)]
    ]
    return Access(sorted(lacks, key=lambda lk: _order(lk.need)))
