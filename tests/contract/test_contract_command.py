"""``pytest-runcommand validate``: exit 0 conforms, 1 violations (one line each), 2 usage or unreadable input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_runcommand.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "payloads"


def test_the_documented_sample_request_conforms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "request", str(EXAMPLES / "update-request.json")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "conforms" in captured.err


def test_two_sources_fail_naming_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "request", str(EXAMPLES / "update-request-two-sources.json")]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    code, pointer, message = line.split("\t")
    assert (code, pointer) == ("MULTIPLE_SCRIPT_SOURCES", "/properties/source")
    assert "exactly one of script, scriptUri, commandId" in message


def test_a_response_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"error": {"code": "ResourceNotFound", "message": "not found"}}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(body).encode())))
    assert main(["validate", "response", "-", "--status", "404", "--method", "GET"]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"properties": {"runAsPassword": "pw"}}')))
    assert main(["validate", "response", "-", "--status", "200"]) == 1
    out = capsys.readouterr().out
    assert "SECRET_PROPERTY\t/properties/runAsPassword" in out
    assert "pw\n" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "request", "missing.json"], "missing.json: no such file"),
        (["validate", "response", "x.json"], "needs --status"),
        (["validate", "request", "BROKEN", "--header", "nocolon"], "--header takes NAME:VALUE"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    argv = [str(broken) if a == "BROKEN" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unreadable_json_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "body.json"
    broken.write_text('{"properties": ')
    assert main(["validate", "request", str(broken)]) == 2
    assert f"{broken}: not valid JSON" in capsys.readouterr().err


def test_a_wrong_flag_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "request", "x.json", "--no-such-flag"])
    assert exit_info.value.code == 2


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_runcommand", "validate", "request", str(EXAMPLES / "update-request.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
