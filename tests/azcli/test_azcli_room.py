"""The CLI harness is a room of its own: a client driver that needs neither the emulator nor pytest to import."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import json, sys
import pytest_runcommand.azcli
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("pytest_runcommand", "pytest", "_pytest")))))
"""


def test_the_harness_imports_only_itself_and_the_error_tree() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(json.loads(done.stdout))
    harness = {
        name for name in loaded if name == "pytest_runcommand.azcli" or name.startswith("pytest_runcommand.azcli.")
    }
    assert harness == {
        "pytest_runcommand.azcli",
        *(f"pytest_runcommand.azcli.{part}" for part in ("environment", "locate", "proxy", "runner", "snippet")),
    }
    # The package's root (with its lazy-export helper) and the one exception tree: no emulator, contract or pytest.
    assert loaded - harness <= {"pytest_runcommand", "pytest_runcommand._lazy", "pytest_runcommand.errors"}
    assert "pytest_runcommand.errors" in loaded
