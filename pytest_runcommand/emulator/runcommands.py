"""The run-command service: PUT, PATCH, GET, DELETE and list of VM and scale-set-VM run commands, and the
async-operation status resource, at every supported api-version.

Each write goes: path names and ``location`` checked the way ARM does (400 before any state changes) -> body
parsed -> ``contract.validate_request`` (the one source of truth: a violation answers 400 with ARM's code,
``InvalidRequestContent``, ``InvalidParameter`` or ``BadRequest``, and each rule's code and JSON pointer in
``details``) -> :class:`~pytest_runcommand.emulator.backend.Backend` -> wire JSON in the
request's api-version's shape (:mod:`~pytest_runcommand.emulator.versions`). Where that version's contract
declares ``Location`` and ``Retry-After`` on a write's answer (2025-11-01 on: PUT 201, PATCH 200, DELETE 202, with
``final-state-via: location``), they are sent: ``Location`` of a PUT or PATCH is the run command itself (what a
client reads once the operation is done), of a DELETE its operation's monitor URL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qsl, quote, urlencode

import orjson

from pytest_runcommand.contract import Violation, facts, get_contract, validate_request
from pytest_runcommand.contract.validate import JSON_MEDIA_TYPES, json_error_reason, request_conforms
from pytest_runcommand.contract.violations import MAX_LISTED, MAX_VIOLATIONS, TOO_MANY_VIOLATIONS
from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import (
    COMMON_RAW_HEADERS,
    JSON_HEADER,
    REQUEST_ID,
    Encoded,
    Handler,
    Request,
    Response,
    arm_answer,
    encoded,
    header_value,
    rate_limit_header,
    request_id,
)
from pytest_runcommand.emulator.backend import DEFAULT_CALLER, AsyncOperation, Backend, ParentRef, normalize_location
from pytest_runcommand.emulator.routing import Router
from pytest_runcommand.emulator.serialize import (
    action_result,
    list_to_wire,
    operation_to_wire,
    run_command_json,
    run_command_to_wire,
)
from pytest_runcommand.emulator.state import MANAGED, Caller, RunCommand
from pytest_runcommand.emulator.tokens import caller_of
from pytest_runcommand.emulator.versions import Kept, kept_on_write

__all__ = [
    "OPERATION",
    "VMSS_VM_RUN_COMMANDS",
    "VM_RUN_COMMANDS",
    "RunCommandService",
    "canonical_query",
    "check_location",
    "check_names",
    "is_json",
    "operation_url",
    "operation_url_parts",
    "parent_of",
    "quote_query",
    "quote_segment",
    "skip_token",
    "validated_body",
]

VM_BASE = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute"
VM_RUN_COMMANDS = VM_BASE + "/virtualMachines/{vmName}/runCommands"
VMSS_VM_RUN_COMMANDS = VM_BASE + "/virtualMachineScaleSets/{vmScaleSetName}/virtualMachines/{instanceId}/runCommands"
OPERATION = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/operations/{operationId}"

LENIENT_DROPPED = frozenset({"READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "OBJECT_ADDITIONAL_PROPERTIES"})
"""Violations Azure silently ignores (the field is dropped) in lenient mode."""
LENIENT_ACCEPTED = frozenset({"MISSING_SCRIPT_SOURCE"})
"""Violations Azure accepts in lenient mode (``source: {}`` is created, and the script run fails)."""

_ASYNC_NOTIFICATION = (b"azure-asyncnotification", b"Enabled")
_WRITES_LEFT_NAME, _WRITES_LEFT_VALUE = rate_limit_header("PATCH")
_WRITES_LEFT = (_WRITES_LEFT_NAME.lower().encode(), _WRITES_LEFT_VALUE.encode())
"""ARM's rate-limit header on a PATCH's answer, as sent."""

_NAME = re.compile(r"[^\x00-\x20\x7f-\U0010ffff/?#%\\]+")
"""A name ARM can put in a resource id and a URL: printable ASCII, no URL delimiters."""
_LOCATION = re.compile(r"[A-Za-z0-9 ]*[A-Za-z0-9][A-Za-z0-9 ]*")
"""A region name: letters and digits, spaces ignored (``West US 2`` is ``westus2``)."""


class _Owner(Protocol):
    backend: Backend


_Header = tuple[bytes, bytes]
_AroundAnswer = tuple[tuple[_Header, ...], bytes, bytes, tuple[_Header, ...]]
"""A fast PATCH's answer headers before its own, its operation URL before and after the id, the headers after."""


class _Plan(NamedTuple):
    """What a request's method, path and query decide, worked out once (clients repeat their requests)."""

    parent: ParentRef
    """The VM addressed (its names checked)."""
    url: str
    """The canonical path and query the contract checks."""
    conforms: Callable[[Any], bool] | None
    """The contract's quick yes for this method and URL."""
    kept: Kept
    """What a write at this api-version leaves as stored."""
    declared: frozenset[int]
    """The statuses on which the operation declares ``Location`` and ``Retry-After``."""
    location: str
    """A PUT's or PATCH's ``Location`` after the base URL: the canonical path and its api-version."""
    taken: dict[bytes, dict[str, Any] | None]
    """Bodies the contract took as they are (at most 64, of at most :data:`_TAKEN_BODY_BYTES` each), each with its
    JSON once sent again (None before: a new body each time keeps no parsed copy alive): shared and never changed
    (a write copies what it keeps or stores it as it is)."""
    answers: dict[tuple[Any, ...], _AroundAnswer]
    """What a fast PATCH's answer headers are made of, by base URL and what else they show (bounded)."""
    patch_kept: Kept | None
    """:attr:`kept` as the fast PATCH passes it: None when the version keeps nothing (the newest), which
    :meth:`~pytest_runcommand.emulator.backend.Backend.patch` takes as it takes such a :class:`Kept`, asking it
    nothing."""


_UNSEEN: Any = object()
"""A body no plan has taken yet (:attr:`_Plan.taken`)."""

_TAKEN_BODY_BYTES = 4 * 1024
"""The largest body a plan remembers the contract took, with its JSON (a PATCH body is a few hundred bytes; memory
stays small)."""


class RunCommandService:
    """Serves the run commands of one ``collection`` from ``owner.backend`` (the app's, read at each request).

    ``collection``: :data:`~pytest_runcommand.emulator.state.MANAGED` (``.../runCommands``, every supported version,
    and the async-operation status route) or :data:`~pytest_runcommand.emulator.state.DIAGNOSTIC`
    (``.../diagnosticRunCommands``, the versions that define them: 2026-04-01; errors in the v3 ``ErrorResponse``
    envelope, which has the same wire shape as ``CloudError``).
    """

    def __init__(self, owner: _Owner, collection: str = MANAGED) -> None:
        self.owner = owner
        self.collection = collection
        vm, vmss = (f"{VM_BASE}/virtualMachines/{{vmName}}", f"{VM_BASE}/virtualMachineScaleSets/{{vmScaleSetName}}")
        self.templates = {
            "": f"{vm}/{collection}",
            "vmss_": f"{vmss}/virtualMachines/{{instanceId}}/{collection}",
        }
        self._by_params = {frozenset({"subscriptionId", "location", "operationId"}): OPERATION}
        for template in self.templates.values():
            names = frozenset(re.findall(r"\{(\w+)\}", template))
            self._by_params[names] = template
            self._by_params[names | {"runCommandName"}] = template + "/{runCommandName}"
        self._canonical: dict[str, tuple[str, str | None]] = {}
        """Request path -> canonical path and template (the service's routes only; clients repeat their paths)."""
        self._plans: dict[tuple[str, str, str], _Plan] = {}
        """(method, path, query) -> what they decide (bounded)."""

    @property
    def backend(self) -> Backend:
        return self.owner.backend

    def register(self, router: Router[Handler]) -> None:
        """Add the run-command routes (bearer token and a supported api-version required)."""
        if self.collection == MANAGED:
            versions = frozenset(facts.SUPPORTED_API_VERSIONS)
            router.add(
                "operation", OPERATION, {"GET": arm_answer(self._operation)}, api_version=frozenset(facts.API_VERSIONS)
            )
        else:
            versions = frozenset(
                version for version in facts.API_VERSIONS if facts.operations_at(version, "diagnostic")
            )
        resource = {
            method: arm_answer(handler)
            for method, handler in (
                ("GET", self._get),
                ("PUT", self._put),
                ("PATCH", self._patch),
                ("DELETE", self._delete),
            )
        }
        prefix = "" if self.collection == MANAGED else "diagnostic_"
        fast = {"PATCH": self._patch_fast}
        for kind, template in self.templates.items():
            name = f"{prefix}{kind}run_command"
            router.add(f"{name}s", template, {"GET": arm_answer(self._list)}, api_version=versions)
            router.add(name, template + "/{runCommandName}", resource, api_version=versions, fast=fast)

    # -- run commands -------------------------------------------------------------------------------

    def _put(self, request: Request) -> Response:
        plan = self._plan(request)
        parent, name = plan.parent, request.params["runCommandName"]
        body = validated_body(request, "", strict=self.backend.settings.strict, plan=plan)
        if isinstance(body, dict) and isinstance(body.get("location"), str):
            check_location(body["location"], self._type(parent))
        command, created, operation = self.backend.create_or_update(
            parent, name, _object(body), caller=_caller(request), kept=plan.kept, collection=self.collection
        )
        status = 201 if created else 200
        return Response(status, self._wire(command, request), self._write_headers(request, plan, operation, status))

    def _patch(self, request: Request) -> Response:
        plan = self._plan(request)
        body = validated_body(request, "", strict=self.backend.settings.strict, plan=plan)
        command, operation = self.backend.update(
            plan.parent,
            request.params["runCommandName"],
            _object(body),
            caller=_caller(request),
            kept=plan.kept,
            collection=self.collection,
        )
        return Response(200, self._wire(command, request), self._write_headers(request, plan, operation, 200))

    def _patch_fast(self, request: Request) -> Encoded | None:
        """:meth:`_patch` encoded in one pass, for a body the contract takes as it is (None otherwise: the plain
        handler answers, its 400 included)."""
        try:
            plan = self._plan(request)
        except errors.ServiceError:
            return None  # a name ARM refuses: the plain handler answers it
        conforms = plan.conforms
        body = request.body
        if conforms is None or not body or not is_json(request.headers.get("content-type", "")):
            return None
        taken = plan.taken
        kept = taken.get(body, _UNSEEN)
        if kept is None or kept is _UNSEEN:
            # (the JSON of a body and the contract's answer are the same each time: clients repeat theirs)
            try:
                sent = orjson.loads(body)
            except orjson.JSONDecodeError:
                return None
            if type(sent) is not dict or (kept is _UNSEEN and not conforms(sent)):
                return None
            if len(body) <= _TAKEN_BODY_BYTES:
                if len(taken) >= 64:
                    taken.clear()
                taken[body] = None if kept is _UNSEEN else sent  # its JSON kept once it comes again
        else:
            sent = kept
        backend = self.owner.backend
        try:
            caller = _caller(request) if request.claims else DEFAULT_CALLER
            command, operation = backend.patch(
                plan.parent, request.params["runCommandName"], sent, caller, plan.patch_kept, self.collection, body
            )
        except errors.ServiceError as error:  # 404, 409: with ARM's rate-limit header, as arm_answer gives them
            if _WRITES_LEFT_NAME not in error.headers:
                error.headers = {**error.headers, _WRITES_LEFT_NAME: _WRITES_LEFT_VALUE}
            raise
        content = run_command_json(command, request.api_version)
        retry_after = backend.settings.retry_after
        key = (request.base_url, retry_after, backend.operation_token, operation.subscription, operation.location)
        answers = plan.answers
        around = answers.get(key)
        if around is None:
            around = self._patch_headers_for(request, plan, operation, retry_after, backend.operation_token)
            if len(answers) >= 64:
                answers.clear()
            answers[key] = around
        head, url_start, url_end, tail = around
        correlation = request.headers.get("x-ms-correlation-request-id")
        operation_id = operation.id.encode()
        headers = [
            *head,
            (b"content-length", b"%d" % len(content)),
            (b"x-ms-request-id", operation_id),
            (b"x-ms-correlation-request-id", header_value(correlation) if correlation else request_id().encode()),
            (b"azure-asyncoperation", b"%s%s%s" % (url_start, operation_id, url_end)),
            *tail,
        ]
        return encoded(200, headers, content)

    def _patch_headers_for(
        self, request: Request, plan: _Plan, operation: AsyncOperation, retry_after: int | None, token: str
    ) -> _AroundAnswer:
        """The headers of a fast PATCH's answer but its own (length, ids), and its operation URL around the id."""
        start, end = operation_url_parts(request.api_version, operation, token, monitor=False)
        tail = [_ASYNC_NOTIFICATION]
        declared = 200 in plan.declared
        if retry_after is not None or declared:
            tail.append((b"retry-after", str(retry_after or 0).encode()))
        if declared:
            tail.append((b"location", header_value(request.base_url + plan.location)))
        tail.append(_WRITES_LEFT)
        head = (*COMMON_RAW_HEADERS, JSON_HEADER)
        return head, header_value(request.base_url + start), header_value(end), tuple(tail)

    def _plan(self, request: Request) -> _Plan:
        """What the request's method, path and query decide (400 for a name ARM could not hold, before anything
        else), remembered."""
        key = (request.method, request.path, request.raw_query)
        found = self._plans.get(key)
        if found is None:
            parent = parent_of(request)
            canonical, template = self._canonical_of(request)
            url = f"{canonical}?{canonical_query(request.raw_query)}"
            version = request.api_version
            kept = kept_on_write(version)
            found = _Plan(
                parent,
                url,
                _conforms(request.method, url),
                kept,
                _lro_header_statuses(version, request.method, template or request.path),
                f"{canonical}?api-version={quote_query(version)}",
                {},
                {},
                kept if kept.properties or kept.source else None,
            )
            if len(self._plans) >= 4096:
                self._plans.clear()
            self._plans[key] = found
        return found

    def _write_headers(
        self, request: Request, plan: _Plan, operation: AsyncOperation, status: int, *, location: bool = True
    ) -> dict[str, str]:
        """A write's async headers; ``location``: the run command's own URL where the operation declares one (a PUT
        or PATCH; a DELETE's Location is its operation's monitor URL, set by the caller)."""
        headers = {
            "Azure-AsyncOperation": operation_url(request, operation, self.backend.operation_token),
            "Azure-AsyncNotification": "Enabled",
            REQUEST_ID: operation.id,  # as recorded: an async write's request id is its operation's id
        }
        retry_after = self.backend.settings.retry_after
        declared = status in plan.declared
        if retry_after is not None or declared:
            headers["Retry-After"] = str(retry_after or 0)
        if declared and location:
            headers["Location"] = request.base_url + plan.location
        return headers

    def _get(self, request: Request) -> Response:
        parent = parent_of(request)
        expand = _expand(request)
        self._validated_body(request, with_body=False)
        command = self.backend.get(parent, request.params["runCommandName"], self.collection)
        return Response(200, self._wire(command, request, expand=expand))

    def _list(self, request: Request) -> Response:
        parent = parent_of(request)
        expand = _expand(request)
        self._validated_body(request, with_body=False)
        commands = self.backend.list(parent, self.collection)
        start = skip_token(request.query.get("$skiptoken"), len(commands))
        size = max(1, self.backend.settings.page_size)
        page = commands[start : start + size]
        next_link = None
        if start + size < len(commands):
            next_link = (
                f"{request.base_url}{self._canonical_path(request)}?api-version={quote(request.api_version)}"
                f"{'&$expand=instanceView' if expand else ''}&$skiptoken={start + size}"
            )
        at = self.backend.clock.now() if expand else None
        return Response(200, list_to_wire(page, next_link, instance_view_at=at, api_version=request.api_version))

    def _delete(self, request: Request) -> Response:
        parent = parent_of(request)
        self._validated_body(request, with_body=False)
        operation = self.backend.delete(parent, request.params["runCommandName"], self.collection)
        if operation is None:
            return Response(204)
        headers = self._write_headers(request, self._plan(request), operation, 202, location=False)
        headers["Location"] = self._operation_url(request, operation, monitor=True)
        return Response(202, None, headers)

    def _wire(self, command: RunCommand, request: Request, *, expand: bool = False) -> dict[str, Any]:
        at = self.backend.clock.now() if expand else None
        return run_command_to_wire(command, instance_view_at=at, api_version=request.api_version)

    def _type(self, parent: ParentRef) -> str:
        kind = "virtualMachines" if parent.instance_id is None else "virtualMachineScaleSets/virtualMachines"
        return f"Microsoft.Compute/{kind}/{self.collection}"

    def _canonical_path(self, request: Request) -> str:
        """The request path with ARM's canonical segment names (ids keep the caller's names)."""
        return self._canonical_of(request)[0]

    def _canonical_of(self, request: Request) -> tuple[str, str | None]:
        """The canonical path and the route template of the request (worked out once per path)."""
        found = self._canonical.get(request.path)
        if found is None:
            template = self._by_params.get(frozenset(request.params))
            params = request.params
            path = template.format(**{k: quote_segment(v) for k, v in params.items()}) if template else request.path
            found = (path, template)
            if len(self._canonical) >= 4096:
                self._canonical.clear()
            self._canonical[request.path] = found
        return found

    # -- async operations ---------------------------------------------------------------------------

    def _operation(self, request: Request) -> Response:
        params = request.params
        operation = self.backend.poll(params["subscriptionId"], params["location"], params["operationId"])
        monitor = request.query.get("monitor", "").lower() == "true"
        if monitor and not operation.done:
            headers = {"Location": self._operation_url(request, operation, monitor=True)}
            if self.backend.settings.retry_after is not None:
                headers["Retry-After"] = str(self.backend.settings.retry_after)
            return Response(202, None, headers)
        if monitor:
            result = action_result(operation)  # the action's final GET (its Location): the RunCommandResult
            if result is not None:
                return Response(200, result)
        if not operation.done and self.backend.settings.retry_after is not None:
            # clients that read the interval only from the status answers (the JavaScript SDK) need it here
            return Response(200, operation_to_wire(operation), {"Retry-After": str(self.backend.settings.retry_after)})
        return Response(200, operation_to_wire(operation))

    def _operation_url(self, request: Request, operation: AsyncOperation, *, monitor: bool = False) -> str:
        return operation_url(request, operation, self.backend.operation_token, monitor=monitor)

    # -- validation ---------------------------------------------------------------------------------

    def _validated_body(self, request: Request, *, with_body: bool = True) -> Any:
        return validated_body(
            request, self._canonical_path(request), strict=self.backend.settings.strict, with_body=with_body
        )


def operation_url(request: Request, operation: AsyncOperation, token: str, *, monitor: bool = False) -> str:
    """The URL of ``operation``'s status (``monitor``: the form a ``Location`` header gives), at the request's version."""
    start, end = operation_url_parts(request.api_version, operation, token, monitor=monitor)
    return f"{request.base_url}{start}{operation.id}{end}"


def operation_url_parts(api_version: str, operation: AsyncOperation, token: str, *, monitor: bool) -> tuple[str, str]:
    """An operation URL's text after the base URL and before the id, and after the id (remembered)."""
    key = (operation.subscription, operation.location, token, monitor, api_version)
    parts = _OPERATION_URL_PARTS.get(key)
    if parts is None:
        parts = (
            f"/subscriptions/{quote_segment(operation.subscription)}/providers/Microsoft.Compute/"
            f"locations/{quote_segment(operation.location)}/operations/",
            f"?p={token}{'&monitor=true' if monitor else ''}&api-version={quote_query(api_version)}",
        )
        if len(_OPERATION_URL_PARTS) >= 1024:
            _OPERATION_URL_PARTS.clear()
        _OPERATION_URL_PARTS[key] = parts
    return parts


_OPERATION_URL_PARTS: dict[tuple[str, str, str, bool, str], tuple[str, str]] = {}
"""An operation URL's text before and after its id, by subscription, location, token, form and version."""


def validated_body(
    request: Request, path: str, *, strict: bool, with_body: bool = True, plan: _Plan | None = None
) -> Any:
    """Parse the body and check the whole request (at canonical ``path``) against the contract; raise the 400 on a
    violation. ``with_body`` False (GET, DELETE): a body is ignored, as ARM does. ``strict`` False: what Azure
    silently drops or accepts is dropped or accepted. ``plan``: the request's, which names the canonical URL
    (``path`` is then not read)."""
    body: Any = None
    sent: bytes | None = None
    if with_body and request.body.strip():
        content_type = request.headers.get("content-type", "")
        if not is_json(content_type):
            raise errors.unsupported_media_type(content_type)
        sent = request.body  # the contract parses the bytes again (cheaper than checking parsed data is JSON's)
        if sent.startswith(UTF8_BOM):  # as .NET's readers do (and `validate` reads files): the mark is no content
            sent = sent[len(UTF8_BOM) :]
        try:
            body = orjson.loads(sent)
        except orjson.JSONDecodeError as error:
            reason = json_error_reason(sent, error)
            if reason.startswith(error.msg):  # JSON's own syntax: where, as ARM's reader says it
                reason = f"{error.msg}. Path '', line {error.lineno}, position {error.colno}"
            raise errors.invalid_request_content(reason) from None
    # no headers: the one the contract reads (Content-Type) was held to JSON above, more strictly
    if plan is None:
        url = f"{path}?{canonical_query(request.raw_query)}"
        conforms = _conforms(request.method, url)
    else:
        url, conforms = plan.url, plan.conforms
    if conforms is not None and conforms(body):
        return body
    violations = validate_request(request.method, url, sent)
    if not strict and isinstance(body, dict):
        violations = _lenient(request.method, url, body, violations)
    if violations:
        raise _violation_error(violations)
    return body


_LENIENT_PASSES = 12
"""How many times lenient mode checks a body again after dropping what it drops, when a flood of such violations
was cut to the first 100 listed."""
LENIENT_DROP_LIMIT = MAX_VIOLATIONS + _LENIENT_PASSES * MAX_LISTED
"""The most fields lenient mode drops from one body (2,200); a body with more is refused (400), saying so."""


def _lenient(method: str, url: str, body: dict[str, Any], violations: list[Violation]) -> list[Violation]:
    """What lenient mode leaves of ``violations``, after dropping from ``body`` the fields Azure drops. A list cut
    to its first 100 whose unlisted rest is all of codes lenient mode drops or accepts is checked again once the
    listed ones are dropped, while the passes left can drop the rest (each check's listed ones are dropped). Past
    :data:`LENIENT_DROP_LIMIT` such fields, a 400 says so; a cut list whose unlisted rest holds other codes is
    refused as strict mode refuses it (the first check's list)."""
    tolerated = LENIENT_DROPPED | LENIENT_ACCEPTED
    passes_left = _LENIENT_PASSES
    first = violations
    while True:
        for violation in violations:
            if violation.code in LENIENT_DROPPED:
                _drop(body, violation.pointer)
        rest = [v for v in violations if v.code not in tolerated]
        if len(rest) != 1 or rest[0].code != TOO_MANY_VIOLATIONS or not isinstance(rest[0].value, Mapping):
            return rest
        unlisted = rest[0].value
        if not set(unlisted) <= tolerated:
            return first  # other violations among those not listed: refused as strict mode refuses it
        if not passes_left or sum(unlisted.values()) > MAX_VIOLATIONS + passes_left * MAX_LISTED:
            found = sum(
                sum(v.value.values()) if v.code == TOO_MANY_VIOLATIONS and isinstance(v.value, Mapping) else 1
                for v in first
            )
            raise errors.lenient_flood(found, LENIENT_DROP_LIMIT, [(v.code, v.message, v.pointer) for v in first])
        passes_left -= 1
        violations = validate_request(method, url, orjson.dumps(body))


# -- helpers ----------------------------------------------------------------------------------------


UTF8_BOM = b"\xef\xbb\xbf"
MAX_NAME = 260
"""The longest path name taken: more than any Azure resource name (every URL the emulator issues stays servable)."""
MAX_LOCATION = 64
"""The longest ``location`` taken (region names are about 20 letters; spaces are allowed: ``West US 2``)."""


def check_names(params: Mapping[str, str]) -> None:
    """400 for a path name ARM could not hold in a resource id (printable ASCII, no URL delimiters, at most
    :data:`MAX_NAME` characters)."""
    for parameter, value in params.items():
        if value not in _GOOD_NAMES:
            if not _NAME.fullmatch(value):
                raise errors.invalid_name(parameter, value)
            if len(value) > MAX_NAME:
                raise errors.name_too_long(parameter, value, MAX_NAME)
            if len(_GOOD_NAMES) >= 4096:
                _GOOD_NAMES.clear()
            _GOOD_NAMES.add(value)


_GOOD_NAMES: set[str] = set()
"""Names already found good (clients repeat theirs)."""


@lru_cache(maxsize=256)
def is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` names JSON (remembered: clients send one or two)."""
    return content_type.split(";", 1)[0].strip().lower() in JSON_MEDIA_TYPES


@lru_cache(maxsize=1024)
def _conforms(method: str, url: str) -> Callable[[Any], bool] | None:
    """The contract's quick yes for requests to ``method url`` (remembered: clients repeat their URLs)."""
    return request_conforms(method, url)


def parent_of(request: Request) -> ParentRef:
    """The VM the request addresses; 400 for a name ARM could not hold in a resource id."""
    params = request.params
    check_names(params)
    if "instanceId" in params:
        return _parent(
            params["subscriptionId"], params["resourceGroupName"], params["vmScaleSetName"], params["instanceId"]
        )
    return _parent(params["subscriptionId"], params["resourceGroupName"], params["vmName"])


@lru_cache(maxsize=1024)
def _parent(subscription: str, group: str, vm: str, instance_id: str | None = None) -> ParentRef:
    return ParentRef(subscription, group, vm, instance_id)


def _caller(request: Request) -> Caller:
    if not request.claims:  # a token the emulator cannot read names nobody
        return DEFAULT_CALLER
    found = caller_of(request.claims)
    return DEFAULT_CALLER if found is None else Caller(*found)


@cache
def _lro_header_statuses(api_version: str, method: str, template: str) -> frozenset[int]:
    """The statuses on which the operation at ``method template`` declares ``Location`` and ``Retry-After``."""
    path = re.sub(r"\{[^}]+\}", "x", template)
    match = get_contract(api_version).match(method, f"{path}?api-version={api_version}")
    if match is None:
        return frozenset()
    try:
        return facts.lro_header_statuses(api_version, match.operation.operation_id)
    except KeyError:
        return frozenset()


def check_location(location: str, resource_type: str) -> None:
    """400 unless ``location`` is a region name of at most :data:`MAX_LOCATION` characters (it goes into the VM's
    operation URLs)."""
    if len(location) > MAX_LOCATION or not _LOCATION.fullmatch(location) or not normalize_location(location):
        raise errors.invalid_location(location, resource_type)


_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._~-]*")


@lru_cache(maxsize=1024)
def quote_segment(value: str) -> str:
    """``value`` percent-encoded for one path segment (most names need nothing)."""
    return value if _PLAIN_SEGMENT.fullmatch(value) else quote(value, safe="")


@lru_cache(maxsize=256)
def quote_query(value: str) -> str:
    """``value`` percent-encoded for a query value (``urllib.parse.quote``: api-versions, remembered)."""
    return quote(value)


_CANONICAL_QUERY_NAMES = {name.lower(): name for name in ("api-version", "$expand", "$skiptoken", "$filter")}


@lru_cache(maxsize=1024)
def canonical_query(raw_query: str) -> str:
    """The query with ARM's parameter names spelled canonically (ARM matches them case-insensitively)."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if all(_CANONICAL_QUERY_NAMES.get(name.lower(), name) == name for name, _ in pairs):
        return raw_query
    return urlencode([(_CANONICAL_QUERY_NAMES.get(name.lower(), name), value) for name, value in pairs])


def _expand(request: Request) -> bool:
    """``$expand=instanceView`` asked for; empty means nothing to expand (the spec takes any string), any other
    value is ARM's 400."""
    value = request.query.get("$expand")
    if value is None or not value.strip():
        return False
    if value.lower() == "instanceview":
        return True
    raise errors.invalid_parameter(
        "The value of parameter $expand is invalid. The supported value is 'instanceView'.", "$expand"
    )


_SKIP_TOKEN = re.compile(r"[0-9]{1,9}")


def skip_token(value: str | None, total: int) -> int:
    """The list offset a ``$skiptoken`` names (ASCII digits only; no larger than the list)."""
    if value is None:
        return 0
    if not _SKIP_TOKEN.fullmatch(value) or int(value) > total:
        raise errors.invalid_parameter("The $skiptoken is invalid or has expired.", "$skiptoken")
    return int(value)


def _object(body: Any) -> dict[str, Any]:
    """A validated write's body: a JSON object (the contract refuses any other)."""
    return body if isinstance(body, dict) else {}


def _drop(body: dict[str, Any], pointer: str) -> None:
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    node: Any = body
    for token in tokens[:-1]:
        node = node.get(token) if isinstance(node, dict) else None
    if isinstance(node, dict) and tokens:
        node.pop(tokens[-1], None)


def _violation_error(violations: list[Violation]) -> errors.ArmError:
    return errors.contract_violation([(v.code, v.message, v.pointer) for v in violations])
