"""The validators never raise on bad input and never show a secret.

Bad input (any URL, any body, any header text) gives violations; misuse of the API (a method or URL that is not a
str, a status that is not an int, headers that are not a mapping of str to str, bytes, or a list or tuple of those)
gives a TypeError that names the argument. A sentinel secret placed under a secret property, in any shape and as any key, appears in no
violation's str, repr or dict, and a URL's user name, password and fragment appear in no message.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract import (
    SUPPORTED_API_VERSIONS,
    Violation,
    check_interactions,
    contract_failure,
    format_violations,
    validate_interaction,
    validate_request,
    validate_response,
)
from pytest_runcommand.interactions import Interaction

SECRET = "S3ntinel-d0-not-show"
PATH = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
    "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
)
VERSIONS = list(SUPPORTED_API_VERSIONS)


def url(version: str = "2024-07-01", host: str = "management.azure.com") -> str:
    return f"https://{host}{PATH}?api-version={version}"


def shown(violations: list[Violation]) -> str:
    """Everything a person or a log could see of the violations."""
    return "\n".join([format_violations(violations), *(f"{v!s}{v!r}{v.as_dict()!r}" for v in violations)])


# --- any input: never an exception -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
python_oddities = st.sampled_from(
    [set(), frozenset({1}), object(), (1, 2), {1: 2}, {"a": {None: 1}}, 10**5000, b"\xff"]
)
bodies = (
    json_values
    | python_oddities
    | st.binary(max_size=40)
    | st.text(max_size=40)
    | json_values.map(lambda v: {"properties": v})
    | json_values.map(lambda v: {"properties": {"source": v, "runAsPassword": v}})
    | json_values.map(lambda v: json.dumps(v).encode())
)
header_values = st.text(max_size=20) | st.lists(st.text(max_size=10), max_size=3) | st.binary(max_size=10)
headers = st.none() | st.dictionaries(
    st.sampled_from(["Content-Type", "Location", "x"]) | st.text(max_size=5), header_values
)
url_parts = st.sampled_from(["https://", "http://", "", "//", "https://u:p@", "https://["])
hosts = st.text(alphabet="[]:@/?#%abc.1", max_size=12)
paths = st.sampled_from([PATH, PATH.rsplit("/", 1)[0], PATH.upper(), "/", "", "/subscriptions//x"])
queries = st.sampled_from(
    ["", "?api-version=2024-07-01", "?api-version=2026-04-01", "?api-version=", "?api-version=%ff&"]
)
urls = st.builds(lambda a, b, c, d, e: a + b + c + d + e, url_parts, hosts, paths, queries, st.text(max_size=6))
methods = st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "post", ""]) | st.text(max_size=6)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(methods, urls | st.text(max_size=60), bodies, headers)
def test_validate_request_never_raises_on_bad_input(method: str, target: str, body: Any, given_headers: Any) -> None:
    found = validate_request(method, target, body, given_headers)
    assert all(isinstance(v, Violation) for v in found)
    str(found)


@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(methods, urls | st.text(max_size=60), st.integers(), bodies, headers)
def test_validate_response_never_raises_on_bad_input(
    method: str, target: str, status: int, body: Any, given_headers: Any
) -> None:
    found = validate_response(method, target, status, body, given_headers)
    assert all(isinstance(v, Violation) for v in found)
    str(found)


@pytest.mark.parametrize(
    "target",
    [
        f"https://[::1{PATH}?api-version=2024-07-01",
        f"https://a]b{PATH}?api-version=2024-07-01",
        f"https://[zz]{PATH}?api-version=2024-07-01",
        f"https://[::1]]:443{PATH}?api-version=2024-07-01",
    ],
)
def test_a_bracket_in_the_host_is_no_exception(target: str) -> None:
    assert validate_request("GET", target) == []
    assert validate_response("GET", target, 404, b'{"error": {"code": "NotFound", "message": "m"}}') == []


def deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (set(), "set"),
        (object(), "object"),
        ({1: 2}, "int"),
        (deep(100_000), "nested deeper"),
        ({"properties": {"source": deep(5_000)}}, "nested deeper"),
        ({"properties": {"timeoutInSeconds": 10**5000}}, "4,300 digits"),
        ({"properties": {"timeoutInSeconds": -(10**5000)}}, "4,300 digits"),
        ({"properties": {"source": {"script": {"x"}}}}, "set"),
        (b"[" * 100_000, "not JSON"),
        (b'{"properties": {"timeoutInSeconds": 1' + b"0" * 5000 + b"}}", "not JSON"),
        (float("nan"), "NaN is not a JSON number"),
        ({"properties": {"timeoutInSeconds": float("inf")}}, "Infinity is not a JSON number"),
        ({"tags": {"t": -float("inf")}}, "-Infinity is not a JSON number"),
        ({"properties": {"runAsUser": "\ud800"}}, "the surrogate U+D800"),
        ({"tags": {"a\udc00": "x"}}, "an object key holds the surrogate U+DC00"),
        (b'{"properties": {"runAsUser": "\\ud800"}}', "not JSON"),
    ],
    ids=[
        "set",
        "object",
        "int-key",
        "deep-100000",
        "deep-source",
        "huge-int",
        "huge-negative",
        "set-inside",
        "deep-text",
        "huge-text",
        "nan",
        "infinity",
        "minus-infinity-where-anything-goes",
        "lone-surrogate",
        "lone-surrogate-key",
        "lone-surrogate-text",
    ],
)
@pytest.mark.parametrize("side", ["request", "response"])
def test_a_body_json_cannot_carry_is_an_invalid_json_violation(body: Any, reason: str, side: str) -> None:
    if side == "request":
        found = validate_request("PATCH", url(), body)
    else:
        found = validate_response("PATCH", url(), 200, body)
    assert [v.code for v in found] == ["INVALID_JSON"]
    assert reason in found[0].message


def test_text_beyond_ascii_and_the_basic_plane_is_json_data() -> None:
    assert (
        validate_request("PATCH", url(), {"properties": {"runAsUser": "\u00e9\U0001f600"}, "tags": {"\u00e9": "x"}})
        == []
    )


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: validate_request(None, url()), "method"),  # type: ignore[arg-type]
        (lambda: validate_request("GET", None), "url"),  # type: ignore[arg-type]
        (lambda: validate_request("GET", url(), None, [("a", "b")]), "headers"),  # type: ignore[arg-type]
        (lambda: validate_request("PATCH", url(), b"{}", {"Content-Type": 1}), "Content-Type"),  # type: ignore[dict-item]
        (lambda: validate_request("PATCH", url(), b"{}", {1: "x"}), "header names"),  # type: ignore[dict-item]
        (lambda: validate_response("GET", url(), "200"), "status"),  # type: ignore[arg-type]
        (lambda: validate_response("GET", url(), True), "status"),
        (lambda: validate_response(None, url(), 200), "method"),  # type: ignore[arg-type]
        (lambda: validate_response("GET", url(), 200, b"{}", {"Location": None}), "Location"),  # type: ignore[dict-item]
        (lambda: Interaction(None, url()), "method"),  # type: ignore[arg-type]
    ],
)
def test_misuse_is_a_type_error_naming_the_argument(call: Any, argument: str) -> None:
    with pytest.raises(TypeError, match=argument):
        call()


def test_a_repeated_header_as_a_list_is_read_joined() -> None:
    found = validate_request("PATCH", url(), b'{"properties": {}}', {"Content-Type": ["text/plain", "charset=x"]})
    assert [(v.code, v.value) for v in found] == [("INVALID_CONTENT_TYPE", "text/plain, charset=x")]
    assert (
        validate_request("PATCH", url(), b'{"properties": {}}', {"Content-Type": [b"x"][:0] or ["application/json"]})
        == []
    )
    assert validate_request("PATCH", url(), b'{"properties": {}}', {"content-type": b"application/json"}) == []


@pytest.mark.parametrize(
    "value", [b"text/plain", bytearray(b"text/plain"), [b"text/plain"], (b"text/", "plain"), ("text/plain",)]
)
def test_header_values_as_bytes_in_any_container_are_read_as_latin_1(value: Any) -> None:
    """Review 13, finding 14: bytes were read but a bytearray, or bytes inside a list, was a TypeError saying "got
    list"; the rule is one: str or bytes, or a list or tuple of them."""
    found = validate_request("PATCH", url(), b'{"properties": {}}', {"Content-Type": value})
    assert [v.code for v in found] == ["INVALID_CONTENT_TYPE"]


def test_a_header_list_holding_something_else_names_what_it_holds() -> None:
    with pytest.raises(
        TypeError,
        match=r"header 'Content-Type' must be a str or bytes, or a list of them, got a list "
        r"holding a value of type int",
    ):
        validate_request("PATCH", url(), b"{}", {"Content-Type": ["application/json", 1]})  # type: ignore[list-item]


# --- secrets: never shown ------------------------------------------------------------------------------------------

keys = st.text(max_size=6).filter(lambda k: k != "name") | st.just(SECRET)
secret_shapes = st.recursive(
    st.just(SECRET) | st.just(SECRET.encode().hex()) | st.integers() | st.booleans(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
).filter(lambda v: SECRET in json.dumps(v, default=str))
protected_items = secret_shapes | st.builds(lambda v: {"name": "p", "value": v}, secret_shapes)


def with_secret(where: str, shape: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"source": {"script": "echo"}}
    if where == "runAsPassword":
        properties["runAsPassword"] = shape
    elif where == "protectedParameters":
        properties["protectedParameters"] = shape
    else:
        properties["protectedParameters"] = [{"name": "ok", "value": "v"}, shape]
    return {"location": "westus", "properties": properties}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.sampled_from(VERSIONS),
    st.sampled_from(["runAsPassword", "protectedParameters", "protected item"]),
    protected_items,
    st.sampled_from(["PUT", "PATCH"]),
)
def test_a_secret_in_any_shape_is_never_shown(version: str, where: str, shape: Any, method: str) -> None:
    body = with_secret(where, shape)
    requests = validate_request(method, url(version), body)
    responses = validate_response(method, url(version), 200, body)
    raw = validate_response(method, url(version), 200, json.dumps(body).encode(), {"Location": "https://x/y"})
    assert responses, "a secret in a response is always a violation"
    text = shown(requests + responses + raw)
    assert SECRET not in text
    assert SECRET.encode().hex() not in text


def test_a_password_object_is_masked_whole() -> None:
    body = {"properties": {"runAsPassword": {"secureValue": SECRET}}}
    found = validate_request("PATCH", url(), body)
    assert [v.code for v in found] == ["INVALID_TYPE"]
    assert SECRET not in shown(found)
    assert found[0].value == "***"


def test_a_protected_parameters_name_is_kept() -> None:
    body = {"location": "w", "properties": {"protectedParameters": [{"name": "keep-me", "value": SECRET}]}}
    found = validate_response("GET", url(), 200, body)
    assert [(v.code, v.pointer) for v in found] == [("SECRET_PROPERTY", "/properties/protectedParameters/0/value")]
    assert SECRET not in shown(found)


@pytest.mark.parametrize(
    "target",
    [
        f"https://u:{SECRET}@management.azure.com/nowhere#{SECRET}",
        f"https://{SECRET}@management.azure.com/nowhere?x={SECRET}",
        f"https://u:{SECRET}@management.azure.com{PATH}x/y?api-version=2024-07-01#{SECRET}",
        f"https://u:{SECRET}@[::1/nowhere",
    ],
)
def test_operation_not_found_shows_no_userinfo_query_or_fragment(target: str) -> None:
    found = validate_request("PUT", target, {})
    assert [v.code for v in found] == ["OPERATION_NOT_FOUND"]
    assert SECRET not in shown(found)
    assert found[0].message.startswith("no run-command operation for PUT https://")


def test_the_traffic_labels_show_no_userinfo_or_fragment() -> None:
    interaction = Interaction(
        "PATCH",
        f"https://u:{SECRET}@management.azure.com{PATH}?api-version=2024-07-01&sig={SECRET}#{SECRET}",
        request_body={"properties": {"runAsPassword": {"x": SECRET}}},
        status=200,
        response_body={"location": "w", "properties": {"runAsPassword": SECRET}},
    )
    verdicts = check_interactions([interaction])
    error = contract_failure(verdicts)
    assert error is not None
    assert SECRET not in str(error)
    assert SECRET not in shown(validate_interaction(interaction))


REAL_URL = url("2026-04-01")
mutations = st.lists(
    st.tuples(st.integers(0, len(REAL_URL)), st.sampled_from([*"[]@:/?#%\\ é\x00", "%5B", "//", "[::1]"])),
    min_size=1,
    max_size=4,
)


def mutate(text: str, edits: list[tuple[int, str]]) -> str:
    for position, insert in sorted(edits, reverse=True):
        text = text[:position] + insert + text[position:]
    return text


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(mutations, st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]))
def test_a_mutated_url_never_raises(edits: list[tuple[int, str]], method: str) -> None:
    """The issue's case: random edits of a real URL (brackets in the host among them) give violations at most."""
    target = mutate(REAL_URL, edits)
    body = {"location": "westus", "properties": {"source": {"script": "x"}}}
    for found in (
        validate_request(method, target, body, {"Content-Type": "application/json"}),
        validate_response(method, target, 200, json.dumps(body).encode(), {"Location": target}),
    ):
        assert all(isinstance(v, Violation) for v in found)
    (verdict,) = check_interactions([Interaction(method, target, status=200, response_body=b"{}")])
    assert verdict.label.startswith(f"{method} ")


@pytest.mark.parametrize(
    ("pointer", "secret", "shown_as"),
    [
        ("/properties/runAsPassword", True, "/properties/runAsPassword"),
        ("/properties/runAsPassword/secureValue", True, "/properties/runAsPassword/***"),
        ("/properties/protectedParameters/0/value", True, "/properties/protectedParameters/0/value"),
        ("/properties/protectedParameters/0/name", False, "/properties/protectedParameters/0/name"),
        ("/properties/protectedParameters/0/S3cret", True, "/properties/protectedParameters/0/***"),
        ("/properties/protectedParameters/name", True, "/properties/protectedParameters/name"),
        ("/value/2/properties/runAsPassword/0/x", True, "/value/2/properties/runAsPassword/0/***"),
        ("/properties/runAsUser", False, "/properties/runAsUser"),
        ("/properties/parameters/0/value", False, "/properties/parameters/0/value"),
    ],
)
def test_secret_pointers_and_how_they_are_shown(pointer: str, secret: bool, shown_as: str) -> None:
    from pytest_runcommand.contract.facts import is_secret_pointer
    from pytest_runcommand.contract.violations import mask_pointer

    assert is_secret_pointer(pointer) is secret
    assert mask_pointer(pointer) == shown_as
