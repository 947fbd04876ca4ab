"""The clock policy: a client that polls the resource (not the async operation) sees it finish, and no test sleeps."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from pytest_runcommand.emulator import InProcessEmulator, ServedEmulator
from pytest_runcommand.emulator.clock import Clock

BODY = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}


def poll_resource(emulator: InProcessEmulator, url: str, limit: int) -> list[str]:
    """GET the run command until it has left its in-progress state (at most ``limit`` times); the states seen."""
    states = []
    for _ in range(limit):
        state = emulator.client.get(url).json()["properties"]["provisioningState"]
        states.append(state)
        if state not in ("Creating", "Updating", "Deleting"):
            break
    return states


def test_by_default_a_client_polling_the_resource_sees_it_finish(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    assert emulator.clock.policy == "per-request"
    emulator.backend.settings.lro_polls = 10**6  # nobody polls the operation: only time can finish it
    url = emulator.run_command_path("rc1")
    assert emulator.client.put(url, json=BODY).json()["properties"]["provisioningState"] == "Creating"
    states = poll_resource(emulator, url, limit=100)
    assert states[-1] == "Succeeded"
    assert set(states[:-1]) == {"Creating"}
    seconds = emulator.backend.settings.lro_seconds
    assert len(states) == pytest.approx(seconds, abs=2), "one simulated second per request"


def test_a_manual_clock_stands_still_until_advanced(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    clock = emulator.use_clock("manual")
    emulator.backend.settings.lro_polls = 10**6
    url = emulator.run_command_path("rc1")
    before = clock.now()
    emulator.client.put(url, json=BODY)
    assert poll_resource(emulator, url, limit=50) == ["Creating"] * 50
    assert clock.now() == before
    clock.advance(emulator.backend.settings.lro_seconds)
    assert poll_resource(emulator, url, limit=1) == ["Succeeded"]


@pytest.mark.parametrize("runcommand_emulator", ["manual"], indirect=True)
def test_the_policy_as_the_fixtures_parameter(runcommand_emulator: InProcessEmulator) -> None:
    assert runcommand_emulator.clock.policy == "manual"
    before = runcommand_emulator.clock.now()
    runcommand_emulator.client.get(runcommand_emulator.run_command_path("rc1"))
    assert runcommand_emulator.clock.now() == before


def test_a_bigger_step_finishes_sooner(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    emulator.use_clock("per-request", step=5)
    emulator.backend.settings.lro_polls = 10**6
    url = emulator.run_command_path("rc1")
    emulator.client.put(url, json=BODY)
    assert len(poll_resource(emulator, url, limit=100)) <= 4


def test_the_served_emulator_polled_through_the_azure_sdk(runcommand_emulator_server: ServedEmulator) -> None:
    """The Azure SDK without its poller: the caller reads the resource until it is done, as deployment tools do."""
    pytest.importorskip("azure.mgmt.compute")
    from azure.mgmt.compute import ComputeManagementClient

    from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID

    emulator = runcommand_emulator_server
    emulator.backend.settings.lro_polls = 10**6
    client = ComputeManagementClient(
        emulator.credential, ZERO_SUBSCRIPTION_ID, base_url=emulator.base_url, connection_verify=emulator.ca_path
    )
    commands = client.virtual_machine_run_commands
    commands.begin_create_or_update("rg", "vm1", "rc1", BODY, polling=False)
    states = []
    for _ in range(100):
        states.append(commands.get_by_virtual_machine("rg", "vm1", "rc1").provisioning_state)
        if states[-1] != "Creating":
            break
    assert states[-1] == "Succeeded"
    assert len(states) > 1, "the first reads still see it in progress"


def test_the_policy_is_reset_for_each_served_test_part_one(runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.use_clock("manual")


def test_the_policy_is_reset_for_each_served_test_part_two(runcommand_emulator_server: ServedEmulator) -> None:
    assert runcommand_emulator_server.clock.policy == "per-request"


def test_a_realtime_clock_follows_the_wall_clock() -> None:
    clock = Clock(policy="realtime")
    first = clock.now()
    deadline = time.monotonic() + 0.05
    while time.monotonic() < deadline:  # a short busy wait: the clock must see it
        pass
    assert clock.now() - first >= timedelta(seconds=0.05)
    clock.tick()
    clock.set_policy("manual")
    frozen = clock.now()
    assert frozen >= first + timedelta(seconds=0.05), "switching policy never turns time back"
    assert clock.now() == frozen


def test_only_a_per_request_clock_moves_on_a_request() -> None:
    clock = Clock()
    assert clock.policy == "manual"
    start = clock.now()
    clock.tick()
    assert clock.now() == start
    clock.set_policy("per-request", step=2.5)
    clock.tick()
    assert clock.now() == start + timedelta(seconds=2.5)
    clock.reset()
    assert (clock.now(), clock.policy) == (start, "per-request")


@pytest.mark.parametrize(("policy", "step"), [("sometimes", None), ("per-request", -1.0), ("manual", float("nan"))])
def test_a_wrong_policy_or_step_is_a_clear_error(policy: str, step: float | None) -> None:
    with pytest.raises(ValueError, match="clock"):
        Clock().set_policy(policy, step=step)  # type: ignore[arg-type]


def test_a_wrong_fixture_parameter_names_the_policies(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize("runcommand_emulator", ["fast"], indirect=True)
        def test_x(runcommand_emulator):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["*runcommand_emulator: the parameter is a clock policy, one of per-request, realtime, manual*"]
    )
