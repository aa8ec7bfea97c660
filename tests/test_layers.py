"""The import graph drawn from the code: one way, no circle, no hidden imports.

Each package of ``agora_node`` has a rank; a module may import only from
lower ranks (or from its own package). Surfaces (api, web) share a rank, so
neither imports the other; entry points sit on top. An import inside a
function would hide an edge from this check, so there are none.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "agora_node"

RANKS = {
    "__init__": 0,
    "errors": 0,
    "loopmon": 0,
    "aio": 0,
    "config": 1,
    "logs": 2,
    "ratelimit": 2,
    "protocol": 2,
    "store": 3,
    "context": 4,
    "processing": 4,
    "federation": 5,
    "services": 6,
    "actions": 6,
    "entities": 6,
    "workers": 6,
    "api": 7,
    "web": 7,
    "background": 8,
    "devnet": 8,
    "app": 9,
    "demo": 9,
    "cli": 10,
}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = [p for p in rel.parts if p != "__init__"]
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n == "agora_node" or n.startswith("agora_node.")}


def test_every_package_has_a_rank() -> None:
    assert {_package(m) for m in _modules()} <= set(RANKS)


def test_imports_point_one_way() -> None:
    modules = _modules()
    wrong = []
    for module, tree in modules.items():
        mine = _package(module)
        for target in _imports(tree):
            theirs = _package(target)
            if target not in modules and target.rsplit(".", 1)[0] in modules:
                theirs = _package(target.rsplit(".", 1)[0])
            if theirs != mine and RANKS[theirs] >= RANKS[mine]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_circle_between_modules() -> None:
    modules = _modules()
    graph = {
        m: {t if t in modules else t.rsplit(".", 1)[0] for t in _imports(tree)} & set(modules)
        for m, tree in modules.items()
    }
    state: dict[str, int] = {}
    circles = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m] - {m}):
            if state.get(t) == 1:
                circles.append([*path[path.index(t) :], t])
            elif t not in state:
                visit(t, [*path, t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert circles == []


def test_no_function_local_imports() -> None:
    local = []
    for module, tree in _modules().items():
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        local.append(f"{module}.{fn.name}")
    assert local == []
