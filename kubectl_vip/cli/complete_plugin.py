"""`kubectl_complete-vip`: completions for `kubectl vip <TAB>` (kubectl >= 1.26) and for the
bash/zsh/fish scripts of `kubectl-vip`.

kubectl runs `kubectl_complete-vip ARGS... WORD` with the words after `vip` and the (possibly
empty) word under the cursor, and reads one candidate per line (`candidate<TAB>description`)
and then a cobra directive line such as `:4`. Static candidates come from the generated
`completion_spec.json` (no typer, rich or kubernetes import); claim names, namespaces and
contexts are read from the cluster or kubeconfig with a short timeout, and any failure there
yields no candidates rather than an error.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..term.escaping import escape

# cobra's ShellCompDirective bits
DEFAULT = 0  # no flags: the shell may fall back to file names
ERROR = 1
NO_SPACE = 2
NO_FILE_COMP = 4

REQUEST_TIMEOUT = 2.0  # seconds per API request
DEADLINE = 3.0  # seconds for everything dynamic; then answer with nothing

Spec = dict[str, Any]
Candidate = tuple[str, str]  # (value, description)


@dataclass
class Line:
    """What the words before the cursor say: the command, its flags and arguments."""

    path: list[str] = field(default_factory=list)
    node: Spec = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # long names of the flags given
    values: dict[str, str] = field(default_factory=dict)  # long name -> last value given
    positional: list[str] = field(default_factory=list)
    pending: Spec | None = None  # the flag whose value is the word under the cursor

    def flag_value(self, name: str) -> str | None:
        return self.values.get(name)


# ----------------------------------------------------------------------------------- parsing


def _long(flag: Spec) -> str:
    opts: list[str] = flag["opts"]
    return next((o for o in opts if o.startswith("--")), opts[0])


def _flags(root: Spec, node: Spec) -> list[Spec]:
    """Flags valid at `node`: the global ones (accepted anywhere on the line) first."""
    if node is root:
        return list(root["flags"])
    return [*(f for f in root["flags"] if f.get("global")), *node["flags"]]


def _find(flags: list[Spec], name: str) -> Spec | None:
    return next((f for f in flags if name in f["opts"]), None)


def parse(spec: Spec, words: Sequence[str]) -> Line:
    line = Line(node=spec)
    only_args = False
    for w in words:
        if line.pending is not None:
            owner, line.pending = line.pending, None
            line.values[_long(owner)] = w
            continue
        if only_args:
            line.positional.append(w)
            continue
        if w == "--":
            only_args = True
            continue
        if w.startswith("-") and len(w) > 1:
            name, eq, value = w.partition("=")
            flag = _find(_flags(spec, line.node), name)
            if flag is None and not name.startswith("--"):
                # a short flag with its value attached: -ndb
                flag = _find(_flags(spec, line.node), name[:2])
                if flag is not None and flag.get("value") is not None:
                    eq, value = "=", name[2:]
            if flag is None:
                continue
            long = _long(flag)
            line.seen.add(long)
            if flag.get("value") is None:
                continue
            if eq:
                line.values[long] = value
            elif not flag.get("optional"):
                line.pending = flag
            continue
        subs = line.node.get("commands") or {}
        if w in subs and not line.positional:
            line.node = subs[w]
            line.path.append(w)
            continue
        if _optional_value(spec, line, w):
            continue
        line.positional.append(w)
    return line


def _optional_value(spec: Spec, line: Line, word: str) -> bool:
    """`--dry-run server`: an optional-value flag takes the next word only if it is a mode."""
    for long in line.seen:
        flag = _find(_flags(spec, line.node), long)
        if flag and flag.get("optional") and long not in line.values:
            choices = flag.get("value")
            if isinstance(choices, list) and word in choices:
                line.values[long] = word
                return True
    return False


# ----------------------------------------------------------------------------------- answers


def complete(
    args: Sequence[str],
    spec: Spec | None = None,
    dynamic: Callable[[str, Line], list[Candidate]] | None = None,
) -> tuple[list[Candidate], int]:
    """Candidates and a directive for `kubectl vip ARGS` where ARGS[-1] is the word to complete."""
    if spec is None:
        from .completion import load_spec

        spec = load_spec()
    fetch = dynamic or fetch_dynamic
    words = list(args[:-1]) if args else []
    cur = args[-1] if args else ""
    line = parse(spec, words)
    if line.pending is not None:
        return _values(line.pending, cur, "", line, fetch)
    if cur.startswith("-") and "=" in cur:
        name, _, value = cur.partition("=")
        flag = _find(_flags(spec, line.node), name)
        if flag is None or flag.get("value") is None:
            return [], NO_FILE_COMP
        return _values(flag, value, name + "=", line, fetch)
    if cur.startswith("-"):
        out = []
        for flag in _flags(spec, line.node):
            if _long(flag) in line.seen and not flag.get("multiple"):
                continue
            for opt in flag["opts"]:
                if opt.startswith(cur):
                    out.append((opt, flag.get("help", "")))
        return out, NO_FILE_COMP
    subs = line.node.get("commands") or {}
    if subs and not line.positional:
        return [(n, s["help"]) for n, s in subs.items() if n.startswith(cur)], NO_FILE_COMP
    return _argument(line, cur, fetch)


def _values(
    flag: Spec,
    cur: str,
    prefix: str,
    line: Line,
    fetch: Callable[[str, Line], list[Candidate]],
) -> tuple[list[Candidate], int]:
    kind = flag.get("value")
    if kind == "file":
        return [], DEFAULT
    if isinstance(kind, list):
        got = [(c, "") for c in kind]
        for other, more in (flag.get("valuesWith") or {}).items():
            if other in line.seen:
                got += [(c, "") for c in more]
    elif kind in ("namespace", "context"):
        got = fetch(str(kind), line)
    else:
        return [], NO_FILE_COMP
    if flag.get("multiple"):  # --state a,b: complete the last item
        head, sep, cur = cur.rpartition(",")
        prefix += head + sep
    return [(prefix + v, d) for v, d in got if v.startswith(cur)], NO_FILE_COMP


def _argument(
    line: Line, cur: str, fetch: Callable[[str, Line], list[Candidate]]
) -> tuple[list[Candidate], int]:
    args = line.node.get("args") or []
    if not args:
        return [], NO_FILE_COMP
    index = len(line.positional)
    if index >= len(args) and not args[-1].get("many"):
        return [], NO_FILE_COMP
    arg = args[min(index, len(args) - 1)]
    kind = arg.get("value")
    if isinstance(kind, list):
        got = [(c, "") for c in kind]
    elif kind in ("claim", "reclaimable-claim"):
        got = fetch(str(kind), line)
    else:
        return [], NO_FILE_COMP
    taken = set(line.positional)
    return [(v, d) for v, d in got if v.startswith(cur) and v not in taken], NO_FILE_COMP


def format_answer(candidates: list[Candidate], directive: int) -> str:
    lines = []
    for value, desc in candidates:
        # one line per candidate, and nothing the terminal would act on (names come from the API)
        value = escape(value.replace("\n", " ").replace("\t", " "))
        desc = escape(" ".join(desc.split()))
        lines.append(f"{value}\t{desc}" if desc else value)
    lines.append(f":{directive}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------- dynamic


def fetch_dynamic(kind: str, line: Line) -> list[Candidate]:
    """Ask the cluster or kubeconfig within DEADLINE; any failure is no candidates."""
    result: list[Candidate] = []

    def work() -> None:
        try:
            result.extend(_fetch(kind, line))
        except BaseException:  # noqa: BLE001 - completion must never print an error
            result.clear()

    t = threading.Thread(target=work, daemon=True)
    t.start()
    t.join(DEADLINE)
    return list(result) if not t.is_alive() else []


def _fetch(kind: str, line: Line) -> list[Candidate]:
    if kind == "context":
        return [(c, "") for c in kubeconfig_contexts(line.flag_value("--kubeconfig"))]
    with _connect(line) as cluster:
        if kind == "namespace":
            from ..api.cluster import NAMESPACES

            items, _ = cluster.list(NAMESPACES, chunk_size=0)
            return sorted((str(o["metadata"]["name"]), "") for o in items)
        if "--all-namespaces" in line.seen:
            return []  # claim names need one namespace
        namespace = line.flag_value("--namespace") or cluster.namespace
        if kind == "claim":
            items, _ = cluster.list(cluster.tke().claims, namespace, chunk_size=0)
            return sorted((str(o["metadata"]["name"]), "") for o in items)
        if kind == "reclaimable-claim":
            return _reclaimable(cluster, namespace, line)
        return []


@contextlib.contextmanager
def _connect(line: Line) -> Iterator[Any]:
    """The cluster the line names: --kubeconfig, --context, or the --sandbox demo."""
    from ..api import kubeconfig
    from ..api.cluster import Cluster

    if "--sandbox" not in line.seen:
        conn = kubeconfig.load(line.flag_value("--kubeconfig"), line.flag_value("--context"))
        yield Cluster(conn, request_timeout=REQUEST_TIMEOUT)
        return
    from ..sandbox import Sandbox

    sandbox = Sandbox("demo")
    sandbox.start()
    try:
        with tempfile.TemporaryDirectory(prefix="kubectl-vip-complete-") as tmp:
            path = sandbox.write_kubeconfig(Path(tmp) / "kubeconfig")
            conn = kubeconfig.load(str(path), line.flag_value("--context"))
            yield Cluster(conn, request_timeout=REQUEST_TIMEOUT)
    finally:
        sandbox.stop()


def _reclaimable(cluster: Any, namespace: str, line: Line) -> list[Candidate]:
    """Claims `reclaim` would accept as named on this line (its --include-completed,
    --allow-new-ip and --scaled-in-for flags count), with their state and IP as the
    description."""
    from ..model.claims import classify
    from ..model.duration import DurationError, parse_go_duration
    from ..model.reclaim import Rules, decide
    from ..ops import gather

    kept_for = None
    with contextlib.suppress(DurationError):
        kept_for = parse_go_duration(line.flag_value("--scaled-in-for") or "")
    rules = Rules("--include-completed" in line.seen, "--allow-new-ip" in line.seen, kept_for)
    snap = gather.snapshot(cluster, namespace, chunk_size=0)
    rows = classify(snap.inventory, snap.ipamd.policy, cluster.now())
    out = []
    for r in rows:
        ok, _ = decide(r, rules)
        if ok:
            out.append((r.name, f"{r.state.value} {r.ip or ''}".strip()))
    return sorted(out)


def kubeconfig_contexts(explicit: str | None) -> list[str]:
    """Context names of the kubeconfig files, read as YAML (kubectl's merge order)."""
    import yaml

    if explicit:
        paths = [explicit]
    elif os.environ.get("KUBECONFIG"):
        paths = [p for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    else:
        paths = [str(Path.home() / ".kube" / "config")]
    names: list[str] = []
    for p in paths:
        try:
            doc = yaml.safe_load(Path(p).expanduser().read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        contexts = doc.get("contexts") if isinstance(doc, dict) else None
        for c in contexts if isinstance(contexts, list) else []:
            name = c.get("name") if isinstance(c, dict) else None
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


# ----------------------------------------------------------------------------------- entries


def main(argv: list[str] | None = None) -> None:
    """The `kubectl_complete-vip` console script."""
    args = sys.argv[1:] if argv is None else argv
    try:
        candidates, directive = complete(args)
    except Exception:  # noqa: BLE001 - a broken completion must not spill a traceback
        candidates, directive = [], ERROR
    with contextlib.suppress(OSError):  # the shell may have stopped reading
        sys.stdout.write(format_answer(candidates, directive))
        sys.stdout.flush()
    # a dynamic lookup that overran its deadline may still hold a thread: do not wait for it
    os._exit(0)


def multicall() -> None:
    """Entry point of the single-file release: `kubectl-vip __complete ARGS...` completes,
    anything else is the CLI."""
    if sys.argv[1:2] == ["__complete"]:
        main(sys.argv[2:])
        return
    from .entry import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
