"""The action run command (POST .../runCommand) and the location catalogue, as Azure answers them.

Every answer is also checked against the contract at its own version by the conftest's observer.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract import facts
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator import InProcessEmulator
from pytest_runcommand.emulator.executor import Outcome
from pytest_runcommand.emulator.serialize import LINUX_STDOUT_TAIL

BASE = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute"
VM = f"{BASE}/virtualMachines/vm1/runCommand"
VMSS_VM = f"{BASE}/virtualMachineScaleSets/ss1/virtualmachines/0/runCommand"  # the hand-written versions' spelling
CATALOGUE = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/westus/runCommands"
ACTION_VERSIONS = facts.versions_with("VirtualMachines_RunCommand")


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def invoke(client: httpx.Client, path: str, body: dict[str, object], version: str) -> httpx.Response:
    """POST the action and follow Azure's pattern: poll Azure-AsyncOperation to the end, then GET Location."""
    accepted = client.post(f"{path}?api-version={version}", json=body)
    assert accepted.status_code == 202, accepted.text
    assert accepted.content == b""
    status_url = accepted.headers["Azure-AsyncOperation"]
    location = accepted.headers["Location"]
    assert "monitor=true" in location
    assert "monitor" not in status_url
    assert location.replace("&monitor=true", "") == status_url
    assert f"/operations/{accepted.headers['x-ms-request-id']}?" in status_url, "as in the PowerShell recording"
    assert len(accepted.headers.get_list("x-ms-request-id")) == 1
    for _ in range(10):
        status = client.get(_local(status_url)).json()
        if status["status"] != "InProgress":
            break
    assert status["status"] == "Succeeded"
    final = client.get(_local(location))
    assert final.status_code == 200
    assert status["properties"]["output"] == final.json(), "the operation's output is the Location's answer"
    return final


@pytest.mark.parametrize("version", ACTION_VERSIONS)
def test_linux_result_at_every_version(runcommand_emulator: InProcessEmulator, version: str) -> None:
    body = {"commandId": "RunShellScript", "script": ["echo hello", "echo world"]}
    value = invoke(runcommand_emulator.client, VM, body, version).json()["value"]
    assert value == [
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "message": "Enable succeeded: \n[stdout]\nhello\nworld\n\n[stderr]\n",
        }
    ]


def test_windows_result_has_stdout_then_stderr(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(
        Outcome.success("line one\nline two\n"), script="Write-Host line one\nWrite-Host line two"
    )
    body = {"commandId": "RunPowerShellScript", "script": ["Write-Host line one", "Write-Host line two"]}
    value = invoke(runcommand_emulator.client, VMSS_VM, body, facts.DEFAULT_API_VERSION).json()["value"]
    assert [entry["code"] for entry in value] == [
        "ComponentStatus/StdOut/succeeded",
        "ComponentStatus/StdErr/succeeded",
    ]
    assert [entry["message"] for entry in value] == ["line one\nline two", ""]
    assert {entry["level"] for entry in value} == {"Info"}


def test_the_executor_sees_the_run_with_its_parameters(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.failure(2, error="boom", output="partial"), command_id="ifconfig")
    parameters = [{"name": "second", "value": "var2"}, {"name": "first", "value": "var1"}]
    body = {"commandId": "ifconfig", "parameters": parameters}
    value = invoke(runcommand_emulator.client, VM, body, facts.LATEST_API_VERSION).json()["value"]
    run = runcommand_emulator.executor.runs[-1]
    assert run.command_id == "ifconfig"
    assert run.parameters == (("second", "var2"), ("first", "var1"))
    assert run.resource_id == f"{BASE}/virtualMachines/vm1/runCommand"
    assert value[0]["code"] == "ProvisioningState/failed"
    assert value[0]["message"] == (
        "Enable failed: failed to execute command: command terminated with exit status=2\n[stdout]\npartial\n"
        "[stderr]\nboom"
    )


def test_a_built_in_without_script_lines_runs_its_own_script(runcommand_emulator: InProcessEmulator) -> None:
    invoke(runcommand_emulator.client, VM, {"commandId": "runshellscript"}, facts.DEFAULT_API_VERSION)
    run = runcommand_emulator.executor.runs[-1]
    assert run.command_id == "RunShellScript"
    assert run.script == "echo This is a sample script\necho Optional parameters: $0 $1"


def test_linux_stdout_keeps_its_last_4096_bytes(runcommand_emulator: InProcessEmulator) -> None:
    long = "".join(f"line {n}\n" for n in range(2000))
    runcommand_emulator.executor.register(Outcome.success(long), command_id="RunShellScript")
    body = {"commandId": "RunShellScript", "script": ["apt-get install -y nginx"]}
    message = invoke(runcommand_emulator.client, VM, body, facts.DEFAULT_API_VERSION).json()["value"][0]["message"]
    stdout = message.split("\n[stdout]\n", 1)[1].split("\n[stderr]\n", 1)[0]
    assert stdout == long[-LINUX_STDOUT_TAIL:]


def test_the_202_is_as_recorded_with_retry_after_only_where_declared(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.retry_after = None  # exactly Azure's headers
    client = runcommand_emulator.client
    for version in ACTION_VERSIONS:
        accepted = client.post(f"{VM}?api-version={version}", json={"commandId": "RunShellScript"})
        declared = 202 in facts.lro_header_statuses(version, "VirtualMachines_RunCommand")
        assert ("Retry-After" in accepted.headers) == declared, version
        assert re.search(r"/locations/westus/operations/[0-9a-f-]{36}\?", accepted.headers["Location"])


def test_polling_the_monitor_url_early_answers_202(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.lro_polls = 3
    client = runcommand_emulator.client
    accepted = client.post(f"{VM}?api-version={facts.DEFAULT_API_VERSION}", json={"commandId": "RunShellScript"})
    early = client.get(_local(accepted.headers["Location"]))
    assert early.status_code == 202
    assert client.get(_local(accepted.headers["Azure-AsyncOperation"])).json()["status"] == "InProgress"


@pytest.mark.parametrize(
    ("body", "code", "target"),
    [
        ({}, None, "commandId"),
        ({"commandId": "NoSuchCommand"}, "InvalidParameter", "commandId"),
        ({"commandId": "RunShellScript", "script": "not a list"}, None, "script"),
    ],
)
def test_bad_bodies_get_a_400_naming_the_field(
    runcommand_emulator: InProcessEmulator, body: dict[str, object], code: str | None, target: str
) -> None:
    response = runcommand_emulator.client.post(f"{VM}?api-version={facts.DEFAULT_API_VERSION}", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert target in f"{error.get('target')} {error['message']}"
    if code is not None:
        assert error["code"] == code
    assert runcommand_emulator.executor.runs == [], "nothing ran"


def test_the_action_is_refused_at_a_version_without_it(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.post(f"{VM}?api-version=2019-03-01", json={"commandId": "RunShellScript"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidApiVersionParameter"


def test_the_catalogue_lists_and_gets_the_built_in_commands(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    for version in facts.versions_with("VirtualMachineRunCommands_List"):
        listed = client.get(f"{CATALOGUE}?api-version={version}").json()["value"]
        ids = {entry["id"]: entry["osType"] for entry in listed}
        assert {"RunShellScript", "ifconfig"} <= {key for key, os in ids.items() if os == "Linux"}
        assert {"RunPowerShellScript", "IPConfig", "EnableRemotePS"} <= {k for k, os in ids.items() if os == "Windows"}
        assert all("script" not in entry for entry in listed)
        document = client.get(f"{CATALOGUE}/RunPowerShellScript?api-version={version}").json()
        assert document["script"][-1].startswith("Write-Host This is a sample script")
        assert [p["name"] for p in document["parameters"]] == ["arg1", "arg2"]


def test_the_catalogue_is_paged_by_the_page_size(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.page_size = 5
    client = runcommand_emulator.client
    url: str | None = f"{CATALOGUE}?api-version={facts.DEFAULT_API_VERSION}"
    seen: list[str] = []
    while url:
        page = client.get(url).json()
        seen += [entry["id"] for entry in page["value"]]
        url = _local(page["nextLink"]) if "nextLink" in page else None
    assert len(seen) == len(set(seen)) > 5


def test_an_unknown_command_id_is_404_not_found(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(f"{CATALOGUE}/NoSuchCommand?api-version={facts.DEFAULT_API_VERSION}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(["commandId", "script", "parameters", "name", "value", "x"]), inner, max_size=4
            )
        ),
        max_leaves=8,
    )
)
def test_any_body_gets_a_4xx_or_a_202(runcommand_emulator: InProcessEmulator, body: object) -> None:
    """Generated bodies of any shape: never a 5xx; a 202 only for a valid RunCommandInput."""
    response = runcommand_emulator.client.post(f"{VM}?api-version={facts.DEFAULT_API_VERSION}", json=body)
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]["message"]


LINES = st.lists(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20), max_size=4)
PARAMETERS = st.lists(
    st.fixed_dictionaries({"name": st.text(min_size=1, max_size=8), "value": st.text(max_size=8)}), max_size=3
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command_id=st.sampled_from(["RunShellScript", "RunPowerShellScript", "ifconfig", "IPConfig", "EnableRemotePS"]),
    script=LINES,
    parameters=PARAMETERS,
)
def test_any_valid_input_runs_as_sent(
    runcommand_emulator: InProcessEmulator, command_id: str, script: list[str], parameters: list[dict[str, str]]
) -> None:
    """Generated valid RunCommandInputs: 202, the executor gets the lines and parameters as sent, and the result has
    the shape of the command's OS."""
    runcommand_emulator.executor.runs.clear()
    body: dict[str, object] = {"commandId": command_id, "script": script, "parameters": parameters}
    value = invoke(runcommand_emulator.client, VM, body, facts.DEFAULT_API_VERSION).json()["value"]
    (run,) = runcommand_emulator.executor.runs
    if script:
        assert run.script == "\n".join(script)
    assert run.parameters == tuple((p["name"], p["value"]) for p in parameters)
    windows = command_id in ("RunPowerShellScript", "IPConfig", "EnableRemotePS")
    assert len(value) == (2 if windows else 1)


def test_an_unknown_vm_is_404_when_vms_are_seeded(runcommand_emulator: InProcessEmulator) -> None:
    backend = runcommand_emulator.backend
    backend.settings.auto_create_vms = False
    backend.add_vm(f"{BASE}/virtualMachines/known", "eastus")
    client = runcommand_emulator.client
    missing = client.post(f"{VM}?api-version={facts.DEFAULT_API_VERSION}", json={"commandId": "RunShellScript"})
    assert missing.status_code == 404
    assert runcommand_emulator.executor.runs == []
    known = client.post(
        f"{BASE}/virtualMachines/known/runCommand?api-version={facts.DEFAULT_API_VERSION}",
        json={"commandId": "RunShellScript"},
    )
    assert known.status_code == 202
    assert "/locations/eastus/operations/" in known.headers["Azure-AsyncOperation"], "the VM's own region"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(location=st.text(max_size=12), command_id=st.text(max_size=12))
def test_any_location_or_command_id_gets_an_arm_answer(
    runcommand_emulator: InProcessEmulator, location: str, command_id: str
) -> None:
    """Generated path segments in the catalogue's URL: a 200, a 400 naming the bad part or a 404, never a 5xx."""
    from urllib.parse import quote

    base = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/providers/Microsoft.Compute/locations/{quote(location, safe='')}"
    for path in (f"{base}/runCommands", f"{base}/runCommands/{quote(command_id, safe='')}"):
        response = runcommand_emulator.client.get(f"{path}?api-version={facts.DEFAULT_API_VERSION}")
        assert response.status_code in (200, 400, 404), response.text
        if response.status_code >= 400:
            assert response.json()["error"]["code"]


def test_the_handle_names_the_action_and_catalogue_paths(runcommand_emulator: InProcessEmulator) -> None:
    assert runcommand_emulator.action_path() == f"{VM}?api-version={facts.DEFAULT_API_VERSION}"
    assert runcommand_emulator.catalogue_path("IPConfig", api_version="2020-06-01") == (
        f"{CATALOGUE}/IPConfig?api-version=2020-06-01"
    )
    client = runcommand_emulator.client
    assert client.post(runcommand_emulator.action_path(vm="web"), json={"commandId": "ifconfig"}).status_code == 202
    assert client.get(runcommand_emulator.catalogue_path()).status_code == 200


def test_a_hanging_script_keeps_the_action_in_progress_until_its_90_minutes(
    runcommand_emulator: InProcessEmulator,
) -> None:
    runcommand_emulator.use_clock("manual")
    runcommand_emulator.executor.register(Outcome.hang(output="started\n"), command_id="RunShellScript")
    client = runcommand_emulator.client
    accepted = client.post(runcommand_emulator.action_path(), json={"commandId": "RunShellScript"})
    status_url, location = _local(accepted.headers["Azure-AsyncOperation"]), _local(accepted.headers["Location"])
    runcommand_emulator.clock.advance(5399)
    assert client.get(status_url).json()["status"] == "InProgress"
    assert client.get(location).status_code == 202
    runcommand_emulator.clock.advance(1)
    done = client.get(status_url).json()
    assert done["status"] == "Succeeded", "the operation ends; the result tells what happened"
    (entry,) = client.get(location).json()["value"]
    assert entry["code"] == "ProvisioningState/failed"
    assert entry["message"].startswith("Enable failed: failed to execute command: Execution timed out after 5400 s")
    assert "\n[stdout]\nstarted\n\n[stderr]\n" in entry["message"]
