"""extract/ imports in one direction: the import graph (module-level and function-level imports,
read from the source with ast) has no cycle, every edge goes down the layers of
docs/sweep.md, and the scheduling module stays small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXTRACT = REPO / "extract"

# Layer of each module (higher may import lower, never the reverse, never sideways above 0).
# Modules not listed (e.g. a new search module) are leaves, layer 0.
LAYERS: dict[str, int] = {
    "extract.models": 1,
    "extract.journal": 1,
    "extract.executors": 1,
    "extract.job": 2,
    "extract.sweep": 3,
    "extract.report": 3,
    "extract.run": 4,
    "extract.cli": 5,
}
SWEEP_MAX_LINES = 400


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: Path = EXTRACT) -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    return {module_name(p): p for p in sorted(package.rglob("*.py"))}


def imported_names(path: Path, name: str) -> set[str]:
    """Every module name an import statement anywhere in ``path`` (module level or inside a
    function) may load: ``import a.b`` -> a.b; ``from a import b`` -> a and a.b; relative
    imports resolved against ``name``."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_pkg else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the package modules it imports, including the parent packages that importing a
    submodule executes (importing a.b.c runs a/__init__ and a/b/__init__), except the module's
    own parent packages (they are already loading when it runs)."""
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        targets: set[str] = set()
        for imp in imported_names(path, name):
            parts = imp.split(".")
            for k in range(1, len(parts) + 1):
                prefix = ".".join(parts[:k])
                if prefix in mods and prefix != name and not name.startswith(prefix + "."):
                    targets.add(prefix)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A list [m0, m1, ..., m0] of modules each importing the next, or None if the graph is acyclic."""
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done
    stack: list[str] = []

    def visit(u: str) -> list[str] | None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                return stack[stack.index(v):] + [v]
            if v not in state:
                found = visit(v)
                if found:
                    return found
        stack.pop()
        state[u] = 2
        return None

    for u in sorted(graph):
        if u not in state:
            found = visit(u)
            if found:
                return found
    return None


def layer(name: str) -> int:
    return LAYERS.get(name, 0)


def test_cycle_finder_finds_a_cycle_and_accepts_a_dag():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"a"}}) == ["a", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_function_level_imports_are_edges(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.a import x\n    from . import c\n")
    (pkg / "c.py").write_text("")
    mods = {module_name(p, tmp_path): p for p in pkg.rglob("*.py")}
    graph = import_graph(mods)
    assert graph["pkg.b"] == {"pkg.a", "pkg.c"}  # its own package is already loading: no edge
    assert find_cycle(graph) is not None


def test_extract_import_graph_has_no_cycle():
    graph = import_graph(modules())
    assert "extract.sweep" in graph and graph["extract.cli"], "the graph reader found no modules or edges"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle in extract/: " + " -> ".join(cycle)


def test_extract_imports_go_down_the_layers():
    graph = import_graph(modules())
    for name in LAYERS:
        assert name in graph, f"{name} is listed in LAYERS but does not exist"
    bad = [f"{a} (layer {layer(a)}) imports {b} (layer {layer(b)})"
           for a, targets in sorted(graph.items()) for b in sorted(targets)
           if layer(b) > layer(a) or (layer(b) == layer(a) > 0)]
    assert not bad, "imports against the layering:\n" + "\n".join(bad)


def test_only_the_cli_parses_arguments():
    users = sorted(n for n, p in modules().items() if "argparse" in imported_names(p, n))
    assert users == ["extract.cli"]


def test_sweep_module_is_scheduling_only_and_short():
    lines = (EXTRACT / "sweep.py").read_text().count("\n")
    assert lines < SWEEP_MAX_LINES, f"extract/sweep.py has {lines} lines; expected fewer than {SWEEP_MAX_LINES}"


@pytest.mark.parametrize("name", ["extract.journal", "extract.executors", "extract.report"])
def test_modules_that_need_no_model_do_not_import_the_model_layer(name):
    """journal, executors and report work on rows and callables, never on weights."""
    graph = import_graph(modules())
    reach, todo = set(), [name]
    while todo:
        for v in graph[todo.pop()] - reach:
            reach.add(v)
            todo.append(v)
    assert not reach & {"extract.models", "extract.job", "extract.model", "extract.weights", "extract.train"}
