"""The sign-in, subscription and resource-group services the Azure CLI needs, on the one app, in-process."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.emulator.backend import Backend, EmulatorSettings
from pytest_runcommand.emulator.identity import DEFAULT_CLIENT_ID, DEFAULT_TENANT, Directory
from pytest_runcommand.emulator.transport import asgi_client

SECRET = "emulator-secret-value"
SUB = "00000000-0000-0000-0000-000000000000"
SCOPE = "https://management.core.windows.net//.default"
TOKEN_URL = f"/{DEFAULT_TENANT}/oauth2/v2.0/token"
RC_PATH = (
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1"
    "?api-version=2024-07-01"
)


@pytest.fixture
def layer() -> EmulatorApp:
    return EmulatorApp(Backend(), directory=Directory.default(SECRET))


@pytest.fixture
def client(layer: EmulatorApp) -> Iterator[httpx.Client]:
    with asgi_client(layer) as client:
        yield client


def token_form(**overrides: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": DEFAULT_CLIENT_ID, "client_secret": SECRET}
    form["scope"] = SCOPE
    form.update(overrides)
    return {name: value for name, value in form.items() if value}


def sign_in(client: httpx.Client) -> str:
    response = client.post(TOKEN_URL, data=token_form())
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


def test_openid_configuration_points_at_the_emulator(client: httpx.Client) -> None:
    response = client.get(f"/{DEFAULT_TENANT}/v2.0/.well-known/openid-configuration")
    assert response.status_code == 200
    config = response.json()
    assert config["token_endpoint"] == f"http://testserver{TOKEN_URL}"
    assert config["issuer"] == f"http://testserver/{DEFAULT_TENANT}/v2.0"


def test_openid_configuration_of_an_unknown_tenant_is_aadsts90002(client: httpx.Client) -> None:
    response = client.get("/99999999-9999-4999-8999-999999999999/v2.0/.well-known/openid-configuration")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_tenant"
    assert body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002: Tenant '99999999-9999-4999-8999-999999999999' not found")


def test_issued_token_is_accepted_by_the_emulator(client: httpx.Client, layer: EmulatorApp) -> None:
    response = client.post(TOKEN_URL, data=token_form())
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    assert SECRET not in response.text
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    created = client.put(
        RC_PATH, headers=headers, json={"location": "westus", "properties": {"source": {"script": "echo hi"}}}
    )
    assert created.status_code == 201, created.text
    assert layer.identity.tokens_issued == 1
    assert layer.backend.run_command(
        f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1", "rc1"
    )


def test_tokens_are_unique(client: httpx.Client) -> None:
    assert sign_in(client) != sign_in(client)


def test_client_secret_basic_is_accepted(client: httpx.Client) -> None:
    basic = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{SECRET}".encode()).decode()
    form = token_form(client_id="", client_secret="")
    response = client.post(TOKEN_URL, data=form, headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "form", "status", "error", "code"),
    [
        (TOKEN_URL, {"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        (TOKEN_URL, {"client_secret": ""}, 401, "invalid_client", 7000218),
        (TOKEN_URL, {"client_id": "33333333-3333-4333-8333-333333333333"}, 400, "unauthorized_client", 700016),
        ("/44444444-4444-4444-8444-444444444444/oauth2/v2.0/token", {}, 400, "invalid_request", 90002),
        (TOKEN_URL, {"grant_type": ""}, 400, "invalid_request", 900144),
        (TOKEN_URL, {"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        (TOKEN_URL, {"scope": "https://management.core.windows.net/user_impersonation"}, 400, "invalid_scope", 1002012),
        (TOKEN_URL, {"scope": "https://vault.azure.net/.default"}, 400, "invalid_resource", 500011),
        (TOKEN_URL, {"scope": ""}, 400, "invalid_request", 900144),
    ],
    ids=["wrong-secret", "no-secret", "unknown-client", "unknown-tenant", "no-grant", "password-grant", "scope",
         "resource", "no-scope"],
)  # fmt: skip
def test_sign_in_errors_are_azure_ads(
    client: httpx.Client, path: str, form: dict[str, str], status: int, error: str, code: int
) -> None:
    response = client.post(path, data=token_form(**form))
    assert response.status_code == status
    body = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert SECRET not in response.text


def test_token_endpoint_needs_a_form_and_post(client: httpx.Client) -> None:
    as_json = client.post(TOKEN_URL, json=token_form())
    assert as_json.status_code == 400
    assert as_json.json()["error_codes"] == [900144]
    assert client.get(TOKEN_URL).status_code == 405


def test_subscriptions_list_and_get(client: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {sign_in(client)}"}
    listed = client.get("/subscriptions?api-version=2022-12-01", headers=headers).json()
    assert [sub["subscriptionId"] for sub in listed["value"]] == [SUB]
    assert listed["value"][0]["tenantId"] == DEFAULT_TENANT
    assert listed["value"][0]["state"] == "Enabled"
    one = client.get(f"/subscriptions/{SUB}?api-version=2022-12-01", headers=headers)
    assert one.json()["id"] == f"/subscriptions/{SUB}"
    tenants = client.get("/tenants?api-version=2022-12-01", headers=headers).json()
    assert [tenant["tenantId"] for tenant in tenants["value"]] == [DEFAULT_TENANT]


def test_arm_endpoints_need_a_token_and_an_api_version(client: httpx.Client) -> None:
    missing = client.get("/subscriptions?api-version=2022-12-01")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "AuthenticationFailed"
    headers = {"Authorization": f"Bearer {sign_in(client)}"}
    no_version = client.get(f"/subscriptions/{SUB}/resourcegroups/rg", headers=headers)
    assert no_version.status_code == 400
    assert no_version.json()["error"]["code"] == "MissingApiVersionParameter"


def test_resource_group_location_follows_its_vm_or_the_default(client: httpx.Client, layer: EmulatorApp) -> None:
    headers = {"Authorization": f"Bearer {sign_in(client)}"}
    layer.backend.add_vm(
        f"/subscriptions/{SUB}/resourceGroups/Seeded/providers/Microsoft.Compute/virtualMachines/v", "East US"
    )
    seeded = client.get(f"/subscriptions/{SUB}/resourcegroups/seeded?api-version=2021-04-01", headers=headers).json()
    assert seeded == {
        "id": f"/subscriptions/{SUB}/resourceGroups/Seeded",
        "name": "Seeded",
        "type": "Microsoft.Resources/resourceGroups",
        "location": "eastus",
        "properties": {"provisioningState": "Succeeded"},
    }
    other = client.get(f"/subscriptions/{SUB}/resourceGroups/other?api-version=2021-04-01", headers=headers).json()
    assert other["location"] == "westus"
    assert (
        client.head(f"/subscriptions/{SUB}/resourcegroups/other?api-version=2021-04-01", headers=headers).status_code
        == 204
    )
    listed = client.get(f"/subscriptions/{SUB}/resourcegroups?api-version=2021-04-01", headers=headers).json()
    assert [group["name"] for group in listed["value"]] == ["Seeded"]


def test_unknown_resource_group_and_subscription_without_auto_created_vms(client: httpx.Client) -> None:
    layer = EmulatorApp(Backend(EmulatorSettings(auto_create_vms=False)), directory=Directory.default(SECRET))
    with asgi_client(layer) as strict:
        headers = {"Authorization": f"Bearer {sign_in(strict)}"}
        group = strict.get(f"/subscriptions/{SUB}/resourcegroups/nope?api-version=2021-04-01", headers=headers)
        assert group.status_code == 404
        assert group.json()["error"] == {
            "code": "ResourceGroupNotFound",
            "message": "Resource group 'nope' could not be found.",
        }
        head = strict.head(f"/subscriptions/{SUB}/resourcegroups/nope?api-version=2021-04-01", headers=headers)
        assert head.status_code == 404
        other = "55555555-5555-4555-8555-555555555555"
        sub = strict.get(f"/subscriptions/{other}?api-version=2022-12-01", headers=headers)
        assert sub.status_code == 404
        assert sub.json()["error"]["code"] == "SubscriptionNotFound"
    malformed = client.get("/subscriptions/not-a-guid?api-version=2022-12-01", headers={"Authorization": "Bearer x"})
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "InvalidSubscriptionId"


def test_metadata_endpoints_describe_the_emulator_as_a_cloud(client: httpx.Client) -> None:
    metadata = client.get("http://testserver//metadata/endpoints?api-version=2022-09-01").json()  # as az asks
    assert metadata["resourceManager"] == "http://testserver/"
    assert metadata["authentication"]["loginEndpoint"] == "http://testserver"
    assert metadata["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    assert metadata["authentication"]["tenant"] == DEFAULT_TENANT


def test_other_paths_reach_the_emulator_unchanged(client: httpx.Client) -> None:
    no_token = client.get(RC_PATH)
    assert no_token.status_code == 401
    assert no_token.json()["error"]["code"] == "AuthenticationFailed"
    unknown = client.get("/nothing/here", headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "NotFound"


def test_secret_stays_out_of_repr() -> None:
    directory = Directory.default()
    assert directory.principal.client_secret not in repr(directory)
    assert len(directory.principal.client_secret) >= 24
    assert Directory.default().principal.client_secret != directory.principal.client_secret


def emulator_token(**claims: object) -> str:
    import orjson

    def segment(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()

    return f"{segment({'alg': 'none'})}.{segment(claims)}.emulator"


def test_expired_emulator_token_is_refused_as_arm_does(client: httpx.Client) -> None:
    token = emulator_token(aud="https://management.core.windows.net/", exp=1_700_000_000)
    response = client.get(RC_PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "ExpiredAuthenticationToken"
    assert error["message"].startswith("The access token expiry UTC time '11/14/2023 10:13:20 PM' is earlier than")


def test_token_for_another_resource_is_refused(client: httpx.Client) -> None:
    token = emulator_token(aud="https://vault.azure.net", exp=4_000_000_000)
    response = client.get(RC_PATH, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"


def test_sdk_credential_and_foreign_tokens_still_reach_the_emulator(client: httpx.Client) -> None:
    from pytest_runcommand.emulator.credential import EmulatorCredential

    for token in (EmulatorCredential().get_token().token, "opaque-token", "a.b.c"):
        response = client.get(RC_PATH, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, (token, response.text)
        assert response.json()["error"]["code"] == "ResourceNotFound"


def test_token_for_the_emulator_itself_is_accepted(client: httpx.Client) -> None:
    response = client.post(TOKEN_URL, data=token_form(scope="http://testserver/.default"))
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert client.get(RC_PATH, headers=headers).json()["error"]["code"] == "ResourceNotFound"
