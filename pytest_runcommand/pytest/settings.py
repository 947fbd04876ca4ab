"""The plugin's settings: each one a command-line option and an ini key, read in one place.

Fixtures of every capability read them through :func:`settings_from_config` so that ``--runcommand-target``,
``runcommand_target = ...`` in pytest.ini / pyproject.toml, and the defaults agree everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pytest

from pytest_runcommand.errors import UsageError

__all__ = ["OPTIONS", "Settings", "add_options", "settings_from_config"]

EmulatorMode = Literal["strict", "lenient"]


@dataclass(frozen=True)
class _Option:
    flag: str
    ini: str
    default: str
    help: str
    choices: tuple[str, ...] | None = None


OPTIONS: tuple[_Option, ...] = (
    _Option(
        "--runcommand-target",
        "runcommand_target",
        "emulator",
        "where runcommand_schema and fuzz tests send requests: 'emulator' (the embedded one) or a base URL",
    ),
    _Option(
        "--runcommand-api-version",
        "runcommand_api_version",
        "2024-07-01",
        "api-version sent by fixtures and pinned in fuzzing",
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
    ),
)


@dataclass(frozen=True)
class Settings:
    """The resolved settings of a pytest run."""

    target: str = "emulator"
    api_version: str = "2024-07-01"
    emulator_mode: EmulatorMode = "strict"
    report: str = ""

    @property
    def target_is_emulator(self) -> bool:
        return self.target == "emulator"


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("runcommand", "contract testing of Azure VM run commands (pytest-runcommand)")
    for option in OPTIONS:
        group.addoption(option.flag, dest=option.ini, default=None, choices=option.choices, help=option.help)
        parser.addini(option.ini, f"{option.help} (default: {option.default or 'none'})", default=option.default)


def _value(config: pytest.Config, option: _Option) -> str:
    value: Any = config.getoption(option.ini, default=None)
    if value is None:
        value = config.getini(option.ini)
    text = str(value).strip()
    if option.choices and text not in option.choices:
        raise UsageError(f"{option.ini} takes one of {', '.join(option.choices)}; got {text!r}")
    return text


def settings_from_config(config: pytest.Config) -> Settings:
    """Read every setting (command line first, then ini, then the default)."""
    values = {option.ini: _value(config, option) for option in OPTIONS}
    target = values["runcommand_target"] or "emulator"
    if target != "emulator" and not target.lower().startswith(("https://", "http://")):
        raise UsageError(f"runcommand_target takes 'emulator' or an http(s) base URL; got {target!r}")
    return Settings(
        target=target,
        api_version=values["runcommand_api_version"] or "2024-07-01",
        emulator_mode=values["runcommand_emulator_mode"],  # type: ignore[arg-type]
        report=values["runcommand_report"],
    )
