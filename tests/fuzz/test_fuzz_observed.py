"""Fuzz traffic seen by the ``runcommand_contract`` recorder: every answer keeps its body (the action's too)."""

from __future__ import annotations

import json

import pytest

ACTION_FUZZ_UNDER_THE_CONTRACT_MARKER = """
import pytest

@pytest.mark.runcommand_contract
@pytest.mark.runcommand_fuzz(max_examples=5, operations=["{operation}"], stateful=False, modes=("negative",))
def test_action(runcommand_schema):
    runcommand_schema.run()
"""


@pytest.mark.parametrize("operation", ["VirtualMachines_RunCommand", "VirtualMachineRunCommands_CreateOrUpdate"])
def test_error_answers_reach_the_coverage_report_with_their_body(pytester: pytest.Pytester, operation: str) -> None:
    """Negative cases answered 400 with a CloudError: the recorder must see that body (no INVALID_CLOUD_ERROR)."""
    pytester.makepyfile(test_observed=ACTION_FUZZ_UNDER_THE_CONTRACT_MARKER.format(operation=operation))
    done = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json")
    seen = json.loads((pytester.path / "out/coverage.json").read_text())["operations"][operation]
    assert seen["statuses_seen"] == {"400": 5}
    assert "INVALID_CLOUD_ERROR" not in seen["rules_fired"], seen["rules_fired"]
    # the negative requests break the contract on purpose: the marker holds only their answers to it
    done.assert_outcomes(passed=1)


def test_a_request_invalid_on_purpose_is_not_a_violation_but_a_bad_answer_to_it_is() -> None:
    from pytest_runcommand.contract.traffic import check_interactions
    from pytest_runcommand.interactions import Interaction, invalid_on_purpose, sending_invalid_on_purpose

    url = (
        "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
        "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
    )
    bad_request = {"properties": {"timeoutInSeconds": "not a number"}}
    answered = {"error": {"code": "InvalidRequestContent", "message": "bad"}}
    cases = [
        Interaction("PATCH", url, {}, bad_request, 400, {"content-type": "application/json"}, answered),
        Interaction("PATCH", url, {}, bad_request, 400, {}, {"not": "a CloudError"}),
    ]
    plain = check_interactions(cases)
    assert all(any(v.side == "request" for v in verdict.violations) for verdict in plain)
    for interaction in cases:
        interaction.request_invalid_on_purpose = True
    good, bad = check_interactions(cases)
    assert good.ok
    assert {v.side for v in good.ignored} == {"request"}
    assert [v.side for v in bad.violations] == ["response"] * len(bad.violations)
    assert bad.violations
    assert not sending_invalid_on_purpose()
    with invalid_on_purpose():
        assert sending_invalid_on_purpose()
    assert not sending_invalid_on_purpose()
