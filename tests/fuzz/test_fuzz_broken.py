"""A deliberately broken service is caught: each of its three faults is found, named and reproducible."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.findings import FuzzFinding, FuzzReport
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import Target


class SecretTap:
    """ASGI middleware remembering every runAsPassword sent to the app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.secrets: set[str] = set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def tapped() -> Any:
            message = await receive()
            try:
                body = json.loads(message.get("body") or b"null")
            except ValueError:
                body = None
            properties = body.get("properties") if isinstance(body, dict) else None
            if isinstance(properties, dict) and isinstance(properties.get("runAsPassword"), str):
                self.secrets.add(properties["runAsPassword"])
            return message

        await self.app(scope, tapped, send)


@pytest.fixture(scope="module")
def broken_run(make_broken: Any, broken_operations: tuple[str, ...]) -> tuple[FuzzReport, SecretTap]:
    tap = SecretTap(make_broken())
    target = Target(label="broken", base_url="http://testserver", app=tap, headers={"Authorization": "Bearer t"})
    report = FuzzRunner(target, FuzzSettings(max_examples=15, operations=broken_operations)).run()
    return report, tap


def _findings(report: FuzzReport, check: str) -> list[FuzzFinding]:
    return [finding for finding in report.findings.values() if finding.check == check]


def test_echoed_password_is_found(broken_run: tuple[FuzzReport, SecretTap]) -> None:
    report, _ = broken_run
    secret = [f for f in _findings(report, "runcommand_contract") if "SECRET_PROPERTY" in f.title]
    assert secret, report.render()
    assert "runAsPassword is write-only" in secret[0].message


def test_server_error_on_negative_timeout_is_found(broken_run: tuple[FuzzReport, SecretTap]) -> None:
    report, _ = broken_run
    errors = _findings(report, "not_a_server_error")
    assert errors, report.render()
    assert all(finding.status == 500 for finding in errors)
    assert any(re.search(r'"timeoutInSeconds": -\d', finding.curl) for finding in errors)


def test_patch_202_without_headers_is_found(broken_run: tuple[FuzzReport, SecretTap]) -> None:
    report, _ = broken_run
    found = [f for f in _findings(report, "runcommand_contract") if f.operation_id.endswith("_Update")]
    patch = next(f for f in found if "LRO_RESPONSE_HEADER" in f.title)
    assert "INVALID_RESPONSE_CODE" in patch.title
    assert patch.status == 202
    assert patch.curl.startswith("curl -X PATCH")


def test_the_report_never_shows_a_sent_password(broken_run: tuple[FuzzReport, SecretTap]) -> None:
    report, tap = broken_run
    text = report.render()
    telling = [secret for secret in tap.secrets if len(secret) >= 4]  # shorter ones occur by chance
    assert telling, "the run sent no telling runAsPassword: the test proves nothing"
    for secret in telling:
        # Generated passwords may equal ordinary words of the report ("Updating"): look where a leak would be.
        for separator in (": ", ":"):
            assert f'"runAsPassword"{separator}{json.dumps(secret)}' not in text


def test_cli_names_each_fault_and_exits_1(
    broken_server: str,
    broken_operations: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "cli-test-token-123")
    operations = [arg for op in broken_operations for arg in ("--operation", op)]
    code = main(["fuzz", "--target", broken_server, "--max-examples", "12", "--no-stateful", *operations])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "SECRET_PROPERTY" in out
    assert "Server error (HTTP 500)" in out
    assert re.search(r"INVALID_RESPONSE_CODE, LRO_RESPONSE_HEADER.*\(HTTP 202\)", out)
    assert 'curl -X PATCH -H "Authorization: Bearer $TOKEN"' in out
    assert "cli-test-token-123" not in out


def test_baseline_fails_on_new_failures_only(
    broken_server: str,
    broken_operations: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "t")
    baseline = tmp_path / "known.json"
    args = ["fuzz", "--target", broken_server, "--max-examples", "8", "--no-stateful", "--baseline", str(baseline)]
    args += [arg for op in broken_operations for arg in ("--operation", op)]
    assert main([*args, "--update-baseline"]) == 0
    known = json.loads(baseline.read_text())["failures"]
    assert len(known) >= 2
    capsys.readouterr()
    assert main(args) == 0
    assert "0 new" in capsys.readouterr().out
    dropped = sorted(known)[0]
    baseline.write_text(json.dumps({"version": 1, "failures": {k: v for k, v in known.items() if k != dropped}}))
    assert main(args) == 1
    assert f"[{dropped}]" in capsys.readouterr().out
