"""Test your own client code against the in-process emulator, with every request and answer checked.

``runcommand_emulator`` is a fresh Azure Resource Manager emulator per test (no socket); ``@runcommand_contract``
fails the test if any run-command request your code sends, or any answer it gets, breaks the contract.
"""

from __future__ import annotations

import httpx
import pytest

from pytest_runcommand.emulator.executor import Outcome


def run_script(client: httpx.Client, path: str, script: str) -> dict[str, object]:
    """The code under test: create-or-update a run command, poll until done, return the instance view."""
    created = client.put(path, json={"location": "westus", "properties": {"source": {"script": script}}})
    created.raise_for_status()
    operation = created.headers["Azure-AsyncOperation"]
    while client.get(operation).json()["status"] == "InProgress":
        pass
    view = client.get(f"{path}&$expand=instanceView").json()
    return view["properties"]["instanceView"]  # type: ignore[no-any-return]


@pytest.mark.runcommand_contract
def test_my_client_reports_output(runcommand_emulator) -> None:  # type: ignore[no-untyped-def]
    path = runcommand_emulator.run_command_path("hello")
    view = run_script(runcommand_emulator.client, path, "echo hello")
    assert view["executionState"] == "Succeeded"
    assert view["output"] == "hello\n"


@pytest.mark.runcommand_contract
def test_my_client_sees_a_failing_script(runcommand_emulator) -> None:  # type: ignore[no-untyped-def]
    runcommand_emulator.executor.register(Outcome.failure(3, error="disk full"), script="./deploy.sh")
    view = run_script(runcommand_emulator.client, runcommand_emulator.run_command_path("deploy"), "./deploy.sh")
    assert (view["executionState"], view["exitCode"], view["error"]) == ("Failed", 3, "disk full")
    (run,) = runcommand_emulator.executor.runs
    assert run.script == "./deploy.sh"
