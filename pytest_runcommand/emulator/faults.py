"""Scripted faults: the only 5xx answers, failed operations and dropped connections the emulator ever gives.

:class:`Faults` (``app.faults``) holds the rules of a scenario (:mod:`~pytest_runcommand.emulator.scenario`) and
applies them between routing and the service handler: the first rule whose ``match`` fits the request and whose
``times`` are not used up acts. ``respond`` answers a CloudError instead of the handler; ``drop`` closes the
connection before any answer (in-process: :class:`ConnectionDropped` reaches the client); ``operation_fails`` and
``delay`` let the handler run and then change the async operation it started (ends Failed with the error and the
resource reads ``Failed``; or stays ``InProgress`` for the next ``polls`` polls / ``seconds`` simulated seconds).

Every answer a fault shaped carries the header :data:`FAULT_HEADER` (the rule's index), so recorders, the contract
check and the report know it was injected; :attr:`Faults.log` lists them too. With no rules the app pays one
attribute test per request.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.asgi import Handler, Receive, Request, Response
from pytest_runcommand.emulator.scenario import Fault, Match, ScenarioError, load_scenario, parse_fault
from pytest_runcommand.errors import RunCommandError

if TYPE_CHECKING:
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.state import AsyncOperation

__all__ = ["FAULT_HEADER", "ConnectionDropped", "Fault", "Faults", "Injected", "Match", "ScenarioError", "operation_of"]

FAULT_HEADER = "x-runcommand-fault"
"""Response header marking an answer a scripted fault shaped; its value is the rule's index."""
_NEVER = 10**9
_FAR = timedelta(days=3650)
_ON_OPERATIONS = frozenset({"operation_fails", "delay"})
_OPERATION_ID = re.compile(r"/operations/([^/?]+)", re.IGNORECASE)


class ConnectionDropped(RunCommandError):
    """A ``drop`` fault: the connection closed before an answer. ``closed``: the server's connection was closed
    (served emulator). Never reaches a caller: the app ends the exchange (in-process: as httpx's
    ``RemoteProtocolError``, what a client's transport raises for a dropped connection)."""

    def __init__(self, message: str, *, index: int, closed: bool) -> None:
        super().__init__(message)
        self.index = index
        self.closed = closed


@dataclass
class _Doomed:
    """An operation an ``operation_fails`` rule holds: it fails once its original time comes."""

    fault: Fault
    polls_needed: int
    due_at: datetime


@dataclass(frozen=True)
class Injected:
    """One request a fault acted on (``status`` None: dropped)."""

    index: int
    action: str
    method: str
    path: str
    status: int | None


class Faults:
    """The scripted faults of one emulator app: load, add, clear; applied by the app to each request."""

    def __init__(self) -> None:
        self.rules: list[Fault] = []
        self.log: list[Injected] = []
        """Each request a fault acted on, in order."""
        self.armed = False
        """True while there is a rule or a held operation (the app's one test on the hot path)."""
        self._doomed: dict[str, _Doomed] = {}

    def load(self, source: str | Path | Mapping[str, Any]) -> list[Fault]:
        """Add the faults of a scenario file (JSON or YAML) or mapping; :class:`ScenarioError` when it is bad."""
        added = load_scenario(source, start=len(self.rules))
        self.rules.extend(added)
        self.armed = True
        return added

    def add(self, rule: Mapping[str, Any] | None = None, /, **fields: Any) -> Fault:
        """Add one rule, as a mapping or keywords: ``add(match={"name": "x"}, times=1, drop=True)``."""
        fault = parse_fault({**(rule or {}), **fields}, index=len(self.rules), where="fault")
        self.rules.append(fault)
        self.armed = True
        return fault

    def clear(self) -> None:
        """Forget every rule, the log and held operations (a held operation then finishes as it would have)."""
        self.rules.clear()
        self.log.clear()
        self._doomed.clear()
        self.armed = False

    # -- applying -----------------------------------------------------------------------------------

    async def apply(self, request: Request, handler: Handler, backend: Backend, receive: Receive) -> Response:
        """Answer ``request``: through the first matching fault, or the handler."""
        if self._doomed:
            self._fail_due(request, backend)
        fault = self._pick(request)
        if fault is None:
            return handler(request)
        if fault.action in _ON_OPERATIONS:
            return self._after(fault, request, handler(request), backend)
        fault.used += 1
        if fault.action == "drop":
            self.log.append(Injected(fault.index, "drop", request.method, request.path, None))
            closed = await _drop(receive)
            message = f"Server disconnected without sending a response (scripted fault {fault.index}: drop)."
            raise ConnectionDropped(message, index=fault.index, closed=closed)
        response = _respond(fault, request)
        return self._mark(fault, request, response)

    def _after(self, fault: Fault, request: Request, response: Response, backend: Backend) -> Response:
        """Act on the async operation the handler started (none started: the rule waits for one that does)."""
        operation = _started_operation(response, backend)
        if operation is None:
            return response
        fault.used += 1
        if fault.action == "operation_fails":
            self._doom(operation, fault, backend)
        else:
            _delay(operation, fault, backend.clock.now())
        return self._mark(fault, request, response)

    def _mark(self, fault: Fault, request: Request, response: Response) -> Response:
        response.headers[FAULT_HEADER] = str(fault.index)
        self.log.append(Injected(fault.index, fault.action, request.method, request.path, response.status))
        return response

    def _pick(self, request: Request) -> Fault | None:
        operation: list[str | None] = []
        for fault in self.rules:
            if fault.exhausted or not _fits(fault.match, request):
                continue
            if fault.action in _ON_OPERATIONS and request.method in ("GET", "HEAD"):
                continue  # a read starts no operation: later rules may still apply
            if fault.match.operation is not None:
                if not operation:
                    operation.append(operation_of(request.method, request.path, request.api_version))
                if operation[0] != fault.match.operation:
                    continue
            return fault
        return None

    def _doom(self, operation: AsyncOperation, fault: Fault, backend: Backend) -> None:
        if operation.done:
            _fail(operation, fault, backend.clock.now())
            return
        self._doomed[operation.id] = _Doomed(fault, operation.polls_needed, operation.due_at)
        operation.polls_needed, operation.due_at = _NEVER, operation.started_at + _FAR

    def _fail_due(self, request: Request, backend: Backend) -> None:
        """Fail each held operation whose time has come (counting this request if it polls it)."""
        polled = request.params.get("operationId", "").lower() if "operationId" in request.params else None
        now = backend.clock.now()
        for operation_id, held in list(self._doomed.items()):
            operation = backend.operation(operation_id)
            if operation is None or operation.done:
                del self._doomed[operation_id]
                continue
            polls = operation.polls + (1 if polled == operation_id else 0)
            if polls >= held.polls_needed or now >= held.due_at:
                _fail(operation, held.fault, now)
                del self._doomed[operation_id]
        self.armed = bool(self.rules or self._doomed)


def _fits(match: Match, request: Request) -> bool:
    if match.method is not None and match.method != request.method:
        return False
    params = request.params
    if match.name is not None:
        name = params.get("runCommandName")
        if name is None or not fnmatchcase(name.lower(), match.name.lower()):
            return False
    if match.vm is not None:
        vm = params.get("vmName") or params.get("vmScaleSetName")
        if vm is None or not fnmatchcase(vm.lower(), match.vm.lower()):
            return False
    return True


@lru_cache(maxsize=4096)
def operation_of(method: str, path: str, api_version: str) -> str | None:
    """The contract's operationId for ``method path`` at ``api_version`` (the default version when none)."""
    from pytest_runcommand.contract import facts, get_contract

    version = api_version or facts.DEFAULT_API_VERSION
    try:
        found = get_contract(version).match(method, f"{path}?api-version={version}")
    except (KeyError, ValueError):
        return None
    return None if found is None else found.operation_id


def _respond(fault: Fault, request: Request) -> Response:
    error = errors.ArmError(fault.status, fault.code, fault.message)
    headers: dict[str, str] = {}
    retry_after = fault.retry_after
    if retry_after is None and fault.status == 429:
        retry_after = 1.0
    if retry_after is not None:
        headers["Retry-After"] = f"{retry_after:g}"
    if fault.status == 429:
        kind = "reads" if request.method in ("GET", "HEAD") else "writes"
        headers[f"x-ms-ratelimit-remaining-subscription-{kind}"] = "0"
        headers["x-ms-failure-cause"] = "gateway"
    headers.update(fault.headers)
    return Response(fault.status, error.to_wire(request.headers), headers)


def _started_operation(response: Response, backend: Backend) -> AsyncOperation | None:
    """The async operation a handler's answer points to (``Azure-AsyncOperation`` or a monitor ``Location``)."""
    if response.status >= 300:
        return None
    for name in ("Azure-AsyncOperation", "Location"):
        url = response.headers.get(name)
        found = _OPERATION_ID.search(url) if url else None
        if found is not None:
            return backend.operation(found.group(1))
    return None


def _fail(operation: AsyncOperation, fault: Fault, now: datetime) -> None:
    """End ``operation`` Failed with the fault's error; its resource reads ``Failed`` (as ARM shows it)."""
    operation.status = "Failed"
    operation.ended_at = now
    operation.error = errors.ArmError(200, fault.code, fault.message)
    target = operation.target
    if target.operation is operation:
        target.final_state = "Failed"


def _delay(operation: AsyncOperation, fault: Fault, now: datetime) -> None:
    """Keep ``operation`` InProgress for the next ``fault.polls`` polls and/or ``fault.seconds`` simulated seconds
    (both given: until the first of them has passed); then it finishes as it would have."""
    if operation.done:  # finished at once: reopen it (the backend finishes it again when its new time comes)
        operation.status, operation.ended_at, operation.error = "InProgress", None, None
    operation.polls_needed = operation.polls + fault.polls + 1 if fault.polls else _NEVER
    operation.due_at = now + timedelta(seconds=fault.seconds) if fault.seconds else operation.started_at + _FAR


async def _drop(receive: Receive) -> bool:
    """Abort the client's connection now, when the server lets the app reach it (uvicorn's request cycle);
    False when there is none (in-process)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        return False
    abort()
    for _ in range(3):  # let the server see the connection lost before the app returns
        await asyncio.sleep(0)
    return True
