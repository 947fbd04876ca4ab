"""Properties of the in-process emulator under hypothesis: nothing a client sends makes it answer 5xx, and
sequences of writes agree with a dict model. (Fuzzing with schemathesis lives in tests/fuzz/test_fuzz_emulator.py.)

Every answer is also checked by the conftest observer (contract-conforming, or a CloudError off-contract).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS, ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator.handles import InProcessEmulator

SUB = ZERO_SUBSCRIPTION_ID
NAME = st.one_of(
    st.sampled_from(["vm1", "rc1", "VM1", "0", "rc2", "vm1", "rc1", "", "a.b", "..", "%2F", "x" * 300]),
    st.sampled_from(["vm1", "rc1", "0"]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)
PATHS = [
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/runCommands/{rc}",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/runCommands/{rc}",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/runCommands/{rc}",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachines/{vm}/runCommands",
    "/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{vm}/virtualMachines/{rc}/runCommands/{rc}",
    "/subscriptions/{s}/providers/Microsoft.Compute/locations/{vm}/operations/{rc}",
    "/subscriptions/{s}/resourcegroups/{rg}/PROVIDERS/microsoft.compute/virtualmachines/{vm}/RUNCOMMANDS/{rc}/",
    "/{vm}/{rc}",
    "/",
]
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
PROPERTY = st.sampled_from(
    ["source", "parameters", "protectedParameters", "asyncExecution", "runAsUser", "runAsPassword", "timeoutInSeconds",
     "outputBlobUri", "errorBlobUri", "outputBlobManagedIdentity", "errorBlobManagedIdentity", "provisioningState",
     "instanceView", "treatFailureAsDeploymentFailure"]
)  # fmt: skip
SHAPED = st.fixed_dictionaries(
    {"properties": st.dictionaries(PROPERTY, JSON, max_size=5)},
    optional={"location": JSON, "tags": JSON, "id": JSON, "name": st.text(max_size=5)},
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(
        st.sampled_from(["none", "json", "shaped", "shaped", "bytes", "valid", "valid", "pure", "pure", "pure"])
    )
    if kind == "none":
        return None
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind in ("valid", "pure"):
        properties: dict[str, Any] = {"source": {"script": draw(st.text(max_size=30))}}
        if kind == "valid":
            properties.update(draw(st.dictionaries(PROPERTY, JSON, max_size=2)))
        return json.dumps({"location": "westus", "properties": properties}).encode()
    value: Any = draw(JSON if kind == "json" else SHAPED)
    return json.dumps(value).encode()


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    template = draw(st.sampled_from(PATHS))
    names = {key: quote(draw(NAME), safe="") for key in ("rg", "vm", "rc")}
    path = template.format(s=draw(st.sampled_from([SUB, "x"])), **names)
    query: list[tuple[str, str]] = []
    version = draw(
        st.one_of(
            st.just(DEFAULT_API_VERSION),
            st.none(),
            st.sampled_from(sorted(SUPPORTED_API_VERSIONS)),
            st.text(max_size=12),
        )
    )
    if version is not None:
        query.append((draw(st.sampled_from(["api-version", "API-Version"])), version))
    for name in draw(st.lists(st.sampled_from(["$expand", "$skiptoken", "monitor", "p", "api-version"]), max_size=3)):
        query.append(
            (name, draw(st.sampled_from(["instanceView", "1", "true", "", "-5", "99999"]) | st.text(max_size=6)))
        )
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["Bearer token"] * 20 + ["Bearer eyJ.a.b", "", "Bearer", "Basic x", None]))
    if auth is not None:
        headers["Authorization"] = auth
    content_type = draw(
        st.sampled_from(
            ["application/json"] * 4 + ["application/json; charset=utf-8", "text/json", "text/plain", "", None]
        )
    )
    if content_type is not None:
        headers["Content-Type"] = content_type
    return {
        "method": draw(st.sampled_from(["GET", "PUT", "PATCH", "DELETE"] * 3 + ["POST", "HEAD", "OPTIONS", "MERGE"])),
        "path": path,
        "params": query,
        "headers": headers,
        "content": draw(bodies()),
    }


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(request=requests())
def test_no_request_gets_a_5xx(runcommand_emulator: InProcessEmulator, request: dict[str, Any]) -> None:
    runcommand_emulator.backend.settings.max_body_bytes = 400
    client = runcommand_emulator.client
    default_headers = {"Authorization": client.headers.get("Authorization", "")}
    headers = {**default_headers, **request.pop("headers")}
    if headers.get("Authorization") == "":
        del headers["Authorization"]
    client.headers.pop("Authorization", None)
    try:
        response = client.request(request["method"], request["path"], params=request["params"], headers=headers,
                                  content=request["content"])  # fmt: skip
    finally:
        client.headers.update(default_headers)
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    assert not runcommand_emulator.app.internal_errors
    if response.status_code >= 400 and request["method"] != "HEAD":
        assert set(response.json()) == {"error"}


SCRIPT_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
SOURCE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20)
WRITABLE = st.fixed_dictionaries(
    {},
    optional={
        "source": st.one_of(
            st.builds(lambda text: {"script": text}, SOURCE_TEXT),
            st.builds(lambda text: {"commandId": text}, SOURCE_TEXT),
            st.builds(lambda text: {"scriptUri": "https://x.invalid/" + text}, st.text("abc/", max_size=8)),
        ),
        "parameters": st.lists(st.fixed_dictionaries({"name": SCRIPT_TEXT, "value": SCRIPT_TEXT}), max_size=3),
        "asyncExecution": st.booleans(),
        "runAsUser": SCRIPT_TEXT,
        "timeoutInSeconds": st.integers(min_value=0, max_value=2**31 - 1),
        "treatFailureAsDeploymentFailure": st.booleans(),
        "outputBlobUri": SCRIPT_TEXT,
    },
)
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["PUT", "PATCH", "GET", "DELETE", "POLL"]),
        st.sampled_from(["rc1", "RC1", "rc2"]),
        WRITABLE,
        st.one_of(st.none(), st.dictionaries(st.text("abc", min_size=1, max_size=3), SCRIPT_TEXT, max_size=2)),
    ),
    max_size=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(operations=OPERATIONS)
def test_sequences_match_a_reference_model(runcommand_emulator: InProcessEmulator, operations: list[Any]) -> None:
    """PUT replaces, PATCH merges (tags replaced when sent), DELETE removes: the emulator agrees with a dict model."""
    runcommand_emulator.backend.reset()
    client = runcommand_emulator.client
    base = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/"
    model: dict[str, dict[str, Any]] = {}
    last_operation: str | None = None
    for method, name, properties, tags in operations:
        key = name.lower()
        url = f"{base}{name}?api-version={DEFAULT_API_VERSION}"
        if method == "POLL":
            if last_operation is not None:
                assert client.get(last_operation).status_code == 200
            continue
        if method in ("PUT", "PATCH"):
            if method == "PUT" and "source" not in properties:
                properties = {**properties, "source": {"script": "echo"}}
            body: dict[str, Any] = {"properties": properties}
            if tags is not None:
                body["tags"] = tags
            if method == "PUT":
                body["location"] = "westus"
            response = client.request(method, url, json=body)
            if method == "PATCH" and key not in model:
                assert response.status_code == 404
                continue
            assert response.status_code == (201 if method == "PUT" and key not in model else 200), response.text
            last_operation = response.headers["Azure-AsyncOperation"]
            if method == "PUT":
                model[key] = {"properties": dict(properties), "tags": tags}
            else:
                model[key]["properties"].update(properties)
                if tags is not None:
                    model[key]["tags"] = tags
        elif method == "DELETE":
            response = client.delete(url)
            assert response.status_code == (202 if key in model else 204)
            if key in model:
                assert client.get(response.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
                del model[key]
        response = client.get(url)
        if key not in model:
            assert response.status_code == 404
            continue
        got = response.json()
        expected = model[key]
        for prop, value in expected["properties"].items():
            assert got["properties"][prop] == value, prop
        assert got.get("tags") == expected["tags"]
