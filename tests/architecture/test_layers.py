"""The architecture DESIGN.md draws, checked on the code: packages import one way only.

Every ``import journeykit.x`` counts, at module level, inside a function or under
``TYPE_CHECKING``: a cycle hidden in a function-local import is still a cycle for a reader.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "journeykit"
MAX_LINES = 600


def _package(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "journeykit" and len(parts) > 1:
                out.add(parts[1])
    return out


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        here = _package(path)
        if here in {"__init__", "__main__"}:
            continue
        graph.setdefault(here, set()).update(_imports(path) - {here})
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_packages_import_one_way() -> None:
    cycle = _cycle(package_graph())
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])


def test_the_layers_of_design_md() -> None:
    graph = package_graph()
    # the private helpers at the top (``_cache``, ``_optional``...) are leaves: errors at most
    helpers = {name for name in graph if name.startswith("_")}
    for helper in helpers:
        assert graph[helper] <= {"errors"}, helper
    # the design imports nothing else of ours; analytics needs the design, never a view
    assert graph["journey"] <= {"errors"} | helpers
    assert not graph["analytics"] & {"report", "web", "cli", "clv", "measure", "engine"}
    # views draw results: they never reach into the engine or the importer
    for view in ("report", "web"):
        assert "engine" not in graph[view] or view == "web", view
        assert "cli" not in graph[view], view


def test_no_module_is_over_600_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize(
    "package", sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").is_file())
)
def test_each_package_imports_alone(package: str) -> None:
    """In a fresh interpreter, so no other package was imported first and hid a cycle."""
    done = subprocess.run(
        [sys.executable, "-c", f"import journeykit.{package}"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
