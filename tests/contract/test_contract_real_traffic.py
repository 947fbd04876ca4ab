"""Real Azure traffic, recorded by Microsoft's own tooling, conforms to the contract (run-command interactions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from reference_data import DATA

from pytest_runcommand.cassettes.readers import read_cassette
from pytest_runcommand.contract import SUPPORTED_API_VERSIONS, get_contract, validate_interaction

RECORDS = sorted((DATA / "real-traffic").glob("*/*.yaml")) + sorted((DATA / "real-traffic").glob("*/*.json"))


@pytest.mark.parametrize("path", RECORDS, ids=lambda path: path.name)
def test_every_run_command_interaction_conforms(path: Path) -> None:
    contract = get_contract()
    cassette = read_cassette(path)
    checked = 0
    for interaction in cassette.interactions:
        match = contract.match(interaction.method, interaction.url)
        if match is None:
            continue  # VM setup noise: deployments, networks, images
        assert match.api_version in SUPPORTED_API_VERSIONS
        checked += 1
        assert validate_interaction(interaction) == [], interaction.describe()
    assert checked >= 3


def test_the_recordings_cover_patch_put_get_list_delete_and_polling() -> None:
    contract = get_contract()
    seen = set()
    for path in RECORDS:
        for interaction in read_cassette(path).interactions:
            match = contract.match(interaction.method, interaction.url)
            if match is not None:
                seen.add((match.operation_id, interaction.status))
    assert {
        ("VirtualMachineRunCommands_Update", 200),
        ("VirtualMachineRunCommands_CreateOrUpdate", 201),
        ("VirtualMachineRunCommands_CreateOrUpdate", 200),
        ("VirtualMachineRunCommands_GetByVirtualMachine", 200),
        ("VirtualMachineRunCommands_ListByVirtualMachine", 200),
        ("VirtualMachineRunCommands_Delete", 202),
        ("VirtualMachineRunCommands_Delete", 204),
        ("AsyncOperations_Get", 200),
    } <= seen
