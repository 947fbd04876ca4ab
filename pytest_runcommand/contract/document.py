"""The contract document: load it (bundled, or a user's official Swagger) and route a method + URL to an operation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from pytest_runcommand.contract.resolve import HTTP_METHODS, resolve_swagger
from pytest_runcommand.contract.versions import CONTRACT_API_VERSION, SUPPORTED_API_VERSIONS

__all__ = ["BUNDLED_SPEC_PATH", "Contract", "Operation", "OperationMatch", "get_contract", "load_contract"]

BUNDLED_SPEC_PATH = Path(__file__).with_name("spec") / "runcommands-2024-07-01.json"
"""The project's own Swagger 2.0 contract document for api-version 2024-07-01 (package data)."""

_PARAM = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with everything validation needs already resolved."""

    operation_id: str
    method: str
    path: str
    parameters: tuple[Mapping[str, Any], ...]
    body_schema: Mapping[str, Any] | None
    body_required: bool
    responses: Mapping[str, Mapping[str, Any]]
    long_running: bool
    pattern: re.Pattern[str] = field(repr=False)

    @property
    def path_parameter_names(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @property
    def query_parameters(self) -> tuple[Mapping[str, Any], ...]:
        return tuple(p for p in self.parameters if p.get("in") == "query")

    @cached_property
    def success_codes(self) -> frozenset[int]:
        """The documented 2xx status codes."""
        return frozenset(int(code) for code in self.responses if code.isdigit() and code.startswith("2"))


@dataclass(frozen=True)
class OperationMatch:
    """An operation found for a request: its path parameters and query, as sent."""

    operation: Operation
    path_params: Mapping[str, str]
    query: Mapping[str, str]

    @property
    def operation_id(self) -> str:
        return self.operation.operation_id

    @property
    def api_version(self) -> str | None:
        return self.query.get("api-version")


def _compile_path(template: str) -> re.Pattern[str]:
    """Literal segments match case-insensitively (as ARM does); a parameter matches one segment, even empty."""
    pattern = ""
    position = 0
    for found in _PARAM.finditer(template):
        pattern += re.escape(template[position : found.start()])
        pattern += f"(?P<{_group(found.group(1))}>[^/]*)"
        position = found.end()
    pattern += re.escape(template[position:])
    return re.compile(f"(?i)^{pattern}/?$")


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


class Contract:
    """A resolved Swagger 2.0 document of run-command operations.

    ``api_versions`` maps each api-version this document speaks for to a note on how it relates to it.
    """

    def __init__(self, document: Mapping[str, Any], api_versions: Mapping[str, str] | None = None) -> None:
        self.document: Mapping[str, Any] = document
        self.definitions: Mapping[str, Any] = document.get("definitions", {})
        version = str(document.get("info", {}).get("version", ""))
        self.api_versions: Mapping[str, str] = MappingProxyType(
            dict(api_versions) if api_versions is not None else {version: "the loaded document"}
        )
        operations: list[Operation] = []
        for template, item in document.get("paths", {}).items():
            for method in HTTP_METHODS:
                raw = item.get(method)
                if not isinstance(raw, dict):
                    continue
                parameters = tuple(raw.get("parameters", ()))
                body = next((p for p in parameters if p.get("in") == "body"), None)
                operations.append(
                    Operation(
                        operation_id=str(raw.get("operationId", f"{method.upper()} {template}")),
                        method=method.upper(),
                        path=template,
                        parameters=parameters,
                        body_schema=body.get("schema") if body else None,
                        body_required=bool(body and body.get("required")),
                        responses=MappingProxyType(dict(raw.get("responses", {}))),
                        long_running=bool(raw.get("x-ms-long-running-operation")),
                        pattern=_compile_path(template),
                    )
                )
        self.operations: tuple[Operation, ...] = tuple(operations)
        self.by_id: Mapping[str, Operation] = MappingProxyType({op.operation_id: op for op in operations})
        self._match = lru_cache(maxsize=4096)(self._match_uncached)

    def match(self, method: str, url: str) -> OperationMatch | None:
        """The operation for ``method`` and ``url`` (absolute or a path with query), or None."""
        return self._match(method.upper(), url)

    def methods_for(self, url: str) -> list[str]:
        """The methods the document declares for the path of ``url`` (for 'method not allowed' messages)."""
        path = unquote(urlsplit(url).path)
        return sorted({op.method for op in self.operations if op.pattern.match(path)})

    def _match_uncached(self, method: str, url: str) -> OperationMatch | None:
        parts = urlsplit(url)
        path = unquote(parts.path)
        for operation in self.operations:
            if operation.method != method:
                continue
            found = operation.pattern.match(path)
            if found is None:
                continue
            names = operation.path_parameter_names
            params = {name: found.group(_group(name)) for name in names}
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            return OperationMatch(operation, MappingProxyType(params), MappingProxyType(query))
        return None


def load_contract(path: str | Path, *, api_versions: Mapping[str, str] | None = None) -> Contract:
    """Load a user's copy of the official Swagger (cross-file ``$ref`` and ``allOf`` resolved) as a contract."""
    return Contract(resolve_swagger(path), api_versions)


@lru_cache(maxsize=1)
def get_contract() -> Contract:
    """The bundled contract for api-version 2024-07-01 (loaded once)."""
    return Contract(resolve_swagger(BUNDLED_SPEC_PATH, path_filter=None), SUPPORTED_API_VERSIONS)


assert CONTRACT_API_VERSION in SUPPORTED_API_VERSIONS
