"""The pytest plugin: options, markers, hooks and fixtures, nothing else.

Loaded for every pytest run where the package is installed, so it imports nothing heavy at module level:
each capability's fixtures live in a light module listed in ``pytest_plugins`` and import their libraries
inside the fixture body.
"""

from __future__ import annotations

import pytest

pytest_plugins: list[str] = ["pytest_runcommand.cassettes.fixtures", "pytest_runcommand.emulator.fixtures"]

MARKERS: dict[str, str] = {
    "runcommand_contract": (
        "runcommand_contract: validate every run-command request and response the test sends or receives "
        "against the api-version 2024-07-01 contract; a violation fails the test."
    ),
}


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
