"""Each request is checked against the contract of its own api-version: a field is unknown exactly where that
version lacks it, and the prose rules follow the versions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract import (
    SUPPORTED_API_VERSIONS,
    facts,
    get_contract,
    load_contract,
    validate_request,
    validate_response,
)
from pytest_runcommand.contract.versioned import UnknownApiVersion

BASE = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
)
VERSIONS = list(SUPPORTED_API_VERSIONS)
PROPERTIES = "VirtualMachineRunCommandProperties"
SOURCE = "VirtualMachineRunCommandScriptSource"
RESOURCE = "VirtualMachineRunCommand"


def url(version: str) -> str:
    return f"{BASE}?api-version={version}"


def codes(found: list[Any]) -> list[tuple[str, str]]:
    return [(v.code, v.pointer) for v in found]


def answer(version: str, **extra: Any) -> bytes:
    body = {
        "id": f"{BASE.split('.com', 1)[1]}",
        "name": "rc",
        "type": "Microsoft.Compute/virtualMachines/runCommands",
        "location": "westus",
        "properties": {"source": {"script": "echo hi"}, "provisioningState": "Succeeded"},
        **extra,
    }
    return json.dumps(body).encode()


SYSTEM_DATA = {
    "createdBy": "someone@example.com",
    "createdByType": "User",
    "createdAt": "2026-01-02T03:04:05Z",
    "lastModifiedBy": "someone@example.com",
    "lastModifiedByType": "User",
    "lastModifiedAt": "2026-01-02T03:04:05Z",
}


def test_system_data_in_an_answer_is_clean_at_2026_04_01_and_flagged_at_2024_07_01() -> None:
    body = answer("2026-04-01", systemData=SYSTEM_DATA)
    assert validate_response("GET", url("2026-04-01"), 200, body) == []
    assert codes(validate_response("GET", url("2024-07-01"), 200, body)) == [
        ("OBJECT_ADDITIONAL_PROPERTIES", "/systemData")
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_system_data_exists_from_2025_11_01_and_is_never_accepted_in_a_request(version: str) -> None:
    body = {"location": "westus", "properties": {"source": {"script": "x"}}, "systemData": SYSTEM_DATA}
    found = codes(validate_request("PUT", url(version), body))
    if version >= "2025-11-01":
        assert found == [("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/systemData")]
        assert validate_response("PUT", url(version), 201, answer(version, systemData=SYSTEM_DATA)) == []
    else:
        assert found == [("OBJECT_ADDITIONAL_PROPERTIES", "/systemData")]


@pytest.mark.parametrize(
    ("path", "value", "since"),
    [
        (("treatFailureAsDeploymentFailure",), True, "2023-03-01"),
        (("source", "scriptShell"), "Powershell7", "2025-04-01"),
        (("outputBlobManagedIdentity",), {"clientId": "c"}, "2022-08-01"),
        (("errorBlobManagedIdentity",), {}, "2022-08-01"),
        (("source", "scriptUriManagedIdentity"), {"objectId": "o"}, "2022-08-01"),
    ],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_a_field_is_unknown_exactly_where_the_version_lacks_it(
    version: str, path: tuple[str, ...], value: Any, since: str
) -> None:
    properties: dict[str, Any] = {"source": {"script": "echo"}}
    node = properties
    for token in path[:-1]:
        node = node[token]
    node[path[-1]] = value
    found = codes(validate_request("PATCH", url(version), {"properties": properties}))
    pointer = "/properties/" + "/".join(path)
    assert found == ([] if version >= since else [("OBJECT_ADDITIONAL_PROPERTIES", pointer)])


@pytest.mark.parametrize("version", VERSIONS)
def test_four_script_sources_from_2025_04_01_else_three(version: str) -> None:
    gallery = {"galleryScriptReferenceId": "/subscriptions/s/galleries/g/scripts/s/versions/1"}
    alone = codes(validate_request("PATCH", url(version), {"properties": {"source": gallery}}))
    both = codes(validate_request("PATCH", url(version), {"properties": {"source": {**gallery, "script": "x"}}}))
    if version >= "2025-04-01":
        assert facts.script_sources(version) == ("script", "scriptUri", "commandId", "galleryScriptReferenceId")
        assert alone == []
        assert both == [("MULTIPLE_SCRIPT_SOURCES", "/properties/source")]
    else:
        assert facts.script_sources(version) == ("script", "scriptUri", "commandId")
        assert alone == [
            ("OBJECT_ADDITIONAL_PROPERTIES", "/properties/source/galleryScriptReferenceId"),
            ("MISSING_SCRIPT_SOURCE", "/properties/source"),
        ]


def test_the_multiple_sources_message_names_the_versions_sources() -> None:
    body = {"properties": {"source": {"script": "x", "commandId": "RunShellScript"}}}
    (old,) = validate_request("PATCH", url("2024-11-01"), body)
    (new,) = validate_request("PATCH", url("2025-04-01"), body)
    assert "galleryScriptReferenceId" not in old.message
    assert "galleryScriptReferenceId" in new.message


ALL_PROPERTIES = sorted(set().union(*(facts.definition_properties(v, PROPERTIES) for v in VERSIONS)))
SAMPLE_VALUES: dict[str, Any] = {
    "source": {},
    "parameters": [],
    "protectedParameters": [],
    "asyncExecution": False,
    "runAsUser": "u",
    "runAsPassword": "p",
    "timeoutInSeconds": 60,
    "outputBlobUri": "https://a/b",
    "errorBlobUri": "https://a/c",
    "outputBlobManagedIdentity": {},
    "errorBlobManagedIdentity": {},
    "treatFailureAsDeploymentFailure": True,
}


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.sampled_from(VERSIONS), st.sampled_from([p for p in ALL_PROPERTIES if p in SAMPLE_VALUES]))
def test_any_writable_property_is_known_exactly_at_the_versions_that_declare_it(version: str, name: str) -> None:
    found = codes(validate_request("PATCH", url(version), {"properties": {name: SAMPLE_VALUES[name]}}))
    declared = name in facts.definition_properties(version, PROPERTIES)
    assert found == ([] if declared else [("OBJECT_ADDITIONAL_PROPERTIES", f"/properties/{name}")])


def test_the_sample_values_cover_every_writable_property() -> None:
    read_only = set().union(*(facts.read_only_properties(v, PROPERTIES) for v in VERSIONS))
    assert set(ALL_PROPERTIES) - read_only == set(SAMPLE_VALUES)


def test_an_unknown_api_version_lists_every_supported_one() -> None:
    (violation,) = validate_request("GET", url("2019-01-01"))
    assert violation.code == "UNKNOWN_API_VERSION"
    for version in VERSIONS:
        assert version in violation.message


def test_get_contract_returns_each_versions_own_contract() -> None:
    for version in VERSIONS:
        contract = get_contract(version)
        assert contract.api_version == version
        assert contract is get_contract(version)
    assert get_contract().api_version == facts.DEFAULT_API_VERSION
    with pytest.raises(UnknownApiVersion, match="2026-04-01"):
        get_contract("2019-01-01")


def test_a_bundled_contract_passed_explicitly_still_follows_the_requests_version() -> None:
    body = {"properties": {"source": {"scriptShell": "Powershell7", "script": "x"}}}
    assert validate_request("PATCH", url("2026-04-01"), body, contract=get_contract("2021-03-01")) == []


def test_a_loaded_document_checks_every_request_against_itself() -> None:
    from reference_data import OFFICIAL_RUNCOMMAND

    contract = load_contract(OFFICIAL_RUNCOMMAND)
    body = {"properties": {"source": {"scriptShell": "Powershell7", "script": "x"}}}
    found = codes(validate_request("PATCH", url("2024-07-01"), body, contract=contract))
    assert found == [("OBJECT_ADDITIONAL_PROPERTIES", "/properties/source/scriptShell")]


@pytest.mark.parametrize("version", VERSIONS)
def test_lro_headers_and_final_state_follow_the_version(version: str) -> None:
    for op_id, status in (
        ("VirtualMachineRunCommands_CreateOrUpdate", 201),
        ("VirtualMachineRunCommands_Update", 200),
        ("VirtualMachineRunCommands_Delete", 202),
        ("VirtualMachineScaleSetVMRunCommands_CreateOrUpdate", 201),
        ("VirtualMachineScaleSetVMRunCommands_Update", 200),
        ("VirtualMachineScaleSetVMRunCommands_Delete", 202),
    ):
        typespec = version >= "2025-11-01"
        assert facts.declares_lro_headers(version, op_id) is typespec, op_id
        assert facts.lro_header_statuses(version, op_id) == ({status} if typespec else set())
        assert facts.final_state_via(version, op_id) == ("location" if typespec else None)
    assert not facts.declares_lro_headers(version, "VirtualMachineRunCommands_GetByVirtualMachine")


def test_facts_answer_per_version() -> None:
    assert facts.LATEST_API_VERSION == "2026-04-01" == max(VERSIONS)
    assert "systemData" in facts.definition_properties("2025-11-01", RESOURCE)
    assert "systemData" not in facts.definition_properties("2025-04-01", RESOURCE)
    assert facts.read_only_properties("2026-04-01", RESOURCE) == {"id", "name", "type", "systemData"}
    assert facts.read_only_properties("2024-07-01", PROPERTIES) == {"provisioningState", "instanceView"}
    assert facts.definition_properties("2021-03-01", "RunCommandManagedIdentity") == frozenset()
    assert "scriptShell" in facts.definition_properties("2025-04-01", SOURCE)
    assert facts.secret_properties() == {"runAsPassword", "protectedParameters"}
    with pytest.raises(ValueError, match="supported: 2020-06-01, 2020-12-01, 2021-03-01"):
        facts.definition_properties("2030-01-01", RESOURCE)


def test_supported_versions_name_the_official_file_and_commit() -> None:
    assert sorted(VERSIONS) == VERSIONS
    assert VERSIONS[0] == "2021-03-01"
    for version, note in SUPPORTED_API_VERSIONS.items():
        source = facts.CONTRACT_SOURCES[version]
        assert version in source.path
        assert len(source.commit) == 40
        assert source.commit[:7] in note
        assert "subset" not in note
        assert "superset" not in note


def test_facts_import_stays_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import pytest_runcommand.contract.facts as f; f.script_sources('2026-04-01'); "
        "from pytest_runcommand.contract import LATEST_API_VERSION; "
        "print(sorted(m for m in ('jsonschema_rs', 'orjson', 'yaml', 'pytest_runcommand.contract.validate') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_version_with_a_contract_has_an_entry_in_the_deltas_and_no_other() -> None:
    from pytest_runcommand.contract.versioned import DELTAS_PATH

    deltas = json.loads(DELTAS_PATH.read_text(encoding="utf-8"))
    assert set(deltas["versions"]) == set(facts.API_VERSIONS) == {*VERSIONS, *facts.ACTION_ONLY_API_VERSIONS}
    for version, entry in deltas["versions"].items():
        assert entry.get("from", deltas["base"]) in facts.API_VERSIONS, version


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, dict | list) else []
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        found += _containers(item)
    return found


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
        max_leaves=30,
    )
)
@settings(max_examples=200, deadline=None)
def test_a_versions_document_is_copied_as_deepcopy_copies_json(value: Any) -> None:
    import copy

    from pytest_runcommand.contract.versioned import json_copy

    copied = json_copy(value)
    assert json.dumps(copied) == json.dumps(value) == json.dumps(copy.deepcopy(value))
    shared = {id(item) for item in _containers(value)} & {id(item) for item in _containers(copied)}
    assert not shared  # nothing the base document holds is handed out with a version's


def test_every_versions_document_is_its_base_with_its_changes_alone() -> None:
    import copy

    from pytest_runcommand.contract import versioned

    built: dict[str, Any] = {}

    def by_deepcopy(version: str) -> Any:  # the documents as they were built before the copy was versioned.json_copy
        if version not in built:
            entry = versioned._deltas()["versions"][version]
            start = entry.get("from")
            document = copy.deepcopy(versioned._base() if start is None else by_deepcopy(start))
            for change in entry.get("changes", ()):
                versioned._apply(document, change, version)
            document["info"] = {**document.get("info", {}), "version": version}
            built[version] = document
        return built[version]

    for version in versioned._deltas()["versions"]:
        assert json.dumps(versioned.version_document(version)) == json.dumps(by_deepcopy(version)), version


def test_a_bad_change_in_the_deltas_names_the_version_and_pointer() -> None:
    from pytest_runcommand.contract.versioned import _apply

    with pytest.raises(KeyError, match="2030-01-01: nothing to remove at /definitions/X/properties/y"):
        _apply({"definitions": {"X": {"properties": {}}}}, {"remove": "/definitions/X/properties/y"}, "2030-01-01")


@pytest.mark.parametrize("version", ["2025-04-01", "2025-11-01", "2026-04-01"])
def test_a_declared_retry_after_must_be_an_integer(version: str) -> None:
    good = {"Location": "https://management.azure.com/op", "Retry-After": "10"}
    bad = {"Location": "https://management.azure.com/op", "Retry-After": "soon"}
    assert validate_response("DELETE", url(version), 202, None, good) == []
    found = codes(validate_response("DELETE", url(version), 202, None, bad))
    assert found == ([("LRO_RESPONSE_HEADER", "header:Retry-After")] if version >= "2025-11-01" else [])
    put = validate_response("PUT", url(version), 201, answer(version), {"Retry-After": "2147483648"})
    assert codes(put) == ([("LRO_RESPONSE_HEADER", "header:Retry-After")] if version >= "2025-11-01" else [])


NEWEST_ANSWER = {
    "id": "/x",
    "name": "rc",
    "type": "Microsoft.Compute/virtualMachines/runCommands",
    "location": "westus",
    "systemData": SYSTEM_DATA,
    "properties": {
        "source": {"script": "echo", "scriptShell": "Powershell7", "scriptUriManagedIdentity": {"clientId": "c"}},
        "treatFailureAsDeploymentFailure": True,
        "outputBlobManagedIdentity": {"objectId": "o"},
        "provisioningState": "Succeeded",
        "instanceView": {"executionState": "Succeeded", "statuses": [{"code": "c", "level": "Info"}]},
    },
}


@pytest.mark.parametrize("version", VERSIONS)
def test_keep_known_shapes_an_answer_for_its_version(version: str) -> None:
    shaped = facts.keep_known(version, RESOURCE, NEWEST_ANSWER)
    assert validate_response("GET", url(version), 200, shaped) == []
    assert ("systemData" in shaped) is (version >= "2025-11-01")
    assert ("scriptShell" in shaped["properties"]["source"]) is (version >= "2025-04-01")
    assert ("treatFailureAsDeploymentFailure" in shaped["properties"]) is (version >= "2023-03-01")
    assert ("outputBlobManagedIdentity" in shaped["properties"]) is (version >= "2022-08-01")
    assert shaped["properties"]["instanceView"] == NEWEST_ANSWER["properties"]["instanceView"]
    assert "systemData" in NEWEST_ANSWER  # the input is left alone


@settings(max_examples=100, deadline=None, derandomize=True)
@given(
    st.sampled_from(VERSIONS),
    st.dictionaries(st.sampled_from(ALL_PROPERTIES), st.just(None), max_size=6),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), max_size=2),
)
def test_keep_known_leaves_no_property_the_version_lacks(
    version: str, chosen: dict[str, None], extra: dict[str, int]
) -> None:
    properties = {name: SAMPLE_VALUES.get(name, "x") for name in chosen if name in SAMPLE_VALUES}
    body = {"location": "w", "properties": {**properties, **extra}, **extra}
    shaped = facts.keep_known(version, "VirtualMachineRunCommandUpdate", body)
    found = codes(validate_request("PATCH", url(version), shaped))
    assert not [code for code, _ in found if code == "OBJECT_ADDITIONAL_PROPERTIES"]


@pytest.mark.parametrize(
    "query", ["api-version=2021-07-01&api-version=2024-07-01", "api-version=2024-07-01&x=1&api-version=2024-07-01"]
)
def test_a_repeated_api_version_is_read_as_arm_reads_it(query: str) -> None:
    """Review 13, finding 12: the validators checked at the last value and passed what ARM (and the emulator) refuse
    with 400 InvalidApiVersionParameter: the values joined with commas, no supported version."""
    from pytest_runcommand.contract import validate_request

    url = (
        "https://management.azure.com/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
        f"vm1/runCommands/rc1?{query}"
    )
    found = validate_request("PATCH", url, {"properties": {"treatFailureAsDeploymentFailure": True}})
    assert [(v.code, v.pointer) for v in found] == [("UNKNOWN_API_VERSION", "query:api-version")]
    assert found[0].value == ",".join(part.split("=")[1] for part in query.split("&") if part.startswith("api-"))
