"""Property-based: generated valid PATCH bodies conform, and one mutation that breaks a rule is always caught."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand import SUPPORTED_API_VERSIONS, validate_request, validate_response

URL = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
)
DIAGNOSTIC_URL = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachineScaleSets/ss/virtualMachines/0/diagnosticRunCommands/d1?api-version=2026-04-01"
)
"""A diagnostic run command shares the run-command properties model: the same bodies, the same rules."""
URLS = [URL, DIAGNOSTIC_URL]
text = st.text(min_size=1, max_size=20)
int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
parameter = st.fixed_dictionaries({"name": text, "value": st.text(max_size=20)})
identity = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"clientId": st.uuids().map(str)}),
    st.fixed_dictionaries({"objectId": st.uuids().map(str)}),
)
source = st.one_of(
    st.fixed_dictionaries({"script": text}),
    st.fixed_dictionaries({"scriptUri": text}, optional={"scriptUriManagedIdentity": identity}),
    st.fixed_dictionaries({"commandId": text}),
)
properties = st.fixed_dictionaries(
    {},
    optional={
        "source": source,
        "parameters": st.lists(parameter, max_size=3),
        "protectedParameters": st.lists(parameter, max_size=3),
        "asyncExecution": st.booleans(),
        "runAsUser": text,
        "runAsPassword": text,
        "timeoutInSeconds": int32,
        "outputBlobUri": text,
        "errorBlobUri": text,
        "outputBlobManagedIdentity": identity,
        "errorBlobManagedIdentity": identity,
        "treatFailureAsDeploymentFailure": st.booleans(),
    },
)
patch_bodies = st.fixed_dictionaries(
    {}, optional={"properties": properties, "tags": st.dictionaries(text, st.text(max_size=10), max_size=3)}
)

MUTATIONS: list[tuple[str, Any]] = [
    ("timeoutInSeconds", "sixty"),
    ("timeoutInSeconds", 2**31),
    ("asyncExecution", "yes"),
    ("provisioningState", "Succeeded"),
    ("instanceView", {}),
    ("source", {"script": "a", "commandId": "b"}),
    ("outputBlobManagedIdentity", {"clientId": "a", "objectId": "b"}),
    ("parameters", [{"name": "only-a-name"}]),
    ("runAsPasword", "typo"),
]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(patch_bodies, st.sampled_from(URLS))
def test_generated_valid_patch_bodies_conform(body: dict[str, Any], url: str) -> None:
    assert validate_request("PATCH", url, body) == []


@settings(max_examples=150, deadline=None, derandomize=True)
@given(patch_bodies, st.sampled_from(MUTATIONS), st.sampled_from(URLS))
def test_a_single_breaking_mutation_is_caught(body: dict[str, Any], mutation: tuple[str, Any], url: str) -> None:
    name, value = mutation
    broken = copy.deepcopy(body)
    broken.setdefault("properties", {})[name] = value
    violations = validate_request("PATCH", url, broken)
    assert violations, f"{name}={value!r} was not caught"
    assert all(v.pointer.startswith(f"/properties/{name}") for v in violations)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(properties, st.sampled_from(URLS))
def test_a_response_echoing_the_password_is_always_caught(props: dict[str, Any], url: str) -> None:
    props = {**props, "runAsPassword": "pw", "provisioningState": "Succeeded"}
    body = {"id": "/x", "name": "rc", "type": "t", "location": "westus", "properties": props}
    codes = {v.code for v in validate_response("GET", url, 200, body)}
    assert "SECRET_PROPERTY" in codes


# --- the fast path (guard schema) never passes what the rules or the schema would flag --------------------------------

VERSIONS = list(SUPPORTED_API_VERSIONS)
TARGETS = [(URL, version) for version in VERSIONS] + [(DIAGNOSTIC_URL, "2026-04-01")]
risky_source = st.dictionaries(
    st.sampled_from(
        ["script", "scriptUri", "commandId", "scriptUriManagedIdentity", "galleryScriptReferenceId", "scriptShell"]
    ),
    st.one_of(st.just(""), text, st.fixed_dictionaries({}, optional={"clientId": text, "objectId": text})),
)
risky_properties = st.fixed_dictionaries(
    {},
    optional={
        "source": risky_source,
        "protectedParameters": st.lists(
            st.fixed_dictionaries({"name": text, "value": st.text(max_size=3)}), max_size=2
        ),
        "runAsPassword": text,
        "provisioningState": text,
        "instanceView": st.just({}),
        "outputBlobManagedIdentity": st.fixed_dictionaries({}, optional={"clientId": text, "objectId": text}),
        "timeoutInSeconds": st.integers(),
    },
)
risky_bodies = st.fixed_dictionaries(
    {},
    optional={
        "properties": risky_properties,
        "id": text,
        "name": text,
        "location": text,
        "type": text,
        "systemData": st.fixed_dictionaries({}, optional={"createdBy": text}),
    },
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(risky_bodies, st.sampled_from(["PATCH", "PUT"]), st.sampled_from(TARGETS))
def test_request_fast_path_agrees_with_the_rules(body: dict[str, Any], method: str, target: tuple[str, str]) -> None:
    from pytest_runcommand.contract import get_contract
    from pytest_runcommand.contract.compiled import compiled as compile_contract
    from pytest_runcommand.contract.rules import REQUEST_RULES, RuleContext

    url, version = target
    contract = get_contract(version)
    match = contract.match(method, url)
    assert match is not None
    operation = match.operation
    assert operation.body_schema is not None
    compiled = compile_contract(contract)
    if compiled.validator(operation, "request", operation.body_schema, guard=True).is_valid(body):
        ctx = RuleContext(operation, "request", body, contract.definitions)
        assert [v for rule in REQUEST_RULES for v in rule(ctx)] == []
        assert compiled.validator(operation, "request", operation.body_schema).is_valid(body)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(risky_bodies, st.sampled_from(["PATCH", "PUT", "GET"]), st.sampled_from(TARGETS))
def test_response_fast_path_agrees_with_the_rules(body: dict[str, Any], method: str, target: tuple[str, str]) -> None:
    from pytest_runcommand.contract import get_contract
    from pytest_runcommand.contract.compiled import compiled as compile_contract
    from pytest_runcommand.contract.rules import RESPONSE_RULES, RuleContext

    url, version = target
    contract = get_contract(version)
    match = contract.match(method, url)
    assert match is not None
    operation = match.operation
    compiled = compile_contract(contract)
    _key, schema, guard = compiled.response_entry(operation, 200)
    assert schema is not None
    if guard.is_valid(body):
        ctx = RuleContext(operation, "response", body, contract.definitions, 200, None)
        assert [v for rule in RESPONSE_RULES for v in rule(ctx)] == []
        assert compiled.validator(operation, "200", schema).is_valid(body)
