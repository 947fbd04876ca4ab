"""The one traffic check: one verdict per interaction, ``ignore`` honoured, one error with one masked label."""

from __future__ import annotations

import json

import pytest
from reference_data import OFFICIAL_RUNCOMMAND

from pytest_runcommand.contract import (
    InteractionVerdict,
    check_interactions,
    contract_failure,
    interaction_label,
    load_contract,
)
from pytest_runcommand.contract.traffic import ignore_problem
from pytest_runcommand.contract.violations import counts_by_code, total_violations
from pytest_runcommand.errors import ContractViolationError
from pytest_runcommand.interactions import Interaction

PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
)
ANSWER = {"location": "westus", "properties": {"source": {"script": "echo"}, "provisioningState": "Succeeded"}}


def exchange(version: str, answer: dict[str, object] | None = None, **kw: object) -> Interaction:
    return Interaction(
        "GET",
        f"https://management.azure.com{PATH}?api-version={version}",
        status=200,
        response_body=json.dumps(answer or ANSWER).encode(),
        **kw,  # type: ignore[arg-type]
    )


def test_one_verdict_per_interaction_in_order() -> None:
    noise = Interaction("GET", "https://management.azure.com/subscriptions/s/resourcegroups/rg?api-version=2021-04-01")
    clean = exchange("2024-07-01")
    newer = exchange("2024-07-01", {**ANSWER, "systemData": {"createdBy": "x"}})
    verdicts = check_interactions([noise, clean, newer])
    assert [(v.interaction, v.matched, v.ok) for v in verdicts] == [
        (noise, False, True),
        (clean, True, True),
        (newer, True, False),
    ]
    assert verdicts[1].operation_id == "VirtualMachineRunCommands_GetByVirtualMachine"
    assert verdicts[1].api_version == "2024-07-01"
    assert [(v.code, v.pointer) for v in verdicts[2].violations] == [("OBJECT_ADDITIONAL_PROPERTIES", "/systemData")]


def test_each_interaction_is_checked_at_its_own_version() -> None:
    with_system_data = {**ANSWER, "systemData": {"createdBy": "x"}}
    verdicts = check_interactions([exchange(v, with_system_data) for v in ("2025-04-01", "2025-11-01", "2026-04-01")])
    assert [v.ok for v in verdicts] == [False, True, True]


def test_ignore_moves_codes_out_of_the_verdict() -> None:
    (verdict,) = check_interactions([exchange("2019-01-01")], ignore=["UNKNOWN_API_VERSION"])
    assert verdict.matched
    assert verdict.ok
    assert [v.code for v in verdict.ignored] == ["UNKNOWN_API_VERSION"]
    assert [v.code for v in verdict.all_violations] == ["UNKNOWN_API_VERSION"]


def flooded_patch(tags: int, **properties: object) -> Interaction:
    """A PATCH whose ``tags`` hold ``tags`` numbers (each an INVALID_TYPE), with ``properties`` besides."""
    body = {"tags": {f"t{i}": i for i in range(tags)}, **({"properties": properties} if properties else {})}
    return Interaction("PATCH", f"https://management.azure.com{PATH}?api-version=2024-07-01", request_body=body)


def test_ignore_leaves_out_every_violation_of_a_code_past_the_listed_ones() -> None:
    """Review 13, finding 1: past 1,000 violations the list is cut to 100 and a TOO_MANY_VIOLATIONS counting the rest
    by code; ignoring INVALID_TYPE left that summary in, so 1,001 ignored violations failed where 999 passed."""
    (verdict,) = check_interactions([flooded_patch(1_500)], ignore=["INVALID_TYPE"])
    assert verdict.ok, contract_failure([verdict])
    assert total_violations(verdict.ignored) == 1_500
    assert counts_by_code(verdict.all_violations) == {"INVALID_TYPE": 1_500}


def test_ignore_keeps_the_other_codes_a_summary_counts() -> None:
    """Review 13, finding 2: what ``ignore`` does not name stays counted, listed or in the summary."""
    (flood,) = check_interactions([flooded_patch(1_500, bogus=1, runAsUser=5)])
    assert counts_by_code(flood.violations) == {"INVALID_TYPE": 1_501, "OBJECT_ADDITIONAL_PROPERTIES": 1}
    (verdict,) = check_interactions([flooded_patch(1_500, bogus=1, runAsUser=5)], ignore=["INVALID_TYPE"])
    assert counts_by_code(verdict.violations) == {"OBJECT_ADDITIONAL_PROPERTIES": 1}
    assert counts_by_code(verdict.ignored) == {"INVALID_TYPE": 1_501}
    error = contract_failure([verdict])
    assert error is not None
    assert "1 contract violation" in str(error)


def test_ignore_cannot_name_the_summary_code() -> None:
    assert "cannot be ignored" in (ignore_problem(["INVALID_TYPE", "TOO_MANY_VIOLATIONS"]) or "")
    assert "NOT_A_CODE: not a violation code" in (ignore_problem(["NOT_A_CODE"]) or "")
    assert ignore_problem(["INVALID_TYPE", "UNKNOWN_API_VERSION"]) is None


def test_an_unsupported_api_version_is_a_violation_not_a_skip() -> None:
    (verdict,) = check_interactions([exchange("2019-01-01")])
    assert [v.code for v in verdict.violations] == ["UNKNOWN_API_VERSION"]
    assert contract_failure([verdict]) is not None


def test_a_clean_run_builds_no_error() -> None:
    assert contract_failure(check_interactions([exchange("2026-04-01")])) is None
    assert contract_failure([]) is None


def test_the_error_names_each_failing_interaction_by_its_label() -> None:
    bad = exchange("2024-07-01", {"properties": {}}, source="cassette.yaml#3")
    verdicts = check_interactions([exchange("2024-07-01"), bad])
    error = contract_failure(verdicts)
    assert isinstance(error, ContractViolationError)
    text = str(error)
    assert text.startswith("run-command traffic broke the contract in 1 of 2 interaction(s):\n\n")
    assert interaction_label(bad) in text
    assert "OBJECT_MISSING_REQUIRED_PROPERTY at /location" in text


def test_the_label_is_method_url_status_and_source_masked() -> None:
    interaction = Interaction(
        "patch",
        f"https://user:pw@management.azure.com{PATH}?api-version=2024-07-01&sig=abc#frag",
        status=202,
        source="c.yaml#1",
    )
    assert interaction_label(interaction) == (
        f"PATCH https://management.azure.com{PATH}?api-version=2024-07-01&sig=*** -> 202 (c.yaml#1)"
    )


def test_an_interaction_of_the_wrong_types_is_a_violation_not_an_exception() -> None:
    odd = Interaction("GET", f"https://management.azure.com{PATH}?api-version=2024-07-01", status="200")  # type: ignore[arg-type]
    (verdict,) = check_interactions([odd])
    assert [v.code for v in verdict.violations] == ["INVALID_INTERACTION"]
    assert "status" in verdict.violations[0].message


@pytest.mark.parametrize("item", [None, {"method": "GET"}, "GET /x", 3])
def test_an_item_that_is_not_an_interaction_is_a_violation_not_an_exception(item: object) -> None:
    (verdict,) = check_interactions([item])  # type: ignore[list-item]
    assert [v.code for v in verdict.violations] == ["INVALID_INTERACTION"]
    assert f"not an Interaction: a {type(item).__name__}" in verdict.violations[0].message
    error = contract_failure([verdict])
    assert error is not None
    assert f"<not an Interaction: {type(item).__name__}>" in str(error)


def test_a_loaded_document_is_used_as_it_is() -> None:
    contract = load_contract(OFFICIAL_RUNCOMMAND)
    verdicts = check_interactions([exchange("2026-04-01", {**ANSWER, "systemData": {}})], contract=contract)
    assert [v.code for v in verdicts[0].violations] == ["UNKNOWN_API_VERSION", "OBJECT_ADDITIONAL_PROPERTIES"]
    assert isinstance(verdicts[0], InteractionVerdict)
