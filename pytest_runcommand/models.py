"""pydantic v2 models of the run-command wire format, plus test-body builders.

The models hold the fields of every supported api-version (``scriptShell`` and ``galleryScriptReferenceId`` from
2025-04-01, ``systemData`` from 2025-11-01 included); which of them a version defines is the contract's to say
(:func:`pytest_runcommand.contract.facts.definition_properties`).

Attributes are snake_case; the camelCase wire names are aliases. Every model keeps unknown keys
(``extra="allow"``) and uses strict scalar types, so for any schema-valid body ``b``::

    to_wire(from_wire(Model, b)) == b

date-time fields (``startTime``, ``endTime``, ``time``) stay strings, exactly as sent. Ranges (int32),
"exactly one script source" and similar prose rules are the contract engine's job, not the models'.
The builders :func:`patch_body` and :func:`put_body` return plain wire dicts for tests.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict, TypeVar, Unpack

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

__all__ = [
    "DEFINITIONS",
    "ApiError",
    "ApiErrorBase",
    "AsyncOperationStatus",
    "BodyOptions",
    "CloudError",
    "ExecutionState",
    "InnerError",
    "InstanceViewStatus",
    "OperationStatus",
    "OperationStatusProperties",
    "RunCommandInputParameter",
    "RunCommandManagedIdentity",
    "RunCommandResult",
    "ScriptShellTypes",
    "StatusLevelTypes",
    "SystemData",
    "VirtualMachineRunCommand",
    "VirtualMachineRunCommandInstanceView",
    "VirtualMachineRunCommandProperties",
    "VirtualMachineRunCommandScriptSource",
    "VirtualMachineRunCommandUpdate",
    "VirtualMachineRunCommandsListResult",
    "WireModel",
    "from_wire",
    "patch_body",
    "put_body",
    "to_wire",
]

M = TypeVar("M", bound="WireModel")


class WireModel(BaseModel):
    """Base of every wire model: camelCase aliases, unknown keys kept, fields settable by name.

    Assignments are validated; error messages never echo input values (they may be secrets).
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        validate_assignment=True,
        hide_input_in_errors=True,
    )


class ExecutionState(enum.StrEnum):
    """Script execution state (x-ms-enum ExecutionState)."""

    UNKNOWN = "Unknown"
    PENDING = "Pending"
    RUNNING = "Running"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    TIMED_OUT = "TimedOut"
    CANCELED = "Canceled"


class StatusLevelTypes(enum.StrEnum):
    """Level of an InstanceViewStatus (x-ms-enum StatusLevelTypes)."""

    INFO = "Info"
    WARNING = "Warning"
    ERROR = "Error"


class ScriptShellTypes(enum.StrEnum):
    """The shell a Windows script runs in (x-ms-enum ScriptShellTypes, from api-version 2025-04-01)."""

    DEFAULT = "Default"
    POWERSHELL7 = "Powershell7"


class OperationStatus(enum.StrEnum):
    """Status of an ARM asynchronous operation."""

    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"


class InnerError(WireModel):
    """Inner error details (common.json InnerError)."""

    exceptiontype: StrictStr | None = None
    errordetail: StrictStr | None = None


class ApiErrorBase(WireModel):
    """One detail of an API error."""

    code: StrictStr | None = None
    target: StrictStr | None = None
    message: StrictStr | None = None


class ApiError(WireModel):
    """An API error: code, message, target, details and inner error."""

    details: list[ApiErrorBase] | None = None
    innererror: InnerError | None = None
    code: StrictStr | None = None
    target: StrictStr | None = None
    message: StrictStr | None = None


class CloudError(WireModel):
    """The error envelope of every non-2xx response: ``{"error": {...}}``."""

    error: ApiError | None = None


class InstanceViewStatus(WireModel):
    """A status entry of an instance view."""

    code: StrictStr | None = None
    level: StatusLevelTypes | None = None
    display_status: StrictStr | None = None
    message: StrictStr | None = None
    time: StrictStr | None = None


class RunCommandInputParameter(WireModel):
    """A script parameter: name and value (both required)."""

    name: StrictStr
    value: StrictStr


class RunCommandManagedIdentity(WireModel):
    """A managed identity for blob access; empty means system-assigned."""

    client_id: StrictStr | None = None
    object_id: StrictStr | None = None


class VirtualMachineRunCommandScriptSource(WireModel):
    """Where the script comes from: ``script``, ``scriptUri``, ``commandId`` or (from 2025-04-01)
    ``galleryScriptReferenceId``; the contract checks there is one. ``scriptShell`` (from 2025-04-01) picks the shell.
    """

    script: StrictStr | None = None
    script_uri: StrictStr | None = None
    command_id: StrictStr | None = None
    script_uri_managed_identity: RunCommandManagedIdentity | None = None
    script_shell: ScriptShellTypes | None = None
    gallery_script_reference_id: StrictStr | None = None


class VirtualMachineRunCommandInstanceView(WireModel):
    """Execution state and streams of a run command (read-only, GET with ``$expand=instanceView``)."""

    execution_state: ExecutionState | None = None
    execution_message: StrictStr | None = None
    exit_code: StrictInt | None = None
    output: StrictStr | None = None
    error: StrictStr | None = None
    start_time: StrictStr | None = None
    end_time: StrictStr | None = None
    statuses: list[InstanceViewStatus] | None = None


class VirtualMachineRunCommandProperties(WireModel):
    """The ``properties`` of a run command; ``provisioningState`` and ``instanceView`` are read-only.

    The properties the contract marks secret (:func:`~pytest_runcommand.contract.facts.secret_properties`) are left out
    of ``repr``.
    """

    source: VirtualMachineRunCommandScriptSource | None = None
    parameters: list[RunCommandInputParameter] | None = None
    protected_parameters: list[RunCommandInputParameter] | None = Field(default=None, repr=False)
    async_execution: StrictBool | None = None
    run_as_user: StrictStr | None = None
    run_as_password: StrictStr | None = Field(default=None, repr=False)
    timeout_in_seconds: StrictInt | None = None
    output_blob_uri: StrictStr | None = None
    error_blob_uri: StrictStr | None = None
    output_blob_managed_identity: RunCommandManagedIdentity | None = None
    error_blob_managed_identity: RunCommandManagedIdentity | None = None
    provisioning_state: StrictStr | None = None
    instance_view: VirtualMachineRunCommandInstanceView | None = None
    treat_failure_as_deployment_failure: StrictBool | None = None


class VirtualMachineRunCommandUpdate(WireModel):
    """The PATCH body: ``tags`` and ``properties``."""

    tags: dict[str, StrictStr] | None = None
    properties: VirtualMachineRunCommandProperties | None = None


class SystemData(WireModel):
    """Who created and last modified a resource, and when (read-only; answers from 2025-11-01)."""

    created_by: StrictStr | None = None
    created_by_type: StrictStr | None = None
    created_at: StrictStr | None = None
    last_modified_by: StrictStr | None = None
    last_modified_by_type: StrictStr | None = None
    last_modified_at: StrictStr | None = None


class VirtualMachineRunCommand(WireModel):
    """The run-command resource (PUT body and every response); ``id``, ``name``, ``type``, ``systemData`` are
    read-only."""

    id: StrictStr | None = None
    name: StrictStr | None = None
    type: StrictStr | None = None
    location: StrictStr
    tags: dict[str, StrictStr] | None = None
    properties: VirtualMachineRunCommandProperties | None = None
    system_data: SystemData | None = None


class VirtualMachineRunCommandsListResult(WireModel):
    """A page of run commands."""

    value: list[VirtualMachineRunCommand]
    next_link: StrictStr | None = None


class RunCommandResult(WireModel):
    """What an action run command printed: status entries whose messages hold the output."""

    value: list[InstanceViewStatus] | None = None


class OperationStatusProperties(WireModel):
    """What a finished operation produced (an action run command's ``output``)."""

    output: RunCommandResult | None = None


class AsyncOperationStatus(WireModel):
    """Body of ``.../locations/{loc}/operations/{id}`` (the ``Azure-AsyncOperation`` URL)."""

    name: StrictStr | None = None
    status: OperationStatus
    start_time: StrictStr | None = None
    end_time: StrictStr | None = None
    error: ApiError | None = None
    properties: OperationStatusProperties | None = None


DEFINITIONS: dict[str, type[WireModel]] = {
    cls.__name__: cls
    for cls in (
        VirtualMachineRunCommandUpdate,
        VirtualMachineRunCommand,
        VirtualMachineRunCommandProperties,
        VirtualMachineRunCommandScriptSource,
        RunCommandInputParameter,
        RunCommandManagedIdentity,
        VirtualMachineRunCommandInstanceView,
        InstanceViewStatus,
        RunCommandResult,
        SystemData,
        VirtualMachineRunCommandsListResult,
        CloudError,
        ApiError,
        ApiErrorBase,
        InnerError,
        AsyncOperationStatus,
    )
}
"""Swagger definition name -> model (plus AsyncOperationStatus, which is not in the Swagger)."""


def to_wire(model: BaseModel) -> dict[str, Any]:
    """Dump ``model`` as its wire JSON: aliases, only the keys that were set, unknown keys kept."""
    return model.model_dump(by_alias=True, exclude_unset=True, mode="json")


def from_wire(cls: type[M], data: Mapping[str, Any] | str | bytes) -> M:
    """Parse a wire body (mapping, or JSON text/bytes) into ``cls``, matching keys by wire name only.

    A snake_case key on the wire is kept as an unknown key rather than taken for a field, so the
    round trip stays exact. Raises ``pydantic.ValidationError`` on a body of the wrong shape.
    """
    if isinstance(data, str | bytes):
        return cls.model_validate_json(data, by_alias=True, by_name=False)
    return cls.model_validate(data, by_alias=True, by_name=False)


Identity = RunCommandManagedIdentity | Mapping[str, str]
"""A managed identity: a model or a wire mapping like ``{"clientId": "..."}`` (``{}``: system-assigned)."""

Parameters = Mapping[str, str] | Iterable[tuple[str, str]]
"""Script parameters: ``{"name": "value"}`` or ``[("name", "value"), ...]`` (repeats allowed)."""


class BodyOptions(TypedDict, total=False):
    """Keyword arguments of :func:`patch_body` and :func:`put_body`; each maps to one wire property."""

    script: str
    script_uri: str
    command_id: str
    gallery_script_reference_id: str
    script_uri_managed_identity: Identity
    script_shell: str
    parameters: Parameters
    protected_parameters: Parameters
    run_as_user: str
    run_as_password: str
    timeout_in_seconds: int
    async_execution: bool
    treat_failure_as_deployment_failure: bool
    output_blob_uri: str
    error_blob_uri: str
    output_blob_managed_identity: Identity
    error_blob_managed_identity: Identity
    tags: Mapping[str, str]


_SOURCE_KEYS = ("script", "script_uri", "command_id", "gallery_script_reference_id")
_PARAMETER_KEYS = ("parameters", "protected_parameters")
_IDENTITY_KEYS = ("output_blob_managed_identity", "error_blob_managed_identity")
_PLAIN_KEYS = (
    "run_as_user",
    "run_as_password",
    "timeout_in_seconds",
    "async_execution",
    "treat_failure_as_deployment_failure",
    "output_blob_uri",
    "error_blob_uri",
)


def _parameters(value: Parameters) -> list[RunCommandInputParameter]:
    pairs = value.items() if isinstance(value, Mapping) else value
    return [RunCommandInputParameter(name=name, value=val) for name, val in pairs]


def _identity(value: Identity) -> RunCommandManagedIdentity:
    if isinstance(value, RunCommandManagedIdentity):
        return value
    return from_wire(RunCommandManagedIdentity, value)


def _properties(options: Mapping[str, Any]) -> VirtualMachineRunCommandProperties:
    unknown = sorted(set(options) - set(BodyOptions.__annotations__))
    if unknown:
        raise TypeError(f"unknown run-command option(s): {', '.join(unknown)}")
    sources = [key for key in _SOURCE_KEYS if options.get(key) is not None]
    if len(sources) != 1:
        raise ValueError(
            "give exactly one of script, script_uri, command_id, gallery_script_reference_id "
            f"(got {', '.join(sources) or 'none'})"
        )
    source = VirtualMachineRunCommandScriptSource(**{key: options[key] for key in sources})
    if options.get("script_shell") is not None:
        source.script_shell = options["script_shell"]
    if options.get("script_uri_managed_identity") is not None:
        source.script_uri_managed_identity = _identity(options["script_uri_managed_identity"])
    fields: dict[str, Any] = {"source": source}
    fields.update({key: _parameters(options[key]) for key in _PARAMETER_KEYS if options.get(key) is not None})
    fields.update({key: _identity(options[key]) for key in _IDENTITY_KEYS if options.get(key) is not None})
    fields.update({key: options[key] for key in _PLAIN_KEYS if options.get(key) is not None})
    return VirtualMachineRunCommandProperties(**fields)


def _tags(options: Mapping[str, Any]) -> dict[str, Any]:
    tags = options.get("tags")
    return {} if tags is None else {"tags": dict(tags)}


def patch_body(**options: Unpack[BodyOptions]) -> dict[str, Any]:
    """A valid PATCH (VirtualMachineRunCommandUpdate) wire body holding only the options given.

    Exactly one of ``script``, ``script_uri``, ``command_id``, ``gallery_script_reference_id`` is required
    (``ValueError`` otherwise); ``script_shell`` and the last one exist from api-version 2025-04-01::

        patch_body(script="echo hi", parameters={"a": "1"}, timeout_in_seconds=60)
        # {"properties": {"source": {"script": "echo hi"},
        #                 "parameters": [{"name": "a", "value": "1"}], "timeoutInSeconds": 60}}
    """
    properties = _properties({key: value for key, value in options.items() if key != "tags"})
    return to_wire(VirtualMachineRunCommandUpdate(properties=properties, **_tags(options)))


def put_body(location: str = "westus", **options: Unpack[BodyOptions]) -> dict[str, Any]:
    """A valid PUT (VirtualMachineRunCommand) wire body: ``location`` plus what :func:`patch_body` takes."""
    properties = _properties({key: value for key, value in options.items() if key != "tags"})
    return to_wire(VirtualMachineRunCommand(location=location, properties=properties, **_tags(options)))
