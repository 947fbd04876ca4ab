"""A deliberately broken service is caught: each of its three faults is found, named and reproducible.

(That no secret shows in what a run prints is tested with a sentinel in test_fuzz_report.py.)
"""

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

pytestmark = pytest.mark.slow  # about 30 s of fuzzing in all


@pytest.fixture(scope="module")
def broken_run(make_broken: Any, broken_operations: tuple[str, ...]) -> FuzzReport:
    app = make_broken()
    target = Target(label="broken", base_url="http://testserver", app=app, headers={"Authorization": "Bearer t"})
    return FuzzRunner(target, FuzzSettings(max_examples=15, operations=broken_operations)).run()


def _findings(report: FuzzReport, check: str) -> list[FuzzFinding]:
    return [finding for finding in report.findings.values() if finding.check == check]


def test_echoed_password_is_found(broken_run: FuzzReport) -> None:
    report = broken_run
    secret = [f for f in _findings(report, "runcommand_contract") if "SECRET_PROPERTY" in f.title]
    assert secret, report.render()
    assert "runAsPassword is write-only" in secret[0].message


def test_server_error_on_negative_timeout_is_found(broken_run: FuzzReport) -> None:
    report = broken_run
    errors = _findings(report, "not_a_server_error")
    assert errors, report.render()
    assert all(finding.status == 500 for finding in errors)
    assert any(re.search(r'"timeoutInSeconds": -\d', finding.curl) for finding in errors)


def test_patch_202_without_headers_is_found(broken_run: FuzzReport) -> None:
    report = broken_run
    found = [f for f in _findings(report, "runcommand_contract") if f.operation_id.endswith("_Update")]
    patch = next(f for f in found if "LRO_RESPONSE_HEADER" in f.title)
    assert "INVALID_RESPONSE_CODE" in patch.title
    assert patch.status == 202
    assert patch.curl.startswith("curl -X PATCH")


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
    serve_app: Any,
    make_broken: Any,
    broken_operations: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "t")
    baseline = tmp_path / "known.json"

    def args() -> list[str]:  # each run against a fresh service: what one run created cannot change the next
        found = ["fuzz", "--target", serve_app(make_broken()), "--max-examples", "8", "--no-stateful"]
        return [*found, "--baseline", str(baseline), *(a for op in broken_operations for a in ("--operation", op))]

    assert main([*args(), "--update-baseline"]) == 0
    known = json.loads(baseline.read_text())["failures"]
    assert known  # the broken service's faults
    capsys.readouterr()
    assert main(args()) == 0  # the same run (derandomized): every failure is known
    assert f"{len(known)} distinct failures ({len(known)} known in the baseline, 0 new)" in capsys.readouterr().out
    dropped = sorted(known)[0]
    baseline.write_text(json.dumps({"version": 1, "failures": {k: v for k, v in known.items() if k != dropped}}))
    assert main(args()) == 1
    assert f"[{dropped}]" in capsys.readouterr().out
