"""Each api-version's bundled contract says exactly what that version's official Swagger says about these operations.

For every supported version, every property, type, format, enum, readOnly flag, required list, default, parameter,
response code, response header and long-running-operation option of the official file (with its cross-file
references) is compared with our contract of that version; any drift, in any version, fails here. Where a file the
official one refers to is not stored, a stored one stands in; the test lists each such substitution.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_data import OFFICIAL_RUNCOMMAND, SPECS, SPECS_ROOT

from pytest_runcommand.contract import SUPPORTED_API_VERSIONS, get_contract, load_contract
from pytest_runcommand.contract.facts import API_VERSIONS, CONTRACT_SOURCES
from pytest_runcommand.contract.resolve import resolve_swagger

COMPARED_KEYS = ("type", "format", "enum", "readOnly", "required", "default", "additionalProperties")
PARAMETER_KEYS = ("type", "format", "enum", "pattern", "minLength", "maxLength")
EXTENSIONS = {"AsyncOperations_Get"}  # ours only: the ARM async-operation status resource
VERSIONS = list(API_VERSIONS)  # 2020-06-01 and 2020-12-01 too: the catalogue and the action only
MANAGED_VERSIONS = list(SUPPORTED_API_VERSIONS)

V1_COMMON = SPECS / "common-types" / "v1" / "common.json"
RP_COMMON_2024_07_01 = SPECS / "ComputeRP" / "stable" / "2024-07-01" / "computeRPCommon.json"

_RP_COMMON = [("./computeRPCommon.json", RP_COMMON_2024_07_01)]
EXPECTED_SUBSTITUTIONS: dict[str, list[tuple[str, Path]]] = {
    **{v: [] for v in ("2020-06-01", "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-11-01")},
    "2024-07-01": [],
    # 2022-03-01 refers to its own ./common.json (Resource, CloudError, parameters): common-types v1 stands in.
    "2022-03-01": [("./common.json", V1_COMMON), *_RP_COMMON],
    **dict.fromkeys(
        ("2022-08-01", "2022-11-01", "2023-03-01", "2023-07-01", "2023-09-01", "2024-03-01", "2024-11-01"), _RP_COMMON
    ),
    "2025-04-01": _RP_COMMON,
    # The TypeSpec files refer to Microsoft.Compute/Compute/common-types/v1/common.json (CloudError), not stored.
    **{v: [("../../common-types/v1/common.json", V1_COMMON)] for v in ("2025-11-01", "2026-03-01", "2026-04-01")},
}


def official_file(version: str) -> tuple[Path, dict[str, Any] | None]:
    """(where the file sits upstream, its content when stored elsewhere): extracted TypeSpec files are resolved
    from their upstream folder Microsoft.Compute/Compute/stable/<version>/."""
    source = CONTRACT_SOURCES[version].path.split(" ", 1)[0]
    upstream = SPECS_ROOT / source
    if upstream.exists():
        return upstream, None
    extracted = SPECS_ROOT / "extracted" / f"ComputeRP-{version}-runcommands.json"
    return upstream, json.loads(extracted.read_text(encoding="utf-8"))


def resolve_official(version: str) -> tuple[dict[str, Any], list[tuple[str, Path]]]:
    path, document = official_file(version)
    used: list[tuple[str, Path]] = []

    def substitute(missing: Path) -> Path | None:
        name = os.path.relpath(missing, path.parent)
        stand_in = {
            "computeRPCommon.json": RP_COMMON_2024_07_01,
            "common.json": V1_COMMON,
            "../../common-types/v1/common.json": V1_COMMON,
        }.get(name)
        if stand_in is not None:
            used.append((name if name.startswith(".") else f"./{name}", stand_in))
        return stand_in

    return resolve_swagger(path, substitute=substitute, document=document), used


@pytest.fixture(scope="module")
def officials() -> dict[str, tuple[dict[str, Any], list[tuple[str, Path]]]]:
    return {version: resolve_official(version) for version in VERSIONS}


def normalize(schema: Any, definitions: dict[str, Any], depth: int = 0, seen: tuple[str, ...] = ()) -> Any:
    """The facts of a schema, references inlined, descriptions and x- extensions dropped. A definition that contains
    itself (ErrorDetail.details) is inlined once, then shown as ``{"$recursive": name}``."""
    assert depth < 24, "unexpected nesting"
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return {"$recursive": name}
        target = definitions[name]
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return normalize(merged, definitions, depth + 1, (*seen, name))
    facts: dict[str, Any] = {}
    for key in COMPARED_KEYS:
        if key in schema:
            value = schema[key]
            if key == "required":
                value = sorted(value)
            elif key == "additionalProperties":
                value = normalize(value, definitions, depth + 1, seen)
            facts[key] = value
    if "properties" in schema:
        facts.setdefault("type", "object")  # an object schema without "type" (as common.json writes them)
        facts["properties"] = {
            name: normalize(sub, definitions, depth + 1, seen) for name, sub in schema["properties"].items()
        }
    if "items" in schema:
        facts["items"] = normalize(schema["items"], definitions, depth + 1, seen)
    return facts


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for template, item in document["paths"].items():
        for method, op in item.items():
            found[op["operationId"]] = {"method": method, "path": template.lower(), **op}
    return found


def in_scope(op: dict[str, Any]) -> bool:
    """The whole run-command family: managed and diagnostic run commands on a VM and a VMSS VM, the action run
    command and the location catalogue (everything but our own extensions)."""
    return "runcommand" in op["path"] and op["operationId"] not in EXTENSIONS


def operation_facts(document: dict[str, Any]) -> dict[str, Any]:
    """Every compared fact of every in-scope operation."""
    definitions = document["definitions"]
    facts = {}
    for op_id, op in operations(document).items():
        if not in_scope(op):
            continue
        facts[op_id] = {
            "method": op["method"],
            "path": op["path"],
            "long-running": op.get("x-ms-long-running-operation"),
            "long-running options": op.get("x-ms-long-running-operation-options"),
            "parameters": {
                f"{p['name']} in {p['in']}": {
                    "required": p.get("required", False),
                    **{k: p[k] for k in PARAMETER_KEYS if k in p},
                    "schema": normalize(p.get("schema"), definitions),
                }
                for p in op["parameters"]
            },
            "responses": {
                code: {
                    "schema": normalize(response.get("schema"), definitions),
                    "headers": {
                        name: {k: v for k, v in header.items() if k in COMPARED_KEYS}
                        for name, header in (response.get("headers") or {}).items()
                    },
                }
                for code, response in op["responses"].items()
            },
        }
    return facts


def differences(theirs: Any, mine: Any, where: str = "") -> list[str]:
    """Every place where two fact trees differ (empty: equal)."""
    if isinstance(theirs, dict) and isinstance(mine, dict):
        found = []
        for key in sorted(set(theirs) | set(mine), key=str):
            if key not in mine:
                found.append(f"{where}/{key}: official only")
            elif key not in theirs:
                found.append(f"{where}/{key}: ours only")
            else:
                found.extend(differences(theirs[key], mine[key], f"{where}/{key}"))
        return found
    return [] if theirs == mine else [f"{where}: official {theirs!r}, ours {mine!r}"]


def ours(version: str) -> dict[str, Any]:
    return dict(get_contract(version).document)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_same_operations(version: str, officials: dict[str, Any]) -> None:
    official, _ = officials[version]
    mine = {op_id for op_id, op in operations(ours(version)).items() if in_scope(op)}
    assert mine == set(operation_facts(official))
    assert set(operations(ours(version))) - mine == EXTENSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_every_operation_fact_matches(version: str, officials: dict[str, Any]) -> None:
    official, _ = officials[version]
    assert differences(operation_facts(official), operation_facts(ours(version))) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_every_official_definition_in_use_matches(version: str, officials: dict[str, Any]) -> None:
    official, _ = officials[version]
    mine = ours(version)["definitions"]
    compared = 0
    for name, schema in official["definitions"].items():
        if name in mine:
            assert normalize(mine[name], mine) == normalize(schema, official["definitions"]), name
            compared += 1
    assert compared >= 8


@pytest.mark.parametrize("version", VERSIONS)
def test_each_substitution_is_listed(version: str, officials: dict[str, Any]) -> None:
    """Where a referenced file is not stored, the stored one named here stood in (and nothing else did)."""
    _, used = officials[version]
    assert sorted(set(used)) == sorted(EXPECTED_SUBSTITUTIONS[version])


def _drop_property(document: dict[str, Any]) -> None:
    del document["definitions"]["VirtualMachineRunCommandProperties"]["properties"]["timeoutInSeconds"]


def _change_format(document: dict[str, Any]) -> None:
    document["definitions"]["VirtualMachineRunCommandProperties"]["properties"]["timeoutInSeconds"]["format"] = "int64"


def _add_property(document: dict[str, Any]) -> None:
    document["definitions"]["VirtualMachineRunCommandScriptSource"]["properties"]["extra"] = {"type": "string"}


def _flip_read_only(document: dict[str, Any]) -> None:
    document["definitions"]["VirtualMachineRunCommand"]["properties"]["location"]["readOnly"] = True


def _drop_header_or_option(document: dict[str, Any]) -> None:
    for item in document["paths"].values():
        for op in item.values():
            if op.get("operationId") == "VirtualMachineRunCommands_Delete":
                accepted = op["responses"]["202"]
                if "headers" in accepted:
                    del accepted["headers"]["Retry-After"]
                else:
                    op["x-ms-long-running-operation-options"] = {"final-state-via": "location"}


def _operation(document: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return next(op for item in document["paths"].values() for op in item.values() if op["operationId"] == operation_id)


def _command_id_optional(document: dict[str, Any]) -> None:
    document["definitions"]["RunCommandInput"].pop("required")


def _action_answer_changed(document: dict[str, Any]) -> None:
    accepted = _operation(document, "VirtualMachineScaleSetVMs_RunCommand")["responses"]["202"]
    if "headers" in accepted:
        accepted["headers"].pop("Location")
    else:
        accepted["headers"] = {"Location": {"type": "string"}}


def _catalogue_error_changed(document: dict[str, Any]) -> None:
    responses = _operation(document, "VirtualMachineRunCommands_Get")["responses"]
    if responses.pop("default", None) is None:
        responses["default"] = {"description": "error", "schema": {"$ref": "#/definitions/CloudError"}}


def _location_pattern_dropped(document: dict[str, Any]) -> None:
    for parameter in _operation(document, "VirtualMachineRunCommands_List")["parameters"]:
        if parameter.get("name") == "location" and "pattern" in parameter:
            del parameter["pattern"]
        elif parameter.get("name") == "location":
            parameter["pattern"] = "^.+$"


def _catalogue_document_loosened(document: dict[str, Any]) -> None:
    document["definitions"]["RunCommandDocument"]["required"].remove("osType")


DRIFTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "a property removed": _drop_property,
    "a format changed": _change_format,
    "a property added": _add_property,
    "readOnly flipped": _flip_read_only,
    "a header or long-running option changed": _drop_header_or_option,
    "the action's commandId made optional": _command_id_optional,
    "the scale-set VM action's 202 headers changed": _action_answer_changed,
    "the catalogue's error response added or dropped": _catalogue_error_changed,
    "the catalogue's location parameter rule changed": _location_pattern_dropped,
    "a catalogue document's required field dropped": _catalogue_document_loosened,
}


def _diagnostic_error_is_cloud_error(document: dict[str, Any]) -> None:
    _operation(document, "VirtualMachineDiagnosticRunCommands_Delete")["responses"]["default"]["schema"] = {
        "$ref": "#/definitions/CloudError"
    }


def _diagnostic_properties_flattened_differently(document: dict[str, Any]) -> None:
    document["definitions"]["VirtualMachineDiagnosticRunCommand"]["properties"]["properties"] = {"type": "object"}


def _diagnostic_final_state_schema(document: dict[str, Any]) -> None:
    options = _operation(document, "VirtualMachineScaleSetVMDiagnosticRunCommands_CreateOrUpdate")
    options["x-ms-long-running-operation-options"]["final-state-schema"] = "#/definitions/VirtualMachineRunCommand"


def _error_detail_loses_recursion(document: dict[str, Any]) -> None:
    document["definitions"]["ErrorDetail"]["properties"]["details"]["items"] = {"type": "object"}


DIAGNOSTIC_DRIFTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "a diagnostic error answer as CloudError": _diagnostic_error_is_cloud_error,
    "the diagnostic properties model replaced": _diagnostic_properties_flattened_differently,
    "a final-state-schema added to a diagnostic PUT": _diagnostic_final_state_schema,
    "ErrorDetail's nested details changed": _error_detail_loses_recursion,
}


@pytest.mark.parametrize("drift", DIAGNOSTIC_DRIFTS)
def test_drift_in_the_diagnostic_run_commands_is_detected(drift: str, officials: dict[str, Any]) -> None:
    official, _ = officials["2026-04-01"]
    drifted = copy.deepcopy(ours("2026-04-01"))
    DIAGNOSTIC_DRIFTS[drift](drifted)
    assert differences(operation_facts(official), operation_facts(drifted)) != []


FAMILY_DRIFTS = {
    "the action's commandId made optional",
    "the scale-set VM action's 202 headers changed",
    "the catalogue's error response added or dropped",
    "the catalogue's location parameter rule changed",
    "a catalogue document's required field dropped",
}


@pytest.mark.parametrize(
    ("version", "drift"),
    [(v, d) for v in VERSIONS for d in DRIFTS if v in MANAGED_VERSIONS or d in FAMILY_DRIFTS],
)
def test_drift_in_any_version_is_detected(version: str, drift: str, officials: dict[str, Any]) -> None:
    """The comparison is sharp: one changed fact in our copy of any version makes it differ."""
    official, _ = officials[version]
    drifted = copy.deepcopy(ours(version))
    assert differences(operation_facts(official), operation_facts(drifted)) == []
    DRIFTS[drift](drifted)
    assert differences(operation_facts(official), operation_facts(drifted)) != []


def test_versions_differ_where_the_official_files_do(officials: dict[str, Any]) -> None:
    """Not one contract under many names: consecutive versions differ exactly where VERSIONS.md says."""
    changed = [
        (older, newer)
        for older, newer in itertools.pairwise(VERSIONS)
        if differences(operation_facts(ours(older)), operation_facts(ours(newer)))
    ]
    assert changed == [
        ("2020-12-01", "2021-03-01"),  # managed run commands join runCommands.json
        ("2022-03-01", "2022-08-01"),  # managed identities
        ("2022-11-01", "2023-03-01"),  # treatFailureAsDeploymentFailure
        ("2024-11-01", "2025-04-01"),  # scriptShell, galleryScriptReferenceId
        ("2025-04-01", "2025-11-01"),  # systemData, LRO headers, final-state-via, defaults dropped
        ("2026-03-01", "2026-04-01"),  # final-state-schema
    ]


def test_a_users_official_swagger_loads_as_a_contract() -> None:
    contract = load_contract(OFFICIAL_RUNCOMMAND)
    match = contract.match(
        "PATCH", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
    )
    assert match is not None
    assert match.operation_id == "VirtualMachineRunCommands_Update"
    assert "2024-07-01" in contract.api_versions


def reachable_definitions(document: dict[str, Any]) -> list[str]:
    """Definitions the in-scope operations reach (through parameters, responses and nested references)."""
    text = json.dumps([op for op in operations(document).values() if in_scope(op)])
    found: list[str] = []
    pending = [ref.split('"', 1)[0] for ref in text.split('"#/definitions/')[1:]]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.append(name)
        pending += [
            ref.split('"', 1)[0] for ref in json.dumps(document["definitions"][name]).split('"#/definitions/')[1:]
        ]
    return sorted(found)


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "delete": lambda schema: schema.clear(),
    "retype": lambda schema: schema.update(type="boolean" if schema.get("type") != "boolean" else "string"),
    "read-only": lambda schema: schema.update(readOnly=not schema.get("readOnly", False)),
    "format": lambda schema: schema.update(format="uuid"),
}


@settings(max_examples=120, deadline=None, derandomize=True)
@given(st.sampled_from(VERSIONS), st.data(), st.sampled_from(sorted(MUTATIONS)))
def test_any_changed_property_of_any_version_is_detected(version: str, data: st.DataObject, mutation: str) -> None:
    """Generative drift: one fact of one property of any reachable definition, in any version, changed."""
    official, _ = resolve_official(version)
    drifted = copy.deepcopy(ours(version))
    names = [n for n in reachable_definitions(drifted) if drifted["definitions"][n].get("properties")]
    name = data.draw(st.sampled_from(names))
    prop = data.draw(st.sampled_from(sorted(drifted["definitions"][name]["properties"])))
    schema = drifted["definitions"][name]["properties"][prop]
    if "$ref" in schema and mutation != "delete":
        schema.pop("$ref")
    MUTATIONS[mutation](schema)
    if mutation == "delete":
        del drifted["definitions"][name]["properties"][prop]
    facts_changed = differences(operation_facts(official), operation_facts(drifted))
    assert facts_changed, f"{version} {name}.{prop} {mutation} went unnoticed"
