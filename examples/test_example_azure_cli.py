"""Test your own Azure CLI script (``scripts/patch_vm.sh``) against the emulator, offline.

``runcommand_az`` is the real ``az``, signed in to the served emulator with a private config dir;
``script_env()`` is the environment your script runs in. The emulator's executor decides what the
"VM" answers, and its records show what the script asked the VM to run. The marker checks every
run-command request the CLI sends against the contract.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pytest_runcommand.emulator import Outcome

SCRIPT = Path(__file__).parent / "scripts" / "patch_vm.sh"
pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="the example script needs bash")


def run_script(runcommand_az, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env=runcommand_az.script_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.runcommand_contract
def test_patch_script_succeeds_and_cleans_up(runcommand_az, runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    done = run_script(runcommand_az, "prod-rg", "web-1", "openssl")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "patch openssl on web-1: Succeeded (exit 0)"
    (run,) = runcommand_emulator_server.executor.runs
    assert run.script == "apt-get install -y --only-upgrade openssl"
    assert run.parameters == (("PACKAGE", "openssl"),)
    assert run.run_as_user == "patcher"
    assert run.timeout_in_seconds == 600
    vm = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/prod-rg/providers/Microsoft.Compute/virtualMachines/web-1"
    assert runcommand_emulator_server.backend.run_command(vm, "patch-openssl") is None  # deleted


@pytest.mark.runcommand_contract
def test_patch_script_fails_when_the_step_fails(runcommand_az, runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    runcommand_emulator_server.executor.register(
        Outcome.failure(100, error="E: Unable to locate package nosuchpkg"),
        script="apt-get install -y --only-upgrade nosuchpkg",
    )

    done = run_script(runcommand_az, "prod-rg", "web-1", "nosuchpkg")

    assert done.returncode != 0
    assert done.stdout.strip() == "patch nosuchpkg on web-1: Failed (exit 100)"
