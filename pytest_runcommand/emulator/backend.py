"""The emulator's state, as plain Python: VMs, their run commands, async operations, a clock, ``reset()``.

No HTTP here (the app parses and serializes), so tests and other tools can seed and inspect it directly::

    backend = Backend()
    vm = backend.add_vm("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1")
    backend.clock.advance(60)

Run commands keep their writable properties as wire JSON (``command.wire``), secrets included, and show them as the
shared pydantic model (``command.properties``,
:class:`~pytest_runcommand.models.VirtualMachineRunCommandProperties`); writes take either the models or wire JSON.
What goes on the wire is decided by :mod:`pytest_runcommand.emulator.serialize`, which never emits the secrets.

Lifecycle, as Azure shows it: each PUT/PATCH starts an :class:`AsyncOperation` and a script run; the
resource reads ``Creating``/``Updating`` until the operation completes, then ``Succeeded`` (or ``Failed``
when ``treatFailureAsDeploymentFailure`` is set and the script failed). An operation completes once it
has been polled more than ``settings.lro_polls`` times, or ``settings.lro_seconds`` of simulated time
have passed, and (unless ``asyncExecution``) its script has finished. A DELETE marks the resource
``Deleting`` and removes it when its operation completes.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import Guids
from pytest_runcommand.emulator.clock import Clock
from pytest_runcommand.emulator.executor import Execution, Executor, FakeExecutor, execution, script_run
from pytest_runcommand.emulator.state import (
    DIAGNOSTIC,
    MANAGED,
    AsyncOperation,
    Audit,
    Caller,
    EmulatorSettings,
    OperationKind,
    ParentRef,
    RunCommand,
    VirtualMachine,
    action_command,
    new_operation,
    normalize_location,
    script_run_values,
)
from pytest_runcommand.emulator.writes import keep, merged, patched, refuse_while_deleting, touch, writable
from pytest_runcommand.models import (
    VirtualMachineRunCommand,
    VirtualMachineRunCommandProperties,
    VirtualMachineRunCommandUpdate,
    to_wire,
)

if TYPE_CHECKING:
    from pytest_runcommand.emulator.versions import Kept

__all__ = [
    "AsyncOperation",
    "Backend",
    "EmulatorSettings",
    "ParentRef",
    "RunCommand",
    "VirtualMachine",
    "normalize_location",
]

_SEEDS = random.SystemRandom()
_P_TOKEN = str(uuid.UUID(int=random.Random(0).getrandbits(128), version=4))


@lru_cache(maxsize=16)
def _seconds(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


DEFAULT_CALLER = Caller("pytest-runcommand-emulator", "Application")
"""Who writes when the request's token names nobody."""


class Backend:
    """All emulator state; thread-safe (one re-entrant lock)."""

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        clock: Clock | None = None,
        executor: Executor | None = None,
        seed: int | None = None,
    ) -> None:
        self.settings = settings or EmulatorSettings()
        self.clock = clock or Clock()
        self.executor: Executor = executor or FakeExecutor()
        self._seed = seed
        self._lock = threading.RLock()
        self._vms: dict[tuple[str, ...], VirtualMachine] = {}
        self._operations: OrderedDict[str, AsyncOperation] = OrderedDict()
        self._ids = Guids(random.Random(_SEEDS.getrandbits(64) if seed is None else seed))
        """Operation ids: random per emulator, as Azure's are; a ``seed`` repeats them (reproducible tests)."""
        self.operation_token = _P_TOKEN
        """The opaque ``p`` query parameter of operation URLs (Azure puts one there too, the same for weeks)."""
        self._on_reset: list[Callable[[], None]] = []

    # -- housekeeping -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every VM, run command and operation; rewind the clock; clear the fake executor; then call each
        :meth:`on_reset` callback (the app's scripted faults are cleared this way)."""
        with self._lock:
            self._vms.clear()
            self._operations.clear()
            if self._seed is not None:  # a seeded emulator starts its id sequence again; others keep drawing
                self._ids.seed(self._seed)
            self.clock.reset()
            reset = getattr(self.executor, "reset", None)
            if callable(reset):
                reset()
            for callback in list(self._on_reset):
                callback()

    def on_reset(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` at the end of every :meth:`reset` (what else the fixtures should forget between tests)."""
        self._on_reset.append(callback)

    @property
    def seed(self) -> int | None:
        """The seed of the operation ids (None: random per emulator)."""
        return self._seed

    # -- virtual machines ---------------------------------------------------------------------------

    def add_vm(self, resource_id: str | ParentRef, location: str | None = None) -> VirtualMachine:
        """Seed a VM (or scale-set VM) by resource id; returns the existing one if already known."""
        ref = resource_id if isinstance(resource_id, ParentRef) else ParentRef.parse(resource_id)
        with self._lock:
            existing = self._vms.get(ref.key)
            if existing is not None:
                return existing
            vm = VirtualMachine(ref, normalize_location(location or self.settings.default_location))
            self._vms[ref.key] = vm
            return vm

    @property
    def vms(self) -> list[VirtualMachine]:
        """Every known VM, in the order they appeared."""
        with self._lock:
            return list(self._vms.values())

    def find_vm(self, ref: ParentRef) -> VirtualMachine | None:
        """The VM at ``ref`` (case-insensitive), or None."""
        with self._lock:
            return self._vms.get(ref.key)

    def _vm(self, ref: ParentRef, location_hint: str | None = None, *, create: bool = False) -> VirtualMachine:
        """The VM at ``ref``; while VMs are auto-created, a write (``create``) creates it and a read sees an
        empty one that is not kept (a request that changes nothing leaves no VM behind)."""
        vm = self._vms.get(ref.key)
        if vm is not None:
            return vm
        if not self.settings.auto_create_vms:
            raise errors.parent_resource_not_found(ref.display_name)
        if create:
            return self.add_vm(ref, location_hint)
        return VirtualMachine(ref, normalize_location(location_hint or self.settings.default_location))

    # -- run commands -------------------------------------------------------------------------------

    def run_command(self, ref: ParentRef | str, name: str, collection: str = MANAGED) -> RunCommand | None:
        """Inspection helper: the run command ``name`` of a VM (by ref or resource id), settled, or None."""
        parent = ref if isinstance(ref, ParentRef) else ParentRef.parse(ref)
        with self._lock:
            vm = self._vms.get(parent.key)
            return self._settled(vm, name, collection) if vm is not None else None

    def create_or_update(
        self,
        ref: ParentRef,
        name: str,
        resource: VirtualMachineRunCommand | Mapping[str, Any],
        *,
        caller: Caller = DEFAULT_CALLER,
        kept: Kept | None = None,
        collection: str = MANAGED,
    ) -> tuple[RunCommand, bool, AsyncOperation]:
        """PUT: replace the run command's properties and tags (or create it); starts a script run.

        ``resource``: the model, or its wire JSON as the contract validated it (a write at an older api-version
        then passes ``kept``: what it cannot name, and so leaves as stored).
        ``collection``: :data:`MANAGED` or :data:`DIAGNOSTIC` run commands (every method takes it).
        Returns the resource, whether it was created, and its operation.
        """
        body = to_wire(resource) if isinstance(resource, BaseModel) else resource
        location = body.get("location")
        with self._lock:
            vm = self._vm(ref, location if isinstance(location, str) else None, create=True)
            existing = self._settled(vm, name, collection)
            properties = writable(body.get("properties"))
            tags = body.get("tags")
            tags = dict(tags) if tags is not None else None
            now = self.clock.now()
            if existing is None:
                command = RunCommand(vm, name, properties, tags, audit=Audit(caller, now, caller, now))
                command.collection = collection
                vm.commands(collection)[name.lower()] = command
                operation = self._start(command, "create", now)
                return command, True, operation
            refuse_while_deleting(existing)
            existing.wire = keep(existing.wire, properties, kept)
            existing.tags = tags
            touch(existing, caller, now)
            return existing, False, self._start(existing, "update", now)

    def update(
        self,
        ref: ParentRef,
        name: str,
        patch: VirtualMachineRunCommandUpdate | Mapping[str, Any],
        *,
        caller: Caller = DEFAULT_CALLER,
        kept: Kept | None = None,
        collection: str = MANAGED,
        raw: bytes | None = None,
    ) -> tuple[RunCommand, AsyncOperation]:
        """PATCH: merge the properties and tags sent (the model, or its validated wire JSON) into the run command;
        starts a script run. ``raw``: the JSON text ``patch`` was parsed from, when the caller has it (a body sent
        again on the properties it made then merges nothing)."""
        body = patch if type(patch) is dict else to_wire(patch) if isinstance(patch, BaseModel) else patch
        return self.patch(ref, name, body, caller, kept, collection, raw)

    def patch(
        self,
        ref: ParentRef,
        name: str,
        body: Mapping[str, Any],
        caller: Caller,
        kept: Kept | None,
        collection: str,
        raw: bytes | None,
    ) -> tuple[RunCommand, AsyncOperation]:
        """:meth:`update` of wire JSON, every argument given in order (what the app's fast PATCH calls)."""
        with self._lock:
            now = self.clock.now()
            # the run command, its operation settled (what _get gives, its steps inline: one per PATCH)
            vm = self._vms.get(ref.key)
            commands = (
                None if vm is None else vm.diagnostic_run_commands if collection == DIAGNOSTIC else vm.run_commands
            )
            key = name.lower()
            command = None if commands is None else commands.get(key)
            if command is None:
                command = self._get(ref, name, collection)
            operation = command.operation
            if operation is not None and operation.status == "InProgress":
                if operation.polls >= operation.polls_needed or now >= operation.due_at:
                    self._settle(operation, now)  # its time has come (what _settle checks first, read here)
                    if commands is None or commands.get(key) is not command:
                        command = self._get(ref, name, collection)
                    operation = command.operation
                if operation is not None and operation.kind == "delete":
                    refuse_while_deleting(command)
            sent = body.get("properties")
            if sent is not None:
                # Stored and sent values are never changed in place (a write replaces them): merged by reference.
                stored = command.wire
                plain = kept is None or kept.nothing_to_keep(stored)
                last = command.last_patch
                if not (plain and raw is not None and last is not None and last[1] is stored and last[0] == raw):
                    # (else: the stored properties are what the same body made them, and a merge repeated changes
                    # nothing: clients repeat their PATCHes)
                    written = (
                        patched(stored, sent) if type(sent) is dict else merged(stored, writable(sent, nulls=True))
                    )
                    command.wire = written if plain else keep(stored, written, kept)
                    command.last_patch = (raw, command.wire) if plain and raw is not None else None
            if "tags" in body:
                tags = body["tags"]
                command.tags = dict(tags) if tags is not None else None
            audit = command.audit
            if audit is None:
                touch(command, caller, now)
            else:
                audit.last_modified_by, audit.last_modified_at = caller, now
            return command, self._start(command, "update", now)

    def get(self, ref: ParentRef, name: str, collection: str = MANAGED) -> RunCommand:
        """GET: the run command, or 404 ResourceNotFound."""
        with self._lock:
            return self._get(ref, name, collection)

    def list(self, ref: ParentRef, collection: str = MANAGED) -> list[RunCommand]:
        """List the VM's run commands in creation order."""
        with self._lock:
            commands = self._vm(ref).commands(collection)
            for command in list(commands.values()):
                self._settle_command(command)
            return list(commands.values())

    def delete(self, ref: ParentRef, name: str, collection: str = MANAGED) -> AsyncOperation | None:
        """DELETE: start removing the run command; None when there is nothing to delete (204)."""
        with self._lock:
            command = self._settled(self._vm(ref), name, collection)
            if command is None:
                return None
            if command.operation is not None and command.operation.kind == "delete" and not command.operation.done:
                return command.operation
            return self._start(command, "delete")

    def invoke(
        self, ref: ParentRef, properties: VirtualMachineRunCommandProperties | Mapping[str, Any], os_type: str
    ) -> AsyncOperation:
        """POST ``.../runCommand`` (the action run command): one run on the VM, no resource kept; the operation's
        result (``properties.output``) is what it printed, shaped for ``os_type`` (``Linux`` or ``Windows``).
        ``properties``: the model or its wire JSON."""
        return self.run_action(ref, writable(properties), os_type)

    def run_action(self, ref: ParentRef, wire: dict[str, Any], os_type: str) -> AsyncOperation:
        """:meth:`invoke` of properties in :func:`~pytest_runcommand.emulator.writes.writable`'s form already (what
        the action service builds: no second pass over them)."""
        with self._lock:
            operation = self._start(action_command(self._vm(ref, create=True), wire), "action")
            operation.os_type = os_type
            return operation

    def _get(self, ref: ParentRef, name: str, collection: str) -> RunCommand:
        vm = self._vm(ref)
        command = self._settled(vm, name, collection)
        if command is None:
            raise errors.resource_not_found(vm.command_type(collection), name, ref.resource_group)
        return command

    def _settled(self, vm: VirtualMachine, name: str, collection: str = MANAGED) -> RunCommand | None:
        """The VM's run command ``name`` with its operation brought up to date (None if absent or now deleted)."""
        command = vm.commands(collection).get(name.lower())
        if command is not None:
            self._settle_command(command)
            command = vm.commands(collection).get(name.lower())
        return command

    # -- async operations ---------------------------------------------------------------------------

    def _start(self, command: RunCommand, kind: OperationKind, now: datetime | None = None) -> AsyncOperation:
        if now is None:
            now = self.clock.now()
        vm = command.vm
        settings = self.settings
        polls = settings.lro_polls
        operation = new_operation(
            self._ids.next(),
            kind,
            vm.ref.subscription,
            vm.location,
            now,
            now + _seconds(settings.lro_seconds),
            (polls if polls > 0 else 0) + 1,  # max(0, polls) + 1
            command,
            # the fake executor's plain outcome: the run recorded now, its ScriptRun made when read
            None if kind == "delete" else (command.wire, command.name),
        )
        if kind != "delete":
            executor = self.executor
            if type(executor) is not FakeExecutor or not executor.defer(operation):
                operation.execution = self._execute(command, now)  # (a rule, a default or another executor decides)
            command.ran = operation
        command.operation = operation
        operations = self._operations
        operations[operation.id] = operation
        if len(operations) > settings.max_operations or settings.max_operations < 1:
            if len(operations) - 1 == settings.max_operations > 0:
                operations.popitem(last=False)  # one over the bound (the usual case once full): the oldest goes
            else:
                self._forget_old_operations()
        if now >= operation.due_at:  # a new operation has no polls yet: only its time can settle it now
            self._settle(operation, now)
        return operation

    def _execute(self, command: RunCommand, now: datetime) -> Execution:
        request = script_run(now, script_run_values(command, command.wire, command.name))
        return execution(request, self.executor.run(request))

    def _forget_old_operations(self) -> None:
        limit = max(1, self.settings.max_operations)
        while len(self._operations) > limit:
            self._operations.popitem(last=False)

    def poll(self, subscription: str, location: str, operation_id: str) -> AsyncOperation:
        """GET of the operation status: counts a poll and settles the operation."""
        with self._lock:
            operation = self._operations.get(operation_id.lower())
            if (
                operation is None
                or operation.subscription.lower() != subscription.lower()
                or normalize_location(location) != operation.location
            ):
                raise errors.operation_not_found(operation_id, location)
            if not operation.done:
                operation.polls += 1
                self._settle(operation)
            return operation

    @property
    def operation_count(self) -> int:
        """How many async operations are kept (at most ``settings.max_operations``)."""
        with self._lock:
            return len(self._operations)

    def operation(self, operation_id: str) -> AsyncOperation | None:
        """Inspection helper: an operation by id (not counted as a poll)."""
        with self._lock:
            operation = self._operations.get(operation_id.lower())
            if operation is not None:
                self._settle(operation)
            return operation

    def _settle_command(self, command: RunCommand) -> None:
        if command.operation is not None:
            self._settle(command.operation)

    def _settle(self, operation: AsyncOperation, now: datetime | None = None) -> None:
        """Complete ``operation`` if its time has come (``now``: the clock's, unless the caller read it)."""
        if operation.done:
            return
        if now is None:
            now = self.clock.now()
        if operation.polls < operation.polls_needed and now < operation.due_at:
            return
        command = operation.target
        current = command.operation is operation
        if operation.kind == "delete":
            self._finish(operation, now)
            commands = command.vm.commands(command.collection)
            if current and commands.get(command.name.lower()) is command:
                del commands[command.name.lower()]
            return
        execution = operation.execution
        assert execution is not None
        view = execution.view(now)
        if command.wire.get("asyncExecution"):
            if view.state == "Pending":
                return
            failed = False
        else:
            if not view.terminal:
                return
            failed = view.failed and bool(command.wire.get("treatFailureAsDeploymentFailure"))
        if failed:
            operation.error = errors.ArmError(
                200,
                "VMExtensionProvisioningError",
                f"VM has reported a failure when processing extension '{command.name}'. "
                f"Error message: '{view.message}'.",
            )
        self._finish(operation, now, failed=failed)
        if current:
            command.final_state = "Failed" if failed else "Succeeded"

    @staticmethod
    def _finish(operation: AsyncOperation, now: datetime, *, failed: bool = False) -> None:
        operation.status = "Failed" if failed else "Succeeded"
        operation.ended_at = now
