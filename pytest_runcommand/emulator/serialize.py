"""Backend state -> wire JSON, the way Azure writes it, in the shape of the request's api-version.

Unset fields come back as Azure returns them (``source: {}``, ``timeoutInSeconds: 0``,
``asyncExecution: false``, ``treatFailureAsDeploymentFailure: false``), ``systemData`` says who created and last
modified the run command; then :func:`~pytest_runcommand.emulator.versions.shape` keeps what the version defines.
The secret properties (``x-ms-secret`` in the contract) never leave the backend: Azure does not return them, and
neither does this.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import orjson

from pytest_runcommand.emulator.clock import format_time
from pytest_runcommand.emulator.executor import ExecutionView
from pytest_runcommand.emulator.state import IN_PROGRESS_STATE, AsyncOperation, Audit, RunCommand
from pytest_runcommand.emulator.versions import (
    INSTANCE_VIEW,
    PROPERTIES,
    RESOURCE,
    SOURCE,
    defines,
    fields_at,
    shape_is_identity,
)
from pytest_runcommand.models import SystemData, VirtualMachineRunCommand

__all__ = [
    "action_result",
    "instance_view_to_wire",
    "list_to_wire",
    "operation_to_wire",
    "run_command_json",
    "run_command_to_wire",
]

_AFTER_STATE = ("outputBlobUri", "errorBlobUri", "outputBlobManagedIdentity", "errorBlobManagedIdentity")
_AFTER_STATE_SET = frozenset(_AFTER_STATE)
_WRITTEN_PROPERTIES = frozenset(
    {
        "source",
        "parameters",
        "asyncExecution",
        "treatFailureAsDeploymentFailure",
        "runAsUser",
        "timeoutInSeconds",
        "provisioningState",
        *_AFTER_STATE,
    }
)
"""The properties :func:`_wire_properties` can write."""
_EMPTY: dict[str, Any] = {}


def run_command_to_wire(
    command: RunCommand, *, instance_view_at: datetime | None = None, api_version: str | None = None
) -> dict[str, Any]:
    """The run-command resource (as ``api_version`` defines it; every field when None); with ``instance_view_at``,
    its instance view at that instant too."""
    cut = None if api_version is None else _CUTS.get(api_version) or _cut_at(api_version)
    wire_props = _wire_properties(command, command.provisioning_state, cut)
    if instance_view_at is not None and command.execution is not None:
        view = instance_view_to_wire(command.execution.view(instance_view_at))
        if cut is None or cut.complete:
            wire_props["instanceView"] = view
        elif "instanceView" in cut.properties:
            if not cut.instance_view.issuperset(view):
                view = {key: value for key, value in view.items() if key in cut.instance_view}
            wire_props["instanceView"] = view
    resource: dict[str, Any] = {
        "name": command.name,
        "id": command.resource_id,
        "type": command.vm.command_type(command.collection),
        "location": command.vm.location,
    }
    tags = command.tags
    if tags is not None:
        resource["tags"] = tags  # shared, as the source is
    resource["properties"] = wire_props
    if (cut is None or cut.system_data) and command.audit is not None:
        resource[_SYSTEM_DATA_KEY] = _system_data(command.audit)
    if cut is not None and not cut.complete and not cut.resource.issuperset(resource):
        resource = {key: value for key, value in resource.items() if key in cut.resource}
    return resource


def _wire_properties(command: RunCommand, state: str, cut: _Cut | None) -> dict[str, Any]:
    """The resource's ``properties`` but its instance view, with provisioning state ``state``, as ``cut`` (an
    api-version's; None: every field) defines them."""
    props = command.wire
    get = props.get
    parameters = get("parameters")
    source = get("source", _EMPTY)
    run_async = bool(get("asyncExecution"))
    treat_failure = bool(get("treatFailureAsDeploymentFailure"))
    timeout = get("timeoutInSeconds") or 0
    # each field in its place, written as one literal (no dict grown key by key): with or without parameters and
    # runAsUser
    wire_props: dict[str, Any]
    if parameters is not None:
        # each {"name", "value"}; shared as stored when every item is that already (stored values are never changed
        # in place, and an answer is only encoded)
        for parameter in parameters:
            if (
                type(parameter) is not dict
                or len(parameter) != 2
                or next(iter(parameter)) != "name"
                or "value" not in parameter
            ):
                parameters = [{"name": item["name"], "value": item["value"]} for item in parameters]
                break
        if "runAsUser" in props:
            wire_props = {
                "source": source,
                "parameters": parameters,
                "asyncExecution": run_async,
                "treatFailureAsDeploymentFailure": treat_failure,
                "runAsUser": props["runAsUser"],
                "timeoutInSeconds": timeout,
                "provisioningState": state,
            }
        else:
            wire_props = {
                "source": source,
                "parameters": parameters,
                "asyncExecution": run_async,
                "treatFailureAsDeploymentFailure": treat_failure,
                "timeoutInSeconds": timeout,
                "provisioningState": state,
            }
    elif "runAsUser" in props:
        wire_props = {
            "source": source,
            "asyncExecution": run_async,
            "treatFailureAsDeploymentFailure": treat_failure,
            "runAsUser": props["runAsUser"],
            "timeoutInSeconds": timeout,
            "provisioningState": state,
        }
    else:
        wire_props = {
            "source": source,
            "asyncExecution": run_async,
            "treatFailureAsDeploymentFailure": treat_failure,
            "timeoutInSeconds": timeout,
            "provisioningState": state,
        }
    if not _AFTER_STATE_SET.isdisjoint(props):
        for name in _AFTER_STATE:
            if name in props:
                wire_props[name] = props[name]
    if cut is None or cut.complete:
        return wire_props
    # what versions.shape gives, with the run command's layout known: each object cut to the fields the version
    # defines (a copy when a field goes; the stored source is never changed)
    source = wire_props["source"]
    if type(source) is dict and not cut.source.issuperset(source):
        wire_props["source"] = {key: value for key, value in source.items() if key in cut.source}
    if not cut.every_property and not cut.properties.issuperset(wire_props):
        return {key: value for key, value in wire_props.items() if key in cut.properties}
    return wire_props


def run_command_json(command: RunCommand, api_version: str) -> bytes:
    """``orjson.dumps(run_command_to_wire(command, api_version=api_version))``, remembered on the run command while
    what it shows stays the same but the time of its last change (clients repeat their PATCHes); made again from
    the parts that stay (:func:`_framed_json`) when its properties or tags change."""
    operation = command.operation
    if operation is not None and operation.status == "InProgress":
        state = IN_PROGRESS_STATE[operation.kind]
    else:
        state = command.final_state
    wire = command.wire
    if command.answered is not wire:
        # properties answered for the first time: not remembered (a client sending a new body each time never has
        # them answered again); the next answer of the same properties is
        command.answered = wire
        cut = _CUTS.get(api_version) or _cut_at(api_version)
        if cut.framed:
            return _framed_json(command, state, cut, api_version)
        return orjson.dumps(run_command_to_wire(command, api_version=api_version))
    audit = command.audit
    tags = command.tags
    vm = command.vm
    key = (
        api_version,
        state,
        vm,
        vm.location,
        command.name,
        command.collection,
        None if tags is None else tuple(tags.items()),
        None if audit is None else (audit.created_by, audit.created_at, audit.last_modified_by),
    )
    memo = command.answer
    if memo is not None and memo[0] is wire and memo[1] == key:
        _, _, text, shown, end = memo
        if end is not None:  # cut around the time
            assert audit is not None
            return b"%s%s%s" % (text, format_time(audit.last_modified_at).encode(), end)
        if shown is None or (audit is not None and shown == audit.last_modified_at):
            return text
        parts = _around(text, shown)  # shown again at another time: cut once, around the time it shows
        if parts is not None:
            command.answer = (memo[0], key, parts[0], None, parts[1])
            assert audit is not None
            return b"%s%s%s" % (parts[0], format_time(audit.last_modified_at).encode(), parts[1])
    cut = _CUTS.get(api_version) or _cut_at(api_version)
    if cut.framed:
        content = _framed_json(command, state, cut, api_version)
    else:
        content = orjson.dumps(run_command_to_wire(command, api_version=api_version))
    if tags is None or set(map(type, tags.values())) <= _STR:  # (others could equal in another order)
        shown = None if audit is None or not cut.system_data else audit.last_modified_at
        command.answer = (wire, key, content, shown, None)
    return content


def _framed_json(command: RunCommand, state: str, cut: _Cut, api_version: str) -> bytes:
    """:func:`run_command_json`'s text made from its parts: the resource's fields before its tags and its
    ``systemData`` but the time of the last change are remembered on the run command (the frame, made again when
    what they show changes: the version, VM, location, name, collection and who created and last changed it); the
    tags and properties are encoded each time."""
    audit = command.audit
    vm = command.vm
    frame_key = (
        api_version,
        vm,
        vm.location,
        command.name,
        command.collection,
        None if audit is None else (audit.created_by, audit.created_at, audit.last_modified_by),
    )
    frame = command.frame
    if frame is None or frame[0] != frame_key:
        head = orjson.dumps(
            {
                "name": command.name,
                "id": command.resource_id,
                "type": command.vm.command_type(command.collection),
                "location": command.vm.location,
            }
        )[:-1]  # (without its closing brace)
        system = b""
        if cut.system_data and audit is not None:
            # its last field is the time of the last change: kept up to the quote that opens its value
            text = orjson.dumps({_SYSTEM_DATA_KEY: _system_data(audit)})
            system = b",%s" % text[1 : len(text) - len(format_time(audit.last_modified_at)) - 3]
        frame = command.frame = (frame_key, head, system)
    tags = command.tags
    properties = _wire_properties(command, state, cut)
    # the tags and properties in one call: '{"tags":...,"properties":...}', its braces cut
    fields = orjson.dumps({"properties": properties} if tags is None else {"tags": tags, "properties": properties})
    if frame[2]:
        assert audit is not None
        return b'%s,%s%s%s"}}' % (frame[1], fields[1:-1], frame[2], format_time(audit.last_modified_at).encode())
    return b"%s,%s" % (frame[1], fields[1:])


_STR = {str}


def _around(content: bytes, last_change: datetime) -> tuple[bytes, bytes] | None:
    """``content`` cut around the time of the ``last_change`` it shows (None when that time is not found once)."""
    moment = format_time(last_change).encode()
    needle = b'"%s":"%s"' % (_LAST_MODIFIED_AT.encode(), moment)
    if content.count(needle) != 1:
        return None
    at = content.index(needle) + len(needle) - 1 - len(moment)
    return content[:at], content[at + len(moment) :]


class _Cut(NamedTuple):
    """What an api-version's run command holds: the fields of each object :func:`versions.shape` cuts."""

    complete: bool
    """Nothing to cut (the version defines every field)."""
    framed: bool
    """Whether the resource holds each of its fields at this version (:func:`_framed_json` writes them)."""
    system_data: bool
    every_property: bool
    """Whether the version defines each property :func:`_wire_properties` writes (nothing of them to cut)."""
    resource: frozenset[str]
    properties: frozenset[str]
    source: frozenset[str]
    instance_view: frozenset[str]


_CUTS: dict[str, _Cut] = {}


def _cut_at(api_version: str) -> _Cut:
    resource = fields_at(api_version, RESOURCE)
    system_data = defines(api_version, RESOURCE, _SYSTEM_DATA_KEY)
    found = _Cut(
        shape_is_identity(api_version),
        resource.issuperset(_FRAMED) and (not system_data or _SYSTEM_DATA_KEY in resource),
        system_data,
        fields_at(api_version, PROPERTIES).issuperset(_WRITTEN_PROPERTIES),
        fields_at(api_version, RESOURCE),
        fields_at(api_version, PROPERTIES),
        fields_at(api_version, SOURCE),
        fields_at(api_version, INSTANCE_VIEW),
    )
    _CUTS[api_version] = found
    return found


_SYSTEM_DATA_KEY = VirtualMachineRunCommand.model_fields["system_data"].alias or "system_data"
_FRAMED = ("name", "id", "type", "location", "tags", "properties")
"""The resource's fields :func:`_framed_json` writes (and ``systemData`` where the version defines it)."""
_SYSTEM_DATA = {name: field.alias or name for name, field in SystemData.model_fields.items()}
"""SystemData attribute -> wire name (from the model, so no name is typed twice)."""


def _system_data(audit: Audit) -> dict[str, Any]:
    return {
        _CREATED_BY: audit.created_by.name,
        _CREATED_BY_TYPE: audit.created_by.kind,
        _CREATED_AT: format_time(audit.created_at),
        _LAST_MODIFIED_BY: audit.last_modified_by.name,
        _LAST_MODIFIED_BY_TYPE: audit.last_modified_by.kind,
        _LAST_MODIFIED_AT: format_time(audit.last_modified_at),
    }


_CREATED_BY, _CREATED_BY_TYPE, _CREATED_AT = (
    _SYSTEM_DATA[name] for name in ("created_by", "created_by_type", "created_at")
)
_LAST_MODIFIED_BY, _LAST_MODIFIED_BY_TYPE, _LAST_MODIFIED_AT = (
    _SYSTEM_DATA[name] for name in ("last_modified_by", "last_modified_by_type", "last_modified_at")
)


def instance_view_to_wire(view: ExecutionView) -> dict[str, Any]:
    """The ``instanceView`` object for one execution state."""
    wire: dict[str, Any] = {}
    if view.exit_code is not None:
        wire["exitCode"] = view.exit_code
    wire["executionState"] = view.state
    wire["executionMessage"] = view.message
    wire["output"] = view.output
    wire["error"] = view.error
    if view.start_time is not None:
        wire["startTime"] = format_time(view.start_time)
    if view.end_time is not None:
        wire["endTime"] = format_time(view.end_time)
    if view.failed:
        status: dict[str, Any] = {
            "code": f"ProvisioningState/{view.state.lower()}",
            "level": "Error",
            "displayStatus": "Provisioning failed" if view.state == "Failed" else "Provisioning timed out",
            "message": view.message,
        }
        moment = view.end_time or view.start_time
        if moment is not None:
            status["time"] = format_time(moment)
        wire["statuses"] = [status]
    return wire


def list_to_wire(
    commands: list[RunCommand],
    next_link: str | None,
    *,
    instance_view_at: datetime | None = None,
    api_version: str | None = None,
) -> dict[str, Any]:
    """One page of a list: ``{"value": [...], "nextLink"?: ...}``."""
    page: dict[str, Any] = {
        "value": [
            run_command_to_wire(command, instance_view_at=instance_view_at, api_version=api_version)
            for command in commands
        ]
    }
    if next_link is not None:
        page["nextLink"] = next_link
    return page


def operation_to_wire(operation: AsyncOperation) -> dict[str, Any]:
    """The async-operation status body: ``startTime``, ``endTime`` (once done), ``status``, ``name``."""
    wire: dict[str, Any] = {"startTime": format_time(operation.started_at)}
    if operation.ended_at is not None:
        wire["endTime"] = format_time(operation.ended_at)
    wire["status"] = operation.status
    if operation.error is not None:
        wire["error"] = {"code": operation.error.code, "message": operation.error.message}
    result = action_result(operation)
    if result is not None:
        wire["properties"] = {"output": result}
    wire["name"] = operation.id
    return wire


LINUX_STDOUT_TAIL = 4096
"""Bytes of stdout a Linux action result keeps (the last ones), as recorded."""


def action_result(operation: AsyncOperation) -> dict[str, Any] | None:
    """The RunCommandResult of a finished action run command (None for other operations, or not finished yet).

    As recorded (VERSIONS.md, "Action run command: result shapes"): Windows, two entries ``ComponentStatus/StdOut``
    and ``ComponentStatus/StdErr`` holding the bare stream text (no trailing newline); Linux, one
    ``ProvisioningState`` entry reading ``Enable succeeded: \n[stdout]\n...\n[stderr]\n...`` with the last 4,096
    bytes of stdout. A Linux script that exits non-zero reads ``Enable failed: ...`` with ``ProvisioningState/failed``
    (the extension's wording; not in the recordings).
    """
    if operation.os_type is None or operation.execution is None or operation.ended_at is None:
        return None
    view = operation.execution.view(operation.ended_at)
    if operation.os_type == "Windows":
        return {
            "value": [
                _status(f"ComponentStatus/{stream}/succeeded", "Info", "Provisioning succeeded", text.rstrip("\n"))
                for stream, text in (("StdOut", view.output), ("StdErr", view.error))
            ]
        }
    stdout = view.output.encode()[-LINUX_STDOUT_TAIL:].decode(errors="ignore")
    streams = f"\n[stdout]\n{stdout}\n[stderr]\n{view.error}"
    if view.failed:
        reason = view.message if view.state == "TimedOut" else f"command terminated with exit status={view.exit_code}"
        message = f"Enable failed: failed to execute command: {reason}{streams}"
        return {"value": [_status("ProvisioningState/failed", "Error", "Provisioning failed", message)]}
    return {
        "value": [
            _status("ProvisioningState/succeeded", "Info", "Provisioning succeeded", f"Enable succeeded: {streams}")
        ]
    }


def _status(code: str, level: str, display: str, message: str) -> dict[str, str]:
    return {"code": code, "level": level, "displayStatus": display, "message": message}
