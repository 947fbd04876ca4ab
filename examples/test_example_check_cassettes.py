"""Check a folder of cassettes in CI: every run-command interaction conforms and no secret is on disk.

The same gate from the shell, e.g. as a CI step before the tests run::

    pytest-runcommand cassettes check cassettes/        # exit 0 clean, 1 violations or secrets, 2 unreadable

As a test it runs wherever the suite runs, and a failure prints the per-file summary.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
