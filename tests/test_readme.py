"""The README runs as written: every ```python block, and the files and commands its shell examples name.

A block that defines ``test_`` functions is a test module: it runs under pytest in a folder of its own, as in a
user's project (a block using ``@pytest.mark.vcr`` records with ``--record-mode=once``, then replays with the
network blocked). Any other block runs as a script from the repository root. A block that needs an extra (or
another distribution) says so on its first line, ``# needs: fuzz`` or ``# needs: azure-mgmt-compute``: it is
skipped where that is not installed, and fails instead under ``CI=true``.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
NEEDS = re.compile(r"#\s*needs:\s*(.+)")
REPO_DIRS = ("examples/", "tests/", "cassettes/", "benchmarks/", "constraints/", ".ci/")


@dataclass(frozen=True)
class Block:
    language: str
    line: int
    code: str

    @property
    def needs(self) -> list[str]:
        first = self.code.splitlines()[0] if self.code else ""
        match = NEEDS.fullmatch(first.strip())
        return [name.strip() for name in match[1].split(",")] if match else []

    @property
    def is_test_module(self) -> bool:
        return re.search(r"^def test_", self.code, re.MULTILINE) is not None


def blocks(language: str) -> list[Block]:
    text = README.read_text(encoding="utf-8")
    return [
        Block(match[1], text.count("\n", 0, match.start()) + 1, match[2])
        for match in FENCE.finditer(text)
        if match[1] == language
    ]


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return dict(project["optional-dependencies"])


def _distributions(name: str, extras: dict[str, list[str]]) -> list[str]:
    """The distributions an extra (or a plain distribution name) stands for, self-references expanded."""
    if name not in extras:
        return [name]
    found: list[str] = []
    for requirement in extras[name]:
        inner = re.fullmatch(r"pytest-runcommand\[(.+)\]", requirement)
        if inner:
            for extra in inner[1].split(","):
                found += _distributions(extra.strip(), extras)
        else:
            found.append(re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0])
    return found


def _missing(block: Block) -> list[str]:
    extras = _extras()
    missing = []
    for need in block.needs:
        for distribution in _distributions(need, extras):
            try:
                importlib.metadata.version(distribution)
            except importlib.metadata.PackageNotFoundError:
                missing.append(f"{distribution} (for {need})")
    return missing


def _skip_unless_installed(block: Block) -> None:
    missing = _missing(block)
    if missing:
        message = f"README block at line {block.line} needs {', '.join(missing)}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message + " (CI=true: install it)")
        pytest.skip(message)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300, check=False)


PYTHON_BLOCKS = blocks("python")


def test_the_readme_has_python_blocks() -> None:
    assert len(PYTHON_BLOCKS) >= 5


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=[f"line-{block.line}" for block in PYTHON_BLOCKS])
def test_python_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    _skip_unless_installed(block)
    if not block.is_test_module:
        script = tmp_path / "readme_block.py"
        script.write_text(block.code, encoding="utf-8")
        done = _run([sys.executable, str(script)], cwd=ROOT)
        assert done.returncode == 0, f"README line {block.line}:\n{done.stdout}{done.stderr}"
        return
    (tmp_path / "test_readme_block.py").write_text(block.code, encoding="utf-8")
    pytest_command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_readme_block.py"]
    runs = [pytest_command]
    if "pytest.mark.vcr" in block.code:
        runs = [[*pytest_command, "--record-mode=once"], [*pytest_command, "--record-mode=none", "--block-network"]]
    for command in runs:
        done = _run(command, cwd=tmp_path)
        assert done.returncode == 0, f"README line {block.line}: {shlex.join(command[3:])}\n{done.stdout}{done.stderr}"
        assert " passed" in done.stdout
    if "pytest.mark.vcr" in block.code:
        cassettes = list(tmp_path.rglob("*.yaml"))
        assert cassettes, "the vcr block recorded no cassette"
        recorded = "".join(path.read_text(encoding="utf-8") for path in cassettes)
        for sentinel in re.findall(r"Sentinel-[\w-]+", block.code):  # secrets the block says no cassette keeps
            assert sentinel not in recorded


def _shell_words(block: Block) -> list[str]:
    words: list[str] = []
    for line in block.code.splitlines():
        if line.lstrip().startswith("#"):
            continue
        try:
            words += shlex.split(line.split(" #")[0], comments=False)
        except ValueError:
            words += line.split()
    return words


SHELL_BLOCKS = blocks("bash")


def test_shell_examples_name_files_that_exist() -> None:
    named = {word.rstrip("/") for block in SHELL_BLOCKS for word in _shell_words(block) if word.startswith(REPO_DIRS)}
    assert named, "no repository path found in the README's shell examples"
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert missing == [], f"the README's shell examples name files that do not exist: {missing}"


VALIDATE_LINES = [
    line.split(" #")[0].strip()
    for block in SHELL_BLOCKS
    for line in block.code.splitlines()
    if "pytest-runcommand validate " in line and not line.lstrip().startswith("#")
]


@pytest.mark.parametrize("line", VALIDATE_LINES)
def test_validate_examples_run_without_a_usage_error(line: str) -> None:
    # A pipeline ("cat FILE | pytest-runcommand validate request -") runs through the shell, as written.
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(
        ["bash", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    expected = 1 if "two-sources" in line else 0
    assert done.returncode == expected, f"{line}\n{done.stdout}{done.stderr}"


CASSETTE_CHECK_LINES = [
    line.split(" #")[0].strip()
    for block in SHELL_BLOCKS
    for line in block.code.splitlines()
    if "pytest-runcommand cassettes check " in line and ">" not in line and not line.lstrip().startswith("#")
]


@pytest.mark.parametrize("line", CASSETTE_CHECK_LINES)
def test_cassette_check_examples_are_clean(line: str) -> None:
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run(
        ["bash", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}{done.stderr}"


def test_the_install_table_names_every_extra_and_default_dependency() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Install", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[1].strip().strip("`"): line for line in section.splitlines() if line.startswith("| ")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert set(project["optional-dependencies"]) <= set(rows), "an extra is missing from the README's Install table"
    defaults = [re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0] for requirement in project["dependencies"]]
    undocumented = [name for name in defaults if name != "pytest" and name.lower() not in rows["(none)"].lower()]
    assert undocumented == [], f"default dependencies missing from the README's Install table: {undocumented}"


def test_a_needs_line_names_extras_expanded_to_their_distributions() -> None:
    extras = _extras()
    assert _distributions("fuzz", extras) == ["schemathesis", "hypothesis", "requests"]
    assert set(_distributions("all", extras)) == {
        d for name in ("fuzz", "azure", "fast") for d in _distributions(name, extras)
    }
    assert _distributions("azure-mgmt-compute", extras) == ["azure-mgmt-compute"]
    block = Block("python", 1, "# needs: fuzz, no-such-distribution-for-the-test\nimport pytest\n")
    assert block.needs == ["fuzz", "no-such-distribution-for-the-test"]
    assert _missing(block) == ["no-such-distribution-for-the-test (for no-such-distribution-for-the-test)"]
    assert Block("python", 1, "import pytest  # needs: fuzz\n").needs == []  # only the first line's own comment
