"""Fuzz the run-command contract with schemathesis: one test per operation, plus the stateful sequences.

The target is ``--runcommand-target`` (the in-process emulator by default; a URL of your own service works too).
From the shell, the same engine: ``pytest-runcommand fuzz --max-examples 25``.

Here the managed run commands (``.../runCommands/{name}`` on a VM and a scale-set VM): the operations the
emulator serves. Leave ``operations`` out to fuzz every operation of the contract.
"""

import pytest

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, operations_at

MANAGED = list(operations_at(DEFAULT_API_VERSION, "managed"))


@pytest.mark.runcommand_fuzz(max_examples=10, operations=MANAGED)
def test_run_command_contract(runcommand_schema):
    runcommand_schema.fuzz()
