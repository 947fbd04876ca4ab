"""Every exchange the emulator answers in these tests is checked against the contract.

The two emulator fixtures are wrapped: an observer on the app validates each response with
``validate_response`` (for paths outside the contract, that it is a CloudError), and the test fails at
teardown if any response broke the contract or the emulator hit an internal error. An answer a scripted fault
shaped (``x-runcommand-fault``) is checked like any other, except that its status may be 5xx (the fault's own), and
a dropped exchange (no answer at all) has nothing to check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_runcommand.contract import Violation, format_violations, get_contract, validate_response
from pytest_runcommand.emulator.faults import FAULT_HEADER
from pytest_runcommand.emulator.handles import InProcessEmulator, ServedEmulator
from pytest_runcommand.interactions import Interaction

try:  # loaded before pytester's in-process runs, which unload what they import: cryptography's bindings load once
    import trustme  # noqa: F401
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: F401
except ImportError:  # pragma: no cover - the TLS tests skip without them
    pass

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


class ResponseChecker:
    """Collects contract violations of everything the app answers."""

    def __init__(self) -> None:
        self.seen = 0
        self.problems: list[str] = []

    def __call__(self, interaction: Interaction) -> None:
        self.seen += 1
        try:
            found = check_response(interaction)
        except AssertionError as error:
            self.problems.append(f"{error}")
            return
        if found:
            self.problems.append(format_violations(found, interaction.describe()))


def check_response(interaction: Interaction) -> list[Violation]:
    """Violations of one answer. Outside the contract's operations (the identity and resources services, unknown
    paths) an error is a CloudError, or Entra ID's error shape on the token endpoint. Only a scripted fault may
    answer 5xx or drop the exchange."""
    scripted = interaction.response_header(FAULT_HEADER) is not None
    if interaction.status is None:
        assert scripted, f"an exchange without an answer that no scripted fault dropped: {interaction.describe()}"
        return []
    if not scripted:
        assert interaction.status < 500, f"the emulator answered {interaction.status}: {interaction.describe()}"
    if get_contract().match(interaction.method, interaction.url) is not None:
        return validate_response(
            interaction.method,
            interaction.url,
            interaction.status,
            interaction.response_body,
            interaction.response_headers,
        )
    if interaction.status < 400:
        return []
    if interaction.method.upper() == "HEAD":
        assert not interaction.response_body, f"a HEAD answer has no body: {interaction.describe()}"
        return []
    body = interaction.response_json
    assert isinstance(body, dict), interaction.describe()
    if interaction.url.split("?")[0].endswith("/oauth2/v2.0/token") and isinstance(body.get("error"), str):
        assert isinstance(body["error_codes"], list), interaction.describe()
        assert body["error_description"].startswith("AADSTS"), interaction.describe()
        return []
    assert isinstance(body["error"]["code"], str), interaction.describe()
    assert isinstance(body["error"]["message"], str), interaction.describe()
    return []


@pytest.fixture
def runcommand_emulator(runcommand_emulator: InProcessEmulator) -> Iterator[InProcessEmulator]:
    """The plugin's in-process emulator, with every response checked against the contract."""
    checker = ResponseChecker()
    runcommand_emulator.app.observers.append(checker)
    yield runcommand_emulator
    assert not runcommand_emulator.app.internal_errors, runcommand_emulator.app.internal_errors[0]
    assert not checker.problems, "\n".join(checker.problems)


@pytest.fixture
def runcommand_emulator_server(runcommand_emulator_server: ServedEmulator) -> Iterator[ServedEmulator]:
    """The plugin's TLS emulator server, with every response checked against the contract."""
    checker = ResponseChecker()
    runcommand_emulator_server.app.observers.append(checker)
    try:
        yield runcommand_emulator_server
        assert not runcommand_emulator_server.app.internal_errors, runcommand_emulator_server.app.internal_errors[0]
        assert not checker.problems, "\n".join(checker.problems)
    finally:
        runcommand_emulator_server.app.observers.remove(checker)
