"""Typical use of the public API; the one mypy --strict run (tests/test_code_quality.py) checks this file."""

from __future__ import annotations

from pathlib import Path

from pytest_runcommand import (
    BUNDLED_SPEC_PATH,
    DEFAULT_API_VERSION,
    SUPPORTED_API_VERSIONS,
    Contract,
    ContractViolationError,
    InProcessEmulator,
    Interaction,
    RunCommandError,
    ServedEmulator,
    TrafficRecorder,
    Violation,
    check_interactions,
    format_violations,
    get_contract,
    load_contract,
    validate_interaction,
    validate_request,
    validate_response,
)

URL = f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version={DEFAULT_API_VERSION}"

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
known: bool = DEFAULT_API_VERSION in SUPPORTED_API_VERSIONS
exchange = Interaction("GET", URL, status=200, response_body=b"{}")
both: list[Violation] = validate_interaction(exchange, contract=contract)
clean: bool = all(verdict.ok for verdict in check_interactions([exchange], ignore=["INVALID_TYPE"]))
error: AssertionError = ContractViolationError(text)
base: RunCommandError = ContractViolationError(text)


def test_with_the_fixtures(
    runcommand_emulator: InProcessEmulator,
    runcommand_emulator_server: ServedEmulator,
    runcommand_contract: TrafficRecorder,
) -> None:
    path: str = runcommand_emulator.run_command_path("rc1")
    status: int = runcommand_emulator.client.put(path, json={"location": "westus"}).status_code
    ca: str = runcommand_emulator_server.ca_path
    seen: list[Interaction] = runcommand_contract.interactions
    assert status
    assert ca
    assert seen is not None
