"""The package import graph: no cycle, and every import points down the layer order of the
README's Layout table (each shipped package imports only from rows above its own).

Imports are read from the source with ``ast`` (function-level and ``TYPE_CHECKING`` imports
included), so an upward import fails here even if it happens to work at run time.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shipped() -> set[str]:
    """Top-level packages and modules that pyproject.toml installs."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]
    return {p.split(".")[0] for p in setuptools["packages"]} | set(setuptools["py-modules"])


def _layout_order() -> list[str]:
    """The names in the README's Layout table, in table order (bottom layer first)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    names = re.findall(r"^\| `([\w.]+?)(?:/|\.py)?` \|", section, flags=re.MULTILINE)
    return names


def _sources(name: str) -> list[Path]:
    module = ROOT / f"{name}.py"
    return [module] if module.exists() else sorted((ROOT / name).rglob("*.py"))


def _imports(shipped: set[str]) -> dict[str, dict[str, list[str]]]:
    """importer package → imported package → ["file:line", ...] (other packages only)."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in sorted(shipped):
        for path in _sources(name):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    targets = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    targets = [node.module]
                else:
                    continue
                for target in targets:
                    top = target.split(".")[0]
                    if top in shipped and top != name:
                        where = f"{path.relative_to(ROOT)}:{node.lineno}"
                        graph[name][top].append(where)
    return graph


def _cycle(graph: dict[str, dict[str, list[str]]]) -> list[str] | None:
    """One cycle of the graph as a path of names, or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_every_shipped_package_has_a_row_in_the_layout_table() -> None:
    order = _layout_order()
    assert len(order) == len(set(order)), "a name appears twice in the Layout table"
    assert sorted(_shipped() - set(order)) == []


def test_the_package_import_graph_has_no_cycle() -> None:
    assert _cycle(_imports(_shipped())) is None


def test_every_import_points_down_the_layer_order() -> None:
    order = _layout_order()
    rank = {name: index for index, name in enumerate(order)}
    upward = [
        f"{importer} → {imported} ({', '.join(places)})"
        for importer, targets in sorted(_imports(_shipped()).items())
        for imported, places in sorted(targets.items())
        if rank[imported] > rank[importer]
    ]
    assert upward == []


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    graph: dict[str, dict[str, list[str]]] = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:1"]},
                                              "c": {"a": ["c.py:1"]}}
    assert _cycle(graph) == ["a", "b", "c", "a"]
    del graph["c"]["a"]
    assert _cycle(graph) is None
    real = _imports(_shipped())
    assert "handlers" in real["runtime"]  # the reader finds real imports at all
    assert "tickets" in real["storage"]


_OPENS_UNIT_OF_WORK = re.compile(r"\.(transaction|read)\(\s*\)")


def test_handlers_open_no_transaction_or_read_of_their_own() -> None:
    """Handlers translate; every read and write goes through a use case in services/."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _sources("handlers")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if _OPENS_UNIT_OF_WORK.search(line)
    ]
    assert found == []
    assert _OPENS_UNIT_OF_WORK.search("    async with services.db.read() as uow:")
