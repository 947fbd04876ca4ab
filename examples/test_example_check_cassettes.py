"""Check a folder of cassettes in CI: every run-command interaction conforms and no secret is on disk.

The same gate from the shell, e.g. as a CI step before the tests run, or as a pre-commit hook
(``id: runcommand-cassettes-check`` in ``.pre-commit-hooks.yaml``)::

    pytest-runcommand cassettes check cassettes/                         # exit 0 clean, 1 violations or secrets, 2 unreadable
    pytest-runcommand cassettes check --format sarif cassettes/ > cassettes.sarif   # for code scanning

Bodies are scanned decoded (gzip, deflate, byte-order marks, charsets), so a secret a careless recorder stored
compressed is found too. As a test it runs wherever the suite runs, and a failure prints the per-file summary.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import yaml

from pytest_runcommand.cli import main

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


def test_committed_cassettes_conform_and_hold_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["cassettes", "check", str(CASSETTES)])
    summary = capsys.readouterr().out
    assert code == 0, summary
    assert "0 with violations" in summary
    assert "0 secret hits" in summary


def test_a_planted_token_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorded = next(CASSETTES.rglob("*.yaml")).read_text(encoding="utf-8")
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMDAwMDAwMH0.c2lnbmF0dXJlLWJ5dGVz"
    leaked = tmp_path / "leaked.yaml"
    leaked.write_text(recorded.replace("REDACTED", jwt, 1), encoding="utf-8")
    assert main(["cassettes", "check", str(leaked)]) == 1
    out = capsys.readouterr().out
    assert "jwt" in out
    assert jwt not in out


def test_a_password_stored_compressed_is_caught(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    password = "Correct-Horse-Battery-Staple-9"
    body = gzip.compress(json.dumps({"properties": {"runAsPassword": password}}).encode())
    interaction = {
        "request": {"method": "GET", "uri": "https://management.azure.com/x", "body": None, "headers": {}},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Encoding": ["gzip"], "Content-Type": ["application/json"]},
            "body": {"string": body},  # written as !!binary: unreadable to a plain-text scan
        },
    }
    careless = tmp_path / "careless.yaml"
    careless.write_text(yaml.safe_dump({"version": 1, "interactions": [interaction]}))
    assert main(["cassettes", "check", "--no-contract", str(careless)]) == 1
    out = capsys.readouterr().out
    assert "response.body /properties/runAsPassword: secret-field <hidden, 30 chars>" in out
    assert password not in out
