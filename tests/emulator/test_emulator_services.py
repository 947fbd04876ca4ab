"""One app, three services: routes, checks and errors are the same for all, in-process as over TLS."""

from __future__ import annotations

import time

import httpx
import pytest

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator import EmulatorApp, InProcessEmulator, asgi_client
from pytest_runcommand.emulator.identity import DEFAULT_CLIENT_ID, DEFAULT_TENANT
from pytest_runcommand.emulator.tokens import mint

RC = (
    f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/"
    f"runCommands/rc1?api-version={DEFAULT_API_VERSION}"
)


def test_the_in_process_fixture_checks_tokens_as_arm_does(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    expired = mint({"aud": "https://management.azure.com/", "exp": int(time.time()) - 10})
    foreign = mint({"aud": "https://vault.azure.net", "exp": int(time.time()) + 60})
    for token, code in ((expired, "ExpiredAuthenticationToken"), (foreign, "InvalidAuthenticationTokenAudience")):
        response = client.get(RC, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == code
    assert client.get(RC).json()["error"]["code"] == "ResourceNotFound", "the fixture's own token is good"


def test_the_in_process_fixture_serves_sign_in_and_subscriptions(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    config = client.get(f"/{DEFAULT_TENANT}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == f"http://testserver/{DEFAULT_TENANT}/oauth2/v2.0/token"
    listed = client.get("/subscriptions?api-version=2022-12-01").json()
    assert [sub["subscriptionId"] for sub in listed["value"]] == [ZERO_SUBSCRIPTION_ID]


def test_entra_ids_errors_go_through_the_one_error_path(runcommand_emulator: InProcessEmulator) -> None:
    form = {"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": "wrong"}
    response = runcommand_emulator.client.post(
        f"/{DEFAULT_TENANT}/oauth2/v2.0/token",
        data={**form, "scope": "https://management.azure.com/.default"},
        headers={"client-request-id": "trace-me", "x-ms-client-request-id": "arm-id"},
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["correlation_id"] == "trace-me"
    assert "wrong" not in response.text
    assert "x-ms-client-request-id" not in response.headers, "the same headers as every other answer (no echo)"
    assert response.headers["x-ms-request-id"], "the same headers as every other answer"
    assert response.headers["cache-control"] == "no-cache"


def test_a_token_answer_is_never_cached(runcommand_emulator: InProcessEmulator) -> None:
    secret = "s3cret-value"
    from pytest_runcommand.emulator.identity import Directory

    runcommand_emulator.app.directory = Directory.default(secret)
    form = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": secret,
        "scope": "https://management.azure.com/.default",
    }
    response = runcommand_emulator.client.post(f"/{DEFAULT_TENANT}/oauth2/v2.0/token", data=form)
    assert response.status_code == 200
    assert response.headers.get_list("cache-control") == ["no-store, no-cache"]


@pytest.mark.parametrize(
    "path",
    [
        f"/{DEFAULT_TENANT}/v2.0/.well-known/openid-configuration",
        "/metadata/endpoints?api-version=2022-09-01",
        "/subscriptions?api-version=2022-12-01",
        "/tenants?api-version=2022-12-01",
    ],
)
def test_without_the_azure_cli_services_only_run_commands_are_served(path: str) -> None:
    with asgi_client(EmulatorApp(azure_cli=False), headers={"Authorization": "Bearer x"}) as client:
        response = client.get(path)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NotFound"
        assert client.get(RC).json()["error"]["code"] == "ResourceNotFound"


def test_repeated_slashes_reach_only_the_discovery_routes(runcommand_emulator: InProcessEmulator) -> None:
    client = runcommand_emulator.client
    assert client.get("http://testserver//metadata/endpoints?api-version=2022-09-01").status_code == 200
    doubled = RC.replace("/runCommands/", "//runCommands/")
    response = client.get(f"http://testserver{doubled}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] in ("NotFound", "InvalidResourceType")


def test_routing_checks_the_token_before_saying_what_is_not_there(runcommand_emulator: InProcessEmulator) -> None:
    with httpx.Client(transport=runcommand_emulator.client._transport, base_url="http://testserver") as bare:
        assert bare.get("/nothing/here").status_code == 401
        assert bare.request("POST", RC).status_code == 401
        assert bare.get(f"/{DEFAULT_TENANT}/oauth2/v2.0/token").status_code == 405, "a public route needs no token"
    assert runcommand_emulator.client.request("POST", RC).status_code == 405
