"""The pytest plugin: options, markers, hooks and fixtures, nothing else.

Loaded for every pytest run where the package is installed, so it imports nothing heavy at module level:
each capability's fixtures live in a light module listed in ``pytest_plugins`` and import their libraries
inside the fixture body; the contract engine is imported only when a test's traffic is checked.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_runcommand.pytest.settings import Settings, add_options, settings_from_config

if TYPE_CHECKING:
    from pytest_runcommand.report import CoverageReport
    from pytest_runcommand.traffic import TrafficRecorder

pytest_plugins: list[str] = [
    "pytest_runcommand.pytest.cassettes",
    "pytest_runcommand.pytest.emulator",
    "pytest_runcommand.pytest.azcli",
    "pytest_runcommand.pytest.fuzz",
]

MARKERS: dict[str, str] = {
    "runcommand_contract": (
        "runcommand_contract(ignore=[CODE, ...]): validate every run-command request and response the test sends "
        "or receives (httpx, the Azure SDK, the emulator, cassettes) against the api-version 2024-07-01 contract; "
        "a violation fails the test. ignore: violation codes to tolerate."
    ),
    "runcommand_fuzz": "runcommand_fuzz(max_examples=25, operations=[...], stateful=True, modes=(...), seed=None): "
    "run a test taking runcommand_schema once per run-command operation and once for the stateful sequences",
}
CONTRACT_MARKER_KWARGS = ("ignore",)

OBSERVING_FIXTURES = frozenset(
    {"runcommand_contract", "runcommand_emulator", "runcommand_emulator_server", "runcommand_schema", "runcommand_az"}
)
"""Using one of these fixtures means the test's run-command traffic counts in the coverage report."""

_SETTINGS = pytest.StashKey[Settings]()
_REPORT = pytest.StashKey["CoverageReport"]()
_RECORDER = pytest.StashKey["TrafficRecorder"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
    from pytest_runcommand.errors import UsageError

    try:
        config.stash[_SETTINGS] = settings_from_config(config)
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None


def runcommand_settings_of(config: pytest.Config) -> Settings:
    """The run's resolved settings (for the capabilities' fixtures)."""
    return config.stash.get(_SETTINGS, None) or settings_from_config(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("runcommand_contract")
        if marker is None:
            continue
        unknown = sorted(set(marker.kwargs) - set(CONTRACT_MARKER_KWARGS))
        if marker.args or unknown:
            given = ", ".join([*(repr(a) for a in marker.args), *unknown])
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.runcommand_contract takes only the keyword arguments "
                f"{', '.join(CONTRACT_MARKER_KWARGS)} (a list of violation codes to tolerate); got {given}"
            )
        ignore = marker.kwargs.get("ignore", ())
        if isinstance(ignore, str) or not all(isinstance(code, str) for code in ignore):
            raise pytest.UsageError(
                f"{item.nodeid}: runcommand_contract(ignore=...) takes a list of violation codes, got {ignore!r}"
            )


def _observed(item: pytest.Item) -> bool:
    if item.get_closest_marker("runcommand_contract") is not None:
        return True
    names = getattr(item, "fixturenames", ())
    return any(name in OBSERVING_FIXTURES for name in names)


def _checked(item: pytest.Item) -> bool:
    """Traffic is enforced (not only counted) for the marker and the fixture; cassettes check their own."""
    if item.get_closest_marker("vcr") is not None:
        return False
    return item.get_closest_marker("runcommand_contract") is not None or "runcommand_contract" in getattr(
        item, "fixturenames", ()
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    if _observed(item):
        from pytest_runcommand.traffic import TrafficRecorder

        item.stash[_RECORDER] = TrafficRecorder(label=item.nodeid).start()
    result = yield
    recorder = item.stash.get(_RECORDER, None)
    served = getattr(item, "funcargs", {}).get("runcommand_emulator_server")
    if recorder is not None and served is not None:
        recorder.watch_emulator(served.app, served.base_url)  # traffic from other processes (the Azure CLI) too
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    result = yield
    recorder = item.stash.get(_RECORDER, None)
    if recorder is None:
        return result
    recorder.stop()
    __tracebackhide__ = True
    _check_traffic(item, recorder)
    return result


def pytest_runtest_teardown(item: pytest.Item) -> None:
    recorder = item.stash.get(_RECORDER, None)
    if recorder is not None:
        recorder.stop()


def _check_traffic(item: pytest.Item, recorder: TrafficRecorder) -> None:
    from pytest_runcommand.contract import format_violations, get_contract, validate_interaction
    from pytest_runcommand.contract.violations import mask_text
    from pytest_runcommand.errors import ContractViolationError

    __tracebackhide__ = True
    contract = get_contract()
    report = _report(item.config)
    marker = item.get_closest_marker("runcommand_contract")
    ignore = set(marker.kwargs.get("ignore", ())) if marker else set()
    failures: list[str] = []
    checked = 0
    for interaction in recorder.interactions:
        if contract.match(interaction.method, interaction.url) is None:
            report.unmatched += 1
            continue
        checked += 1
        violations = validate_interaction(interaction, contract=contract)
        report.add(interaction, violations)
        kept = [v for v in violations if v.code not in ignore]
        if kept:
            failures.append(format_violations(kept, context=mask_text(interaction.describe())))
    if failures and _checked(item):
        raise ContractViolationError(
            f"run-command traffic broke the contract in {len(failures)} of {checked} interaction(s):\n\n"
            + "\n\n".join(failures)
        )


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object) -> list[str] | None:
    """``assert validate_request(...) == []`` explains itself: one line per violation, not a list of reprs."""
    if op != "==" or not isinstance(left, list) or right != [] or not left:
        return None
    from pytest_runcommand.contract.violations import Violation

    if not all(isinstance(item, Violation) for item in left):
        return None
    count = len(left)
    lines = [f"the body breaks the run-command contract: {count} violation{'s' if count != 1 else ''}"]
    lines += [f"[{item.side}] {item}" for item in left]
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Show a contract failure as its message alone: the violations are the story, not the plugin's frames."""
    report = yield
    excinfo = call.excinfo
    if excinfo is not None and report.failed:
        from pytest_runcommand.errors import ContractViolationError

        if isinstance(excinfo.value, ContractViolationError):
            report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
    return report


def _report(config: pytest.Config) -> CoverageReport:
    report = config.stash.get(_REPORT, None)
    if report is None:
        from pytest_runcommand.report import CoverageReport

        report = config.stash[_REPORT] = CoverageReport()
    return report


@pytest.fixture
def runcommand_contract(request: pytest.FixtureRequest) -> Any:
    """Validate all run-command traffic of this test (like ``@pytest.mark.runcommand_contract``).

    Yields the live :class:`~pytest_runcommand.traffic.TrafficRecorder`: ``.interactions`` holds what was sent so
    far, so a test can also inspect its own traffic.
    """
    recorder = request.node.stash.get(_RECORDER, None)
    if recorder is None:  # requested dynamically, after setup began
        from pytest_runcommand.traffic import TrafficRecorder

        recorder = request.node.stash[_RECORDER] = TrafficRecorder(label=request.node.nodeid).start()
    return recorder


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    report = config.stash.get(_REPORT, None)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the findings to the controller
        if report is not None:
            workeroutput["runcommand_coverage"] = report.to_dict()
        return
    settings = runcommand_settings_of(config)
    if report is not None and settings.report:
        from pathlib import Path

        report.write(Path(settings.report))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get("runcommand_coverage")
    if data:
        _report(node.config).merge(data)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = config.stash.get(_REPORT, None)
    if report is None or getattr(config, "workeroutput", None) is not None or not report.seen:
        return
    terminalreporter.section("run-command contract coverage")
    for line in report.terminal_lines():
        terminalreporter.write_line(line)
    settings = runcommand_settings_of(config)
    if settings.report:
        from pathlib import Path

        json_path = Path(settings.report)
        terminalreporter.write_line(f"report: {json_path} and {json_path.with_suffix('.html')}")
