"""The emulator's state, as plain data: settings, VM references, VMs, run commands and async operations.

:class:`~pytest_runcommand.emulator.backend.Backend` holds and changes them; nothing here does HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.executor import Execution, execution, plain_outcome, script_run
from pytest_runcommand.models import VirtualMachineRunCommandProperties, from_wire

__all__ = [
    "DIAGNOSTIC",
    "IN_PROGRESS_STATE",
    "MANAGED",
    "MAX_BODY_BYTES",
    "AsyncOperation",
    "Audit",
    "Caller",
    "EmulatorSettings",
    "OperationKind",
    "ParentRef",
    "RunCommand",
    "VirtualMachine",
    "action_command",
    "new_operation",
    "normalize_location",
    "script_run_values",
]

OperationKind = Literal["create", "update", "delete", "action"]
IN_PROGRESS_STATE: dict[OperationKind, str] = {
    "create": "Creating",
    "update": "Updating",
    "delete": "Deleting",
    "action": "Running",
}
"""A run command's ``provisioningState`` while its latest operation of each kind is in progress."""


def normalize_location(location: str) -> str:
    """ARM's canonical location name: ``"West US"`` -> ``"westus"``."""
    return "".join(location.split()).lower()


MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest request body the emulator takes (4 MiB, as ARM): a larger one answers 413 RequestEntityTooLarge.
:attr:`EmulatorSettings.max_body_bytes` defaults to it; the contract's command reads it from there."""


@dataclass
class EmulatorSettings:
    """Knobs of the emulator; change them on ``backend.settings`` at any time."""

    auto_create_vms: bool = True
    """A VM comes into being on first use; when False, unknown VMs answer 404 ParentResourceNotFound."""
    default_location: str = "westus"
    """Location of auto-created VMs (unless their first request is a PUT naming a location)."""
    lro_polls: int = 0
    """How many polls of an operation answer ``InProgress`` before it can finish."""
    lro_seconds: float = 15.0
    """Simulated seconds after which an operation finishes even if nobody polls it."""
    retry_after: int | None = 0
    """``Retry-After`` seconds on async answers (None: no header, like Azure)."""
    page_size: int = 50
    """Run commands per page of a list; more pages are reached through ``nextLink``."""
    strict: bool = True
    """Reject read-only properties in requests (the contract's code); False drops them, as Azure does."""
    max_body_bytes: int = MAX_BODY_BYTES
    """Bodies larger than this answer 413 (default :data:`MAX_BODY_BYTES`)."""
    max_operations: int = 10_000
    """Finished async operations kept for polling; older ones are forgotten (bounded memory)."""


@dataclass(frozen=True)
class ParentRef:
    """The VM a run command belongs to: a virtual machine, or a scale-set VM when ``instance_id`` is set."""

    subscription: str
    resource_group: str
    vm_name: str
    """The VM name, or the scale-set name for a scale-set VM."""
    instance_id: str | None = None
    key: tuple[str, ...] = field(init=False, repr=False, compare=False)
    """Case-insensitive identity, as ARM compares names (worked out once: a plain attribute, read on every write)."""

    def __post_init__(self) -> None:
        parts = (self.subscription, self.resource_group, self.vm_name, self.instance_id or "")
        object.__setattr__(self, "key", tuple(part.lower() for part in parts))

    @property
    def display_name(self) -> str:
        return self.vm_name if self.instance_id is None else f"{self.vm_name}/{self.instance_id}"

    @property
    def resource_id(self) -> str:
        """The canonical resource id of the VM."""
        found: str | None = self.__dict__.get("_resource_id")
        if found is None:
            base = (
                f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/Microsoft.Compute"
            )
            if self.instance_id is None:
                found = f"{base}/virtualMachines/{self.vm_name}"
            else:
                found = f"{base}/virtualMachineScaleSets/{self.vm_name}/virtualMachines/{self.instance_id}"
            object.__setattr__(self, "_resource_id", found)
        return found

    @classmethod
    def parse(cls, resource_id: str) -> ParentRef:
        """Parse a VM or scale-set VM resource id (segment names are case-insensitive)."""
        parts = [part for part in resource_id.strip().split("/") if part]
        lowered = [part.lower() for part in parts]
        shape_vm = ["subscriptions", None, "resourcegroups", None, "providers", "microsoft.compute", "virtualmachines"]
        shape_vmss = [*shape_vm[:6], "virtualmachinescalesets", None, "virtualmachines"]
        for shape in (shape_vm, shape_vmss):
            if len(parts) == len(shape) + 1 and all(
                want is None or got == want for want, got in zip(shape, lowered, strict=False)
            ):
                if shape is shape_vm:
                    return cls(parts[1], parts[3], parts[7])
                return cls(parts[1], parts[3], parts[7], parts[9])
        raise ValueError(
            f"not a virtual machine resource id: {resource_id!r} (expected /subscriptions/{{sub}}/resourceGroups/"
            "{rg}/providers/Microsoft.Compute/virtualMachines/{vm} or .../virtualMachineScaleSets/{ss}/"
            "virtualMachines/{instanceId})"
        )


MANAGED = "runCommands"
"""The collection of managed run commands (``.../runCommands``)."""
DIAGNOSTIC = "diagnosticRunCommands"
"""The collection of diagnostic run commands (``.../diagnosticRunCommands``, api-version 2026-04-01)."""


@dataclass(eq=False)
class VirtualMachine:
    """A VM (or scale-set VM) that run commands can be attached to."""

    ref: ParentRef
    location: str
    run_commands: dict[str, RunCommand] = field(default_factory=dict)
    """Run commands by lower-cased name, in creation order."""
    diagnostic_run_commands: dict[str, RunCommand] = field(default_factory=dict)
    """Diagnostic run commands by lower-cased name, in creation order (their own namespace)."""

    @property
    def resource_id(self) -> str:
        return self.ref.resource_id

    def commands(self, collection: str | None = MANAGED) -> dict[str, RunCommand]:
        """The run commands of ``collection`` (:data:`MANAGED` or :data:`DIAGNOSTIC`), by lower-cased name."""
        return self.diagnostic_run_commands if collection == DIAGNOSTIC else self.run_commands

    def command_type(self, collection: str | None = MANAGED) -> str:
        """The resource type of the VM's run commands of ``collection``."""
        vm = self.ref.instance_id is None
        found = _COMMAND_TYPES.get((vm, collection or MANAGED))
        if found is None:
            parent = "virtualMachines" if vm else "virtualMachineScaleSets/virtualMachines"
            found = f"Microsoft.Compute/{parent}/{collection or MANAGED}"
        return found

    @property
    def run_command_type(self) -> str:
        return self.command_type(MANAGED)


_COMMAND_TYPES = {
    (vm, collection): f"Microsoft.Compute/{'virtualMachines' if vm else 'virtualMachineScaleSets/virtualMachines'}"
    f"/{collection}"
    for vm in (True, False)
    for collection in (MANAGED, DIAGNOSTIC)
}


@dataclass(eq=False, slots=True)
class AsyncOperation:
    """An ARM asynchronous operation (what ``Azure-AsyncOperation`` points to), and the record of the script run it
    started. Slotted: one per write, thousands kept (a third of the memory of an instance dict, which a PATCH writes
    and frees cold).

    A write's script run is recorded here (:meth:`defer_run`) and its :class:`Execution` (with its ``ScriptRun``) made
    when first read: a write that nobody polls makes one object, not three."""

    id: str
    kind: OperationKind
    subscription: str
    location: str
    started_at: datetime
    due_at: datetime
    polls_needed: int
    target: RunCommand
    polls: int = 0
    status: str = "InProgress"
    ended_at: datetime | None = None
    error: errors.ArmError | None = None
    os_type: str | None = None
    """An action run command's OS (``Linux`` or ``Windows``: the shape of its result); None for other kinds."""
    _execution: Execution | None = field(default=None, repr=False)
    _run: tuple[dict[str, Any], str] | None = field(default=None, repr=False)
    """A deferred script run: the properties it ran and the run command's name then (:meth:`defer_run`)."""

    @property
    def done(self) -> bool:
        return self.status != "InProgress"

    @property
    def execution(self) -> Execution | None:
        """The script run this operation started (None for a delete), made on first read when it was deferred."""
        found = self._execution
        if found is None and self._run is not None:
            properties, name = self._run
            target = self.target
            request = script_run(self.started_at, script_run_values(target, properties, name))
            found = self._execution = execution(request, plain_outcome(request))
            self._run = None
        return found

    @execution.setter
    def execution(self, value: Execution | None) -> None:
        self._execution = value
        self._run = None

    def defer_run(self, properties: dict[str, Any], name: str) -> None:
        """Record that the run command ``name`` ran ``properties`` (its wire JSON, never changed in place) at
        :attr:`started_at`, with the executor's plain outcome: its execution is made when first read."""
        self._execution = None
        self._run = (properties, name)


_new = object.__new__


def new_operation(
    operation_id: str,
    kind: OperationKind,
    subscription: str,
    location: str,
    started_at: datetime,
    due_at: datetime,
    polls_needed: int,
    target: RunCommand,
    run: tuple[dict[str, Any], str] | None,
) -> AsyncOperation:
    """``AsyncOperation(operation_id, kind, subscription, location, started_at, due_at, polls_needed, target)`` with
    ``run`` deferred (:meth:`AsyncOperation.defer_run`), its slots stored one by one into a bare instance: the same
    operation without the class call's trip through ``__init__`` (one per write)."""
    operation: AsyncOperation = _new(AsyncOperation)
    operation.id = operation_id
    operation.kind = kind
    operation.subscription = subscription
    operation.location = location
    operation.started_at = started_at
    operation.due_at = due_at
    operation.polls_needed = polls_needed
    operation.target = target
    operation.polls = 0
    operation.status = "InProgress"
    operation.ended_at = None
    operation.error = None
    operation.os_type = None
    operation._execution = None
    operation._run = run
    return operation


def action_command(vm: VirtualMachine, wire: dict[str, Any]) -> RunCommand:
    """``RunCommand(vm, "runCommand", wire, collection=None)``, the transient run command of an action (POST
    ``.../runCommand``): its own fields stored into a bare instance, the others read from the class's defaults (no
    trip through ``__init__``: one per action)."""
    command: RunCommand = _new(RunCommand)
    command.vm = vm
    command.name = "runCommand"
    command.wire = wire
    command.collection = None
    return command


class Caller(NamedTuple):
    """Who sent a write: an identity and its kind (``User``, ``Application``, ``ManagedIdentity``, ``Key``)."""

    name: str
    kind: str


@dataclass
class Audit:
    """Who created and last modified a resource, and when (what ``systemData`` shows)."""

    created_by: Caller
    created_at: datetime
    last_modified_by: Caller
    last_modified_at: datetime


@dataclass(eq=False)
class RunCommand:
    """A run command resource: writable properties (secrets included), tags, and its latest operation."""

    vm: VirtualMachine
    name: str
    wire: dict[str, Any] = field(repr=False)
    """The writable properties as wire JSON (camelCase names, in the model's field order, secrets included): the
    stored state. Replaced, never changed in place, by each write."""
    tags: dict[str, str] | None = None
    operation: AsyncOperation | None = None
    final_state: str = "Succeeded"
    """provisioningState once the latest operation has completed."""
    audit: Audit | None = None
    collection: str | None = MANAGED
    """The VM's collection holding it (``runCommands``, ``diagnosticRunCommands``); None for an action run
    command (POST ``.../runCommand``: no resource, its id is the action's path)."""
    _model: tuple[dict[str, Any], VirtualMachineRunCommandProperties] | None = field(
        default=None, init=False, repr=False
    )
    last_patch: tuple[bytes, dict[str, Any]] | None = field(default=None, init=False, repr=False)
    """The JSON text of the latest PATCH merged (as :meth:`Backend.update` got it) and the properties it made."""
    script_run: tuple[dict[str, Any], tuple[Any, ...]] | None = field(default=None, init=False, repr=False)
    """The properties of the latest script run and the fields of its request but the time (in the order of
    :data:`~pytest_runcommand.emulator.executor.SCRIPT_RUN_FIELDS`: a write that leaves them as they were runs the
    same script)."""
    answer: tuple[dict[str, Any], tuple[Any, ...], bytes, datetime | None, bytes | None] | None = field(
        default=None, init=False, repr=False
    )
    """The latest answer (:func:`~pytest_runcommand.emulator.serialize.run_command_json`): the properties and what
    else it showed, its text and the time of the last change it shows (or, once shown at another time, its text
    before that time, None, and its text after)."""
    answered: dict[str, Any] | None = field(default=None, init=False, repr=False)
    """The properties of the latest answer (remembered in :attr:`answer` once answered twice)."""
    frame: tuple[tuple[Any, ...], bytes, bytes] | None = field(default=None, init=False, repr=False)
    """The parts of its answer that a change of properties or tags leaves
    (:func:`~pytest_runcommand.emulator.serialize.run_command_json`): what they show, the text before the tags, and
    the ``systemData`` field up to the time of the last change (empty when not shown)."""
    _id: tuple[VirtualMachine, str | None, str, str] | None = field(default=None, init=False, repr=False)
    """The resource id, with the VM, collection and name it was made of (worked out again if one changes)."""
    ran: AsyncOperation | Execution | None = field(default=None, init=False, repr=False)
    """The latest script run: the operation that started it (its execution made when read), or an execution set."""

    @property
    def execution(self) -> Execution | None:
        """The latest script run (a PUT's, PATCH's or action's), None before the first."""
        ran = self.ran
        if ran is None or type(ran) is not AsyncOperation:
            return ran  # type: ignore[return-value]
        return ran.execution

    @execution.setter
    def execution(self, value: Execution | None) -> None:
        self.ran = value

    @property
    def properties(self) -> VirtualMachineRunCommandProperties:
        """The writable properties as the shared pydantic model (built on first read after a write; a copy: assign
        a new model to change them)."""
        cached = self._model
        if cached is None or cached[0] is not self.wire:
            cached = (self.wire, from_wire(VirtualMachineRunCommandProperties, self.wire))
            self._model = cached
        return cached[1]

    @properties.setter
    def properties(self, value: VirtualMachineRunCommandProperties) -> None:
        from pytest_runcommand.emulator.writes import writable

        self.wire = writable(value)

    @property
    def resource_id(self) -> str:
        found = self._id
        if found is not None and found[0] is self.vm and found[1] == self.collection and found[2] == self.name:
            return found[3]
        if self.collection is None:
            resource_id = f"{self.vm.resource_id}/{self.name}"
        else:
            resource_id = f"{self.vm.resource_id}/{self.collection}/{self.name}"
        self._id = (self.vm, self.collection, self.name, resource_id)
        return resource_id

    @property
    def location(self) -> str:
        return self.vm.location

    @property
    def provisioning_state(self) -> str:
        operation = self.operation
        if operation is not None and operation.status == "InProgress":  # not operation.done
            return IN_PROGRESS_STATE[operation.kind]
        return self.final_state


_NO_SOURCE: dict[str, Any] = {}


def script_run_values(command: RunCommand, properties: dict[str, Any], name: str) -> tuple[Any, ...]:
    """The fields of the :class:`~pytest_runcommand.emulator.executor.ScriptRun` of ``command`` (then named
    ``name``) running ``properties`` but its time, in the order of
    :data:`~pytest_runcommand.emulator.executor.SCRIPT_RUN_FIELDS` (remembered on the run command while they are its
    properties: the same request run again)."""
    last = command.script_run
    if last is not None and last[0] is properties and last[1][1] == name:
        return last[1]
    get = properties.get
    source = get("source") or _NO_SOURCE
    source_get = source.get
    parameters = get("parameters")
    protected = get(_PROTECTED)
    timeout = get("timeoutInSeconds") or 0
    vm = command.vm
    if command.collection is None:
        resource_id = f"{vm.resource_id}/{name}"
    else:
        resource_id = f"{vm.resource_id}/{command.collection}/{name}"
    values = (
        resource_id,
        name,
        source_get("script"),
        source_get("scriptUri"),
        source_get("commandId"),
        source_get("galleryScriptReferenceId"),
        source_get("scriptShell"),
        tuple(map(_NAME_AND_VALUE, parameters)) if parameters else (),
        tuple(map(_NAME_AND_VALUE, protected)) if protected else (),
        get("runAsUser"),
        timeout if timeout > 0 else 0,  # max(0, timeout)
        bool(get("asyncExecution")),
    )
    command.script_run = (properties, values)
    return values


_NAME_AND_VALUE = itemgetter("name", "value")
"""A named value (an item of the parameters, public or protected) as a script run holds it: ``(name, value)``."""
_PROTECTED = VirtualMachineRunCommandProperties.model_fields["protected_parameters"].alias or ""
"""The wire name of the protected parameters (the model's, as the contract names it)."""
