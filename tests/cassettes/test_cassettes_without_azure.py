"""Replay needs no Azure SDK: the committed httpx example replays in a Python where ``azure`` cannot be imported.

The subprocess gets a ``sitecustomize`` that puts an import blocker first on ``sys.meta_path``: any ``azure`` or
``azure.*`` import fails with ``ModuleNotFoundError`` as it does when the package is not installed (so
``importlib.util.find_spec("azure.core")`` raises, the crash issue 12 reported). The example and its cassette are
copied into a directory outside the repository, as a user's suite would be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "test_example_record_replay_httpx.py"
CASSETTES = ROOT / "cassettes" / EXAMPLE.stem

BLOCKER = textwrap.dedent(
    """
    import sys


    class NoAzure:
        def find_spec(self, name, path=None, target=None):
            if name == "azure" or name.startswith("azure."):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, NoAzure())
    """
)

PROOF = textwrap.dedent(
    """
    import importlib.util

    import pytest


    def test_azure_is_not_importable_here():
        with pytest.raises(ModuleNotFoundError):
            importlib.util.find_spec("azure.core")
        with pytest.raises(ModuleNotFoundError):
            import azure.core  # noqa: F401
    """
)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "blocker").mkdir()
    (tmp_path / "blocker" / "sitecustomize.py").write_text(BLOCKER)
    (tmp_path / "examples").mkdir()
    shutil.copy(EXAMPLE, tmp_path / "examples" / EXAMPLE.name)
    (tmp_path / "examples" / "test_proof.py").write_text(PROOF)
    shutil.copytree(CASSETTES, tmp_path / "cassettes" / CASSETTES.name)
    return tmp_path


def _pytest(suite: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(suite / "blocker")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "examples", *args],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.parametrize("mode", ["none", "once"])
def test_the_httpx_example_replays_without_azure(suite: Path, mode: str) -> None:
    cassette = next((suite / "cassettes").rglob("*.yaml"))
    before = cassette.read_bytes()
    result = _pytest(suite, f"--record-mode={mode}", "--block-network")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "PASSED examples/test_proof.py::test_azure_is_not_importable_here" in out
    assert f"PASSED examples/{EXAMPLE.name}::" in out
    assert "No module named 'azure'" not in out
    assert cassette.read_bytes() == before
