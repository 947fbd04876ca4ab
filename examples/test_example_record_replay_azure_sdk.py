"""Record once, replay in CI: the real Azure SDK (azure-mgmt-compute) against the emulator over TLS.

Recorded with ``pytest examples/test_example_record_replay_azure_sdk.py --record-mode=once`` against the
emulator (point ``base_url`` and the credential at Azure to record live traffic instead). The cassette,
``cassettes/test_example_record_replay_azure_sdk/<test name>.yaml``, holds no password, protected
parameter, SAS signature, token or subscription id. CI replays it with
``pytest examples --record-mode=none --block-network``: no server is reached, no credential is needed, and
the long-running operations return at once (azure-core's polling delay is skipped in playback, though this
test leaves the SDK's default 30-second polling interval alone).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_runcommand import ServedEmulator

pytest.importorskip("azure.mgmt.compute")

from azure.mgmt.compute import ComputeManagementClient

SUBSCRIPTION = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"  # mapped to the zero GUID in the cassette
API_VERSION = "2024-07-01"
SAS = "https://scripts.blob.core.windows.net/ops/patch.ps1?sv=2022-11-02&sp=r&sig=c2RrLXNjcmlwdC1zYXM%3D"
ERROR_SAS = "https://scripts.blob.core.windows.net/logs/err.txt?sv=2022-11-02&sp=rcw&sig=c2RrLWVycm9yLXNhcw%3D%3D"


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    """Cassettes live under the repository's ``cassettes/<test module>/<test name>.yaml``."""
    return str(Path(__file__).resolve().parent.parent / "cassettes" / Path(__file__).stem)


@pytest.mark.vcr
@pytest.mark.runcommand_contract
def test_begin_update_with_secrets(runcommand_emulator_server: ServedEmulator) -> None:
    emulator = runcommand_emulator_server
    emulator.backend.settings.lro_polls = 1  # each operation reports InProgress once before it succeeds
    emulator.backend.settings.retry_after = 1  # keeps the one-off recording quick; replay never waits
    client = ComputeManagementClient(
        emulator.credential, SUBSCRIPTION, base_url=emulator.base_url, connection_verify=emulator.ca_path
    )
    commands = client.virtual_machine_run_commands

    created = commands.begin_create_or_update(
        "ops-rg",
        "web-01",
        "patch-windows",
        {
            "location": "westus",
            "properties": {
                "source": {"scriptUri": SAS},
                "runAsUser": "ops",
                "runAsPassword": "Sdk-Password-0001",
                "protectedParameters": [{"name": "TOKEN", "value": "sdk-protected-0001"}],
            },
        },
        api_version=API_VERSION,
    ).result()
    assert created.provisioning_state == "Succeeded"

    updated = commands.begin_update(
        "ops-rg",
        "web-01",
        "patch-windows",
        {
            "properties": {
                "runAsPassword": "Sdk-Password-0002",
                "protectedParameters": [{"name": "TOKEN", "value": "sdk-protected-0002"}],
                "errorBlobUri": ERROR_SAS,
                "timeoutInSeconds": 900,
            }
        },
        api_version=API_VERSION,
    ).result()
    assert updated.provisioning_state == "Succeeded"
    assert updated.timeout_in_seconds == 900
    assert updated.run_as_password is None
    assert updated.error_blob_uri is not None
    assert updated.error_blob_uri.endswith("&sig=REDACTED")

    shown = commands.get_by_virtual_machine(
        "ops-rg", "web-01", "patch-windows", expand="instanceView", api_version=API_VERSION
    )
    assert shown.instance_view is not None
    assert shown.instance_view.execution_state == "Succeeded"
