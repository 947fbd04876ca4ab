"""pytest-runcommand: contract-test Azure VM Run Commands without touching Azure.

The public names are imported on first use, so importing the package (as pytest does for the plugin) costs nothing:
``from pytest_runcommand import validate_request`` loads the contract engine only then. :data:`PUBLIC` is the one
table of them (name -> home module); ``__all__`` and the lazy look-up are derived from it, and the
``TYPE_CHECKING`` block below, the one place type checkers read, is proved equal to it by the API test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_runcommand._lazy import lazy_exports

__version__ = "0.1.0"

PUBLIC: dict[str, str] = {
    # validating payloads and traffic
    "validate_request": "pytest_runcommand.contract",
    "validate_response": "pytest_runcommand.contract",
    "validate_interaction": "pytest_runcommand.contract",
    "check_interactions": "pytest_runcommand.contract",
    "Violation": "pytest_runcommand.contract",
    "format_violations": "pytest_runcommand.contract",
    "Interaction": "pytest_runcommand.interactions",
    # the contract and its versions
    "Contract": "pytest_runcommand.contract",
    "get_contract": "pytest_runcommand.contract",
    "load_contract": "pytest_runcommand.contract",
    "BUNDLED_SPEC_PATH": "pytest_runcommand.contract",
    "CONTRACT_API_VERSION": "pytest_runcommand.contract",
    "DEFAULT_API_VERSION": "pytest_runcommand.contract",
    "LATEST_API_VERSION": "pytest_runcommand.contract",
    "SUPPORTED_API_VERSIONS": "pytest_runcommand.contract",
    # what the fixtures hand to a test
    "TrafficRecorder": "pytest_runcommand.traffic",
    "InProcessEmulator": "pytest_runcommand.emulator",
    "ServedEmulator": "pytest_runcommand.emulator",
    # the exception tree (errors.py draws it)
    "RunCommandError": "pytest_runcommand.errors",
    "UsageError": "pytest_runcommand.errors",
    "InputError": "pytest_runcommand.errors",
    "ContractViolationError": "pytest_runcommand.errors",
    "RunCommandWarning": "pytest_runcommand.errors",
}
"""Every public name and the module it lives in."""

__all__ = ["__version__", *PUBLIC]

if TYPE_CHECKING:
    from pytest_runcommand.contract import BUNDLED_SPEC_PATH as BUNDLED_SPEC_PATH
    from pytest_runcommand.contract import CONTRACT_API_VERSION as CONTRACT_API_VERSION
    from pytest_runcommand.contract import DEFAULT_API_VERSION as DEFAULT_API_VERSION
    from pytest_runcommand.contract import LATEST_API_VERSION as LATEST_API_VERSION
    from pytest_runcommand.contract import SUPPORTED_API_VERSIONS as SUPPORTED_API_VERSIONS
    from pytest_runcommand.contract import Contract as Contract
    from pytest_runcommand.contract import Violation as Violation
    from pytest_runcommand.contract import check_interactions as check_interactions
    from pytest_runcommand.contract import format_violations as format_violations
    from pytest_runcommand.contract import get_contract as get_contract
    from pytest_runcommand.contract import load_contract as load_contract
    from pytest_runcommand.contract import validate_interaction as validate_interaction
    from pytest_runcommand.contract import validate_request as validate_request
    from pytest_runcommand.contract import validate_response as validate_response
    from pytest_runcommand.emulator import InProcessEmulator as InProcessEmulator
    from pytest_runcommand.emulator import ServedEmulator as ServedEmulator
    from pytest_runcommand.errors import ContractViolationError as ContractViolationError
    from pytest_runcommand.errors import InputError as InputError
    from pytest_runcommand.errors import RunCommandError as RunCommandError
    from pytest_runcommand.errors import RunCommandWarning as RunCommandWarning
    from pytest_runcommand.errors import UsageError as UsageError
    from pytest_runcommand.interactions import Interaction as Interaction
    from pytest_runcommand.traffic import TrafficRecorder as TrafficRecorder

__getattr__, __dir__ = lazy_exports(__name__, PUBLIC, __all__)
