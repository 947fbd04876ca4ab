"""The emulator over HTTP (in-process): lifecycle, ARM answers to bad input, paging, expand, secrets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pytest_runcommand.emulator.executor import Outcome
from pytest_runcommand.emulator.handles import InProcessEmulator
from pytest_runcommand.models import patch_body, put_body

SUB = "00000000-0000-0000-0000-000000000000"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
Q = "?api-version=2024-07-01"


def rc_path(name: str = "rc1", vm: str = "vm1") -> str:
    return f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{vm}/runCommands/{name}"


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


def rules_of(response: httpx.Response) -> set[tuple[str, str]]:
    """The (rule code, JSON pointer) pairs of a contract rejection's ``details``."""
    return {(detail["code"], detail.get("target", "")) for detail in error_of(response).get("details", [])}


def poll(client: httpx.Client, response: httpx.Response) -> dict[str, Any]:
    status: dict[str, Any] = client.get(response.headers["Azure-AsyncOperation"]).json()
    return status


# -- lifecycle, as recorded from Azure ------------------------------------------------------------------


def test_put_new_is_201_creating_with_async_operation(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    response = client.put(rc_path() + Q, json={"location": "westus", "properties": {"source": {}}})
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "name": "rc1",
        "id": f"{VM_ID}/runCommands/rc1",
        "type": "Microsoft.Compute/virtualMachines/runCommands",
        "location": "westus",
        "properties": {
            "source": {},
            "asyncExecution": False,
            "treatFailureAsDeploymentFailure": False,
            "timeoutInSeconds": 0,
            "provisioningState": "Creating",
        },
    }
    operation_url = response.headers["Azure-AsyncOperation"]
    assert operation_url.startswith(
        f"http://testserver/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/"
    )
    assert operation_url.endswith("&api-version=2024-07-01")
    assert response.headers["Azure-AsyncNotification"] == "Enabled"
    assert "Location" not in response.headers
    assert response.headers["Retry-After"] == "0"
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_blank_source_is_rejected_in_strict_mode_only(runcommand_emulator: InProcessEmulator) -> None:
    body = {"location": "westus", "properties": {"source": {"script": ""}}}
    response = runcommand_emulator.client.put(rc_path() + Q, json=body)
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["target"]) == ("InvalidParameter", "/properties/source")
    assert rules_of(response) == {("MISSING_SCRIPT_SOURCE", "/properties/source")}
    runcommand_emulator.backend.settings.strict = False
    assert runcommand_emulator.client.put(rc_path() + Q, json=body).status_code == 201


def test_put_existing_is_200_updating(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    response = client.put(rc_path() + Q, json={"location": "eastus"})
    assert response.status_code == 200
    assert response.json()["properties"]["provisioningState"] == "Updating"
    assert response.json()["properties"]["source"] == {}, "PUT replaces every property"
    assert response.json()["location"] == "westus", "a run command lives where its VM does"
    assert "Azure-AsyncOperation" in response.headers


def test_operation_completes_then_resource_succeeds(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(script="echo hi"))
    assert client.get(rc_path() + Q).json()["properties"]["provisioningState"] == "Creating"
    status = poll(client, created)
    assert status["status"] == "Succeeded"
    assert set(status) == {"name", "status", "startTime", "endTime"}
    assert created.headers["Azure-AsyncOperation"].split("?")[0].endswith(status["name"])
    assert client.get(rc_path() + Q).json()["properties"]["provisioningState"] == "Succeeded"


def test_operation_in_progress_for_configured_polls(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.lro_polls = 2
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(script="echo hi"))
    first, second, third = (poll(client, created) for _ in range(3))
    assert [first["status"], second["status"], third["status"]] == ["InProgress", "InProgress", "Succeeded"]
    assert "endTime" not in first
    assert "endTime" in third


def test_operation_completes_when_the_clock_moves(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.lro_polls = 100
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo hi"))
    runcommand_emulator.backend.clock.advance(15)
    assert client.get(rc_path() + Q).json()["properties"]["provisioningState"] == "Succeeded"


def test_patch_is_200_updating_and_merges(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(
        rc_path() + Q,
        json=put_body(script="echo 1", run_as_user="user1", timeout_in_seconds=60, tags={"team": "a"}),
    )
    response = client.patch(rc_path() + Q, json={"properties": {"parameters": [{"name": "arg1", "value": "f1"}]}})
    assert response.status_code == 200
    assert "Azure-AsyncOperation" in response.headers
    assert "Location" not in response.headers
    body = response.json()
    assert body["properties"]["provisioningState"] == "Updating"
    assert body["properties"]["source"] == {"script": "echo 1"}
    assert body["properties"]["runAsUser"] == "user1"
    assert body["properties"]["timeoutInSeconds"] == 60
    assert body["properties"]["parameters"] == [{"name": "arg1", "value": "f1"}]
    assert body["tags"] == {"team": "a"}, "tags not sent keep their values"
    replaced = client.patch(rc_path() + Q, json={"tags": {"team": "b"}}).json()
    assert replaced["tags"] == {"team": "b"}
    assert replaced["properties"]["parameters"] == [{"name": "arg1", "value": "f1"}]


def test_patch_replaces_the_script_source_whole(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    body = client.patch(rc_path() + Q, json=patch_body(command_id="RunShellScript")).json()
    assert body["properties"]["source"] == {"commandId": "RunShellScript"}


def test_patch_of_missing_run_command_is_404(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.patch(rc_path("nope") + Q, json=patch_body(script="x"))
    assert response.status_code == 404
    assert error_of(response)["code"] == "ResourceNotFound"


def test_get_missing_is_404_resource_not_found(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(rc_path("missing") + Q)
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "ResourceNotFound"
    assert "Microsoft.Compute/virtualMachines/runCommands/missing" in error["message"]
    assert "resource group 'rg'" in error["message"]


def test_delete_is_202_with_location_then_404(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    response = client.delete(rc_path() + Q)
    assert response.status_code == 202
    assert response.content == b""
    location = response.headers["Location"]
    assert "&monitor=true&api-version=2024-07-01" in location
    assert location.replace("&monitor=true", "") == response.headers["Azure-AsyncOperation"]
    assert client.get(rc_path() + Q).json()["properties"]["provisioningState"] == "Deleting"
    assert poll(client, response)["status"] == "Succeeded"
    assert client.get(rc_path() + Q).status_code == 404
    assert client.get(rc_path()[: -len("/rc1")] + Q).json() == {"value": []}


def test_a_write_during_a_pending_delete_is_a_conflict(runcommand_emulator: InProcessEmulator) -> None:
    """Found by fuzzing (use_after_free): a PUT or PATCH must not undo an accepted DELETE."""
    client = runcommand_emulator.client
    runcommand_emulator.backend.settings.lro_polls = 2
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    client.get(rc_path() + Q)
    deleting = client.delete(rc_path() + Q)
    assert deleting.status_code == 202
    patch = client.patch(rc_path() + Q, json={"properties": {"timeoutInSeconds": 5}})
    put = client.put(rc_path() + Q, json=put_body(script="echo 2"))
    for answer in (patch, put):
        assert answer.status_code == 409
        assert error_of(answer)["code"] == "Conflict"
    states = [poll(client, deleting)["status"] for _ in range(3)]
    assert states[-1] == "Succeeded"
    assert client.get(rc_path() + Q).status_code == 404
    assert client.put(rc_path() + Q, json=put_body(script="echo 3")).status_code == 201


def test_delete_missing_is_204_without_headers(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.delete(rc_path("never") + Q)
    assert response.status_code == 204
    assert response.content == b""
    assert "Azure-AsyncOperation" not in response.headers
    assert "Location" not in response.headers


def test_monitor_url_answers_200_once_done(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    deleted = client.delete(rc_path() + Q)
    monitor = client.get(deleted.headers["Location"])
    assert monitor.status_code == 200
    assert monitor.json()["status"] == "Succeeded"


def test_unknown_operation_is_404(runcommand_emulator: InProcessEmulator) -> None:
    url = f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/abc{Q}"
    response = runcommand_emulator.client.get(url)
    assert response.status_code == 404
    assert error_of(response)["code"] == "NotFound"


# -- reads: expand, list paging, secrets --------------------------------------------------------------------


def test_get_with_instance_view(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo hello\nWrite-Host 'world'"))
    plain = client.get(rc_path() + Q).json()
    assert "instanceView" not in plain["properties"]
    view = client.get(rc_path() + Q + "&$expand=instanceView").json()["properties"]["instanceView"]
    assert view["executionState"] == "Succeeded"
    assert view["exitCode"] == 0
    assert view["output"] == "hello\nworld\n"
    assert view["error"] == ""
    assert view["startTime"].endswith("+00:00")
    assert "endTime" in view


def test_bad_expand_is_400(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.client.put(rc_path() + Q, json=put_body(script="echo 1"))
    response = runcommand_emulator.client.get(rc_path() + Q + "&$expand=everything")
    assert response.status_code == 400
    assert error_of(response)["target"] == "$expand"


@pytest.mark.parametrize("expand", ["", "%20"])
def test_an_empty_expand_is_accepted_on_all_four_gets(runcommand_emulator: InProcessEmulator, expand: str) -> None:
    """Issue 15: the spec takes any string for ``$expand``; an empty one expands nothing (schemathesis sends it)."""
    client = runcommand_emulator.client
    vmss = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/0/runCommands"
    for item in (rc_path(), f"{vmss}/rc1"):
        assert client.put(item + Q, json=put_body(script="echo 1")).status_code == 201
    for url in (rc_path(), rc_path().rpartition("/")[0], f"{vmss}/rc1", vmss):
        response = client.get(f"{url}{Q}&$expand={expand}")
        assert response.status_code == 200, (url, response.text)
        found = response.json()
        for item in found.get("value", [found]):
            assert "instanceView" not in item["properties"], "nothing asked to be expanded"


def test_list_pages_with_next_link(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.page_size = 2
    client = runcommand_emulator.client
    for index in range(5):
        client.put(rc_path(f"rc{index}") + Q, json=put_body(script=f"echo {index}"))
    names: list[str] = []
    url: str | None = rc_path()[: -len("/rc1")] + Q
    pages = 0
    while url:
        page = client.get(url).json()
        names += [item["name"] for item in page["value"]]
        url = page.get("nextLink")
        pages += 1
    assert names == [f"rc{index}" for index in range(5)]
    assert pages == 3


def test_bad_skip_token_is_400(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(rc_path()[: -len("/rc1")] + Q + "&$skiptoken=zzz")
    assert response.status_code == 400
    assert error_of(response)["target"] == "$skiptoken"


def test_secrets_never_come_back(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    body = put_body(
        script="echo 1",
        run_as_user="admin",
        run_as_password="hunter2-secret",
        protected_parameters={"token": "s3cr3t-value"},
    )
    responses = [
        client.put(rc_path() + Q, json=body),
        client.patch(rc_path() + Q, json=patch_body(script="echo 2", run_as_password="other-secret")),
        client.get(rc_path() + Q),
        client.get(rc_path() + Q + "&$expand=instanceView"),
        client.get(rc_path()[: -len("/rc1")] + Q),
    ]
    for response in responses:
        text = response.text
        assert "hunter2-secret" not in text
        assert "other-secret" not in text
        assert "s3cr3t-value" not in text
        assert "runAsPassword" not in text
        assert "protectedParameters" not in text
    run = runcommand_emulator.executor.runs[-1]
    assert run.protected_parameters == (("token", "s3cr3t-value"),), "the script still receives them"
    assert "s3cr3t-value" not in repr(run)


def test_vmss_vm_twins(runcommand_emulator: InProcessEmulator) -> None:
    base = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss"
    base += "/virtualMachines/3"
    client = runcommand_emulator.client
    created = client.put(f"{base}/runCommands/rc1{Q}", json=put_body(command_id="RunShellScript"))
    assert created.status_code == 201
    assert created.json()["type"] == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands"
    assert created.json()["id"] == f"{base}/runCommands/rc1"
    assert client.patch(f"{base}/runCommands/rc1{Q}", json=patch_body(script="echo x")).status_code == 200
    assert [item["name"] for item in client.get(f"{base}/runCommands{Q}").json()["value"]] == ["rc1"]
    assert client.delete(f"{base}/runCommands/rc1{Q}").status_code == 202


def test_paths_are_case_insensitive_and_ids_canonical(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    created = client.put(rc_path("MyCommand") + Q, json=put_body(script="echo 1"))
    shouting = (
        f"/SUBSCRIPTIONS/{SUB}/resourcegroups/RG/PROVIDERS/microsoft.compute/VIRTUALMACHINES/VM1/runcommands/mycommand"
    )
    response = client.get(shouting + "?API-VERSION=2024-07-01")
    assert response.status_code == 200
    assert response.json()["id"] == created.json()["id"] == f"{VM_ID}/runCommands/MyCommand"
    assert response.json()["name"] == "MyCommand"
    assert client.get(shouting + "/?api-version=2024-07-01").status_code == 200, "trailing slash tolerated"


def test_all_supported_api_versions_are_served(runcommand_emulator: InProcessEmulator) -> None:
    from pytest_runcommand.contract import SUPPORTED_API_VERSIONS

    for version in ("2024-07-01", "2026-04-01", "2024-11-01", *SUPPORTED_API_VERSIONS):
        response = runcommand_emulator.client.get(rc_path("x") + f"?api-version={version}")
        assert response.status_code == 404, version
        assert error_of(response)["code"] == "ResourceNotFound"


# -- script execution through the instance view -------------------------------------------------------------


def instance_view(emulator: InProcessEmulator, name: str = "rc1") -> dict[str, Any]:
    view: dict[str, Any] = emulator.client.get(rc_path(name) + Q + "&$expand=instanceView").json()["properties"][
        "instanceView"
    ]
    return view


def test_execution_runs_pending_running_succeeded(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome(output="done\n", duration=30, start_delay=5), script="long job")
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(script="long job"))
    assert instance_view(runcommand_emulator)["executionState"] == "Pending"
    assert poll(client, created)["status"] == "InProgress", "a synchronous script holds the operation"
    runcommand_emulator.backend.clock.advance(10)
    running = instance_view(runcommand_emulator)
    assert running["executionState"] == "Running"
    assert "endTime" not in running
    runcommand_emulator.backend.clock.advance(30)
    finished = instance_view(runcommand_emulator)
    assert (finished["executionState"], finished["output"], finished["exitCode"]) == ("Succeeded", "done\n", 0)
    assert poll(client, created)["status"] == "Succeeded"


def test_failed_script_leaves_provisioning_succeeded_by_default(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.failure(2, error="boom"), command_id="RunShellScript")
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(command_id="RunShellScript"))
    assert poll(client, created)["status"] == "Succeeded"
    body = client.get(rc_path() + Q + "&$expand=instanceView").json()["properties"]
    assert body["provisioningState"] == "Succeeded"
    assert (body["instanceView"]["executionState"], body["instanceView"]["exitCode"]) == ("Failed", 2)
    assert body["instanceView"]["error"] == "boom"
    assert body["instanceView"]["statuses"][0]["level"] == "Error"


def test_treat_failure_as_deployment_failure(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.failure(1, error="bad"), script="exit 1")
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(script="exit 1", treat_failure_as_deployment_failure=True))
    status = poll(client, created)
    assert status["status"] == "Failed"
    assert status["error"]["code"] == "VMExtensionProvisioningError"
    assert client.get(rc_path() + Q).json()["properties"]["provisioningState"] == "Failed"


def test_async_execution_ends_provisioning_when_the_script_starts(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.hang(), script="serve forever")
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(script="serve forever", async_execution=True))
    assert poll(client, created)["status"] == "Succeeded"
    assert instance_view(runcommand_emulator)["executionState"] == "Running"


def test_timeout_is_honoured(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.executor.register(Outcome.hang(output="partial"), script="sleep 1000")
    client = runcommand_emulator.client
    created = client.put(rc_path() + Q, json=put_body(script="sleep 1000", timeout_in_seconds=60))
    assert poll(client, created)["status"] == "InProgress"
    runcommand_emulator.backend.clock.advance(61)
    view = instance_view(runcommand_emulator)
    assert view["executionState"] == "TimedOut"
    assert view["output"] == "partial"
    assert poll(client, created)["status"] == "Succeeded"


def test_each_put_and_patch_runs_the_script(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1", parameters={"a": "1"}))
    client.patch(rc_path() + Q, json={"properties": {"runAsUser": "bob"}})
    runs = runcommand_emulator.executor.runs
    assert [(run.script, run.parameters, run.run_as_user) for run in runs] == [
        ("echo 1", (("a", "1"),), None),
        ("echo 1", (("a", "1"),), "bob"),
    ]


# -- bad input gets ARM's answer ----------------------------------------------------------------------------


def test_no_token_is_401_authentication_failed(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(rc_path() + Q, headers={"Authorization": ""})
    assert response.status_code == 401
    assert error_of(response)["code"] == "AuthenticationFailed"
    assert "WWW-Authenticate" in response.headers


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Bearer a b", "token"])
def test_malformed_token_is_401_invalid_token(runcommand_emulator: InProcessEmulator, value: str) -> None:
    response = runcommand_emulator.client.get(rc_path() + Q, headers={"Authorization": value})
    assert response.status_code == 401
    assert error_of(response)["code"] == "InvalidAuthenticationToken"


def test_missing_api_version_is_400(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(rc_path())
    assert response.status_code == 400
    assert error_of(response)["code"] == "MissingApiVersionParameter"


def test_unsupported_api_version_lists_supported(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(rc_path() + "?api-version=2099-01-01")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "InvalidApiVersionParameter"
    assert "2024-07-01" in error["message"]
    assert "2026-04-01" in error["message"]


def test_malformed_json_is_400_invalid_request_content(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.patch(
        rc_path() + Q, content=b'{"properties": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "InvalidRequestContent"


def test_contract_violation_is_400_with_rule_code_and_target(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    response = client.patch(rc_path() + Q, json={"properties": {"timeoutInSeconds": "soon"}})
    assert response.status_code == 400
    assert (error_of(response)["code"], error_of(response)["target"]) == (
        "InvalidRequestContent",
        "/properties/timeoutInSeconds",
    )
    assert rules_of(response) == {("INVALID_TYPE", "/properties/timeoutInSeconds")}
    two_sources = client.patch(rc_path() + Q, json={"properties": {"source": {"script": "a", "commandId": "b"}}})
    assert error_of(two_sources)["code"] == "InvalidParameter"
    assert rules_of(two_sources) == {("MULTIPLE_SCRIPT_SOURCES", "/properties/source")}
    assert client.get(rc_path() + Q).json()["properties"]["source"] == {"script": "echo 1"}, "nothing changed"


def test_several_violations_are_listed_in_details(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.put(
        rc_path() + Q, json={"properties": {"timeoutInSeconds": "x", "asyncExecution": "no"}}
    )
    assert response.status_code == 400
    details = error_of(response)["details"]
    assert {detail["target"] for detail in details} >= {
        "/location",
        "/properties/timeoutInSeconds",
        "/properties/asyncExecution",
    }


def test_read_only_fields_are_rejected_in_strict_mode(runcommand_emulator: InProcessEmulator) -> None:
    body = {**put_body(script="echo 1"), "id": "/x"}
    body["properties"]["provisioningState"] = "Succeeded"
    response = runcommand_emulator.client.put(rc_path() + Q, json=body)
    assert response.status_code == 400
    assert error_of(response)["code"] == "InvalidParameter"
    assert ("READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST", "/properties/provisioningState") in rules_of(response)
    assert runcommand_emulator.client.get(rc_path() + Q).status_code == 404


def test_read_only_and_unknown_fields_are_dropped_in_lenient_mode(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.strict = False
    body = {**put_body(script="echo 1"), "id": "/x", "name": "other"}
    body["properties"]["provisioningState"] = "Succeeded"
    body["properties"]["instanceView"] = {"executionState": "Succeeded"}
    body["properties"]["madeUp"] = 1
    response = runcommand_emulator.client.put(rc_path() + Q, json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["name"] == "rc1"
    assert created["properties"]["provisioningState"] == "Creating"
    assert "madeUp" not in created["properties"]
    assert "instanceView" not in created["properties"]
    bad = runcommand_emulator.client.patch(rc_path() + Q, json={"properties": {"timeoutInSeconds": "x"}})
    assert bad.status_code == 400, "lenient mode still rejects what Azure rejects"


def test_unknown_vm_is_404_parent_resource_not_found(runcommand_emulator: InProcessEmulator) -> None:
    backend = runcommand_emulator.backend
    backend.settings.auto_create_vms = False
    backend.add_vm(VM_ID, "eastus")
    client = runcommand_emulator.client
    response = client.put(rc_path(vm="ghost") + Q, json=put_body(script="echo 1"))
    assert response.status_code == 404
    assert error_of(response)["code"] == "ParentResourceNotFound"
    assert "'ghost'" in error_of(response)["message"]
    assert client.get(rc_path(vm="ghost")[: -len("/rc1")] + Q).status_code == 404
    seeded = client.put(rc_path() + Q, json=put_body(script="echo 1"))
    assert seeded.status_code == 201
    assert seeded.json()["location"] == "eastus"


def test_oversized_body_is_413(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.max_body_bytes = 1000
    response = runcommand_emulator.client.put(rc_path() + Q, json=put_body(script="x" * 2000))
    assert response.status_code == 413
    assert error_of(response)["code"] == "RequestEntityTooLarge"


def test_the_default_body_limit_is_the_one_named_4_mib(runcommand_emulator: InProcessEmulator) -> None:
    from pytest_runcommand.contract.command import _body_limit
    from pytest_runcommand.emulator.state import MAX_BODY_BYTES, EmulatorSettings

    assert MAX_BODY_BYTES == 4 * 1024 * 1024
    assert EmulatorSettings().max_body_bytes == MAX_BODY_BYTES == _body_limit()
    assert runcommand_emulator.backend.settings.max_body_bytes == MAX_BODY_BYTES
    response = runcommand_emulator.client.put(rc_path() + Q, json=put_body(script="x" * MAX_BODY_BYTES))
    assert response.status_code == 413
    assert f"maximum size of {MAX_BODY_BYTES} bytes" in error_of(response)["message"]


def test_wrong_content_type_is_415(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.put(
        rc_path() + Q, content=b'{"location": "westus"}', headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert error_of(response)["code"] == "UnsupportedMediaType"


def test_empty_put_body_is_400(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.put(rc_path() + Q)
    assert response.status_code == 400
    assert error_of(response)["code"] == "InvalidParameter"
    assert {code for code, _ in rules_of(response)} == {"MISSING_REQUIRED_PARAMETER"}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/nothing/here", "NotFound"),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/extensions/e",
            "InvalidResourceType",
        ),
        (
            f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines//runCommands/x",
            "NotFound",
        ),
    ],
)
def test_unknown_path_is_404(runcommand_emulator: InProcessEmulator, path: str, code: str) -> None:
    response = runcommand_emulator.client.get(path + Q)
    assert response.status_code == 404
    assert error_of(response)["code"] == code


def test_unknown_method_is_405(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.post(rc_path() + Q, json={})
    assert response.status_code == 405
    assert error_of(response)["code"] == "MethodNotAllowed"
    assert response.headers["Allow"] == "DELETE, GET, PATCH, PUT"


def test_get_ignores_a_body(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.request(
        "GET", rc_path() + Q, content=b"not json", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 404


def test_correlation_id_is_echoed_and_the_client_request_id_is_not(runcommand_emulator: InProcessEmulator) -> None:
    """As recorded: ARM keeps the caller's correlation id and does not echo ``x-ms-client-request-id``."""
    response = runcommand_emulator.client.get(
        rc_path() + Q, headers={"x-ms-correlation-request-id": "corr-1", "x-ms-client-request-id": "client-1"}
    )
    assert response.headers["x-ms-correlation-request-id"] == "corr-1"
    assert "x-ms-client-request-id" not in response.headers
    assert response.headers["x-ms-request-id"]


def test_async_write_ids_and_rate_limits_are_arms(runcommand_emulator: InProcessEmulator) -> None:
    """As recorded: an async write's ``x-ms-request-id`` is its operation's id, the correlation id is another
    GUID, and every answer carries the subscription's remaining reads or writes."""
    client = runcommand_emulator.client
    written = [
        client.put(rc_path() + Q, json=put_body(script="echo 1")),
        client.patch(rc_path() + Q, json={"properties": {"timeoutInSeconds": 60}}),
        client.delete(rc_path() + Q),
    ]
    for answer, kind in zip(written, ("writes", "writes", "deletes"), strict=True):
        operation_id = answer.headers["Azure-AsyncOperation"].partition("?")[0].rpartition("/")[2]
        assert answer.headers["x-ms-request-id"] == operation_id
        assert answer.headers["x-ms-correlation-request-id"] not in (operation_id, "")
        limits = {name for name in answer.headers if name.startswith("x-ms-ratelimit-remaining-subscription-")}
        assert limits == {f"x-ms-ratelimit-remaining-subscription-{kind}"}
        assert int(answer.headers[f"x-ms-ratelimit-remaining-subscription-{kind}"]) > 0
        status = client.get(answer.headers["Azure-AsyncOperation"])
        assert int(status.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0
        assert status.headers["x-ms-request-id"] != operation_id, "a status read is a request of its own"
    listed = client.get(rc_path().rpartition("/")[0] + Q)
    assert int(listed.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0
    ids = [a.headers["x-ms-request-id"] for a in written] + [listed.headers["x-ms-correlation-request-id"]]
    assert len(set(ids)) == len(ids)


def test_monitor_url_answers_202_while_in_progress(runcommand_emulator: InProcessEmulator) -> None:
    runcommand_emulator.backend.settings.lro_polls = 1
    client = runcommand_emulator.client
    client.put(rc_path() + Q, json=put_body(script="echo 1"))
    deleted = client.delete(rc_path() + Q)
    pending = client.get(deleted.headers["Location"])
    assert pending.status_code == 202
    assert pending.content == b""
    assert pending.headers["Location"] == deleted.headers["Location"]
    assert client.get(deleted.headers["Location"]).status_code == 200


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "text/json", "Application/JSON"])
def test_json_media_types_are_accepted(runcommand_emulator: InProcessEmulator, content_type: str) -> None:
    response = runcommand_emulator.client.put(
        rc_path() + Q, content=b'{"location": "westus"}', headers={"Content-Type": content_type}
    )
    assert response.status_code == 201


def test_json_lookalike_media_type_is_415(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.put(
        rc_path() + Q, content=b'{"location": "westus"}', headers={"Content-Type": "application/jsonx"}
    )
    assert response.status_code == 415


@pytest.mark.parametrize("unknown", [1_001, 1_999, 2_200])
def test_lenient_mode_drops_a_flood_of_unknown_fields(runcommand_emulator: InProcessEmulator, unknown: int) -> None:
    """Past 1,000 violations a list holds the first 100 and a count of the rest, which cannot be dropped by pointer:
    lenient mode refused a body with 1,001 unknown fields that it took with 999. It checks the body again once the
    listed ones are dropped (about 2,000 at most), and still refuses what Azure refuses."""
    runcommand_emulator.backend.settings.strict = False
    body = put_body(script="echo 1")
    body["properties"].update({f"madeUp{i}": i for i in range(unknown)})
    response = runcommand_emulator.client.put(rc_path() + Q, json=body)
    assert response.status_code == 201, response.text
    assert not [key for key in response.json()["properties"] if key.startswith("madeUp")]
    body["properties"]["timeoutInSeconds"] = "x"
    bad = runcommand_emulator.client.put(rc_path("rc2") + Q, json=body)
    assert bad.status_code == 400
    assert "timeoutInSeconds" in bad.text


def test_lenient_mode_refuses_a_larger_flood_without_checking_it_again(
    runcommand_emulator: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More dropped fields than the passes can drop is refused after one check (no 12 checks of a 4 MB body)."""
    from pytest_runcommand.emulator import runcommands

    checks: list[str] = []
    real = runcommands.validate_request
    monkeypatch.setattr(runcommands, "validate_request", lambda *args: checks.append(args[0]) or real(*args))
    runcommand_emulator.backend.settings.strict = False
    body = put_body(script="echo 1")
    body["properties"].update({f"madeUp{i}": i for i in range(5_000)})
    response = runcommand_emulator.client.put(rc_path() + Q, json=body)
    assert response.status_code == 400
    assert "TooManyViolations" in response.text
    assert checks == ["PUT"]


@pytest.mark.parametrize("unknown", [2_201, 2_300, 5_000])
def test_a_flood_larger_than_lenient_mode_drops_is_refused_saying_so(
    runcommand_emulator: InProcessEmulator, unknown: int
) -> None:
    """Review 14, finding 10: the 400 said only "and 1000 more violation(s) of the contract, not listed" (its count
    not the body's, no rule listed). It says how many fields lenient mode would drop and how many it drops, and
    lists the first of them; nothing is stored."""
    from pytest_runcommand.emulator.runcommands import LENIENT_DROP_LIMIT

    runcommand_emulator.backend.settings.strict = False
    path = rc_path() + Q
    assert runcommand_emulator.client.put(path, json=put_body(script="echo 1")).status_code == 201
    body = {"properties": {"source": {"script": "ls"}, **{f"madeUp{i}": i for i in range(unknown)}}}
    response = runcommand_emulator.client.patch(path, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidRequestContent"
    assert error["message"] == (
        f"The request body has {unknown} properties that lenient mode would drop (unknown or read-only); it drops "
        f"at most {LENIENT_DROP_LIMIT} from one body, so the request is refused as sent."
    )
    assert error["details"][0]["target"] == "/properties/madeUp0"
    assert error["details"][-1] == {
        "code": "TooManyViolations",
        "message": f"and {unknown - 100} more violation(s) of the contract, not listed",
    }
    assert runcommand_emulator.client.get(path).json()["properties"]["source"] == {"script": "echo 1"}


@pytest.mark.parametrize("unknown", [1_001, 2_150, 2_200])
def test_lenient_mode_drops_every_field_it_lets_through(unknown: int) -> None:
    """What lenient mode accepts holds none of the fields it drops, whichever pass made the last check."""
    import orjson

    from pytest_runcommand.contract import validate_request
    from pytest_runcommand.emulator.runcommands import _lenient

    url = rc_path() + Q
    body = put_body(script="echo 1")
    body["properties"].update({f"madeUp{i}": i for i in range(unknown)})
    assert _lenient("PUT", url, body, validate_request("PUT", url, orjson.dumps(body))) == []
    assert not [key for key in body["properties"] if key.startswith("madeUp")]
