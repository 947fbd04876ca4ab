"""The wire models round-trip every documented body exactly, match the Swagger, and build valid test bodies."""

from __future__ import annotations

import enum
import json
import types
import typing
from pathlib import Path
from typing import Any

import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_data import ALL_EXAMPLES, DATA

from pytest_runcommand.family_models import FAMILY_DEFINITIONS
from pytest_runcommand.models import (
    DEFINITIONS,
    AsyncOperationStatus,
    CloudError,
    ExecutionState,
    OperationStatus,
    RunCommandManagedIdentity,
    StatusLevelTypes,
    VirtualMachineRunCommand,
    VirtualMachineRunCommandInstanceView,
    VirtualMachineRunCommandProperties,
    VirtualMachineRunCommandScriptSource,
    VirtualMachineRunCommandsListResult,
    VirtualMachineRunCommandUpdate,
    WireModel,
    from_wire,
    patch_body,
    put_body,
    to_wire,
)

SPECS = Path(__file__).parents[1] / "data" / "azure-rest-api-specs" / "specification" / "compute"
COMPUTE = SPECS / "resource-manager" / "Microsoft.Compute"
STABLE = COMPUTE / "ComputeRP" / "stable"

# "Sample request" / "Sample response" of the Update page (tests/data/reference/runcommands-update-api-doc.txt),
# kept as JSON text: the `\t` in the script is a JSON escape for a tab.
DOC_SAMPLE_REQUEST = r"""{
  "properties": {
    "source": {"script": "Write-Host Hello World! ; Remove-Item C:\test\testFile.txt"},
    "parameters": [{"name": "param1", "value": "value1"}, {"name": "param2", "value": "value2"}],
    "asyncExecution": false,
    "runAsUser": "user1",
    "runAsPassword": "<runAsPassword>",
    "timeoutInSeconds": 3600,
    "outputBlobUri": "https://mystorageaccount.blob.core.windows.net/myscriptoutputcontainer/outputUri",
    "errorBlobUri": "https://mystorageaccount.blob.core.windows.net/mycontainer/MyScriptError.txt",
    "errorBlobManagedIdentity": {"objectId": "4231e4d2-33e4-4e23-96b2-17888afa6072"}
  }
}"""

DOC_SAMPLE_RESPONSE = r"""{
  "name": "myRunCommand",
  "id": "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/virtualMachines/myVM/runCommands/myRunCommand",
  "type": "Microsoft.Compute/virtualMachines/runCommands",
  "location": "westus",
  "tags": {"tag1": "value1", "tag2": "value2"},
  "properties": {
    "source": {"script": "Write-Host Hello World! ; Remove-Item C:\test\testFile.txt"},
    "parameters": [{"name": "param1", "value": "value1"}, {"name": "param2", "value": "value2"}],
    "asyncExecution": false,
    "treatFailureAsDeploymentFailure": false,
    "runAsUser": "user1",
    "timeoutInSeconds": 3600,
    "provisioningState": "Updating",
    "outputBlobUri": "https://mystorageaccount.blob.core.windows.net/myscriptoutputcontainer/MyScriptoutput.txt",
    "errorBlobUri": "https://mystorageaccount.blob.core.windows.net/mycontainer/MyScriptError.txt"
  }
}"""

# Real responses (azure-powershell Set-AzVMRunCommand recording; azure-cli test_run_command_v2 recording).
POWERSHELL_PUT_RESPONSE = """{
  "name": "firstruncommand1",
  "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/testpwshellcompute/providers/Microsoft.Compute/virtualMachines/testpwshellvm/runCommands/firstruncommand1",
  "type": "Microsoft.Compute/virtualMachines/runCommands",
  "location": "eastus",
  "properties": {"source": {}, "timeoutInSeconds": 0, "provisioningState": "Updating", "asyncExecution": false}
}"""

POWERSHELL_OPERATION = """{
  "startTime": "2021-11-02T01:10:51.7983901+00:00",
  "endTime": "2021-11-02T01:10:53.1265265+00:00",
  "status": "Succeeded",
  "name": "88b89e75-6e14-4c3c-b2dc-f9670a377bb7"
}"""

CLI_INSTANCE_VIEW_RESPONSE = """{
  "name": "cmd-000003",
  "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-000002/runCommands/cmd-000003",
  "type": "Microsoft.Compute/virtualMachines/runCommands",
  "location": "westus",
  "properties": {
    "source": {}, "timeoutInSeconds": 0, "provisioningState": "Succeeded", "asyncExecution": false,
    "instanceView": {
      "exitCode": 0, "executionState": "Running",
      "executionMessage": "Execution failed: Either 'source.script' or 'source.scriptUri' has to be specified",
      "output": "", "error": "",
      "startTime": "2022-05-19T03:06:34+00:00", "endTime": "2022-05-19T03:06:34+00:00"
    }
  }
}"""

CLOUD_ERROR = """{
  "error": {
    "code": "BadRequest", "message": "Invalid run command.", "target": "properties.source",
    "details": [{"code": "Conflict", "message": "two sources", "target": "properties.source"}],
    "innererror": {"exceptiontype": "ArgumentException", "errordetail": "at Foo.Bar()"}
  }
}"""

INSTANCE_VIEW_WITH_STATUSES = """{
  "executionState": "TimedOut", "exitCode": -1,
  "statuses": [{"code": "ProvisioningState/failed", "level": "Error", "displayStatus": "Failed",
                "message": "timed out", "time": "2024-07-01T10:00:00.1234567Z"}]
}"""


def _example_files() -> list[Path]:
    return sorted(STABLE.glob("*/examples/runCommandExamples/*.json"))


_MANAGED = {
    f"{group}_{name}"
    for group in ("VirtualMachineRunCommands", "VirtualMachineScaleSetVMRunCommands")
    for name in ("CreateOrUpdate", "Update", "Delete", "GetByVirtualMachine", "ListByVirtualMachine", "Get", "List")
} - {"VirtualMachineRunCommands_Get", "VirtualMachineRunCommands_List"}  # those two are the catalogue's
"""The managed run-command operations, whose bodies these models describe."""
_OPERATION_OF_FILE = {
    "VirtualMachineRunCommand_Get": "VirtualMachineRunCommands_GetByVirtualMachine",
    "VirtualMachineRunCommand_Update": "VirtualMachineRunCommands_Update",
}
"""Examples stored without an operationId (2025-04-01 has some): the operation their file name stands for."""


def _bodies_of(example: dict[str, Any], stem: str = "") -> list[tuple[str, type[WireModel], Any]]:
    """(label, model, body) for the request body and every response body of one managed run-command example."""
    operation = example.get("operationId") or _OPERATION_OF_FILE.get(stem, stem)
    found: list[tuple[str, type[WireModel], Any]] = []
    if operation not in _MANAGED:
        return found
    request = example["parameters"].get("runCommand")
    model: type[WireModel]
    if request is not None:
        model = VirtualMachineRunCommandUpdate if operation.endswith("_Update") else VirtualMachineRunCommand
        found.append((f"{operation} request", model, request))
    for status, response in example["responses"].items():
        if "body" not in response:
            continue
        model = VirtualMachineRunCommandsListResult if "List" in operation else VirtualMachineRunCommand
        found.append((f"{operation} {status}", model, response["body"]))
    return found


def assert_round_trip(model: type[WireModel], body: Any) -> None:
    __tracebackhide__ = True
    assert to_wire(from_wire(model, body)) == body
    assert to_wire(from_wire(model, json.dumps(body))) == body


@pytest.mark.parametrize(
    ("model", "text"),
    [
        pytest.param(VirtualMachineRunCommandUpdate, DOC_SAMPLE_REQUEST, id="doc-sample-request"),
        pytest.param(VirtualMachineRunCommand, DOC_SAMPLE_RESPONSE, id="doc-sample-response"),
        pytest.param(VirtualMachineRunCommand, POWERSHELL_PUT_RESPONSE, id="powershell-empty-source"),
        pytest.param(AsyncOperationStatus, POWERSHELL_OPERATION, id="powershell-operation"),
        pytest.param(VirtualMachineRunCommand, CLI_INSTANCE_VIEW_RESPONSE, id="cli-instance-view"),
        pytest.param(CloudError, CLOUD_ERROR, id="cloud-error"),
        pytest.param(VirtualMachineRunCommandInstanceView, INSTANCE_VIEW_WITH_STATUSES, id="statuses"),
    ],
)
def test_documented_and_recorded_bodies_round_trip(model: type[WireModel], text: str) -> None:
    assert_round_trip(model, json.loads(text))


def test_doc_sample_script_holds_real_tabs() -> None:
    update = from_wire(VirtualMachineRunCommandUpdate, DOC_SAMPLE_REQUEST)
    assert update.properties is not None
    assert update.properties.source is not None
    assert update.properties.source.script == "Write-Host Hello World! ; Remove-Item C:\test\testFile.txt"
    assert "\t" in update.properties.source.script


def test_powershell_body_keeps_empty_source_and_zero_timeout() -> None:
    resource = from_wire(VirtualMachineRunCommand, POWERSHELL_PUT_RESPONSE)
    assert resource.properties is not None
    assert resource.properties.timeout_in_seconds == 0
    assert resource.properties.source == VirtualMachineRunCommandScriptSource()
    wire = to_wire(resource)
    assert wire["properties"]["source"] == {}
    assert wire["properties"]["timeoutInSeconds"] == 0


def test_readonly_fields_are_exposed_on_the_response_model() -> None:
    resource = from_wire(VirtualMachineRunCommand, CLI_INSTANCE_VIEW_RESPONSE)
    assert resource.name == "cmd-000003"
    assert resource.type == "Microsoft.Compute/virtualMachines/runCommands"
    assert resource.id is not None
    assert resource.id.endswith("/runCommands/cmd-000003")
    assert resource.properties is not None
    assert resource.properties.provisioning_state == "Succeeded"
    view = resource.properties.instance_view
    assert view is not None
    assert view.execution_state is ExecutionState.RUNNING
    assert view.exit_code == 0
    assert view.start_time == "2022-05-19T03:06:34+00:00"


def test_enums_and_operation_status_parse_to_members() -> None:
    view = from_wire(VirtualMachineRunCommandInstanceView, INSTANCE_VIEW_WITH_STATUSES)
    assert view.statuses is not None
    assert view.statuses[0].level is StatusLevelTypes.ERROR
    assert view.statuses[0].time == "2024-07-01T10:00:00.1234567Z"
    assert from_wire(AsyncOperationStatus, POWERSHELL_OPERATION).status is OperationStatus.SUCCEEDED
    with pytest.raises(pydantic.ValidationError):
        from_wire(AsyncOperationStatus, {"status": "Done"})


def _example_params() -> list[Any]:
    params = []
    for path in _example_files():
        version = path.parents[2].name
        for label, model, body in _bodies_of(json.loads(path.read_text(encoding="utf-8")), path.stem):
            params.append(pytest.param(model, body, id=f"{version}/{label}"))
    return params


@pytest.mark.parametrize(("model", "body"), _example_params())
def test_x_ms_examples_round_trip(model: type[WireModel], body: Any) -> None:
    assert_round_trip(model, body)


def test_x_ms_examples_are_present() -> None:
    names = {path.stem for path in _example_files()}
    assert {"VirtualMachineRunCommand_Get", "VirtualMachineRunCommand_List"} <= names
    assert len(_example_params()) >= 6


def test_unknown_keys_are_kept_and_snake_case_wire_keys_stay_unknown() -> None:
    body = {
        "location": "westus",
        "systemData": {"createdBy": "x", "nested": [1, None, 2.5]},
        "properties": {"timeoutInSeconds": 5, "timeout_in_seconds": 7, "futureFlag": True},
    }
    resource = from_wire(VirtualMachineRunCommand, body)
    assert resource.properties is not None
    assert resource.properties.timeout_in_seconds == 5
    assert to_wire(resource) == body


def test_explicit_nulls_round_trip() -> None:
    body = {"location": "westus", "tags": None, "properties": {"runAsUser": None, "instanceView": None}}
    assert_round_trip(VirtualMachineRunCommand, body)


@pytest.mark.parametrize(
    ("model", "body"),
    [
        pytest.param(VirtualMachineRunCommandProperties, {"timeoutInSeconds": "60"}, id="int-as-string"),
        pytest.param(VirtualMachineRunCommandProperties, {"timeoutInSeconds": True}, id="int-as-bool"),
        pytest.param(VirtualMachineRunCommandProperties, {"timeoutInSeconds": 1.5}, id="int-as-float"),
        pytest.param(VirtualMachineRunCommandProperties, {"asyncExecution": "false"}, id="bool-as-string"),
        pytest.param(VirtualMachineRunCommandProperties, {"runAsUser": 7}, id="str-as-int"),
        pytest.param(VirtualMachineRunCommandProperties, {"parameters": [{"name": "a"}]}, id="param-no-value"),
        pytest.param(VirtualMachineRunCommand, {"properties": {}}, id="no-location"),
        pytest.param(VirtualMachineRunCommandsListResult, {"nextLink": "x"}, id="list-no-value"),
        pytest.param(VirtualMachineRunCommandInstanceView, {"executionState": "Done"}, id="bad-enum"),
    ],
)
def test_wrong_shapes_are_rejected_not_coerced(model: type[WireModel], body: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        from_wire(model, body)


def test_int32_range_is_not_the_models_business() -> None:
    body = {"timeoutInSeconds": 2**31, "instanceView": {"exitCode": -(2**40)}}
    assert_round_trip(VirtualMachineRunCommandProperties, body)


def test_secrets_stay_out_of_repr_and_errors() -> None:
    properties = from_wire(
        VirtualMachineRunCommandProperties,
        {"runAsPassword": "hunter2", "protectedParameters": [{"name": "k", "value": "s3cr3t"}]},
    )
    assert "hunter2" not in repr(properties)
    assert "s3cr3t" not in repr(properties)
    with pytest.raises(pydantic.ValidationError) as caught:
        from_wire(VirtualMachineRunCommandProperties, {"runAsPassword": "hunter2", "timeoutInSeconds": "x"})
    assert "hunter2" not in str(caught.value)
    assert "timeoutInSeconds" in str(caught.value)


def test_assignment_is_validated_and_marks_the_field_set() -> None:
    view = VirtualMachineRunCommandInstanceView()
    view.execution_state = ExecutionState.SUCCEEDED
    view.exit_code = 0
    assert to_wire(view) == {"executionState": "Succeeded", "exitCode": 0}
    with pytest.raises(pydantic.ValidationError):
        view.exit_code = "zero"  # type: ignore[assignment]


def test_models_accept_python_names() -> None:
    identity = RunCommandManagedIdentity(client_id="c")
    assert to_wire(identity) == {"clientId": "c"}
    assert to_wire(RunCommandManagedIdentity()) == {}


# --- agreement with the official Swagger (tests/data copy) ---------------------------------------------


def _swagger_definitions() -> dict[str, dict[str, Any]]:
    """The newest hand-written official file (2025-04-01: scriptShell, galleryScriptReferenceId), the shared
    definitions from 2024-07-01's computeRPCommon.json (2025-04-01's is not stored) and common-types."""
    files = [
        STABLE / "2025-04-01" / "runCommand.json",
        STABLE / "2024-07-01" / "computeRPCommon.json",
        COMPUTE / "common-types" / "v1" / "common.json",
    ]
    definitions: dict[str, dict[str, Any]] = {}
    for path in files:
        for name, schema in json.loads(path.read_text(encoding="utf-8"))["definitions"].items():
            definitions.setdefault(name, schema)
    return definitions


def _flattened(definitions: dict[str, dict[str, Any]], name: str) -> tuple[dict[str, Any], set[str]]:
    """All properties and required names of a definition, its allOf parents included."""
    schema = definitions[name]
    properties = dict(schema.get("properties", {}))
    required = set(schema.get("required", []))
    for parent in schema.get("allOf", []):
        parent_properties, parent_required = _flattened(definitions, parent["$ref"].rsplit("/", 1)[-1])
        properties = {**parent_properties, **properties}
        required |= parent_required
    return properties, required


SWAGGER_MODELS = sorted(name for name in DEFINITIONS if name not in {"AsyncOperationStatus", "SystemData"})
BUNDLED_NAMES = {"AsyncOperationStatus": "OperationStatus"}
NEWER_THAN_2025_04_01 = {"VirtualMachineRunCommand": {"systemData"}}
"""What the models hold beyond the 2025-04-01 file: systemData, from 2025-11-01 (checked against the bundled contract)."""


def assert_model_matches(model: type[WireModel], properties: dict[str, Any], required: set[str]) -> None:
    __tracebackhide__ = True
    fields = {field.alias: field for field in model.model_fields.values()}
    assert set(fields) == set(properties)
    assert {alias for alias, field in fields.items() if field.is_required()} == required
    for alias, schema in properties.items():
        if schema is not None and "enum" in schema:
            enum_type = _enum_of(fields[alias].annotation)
            assert enum_type is not None, alias
            assert [member.value for member in enum_type] == schema["enum"], alias


@pytest.mark.parametrize("name", SWAGGER_MODELS)
def test_model_matches_official_swagger(name: str) -> None:
    properties, required = _flattened(_swagger_definitions(), name)
    newer = dict.fromkeys(NEWER_THAN_2025_04_01.get(name, ()))
    assert_model_matches(DEFINITIONS[name], {**properties, **newer}, required)


EVERY_MODEL = {**DEFINITIONS, **FAMILY_DEFINITIONS}
"""The run-command models and those of the rest of the family (action, catalogue, diagnostic, v3 errors)."""


@pytest.mark.parametrize("name", sorted(EVERY_MODEL))
def test_model_matches_bundled_contract(name: str) -> None:
    """The models hold every field of every version: those of the latest, a superset of the older ones."""
    from pytest_runcommand.contract import get_contract
    from pytest_runcommand.contract.facts import LATEST_API_VERSION

    definitions = get_contract(LATEST_API_VERSION).document["definitions"]
    properties, required = _flattened(definitions, BUNDLED_NAMES.get(name, name))
    assert_model_matches(EVERY_MODEL[name], properties, required)


def _enum_of(annotation: Any) -> type[enum.Enum] | None:
    for candidate in typing.get_args(annotation) or (annotation,):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return candidate
    return None


# --- property test: bodies generated from the models' own fields --------------------------------------

JSON_LEAVES = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _values_for(annotation: Any) -> st.SearchStrategy[Any]:
    """Wire values valid for one field annotation (Optional, list, dict, enum, nested model, scalars)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _values_for(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return st.one_of([_values_for(arg) for arg in typing.get_args(annotation)])
    if origin is list:
        return st.lists(_values_for(typing.get_args(annotation)[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=8), _values_for(typing.get_args(annotation)[1]), max_size=3)
    if annotation is type(None):
        return st.none()
    if annotation is typing.Any:
        return JSON_VALUES
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from([member.value for member in annotation])
    if isinstance(annotation, type) and issubclass(annotation, WireModel):
        return st.deferred(lambda: wire_bodies(annotation))  # lazily: ErrorDetail holds ErrorDetails
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=12),
        bool: st.booleans(),
        int: st.integers(min_value=-(2**40), max_value=2**40),
    }
    return scalars[annotation]


def wire_bodies(model: type[WireModel]) -> st.SearchStrategy[dict[str, Any]]:
    """Wire bodies for ``model``: required keys, any subset of optional keys, and some unknown keys."""
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in model.model_fields.values():
        assert field.alias is not None
        target = required if field.is_required() else optional
        target[field.alias] = _values_for(field.annotation)
    aliases = set(required) | set(optional)
    extras = st.dictionaries(st.text(max_size=10).filter(lambda key: key not in aliases), JSON_VALUES, max_size=2)
    known = st.fixed_dictionaries(required, optional=optional)
    return st.builds(lambda body, more: {**more, **body}, known, extras)


@pytest.mark.parametrize("name", sorted(EVERY_MODEL))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_generated_bodies_round_trip(name: str, data: st.DataObject) -> None:
    model = EVERY_MODEL[name]
    body = data.draw(wire_bodies(model), label=name)
    assert_round_trip(model, body)


# --- builders ------------------------------------------------------------------------------------------


def test_patch_body_holds_only_what_was_given() -> None:
    assert patch_body(script="echo hi") == {"properties": {"source": {"script": "echo hi"}}}


def test_patch_body_with_every_option() -> None:
    body = patch_body(
        script_uri="https://example.blob.core.windows.net/c/s.sh",
        script_uri_managed_identity={},
        parameters={"a": "1"},
        protected_parameters=[("secret", "x"), ("secret", "y")],
        run_as_user="azureuser",
        run_as_password="pw",
        timeout_in_seconds=0,
        async_execution=False,
        treat_failure_as_deployment_failure=True,
        output_blob_uri="https://example.blob.core.windows.net/c/out",
        error_blob_uri="https://example.blob.core.windows.net/c/err",
        output_blob_managed_identity={"clientId": "11111111-1111-1111-1111-111111111111"},
        error_blob_managed_identity=RunCommandManagedIdentity(object_id="22222222-2222-2222-2222-222222222222"),
        tags={"team": "qa"},
    )
    assert body == {
        "tags": {"team": "qa"},
        "properties": {
            "source": {
                "scriptUri": "https://example.blob.core.windows.net/c/s.sh",
                "scriptUriManagedIdentity": {},
            },
            "parameters": [{"name": "a", "value": "1"}],
            "protectedParameters": [{"name": "secret", "value": "x"}, {"name": "secret", "value": "y"}],
            "runAsUser": "azureuser",
            "runAsPassword": "pw",
            "timeoutInSeconds": 0,
            "asyncExecution": False,
            "treatFailureAsDeploymentFailure": True,
            "outputBlobUri": "https://example.blob.core.windows.net/c/out",
            "errorBlobUri": "https://example.blob.core.windows.net/c/err",
            "outputBlobManagedIdentity": {"clientId": "11111111-1111-1111-1111-111111111111"},
            "errorBlobManagedIdentity": {"objectId": "22222222-2222-2222-2222-222222222222"},
        },
    }
    assert_round_trip(VirtualMachineRunCommandUpdate, body)


def test_put_body_adds_location() -> None:
    assert put_body(command_id="RunShellScript") == {
        "location": "westus",
        "properties": {"source": {"commandId": "RunShellScript"}},
    }
    body = put_body(location="eastus", script="ls", tags={"a": "b"})
    assert body == {"location": "eastus", "tags": {"a": "b"}, "properties": {"source": {"script": "ls"}}}
    assert_round_trip(VirtualMachineRunCommand, body)


VM_RUN_COMMAND_URL = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        pytest.param("PATCH", patch_body(script="echo hi"), id="patch-minimal"),
        pytest.param(
            "PATCH",
            patch_body(
                script="echo hi",
                parameters={"a": "1"},
                protected_parameters={"secret": "x"},
                run_as_user="u",
                run_as_password="p",
                timeout_in_seconds=60,
                async_execution=True,
                treat_failure_as_deployment_failure=True,
                output_blob_uri="https://example.blob.core.windows.net/c/out",
                error_blob_uri="https://example.blob.core.windows.net/c/err",
                output_blob_managed_identity={},
                error_blob_managed_identity={"objectId": "o"},
                tags={"a": "b"},
            ),
            id="patch-full",
        ),
        pytest.param("PUT", put_body(command_id="RunShellScript"), id="put-command-id"),
        pytest.param(
            "PUT",
            put_body(script_uri="https://example.blob.core.windows.net/c/s.sh", script_uri_managed_identity={}),
            id="put-script-uri",
        ),
    ],
)
def test_builder_bodies_conform_to_the_contract(method: str, body: dict[str, Any]) -> None:
    from pytest_runcommand.contract import validate_request

    assert validate_request(method, VM_RUN_COMMAND_URL, body) == []


def test_builders_output_is_json_serialisable() -> None:
    body = patch_body(script="echo hi", parameters={"a": "1"})
    assert json.loads(json.dumps(body)) == body


@pytest.mark.parametrize(
    ("sources", "named"),
    [
        pytest.param({}, "none", id="no-source"),
        pytest.param({"script": "a", "command_id": "RunShellScript"}, "script, command_id", id="two"),
        pytest.param({"script": "a", "script_uri": "u", "command_id": "c"}, "script, script_uri", id="three"),
    ],
)
@pytest.mark.parametrize("builder", [patch_body, put_body])
def test_builders_want_exactly_one_source(builder: Any, sources: dict[str, str], named: str) -> None:
    with pytest.raises(
        ValueError, match="exactly one of script, script_uri, command_id, gallery_script_reference_id"
    ) as caught:
        builder(**sources)
    assert named in str(caught.value)


def test_empty_script_counts_as_given() -> None:
    assert patch_body(script="") == {"properties": {"source": {"script": ""}}}


def test_builders_reject_unknown_options() -> None:
    with pytest.raises(TypeError, match="scirpt"):
        patch_body(script="x", scirpt="y")  # type: ignore[call-arg]


def test_builders_reject_wrong_types() -> None:
    with pytest.raises(pydantic.ValidationError):
        patch_body(script="x", timeout_in_seconds="60")  # type: ignore[arg-type]


# --- the rest of the family: the catalogue the emulator serves and the action's recorded answers --------------


def test_the_emulators_catalogue_documents_parse_and_round_trip() -> None:
    from pytest_runcommand.emulator import catalogue
    from pytest_runcommand.family_models import OperatingSystemTypes, RunCommandDocument, RunCommandDocumentBase

    for entry in catalogue.entries():
        base = from_wire(RunCommandDocumentBase, entry)
        assert to_wire(base) == entry
        document = catalogue.document(entry["id"])
        assert document is not None
        parsed = from_wire(RunCommandDocument, document)
        assert parsed.os_type in OperatingSystemTypes
        assert to_wire(parsed) == document


@pytest.mark.parametrize(
    "path",
    [p for p in ALL_EXAMPLES if p.stem in ("RunCommand_List", "RunCommand_Get")],
    ids=lambda p: p.parent.parent.parent.name + "/" + p.stem,
)
def test_the_official_catalogue_examples_round_trip(path: Path) -> None:
    from pytest_runcommand.family_models import RunCommandDocument, RunCommandListResult

    body = json.loads(path.read_text())["responses"]["200"]["body"]
    model = RunCommandListResult if path.stem == "RunCommand_List" else RunCommandDocument
    assert to_wire(from_wire(model, body)) == body


def test_the_recorded_catalogue_parses() -> None:
    """The Azure CLI's recorded catalogue list and RunShellScript document (``"required": false``)."""
    import yaml

    from pytest_runcommand.family_models import RunCommandDocument, RunCommandListResult

    recording = DATA.parent / "contract" / "data" / "az-vm-run-command-e2e.runcommand-excerpt.yaml"
    interactions = yaml.safe_load(recording.read_text())["interactions"]
    bodies = {
        i["request"]["uri"].split("?")[0].rsplit("/", 1)[-1]: i["response"]["body"]["string"] for i in interactions
    }
    listed = from_wire(RunCommandListResult, bodies["runCommands"])
    assert {doc.id for doc in listed.value} >= {"RunShellScript", "RunPowerShellScript"}
    document = from_wire(RunCommandDocument, bodies["RunShellScript"])
    assert document.parameters is not None
    assert [p.required for p in document.parameters] == [False, False]


def test_a_run_command_input_needs_a_command_id() -> None:
    from pydantic import ValidationError

    from pytest_runcommand.family_models import RunCommandInput

    with pytest.raises(ValidationError):
        from_wire(RunCommandInput, {"script": ["echo hi"]})
    assert to_wire(RunCommandInput(command_id="RunShellScript", script=["echo hi"])) == {
        "commandId": "RunShellScript",
        "script": ["echo hi"],
    }
