"""The layout shows the parts (README: Layout): a package per layer, the import-linter contracts
of pyproject.toml kept, no import cycle, no two modules of one name."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kubectl_vip"
LAYERS = {"cli", "ops", "doctor", "model", "api", "term", "sandbox", "shared", "release"}
ROOT_FILES = {"__init__.py", "__main__.py", "errors.py", "interrupt.py"}


def _modules(top: Path, package: str | None) -> dict[str, Path]:
    """Module name -> file, for a package (`package` set) or a folder of scripts."""
    out = {}
    for path in sorted(top.rglob("*.py")):
        rel = path.relative_to(top).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(([package] if package else []) + parts)
        out[name or (package or "")] = path
    return out


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """Every module of `known` that `module` imports, wherever the import stands (inside a
    function or under TYPE_CHECKING too: a cycle hidden in a function is still a cycle)."""
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                parts = parts if is_pkg else parts[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for n in names:
            while n and n not in known:
                n = n.rpartition(".")[0]
            if n and n != module:
                found.add(n)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _graph(top: Path, package: str | None) -> dict[str, set[str]]:
    mods = _modules(top, package)
    known = set(mods)
    graph = {}
    for name, path in mods.items():
        deps = _imports(path, name, known)
        # a package's __init__ is imported on the way to each of its modules: not an edge back
        graph[name] = {d for d in deps if not name.startswith(d + ".")}
    return graph


@pytest.mark.parametrize(
    ("folder", "package"), [("kubectl_vip", "kubectl_vip"), ("bench", None)], ids=str
)
def test_no_import_cycle(folder: str, package: str | None) -> None:
    assert _cycles(_graph(ROOT / folder, package)) == []


def test_the_cycle_finder_finds_a_cycle_hidden_in_a_function(tmp_path: Path) -> None:
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def f():\n    from .c import x\n")
    (pkg / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import p.a\n"
    )
    assert _cycles(_graph(pkg, "p")) == [["p.a", "p.b", "p.c"]]


def test_module_names_are_unique() -> None:
    seen: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name not in ("__init__.py", "__main__.py"):
            seen.setdefault(path.stem, []).append(str(path.relative_to(ROOT)))
    packages = {p.name for p in PACKAGE.rglob("*") if p.is_dir() and (p / "__init__.py").exists()}
    twice = {k: v for k, v in seen.items() if len(v) > 1 or k in packages}
    assert twice == {}


def test_every_file_is_in_the_package_of_its_layer() -> None:
    stray = []
    for path in PACKAGE.iterdir():
        if path.name == "__pycache__":
            continue
        if path.is_dir():
            if path.name not in LAYERS:
                stray.append(path.name + "/")
        elif path.name not in ROOT_FILES:
            stray.append(path.name)
    assert stray == []
    assert all((PACKAGE / layer / "__init__.py").is_file() for layer in LAYERS)


def test_the_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports"
    )
    assert exe, "import-linter is a test dependency: pip install -e '.[test]'"
    p = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert "0 broken" in p.stdout


def test_model_and_api_name_the_same_tke_group() -> None:
    from kubectl_vip.api.cluster import TKE_GROUP as API_GROUP
    from kubectl_vip.model.schema import TKE_GROUP

    assert TKE_GROUP == API_GROUP == "networking.tke.cloud.tencent.com"
