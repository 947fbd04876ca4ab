"""A body breaking hundreds of thousands of rules is read in linear time: the first 100 violations, exactly as an
ordinary reading orders them, then one ``TOO_MANY_VIOLATIONS`` counting the rest by code.

The proof of linear time does not time anything: the flood is never read through ``iter_errors`` (whose time grows
faster than the error count), and only the listed violations are ever made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from pytest_runcommand.contract import format_violations, validate_request
from pytest_runcommand.contract import schema_errors as schema_errors_module
from pytest_runcommand.contract.compiled import compiled
from pytest_runcommand.contract.document import get_contract
from pytest_runcommand.contract.schema_errors import error_units, schema_violations, unit_violations
from pytest_runcommand.contract.violations import (
    MAX_LISTED,
    MAX_VIOLATIONS,
    TOO_MANY_VIOLATIONS,
    Violation,
    more_violations,
    total_violations,
    with_unlisted,
)

URL = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
    "Microsoft.Compute/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
FLOOD = 300_000


def tag_flood(count: int) -> bytes:
    """A PATCH whose ``tags`` hold ``count`` numbers (tags are strings): 3.3 MB for 300,000."""
    return orjson.dumps({"tags": {f"t{i:x}": i % 10 for i in range(count)}})


def parameter_flood(count: int) -> bytes:
    """A PUT whose ``parameters`` hold ``count`` broken items: a number for a name, an unknown key, no value."""
    items = [{"name": i, "x": 0} for i in range(count)]
    return orjson.dumps({"location": "westus", "properties": {"source": {"script": "ls"}, "parameters": items}})


@pytest.fixture
def iter_errors_forbidden_for_floods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that reads more than a few thousand errors through iter_errors."""

    def guarded(validator: Any, instance: Any) -> Any:
        found = error_units(validator, instance)
        assert len(found) <= MAX_VIOLATIONS, "a flood was read through iter_errors"
        return found

    monkeypatch.setattr(schema_errors_module, "error_units", guarded)


@pytest.fixture
def made() -> Iterator[Counter[str]]:
    """How many violations of each code get made while the test runs."""
    counts: Counter[str] = Counter()
    original = schema_errors_module.unit_violations

    def counting(*args: Any) -> Iterator[Violation]:
        for violation in original(*args):
            counts[violation.code] += 1
            yield violation

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema_errors_module, "unit_violations", counting)
        yield counts


@pytest.mark.usefixtures("iter_errors_forbidden_for_floods")
def test_300000_broken_tags_list_100_and_count_the_rest(made: Counter[str]) -> None:
    body = tag_flood(FLOOD)
    assert 3_000_000 < len(body) < 3_600_000
    found = validate_request("PATCH", URL, body)
    assert len(found) == MAX_LISTED + 1
    assert found[0] == Violation(
        "INVALID_TYPE", "/tags/t0", "expected string, got integer", 0, "request", "VirtualMachineRunCommands_Update"
    )
    assert [v.pointer for v in found[:MAX_LISTED]] == [f"/tags/t{i:x}" for i in range(MAX_LISTED)]
    summary = found[-1]
    assert (summary.code, summary.pointer, summary.value) == (TOO_MANY_VIOLATIONS, "", {"INVALID_TYPE": FLOOD - 100})
    assert (
        summary.message
        == more_violations(FLOOD - MAX_LISTED)
        == "and 299900 more violation(s) of the contract, not listed"
    )
    assert total_violations(found) == FLOOD
    assert sum(made.values()) == MAX_LISTED  # no more violations were made than listed


@pytest.mark.usefixtures("iter_errors_forbidden_for_floods")
def test_a_flood_of_three_kinds_is_counted_by_code(made: Counter[str]) -> None:
    found = validate_request("PUT", URL, parameter_flood(100_000))
    assert total_violations(found) == 300_000
    assert found[-1].value == {
        "OBJECT_MISSING_REQUIRED_PROPERTY": 100_000 - 34,  # each item: no value, a number for a name, a key too many
        "INVALID_TYPE": 100_000 - 33,
        "OBJECT_ADDITIONAL_PROPERTIES": 100_000 - 33,
    }
    assert sum(made.values()) == MAX_LISTED


@pytest.mark.parametrize("items", [400, 2_000])
def test_the_listed_part_of_a_flood_is_the_ordinary_reading_s_start(items: int) -> None:
    """Read past 1,000 from the evaluation, the first 100 are those iter_errors gives first, and the counts are
    its counts."""
    body = orjson.loads(parameter_flood(items))
    body["zz"] = 1  # the root's unknown key comes last in iter_errors' order, first in evaluate's
    contract = get_contract("2024-07-01")
    validators = compiled(contract)
    operation = contract.by_id["VirtualMachineRunCommands_CreateOrUpdate"]
    assert operation.body_schema is not None
    validator = validators.validator(operation, "request", operation.body_schema)
    listed, unlisted = schema_violations(validator, validators.schema_of(validator), body, "request", "op")
    every = [v for unit in error_units(validator, body) for v in unit_violations(unit, body, "request", "op")]
    assert len(every) == 3 * items + 1
    assert listed == every[:MAX_LISTED]
    assert unlisted == Counter(v.code for v in every[MAX_LISTED:])
    assert every[-1].pointer == "/zz"


def test_up_to_1000_violations_are_all_listed_and_one_more_cuts_the_list() -> None:
    assert len(validate_request("PATCH", URL, tag_flood(MAX_VIOLATIONS))) == MAX_VIOLATIONS
    cut = validate_request("PATCH", URL, tag_flood(MAX_VIOLATIONS + 1))
    assert len(cut) == MAX_LISTED + 1
    assert cut[-1].value == {"INVALID_TYPE": MAX_VIOLATIONS + 1 - MAX_LISTED}


def test_unknown_keys_of_one_object_count_one_by_one() -> None:
    """One error of iter_errors can stand for 300,000 violations (300,000 unknown keys): they are counted, not made."""
    body = {"properties": {"source": {"script": "ls"}}, **{f"k{i}": 0 for i in range(FLOOD)}}
    found = validate_request("PATCH", URL, body)
    assert [v.pointer for v in found[:3]] == ["/k0", "/k1", "/k2"]
    assert found[-1].value == {"OBJECT_ADDITIONAL_PROPERTIES": FLOOD - MAX_LISTED}


def test_rule_violations_after_a_flood_are_counted_with_it() -> None:
    """The prose rules run after the schema: past the cut, what they find is counted too."""
    body = orjson.loads(tag_flood(2_000))
    body["properties"] = {"source": {"script": "ls", "scriptUri": "https://example.com/a.ps1"}}
    found = validate_request("PATCH", URL, body)
    assert found[-1].value == {"INVALID_TYPE": 2_000 - MAX_LISTED, "MULTIPLE_SCRIPT_SOURCES": 1}
    assert total_violations(found) == 2_001


def test_a_schema_the_evaluation_is_not_read_for_still_cuts_the_list() -> None:
    """Keywords the contracts do not use (``maxLength`` here) are read through iter_errors, and cut the same way."""
    import jsonschema_rs

    schema = {"type": "object", "additionalProperties": {"type": "string", "maxLength": 1}}
    validator = jsonschema_rs.Draft4Validator(schema)
    listed, unlisted = schema_violations(validator, schema, {f"k{i}": "long" for i in range(1_500)}, "request", "op")
    assert len(listed) == MAX_LISTED
    assert listed[0].message == "breaks the schema keyword maxLength"
    assert unlisted == {"MAX_LENGTH": 1_400}


def test_a_cut_list_reads_with_its_true_total() -> None:
    first = Violation("INVALID_TYPE", "/tags/a", "expected string, got integer", 1, "request", "op")
    cut = with_unlisted([first] * MAX_LISTED, {"INVALID_TYPE": 5, "ENUM_MISMATCH": 2})
    assert cut[-1] == Violation(
        TOO_MANY_VIOLATIONS, "", more_violations(7), {"INVALID_TYPE": 5, "ENUM_MISMATCH": 2}, "request", "op"
    )
    assert str(cut[-1]) == "TOO_MANY_VIOLATIONS at (body): and 7 more violation(s) of the contract, not listed"
    text = format_violations(cut)
    assert text.startswith("107 contract violations in op\n")
    assert text.endswith("\n  [request] " + str(cut[-1]))
    assert with_unlisted([first], {}) == [first]


def test_the_validate_command_and_the_assertion_message_count_a_cut_list_whole(
    tmp_path: Any, capsys: pytest.CaptureFixture[str], pytester: pytest.Pytester
) -> None:
    """A cut list is 101 items standing for 2,000 violations: each summary says 2,000 (it said 101)."""
    from pytest_runcommand.cli import main

    body = tmp_path / "body.json"
    body.write_bytes(tag_flood(2_000))
    assert main(["validate", "request", "--method", "PATCH", "--url", URL, str(body)]) == 1
    assert "2000 violation(s)" in capsys.readouterr().err
    pytester.makepyfile(
        test_cut=f"""
import orjson
from pytest_runcommand import validate_request

def test_flood():
    body = orjson.dumps({{"tags": {{f"t{{i:x}}": i % 10 for i in range(2000)}}}})
    assert validate_request("PATCH", {URL!r}, body) == []
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "the body breaks the run-command contract: 2000 violations" in result.stdout.str()
