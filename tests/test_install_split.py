"""The default install works without the extras' modules: validation, the plugin, the emulator and cassettes.

The packages of the ``fuzz`` and ``azure`` extras (and requests) are hidden from a fresh interpreter (``None`` in
``sys.modules`` makes importing them raise ModuleNotFoundError, as in a venv without them), then the default paths
run: a quick check in the development suite of what tests/installed/ checks from the wheel in CI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTRA_PACKAGES = ("schemathesis", "hypothesis", "requests", "azure", "azure.identity", "azure.core")
HIDE = f"import sys; sys.modules.update(dict.fromkeys({EXTRA_PACKAGES!r}))\n"


def run_hidden(code: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE + code], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_default_dependencies_name_no_extras_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {
        requirement.split("[")[0].split(">")[0].split("<")[0].split("=")[0] for requirement in project["dependencies"]
    }
    assert not names & {
        "schemathesis",
        "hypothesis",
        "requests",
        "azure-identity",
        "azure-core",
        "azure-cli",
        "httptools",
        "uvloop",
    }
    extras = project["optional-dependencies"]
    assert set(extras["all"]) == {"pytest-runcommand[fuzz,azure,fast]"}
    assert "pytest-runcommand[fuzz,azure,fast]" in extras["test"]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["validate", "request", "examples/payloads/update-request.json"], 0),
        (["validate", "request", "examples/payloads/update-request-two-sources.json"], 1),
        (["cassettes", "check", "-q", "cassettes"], 0),
        (["emulator", "--help"], 0),
        (["--version"], 0),
        (["fuzz"], 2),
    ],
)
def test_commands_of_the_default_install_run_without_the_extras(argv: list[str], code: int) -> None:
    done = run_hidden(f"from pytest_runcommand.cli import main\nraise SystemExit(main({argv!r}))")
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_validation_and_the_in_process_emulator_work_without_the_extras() -> None:
    code = """
from pytest_runcommand import validate_request
from pytest_runcommand.emulator import InProcessEmulator
url = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
assert validate_request("PATCH", url, {"properties": {"timeoutInSeconds": 1}}) == []
"""
    done = run_hidden(code)
    assert done.returncode == 0, done.stderr


def test_a_committed_cassette_replays_and_the_plugin_runs_without_the_extras(tmp_path: Path) -> None:
    (tmp_path / "examples").mkdir()
    shutil.copy(ROOT / "examples" / "test_example_record_replay_httpx.py", tmp_path / "examples")
    shutil.copytree(
        ROOT / "cassettes" / "test_example_record_replay_httpx",
        tmp_path / "cassettes" / "test_example_record_replay_httpx",
    )
    (tmp_path / "test_plain.py").write_text(
        "def test_emulator(runcommand_emulator):\n"
        "    assert runcommand_emulator.client.get(runcommand_emulator.run_command_path('x')).status_code == 404\n"
    )
    # the development venv also has schemathesis's and hypothesis's own pytest plugins: load only ours and
    # pytest-recording's, as a venv with the default install would
    plugins = ["-p", "pytest_recording.plugin", "-p", "pytest_runcommand.pytest.plugin"]
    pytest_args = [*plugins, "-p", "no:cacheprovider", "--block-network", "-q", "examples", "test_plain.py"]
    code = f"import os; os.environ['PYTEST_DISABLE_PLUGIN_AUTOLOAD'] = '1'\nimport pytest\nraise SystemExit(pytest.main({pytest_args!r}))"
    done = run_hidden(code, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
