"""The in-process transport's header tables keep no credential: a run's token, and any header the cassettes' rule
names a credential, are checked and encoded on each request and forgotten; the other pairs are kept (the speed win).

Before, both tables (the pairs checked against ``requests``' patterns, the pairs encoded for the ASGI scope) kept the
``Authorization`` value for the life of the process.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_runcommand.fuzz import call, inprocess
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

GET = "VirtualMachineRunCommands_GetByVirtualMachine"
CREDENTIALS = {"X-Auth-Token": "auth-token-SENTINEL-4d1", "x-ms-encryption-key": "encryption-key-SENTINEL-77a"}
KEPT = {"x-ms-client-request-id": "plain-value-kept-19c"}


@pytest.fixture
def tables(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[Any, Any], tuple[set[str], set[str]]]:
    """Empty tables for this test (the process's may be full from other tests)."""
    encoded: dict[Any, Any] = {}
    matched: tuple[set[str], set[str]] = (set(), set())
    monkeypatch.setattr(inprocess, "_ENCODED", encoded)
    monkeypatch.setattr(call, "_MATCHED", matched)
    return encoded, matched


def test_a_run_leaves_no_credential_in_the_header_tables(
    tables: tuple[dict[Any, Any], tuple[set[str], set[str]]],
) -> None:
    target = emulator_target()
    target.headers.update({**CREDENTIALS, **KEPT})
    token = target.headers["Authorization"]
    settings = FuzzSettings(max_examples=5, operations=(GET,), modes=("positive",), stateful=False)
    report = FuzzRunner(target, settings).run()
    assert report.cases >= 5
    assert 200 in report.statuses[GET] or 404 in report.statuses[GET]  # the token was sent and taken
    encoded, (names, values) = tables
    kept = {name for name, _ in encoded} | {value for _, value in encoded} | values
    for secret in (token, *CREDENTIALS.values()):
        assert secret not in kept
        assert not any(secret.encode("latin-1") in part for pair in encoded.values() for part in pair)
    assert ("x-ms-client-request-id", KEPT["x-ms-client-request-id"]) in encoded
    assert KEPT["x-ms-client-request-id"] in values
    assert {"Authorization", *CREDENTIALS} <= names  # names are no secret: still matched once


@pytest.mark.parametrize(
    "name", ["Authorization", "Proxy-Authorization", "X-Auth-Token", "x-ms-encryption-key", "Cookie", "Set-Cookie"]
)
def test_the_rule_is_the_cassettes_own(name: str) -> None:
    from pytest_runcommand.cassettes.learned import CREDENTIAL_HEADERS, credential_header

    assert inprocess.credential_header(name) is credential_header(name) is True
    assert inprocess.credential_header("Content-Type") is credential_header("Content-Type") is False
    assert all(credential_header(named) for named in CREDENTIAL_HEADERS)


def test_a_cookie_is_kept_in_no_table(tables: tuple[dict[Any, Any], tuple[set[str], set[str]]]) -> None:
    """A session cookie sent with every case (before, ``Cookie`` was no credential to the tables' rule)."""
    cookie = "session=cookie-SENTINEL-5e2"
    target = emulator_target()
    target.headers["Cookie"] = cookie
    settings = FuzzSettings(max_examples=3, operations=(GET,), modes=("positive",), stateful=False)
    assert FuzzRunner(target, settings).run().cases >= 3
    encoded, (_, values) = tables
    assert cookie not in values
    assert not any(cookie.encode("latin-1") in part for pair in encoded.values() for part in pair)
