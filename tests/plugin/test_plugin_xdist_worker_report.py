"""A worker's coverage findings that cannot be read: the controller names the worker and the field, fails the run
(exit 3), and ends its session normally (no INTERNALERROR traceback); the other workers' findings are kept."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import os
import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    output = getattr(session.config, "workeroutput", None)
    if output is not None and os.environ.get("PYTEST_XDIST_WORKER") == "gw1":
        output["runcommand_coverage"] = {"operations": {"VirtualMachineRunCommands_Update": {"calls": "abc"}}}
"""

TESTS = """
import pytest


@pytest.mark.parametrize("index", range(4))
def test_one(index):
    pass
"""


def test_a_malformed_worker_report_is_named_and_fails_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # this suite's own worker, if it runs under xdist
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_workers=TESTS)
    report = pytester.path / "coverage.json"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", f"--runcommand-report={report}")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert "the coverage findings of xdist worker gw1" in output
    assert "operations.VirtualMachineRunCommands_Update.calls" in output
    assert json.loads(report.read_text())["operations"] is not None  # the report is still written
