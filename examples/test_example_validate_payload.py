"""Validate a payload in a unit test: no server, no network, just the contract.

Use it where your code builds a run-command body (a deployment tool, an SDK wrapper) and you want the test to fail
the moment the body drifts from what Azure documents.
"""

from __future__ import annotations

from pytest_runcommand import format_violations, validate_request, validate_response
from pytest_runcommand.models import patch_body

URL = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Compute/virtualMachines/web-01/runCommands/rotate-logs?api-version=2024-07-01"
)


def build_rotate_logs_patch(days: int) -> dict[str, object]:
    """The code under test: what your tool would send to update a run command."""
    return patch_body(
        script=f"find /var/log -mtime +{days} -delete",
        parameters={"days": str(days)},
        timeout_in_seconds=300,
        tags={"owner": "platform"},
    )


def test_the_patch_my_tool_sends_conforms() -> None:
    violations = validate_request("PATCH", URL, build_rotate_logs_patch(7))
    assert violations == [], format_violations(violations)


def test_a_broken_body_names_the_rule_and_the_place() -> None:
    body = build_rotate_logs_patch(7)
    body["properties"]["source"]["commandId"] = "RunShellScript"  # type: ignore[index]
    (violation,) = validate_request("PATCH", URL, body)
    assert (violation.code, violation.pointer) == ("MULTIPLE_SCRIPT_SOURCES", "/properties/source")


def test_a_recorded_answer_never_echoes_the_password() -> None:
    answer = b"""{"name": "rotate-logs", "location": "westus",
                 "properties": {"provisioningState": "Updating", "runAsPassword": "oops"}}"""
    codes = [violation.code for violation in validate_response("PATCH", URL, 200, answer)]
    assert codes == ["SECRET_PROPERTY"]
