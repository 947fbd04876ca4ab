"""Real Azure traffic, recorded by Microsoft's own tooling, conforms to the contract (run-command interactions)."""

from __future__ import annotations

from pathlib import Path

import pytest
from reference_data import DATA

from pytest_runcommand.cassettes.readers import read_cassette
from pytest_runcommand.contract import SUPPORTED_API_VERSIONS, get_contract, validate_interaction, validate_response

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


def test_each_recording_is_checked_at_its_own_api_version_with_no_violation() -> None:
    from pytest_runcommand.contract import check_interactions

    versions = set()
    for path in RECORDS:
        verdicts = [v for v in check_interactions(read_cassette(path).interactions) if v.matched]
        assert verdicts
        assert [v.label for v in verdicts if not v.ok] == []
        versions |= {v.api_version for v in verdicts}
    assert versions == {"2021-07-01", "2022-03-01"}  # 2021-04-01 appears only on resource-group calls


def test_a_field_newer_than_the_recordings_version_is_flagged_in_its_answers() -> None:
    """Real 2022-03-01 answers carry no treatFailureAsDeploymentFailure; an answer at that version that does is
    flagged (as an emulator answering with the newest shape would be)."""
    from pytest_runcommand.contract import facts
    from pytest_runcommand.contract.document import query_api_version

    checked = 0
    for path in RECORDS:
        for interaction in read_cassette(path).interactions:
            version = query_api_version(interaction.url)
            body = interaction.response_json if interaction.status == 200 else None
            if version not in SUPPORTED_API_VERSIONS or not isinstance(body, dict) or "properties" not in body:
                continue
            if get_contract(version).match(interaction.method, interaction.url) is None:
                continue
            newer = facts.definition_properties(facts.LATEST_API_VERSION, "VirtualMachineRunCommandProperties")
            missing = sorted(newer - facts.definition_properties(version, "VirtualMachineRunCommandProperties"))
            assert not set(missing) & set(body["properties"])
            for name in missing:
                changed = {**body, "properties": {**body["properties"], name: {}}}
                found = validate_response(interaction.method, interaction.url, 200, changed)
                assert [(v.code, v.pointer) for v in found] == [
                    ("OBJECT_ADDITIONAL_PROPERTIES", f"/properties/{name}")
                ], name
                checked += 1
    assert checked >= 3
