"""How a write changes a stored run command: what it keeps, who touched it, when it is refused."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.state import Audit, Caller, RunCommand
from pytest_runcommand.models import VirtualMachineRunCommandProperties, VirtualMachineRunCommandScriptSource

if TYPE_CHECKING:
    from pytest_runcommand.emulator.versions import Kept

__all__ = ["READ_ONLY_PROPERTIES", "WRITABLE_PROPERTIES", "keep", "refuse_while_deleting", "touch", "writable"]

READ_ONLY_PROPERTIES = frozenset({"provisioning_state", "instance_view"})
WRITABLE_PROPERTIES = tuple(
    name for name in VirtualMachineRunCommandProperties.model_fields if name not in READ_ONLY_PROPERTIES
)


def writable(properties: VirtualMachineRunCommandProperties | None) -> VirtualMachineRunCommandProperties:
    """A copy holding only the writable, known properties (read-only and unknown keys dropped)."""
    if properties is None:
        return VirtualMachineRunCommandProperties()
    kept = {
        name: getattr(properties, name)
        for name in properties.model_fields_set
        if name in WRITABLE_PROPERTIES and getattr(properties, name) is not None
    }
    return VirtualMachineRunCommandProperties.model_construct(**kept)


def touch(command: RunCommand, caller: Caller, now: datetime) -> None:
    if command.audit is None:
        command.audit = Audit(caller, now, caller, now)
    else:
        command.audit.last_modified_by, command.audit.last_modified_at = caller, now


def keep(
    stored: VirtualMachineRunCommandProperties, written: VirtualMachineRunCommandProperties, kept: Kept | None
) -> VirtualMachineRunCommandProperties:
    """``written`` with the stored values of the attributes ``kept`` names (a write at an older version)."""
    if kept is None or not (
        kept.properties & stored.model_fields_set
        or (stored.source is not None and kept.source & stored.source.model_fields_set)
    ):
        return written  # nothing newer is stored: nothing to keep (the usual case, kept cheap)
    values = {name: getattr(written, name) for name in written.model_fields_set}
    values.update({name: getattr(stored, name) for name in kept.properties & stored.model_fields_set})
    old, new = stored.source, written.source
    if old is not None and new is not None and kept.source:
        names = kept.source & old.model_fields_set
        if new.model_fields_set & kept.own_sources:  # the write names a script: a newer kind of source gives way
            names -= kept.sources
        if names:
            source = {name: getattr(new, name) for name in new.model_fields_set}
            source.update({name: getattr(old, name) for name in names})
            values["source"] = VirtualMachineRunCommandScriptSource.model_construct(**source)
    return VirtualMachineRunCommandProperties.model_construct(**values)


def refuse_while_deleting(command: RunCommand) -> None:
    """A write to a run command whose accepted DELETE is still running is a conflict (it would undo the delete)."""
    operation = command.operation
    if operation is not None and operation.kind == "delete" and not operation.done:
        raise errors.being_deleted(command.vm.run_command_type, command.name)
