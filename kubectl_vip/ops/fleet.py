"""Fleet: one command across many kubeconfig contexts.

Context patterns (`--contexts a,b`, `prod-*`, `--all-contexts`) are resolved against the
kubeconfig's context names; then one function runs per context, concurrently with a bound,
each with its own connection (credentials, TLS, proxy), its own per-request timeout and one
deadline for the whole context (its exec plugin and every request), so a slow, dead or hung
context costs only its own slot, and only that long. A context that fails is an answer too: its
error is kept, and the others still answer.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..api.redact import redact
from ..errors import ConfigError, ExitCode, TimedOut, VipError
from ..model.words import plural

if TYPE_CHECKING:
    from ..api.cluster import Cluster
    from ..term.render import Out

T = TypeVar("T")

DEFAULT_MAX_PARALLEL = 8
# A fleet run never waits forever on one context: without --request-timeout, each request of
# a fleet run gives up after this long (kubectl's own default, 0, means no limit); and each
# context as a whole, whatever it does, after this long or --request-timeout, the longer.
FLEET_REQUEST_TIMEOUT = 30.0
# how long past its deadline a context's work may take to notice it (a request in flight
# returns at its deadline; this covers what no deadline can cut, a DNS lookup for one)
DEADLINE_GRACE = 2.0


def context_timeout(request_timeout: float | None) -> float:
    """The deadline of one context of a fleet run, in seconds from its start."""
    return max(FLEET_REQUEST_TIMEOUT, request_timeout or 0.0)


_GLOB = set("*?[")


def split_patterns(values: Iterable[str]) -> list[str]:
    """`--contexts a,b --contexts c` -> [a, b, c]; empty items are dropped."""
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def resolve(patterns: Sequence[str], available: Sequence[str], *, every: bool) -> list[str]:
    """The contexts to run, in kubeconfig order. A name that is not a context, or a pattern
    that matches none, is refused as `--context NAME` is (a kubeconfig error, exit 3): a typo
    must not silently shrink the fleet."""
    if every:
        if not available:
            raise ConfigError("--all-contexts: the kubeconfig has no contexts")
        return list(available)
    chosen: set[str] = set()
    for p in patterns:
        if _GLOB & set(p):
            hits = fnmatch.filter(available, p)
            if not hits:
                raise ConfigError(
                    f'--contexts pattern "{p}" matches no context',
                    hint=f"contexts: {', '.join(available) or 'none'}",
                )
            chosen.update(hits)
        elif p in available:
            chosen.add(p)
        else:
            raise ConfigError(
                f'context "{p}" not found in the kubeconfig',
                hint=f"contexts: {', '.join(available) or 'none'}",
            )
    return [n for n in available if n in chosen]


@dataclass
class Answer(Generic[T]):
    """One context's answer: a value, or the error that stopped it."""

    context: str
    value: T | None = None
    error: VipError | None = None
    cluster: dict[str, Any] = field(default_factory=dict)  # server, kubeSystemUID
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def why(self) -> str:
        e = self.error
        if e is None:
            return ""
        return e.message + (f"; {e.hint}" if e.hint else "")


class UnexpectedError(VipError):
    """A bug or an odd answer in one context: reported as that context's failure."""


def run(
    contexts: Sequence[str],
    work: Callable[[Cluster], T],
    *,
    connect: Callable[[str, float | None], Cluster],
    identity: Callable[[Cluster], dict[str, Any]],
    max_parallel: int = DEFAULT_MAX_PARALLEL,
    progress: Callable[[int], Any] | None = None,
    timeout: float | None = None,
) -> list[Answer[T]]:
    """`work` on each context's Cluster, at most `max_parallel` at once; answers in the order of
    `contexts`. `progress(n)` is told how many have answered so far.

    Each context gets `timeout` seconds from its start (None: no limit), given to `connect`
    as a deadline that its connection applies to the exec plugin and every request. A context
    still running `DEADLINE_GRACE` after its deadline is answered "timed out" and left behind
    (its thread is a daemon: it never holds the others, nor the end of the process)."""

    def one(name: str, deadline: float | None) -> Answer[T]:
        start = time.monotonic()
        answer: Answer[T] = Answer(name)
        try:
            c = connect(name, deadline)
            answer.cluster = {"server": c.server, "kubeSystemUID": None}
            answer.value = work(c)
            answer.cluster = identity(c)
        except VipError as e:
            answer.error = e
        except Exception as e:  # noqa: BLE001 - one context's surprise must not stop the rest
            answer.error = UnexpectedError(f"unexpected {type(e).__name__}: {e}")
        answer.seconds = time.monotonic() - start
        return answer

    if not contexts:
        return []
    workers = max(1, min(max_parallel, len(contexts)))
    pending = list(contexts)
    running: dict[str, tuple[float, float | None]] = {}  # name: (start, when to give up)
    answers: dict[str, Answer[T]] = {}
    done = threading.Condition()

    def worker(name: str, deadline: float | None) -> None:
        a = one(name, deadline)
        with done:
            if running.pop(name, None) is not None:  # else: given up on, answered already
                answers[name] = a
                done.notify_all()

    reported = 0
    with done:
        while True:
            while pending and len(running) < workers:
                name = pending.pop(0)
                start = time.monotonic()
                deadline = start + timeout if timeout is not None else None
                give_up = deadline + DEADLINE_GRACE if deadline is not None else None
                running[name] = (start, give_up)
                threading.Thread(
                    target=worker, args=(name, deadline), name=f"context {name}", daemon=True
                ).start()
            now = time.monotonic()
            for name, (start, give_up) in list(running.items()):
                if give_up is not None and now >= give_up:
                    del running[name]
                    answers[name] = Answer(name, error=_gave_up(timeout), seconds=now - start)
            if progress is not None:
                for n in range(reported + 1, len(answers) + 1):
                    progress(n)
                reported = len(answers)
            if not pending and not running:
                break
            waits = [g - now for _s, g in running.values() if g is not None]
            # Ctrl-C interrupts the wait: contexts not started yet never start
            done.wait(max(0.0, min(waits)) if waits else None)
    return [answers[n] for n in contexts]


def _gave_up(timeout: float | None) -> TimedOut:
    return TimedOut(
        f"no answer within the fleet's per-context deadline ({timeout or 0:g}s)",
        hint="a larger --request-timeout gives each context longer",
    )


def exit_code(answers: Sequence[Answer[Any]], worst: int = ExitCode.OK) -> int:
    """3 when no context answered; 1 when some did not, or `worst` (the answering contexts'
    own verdict, e.g. doctor's findings) is not OK; else 0."""
    failed = [a for a in answers if not a.ok]
    if answers and len(failed) == len(answers):
        return ExitCode.ACCESS
    if failed or worst != ExitCode.OK:
        return ExitCode.FAILED
    return ExitCode.OK


def report_failures(out: Out, answers: Sequence[Answer[Any]]) -> None:
    """One line on stderr per context that did not answer, naming it and why."""
    for a in answers:
        if not a.ok:
            out.error(redact(f"context {a.context}: {a.why()}"))


def _server_key(server: Any) -> str:
    return str(server or "").rstrip("/").lower()


def same_cluster(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two contexts reach one cluster: the same kube-system uid, or, where either uid is
    unknown (not readable), the same server URL. Two known uids that differ are two clusters
    even behind one URL (a proxy in front of many)."""
    ua, ub = a.get("kubeSystemUID"), b.get("kubeSystemUID")
    if ua and ub:
        return bool(ua == ub)
    sa = _server_key(a.get("server"))
    return bool(sa) and sa == _server_key(b.get("server"))


def group_clusters(
    answers: Sequence[Answer[Any]], prefer: Callable[[Answer[Any]], bool] | None = None
) -> dict[str, str]:
    """For each answering context, the context that speaks for its cluster: the first of the
    contexts that reached the same cluster (or the first for which `prefer` holds). Totals,
    tables and plans take only the speaker's answer, so a cluster under two names (an admin
    and a read-only context, an alias) counts once. Contexts that failed are not grouped."""
    groups: list[list[Answer[Any]]] = []
    for a in answers:
        if not a.ok:
            continue
        for group in groups:
            if any(same_cluster(a.cluster, b.cluster) for b in group):
                group.append(a)
                break
        else:
            groups.append([a])
    speaker: dict[str, str] = {}
    for group in groups:
        first = next((a for a in group if prefer(a)), group[0]) if prefer else group[0]
        for a in group:
            speaker[a.context] = first.context
    return speaker


def distinct(answers: Sequence[Answer[T]], speaker: dict[str, str]) -> list[Answer[T]]:
    """The answering contexts that speak for their cluster, in kubeconfig order."""
    return [a for a in answers if a.ok and speaker.get(a.context) == a.context]


def aliases(speaker: dict[str, str]) -> dict[str, list[str]]:
    """speaker -> the other contexts that reached its cluster."""
    out: dict[str, list[str]] = {}
    for ctx, first in speaker.items():
        if ctx != first:
            out.setdefault(first, []).append(ctx)
    return out


def answered_note(answers: Sequence[Answer[Any]], speaker: dict[str, str] | None = None) -> str:
    """`2 contexts answered, 1 failed`, and how many clusters they reached when fewer."""
    failed = sum(1 for a in answers if not a.ok)
    ok = len(answers) - failed
    note = f"{plural(ok, 'context')} answered"
    clusters = len(set(speaker.values())) if speaker else ok
    if clusters < ok:
        note += f", {plural(clusters, 'distinct cluster')}"
    return note + (f", {failed} failed" if failed else "")
