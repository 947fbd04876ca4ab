"""The emulator speaks every supported api-version, each in its own shape (what the contract says it defines).

Every answer in these tests is also validated by the conftest against the contract of its own api-version.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_runcommand.contract import facts
from pytest_runcommand.emulator import InProcessEmulator
from pytest_runcommand.emulator.identity import DEFAULT_CLIENT_ID, DEFAULT_TENANT, Directory

VERSIONS = list(facts.SUPPORTED_API_VERSIONS)
LATEST = facts.LATEST_API_VERSION
GALLERY_SCRIPT = (
    f"/subscriptions/{facts.ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute/galleries/g/scripts/"
    "s/versions/1.0.0"
)


def defined(version: str, definition: str) -> frozenset[str]:
    return facts.definition_properties(version, definition)


def first_with(definition: str, field: str) -> str:
    """The oldest supported version whose ``definition`` has ``field``."""
    return next(version for version in VERSIONS if field in defined(version, definition))


def url(emulator: InProcessEmulator, version: str, name: str = "rc1") -> str:
    return emulator.run_command_path(name, api_version=version)


def put(emulator: InProcessEmulator, version: str, body: dict[str, Any], name: str = "rc1") -> Any:
    response = emulator.client.put(url(emulator, version, name), json=body)
    assert response.status_code in (200, 201), response.text
    return response


def assert_shape(resource: dict[str, Any], version: str) -> None:
    """Nothing in ``resource`` that ``version`` does not define."""
    __tracebackhide__ = True
    assert set(resource) <= defined(version, "VirtualMachineRunCommand"), (version, sorted(resource))
    properties = resource["properties"]
    assert set(properties) <= defined(version, "VirtualMachineRunCommandProperties"), (version, sorted(properties))
    assert set(properties["source"]) <= defined(version, "VirtualMachineRunCommandScriptSource"), version


def full_body(version: str) -> dict[str, Any]:
    """A PUT body naming every optional field ``version`` has that these tests look at."""
    source: dict[str, Any] = {"script": "echo hi"}
    if "scriptShell" in defined(version, "VirtualMachineRunCommandScriptSource"):
        source["scriptShell"] = "Powershell7"
    properties: dict[str, Any] = {"source": source, "timeoutInSeconds": 30}
    if "treatFailureAsDeploymentFailure" in defined(version, "VirtualMachineRunCommandProperties"):
        properties["treatFailureAsDeploymentFailure"] = True
    return {"location": "westus", "properties": properties}


@pytest.mark.parametrize("version", VERSIONS)
def test_every_supported_version_is_served_in_its_own_shape(
    runcommand_emulator: InProcessEmulator, version: str
) -> None:
    created = put(runcommand_emulator, version, full_body(version)).json()
    assert_shape(created, version)
    read = runcommand_emulator.client.get(url(runcommand_emulator, version) + "&$expand=instanceView").json()
    assert_shape(read, version)
    listed = runcommand_emulator.client.get(runcommand_emulator.run_command_path(api_version=version)).json()
    assert [item["name"] for item in listed["value"]] == ["rc1"]
    assert_shape(listed["value"][0], version)
    has_system_data = "systemData" in defined(version, "VirtualMachineRunCommand")
    assert ("systemData" in read) is has_system_data
    assert ("treatFailureAsDeploymentFailure" in read["properties"]) is (
        "treatFailureAsDeploymentFailure" in defined(version, "VirtualMachineRunCommandProperties")
    )


def test_the_versions_the_issue_names_are_where_the_contract_puts_them() -> None:
    assert first_with("VirtualMachineRunCommand", "systemData") == "2025-11-01"
    assert first_with("VirtualMachineRunCommandProperties", "treatFailureAsDeploymentFailure") == "2023-03-01"
    assert first_with("VirtualMachineRunCommandScriptSource", "scriptShell") == "2025-04-01"
    assert first_with("VirtualMachineRunCommandScriptSource", "galleryScriptReferenceId") == "2025-04-01"


def test_an_unsupported_version_lists_every_supported_one(runcommand_emulator: InProcessEmulator) -> None:
    response = runcommand_emulator.client.get(url(runcommand_emulator, "2020-01-01"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "InvalidApiVersionParameter"
    for version in VERSIONS:
        assert version in error["message"]


def test_system_data_says_who_and_when(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    emulator.backend.clock.advance(60)
    created = put(emulator, LATEST, full_body(LATEST)).json()["systemData"]
    assert set(created) == defined(LATEST, "SystemData")
    assert created["createdBy"] == created["lastModifiedBy"] == "pytest-runcommand-emulator"
    assert created["createdByType"] == "Application"
    assert created["createdAt"] == created["lastModifiedAt"]

    secret = "sign-in-secret"
    emulator.app.directory = Directory.default(secret)
    form = {
        "grant_type": "client_credentials",
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": secret,
        "scope": "https://management.azure.com/.default",
    }
    token = emulator.client.post(f"/{DEFAULT_TENANT}/oauth2/v2.0/token", data=form).json()["access_token"]
    emulator.backend.clock.advance(120)
    patched = emulator.client.patch(
        url(emulator, LATEST),
        json={"properties": {"timeoutInSeconds": 60}},
        headers={"Authorization": f"Bearer {token}"},
    ).json()["systemData"]
    assert patched["createdAt"] == created["createdAt"]
    assert patched["createdBy"] == "pytest-runcommand-emulator"
    assert (patched["lastModifiedBy"], patched["lastModifiedByType"]) == (DEFAULT_CLIENT_ID, "Application")
    assert patched["lastModifiedAt"] > created["lastModifiedAt"]


def test_script_shell_and_a_gallery_script_are_kept_and_returned(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    body = {"location": "westus", "properties": {"source": {"galleryScriptReferenceId": GALLERY_SCRIPT}}}
    created = put(emulator, LATEST, body).json()
    assert created["properties"]["source"] == {"galleryScriptReferenceId": GALLERY_SCRIPT}
    (run,) = emulator.executor.runs
    assert run.gallery_script_reference_id == GALLERY_SCRIPT
    view = emulator.client.get(url(emulator, LATEST) + "&$expand=instanceView").json()["properties"]["instanceView"]
    assert view["executionState"] == "Succeeded", "a gallery script is a script source"

    patched = emulator.client.patch(
        url(emulator, "2025-04-01"), json={"properties": {"source": {"script": "echo 7", "scriptShell": "Powershell7"}}}
    )
    assert patched.json()["properties"]["source"] == {"script": "echo 7", "scriptShell": "Powershell7"}
    assert emulator.executor.runs[-1].script_shell == "Powershell7"


def test_a_gallery_script_is_no_source_before_the_version_that_has_it(runcommand_emulator: InProcessEmulator) -> None:
    before = VERSIONS[
        VERSIONS.index(first_with("VirtualMachineRunCommandScriptSource", "galleryScriptReferenceId")) - 1
    ]
    body = {"location": "westus", "properties": {"source": {"galleryScriptReferenceId": GALLERY_SCRIPT}}}
    response = runcommand_emulator.client.put(url(runcommand_emulator, before), json=body)
    assert response.status_code == 400
    assert runcommand_emulator.backend.vms == []


@pytest.mark.parametrize("version", VERSIONS)
def test_location_and_retry_after_where_the_version_declares_them(
    runcommand_emulator: InProcessEmulator, version: str
) -> None:
    emulator = runcommand_emulator
    declared = facts.lro_header_statuses(version, "VirtualMachineRunCommands_CreateOrUpdate")
    created = put(emulator, version, full_body(version))
    patched = emulator.client.patch(url(emulator, version), json={"properties": {"timeoutInSeconds": 9}})
    deleted = emulator.client.delete(url(emulator, version))
    assert (created.status_code, patched.status_code, deleted.status_code) == (201, 200, 202)
    assert "Location" in deleted.headers, "DELETE 202 always names its monitor URL"
    if declared:
        assert facts.final_state_via(version, "VirtualMachineRunCommands_CreateOrUpdate") == "location"
        for response in (created, patched, deleted):
            assert response.headers["Retry-After"] == "0"
        resource = emulator.url(url(emulator, version))
        assert created.headers["Location"] == patched.headers["Location"] == resource, "the final state's URL"
    else:
        assert "Location" not in created.headers
        assert "Location" not in patched.headers


def test_a_write_at_an_older_version_leaves_what_it_does_not_know(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    put(emulator, LATEST, full_body(LATEST))
    old = "2022-03-01"
    assert "treatFailureAsDeploymentFailure" not in defined(old, "VirtualMachineRunCommandProperties")
    patched = emulator.client.patch(url(emulator, old), json={"properties": {"source": {"script": "echo old"}}})
    assert patched.status_code == 200, patched.text
    assert_shape(patched.json(), old)
    latest = emulator.client.get(url(emulator, LATEST)).json()["properties"]
    assert latest["source"] == {"script": "echo old", "scriptShell": "Powershell7"}
    assert latest["treatFailureAsDeploymentFailure"] is True

    put(emulator, old, {"location": "westus", "properties": {"source": {"commandId": "RunShellScript"}}})
    latest = emulator.client.get(url(emulator, LATEST)).json()["properties"]
    assert latest["source"] == {"commandId": "RunShellScript", "scriptShell": "Powershell7"}
    assert latest["treatFailureAsDeploymentFailure"] is True
    assert latest["timeoutInSeconds"] == 0, "what the old version knows, its PUT replaces"


def test_a_script_from_an_older_version_replaces_a_newer_kind_of_source(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    body = {"location": "westus", "properties": {"source": {"galleryScriptReferenceId": GALLERY_SCRIPT}}}
    put(emulator, LATEST, body)
    emulator.client.patch(url(emulator, "2024-07-01"), json={"properties": {"source": {"script": "echo"}}})
    source = emulator.client.get(url(emulator, LATEST)).json()["properties"]["source"]
    assert source == {"script": "echo"}, "one script source, as every version requires"


def test_one_resource_seen_through_two_versions(runcommand_emulator: InProcessEmulator) -> None:
    emulator = runcommand_emulator
    put(emulator, LATEST, full_body(LATEST))
    new = emulator.client.get(url(emulator, LATEST)).json()
    old = emulator.client.get(url(emulator, "2021-07-01")).json()
    assert "systemData" in new
    assert "systemData" not in old
    assert new["properties"]["source"]["scriptShell"] == "Powershell7"
    assert old["properties"]["source"] == {"script": "echo hi"}
    assert "treatFailureAsDeploymentFailure" not in old["properties"]
    assert_shape(old, "2021-07-01")
    assert {key: value for key, value in new.items() if key != "systemData"}.keys() == old.keys()


# -- a model of what each version sees, checked over random writes and reads ----------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PROPS = "VirtualMachineRunCommandProperties"
SOURCE = "VirtualMachineRunCommandScriptSource"
DEFAULTS = {"timeoutInSeconds": 0, "asyncExecution": False, "treatFailureAsDeploymentFailure": False}
PROPERTY_VALUES = {
    "timeoutInSeconds": st.integers(0, 1000),
    "treatFailureAsDeploymentFailure": st.booleans(),
    "runAsUser": st.sampled_from(["ops", "root"]),
}
SCRIPT_SOURCES = {
    "script": st.sampled_from(["echo a", "echo b"]),
    "commandId": st.just("RunShellScript"),
    "galleryScriptReferenceId": st.just(GALLERY_SCRIPT),
}


@st.composite
def writes(draw: st.DrawFn, methods: tuple[str, ...] = ("PUT", "PATCH")) -> tuple[str, str, dict[str, Any]]:
    """A PUT or PATCH at some version, naming only fields that version defines."""
    version = draw(st.sampled_from(VERSIONS))
    method = draw(st.sampled_from(methods))
    properties: dict[str, Any] = {}
    for name, values in PROPERTY_VALUES.items():
        if name in defined(version, PROPS) and draw(st.booleans()):
            properties[name] = draw(values)
    if method == "PUT" or draw(st.booleans()):
        kind = draw(st.sampled_from([name for name in SCRIPT_SOURCES if name in facts.script_sources(version)]))
        source: dict[str, Any] = {kind: draw(SCRIPT_SOURCES[kind])}
        if "scriptShell" in defined(version, SOURCE) and draw(st.booleans()):
            source["scriptShell"] = draw(st.sampled_from(["Default", "Powershell7"]))
        properties["source"] = source
    return method, version, properties


class Reference:
    """What the run command holds, by the rules: a write replaces (PUT) or merges (PATCH) what its version knows and
    leaves what it does not; a script source of its own replaces a newer kind of source."""

    def __init__(self) -> None:
        self.properties: dict[str, Any] = {}
        self.source: dict[str, Any] = {}

    def write(self, method: str, version: str, sent: dict[str, Any]) -> None:
        known, known_source = defined(version, PROPS), defined(version, SOURCE)
        unknown = {name: value for name, value in self.properties.items() if name not in known}
        sent_properties = {name: value for name, value in sent.items() if name != "source"}
        self.properties = {**(self.properties if method == "PATCH" else {}), **sent_properties, **unknown}
        if "source" in sent:
            newer_sources = set(facts.script_sources(LATEST)) - set(facts.script_sources(version))
            kept = {
                name: value
                for name, value in self.source.items()
                if name not in known_source and name not in newer_sources
            }
            self.source = {**sent["source"], **kept}

    def seen_at(self, version: str) -> tuple[dict[str, Any], dict[str, Any]]:
        known, known_source = defined(version, PROPS), defined(version, SOURCE)
        properties = {name: self.properties.get(name, DEFAULTS.get(name)) for name in PROPERTY_VALUES}
        shown = {name: value for name, value in properties.items() if name in known and value is not None}
        return shown, {name: value for name, value in self.source.items() if name in known_source}


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=st.tuples(writes(("PUT",)), st.lists(writes(), max_size=4)).map(lambda pair: [pair[0], *pair[1]]),
    readers=st.lists(st.sampled_from(VERSIONS), max_size=4),
)
def test_any_history_of_writes_reads_back_by_the_rules_at_every_version(
    runcommand_emulator: InProcessEmulator, history: list[tuple[str, str, dict[str, Any]]], readers: list[str]
) -> None:
    emulator = runcommand_emulator
    emulator.backend.reset()
    reference = Reference()
    for method, version, properties in history:
        body: dict[str, Any] = {"properties": properties}
        if method == "PUT":
            body["location"] = "westus"
        response = emulator.client.request(method, url(emulator, version), json=body)
        assert response.status_code in (200, 201), (method, version, body, response.text)
        reference.write(method, version, properties)
    for version in {*readers, LATEST, VERSIONS[0]}:
        read = emulator.client.get(url(emulator, version)).json()
        assert_shape(read, version)
        properties, source = reference.seen_at(version)
        assert {name: read["properties"].get(name) for name in properties} == properties, version
        assert {name: value for name, value in read["properties"].items() if name in PROPERTY_VALUES} == properties
        assert read["properties"]["source"] == source, (version, history)
