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


PYTEST_FUZZ = """
import pytest


@pytest.mark.runcommand_fuzz(max_examples=2, operations=["VirtualMachineRunCommands_Update"], stateful=False)
def test_fuzz(runcommand_schema):
    runcommand_schema.fuzz()
"""


def test_the_pytest_route_trusts_a_ca_bundle_and_says_so_in_one_line_when_none_is_given(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 11, finding 3: the pytest route had no way to name a CA bundle (only an undocumented
    ``REQUESTS_CA_BUNDLE``), and an untrusted certificate was ~850 lines of TLS traceback per test."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    pytester.makepyfile(test_target=PYTEST_FUZZ)
    base = ["-p", "no:cacheprovider", "-p", "no:randomly"]
    with EmulatorServer(tls=True) as server:
        assert server.ca_path is not None
        untrusted = pytester.runpytest_subprocess(*base, "--runcommand-target", server.base_url)
        untrusted.assert_outcomes(failed=1)
        output = untrusted.stdout.str()
        assert "the target's certificate is not trusted: pass --runcommand-ca-cert (runcommand_ca_cert) PEM" in output
        assert "Traceback" not in output
        assert "urllib3" not in output
        flag = pytester.runpytest_subprocess(
            *base, "--runcommand-target", server.base_url, "--runcommand-ca-cert", server.ca_path
        )
        flag.assert_outcomes(passed=1)
        pytester.makeini(f"[pytest]\nruncommand_target = {server.base_url}\nruncommand_ca_cert = {server.ca_path}\n")
        pytester.runpytest_subprocess(*base).assert_outcomes(passed=1)
        wrong = pytester.runpytest_subprocess(*base, "--runcommand-ca-cert", str(pytester.path / "test_target.py"))
        wrong.assert_outcomes(errors=1)  # the fixture fails: a usage error, one line
        assert "--runcommand-ca-cert (runcommand_ca_cert) " in wrong.stdout.str()
        assert "not a PEM CA bundle" in wrong.stdout.str()
