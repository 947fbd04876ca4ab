"""``pytest-runcommand fuzz`` writes nothing in the working directory unless an example database is asked for.

Review 6, finding 9: a plain run left ``./.hypothesis/`` (hypothesis's caches: ``unicode_data/`` and
``constants/<hash>``). The run now keeps hypothesis's storage in a temporary folder, removed at its end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ONE = ["fuzz", "--operation", "VirtualMachineRunCommands_Get", "--max-examples", "2", "--no-stateful"]


def _fuzz(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A fresh process (in this one, hypothesis's caches are already in memory and it would write nothing)."""
    env = {k: v for k, v in os.environ.items() if k != "HYPOTHESIS_STORAGE_DIRECTORY"}
    env["TMPDIR"] = str(cwd / "tmp")
    (cwd / "tmp").mkdir()
    command = [sys.executable, "-m", "pytest_runcommand", *ONE, *args]
    return subprocess.run(command, cwd=cwd / "work", env=env, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    (tmp_path / "work").mkdir()
    return tmp_path


def test_a_run_writes_nothing_in_the_working_directory_nor_leaves_its_temporary_folder(cwd: Path) -> None:
    done = _fuzz(cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((cwd / "work").iterdir()) == []
    assert list((cwd / "tmp").iterdir()) == []  # the temporary storage is removed at the end


def test_an_example_database_is_written_where_asked_and_holds_no_cache(cwd: Path) -> None:
    done = _fuzz(cwd, "--hypothesis-database", "--seed", "1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [p.name for p in (cwd / "work").iterdir()] == [".hypothesis"]
    assert not {"unicode_data", "constants"} & {p.name for p in (cwd / "work" / ".hypothesis").iterdir()}


def test_a_storage_directory_the_user_names_is_used(cwd: Path) -> None:
    storage = cwd / "storage"
    env = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(storage)}
    command = [sys.executable, "-m", "pytest_runcommand", *ONE]
    done = subprocess.run(command, cwd=cwd / "work", env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert list((cwd / "work").iterdir()) == []
    assert (storage / "unicode_data").is_dir()
