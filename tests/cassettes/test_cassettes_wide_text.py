"""A body kept as bytes (a declared binary type) that holds text in UTF-16 or UTF-32 without a byte-order mark:
values learned from a secret place are scrubbed from it, and the scan reads it in those encodings too."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import scan_interaction
from pytest_runcommand.interactions import Interaction

SENTINEL = "Sentinel-W1de-Text"
BINARY = {"Content-Type": "application/octet-stream"}
CODECS = ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]


def _learned() -> object:
    sanitizer = default_sanitizer().fresh()
    body = {"location": "westus", "properties": {"source": {"script": "x"}, "runAsPassword": SENTINEL}}
    sanitizer.message({"Content-Type": "application/json"}, json.dumps(body).encode())
    return sanitizer


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("prefix", [b"", b"\x01"])  # at any alignment
def test_a_learned_value_in_a_wide_binary_body_is_scrubbed(codec: str, prefix: bytes) -> None:
    sanitizer = _learned()
    script = f'$cred = "{SENTINEL.upper()}"\r\nWrite-Output done\r\n'.encode(codec)
    _, body = sanitizer.message(BINARY, prefix + script)  # type: ignore[attr-defined]
    for each in CODECS:
        assert SENTINEL.upper().encode(each) not in body
    assert "REDACTED".encode(codec) in body
    assert "Write-Output done".encode(codec) in body


def test_a_binary_body_without_a_learned_value_is_kept_byte_for_byte() -> None:
    raw = bytes(range(256)) * 4
    _, body = _learned().message(BINARY, raw)  # type: ignore[attr-defined]
    assert body is raw


@pytest.mark.parametrize("codec", CODECS)
def test_the_scan_reads_a_wide_binary_body(codec: str) -> None:
    document = json.dumps({"properties": {"runAsPassword": SENTINEL}}).encode(codec)
    interaction = Interaction("PUT", "https://h/c/b", BINARY, document, 201, {}, None)
    found = scan_interaction(interaction, "here")
    assert found
    assert all(SENTINEL not in str(f) for f in found)
    assert any(f"(read as {codec})" in f.where for f in found)


MODULE = textwrap.dedent(
    f"""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import httpx
    import pytest

    SECRET = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"
    RC = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
          "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01")


    class Store(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_PUT(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(201)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{{}}")


    @pytest.fixture
    def server():
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Store)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{{httpd.server_address[1]}}"
        httpd.shutdown()


    @pytest.mark.vcr
    @pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-16-le", "utf-16-be"])
    def test_upload(server, codec):
        script = '$cred = "' + SECRET + '"\\r\\nWrite-Output done\\r\\n'
        httpx.put(server + "/c/deploy.ps1?sv=2020", content=script.encode(codec),
                  headers={{"Content-Type": "application/octet-stream"}})
        body = {{"location": "westus", "properties": {{"source": {{"script": "x"}}, "runAsPassword": SECRET}}}}
        httpx.put(server + RC, json=body)  # the password is learned after the upload: scrubbed when saved
    """
)


def test_a_recorded_upload_holds_no_learned_secret_in_any_encoding(tmp_path: Path) -> None:
    (tmp_path / "test_upload.py").write_text(MODULE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--record-mode=once", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cassettes = sorted((tmp_path / "cassettes").rglob("*.yaml"))
    assert len(cassettes) == 4
    for cassette in cassettes:
        for interaction in yaml.safe_load(cassette.read_text())["interactions"]:
            body = interaction["request"]["body"]
            raw = body.encode("utf-8") if isinstance(body, str) else body  # a binary body is kept as bytes
            for codec in ("utf-8", "utf-16-le", "utf-16-be"):
                assert SENTINEL.encode(codec) not in raw, cassette.name
        check = subprocess.run(
            [sys.executable, "-m", "pytest_runcommand", "cassettes", "check", "--no-contract", str(cassette)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
