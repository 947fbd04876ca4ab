"""The conftest's ResponseChecker: strict on every answer; a scripted fault may answer 5xx or drop, nothing else."""

from __future__ import annotations

import json

import pytest

from pytest_runcommand.emulator.faults import FAULT_HEADER
from pytest_runcommand.interactions import Interaction

from .conftest import ResponseChecker

URL = (
    "https://127.0.0.1/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
    "/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
CLOUD_ERROR = json.dumps({"error": {"code": "ServiceUnavailable", "message": "Try later."}}).encode()
JSON = {"content-type": "application/json; charset=utf-8"}


def answer(status: int | None, body: bytes | None, headers: dict[str, str]) -> Interaction:
    return Interaction(
        method="GET", url=URL, status=status, response_headers=headers, response_body=body, source="test"
    )


def problems(interaction: Interaction) -> list[str]:
    checker = ResponseChecker()
    checker(interaction)
    return checker.problems


def test_a_5xx_is_a_problem_unless_a_scripted_fault_gave_it() -> None:
    assert problems(answer(503, CLOUD_ERROR, JSON))
    assert problems(answer(503, CLOUD_ERROR, {**JSON, FAULT_HEADER: "0"})) == []


def test_a_fault_shaped_answer_is_still_checked_against_the_contract() -> None:
    not_a_cloud_error = json.dumps({"oops": 1}).encode()
    assert problems(answer(503, not_a_cloud_error, {**JSON, FAULT_HEADER: "0"}))
    broken_resource = json.dumps({"name": 5}).encode()  # an operation_fails / delay answer is the handler's own
    assert problems(answer(200, broken_resource, {**JSON, FAULT_HEADER: "1"}))


@pytest.mark.parametrize("marked", [True, False])
def test_only_a_scripted_fault_may_drop_the_exchange(marked: bool) -> None:
    headers = {FAULT_HEADER: "0"} if marked else {}
    assert (problems(answer(None, None, headers)) == []) is marked
