"""A textual body holding NUL bytes (UTF-16 or UTF-32 sent without a byte-order mark reads as such UTF-8) cannot be
read as text, so it cannot be shown clean: refused when recording, an undecodable body for the scan."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_runcommand.cassettes.decode import Undecodable
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import scan_interaction
from pytest_runcommand.interactions import Interaction

SENTINEL = "SentinelNul-Q7w8E9"
DOCUMENT = {"location": "westus", "properties": {"runAsPassword": SENTINEL}}


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
@pytest.mark.parametrize("content_type", ["application/json", None])
def test_a_body_in_utf16_or_utf32_without_a_mark_is_refused_and_found(codec: str, content_type: str | None) -> None:
    body = json.dumps(DOCUMENT).encode(codec)
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(Undecodable, match="holding NUL bytes") as refused:
        default_sanitizer().fresh().message(headers, body)
    assert SENTINEL not in str(refused.value)
    found = scan_interaction(Interaction("PUT", "https://management.azure.com/x", headers, body, 400, {}, None), "here")
    assert [f.detector for f in found] == ["undecodable-body"]
    assert all(SENTINEL not in str(f) for f in found)


def test_a_binary_body_with_nul_bytes_is_kept_as_bytes() -> None:
    body = b"\x00\x01binary\x00"
    assert default_sanitizer().fresh().message({"Content-Type": "application/octet-stream"}, body)[1] == body


def test_recording_a_utf16_body_without_a_mark_writes_no_cassette(tmp_path: Path) -> None:
    (tmp_path / "test_utf16.py").write_text(
        textwrap.dedent(
            f"""
            import json

            import pytest

            PWD = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"


            @pytest.mark.vcr
            def test_utf16(runcommand_emulator):
                body = json.dumps({{"location": "westus", "properties": {{"runAsPassword": PWD}}}})
                path = runcommand_emulator.run_command_path("rc1")
                runcommand_emulator.client.put(path, content=body.encode("utf-16-le"))
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-l", "--record-mode=once", "test_utf16.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "holding NUL bytes" in done.stdout
    assert not (tmp_path / "cassettes" / "test_utf16" / "test_utf16.yaml").exists()
    assert SENTINEL not in done.stdout + done.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path
