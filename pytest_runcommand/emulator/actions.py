"""The action run command and the location catalogue, served at every api-version that defines them.

- POST ``.../virtualMachines/{vm}/runCommand`` and ``.../virtualMachineScaleSets/{ss}/virtualMachines/{id}/runCommand``
  (``RunCommandInput``): 202 with an empty body, ``Azure-AsyncOperation`` (the operation's status: ``InProgress``,
  then ``Succeeded`` with ``properties.output``) and ``Location`` (the same URL with ``monitor=true``: 200 with the
  ``RunCommandResult`` once done), as recorded. ``Retry-After`` where the version declares it (2026-04-01) or the
  emulator's ``retry_after`` setting asks for it (``None``: exactly as recorded).
- GET ``.../locations/{location}/runCommands[/{commandId}]``: the built-in commands
  (:mod:`~pytest_runcommand.emulator.catalogue`); 404 ``NotFound`` for a command id Azure does not have.

The result's shape follows the command's OS in the catalogue (``RunShellScript``, ``ifconfig``: Linux;
``RunPowerShellScript``, ``IPConfig``: Windows). A command id outside the catalogue answers 400 ``InvalidParameter``
naming ``commandId`` (Azure's answer there is not recorded). The run goes to the executor as a managed run command's
does (:class:`~pytest_runcommand.emulator.executor.ScriptRun`: ``command_id``, the script lines joined by newlines
or, when none are sent, the built-in's own script, and the named ``parameters``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple, Protocol
from urllib.parse import quote

import orjson

from pytest_runcommand.contract import facts
from pytest_runcommand.contract.validate import request_conforms
from pytest_runcommand.emulator import catalogue, errors
from pytest_runcommand.emulator.asgi import (
    COMMON_RAW_HEADERS,
    REQUEST_ID,
    Encoded,
    Handler,
    RawJson,
    Request,
    Response,
    arm_answer,
    encoded,
    header_value,
    rate_limit_header,
    request_id,
)
from pytest_runcommand.emulator.backend import AsyncOperation, Backend, ParentRef
from pytest_runcommand.emulator.routing import Router
from pytest_runcommand.emulator.runcommands import (
    VM_BASE,
    canonical_query,
    check_location,
    check_names,
    is_json,
    operation_url,
    operation_url_parts,
    parent_of,
    quote_segment,
    skip_token,
    validated_body,
)

__all__ = ["CATALOGUE", "VMSS_VM_ACTION", "VM_ACTION", "ActionService", "action_properties"]

VM_ACTION = VM_BASE + "/virtualMachines/{vmName}/runCommand"
VMSS_VM_ACTION = VM_BASE + "/virtualMachineScaleSets/{vmScaleSetName}/virtualMachines/{instanceId}/runCommand"
CATALOGUE = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}/runCommands"
_CATALOGUE_TYPE = "Microsoft.Compute/locations/runCommands"
VM_ACTION_ID = "VirtualMachines_RunCommand"
VMSS_VM_ACTION_ID = "VirtualMachineScaleSetVMs_RunCommand"
_ROUTES = (
    ("vm_action", VM_ACTION_ID, VM_ACTION),
    ("vmss_action", VMSS_VM_ACTION_ID, VMSS_VM_ACTION),
    ("catalogue", "VirtualMachineRunCommands_List", CATALOGUE),
    ("catalogue_entry", "VirtualMachineRunCommands_Get", CATALOGUE + "/{commandId}"),
)


class _Owner(Protocol):
    backend: Backend


class _Plan(NamedTuple):
    """What an action's path and query decide, worked out once (clients repeat their requests)."""

    parent: ParentRef
    conforms: Callable[[Any], bool]
    """The contract's quick yes for a body at this URL."""
    declared: bool
    """Whether the operation declares ``Retry-After`` on its 202 at this version."""
    around: dict[tuple[Any, ...], tuple[bytes, bytes, bytes, tuple[tuple[bytes, bytes], ...]]]
    """:meth:`ActionService._around` by what else the answer shows (base URL, settings, the VM's subscription and
    location; bounded)."""


_WRITES_LEFT_NAME, _WRITES_LEFT_VALUE = rate_limit_header("POST")
_WRITES_LEFT = (_WRITES_LEFT_NAME.lower().encode(), _WRITES_LEFT_VALUE.encode())
"""ARM's rate-limit header on the action's answer, as sent."""


class ActionService:
    """Serves the action run command and the catalogue from ``owner.backend`` (read at each request)."""

    def __init__(self, owner: _Owner) -> None:
        self.owner = owner
        self._plans: dict[tuple[str, str], _Plan] = {}
        """(path, query) -> what they decide for an action (bounded; clients repeat theirs)."""

    @property
    def backend(self) -> Backend:
        return self.owner.backend

    def register(self, router: Router[Handler]) -> None:
        """Add the routes, each at the api-versions whose contract defines its operation."""
        handlers: dict[str, Handler] = {
            "vm_action": self._invoke,
            "vmss_action": self._invoke,
            "catalogue": self._list,
            "catalogue_entry": self._get,
        }
        for name, operation_id, template in _ROUTES:
            method = "POST" if name.endswith("action") else "GET"
            versions = frozenset(facts.versions_with(operation_id))
            fast = {"POST": self._invoke_fast} if name.endswith("action") else None
            router.add(name, template, {method: arm_answer(handlers[name])}, api_version=versions, fast=fast)

    # -- the action ---------------------------------------------------------------------------------

    def _invoke(self, request: Request) -> Response:
        parent = parent_of(request)
        template = VM_ACTION if parent.instance_id is None else VMSS_VM_ACTION
        body = validated_body(request, _path(template, request), strict=self.backend.settings.strict)
        operation = self._run(parent, body)
        token = self.backend.operation_token
        headers = {
            "Azure-AsyncOperation": operation_url(request, operation, token),
            "Location": operation_url(request, operation, token, monitor=True),
            REQUEST_ID: operation.id,  # as recorded: the operation id is the POST's x-ms-request-id
        }
        retry_after = self.backend.settings.retry_after
        operation_id = VM_ACTION_ID if parent.instance_id is None else VMSS_VM_ACTION_ID
        if retry_after is not None or 202 in _declared(request.api_version, operation_id):
            headers["Retry-After"] = str(retry_after or 0)
        return Response(202, None, headers)

    def _run(self, parent: ParentRef, body: Mapping[str, Any]) -> AsyncOperation:
        """Start the run a validated body asks for (400 for a command id outside the catalogue)."""
        command_id = str(body["commandId"])
        document = catalogue.shared_document(command_id)
        if document is None:
            raise errors.invalid_parameter(
                f"The command id '{command_id}' is not a built-in run command (see GET .../locations/"
                "{location}/runCommands for the command ids).",
                "commandId",
            )
        return self.owner.backend.run_action(parent, action_properties(body, document), document["osType"])

    def _invoke_fast(self, request: Request) -> Encoded | None:
        """:meth:`_invoke` encoded in one pass, for a JSON object the contract takes as it is naming a built-in
        command (None otherwise: the plain handler answers, its 400 included)."""
        plan = self._plans.get((request.path, request.raw_query))
        if plan is None:
            plan = self._plan(request)
            if plan is None:
                return None
        body = request.body
        if not body or not is_json(request.headers.get("content-type", "")):
            return None
        try:
            sent = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if type(sent) is not dict or not plan.conforms(sent):
            return None
        command_id = sent["commandId"]
        if type(command_id) is not str or catalogue.shared_document(command_id) is None:
            return None
        backend = self.owner.backend
        try:
            operation = self._run(plan.parent, sent)
        except errors.ServiceError as error:  # as arm_answer gives them: with ARM's rate-limit header
            if _WRITES_LEFT_NAME not in error.headers:
                error.headers = {**error.headers, _WRITES_LEFT_NAME: _WRITES_LEFT_VALUE}
            raise
        retry_after = backend.settings.retry_after
        key = (request.base_url, retry_after, backend.operation_token, operation.subscription, operation.location)
        parts = plan.around.get(key)
        if parts is None:
            parts = self._around(request, plan, operation, retry_after, backend.operation_token)
            if len(plan.around) >= 64:
                plan.around.clear()
            plan.around[key] = parts
        start, end, monitor_end, tail = parts
        correlation = request.headers.get("x-ms-correlation-request-id")
        operation_id = operation.id.encode()
        return encoded(
            202,
            [
                *COMMON_RAW_HEADERS,
                (b"content-length", b"0"),
                (b"x-ms-request-id", operation_id),
                (b"x-ms-correlation-request-id", header_value(correlation) if correlation else request_id().encode()),
                (b"azure-asyncoperation", b"%s%s%s" % (start, operation_id, end)),
                (b"location", b"%s%s%s" % (start, operation_id, monitor_end)),
                *tail,
            ],
            b"",
        )

    def _plan(self, request: Request) -> _Plan | None:
        """What an action's path and query decide (None for a name ARM refuses: the plain handler answers it)."""
        try:
            parent = parent_of(request)
        except errors.ServiceError:
            return None
        template = VM_ACTION if parent.instance_id is None else VMSS_VM_ACTION
        url = f"{_path(template, request)}?{canonical_query(request.raw_query)}"
        conforms = request_conforms("POST", url)
        if conforms is None:
            return None
        operation_id = VM_ACTION_ID if parent.instance_id is None else VMSS_VM_ACTION_ID
        plan = _Plan(parent, conforms, 202 in _declared(request.api_version, operation_id), {})
        if len(self._plans) >= 1024:
            self._plans.clear()
        self._plans[request.path, request.raw_query] = plan
        return plan

    @staticmethod
    def _around(
        request: Request, plan: _Plan, operation: AsyncOperation, retry_after: int | None, token: str
    ) -> tuple[bytes, bytes, bytes, tuple[tuple[bytes, bytes], ...]]:
        """An action answer's operation URLs around the id (before; after, and after in the monitor form) and its
        headers after them (as :func:`~pytest_runcommand.emulator.asgi.encode` writes them)."""
        start, end = operation_url_parts(request.api_version, operation, token, monitor=False)
        monitor_end = operation_url_parts(request.api_version, operation, token, monitor=True)[1]
        tail = []
        if retry_after is not None or plan.declared:
            tail.append((b"retry-after", header_value(str(retry_after or 0))))
        tail.append(_WRITES_LEFT)
        return header_value(request.base_url + start), header_value(end), header_value(monitor_end), tuple(tail)

    # -- the catalogue ------------------------------------------------------------------------------

    def _list(self, request: Request) -> Response:
        _check(request)
        validated_body(request, _path(CATALOGUE, request), strict=True, with_body=False)
        every = catalogue.entries()
        start = skip_token(request.query.get("$skiptoken"), len(every))
        size = max(1, self.backend.settings.page_size)
        page: dict[str, Any] = {"value": every[start : start + size]}
        if start + size < len(every):
            page["nextLink"] = (
                f"{request.base_url}{_path(CATALOGUE, request)}?api-version={quote(request.api_version)}"
                f"&$skiptoken={start + size}"
            )
        return Response(200, page)

    def _get(self, request: Request) -> Response:
        _check(request)
        validated_body(request, _path(CATALOGUE + "/{commandId}", request), strict=True, with_body=False)
        document = catalogue.document_json(request.params["commandId"])
        if document is None:
            raise errors.ArmError(404, "NotFound", "The entity was not found in this Azure location.")
        return Response(200, RawJson(document))


def action_properties(body: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The run's properties for a validated action ``body`` naming the built-in ``document``, as
    :func:`~pytest_runcommand.emulator.writes.writable` gives them (the source's script, the lines sent joined by
    newlines or else the built-in's own, before its ``commandId``; the named parameters when there are any)."""
    lines = body.get("script") or document["script"]  # no lines sent: the built-in's own script
    source = {"script": "\n".join(str(line) for line in lines) if lines else None, "commandId": document["id"]}
    parameters = [{"name": item["name"], "value": item["value"]} for item in body.get("parameters") or ()]
    return {"source": source, "parameters": parameters} if parameters else {"source": source}


def _check(request: Request) -> None:
    """400 for a subscription, command id or location ARM could not hold (names checked as for run commands)."""
    check_names({name: value for name, value in request.params.items() if name != "location"})
    check_location(request.params["location"], _CATALOGUE_TYPE)


def _path(template: str, request: Request) -> str:
    """``template`` filled with the request's names (ARM's canonical segment spelling; names as sent)."""
    return template.format(**{name: quote_segment(value) for name, value in request.params.items()})


@cache
def _declared(api_version: str, operation_id: str) -> frozenset[int]:
    return facts.lro_header_statuses(api_version, operation_id)
