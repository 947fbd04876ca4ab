"""Issue 15: whatever a request breaks, in strict and lenient mode, the top-level code is one ARM sends and each
broken rule is in ``details`` with its own code and pointer (generative)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract import RULE_CODES, SCHEMA_CODES
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.emulator.credential import fake_token
from pytest_runcommand.emulator.transport import asgi_client

ARM_CODES = {"InvalidRequestContent", "InvalidParameter", "BadRequest"}
PATH = (
    f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/"
    "runCommands/rc1?api-version=2024-07-01"
)

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.floats(allow_nan=False, allow_infinity=False)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)  # fmt: skip
properties = st.fixed_dictionaries(
    {},
    optional={
        "source": st.one_of(
            values,
            st.fixed_dictionaries({}, optional={"script": values, "commandId": values, "scriptUri": values}),
        ),
        "timeoutInSeconds": values,
        "asyncExecution": values,
        "parameters": values,
        "runAsUser": values,
        "provisioningState": values,
        "treatFailureAsDeploymentFailure": values,
    },
)
bodies = st.fixed_dictionaries({}, optional={"location": st.sampled_from(["westus", 3, None]), "properties": properties, "tags": values})  # fmt: skip


@pytest.mark.parametrize("strict", [True, False])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, method=st.sampled_from(["PUT", "PATCH"]))
def test_a_rejected_request_has_an_arm_code_and_the_rules_in_details(
    strict: bool, body: dict[str, Any], method: str
) -> None:
    app = EmulatorApp()
    app.backend.settings.strict = strict
    with asgi_client(app, headers={"Authorization": f"Bearer {fake_token(int(time.time()) + 3600)}"}) as client:
        if method == "PATCH":
            good = {"location": "westus", "properties": {"source": {"script": "echo"}}}
            assert client.put(PATH, json=good).status_code == 201
        answer = client.request(method, PATH, json=body)
    assert answer.status_code < 500, answer.text
    if answer.status_code != 400:
        return
    error = answer.json()["error"]
    if error["code"] == "LocationNotAvailableForResourceType" or error.get("target") == "location":
        return  # ARM's own check of the location, before the contract
    assert error["code"] in ARM_CODES, error
    details = error.get("details") or []
    assert details, error
    known = RULE_CODES.keys() | SCHEMA_CODES.keys()
    for item in details:
        assert item["code"] in known, item
        assert item["code"] not in ARM_CODES
    assert (error["message"], error.get("target")) == (details[0]["message"], details[0].get("target"))
