"""A target that does not answer: a ``target_answers`` finding with its curl line, exit 1, never a hang or traceback.

A real loopback listener that accepts connections and then stays silent, sends half a header block, or closes
without a word. Before ``--request-timeout`` the first gave a traceback ("the run stopped: ConnectionError") and the
others waited 30 s per replay of each case (hypothesis replays a failing case to shrink it).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from pytest_runcommand.cli import main
from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import CLI_ROUTE, RATE_EXPECTED, TIMEOUT_EXPECTED, TargetRequest, resolve_target
from pytest_runcommand.fuzz.unanswered import TARGET_ANSWERS, unanswered

PUT = "VirtualMachineRunCommands_CreateOrUpdate"
GET = "VirtualMachineRunCommands_GetByVirtualMachine"
LINKED = ["--operation", PUT, "--operation", GET]
"""Two operations the stateful sequences link, so the stateful part runs too."""


class SilentServer:
    """A loopback listener that accepts every connection and then ``behaviour``s: sleep, half, close (once: answers
    the first request, then closes as close does)."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.accepted = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            self.accepted += 1
            if self.behaviour == "once" and self.accepted == 1:  # one whole answer, then closes as "close" does
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                connection.close()
                continue
            if self.behaviour in ("close", "once"):
                connection.recv(65536)
                connection.close()
                continue
            if self.behaviour == "half":
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: applic")
            self.held.append(connection)

    def close(self) -> None:
        self.listener.close()
        for connection in self.held:
            connection.close()
        self.thread.join(5)


@pytest.fixture(params=["sleep", "half"])
def silent(request: pytest.FixtureRequest) -> Iterator[SilentServer]:
    server = SilentServer(request.param)
    yield server
    server.close()


def test_the_run_ends_in_bounded_time_with_a_finding_per_operation(
    silent: SilentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["fuzz", "--target", f"http://127.0.0.1:{silent.port}", *LINKED, "--max-examples", "5"]
    started = time.monotonic()
    code = main([*args, "--request-timeout", "0.3"])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 1, out + err
    # 5 units (2 operations x 2 modes + stateful), one request each: ~5 x 0.3 s, never a replay per case
    assert elapsed < 15, elapsed
    assert silent.accepted <= 6  # one request per unit (the close case: one more for a retried idle connection)
    assert "Traceback" not in out + err
    assert "the run stopped" not in err
    for operation in (PUT, GET):
        title = "The target did not answer within 0.3 s"
        assert f"{operation}: {title}" in out
    assert out.count(f"check: {TARGET_ANSWERS};") == 2
    assert " over 2 operations in " in out  # it said "over 0 operations": none answered
    assert f"  {PUT}: no answer" in out
    assert 'curl -X PUT -H "Authorization: Bearer $TOKEN"' in out
    assert f"'http://127.0.0.1:{silent.port}/subscriptions/" in out
    assert "note: stateful: skipped after a request the target did not answer" in out
    assert f"note: {PUT} negative: skipped after a request the target did not answer" in out


def test_the_python_api_takes_the_timeout_from_the_target_request() -> None:
    server = SilentServer("sleep")
    try:
        request = TargetRequest(target=f"http://127.0.0.1:{server.port}", request_timeout=0.2)
        target = resolve_target(request, CLI_ROUTE, {})
        assert target.transport_kwargs()["timeout"] == 0.2
        settings = FuzzSettings(max_examples=3, operations=(GET,), modes=("positive",), stateful=False)
        report = FuzzRunner(target, settings).run()
    finally:
        server.close()
    [finding] = report.findings.values()
    assert (finding.check, finding.operation_id, finding.status) == (TARGET_ANSWERS, GET, None)
    assert finding.title == "The target did not answer within 0.2 s"
    assert report.cases == 1
    assert not report.ok


def test_the_default_timeout_is_ten_seconds() -> None:
    target = resolve_target(TargetRequest(target="http://127.0.0.1:9"), CLI_ROUTE, {})
    assert target.transport_kwargs()["timeout"] == target.request_timeout == 10.0


@pytest.mark.parametrize("value", ["0", "-1", "-0.5", "nan", "inf", "x", ""])
def test_a_timeout_that_is_not_a_positive_number_is_refused(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["fuzz", "--target", "http://127.0.0.1:9", f"--request-timeout={value}"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --request-timeout: expected {TIMEOUT_EXPECTED}, got {value!r}" in err


def test_the_emulator_target_refuses_a_request_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--request-timeout", "5"]) == 2
    assert "--request-timeout: for a --target URL; the emulator target takes none" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"request_timeout": 0.0}, f"request_timeout: expected {TIMEOUT_EXPECTED}, got 0.0"),
        ({"request_timeout": float("inf")}, f"request_timeout: expected {TIMEOUT_EXPECTED}, got inf"),
        ({"rate": 0.0}, f"rate: expected {RATE_EXPECTED}, got 0.0"),
        ({"rate": -1.0}, f"rate: expected {RATE_EXPECTED}, got -1.0"),
        ({"rate": float("nan")}, f"rate: expected {RATE_EXPECTED}, got nan"),
    ],
)
def test_the_resolver_holds_every_route_to_the_same_rule(fields: dict[str, float], message: str) -> None:
    with pytest.raises(UsageError, match=f"^{re.escape(message)}$"):
        resolve_target(TargetRequest(target="http://127.0.0.1:9", **fields), CLI_ROUTE, {})  # type: ignore[arg-type]


def test_only_errors_of_the_target_are_findings() -> None:
    assert unanswered(requests.exceptions.ReadTimeout(), 1.0) == ("timeout", "The target did not answer within 1 s")
    assert unanswered(requests.exceptions.ConnectionError(), 1.0) is not None
    assert unanswered(requests.exceptions.ChunkedEncodingError(), 1.0) is not None
    # the setup's, not the target's: the run stops as before (with its hint for a certificate)
    assert unanswered(requests.exceptions.SSLError(), 1.0) is None
    assert unanswered(requests.exceptions.ProxyError(), 1.0) is None
    assert unanswered(ValueError(), 1.0) is None
    refused = requests.exceptions.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))
    assert unanswered(refused, 1.0) is None  # nothing listens there: the run stops (exit 2) as before
    blackhole = requests.exceptions.ConnectTimeout(MaxRetryError(None, "/", ConnectTimeoutError()))
    assert unanswered(blackhole, 1.0) == ("connect-timeout", "The target did not accept the connection within 1 s")


def test_a_target_that_closes_before_any_answer_stops_the_run_saying_it_may_speak_tls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Review 13, finding 10: ``http://`` sent to the TLS emulator (it closes each connection without a byte) was 15
    ``target_answers`` findings, exit 1, as if the emulator were broken. Before any answer, a closed connection is
    the setup's: the run stops, exit 2, one line."""
    server = SilentServer("close")
    try:
        code = main(["fuzz", "--target", f"http://127.0.0.1:{server.port}", *LINKED, "--max-examples", "5"])
    finally:
        server.close()
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert err.strip().splitlines() == [
        f"pytest-runcommand fuzz: http://127.0.0.1:{server.port} closed the connection without answering the run's "
        "first request: if it serves https (the emulator started with --tls), give --target https://..."
    ]
    assert server.accepted <= 2


def test_http_to_the_tls_emulator_stops_the_run_saying_the_port_speaks_https(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The TLS emulator answers plain HTTP with a 400 of its own (no longer a dropped connection): as the run's first
    answer it is the setup's, one line, exit 2, not a finding per operation."""
    from pytest_runcommand.emulator.server import EmulatorServer

    with EmulatorServer(tls=True) as server:
        plain = server.base_url.replace("https://", "http://")
        code = main(["fuzz", "--target", plain, *LINKED, "--max-examples", "5"])
        assert server.backend.vms == []
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert err.strip().splitlines() == [
        f"pytest-runcommand fuzz: {plain} speaks https on that port (the emulator started with --tls): give "
        "--target https://..."
    ]


def test_a_connection_closed_after_an_answer_is_still_a_finding(capsys: pytest.CaptureFixture[str]) -> None:
    """Once the target answered, a connection it closes without an answer is the target's: a finding, as before."""
    server = SilentServer("once")
    try:
        code = main(["fuzz", "--target", f"http://127.0.0.1:{server.port}", *LINKED, "--max-examples", "5"])
    finally:
        server.close()
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "The connection failed or was closed before a complete answer" in out
    assert f"check: {TARGET_ANSWERS};" in out
    assert "closed the connection without answering the run's first request" not in out + err


def test_a_target_where_nothing_listens_still_stops_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there
    assert main(["fuzz", "--target", f"http://127.0.0.1:{port}", "--operation", GET, "--max-examples", "1"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "pytest-runcommand fuzz: nothing answers at the target (--target): is it running, at that host and port?"
    ]
