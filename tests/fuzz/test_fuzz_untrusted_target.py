"""Fuzzing an https target whose certificate is not trusted stops with a line that says to pass ``--ca-cert``."""

from __future__ import annotations

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.emulator.server import EmulatorServer

ARGUMENTS = ["--max-examples", "1", "--operation", "VirtualMachineRunCommands_Update", "--no-stateful"]


def test_an_untrusted_certificate_is_named_with_the_flag_that_trusts_it(capsys: pytest.CaptureFixture[str]) -> None:
    with EmulatorServer(tls=True) as server:
        assert main(["fuzz", "--target", server.base_url, *ARGUMENTS]) == 2
        err = capsys.readouterr().err
        assert "CERTIFICATE_VERIFY_FAILED" in err
        assert "certificate is not trusted: pass --ca-cert PEM" in err
        assert server.ca_path is not None
        assert main(["fuzz", "--target", server.base_url, "--ca-cert", server.ca_path, *ARGUMENTS]) == 0
        assert "--ca-cert" not in capsys.readouterr().err
