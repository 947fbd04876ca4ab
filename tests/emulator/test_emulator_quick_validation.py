"""The emulator's quick yes (``contract.validate.request_conforms``) never says yes where ``validate_request`` finds
a violation, and says yes to the usual conforming bodies (else it would save nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract import validate_request
from pytest_runcommand.contract.validate import request_conforms

RC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1"
)
ACTION = RC.rpartition("/runCommands")[0] + "/runCommand"
VERSIONS = ("2024-07-01", "2025-04-01", "2026-04-01")
GOOD = {
    ("PUT", RC): {"location": "westus", "properties": {"source": {"script": "echo"}, "timeoutInSeconds": 5}},
    ("PATCH", RC): {"properties": {"source": {"script": "echo"}, "parameters": [{"name": "a", "value": "b"}]}},
    ("POST", ACTION): {"commandId": "RunShellScript", "script": ["echo"]},
    ("GET", RC): None,
    ("DELETE", RC): None,
}

keys = st.sampled_from(
    [
        "location",
        "properties",
        "tags",
        "source",
        "script",
        "scriptUri",
        "commandId",
        "timeoutInSeconds",
        "runAsUser",
        "provisioningState",
        "parameters",
        "name",
        "value",
        "scriptShell",
        "galleryScriptReferenceId",
        "asyncExecution",
    ]
)
bodies = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**40) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("method", "path"), list(GOOD))
def test_a_conforming_request_gets_the_quick_yes(method: str, path: str, version: str) -> None:
    url = f"{path}?api-version={version}"
    body = GOOD[(method, path)]
    sent = json.dumps(body).encode() if body is not None else None
    assert validate_request(method, url, sent) == []
    check = request_conforms(method, url)
    assert check is not None
    assert check(body)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    case=st.sampled_from(list(GOOD)),
    version=st.sampled_from(VERSIONS),
    body=st.one_of(bodies, st.sampled_from([v for v in GOOD.values() if v is not None])),
)
def test_the_quick_yes_never_hides_a_violation(case: tuple[str, str], version: str, body: Any) -> None:
    method, path = case
    url = f"{path}?api-version={version}"
    check = request_conforms(method, url)
    assert check is not None
    if check(body):
        sent = json.dumps(body).encode() if body is not None else None
        assert validate_request(method, url, sent) == []


@pytest.mark.parametrize(
    ("method", "url"),
    [("PATCH", f"{RC}?api-version=1999-01-01"), ("PATCH", f"{RC}"), ("PURGE", f"{RC}?api-version=2024-07-01")],
)
def test_a_request_line_the_contract_refuses_gets_no_quick_yes(method: str, url: str) -> None:
    assert request_conforms(method, url) is None
