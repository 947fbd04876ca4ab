"""A URL target's secret tail is masked in whatever form the HTTP client sends or prints it (review 9, finding 4):
typed ``%3bsig%3d...``, requests sends ``%3Bsig%3D...``; the sentinel must appear nowhere: stdout, stderr, --json,
--junit-xml, and the pytest route's failure text and JUnit file."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import pytest
from requests.models import PreparedRequest
from requests.utils import requote_uri

from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.targets import masked_target_text, shown_target

SENTINEL = "T4rget-Secret-77"
TAILS = [
    f"%3bsig%3d{SENTINEL}",  # the review's case: lower-case escapes
    f"%3Bsig%3D{SENTINEL}",
    f"%3bSIG%3d{SENTINEL.replace('-', '%2d')}",  # an escaped unreserved character: requote_uri decodes it
    f";sig={SENTINEL}",
    f"%3bsig%3d{SENTINEL}%c3%a9",  # a non-ASCII tail, escaped
    f";sig={SENTINEL}é",  # and typed: sent escaped
]


@pytest.mark.parametrize("tail", TAILS)
def test_every_form_of_the_tail_is_masked(tail: str) -> None:
    target = f"http://127.0.0.1:9/{tail}"
    prepared = PreparedRequest()
    prepared.prepare_url(target + "/subscriptions/x", None)
    assert prepared.url is not None
    for form in (target, unquote(target), requote_uri(target), prepared.url):
        message = f"500 for PATCH {form}/subscriptions/x and curl '{form}/subscriptions/x'"
        masked = masked_target_text(message, target)
        assert SENTINEL not in unquote(masked), form  # in no spelling, escaped or not
        assert "/subscriptions/x" in masked
    assert SENTINEL not in unquote(shown_target(target))


def test_text_without_the_target_is_left_alone() -> None:
    target = f"http://127.0.0.1:9/%3bsig%3d{SENTINEL}"
    assert masked_target_text("a %3B in some other text; sig", target) == "a %3B in some other text; sig"
    assert masked_target_text(f"http://127.0.0.1:9/x {SENTINEL}", "http://127.0.0.1:9") == (
        f"http://127.0.0.1:9/x {SENTINEL}"
    )


class _ServerError(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"error": {"code": "X", "message": "boom"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_PATCH = do_POST = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ServerError)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("tail", [f"%3bsig%3d{SENTINEL}", f"%3Bsig%3d{SENTINEL}"])
def test_the_cli_never_shows_a_lower_case_escaped_tail(
    failing_server: str, tail: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, junit = tmp_path / "fuzz.json", tmp_path / "fuzz.xml"
    args = ["--operation", "VirtualMachineRunCommands_Update", "--max-examples", "1"]
    code = main(
        ["fuzz", "--target", f"{failing_server}/{tail}", *args, "--json", str(report), "--junit-xml", str(junit)]
    )
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "curl -X PATCH" in out  # findings were printed, each with its curl line
    for text in (out, err, report.read_text(encoding="utf-8"), junit.read_text(encoding="utf-8")):
        assert SENTINEL not in unquote(text)


def test_the_pytest_route_never_shows_a_lower_case_escaped_tail(pytester: pytest.Pytester, failing_server: str) -> None:
    pytester.makepyfile(
        test_fuzz="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=1, operations=["VirtualMachineRunCommands_Update"], stateful=False)
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    target = f"{failing_server}/%3bsig%3d{SENTINEL}"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--runcommand-target={target}", "--junitxml=j.xml")
    result.assert_outcomes(failed=1)
    shown = result.stdout.str() + result.stderr.str()
    assert "curl -X PATCH" in shown
    assert SENTINEL not in unquote(shown)
    assert SENTINEL not in unquote((pytester.path / "j.xml").read_text(encoding="utf-8"))
