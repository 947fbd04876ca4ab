"""The project's own gates run with its tests: ruff (lint and format) and one mypy --strict run.

ruff and mypy are pinned in constraints/dev.txt (installed by .ci/run with ``pip install -c``), so that a tool
release cannot break the suite; a venv with other versions is told how to get the pinned ones. mypy runs once, over
what ``[tool.mypy] files`` names: the package and tests/typing (the typical use of the public API).
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints" / "dev.txt"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def pins() -> dict[str, str]:
    found = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.split("#")[0].strip())
        if match:
            found[match[1]] = match[2]
    return found


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_the_gates_are_the_pinned_versions(tool: str) -> None:
    pinned = pins()[tool]
    installed = importlib.metadata.version(tool)
    assert installed == pinned, (
        f"{tool} {installed} is installed, constraints/dev.txt pins {pinned}: "
        f'python -m pip install -c constraints/dev.txt -e ".[test]"'
    )


def test_ruff_lint_is_clean() -> None:
    done = run("ruff", "check", "--output-format", "concise", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_clean() -> None:
    done = run("ruff", "format", "--check", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_is_clean_in_one_run() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    assert {"pytest_runcommand", "tests/typing"} <= set(config["files"])
    done = run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success: no issues found"), done.stdout
