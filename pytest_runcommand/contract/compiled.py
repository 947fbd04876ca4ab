"""Compiled validators of one contract: the strict schema of each (operation, side), and its guard.

The strict view refuses properties a definition does not declare and keeps int32 integers in range; the guard adds
the rules' guard keywords so a conforming body is confirmed by one call into jsonschema-rs.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from pytest_runcommand.contract.document import Contract, Operation
from pytest_runcommand.contract.rules import request_guards, response_guards

__all__ = ["INT32_MAX", "INT32_MIN", "MISSING", "Compiled", "ResponseRoute", "compiled", "guarded_definitions"]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

ResponseRoute = tuple[Operation, str, Mapping[str, Any] | None, Any]
MISSING: Any = object()
_ROUTE_CACHE_SIZE = 8192
CLOUD_ERROR = "CloudError"
"""The error envelope an operation without a declared error response answers with (ARM's convention)."""
MONITOR_SCHEMA = "x-runcommand-monitor-schema"


class Compiled:
    """Compiled validators of one contract, made on first use and kept.

    Two kinds per (operation, side): the strict schema, whose errors become violations, and the guard (the strict
    schema plus the rules' guard keywords, read-only properties removed on the request side) that confirms a
    conforming body in one call.
    """

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.definitions = {name: _strict(schema) for name, schema in contract.definitions.items()}
        self.guard_definitions = {
            "request": guarded_definitions(
                contract.definitions, request_guards(contract.definitions), drop_read_only=True
            ),
            "response": guarded_definitions(
                contract.definitions, response_guards(contract.definitions), drop_read_only=False
            ),
        }
        self._validators: dict[tuple[str, str, bool], Any] = {}
        self._schemas: dict[int, Mapping[str, Any]] = {}
        self._responses: dict[tuple[int, int], tuple[str, Mapping[str, Any] | None, Any]] = {}
        self.routes: dict[tuple[str, str, int], ResponseRoute | None] = {}

    def response_route(self, method: str, url: str, status: int) -> ResponseRoute | None:
        """(operation, response key, schema, guard or None) for a response; None for an unknown operation.

        Cached per (method, url, status): the hot path of validate_response is one dict lookup.
        """
        cache_key = (method, url, status)
        route = self.routes.get(cache_key, MISSING)
        if route is MISSING:
            match = self.contract.match(method, url)
            route = None if match is None else (match.operation, *self.response_entry(match.operation, status))
            if route is not None and match is not None and match.query.get("monitor", "").lower() == "true":
                route = self._monitor_route(route)
            if len(self.routes) >= _ROUTE_CACHE_SIZE:
                self.routes.clear()
            self.routes[cache_key] = route
        return route  # type: ignore[no-any-return]

    def response_entry(self, operation: Operation, status: int) -> tuple[str, Mapping[str, Any] | None, Any]:
        """(response key, schema, guard validator or None) for a status; the guard only for documented 2xx. An error
        status of an operation without a ``default`` response is checked against the CloudError definition."""
        cache_key = (id(operation), status)
        entry = self._responses.get(cache_key)
        if entry is None:
            key = str(status)
            response = operation.responses.get(key)
            if response is None and not 200 <= status < 300:
                key, response = "default", operation.responses.get("default")
            schema = response.get("schema") if response else None
            if response is None and status >= 400 and CLOUD_ERROR in self.contract.definitions:
                schema = {"$ref": f"#/definitions/{CLOUD_ERROR}"}  # ARM's convention where none is declared
            guard = None
            if schema is not None and status in operation.success_codes:
                guard = self.validator(operation, key, schema, guard=True)
            entry = self._responses[cache_key] = (key, schema, guard)
        return entry

    def _monitor_route(self, route: ResponseRoute) -> ResponseRoute:
        """The Location form (``monitor=true``) of an operation URL answers, once done, either the status or the
        final result the response names in ``x-runcommand-monitor-schema`` (the action run command's result)."""
        operation, key, schema, _ = route
        extra = (operation.responses.get(key) or {}).get(MONITOR_SCHEMA)
        if schema is None or not isinstance(extra, Mapping):
            return route
        either = {"anyOf": [dict(schema), dict(extra)]}
        monitor_key = f"{key} monitor"
        return operation, monitor_key, either, self.validator(operation, monitor_key, either, guard=True)

    def validator(self, operation: Operation, key: str, schema: Mapping[str, Any], *, guard: bool = False) -> Any:
        cache_key = (operation.operation_id, key, guard)
        found = self._validators.get(cache_key)
        if found is None:
            side = "request" if key == "request" else "response"
            definitions = self.guard_definitions[side] if guard else self.definitions
            root = {**_strict(schema), "definitions": definitions}
            found = jsonschema_rs.Draft4Validator(root, validate_formats=True)
            self._validators[cache_key] = found
            self._schemas[id(found)] = root
        return found

    def schema_of(self, validator: Any) -> Mapping[str, Any]:
        """The root schema (with its ``definitions``) a validator of :meth:`validator` was compiled from."""
        return self._schemas[id(validator)]


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


_COMPILED: dict[int, Compiled] = {}


def compiled(contract: Contract) -> Compiled:
    """The compiled validators of ``contract`` (made once per contract object)."""
    found = _COMPILED.get(id(contract))
    if found is None or found.contract is not contract:
        found = _COMPILED[id(contract)] = Compiled(contract)
    return found
