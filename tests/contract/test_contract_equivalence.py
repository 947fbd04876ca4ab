"""The bundled contract document says exactly what the official Swagger says about these operations.

Every property, type, format, enum, readOnly flag, required list, default, parameter and response code of the
official runCommand.json (2024-07-01, with its cross-file references) is compared; any drift fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
from reference_data import OFFICIAL_RUNCOMMAND

from pytest_runcommand.contract import get_contract, load_contract
from pytest_runcommand.contract.resolve import resolve_swagger

COMPARED_KEYS = ("type", "format", "enum", "readOnly", "required", "default", "additionalProperties")
EXTENSIONS = {"AsyncOperations_Get"}  # ours only: the ARM async-operation status resource


def normalize(schema: Any, definitions: dict[str, Any], depth: int = 0) -> Any:
    """The facts of a schema, references inlined, descriptions and x- extensions dropped."""
    assert depth < 20, "unexpected recursion"
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = definitions[schema["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return normalize(merged, definitions, depth + 1)
    facts: dict[str, Any] = {}
    for key in COMPARED_KEYS:
        if key in schema:
            value = schema[key]
            if key == "required":
                value = sorted(value)
            elif key == "additionalProperties":
                value = normalize(value, definitions, depth + 1)
            facts[key] = value
    if "properties" in schema:
        facts.setdefault("type", "object")  # an object schema without "type" (as common.json writes them)
        facts["properties"] = {
            name: normalize(sub, definitions, depth + 1) for name, sub in schema["properties"].items()
        }
    if "items" in schema:
        facts["items"] = normalize(schema["items"], definitions, depth + 1)
    return facts


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for template, item in document["paths"].items():
        for method, op in item.items():
            found[op["operationId"]] = {"method": method, "path": template.lower(), **op}
    return found


@pytest.fixture(scope="module")
def official() -> dict[str, Any]:
    return resolve_swagger(OFFICIAL_RUNCOMMAND)


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return dict(get_contract().document)


def test_the_same_operations(official: dict[str, Any], ours: dict[str, Any]) -> None:
    our_ids = set(operations(ours)) - EXTENSIONS
    official_ops = operations(official)
    wanted = {
        op_id
        for op_id, op in official_ops.items()
        if "{runcommandname}" in op["path"]
        or op["path"].endswith(("/virtualmachines/{vmname}/runcommands", "/virtualmachines/{instanceid}/runcommands"))
    }
    assert our_ids == wanted


def official_and_ours(
    official: dict[str, Any], ours: dict[str, Any]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    mine = operations(ours)
    return [(op_id, op, mine[op_id]) for op_id, op in operations(official).items() if op_id in mine]


def test_paths_methods_and_long_running_flags(official: dict[str, Any], ours: dict[str, Any]) -> None:
    for op_id, theirs, mine in official_and_ours(official, ours):
        assert (mine["method"], mine["path"]) == (theirs["method"], theirs["path"]), op_id
        assert mine.get("x-ms-long-running-operation") == theirs.get("x-ms-long-running-operation"), op_id


def test_parameters(official: dict[str, Any], ours: dict[str, Any]) -> None:
    def facts(op: dict[str, Any], definitions: dict[str, Any]) -> dict[tuple[str, str], Any]:
        return {
            (p["name"], p["in"]): (p.get("required", False), p.get("type"), normalize(p.get("schema"), definitions))
            for p in op["parameters"]
        }

    for op_id, theirs, mine in official_and_ours(official, ours):
        assert facts(mine, ours["definitions"]) == facts(theirs, official["definitions"]), op_id


def test_responses_codes_and_schemas(official: dict[str, Any], ours: dict[str, Any]) -> None:
    for op_id, theirs, mine in official_and_ours(official, ours):
        assert sorted(mine["responses"]) == sorted(theirs["responses"]), op_id
        for code, response in theirs["responses"].items():
            assert normalize(mine["responses"][code].get("schema"), ours["definitions"]) == normalize(
                response.get("schema"), official["definitions"]
            ), f"{op_id} {code}"


def test_every_official_definition_in_use_matches(official: dict[str, Any], ours: dict[str, Any]) -> None:
    compared = 0
    for name, schema in official["definitions"].items():
        if name in ours["definitions"]:
            assert normalize(ours["definitions"][name], ours["definitions"]) == normalize(
                schema, official["definitions"]
            ), name
            compared += 1
    assert compared >= 12


def test_drift_is_detected(official: dict[str, Any], ours: dict[str, Any]) -> None:
    """The comparison is sharp: one changed fact in our copy makes it differ."""
    import copy

    drifted = copy.deepcopy(ours)
    drifted["definitions"]["VirtualMachineRunCommandProperties"]["properties"]["timeoutInSeconds"]["format"] = "int64"
    name = "VirtualMachineRunCommandProperties"
    assert normalize(drifted["definitions"][name], drifted["definitions"]) != normalize(
        official["definitions"][name], official["definitions"]
    )


def test_a_users_official_swagger_loads_as_a_contract() -> None:
    contract = load_contract(OFFICIAL_RUNCOMMAND)
    match = contract.match(
        "PATCH", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
    )
    assert match is not None
    assert match.operation_id == "VirtualMachineRunCommands_Update"
    assert "2024-07-01" in contract.api_versions
