"""Fuzzing an https target whose certificate is not trusted stops with a line that says to pass ``--ca-cert``."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.emulator.server import EmulatorServer

ARGUMENTS = ["--max-examples", "1", "--operation", "VirtualMachineRunCommands_Update", "--no-stateful"]


def test_an_untrusted_certificate_is_named_with_the_flag_that_trusts_it(capsys: pytest.CaptureFixture[str]) -> None:
    with EmulatorServer(tls=True) as server:
        assert main(["fuzz", "--target", server.base_url, *ARGUMENTS]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err  # one line (review 12, finding 3: the TLS error, then the hint)
        assert "certificate is not trusted: pass --ca-cert PEM" in err
        other = _other_ca(server)
        assert main(["fuzz", "--target", server.base_url, "--ca-cert", other, *ARGUMENTS]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert f"the target's certificate is not trusted by --ca-cert {other}: give the CA bundle that signed it" in err
        assert server.ca_path is not None
        assert main(["fuzz", "--target", server.base_url, "--ca-cert", server.ca_path, *ARGUMENTS]) == 0
        assert "--ca-cert" not in capsys.readouterr().err


def _other_ca(server: EmulatorServer) -> str:
    """A CA bundle that did not sign ``server``'s certificate: another emulator's (each start makes a new CA)."""
    with EmulatorServer(tls=True) as other:
        assert other.ca_path is not None
        path = str(Path(server.ca_path or ".").with_name("other-ca.pem"))
        Path(path).write_bytes(Path(other.ca_path).read_bytes())
    return path


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
        assert "During handling" not in output
        stale = pytester.runpytest_subprocess(
            *base, "--runcommand-target", server.base_url, "--runcommand-ca-cert", _other_ca(server)
        )
        stale.assert_outcomes(failed=1)  # a CA bundle of an earlier emulator: named, in one line
        assert "is not trusted by --runcommand-ca-cert (runcommand_ca_cert) " in stale.stdout.str()
        assert "urllib3" not in stale.stdout.str()
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


def test_the_pytest_route_says_in_one_line_that_nothing_listens_or_that_the_target_speaks_tls(
    pytester: pytest.Pytester,
) -> None:
    """Review 13, findings 6 and 10: from pytest, a target where nothing listens was ~700 lines of urllib3 traceback
    per test, and ``http://`` against the TLS emulator a failure per operation, as if the emulator were broken."""
    import socket

    pytester.makepyfile(test_target=PYTEST_FUZZ)
    base = ("-p", "no:cacheprovider", "-p", "no:randomly")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there
    nowhere = pytester.runpytest_subprocess(*base, "--runcommand-target", f"http://127.0.0.1:{port}")
    nowhere.assert_outcomes(failed=1)
    nowhere.stdout.fnmatch_lines(["*nothing answers at the target (--runcommand-target): is it running, at that*"])
    assert "Traceback" not in nowhere.stdout.str()
    assert "urllib3" not in nowhere.stdout.str()
    with EmulatorServer(tls=True) as server:
        plain = pytester.runpytest_subprocess(*base, "--runcommand-target", server.base_url.replace("https", "http"))
    plain.assert_outcomes(failed=1)
    plain.stdout.fnmatch_lines(
        ["*speaks https on that port (the emulator started with --tls): give --runcommand-target*"]
    )
    assert "target_answers" not in plain.stdout.str()


def test_https_to_a_port_without_tls_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with EmulatorServer(tls=False) as server:
        assert main(["fuzz", "--target", server.base_url.replace("http:", "https:"), *ARGUMENTS]) == 2
    ours = [line for line in capsys.readouterr().err.splitlines() if line.startswith("pytest-runcommand")]
    # (the server's own log record of the handshake it could not read may show too, through whatever handlers
    # earlier tests of this process left on uvicorn's loggers: not the command's output)
    assert ours == ["pytest-runcommand fuzz: the target does not speak TLS on that port: give --target http://..."]
