"""What a fuzz run shows: no secret anywhere (title, curl line, report, JUnit file), a curl line the shell expands,
JUnit XML with one test case per operation and check, progress only on a terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.core.transport import Response

from pytest_runcommand.contract.facts import secret_properties
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.junit import junit_xml
from pytest_runcommand.fuzz.progress import TerminalProgress, terminal_progress
from pytest_runcommand.fuzz.redact import MASK, mask_body, redact, response_excerpt, secret_values
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import Target

SENTINEL = "S3ntinel-Secret-4f9d2c"
PASSWORD, PROTECTED = sorted(secret_properties(), key=lambda name: name != "runAsPassword")
RUN_COMMAND = {
    "subscriptionId": "sub1",
    "resourceGroupName": "rg1",
    "vmName": "vm1",
    "runCommandName": "rc1",
}
SHAPES: list[dict[str, Any]] = [
    {PASSWORD: SENTINEL},
    {PASSWORD: {"secureValue": SENTINEL}},
    {PASSWORD: [SENTINEL]},
    {PROTECTED: [{"name": "kept-name", "value": SENTINEL}]},
    {PROTECTED: {"value": SENTINEL}},
]


class Recording(FuzzRunner):
    """Keeps the raw answers, to show the secret really came back (the test would catch a leak)."""

    answers: list[bytes]

    def check(self, case: Any, response: Response, *, recorder: Any = None) -> list[Any]:
        self.answers = [*getattr(self, "answers", []), response.content]
        return super().check(case, response, recorder=recorder)


async def echo_500(scope: Any, receive: Any, send: Any) -> None:
    """A hostile service: answers 500 with the request body echoed in a CloudError, in clear."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    payload = json.dumps({"error": {"code": "Echo", "message": body.decode("utf-8", "replace")}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def sentinel_run(app: Any, shapes: list[dict[str, Any]]) -> tuple[Recording, FuzzReport]:
    """Explicit cases carrying the sentinel in the given secret shapes, sent to ``app`` in-process."""
    target = Target(label="broken", base_url="http://testserver", app=app, headers={"Authorization": "Bearer t"})
    runner = Recording(target, FuzzSettings(operations=("VirtualMachineRunCommands_CreateOrUpdate",)))
    operation = runner.schema.find_operation_by_id("VirtualMachineRunCommands_CreateOrUpdate")
    for shape in shapes:
        body = {"location": "westus", "properties": {"source": {"script": "echo"}, **shape}}
        query = {"api-version": "2024-07-01"}
        case = operation.Case(path_parameters=RUN_COMMAND, query=query, body=body, media_type="application/json")
        runner.fuzz_case(case)
    return runner, runner.report


def _shown(report: FuzzReport) -> list[str]:
    shown = [report.render(), junit_xml(report)]
    for finding in report.findings.values():
        shown += [finding.title, finding.message, finding.curl, finding.response]
    return shown


def _assert_nowhere(texts: list[str]) -> None:
    for text in texts:
        for form in (SENTINEL, json.dumps(SENTINEL)[1:-1], SENTINEL[:12]):
            assert form not in text


def test_an_echoed_password_is_found_and_not_shown(make_broken: Any) -> None:
    runner, report = sentinel_run(make_broken(), [{PASSWORD: SENTINEL}])
    assert any(SENTINEL.encode() in answer for answer in runner.answers)
    assert any("SECRET_PROPERTY" in finding.title for finding in report.findings.values()), report.render()
    _assert_nowhere(_shown(report))


OWN_PASSWORD, OWN_PROTECTED = "TargetOwnPw-8c1e57", "TargetOwnProt-2b94d0"


async def gives_secrets_of_its_own(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A target answering every request 200 with secrets it was never sent (a password, a protected parameter)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    protected = [{"name": "k", "value": OWN_PROTECTED}]
    payload = json.dumps({"properties": {"protectedParameters": protected, "runAsPassword": OWN_PASSWORD}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def test_secrets_an_answer_holds_appear_nowhere() -> None:
    """Review 14, finding 12: a schema check's message quotes the answer ("Value:"), and the answer's own secrets
    (not the request's) were shown in clear there, in the report, the JSON and the JUnit file."""
    from pytest_runcommand.fuzz.baseline import Baseline
    from pytest_runcommand.fuzz.document import to_document

    runner, report = sentinel_run(gives_secrets_of_its_own, [{}])
    assert OWN_PASSWORD.encode() in runner.answers[0]
    messages = [finding.message for finding in report.findings.values()]
    assert any("Value:" in message for message in messages), report.render()
    shown = [*_shown(report), json.dumps(to_document(report, Baseline({})))]
    for text in shown:
        for secret in (OWN_PASSWORD, OWN_PROTECTED):
            assert secret not in text


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: json.dumps(shape)[:40])
def test_the_sentinel_appears_nowhere(shape: dict[str, Any]) -> None:
    """Whatever the shape, the sentinel sent and echoed back is in no title, curl line, report or JUnit file."""
    runner, report = sentinel_run(echo_500, [shape])
    assert SENTINEL.encode() in runner.answers[0]
    assert [finding.check for finding in report.findings.values()] == ["not_a_server_error"]
    _assert_nowhere(_shown(report))
    curl = next(iter(report.findings.values())).curl
    assert MASK in curl or "[Filtered]" in curl  # schemathesis filters fields named like passwords itself
    if PROTECTED in shape and isinstance(shape[PROTECTED], list):
        assert "kept-name" in curl  # a protected parameter's name stays readable


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)


@st.composite
def secret_bodies(draw: st.DrawFn) -> Any:
    """A body whose secret property holds the sentinel somewhere inside a value of any shape."""
    shape: Any = SENTINEL
    for _ in range(draw(st.integers(0, 3))):
        shape = draw(
            st.sampled_from(
                [{"value": shape}, {"secureValue": shape, "other": 1}, [shape], [{"name": "n", "value": shape}]]
            )
        )
    properties = draw(st.dictionaries(st.sampled_from(["source", "parameters", "runAsUser"]), JSON, max_size=3))
    properties[draw(st.sampled_from([PASSWORD, PROTECTED]))] = shape
    return {"location": draw(JSON), "properties": properties}


@settings(max_examples=300, deadline=None)
@given(body=secret_bodies())
def test_a_secret_of_any_shape_is_masked(body: Any) -> None:
    assert SENTINEL in secret_values(body)
    shown = json.dumps(mask_body(body))
    assert SENTINEL not in shown
    assert SENTINEL not in redact(json.dumps(body), secret_values(body))


def test_a_secret_list_keeps_its_names() -> None:
    body = {"properties": {PROTECTED: [{"name": "a", "value": "x"}, {"name": "b", "value": 12345678}]}}
    assert mask_body(body) == {"properties": {PROTECTED: [{"name": "a", "value": MASK}, {"name": "b", "value": MASK}]}}
    assert secret_values(body) == ["x", "12345678"]


def test_the_curl_line_expands_the_token_in_a_shell() -> None:
    _, report = sentinel_run(echo_500, SHAPES[:1])
    finding = next(iter(report.findings.values()))
    line = finding.curl.splitlines()[0]
    script = f'curl() {{ printf "%s\\n" "$@"; }}\nTOKEN=expanded-123\n{line}\n'
    argv = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert "Authorization: Bearer expanded-123" in argv
    assert argv[argv.index("-d") + 1].startswith("{")


def test_junit_has_one_case_per_operation_and_check(make_broken: Any) -> None:
    _, report = sentinel_run(make_broken(), SHAPES)
    suite = ElementTree.fromstring(junit_xml(report)).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    pairs = [(case.get("classname"), case.get("name")) for case in cases]
    assert pairs == [(operation, check) for operation in report.operations for check in report.checks]
    failed = {(case.get("classname"), case.get("name")): case.find("failure") for case in cases}
    expected = {(finding.operation_id, finding.check) for finding in report.findings.values()}
    assert {pair for pair, failure in failed.items() if failure is not None} == expected
    for pair in expected:
        failure = failed[pair]
        assert failure is not None
        assert "curl -X PUT" in (failure.text or "")
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == str(len(expected))
    assert suite.get("errors") == "0"


def test_junit_reports_a_run_that_proves_nothing() -> None:
    report = FuzzReport("t", operations=["Op"], checks=["check"])
    report.positive.update({400: 7})
    suite = ElementTree.fromstring(junit_xml(report)).find("testsuite")
    assert suite is not None
    error = suite.find("testcase[@name='run']/error")
    assert error is not None
    assert "no positive case was accepted" in error.get("message", "")
    assert suite.get("errors") == "1"


def test_progress_only_on_a_terminal() -> None:
    main, secondary = os.openpty()
    with open(secondary, "w", encoding="utf-8") as terminal, open(main, "rb", buffering=0):
        assert isinstance(terminal_progress(terminal, {}), TerminalProgress)
        assert terminal_progress(terminal, {"CI": "true"}) is None
        assert terminal_progress(terminal, {"TERM": "dumb"}) is None
    assert terminal_progress(io.StringIO(), {}) is None


def test_progress_is_one_line_rewritten_in_place() -> None:
    stream, now = io.StringIO(), [0.0]
    progress = TerminalProgress(stream, clock=lambda: now[0])
    for case in range(1, 40):
        now[0] += 0.01
        progress("VirtualMachineRunCommands_Update positive", case)
    progress.close()
    text = stream.getvalue()
    assert "\n" not in text
    shown = [part.split(": ")[1].split(" cases")[0] for part in text.split("\r") if part.strip()]
    assert shown == ["1", "12", "22", "32"]  # the first case, then at most ten lines a second (a case per 10 ms)
    assert text.startswith("\rfuzzing VirtualMachineRunCommands_Update positive: 1 cases, 0s")
    assert text.endswith("\r")


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"", "(empty body)"),
        (b"[" * 100_000 + b"]" * 100_000, "(a JSON body nested too deeply to show)"),
        (f"plain text with {SENTINEL} in it".encode(), "plain text with *** in it"),
        (json.dumps({"properties": {PROTECTED: [{"name": "n", "value": "v"}]}}).encode(), None),
        (b"\xff\xfe not utf-8", "\ufffd\ufffd not utf-8"),
    ],
)
def test_a_response_excerpt_never_fails_nor_leaks(content: bytes, shown: str | None) -> None:
    excerpt = response_excerpt(content, [SENTINEL])
    if shown is not None:
        assert excerpt == shown
    else:
        assert json.loads(excerpt) == {"properties": {PROTECTED: [{"name": "n", "value": MASK}]}}
    assert len(response_excerpt(b"x" * 1000, [])) == 300


def test_hide_writes_the_stand_in_in_every_text_the_report_holds() -> None:
    """A live run's subscription id is hidden from findings, clean-up lines, left-overs, notes, errors and the stop."""
    from pytest_runcommand.fuzz.findings import FuzzFinding

    sub = "ABCDEF01-2222-3333-4444-555555555555"
    path = (
        f"/subscriptions/{sub.lower()}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/x"
    )
    report = FuzzReport("https://example.test")
    report.findings["k"] = FuzzFinding(
        "k",
        "op",
        "check",
        f"title {path}",
        f"message {path}",
        f"curl -X PUT 'https://h{path}'",
        500,
        "positive",
        "e",
        response=f'{{"id": "{path}"}}',
    )
    report.cleanup.append(f"DELETE {path}: 202, gone")
    report.remaining.append(path)
    report.errors.append(f"error {sub}")
    report.notes.append(f"note {sub}")
    report.stopped = f"stopped at {path}"
    report.hide(sub, "00000000-0000-0000-0000-000000000000")
    everything = (
        json.dumps(report.findings["k"].__dict__)
        + report.render()
        + json.dumps([report.cleanup, report.remaining, report.errors, report.notes, report.stopped])
    )
    assert sub.lower() not in everything.lower()
    assert everything.count("00000000-0000-0000-0000-000000000000") >= 9
