"""The served emulator the CLI tests drive must never fail inside: no internal error, no 5xx answer.

The contract side of each exchange is checked by the plugin's ``runcommand_contract`` marker in the test modules.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_runcommand.emulator.handles import ServedEmulator
from pytest_runcommand.interactions import Interaction


@pytest.fixture
def runcommand_emulator_server(runcommand_emulator_server: ServedEmulator) -> Iterator[ServedEmulator]:
    """The plugin's served emulator; the test fails at teardown on an internal error or a 5xx answer."""
    failed: list[str] = []

    def watch(interaction: Interaction) -> None:
        if interaction.status is None or interaction.status >= 500:
            failed.append(interaction.describe())

    runcommand_emulator_server.app.observers.append(watch)
    yield runcommand_emulator_server
    assert not runcommand_emulator_server.app.internal_errors, runcommand_emulator_server.app.internal_errors[0]
    assert not failed, "the emulator answered 5xx (or nothing):\n" + "\n".join(failed)
