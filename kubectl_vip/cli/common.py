"""What every command shares: the global kubectl flags, the cluster connection, output formats."""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConfigError, RefusedError, UsageError
from ..model.duration import DurationError, format_human, parse_go_duration
from ..term.render import Out

if TYPE_CHECKING:
    import typer

    from ..api.cluster import Cluster
    from ..ops.fleet import Answer
    from ..sandbox import Sandbox

T = TypeVar("T")
API_VERSION = "kubectl-vip/v1"
LIST_FORMATS = ("table", "wide", "json", "yaml", "name")
DOC_FORMATS = ("table", "json", "yaml")


_out: Out | None = None


def set_out(out: Out | None) -> None:
    """Tests pass their own Out (captured streams, no colour) through `invoke`."""
    global _out
    _out = out


def current_out() -> Out:
    return _out or Out()


@dataclass
class Globals:
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    request_timeout: float | None = None
    sandbox: bool = False
    verbose: bool = False
    out: Out = field(default_factory=Out)
    contexts: list[str] = field(default_factory=list)  # --contexts patterns (fleet)
    all_contexts: bool = False
    max_parallel: int = 8
    _cluster: Cluster | None = None
    _sandbox: Sandbox | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _failed: list[Answer[Any]] = field(default_factory=list)  # fleet contexts that failed

    def cluster(self) -> Cluster:
        """Connect on first use: commands that never talk to a cluster import nothing heavy."""
        if self._cluster is not None:
            return self._cluster
        if self.fleet:
            raise UsageError(
                "this command works on one context: --contexts/--all-contexts apply to list, "
                "usage, doctor, reclaim --dry-run and reclaim --from-file with a fleet plan"
            )
        from ..api import kubeconfig
        from ..api.cluster import Cluster

        path = self.kubeconfig
        if self.sandbox:
            path = str(self._start_sandbox())
        conn = kubeconfig.load(path, self.context, exec_timeout=self.request_timeout)
        self._cluster = Cluster(conn, request_timeout=self.request_timeout)
        return self._cluster

    def aim_at(self, context: str) -> None:
        """Commands printed next are about one fleet context: they name it."""
        vip = (["--kubeconfig", self.kubeconfig] if self.kubeconfig else []) + [
            "--context",
            context,
        ]
        self.out.aim(vip, vip)

    def aim_hints(self) -> None:
        """The commands we print select this cluster: --kubeconfig and --context as given;
        under --sandbox our own commands take --sandbox (the same demo state), and plain
        kubectl commands the kubeconfig of `kubectl vip sandbox serve`, never the current
        context of the user's real kubeconfig."""
        vip: list[str] = []
        kubectl: list[str] = []
        if self.sandbox:
            from ..sandbox.kubeconfig_file import default_path

            vip = ["--sandbox"]
            kubectl = ["--kubeconfig", str(default_path())]
        else:
            if self.kubeconfig:
                vip += ["--kubeconfig", self.kubeconfig]
            if self.context and not self.fleet:
                vip += ["--context", self.context]
            kubectl = list(vip)
        self.out.aim(vip, kubectl)

    @property
    def fleet(self) -> bool:
        """--contexts or --all-contexts: the command runs once per context (ops/fleet.py)."""
        return bool(self.contexts) or self.all_contexts

    def fleet_contexts(self) -> list[str]:
        from ..api import kubeconfig
        from ..ops import fleet

        names = kubeconfig.context_names(self.kubeconfig)
        return fleet.resolve(self.contexts, names, every=self.all_contexts)

    def run_fleet(self, work: Callable[[Cluster], T]) -> list[Answer[T]]:
        """`work` once per context of --contexts/--all-contexts, concurrently (--max-parallel),
        each with its own connection; contexts that fail are reported on stderr at close."""
        from ..api import kubeconfig
        from ..api.cluster import Cluster
        from ..ops import fleet, gather
        from ..term.render import Progress

        names = self.fleet_contexts()
        timeout = self.request_timeout or fleet.FLEET_REQUEST_TIMEOUT

        def connect(name: str, deadline: float | None) -> Cluster:
            # the exec plugin runs within the request timeout, and within the context's deadline
            left = timeout if deadline is None else max(0.1, deadline - time.monotonic())
            conn = kubeconfig.load(self.kubeconfig, name, exec_timeout=min(timeout, left))
            return Cluster(conn, request_timeout=timeout, deadline=deadline)

        with Progress(self.out, len(names), "contexts answered", minimum=2) as bar:
            answers = fleet.run(
                names,
                work,
                connect=connect,
                identity=gather.cluster_identity,
                max_parallel=self.max_parallel,
                progress=lambda n: bar.advance(),
                timeout=fleet.context_timeout(self.request_timeout),
            )
        # said after the command's output (when the command is done: close), so a long table
        # does not scroll the failures away
        self._failed.extend(a for a in answers if not a.ok)
        return answers

    def for_context(
        self, context: str, *, out: Out | None = None, cluster: Cluster | None = None
    ) -> Globals:
        """These flags bound to one fleet context (and its cluster when already connected),
        for a command's one-context code."""
        return Globals(
            kubeconfig=self.kubeconfig,
            context=context,
            namespace=self.namespace,
            all_namespaces=self.all_namespaces,
            request_timeout=self.request_timeout,
            verbose=self.verbose,
            out=out or self.out,
            _cluster=cluster,
        )

    def scope_on(self, c: Cluster) -> str | None:
        """The namespace to work in on this cluster (a fleet context's own namespace unless
        -n or -A); None means all namespaces."""
        if self.all_namespaces:
            return None
        if self.namespace:
            return self.namespace
        try:
            return check_namespace(c.namespace, "the kubeconfig context's namespace")
        except UsageError as e:
            raise ConfigError(e.message) from None

    def _start_sandbox(self) -> Path:
        from ..sandbox import Sandbox

        self._sandbox = Sandbox("demo")
        self._sandbox.start()
        self._tmp = tempfile.TemporaryDirectory(prefix="kubectl-vip-sandbox-")
        return self._sandbox.write_kubeconfig(Path(self._tmp.name) / "kubeconfig")

    def state_dir(self) -> Path:
        """Where audit records go. A --sandbox run keeps them in the sandbox's own temporary
        state, never in the user's real audit file."""
        if self.sandbox:
            self.cluster()  # starts the sandbox and its temporary directory
            assert self._tmp is not None
            return Path(self._tmp.name) / "state"
        from ..ops.reclaim_exec import state_dir

        return state_dir()

    def scope(self) -> str | None:
        """The namespace to work in; None means all namespaces (-A)."""
        if self.all_namespaces:
            return None
        if self.namespace:
            return self.namespace  # checked when the flag was read
        return self.scope_on(self.cluster())

    def close(self) -> None:
        if self._failed:
            from ..ops import fleet

            fleet.report_failures(self.out, self._failed)
            self._failed = []
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def globals_of(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    if not isinstance(obj, Globals):  # invoked without the app callback (tests of one command)
        obj = Globals()
        ctx.find_root().obj = obj
    return obj


def parse_request_timeout(value: str | None) -> float | None:
    """kubectl's --request-timeout: '0' (none), a bare number of seconds, or a Go duration."""
    if value is None or value.strip() in ("", "0"):
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        td = parse_go_duration(v)
    except DurationError as e:
        raise UsageError(f"invalid --request-timeout: {e}") from None
    return td.total_seconds() or None


def check_format(fmt: str, allowed: tuple[str, ...]) -> str:
    f = fmt.strip().lower()
    if f not in allowed:
        raise UsageError(f'unknown output format "{fmt}": use one of {", ".join(allowed)}')
    return f


def check_selector(selector: str | None) -> str | None:
    """A label selector is checked here, so a typo never reaches the API server."""
    if selector is None:
        return None
    from ..shared.labels import SelectorError, parse_label_selector

    try:
        parse_label_selector(selector)
    except SelectorError as e:
        raise UsageError(f'invalid label selector "{selector}": {e}') from None
    return selector


def check_name(name: str, what: str = "name") -> str:
    """An object name as the API allows it (DNS-1123 subdomain), checked before a URL is built:
    `..` would otherwise walk up the path to another object."""
    from ..shared.labels import DNS1123_SUBDOMAIN_RE

    if len(name) > 253 or not DNS1123_SUBDOMAIN_RE.fullmatch(name):
        raise UsageError(
            f'invalid {what} "{name[:80]}": a Kubernetes name is at most 253 characters of '
            "lower case letters, digits, '-' and '.', starting and ending with a letter or digit"
        )
    return name


def check_namespace(namespace: str, source: str = "-n/--namespace") -> str:
    """A namespace name as the API allows it (DNS-1123 label)."""
    from ..shared.labels import DNS1123_LABEL_RE

    if len(namespace) > 63 or not DNS1123_LABEL_RE.fullmatch(namespace):
        raise UsageError(
            f'invalid namespace "{namespace[:80]}" ({source}): a namespace is at most 63 '
            "characters of lower case letters, digits and '-', starting and ending with a "
            "letter or digit"
        )
    return namespace


def ensure_namespace(g: Globals, namespace: str | None) -> None:
    """An empty result in a namespace that does not exist says so instead of printing nothing."""
    if namespace is not None:
        from ..ops.gather import ensure_namespace

        ensure_namespace(g.cluster(), namespace)


def confirm(g: Globals, question: str, refusal: str) -> None:
    """Ask on a TTY (stdin and stdout); refuse (exit 1) on anything else or any answer but yes.

    `refusal` says what was not done, e.g. "refusing to reclaim 3 claims"."""
    import sys

    stdin_tty = sys.stdin.isatty() if hasattr(sys.stdin, "isatty") else False
    if not (stdin_tty and g.out.tty):
        raise RefusedError(
            f"{refusal} without confirmation on a non-interactive terminal",
            hint="pass --yes, or --dry-run to preview",
        )
    import typer

    from ..term.escaping import escape

    # typer writes the prompt itself: escaped here as render escapes every other line
    answer = typer.prompt(escape(f"{question} [y/N]"), default="", show_default=False)
    if answer.strip().lower() not in ("y", "yes"):
        raise RefusedError(f"{refusal}: not confirmed; nothing was sent")


def age(t: datetime | None, now: datetime) -> str:
    # interned: a table of 30,000 rows has a few hundred distinct ages
    return sys.intern(format_human(now - t)) if t is not None else "<unknown>"


def iso(t: datetime | None) -> str | None:
    if t is None:
        return None
    if t.tzinfo is timezone.utc and not t.microsecond and t.year >= 1000:
        return t.isoformat()[:19] + "Z"  # the same text, in a third of strftime's time
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def document(kind: str, items: Iterable[Any], **extra: Any) -> dict[str, Any]:
    """A versioned document for scripts: apiVersion kubectl-vip/v1."""
    return {"apiVersion": API_VERSION, "kind": kind, **extra, "items": items}


# the fields of our documents that hold commands to run (doctor's fixes, set-expiry's
# restore and protect commands): aimed as the text output is (Out.aim)
COMMAND_FIELDS = frozenset({"fix", "details", "restoreCommand", "protectCommands"})


def aim_doc(out: Out, doc: Any) -> Any:
    """`doc` with the commands in its COMMAND_FIELDS aimed at this run's cluster."""
    if isinstance(doc, dict):
        return {
            k: (_aim_value(out, v) if k in COMMAND_FIELDS else aim_doc(out, v))
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [aim_doc(out, v) for v in doc]
    return doc


def _aim_value(out: Out, v: Any) -> Any:
    if isinstance(v, str):
        return out.ours(v)
    if isinstance(v, list):
        return [out.ours(x) if isinstance(x, str) else x for x in v]
    return v
