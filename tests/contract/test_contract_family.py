"""The whole run-command family in the contract: the action run command, the location catalogue and the diagnostic
run commands, at every version that defines each; their documented examples, routes, error envelopes and rules."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_data import ALL_EXAMPLES, example_api_version

from pytest_runcommand.contract import SUPPORTED_API_VERSIONS, facts, get_contract, validate_request, validate_response

VERSIONS = list(facts.API_VERSIONS)  # the catalogue and the action exist at every version, 2020-06-01 on
SUB = facts.ZERO_SUBSCRIPTION_ID
ROOT = f"https://management.azure.com/subscriptions/{SUB}"
VM = f"{ROOT}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
VMSS_VM = f"{ROOT}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0"
CATALOGUE = f"{ROOT}/providers/Microsoft.Compute/locations/westus/runCommands"

EXAMPLE_OPERATIONS = {
    "VirtualMachineRunCommand": "VirtualMachines_RunCommand",
    "VirtualMachineScaleSetVMRunCommand": "VirtualMachineScaleSetVMs_RunCommand",
    "RunCommand_List": "VirtualMachineRunCommands_List",
    "RunCommand_Get": "VirtualMachineRunCommands_Get",
    "VirtualMachineDiagnosticRunCommand_CreateOrUpdate": "VirtualMachineDiagnosticRunCommands_CreateOrUpdate",
    "VirtualMachineDiagnosticRunCommand_Get": "VirtualMachineDiagnosticRunCommands_GetByVirtualMachine",
    "VirtualMachineDiagnosticRunCommand_Update": "VirtualMachineDiagnosticRunCommands_Update",
    "VirtualMachineScaleSetVMDiagnosticRunCommand_Get": "VirtualMachineScaleSetVMDiagnosticRunCommands_Get",
    "VirtualMachineScaleSetVMDiagnosticRunCommand_Update": "VirtualMachineScaleSetVMDiagnosticRunCommands_Update",
}
FAMILY_EXAMPLES = [path for path in ALL_EXAMPLES if path.stem in EXAMPLE_OPERATIONS]

# The 2025-04-01 folder holds a diagnostic example although no 2025-04-01 file declares diagnostic run commands
# (VERSIONS.md, open points): it is checked at 2026-04-01, the first version that has them. Its PUT example also
# lists a 202 that no version declares for the PUT.
CHECKED_AT = {("2025-04-01", "VirtualMachineDiagnosticRunCommand_CreateOrUpdate"): "2026-04-01"}
KNOWN_DISCREPANCIES = {("VirtualMachineDiagnosticRunCommand_CreateOrUpdate", "202"): ["INVALID_RESPONSE_CODE"]}


def example_url(op_id: str, version: str, parameters: dict[str, Any]) -> str:
    """The operation's own path template (from the contract) filled with the example's parameters."""
    _, template = facts.operation_route(version, op_id)
    path = re.sub(r"\{([^}]+)\}", lambda m: str(parameters[m.group(1)]), template)
    return f"https://management.azure.com{path}?api-version={version}"


@pytest.mark.parametrize("path", FAMILY_EXAMPLES, ids=lambda p: f"{example_api_version(p)}/{p.stem}")
def test_each_family_example_conforms_at_its_version(path: Path) -> None:
    example = json.loads(path.read_text(encoding="utf-8"))
    stored_at = example_api_version(path)
    version = CHECKED_AT.get((stored_at, path.stem), stored_at)
    op_id = EXAMPLE_OPERATIONS[path.stem]
    assert example.get("operationId", op_id) == op_id
    method, _ = facts.operation_route(version, op_id)
    url = example_url(op_id, version, example["parameters"])
    body_name = next((p["name"] for p in get_contract(version).by_id[op_id].parameters if p.get("in") == "body"), None)
    assert validate_request(method, url, example["parameters"].get(body_name) if body_name else None) == []
    assert example["responses"]
    for status, response in example["responses"].items():
        found = validate_response(method, url, int(status), response.get("body"), response.get("headers"))
        assert [v.code for v in found] == KNOWN_DISCREPANCIES.get((path.stem, status), []), status


def test_every_family_example_kind_is_checked() -> None:
    assert {path.stem for path in FAMILY_EXAMPLES} == set(EXAMPLE_OPERATIONS)
    assert {example_api_version(p) for p in FAMILY_EXAMPLES} == {"2025-04-01", "2026-04-01"}


def test_a_diagnostic_request_before_2026_04_01_names_the_operation_missing() -> None:
    url = f"{VM}/diagnosticRunCommands/d1?api-version=2025-11-01"
    found = validate_request("PUT", url, {"location": "westus", "properties": {}})
    assert [v.code for v in found] == ["OPERATION_NOT_FOUND"]
    assert "diagnosticRunCommands" in found[0].message
    assert validate_request("PUT", url.replace("2025-11-01", "2026-04-01"), {"location": "westus"}) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_each_version_has_the_catalogue_and_the_action_and_diagnostics_only_at_2026_04_01(version: str) -> None:
    assert facts.operations_at(version, "action") == (
        "VirtualMachines_RunCommand",
        "VirtualMachineScaleSetVMs_RunCommand",
    )
    assert facts.operations_at(version, "catalogue") == (
        "VirtualMachineRunCommands_List",
        "VirtualMachineRunCommands_Get",
    )
    assert len(facts.operations_at(version, "managed")) == (10 if version in SUPPORTED_API_VERSIONS else 0)
    assert len(facts.operations_at(version, "diagnostic")) == (10 if version == "2026-04-01" else 0)
    assert set(facts.operations_at(version)) == set(get_contract(version).by_id)


def test_versions_with_and_families() -> None:
    assert facts.versions_with("VirtualMachineScaleSetVMDiagnosticRunCommands_Delete") == ("2026-04-01",)
    assert facts.versions_with("VirtualMachineRunCommands_Get") == tuple(VERSIONS)
    assert facts.versions_with("VirtualMachineRunCommands_Update") == tuple(SUPPORTED_API_VERSIONS)
    assert facts.ACTION_ONLY_API_VERSIONS == ("2020-06-01", "2020-12-01")
    assert list(facts.API_VERSIONS) == [*facts.ACTION_ONLY_API_VERSIONS, *SUPPORTED_API_VERSIONS]
    assert facts.versions_with("NoSuch_Operation") == ()
    assert facts.operation_family("AsyncOperations_Get") == "extension"
    assert facts.operation_family("VirtualMachineDiagnosticRunCommands_DiagnosticListByVirtualMachine") == "diagnostic"
    with pytest.raises(KeyError):
        facts.operation_family("NoSuch_Operation")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("segment", ["virtualmachines", "virtualMachines", "VIRTUALMACHINES"])
def test_the_scale_set_vm_action_routes_whatever_the_case(version: str, segment: str) -> None:
    url = f"{VMSS_VM.replace('/virtualMachines/', f'/{segment}/')}/runCommand?api-version={version}"
    match = get_contract(version).match("POST", url)
    assert match is not None
    assert match.operation_id == "VirtualMachineScaleSetVMs_RunCommand"
    assert validate_request("POST", url, {"commandId": "RunShellScript", "script": ["echo hi"]}) == []


@pytest.mark.parametrize("version", VERSIONS)
def test_the_action_needs_a_command_id(version: str) -> None:
    url = f"{VM}/runCommand?api-version={version}"
    found = validate_request("POST", url, {"script": ["echo hi"]})
    assert [(v.code, v.pointer) for v in found] == [("OBJECT_MISSING_REQUIRED_PROPERTY", "/commandId")]
    assert [v.code for v in validate_request("POST", url)] == ["MISSING_REQUIRED_PARAMETER"]


input_values = st.fixed_dictionaries(
    {},
    optional={
        "script": st.lists(st.text(max_size=20), max_size=3),
        "parameters": st.lists(st.fixed_dictionaries({"name": st.text(max_size=8), "value": st.text(max_size=8)})),
    },
)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(VERSIONS), st.booleans(), st.text(max_size=30), input_values)
def test_any_action_input_conforms_exactly_when_it_names_a_command(
    version: str, with_id: bool, command_id: str, rest: dict[str, Any]
) -> None:
    body = {**rest, "commandId": command_id} if with_id else rest
    found = validate_request("POST", f"{VMSS_VM}/runCommand?api-version={version}", body)
    assert [v.code for v in found] == ([] if with_id else ["OBJECT_MISSING_REQUIRED_PROPERTY"])


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(VERSIONS), st.text(min_size=1, max_size=12))
def test_an_unknown_field_in_the_action_input_is_named(version: str, field: str) -> None:
    body = {"commandId": "RunShellScript", field: "x"}
    expected = {"commandId": [], "script": ["INVALID_TYPE"], "parameters": ["INVALID_TYPE"]}
    codes = [v.code for v in validate_request("POST", f"{VM}/runCommand?api-version={version}", body)]
    assert codes == expected.get(field, ["OBJECT_ADDITIONAL_PROPERTIES"])


RECORDED_202 = {  # the CLI's recorded answer (VERSIONS.md): both headers, no Retry-After
    "Azure-AsyncOperation": f"{ROOT}/providers/Microsoft.Compute/locations/westus/operations/op1?api-version=V",
    "Location": f"{ROOT}/providers/Microsoft.Compute/locations/westus/operations/op1?monitor=true&api-version=V",
}


@pytest.mark.parametrize("version", VERSIONS)
def test_the_action_answers_202_with_where_to_poll(version: str) -> None:
    url = f"{VM}/runCommand?api-version={version}"
    assert validate_response("POST", url, 202, b"", RECORDED_202) == []
    found = validate_response("POST", url, 202, b"", {"Content-Length": "0"})
    assert [(v.code, v.pointer) for v in found] == [("LRO_RESPONSE_HEADER", "header:Location")]
    with_retry = {**RECORDED_202, "Retry-After": "soon"}
    declared = facts.lro_header_statuses(version, "VirtualMachines_RunCommand") == {202}
    assert declared == (version >= "2025-11-01")
    codes = [v.code for v in validate_response("POST", url, 202, b"", with_retry)]
    assert codes == (["LRO_RESPONSE_HEADER"] if declared else [])


LINUX_RESULT = {
    "value": [
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "message": "Enable succeeded: \n[stdout]\nhi\n\n[stderr]\n",
        }
    ]
}


@pytest.mark.parametrize("version", VERSIONS)
def test_the_result_is_read_from_the_location_form_and_the_status_from_the_async_url(version: str) -> None:
    operation = f"{ROOT}/providers/Microsoft.Compute/locations/westus/operations/op1"
    monitor = f"{operation}?monitor=true&api-version={version}"
    status_url = f"{operation}?api-version={version}"
    assert validate_response("GET", monitor, 200, json.dumps(LINUX_RESULT).encode()) == []
    assert validate_response("GET", monitor, 202, None, {"Location": monitor}) == []
    done = {
        "name": "op1",
        "status": "Succeeded",
        "startTime": "2026-01-01T00:00:00Z",
        "properties": {"output": LINUX_RESULT},
    }
    assert validate_response("GET", status_url, 200, json.dumps(done).encode()) == []
    assert validate_response("GET", monitor, 200, json.dumps(done).encode()) == []
    # The bare result is the Location form's answer only; a result entry of the wrong shape is flagged on both.
    assert [v.code for v in validate_response("GET", status_url, 200, json.dumps(LINUX_RESULT).encode())]
    bad = {"value": [{"code": "x", "level": "Verbose"}]}
    assert validate_response("GET", monitor, 200, json.dumps(bad).encode()) != []


CLOUD_ERROR = {"error": {"code": "NotFound", "message": "The entity was not found in this Azure location."}}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("method", "url"), [("GET", CATALOGUE), ("GET", f"{CATALOGUE}/nope"), ("POST", f"{VM}/runCommand")]
)
def test_errors_follow_arms_cloud_error_convention_where_none_is_declared(version: str, method: str, url: str) -> None:
    full = f"{url}?api-version={version}"
    declared = "default" in get_contract(version).match(method, full).operation.responses  # type: ignore[union-attr]
    assert declared == (version >= "2025-11-01")
    assert facts.error_definition(version, get_contract(version).match(method, full).operation_id) == "CloudError"  # type: ignore[union-attr]
    for status in (400, 404, 409, 429, 500):
        assert validate_response(method, full, status, json.dumps(CLOUD_ERROR).encode()) == []
    found = validate_response(method, full, 404, b'{"message": "not found"}')
    assert "INVALID_CLOUD_ERROR" in [v.code for v in found]
    extra = {"error": {**CLOUD_ERROR["error"], "surprise": 1}}
    assert [v.code for v in validate_response(method, full, 404, json.dumps(extra).encode())] == [
        "OBJECT_ADDITIONAL_PROPERTIES"
    ]
    assert [v.code for v in validate_response(method, full, 302, None)] == ["INVALID_RESPONSE_CODE"]
    assert [v.code for v in validate_response(method, full, 201, None)] == ["INVALID_RESPONSE_CODE"]


def test_diagnostic_errors_are_v3_error_responses() -> None:
    url = f"{VMSS_VM}/diagnosticRunCommands/d1?api-version=2026-04-01"
    v3 = {
        "error": {
            "code": "NotFound",
            "message": "no such diagnostic run command",
            "details": [{"code": "Inner", "message": "m", "details": [{"code": "Deeper"}]}],
            "additionalInfo": [{"type": "PolicyViolation", "info": {"policy": "p"}}],
        }
    }
    assert facts.error_definition("2026-04-01", "VirtualMachineScaleSetVMDiagnosticRunCommands_Get") == "ErrorResponse"
    assert validate_response("GET", url, 404, json.dumps(v3).encode()) == []
    cloud = {"error": {**CLOUD_ERROR["error"], "innererror": {"exceptiontype": "x"}}}
    assert [v.code for v in validate_response("GET", url, 404, json.dumps(cloud).encode())] == [
        "OBJECT_ADDITIONAL_PROPERTIES"
    ]


def test_a_diagnostic_run_command_keeps_its_secrets() -> None:
    assert facts.secret_properties() == {"runAsPassword", "protectedParameters"}
    url = f"{VM}/diagnosticRunCommands/d1?api-version=2026-04-01"
    sentinel = "S3cret-sentinel-7f1c"
    body = {
        "location": "westus",
        "properties": {"runAsPassword": sentinel, "protectedParameters": [{"name": "p", "value": sentinel}]},
    }
    assert validate_request("PUT", url, body) == []
    found = validate_response("GET", url, 200, json.dumps(body).encode())
    assert {v.code for v in found} == {"SECRET_PROPERTY"}
    assert sentinel not in repr(found)
    assert all(sentinel not in str(v) for v in found)


def test_nothing_of_the_action_is_secret_and_its_output_is_marked() -> None:
    """The action's script lines and parameters are not x-ms-secret (Azure stores and echoes them as the managed
    run command's clear parameters); what a script printed is marked as script output for the sanitizers."""
    for version in VERSIONS:
        schema = get_contract(version).definitions["RunCommandInput"]
        assert not any(sub.get(facts.SECRET_MARK) for sub in schema["properties"].values())
    assert facts.script_output_properties() == {
        ("RunCommandResult", "value"),
        ("VirtualMachineRunCommandInstanceView", "output"),
        ("VirtualMachineRunCommandInstanceView", "error"),
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_the_catalogue_answers_its_documents(version: str) -> None:
    url = f"{CATALOGUE}/RunShellScript?api-version={version}"
    document = {
        "$schema": "http://schema.management.azure.com/schemas/2016-11-17/runcommands.json",
        "id": "RunShellScript",
        "osType": "Linux",
        "label": "Run Linux Shell script",
        "description": "Custom multiline shell script should be defined in script property.",
        "script": ["$arg1"],
        "parameters": [{"name": "arg1", "type": "string", "required": False}],
    }
    assert validate_response("GET", url, 200, json.dumps(document).encode()) == []
    summary = {k: v for k, v in document.items() if k not in ("script", "parameters")}
    page = {"value": [summary]}
    assert validate_response("GET", url.replace("/RunShellScript", ""), 200, json.dumps(page).encode()) == []
    for missing in ("$schema", "id", "osType", "label", "description", "script"):
        broken = {k: v for k, v in document.items() if k != missing}
        found = validate_response("GET", url, 200, json.dumps(broken).encode())
        assert [(v.code, v.pointer) for v in found] == [("OBJECT_MISSING_REQUIRED_PROPERTY", f"/{missing}")]
    wrong_os = {**document, "osType": "Plan9"}
    assert [v.code for v in validate_response("GET", url, 200, json.dumps(wrong_os).encode())] == ["ENUM_MISMATCH"]


@pytest.mark.parametrize("version", facts.ACTION_ONLY_API_VERSIONS)
@pytest.mark.parametrize(
    ("method", "path", "op_id"),
    [
        ("PATCH", "/runCommands/rc1", "VirtualMachineRunCommands_Update"),
        ("GET", "/runCommands", "VirtualMachineRunCommands_ListByVirtualMachine"),
        ("DELETE", "/runCommands/rc1", "VirtualMachineRunCommands_Delete"),
    ],
)
def test_a_managed_request_at_an_action_only_version_says_where_it_exists(
    version: str, method: str, path: str, op_id: str
) -> None:
    found = validate_request(method, f"{VM}{path}?api-version={version}", None)
    assert [v.code for v in found] == ["OPERATION_NOT_FOUND"]
    assert f"api-version {version} has no {op_id}; it is defined from 2021-03-01 on" in found[0].message
    assert validate_response(method, f"{VM}{path}?api-version={version}", 200, b"{}")[0].code == "OPERATION_NOT_FOUND"


@pytest.mark.parametrize("version", facts.ACTION_ONLY_API_VERSIONS)
def test_the_action_and_the_catalogue_work_at_the_action_only_versions(version: str) -> None:
    assert validate_request("POST", f"{VM}/runCommand?api-version={version}", {"commandId": "ifconfig"}) == []
    assert validate_response("POST", f"{VM}/runCommand?api-version={version}", 202, b"", RECORDED_202) == []
    page = json.dumps({"value": []}).encode()
    assert validate_response("GET", f"{CATALOGUE}?api-version={version}", 200, page) == []
    assert facts.operations_at(version) == (
        "AsyncOperations_Get",
        "VirtualMachines_RunCommand",
        "VirtualMachineScaleSetVMs_RunCommand",
        "VirtualMachineRunCommands_List",
        "VirtualMachineRunCommands_Get",
    )
    assert facts.definition_properties(version, "VirtualMachineRunCommand") == frozenset()
    assert version not in SUPPORTED_API_VERSIONS


RECORDED_ACTION = Path(__file__).parent / "data" / "az-vm-run-command-e2e.runcommand-excerpt.yaml"


@pytest.mark.parametrize("version", ["2020-06-01", "2024-07-01", facts.LATEST_API_VERSION])
def test_the_recorded_az_vm_run_command_invoke_conforms(version: str) -> None:
    """The Azure CLI's recorded catalogue list/get and `invoke` (POST 202, two polls, the final Location GET),
    recorded at 2019-03-01 and read at versions whose action and catalogue definitions are the same."""
    from pytest_runcommand.cassettes.readers import read_cassette
    from pytest_runcommand.contract import validate_interaction

    interactions = read_cassette(RECORDED_ACTION).interactions
    seen = []
    for interaction in interactions:
        moved = dataclasses.replace(
            interaction, url=interaction.url.replace("api-version=2019-03-01", f"api-version={version}")
        )
        assert validate_interaction(moved) == [], moved.describe()
        match = get_contract(version).match(moved.method, moved.url)
        assert match is not None
        seen.append((match.operation_id, moved.status))
    assert seen == [
        ("VirtualMachineRunCommands_List", 200),
        ("VirtualMachineRunCommands_Get", 200),
        ("VirtualMachines_RunCommand", 202),
        ("AsyncOperations_Get", 200),
        ("AsyncOperations_Get", 200),
        ("AsyncOperations_Get", 200),
    ]
    final = json.loads(interactions[-1].response_body or b"{}")
    assert final["value"][0]["message"].startswith("Enable succeeded: \n[stdout]\n")


status_entries = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "code": st.text(max_size=40),
            "level": st.sampled_from(["Info", "Warning", "Error"]),
            "displayStatus": st.text(max_size=20),
            "message": st.text(max_size=60),
            "time": st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat().replace("+00:00", "Z")),
        },
    ),
    max_size=3,
)
RESULT_BREAKS: list[tuple[str, Any]] = [
    ("level", "Verbose"),
    ("message", 7),
    ("time", "yesterday"),
    ("stdout", "an undeclared field"),
]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(status_entries, st.sampled_from(VERSIONS), st.sampled_from(RESULT_BREAKS), st.booleans())
def test_any_action_result_conforms_and_one_break_is_named(
    entries: list[dict[str, Any]], version: str, brk: tuple[str, Any], monitor: bool
) -> None:
    operation = f"{ROOT}/providers/Microsoft.Compute/locations/westus/operations/op1?monitor=true"
    url = f"{operation}&api-version={version}" if monitor else f"{VM}/runCommand?api-version={version}"
    method = "GET" if monitor else "POST"
    assert validate_response(method, url, 200, json.dumps({"value": entries}).encode()) == []
    key, value = brk
    broken = [*entries, {"code": "ComponentStatus/StdOut/succeeded", key: value}]
    found = validate_response(method, url, 200, json.dumps({"value": broken}).encode())
    assert found
    if not monitor:  # the Location form reads as either shape, so its message is less precise
        assert {v.pointer for v in found} == {f"/value/{len(entries)}/{key}"}


documents = st.fixed_dictionaries(
    {
        "$schema": st.text(max_size=30),
        "id": st.text(min_size=1, max_size=20),
        "osType": st.sampled_from(["Windows", "Linux"]),
        "label": st.text(max_size=20),
        "description": st.text(max_size=40),
        "script": st.lists(st.text(max_size=20), max_size=4),
    },
    optional={
        "parameters": st.lists(
            st.fixed_dictionaries(
                {"name": st.text(max_size=8), "type": st.sampled_from(["string", "int"])},
                optional={"defaultValue": st.text(max_size=8), "required": st.booleans()},
            ),
            max_size=3,
        )
    },
)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(documents, st.sampled_from(VERSIONS), st.sampled_from(["osType", "id", "script", "label"]))
def test_any_catalogue_document_conforms_and_its_summary_lists(
    document: dict[str, Any], version: str, dropped: str
) -> None:
    url = f"{CATALOGUE}/{document['id'].replace('/', '_') or 'x'}?api-version={version}"
    assert validate_response("GET", url, 200, json.dumps(document).encode()) == []
    summary = {k: v for k, v in document.items() if k not in ("script", "parameters")}
    page = json.dumps({"value": [summary], "nextLink": f"{CATALOGUE}?api-version={version}&$skiptoken=2"})
    assert validate_response("GET", f"{CATALOGUE}?api-version={version}", 200, page.encode()) == []
    broken = {k: v for k, v in document.items() if k != dropped}
    found = validate_response("GET", url, 200, json.dumps(broken).encode())
    assert [(v.code, v.pointer) for v in found] == [("OBJECT_MISSING_REQUIRED_PROPERTY", f"/{dropped}")]
    listed_in_full = validate_response("GET", f"{CATALOGUE}?api-version={version}", 200, {"value": [document]})
    assert {v.code for v in listed_in_full} == {"OBJECT_ADDITIONAL_PROPERTIES"}  # a page lists summaries only


def test_every_contract_version_names_its_official_file_and_commit() -> None:
    for version, note in facts.API_VERSIONS.items():
        source = facts.CONTRACT_SOURCES[version]
        assert version in source.path
        assert len(source.commit) == 40
        assert source.commit[:7] in note
    assert facts.CONTRACT_SOURCES["2020-06-01"].path.endswith("stable/2020-06-01/runCommands.json")


def test_a_diagnostic_request_may_not_send_what_azure_sets() -> None:
    url = f"{VM}/diagnosticRunCommands/d1?api-version=2026-04-01"
    body = {
        "location": "westus",
        "systemData": {"createdBy": "me"},
        "properties": {"source": {"commandId": "FleetDiagnosticsWindows"}, "provisioningState": "Succeeded"},
    }
    found = validate_request("PUT", url, body)
    assert sorted((v.code, v.pointer) for v in found) == [
        ("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/properties/provisioningState"),
        ("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/systemData"),
    ]
    assert facts.read_only_properties("2026-04-01", "VirtualMachineDiagnosticRunCommand") == {
        "id",
        "name",
        "type",
        "systemData",
    }
    shaped = facts.keep_known("2026-04-01", "VirtualMachineDiagnosticRunCommand", {**body, "extra": 1})
    assert "extra" not in shaped
    assert shaped["systemData"] == {"createdBy": "me"}
