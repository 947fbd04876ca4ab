"""The import graph keeps its layers and has no cycles (ARCHITECTURE.md draws them).

Read statically (``ast``), so a lazy import inside a function counts as much as one at the top of a module: a layer
may import its own layer and the ones below, never one above; and the modules' top-level imports form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pytest_runcommand"

LAYERS: dict[str, int] = {
    # the bottom: the one value, the one exception tree, small helpers
    "interactions": 0,
    "errors": 0,
    "extras": 0,
    "_lazy": 0,
    "report_file": 0,
    # the source of truth
    "contract": 1,
    "models": 1,
    "family_models": 1,
    # the capabilities
    "emulator": 2,
    "cassettes": 2,
    "fuzz": 2,
    "report": 2,
    "traffic": 2,
    "azcli": 2,
    # the faces: pytest and the command line (each room's command.py included)
    "pytest": 3,
    "cli": 3,
    "__main__": 3,
}
FACE = "pytest_runcommand"  # the package's own lazy face may name anything


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the package itself
    if parts[-1] == "command":
        return 3
    return LAYERS.get(parts[1])


def _imports(path: Path, *, top_level_only: bool, module: str | None = None) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    module = module or _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("pytest_runcommand.")}


MODULES = sorted(PACKAGE.rglob("*.py"))
KNOWN = {_module_name(path) for path in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    module = _module_name(path)
    if module == FACE:
        return
    own = _layer(module)
    assert own is not None, f"{module} is in no layer: add its room to LAYERS"
    upward = sorted(
        name
        for name in _imports(path, top_level_only=False)
        if name in KNOWN and (layer := _layer(name)) is not None and layer > own
    )
    assert not upward, f"{module} (layer {own}) imports a layer above it: {upward}"


def test_top_level_imports_form_no_cycle() -> None:
    graph = {
        _module_name(path): {name for name in _imports(path, top_level_only=True) if name in KNOWN} for path in MODULES
    }
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        if module in visiting:
            cycle = [*visiting[visiting.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        visiting.append(module)
        for name in sorted(graph.get(module, ())):
            if name != module and not module.startswith(name + "."):  # a module importing its own package
                visit(name)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The scan itself can fail: a contract module importing the emulator is caught."""
    bad = PACKAGE / "contract" / "facts.py"
    source = tmp_path / "facts.py"
    source.write_text(bad.read_text(encoding="utf-8") + "\nfrom pytest_runcommand.emulator import app\n")
    imported = _imports(source, top_level_only=False, module="pytest_runcommand.contract.facts")
    assert "pytest_runcommand.emulator" in imported
    assert _layer("pytest_runcommand.emulator") > _layer("pytest_runcommand.contract.facts")  # type: ignore[operator]
