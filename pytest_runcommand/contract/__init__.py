"""The run-command contract, one per api-version: the single source of truth every other part validates with.

Names are imported from their home module on first use, so ``import pytest_runcommand.contract.facts`` stays cheap
(no jsonschema-rs, no orjson).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_runcommand._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "BUNDLED_SPEC_PATH": "document",
    "Contract": "document",
    "Operation": "document",
    "OperationMatch": "document",
    "get_contract": "document",
    "load_contract": "document",
    "RULE_CODES": "rules",
    "SCHEMA_CODES": "validate",
    "validate_interaction": "validate",
    "validate_request": "validate",
    "validate_response": "validate",
    "CONTRACT_API_VERSION": "versions",
    "DEFAULT_API_VERSION": "facts",
    "LATEST_API_VERSION": "facts",
    "SUPPORTED_API_VERSIONS": "facts",
    "api_version_note": "versions",
    "UnknownApiVersion": "versioned",
    "Violation": "violations",
    "format_violations": "violations",
    "InteractionVerdict": "traffic",
    "check_interactions": "traffic",
    "contract_failure": "traffic",
    "interaction_label": "traffic",
}

__all__ = [
    "BUNDLED_SPEC_PATH",
    "CONTRACT_API_VERSION",
    "DEFAULT_API_VERSION",
    "LATEST_API_VERSION",
    "RULE_CODES",
    "SCHEMA_CODES",
    "SUPPORTED_API_VERSIONS",
    "Contract",
    "InteractionVerdict",
    "Operation",
    "OperationMatch",
    "UnknownApiVersion",
    "Violation",
    "api_version_note",
    "check_interactions",
    "contract_failure",
    "format_violations",
    "get_contract",
    "interaction_label",
    "load_contract",
    "validate_interaction",
    "validate_request",
    "validate_response",
]

if TYPE_CHECKING:
    from pytest_runcommand.contract.document import (
        BUNDLED_SPEC_PATH,
        Contract,
        Operation,
        OperationMatch,
        get_contract,
        load_contract,
    )
    from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, LATEST_API_VERSION, SUPPORTED_API_VERSIONS
    from pytest_runcommand.contract.rules import RULE_CODES
    from pytest_runcommand.contract.traffic import (
        InteractionVerdict,
        check_interactions,
        contract_failure,
        interaction_label,
    )
    from pytest_runcommand.contract.validate import (
        SCHEMA_CODES,
        validate_interaction,
        validate_request,
        validate_response,
    )
    from pytest_runcommand.contract.versioned import UnknownApiVersion
    from pytest_runcommand.contract.versions import CONTRACT_API_VERSION, api_version_note
    from pytest_runcommand.contract.violations import Violation, format_violations

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
