"""Replay the requests of Azure's own recorded run-command traffic and compare the emulator's answers.

Status codes, the long-running-operation headers, ids, names, types, locations, provisioning states and
the set of fields in each body must match what Azure answered (apart from fields newer api-versions add).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml
from reference_data import DATA

from pytest_runcommand.emulator.handles import InProcessEmulator

SHARED = DATA / "real-traffic"  # copies of ../shared/real-traffic, with their SOURCES.md
LRO_HEADERS = ("azure-asyncoperation", "location", "azure-asyncnotification")


@dataclass
class Recorded:
    method: str
    url: str
    body: str | None
    status: int
    headers: dict[str, str]
    response: Any


def azure_cli_records() -> list[Recorded]:
    path = SHARED / "azure-cli" / "test_run_command_v2.yaml"
    records = []
    for item in yaml.safe_load(path.read_text())["interactions"]:
        request, response = item["request"], item["response"]
        if "runCommands" not in request["uri"] and "/operations/" not in request["uri"]:
            continue
        text = response["body"]["string"]
        records.append(
            Recorded(
                request["method"],
                request["uri"],
                request["body"],
                response["status"]["code"],
                {name.lower(): values[0] for name, values in response["headers"].items()},
                json.loads(text) if text else None,
            )
        )
    return records


def powershell_records(name: str) -> list[Recorded]:
    path = SHARED / "azure-powershell" / name
    records = []
    for entry in json.loads(path.read_text()).values():
        request, response = entry["Request"], entry["Response"]
        headers = {**response["Headers"], **response["ContentHeaders"]}
        records.append(
            Recorded(
                request["Method"],
                request["RequestUri"],
                request["Content"],
                response["StatusCode"],
                {key.lower(): values[0] for key, values in headers.items()},
                json.loads(response["Content"]) if response["Content"] else None,
            )
        )
    return records


def assert_same_shape(ours: Any, theirs: Any, where: str) -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(theirs) <= set(ours), f"{where}: missing {set(theirs) - set(ours)}"
        extra = set(ours) - set(theirs)  # at the recording's own api-version: no field that version lacks
        assert not extra or (where.endswith("instanceView") and extra <= {"statuses"}), f"{where}: extra {extra}"
        for key, value in theirs.items():
            if isinstance(value, dict | list) and key != "instanceView":
                assert_same_shape(ours[key], value, f"{where}/{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), where
        assert len(ours) == len(theirs), where
        for index, (mine, recorded) in enumerate(zip(ours, theirs, strict=True)):
            assert_same_shape(mine, recorded, f"{where}/{index}")


def replay(emulator: InProcessEmulator, records: list[Recorded], *, compare_state: bool = True) -> None:
    client = emulator.client
    last_operation: str | None = None
    for index, record in enumerate(records):
        where = f"#{index} {record.method} {record.url}"
        parts = urlsplit(record.url)
        url = f"{parts.path}?{parts.query}"
        if "/operations/" in url:
            assert last_operation is not None
            url = last_operation
        headers = {"Content-Type": "application/json"} if record.body else {}
        response = client.request(record.method, url, content=record.body, headers=headers)
        assert response.status_code == record.status, where
        for name in LRO_HEADERS:
            assert (name in response.headers) == (name in record.headers), f"{where}: header {name}"
        if "location" in record.headers:
            assert "&monitor=true" in response.headers["location"]
        if "azure-asyncoperation" in response.headers:
            last_operation = response.headers["azure-asyncoperation"]
        ours = response.json() if response.content else None
        assert (ours is None) == (record.response is None), where
        if ours is None:
            continue
        assert_same_shape(ours, record.response, where)
        for key in ("id", "name", "type", "location", "status"):
            if key in record.response:
                if key == "name" and "/operations/" in url:
                    continue
                assert ours[key] == record.response[key], f"{where}: {key}"
        if compare_state and "properties" in record.response:
            assert ours["properties"] == record.response["properties"] or (
                "instanceView" in record.response["properties"]
            ), where


def test_recordings_are_of_versions_without_treat_failure_as_deployment_failure() -> None:
    from pytest_runcommand.contract import facts

    versions = {record.url.split("api-version=")[1].split("&")[0] for record in azure_cli_records()}
    versions |= {
        record.url.split("api-version=")[1].split("&")[0]
        for name in ("Set-AzVMRunCommand.Recording.json", "Remove-AzVMRunCommand.Recording.json")
        for record in powershell_records(name)
    }
    assert versions == {"2021-07-01", "2022-03-01"}
    for version in versions:
        assert "treatFailureAsDeploymentFailure" not in facts.definition_properties(
            version, "VirtualMachineRunCommandProperties"
        ), "so the replays below, which allow no extra field, prove the emulator does not send it there"


def test_azure_cli_run_command_v2(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.strict = False  # the CLI sends source: {}, which Azure accepts
    records = azure_cli_records()
    assert [record.method for record in records] == [
        "PUT", "GET", "GET", "GET", "PATCH", "GET", "GET", "GET", "GET", "DELETE", "GET", "GET",
    ]  # fmt: skip
    replay(runcommand_emulator, records)


def test_azure_powershell_set(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.strict = False
    records = powershell_records("Set-AzVMRunCommand.Recording.json")
    vm = records[0].url.split("/runCommands/")[0].split("management.azure.com")[1]
    runcommand_emulator.backend.add_vm(vm, "eastus")
    runcommand_emulator.client.put(records[0].url.split("management.azure.com")[1], json={"location": "eastus"})
    # Azure's last GET still said "Updating" after the operation had succeeded; the emulator is consistent.
    replay(runcommand_emulator, records, compare_state=False)


def test_azure_powershell_remove(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.strict = False
    records = powershell_records("Remove-AzVMRunCommand.Recording.json")
    vm = records[0].url.split("/runCommands/")[0].split("management.azure.com")[1]
    runcommand_emulator.backend.add_vm(vm, "eastus")
    runcommand_emulator.client.put(records[0].url.split("management.azure.com")[1], json={"location": "eastus"})
    replay(runcommand_emulator, records)
