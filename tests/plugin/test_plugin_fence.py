"""The pytest side is fenced: only pytest_runcommand/pytest/ imports pytest, and nothing imports the plugin back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytest_runcommand

PACKAGE = Path(pytest_runcommand.__file__).parent
FENCE = PACKAGE / "pytest"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_only_the_pytest_subpackage_imports_pytest(path: Path) -> None:
    if FENCE in path.parents:
        return
    found = sorted(name for name in _imports(path) if name.split(".")[0] in ("pytest", "_pytest"))
    assert found == [], f"{path.relative_to(PACKAGE)} imports {found}: move that code into pytest_runcommand/pytest/"


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_nothing_imports_the_plugin_back(path: Path) -> None:
    found = sorted(name for name in _imports(path) if name.startswith("pytest_runcommand.pytest.plugin"))
    assert found == [], f"{path.relative_to(PACKAGE)} imports {found}: ask pytest_runcommand.pytest.settings instead"


def test_the_slow_marker_is_registered_and_deselectable(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
import pytest

@pytest.mark.slow
def test_long():
    pass

def test_short():
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--strict-markers", "-m", "not slow")
    result.assert_outcomes(passed=1, deselected=1)
    pytester.runpytest("-p", "no:cacheprovider", "--strict-markers").assert_outcomes(passed=2)
    assert "slow: a long test" in pytester.runpytest("--markers").stdout.str()
