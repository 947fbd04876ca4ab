"""observe_validations: direct calls of the validation functions are seen while active, and only then.

The functions are taken from their module (``engine.validate_request``): this very test module's own bindings are
observed by the plugin while each test runs.
"""

from __future__ import annotations

from typing import Any

import pytest_runcommand
from pytest_runcommand.contract import validate as engine
from pytest_runcommand.interactions import Interaction
from pytest_runcommand.traffic import observe_validations

URL = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"


def test_calls_through_a_module_namespace_and_the_package_are_seen() -> None:
    namespace: dict[str, Any] = {
        "validate_request": engine.validate_request,
        "validate_response": engine.validate_response,
        "validate_interaction": engine.validate_interaction,
        "unrelated": len,
    }
    seen: list[tuple[Interaction, list[Any]]] = []
    before = vars(pytest_runcommand).get("validate_response")  # the plugin observes this very test too
    with observe_validations([namespace], lambda interaction, found: seen.append((interaction, found))):
        namespace["validate_request"]("PATCH", URL, {"properties": {"source": {"script": "a", "commandId": "b"}}})
        pytest_runcommand.validate_response("GET", URL, 404, {"error": {"code": "NotFound", "message": "no"}})
        namespace["validate_interaction"](Interaction("GET", URL, status=200, response_body=b"{}"))
        kept = namespace["validate_request"]
        assert kept is not engine.validate_request  # rebound for the duration
        assert namespace["unrelated"] is len
    assert [(i.method, i.status) for i, _ in seen] == [("PATCH", None), ("GET", 404), ("GET", 200)]
    assert [v.code for v in seen[0][1]] == ["MULTIPLE_SCRIPT_SOURCES"]
    assert namespace["validate_request"] is engine.validate_request  # restored
    assert vars(pytest_runcommand).get("validate_response") is before  # the package is as it was
    kept("PATCH", URL, {"properties": {}})  # a binding kept past the end reports to nobody
    assert len(seen) == 3


def test_the_same_violations_come_back_as_without_observation() -> None:
    body = {"properties": {"timeoutInSeconds": "x", "runAsPassword": 1}}
    namespace: dict[str, Any] = {"validate_request": engine.validate_request}
    with observe_validations([namespace], lambda interaction, found: None):
        observed = namespace["validate_request"]("PATCH", URL, body, {"Content-Type": "application/json"})
    assert observed == engine.validate_request("PATCH", URL, body, {"Content-Type": "application/json"})


def test_input_of_any_type_gets_its_violations_not_an_exception() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    anything = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.binary(max_size=5), st.lists(st.integers()))
    seen: list[Interaction] = []

    @settings(deadline=None)  # a shared, loaded machine must not fail a property on time
    @given(anything, anything, anything, anything)
    def check(method: Any, url: Any, body: Any, headers: Any) -> None:
        namespace: dict[str, Any] = {"validate_request": engine.validate_request}
        try:
            expected: Any = engine.validate_request(method, url, body, headers)
        except Exception as error:  # the validator's own answer to such input: the wrapper must give the same
            expected = type(error)
        with observe_validations([namespace], lambda interaction, found: seen.append(interaction)):
            try:
                got: Any = namespace["validate_request"](method, url, body, headers)
            except Exception as error:
                got = type(error)
        assert got == expected

    check()


def test_a_function_bound_under_another_name_is_seen_too() -> None:
    namespace: dict[str, Any] = {"check_body": engine.validate_request}
    seen: list[Interaction] = []
    with observe_validations([namespace], lambda interaction, found: seen.append(interaction)):
        assert namespace["check_body"] is not engine.validate_request
        namespace["check_body"]("PATCH", URL, {"properties": {}})
    assert [i.method for i in seen] == ["PATCH"]
    assert namespace["check_body"] is engine.validate_request
