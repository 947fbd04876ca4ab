"""Test your own client code against the in-process emulator, with every request and answer checked.

``runcommand_emulator`` is a fresh Azure Resource Manager emulator per test (no socket); ``@runcommand_contract``
fails the test if any run-command request your code sends, or any answer it gets, breaks the contract. Each request
moves the emulator's simulated clock one second ahead, so code that polls the resource sees it finish without
sleeping (``runcommand_emulator.use_clock("manual")`` freezes it instead).
"""

from __future__ import annotations

import httpx
import pytest

from pytest_runcommand.emulator import InProcessEmulator, Outcome


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
def test_my_client_reports_output(runcommand_emulator: InProcessEmulator) -> None:
    path = runcommand_emulator.run_command_path("hello")
    view = run_script(runcommand_emulator.client, path, "echo hello")
    assert view["executionState"] == "Succeeded"
    assert view["output"] == "hello\n"


@pytest.mark.runcommand_contract
def test_my_client_sees_a_failing_script(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.failure(3, error="disk full"), script="./deploy.sh")
    view = run_script(runcommand_emulator.client, runcommand_emulator.run_command_path("deploy"), "./deploy.sh")
    assert (view["executionState"], view["exitCode"], view["error"]) == ("Failed", 3, "disk full")
    (run,) = runcommand_emulator.executor.runs
    assert run.script == "./deploy.sh"


def wait_until_done(client: httpx.Client, path: str) -> str:
    """Code under test that polls the resource itself (not the async operation), as many deployment tools do."""
    while (state := client.get(path).json()["properties"]["provisioningState"]) in ("Creating", "Updating"):
        pass
    return state  # type: ignore[no-any-return]


@pytest.mark.runcommand_contract
def test_my_client_polls_the_resource(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.lro_polls = 1000  # nobody polls the operation: time alone finishes it
    path = runcommand_emulator.run_command_path("poll")
    runcommand_emulator.client.put(path, json={"location": "westus", "properties": {"source": {"script": "echo"}}})
    assert wait_until_done(runcommand_emulator.client, path) == "Succeeded"


def invoke(client: httpx.Client, path: str, script: list[str]) -> str:
    """Code under test that runs the action run command (POST .../runCommand) and follows Azure's 202: poll the
    Azure-AsyncOperation URL to the end, then read the result at Location; returns the Linux stdout section."""
    accepted = client.post(path, json={"commandId": "RunShellScript", "script": script})
    accepted.raise_for_status()
    while client.get(accepted.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress":
        pass
    message: str = client.get(accepted.headers["Location"]).json()["value"][0]["message"]
    return message.split("[stdout]\n", 1)[1].split("\n[stderr]\n", 1)[0]


@pytest.mark.runcommand_contract
def test_my_client_reads_what_the_action_printed(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.success("nginx is running\n"), script="systemctl is-active nginx")
    printed = invoke(runcommand_emulator.client, runcommand_emulator.action_path(), ["systemctl is-active nginx"])
    assert printed == "nginx is running\n"
