"""The contract coverage report in a pytest run: the threshold, the files, the xdist merge and the terminal section.

The plugin's traffic check adds every test's interactions to :func:`coverage_report`; this module turns the total
into what CI reads: ``--runcommand-fail-under`` (the run fails below it), ``--runcommand-report`` (JSON and HTML,
always written when asked, even with no traffic) and the terminal section. Under pytest-xdist each worker hands its
report to the controller, which merges them before the threshold is applied.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_runcommand.pytest.settings import runcommand_settings_of

if TYPE_CHECKING:
    from pytest_runcommand.report import CoverageReport

__all__ = ["coverage_report"]

_REPORT = pytest.StashKey["CoverageReport"]()
_WRITE_ERROR = pytest.StashKey[str]()
_MERGE_ERROR = pytest.StashKey[str]()


def coverage_report(config: pytest.Config) -> CoverageReport:
    """The run's coverage report (made on first use: it loads the contract), with the run's id (an xdist worker's
    findings merge into the controller's, which holds the id)."""
    report = config.stash.get(_REPORT, None)
    if report is None:
        from pytest_runcommand.report import CoverageReport

        report = config.stash[_REPORT] = CoverageReport()
        if not _is_worker(config):
            import uuid

            report.runs.add(uuid.uuid4().hex)
    return report


def _tests_ran(config: pytest.Config) -> bool:
    """Not a run that only collects or plans (no traffic can be there to measure)."""
    option = config.option
    return not (option.collectonly or getattr(option, "setuponly", False) or getattr(option, "setupplan", False))


def _is_worker(config: pytest.Config) -> bool:
    return getattr(config, "workeroutput", None) is not None


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    """After every test ran (and every xdist worker reported), apply ``--runcommand-fail-under``."""
    result = yield
    config = session.config
    threshold = runcommand_settings_of(config).fail_under
    if threshold is None or _is_worker(config) or not _tests_ran(config):
        return result
    if not coverage_report(config).meets(threshold):
        session.testsfailed += 1
    return result


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    report = config.stash.get(_REPORT, None)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the findings to the controller
        if report is not None:
            workeroutput["runcommand_coverage"] = report.to_dict()
        return
    if config.stash.get(_MERGE_ERROR, None):
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    settings = runcommand_settings_of(config)
    if settings.report:  # asked for: always written, even when no test produced run-command traffic
        from pathlib import Path

        try:
            coverage_report(config).write(Path(settings.report))
        except OSError as error:
            config.stash[_WRITE_ERROR] = (
                f"could not write the coverage report {settings.report}: {error.strerror or error}"
            )
            session.exitstatus = pytest.ExitCode.USAGE_ERROR


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get("runcommand_coverage")
    if data:
        from pytest_runcommand.errors import InputError

        try:
            coverage_report(node.config).merge(data, f"the coverage findings of xdist worker {_worker_id(node)}")
        except InputError as error:  # the run goes on; the report would miss a worker's calls, so the run fails
            node.config.stash[_MERGE_ERROR] = str(error)


def _worker_id(node: Any) -> str:
    """The xdist worker's id (``gw0``) of a node going down."""
    return str(getattr(getattr(node, "gateway", None), "id", "?"))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    settings = runcommand_settings_of(config)
    report = config.stash.get(_REPORT, None)
    if not settings.coverage_wanted and (report is None or not report.seen):
        return
    report = coverage_report(config)
    terminalreporter.section("run-command contract coverage")
    lines = report.terminal_lines() if report.seen else ["no test exercised a run-command operation"]
    for line in lines:
        terminalreporter.write_line(line)
    if settings.fail_under is not None and _tests_ran(config):
        verdict = report.verdict(settings.fail_under)
        terminalreporter.write_line(verdict, red=not report.meets(settings.fail_under), bold=True)
    if config.stash.get(_MERGE_ERROR, None):
        terminalreporter.write_line(config.stash[_MERGE_ERROR], red=True, bold=True)
    if config.stash.get(_WRITE_ERROR, None):
        terminalreporter.write_line(config.stash[_WRITE_ERROR], red=True, bold=True)
    elif settings.report:
        from pathlib import Path

        json_path = Path(settings.report)
        terminalreporter.write_line(f"report: {json_path} and {json_path.with_suffix('.html')}")
