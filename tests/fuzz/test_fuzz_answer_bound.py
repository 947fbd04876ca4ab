"""A URL target's answer is read to a bound: past it, a ``target_answers`` finding, not a run that fills the memory."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.fuzz import unanswered

GET = "VirtualMachineRunCommands_GetByVirtualMachine"
MIB = 1024 * 1024


class HugeAnswers:
    """A loopback server answering every request with more than a MiB: declared up front, or chunked without a
    length (``mode``); it counts the bytes it managed to send."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                if self.mode == "declared":
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 314572800\r\n\r\n"
                    )
                    chunk = b" " * 65536
                    for _ in range(4800):
                        connection.sendall(chunk)
                        self.sent += len(chunk)
                else:
                    connection.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    )
                    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
                    for _ in range(4800):
                        connection.sendall(chunk)
                        self.sent += 65536
                    connection.sendall(b"0\r\n\r\n")
            except OSError:
                return  # the client stopped reading: what the bound is for

    def close(self) -> None:
        self.listener.close()


@pytest.fixture(params=["declared", "chunked"])
def huge(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[HugeAnswers]:
    monkeypatch.setattr(unanswered, "MAX_ANSWER_BYTES", MIB)
    server = HugeAnswers(request.param)
    yield server
    server.close()


def test_an_answer_past_the_bound_is_a_finding_and_is_not_read_whole(
    huge: HugeAnswers, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["fuzz", "--target", f"http://127.0.0.1:{huge.port}", "--operation", GET, "--max-examples", "2"])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert f"{GET}: The target's answer is larger than 1 MiB" in out
    assert "check: target_answers;" in out
    assert "Traceback" not in out + err
    assert huge.sent < 300 * MIB  # the client stopped reading (each request's answer would be 300 MiB)


def test_an_answer_within_the_bound_is_read_whole() -> None:
    import requests

    from pytest_runcommand.fuzz.session import _read_bounded

    class Raw:
        def __init__(self) -> None:
            self.parts = [b"{", b'"a": 1', b"}"]

    response = requests.Response()
    response.status_code = 200
    response.headers["Content-Length"] = "8"
    response.raw = Raw()
    response.iter_content = lambda chunk_size=1: iter(response.raw.parts)  # type: ignore[method-assign]
    assert _read_bounded(response).content == b'{"a": 1}'
