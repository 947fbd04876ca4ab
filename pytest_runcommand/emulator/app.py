"""The emulator's HTTP layer: a plain ASGI app that routes, parses, validates and serializes.

Every request goes: bearer token -> route (404/405) -> api-version -> body size, media type, JSON ->
``contract.validate_request`` (the one source of truth: a violation answers 400 with the rule's code and
the JSON pointer as ``target``) -> :class:`~pytest_runcommand.emulator.backend.Backend` -> wire JSON.
Errors are ARM ``CloudError`` envelopes. Nothing a client sends can make it answer 5xx; a 500 means a
bug, and is logged and kept in :attr:`EmulatorApp.internal_errors`.

More routes (the Azure CLI's metadata, token and resource-group endpoints) can be served with
:meth:`EmulatorApp.add_route`.
"""

from __future__ import annotations

import logging
import random
import re
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

import orjson
import pydantic

from pytest_runcommand.contract import SUPPORTED_API_VERSIONS, Violation, validate_request
from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import base_url, read_body
from pytest_runcommand.emulator.backend import AsyncOperation, Backend, ParentRef
from pytest_runcommand.emulator.routing import Router
from pytest_runcommand.emulator.serialize import list_to_wire, operation_to_wire, run_command_to_wire
from pytest_runcommand.models import VirtualMachineRunCommand, VirtualMachineRunCommandUpdate, from_wire

if TYPE_CHECKING:
    from pytest_runcommand.interactions import Interaction

__all__ = ["EmulatorApp", "Request", "Response"]

logger = logging.getLogger("pytest_runcommand.emulator")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

VM_BASE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
VM_RUN_COMMANDS = VM_BASE + "/virtualMachines/{vmName}/runCommands"
VMSS_VM_RUN_COMMANDS = VM_BASE + "/virtualMachineScaleSets/{vmScaleSetName}/virtualMachines/{instanceId}/runCommands"
OPERATION = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}"

LENIENT_DROPPED = frozenset({"READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "OBJECT_ADDITIONAL_PROPERTIES"})
"""Violations Azure silently ignores (the field is dropped) in lenient mode."""
LENIENT_ACCEPTED = frozenset({"MISSING_SCRIPT_SOURCE"})
"""Violations Azure accepts in lenient mode (``source: {}`` is created, and the script run fails)."""

JSON_TYPES = ("application/json", "text/json")
COMMON_HEADERS = (
    ("cache-control", "no-cache"),
    ("pragma", "no-cache"),
    ("expires", "-1"),
    ("x-content-type-options", "nosniff"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
)


@dataclass
class Request:
    """A parsed request, as the handlers see it."""

    method: str
    path: str
    query: Mapping[str, str]
    """Query parameters by lower-cased name (the first value when repeated)."""
    raw_query: str
    headers: Mapping[str, str]
    """Headers by lower-cased name."""
    base_url: str
    params: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    api_version: str = ""


@dataclass
class Response:
    """What a handler answers: status, JSON body (or None for an empty body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Response]


class EmulatorApp:
    """ASGI app serving the run-command operations of Azure Resource Manager from a :class:`Backend`."""

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend = backend or Backend()
        self.observers: list[Callable[[Interaction], None]] = []
        """Called with each exchange once answered (recorders, contract checks); empty costs nothing."""
        self.internal_errors: list[str] = []
        """Tracebacks of unexpected exceptions (each answered 500); empty unless the emulator has a bug."""
        self.router: Router[Handler] = Router()
        self.add_route("run_commands", VM_RUN_COMMANDS, {"GET": self._list})
        self.add_route(
            "run_command",
            VM_RUN_COMMANDS + "/{runCommandName}",
            {"GET": self._get, "PUT": self._put, "PATCH": self._patch, "DELETE": self._delete},
        )
        self.add_route("vmss_run_commands", VMSS_VM_RUN_COMMANDS, {"GET": self._list})
        self.add_route(
            "vmss_run_command",
            VMSS_VM_RUN_COMMANDS + "/{runCommandName}",
            {"GET": self._get, "PUT": self._put, "PATCH": self._patch, "DELETE": self._delete},
        )
        self.add_route("operation", OPERATION, {"GET": self._operation})

    def add_route(self, name: str, template: str, handlers: Mapping[str, Handler]) -> None:
        """Serve another path (case-insensitive segments) with ``{"METHOD": handler}``."""
        self.router.add(name, template, handlers)

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await _lifespan(receive, send)
            return
        if kind != "http":
            return
        headers = _headers(scope.get("headers", ()))
        received: list[bytes] = []
        try:
            response = await self._handle(scope, receive, headers, received)
        except errors.ArmError as error:
            response = Response(error.status, error.to_wire(), dict(error.headers))
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            logger.exception("emulator bug while answering %s %s", scope.get("method"), scope.get("path"))
            bug = errors.internal_error()
            response = Response(bug.status, bug.to_wire())
        raw_headers, body = _encode(response, headers)
        await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})
        if self.observers:
            self._notify(scope, headers, b"".join(received), response.status, raw_headers, body)

    def _notify(
        self,
        scope: Scope,
        request_headers: Mapping[str, str],
        request_body: bytes,
        status: int,
        raw_headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        from pytest_runcommand.interactions import Interaction

        query = scope.get("query_string", b"").decode("latin-1")
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(str(scope.get("path", "/")))
        url = f"{base_url(scope, request_headers)}{path}{'?' + query if query else ''}"
        interaction = Interaction(
            method=str(scope.get("method", "GET")),
            url=url,
            request_headers=dict(request_headers),
            request_body=request_body or None,
            status=status,
            response_headers={name.decode("latin-1"): value.decode("latin-1") for name, value in raw_headers},
            response_body=body or None,
            source="pytest-runcommand emulator",
        )
        for observer in list(self.observers):
            observer(interaction)

    async def _handle(
        self, scope: Scope, receive: Receive, headers: Mapping[str, str], received: list[bytes]
    ) -> Response:
        _authenticate(headers.get("authorization"))
        method = str(scope["method"]).upper()
        path = str(scope.get("path", "/"))
        match = self.router.resolve(method, path)
        raw_query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        request = Request(
            method=method,
            path=path,
            query=_query(pairs),
            raw_query=raw_query,
            headers=headers,
            base_url=base_url(scope, headers),
            params=match.params,
        )
        request.api_version = _api_version(pairs)
        request.body = await read_body(receive, self.backend.settings.max_body_bytes, headers)
        received.append(request.body)
        return match.handler(request)

    # -- run commands -------------------------------------------------------------------------------

    def _put(self, request: Request) -> Response:
        body = self._validated_body(request)
        resource = _model(VirtualMachineRunCommand, body)
        parent, name = _parent(request), request.params["runCommandName"]
        command, created, operation = self.backend.create_or_update(parent, name, resource)
        return Response(
            201 if created else 200,
            run_command_to_wire(command),
            self._async_headers(request, operation),
        )

    def _patch(self, request: Request) -> Response:
        body = self._validated_body(request)
        update = _model(VirtualMachineRunCommandUpdate, body)
        parent, name = _parent(request), request.params["runCommandName"]
        command, operation = self.backend.update(parent, name, update)
        return Response(200, run_command_to_wire(command), self._async_headers(request, operation))

    def _get(self, request: Request) -> Response:
        expand = _expand(request)
        self._validated_body(request, with_body=False)
        command = self.backend.get(_parent(request), request.params["runCommandName"])
        at = self.backend.clock.now() if expand else None
        return Response(200, run_command_to_wire(command, instance_view_at=at))

    def _list(self, request: Request) -> Response:
        expand = _expand(request)
        self._validated_body(request, with_body=False)
        commands = self.backend.list(_parent(request))
        start = _skip_token(request.query.get("$skiptoken"), len(commands))
        size = max(1, self.backend.settings.page_size)
        page = commands[start : start + size]
        next_link = None
        if start + size < len(commands):
            next_link = (
                f"{request.base_url}{_canonical_path(request)}?api-version={quote(request.api_version)}"
                f"{'&$expand=instanceView' if expand else ''}&$skiptoken={start + size}"
            )
        at = self.backend.clock.now() if expand else None
        return Response(200, list_to_wire(page, next_link, instance_view_at=at))

    def _delete(self, request: Request) -> Response:
        self._validated_body(request, with_body=False)
        operation = self.backend.delete(_parent(request), request.params["runCommandName"])
        if operation is None:
            return Response(204)
        headers = self._async_headers(request, operation)
        headers["Location"] = self._operation_url(request, operation, monitor=True)
        return Response(202, None, headers)

    # -- async operations ---------------------------------------------------------------------------

    def _operation(self, request: Request) -> Response:
        params = request.params
        operation = self.backend.poll(params["subscriptionId"], params["location"], params["operationId"])
        if request.query.get("monitor", "").lower() == "true" and not operation.done:
            headers = {"Location": self._operation_url(request, operation, monitor=True)}
            if self.backend.settings.retry_after is not None:
                headers["Retry-After"] = str(self.backend.settings.retry_after)
            return Response(202, None, headers)
        return Response(200, operation_to_wire(operation))

    def _operation_url(self, request: Request, operation: AsyncOperation, *, monitor: bool = False) -> str:
        return (
            f"{request.base_url}/subscriptions/{operation.subscription}/providers/Microsoft.Compute/locations/"
            f"{operation.location}/operations/{operation.id}?p={self.backend.operation_token}"
            f"{'&monitor=true' if monitor else ''}&api-version={quote(request.api_version)}"
        )

    def _async_headers(self, request: Request, operation: AsyncOperation) -> dict[str, str]:
        headers = {
            "Azure-AsyncOperation": self._operation_url(request, operation),
            "Azure-AsyncNotification": "Enabled",
        }
        if self.backend.settings.retry_after is not None:
            headers["Retry-After"] = str(self.backend.settings.retry_after)
        return headers

    # -- validation ---------------------------------------------------------------------------------

    def _validated_body(self, request: Request, *, with_body: bool = True) -> Any:
        """Parse the body and check the whole request against the contract; raise the 400 on a violation.

        ``with_body`` False (GET, DELETE): a body is ignored, as ARM does.
        """
        body: Any = None
        if with_body and request.body.strip():
            content_type = request.headers.get("content-type", "")
            if content_type.split(";", 1)[0].strip().lower() not in JSON_TYPES:
                raise errors.unsupported_media_type(content_type)
            try:
                body = orjson.loads(request.body)
            except orjson.JSONDecodeError as error:
                raise errors.invalid_request_content(
                    f"{error.msg}. Path '', line {error.lineno}, position {error.colno}"
                ) from None
        url = f"{_canonical_path(request)}?{_canonical_query(request.raw_query)}"
        violations = validate_request(request.method, url, body, request.headers)
        if not self.backend.settings.strict and isinstance(body, dict):
            for violation in violations:
                if violation.code in LENIENT_DROPPED:
                    _drop(body, violation.pointer)
            violations = [v for v in violations if v.code not in LENIENT_DROPPED | LENIENT_ACCEPTED]
        if violations:
            raise _violation_error(violations)
        return body


# -- helpers ----------------------------------------------------------------------------------------


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


def _query(pairs: list[tuple[str, str]]) -> dict[str, str]:
    query: dict[str, str] = {}
    for name, value in pairs:
        query.setdefault(name.lower(), value)
    return query


_WHITESPACE = re.compile(r"\s")


def _authenticate(value: str | None) -> None:
    if value is None or not value.strip():
        raise errors.authentication_failed()
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or _WHITESPACE.search(token):
        raise errors.invalid_authentication_token()


def _api_version(pairs: list[tuple[str, str]]) -> str:
    values = [value for name, value in pairs if name.lower() == "api-version"]
    if not values or not values[0]:
        raise errors.missing_api_version()
    given = ",".join(values)
    if len(values) > 1 or given not in SUPPORTED_API_VERSIONS:
        raise errors.invalid_api_version(given, SUPPORTED_API_VERSIONS)
    return given


def _parent(request: Request) -> ParentRef:
    params = request.params
    if "instanceId" in params:
        return ParentRef(
            params["subscriptionId"], params["resourceGroupName"], params["vmScaleSetName"], params["instanceId"]
        )
    return ParentRef(params["subscriptionId"], params["resourceGroupName"], params["vmName"])


def _canonical_path(request: Request) -> str:
    """The request path with ARM's canonical segment names (ids keep the caller's names)."""
    template = _TEMPLATES_BY_PARAMS.get(frozenset(request.params))
    if template is None:
        return request.path
    return template.format(**{name: _quote_segment(value) for name, value in request.params.items()})


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]*")


def _quote_segment(value: str) -> str:
    """``value`` percent-encoded for one path segment (most names need nothing)."""
    return value if _PLAIN_SEGMENT.fullmatch(value) else quote(value, safe="")


_TEMPLATES_BY_PARAMS = {
    frozenset({"subscriptionId", "resourceGroupName", "vmName"}): VM_RUN_COMMANDS,
    frozenset({"subscriptionId", "resourceGroupName", "vmName", "runCommandName"}): VM_RUN_COMMANDS
    + "/{runCommandName}",
    frozenset({"subscriptionId", "resourceGroupName", "vmScaleSetName", "instanceId"}): VMSS_VM_RUN_COMMANDS,
    frozenset({"subscriptionId", "resourceGroupName", "vmScaleSetName", "instanceId", "runCommandName"}): (
        VMSS_VM_RUN_COMMANDS + "/{runCommandName}"
    ),
    frozenset({"subscriptionId", "location", "operationId"}): OPERATION,
}


_CANONICAL_QUERY_NAMES = {name.lower(): name for name in ("api-version", "$expand", "$skiptoken", "$filter")}


def _canonical_query(raw_query: str) -> str:
    """The query with ARM's parameter names spelled canonically (ARM matches them case-insensitively)."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if all(_CANONICAL_QUERY_NAMES.get(name.lower(), name) == name for name, _ in pairs):
        return raw_query
    return urlencode([(_CANONICAL_QUERY_NAMES.get(name.lower(), name), value) for name, value in pairs])


def _expand(request: Request) -> bool:
    value = request.query.get("$expand")
    if value is None:
        return False
    if value.lower() == "instanceview":
        return True
    raise errors.invalid_parameter(
        "The value of parameter $expand is invalid. The supported value is 'instanceView'.", "$expand"
    )


def _skip_token(value: str | None, total: int) -> int:
    if value is None:
        return 0
    if not value.isdigit() or int(value) > total:
        raise errors.invalid_parameter("The $skiptoken is invalid or has expired.", "$skiptoken")
    return int(value)


def _model(cls: Any, body: Any) -> Any:
    if body is None:
        body = {}
    try:
        return from_wire(cls, body)
    except pydantic.ValidationError as error:
        first = error.errors(include_input=False)[0]
        location = "/".join(str(part) for part in first.get("loc", ()))
        raise errors.invalid_request_content(f"the value at '{location}' has the wrong type") from None


def _drop(body: dict[str, Any], pointer: str) -> None:
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    node: Any = body
    for token in tokens[:-1]:
        node = node.get(token) if isinstance(node, dict) else None
    if isinstance(node, dict) and tokens:
        node.pop(tokens[-1], None)


def _violation_error(violations: list[Violation]) -> errors.ArmError:
    first = violations[0]
    details = [errors.ErrorDetail(v.code, v.message, v.pointer) for v in violations] if len(violations) > 1 else ()
    return errors.ArmError(400, first.code, first.message, target=first.pointer, details=details)


_IDS = random.Random()


def _request_id() -> str:
    """A random GUID for ``x-ms-request-id`` (not security-relevant; no syscall per request)."""
    return str(uuid.UUID(int=_IDS.getrandbits(128), version=4))


_COMMON_RAW_HEADERS = tuple((name.encode(), value.encode()) for name, value in COMMON_HEADERS)


def _encode(response: Response, request_headers: Mapping[str, str]) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The raw headers and body of ``response``."""
    body = b"" if response.body is None else orjson.dumps(response.body)
    request_id = _request_id()
    correlation = request_headers.get("x-ms-correlation-request-id") or request_id
    headers = list(_COMMON_RAW_HEADERS)
    if response.body is not None:
        headers.append((b"content-type", b"application/json; charset=utf-8"))
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append((b"x-ms-request-id", request_id.encode()))
    headers.append((b"x-ms-correlation-request-id", correlation.encode("latin-1", "replace")))
    client_request_id = request_headers.get("x-ms-client-request-id")
    if client_request_id:
        headers.append((b"x-ms-client-request-id", client_request_id.encode("latin-1", "replace")))
    for name, value in response.headers.items():
        headers.append((name.lower().encode(), value.encode("latin-1", "replace")))
    return headers, body
