"""Record once, replay in CI: an httpx client against the in-process emulator, with secrets in every request.

How it runs:

* recording (once, on a developer machine): ``pytest examples/test_example_record_replay_httpx.py --record-mode=once``
  writes ``cassettes/test_example_record_replay_httpx/<test name>.yaml``, sanitized and secret-scanned;
* CI / a plain ``pytest`` run replays it: ``pytest examples --record-mode=none --block-network``.

``runcommand_contract`` validates every recorded or replayed run-command exchange against the contract.
Against real Azure, swap the emulator's client for your own ``httpx.Client`` with a real token: the
sanitizers keep the token, the password, the protected parameters, the SAS signatures and the
subscription id out of the cassette.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_runcommand import InProcessEmulator

SUBSCRIPTION = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"  # mapped to the zero GUID in the cassette
SAS = "https://scripts.blob.core.windows.net/ops/deploy.sh?sv=2022-11-02&sp=r&se=2030-01-01T00:00:00Z&sig=c2VjcmV0LXNhcw%3D%3D"
OUTPUT_SAS = "https://scripts.blob.core.windows.net/logs/out.txt?sv=2022-11-02&sp=rcw&sig=b3V0cHV0LXNhcw%3D%3D"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """Cassettes live under the repository's ``cassettes/<test module>/<test name>.yaml``."""
    return str(Path(__file__).resolve().parent.parent / "cassettes" / Path(__file__).stem)


@pytest.mark.vcr
@pytest.mark.runcommand_contract
def test_create_then_patch_run_command(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    url = runcommand_emulator.run_command_path("deploy", subscription=SUBSCRIPTION)

    created = client.put(
        url,
        json={
            "location": "westus",
            "properties": {
                "source": {"scriptUri": SAS},
                "runAsUser": "deployer",
                "runAsPassword": "Correct-Horse-Battery-Staple-1",
                "protectedParameters": [{"name": "API_KEY", "value": "pk-live-0123456789"}],
            },
        },
    )
    assert created.status_code in (200, 201)

    patched = client.patch(
        url,
        json={
            "properties": {
                "runAsPassword": "Correct-Horse-Battery-Staple-2",
                "protectedParameters": [{"name": "API_KEY", "value": "pk-live-9876543210"}],
                "outputBlobUri": OUTPUT_SAS,
                "timeoutInSeconds": 600,
            }
        },
    )
    assert patched.status_code == 200
    properties = patched.json()["properties"]
    assert properties["timeoutInSeconds"] == 600
    assert "runAsPassword" not in properties  # the service never returns it
    # Recording and replay see the same sanitized response: the SAS signature is gone in both.
    assert properties["outputBlobUri"].endswith("&sig=REDACTED")

    shown = client.get(url + "&$expand=instanceView")
    assert shown.status_code == 200
    assert shown.json()["properties"]["instanceView"]["executionState"] in {"Pending", "Running", "Succeeded"}
