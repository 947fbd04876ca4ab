"""Facts about the run-command contract, read from the bundled contract documents: the one place to ask.

Every other module asks here instead of spelling a field name or a version out: the supported api-versions, the
default and the latest one, which operations a version has (managed, diagnostic, action, catalogue) and their
routes and error envelopes, what a definition holds at a version, which properties are read-only or secret (marked
``x-ms-secret``), which are script sources or script output, which operations declare long-running headers, and the
zero subscription id. Cheap to import (plain ``json``): a version's document is read on first use.

Per-version questions take a supported api-version and raise ``UnknownApiVersion`` (a ``ValueError`` listing the
supported versions) for any other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, NamedTuple

from pytest_runcommand.contract.versioned import UnknownApiVersion, version_document

__all__ = [
    "ACTION_ONLY_API_VERSIONS",
    "API_VERSIONS",
    "CONTRACT_SOURCES",
    "DEFAULT_API_VERSION",
    "LATEST_API_VERSION",
    "LRO_HEADERS",
    "OPERATION_FAMILIES",
    "SCRIPT_OUTPUT_MARK",
    "SCRIPT_SOURCE_MARK",
    "SECRET_MARK",
    "SECRET_VALUE_KEYS_KEPT",
    "SUPPORTED_API_VERSIONS",
    "ZERO_SUBSCRIPTION_ID",
    "ContractSource",
    "UnknownApiVersion",
    "declares_lro_headers",
    "definition_properties",
    "error_definition",
    "final_state_via",
    "is_secret_pointer",
    "keep_known",
    "lro_header_statuses",
    "operation_family",
    "operation_route",
    "operations_at",
    "read_only_properties",
    "script_output_properties",
    "script_sources",
    "secret_list_properties",
    "secret_properties",
    "versions_with",
]


class ContractSource(NamedTuple):
    """Where a version's contract came from: a file of Azure/azure-rest-api-specs at a commit."""

    path: str
    commit: str

    def __str__(self) -> str:
        return f"Azure/azure-rest-api-specs {self.path} at {self.commit[:7]}"


_COMPUTE = "specification/compute/resource-manager/Microsoft.Compute"
_TYPESPEC = " (run-command paths and definitions of the TypeSpec-generated file)"


def _old(version: str, commit: str) -> ContractSource:
    return ContractSource(f"{_COMPUTE}/stable/{version}/runCommands.json", commit)


def _rp(version: str, commit: str) -> ContractSource:
    return ContractSource(f"{_COMPUTE}/ComputeRP/stable/{version}/runCommand.json", commit)


def _typespec(version: str, commit: str) -> ContractSource:
    return ContractSource(f"{_COMPUTE}/Compute/stable/{version}/ComputeRP.json{_TYPESPEC}", commit)


CONTRACT_SOURCES: MappingProxyType[str, ContractSource] = MappingProxyType(
    {
        "2020-06-01": _old("2020-06-01", "aaa850e263eb773687d44de939fffa5211749ddf"),
        "2020-12-01": _old("2020-12-01", "4735f96ff548e76746a7f1249d9089ea6f6bc401"),
        "2021-03-01": _old("2021-03-01", "76b5b13d72dcf80b8f6021e040b01299d1269ccf"),
        "2021-04-01": _old("2021-04-01", "186661d0fab465b7c146635af004b720ab5c70fd"),
        "2021-07-01": _old("2021-07-01", "9616e8a1e6d216d648a1d8d5f16a934f474b2790"),
        "2021-11-01": _old("2021-11-01", "3ac4db792394341031a2e67ab735dc2dfad3a54d"),
        "2022-03-01": _rp("2022-03-01", "31c65e1b80195ae589bc7f4b3d9a0c850c668b3c"),
        "2022-08-01": _rp("2022-08-01", "16979b15c39ab42e928e953254e15aba7107bf37"),
        "2022-11-01": _rp("2022-11-01", "b8881d91470458dea7e060bc1c236524ce1bce97"),
        "2023-03-01": _rp("2023-03-01", "aedce9828dac759c73c4a031a08693c152ef0f59"),
        "2023-07-01": _rp("2023-07-01", "c865aedabcf3ffd61dbb0df831b7061cd2ce44ab"),
        "2023-09-01": _rp("2023-09-01", "6f0b668ff5afe574dcd61d4e531bc4ccf5bce59b"),
        "2024-03-01": _rp("2024-03-01", "aedce9828dac759c73c4a031a08693c152ef0f59"),
        "2024-07-01": _rp("2024-07-01", "5d42328cb6e57628dd6d11664363278a7db8fb20"),
        "2024-11-01": _rp("2024-11-01", "f8129f5826986fbf64404f1e9762452e7c1feefa"),
        "2025-04-01": _rp("2025-04-01", "1efc75768ca3caf3124cedaedebc99e879fcb300"),
        "2025-11-01": _typespec("2025-11-01", "002033a67156608115600fa7d4674b441acfe1b5"),
        "2026-03-01": _typespec("2026-03-01", "07fffca113ed57ecd7f86be5bc0e07fdc3222661"),
        "2026-04-01": _typespec("2026-04-01", "030174c776bbc013251bc13957bbff81f0a21bd4"),
    }
)
"""api-version -> the official file (and commit) its contract equals, oldest version first (every version with a
contract: :data:`API_VERSIONS`)."""

ACTION_ONLY_API_VERSIONS = ("2020-06-01", "2020-12-01")
"""Versions whose contract holds only the location catalogue and the action run command: their official
runCommands.json has nothing else (their managed run commands live in compute.json, not part of this contract)."""

API_VERSIONS: MappingProxyType[str, str] = MappingProxyType(
    {version: str(source) for version, source in CONTRACT_SOURCES.items()}
)
"""Every api-version with a contract -> where it came from (one line), oldest first. Validation speaks all of them;
which operations each has: :func:`operations_at`."""

SUPPORTED_API_VERSIONS: MappingProxyType[str, str] = MappingProxyType(
    {version: note for version, note in API_VERSIONS.items() if version not in ACTION_ONLY_API_VERSIONS}
)
"""api-version -> where that version's contract came from (one line), oldest version first: the versions with the
whole run-command surface (managed run commands, the action, the catalogue; diagnostic run commands at 2026-04-01),
the ones the emulator, fuzzing and the plugin serve."""

DEFAULT_API_VERSION = "2024-07-01"
"""The api-version used when none is given: the version of the documented "Run Commands - Update" operation."""

LATEST_API_VERSION = max(CONTRACT_SOURCES)
"""The newest supported api-version (azure-mgmt-compute 39's default)."""


ZERO_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
"""The subscription id the emulator serves and the sanitizers write in place of a real one."""

SECRET_MARK = "x-ms-secret"
"""The extension that marks a property whose value Azure never returns and no recording may keep."""

SCRIPT_SOURCE_MARK = "x-runcommand-script-source"
"""The project's extension that marks a script source's alternatives (exactly one of them names the script)."""

SECRET_VALUE_KEYS_KEPT = frozenset({"name"})
"""Keys kept in clear in the items of a secret list of name/value items (a protected parameter's name)."""

LRO_HEADERS = ("Location", "Retry-After")
"""The long-running-operation headers the TypeSpec-era contracts declare on PUT 201, PATCH 200 and DELETE 202."""

SCRIPT_OUTPUT_MARK = "x-runcommand-script-output"
"""The project's extension that marks text a script printed (not secret by the contract, but it may echo a value
the script was given): the action's result entries and a run command's output and error streams."""

OPERATION_FAMILIES = ("managed", "diagnostic", "action", "catalogue", "extension")
"""The kinds of operation a contract holds: managed run commands (``.../runCommands``), diagnostic run commands
(``.../diagnosticRunCommands``, 2026-04-01 on), the action run command (POST ``.../runCommand``), the location
catalogue of built-in commands (``.../locations/{location}/runCommands``) and our own extensions (the ARM
async-operation status)."""

_SCRIPT_SOURCE = "VirtualMachineRunCommandScriptSource"


def _definitions(api_version: str) -> Mapping[str, Any]:
    return version_document(api_version)["definitions"]  # type: ignore[no-any-return]


def definition_properties(api_version: str, definition: str) -> frozenset[str]:
    """Names of the properties ``definition`` declares at ``api_version`` (empty when the version lacks it).

    ``definition_properties("2024-07-01", "VirtualMachineRunCommand")`` has no ``systemData``; at 2025-11-01 it has.
    """
    schema = _definitions(api_version).get(definition)
    return frozenset((schema or {}).get("properties") or ())


def read_only_properties(api_version: str, definition: str) -> frozenset[str]:
    """Names of the properties of ``definition`` that Azure sets (``readOnly``) at ``api_version``."""
    schema = _definitions(api_version).get(definition) or {}
    return frozenset(
        name
        for name, sub in (schema.get("properties") or {}).items()
        if isinstance(sub, dict) and sub.get("readOnly") is True
    )


@cache
def script_sources(api_version: str) -> tuple[str, ...]:
    """The script sources a run command's ``source`` takes exactly one of, in document order.

    Three (script, scriptUri, commandId) before 2025-04-01; four (plus galleryScriptReferenceId) from it on.
    """
    schema = _definitions(api_version).get(_SCRIPT_SOURCE) or {}
    return tuple(
        name
        for name, sub in (schema.get("properties") or {}).items()
        if isinstance(sub, dict) and sub.get(SCRIPT_SOURCE_MARK) is True
    )


def _operation(api_version: str, operation_id: str) -> Mapping[str, Any]:
    for item in version_document(api_version)["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise KeyError(f"api-version {api_version} has no operation {operation_id!r}")


def operations_at(api_version: str, family: str | None = None) -> tuple[str, ...]:
    """The operation ids ``api_version`` defines, in document order; only those of ``family`` when given (one of
    :data:`OPERATION_FAMILIES`). Diagnostic run commands exist at 2026-04-01 only."""
    return tuple(op_id for op_id, kind in _families(api_version).items() if family is None or kind == family)


def versions_with(operation_id: str) -> tuple[str, ...]:
    """The api-versions (:data:`API_VERSIONS`) that define ``operation_id``, oldest first (empty for an unknown id):
    2020-06-01 on for the catalogue and the action, 2021-03-01 on for managed run commands, 2026-04-01 for
    diagnostic run commands."""
    return tuple(version for version in API_VERSIONS if operation_id in _families(version))


def operation_family(operation_id: str) -> str:
    """The family (:data:`OPERATION_FAMILIES`) of an operation id any supported version defines; KeyError else."""
    for version in reversed(API_VERSIONS):
        found = _families(version).get(operation_id)
        if found is not None:
            return found
    raise KeyError(f"no supported api-version has an operation {operation_id!r}")


def operation_route(api_version: str, operation_id: str) -> tuple[str, str]:
    """(HTTP method, path template) of ``operation_id`` at ``api_version``. Literal segments route
    case-insensitively (the hand-written versions spell the scale-set VM action's segment ``virtualmachines``)."""
    for template, item in version_document(api_version)["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return method.upper(), template
    raise KeyError(f"api-version {api_version} has no operation {operation_id!r}")


def error_definition(api_version: str, operation_id: str) -> str:
    """The definition an error answer of ``operation_id`` takes at ``api_version``: ``ErrorResponse`` (common
    types v3) for the diagnostic run commands, else ``CloudError``, declared or (where the operation declares no
    error response: the catalogue and the action before 2025-11-01) by ARM's convention."""
    schema = (_operation(api_version, operation_id).get("responses") or {}).get("default", {}).get("schema") or {}
    ref = schema.get("$ref")
    return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else "CloudError"


@cache
def _families(api_version: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for template, item in version_document(api_version)["paths"].items():
        path = template.lower()
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                if operation.get("x-runcommand-extension"):
                    kind = "extension"
                elif "/diagnosticruncommands" in path:
                    kind = "diagnostic"
                elif path.endswith("/runcommand"):
                    kind = "action"
                elif "/locations/{location}/runcommands" in path:
                    kind = "catalogue"
                else:
                    kind = "managed"
                found[operation["operationId"]] = kind
    return found


def lro_header_statuses(api_version: str, operation_id: str) -> frozenset[int]:
    """The status codes on which ``operation_id`` declares both ``Location`` and ``Retry-After`` at
    ``api_version`` (PUT 201, PATCH 200, DELETE 202 from 2025-11-01; none before). KeyError for an unknown op."""
    responses = _operation(api_version, operation_id).get("responses") or {}
    return frozenset(
        int(code)
        for code, response in responses.items()
        if code.isdigit() and all(name in (response.get("headers") or {}) for name in LRO_HEADERS)
    )


def declares_lro_headers(api_version: str, operation_id: str) -> bool:
    """True when ``operation_id`` declares ``Location`` and ``Retry-After`` on a response at ``api_version``."""
    return bool(lro_header_statuses(api_version, operation_id))


def final_state_via(api_version: str, operation_id: str) -> str | None:
    """The declared ``final-state-via`` of a long-running operation (``location`` from 2025-11-01), or None."""
    options = _operation(api_version, operation_id).get("x-ms-long-running-operation-options") or {}
    value = options.get("final-state-via")
    return str(value) if value is not None else None


def keep_known(api_version: str, definition: str, value: Any) -> Any:
    """A copy of ``value`` (a ``definition`` instance) without the properties ``api_version`` does not declare, at
    any depth: what an answer at that version may carry (no ``systemData`` before 2025-11-01, no ``scriptShell``
    before 2025-04-01). Values of other shapes are kept as they are."""
    definitions = _definitions(api_version)
    return _keep(definitions, definitions.get(definition), value, 0)


def _keep(definitions: Mapping[str, Any], schema: Any, value: Any, depth: int) -> Any:
    if not isinstance(schema, Mapping) or depth > 32:
        return value
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _keep(definitions, definitions.get(ref.rsplit("/", 1)[-1]), value, depth + 1)
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, Mapping):
        return {k: _keep(definitions, properties[k], v, depth + 1) for k, v in value.items() if k in properties}
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_keep(definitions, schema["items"], item, depth + 1) for item in value]
    return value


@cache
def script_output_properties() -> frozenset[tuple[str, str]]:
    """(definition, property) pairs marked ``x-runcommand-script-output`` in any version: where text a script
    printed comes back (RunCommandResult.value, the instance view's output and error). Not secret by the contract:
    a script may still print a value it was given, so a recording that must keep a secret out scrubs its known
    values from these texts too."""
    found: set[tuple[str, str]] = set()
    for api_version in API_VERSIONS:
        for name, schema in _definitions(api_version).items():
            for prop, sub in ((schema or {}).get("properties") or {}).items():
                if isinstance(sub, dict) and sub.get(SCRIPT_OUTPUT_MARK) is True:
                    found.add((name, prop))
    return frozenset(found)


def secret_properties() -> frozenset[str]:
    """Names of the properties the bundled documents mark ``x-ms-secret`` (runAsPassword, protectedParameters)."""
    return frozenset(_secret_schemas())


def secret_list_properties() -> frozenset[str]:
    """The secret properties that are lists of name/value items: an item's ``name`` is kept, the rest is secret."""
    return frozenset(name for name, is_list in _secret_schemas().items() if is_list)


@cache
def _secret_schemas() -> dict[str, bool]:
    """Secret property name -> whether the documents declare it as a list (of name/value items)."""
    found: dict[str, bool] = {}
    for api_version in API_VERSIONS:
        for definition in _definitions(api_version).values():
            _collect_secret_names(definition, found)
    return found


def _collect_secret_names(schema: Any, names: dict[str, bool]) -> None:
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and sub.get(SECRET_MARK) is True:
            names[name] = names.get(name, True) and sub.get("type") == "array"
        _collect_secret_names(sub, names)
    for key in ("items", "additionalProperties"):
        _collect_secret_names(schema.get(key), names)
    for sub in schema.get("allOf") or ():
        _collect_secret_names(sub, names)


@cache
def _secret_pointer_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in sorted(secret_properties()))
    return re.compile(rf"(?:^|/)({alternatives})(?:/|$)")


def is_secret_pointer(pointer: str) -> bool:
    """True when the JSON pointer is at or under a secret property, except a kept key (a protected parameter's name).

    ``/properties/runAsPassword``, ``/properties/runAsPassword/secureValue``, ``/properties/protectedParameters/1/value``
    are secret; ``/properties/protectedParameters/1/name`` is not.
    """
    found = _secret_pointer_pattern().search(pointer)
    if found is None:
        return False
    index, _, key = pointer[found.end() :].partition("/")
    kept = index.isdigit() and key in SECRET_VALUE_KEYS_KEPT and _secret_schemas()[found.group(1)]
    return not kept
