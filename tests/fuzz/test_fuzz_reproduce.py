"""A finding's curl line: masked with the project's ``***`` only (not schemathesis's ``[Filtered]``, which also hid
values that are not secret), and a body no shell argument carries (a NUL byte) piped from ``printf``, byte for byte.

Each line is run with a real ``curl`` against a loopback server that records what it was sent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pytest_runcommand.fuzz.reproduce import printf_argument
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import url_target

PUT = "VirtualMachineRunCommands_CreateOrUpdate"
PATH = {"subscriptionId": "s", "resourceGroupName": "g", "vmName": "v", "runCommandName": "fuzz-1"}
pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


class Recorder(BaseHTTPRequestHandler):
    """Answers 500 to every request (a not_a_server_error finding), keeping what it was sent."""

    seen: list[tuple[str, dict[str, str], bytes]]

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append((self.command, dict(self.headers), self.rfile.read(length)))
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[tuple[str, dict[str, str], bytes]]]]:
    seen: list[tuple[str, dict[str, str], bytes]] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _finding_curl(base_url: str, body: Any, media_type: str) -> str:
    """The curl line of the finding an explicit PUT of ``body`` gets from the recording server."""
    runner = FuzzRunner(url_target(base_url, token="real-token"), FuzzSettings(operations=(PUT,)))
    case = runner.operations()[PUT].Case(
        path_parameters=PATH, query={"api-version": "2024-07-01"}, body=body, media_type=media_type
    )
    runner.fuzz_case(case)
    [curl] = {finding.curl for finding in runner.report.findings.values()}
    return curl


def _run(command: str, shell: str) -> None:
    env = {**os.environ, "TOKEN": "token-from-env"}
    done = subprocess.run([shell, "-c", command], env=env, capture_output=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def test_secrets_show_the_projects_mask_and_other_values_stay_readable(recorder: Any) -> None:
    base_url, seen = recorder
    properties = {"source": {"script": "echo"}, "runAsUser": "u", "runAsPassword": "hunter2-secret"}
    properties["authToken"] = "not-a-secret"  # a key schemathesis's names filter hid; the contract has no such secret
    curl = _finding_curl(base_url, {"location": "westus", "properties": properties}, "application/json")
    assert "[Filtered]" not in curl
    assert '"runAsPassword": "***"' in curl
    assert '"authToken": "not-a-secret"' in curl
    assert "hunter2-secret" not in curl
    assert "real-token" not in curl
    seen.clear()
    _run(curl, "sh")
    [(method, headers, sent)] = seen
    assert (method, headers["Authorization"]) == ("PUT", "Bearer token-from-env")
    assert b'"runAsPassword": "***"' in sent


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_a_body_with_a_nul_byte_is_piped_from_printf_byte_for_byte(recorder: Any, shell: str) -> None:
    """schemathesis wrote ``-d $'a\\x00b'``: bash ends the string at the NUL, so the command sent ``a``."""
    if shutil.which(shell) is None:
        pytest.skip(f"needs {shell}")
    base_url, seen = recorder
    body = "a\x00b 'q' \"d\" %s \\n \\000 $HOME `x` \t\n\r\x7f é\x01"
    curl = _finding_curl(base_url, body, "text/plain")
    assert curl.startswith("printf '")
    assert " | curl -X PUT " in curl
    assert " --data-binary @- 'http://127.0.0.1:" in curl
    assert "\n" not in curl.split(" | ", 1)[0]  # the report shows it on one line
    sent_by_the_run = seen[0][2]
    assert sent_by_the_run == body.encode()
    seen.clear()
    _run(curl, shell)
    assert seen[0][2] == sent_by_the_run


def test_printf_escapes_all_but_printable_ascii() -> None:
    assert printf_argument(b"a%b'\\\x00\xff") == "'a%%b\\047\\134\\000\\377'"
