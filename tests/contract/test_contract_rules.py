"""A table of invalid payloads: each yields the expected code at the expected JSON pointer, and nothing leaks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pytest_runcommand import validate_request, validate_response

SUB = "00000000-0000-0000-0000-000000000000"
VM_RC = (
    f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
)
VMSS_RC = (
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
    "/virtualMachines/0/runCommands/rc?api-version=2024-07-01"
)
LIST = VM_RC.replace("/runCommands/rc?", "/runCommands?")

VALID_PATCH: dict[str, Any] = {
    "properties": {"source": {"script": "echo hi"}, "timeoutInSeconds": 60},
    "tags": {"team": "platform"},
}
VALID_RESPONSE: dict[str, Any] = {
    "name": "rc",
    "id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc",
    "type": "Microsoft.Compute/virtualMachines/runCommands",
    "location": "westus",
    "properties": {
        "source": {"script": "echo hi"},
        "asyncExecution": False,
        "timeoutInSeconds": 60,
        "provisioningState": "Updating",
        "treatFailureAsDeploymentFailure": False,
    },
}


def patched(base: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    body = copy.deepcopy(base)
    *parents, last = pointer.strip("/").split("/")
    node = body
    for token in parents:
        node = node.setdefault(token, {}) if isinstance(node, dict) else node[int(token)]
    node[last] = value
    return body


REQUEST_CASES = [
    (
        "two sources",
        "/properties/source",
        {"script": "a", "commandId": "RunShellScript"},
        "MULTIPLE_SCRIPT_SOURCES",
        "/properties/source",
    ),
    (
        "three sources",
        "/properties/source",
        {"script": "a", "scriptUri": "https://x/s.sh", "commandId": "c"},
        "MULTIPLE_SCRIPT_SOURCES",
        "/properties/source",
    ),
    ("an empty script", "/properties/source", {"script": ""}, "MISSING_SCRIPT_SOURCE", "/properties/source"),
    (
        "an identity without scriptUri",
        "/properties/source",
        {"scriptUriManagedIdentity": {}},
        "MISSING_SCRIPT_SOURCE",
        "/properties/source",
    ),
    (
        "both identity ids",
        "/properties/outputBlobManagedIdentity",
        {"clientId": "a", "objectId": "b"},
        "MANAGED_IDENTITY_CLIENT_AND_OBJECT_ID",
        "/properties/outputBlobManagedIdentity",
    ),
    (
        "both identity ids in the source",
        "/properties/source/scriptUriManagedIdentity",
        {"clientId": "a", "objectId": "b"},
        "MANAGED_IDENTITY_CLIENT_AND_OBJECT_ID",
        "/properties/source/scriptUriManagedIdentity",
    ),
    (
        "provisioningState sent",
        "/properties/provisioningState",
        "Succeeded",
        "READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST",
        "/properties/provisioningState",
    ),
    (
        "instanceView sent",
        "/properties/instanceView",
        {"exitCode": 0},
        "READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST",
        "/properties/instanceView",
    ),
    ("timeout as a string", "/properties/timeoutInSeconds", "60", "INVALID_TYPE", "/properties/timeoutInSeconds"),
    ("timeout beyond int32", "/properties/timeoutInSeconds", 2**31, "INVALID_FORMAT", "/properties/timeoutInSeconds"),
    (
        "timeout below int32",
        "/properties/timeoutInSeconds",
        -(2**31) - 1,
        "INVALID_FORMAT",
        "/properties/timeoutInSeconds",
    ),
    ("asyncExecution as a string", "/properties/asyncExecution", "true", "INVALID_TYPE", "/properties/asyncExecution"),
    (
        "parameter without value",
        "/properties/parameters",
        [{"name": "a"}],
        "OBJECT_MISSING_REQUIRED_PROPERTY",
        "/properties/parameters/0/value",
    ),
    (
        "a misspelt property",
        "/properties/timeoutInSecond",
        60,
        "OBJECT_ADDITIONAL_PROPERTIES",
        "/properties/timeoutInSecond",
    ),
    ("a tag that is not a string", "/tags/team", 7, "INVALID_TYPE", "/tags/team"),
]


@pytest.mark.parametrize(
    ("pointer", "value", "code", "where"), [case[1:] for case in REQUEST_CASES], ids=[case[0] for case in REQUEST_CASES]
)
def test_invalid_patch_is_caught(pointer: str, value: Any, code: str, where: str) -> None:
    violations = validate_request("PATCH", VM_RC, patched(VALID_PATCH, pointer, value))
    assert [(v.code, v.pointer) for v in violations] == [(code, where)]
    assert violations[0].operation_id == "VirtualMachineRunCommands_Update"
    assert violations[0].side == "request"


def test_the_valid_patch_conforms_on_vm_and_vmss_vm() -> None:
    assert validate_request("PATCH", VM_RC, VALID_PATCH) == []
    assert validate_request("PATCH", VMSS_RC, VALID_PATCH) == []


def test_an_empty_source_is_accepted_as_azure_does() -> None:
    """The Azure CLI sends ``source: {}`` on create and Azure answers 201 (tests/data/real-traffic)."""
    assert validate_request("PATCH", VM_RC, patched(VALID_PATCH, "/properties/source", {})) == []


def test_an_empty_identity_means_system_assigned_and_is_valid() -> None:
    body = patched(VALID_PATCH, "/properties/errorBlobManagedIdentity", {})
    assert validate_request("PATCH", VM_RC, body) == []


def test_put_needs_a_location_and_rejects_id_name_type() -> None:
    body = {"properties": {"source": {"commandId": "RunShellScript"}}, "id": "/x", "name": "rc", "type": "t"}
    found = {(v.code, v.pointer) for v in validate_request("PUT", VM_RC, body)}
    assert found == {
        ("OBJECT_MISSING_REQUIRED_PROPERTY", "/location"),
        ("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/id"),
        ("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/name"),
        ("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/type"),
    }


@pytest.mark.parametrize(
    ("method", "url", "body", "code", "pointer"),
    [
        (
            "PATCH",
            VM_RC.replace("?api-version=2024-07-01", ""),
            VALID_PATCH,
            "MISSING_API_VERSION",
            "query:api-version",
        ),
        ("PATCH", VM_RC.replace("2024-07-01", "2099-01-01"), VALID_PATCH, "UNKNOWN_API_VERSION", "query:api-version"),
        (
            "PATCH",
            VM_RC.replace("/virtualMachines/vm/", "/virtualMachines//"),
            VALID_PATCH,
            "MISSING_PATH_PARAMETER",
            "path:vmName",
        ),
        ("POST", VM_RC, VALID_PATCH, "OPERATION_NOT_FOUND", ""),
        (
            "PATCH",
            "https://management.azure.com/subscriptions/x/resourceGroups/rg?api-version=2024-07-01",
            VALID_PATCH,
            "OPERATION_NOT_FOUND",
            "",
        ),
        ("PATCH", VM_RC, b'{"properties": ', "INVALID_JSON", ""),
        ("PATCH", VM_RC, None, "MISSING_REQUIRED_PARAMETER", ""),
    ],
    ids=[
        "no api-version",
        "unknown api-version",
        "empty vmName",
        "POST",
        "not a run command",
        "broken JSON",
        "no body",
    ],
)
def test_request_line_problems_are_violations_not_exceptions(
    method: str, url: str, body: Any, code: str, pointer: str
) -> None:
    violations = validate_request(method, url, body)
    assert (code, pointer) in {(v.code, v.pointer) for v in violations}


def test_content_type_is_checked_when_headers_are_given() -> None:
    found = validate_request("PATCH", VM_RC, VALID_PATCH, {"Content-Type": "text/plain"})
    assert [(v.code, v.pointer) for v in found] == [("INVALID_CONTENT_TYPE", "header:Content-Type")]
    assert validate_request("PATCH", VM_RC, VALID_PATCH, {"content-type": "application/json; charset=utf-8"}) == []


@pytest.mark.parametrize("content_type", ["text/html", "application/xml", "text/plain; charset=utf-8"])
def test_an_answer_declared_as_another_type_is_a_violation(content_type: str) -> None:
    import json

    for body in (VALID_RESPONSE, json.dumps(VALID_RESPONSE).encode()):
        found = validate_response("PATCH", VM_RC, 200, body, {"Content-Type": content_type})
        assert [(v.code, v.pointer, v.side) for v in found] == [
            ("INVALID_CONTENT_TYPE", "header:Content-Type", "response")
        ]
        assert "answer must be declared as application/json" in found[0].message


def test_an_answer_declared_as_json_or_without_a_body_has_no_type_violation() -> None:
    for content_type in ("application/json", "application/json; charset=utf-8", "text/json", "Application/JSON"):
        assert validate_response("PATCH", VM_RC, 200, VALID_RESPONSE, {"Content-Type": content_type}) == []
    assert validate_response("PATCH", VM_RC, 200, VALID_RESPONSE, {}) == []
    assert validate_response("DELETE", VM_RC, 204, None, {"Content-Type": "text/plain"}) == []


def test_body_forms_bytes_str_and_mapping_agree() -> None:
    import json

    text = json.dumps(patched(VALID_PATCH, "/properties/source/commandId", "x"))
    assert validate_request("PATCH", VM_RC, text) == validate_request("PATCH", VM_RC, text.encode())
    assert validate_request("PATCH", VM_RC, text) == validate_request("PATCH", VM_RC, json.loads(text))


RESPONSE_CASES = [
    (
        "runAsPassword echoed",
        "PATCH",
        VM_RC,
        200,
        patched(VALID_RESPONSE, "/properties/runAsPassword", "hunter2"),
        {},
        "SECRET_PROPERTY",
        "/properties/runAsPassword",
    ),
    (
        "protected value echoed",
        "GET",
        VM_RC,
        200,
        patched(VALID_RESPONSE, "/properties/protectedParameters", [{"name": "k", "value": "s3cret"}]),
        None,
        "SECRET_PROPERTY",
        "/properties/protectedParameters/0/value",
    ),
    (
        "PATCH answered 202",
        "PATCH",
        VM_RC,
        202,
        VALID_RESPONSE,
        {"Azure-AsyncOperation": "https://x/op"},
        "INVALID_RESPONSE_CODE",
        "status",
    ),
    (
        "PUT answered 202",
        "PUT",
        VM_RC,
        202,
        VALID_RESPONSE,
        {"Location": "https://x/op"},
        "INVALID_RESPONSE_CODE",
        "status",
    ),
    ("DELETE 202 without a polling header", "DELETE", VM_RC, 202, None, {}, "LRO_RESPONSE_HEADER", "header:Location"),
    (
        "relative Azure-AsyncOperation",
        "PATCH",
        VM_RC,
        200,
        VALID_RESPONSE,
        {"Azure-AsyncOperation": "/op/1"},
        "LRO_RESPONSE_HEADER",
        "header:Azure-AsyncOperation",
    ),
    ("error that is not a CloudError", "GET", VM_RC, 404, {"message": "nope"}, None, "INVALID_CLOUD_ERROR", ""),
    (
        "CloudError without message",
        "GET",
        VM_RC,
        400,
        {"error": {"code": "Bad"}},
        None,
        "INVALID_CLOUD_ERROR",
        "/error/message",
    ),
    (
        "unknown executionState",
        "GET",
        VM_RC,
        200,
        patched(VALID_RESPONSE, "/properties/instanceView", {"executionState": "Exploded"}),
        None,
        "ENUM_MISMATCH",
        "/properties/instanceView/executionState",
    ),
    (
        "bad date-time",
        "GET",
        VM_RC,
        200,
        patched(VALID_RESPONSE, "/properties/instanceView", {"startTime": "yesterday"}),
        None,
        "INVALID_FORMAT",
        "/properties/instanceView/startTime",
    ),
    (
        "exitCode beyond int32",
        "GET",
        VM_RC,
        200,
        patched(VALID_RESPONSE, "/properties/instanceView", {"exitCode": 2**32}),
        None,
        "INVALID_FORMAT",
        "/properties/instanceView/exitCode",
    ),
    (
        "two sources in a list item",
        "GET",
        LIST,
        200,
        {"value": [patched(VALID_RESPONSE, "/properties/source", {"script": "a", "commandId": "b"})]},
        None,
        "MULTIPLE_SCRIPT_SOURCES",
        "/value/0/properties/source",
    ),
    (
        "a list page without value",
        "GET",
        LIST,
        200,
        {"nextLink": "https://x"},
        None,
        "OBJECT_MISSING_REQUIRED_PROPERTY",
        "/value",
    ),
    ("a 200 GET without body", "GET", VM_RC, 200, None, None, "INVALID_RESPONSE_BODY", ""),
    ("a 3xx", "GET", VM_RC, 302, None, None, "INVALID_RESPONSE_CODE", "status"),
]


@pytest.mark.parametrize(
    ("method", "url", "status", "body", "headers", "code", "pointer"),
    [case[1:] for case in RESPONSE_CASES],
    ids=[case[0] for case in RESPONSE_CASES],
)
def test_invalid_response_is_caught(
    method: str, url: str, status: int, body: Any, headers: Any, code: str, pointer: str
) -> None:
    violations = validate_response(method, url, status, body, headers)
    assert (code, pointer) in [(v.code, v.pointer) for v in violations]
    assert all(v.side == "response" for v in violations)


def test_valid_responses_conform() -> None:
    lro = {"Azure-AsyncOperation": "https://management.azure.com/x/operations/1?api-version=2024-07-01"}
    assert validate_response("PATCH", VM_RC, 200, VALID_RESPONSE, lro) == []
    assert (
        validate_response("PUT", VM_RC, 201, patched(VALID_RESPONSE, "/properties/provisioningState", "Creating"), lro)
        == []
    )
    assert validate_response("DELETE", VM_RC, 202, None, {"Location": "https://x/op?monitor=true"}) == []
    assert validate_response("DELETE", VM_RC, 204, b"") == []
    assert validate_response("GET", LIST, 200, {"value": [VALID_RESPONSE]}) == []
    azure_style = patched(VALID_RESPONSE, "/properties/source", {})  # Azure answers source: {} when unset
    assert validate_response("GET", VM_RC, 200, azure_style) == []
    error = {"error": {"code": "ResourceNotFound", "message": "The Resource ... was not found.", "target": "rc"}}
    assert validate_response("GET", VM_RC, 404, error) == []


def test_secrets_never_reach_a_message_or_value() -> None:
    body = patched(VALID_RESPONSE, "/properties/runAsPassword", "hunter2-very-secret")
    body["properties"]["protectedParameters"] = [{"name": "k", "value": "s3cret-value"}]
    body["properties"]["outputBlobUri"] = "https://a.blob.core.windows.net/c/o?sv=2022&sig=SIGNATURE123"
    body["properties"]["timeoutInSeconds"] = "not-a-number"
    request = {"properties": {"runAsPassword": 12345, "protectedParameters": [{"name": "k", "value": 99}]}}
    rendered = " ".join(str(v) + repr(v.as_dict()) for v in validate_response("GET", VM_RC, 200, body))
    rendered += " ".join(str(v) + repr(v.as_dict()) for v in validate_request("PATCH", VM_RC, request))
    assert "SECRET_PROPERTY" in rendered
    assert "INVALID_TYPE" in rendered
    for secret in ("hunter2-very-secret", "s3cret-value", "12345", "99"):
        assert secret not in rendered


def test_a_violation_reads_like_a_sentence() -> None:
    (violation,) = validate_request("PATCH", VM_RC, patched(VALID_PATCH, "/properties/source/commandId", "c"))
    assert str(violation) == (
        "MULTIPLE_SCRIPT_SOURCES at /properties/source: a script source takes exactly one of script, scriptUri, "
        "commandId; got script, commandId"
    )
