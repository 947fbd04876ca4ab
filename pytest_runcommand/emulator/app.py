"""The emulator's one ASGI app: one router, one request type, one answer path, services on it (as moto has).

Services (each registers its routes on :attr:`EmulatorApp.router`):

- run commands (:mod:`~pytest_runcommand.emulator.runcommands`): the managed run commands and their operations,
  and (a second instance) the diagnostic run commands;
- actions (:mod:`~pytest_runcommand.emulator.actions`): the action run command (POST ``.../runCommand``) and the
  location catalogue of built-in commands;
- identity (:mod:`~pytest_runcommand.emulator.identity`): Entra ID discovery and the token endpoint;
- resources (:mod:`~pytest_runcommand.emulator.resources`): metadata, tenants, subscriptions, resource groups.

Every request goes: route (unknown path 404, other method 405) -> bearer token, unless the route is public
(:class:`~pytest_runcommand.emulator.tokens.TokenChecker`) -> api-version, where the route asks for one -> body
(413 past the limit) -> the service's handler -> :func:`~pytest_runcommand.emulator.asgi.encode`. Errors are
raised as :class:`~pytest_runcommand.emulator.errors.ServiceError` and answered in their own envelope. Scripted
faults (:attr:`EmulatorApp.faults`, only when some are loaded) go between the body and the handler. Nothing a
client sends can make it answer 5xx or drop the connection: only a scripted fault does (its answer carries the
``x-runcommand-fault`` header); any other 500 means a bug, and is logged and kept in
:attr:`EmulatorApp.internal_errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.actions import ActionService
from pytest_runcommand.emulator.asgi import (
    ClientGone,
    Encoded,
    FastHandler,
    Handler,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    base_url,
    check_declared_length,
    encode,
    lifespan,
    new_request,
    parse_headers,
    parse_query,
    read_rest,
    valid_host,
    whole_body,
)
from pytest_runcommand.emulator.backend import Backend
from pytest_runcommand.emulator.faults import FAULT_HEADER, ConnectionDropped, Faults
from pytest_runcommand.emulator.identity import Directory, IdentityService
from pytest_runcommand.emulator.resources import ResourceService
from pytest_runcommand.emulator.routing import Router, not_found
from pytest_runcommand.emulator.runcommands import RunCommandService
from pytest_runcommand.emulator.state import DIAGNOSTIC
from pytest_runcommand.emulator.tokens import TokenChecker

if TYPE_CHECKING:
    from pytest_runcommand.interactions import Interaction

__all__ = ["EmulatorApp", "Request", "Response"]

logger = logging.getLogger("pytest_runcommand.emulator")

_CLOSE_WAIT_SECONDS = 1.0
"""How long an answer the server could not send waits for the server to close its connection."""


class EmulatorApp:
    """ASGI app serving Azure Resource Manager's run commands (and the sign-in around them) from a :class:`Backend`.

    ``directory``: who can sign in through the identity service (default: one service principal with a random
    secret); ``azure_cli=False`` serves run commands only (the identity and resource routes answer 404).
    """

    def __init__(
        self, backend: Backend | None = None, *, directory: Directory | None = None, azure_cli: bool = True
    ) -> None:
        self.backend = backend or Backend()
        self.directory: Directory | None = (directory or Directory.default()) if azure_cli else None
        """Who can sign in and which subscriptions they see (None: identity and resources not served)."""
        self.observers: list[Callable[[Interaction], None]] = []
        """Called with each exchange once answered (recorders, contract checks); empty costs nothing."""
        self.internal_errors: list[str] = []
        """Tracebacks of unexpected exceptions (each answered 500); empty unless the emulator has a bug."""
        self.fast_paths = True
        """Answer the usual case of some requests (a run command's PATCH) through a fast handler: the same answer,
        byte for byte, with less work. False: every request through the plain handlers (what the tests compare)."""
        self.forwarded: Callable[[Scope], Awaitable[None]] | None = None
        """What uvicorn's proxy-headers middleware does to a request's scope (``X-Forwarded-Proto`` and ``-For``
        from a trusted client), applied to a request that carries either header: set by the server, which serves
        the app without that middleware (one layer less on every request)."""
        self.faults = Faults()
        """Scripted faults (:mod:`~pytest_runcommand.emulator.faults`): ``load(scenario)``, ``add(...)``, ``clear()``;
        cleared by ``backend.reset()``."""
        self.backend.on_reset(self.faults.clear)
        self.tokens = TokenChecker()
        self.router: Router[Handler] = Router()
        self._lanes: dict[tuple[str, str, bytes], _Lane] = {}
        self._own_urls: dict[tuple[str, str], str] = {}
        """``scheme://host`` by scheme and valid ``Host`` (clients send one or two)."""
        self.run_commands = RunCommandService(self)
        self.diagnostic_run_commands = RunCommandService(self, DIAGNOSTIC)
        self.identity = IdentityService(self)
        self.resources = ResourceService(self)
        self.actions = ActionService(self)
        for service in (self.run_commands, self.diagnostic_run_commands, self.actions, self.identity, self.resources):
            service.register(self.router)

    def add_route(
        self,
        name: str,
        template: str,
        handlers: Mapping[str, Handler],
        *,
        public: bool = False,
        api_version: Literal["any"] | Collection[str] | None = None,
    ) -> None:
        """Serve another path (case-insensitive segments) with ``{"METHOD": handler}``."""
        self.router.add(name, template, handlers, public=public, api_version=api_version)

    # -- ASGI ---------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await lifespan(receive, send)
            return
        if kind != "http":
            return
        self.backend.clock.tick()
        headers = parse_headers(scope.get("headers", ()))
        if self.forwarded is not None and ("x-forwarded-proto" in headers or "x-forwarded-for" in headers):
            await self.forwarded(scope)
        method = scope["method"]  # methods are case-sensitive (RFC 9110): "get" is no GET
        if type(method) is not str:
            method = str(method)
        request: Request | None = None  # (its body, once read, is what observers are shown)
        response: Response | Encoded | None
        try:
            request, handler, fast = self._route(scope, method, headers)
            # the body, read inline (no coroutine of its own)
            limit = self.backend.settings.max_body_bytes
            check_declared_length(headers, limit)
            message = await receive()
            body = whole_body(message, limit)
            request.body = body if body is not None else await read_rest(receive, message, limit)
            coding = headers.get("content-encoding")
            if coding is not None and request.body and coding.strip().lower() not in _UNENCODED:
                raise errors.unsupported_content_encoding(coding)
            if self.faults.armed:
                response = await self.faults.apply(request, handler, self.backend, receive)
            else:
                response = fast(request) if fast is not None and self.fast_paths else None
                if response is None:
                    response = handler(request)
        except ClientGone:
            return  # nothing carried out, no one to answer (uvicorn closes the connection)
        except ConnectionDropped as dropped:
            if self.observers:
                marker = [(FAULT_HEADER.encode(), str(dropped.index).encode())]
                self._notify(scope, headers, b"" if request is None else request.body, None, marker, b"")
            if dropped.closed:
                return
            import httpx

            raise httpx.RemoteProtocolError(str(dropped)) from None
        except errors.ServiceError as error:
            response = Response(error.status, error.to_wire(headers), dict(error.headers))
        except Exception:
            self.internal_errors.append(traceback.format_exc())
            logger.exception("emulator bug while answering %s %s", scope.get("method"), scope.get("path"))
            bug = errors.internal_error()
            response = Response(bug.status, bug.to_wire(), dict(bug.headers))
        if isinstance(response, Encoded):
            raw_headers, body = response.headers, response.body
        else:
            raw_headers, body = encode(response, headers, head=method == "HEAD")
        try:
            await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
            await send({"type": "http.response.body", "body": body})
        except Exception as error:
            # uvicorn answered the connection itself (a malformed request pipelined after this one) and closes it:
            # wait for the close to reach this request (a disconnect), so that it ends as one whose client went away
            logger.debug("answer to %s %s not sent: %s", method, scope.get("path"), type(error).__name__)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(receive(), _CLOSE_WAIT_SECONDS)
            return
        if self.observers:
            self._notify(scope, headers, b"" if request is None else request.body, response.status, raw_headers, body)

    def _route(
        self, scope: Scope, method: str, headers: Mapping[str, str]
    ) -> tuple[Request, Handler, FastHandler | None]:
        """The request (its body not read yet), its handler and its fast handler: routed (404, 405), its token
        checked unless the route is public (401), its api-version where the route asks for one (400)."""
        raw_path = scope.get("raw_path")
        host = headers.get("host")
        if host:
            scheme = scope.get("scheme", "http")
            own_url = self._own_urls.get((scheme, host))
            if own_url is None:
                if not valid_host(host):  # its URLs would carry what was sent (Host: x/evil?y#)
                    raise errors.invalid_host(host)
                own_url = f"{scheme}://{host}"  # base_url's
                if len(self._own_urls) >= 64:
                    self._own_urls.clear()
                self._own_urls[scheme, host] = own_url
        else:
            own_url = base_url(scope, headers)
        claims: Mapping[str, Any] = {}
        # keyed by the target as sent (the path is worked out from it once per lane); by uvicorn's path without it
        key = (method, raw_path or scope.get("path", "/"), scope.get("query_string", b""))
        lane = self._lanes.get(key)
        if lane is not None:
            generation, path, public, params, handler, fast, query, raw_query, api_version = lane
            if generation == self.router.generation:
                if not public:
                    claims = self.tokens.authenticate(headers.get("authorization"), own_url)
                request = new_request(method, path, query, raw_query, headers, own_url, params, claims)
                request.api_version = api_version
                return request, handler, fast
        path = str(scope.get("path", "/"))
        if raw_path and (raw_path[0] != 0x2F or b"%" in raw_path):  # not "/...", or percent-encoded
            path = _target_path(raw_path, path)
        found = self.router.find(path)
        if found is None or not found[0].public:
            claims = self.tokens.authenticate(headers.get("authorization"), own_url)
        if found is None:
            raise not_found(path)
        route, params = found
        handler = route.handler(method)
        raw_query = key[2].decode("latin-1")
        query, versions = _query(raw_query)
        request = Request(method, path, query, raw_query, headers, own_url, params, claims=claims)
        if route.api_version is not None:
            request.api_version = _api_version(versions, route.api_version)
        if len(self._lanes) >= _LANES_KEPT:
            self._lanes.clear()
        fast = route.fast.get(method)
        self._lanes[key] = _Lane(
            self.router.generation, path, route.public, params, handler, fast, query, raw_query, request.api_version
        )
        return request, handler, fast

    def _notify(
        self,
        scope: Scope,
        request_headers: Mapping[str, str],
        request_body: bytes,
        status: int | None,
        raw_headers: list[tuple[bytes, bytes]],
        body: bytes,
    ) -> None:
        from pytest_runcommand.interactions import Interaction

        query = scope.get("query_string", b"").decode("latin-1")
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(str(scope.get("path", "/")))
        if not path.startswith("/"):  # absolute-form: its path
            split = urlsplit(path)
            if split.scheme.lower() in ("http", "https") and split.netloc:
                path = split.path or "/"
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


def _target_path(raw_path: bytes, path: str) -> str:
    """The path a request is routed by, from its request target as sent (``raw_path``) and uvicorn's decoded
    ``path``: an absolute-form target (``http://host/subscriptions/...``, legal in HTTP/1.1; h11 passes it whole,
    httptools its path) is served as its path, on both stacks alike; an encoded slash (``vm%2F1``) stays inside its
    segment as ``%2F`` (a name ARM refuses: 400 InvalidResourceName), never a path separator that routes the request
    elsewhere. Any other target: uvicorn's ``path``."""
    target = raw_path.decode("latin-1")
    if not target.startswith("/"):
        split = urlsplit(target)
        if split.scheme.lower() not in ("http", "https") or not split.netloc:
            return path  # asterisk-form or another scheme: a path nothing serves (404)
        target = split.path or "/"
        path = unquote(target)
    if "%2f" in target.lower():
        path = "/".join(unquote(segment).replace("/", "%2F") for segment in target.split("/"))
    return path


class _Lane(NamedTuple):
    """What a request's method, path and query decide before its handler runs (all of it checked: route, method,
    api-version), for the routes of one ``generation``: clients repeat their requests."""

    generation: int
    path: str
    """The path routed (uvicorn's, or :func:`_target_path`'s)."""
    public: bool
    """Whether the route is served without a bearer token."""
    params: dict[str, str]
    handler: Handler
    fast: FastHandler | None
    query: dict[str, str]
    raw_query: str
    api_version: str


_LANES_KEPT = 4096

_UNENCODED = frozenset({"", "identity"})
"""The ``Content-Encoding`` values of a body sent as it is (the emulator decodes no other)."""

_QUERIES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {}
_QUERIES_KEPT = 1024


def _query(raw_query: str) -> tuple[dict[str, str], tuple[str, ...]]:
    """The query's parameters (:func:`parse_query`) and its api-version values, parsed once per distinct query
    (clients repeat theirs; the result is shared, never changed)."""
    found = _QUERIES.get(raw_query)
    if found is None:
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        found = (parse_query(pairs), tuple(value for name, value in pairs if name.lower() == "api-version"))
        if len(_QUERIES) >= _QUERIES_KEPT:
            _QUERIES.clear()
        _QUERIES[raw_query] = found
    return found


def _api_version(values: tuple[str, ...], served: Literal["any"] | Collection[str]) -> str:
    """The request's api-version (``values``: each one the query gives): 400 when missing, repeated or (for
    ``served`` versions) not served."""
    if not values or not values[0]:
        raise errors.missing_api_version()
    given = ",".join(values)
    if served != "any" and (len(values) > 1 or given not in served):
        raise errors.invalid_api_version(given, served)
    return given
