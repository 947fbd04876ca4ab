"""The one token module: what it mints it reads back, and nothing a client sends makes the check raise anything but
ARM's 401."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.emulator.errors import ArmError
from pytest_runcommand.emulator.tokens import TokenChecker, caller_of, claims_of, fake_token, mint

OWN = "https://127.0.0.1:8443"


def token_with(payload: bytes) -> str:
    segment = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIn0.{segment}.emulator"


UNAUTHORIZED = {
    "AuthenticationFailed",
    "InvalidAuthenticationToken",
    "ExpiredAuthenticationToken",
    "InvalidAuthenticationTokenAudience",
}


def check(authorization: str | None) -> Any:
    """The checker's verdict: the claims, or the ArmError it raised (anything else fails the test)."""
    error: ArmError | None = None
    try:
        return TokenChecker().authenticate(authorization, OWN)
    except ArmError as raised:
        error = raised
    assert (error.status, error.code in UNAUTHORIZED) == (401, True), error
    orjson.dumps(error.to_wire())  # the answer can always be written
    return error


def test_minted_tokens_read_back_and_are_unique() -> None:
    claims = {"aud": "https://management.azure.com/", "exp": int(time.time()) + 60, "appid": "app"}
    first, second = mint(claims), mint(claims)
    assert first != second
    read = claims_of(first)
    assert read is not None
    assert {key: read[key] for key in claims} == claims
    assert check(f"Bearer {first}")["appid"] == "app"
    assert claims_of(fake_token(1)) == claims_of(fake_token(1)), "the credential's tokens are stable"
    assert claims_of("opaque") is None


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"upn": "ops@contoso.example", "appid": "a"}, ("ops@contoso.example", "User")),
        ({"appid": "22222222-2222-4222-8222-222222222222"}, ("22222222-2222-4222-8222-222222222222", "Application")),
        ({"sub": "pytest-runcommand-emulator"}, ("pytest-runcommand-emulator", "Application")),
        ({"upn": 5}, None),
        ({}, None),
    ],
)
def test_the_caller_a_token_names(claims: dict[str, Any], expected: tuple[str, str] | None) -> None:
    assert caller_of(claims) == expected


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_authorization_is_authentication_failed(value: str | None) -> None:
    assert check(value).code == "AuthenticationFailed"


@pytest.mark.parametrize("value", ["Basic abc", "Bearer", "Bearer a b", "bearer\ttoken", "Token x"])
def test_not_a_bearer_token_is_invalid(value: str) -> None:
    assert check(value).code == "InvalidAuthenticationToken"


@pytest.mark.parametrize("value", ["Bearer x", "bearer   x  ", "BEARER x.y.z", " Bearer \tx"])
def test_any_other_bearer_token_is_accepted(value: str) -> None:
    assert check(value) == {}


def test_a_cached_verdict_is_the_same_verdict() -> None:
    checker = TokenChecker()
    expired = "Bearer " + token_with(b'{"exp": 1}')
    for _ in range(3):
        with pytest.raises(ArmError, match="ExpiredAuthenticationToken"):
            checker.authenticate(expired, OWN)
    with pytest.raises(ArmError, match="InvalidAuthenticationToken"):
        checker.authenticate("Bearer a b", OWN)
    with pytest.raises(ArmError, match="InvalidAuthenticationToken"):
        checker.authenticate("Bearer a b", OWN)


numbers = st.one_of(
    st.integers(), st.floats(allow_nan=False), st.just(-1e20), st.just(1e308), st.integers(min_value=-(10**30))
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=10,
)
claim_sets = st.dictionaries(
    st.sampled_from(["exp", "aud", "nbf", "appid", "upn", "sub", "iss"]), json_values, max_size=5
).map(lambda claims: json.dumps(claims).encode())


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(payload=st.one_of(claim_sets, st.binary(max_size=40), json_values.map(lambda value: json.dumps(value).encode())))
def test_any_payload_of_an_emulator_token_is_accepted_or_an_arm_401(payload: bytes) -> None:
    verdict = check(f"Bearer {token_with(payload)}")
    if not isinstance(verdict, ArmError):
        assert isinstance(verdict, dict)
        expires = verdict.get("exp")
        assert expires is None or expires >= time.time() - 5


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(value=st.one_of(st.text(max_size=60), st.text(max_size=40).map(lambda text: "Bearer " + text)))
def test_any_authorization_header_is_accepted_or_an_arm_401(value: str) -> None:
    check(value)
