"""Keys under ``runAsPassword`` / ``protectedParameters`` are masked in fuzz reports as the validators mask them.

Review 6, finding 14: in a negative case whose ``protectedParameters[i].value`` was drawn as nested objects, the keys
inside appeared in clear in the curl line (``fuzz/redact.py mask_body`` masked leaves only), while the contract's rule
is "everything under runAsPassword or protectedParameters (except a parameter's name), keys included".
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pytest_runcommand.contract.violations import mask_value
from pytest_runcommand.fuzz.redact import MASK, mask_body, redact, response_excerpt, secret_values
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

KEY = "SentinelKey-q7Z"
"""A key under a secret: it must appear nowhere a report shows."""
NAME = "kept-name-4Rw"
CREATE = "VirtualMachineRunCommands_CreateOrUpdate"

BODIES: list[Any] = [
    {"properties": {"protectedParameters": [{"name": NAME, "value": [[{KEY: 1}]]}]}},  # the review's pointer shape
    {"properties": {"protectedParameters": [{"name": NAME, "value": {KEY: "x"}}]}},
    {"properties": {"protectedParameters": [{"name": NAME, "value": "v"}, {KEY: "x", "name": "n"}]}},
    {"properties": {"protectedParameters": {KEY: [1, 2]}}},
    {"properties": {"runAsPassword": {KEY: {"deeper": True}}}},
    {"properties": {"runAsPassword": [{KEY: None}]}},
]


@pytest.mark.parametrize("body", BODIES)
def test_a_key_under_a_secret_is_masked_as_the_validators_mask_it(body: Any) -> None:
    shown = mask_body(body)
    assert KEY not in json.dumps(shown)
    assert shown == mask_value("", body)  # the same rule as the contract's validators
    assert KEY in secret_values(body)  # masked in free text too (a violation message quoting the key)
    assert KEY not in redact(f"'{KEY}' is not a property; got {json.dumps(body)}", secret_values(body))
    assert KEY not in response_excerpt(json.dumps(body).encode(), [])


def test_a_parameter_name_stays_readable() -> None:
    body = {"properties": {"protectedParameters": [{"name": NAME, "value": {KEY: "x"}}]}}
    assert mask_body(body) == {"properties": {"protectedParameters": [{"name": NAME, "value": MASK}]}}
    assert NAME not in secret_values(body)


@pytest.mark.parametrize("body", BODIES)
def test_the_curl_line_shows_no_key_under_a_secret(body: Any) -> None:
    runner = FuzzRunner(emulator_target(), FuzzSettings(max_examples=1, stateful=False, operations=(CREATE,)))
    operation = runner.operations()[CREATE]
    names = {"subscriptionId": "s", "resourceGroupName": "g", "vmName": "v", "runCommandName": "r"}
    case = operation.Case(path_parameters=names, body={"location": "westus", **body}, media_type="application/json")
    assert KEY not in runner._curl(case, secret_values(case.body))
