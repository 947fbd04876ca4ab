"""The pytest route to fuzzing: ``@pytest.mark.runcommand_fuzz`` and the ``runcommand_schema`` fixture.

A marked test that takes ``runcommand_schema`` runs once per operation (the test id is the operation id) and once
for the stateful sequences (id ``stateful``); ``runcommand_schema.fuzz()`` fuzzes that part against the target
chosen with ``--runcommand-target`` (the in-process emulator by default) and fails listing each distinct failure::

    @pytest.mark.runcommand_fuzz(max_examples=20)
    def test_contract(runcommand_schema):
        runcommand_schema.fuzz()

Marker keywords: ``max_examples`` (default 25), ``operations`` (ids; default all), ``stateful`` (default True),
``modes`` (default both), ``seed``, ``database``, and for a URL target ``rate`` (requests a second) and
``request_timeout`` (seconds), each a positive number as the command line's ``--rate`` / ``--request-timeout``. Without the marker the fixture covers every operation in one test.
The cases drawn depend only on the contract, these keywords and the seed.

The example database, as the command line's ``--hypothesis-database``: ``database="DIR"`` (or ``True`` for
``.hypothesis``) on the marker, or ``--runcommand-fuzz-database[=DIR]`` / the ``runcommand_fuzz_database`` ini
value for every fuzz test (the marker wins; a relative DIR is read from the rootdir). Failures, stateful ones too,
are saved, shrunk and tried first next time; then ``seed``'s stream, or a fresh random one without a seed.

Cores: there is no ``workers`` option here. Each operation and the stateful sequences are separate tests, so
pytest-xdist (``pytest -n auto``) spreads them over processes, the pytest way; nothing forks inside a test. The
fixture is declared long (:func:`~pytest_runcommand.pytest.settings.runs_long`), so under xdist these tests come early in
each worker's order and no worker is left with one at the end.
The target is resolved as the command line resolves ``--target`` (:func:`pytest_runcommand.fuzz.targets.resolve_target`):
a target off loopback also needs ``RUNCOMMAND_FUZZ_LIVE=1``, https and the scope in ``AZURE_SUBSCRIPTION_ID``,
``AZURE_RESOURCE_GROUP``, ``AZURE_VM_NAME`` (token: ``AZURE_ACCESS_TOKEN`` or ``DefaultAzureCredential``); a
loopback target gets the emulator's test token and no proxy.

Light module: the plugin loads it at start-up; nothing of :mod:`pytest_runcommand.fuzz` (nor schemathesis) is
imported until a fixture runs.
``schemathesis.pytest.from_fixture`` is not used (it breaks on pytest 9.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_runcommand.pytest.settings import observe_traffic, runcommand_settings_of, runs_long

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

    from pytest_runcommand.fuzz.findings import FuzzReport
    from pytest_runcommand.fuzz.settings import FuzzSettings
    from pytest_runcommand.fuzz.targets import Target

__all__ = ["FuzzHandle", "runcommand_fuzz_part", "runcommand_schema"]

MARKER = "runcommand_fuzz"
MARKER_KWARGS = ("max_examples", "operations", "stateful", "modes", "seed", "database", "rate", "request_timeout")
MARKER_HELP = (
    f"{MARKER}(max_examples=25, operations=[...], stateful=True, modes=(...), seed=None, database=None, rate=None, "
    "request_timeout=None): run a test taking runcommand_schema once per run-command operation and once for the "
    "stateful sequences"
)
DATABASE_OPTION = "runcommand_fuzz_database"
DEFAULT_DATABASE = ".hypothesis"
DATABASE_HELP = (
    "keep the failing examples of fuzz tests in DIR (default .hypothesis, relative to the rootdir) and try them "
    "first next time; failures are shrunk (the command line's --hypothesis-database)"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runcommand", "contract testing of Azure VM run commands (pytest-runcommand)")
    group.addoption(
        "--runcommand-fuzz-database", dest=DATABASE_OPTION, nargs="?", const=DEFAULT_DATABASE, metavar="DIR",
        default=None, help=DATABASE_HELP,
    )  # fmt: skip
    parser.addini(DATABASE_OPTION, f"{DATABASE_HELP} (default: none)", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    database = _database(config, None)
    if database is not None:  # a folder that cannot be written would leave the runs without a database, silently
        from pytest_runcommand.errors import UsageError
        from pytest_runcommand.fuzz.settings import writable_folder

        try:
            writable_folder(database, create=False)  # created when a fuzz test uses it
        except UsageError as error:
            raise pytest.UsageError(f"--runcommand-fuzz-database / {DATABASE_OPTION}: {error}") from None


def _database(config: pytest.Config, marked: Any) -> Path | None:
    """The example database directory: the marker's ``database``, else the option or ini value, else None."""
    chosen: Any = marked
    if chosen is None:
        chosen = config.getoption(DATABASE_OPTION, default=None) or config.getini(DATABASE_OPTION) or None
    if chosen is None or chosen is False:
        return None
    path = Path(DEFAULT_DATABASE if chosen is True else str(chosen))
    return path if path.is_absolute() else config.rootpath / path


STATEFUL = "stateful"

observe_traffic("runcommand_schema")
runs_long("runcommand_schema")  # under pytest-xdist, spread over the first two thirds of each worker's order


@dataclass
class FuzzHandle:
    """The ``runcommand_schema`` fixture's value: a schemathesis schema bound to the target, and a fuzz runner."""

    target: Target
    settings: FuzzSettings
    part: str | None = None
    """The operation id this test covers, ``"stateful"``, or None for everything."""
    ca_cert: str | None = None
    """The CA bundle ``--runcommand-ca-cert`` named (None: none)."""
    _runner: Any = field(default=None, repr=False)

    @property
    def runner(self) -> Any:
        if self._runner is None:
            from pytest_runcommand.fuzz.runner import FuzzRunner

            self._runner = FuzzRunner(self.target, self.settings)
        return self._runner

    @property
    def schema(self) -> BaseSchema:
        """The schemathesis schema (overlays applied, api-version pinned, base URL and app set)."""
        schema: BaseSchema = self.runner.schema
        return schema

    def run(self) -> FuzzReport:
        """Fuzz this test's part and return the report (no assertion); hypothesis's caches go to a temporary folder,
        as on the command line (nothing written in the working directory)."""
        from pytest_runcommand.fuzz.storage import hypothesis_storage

        runner = self.runner
        try:
            with hypothesis_storage():
                report: FuzzReport = runner.run()
        except Exception as error:  # a stop the setup made (certificate, nothing listening): one line, as the CLI says
            from pytest_runcommand.fuzz.targets import PYTEST_ROUTE

            hint = PYTEST_ROUTE.stop_hint(error, self.ca_cert)
            if hint is None:
                raise
        else:
            return report
        pytest.fail(hint, pytrace=False)  # outside the handler: no chain of the TLS errors before the line

    def fuzz(self) -> FuzzReport:
        """Fuzz this test's part; fail (:class:`~pytest_runcommand.fuzz.findings.FuzzFailure`) unless it is clean."""
        from pytest_runcommand.fuzz.findings import FuzzFailure

        __tracebackhide__ = True
        report = self.run()
        if not report.ok:
            raise FuzzFailure(report.render())
        return report


def _marker_kwargs(item: Any) -> dict[str, Any]:
    marker = item.get_closest_marker(MARKER) if item is not None else None
    if marker is None:
        return {}
    unknown = sorted(set(marker.kwargs) - set(MARKER_KWARGS))
    if marker.args or unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER} takes only the keywords {', '.join(MARKER_KWARGS)}; got "
            + ", ".join([*(repr(arg) for arg in marker.args), *unknown])
        )
    return dict(marker.kwargs)


@dataclass(frozen=True)
class _WrongMarker:
    """The one part of a test whose marker arguments are wrong: its set-up fails with ``message``."""

    message: str


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "runcommand_schema" not in metafunc.fixturenames or metafunc.definition.get_closest_marker(MARKER) is None:
        return
    api_version = runcommand_settings_of(metafunc.config).api_version
    try:
        kwargs = _marker_kwargs(metafunc.definition)
        chosen = _chosen_operations(kwargs, api_version)
    except pytest.UsageError as error:  # one line at the test's set-up; the module's other tests still run
        metafunc.parametrize("runcommand_fuzz_part", [_WrongMarker(str(error))], ids=["wrong-marker"], indirect=True)
        return
    from pytest_runcommand.fuzz.schema import has_links

    stateful = kwargs.get("stateful", True) and (not kwargs.get("operations") or has_links(chosen))
    parts = [*chosen, *([STATEFUL] if stateful else [])]
    metafunc.parametrize("runcommand_fuzz_part", parts, ids=parts, indirect=True)


def _chosen_operations(kwargs: dict[str, Any], api_version: str) -> list[str]:
    """The operations the marker picks at the run's api-version; :class:`pytest.UsageError` for a wrong argument."""
    from pytest_runcommand.contract import get_contract
    from pytest_runcommand.errors import UsageError
    from pytest_runcommand.fuzz.settings import MODES, FuzzSettings
    from pytest_runcommand.fuzz.targets import RATE_EXPECTED, TIMEOUT_EXPECTED, positive_number

    def wrong(name: str, expected: str) -> pytest.UsageError:
        return pytest.UsageError(f"@pytest.mark.{MARKER}({name}={kwargs[name]!r}): expected {expected}")

    max_examples = kwargs.get("max_examples", 25)
    if type(max_examples) is not int or max_examples < 1:
        raise wrong("max_examples", "a whole number of at least 1")
    if type(kwargs.get("stateful", True)) is not bool:
        raise wrong("stateful", "True or False")
    seed = kwargs.get("seed")
    if seed is not None and type(seed) is not int:
        raise wrong("seed", "a whole number or None")
    modes = kwargs.get("modes", MODES)
    if isinstance(modes, str) or not isinstance(modes, (list, tuple)) or not modes:
        raise wrong("modes", f"a non-empty tuple of {' and '.join(map(repr, MODES))}")
    try:  # the settings' own checks (modes, max_examples), as the fixture will make them
        FuzzSettings(max_examples=max_examples, modes=tuple(modes), api_version=api_version)
    except UsageError as error:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}: {error}") from None
    for name, expected in (("rate", RATE_EXPECTED), ("request_timeout", TIMEOUT_EXPECTED)):
        if kwargs.get(name) is not None:
            try:  # the command line's --rate / --request-timeout rule
                positive_number(kwargs[name], expected)
            except UsageError:
                raise wrong(name, f"{expected} or None") from None
    known = sorted(get_contract(api_version).by_id)
    operations = kwargs.get("operations")
    if operations is None or (isinstance(operations, (list, tuple)) and not operations):
        return known
    if isinstance(operations, str) or not all(isinstance(op, str) for op in operations):
        raise wrong("operations", "a list of operation ids")
    unknown = [op for op in operations if op not in known]
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: unknown operation(s) {', '.join(unknown)} at api-version {api_version}; "
            f"the operations are {', '.join(known)}"
        )
    return list(operations)


@pytest.fixture
def runcommand_fuzz_part(request: pytest.FixtureRequest) -> str | None:
    """The part of the contract a ``runcommand_fuzz`` test covers (set by the marker's parametrization)."""
    part = getattr(request, "param", None)
    if isinstance(part, _WrongMarker):
        pytest.fail(f"{request.node.nodeid}: {part.message}", pytrace=False)
    return part


def _handle(target: str, settings: dict[str, Any], part: str | None, sending: dict[str, Any]) -> FuzzHandle:
    """The fixture's value; a wrong target or marker argument fails the test with one line (no traceback)."""
    from pytest_runcommand.errors import UsageError
    from pytest_runcommand.fuzz.settings import FuzzSettings
    from pytest_runcommand.fuzz.targets import PYTEST_ROUTE, TargetRequest, resolve_target

    try:
        _require_the_fuzz_extra()
        fuzz_settings = FuzzSettings(**settings)
        request = TargetRequest(target=target, **sending)
        return FuzzHandle(resolve_target(request, PYTEST_ROUTE), fuzz_settings, part, request.ca_cert)
    except UsageError as error:
        message = str(error)
    pytest.fail(message, pytrace=False)


def _require_the_fuzz_extra() -> None:
    """Import the runner now, so a missing extra fails the test with its ``pip install`` line (no traceback)."""
    from pytest_runcommand.errors import UsageError
    from pytest_runcommand.extras import install_line, missing_extra

    try:
        import pytest_runcommand.fuzz.runner  # noqa: F401
    except ModuleNotFoundError as error:
        extra = missing_extra(error)
        if extra is None:
            raise
        raise UsageError(
            f"runcommand_schema needs the {extra!r} extra ({error.name} is not installed): {install_line(extra)}"
        ) from None


@pytest.fixture
def runcommand_schema(request: pytest.FixtureRequest, runcommand_fuzz_part: str | None) -> FuzzHandle:
    """Fuzzing bound to ``--runcommand-target``: ``.fuzz()`` runs and fails on findings; ``.schema`` for your own use.

    With ``@pytest.mark.runcommand_fuzz`` the test runs once per operation and once for the stateful sequences.
    """
    plugin_settings = runcommand_settings_of(request.config)
    kwargs = _marker_kwargs(request.node)
    part = runcommand_fuzz_part
    modes = tuple(kwargs.get("modes", ("positive", "negative")))
    if part is None:
        operations: tuple[str, ...] = tuple(kwargs.get("operations") or ())
        stateful = bool(kwargs.get("stateful", True))
    elif part == STATEFUL:
        operations, stateful, modes = tuple(kwargs.get("operations") or ()), True, ()
    else:
        operations, stateful = (part,), False
    settings = {
        "max_examples": int(kwargs.get("max_examples", 25)),
        "operations": operations,
        "seed": kwargs.get("seed"),
        "database": _database(request.config, kwargs.get("database")),
        "modes": modes,
        "stateful": stateful,
        "api_version": plugin_settings.api_version,
    }
    sending = {name: kwargs.get(name) for name in ("rate", "request_timeout")}
    sending["ca_cert"] = plugin_settings.ca_cert or None
    return _handle(plugin_settings.target, settings, part, sending)
