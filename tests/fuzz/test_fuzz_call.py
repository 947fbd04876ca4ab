"""The run's own call (:func:`pytest_runcommand.fuzz.call.call`) sends exactly what ``case.call`` sends and returns the
same answer: over a whole derandomized campaign, and case by case for every kind of body, answer and setting where
it steps aside for schemathesis's and requests' own path."""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.python import asgi

import pytest_runcommand.fuzz.call as lean
from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.inprocess import InProcessClient
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import Target
from pytest_runcommand.traffic.recorder import TrafficRecorder

TOKEN = {"Authorization": "Bearer the-same-token"}
_CASE_ID = "x-schemathesis-testcaseid"
# what differs between two runs of the same cases: the emulator's clock and ids (they reach later requests through
# the stateful links), the case ids
_VOLATILE = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}",
    re.IGNORECASE,
)


def _steady(value: object) -> str:
    return _VOLATILE.sub("*", value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))


class Wire:
    """An ASGI app in front of another that keeps every request as it arrives: the bytes that were sent."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[Any, ...]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def tapped() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            chunks.append(message.get("body", b""))
            return message

        try:
            await self.app(scope, tapped, send)
        finally:
            headers = [(k, v) for k, v in scope["headers"] if k != _CASE_ID.encode()]
            self.seen.append(
                (
                    scope["method"],
                    _steady(scope["raw_path"]),  # a poll's path holds the operation's id, as an answer gave it
                    _steady(scope["path"]),
                    _steady(scope["query_string"]),
                    scope["scheme"],
                    scope["server"],
                    _steady(headers),
                    _steady(b"".join(chunks)),
                )
            )


def _answer(response: Response) -> tuple[Any, ...]:
    """Everything of schemathesis's ``Response`` a check can read (elapsed time aside), and the request it holds."""
    request = response.request
    headers = sorted((k, v) for k, v in request.headers.items() if k.lower() != _CASE_ID)
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
        type(request),
        request.method,
        _steady(request.url),
        _steady(headers),
        _steady(request.body),
    )


class Recording(FuzzRunner):
    """Keeps what the checks are given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: list[tuple[Any, ...]] = []

    def check(self, case: Case[Any], response: Response, *, recorder: Any = None) -> list[Any]:
        self.answers.append(_answer(response))
        return super().check(case, response, recorder=recorder)


class ThroughCaseCall(Recording):
    """Every case through ``case.call`` and the in-process client (the path before :func:`lean.call`)."""

    def send(self, case: Case[Any], **kwargs: Any) -> Response:
        lean_applies = lean.lean_call_applies
        lean.lean_call_applies = lambda *args: False
        try:
            return super().send(case, **kwargs)
        finally:
            lean.lean_call_applies = lean_applies


class ThroughSchemathesisClient(Recording):
    """Every case through ``case.call`` and schemathesis's own ASGI client."""

    def _asgi_client(self, app: Any) -> Any:
        return asgi.get_client(app)


class Counting(Recording):
    """The run's own path; counts the cases it sent without ``case.call``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lean = 0

    def send(self, case: Case[Any], **kwargs: Any) -> Response:
        if lean.lean_call_applies(case, self._session, {"headers": {}}):
            self.lean += 1
        return super().send(case, **kwargs)


def _summary(report: FuzzReport) -> tuple[Any, ...]:
    findings = {key: (f.count, f.status, f.title, f.mode, f.found_at) for key, f in report.findings.items()}
    return report.cases, report.statuses, report.positive, findings, report.errors, report.drawn


def _campaign(kind: type[Recording], app: Any, settings: FuzzSettings) -> tuple[Any, ...]:
    wire = Wire(app)
    reset = getattr(getattr(app, "backend", None), "reset", None)
    target = Target(label="in-process", base_url="http://testserver", app=wire, headers=TOKEN, reset=reset)
    runner = kind(target, settings)
    report = runner.run()
    return _summary(report), wire.seen, runner.answers, runner


def test_a_campaign_sends_the_same_bytes_and_finds_the_same_as_case_call() -> None:
    """Every operation, both modes and the stateful sequences: the same requests on the wire, the same answers to
    the checks, the same findings, whichever way the cases go."""
    settings = FuzzSettings(max_examples=8)
    ours = _campaign(Counting, EmulatorApp(), settings)
    runner = ours[3]
    assert len(runner.operations()) >= 15
    assert ours[0][0] > 300  # cases
    assert runner.lean == ours[0][0]  # every case took the run's own path
    for kind in (ThroughCaseCall, ThroughSchemathesisClient):
        theirs = _campaign(kind, EmulatorApp(), settings)
        assert ours[0] == theirs[0]
        assert ours[1] == theirs[1]
        assert ours[2] == theirs[2]


def test_the_broken_service_gives_the_same_findings(
    make_broken: Callable[[], Any], broken_operations: tuple[str, ...]
) -> None:
    settings = FuzzSettings(max_examples=10, operations=broken_operations)
    ours = _campaign(Counting, make_broken(), settings)
    theirs = _campaign(ThroughCaseCall, make_broken(), settings)
    assert ours[0][3], "the broken service should show findings"
    assert ours[3].lean == ours[0][0]
    assert ours[:3] == theirs[:3]


# -- case by case, against a small raw ASGI app -------------------------------------------------------


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echo service; /cookie sets one, /redirect moves to /things/a, /events streams, /slow never answers."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    message = await receive()
    if path.endswith("/slow"):
        await asyncio.sleep(60)
    status = 200
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"x-twice", b"a"), (b"x-twice", b"b")]
    body = b'{"echo": "%s %s"}' % (scope["method"].encode(), len(message.get("body", b"")).__str__().encode())
    if path.endswith("/cookie"):
        headers.append((b"set-cookie", b"session=abc; Path=/"))
    if "/redirect" in path:
        status, headers = 307, [(b"location", b"/things/a")]
    if path.endswith("/events"):
        headers = [(b"content-type", b"text/event-stream")]
        body = b"data: one\n\ndata: two\n\n"
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_THING = {"type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}}}
_SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "echo", "version": "1"},
    "paths": {
        "/things/{name}": {
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"type": "string"}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "X-Token", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "ok"}},
            },
            "put": {
                "requestBody": {
                    "content": {
                        "application/json": {"schema": _THING},
                        "application/x-www-form-urlencoded": {"schema": _THING},
                        "text/plain": {"schema": {"type": "string"}},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    }
                },
                "responses": {"200": {"description": "ok"}},
            },
            "delete": {"responses": {"200": {"description": "ok"}}},
        },
        "/things/{name}/moved": {
            "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"responses": {"200": {"description": "ok"}, "307": {"description": "moved"}}},
        },
    },
}


def _schema(app: Any) -> Any:
    schema = schemathesis.openapi.from_dict(_SCHEMA)
    schema.app = app
    schema.config.update(base_url="http://testserver")
    schema.config.max_stream_events = 1  # an event stream is read up to its first event
    return schema


def _case(app: Any, method: str, path: str, **parts: Any) -> Case[Any]:
    return _schema(app)[path][method].Case(**parts)  # type: ignore[no-any-return]


CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("GET", "/things/{name}", {"path_parameters": {"name": "a b/c"}, "query": {"q": "x y&z", "tags": ["1", "2"]}}),
    ("GET", "/things/{name}", {"path_parameters": {"name": ".."}, "headers": {"X-Token": "é"}}),
    ("GET", "/things/{name}", {"path_parameters": {"name": "%2E"}, "query": {"q": ""}}),
    (
        "PUT",
        "/things/{name}",
        {"path_parameters": {"name": "a"}, "body": {"name": "é"}, "media_type": "application/json"},
    ),
    ("PUT", "/things/{name}", {"path_parameters": {"name": "a"}, "body": [], "media_type": "application/json"}),
    ("PUT", "/things/{name}", {"path_parameters": {"name": "a"}, "body": None, "media_type": "application/json"}),
    (
        "PUT",
        "/things/{name}",
        {"path_parameters": {"name": "a"}, "body": {"name": "x y"}, "media_type": "application/x-www-form-urlencoded"},
    ),
    ("PUT", "/things/{name}", {"path_parameters": {"name": "a"}, "body": "text é", "media_type": "text/plain"}),
    (
        "PUT",
        "/things/{name}",
        {"path_parameters": {"name": "a"}, "body": b"\x00raw", "media_type": "application/octet-stream"},
    ),
    (
        "PUT",
        "/things/{name}",
        {"path_parameters": {"name": "a"}, "body": b"", "media_type": "application/octet-stream"},
    ),
    ("DELETE", "/things/{name}", {"path_parameters": {"name": "a"}}),
    ("GET", "/things/{name}", {"path_parameters": {"name": "redirect"}}),
    ("GET", "/things/{name}/moved", {"path_parameters": {"name": "redirect"}}),
    ("GET", "/things/{name}", {"path_parameters": {"name": "events"}}),
    ("GET", "/things/{name}", {"path_parameters": {"name": "cookie"}}),  # the next ones go through requests
    ("GET", "/things/{name}", {"path_parameters": {"name": "a"}}),
)


def _send_all(client_kind: str, script: tuple[tuple[str, str, dict[str, Any]], ...]) -> tuple[list[Any], list[Any]]:
    """Each case of ``script`` sent in one session: ``lean`` by :func:`lean.call`, ``call`` by ``case.call`` on the
    in-process client, ``schemathesis`` by ``case.call`` on schemathesis's ASGI client."""
    wire = Wire(_app)
    client = asgi.get_client(wire) if client_kind == "schemathesis" else InProcessClient(wire)
    answers = []
    with client:
        for method, path, parts in script:
            case = _case(wire, method, path, **parts)
            if client_kind == "lean":
                assert lean.lean_call_applies(case, client, {"headers": {}})
                response = lean.call(case, session=client, headers=dict(TOKEN))
            else:
                response = case.call(session=client, headers=dict(TOKEN))
            answers.append(_answer(response))
    return wire.seen, answers


def test_each_kind_of_request_and_answer_goes_as_case_call_sends_it() -> None:
    """JSON, form, text, binary and empty bodies, quoted path and query parameters, a header outside latin-1, a
    cookie kept for the next request, a redirect followed and one not (documented), an event stream."""
    ours = _send_all("lean", CASES)
    for kind in ("call", "schemathesis"):
        assert _send_all(kind, CASES) == ours
    seen, answers = ours
    assert "session=abc" in seen[-1][6]  # the cookie went back
    assert answers[11][0] == 200  # followed to /things/a
    assert answers[12][0] == 307  # documented: not followed
    assert answers[13][2] == "data: one\n\n"
    assert answers[13][8]  # cut short


def test_a_cookie_in_the_session_sends_the_next_request_through_requests() -> None:
    with InProcessClient(_app) as client:
        first = _case(_app, "GET", "/things/{name}", path_parameters={"name": "cookie"})
        lean.call(first, session=client, headers=dict(TOKEN))
        assert client.cookies
        second = _case(_app, "GET", "/things/{name}", path_parameters={"name": "a"})
        assert lean.call(second, session=client, headers=dict(TOKEN)).request.headers["Cookie"] == "session=abc"


def test_an_invalid_header_fails_as_requests_fails_it() -> None:
    errors = []
    for send in (lean.call, lambda case, **kwargs: case.call(**kwargs)):
        with InProcessClient(_app) as client:
            case = _case(_app, "GET", "/things/{name}", path_parameters={"name": "a"}, headers={"X-Token": " lead"})
            with pytest.raises(requests.exceptions.InvalidHeader) as raised:
                send(case, session=client, headers=dict(TOKEN))
            errors.append((str(raised.value), raised.value.__notes__))
    assert errors[0] == errors[1]
    assert "Reproduce with" in errors[0][1][0]


def test_a_silent_app_times_out_as_through_case_call() -> None:
    with InProcessClient(_app) as client:
        case = _case(_app, "GET", "/things/{name}", path_parameters={"name": "slow"})
        case.operation.schema.config.update(request_timeout=0.05)
        with pytest.raises(requests.exceptions.ReadTimeout):
            lean.call(case, session=client, headers=dict(TOKEN))


@pytest.fixture
def hooked() -> Iterator[list[str]]:
    called: list[str] = []

    def before_call(context: Any, case: Case[Any], kwargs: dict[str, Any]) -> None:
        called.append("before_call")
        case.headers["X-Hooked"] = "1"

    schemathesis.hook(before_call)
    try:
        yield called
    finally:
        schemathesis.hooks.unregister(before_call)


def test_with_a_hook_registered_cases_go_through_case_call(hooked: list[str]) -> None:
    with InProcessClient(_app) as client:
        case = _case(_app, "GET", "/things/{name}", path_parameters={"name": "a"})
        assert not lean.lean_call_applies(case, client, {"headers": {}})
        response = lean.call(case, session=client, headers=dict(TOKEN))
    assert hooked == ["before_call"]
    assert response.request.headers["X-Hooked"] == "1"


def test_under_the_traffic_recorder_cases_go_through_session_send() -> None:
    with InProcessClient(_app) as client, TrafficRecorder() as recorder:
        case = _case(_app, "GET", "/things/{name}", path_parameters={"name": "a"})
        assert not lean.lean_call_applies(case, client, {"headers": {}})
        lean.call(case, session=client, headers=dict(TOKEN))
    assert [interaction.status for interaction in recorder.interactions] == [200]


def test_under_a_recorder_started_before_this_module_was_loaded_too() -> None:
    """The pytest route may import the fuzz modules while the contract marker's recorder already watches."""
    with InProcessClient(_app) as client, TrafficRecorder() as recorder:
        reloaded = importlib.reload(lean)
        try:
            case = _case(_app, "GET", "/things/{name}", path_parameters={"name": "a"})
            assert not reloaded.lean_call_applies(case, client, {"headers": {}})
            reloaded.call(case, session=client, headers=dict(TOKEN))
        finally:
            importlib.reload(lean)
    assert [interaction.status for interaction in recorder.interactions] == [200]


def test_other_sessions_and_arguments_go_through_case_call() -> None:
    case = _case(_app, "GET", "/things/{name}", path_parameters={"name": "a"})
    with InProcessClient(_app) as client:
        assert lean.lean_call_applies(case, client, {"headers": {}})
        assert not lean.lean_call_applies(case, client, {"headers": {}, "timeout": 3})
        client.auth = ("user", "secret")
        assert not lean.lean_call_applies(case, client, {})
    with asgi.get_client(_app) as theirs:
        assert not lean.lean_call_applies(case, theirs, {})
    assert not lean.lean_call_applies(case, None, {})

    async def inside_a_loop() -> bool:
        with InProcessClient(_app) as client:
            return lean.lean_call_applies(case, client, {})

    assert not asyncio.run(inside_a_loop())


def test_the_checks_read_the_case_override_as_before() -> None:
    """The override a check reads (worked out on first read now) is the case's own, whichever container it reads."""
    seen: list[tuple[Any, Any]] = []

    def reads_the_override(ctx: Any, response: Response, case: Case[Any]) -> None:
        override = ctx.internals.override
        assert override is not None
        assert override
        parts = (override.query, override.headers, override.cookies, override.path_parameters, override.body)
        expected = case._override
        seen.append(
            (parts, (expected.query, expected.headers, expected.cookies, expected.path_parameters, expected.body))
        )

    settings = FuzzSettings(max_examples=3, operations=("VirtualMachineRunCommands_Update",))
    target = Target(label="in-process", base_url="http://testserver", app=EmulatorApp(), headers=TOKEN)
    FuzzRunner(target, settings, checks=[reads_the_override]).run()
    assert len(seen) > 5
    assert all(got == expected for got, expected in seen)
    assert any(any(part for part in expected) for _, expected in seen)  # something overridden: api-version


_HEADER_TEXT = st.text(alphabet=st.sampled_from("aZ-_: \t\r\n\u00e9x"), max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(st.tuples(_HEADER_TEXT, st.one_of(_HEADER_TEXT, st.binary(max_size=2), st.integers())), max_size=5),
    insensitive=st.booleans(),
)
def test_headers_are_prepared_as_requests_prepares_them(pairs: list[tuple[str, Any]], insensitive: bool) -> None:
    """Any pairs, in a dict or a CaseInsensitiveDict: the same prepared headers (names' case, order), or the same error."""
    headers: Any = CaseInsensitiveDict(pairs) if insensitive else dict(pairs)
    outcomes = []
    for prepare in (lean._prepare_headers, lambda prepared, given: prepared.prepare_headers(given)):
        prepared = requests.PreparedRequest()
        try:
            prepare(prepared, headers)
        except Exception as error:  # the error is what is compared
            outcomes.append((type(error), str(error)))
        else:
            outcomes.append(
                (type(prepared.headers), list(prepared.headers.items()), list(prepared.headers.lower_items()))
            )
    assert outcomes[0] == outcomes[1]


def test_the_scope_from_the_url_parts_is_urlsplit_own() -> None:
    """The adapter's scope is the same whether the run's call hands it the URL's parts or it splits the URL."""
    scopes = []
    for parts in (None, ("http://testserver:8080", "/things/a%20b", "q=1&r=%C3%A9")):
        wire = Wire(_app)
        with InProcessClient(wire) as client:
            prepared = requests.PreparedRequest()
            prepared.prepare(method="GET", url="http://testserver:8080/things/a%20b?q=1&r=%C3%A9", headers=TOKEN)
            client.lean.exchange(prepared, None, parts)
        scopes.append(wire.seen)
    assert scopes[0] == scopes[1]


@pytest.mark.parametrize(
    "configured",
    [
        {},
        {"tls_verify": "/ca.pem", "request_timeout": 3, "request_cert": "/cert.pem", "proxy": "http://127.0.0.1:9"},
        {"request_cert": "/cert.pem", "request_cert_key": "/key.pem", "max_redirects": 0},
    ],
)
def test_the_request_data_is_the_transports_own(configured: dict[str, Any]) -> None:
    """The serialized case with the operation's settings read once: what ``_build_request_data`` gives, every body."""
    from schemathesis.transport.asgi import ASGI_TRANSPORT

    for method, path, parts in CASES:
        schema = _schema(_app)
        for name, value in configured.items():
            setattr(schema.config, name, value)
        case = schema[path][method].Case(**parts)
        with InProcessClient(_app) as client:
            plan = lean._plan(client, case.operation)
            assert lean._plan(client, case.operation) is plan  # read once per operation and session
            kwargs = {"base_url": plan.base_url, "headers": dict(TOKEN), "params": None, "cookies": None}
            ours = lean._request_data(case, dict(kwargs), plan)
        assert ours == ASGI_TRANSPORT._build_request_data(case, dict(kwargs))
        assert plan.no_redirects == (configured.get("max_redirects") == 0 or path.endswith("/moved"))


def test_a_new_session_reads_the_configuration_again() -> None:
    schema = _schema(_app)
    case = schema["/things/{name}"]["GET"].Case(path_parameters={"name": "a"})
    with InProcessClient(_app) as client:
        assert "timeout" not in dict(lean._plan(client, case.operation).settings)
    schema.config.request_timeout = 7
    with InProcessClient(_app) as client:
        assert dict(lean._plan(client, case.operation).settings)["timeout"] == 7
