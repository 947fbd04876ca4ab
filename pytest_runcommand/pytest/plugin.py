"""The pytest plugin: options, markers, hooks and the ``runcommand_contract`` fixture, nothing else.

Loaded for every pytest run where the package is installed, so it imports nothing heavy at module level: each
capability's fixtures live in a light module of their own (``CAPABILITY_MODULES``) that declares, through
:mod:`pytest_runcommand.pytest.settings`, which fixtures carry traffic; the contract engine is imported only when
a test's traffic is checked.

One ``pytest_runtest_call`` wrapper checks a test's traffic, whatever carried it: what the recorder saw (httpx,
requests, a served emulator's side) plus, for a test with a vcr cassette, the cassette's interactions, each
exchange once. Every test's traffic counts in the coverage report, a failing test's too.
"""

from __future__ import annotations

import atexit
import gc
import sys
from collections.abc import Generator
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import pytest

from pytest_runcommand.pytest import CAPABILITY_MODULES
from pytest_runcommand.pytest.coverage import coverage_report
from pytest_runcommand.pytest.settings import add_options, long_fixtures, runcommand_settings_of, traffic_fixtures

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_runcommand.interactions import Interaction
    from pytest_runcommand.traffic import TrafficRecorder

pytest_plugins: list[str] = list(CAPABILITY_MODULES)

CONTRACT = "runcommand_contract"
SLOW = "slow"
MARKERS: dict[str, str] = {
    CONTRACT: (
        "runcommand_contract(ignore=[CODE, ...]): validate every run-command request and response the test sends "
        "or receives (httpx, the Azure SDK, the emulator, cassettes) against the contract of its api-version; "
        "a violation fails the test. ignore: violation codes to tolerate."
    ),
    SLOW: (
        "slow: a long test (the load test, long fuzz runs); CI runs it, deselect locally with -m 'not slow'; "
        "under pytest-xdist the slow tests are spread over the first two thirds of the run"
    ),
}
CONTRACT_MARKER_KWARGS = ("ignore",)
VALIDATION_MODULE = "pytest_runcommand.contract.validate"
XDIST_CONTROLLER = "dsession"
"""The name pytest-xdist registers its controller's plugin under (in its ``pytest_configure``, when it runs workers)."""

_RECORDER = pytest.StashKey["TrafficRecorder"]()
_VALIDATED = pytest.StashKey["list[tuple[Interaction, list[Any]]]"]()
_UNDO = pytest.StashKey["list[Callable[[], None]]"]()
_SERVED = pytest.StashKey["set[str]"]()
_WRONG_MARKER = pytest.StashKey[str]()
"""A test's wrong contract-marker arguments, said at its set-up."""


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
    from pytest_runcommand.errors import UsageError

    try:
        runcommand_settings_of(config)
    except UsageError as error:
        raise pytest.UsageError(str(error)) from None
    if getattr(config, "workerinput", None) is not None:
        freeze_heap_at_exit()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    from pytest_runcommand.pytest.log_secrets import install_traffic_log_filter

    install_traffic_log_filter(session.config)  # pytest's logging plugin exists from its (trylast) configure on
    if session.config.pluginmanager.get_plugin(XDIST_CONTROLLER) is not None:
        freeze_heap_at_exit()  # the controller of -n N: it runs no test, and its exit ends every such run


_FREEZE_AT_EXIT: list[bool] = []


def freeze_heap_at_exit() -> None:
    """In a pytest-xdist worker, and in the controller of its workers: at exit, spare the interpreter's shutdown
    collections the whole heap.

    The controller waits for every worker process to end, so a worker's exit is part of every ``-n N`` run's wall
    time, and the controller's own exit ends the run. After pytest's own end of session (its last garbage
    collection, which reports unraisable exceptions) and after every exit hook registered later (atexit calls them
    first), the live objects are moved to the permanent generation (:func:`gc.freeze`), which the shutdown
    collections skip: with schemathesis and hypothesis loaded, a worker's heap is 150-200k objects and those walks
    cost ~0.3 s of CPU; the controller, which runs no test, holds pytest's and the plugins' ~75k (~0.07 s). Reference
    counting still frees what the module teardown releases; as Python says of any exit, a ``__del__`` of an object in
    a reference cycle may not run. A ``-n 0`` run, where the tests ran in the process, keeps Python's usual exit.
    Once per process.
    """
    if not _FREEZE_AT_EXIT:
        _FREEZE_AT_EXIT.append(True)
        atexit.register(gc.freeze)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _check_contract_markers(items)
    if getattr(config, "workerinput", None) is not None:  # a pytest-xdist worker: every worker orders alike
        items[:] = spread_long_tests(items, long_fixtures())


def spread_long_tests(items: list[pytest.Item], long: frozenset[str]) -> list[pytest.Item]:
    """The long tests (a fixture declared long, or the ``slow`` marker) spread over the first two thirds of the rest.

    pytest-xdist hands out consecutive chunks: long tests bunched together load one worker, and a long test near the
    end keeps one worker busy while the others idle. Each group keeps its own order.
    """

    def is_long(item: pytest.Item) -> bool:
        return bool(long.intersection(getattr(item, "fixturenames", ()))) or item.get_closest_marker(SLOW) is not None

    longs = [is_long(item) for item in items]
    slow = [item for item, flag in zip(items, longs, strict=True) if flag]
    if not slow or len(slow) == len(items):
        return items
    quick = [item for item, flag in zip(items, longs, strict=True) if not flag]
    step = 2 * len(quick) // (3 * len(slow))
    ordered: list[pytest.Item] = []
    for index, item in enumerate(slow):
        ordered += [item, *quick[index * step : (index + 1) * step]]
    return ordered + quick[len(slow) * step :]


def _check_contract_markers(items: list[pytest.Item]) -> None:
    """Note each test whose contract marker's arguments are wrong: that test fails at set-up with one line (the
    others run, as for a wrong fuzz marker)."""
    for item in items:
        marker = item.get_closest_marker(CONTRACT)
        if marker is not None:
            wrong = _contract_marker_error(marker)
            if wrong is not None:
                item.stash[_WRONG_MARKER] = f"{item.nodeid}: {wrong}"


def _contract_marker_error(marker: pytest.Mark) -> str | None:
    """What is wrong with a contract marker's arguments (None: nothing)."""
    takes = f"@pytest.mark.{CONTRACT} takes only ignore=[CODE, ...] (violation codes to tolerate)"
    unknown = sorted(set(marker.kwargs) - set(CONTRACT_MARKER_KWARGS))
    if marker.args or unknown:
        return f"{takes}; got {', '.join([*(repr(a) for a in marker.args), *unknown])}"
    ignore = marker.kwargs.get("ignore", ())
    if isinstance(ignore, str | bytes) or not isinstance(ignore, list | tuple | set | frozenset):
        return f"{takes}; got ignore={ignore!r}"[:500]
    if not all(isinstance(code, str) for code in ignore):
        return f"{takes}; got ignore={ignore!r} (not all codes are strings)"[:500]
    if ignore:
        from pytest_runcommand.contract.traffic import ignore_problem

        problem = ignore_problem(ignore)
        if problem is not None:
            return f"{CONTRACT}(ignore=...): {problem}"
    return None


# -- which tests, and what they sent ------------------------------------------------------------------------------


def _enforced(item: pytest.Item) -> bool:
    """The marker or the fixture: a violation fails the test (otherwise traffic is only counted)."""
    return item.get_closest_marker(CONTRACT) is not None or CONTRACT in getattr(item, "fixturenames", ())


def _observed(item: pytest.Item) -> bool:
    if _enforced(item) or item.get_closest_marker("vcr") is not None:
        return True
    if runcommand_settings_of(item.config).coverage_wanted:
        return True
    declared = traffic_fixtures()
    return any(name in declared for name in getattr(item, "fixturenames", ()))


def _start_recording(item: pytest.Item) -> TrafficRecorder:
    recorder = item.stash.get(_RECORDER, None)
    if recorder is None:
        from pytest_runcommand.traffic import TrafficRecorder

        recorder = item.stash[_RECORDER] = TrafficRecorder(label=item.nodeid).start()
    return recorder


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    if _observed(item):
        _start_recording(item)
    result = yield
    wrong = item.stash.get(_WRONG_MARKER, None)
    if wrong is not None:  # once every plugin's set-up ran: their teardowns expect it
        pytest.fail(wrong, pytrace=False)
    funcargs = getattr(item, "funcargs", None) or {}
    for name in traffic_fixtures().keys() & funcargs.keys():  # a served value cached in a wider scope
        _serve(item, name, funcargs[name])
    return result


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    value = yield
    if fixturedef.argname in traffic_fixtures() and isinstance(request.node, pytest.Item):
        _serve(request.node, fixturedef.argname, value)  # at once: the fixtures built on it may call it already
    return value


def _serve(item: pytest.Item, name: str, value: Any) -> None:
    """A served fixture's app is watched (requests other processes send count) and reachable under
    ``--block-network`` while the test runs; once per test and server."""
    declared = traffic_fixtures()[name]
    if declared.served is None or value is None:
        return
    try:
        app, base_url = declared.served(value)
    except AttributeError:  # not a live handle (--setup-plan hands placeholders)
        return
    served = item.stash.setdefault(_SERVED, set())
    if base_url in served:
        return
    served.add(base_url)
    from pytest_runcommand.pytest.loopback import exempt, served_address

    address = served_address(base_url)
    if address is not None:
        item.stash.setdefault(_UNDO, []).append(exempt(address))
    recorder = item.stash.get(_RECORDER, None)
    if recorder is not None:
        recorder.watch_emulator(app, base_url)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """The one traffic check: after the test body, over everything that carried its run-command traffic."""
    with _validations_observed(item):
        try:
            result = yield
        except BaseException:
            _finish(item, passed=False)
            raise
    __tracebackhide__ = True
    _finish(item, passed=True)
    return result


def _validations_observed(item: pytest.Item) -> AbstractContextManager[None]:
    """Count the test's direct validate_request/validate_response calls (free when the engine was never loaded:
    then the test module cannot have bound them)."""
    validated = item.stash[_VALIDATED] = []
    if VALIDATION_MODULE not in sys.modules:
        return nullcontext()
    from pytest_runcommand.traffic import observe_validations

    module = getattr(item, "module", None)
    namespaces = [vars(module)] if module is not None else []
    return observe_validations(namespaces, lambda interaction, violations: validated.append((interaction, violations)))


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        _finish(item, passed=False)  # a test whose setup failed: its traffic still counts
        undo_list: list[Callable[[], None]] = item.stash.get(_UNDO, [])
        for undo in reversed(undo_list):
            undo()
        item.stash[_UNDO] = []
        item.stash[_SERVED] = set()


def _finish(item: pytest.Item, *, passed: bool) -> None:
    """Stop recording; count the test's traffic and validations; fail a passing enforced test on a violation."""
    __tracebackhide__ = True
    recorder = item.stash.get(_RECORDER, None)
    validated = item.stash.get(_VALIDATED, [])
    item.stash[_VALIDATED] = []
    if recorder is not None:
        del item.stash[_RECORDER]
        recorder.stop()
    if not validated and recorder is None:
        return
    report = coverage_report(item.config)
    for interaction, violations in validated:
        report.add(interaction, violations, test=item.nodeid)
    interactions = _carried_traffic(item, recorder.interactions) if recorder is not None else []
    if not interactions:
        return
    from pytest_runcommand.contract import check_interactions, contract_failure

    marker = item.get_closest_marker(CONTRACT)
    verdicts = check_interactions(interactions, ignore=marker.kwargs.get("ignore", ()) if marker else ())
    for verdict in verdicts:
        if verdict.matched:
            report.add(verdict.interaction, verdict.all_violations, test=item.nodeid)
        else:
            report.unmatched += 1
    failure = contract_failure(verdicts) if _enforced(item) else None
    if failure is None:
        return
    if passed:
        raise failure
    item.add_report_section("call", "run-command contract violations", str(failure))


def _carried_traffic(item: pytest.Item, seen: list[Interaction]) -> list[Interaction]:
    """The recorder's exchanges plus a vcr cassette's, each exchange once (the cassette's copy is what is on disk)."""
    if item.get_closest_marker("vcr") is None:
        return list(seen)
    cassette = (getattr(item, "funcargs", None) or {}).get("vcr")
    if cassette is None:
        return list(seen)
    from pytest_runcommand.cassettes import cassette_interactions
    from pytest_runcommand.traffic import without_carried

    carried = list(cassette_interactions(cassette))
    return [*without_carried(seen, carried), *carried]


# -- how failures read ---------------------------------------------------------------------------------------------


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object, right: object) -> list[str] | None:
    """``assert validate_request(...) == []`` explains itself: one line per violation, not a list of reprs."""
    if op != "==" or not isinstance(left, list) or right != [] or not left:
        return None
    from pytest_runcommand.contract.violations import Violation, total_violations

    if not all(isinstance(item, Violation) for item in left):
        return None
    count = total_violations(left)  # a cut list's last entry counts those it does not list
    lines = [f"the body breaks the run-command contract: {count} violation{'s' if count != 1 else ''}"]
    lines += [f"[{item.side}] {item}" for item in left]
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Show a contract failure as its message alone: the violations are the story, not the plugin's frames; and show
    no secret in any failure (:mod:`pytest_runcommand.pytest.failure_secrets`)."""
    report = yield
    if report.failed:
        from pytest_runcommand.errors import ContractViolationError, RunCommandError
        from pytest_runcommand.pytest.failure_secrets import sanitize_failed_report

        excinfo = call.excinfo
        if excinfo is not None and isinstance(excinfo.value, ContractViolationError):
            report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"
        sanitize_failed_report(report, own_error=excinfo is not None and isinstance(excinfo.value, RunCommandError))
    return report


@pytest.fixture
def runcommand_contract(request: pytest.FixtureRequest) -> TrafficRecorder:
    """Validate all run-command traffic of this test (like ``@pytest.mark.runcommand_contract``).

    Yields the live :class:`~pytest_runcommand.traffic.TrafficRecorder`: ``.interactions`` holds what was sent so
    far, so a test can also inspect its own traffic.
    """
    return _start_recording(request.node)
