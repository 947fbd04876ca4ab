"""Fuzz the run-command contract with schemathesis: one test per operation, plus the stateful sequences.

The target is ``--runcommand-target`` (the in-process emulator by default; a URL of your own service works too).
From the shell, the same engine: ``pytest-runcommand fuzz --max-examples 25``.
"""

import pytest


@pytest.mark.runcommand_fuzz(max_examples=10)
def test_run_command_contract(runcommand_schema):
    runcommand_schema.fuzz()
