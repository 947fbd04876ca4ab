"""pytest-runcommand: contract-test Azure VM Run Commands (api-version 2024-07-01) without touching Azure.

The public names below are imported on first use, so importing the package (as pytest does for the plugin) costs
nothing: ``from pytest_runcommand import validate_request`` loads the contract engine only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_runcommand._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # contract
    "validate_request": "pytest_runcommand.contract",
    "validate_response": "pytest_runcommand.contract",
    "validate_interaction": "pytest_runcommand.contract",
    "Violation": "pytest_runcommand.contract",
    "format_violations": "pytest_runcommand.contract",
    "Contract": "pytest_runcommand.contract",
    "get_contract": "pytest_runcommand.contract",
    "load_contract": "pytest_runcommand.contract",
    "BUNDLED_SPEC_PATH": "pytest_runcommand.contract",
    "CONTRACT_API_VERSION": "pytest_runcommand.contract",
    "SUPPORTED_API_VERSIONS": "pytest_runcommand.contract",
    # values and errors
    "Interaction": "pytest_runcommand.interactions",
    "RunCommandError": "pytest_runcommand.errors",
    "UsageError": "pytest_runcommand.errors",
    "InputError": "pytest_runcommand.errors",
    "ContractViolationError": "pytest_runcommand.errors",
}

__all__ = [
    "BUNDLED_SPEC_PATH",
    "CONTRACT_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "Contract",
    "ContractViolationError",
    "InputError",
    "Interaction",
    "RunCommandError",
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

if TYPE_CHECKING:
    from pytest_runcommand.contract import (
        BUNDLED_SPEC_PATH,
        CONTRACT_API_VERSION,
        SUPPORTED_API_VERSIONS,
        Contract,
        Violation,
        format_violations,
        get_contract,
        load_contract,
        validate_interaction,
        validate_request,
        validate_response,
    )
    from pytest_runcommand.errors import ContractViolationError, InputError, RunCommandError, UsageError
    from pytest_runcommand.interactions import Interaction


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
