"""Replay the Azure CLI's recorded ``az vm run-command list/show/invoke`` (2019) against the emulator at the oldest
version that has the operations, and compare with what Azure answered.

The executor is told to print what the real VM printed (the recorded stdout tail and stderr), so the final message
must be byte for byte the recorded one; statuses, headers, body fields and the catalogue's documents must match.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from reference_data import DATA

from pytest_runcommand.contract import facts
from pytest_runcommand.emulator.executor import Outcome
from pytest_runcommand.emulator.handles import InProcessEmulator

RECORDING = DATA.parent / "contract" / "data" / "az-vm-run-command-e2e.runcommand-excerpt.yaml"
VERSION = facts.versions_with("VirtualMachines_RunCommand")[0]


def records() -> list[dict[str, Any]]:
    found = []
    for item in yaml.safe_load(RECORDING.read_text())["interactions"]:
        request, response = item["request"], item["response"]
        text = response["body"]["string"]
        found.append(
            {
                "method": request["method"],
                "url": request["uri"].replace("api-version=2019-03-01", f"api-version={VERSION}"),
                "body": request.get("body"),
                "status": response["status"]["code"],
                "headers": {name.lower(): values[0] for name, values in response["headers"].items()},
                "json": json.loads(text) if text else None,
            }
        )
    return found


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_recorded_invoke_flow(runcommand_emulator: InProcessEmulator) -> None:
    listed, shown, post, first_poll, last_poll, final = records()
    message = final["json"]["value"][0]["message"]
    stdout, stderr = message.removeprefix("Enable succeeded: \n[stdout]\n").split("\n[stderr]\n")
    script = "\n".join(json.loads(post["body"])["script"])
    runcommand_emulator.executor.register(Outcome(output=stdout, error=stderr), script=script)
    runcommand_emulator.backend.settings.lro_polls = 1  # the recording polled InProgress once
    client = runcommand_emulator.client

    served = client.get(_local(listed["url"])).json()["value"]
    recorded = listed["json"]["value"]
    assert served[: len(recorded)] == recorded, "the catalogue as recorded in westus (then eastus's one more)"
    assert [entry["id"] for entry in served[len(recorded) :]] == ["ResetAccountPassword"]
    assert client.get(_local(shown["url"])).json() == shown["json"], "the RunShellScript document as recorded"

    accepted = client.post(_local(post["url"]), content=post["body"], headers={"Content-Type": "application/json"})
    assert accepted.status_code == post["status"] == 202
    assert accepted.content == b""
    for name in ("azure-asyncoperation", "location"):
        assert name in post["headers"]
        assert name in accepted.headers
    assert "monitor=true" in accepted.headers["location"]
    assert "monitor=true" in post["headers"]["location"]

    polled = client.get(_local(accepted.headers["azure-asyncoperation"])).json()
    assert set(polled) == set(first_poll["json"])
    assert polled["status"] == first_poll["json"]["status"] == "InProgress"
    done = client.get(_local(accepted.headers["azure-asyncoperation"])).json()
    assert set(done) == set(last_poll["json"])
    assert done["status"] == "Succeeded"
    answered = client.get(_local(accepted.headers["location"]))
    assert answered.status_code == final["status"] == 200
    assert answered.json() == final["json"], "the final result, message byte for byte"
    assert done["properties"]["output"] == last_poll["json"]["properties"]["output"] == final["json"]


@pytest.mark.parametrize("stderr", ["", "warning\n"])
def test_windows_shape_as_recorded_by_powershell(runcommand_emulator: InProcessEmulator, stderr: str) -> None:
    """The PowerShell recording's two Write-Host lines come back joined by a newline, no trailing newline (as
    VERSIONS.md quotes the recorded RunCommandResult)."""
    text = "This is a sample script with parameters var1 var2\nSecond line with escaped characters"
    runcommand_emulator.executor.register(Outcome(output=text + "\n", error=stderr), command_id="RunPowerShellScript")
    client = runcommand_emulator.client
    base = f"/subscriptions/{facts.ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"
    accepted = client.post(
        f"{base}/vm1/runCommand?api-version={VERSION}",
        json={"commandId": "RunPowerShellScript", "script": ["Write-Host x"]},
    )
    for _ in range(5):
        final = client.get(_local(accepted.headers["location"]))
        if final.status_code == 200:
            break
    assert [entry["message"] for entry in final.json()["value"]] == [text, stderr.rstrip("\n")]


def test_the_powershell_recordings_parameters_bound_by_name(runcommand_emulator: InProcessEmulator) -> None:
    """Invoke-AzVMRunCommand -Parameter @{first="var1";second="var2"}: sent second-first, bound by name; the
    default executor prints the two Write-Host lines as Azure returned them."""
    body = {
        "commandId": "RunPowerShellScript",
        "script": [
            "param($first, $second)",
            "Write-Host This is a sample script with parameters $first $second",
            "Write-Host Second line with escaped characters",
        ],
        "parameters": [{"name": "second", "value": "var2"}, {"name": "first", "value": "var1"}],
    }
    client = runcommand_emulator.client
    base = f"/subscriptions/{facts.ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines"
    accepted = client.post(f"{base}/vm1/runCommand?api-version={VERSION}", json=body)
    for _ in range(5):
        final = client.get(_local(accepted.headers["location"]))
        if final.status_code == 200:
            break
    stdout, stderr = (entry["message"] for entry in final.json()["value"])
    assert stdout == "This is a sample script with parameters var1 var2\nSecond line with escaped characters"
    assert stderr == ""
