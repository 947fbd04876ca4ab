"""One lifecycle per resource family, first in the stateful unit: the calls a client makes, in order.

The stateful scenarios follow the overlay's links by chance, so a campaign may never reach an operation's success
answer: the default one sent no PATCH of a VM run command to a run command that existed, and polled no operation
that existed (review 11). Before them, each family whose PUT is fuzzed runs once, the same way every run: PUT the
simplest valid run command, poll its ``Azure-AsyncOperation`` until it is done, PATCH it, poll, GET it, DELETE it,
poll, and GET it again (404). Each step is a positive case of its operation (hypothesis's first draw, which is its
simplest; the path parameters are the PUT's, a poll's are read from the URL it follows) sent through the runner's
guard and checks like any other case; a step whose operation is not fuzzed is left out. The run command has a name of
its own (the simplest name followed by ``lifecycle``): the stateless units draw the simplest name first too, and
against a target that keeps its state (a URL) their DELETE may still be under way. A poll waits as the answer's
``Retry-After`` says (at most 5 s; a target that keeps saying 0 is polled after growing pauses, up to 1 s), until the
operation ends or :data:`~pytest_runcommand.fuzz.cleanup.CLEANUP_TIMEOUT`
passes.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import hypothesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.core.transport import Response
from schemathesis.generation import overrides
from schemathesis.generation.case import Case

from pytest_runcommand.fuzz.cleanup import CLEANUP_TIMEOUT, retry_after
from pytest_runcommand.fuzz.live import GuardRefusal
from pytest_runcommand.fuzz.schema import lifecycles

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy
    from schemathesis.schemas import APIOperation

    from pytest_runcommand.fuzz.runner import FuzzRunner

__all__ = ["POLL_OPERATION", "run_lifecycles"]

POLL_OPERATION = "AsyncOperations_Get"
"""The operation a client polls: the ``Azure-AsyncOperation`` URL of a write."""
NAME_SUFFIX = "lifecycle"
"""Added to the simplest run-command name: the lifecycle's run command is its own."""
_NAME = "runCommandName"
_SETTINGS = hypothesis.settings(
    max_examples=1,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
    verbosity=hypothesis.Verbosity.quiet,
)


def run_lifecycles(runner: FuzzRunner) -> None:
    """Run each family's lifecycle (see the module docstring); outcomes go to ``runner.report``. A step the guard
    refuses ends its family's lifecycle (a live target's scope); the budget running out ends them all."""
    operations = runner.operations()
    for family in lifecycles(operations):
        try:
            _lifecycle(runner, operations, family)
        except GuardRefusal:
            continue


def _lifecycle(
    runner: FuzzRunner, operations: dict[str, APIOperation[Any, Any, Any, Any]], family: tuple[str, ...]
) -> None:
    put_id, patch_id, get_id, delete_id = family
    simplest = _first(runner, operations[put_id], None)
    own = {_NAME: f"{(simplest.path_parameters or {}).get(_NAME, '')}{NAME_SUFFIX}"}
    put = _first(runner, operations[put_id], own)
    if not _succeeded(_step(runner, put, operations)):
        return  # nothing was made: the other steps would only repeat the stateless 404s
    resource = dict(put.path_parameters or {})
    for step_id in (patch_id, get_id, delete_id, get_id):
        operation = operations.get(step_id)
        if operation is not None:
            _step(runner, _first(runner, operation, resource), operations)


def _step(runner: FuzzRunner, case: Case[Any], operations: dict[str, APIOperation[Any, Any, Any, Any]]) -> Response:
    """Send and check ``case``, then poll the operation it started, when that is fuzzed too."""
    response = _sent(runner, case)
    poll = operations.get(POLL_OPERATION)
    url = _header(response, "azure-asyncoperation")
    parameters = _path_parameters(runner, poll, url) if poll is not None and url is not None else None
    if poll is None or url is None or parameters is None:
        return response
    query = dict(parse_qsl(urlsplit(url).query))
    deadline, last = time.monotonic() + CLEANUP_TIMEOUT, response
    for polls in itertools.count():
        delay = retry_after(_header(last, "retry-after"), polls)
        if time.monotonic() + delay > deadline:
            break
        if delay:
            time.sleep(delay)
        last = _sent(runner, _first(runner, poll, parameters, query=query), drawn=False)  # its URL is an answer
        if not _succeeded(last) or _status(last) != "InProgress":
            break
    return response


def _sent(runner: FuzzRunner, case: Case[Any], *, drawn: bool = True) -> Response:
    response = runner.send(case, drawn=drawn)
    runner.check(case, response)
    return response


def _first(
    runner: FuzzRunner,
    operation: APIOperation[Any, Any, Any, Any],
    path_parameters: dict[str, Any] | None,
    *,
    query: dict[str, str] | None = None,
) -> Case[Any]:
    """Hypothesis's first positive draw of ``operation`` (its simplest), with ``path_parameters`` (the ones it
    has) and the run's fixed parameters; ``query`` replaces the query drawn."""
    wanted = None
    if path_parameters is not None:
        names = {parameter.name for parameter in operation.path_parameters}
        wanted = {name: value for name, value in path_parameters.items() if name in names}
    strategy: SearchStrategy[Case[Any]] = operation.as_strategy(GenerationMode.POSITIVE, path_parameters=wanted)
    drawn: list[Case[Any]] = []

    @_SETTINGS
    @hypothesis.given(strategy)
    def draw(case: Case[Any]) -> None:
        drawn.append(case)

    draw()
    case = drawn[0]
    overrides.for_operation(runner.schema.config, operation=operation).apply_to(case)
    if query is not None:
        case.query = query
    return case


def _path_parameters(
    runner: FuzzRunner, operation: APIOperation[Any, Any, Any, Any], url: str
) -> dict[str, str] | None:
    """The path parameters of ``operation`` in ``url``, when ``url`` is on the target; else None (not followed)."""
    base = urlsplit(runner.target.base_url)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc.lower()) != (base.scheme, base.netloc.lower()):
        return None
    path = parts.path.removeprefix(base.path.rstrip("/"))
    pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(operation.path)) + "$"
    match = re.match(pattern, path)
    return match.groupdict() if match else None


def _header(response: Response, name: str) -> str | None:
    values = response.headers.get(name)
    return values[0] if values else None


def _succeeded(response: Response) -> bool:
    return 200 <= response.status_code < 300


def _status(response: Response) -> str | None:
    try:
        body = response.json()
    except Exception:  # not JSON: the checks say so
        return None
    return body.get("status") if isinstance(body, dict) else None
