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


def _failing_run(tmp_path: Path, module: str, *options: str) -> str:
    """The output of a recording pytest run of ``module`` in ``tmp_path``, which must fail (to show its logs)."""
    (tmp_path / "test_logs.py").write_text(module)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--record-mode=once", *options, "test_logs.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    return output


@pytest.mark.parametrize("options", [["--log-level=DEBUG"], ["--log-cli-level=DEBUG"]])
def test_a_failing_recording_tests_captured_log_holds_no_secret(tmp_path: Path, options: list[str]) -> None:
    output = _failing_run(tmp_path, MODULE, *options)
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


SDK_MODULE = textwrap.dedent(
    f"""
    import pytest
    from azure.core.credentials import AccessToken
    from azure.mgmt.compute import ComputeManagementClient

    SECRET = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"
    JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9." + SECRET


    class Credential:
        def get_token(self, *scopes, **kwargs):
            return AccessToken(JWT, 4102444800)


    @pytest.mark.vcr
    def test_sdk_network_trace(runcommand_emulator_server):
        server = runcommand_emulator_server
        client = ComputeManagementClient(
            Credential(), "00000000-0000-0000-0000-000000000000", base_url=server.base_url,
            connection_verify=server.ca_path, logging_enable=True,
        )
        body = {{"location": "westus", "properties": {{
            "source": {{"script": "ls"}}, "runAsUser": "ops", "runAsPassword": SECRET + "pw",
            "protectedParameters": [{{"name": "token", "value": SECRET + "pp"}}],
        }}}}
        client.virtual_machine_run_commands.begin_create_or_update(
            "rg", "vm1", "rc1", body, api_version="2024-07-01", polling_interval=0
        ).result()
        assert False, "fails so that pytest shows the captured log"
    """
)


def test_the_azure_sdks_network_trace_shows_no_token_and_no_secret_property(tmp_path: Path) -> None:
    """azure-core's network trace (``logging_enable=True``) logs the Authorization header and the request body."""
    pytest.importorskip("azure.mgmt.compute")
    output = _failing_run(tmp_path, SDK_MODULE, "--log-level=DEBUG")
    assert "'Authorization': 'Bearer REDACTED'" in output  # the header line kept, its token masked
    assert '"runAsPassword":"REDACTED"' in output  # the body shown, sanitized
    assert '"runAsUser":"ops"' in output
    assert SENTINEL not in output
    assert "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9" not in output


def test_a_traceback_attached_to_a_record_is_sanitized_too() -> None:
    log_filter = TrafficLogFilter()
    try:
        raise ValueError(f"403 for url https://a.blob/x?sv=1&sig={SENTINEL}")
    except ValueError:
        record = logging.LogRecord("urllib3.connectionpool", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    record.stack_info = f"Stack (most recent call last):\n  url = 'https://a.blob/x?sig={SENTINEL}'"
    assert log_filter.filter(record)
    shown = logging.Formatter().format(record)
    assert "ValueError: 403 for url https://a.blob/x?sv=1&sig=REDACTED" in shown
    assert SENTINEL not in shown
