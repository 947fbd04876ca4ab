"""Wire models of the rest of the run-command family: the action run command's input, the location catalogue's
documents, diagnostic run commands (2026-04-01) and the ARM common-types v3 error envelope they answer with.

The same conventions as :mod:`pytest_runcommand.models` (camelCase aliases, unknown keys kept, validated
assignment); ``RunCommandResult`` (the action's answer) lives there, beside ``InstanceViewStatus``.
"""

from __future__ import annotations

import enum
from typing import Any

from pydantic import Field, StrictBool, StrictStr

from pytest_runcommand.models import (
    RunCommandInputParameter,
    SystemData,
    VirtualMachineRunCommandProperties,
    WireModel,
)

__all__ = [
    "FAMILY_DEFINITIONS",
    "ErrorAdditionalInfo",
    "ErrorDetail",
    "ErrorResponse",
    "OperatingSystemTypes",
    "RunCommandDocument",
    "RunCommandDocumentBase",
    "RunCommandInput",
    "RunCommandListResult",
    "RunCommandParameterDefinition",
    "VirtualMachineDiagnosticRunCommand",
    "VirtualMachineDiagnosticRunCommandsListResult",
]


class OperatingSystemTypes(enum.StrEnum):
    """The OS a built-in run command is for (its result's shape follows it)."""

    WINDOWS = "Windows"
    LINUX = "Linux"


class RunCommandInput(WireModel):
    """Body of POST ``.../runCommand``: a built-in command id, script lines and named parameters."""

    command_id: StrictStr
    script: list[StrictStr] | None = None
    parameters: list[RunCommandInputParameter] | None = None


class RunCommandParameterDefinition(WireModel):
    """A parameter a built-in command declares."""

    name: StrictStr
    type: StrictStr
    default_value: StrictStr | None = None
    required: StrictBool | None = None


class RunCommandDocumentBase(WireModel):
    """A catalogue list entry: ``$schema``, ``id``, ``osType``, ``label``, ``description``."""

    schema_: StrictStr = Field(alias="$schema")
    id: StrictStr
    os_type: OperatingSystemTypes
    label: StrictStr
    description: StrictStr


class RunCommandDocument(RunCommandDocumentBase):
    """A built-in command's whole document (GET ``.../locations/{location}/runCommands/{commandId}``)."""

    script: list[StrictStr]
    parameters: list[RunCommandParameterDefinition] | None = None


class RunCommandListResult(WireModel):
    """A page of the catalogue."""

    value: list[RunCommandDocumentBase]
    next_link: StrictStr | None = None


class VirtualMachineDiagnosticRunCommand(WireModel):
    """A diagnostic run command (2026-04-01): a tracked resource with a managed run command's properties, not
    flattened by clients; ``id``, ``name``, ``type``, ``systemData`` are read-only."""

    id: StrictStr | None = None
    name: StrictStr | None = None
    type: StrictStr | None = None
    system_data: SystemData | None = None
    tags: dict[str, StrictStr] | None = None
    location: StrictStr
    properties: VirtualMachineRunCommandProperties | None = None


class VirtualMachineDiagnosticRunCommandsListResult(WireModel):
    """A page of diagnostic run commands."""

    value: list[VirtualMachineDiagnosticRunCommand]
    next_link: StrictStr | None = None


class ErrorAdditionalInfo(WireModel):
    """Extra information of an error, by type."""

    type: StrictStr | None = None
    info: dict[str, Any] | None = None


class ErrorDetail(WireModel):
    """What went wrong (ARM common types v3), with nested details."""

    code: StrictStr | None = None
    message: StrictStr | None = None
    target: StrictStr | None = None
    details: list[ErrorDetail] | None = None
    additional_info: list[ErrorAdditionalInfo] | None = None


class ErrorResponse(WireModel):
    """The error envelope of ARM common types v3 (diagnostic run commands): ``{"error": {...}}``."""

    error: ErrorDetail | None = None


FAMILY_DEFINITIONS: dict[str, type[WireModel]] = {
    cls.__name__: cls
    for cls in (
        RunCommandInput,
        RunCommandParameterDefinition,
        RunCommandDocumentBase,
        RunCommandDocument,
        RunCommandListResult,
        VirtualMachineDiagnosticRunCommand,
        VirtualMachineDiagnosticRunCommandsListResult,
        ErrorAdditionalInfo,
        ErrorDetail,
        ErrorResponse,
    )
}
"""Swagger definition name -> model, for the definitions these models cover (all in the 2026-04-01 contract)."""
