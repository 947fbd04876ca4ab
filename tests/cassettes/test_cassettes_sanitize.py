"""Sanitizer rules: each default rule by ID, idempotence, and adding/removing rules one by one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.cassettes.rules import MIN_LEARNED_LENGTH
from pytest_runcommand.cassettes.sanitize import (
    REDACTED,
    Rule,
    Sanitizer,
    default_sanitizer,
    json_field_rule,
)
from pytest_runcommand.cassettes.scan import scan_interaction, scan_text
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID, is_secret_pointer, secret_properties
from pytest_runcommand.errors import UsageError
from pytest_runcommand.interactions import Interaction

SUB = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"
SAS = "https://acct.blob.core.windows.net/scripts/run.ps1?sv=2022-11-02&sp=r&se=2030-01-01&sig=AbC%2BdEf%3D"

EXPECTED_IDS = (
    "credential-headers",
    "set-cookie",
    "run-as-password",
    "protected-parameters",
    "sas-signature",
    "oauth-token-exchange",
    "subscription-id",
    "lro-signed-query",
    "url-credentials",
    "credential-like-headers",
)


def test_default_rule_ids_are_stable() -> None:
    assert default_sanitizer().ids == EXPECTED_IDS


def test_credential_headers_keep_their_scheme() -> None:
    s = default_sanitizer()
    assert s.header("Authorization", "Bearer eyJ0eXAi.eyJhdWQi.sig") == f"Bearer {REDACTED}"
    assert s.header("authorization", "opaque") == REDACTED
    assert s.header("x-ms-authorization-auxiliary", "Bearer abc") == f"Bearer {REDACTED}"
    assert s.header("User-Agent", "azsdk-python") == "azsdk-python"


def test_set_cookie_keeps_name_and_attributes() -> None:
    value = default_sanitizer().header("Set-Cookie", "x-ms-gateway-slice=estsfd; path=/; secure; httponly")
    assert value == f"x-ms-gateway-slice={REDACTED}; path=/; secure; httponly"


def test_run_command_body_secrets() -> None:
    body = {
        "location": "westus",
        "properties": {
            "source": {"scriptUri": SAS},
            "runAsUser": "admin",
            "runAsPassword": "Pa55w0rd!",
            "protectedParameters": [{"name": "token", "value": "s3cr3t"}, {"name": "n", "value": "v"}],
            "parameters": [{"name": "visible", "value": "stays"}],
            "outputBlobUri": SAS.replace("run.ps1", "out.txt"),
            "errorBlobUri": SAS.replace("run.ps1", "err.txt"),
        },
    }
    out = json.loads(default_sanitizer().body(json.dumps(body).encode()) or b"")
    props = out["properties"]
    assert props["runAsPassword"] == REDACTED
    assert props["runAsUser"] == "admin"
    assert [p["value"] for p in props["protectedParameters"]] == [REDACTED, REDACTED]
    assert [p["name"] for p in props["protectedParameters"]] == ["token", "n"]
    assert props["parameters"] == [{"name": "visible", "value": "stays"}]
    for key in ("outputBlobUri", "errorBlobUri"):
        assert props[key].endswith(f"&sig={REDACTED}")
        assert "sp=r" in props[key]
    assert props["source"]["scriptUri"].endswith(f"sig={REDACTED}")


def test_sas_in_urls_plain_and_percent_encoded() -> None:
    s = default_sanitizer()
    assert s.url(SAS).endswith(f"&sig={REDACTED}")
    encoded = "https://x/?scriptUri=https%3A%2F%2Fa%2Fb%3Fsv%3D1%26sig%3DQWxh%2Bbw%3D%3D&x=1"
    assert "QWxh" not in s.url(encoded)
    assert s.url(encoded).endswith("&x=1")
    assert s.url("https://x/?skoid=abc&sktid=def") == f"https://x/?skoid={REDACTED}&sktid={REDACTED}"


@pytest.mark.parametrize(
    "url",
    [
        "https://acct.blob.core.windows.net/c/s.sh?sv=2022-11-02&sig%3DSentinelSig-1",  # "=" encoded, "&" not
        "https://acct.blob.core.windows.net/c/s.sh?sv=2022-11-02%26sig=SentinelSig-1",  # "&" encoded, "=" not
        "https://acct.blob.core.windows.net/c/s.sh#sv=2022-11-02&sig=SentinelSig-1",  # in a fragment
        "https://acct.blob.core.windows.net/c/s.sh#sig=SentinelSig-1",
        "https://acct.blob.core.windows.net/c/s.sh%23sig%3DSentinelSig-1",
        "https://acct.blob.core.windows.net/c/s.sh?SIG=SentinelSig-1&sv=1",
    ],
)
def test_sas_in_any_mix_of_encodings_and_in_fragments(url: str) -> None:
    sanitized = default_sanitizer().url(url)
    assert "SentinelSig" not in sanitized
    assert REDACTED in sanitized
    assert list(scan_text(sanitized, "here")) == []


def test_subscription_ids_map_to_zero_everywhere() -> None:
    s = default_sanitizer()
    url = f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg?api-version=2024-07-01"
    assert s.url(url) == url.replace(SUB, ZERO_SUBSCRIPTION_ID)
    assert s.url(url.upper()).count(ZERO_SUBSCRIPTION_ID) == 1
    body = json.dumps({"id": f"/subscriptions/{SUB}/x", "subscriptionId": SUB}).encode()
    assert SUB.encode() not in (s.body(body) or b"")
    assert (
        s.url(f"https://x/?scope=%2Fsubscriptions%2F{SUB}")
        == f"https://x/?scope=%2Fsubscriptions%2F{ZERO_SUBSCRIPTION_ID}"
    )


def test_oauth_token_exchange_form_and_response() -> None:
    s = default_sanitizer()
    form = "grant_type=client_credentials&client_id=app&client_secret=shh&client_assertion=eyJx.eyJy.z&scope=a"
    out = s.body(form, "application/x-www-form-urlencoded")
    assert isinstance(out, str)
    assert "shh" not in out
    assert "eyJx" not in out
    assert "client_id=app" in out
    token = json.dumps({"token_type": "Bearer", "access_token": "AT", "refresh_token": "RT", "id_token": "IT"})
    parsed = json.loads(s.body(token) or "")
    assert parsed == {"token_type": "Bearer", "access_token": REDACTED, "refresh_token": REDACTED, "id_token": REDACTED}


def test_arm_error_codes_are_not_mistaken_for_oauth_codes() -> None:
    body = b'{"error": {"code": "Conflict", "message": "busy"}}'
    assert default_sanitizer().body(body) is body


def test_lro_signed_query_fields() -> None:
    url = (
        f"https://management.azure.com/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/"
        "abc?p=1&api-version=2024-07-01&t=638600000000000000&c=MIIHADCCBuig&s=Zm9v&h=YmFy"
    )
    out = default_sanitizer().header("Azure-AsyncOperation", url)
    assert out.endswith(f"&t=638600000000000000&c={REDACTED}&s={REDACTED}&h={REDACTED}")
    unrelated = "https://example.com/search?s=term&h=1"
    assert default_sanitizer().url(unrelated) == unrelated


@pytest.mark.parametrize(
    "value",
    [SAS, f"/subscriptions/{SUB}/x", "Bearer abc.def", '{"runAsPassword": "x", "access_token": "y"}'],
)
def test_rules_are_idempotent(value: str) -> None:
    s = default_sanitizer()
    once = s.body(value)
    assert s.body(once) == once
    assert s.url(s.url(value)) == s.url(value)
    assert s.header("Authorization", s.header("Authorization", value)) == s.header("Authorization", value)


def test_unchanged_bodies_keep_their_bytes() -> None:
    body = b'{\r\n  "name": "rc",\r\n  "properties": {}\r\n}'
    assert default_sanitizer().body(body) is body


def test_interaction_is_pure_and_fixes_content_length() -> None:
    body = json.dumps({"properties": {"runAsPassword": "a-very-long-password"}})
    original = Interaction(
        method="PATCH",
        url=f"https://h/subscriptions/{SUB}/rc?api-version=2024-07-01",
        request_headers={"Authorization": "Bearer tok", "Content-Length": str(len(body))},
        request_body=body,
        status=200,
        response_headers={"Set-Cookie": "a=b"},
        response_body=None,
    )
    clean = default_sanitizer().interaction(original)
    assert original.request_body == body
    assert SUB in original.url
    assert clean.request_headers["Authorization"] == f"Bearer {REDACTED}"
    assert clean.request_headers["Content-Length"] == str(len(str(clean.request_body)))
    assert ZERO_SUBSCRIPTION_ID in clean.url
    assert clean.response_headers["Set-Cookie"] == f"a={REDACTED}"


def test_rules_can_be_removed_and_added_one_by_one() -> None:
    s = default_sanitizer().without("set-cookie")
    assert "set-cookie" not in s.ids
    assert s.header("Set-Cookie", "a=b") == "a=b"
    admin = json_field_rule("admin-password", "adminPassword")
    s2 = s.with_rules(admin)
    assert s2.ids[-1] == "admin-password"
    assert json.loads(s2.body('{"osProfile": {"adminPassword": "x"}}') or "") == {
        "osProfile": {"adminPassword": REDACTED}
    }
    custom = Rule("tenant-name", "hide the tenant name", text=lambda t: t.replace("contoso", "tenant"))
    assert default_sanitizer().with_rules(custom).url("https://contoso.example/") == "https://tenant.example/"


def test_rule_id_errors() -> None:
    with pytest.raises(UsageError, match=r"unknown sanitizer rule id.*nope.*known: credential-headers"):
        default_sanitizer().without("nope")
    with pytest.raises(UsageError, match="used twice"):
        default_sanitizer().with_rules(Rule("set-cookie", "again"))
    assert repr(Sanitizer()) == "Sanitizer()"


def test_a_subscription_id_seen_in_a_path_is_replaced_bare_later() -> None:
    s = default_sanitizer()
    assert s.header("x-ms-routing-request-id", f"WESTUS:{SUB}") == f"WESTUS:{SUB}"  # not known yet
    s.url(f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg")
    assert s.header("x-ms-routing-request-id", f"WESTUS:{SUB.upper()}") == f"WESTUS:{ZERO_SUBSCRIPTION_ID}"
    assert s.fresh().header("x-ms-routing-request-id", f"WESTUS:{SUB}") == f"WESTUS:{SUB}"


_LEAF = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=12).map(lambda s: f"Snt{s}")
_SHAPES = st.recursive(
    st.one_of(_LEAF, st.integers(min_value=10**15), st.none(), st.just("")),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(["name", "value", "secureValue", "x", "Name"]), children, max_size=3),
    ),
    max_leaves=8,
)


def _leaves(value: Any, pointer: str) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, f"{pointer}/{k}")]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, f"{pointer}/{i}")]
    return [(pointer, value)] if value not in (None, "") else []


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(secret_properties())),
    case=st.sampled_from(["same", "lower", "upper"]),
    shape=_SHAPES,
    depth=st.integers(min_value=0, max_value=3),
)
def test_everything_under_a_secret_property_is_redacted_whatever_its_shape(
    name: str, case: str, shape: Any, depth: int
) -> None:
    key = {"same": name, "lower": name.lower(), "upper": name.upper()}[case]
    document: Any = {key: shape, "runAsUser": "Snt-visible-user"}
    for _ in range(depth):
        document = {"properties": document}
    clean = default_sanitizer().json(document)
    text = json.dumps(clean)
    assert "Snt-visible-user" in text
    leaves = _leaves(shape, f"/{name}")
    kept = {str(leaf) for pointer, leaf in leaves if not is_secret_pointer(pointer)}
    secrets = {str(leaf).lower() for pointer, leaf in leaves if is_secret_pointer(pointer)}
    for pointer, leaf in leaves:
        if is_secret_pointer(pointer) and isinstance(leaf, str):  # a secret is gone, even where a name repeats it
            assert leaf not in text, pointer
    for leaf in kept:
        if not any(secret in leaf.lower() for secret in secrets if len(secret) >= MIN_LEARNED_LENGTH):
            assert leaf in text  # a protected parameter's name stays readable (unless it spells a secret)
    scanned = scan_interaction(Interaction("PUT", "https://h/x", request_body=json.dumps(document)), "here")
    secret_hashes = {hash(str(leaf)) for pointer, leaf in _leaves(shape, f"/{name}") if is_secret_pointer(pointer)}
    assert secret_hashes <= {f.value_hash for f in scanned}
    assert not [
        f
        for f in scan_interaction(Interaction("PUT", "https://h/x", request_body=text), "h")
        if f.detector == "secret-field"
    ]


@pytest.mark.parametrize("prefix", ["\ufeff", ""])
def test_a_json_text_behind_a_byte_order_mark_is_sanitized(prefix: str) -> None:
    body = prefix + json.dumps({"properties": {"runAsPassword": "Snt-bom-password"}})
    for value in (body, body.encode("utf-8"), body.encode("utf-16")):
        out = default_sanitizer().body(value, "application/json")
        text = out.decode("utf-8") if isinstance(out, bytes) else str(out)
        assert "Snt-bom-password" not in text
        assert json.loads(text.removeprefix("\ufeff")) == {"properties": {"runAsPassword": REDACTED}}


def test_an_interaction_with_a_compressed_body_is_sanitized_decoded() -> None:
    import gzip

    body = gzip.compress(json.dumps({"properties": {"runAsPassword": "Snt-gzip-pw"}}).encode())
    interaction = Interaction(
        method="GET",
        url="https://h/x",
        status=200,
        response_headers={"Content-Encoding": "gzip", "Content-Type": "application/json", "Content-Length": "99"},
        response_body=body,
    )
    clean = default_sanitizer().interaction(interaction)
    assert clean.response_json == {"properties": {"runAsPassword": REDACTED}}
    assert "Content-Encoding" not in clean.response_headers
    assert clean.response_headers["Content-Length"] == str(len(clean.response_body))  # type: ignore[arg-type]
    assert interaction.response_body == body  # the original is left alone


@pytest.mark.parametrize(
    "name", ["x-ms-encryption-key", "X-Auth-Token", "x-ms-token-aad-access-token", "x-ms-password", "X_Api_Secret"]
)
def test_a_header_named_like_a_credential_is_redacted_learned_and_found(name: str) -> None:
    from pytest_runcommand.cassettes.scan import scan_interaction
    from pytest_runcommand.interactions import Interaction

    token = "Sentinel-H3ader-Cred"
    sanitizer = default_sanitizer().fresh()
    assert sanitizer.header(name, token) == REDACTED
    assert sanitizer.text(f"echo {token}") == f"echo {REDACTED}"  # learned
    found = scan_interaction(Interaction("GET", "https://h/x", {name: token}, None, 200, {name: token}, None), "here")
    assert [f.detector for f in found] == ["credential-header", "credential-header"]
    assert all(token not in str(f) for f in found)
    clean = scan_interaction(Interaction("GET", "https://h/x", {name: REDACTED}, None, 200, {}, None), "here")
    assert clean == []


@pytest.mark.parametrize("name", ["Content-Type", "x-ms-request-id", "x-ms-keep-alive", "x-ms-keyvault-region"])
def test_a_header_not_named_like_a_credential_is_kept(name: str) -> None:
    assert default_sanitizer().fresh().header(name, "abcdefgh-value") == "abcdefgh-value"


def test_camel_case_tokens_and_a_plain_password_in_json_are_redacted_learned_and_found() -> None:
    import json

    from pytest_runcommand.cassettes.scan import scan_interaction
    from pytest_runcommand.interactions import Interaction

    body = {"accessToken": "Sentinel-Acc3ss", "refreshToken": "Sentinel-Refr3sh", "password": "Sentinel-Pa55w"}
    body["user"] = "ops"
    sanitizer = default_sanitizer().fresh()
    _, clean = sanitizer.message({"Content-Type": "application/json"}, json.dumps(body).encode())
    assert json.loads(clean) == {"accessToken": REDACTED, "refreshToken": REDACTED, "password": REDACTED, "user": "ops"}
    assert sanitizer.text("echo Sentinel-Acc3ss") == f"echo {REDACTED}"
    found = scan_interaction(Interaction("POST", "https://h/t", {}, None, 200, {}, json.dumps(body)), "here")
    assert sorted(f.where for f in found if f.detector == "secret-field") == [
        "here response.body /accessToken",
        "here response.body /password",
        "here response.body /refreshToken",
    ]
