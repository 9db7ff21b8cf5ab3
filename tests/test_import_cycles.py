"""No import cycles between the project's modules.

The packages are those pyproject.toml ships (`[tool.setuptools.packages.find] include`), so a
new top-level package is walked as soon as it is shipped.  Every import statement of every
module counts, wherever it stands (module level, class body, function body: a function-level
import is a dependency all the same, only a later one), except those under
`if TYPE_CHECKING:`, which never run.  `from a.b import c` depends on the module `a.b.c` when
there is one, else on `a.b`; importing a submodule is not counted as depending on its parent
package's `__init__`.  Every strongly connected component of more than one module (or a module
importing itself) is a cycle; the test names each, with one concrete path through it.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Cycles tolerated for now, each the exact set of modules of one cycle (the test also fails
# when a listed one is gone, so the list stays honest).  Empty since issue 15 made the command
# modules built-in plugins.
KNOWN_CYCLES: set[frozenset[str]] = set()


def _packages() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["packages"]["find"]["include"]
    tops = {p.split(".")[0].rstrip("*") for p in patterns}
    return sorted(t for t in tops if (REPO / t / "__init__.py").is_file())


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for top in _packages():
        for path in (REPO / top).rglob("*.py"):
            rel = path.relative_to(REPO).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST):
    """The import statements under `node` (see the module doc)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]))
        else:
            yield from _import_nodes(child)


def _dependencies(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    deps: set[str] = set()
    for node in _import_nodes(tree):
        if isinstance(node, ast.Import):
            deps.update(a.name for a in node.names if a.name in modules)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[:len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            if sub in modules:
                deps.add(sub)
            elif base in modules:
                deps.add(base)
    return deps


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _dependencies(name, path, modules) for name, path in sorted(modules.items())}


def _cycles(graph: dict[str, set[str]]) -> list[tuple[frozenset[str], list[str]]]:
    """Strongly connected components with a cycle (Tarjan): each as its set of modules and one
    path round it."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append((frozenset(component), _path_round(graph, set(component))))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _path_round(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & component):
            if w == start:
                return paths[v] + [start]
            if w not in paths:
                paths[w] = paths[v] + [w]
                queue.append(w)
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component has one


def test_the_walk_sees_every_package_and_their_imports():
    graph = _graph()
    tops = {name.split(".")[0] for name in graph}
    assert {"engine", "events", "plugins", "methodologies"} <= tops
    assert "engine.score" in graph["engine.rescore"]  # from engine.score import ...
    assert "engine.rank" in graph["engine.rerank"]


def test_imports_in_functions_count_and_type_checking_ones_do_not(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from typing import TYPE_CHECKING\n"
                    "import a\n"
                    "if TYPE_CHECKING:\n    from b import B\nelse:\n    import c\n"
                    "def late():\n    from d import e\n"
                    "class K:\n    from . import f\n", encoding="utf-8")
    modules = dict.fromkeys(["a", "b", "c", "d", "d.e", "p", "p.f", "p.m"], path)
    assert _dependencies("p.m", path, modules) == {"a", "c", "d.e", "p.f"}


def test_the_search_finds_and_names_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert sorted(path for _, path in _cycles(graph)) == [["a", "b", "c", "a"], ["e", "e"]]
    assert {members for members, _ in _cycles(graph)} == {frozenset("abc"), frozenset("e")}
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    components = dict(_cycles(_graph()))
    new = [f"{' -> '.join(path)} (all of: {', '.join(sorted(k))})"
           for k, path in components.items() if k not in KNOWN_CYCLES]
    gone = [sorted(k) for k in KNOWN_CYCLES if k not in components]
    assert not new, "import cycles:\n" + "\n".join(new)
    assert not gone, f"cycles listed in KNOWN_CYCLES are gone, remove them: {gone}"
