"""schemathesis's own CLI, with the official 2024-07-01 runCommand.json (not this project's copy), against the served
emulator over TLS: an independent check of the emulator with a tool and a document this project did not write.

Checks: no 5xx, every answer conforms to the official response schemas, invalid data is rejected, a deleted run
command stays gone. Left out: schemathesis's status-code check, because the hand-written official file declares no
error answer for the catalogue and the action run command, which answer errors as ARM's CloudError convention (the
contract states it as a rule); and its content-type check, which flags the empty 202/204 answers that real ARM sends
without a Content-Type too.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from reference_data import OFFICIAL_RUNCOMMAND

from pytest_runcommand.emulator.credential import EmulatorCredential
from pytest_runcommand.emulator.server import EmulatorServer

CHECKS = "not_a_server_error,response_schema_conformance,negative_data_rejection,use_after_free"


@pytest.mark.slow
def test_schemathesis_cli_with_the_official_file_finds_nothing(tmp_path: Path) -> None:
    pytest.importorskip("schemathesis")
    st = Path(sys.executable).with_name("st")
    assert st.exists(), f"schemathesis's CLI is not installed beside {sys.executable}"
    (tmp_path / "schemathesis.toml").write_text('[parameters]\n"api-version" = "2024-07-01"\n', encoding="utf-8")
    server = EmulatorServer(tls=True)
    server.start()
    try:
        token = EmulatorCredential().get_token("https://management.azure.com/.default").token
        done = subprocess.run(
            [
                str(st), "run", str(OFFICIAL_RUNCOMMAND), "--url", server.base_url,
                "-H", f"Authorization: Bearer {token}", "--tls-verify", str(server.ca_path),
                "--max-examples", "10", "--seed", "1", "--checks", CHECKS,
            ],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        internal_errors = list(server.app.internal_errors)
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    found = re.search(r"(\d+) generated, (\d+) passed", output)
    assert found, output[-4000:]
    generated, passed = (int(group) for group in found.groups())
    assert generated == passed > 1000, output[-4000:]
    assert "Selected: 14/14" in output  # the managed run commands, the action and the catalogue at 2024-07-01
    assert not internal_errors
