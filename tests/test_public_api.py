"""The public face: exported names are pinned, cheap to import, and type-check under mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import pytest_runcommand

EXPECTED = [
    "BUNDLED_SPEC_PATH",
    "CONTRACT_API_VERSION",
    "Contract",
    "ContractViolationError",
    "InputError",
    "Interaction",
    "RunCommandError",
    "SUPPORTED_API_VERSIONS",
    "UsageError",
    "Violation",
    "__version__",
    "format_violations",
    "get_contract",
    "load_contract",
    "validate_interaction",
    "validate_request",
    "validate_response",
]


def test_exported_names_are_pinned() -> None:
    assert sorted(pytest_runcommand.__all__) == sorted(EXPECTED)
    for name in EXPECTED:
        assert getattr(pytest_runcommand, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'validate'"):
        pytest_runcommand.validate  # noqa: B018


def test_importing_the_package_loads_no_validator() -> None:
    code = "import sys, pytest_runcommand; print(sorted(m for m in ('jsonschema_rs', 'orjson', 'pydantic') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_public_api_type_checks_under_mypy_strict() -> None:
    usage = Path(__file__).parent / "typing" / "public_api_usage.py"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null", str(usage)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
