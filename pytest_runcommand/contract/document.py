"""The contract document: load it (bundled, or a user's official Swagger) and route a method + URL to an operation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qsl, unquote

from pytest_runcommand.contract.facts import API_VERSIONS, DEFAULT_API_VERSION
from pytest_runcommand.contract.resolve import HTTP_METHODS, resolve_swagger
from pytest_runcommand.contract.versioned import BASE_SPEC_PATH, version_document

__all__ = [
    "BUNDLED_SPEC_PATH",
    "Contract",
    "Operation",
    "OperationMatch",
    "get_contract",
    "load_contract",
    "query_api_version",
]

BUNDLED_SPEC_PATH: Path = BASE_SPEC_PATH
"""The project's own Swagger 2.0 contract document for api-version 2024-07-01, the base of every version."""

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

    @cached_property
    def path_parameter_names(self) -> tuple[str, ...]:
        return tuple(_PARAM.findall(self.path))

    @cached_property
    def _groups(self) -> tuple[tuple[str, str], ...]:
        """(parameter name, its group in :attr:`pattern`) for each path parameter."""
        return tuple((name, _group(name)) for name in self.path_parameter_names)

    @cached_property
    def _slashes(self) -> int:
        """How many ``/`` a matching path has (parameters match within one segment), a trailing one aside."""
        return self.path.count("/")

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

    ``api_version`` is the version the document describes (its ``info.version``); ``api_versions`` maps each
    api-version the contract speaks for to where its contract came from. A bundled contract (``bundled``) is one
    member of the family of per-version contracts: validating with it checks each request at its own api-version.
    """

    def __init__(
        self, document: Mapping[str, Any], api_versions: Mapping[str, str] | None = None, *, bundled: bool = False
    ) -> None:
        self.document: Mapping[str, Any] = document
        self.definitions: Mapping[str, Any] = document.get("definitions", {})
        self.api_version: str = str(document.get("info", {}).get("version", ""))
        self.bundled = bundled
        self.api_versions: Mapping[str, str] = MappingProxyType(
            dict(api_versions) if api_versions is not None else {self.api_version: "the loaded document"}
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
        by_method: dict[str, list[Operation]] = {}
        for operation in operations:
            by_method.setdefault(operation.method, []).append(operation)
        self._by_method = {method: tuple(found) for method, found in by_method.items()}
        self._match = lru_cache(maxsize=4096)(self._match_uncached)

    def for_version(self, api_version: str | None) -> Contract:
        """The contract that checks traffic of ``api_version``: for a bundled contract that version's own (itself
        when the version is not supported), for a loaded document always itself."""
        if not self.bundled or api_version == self.api_version or api_version not in API_VERSIONS:
            return self
        return get_contract(api_version)

    def match(self, method: str, url: str) -> OperationMatch | None:
        """The operation for ``method`` and ``url`` (absolute or a path with query), or None."""
        return self._match(method.upper(), url)

    def methods_for(self, url: str) -> list[str]:
        """The methods the document declares for the path of ``url`` (for 'method not allowed' messages)."""
        path = unquote(split_url(url)[1])
        return sorted({op.method for op in self.operations if op.pattern.match(path)})

    def _match_uncached(self, method: str, url: str) -> OperationMatch | None:
        _, raw_path, raw_query = split_url(url)
        path = unquote(raw_path) if "%" in raw_path else raw_path
        slashes = path.count("/")
        for operation in self._by_method.get(method, ()):
            if slashes != operation._slashes and slashes != operation._slashes + 1:
                continue  # cannot match: a quick no before the pattern
            found = operation.pattern.match(path)
            if found is None:
                continue
            params = {name: found.group(group) for name, group in operation._groups}
            query = dict(parse_qsl(raw_query, keep_blank_values=True))
            if raw_query.count("api-version") > 1:  # repeated: ARM reads the values joined with commas
                query["api-version"] = query_api_version(url) or ""
            return OperationMatch(operation, MappingProxyType(params), MappingProxyType(query))
        return None


def load_contract(path: str | Path, *, api_versions: Mapping[str, str] | None = None) -> Contract:
    """Load a user's copy of the official Swagger (cross-file ``$ref`` and ``allOf`` resolved) as a contract."""
    return Contract(resolve_swagger(path), api_versions)


def get_contract(api_version: str | None = None) -> Contract:
    """The bundled contract of ``api_version`` (default: DEFAULT_API_VERSION), built once per version.

    Raises ``UnknownApiVersion`` (a ``ValueError`` listing the supported versions) for any other version.
    """
    return _bundled(DEFAULT_API_VERSION if api_version is None else api_version)


@cache
def _bundled(api_version: str) -> Contract:
    document = resolve_swagger(BASE_SPEC_PATH, path_filter=None, document=version_document(api_version))
    return Contract(document, API_VERSIONS, bundled=True)


def split_url(url: str) -> tuple[str, str, str]:
    """(origin, path, query) of an absolute URL or of a path with a query; never raises, drops the fragment.

    The origin is ``scheme://host[:port]`` without any user name or password (empty for a bare path).
    """
    rest, _, _ = url.partition("#")
    origin = ""
    scheme_end = rest.find("://")
    if scheme_end > 0 and rest[:scheme_end].isalnum():
        after = scheme_end + 3
        ends = [i for i in (rest.find("/", after), rest.find("?", after)) if i >= 0]
        end = min(ends) if ends else len(rest)
        host = rest[after:end].rpartition("@")[2]
        origin, rest = f"{rest[:scheme_end]}://{host}", rest[end:]
    path, _, query = rest.partition("?")
    return origin, path, query


@lru_cache(maxsize=4096)
def query_api_version(url: str) -> str | None:
    """The ``api-version`` query parameter of ``url``, or None; repeated, its values joined with commas, as ARM
    reads them (``2021-07-01,2024-07-01``: no supported version, so an ``UNKNOWN_API_VERSION``, as ARM's 400
    ``InvalidApiVersionParameter`` and the emulator's)."""
    query = split_url(url)[2]
    if "api-version" not in query:
        return None
    if "%" in query or "+" in query:  # escapes to decode: parse_qsl's way
        values = [value for name, value in parse_qsl(query, keep_blank_values=True) if name == "api-version"]
    else:  # parse_qsl's result where nothing is escaped
        values = [item.partition("=")[2] for item in query.split("&") if item.partition("=")[0] == "api-version"]
    return ",".join(values) if values else None
