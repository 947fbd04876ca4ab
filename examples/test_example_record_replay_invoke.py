"""Record once, replay in CI: ``begin_run_command`` (``az vm run-command invoke``) with the real Azure SDK over TLS.

Your code hands a deploy token to a script through the action's ``parameters`` and reads what the script printed.
The action has no secret channel (the contract marks neither ``script`` nor ``parameters`` secret), so the token is
declared to the sanitizer (``known_values_rule`` in ``vcr_config``): it is scrubbed from the request *and* from the
script output Azure hands back, where the script printed it. Values the recording sees in secret places
(``runAsPassword``, protected parameters, bearer tokens, SAS signatures) need no declaration: they are scrubbed
wherever they appear later on their own.

Recorded with ``pytest examples/test_example_record_replay_invoke.py --record-mode=once`` against the emulator; CI
replays ``cassettes/test_example_record_replay_invoke/<test name>.yaml`` with ``--record-mode=none
--block-network``: no server is reached and no credential is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_runcommand import ServedEmulator
from pytest_runcommand.cassettes import default_sanitizer, known_values_rule
from pytest_runcommand.emulator import Outcome

pytest.importorskip("azure.mgmt.compute")

from azure.mgmt.compute import ComputeManagementClient

SUBSCRIPTION = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"  # mapped to the zero GUID in the cassette
DEPLOY_TOKEN = "dpl-7f3c9a1e5b2d4c8e"  # stands for a real token: it must appear in no cassette
SCRIPT = ['curl -fsS -H "X-Deploy-Token: $1" https://deploy.internal/release', "cat /opt/app/VERSION"]
CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / Path(__file__).stem


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {"runcommand_sanitizer": default_sanitizer().with_rules(known_values_rule("deploy-token", DEPLOY_TOKEN))}


def deployed_version(client: ComputeManagementClient, vm: str) -> str:
    """Your code: run the release script on ``vm`` and return the version it reports."""
    result = client.virtual_machines.begin_run_command(
        "prod-rg",
        vm,
        {"commandId": "RunShellScript", "script": SCRIPT, "parameters": [{"name": "1", "value": DEPLOY_TOKEN}]},
        polling_interval=0,
    ).result()
    stdout = result.value[0].message.split("[stdout]\n", 1)[1].split("\n[stderr]", 1)[0]
    return stdout.strip().splitlines()[-1].removeprefix("version ")


@pytest.mark.vcr
@pytest.mark.runcommand_contract
def test_invoke_reads_the_version_a_script_printed(runcommand_emulator_server: ServedEmulator) -> None:
    emulator = runcommand_emulator_server
    printed = f"> X-Deploy-Token: {DEPLOY_TOKEN}\nrelease fetched\nversion 4.2.1\n"  # a script that echoes its input
    emulator.executor.register(Outcome.success(printed), script="\n".join(SCRIPT))
    client = ComputeManagementClient(
        emulator.credential, SUBSCRIPTION, base_url=emulator.base_url, connection_verify=emulator.ca_path
    )
    assert deployed_version(client, "web-01") == "4.2.1"


def test_the_cassette_keeps_the_token_out() -> None:
    text = (CASSETTES / "test_invoke_reads_the_version_a_script_printed.yaml").read_text(encoding="utf-8")
    assert DEPLOY_TOKEN not in text
    assert "X-Deploy-Token: REDACTED" in text  # the printed line is still there, without the token
    assert "version 4.2.1" in text
