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
    # the negative requests break the contract on purpose, so the test itself fails; the report is what matters
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json")
    seen = json.loads((pytester.path / "out/coverage.json").read_text())["operations"][operation]
    assert seen["statuses_seen"] == {"400": 5}
    assert "INVALID_CLOUD_ERROR" not in seen["rules_fired"], seen["rules_fired"]
