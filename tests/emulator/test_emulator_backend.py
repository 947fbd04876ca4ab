"""The backend as plain Python: no HTTP, state you can seed and inspect, a clock you move."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pytest_runcommand.emulator.backend import Backend, EmulatorSettings, ParentRef, normalize_location
from pytest_runcommand.emulator.clock import Clock, format_time
from pytest_runcommand.emulator.errors import ArmError
from pytest_runcommand.models import VirtualMachineRunCommand, VirtualMachineRunCommandUpdate, from_wire, put_body

VM = ParentRef("sub", "rg", "vm1")
START = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)


def new_backend(**settings: object) -> Backend:
    return Backend(EmulatorSettings(**settings), clock=Clock(START))  # type: ignore[arg-type]


def put(backend: Backend, name: str = "rc1", **options: object) -> tuple[object, bool, object]:
    body = put_body(**options) if options else put_body(script="echo 1")  # type: ignore[arg-type]
    return backend.create_or_update(VM, name, from_wire(VirtualMachineRunCommand, body))


def test_parent_ref_parses_vm_and_scale_set_vm_ids() -> None:
    vm = ParentRef.parse("/subscriptions/s/resourcegroups/RG/providers/microsoft.compute/virtualMachines/vm1")
    assert vm == ParentRef("s", "RG", "vm1")
    assert vm.resource_id == "/subscriptions/s/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1"
    twin = ParentRef.parse(
        "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/7"
    )
    assert (twin.vm_name, twin.instance_id) == ("ss", "7")
    with pytest.raises(ValueError, match="not a virtual machine resource id"):
        ParentRef.parse("/subscriptions/s/resourceGroups/rg")
    assert ParentRef("S", "Rg", "VM1").key == ParentRef("s", "rg", "vm1").key


def test_location_is_normalized() -> None:
    assert normalize_location("West US 2") == "westus2"


def test_auto_created_vm_takes_the_first_put_location() -> None:
    backend = new_backend()
    _, created, _ = backend.create_or_update(
        VM, "rc1", from_wire(VirtualMachineRunCommand, put_body(location="East US", script="x"))
    )
    assert created
    assert backend.vms[0].location == "eastus"


def test_no_auto_create_raises_parent_resource_not_found() -> None:
    backend = new_backend(auto_create_vms=False)
    with pytest.raises(ArmError) as error:
        backend.get(VM, "rc1")
    assert (error.value.status, error.value.code) == (404, "ParentResourceNotFound")


def test_put_stores_secrets_but_only_writable_properties() -> None:
    backend = new_backend()
    body = put_body(script="echo", run_as_password="pw")
    body["properties"]["provisioningState"] = "Succeeded"
    backend.create_or_update(VM, "rc1", from_wire(VirtualMachineRunCommand, body))
    stored = backend.run_command(VM, "RC1")
    assert stored is not None
    assert stored.properties.run_as_password == "pw"
    assert stored.properties.provisioning_state is None
    assert stored.provisioning_state == "Creating"


def test_patch_merges_and_null_removes() -> None:
    backend = new_backend()
    put(backend, run_as_user="u", script="echo", timeout_in_seconds=5)
    patch = from_wire(VirtualMachineRunCommandUpdate, {"properties": {"runAsUser": None, "timeoutInSeconds": 9}})
    command, _ = backend.update(VM, "rc1", patch)
    assert command.properties.run_as_user is None
    assert command.properties.timeout_in_seconds == 9
    assert command.properties.source is not None
    assert command.properties.source.script == "echo"


def test_operation_finishes_after_polls_or_time() -> None:
    backend = new_backend(lro_polls=1, lro_seconds=30)
    _, _, operation = put(backend)
    op_id = operation.id  # type: ignore[attr-defined]
    assert backend.poll("sub", "westus", op_id).status == "InProgress"
    assert backend.poll("sub", "West US", op_id).status == "Succeeded"
    _, _, second = put(backend)
    backend.clock.advance(30)
    assert backend.operation(second.id).status == "Succeeded"  # type: ignore[attr-defined, union-attr]
    assert backend.get(VM, "rc1").provisioning_state == "Succeeded"


def test_poll_of_an_operation_elsewhere_is_404() -> None:
    backend = new_backend()
    _, _, operation = put(backend)
    with pytest.raises(ArmError, match="was not found"):
        backend.poll("other-sub", "westus", operation.id)  # type: ignore[attr-defined]
    with pytest.raises(ArmError, match="was not found"):
        backend.poll("sub", "eastus", operation.id)  # type: ignore[attr-defined]


def test_delete_removes_once_its_operation_completes() -> None:
    backend = new_backend()
    put(backend)
    operation = backend.delete(VM, "rc1")
    assert operation is not None
    assert backend.get(VM, "rc1").provisioning_state == "Deleting"
    assert backend.delete(VM, "rc1") is operation, "a second DELETE joins the first"
    backend.poll("sub", "westus", operation.id)
    assert backend.run_command(VM, "rc1") is None
    assert backend.delete(VM, "rc1") is None


def test_put_during_delete_is_a_conflict_and_the_delete_completes() -> None:
    backend = new_backend()
    put(backend)
    deletion = backend.delete(VM, "rc1")
    assert deletion is not None
    with pytest.raises(ArmError) as conflict:
        put(backend)
    assert (conflict.value.status, conflict.value.code) == (409, "Conflict")
    while not backend.poll("sub", "westus", deletion.id).done:
        pass
    assert backend.run_command(VM, "rc1") is None


def test_operations_are_bounded() -> None:
    backend = new_backend(max_operations=10)
    for index in range(50):
        put(backend, f"rc{index}")
    assert backend.operation_count == 10


def test_reset_forgets_everything_and_repeats_seeded_ids() -> None:
    backend = Backend(EmulatorSettings(), clock=Clock(START), seed=11)
    _, _, first = put(backend)
    backend.clock.advance(100)
    backend.reset()
    assert backend.vms == []
    assert backend.clock.now() == START
    _, _, again = put(backend)
    assert again.id == first.id  # type: ignore[attr-defined]


def test_clock_moves_only_forward_and_formats_like_azure() -> None:
    clock = Clock(START)
    assert clock.now() == START
    assert clock.advance(1.5) == datetime(2024, 7, 1, 12, 0, 1, 500000, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    assert format_time(START) == "2024-07-01T12:00:00.0000000+00:00"
    assert Clock(realtime=True).realtime


def test_operation_ids_are_random_per_emulator_unless_seeded() -> None:
    """Issue 15: Azure's operation ids are random; a seed makes an emulator's sequence reproducible, and the
    ``p`` token is the same everywhere (as in records a week apart)."""

    def ids(backend: Backend, count: int = 3) -> list[str]:
        return [put(backend, f"rc{index}")[2].id for index in range(count)]  # type: ignore[attr-defined]

    first, second = ids(Backend()), ids(Backend())
    assert not set(first) & set(second), "two emulators drew the same operation ids"
    assert ids(Backend(seed=7)) == ids(Backend(seed=7))
    seeded = Backend(seed=7)
    before = ids(seeded)
    seeded.reset()
    assert ids(seeded) == before, "a seeded emulator starts its sequence again on reset"
    unseeded = Backend()
    before = ids(unseeded)
    unseeded.reset()
    assert not set(ids(unseeded)) & set(before), "an unseeded one keeps drawing"
    assert Backend().operation_token == Backend(seed=3).operation_token
