"""``--request-timeout`` bounds a request's whole exchange, not each socket read: a target dripping its answer a byte
at a time (the headers, a body of declared length, a chunked one, one delimited by the connection's close) is cut at
the timeout and reported as a timeout, on every route that sends to a URL target.

Before, ``requests``' timeout applied per read: a byte every 0.1 s never tripped it, and each request lasted as long
as the target dripped (here about 6 s a request; a real one could drip for ever).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pytest_runcommand.cli import main
from pytest_runcommand.emulator.server import make_certificates
from pytest_runcommand.fuzz.cleanup import clean_up
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.live import LiveScope
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import url_target
from pytest_runcommand.fuzz.unanswered import TARGET_ANSWERS, unanswered

GET = "VirtualMachineRunCommands_GetByVirtualMachine"
SUB = "11111111-2222-3333-4444-555555555555"
SCOPE = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1", name_prefix="fuzz-")
RUN_COMMANDS = SCOPE.parent_path + "/runCommands"
TIMEOUT = 0.5
DRIP = 0.1
"""Seconds between two bytes: far below the timeout, so no single read ever waits for it."""
DRIPS = 60
"""Bytes dripped at most per answer (about 6 s: what a request took before)."""
BOUND = TIMEOUT + 1.5
"""What one request may take here: the timeout, and room for a loaded machine (never the drip's 6 s)."""
HEADERS = {
    "headers": b"",
    "body": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n",
    "chunked": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    "close": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
}
"""What each way of dripping sends at once: nothing (its status line and headers drip), or the whole header block."""


class DripServer:
    """A loopback server that answers every request a byte every :data:`DRIP` seconds (``mode``: what drips), over
    TLS with ``tls``; it counts the bytes it dripped."""

    def __init__(self, mode: str, tls: ssl.SSLContext | None = None) -> None:
        self.mode, self.tls = mode, tls
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.dripped = 0
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        try:
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            with connection:
                connection.recv(65536)
                self.requests += 1
                connection.sendall(HEADERS[self.mode])
                for byte in self._drops():
                    time.sleep(DRIP)
                    connection.sendall(byte)
                    self.dripped += 1
        except OSError:
            return  # the client cut the exchange: what the deadline is for

    def _drops(self) -> Iterator[bytes]:
        if self.mode == "headers":
            yield from (bytes([b]) for b in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" * 3)
        elif self.mode == "chunked":
            yield from (b"1\r\n \r\n" for _ in range(DRIPS))
        else:
            yield from (b" " for _ in range(DRIPS))

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(params=sorted(HEADERS))
def drip(request: pytest.FixtureRequest) -> Iterator[DripServer]:
    server = DripServer(request.param)
    yield server
    server.close()


def _list_url(base: str) -> str:
    return f"{base}{RUN_COMMANDS}?api-version=2024-07-01"


def _cut_in_time(server: DripServer, started: float) -> None:
    """The exchange ended within the bound, the target's drip with it (not left to drip to its end)."""
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"{server.mode}: {elapsed:.2f} s"
    time.sleep(2 * DRIP)  # the server notices the cut at its next byte
    assert server.dripped < (elapsed + 2 * DRIP) / DRIP + 1


def test_a_dripping_answer_is_cut_at_the_timeout_and_reads_as_one(drip: DripServer) -> None:
    target = url_target(drip.url, token="t", request_timeout=TIMEOUT)
    started = time.monotonic()
    with target.open_session() as session, pytest.raises(requests.ReadTimeout) as cut:
        session.get(_list_url(drip.url), **target.transport_kwargs())
    _cut_in_time(drip, started)
    assert unanswered(cut.value, TIMEOUT) == ("timeout", f"The target did not answer within {TIMEOUT:g} s")
    assert f"no complete answer within {TIMEOUT:g} s (the request timeout)" in str(cut.value)


def test_a_dripping_answer_over_tls_is_cut_too(tmp_path: Path) -> None:
    files = make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files["certfile"], files["keyfile"])
    server = DripServer("body", tls=context)
    try:
        target = url_target(server.url, token="t", ca_path=files["ca"], request_timeout=TIMEOUT)
        started = time.monotonic()
        with target.open_session() as session, pytest.raises(requests.ReadTimeout):
            session.get(_list_url(server.url), **target.transport_kwargs())
        _cut_in_time(server, started)
    finally:
        server.close()


def test_an_answer_within_the_timeout_is_read_whole_and_the_connection_kept(serve_app: object) -> None:
    """The deadline changes nothing for an answer in time: the body is whole and the next request reuses the
    connection (the watched socket is not shut down after its exchange)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def listed(request: object) -> JSONResponse:
        return JSONResponse({"value": []})

    url = serve_app(Starlette(routes=[Route(RUN_COMMANDS, listed)]))  # type: ignore[operator]
    target = url_target(url, token="t", request_timeout=TIMEOUT)
    with target.open_session() as session:
        for _ in range(3):
            response = session.get(_list_url(url), **target.transport_kwargs())
            assert response.json() == {"value": []}
            time.sleep(TIMEOUT)  # past the first exchange's deadline: it must not reach the kept connection
        pools = session.get_adapter(url).poolmanager.pools
        assert [pools[key].num_connections for key in pools.keys()] == [1]  # noqa: SIM118 (it refuses iteration)


def test_the_command_line_reports_the_cut_as_a_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    server = DripServer("body")
    started = time.monotonic()
    try:
        args = ["fuzz", "--target", server.url, "--operation", GET, "--max-examples", "3"]
        code = main([*args, "--request-timeout", str(TIMEOUT)])
    finally:
        server.close()
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert server.requests == 2  # one request a unit (positive, negative), each cut
    assert server.dripped < 2 * (BOUND / DRIP), (server.dripped, elapsed)  # not 2 x 60: neither ran its course
    assert f"{GET}: The target did not answer within {TIMEOUT:g} s" in out
    assert out.count(f"check: {TARGET_ANSWERS};") == 1


def test_the_pytest_route_reports_the_cut_as_a_timeout(pytester: pytest.Pytester) -> None:
    server = DripServer("chunked")
    try:
        pytester.makepyfile(
            test_marked=f"""
import pytest

@pytest.mark.runcommand_fuzz(max_examples=2, operations=["{GET}"], stateful=False, request_timeout={TIMEOUT})
def test_fuzz(runcommand_schema):
    runcommand_schema.fuzz()
"""
        )
        started = time.monotonic()
        result = pytester.runpytest(
            "-q", "-p", "no:cacheprovider", "-p", "no:randomly", f"--runcommand-target={server.url}"
        )
        elapsed = time.monotonic() - started
    finally:
        server.close()
    result.assert_outcomes(failed=1)
    output = result.stdout.str().partition("short test summary info")[0]
    assert f"The target did not answer within {TIMEOUT:g} s" in output
    assert server.requests == 2, server.requests
    assert server.dripped < 2 * (BOUND / DRIP), (server.dripped, elapsed)


def test_a_live_run_and_its_clean_up_are_cut_at_the_timeout() -> None:
    """A scoped run: the list read before the first unit, the units, the clean-up's DELETE, each within the timeout."""
    server = DripServer("close")
    try:
        target = url_target(server.url, token="t", scope=SCOPE, request_timeout=TIMEOUT)
        settings = FuzzSettings(max_examples=2, operations=(GET,), modes=("positive",), stateful=False)
        started = time.monotonic()
        report = FuzzRunner(target, settings).run()
        run_took = time.monotonic() - started
        target.guard.note_response("PUT", f"{server.url}{RUN_COMMANDS}/fuzz-0?api-version=2024-07-01", 201)
        cleaned = FuzzReport(target.label)
        started = time.monotonic()
        with target.open_session() as session:
            clean_up(target, session, "2024-07-01", cleaned, sleep=lambda seconds: None)
        cleanup_took = time.monotonic() - started
    finally:
        server.close()
    [finding] = report.findings.values()
    assert (finding.check, finding.title) == (TARGET_ANSWERS, f"The target did not answer within {TIMEOUT:g} s")
    assert server.requests >= 3  # the list, the unit's case, the DELETE
    assert server.dripped < 3 * (BOUND / DRIP), (server.dripped, run_took, cleanup_took)  # the list, a case, a DELETE
    assert cleanup_took < BOUND, cleanup_took
    assert any("DELETE failed: ReadTimeout" in line for line in cleaned.cleanup), cleaned.cleanup
    assert [path.rsplit("/", 1)[1] for path in cleaned.remaining] == ["fuzz-0"]
