"""Captured logs of traffic are sanitized: vcrpy's recorded interaction, httpx's request line (a SAS signature)."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_runcommand.pytest.log_secrets import TrafficLogFilter

SENTINEL = "SentinelSig-Z9y8X7"

MODULE = textwrap.dedent(
    f"""
    import logging

    import pytest

    SIG = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"  # the file never holds the sentinel whole


    @pytest.mark.vcr
    def test_failing_recording(runcommand_emulator):
        path = runcommand_emulator.run_command_path("rc1")
        body = {{"location": "westus", "properties": {{"source": {{"script": "ls"}}, "runAsPassword": SIG}}}}
        runcommand_emulator.client.put(path + "&sv=2022-11-02&sig=" + SIG, json=body)
        logging.getLogger("pytest_runcommand.example").warning("sent to %s", "https://a.blob/x?sv=1&sig=" + SIG)
        assert False, "fails so that pytest shows the captured log"
    """
)


@pytest.mark.parametrize("options", [["--log-level=DEBUG"], ["--log-cli-level=DEBUG"]])
def test_a_failing_recording_tests_captured_log_holds_no_secret(tmp_path: Path, options: list[str]) -> None:
    (tmp_path / "test_logs.py").write_text(MODULE)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--record-mode=once", *options, "test_logs.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Appending request and response (not shown" in output  # vcrpy's line, rewritten
    assert "HTTP Request: PUT" in output  # httpx's line, kept, its signature redacted
    assert "sent to https://a.blob/x?sv=1&sig=" in output
    assert SENTINEL not in output


def test_the_filter_rewrites_only_traffic_loggers_and_keeps_every_record() -> None:
    log_filter = TrafficLogFilter()
    own = logging.LogRecord("myapp", logging.INFO, __file__, 1, "sig=%s", (SENTINEL,), None)
    traffic = logging.LogRecord("urllib3.connectionpool", logging.DEBUG, __file__, 1, "GET /?sig=%s", (SENTINEL,), None)
    assert log_filter.filter(own)
    assert log_filter.filter(traffic)
    assert own.getMessage() == f"sig={SENTINEL}"  # a user's own logger is theirs
    assert SENTINEL not in traffic.getMessage()
