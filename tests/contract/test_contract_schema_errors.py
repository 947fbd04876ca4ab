"""The two readings of a schema's errors give the same violations: jsonschema-rs's ``iter_errors`` (exact, but slow
past thousands of errors) and its linear ``evaluate()`` (what a body breaking more than 1,000 rules is read with).

Every schema of every api-version's contract (each operation's request body, every documented response, the monitor
answers) meets every body of the corpus (the x-ms-examples of every stored version, the recorded real traffic, the
stored shared copies when present) and hypothesis's mutations of them: same rule, message, pointer, value and order,
and the evaluation's counts by code match.
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_data import DATA

from pytest_runcommand.cassettes.readers import read_cassette
from pytest_runcommand.contract.compiled import MONITOR_SCHEMA, compiled
from pytest_runcommand.contract.document import get_contract
from pytest_runcommand.contract.evaluation import evaluation_counts, evaluation_units, reads_evaluation
from pytest_runcommand.contract.facts import API_VERSIONS
from pytest_runcommand.contract.schema_errors import error_units, unit_code, unit_violations
from pytest_runcommand.contract.violations import Violation

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
"""The stored shared references beside the repository (every api-version's examples), read when present."""
EXAMPLE_ROOTS = [DATA / "azure-rest-api-specs", SHARED / "azure-rest-api-specs"]
TRAFFIC_ROOTS = [DATA / "real-traffic", SHARED / "real-traffic"]


def _resources(value: Any, found: list[Any]) -> None:
    """Every object under ``value`` (a resource, its properties, a parameter...), the whole value first."""
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            _resources(item, found)
    elif isinstance(value, list):
        found.append(value)
        for item in value:
            _resources(item, found)


@cache
def corpus() -> tuple[Any, ...]:
    """Distinct JSON bodies and their parts: x-ms-examples (parameters and responses) and recorded traffic."""
    found: list[Any] = []
    for root in EXAMPLE_ROOTS:
        for path in sorted(root.glob("**/examples/**/*.json")):
            example = json.loads(path.read_text(encoding="utf-8-sig"))
            _resources(example.get("parameters", {}), found)
            for response in example.get("responses", {}).values():
                _resources(response.get("body"), found)
    for root in TRAFFIC_ROOTS:
        for path in sorted([*root.glob("*/*.yaml"), *root.glob("*/*.json")]):
            for interaction in read_cassette(path).interactions:
                for side in ("request_json", "response_json"):
                    with contextlib.suppress(ValueError):  # a body that is not JSON
                        _resources(getattr(interaction, side), found)
    unique = {json.dumps(body, sort_keys=True): body for body in found if body not in ({}, [])}
    return tuple(unique[key] for key in sorted(unique))


Target = tuple[str, Any, Any]


@cache
def targets() -> tuple[Target, ...]:
    """(label, validator, root schema) of each distinct schema violations are read from, in every version."""
    found: list[Target] = []
    for version in API_VERSIONS:
        contract = get_contract(version)
        validators = compiled(contract)
        for operation in contract.operations:
            schemas = [("request", operation.body_schema)] if operation.body_schema is not None else []
            schemas += [
                (key, response["schema"]) for key, response in operation.responses.items() if "schema" in response
            ]
            for key, schema in schemas:
                validator = validators.validator(operation, key, schema)
                found.append((f"{version} {operation.operation_id} {key}", validator, validators.schema_of(validator)))
            for key, response in operation.responses.items():
                if MONITOR_SCHEMA in response and key.isdigit():
                    url = operation.path.replace("{", "").replace("}", "") + f"?api-version={version}&monitor=true"
                    route = validators.response_route(operation.method, url, int(key))
                    assert route is not None
                    validator = validators.validator(route[0], route[1], route[2])
                    found.append(
                        (f"{version} {operation.operation_id} {route[1]}", validator, validators.schema_of(validator))
                    )
    distinct = {json.dumps(schema, sort_keys=True): (label, validator, schema) for label, validator, schema in found}
    return tuple(distinct.values())


def exact(validator: Any, body: Any) -> list[Violation]:
    return [v for unit in error_units(validator, body) for v in unit_violations(unit, body, "request", "op")]


def read(validator: Any, schema: Any, body: Any) -> tuple[list[Violation], Counter[str]]:
    """The violations read from the evaluation, and its counts by code."""
    entries = validator.evaluate(body).errors()
    units = evaluation_units(entries, schema, body)
    violations = [v for unit in units for v in unit_violations(unit, body, "request", "op")]
    counts: Counter[str] = Counter()
    for unit, count in evaluation_counts(entries, schema, body):
        counts[unit_code(unit)] += count
    return violations, +counts


def assert_same_reading(label: str, validator: Any, schema: Any, body: Any) -> list[Violation]:
    expected = exact(validator, body)
    violations, counts = read(validator, schema, body)
    assert violations == expected, f"{label}: {json.dumps(body)[:300]}"
    assert counts == Counter(v.code for v in expected), label
    return expected


def test_every_contract_schema_is_read_from_the_evaluation() -> None:
    assert len(targets()) > 50
    assert all(reads_evaluation(schema) for _, _, schema in targets())


def test_the_corpus_is_wide() -> None:
    assert len(corpus()) > 100


def test_both_readings_agree_on_every_corpus_body_against_every_schema() -> None:
    codes: Counter[str] = Counter()
    pairs = 0
    for label, validator, schema in targets():
        for body in corpus():
            if not validator.is_valid(body):
                pairs += 1
                codes.update(v.code for v in assert_same_reading(label, validator, schema, body))
    assert pairs > 10_000
    assert set(codes) >= {
        "OBJECT_MISSING_REQUIRED_PROPERTY",
        "OBJECT_ADDITIONAL_PROPERTIES",
        "INVALID_TYPE",
        "ENUM_MISMATCH",
        "ANY_OF",
    }, codes


ODD_VALUES = st.sampled_from(
    [0, -1, 2**31, -(2**31) - 1, 2**70, 1.5, True, False, None, "", "x", "2024-01-01", "not a date", "Succeeded",
     "a/b~c", [], [1, "a"], {}, {"unknown": 1}, {"name": 1}, {"name": "n", "value": 2}]
).map(copy.deepcopy)  # fmt: skip
KEYS = st.sampled_from(["extra", "a/b", "t~0", "", "name", "value", "script", "properties", "tags", "Pässword"])


def _places(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*at, index))


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A corpus body with a few places changed: a value replaced, a key removed or added, a list grown."""
    body = copy.deepcopy(draw(st.sampled_from(corpus())))
    for _ in range(draw(st.integers(1, 6))):
        places = list(_places(body))
        at = draw(st.sampled_from(places))
        if not at:
            if isinstance(body, dict):
                body[draw(KEYS)] = draw(ODD_VALUES)
            continue
        parent = body
        for token in at[:-1]:
            parent = parent[token]
        action = draw(st.sampled_from(["replace", "remove", "add", "grow"]))
        here = parent[at[-1]]
        if action == "remove" and isinstance(parent, dict):
            del parent[at[-1]]
        elif action == "add" and isinstance(here, dict):
            here[draw(KEYS)] = draw(ODD_VALUES)
        elif action == "grow" and isinstance(here, list):
            here.extend(draw(st.lists(ODD_VALUES, max_size=3)))
        else:
            parent[at[-1]] = draw(ODD_VALUES)
    return body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=mutated(), which=st.integers(0, 10**6))
def test_both_readings_agree_on_mutated_bodies(body: Any, which: int) -> None:
    label, validator, schema = targets()[which % len(targets())]
    if not validator.is_valid(body):
        assert_same_reading(label, validator, schema, body)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_a_list_of_broken_items_reads_the_same(count: int) -> None:
    """Many units in one array and one object, in the order iter_errors gives them."""
    validators = compiled(get_contract("2024-07-01"))
    operation = validators.contract.by_id["VirtualMachineRunCommands_Update"]
    assert operation.body_schema is not None
    validator = validators.validator(operation, "request", operation.body_schema)
    schema, label = validators.schema_of(validator), "2024-07-01 VirtualMachineRunCommands_Update request"
    body = {
        "zz": 1,
        "tags": {f"k{i}": i for i in range(count)},
        "properties": {"parameters": [{"name": i, "extra": 1} for i in range(count)], "timeoutInSeconds": 2**40},
    }
    found = assert_same_reading(label, validator, schema, body)
    assert "INVALID_FORMAT" in {v.code for v in found}
    assert (found[-1].code, found[-1].pointer) == ("OBJECT_ADDITIONAL_PROPERTIES", "/zz")  # the root's own: last
