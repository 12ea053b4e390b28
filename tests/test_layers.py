"""The import layers: dpaguard's packages and top modules import downwards only, and no two import each other.

Every import counts, at the top of a module, inside a function or under TYPE_CHECKING: a lazy
import up a layer is still a dependency up it. Each module's imports are read with `ast` (nothing is
imported), mapped to the unit they land in (a package such as `dpaguard.engine`, or a top module
such as `dpaguard.model`), and the units' graph is held to LAYERS.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dpaguard"

# Lowest first. A unit imports only units of lower layers, never one of its own layer.
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "dpaguard markers errors urn yaml_dates inputs contain dpa_text clock",
        "model",
        "facts environment gitstate provenance evidence export",
        "examined deployment",  # the floor sources and the normaliser look down to: secrets, redaction, type tokens
        "engine",  # what Rego reads and what an engine prints, compiling and evaluating
        "policy",  # the DPA tables and the Rego modules the rules read
        "source normalise inventory ratchet",
        "checkov findings",
        "pipeline report",
        "cli pack",
        "__main__",
    )
)


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(path: Path, root: Path) -> Iterator[str]:
    """Every dpaguard module or name `path` imports, wherever in the module the import is."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _unit(name: str, root: Path) -> str | None:
    """The package or top module of dpaguard an import lands in (None: not dpaguard's)."""
    parts = name.split(".")
    if parts[0] != "dpaguard":
        return None
    if len(parts) == 1:
        return "dpaguard"
    if (root / parts[1]).is_dir() or (root / f"{parts[1]}.py").is_file():
        return parts[1]
    return "dpaguard"  # a name of dpaguard/__init__.py (`from dpaguard import __version__`)


def import_graph(root: Path = PACKAGE) -> dict[str, dict[str, set[str]]]:
    """unit -> unit it imports -> the modules whose imports make that edge."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(root.rglob("*.py")):
        source = _unit(_module_name(path, root), root)
        assert source is not None
        graph.setdefault(source, {})
        for name in _imported(path, root):
            target = _unit(name, root)
            if target is not None and target != source:
                graph[source].setdefault(target, set()).add(_module_name(path, root))
    return graph


def cycles(graph: Mapping[str, Mapping[str, object]]) -> list[list[str]]:
    """The strongly connected groups of more than one unit (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for target in graph.get(unit, {}):
            if target not in index:
                visit(target)
                low[unit] = min(low[unit], low[target])
            elif target in stack:
                low[unit] = min(low[unit], index[target])
        if low[unit] == index[unit]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == unit:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    return found


def upward(graph: Mapping[str, Mapping[str, set[str]]], layers: tuple[frozenset[str], ...] = LAYERS) -> list[str]:
    """Every import that does not run to a lower layer, as `module -> unit (layer i -> layer j)`."""
    layer_of = {unit: position for position, layer in enumerate(layers) for unit in layer}
    wrong = []
    for source, targets in sorted(graph.items()):
        for target, modules in sorted(targets.items()):
            low, high = layer_of.get(target), layer_of.get(source)
            if low is None or high is None or low >= high:
                wrong += [f"{module} -> dpaguard.{target} (layer {high} -> {low})" for module in sorted(modules)]
    return wrong


def test_every_unit_has_a_layer() -> None:
    placed = set().union(*LAYERS)
    assert set(import_graph()) <= placed, sorted(set(import_graph()) - placed)
    assert sum(len(layer) for layer in LAYERS) == len(placed), "a unit named in two layers"


def test_no_package_imports_another_that_imports_it_back() -> None:
    assert cycles(import_graph()) == []


def test_every_import_runs_down_the_layers() -> None:
    assert upward(import_graph()) == []


# -- the checks themselves ------------------------------------------------------------------------


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "dpaguard" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "dpaguard"


@pytest.mark.parametrize("where", ["top", "function", "type_checking"])
def test_an_import_inside_a_function_is_an_edge_too(tmp_path: Path, where: str) -> None:
    statement = "from dpaguard.engine import run\n"
    body = {
        "top": statement,
        "function": "def late() -> None:\n    " + statement,
        "type_checking": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    " + statement,
    }[where]
    root = _tree(tmp_path, {"__init__.py": "", "policy/__init__.py": "", "policy/rego.py": body,
                            "engine/__init__.py": "from dpaguard.policy import rego\n"})
    graph = import_graph(root)
    assert graph["policy"] == {"engine": {"dpaguard.policy.rego"}}
    assert cycles(graph) == [["engine", "policy"]]
    assert upward(graph, (frozenset({"dpaguard"}), frozenset({"engine"}), frozenset({"policy"}))) == [
        "dpaguard.engine -> dpaguard.policy (layer 1 -> 2)"
    ]


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"__init__.py": "", "source/__init__.py": "", "source/state.py": "from ..normalise import types\n",
                            "normalise/__init__.py": "from .types import x\n", "normalise/types.py": "x = 1\n"})
    graph = import_graph(root)
    assert graph["source"] == {"normalise": {"dpaguard.source.state"}}
    assert graph["normalise"] == {}

