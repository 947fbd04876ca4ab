"""The coverage report counts the GETs of an action's ``Location`` URL (its polls and its final result) for the action,
not for ``AsyncOperations_Get``, whose route the URL matches (review 10, finding 10: the README's own invoke example
showed the action's 200 as never seen and ``AsyncOperations_Get`` called, 0/23, by a test that never polled it).
Real runs: pytest with the emulator fixture and ``--runcommand-report``."""

from __future__ import annotations

import json
from typing import Any

import pytest

ACTION = "VirtualMachines_RunCommand"
STATUS = "AsyncOperations_Get"

SUITE = """
import pytest

from pytest_runcommand.emulator import Outcome

DISK_CHECK = "df --output=pcent / | tail -1"
BODY = {"commandId": "RunShellScript", "script": [DISK_CHECK]}


@pytest.mark.runcommand_contract
def test_invoke_reads_what_the_vm_printed(runcommand_emulator):  # the README's example
    runcommand_emulator.executor.register(Outcome.success(" 83%\\n"), script=DISK_CHECK)
    client = runcommand_emulator.client
    accepted = client.post(runcommand_emulator.action_path(vm="web-1"), json=BODY)
    assert accepted.status_code == 202
    result = client.get(accepted.headers["Location"])
    while result.status_code == 202:
        result = client.get(accepted.headers["Location"])
    (status,) = result.json()["value"]
    assert status["code"] == "ProvisioningState/succeeded"


def test_polled_while_it_runs(runcommand_emulator):
    clock = runcommand_emulator.use_clock("manual")
    runcommand_emulator.executor.register(Outcome.success(" 83%\\n", duration=30), script=DISK_CHECK)
    client = runcommand_emulator.client
    accepted = client.post(runcommand_emulator.action_path(vm="web-2"), json=BODY)
    assert client.get(accepted.headers["Location"]).status_code == 202
    assert client.get(accepted.headers["Location"]).status_code == 202
    clock.advance(60)
    assert client.get(accepted.headers["Location"]).status_code == 200


def test_the_status_resource_read_as_such(runcommand_emulator):
    client = runcommand_emulator.client
    accepted = client.post(runcommand_emulator.action_path(vm="web-3"), json=BODY)
    assert client.get(accepted.headers["Azure-AsyncOperation"]).status_code == 200
"""


def _report(pytester: pytest.Pytester, *tests: str) -> dict[str, Any]:
    pytester.makepyfile(test_invoke=SUITE)
    selected = [f"test_invoke.py::{name}" for name in tests]
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", *selected,
                                           "--runcommand-report", "cov.json")  # fmt: skip
    result.assert_outcomes(passed=len(tests))
    data: dict[str, Any] = json.loads((pytester.path / "cov.json").read_text())
    return data


def test_the_final_result_counts_for_the_action(pytester: pytest.Pytester) -> None:
    data = _report(pytester, "test_invoke_reads_what_the_vm_printed")
    action = data["operations"][ACTION]
    assert (action["calls"], action["statuses_seen"]) == (2, {"200": 1, "202": 1})
    assert "/value/*/message" in action["response_properties_covered"]
    assert action["tests"] == ["test_invoke.py::test_invoke_reads_what_the_vm_printed"]
    assert data["operations"][STATUS]["calls"] == 0
    assert STATUS in data["operations_untouched"]


def test_the_polls_count_for_the_action(pytester: pytest.Pytester) -> None:
    data = _report(pytester, "test_polled_while_it_runs")
    action = data["operations"][ACTION]
    assert (action["calls"], action["statuses_seen"]) == (4, {"200": 1, "202": 3})
    assert data["operations"][STATUS]["calls"] == 0


def test_the_operation_status_url_still_counts_for_the_status_resource(pytester: pytest.Pytester) -> None:
    data = _report(pytester, "test_the_status_resource_read_as_such")
    assert (data["operations"][ACTION]["calls"], data["operations"][ACTION]["statuses_seen"]) == (1, {"202": 1})
    status = data["operations"][STATUS]
    assert (status["calls"], status["statuses_seen"]) == (1, {"200": 1})
    assert status["response_properties_covered"]
