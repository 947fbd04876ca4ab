"""The run-command contract: the single source of truth every other part validates with."""

from pytest_runcommand.contract.document import (
    BUNDLED_SPEC_PATH,
    Contract,
    Operation,
    OperationMatch,
    get_contract,
    load_contract,
)
from pytest_runcommand.contract.rules import RULE_CODES
from pytest_runcommand.contract.validate import (
    SCHEMA_CODES,
    validate_interaction,
    validate_request,
    validate_response,
)
from pytest_runcommand.contract.versions import CONTRACT_API_VERSION, SUPPORTED_API_VERSIONS, api_version_note
from pytest_runcommand.contract.violations import Violation, format_violations

__all__ = [
    "BUNDLED_SPEC_PATH",
    "CONTRACT_API_VERSION",
    "RULE_CODES",
    "SCHEMA_CODES",
    "SUPPORTED_API_VERSIONS",
    "Contract",
    "Operation",
    "OperationMatch",
    "Violation",
    "api_version_note",
    "format_violations",
    "get_contract",
    "load_contract",
    "validate_interaction",
    "validate_request",
    "validate_response",
]
