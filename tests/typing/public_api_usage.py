"""Typical use of the public API; tests/test_public_api.py runs mypy --strict over this file."""

from __future__ import annotations

from pathlib import Path

from pytest_runcommand import (
    BUNDLED_SPEC_PATH,
    SUPPORTED_API_VERSIONS,
    Contract,
    ContractViolationError,
    Interaction,
    Violation,
    format_violations,
    get_contract,
    load_contract,
    validate_interaction,
    validate_request,
    validate_response,
)

URL = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"

request_violations: list[Violation] = validate_request(
    "PATCH", URL, {"properties": {}}, {"Content-Type": "application/json"}
)
response_violations: list[Violation] = validate_response("PATCH", URL, 200, b"{}", None)
codes: list[str] = [v.code for v in request_violations + response_violations]
pointers: list[str] = [v.pointer for v in request_violations]
text: str = format_violations(response_violations, context="PATCH ...")
contract: Contract = get_contract()
other: Contract = load_contract(Path("runCommand.json"))
spec: Path = BUNDLED_SPEC_PATH
known: bool = "2024-07-01" in SUPPORTED_API_VERSIONS
both: list[Violation] = validate_interaction(
    Interaction("GET", URL, status=200, response_body=b"{}"), contract=contract
)
error: AssertionError = ContractViolationError(text)
