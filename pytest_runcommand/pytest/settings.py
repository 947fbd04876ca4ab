"""The plugin's settings and the capabilities' declarations, read in one place.

Each setting is a command-line option and an ini key; :func:`runcommand_settings_of` resolves them once per run, so
``--runcommand-target``, ``runcommand_target = ...`` in pytest.ini / pyproject.toml and the defaults agree
everywhere. Capability modules import from here (never from the plugin) and declare, at import, which of their
fixtures carry run-command traffic (:func:`observe_traffic`) and which make a test long (:func:`runs_long`), so the
plugin names no capability's fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

import pytest

from pytest_runcommand.errors import UsageError

__all__ = [
    "OPTIONS",
    "Settings",
    "TrafficFixture",
    "add_options",
    "long_fixtures",
    "observe_traffic",
    "runcommand_settings_of",
    "runs_long",
    "settings_from_config",
    "traffic_fixtures",
]

EmulatorMode = Literal["strict", "lenient"]


class _Option(NamedTuple):  # named tuples, not frozen dataclasses: ten times cheaper to define at start-up
    flag: str
    ini: str
    default: str
    help: str
    choices: tuple[str, ...] | None = None
    default_text: str = ""
    """How the help names the default when it is not a value (``the contract's default api-version``)."""
    path: bool = False
    """A file path: from the ini file, relative to the ini file's folder (pytest's rule for paths there)."""


OPTIONS: tuple[_Option, ...] = (
    _Option(
        "--runcommand-target",
        "runcommand_target",
        "emulator",
        "where runcommand_schema and fuzz tests send requests: 'emulator' (the embedded one) or a base URL",
    ),
    _Option(
        "--runcommand-ca-cert",
        "runcommand_ca_cert",
        "",
        "CA bundle (PEM) to trust for an https --runcommand-target (REQUESTS_CA_BUNDLE is read too)",
        path=True,
    ),
    _Option(
        "--runcommand-api-version",
        "runcommand_api_version",
        "",
        "api-version sent by fixtures and pinned in fuzzing",
        default_text="the contract's default api-version",
    ),
    _Option(
        "--runcommand-emulator-mode",
        "runcommand_emulator_mode",
        "strict",
        "strict: the emulator rejects contract violations with 400 (a contract test); lenient: it ignores "
        "read-only fields as Azure does",
        ("strict", "lenient"),
    ),
    _Option(
        "--runcommand-report",
        "runcommand_report",
        "",
        "write the contract coverage report as JSON to this path, and as HTML beside it (same name, .html)",
        path=True,
    ),
    _Option(
        "--runcommand-fail-under",
        "runcommand_fail_under",
        "",
        "fail the run when request or response property coverage, over the operations the run touched, is "
        "below this percentage (0-100)",
    ),
)


class Settings(NamedTuple):
    """The resolved settings of a pytest run."""

    target: str = "emulator"
    ca_cert: str = ""
    """The CA bundle to trust for an https target ("": none given)."""
    api_version_option: str = ""
    emulator_mode: EmulatorMode = "strict"
    report: str = ""
    fail_under: float | None = None

    @property
    def api_version(self) -> str:
        """The api-version asked for, or the contract's default (read from the contract only when asked)."""
        if self.api_version_option:
            return self.api_version_option
        from pytest_runcommand.contract.facts import DEFAULT_API_VERSION

        return DEFAULT_API_VERSION

    @property
    def coverage_wanted(self) -> bool:
        """A report file or a coverage threshold was asked for: every test's traffic then counts."""
        return bool(self.report) or self.fail_under is not None


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("runcommand", "contract testing of Azure VM run commands (pytest-runcommand)")
    for option in OPTIONS:
        shown = option.default_text or option.default or "none"
        flag_help = f"{option.help} (default: {option.default_text})" if option.default_text else option.help
        group.addoption(option.flag, dest=option.ini, default=None, choices=option.choices, help=flag_help)
        parser.addini(option.ini, f"{option.help} (default: {shown})", default=option.default)


def _value(config: pytest.Config, option: _Option) -> str:
    value: Any = config.getoption(option.ini, default=None)
    from_ini = value is None
    if from_ini:
        value = config.getini(option.ini)
    text = str(value).strip()
    if option.path and not from_ini and not text:  # an unset variable in a CI line (--runcommand-report "$REPORT")
        raise UsageError(f"{option.ini} ({option.flag}) takes a file path; got an empty one")
    if option.path and from_ini and text not in ("", "-") and config.inipath is not None:
        text = str(config.inipath.parent / text)  # an absolute one stays as it is
    if option.choices and text not in option.choices:
        raise UsageError(f"{option.ini} takes one of {', '.join(option.choices)}; got {text!r}")
    return text


def _percentage(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 100:  # NaN fails too
        raise UsageError(f"runcommand_fail_under (--runcommand-fail-under) takes a percentage 0-100; got {text!r}")
    return value


def _report_path(text: str) -> str:
    if not text:
        return ""
    if text == "-":
        raise UsageError(
            "runcommand_report (--runcommand-report) takes a file path (the HTML page is written beside it); "
            "'-' would be standard output"
        )
    path = Path(text)
    from pytest_runcommand.report_file import file_problem, folder_problem, written_through

    if path.suffix[1:].isalpha() and path.suffix.lower() != ".json":  # x.xml would hold JSON, x.html be overwritten
        instead = path.with_suffix(".json")  # suggested only where it would do (its folder probed, none made)
        if written_through(instead) or written_through(path) or folder_problem(instead.parent, create=False):
            raise UsageError(
                f"runcommand_report (--runcommand-report) takes a regular file's JSON path (the HTML page is written "
                f"beside it); {text!r} is not one"
            )
        raise UsageError(
            f"runcommand_report (--runcommand-report) takes the JSON path; the HTML page is written beside it: "
            f"use {str(instead)!r} instead of {text!r}"
        )

    problem = file_problem(path)  # now, not after the whole run: a folder that cannot be made fails before any test
    if problem is not None and problem.startswith("is a folder"):
        raise UsageError(f"runcommand_report (--runcommand-report) takes a file path; {text!r} is a directory")
    if written_through(path):  # a descriptor, device or FIFO: the HTML page would go beside it (/dev/stdout.html)
        raise UsageError(
            f"runcommand_report (--runcommand-report) takes a regular file's path (the HTML page is written beside "
            f"it); {text!r} is not one"
        )
    if problem is not None:
        raise UsageError(f"runcommand_report (--runcommand-report) {text!r}: {problem}")
    return text


def _api_version(text: str) -> str:
    if not text:
        return ""
    from pytest_runcommand.contract.facts import SUPPORTED_API_VERSIONS

    if text not in SUPPORTED_API_VERSIONS:
        raise UsageError(
            f"runcommand_api_version (--runcommand-api-version) takes a supported api-version, one of "
            f"{', '.join(sorted(SUPPORTED_API_VERSIONS))}; got {text!r}"
        )
    return text


def settings_from_config(config: pytest.Config) -> Settings:
    """Read every setting (command line first, then ini, then the default)."""
    values = {option.ini: _value(config, option) for option in OPTIONS}
    target = values["runcommand_target"] or "emulator"
    if target != "emulator" and not target.lower().startswith(("https://", "http://")):
        raise UsageError(f"runcommand_target takes 'emulator' or an http(s) base URL; got {target!r}")
    ca_cert = values["runcommand_ca_cert"]
    if ca_cert and not Path(ca_cert).is_file():  # once, now: not one error per fuzz test after the run began
        raise UsageError(f"runcommand_ca_cert (--runcommand-ca-cert) {ca_cert}: no such file")
    return Settings(
        target=target,
        ca_cert=ca_cert,
        api_version_option=_api_version(values["runcommand_api_version"]),
        emulator_mode=values["runcommand_emulator_mode"],  # type: ignore[arg-type]
        report=_report_path(values["runcommand_report"]),
        fail_under=_percentage(values["runcommand_fail_under"]),
    )


SETTINGS_KEY = pytest.StashKey[Settings]()


def runcommand_settings_of(config: pytest.Config) -> Settings:
    """The run's resolved settings (read once at configure time; for the capabilities' fixtures and hooks)."""
    found = config.stash.get(SETTINGS_KEY, None)
    if found is None:
        found = config.stash[SETTINGS_KEY] = settings_from_config(config)
    return found


# -- what the capabilities declare ----------------------------------------------------------------------------------

ServedBy = Callable[[Any], tuple[Any, str]]
"""From a fixture value to (ASGI app with an ``observers`` list, base URL) of a server other processes may call."""


class TrafficFixture(NamedTuple):
    """A capability's fixture whose use makes a test's run-command traffic observed (marker, coverage report)."""

    name: str
    served: ServedBy | None = None
    """For a fixture serving traffic on a socket: how to reach its app, so requests other processes send count."""


_TRAFFIC_FIXTURES: dict[str, TrafficFixture] = {}
_TRAFFIC_VIEW = MappingProxyType(_TRAFFIC_FIXTURES)


def observe_traffic(fixture: str, *, served: ServedBy | None = None) -> None:
    """Declare, at import of a capability module, that tests using ``fixture`` have their traffic observed.

    ``served(value) -> (app, base_url)`` for a fixture whose value is a server: what the app answers is recorded
    from the server side (the Azure CLI calls it from another process), and client-side copies are dropped.
    """
    _TRAFFIC_FIXTURES[fixture] = TrafficFixture(fixture, served)


def traffic_fixtures() -> Mapping[str, TrafficFixture]:
    """Every declared traffic fixture, by name (a read-only view)."""
    return _TRAFFIC_VIEW


_LONG_FIXTURES: set[str] = set()


def runs_long(fixture: str) -> None:
    """Declare, at import of a capability module, that a test using ``fixture`` takes long (a fuzz run, say).

    Under pytest-xdist such tests are spread over the first two thirds of the run, so that no worker is left
    running one while the others are done.
    """
    _LONG_FIXTURES.add(fixture)


def long_fixtures() -> frozenset[str]:
    """Every fixture declared with :func:`runs_long`."""
    return frozenset(_LONG_FIXTURES)
