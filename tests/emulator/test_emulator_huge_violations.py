"""A 3.3 MB request breaking 300,000 rules is answered at once: 400 with the first 100 broken rules, in the order an
ordinary check lists them, and a last ``TooManyViolations`` entry with the true count of the rest.

No timing here: the flood is never read through jsonschema-rs's ``iter_errors`` (whose time grows faster than the
error count; about 8 s for this body), and only the listed violations are made (see tests/contract/test_contract_flood).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pytest_runcommand.contract import schema_errors
from pytest_runcommand.contract.violations import MAX_LISTED, MAX_VIOLATIONS, TOO_MANY_VIOLATIONS
from pytest_runcommand.emulator.errors import MAX_DETAILS, contract_violation
from pytest_runcommand.emulator.handles import InProcessEmulator

FLOOD = 300_000
JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def no_flood_through_iter_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    read = schema_errors.error_units

    def guarded(validator: Any, instance: Any) -> Any:
        found = read(validator, instance)
        assert len(found) <= MAX_VIOLATIONS, "a flood was read through iter_errors"
        return found

    monkeypatch.setattr(schema_errors, "error_units", guarded)


def created(emulator: InProcessEmulator) -> str:
    path = emulator.run_command_path("flooded")
    body = {"location": "westus", "properties": {"source": {"script": "ls"}}}
    assert emulator.client.put(path, json=body).status_code == 201
    return path


def test_a_patch_with_300000_broken_tags_gets_100_of_them_and_the_count(runcommand_emulator: InProcessEmulator) -> None:
    path = created(runcommand_emulator)
    body = orjson.dumps({"tags": {f"t{i:x}": i % 10 for i in range(FLOOD)}})
    assert 3_000_000 < len(body) < 3_600_000
    answer = runcommand_emulator.client.patch(path, content=body, headers=JSON)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["message"], error["target"]) == (
        "InvalidRequestContent",
        "expected string, got integer",
        "/tags/t0",
    )
    details = error["details"]
    assert len(details) == MAX_DETAILS + 1
    assert details[:2] == [
        {"code": "INVALID_TYPE", "message": "expected string, got integer", "target": "/tags/t0"},
        {"code": "INVALID_TYPE", "message": "expected string, got integer", "target": "/tags/t1"},
    ]
    assert details[-1] == {
        "code": "TooManyViolations",
        "message": f"and {FLOOD - MAX_DETAILS} more violation(s) of the contract, not listed",
    }
    assert len(answer.content) < 30_000
    assert runcommand_emulator.client.get(path).json().get("tags") is None, "nothing changed"


def test_a_put_with_300000_broken_parameters_counts_every_one(runcommand_emulator: InProcessEmulator) -> None:
    items = [{"name": "p"}] * FLOOD  # each lacks its value
    body = {"location": "westus", "properties": {"source": {"script": "ls"}, "parameters": items}}
    answer = runcommand_emulator.client.put(runcommand_emulator.run_command_path("p"), content=orjson.dumps(body),
                                            headers=JSON)  # fmt: skip
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "InvalidParameter"
    details = error["details"]
    assert details[0] == {
        "code": "OBJECT_MISSING_REQUIRED_PROPERTY",
        "message": "required property 'value' is missing",
        "target": "/properties/parameters/0/value",
    }
    assert details[MAX_DETAILS - 1]["target"] == f"/properties/parameters/{MAX_DETAILS - 1}/value"
    assert details[-1]["message"] == f"and {FLOOD - MAX_DETAILS} more violation(s) of the contract, not listed"


def test_the_400_lists_as_many_as_the_contract_keeps() -> None:
    assert MAX_DETAILS == MAX_LISTED


def test_a_cut_list_keeps_its_count_in_the_400() -> None:
    listed = [("INVALID_TYPE", "expected string, got integer", f"/tags/t{i}") for i in range(MAX_LISTED)]
    error = contract_violation(
        [*listed, (TOO_MANY_VIOLATIONS, "and 7 more violation(s) of the contract, not listed", "")]
    )
    wire = error.to_wire()["error"]
    assert len(wire["details"]) == MAX_DETAILS + 1
    assert wire["details"][-1] == {
        "code": "TooManyViolations",
        "message": "and 7 more violation(s) of the contract, not listed",
    }
    assert (wire["code"], wire["target"]) == ("InvalidRequestContent", "/tags/t0")


def test_a_long_uncut_list_is_counted_past_100() -> None:
    listed = [("ENUM_MISMATCH", "must be one of: A, B", f"/x/{i}") for i in range(MAX_DETAILS + 5)]
    details = contract_violation(listed).to_wire()["error"]["details"]
    assert len(details) == MAX_DETAILS + 1
    assert details[-1]["message"] == "and 5 more violation(s) of the contract, not listed"


def test_a_cut_list_of_which_every_listed_rule_was_dropped_still_answers_with_the_count() -> None:
    """Lenient mode drops what Azure ignores: if only the count is left, the 400 says it."""
    error = contract_violation([(TOO_MANY_VIOLATIONS, "and 3 more violation(s) of the contract, not listed", "")])
    wire = error.to_wire()["error"]
    assert wire["code"] == "BadRequest"
    assert wire["details"] == [
        {"code": "TooManyViolations", "message": "and 3 more violation(s) of the contract, not listed"}
    ]
