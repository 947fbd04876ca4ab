"""Never a 5xx, never a dropped connection, no change without an answer: the served emulator under hostile input.

Every case runs against the real uvicorn server over TLS on loopback (the ``runcommand_emulator_server`` fixture, whose
answers the conftest also checks against the contract). The last test is the property over arbitrary requests.
"""

from __future__ import annotations

import base64
import gzip
import json
import string
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS, ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator import InProcessEmulator, ServedEmulator
from pytest_runcommand.emulator.backend import Backend
from pytest_runcommand.emulator.errors import MAX_DETAILS
from pytest_runcommand.emulator.identity import DEFAULT_CLIENT_ID, DEFAULT_TENANT

VM = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
RUN_COMMANDS = VM + "/runCommands"
VERSION = f"api-version={DEFAULT_API_VERSION}"
BODY = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}


def state_of(backend: Backend) -> Any:
    """What a request may change: VMs, their run commands (properties, tags, latest operation), the script runs."""
    vms = []
    for vm in backend.vms:
        commands = []
        for command in list(vm.run_commands.values()):
            properties = command.properties.model_dump(mode="json", exclude_unset=True)
            operation = command.operation.id if command.operation is not None else None
            commands.append((command.name, json.dumps(properties, sort_keys=True), command.tags, operation))
        vms.append((vm.ref.key, vm.location, tuple(commands)))
    runs = len(getattr(backend.executor, "runs", ()))
    return tuple(vms), backend.operation_count, runs


def error_code(response: httpx.Response) -> str:
    """The error code an answer carries, if any (for the statistics of the property test)."""
    if response.status_code < 400 or not response.content:
        return ""
    error = response.json().get("error")
    return str(error.get("code")) if isinstance(error, dict) else str(error)


def assert_cloud_error(response: httpx.Response, status: int, *codes: str) -> dict[str, Any]:
    __tracebackhide__ = True
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert isinstance(error["message"], str)
    assert error["code"] in codes, error
    return dict(error)


@pytest.fixture
def client(runcommand_emulator_server: ServedEmulator) -> Any:
    with runcommand_emulator_server.client() as client:
        yield client


@pytest.mark.parametrize("token", ["%C2%B2", "9" * 5000, "-1", "1e3", "%EF%BC%91", " 1", "0x1"])
def test_a_skiptoken_that_is_no_plain_number_is_a_400(client: httpx.Client, token: str) -> None:
    client.put(f"{RUN_COMMANDS}/rc1?{VERSION}", json=BODY)
    response = client.get(f"{RUN_COMMANDS}?{VERSION}&$skiptoken={token}")
    assert_cloud_error(response, 400, "InvalidParameter")


def token_with(payload: bytes) -> str:
    def segment(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{segment(b'{}')}.{segment(payload)}.emulator"


@pytest.mark.parametrize(
    "payload",
    [
        b'{"exp": -1e20, "aud": "https://management.azure.com/"}',
        b'{"exp": -1e308}',
        b'{"exp": 1e400}',
        b'{"exp": -99999999999999999999999999999}',
        b'{"exp": "tomorrow"}',
        b'{"exp": true}',
        b'{"exp": null, "aud": 5}',
        b'{"aud": ["https://management.azure.com/"]}',
        b"[1, 2]",
        b'"claims"',
        b"not json",
        b"\xff\xfe",
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_a_hostile_token_is_an_arm_401(client: httpx.Client, payload: bytes) -> None:
    response = client.get(f"{RUN_COMMANDS}/rc1?{VERSION}", headers={"Authorization": f"Bearer {token_with(payload)}"})
    assert_cloud_error(response, 401, "ExpiredAuthenticationToken", "InvalidAuthenticationToken")


def test_an_expired_token_far_in_the_past_names_its_time(client: httpx.Client) -> None:
    token = token_with(b'{"exp": -1e20, "aud": "https://management.azure.com/"}')
    response = client.get(f"{RUN_COMMANDS}/rc1?{VERSION}", headers={"Authorization": f"Bearer {token}"})
    error = assert_cloud_error(response, 401, "ExpiredAuthenticationToken")
    assert "'1/1/1 12:00:00 AM'" in error["message"]


@pytest.mark.parametrize(
    "location", ["y\u0000z", "y\rz", "y\nz", "wést", "東京", "x/y", "   ", "", "a?b", "a#b", "a%0Db"]
)
def test_a_put_with_a_location_arm_refuses_is_a_400_that_changes_nothing(
    runcommand_emulator_server: ServedEmulator, client: httpx.Client, location: str
) -> None:
    before = state_of(runcommand_emulator_server.backend)
    response = client.put(f"{RUN_COMMANDS}/rc1?{VERSION}", json={**BODY, "location": location})
    assert_cloud_error(response, 400, "LocationNotAvailableForResourceType", "OBJECT_MISSING_REQUIRED_PROPERTY")
    assert state_of(runcommand_emulator_server.backend) == before
    assert runcommand_emulator_server.backend.vms == [], "no VM comes into being either"


def test_a_region_with_spaces_and_capitals_is_a_location(client: httpx.Client) -> None:
    response = client.put(f"{RUN_COMMANDS}/rc1?{VERSION}", json={**BODY, "location": "West US 2"})
    assert response.status_code == 201, response.text
    assert "/locations/westus2/operations/" in response.headers["Azure-AsyncOperation"]


SEGMENTS = ["%00", "%0D", "%0A", "a%0Db", "%C3%A9", "%E6%9D%B1", "a%2Fb", "a%3Fb", "%7F"]


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("where", ["subscription", "resourceGroup", "vm", "runCommand"])
def test_a_path_name_arm_could_not_hold_is_a_400_before_any_change(
    runcommand_emulator_server: ServedEmulator, client: httpx.Client, segment: str, where: str
) -> None:
    names = {"subscription": ZERO_SUBSCRIPTION_ID, "resourceGroup": "rg", "vm": "vm1", "runCommand": "rc1"}
    names[where] = segment
    path = (
        f"/subscriptions/{names['subscription']}/resourceGroups/{names['resourceGroup']}/providers/"
        f"Microsoft.Compute/virtualMachines/{names['vm']}/runCommands/{names['runCommand']}?{VERSION}"
    )
    before = state_of(runcommand_emulator_server.backend)
    for method, body in (("PUT", BODY), ("PATCH", {"properties": {"timeoutInSeconds": 5}}), ("DELETE", None)):
        response = client.request(method, path, json=body)
        # "a%2Fb" too: an encoded slash stays in its name (it was decoded into one segment more, a 404)
        assert_cloud_error(response, 400, "InvalidResourceName", "InvalidSubscriptionId")
    assert state_of(runcommand_emulator_server.backend) == before


def test_reading_an_unknown_vm_leaves_no_vm_behind(
    runcommand_emulator_server: ServedEmulator, client: httpx.Client
) -> None:
    assert client.get(f"{RUN_COMMANDS}/rc1?{VERSION}").status_code == 404
    assert client.get(f"{RUN_COMMANDS}?{VERSION}").json() == {"value": []}
    assert client.delete(f"{RUN_COMMANDS}/rc1?{VERSION}").status_code == 204
    assert runcommand_emulator_server.backend.vms == []


def test_header_values_the_client_sent_are_echoed_safely(client: httpx.Client) -> None:
    sent = {"x-ms-client-request-id": "caf\u00e9 1".encode("latin-1"), "x-ms-correlation-request-id": b"\xff"}
    response = client.get(f"{RUN_COMMANDS}/rc1?{VERSION}", headers=sent)
    assert response.status_code == 404
    assert "x-ms-client-request-id" not in response.headers  # not echoed, as recorded
    assert response.headers["x-ms-correlation-request-id"] == "%C3%BF"


# -- the property -------------------------------------------------------------------------------------------------

LITERALS = [
    "subscriptions",
    ZERO_SUBSCRIPTION_ID,
    "resourceGroups",
    "rg",
    "providers",
    "Microsoft.Compute",
    "virtualMachines",
    "virtualMachineScaleSets",
    "vm1",
    "0",
    "runCommands",
    "rc1",
    "locations",
    "westus",
    "operations",
    "tenants",
    "resourcegroups",
    "metadata",
    "endpoints",
    "oauth2",
    "v2.0",
    "token",
    "",
]
VM_PATH = ["subscriptions", ZERO_SUBSCRIPTION_ID, "resourceGroups", "rg", "providers", "Microsoft.Compute"]
RC_PATH = [*VM_PATH, "virtualMachines", "vm1", "runCommands"]

segments = st.one_of(
    st.sampled_from(LITERALS), st.text(max_size=12).map(lambda text: quote(text, safe="")), st.just("%00")
)
names = st.one_of(st.sampled_from(["rc1", "rc2", "RC1", "%0D", "a%C3%A9", "%00x"]), segments)
paths = st.one_of(
    st.builds(lambda name: "/" + "/".join([*RC_PATH, name]), names),  # weighted: mostly a run command
    st.builds(lambda name: "/" + "/".join([*RC_PATH, name]), names),
    st.builds(lambda name: "/" + "/".join([*RC_PATH, name]), names),
    st.just("/" + "/".join(RC_PATH)),
    st.builds(
        lambda sub, loc, op: f"/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{op}",
        st.sampled_from([ZERO_SUBSCRIPTION_ID, "%0D"]),
        st.sampled_from(["westus", "%C3%A9"]),
        segments,
    ),
    st.lists(segments, max_size=12).map(lambda parts: "/" + "/".join(parts)),
    st.sampled_from(  # the identity and resources services
        [
            f"/{DEFAULT_TENANT}/oauth2/v2.0/token",
            f"/{DEFAULT_TENANT}/v2.0/.well-known/openid-configuration",
            "/tenants",
            "/subscriptions",
            f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourcegroups/rg",
            "//metadata/endpoints",
        ]
    ),
)
query_values = st.one_of(
    st.sampled_from([*SUPPORTED_API_VERSIONS, "", "1999-01-01", "instanceView", "true", "2", "%C2%B2"]),
    st.text(max_size=20).map(lambda text: quote(text, safe="")),
)
query_names = st.sampled_from(["api-version", "API-Version", "$expand", "$skiptoken", "monitor", "p", "x"])
extra_pairs = st.lists(st.tuples(query_names, query_values), max_size=3)
queries = st.one_of(
    st.builds(
        lambda version, pairs: [("api-version", version), *pairs],
        st.sampled_from(sorted(SUPPORTED_API_VERSIONS)),
        extra_pairs,
    ),
    st.builds(
        lambda version, pairs: [("api-version", version), *pairs],
        st.sampled_from(sorted(SUPPORTED_API_VERSIONS)),
        extra_pairs,
    ),
    extra_pairs,
).map(lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)
header_values = st.one_of(
    header_text.map(lambda text: text.strip(" \t").encode("latin-1")),
    st.sampled_from(
        [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "Bearer x",
            "Bearer",
            "Basic Og==",
            "gzip",
            "Bearer a b",
        ]
    ),
)
header_names = st.sampled_from(
    ["Content-Type", "x-ms-client-request-id", "x-ms-correlation-request-id", "If-Match", "Accept", "Content-Encoding"]
)
headers = st.one_of(
    st.dictionaries(header_names, header_values, max_size=2).map(lambda h: {**h, "Content-Type": "application/json"}),
    st.dictionaries(header_names, header_values, max_size=2).map(lambda h: {**h, "Content-Type": "application/json"}),
    st.dictionaries(st.one_of(header_names, st.just("Authorization")), header_values, max_size=3),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3),
    max_leaves=12,
)
fields = st.sampled_from(["location", "properties", "tags", "source", "script", "runAsPassword", "name", "id"])
scripts = st.one_of(st.just("echo hi"), json_values)
run_command_like = st.fixed_dictionaries(
    {"location": st.one_of(st.just("westus"), st.just("West US 2"), st.text(max_size=8))},
    optional={
        "properties": st.fixed_dictionaries(
            {"source": st.dictionaries(st.sampled_from(["script", "commandId", "scriptUri"]), scripts, max_size=2)},
            optional={"timeoutInSeconds": st.one_of(st.integers(0, 100), json_values), "runAsUser": json_values},
        ),
        "tags": st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), json_values), max_size=2),
    },
)
valid_bodies = st.builds(
    lambda script, timeout, tags: json.dumps(
        {"location": "westus", "properties": {"source": {"script": script}, "timeoutInSeconds": timeout}, "tags": tags}
    ).encode(),
    st.sampled_from(["echo hi", "Write-Host x"]),
    st.integers(0, 100),
    st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "2"]), max_size=1),
)
bodies = st.one_of(
    valid_bodies,
    valid_bodies,
    valid_bodies,
    run_command_like.map(lambda data: json.dumps(data).encode()),
    run_command_like.map(lambda data: json.dumps(data).encode()),
    run_command_like.map(lambda data: json.dumps(data).encode()),
    st.none(),
    st.binary(max_size=64),
    st.dictionaries(fields, json_values, max_size=4).map(lambda data: json.dumps(data).encode()),
    st.dictionaries(  # a sign-in form
        st.sampled_from(["grant_type", "client_id", "client_secret", "scope"]),
        st.one_of(
            st.sampled_from(["client_credentials", DEFAULT_CLIENT_ID, "https://management.azure.com/.default"]),
            st.text(max_size=12),
        ),
    ).map(lambda form: urlencode(form).encode()),
)
methods = st.sampled_from(["PUT", "PUT", "PATCH", "PATCH", "GET", "DELETE", "POST", "HEAD", "OPTIONS", "FOO"])


def exchange(
    emulator: ServedEmulator, method: str, path: str, query: str, sent_headers: dict[str, Any], body: bytes | None
) -> None:
    """Send one request to the served emulator: an answer below 500 comes back, and a refused one changed nothing."""
    backend = emulator.backend
    tokens_issued = emulator.app.identity.tokens_issued
    # time stands still: with the per-request clock a request can be the one that completes an earlier case's DELETE,
    # a change of state that is time passing, not the request (its 404 then is right)
    emulator.use_clock("manual")
    with emulator.client() as client:
        before = state_of(backend)
        url = f"{emulator.base_url}{path}{'?' + query if query else ''}"
        try:
            response = client.request(method, url, headers=sent_headers, content=body)
        except httpx.LocalProtocolError:  # the client refused to send it: not a request the server saw
            reject()
        except httpx.TransportError as error:  # a dropped connection, or no answer at all
            pytest.fail(f"{method} {url} got no answer: {error!r}")
    event(f"{method} -> {response.status_code} {error_code(response)}")
    assert response.status_code < 500, (method, url, response.text)
    if response.status_code >= 400:
        assert state_of(backend) == before, f"{method} {url} answered {response.status_code} and changed state"
        assert emulator.app.identity.tokens_issued == tokens_issued
        if method != "HEAD":
            assert isinstance(response.json()["error"], dict | str), response.text
    assert not emulator.app.internal_errors, emulator.app.internal_errors[0]


SERVED = settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SERVED
@given(method=methods, path=paths, query=queries, sent_headers=headers, body=bodies)
def test_any_request_gets_an_answer_below_500_and_a_refused_one_changes_nothing(
    runcommand_emulator_server: ServedEmulator,
    method: str,
    path: str,
    query: str,
    sent_headers: dict[str, Any],
    body: bytes | None,
) -> None:
    exchange(runcommand_emulator_server, method, path, query, sent_headers, body)


@SERVED
@given(
    method=st.sampled_from(["PUT", "PUT", "PUT", "PATCH", "PATCH", "GET", "DELETE"]),
    name=st.one_of(st.sampled_from(["rc1", "rc2"]), names),
    version=st.one_of(*[st.sampled_from(sorted(SUPPORTED_API_VERSIONS))] * 4, query_values),
    extra=st.lists(st.tuples(st.sampled_from(["$expand", "$skiptoken", "monitor", "x"]), query_values), max_size=2),
    sent_headers=st.dictionaries(header_names, header_values, max_size=2),
    body=st.one_of(valid_bodies, valid_bodies, run_command_like.map(lambda data: json.dumps(data).encode()), bodies),
)
def test_any_run_command_write_gets_an_answer_below_500_and_a_refused_one_changes_nothing(
    runcommand_emulator_server: ServedEmulator,
    method: str,
    name: str,
    version: str,
    extra: list[tuple[str, str]],
    sent_headers: dict[str, Any],
    body: bytes | None,
) -> None:
    """The same property, drawn close to the run-command surface, so that many writes succeed and many just fail."""
    query = "&".join(f"{key}={value}" for key, value in [("api-version", version), *extra])
    headers = {"Content-Type": "application/json", **sent_headers}
    exchange(runcommand_emulator_server, method, "/" + "/".join([*RC_PATH, name]), query, headers, body)


def test_printable_is_what_header_values_are_made_of() -> None:
    from pytest_runcommand.emulator.asgi import header_value

    for value in ["plain", "caf\u00e9", "a\r\nb", "\x00", "\U0001f600", string.printable]:
        encoded = header_value(value)
        assert all(0x20 <= byte < 0x7F for byte in encoded), (value, encoded)


# -- the classes, generatively (in-process: many cases, cheaply) --------------------------------------------------


def printable(headers: httpx.Headers) -> bool:
    return all(0x20 <= byte < 0x7F for _, value in headers.raw for byte in value)


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(location=st.text(max_size=12))
def test_any_location_is_a_region_or_a_400_that_changes_nothing(
    runcommand_emulator: InProcessEmulator, location: str
) -> None:
    emulator = runcommand_emulator
    emulator.backend.reset()
    response = emulator.client.put(f"{RUN_COMMANDS}/rc1?{VERSION}", json={**BODY, "location": location})
    assert printable(response.headers), response.headers
    region = "".join(location.split()).lower()
    if region and region.isascii() and region.isalnum():
        assert response.status_code == 201, response.text
        assert f"/locations/{region}/operations/" in response.headers["Azure-AsyncOperation"]
    else:
        assert_cloud_error(response, 400, "LocationNotAvailableForResourceType")
        assert emulator.backend.vms == []


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.text(min_size=1, max_size=10), where=st.sampled_from(["resourceGroup", "vm", "runCommand"]))
def test_any_name_in_the_path_is_served_or_refused_before_any_change(
    runcommand_emulator: InProcessEmulator, name: str, where: str
) -> None:
    emulator = runcommand_emulator
    emulator.backend.reset()
    names = {"resourceGroup": "rg", "vm": "vm1", "runCommand": "rc1"}
    names[where] = quote(name, safe="")
    path = (
        f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/{names['resourceGroup']}/providers/"
        f"Microsoft.Compute/virtualMachines/{names['vm']}/runCommands/{names['runCommand']}?{VERSION}"
    )
    response = emulator.client.put(path, json=BODY)
    assert printable(response.headers), response.headers
    assert response.status_code in (201, 400, 404), response.text
    if response.status_code == 201:
        assert name.isascii()
        assert name.isprintable()
        assert not set(name) & set("/?#%\\ ")
        assert emulator.client.get(path).json()["name"] == (name if where == "runCommand" else "rc1")
    else:
        assert emulator.backend.vms == [], "refused before any change"


def test_a_body_breaking_many_rules_gets_a_bounded_answer(runcommand_emulator: InProcessEmulator) -> None:
    parameters = [{"name": 1, "value": 2, "x": 3}] * 400  # three broken rules each
    body = {"location": "westus", "properties": {"source": {"script": "ls"}, "parameters": parameters}}
    answer = runcommand_emulator.client.put(runcommand_emulator.run_command_path("many"), json=body)
    assert answer.status_code == 400
    details = answer.json()["error"]["details"]
    assert len(details) == MAX_DETAILS + 1
    assert details[-1] == {
        "code": "TooManyViolations",
        "message": f"and {1200 - MAX_DETAILS} more violation(s) of the contract, not listed",
    }
    assert len(answer.content) < 30_000


@pytest.mark.parametrize("gzipped", [True, False])
def test_an_encoded_body_is_refused_naming_its_content_encoding(
    runcommand_emulator: InProcessEmulator, gzipped: bool
) -> None:
    raw = json.dumps(BODY).encode()
    answer = runcommand_emulator.client.put(
        runcommand_emulator.run_command_path("coded"),
        content=gzip.compress(raw) if gzipped else raw,  # a body that claims gzip but is plain JSON too
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 415
    assert answer.json()["error"]["message"].startswith("The content encoding 'gzip' is not supported.")
    assert runcommand_emulator.client.get(runcommand_emulator.run_command_path("coded")).status_code == 404


def test_an_identity_content_encoding_is_a_body_as_sent(runcommand_emulator: InProcessEmulator) -> None:
    answer = runcommand_emulator.client.put(
        runcommand_emulator.run_command_path("plain"),
        content=json.dumps(BODY).encode(),
        headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert answer.status_code == 201
