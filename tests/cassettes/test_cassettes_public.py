"""The public face of ``pytest_runcommand.cassettes``: one table, a typed block equal to it, cheap to import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest_runcommand.cassettes as cassettes

INIT = Path(cassettes.__file__)


def test_the_type_checking_block_equals_the_table() -> None:
    tree = ast.parse(INIT.read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    typed = {
        str(alias.asname): node.module.rsplit(".", 1)[-1]
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }
    assert typed == cassettes._HOMES
    assert cassettes.__all__ == sorted(typed)


def test_every_public_name_resolves_to_its_home() -> None:
    for name, home in cassettes._HOMES.items():
        value = getattr(cassettes, name)
        assert getattr(sys.modules[f"pytest_runcommand.cassettes.{home}"], name) is value


def test_the_readme_vcr_config_names_are_exported() -> None:
    from pytest_runcommand.cassettes import default_sanitizer, json_field_rule

    rules = default_sanitizer().without("set-cookie").with_rules(json_field_rule("admin-password", "adminPassword"))
    assert rules.ids[-1] == "admin-password"


def test_importing_the_package_imports_no_recorder() -> None:
    code = "import sys, pytest_runcommand.cassettes; print(sorted(m for m in sys.modules if m.startswith(('vcr', 'yaml'))))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
