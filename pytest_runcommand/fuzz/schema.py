"""The schemathesis schema of a fuzz target: the bundled contract document with generation overlays.

The overlays make a *positive* case really valid, so that a rejection of it is the target's fault:

- the document is the contract of the run's api-version (:func:`contract_document`), and ``api-version`` is pinned (the document leaves it a free string) and ``$expand`` takes its one documented value;
- request bodies use the contract engine's own request view (:mod:`pytest_runcommand.contract`): objects refuse
  undeclared properties, int32 carries its range, read-only properties are absent, and the prose rules' guard
  keywords hold (exactly one of script/scriptUri/commandId; clientId or objectId, not both). Responses keep the
  document's definitions; the contract check judges them strictly;
- path parameters are non-empty; a live target pins subscription, resource group and VM, and names run commands
  with the configured prefix;
- an operation that declares no error answer gets ARM's convention (a ``default`` CloudError), as the contract
  engine reads it; the action's and the catalogue's ``commandId`` are drawn from the built-in commands;
- ``x-links`` chain PUT -> PATCH/GET/DELETE and DELETE -> GET for stateful runs (schemathesis's own link inference
  is switched off: it would link VM operations to scale-set ones);
- schemathesis's constants pool (literals harvested from the loaded modules of an in-process app) is off, so the
  cases drawn depend on the contract, the options and the seed, not on which modules are loaded.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, error_definition
from pytest_runcommand.contract.rules import REQUEST_GUARDS
from pytest_runcommand.contract.validate import guarded_definitions
from pytest_runcommand.fuzz.request_url import install_request_url_without_join

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

__all__ = ["REQUEST_PREFIX", "build_schema", "contract_document", "has_links", "lifecycles", "overlay_document"]

REQUEST_PREFIX = "Request_"
"""Request-side copies of definitions are named with this prefix."""

_PATH_PARAMETERS = (
    "SubscriptionIdParameter",
    "ResourceGroupNameParameter",
    "VmNameParameter",
    "VmScaleSetNameParameter",
    "InstanceIdParameter",
    "RunCommandNameParameter",
    "OperationIdParameter",
)
_ACTION_INPUT = "RunCommandInput"
"""The action run command's body: its ``commandId`` must name a built-in command (any other is a 400)."""
_REGION_PARAMETERS = ("LocationParameter", "CatalogueLocationParameter")
_REGION = r"^[a-z][a-z0-9]{1,24}$"
"""How a generated ``location`` looks (westus, eastus2, ...)."""
_FAMILIES = {
    "VirtualMachineRunCommands": ("GetByVirtualMachine", "Update", "Delete"),
    "VirtualMachineScaleSetVMRunCommands": ("Get", "Update", "Delete"),
    "VirtualMachineDiagnosticRunCommands": ("GetByVirtualMachine", "Update", "Delete"),
    "VirtualMachineScaleSetVMDiagnosticRunCommands": ("Get", "Update", "Delete"),
}
"""Resource families chained for stateful runs (those a version's document has): their PUT, GET, PATCH, DELETE."""


def lifecycles(operations: Collection[str]) -> list[tuple[str, str, str, str]]:
    """The resource families whose PUT is among ``operations`` (operation ids), each as the ids of its PUT, PATCH,
    GET and DELETE, in the order :data:`_FAMILIES` gives them (a family's other operations may be absent)."""
    chosen = set(operations)
    return [
        (f"{family}_CreateOrUpdate", f"{family}_{update}", f"{family}_{get}", f"{family}_{delete}")
        for family, (get, update, delete) in _FAMILIES.items()
        if f"{family}_CreateOrUpdate" in chosen
    ]


def has_links(operations: Collection[str]) -> bool:
    """Whether the stateful sequences have a step to take among ``operations`` (operation ids): a PUT with its GET,
    PATCH or DELETE, or a DELETE with its GET (the ``x-links`` :func:`overlay_document` adds)."""
    chosen = set(operations)
    for family, (get, update, delete) in _FAMILIES.items():
        put, get, update, delete = (f"{family}_{name}" for name in ("CreateOrUpdate", get, update, delete))
        if (put in chosen and chosen & {get, update, delete}) or {delete, get} <= chosen:
            return True
    return False


def contract_document(api_version: str) -> dict[str, Any]:
    """The contract document fuzzing generates from at ``api_version`` (a private copy): the one switch point."""
    from pytest_runcommand.contract.versioned import version_document

    return copy.deepcopy(version_document(api_version))


def _rename_refs(schema: Any, names: frozenset[str]) -> Any:
    if isinstance(schema, list):
        return [_rename_refs(item, names) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _rename_refs(value, names) for key, value in schema.items()}
    ref = result.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/") and ref.rsplit("/", 1)[-1] in names:
        result["$ref"] = f"#/definitions/{REQUEST_PREFIX}{ref.rsplit('/', 1)[-1]}"
    return result


def _request_definitions(definitions: Mapping[str, Any]) -> dict[str, Any]:
    """The contract's strict, guarded request view of every definition, renamed with :data:`REQUEST_PREFIX`.

    A string ``location`` is drawn as a region name (ARM refuses other text with LocationNotAvailableForResourceType;
    the document leaves it a free string).
    """
    guarded = guarded_definitions(definitions, REQUEST_GUARDS, drop_read_only=True)
    names = frozenset(guarded)
    renamed = {f"{REQUEST_PREFIX}{name}": _rename_refs(schema, names) for name, schema in guarded.items()}
    for schema in renamed.values():
        properties = (schema.get("properties") or {}) if isinstance(schema, dict) else {}
        location = properties.get("location")
        if isinstance(location, dict) and location.get("type") == "string":
            location["pattern"] = _REGION
    action = renamed.get(f"{REQUEST_PREFIX}{_ACTION_INPUT}", {}).get("properties", {}).get("commandId")
    if isinstance(action, dict):
        action["enum"] = _built_in_commands()
    return renamed


def _built_in_commands() -> list[str]:
    """The ids of the built-in commands Azure lists (as recorded in the emulator's catalogue)."""
    from pytest_runcommand.emulator.catalogue import entries

    return [str(entry["id"]) for entry in entries()]


def _links(document: dict[str, Any]) -> None:
    """Add ``x-links``: PUT 200/201 -> GET, PATCH, DELETE of the same resource; DELETE 200/202/204 -> GET."""
    operations: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = (path, operation)
    for family, (get, update, delete) in _FAMILIES.items():
        if f"{family}_CreateOrUpdate" not in operations:  # not at this version (diagnostic ones: 2026-04-01 on)
            continue
        put_path, put = operations[f"{family}_CreateOrUpdate"]
        parameters = {name: f"$request.path.{name}" for name in re.findall(r"{(\w+)}", put_path)}
        targets = {f"Get{family}": get, f"Patch{family}": update, f"Delete{family}": delete}
        for status in ("200", "201"):
            put["responses"][status]["x-links"] = {
                name: {"operationId": f"{family}_{target}", "parameters": dict(parameters)}
                for name, target in targets.items()
            }
        _, delete_operation = operations[f"{family}_{delete}"]
        for status in ("200", "202", "204"):
            delete_operation["responses"][status]["x-links"] = {
                f"GetDeleted{family}": {"operationId": f"{family}_{get}", "parameters": dict(parameters)}
            }


def overlay_document(
    api_version: str = DEFAULT_API_VERSION,
    *,
    name_prefix: str | None = None,
    document: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract document with the generation overlays (see the module docstring); a new dict each call."""
    result = copy.deepcopy(dict(document)) if document is not None else contract_document(api_version)
    parameters = result["parameters"]
    parameters["ApiVersionParameter"]["enum"] = [api_version]
    parameters["ExpandParameter"]["enum"] = ["instanceView"]
    for name in (*_PATH_PARAMETERS, *_REGION_PARAMETERS):
        if name in parameters:  # a version's document may lack an operation family
            parameters[name]["minLength"] = 1
            # ARM names: no path separators, no control characters, nothing a proxy rewrites; regions as regions
            parameters[name]["pattern"] = (
                _REGION if name in _REGION_PARAMETERS else r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
            )
    if name_prefix:
        parameters["RunCommandNameParameter"]["pattern"] = rf"^{re.escape(name_prefix)}[a-z0-9]{{1,16}}$"
    if "CommandIdParameter" in parameters:  # the catalogue's GET: a built-in command, so that it answers 200
        parameters["CommandIdParameter"].pop("pattern", None)
        parameters["CommandIdParameter"]["enum"] = _built_in_commands()
    definitions = result["definitions"]
    requested = _request_definitions(definitions)
    definitions.update(requested)
    # every request body is drawn from the request view (the diagnostic run command's too, whatever a version adds)
    viewed = frozenset(name.removeprefix(REQUEST_PREFIX) for name in requested)
    for item in result["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", ()):
                schema = parameter.get("schema") if parameter.get("in") == "body" else None
                if schema is not None:
                    parameter["schema"] = _rename_refs(schema, viewed)
    _arm_errors(result, api_version)
    _links(result)
    return result


def _arm_errors(document: dict[str, Any], api_version: str) -> None:
    """Give an operation that declares no error answer ARM's convention (a ``default`` CloudError), as the contract
    engine reads it (:func:`~pytest_runcommand.contract.facts.error_definition`): a 4xx CloudError is not
    "undocumented" there."""
    for item in document["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            if any(code == "default" or code[:1] in ("4", "5") for code in responses):
                continue
            try:
                definition = error_definition(api_version, operation["operationId"])
            except (KeyError, ValueError):
                definition = "CloudError"
            if definition in document["definitions"]:
                responses["default"] = {
                    "description": "An error, by ARM's convention.",
                    "schema": {"$ref": f"#/definitions/{definition}"},
                }


def build_schema(
    *,
    base_url: str,
    app: Any = None,
    api_version: str = DEFAULT_API_VERSION,
    name_prefix: str | None = None,
    fixed_parameters: Mapping[str, str] | None = None,
    operations: tuple[str, ...] = (),
    headers: Mapping[str, str] | None = None,
    tls_verify: bool | str = True,
) -> BaseSchema:
    """A schemathesis schema of the overlaid contract, bound to ``base_url`` (and ``app`` when in-process).

    ``fixed_parameters``: path parameters sent as given (a live target's subscription, resource group, VM);
    ``operations``: operation ids to keep (all when empty); ``headers``: sent with every request (the bearer
    token); ``tls_verify``: False, or the path of a CA bundle to trust.
    """
    import schemathesis

    schema: BaseSchema = schemathesis.openapi.from_dict(overlay_document(api_version, name_prefix=name_prefix))
    if app is not None:
        schema.app = app
    schema.config.update(
        base_url=base_url,
        parameters={"api-version": api_version, **dict(fixed_parameters or {})},
        headers=dict(headers) if headers else None,
        tls_verify=tls_verify,
    )
    schema.config.phases.stateful.inference.algorithms = []
    # no literals harvested from loaded modules: the draws depend on the contract, the options and the seed only
    schema.config.analysis.constants.enabled = False
    if operations:
        schema = schema.include(operation_id=list(operations))
    install_request_url_without_join(schema)
    return schema
