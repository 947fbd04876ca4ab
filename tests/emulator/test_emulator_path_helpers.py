"""The fixtures' path helpers encode names as the Azure SDKs do: a test of a name sees the error a real client sees."""

from __future__ import annotations

import pytest

from pytest_runcommand.emulator.handles import InProcessEmulator


@pytest.mark.parametrize("name", ["a?b", "a#b", "a/b", "a%b", "a b"])
def test_a_name_with_a_url_delimiter_is_one_segment_arm_refuses(
    runcommand_emulator: InProcessEmulator, name: str
) -> None:
    body = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}
    answer = runcommand_emulator.client.put(runcommand_emulator.run_command_path(name), json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "InvalidResourceName"
    assert runcommand_emulator.client.get(runcommand_emulator.run_command_path()).json()["value"] == []


def test_every_name_of_a_path_is_encoded(runcommand_emulator: InProcessEmulator) -> None:
    path = runcommand_emulator.run_command_path("rc?1", vm="vm/1", resource_group="rg#1", api_version="2024-07-01")
    assert path.endswith(
        "/resourceGroups/rg%231/providers/Microsoft.Compute/virtualMachines/vm%2F1/runCommands/rc%3F1?api-version=2024-07-01"
    )
    assert (
        runcommand_emulator.catalogue_path("a/b", location="west us")
        .split("?")[0]
        .endswith("/locations/west%20us/runCommands/a%2Fb")
    )


def test_plain_names_are_sent_as_they_are(runcommand_emulator: InProcessEmulator) -> None:
    assert "/resourceGroups/my-rg_1.x/" in runcommand_emulator.run_command_path("rc-1", resource_group="my-rg_1.x")
