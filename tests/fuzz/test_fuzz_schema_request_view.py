"""Every request body a fuzz run draws comes from the contract's request view, at every supported api-version
(the diagnostic run command of 2026-04-01 included), and every run-command family a version has is chained for
stateful runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.contract.facts import SUPPORTED_API_VERSIONS
from pytest_runcommand.fuzz.schema import REQUEST_PREFIX, overlay_document


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, list):
        return [ref for item in schema for ref in _refs(item)]
    if not isinstance(schema, dict):
        return []
    found = [schema["$ref"]] if isinstance(schema.get("$ref"), str) else []
    return found + [ref for key, value in schema.items() if key != "$ref" for ref in _refs(value)]


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


@pytest.mark.parametrize("api_version", sorted(SUPPORTED_API_VERSIONS))
def test_every_request_body_is_drawn_from_the_request_view(api_version: str) -> None:
    document = overlay_document(api_version)
    bodies = {
        operation_id: parameter["schema"]
        for operation_id, operation in _operations(document).items()
        for parameter in operation.get("parameters", ())
        if parameter.get("in") == "body"
    }
    assert bodies, api_version
    for operation_id, schema in bodies.items():
        refs = _refs(schema)
        assert refs, operation_id
        assert all(ref.startswith(f"#/definitions/{REQUEST_PREFIX}") for ref in refs), (operation_id, refs)


def test_the_diagnostic_run_command_draws_a_region_and_no_read_only_field() -> None:
    definitions = overlay_document("2026-04-01")["definitions"]
    body = definitions[f"{REQUEST_PREFIX}VirtualMachineDiagnosticRunCommand"]
    assert body["properties"]["location"]["pattern"] == "^[a-z][a-z0-9]{1,24}$"  # the emulator refuses "" (400)
    assert body["additionalProperties"] is False
    assert "id" in definitions["VirtualMachineDiagnosticRunCommand"]["properties"]  # read-only: Azure sets it
    assert "id" not in body["properties"]
    assert "readOnly" not in json.dumps(body)


@pytest.mark.parametrize("api_version", ["2024-07-01", "2026-04-01"])
def test_every_family_the_version_has_is_chained(api_version: str) -> None:
    operations = _operations(overlay_document(api_version))
    puts = [name for name in operations if name.endswith("RunCommands_CreateOrUpdate")]
    assert puts
    for name in puts:
        links = operations[name]["responses"]["201"].get("x-links")
        assert links, name
        family = name.removesuffix("_CreateOrUpdate")
        assert {link["operationId"].split("_", 1)[0] for link in links.values()} == {family}
    assert any("Diagnostic" in name for name in puts) is (api_version == "2026-04-01")


def test_a_campaign_at_the_newest_version_finds_nothing_and_writes_diagnostic_run_commands(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    assert main(["fuzz", "--api-version", "2026-04-01", "--max-examples", "3", "--json", str(report)]) == 0
    statuses = json.loads(report.read_text())["statuses"]
    for family in ("VirtualMachineDiagnosticRunCommands", "VirtualMachineScaleSetVMDiagnosticRunCommands"):
        assert statuses[f"{family}_CreateOrUpdate"].get("201", 0) > 0, statuses[f"{family}_CreateOrUpdate"]
