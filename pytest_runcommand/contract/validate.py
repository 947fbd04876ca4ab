"""Validate run-command requests and responses: JSON schema (compiled once, jsonschema-rs) plus the prose rules.

``validate_request`` / ``validate_response`` find the operation from the method and the URL, as Azure's live validator
does, and return a list of :class:`Violation` (empty: it conforms). They never raise on bad input: an unknown
operation, a missing api-version or a body that is not JSON are violations too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import jsonschema_rs
import orjson

from pytest_runcommand.contract.document import Contract, Operation, OperationMatch, get_contract
from pytest_runcommand.contract.rules import (
    REQUEST_GUARDS,
    REQUEST_RULES,
    RESPONSE_GUARDS,
    RESPONSE_RULES,
    RuleContext,
    long_running_headers,
)
from pytest_runcommand.contract.violations import Violation, mask_value
from pytest_runcommand.interactions import Interaction, header_value

__all__ = ["SCHEMA_CODES", "guarded_definitions", "validate_interaction", "validate_request", "validate_response"]

Body = bytes | bytearray | str | Mapping[str, Any] | list[Any] | None
Side = Literal["request", "response"]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
JSON_MEDIA_TYPES = ("application/json", "text/json")

SCHEMA_CODES: Mapping[str, str] = {
    "OBJECT_MISSING_REQUIRED_PROPERTY": "a required property is missing",
    "OBJECT_ADDITIONAL_PROPERTIES": "a property the contract does not define",
    "INVALID_TYPE": "a value of the wrong JSON type",
    "ENUM_MISMATCH": "a value outside the documented enum",
    "INVALID_FORMAT": "a value breaking its format (int32 range, date-time)",
    "INVALID_JSON": "a body that is not JSON",
    "MISSING_REQUIRED_PARAMETER": "a required body is missing",
    "INVALID_RESPONSE_BODY": "a success answer without the documented body",
    "INVALID_CONTENT_TYPE": "a body that is not declared as JSON",
    "OPERATION_NOT_FOUND": "no run-command operation has this method and path",
    "MISSING_PATH_PARAMETER": "a path segment the operation needs is empty",
    "MISSING_API_VERSION": "the api-version query parameter is missing",
    "UNKNOWN_API_VERSION": "an api-version the contract does not speak for",
}
"""Codes of schema and request-line checks, with a one-line summary each (prose rules: rules.RULE_CODES)."""


_ResponseRoute = tuple[Operation, str, Mapping[str, Any] | None, Any]
_MISSING: Any = object()
_ROUTE_CACHE_SIZE = 8192


class _Compiled:
    """Compiled validators of one contract, made on first use and kept.

    Two kinds per (operation, side): the strict schema, whose errors become violations, and the guard (the strict
    schema plus the rules' guard keywords, read-only properties removed on the request side) that confirms a
    conforming body in one call.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.definitions = {name: _strict(schema) for name, schema in contract.definitions.items()}
        self.guard_definitions = {
            "request": guarded_definitions(contract.definitions, REQUEST_GUARDS, drop_read_only=True),
            "response": guarded_definitions(contract.definitions, RESPONSE_GUARDS, drop_read_only=False),
        }
        self._validators: dict[tuple[str, str, bool], Any] = {}
        self._responses: dict[tuple[int, int], tuple[str, Mapping[str, Any] | None, Any]] = {}
        self._routes: dict[tuple[str, str, int], _ResponseRoute | None] = {}

    def response_route(self, method: str, url: str, status: int) -> _ResponseRoute | None:
        """(operation, response key, schema, guard or None) for a response; None for an unknown operation.

        Cached per (method, url, status): the hot path of validate_response is one dict lookup.
        """
        cache_key = (method, url, status)
        route = self._routes.get(cache_key, _MISSING)
        if route is _MISSING:
            match = self.contract.match(method, url)
            route = None if match is None else (match.operation, *self.response_entry(match.operation, status))
            if len(self._routes) >= _ROUTE_CACHE_SIZE:
                self._routes.clear()
            self._routes[cache_key] = route
        return route  # type: ignore[no-any-return]

    def response_entry(self, operation: Operation, status: int) -> tuple[str, Mapping[str, Any] | None, Any]:
        """(response key, schema, guard validator or None) for a status; the guard only for documented 2xx."""
        cache_key = (id(operation), status)
        entry = self._responses.get(cache_key)
        if entry is None:
            key = str(status)
            response = operation.responses.get(key)
            if response is None and not 200 <= status < 300:
                key, response = "default", operation.responses.get("default")
            schema = response.get("schema") if response else None
            guard = None
            if schema is not None and status in operation.success_codes:
                guard = self.validator(operation, key, schema, guard=True)
            entry = self._responses[cache_key] = (key, schema, guard)
        return entry

    def validator(self, operation: Operation, key: str, schema: Mapping[str, Any], *, guard: bool = False) -> Any:
        cache_key = (operation.operation_id, key, guard)
        found = self._validators.get(cache_key)
        if found is None:
            side = "request" if key == "request" else "response"
            definitions = self.guard_definitions[side] if guard else self.definitions
            root = {**_strict(schema), "definitions": definitions}
            found = jsonschema_rs.Draft4Validator(root, validate_formats=True)
            self._validators[cache_key] = found
        return found


def guarded_definitions(
    definitions: Mapping[str, Any], guards: Mapping[str, Mapping[str, Any]], *, drop_read_only: bool
) -> dict[str, Any]:
    """The strict view of every definition with the rules' guard keywords added (read-only properties dropped on
    the request side): a body valid against it breaks no rule. Fuzzing generates positive requests from it."""
    result = {}
    for name, schema in definitions.items():
        if drop_read_only and "properties" in schema:
            kept = {k: v for k, v in schema["properties"].items() if not (isinstance(v, Mapping) and v.get("readOnly"))}
            schema = {**schema, "properties": kept}
        strict = _strict(schema)
        if name in guards:
            strict = {**strict, "allOf": [*strict.get("allOf", []), *guards[name]["allOf"]]}
        result[name] = strict
    return result


def _strict(schema: Any) -> Any:
    """A copy where objects with declared properties refuse others and int32 integers carry their range."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    result = {key: _strict(value) for key, value in schema.items() if not key.startswith("x-")}
    if "properties" in schema and "$ref" not in schema:
        result["properties"] = {name: _strict(sub) for name, sub in schema["properties"].items()}
        result.setdefault("additionalProperties", False)
    if schema.get("type") == "integer" and schema.get("format") == "int32":
        result.setdefault("minimum", INT32_MIN)
        result.setdefault("maximum", INT32_MAX)
    if "$ref" in result:
        return {"$ref": result["$ref"]}
    return copy.copy(result)


_COMPILED: dict[int, _Compiled] = {}


def _compiled(contract: Contract) -> _Compiled:
    found = _COMPILED.get(id(contract))
    if found is None or found.contract is not contract:
        found = _COMPILED[id(contract)] = _Compiled(contract)
    return found


def _pointer(path: Any) -> str:
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _schema_violations(validator: Any, instance: Any, side: Side, operation_id: str) -> Iterator[Violation]:
    """Translate jsonschema-rs errors into violations with messages built here (so no secret slips through)."""
    for error in validator.iter_errors(instance):
        kind = error.kind
        name = type(kind).__name__
        pointer = _pointer(error.instance_path)
        value = error.instance
        if name == "Required":
            prop = str(kind.property)
            yield Violation(
                "OBJECT_MISSING_REQUIRED_PROPERTY",
                f"{pointer}/{prop}",
                f"required property {prop!r} is missing",
                None,
                side,
                operation_id,
            )
        elif name == "AdditionalProperties":
            for prop in kind.unexpected:
                yield Violation(
                    "OBJECT_ADDITIONAL_PROPERTIES",
                    f"{pointer}/{prop}",
                    f"{prop!r} is not a property the contract defines here",
                    None,
                    side,
                    operation_id,
                )
        elif name == "Type":
            expected = kind.types if isinstance(kind.types, list) else [kind.types]
            wanted = " or ".join(str(t) for t in expected)
            yield Violation(
                "INVALID_TYPE",
                pointer,
                f"expected {wanted}, got {_json_type(value)}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        elif name == "Enum":
            options = ", ".join(str(option) for option in kind.options)
            yield Violation(
                "ENUM_MISMATCH",
                pointer,
                f"must be one of: {options}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        elif name in ("Maximum", "Minimum") and kind.limit in (INT32_MAX, INT32_MIN):
            yield Violation(
                "INVALID_FORMAT",
                pointer,
                f"int32 holds {INT32_MIN}..{INT32_MAX}; this value does not fit",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        elif name == "Format":
            yield Violation(
                "INVALID_FORMAT",
                pointer,
                f"is not a valid {kind.format}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        else:
            code = "".join("_" + c if c.isupper() else c.upper() for c in name).lstrip("_")
            yield Violation(
                code,
                pointer,
                f"breaks the schema keyword {name[0].lower() + name[1:]}",
                mask_value(pointer, value),
                side,
                operation_id,
            )


def _parse(body: Body, side: Side, operation_id: str | None) -> tuple[Any, list[Violation]]:
    if body is None or type(body) is dict or type(body) is list:
        return body, []
    if not isinstance(body, bytes | str | bytearray | memoryview):
        return body, []  # another Mapping or sequence: already parsed
    try:
        return orjson.loads(body), []
    except orjson.JSONDecodeError as error:
        if not (body.strip() if isinstance(body, str | bytes) else bytes(body).strip()):
            return None, []  # an empty body is an absent body
        message = f"the body is not JSON ({error.msg} at position {error.pos})"
        return None, [Violation("INVALID_JSON", "", message, None, side, operation_id)]


def _request_line(
    contract: Contract, method: str, url: str, side: Side
) -> tuple[OperationMatch | None, list[Violation]]:
    """Find the operation; check path parameters and api-version."""
    match = contract.match(method, url)
    if match is None:
        allowed = contract.methods_for(url)
        hint = f" (this path takes {', '.join(allowed)})" if allowed else ""
        return None, [
            Violation(
                "OPERATION_NOT_FOUND",
                "",
                f"no run-command operation for {method.upper()} {_path_only(url)}{hint}",
                None,
                side,
                None,
            )
        ]
    found: list[Violation] = []
    op_id = match.operation_id
    for name, value in match.path_params.items():
        if not value:
            found.append(
                Violation(
                    "MISSING_PATH_PARAMETER",
                    f"path:{name}",
                    f"the path segment {{{name}}} is empty",
                    None,
                    side,
                    op_id,
                )
            )
    api_version = match.api_version
    if api_version is None or api_version == "":
        found.append(
            Violation(
                "MISSING_API_VERSION",
                "query:api-version",
                "the api-version query parameter is required",
                None,
                side,
                op_id,
            )
        )
    elif api_version not in contract.api_versions:
        known = ", ".join(contract.api_versions)
        found.append(
            Violation(
                "UNKNOWN_API_VERSION",
                "query:api-version",
                f"this contract speaks for api-version {known}",
                api_version,
                side,
                op_id,
            )
        )
    return match, found


def _path_only(url: str) -> str:
    return url.split("?", 1)[0]


def validate_request(
    method: str,
    url: str,
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    *,
    contract: Contract | None = None,
) -> list[Violation]:
    """Violations of a run-command request (empty when it conforms)."""
    contract = contract or get_contract()
    match, found = _request_line(contract, method, url, "request")
    if match is None:
        return found
    operation = match.operation
    op_id = operation.operation_id
    parsed, problems = _parse(body, "request", op_id)
    found.extend(problems)
    if problems:
        return found
    if operation.body_schema is None:
        return found
    if parsed is None:
        if operation.body_required:
            found.append(
                Violation("MISSING_REQUIRED_PARAMETER", "", f"{op_id} needs a JSON body", None, "request", op_id)
            )
        return found
    content_type = header_value(headers, "Content-Type")
    if content_type is not None and not content_type.lower().startswith(JSON_MEDIA_TYPES):
        found.append(
            Violation(
                "INVALID_CONTENT_TYPE",
                "header:Content-Type",
                "the body must be sent as application/json or text/json",
                content_type,
                "request",
                op_id,
            )
        )
    compiled = _compiled(contract)
    if compiled.validator(operation, "request", operation.body_schema, guard=True).is_valid(parsed):
        return found
    validator = compiled.validator(operation, "request", operation.body_schema)
    if not validator.is_valid(parsed):
        found.extend(_schema_violations(validator, parsed, "request", op_id))
    ctx = RuleContext(operation, "request", parsed, contract.definitions, None, headers)
    for rule in REQUEST_RULES:
        found.extend(rule(ctx))
    return found


def validate_response(
    method: str,
    url: str,
    status: int,
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    *,
    contract: Contract | None = None,
) -> list[Violation]:
    """Violations of a run-command response to ``method url`` (empty when it conforms).

    Request-line problems (unknown api-version, empty path segment) are the request's business and are not
    repeated here; an unknown operation is reported.
    """
    contract = contract or get_contract()
    compiled = _compiled(contract)
    route = compiled._routes.get((method, url, status), _MISSING)  # the hot path: one dict lookup
    if route is _MISSING:
        route = compiled.response_route(method, url, status)
    if route is None:
        return _request_line(contract, method, url, "response")[1]
    operation, key, schema, guard = route
    if guard is not None and headers is None and type(body) is bytes:
        # The common case (a recorded or live answer as bytes): parse, one guard call, done.
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # reported below, with the reason
        else:
            if guard.is_valid(body):
                return []
    op_id = operation.operation_id
    parsed, found = _parse(body, "response", op_id)
    if found:
        return found
    if guard is not None and parsed is not None and guard.is_valid(parsed):
        if headers is not None:
            ctx = RuleContext(operation, "response", parsed, contract.definitions, status, headers)
            found.extend(long_running_headers(ctx))
        return found
    if schema is not None:
        if parsed is None:
            if 200 <= status < 300:
                found.append(
                    Violation(
                        "INVALID_RESPONSE_BODY",
                        "",
                        f"a {status} from {op_id} must carry a body",
                        None,
                        "response",
                        op_id,
                    )
                )
        else:
            validator = compiled.validator(operation, key, schema)
            if not validator.is_valid(parsed):
                found.extend(_schema_violations(validator, parsed, "response", op_id))
    ctx = RuleContext(operation, "response", parsed, contract.definitions, status, headers)
    for rule in RESPONSE_RULES:
        found.extend(rule(ctx))
    return found


def _parsed_or_raw(interaction: Interaction, side: Side) -> Body:
    """The interaction's parsed body (parsed once, cached on it), or the raw one when it is not JSON."""
    try:
        return interaction.request_json if side == "request" else interaction.response_json  # type: ignore[no-any-return]
    except ValueError:
        return interaction.request_body if side == "request" else interaction.response_body


def validate_interaction(interaction: Interaction, *, contract: Contract | None = None) -> list[Violation]:
    """Both sides of an interaction; the response only when the request reached a known operation."""
    found = validate_request(
        interaction.method,
        interaction.url,
        _parsed_or_raw(interaction, "request"),
        interaction.request_headers,
        contract=contract,
    )
    if interaction.status is None:
        return found
    if any(v.code == "OPERATION_NOT_FOUND" for v in found):
        return found
    found.extend(
        validate_response(
            interaction.method,
            interaction.url,
            interaction.status,
            _parsed_or_raw(interaction, "response"),
            interaction.response_headers,
            contract=contract,
        )
    )
    return found
