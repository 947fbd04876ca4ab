"""A path in the ini file is relative to the ini file's folder, as pytest reads paths there (review 12, finding 8: run
from a subfolder, as an IDE runs a test, ``runcommand_ca_cert = ../ca.pem`` was "no such file")."""

from __future__ import annotations

import pytest


def test_an_ini_report_path_is_the_ini_files_wherever_pytest_runs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nruncommand_report = reports/coverage.json\n")
    sub = pytester.mkpydir("sub")
    (sub / "test_plain.py").write_text("def test_x():\n    assert True\n")
    monkeypatch.chdir(sub)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "test_plain.py")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "reports" / "coverage.json").is_file()
    assert not (sub / "reports").exists()


def test_an_ini_ca_bundle_is_the_ini_files(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini("[pytest]\nruncommand_ca_cert = missing-ca.pem\n")
    sub = pytester.mkpydir("sub")
    (sub / "test_fuzz.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.runcommand_fuzz(max_examples=1, operations=['VirtualMachineRunCommands_Update'], stateful=False)\n"
        "def test_f(runcommand_schema):\n    runcommand_schema.fuzz()\n"
    )
    monkeypatch.chdir(sub)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "test_fuzz.py", "--runcommand-target", "https://127.0.0.1:9"
    )
    # refused once, before any test (review 14, finding 14: each fuzz test errored on its own), named where the ini
    # means
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{pytester.path / 'missing-ca.pem'}: no such file" in result.stderr.str()
