"""The lean in-process path sends what schemathesis's own ASGI client sends, and hands the checks the same answers."""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections.abc import Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.python import asgi

from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.inprocess import InProcessClient
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import Target, emulator_target
from pytest_runcommand.interactions import Interaction

# what differs between two runs of the same cases: the emulator's clock and ids, the token's expiry, the case ids
_VOLATILE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}|eyJ[\w.-]+",
    re.IGNORECASE,
)
_VOLATILE_HEADERS = ("x-schemathesis-testcaseid", "authorization")


def _steady(value: object) -> str:
    return _VOLATILE.sub("*", value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))


def _request_view(request: requests.PreparedRequest) -> tuple[Any, ...]:
    headers = sorted((k, v) for k, v in request.headers.items() if k.lower() not in _VOLATILE_HEADERS)
    return request.method, _steady(request.url), headers, request.body  # a poll's URL: the id an answer gave


def _response_view(response: Response) -> tuple[Any, ...]:
    """Everything of schemathesis's ``Response`` a check can read (elapsed time aside)."""
    return (
        response.status_code,
        _steady(sorted(response.headers.items())),
        _steady(response.content),
        response.content_size,
        response.verify,
        response.message,
        response.http_version,
        response.encoding,
        response.stream_cut_short,
        _steady(response._override),
        type(response.request),
        _request_view(response.request),
    )


def _interaction_view(interaction: Interaction) -> tuple[Any, ...]:
    headers = sorted((k, v) for k, v in interaction.request_headers.items() if k not in _VOLATILE_HEADERS)
    return (
        interaction.method,
        _steady(interaction.url),  # a poll's URL holds the operation's id, as the emulator's answer gave it
        headers,
        interaction.request_body,
        interaction.status,
        _steady(sorted(interaction.response_headers.items())),
        _steady(interaction.response_body or b""),
    )


class Recording(FuzzRunner):
    """Keeps a view of every answer the checks are given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: list[tuple[Any, ...]] = []

    def check(self, case: Case[Any], response: Response, *, recorder: Any = None) -> list[Any]:
        self.answers.append(_response_view(response))
        return super().check(case, response, recorder=recorder)


class ThroughSchemathesis(Recording):
    """The path used before: schemathesis's own ASGI client."""

    def _asgi_client(self, app: Any) -> Any:
        return asgi.get_client(app)


def _summary(report: FuzzReport) -> tuple[Any, ...]:
    findings = {key: (f.count, f.status, f.title) for key, f in report.findings.items()}
    return report.cases, report.statuses, findings, report.errors


def test_the_emulator_sees_the_same_requests_and_the_checks_the_same_answers() -> None:
    settings = FuzzSettings(max_examples=6)
    runs = []
    for kind in (ThroughSchemathesis, Recording):
        target = emulator_target()
        seen: list[Interaction] = []
        target.app.observers.append(seen.append)
        runner = kind(target, settings)
        report = runner.run()
        runs.append((_summary(report), [_interaction_view(i) for i in seen], runner.answers))
    (before, sent_before, answers_before), (after, sent_after, answers_after) = runs
    assert before[0] > 150  # stateless and stateful cases
    assert after == before
    assert sent_after == sent_before
    assert answers_after == answers_before


def test_the_broken_service_gives_the_same_findings(
    make_broken: Callable[[], Any], broken_operations: tuple[str, ...]
) -> None:
    settings = FuzzSettings(max_examples=8, operations=broken_operations)
    reports = []
    for kind in (ThroughSchemathesis, Recording):
        target = Target(
            label="broken", base_url="http://testserver", app=make_broken(), headers={"Authorization": "Bearer t"}
        )
        runner = kind(target, settings)
        reports.append((_summary(runner.run()), runner.answers))
    assert reports[0][0][2], "the broken service should show findings"
    assert reports[1] == reports[0]


# -- the transport itself, against a small raw ASGI app ------------------------------------------------


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echo service: /cookie sets one, /redirect moves to /echo, /slow never answers, /chunks streams."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/slow":
        await asyncio.sleep(60)
    message = await receive()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"x-twice", b"a"), (b"x-twice", b"b")]
    status = 200
    body = f"{scope['method']} {path}?{scope['query_string'].decode()} {message.get('body', b'')!r}".encode()
    cookie = dict(scope["headers"]).get(b"cookie", b"")
    body += b" cookie=" + cookie
    if path == "/cookie":
        headers.append((b"set-cookie", b"session=abc; Path=/"))
    if path == "/redirect":
        status, headers = 307, [(b"location", b"/echo")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if path == "/chunks":
        await send({"type": "http.response.body", "body": b"one,", "more_body": True})
        disconnect = asyncio.ensure_future(receive())
        await send({"type": "http.response.body", "body": b"two"})
        assert (await disconnect)["type"] == "http.disconnect"
        return
    await send({"type": "http.response.body", "body": body})


def _exchange(client: requests.Session, method: str, path: str, **kwargs: Any) -> tuple[Any, ...]:
    answer = Response.from_requests(client.request(method, path, timeout=2, **kwargs), verify=True)
    return (
        answer.status_code,
        answer.headers,
        answer.content,
        answer.message,
        answer.encoding,
        answer.http_version,
        _request_view(answer.request),
    )


SCRIPT: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("GET", "/echo", {"params": {"a": "1 2"}, "headers": {"X-Any": "é"}}),
    ("PUT", "/echo", {"json": {"k": ["v", 1]}}),
    ("PATCH", "/echo", {"data": b"\x00raw"}),
    ("HEAD", "/echo", {}),
    ("GET", "/cookie", {}),
    ("GET", "/echo", {}),  # sends the cookie back
    ("GET", "/redirect", {}),
    ("GET", "/redirect", {"allow_redirects": False}),
    ("GET", "/chunks", {}),
)


def test_the_adapter_answers_like_schemathesis_asgi_client() -> None:
    with asgi.get_client(_app) as original:
        expected = [_exchange(original, method, path, **kwargs) for method, path, kwargs in SCRIPT]
    with InProcessClient(_app) as lean:
        got = [_exchange(lean, method, path, **kwargs) for method, path, kwargs in SCRIPT]
    assert got == expected
    assert b"cookie=session=abc" in got[5][2]
    assert got[6][0] == 200
    assert got[7][0] == 307


def test_a_silent_app_times_out() -> None:
    with InProcessClient(_app) as lean, pytest.raises(requests.exceptions.ReadTimeout):
        lean.request("GET", "/slow", timeout=0.05)


def test_inside_a_running_event_loop_requests_take_schemathesis_path() -> None:
    async def from_a_coroutine() -> tuple[Any, ...]:
        with InProcessClient(_app) as lean:
            return _exchange(lean, "GET", "/echo")

    with asgi.get_client(_app) as original:
        expected = _exchange(original, "GET", "/echo")
    assert asyncio.run(from_a_coroutine()) == expected


def test_another_thread_takes_schemathesis_path() -> None:
    with asgi.get_client(_app) as original:
        expected = _exchange(original, "GET", "/echo")
    with InProcessClient(_app) as lean:
        assert _exchange(lean, "GET", "/echo") == expected
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(_exchange, lean, "GET", "/echo").result() == expected


def test_closing_cancels_what_the_app_left_running() -> None:
    started: list[asyncio.Task[None]] = []

    async def spawning(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            started.append(asyncio.ensure_future(asyncio.sleep(3600)))
        await _app(scope, receive, send)

    with InProcessClient(spawning) as lean:
        lean.request("GET", "/echo", timeout=2)
    assert started
    assert started[0].cancelled()


async def _echo_ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", b"c=1; Path=/")]})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"params": {"api-version": "2024-07-01"}, "json": {"a": [1, "é"]}, "headers": {"X-A": "1"}},
        {"params": {"q": "a b&c", "none": None}, "data": b"raw", "headers": {"Content-Type": "text/plain"}},
        {"params": [("k", "1"), ("k", "2")], "data": {"form": "x y"}},
        {"json": None, "headers": None},
    ],
)
def test_the_lean_request_prepares_what_session_request_prepares(kwargs: dict[str, Any]) -> None:
    """The same prepared request with and without Session.request's merging; a session with cookies of its own
    (set by the first answer) takes Session.request's path and still sends them."""
    url = "http://testserver/subscriptions/s/runCommands/rc%201"
    with InProcessClient(_echo_ok) as lean, InProcessClient(_echo_ok) as full:
        lean.headers, full.headers = {}, {}  # as schemathesis lends them to each request
        ours = lean.request("PUT", url, **kwargs).request
        theirs = requests.Session.request(full, "PUT", url, **kwargs).request
        assert _request_view(ours) == _request_view(theirs)
        again = lean.request("PUT", url, **kwargs).request
        assert again.headers["Cookie"] == "c=1"


# -- the emulator's calls start on the calling thread -------------------------------------------------

_SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="caller's")
_PUT = (
    "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
    "?api-version=2024-07-01"
)


class Waiting(EmulatorApp):
    """The emulator, answering after waiting on the loop; it also sets a context variable."""

    def __init__(self, wait: float) -> None:
        super().__init__()
        self.wait = wait
        self.loops: list[asyncio.AbstractEventLoop] = []

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.loops.append(asyncio.get_running_loop())
            _SEEN.set("the app's")
            await asyncio.sleep(self.wait)
            await asyncio.sleep(0)
        await super().__call__(scope, receive, send)


class Failing(EmulatorApp):
    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        raise LookupError("the app broke")


def _emulator() -> Any:
    return EmulatorApp()


def _put(client: requests.Session) -> tuple[Any, ...]:
    headers = {"Authorization": f"Bearer {emulator_target().headers['Authorization'].split()[1]}"}
    body = {"location": "westus", "properties": {"source": {"script": "echo"}}}
    answer = client.put("http://testserver" + _PUT, json=body, headers=headers, timeout=2)
    return answer.status_code, _steady(answer.content), answer.headers["content-type"]


def test_the_emulator_answers_on_the_calling_thread_as_through_the_loop() -> None:
    eager, other = InProcessClient(EmulatorApp()), InProcessClient(_app)
    with eager, other:
        assert eager.lean.eager
        assert not other.lean.eager
        with asgi.get_client(_emulator()) as theirs:
            assert _put(eager) == _put(theirs)
        assert eager.lean._loop is not None
        assert not eager.lean._loop.is_running()


def test_an_emulator_that_waits_is_carried_on_by_the_loop() -> None:
    app = Waiting(0.01)
    eager = InProcessClient(app)
    with eager, asgi.get_client(_emulator()) as theirs:
        assert _put(eager) == _put(theirs)
        assert app.loops == [eager.lean._loop]
    assert _SEEN.get() == "caller's"  # the app's context is its own, as a task's is


def test_an_emulator_that_waits_too_long_times_out() -> None:
    with InProcessClient(Waiting(60)) as eager, pytest.raises(requests.exceptions.ReadTimeout):
        eager.put("http://testserver" + _PUT, json={}, timeout=0.05)


def test_an_emulator_that_breaks_raises_as_through_the_loop() -> None:
    with InProcessClient(Failing()) as eager, pytest.raises(LookupError, match="the app broke"):
        eager.get("http://testserver" + _PUT, timeout=2)
    assert _SEEN.get() == "caller's"


@pytest.mark.parametrize(
    "pairs",
    [
        [("Authorization", "Bearer t"), ("X-Case", "1"), ("x-case-2", "é"), ("Content-Length", "0")],
        [("Authorization", "Bearer t"), ("X-Case", "2"), ("Accept", "*/*")],  # the same pairs again, from the cache
        [("X-Bytes", b"raw")],
        [("X-Wide", "\u20ac")],
    ],
)
def test_the_scope_headers_are_the_prepared_headers_lowered_in_latin_1(pairs: list[tuple[str, Any]]) -> None:
    from requests.structures import CaseInsensitiveDict

    from pytest_runcommand.fuzz.inprocess import _scope_headers

    sent: CaseInsensitiveDict[Any] = CaseInsensitiveDict(pairs)
    outcomes = []
    for build in (_scope_headers, lambda h: [(k.encode("latin-1"), v.encode("latin-1")) for k, v in h.lower_items()]):
        try:
            outcomes.append(build(sent))
        except Exception as error:  # the error is what is compared
            outcomes.append((type(error), str(error)))
    assert outcomes[0] == outcomes[1]
    assert _scope_headers({"X-Plain": "é"}) == [(b"x-plain", "é".encode("latin-1"))]  # a plain dict too
