"""``pytest-runcommand emulator ... | head -1``: the emulator keeps serving when the reader of its output goes away,
and a ``--cli-env`` file is still written."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_emulator_serves_on_after_its_stdout_closes(tmp_path: Path) -> None:
    port, cli_env = _free_port(), tmp_path / "az.env"
    argv = ["emulator", "--tls", "--port", str(port), "--cli-env", str(cli_env)]
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_runcommand", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader goes away before the first line
    try:
        deadline = time.monotonic() + 60
        while not cli_env.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process.poll() is None, process.communicate()[1].decode()
        time.sleep(0.3)  # the lines after the first meet the closed pipe too
        assert process.poll() is None, process.communicate()[1].decode()
        answer = httpx.get(f"https://127.0.0.1:{port}/metadata/endpoints?api-version=2022-09-01", verify=False)
        assert answer.status_code < 500
        assert "export REQUESTS_CA_BUNDLE=" in cli_env.read_text()  # written although nobody read stdout
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
