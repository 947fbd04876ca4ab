"""Scripted faults: loading a scenario (JSON, YAML, mapping; bad ones named), each action in-process, and the real
Azure SDK for Python against the served TLS emulator (its retry policy rides out a 429 after the Retry-After second
and a 503 twice, a failed operation raises with the scripted error, a dropped connection is retried, a delay keeps
the operation InProgress for the polls scripted)."""

from __future__ import annotations

import atexit
import codecs
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract import check_interactions
from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.emulator.faults import FAULT_HEADER, Faults, ScenarioError
from pytest_runcommand.emulator.handles import InProcessEmulator, ServedEmulator
from pytest_runcommand.emulator.scenario import load_scenario, parse_scenario
from pytest_runcommand.interactions import Interaction

BODY = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}

ISSUE_SCENARIO: dict[str, Any] = {
    "faults": [
        {
            "match": {"operation": "VirtualMachineRunCommands_Update"},
            "times": 1,
            "respond": {"status": 429, "code": "TooManyRequests", "message": "Too many updates.", "retry_after": 1},
        },
        {
            "match": {"operation": "VirtualMachineRunCommands_CreateOrUpdate", "name": "doomed-*"},
            "operation_fails": {"code": "VMAgentStatusCommunicationError", "message": "VM agent did not answer."},
        },
        {
            "match": {"operation": "VirtualMachineRunCommands_GetByVirtualMachine", "name": "flaky"},
            "times": 2,
            "respond": {"status": 503, "code": "ServiceUnavailable", "message": "Try later.", "retry_after": 0},
        },
    ]
}


# -- helpers -------------------------------------------------------------------------------------------------------


@pytest.fixture
def emulator(runcommand_emulator: InProcessEmulator) -> InProcessEmulator:
    """The in-process emulator; the conftest's ResponseChecker checks every answer, fault-shaped ones included
    (they may be 5xx, or dropped)."""
    return runcommand_emulator


def record(app: EmulatorApp) -> list[Interaction]:
    seen: list[Interaction] = []
    app.observers.append(seen.append)
    return seen


# -- loading ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml", ".scenario"])
def test_load_issue_scenario_from_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"faults{suffix}"
    path.write_text(yaml.safe_dump(ISSUE_SCENARIO) if suffix != ".json" else json.dumps(ISSUE_SCENARIO))
    faults = Faults()
    loaded = faults.load(path)
    assert [fault.action for fault in loaded] == ["respond", "operation_fails", "respond"]
    assert [fault.times for fault in loaded] == [1, None, 2]
    assert loaded[0].retry_after == 1
    assert loaded[0].status == 429
    assert loaded[1].match.name == "doomed-*"
    assert loaded[1].code == "VMAgentStatusCommunicationError"
    assert faults.armed
    faults.clear()
    assert not faults.armed
    assert not faults.rules


BAD = [
    ([], "a scenario is a mapping"),
    ({"faults": {}}, "'faults' must be a list"),
    ({"faults": [], "extra": 1}, "unknown field 'extra'"),
    ({"faults": [3]}, "faults[0]: a fault is a mapping"),
    ({"faults": [{"match": {}}]}, "faults[0]: needs exactly one action"),
    ({"faults": [{"drop": True, "delay": {"polls": 1}}]}, "found 2 (delay, drop)"),
    ({"faults": [{"drop": True}, {"drop": "yes"}]}, "faults[1].drop: must be true"),
    ({"faults": [{"respond": {"status": 200}}]}, "faults[0].respond.status: must be a whole number from 400 to 599"),
    ({"faults": [{"respond": {"code": "X"}}]}, "faults[0].respond.status: required"),
    ({"faults": [{"respond": {"status": 503, "retry_after": -1}}]}, "faults[0].respond.retry_after"),
    ({"faults": [{"respond": {"status": 503, "headers": {"a b": "1"}}}]}, "faults[0].respond.headers: 'a b'"),
    *(
        ({"faults": [{"respond": {"status": 503, "headers": {name: "5"}}}]}, f"respond.headers.{name}: the emulator")
        for name in ("Content-Length", "transfer-encoding", "Connection", "Content-Type", "Content-Encoding", "Date")
    ),
    ({"faults": [{"respond": {"status": 503, "colour": 1}}]}, "faults[0].respond: unknown field 'colour'"),
    ({"faults": [{"times": 0, "drop": True}]}, "faults[0].times: must be a whole number from 1"),
    ({"faults": [{"times": True, "drop": True}]}, "faults[0].times"),
    ({"faults": [{"match": {"operation": "virtualmachineruncommands_update"}, "drop": True}]}, "did you mean"),
    ({"faults": [{"match": {"operation": "Nope"}, "drop": True}]}, "faults[0].match.operation: unknown operation"),
    ({"faults": [{"match": {"colour": "x"}, "drop": True}]}, "faults[0].match: unknown field 'colour'"),
    ({"faults": [{"match": {"name": 3}, "drop": True}]}, "faults[0].match.name: must be a non-empty string"),
    ({"faults": [{"operation_fails": {}}]}, "faults[0].operation_fails.code: required"),
    ({"faults": [{"delay": {}}]}, "faults[0].delay: give 'polls' or 'seconds'"),
    ({"faults": [{"delay": {"polls": 1.5}}]}, "faults[0].delay.polls: must be a whole number"),
    ({"faults": [{"delay": {"seconds": float("nan")}}]}, "faults[0].delay.seconds"),
]


@pytest.mark.parametrize(("document", "expected"), BAD)
def test_bad_scenario_names_file_fault_and_field(tmp_path: Path, document: Any, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ScenarioError) as raised:
        Faults().load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("broken.json", "{", "not valid JSON"),
        ("broken.yaml", "faults: [\n  - {", "not valid JSON or YAML at line"),
        ("missing.json", None, "cannot read the scenario"),
        ("latin.yaml", b"faults: [\xe9]", "cannot read the scenario"),
        ("odd.json", codecs.BOM_UTF16_LE + b"{}}", "cannot read the scenario"),
    ],
)
def test_unreadable_scenario_file(tmp_path: Path, name: str, text: str | bytes | None, expected: str) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(ScenarioError, match=r"cannot read|not valid") as raised:
        Faults().load(path)
    assert str(raised.value).startswith(str(path))
    assert expected in str(raised.value)


BOMS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


@pytest.mark.parametrize("encoding", list(BOMS))
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bom.json", '{"faults": [{"match": {"method": "GET"}, "drop": true}]}'),
        ("bom.yaml", "faults:\n  - match: {method: GET}\n    drop: true\n"),
        ("bom.scenario", "faults: [{match: {method: GET}, drop: true}]"),
    ],
)
def test_a_scenario_behind_a_byte_order_mark_loads(tmp_path: Path, encoding: str, name: str, text: str) -> None:
    """Windows editors write a byte-order mark; validate and cassettes accept UTF-8/16/32 behind one, so do faults."""
    path = tmp_path / name
    path.write_bytes(BOMS[encoding] + text.encode(encoding))
    faults = Faults()
    faults.load(path)
    assert [(rule.action, rule.match.method) for rule in faults.rules] == [("drop", "GET")]


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from(
    ["match", "times", "respond", "operation_fails", "delay", "drop", "status", "code", "message", "retry_after",
     "headers", "polls", "seconds", "operation", "method", "name", "vm"]
)  # fmt: skip
RULE = st.dictionaries(FIELD_NAMES, JSONISH | st.dictionaries(FIELD_NAMES, JSONISH, max_size=4), max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(JSONISH, st.fixed_dictionaries({"faults": st.lists(RULE, max_size=3)})))
def test_any_document_loads_or_is_a_named_scenario_error(document: Any) -> None:
    """Generative: whatever the document, loading gives faults or a ScenarioError naming the scenario (never a
    traceback of another kind), and a fault that loads is one the app can apply."""
    faults = Faults()
    try:
        loaded = faults.load({"faults": document} if not isinstance(document, dict) else document)
    except ScenarioError as error:
        message = str(error)
        loaded = []
    else:
        message = "scenario: "
    assert message.startswith("scenario: "), message
    assert len(message) < 400
    for fault in loaded:
        assert fault.action in ("respond", "operation_fails", "delay", "drop")
        assert fault.times is None or fault.times >= 1
        if fault.action == "respond":
            assert 400 <= fault.status <= 599
            assert fault.code
            assert fault.message


def test_add_with_keywords_and_index() -> None:
    faults = Faults()
    faults.load({"faults": [{"drop": True}]})
    added = faults.add(match={"vm": "web-*"}, times=2, respond={"status": 500})
    assert added.index == 1
    assert added.code == "InternalServerError"
    with pytest.raises(ScenarioError, match=r"^fault: faults\[2\]\.respond\.status"):
        faults.add(respond={"status": 42})


# -- applying -----------------------------------------------------------------------------------------------------


def test_respond_429_is_a_cloud_error_with_throttling_headers_then_answers_normally(
    emulator: InProcessEmulator,
) -> None:
    url = emulator.run_command_path("rc1")
    assert emulator.client.put(url, json=BODY).status_code == 201
    emulator.app.faults.load(ISSUE_SCENARIO)
    seen = record(emulator.app)
    throttled = emulator.client.patch(url, json={"properties": {"timeoutInSeconds": 60}})
    assert throttled.status_code == 429
    assert throttled.json() == {"error": {"code": "TooManyRequests", "message": "Too many updates."}}
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert throttled.headers[FAULT_HEADER] == "0"
    again = emulator.client.patch(url, json={"properties": {"timeoutInSeconds": 60}})
    assert again.status_code == 200
    assert FAULT_HEADER not in again.headers
    assert [i.status for i in seen] == [429, 200]
    assert [(entry.index, entry.status) for entry in emulator.app.faults.log] == [(0, 429)]


def test_respond_503_twice_on_get_of_the_named_run_command_only(emulator: InProcessEmulator) -> None:
    for name in ("flaky", "steady"):
        emulator.client.put(emulator.run_command_path(name), json=BODY)
    emulator.app.faults.load(ISSUE_SCENARIO)
    assert emulator.client.get(emulator.run_command_path("steady")).status_code == 200
    statuses = [emulator.client.get(emulator.run_command_path("flaky")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    listed = emulator.client.get(emulator.run_command_path())
    assert listed.status_code == 200  # the list is another operation


def test_operation_fails_at_its_time_and_the_resource_reads_failed(emulator: InProcessEmulator) -> None:
    emulator.backend.settings.lro_polls = 2
    emulator.app.faults.load(ISSUE_SCENARIO)
    created = emulator.client.put(emulator.run_command_path("doomed-1"), json=BODY)
    assert created.status_code == 201
    assert created.headers[FAULT_HEADER] == "1"
    assert created.json()["properties"]["provisioningState"] == "Creating"
    monitor = created.headers["Azure-AsyncOperation"]
    polls = [emulator.client.get(monitor).json() for _ in range(4)]
    assert [poll["status"] for poll in polls] == ["InProgress", "InProgress", "Failed", "Failed"]
    assert polls[2]["error"] == {"code": "VMAgentStatusCommunicationError", "message": "VM agent did not answer."}
    resource = emulator.client.get(emulator.run_command_path("doomed-1")).json()
    assert resource["properties"]["provisioningState"] == "Failed"
    fine = emulator.client.put(emulator.run_command_path("fine-1"), json=BODY)
    assert emulator.client.get(fine.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress"


def test_operation_rules_wait_for_a_write_that_starts_an_operation(emulator: InProcessEmulator) -> None:
    """A rejected write or a read does not use up an operation rule, and reads fall through to later rules."""
    emulator.app.faults.add(match={"name": "rc*"}, times=1, operation_fails={"code": "Boom"})
    emulator.app.faults.add(match={"method": "GET"}, times=1, respond={"status": 503})
    url = emulator.run_command_path("rc1")
    rejected = emulator.client.put(url, json={"location": "westus", "properties": {"timeoutInSeconds": "x"}})
    assert rejected.status_code == 400
    assert FAULT_HEADER not in rejected.headers
    assert emulator.client.get(url).status_code == 503
    created = emulator.client.put(url, json=BODY)
    assert created.headers[FAULT_HEADER] == "0"
    assert emulator.client.get(created.headers["Azure-AsyncOperation"]).json()["error"]["code"] == "Boom"
    again = emulator.client.put(url, json=BODY)
    assert FAULT_HEADER not in again.headers
    assert emulator.client.get(again.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"


@pytest.mark.parametrize("runcommand_emulator", ["manual"], indirect=True)
def test_delay_seconds_keeps_the_operation_in_progress_that_long(emulator: InProcessEmulator) -> None:
    emulator.app.faults.add(match={"method": "PUT"}, delay={"seconds": 120})
    created = emulator.client.put(emulator.run_command_path("slow"), json=BODY)
    monitor = created.headers["Azure-AsyncOperation"]
    for _ in range(5):
        assert emulator.client.get(monitor).json()["status"] == "InProgress"
    emulator.clock.advance(119)
    assert emulator.client.get(monitor).json()["status"] == "InProgress"
    emulator.clock.advance(2)
    assert emulator.client.get(monitor).json()["status"] == "Succeeded"


def test_delay_polls_on_an_action_run_command(emulator: InProcessEmulator) -> None:
    emulator.app.faults.add(match={"operation": "VirtualMachines_RunCommand"}, delay={"polls": 3})
    started = emulator.client.post(emulator.action_path(), json={"commandId": "RunShellScript", "script": ["ls"]})
    assert started.status_code == 202
    assert started.headers[FAULT_HEADER] == "0"
    monitor = started.headers["Azure-AsyncOperation"]
    statuses = [emulator.client.get(monitor).json()["status"] for _ in range(5)]
    assert statuses == ["InProgress"] * 3 + ["Succeeded"] * 2


def test_drop_in_process_is_a_transport_error_and_recorded(emulator: InProcessEmulator) -> None:
    emulator.app.faults.add(match={"vm": "vm-*", "method": "GET"}, times=1, drop=True)
    seen = record(emulator.app)
    assert emulator.client.get(emulator.run_command_path(vm="other")).status_code == 200
    with pytest.raises(httpx.RemoteProtocolError, match="scripted fault 0: drop"):
        emulator.client.get(emulator.run_command_path(vm="vm-7"))
    assert emulator.client.get(emulator.run_command_path(vm="vm-7")).status_code == 200
    assert [(i.status, i.response_header(FAULT_HEADER)) for i in seen] == [(200, None), (None, "0"), (200, None)]
    assert not emulator.app.internal_errors


def test_the_fixture_handle_loads_a_scenario_file(emulator: InProcessEmulator, tmp_path: Path) -> None:
    scenario = tmp_path / "faults.yaml"
    scenario.write_text(yaml.safe_dump(ISSUE_SCENARIO), encoding="utf-8")
    emulator.client.put(emulator.run_command_path("flaky"), json=BODY)
    added = emulator.load_scenario(scenario)
    assert len(added) == len(ISSUE_SCENARIO["faults"])
    assert emulator.faults is emulator.app.faults
    statuses = [emulator.client.get(emulator.run_command_path("flaky")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"faults": [{"respond": {"status": 200}}]}), encoding="utf-8")
    with pytest.raises(  # the fault's place in the file given, not among the faults loaded before it
        ScenarioError, match=r"broken\.json: faults\[0\]\.respond\.status: must be a whole number from 400 to 599"
    ):
        emulator.load_scenario(broken)
    with pytest.raises(
        ScenarioError, match=r"^scenario: faults\[0\]\.times: must be a whole number from 1 to 1,000,000"
    ):
        emulator.load_scenario({"faults": [{"drop": True, "times": 0}]})


def test_backend_reset_clears_the_faults(emulator: InProcessEmulator) -> None:
    emulator.app.faults.add(respond={"status": 500})
    assert emulator.client.get(emulator.run_command_path()).status_code == 500
    emulator.backend.reset()
    assert not emulator.app.faults.armed
    assert not emulator.app.faults.rules
    assert emulator.client.get(emulator.run_command_path()).status_code == 200


def test_faults_apply_after_sign_in_and_api_version_checks(emulator: InProcessEmulator) -> None:
    emulator.app.faults.add(respond={"status": 503})
    anonymous = httpx.Client(transport=emulator.client._transport, base_url=emulator.base_url)
    assert anonymous.get(emulator.run_command_path()).status_code == 401
    assert emulator.client.get(emulator.run_command_path(api_version=None)).status_code == 400
    assert emulator.client.get(emulator.run_command_path()).status_code == 503


def test_scripted_answers_are_within_the_contract(emulator: InProcessEmulator) -> None:
    """The contract check accepts a scripted 429/503 (a CloudError, the operations' default answer)."""
    emulator.client.put(emulator.run_command_path("flaky"), json=BODY)
    emulator.app.faults.load(ISSUE_SCENARIO)
    seen = record(emulator.app)
    emulator.client.get(emulator.run_command_path("flaky"))
    emulator.client.patch(emulator.run_command_path("flaky"), json={"properties": {"timeoutInSeconds": 60}})
    verdicts = check_interactions(seen)
    assert [v.interaction.status for v in verdicts] == [503, 429]
    assert all(v.matched for v in verdicts)
    assert [v.violations for v in verdicts] == [(), ()]


def test_without_faults_no_answer_is_marked(emulator: InProcessEmulator) -> None:
    seen = record(emulator.app)
    emulator.client.put(emulator.run_command_path("rc1"), json=BODY)
    emulator.client.get(emulator.run_command_path("rc1"))
    assert seen
    assert all(i.response_header(FAULT_HEADER) is None for i in seen)
    assert not emulator.app.faults.armed


NAMES = st.sampled_from(["rc1", "flaky", "doomed-1", "Doomed-2"])
VMS = st.sampled_from(["vm1", "web-1"])
GLOBS = st.sampled_from(["*", "rc?", "doomed-*", "web-*", "vm1", "FLAKY"])
VALID_RULE = st.fixed_dictionaries(
    {
        "match": st.just({})
        | st.fixed_dictionaries(
            {},
            optional={
                "operation": st.sampled_from(
                    ["VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineRunCommands_Update",
                     "VirtualMachineRunCommands_GetByVirtualMachine", "VirtualMachineRunCommands_Delete",
                     "VirtualMachineRunCommands_ListByVirtualMachine", "VirtualMachines_RunCommand"]
                ),
                "method": st.sampled_from(["GET", "put", "PATCH", "DELETE", "POST"]),
                "name": GLOBS,
                "vm": GLOBS,
            },
        ),
    },
    optional={"times": st.integers(1, 3)},
).flatmap(
    lambda rule: st.one_of(
        st.builds(lambda r: {**rule, "respond": r}, st.fixed_dictionaries(
            {"status": st.integers(400, 599)}, optional={"retry_after": st.integers(0, 5), "code": st.just("X")})),
        st.just({**rule, "drop": True}),
        st.builds(lambda c: {**rule, "operation_fails": {"code": c}}, st.sampled_from(["Boom", "VMAgentStatusCommunicationError"])),
        st.builds(lambda n: {**rule, "delay": {"polls": n}}, st.integers(1, 3)),
    )
)  # fmt: skip
STEP = st.tuples(st.sampled_from(["PUT", "PATCH", "GET", "DELETE", "LIST", "POLL", "ACTION"]), NAMES, VMS)
_SHARED: dict[str, Any] = {}


def _shared_client() -> tuple[EmulatorApp, httpx.Client]:
    if not _SHARED:
        from pytest_runcommand.emulator.tokens import fake_token
        from pytest_runcommand.emulator.transport import asgi_client

        app = EmulatorApp()
        token = fake_token(2_000_000_000)
        _SHARED["app"], _SHARED["client"] = app, asgi_client(app, headers={"Authorization": f"Bearer {token}"})
        atexit.register(_SHARED["client"].close)
    return _SHARED["app"], _SHARED["client"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(VALID_RULE, max_size=4), st.lists(STEP, min_size=1, max_size=12))
def test_only_scripted_faults_give_5xx_or_drops_and_nothing_breaks(rules: list[Any], steps: list[Any]) -> None:
    """Generative: any valid scenario over any sequence of requests: every 5xx and every dropped connection carries
    the fault marker (a scripted fault), nothing else does, and the emulator never hits an internal error; each
    operation a fault failed ends Failed with the scripted code."""
    app, client = _shared_client()
    app.backend.reset()
    app.faults.load({"faults": rules})
    seen = record(app)
    base = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    monitors: list[str] = []
    try:
        for kind, name, vm in steps:
            path = f"{base}/virtualMachines/{vm}/runCommands/{name}?api-version=2024-07-01"
            try:
                if kind == "PUT":
                    answer = client.put(path, json=BODY)
                elif kind == "PATCH":
                    answer = client.patch(path, json={"properties": {"timeoutInSeconds": 30}})
                elif kind == "GET":
                    answer = client.get(path)
                elif kind == "DELETE":
                    answer = client.delete(path)
                elif kind == "LIST":
                    answer = client.get(path.replace(f"/{name}?", "?"))
                elif kind == "ACTION":
                    action = f"{base}/virtualMachines/{vm}/runCommand?api-version=2024-07-01"
                    answer = client.post(action, json={"commandId": "RunShellScript", "script": ["ls"]})
                elif monitors:
                    answer = client.get(monitors[-1])
                else:
                    continue
            except httpx.RemoteProtocolError:
                continue
            if "Azure-AsyncOperation" in answer.headers:
                monitors.append(answer.headers["Azure-AsyncOperation"])
    finally:
        app.observers.remove(seen.append)
    assert not app.internal_errors, app.internal_errors[0]
    assert sum(i.response_header(FAULT_HEADER) is not None for i in seen) == len(app.faults.log)
    for interaction in seen:
        marked = interaction.response_header(FAULT_HEADER) is not None
        if interaction.status is None or interaction.status >= 500:
            assert marked, interaction.describe()
        if marked and interaction.status is not None and interaction.status >= 400:
            assert interaction.response_json["error"]["code"], interaction.describe()
    failing = {rule["operation_fails"]["code"] for rule in rules if "operation_fails" in rule}
    for interaction in seen:
        body = interaction.response_json if "/operations/" in interaction.url else None
        if isinstance(body, dict) and body.get("status") == "Failed":
            assert body["error"]["code"] in failing | {"VMExtensionProvisioningError"}, body


# -- the real Azure SDK against the served TLS emulator ----------------------------------------------------------

SUB = "00000000-0000-0000-0000-000000000000"
VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"


@pytest.fixture
def served(runcommand_emulator_server: ServedEmulator) -> ServedEmulator:
    """The TLS emulator; the conftest's ResponseChecker checks every answer, fault-shaped ones included."""
    return runcommand_emulator_server


def commands(emulator: ServedEmulator, **kwargs: object) -> Any:
    """The SDK's run-command operations on the served emulator (skips without azure-mgmt-compute)."""
    ComputeManagementClient = pytest.importorskip("azure.mgmt.compute").ComputeManagementClient
    client = ComputeManagementClient(
        emulator.credential, SUB, base_url=emulator.base_url, connection_verify=emulator.ca_path, **kwargs
    )
    return client.virtual_machine_run_commands


def timed(emulator: ServedEmulator) -> list[tuple[float, Interaction]]:
    seen: list[tuple[float, Interaction]] = []
    emulator.app.observers.append(lambda interaction: seen.append((time.monotonic(), interaction)))
    return seen


def statuses(seen: list[tuple[float, Interaction]], count: int, method: str | None = None) -> list[int | None]:
    """The statuses seen once ``count`` interactions (of ``method``) are in: the server notifies its observers just
    after the client has its answer."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        picked = [i.status for _, i in seen if method is None or i.method == method]
        if len(picked) >= count:
            return picked
        time.sleep(0.01)
    return picked


def test_issue_scenario_429_then_503_twice_then_failed_operation(served: ServedEmulator, tmp_path: Path) -> None:
    rc = commands(served)
    for name in ("flaky", "rc1"):
        rc.begin_create_or_update("rg", "vm1", name, BODY, polling_interval=0).result()
    scenario = tmp_path / "faults.json"
    scenario.write_text(json.dumps(ISSUE_SCENARIO))
    served.app.faults.load(scenario)
    seen = timed(served)

    got = rc.get_by_virtual_machine("rg", "vm1", "flaky")
    assert got.provisioning_state == "Succeeded"
    assert statuses(seen, 3) == [503, 503, 200]

    seen.clear()
    updated = rc.begin_update(
        "rg", "vm1", "rc1", {"properties": {"timeoutInSeconds": 120}}, polling_interval=0
    ).result()
    assert updated.timeout_in_seconds == 120
    assert statuses(seen, 2, "PATCH") == [429, 200]
    patches = [(at, i) for at, i in seen if i.method == "PATCH"]
    assert patches[0][1].response_header("Retry-After") == "1"
    assert patches[1][0] - patches[0][0] >= 0.95, "the SDK must wait the Retry-After second"

    seen.clear()
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as raised:
        rc.begin_create_or_update("rg", "vm1", "doomed-1", BODY, polling_interval=0).result()
    assert raised.value.error is not None
    assert raised.value.error.code == "VMAgentStatusCommunicationError"
    assert "VM agent did not answer." in str(raised.value)
    doomed = served.backend.run_command(VM_ID, "doomed-1")
    assert doomed is not None
    assert doomed.provisioning_state == "Failed"
    assert rc.get_by_virtual_machine("rg", "vm1", "doomed-1").provisioning_state == "Failed"
    assert statuses(seen, 1, "PUT") == [201]
    assert [i.response_header(FAULT_HEADER) for _, i in seen if i.method == "PUT"] == ["1"]
    assert [(entry.index, entry.status) for entry in served.app.faults.log] == [(2, 503), (2, 503), (0, 429), (1, 201)]


def test_dropped_connection_is_retried_by_the_sdk(served: ServedEmulator) -> None:
    rc = commands(served)
    rc.begin_create_or_update("rg", "vm1", "rc1", BODY, polling_interval=0).result()
    served.app.faults.add(match={"operation": "VirtualMachineRunCommands_GetByVirtualMachine"}, times=1, drop=True)
    seen = timed(served)
    assert rc.get_by_virtual_machine("rg", "vm1", "rc1").name == "rc1"
    assert statuses(seen, 2) == [None, 200]
    assert [i.response_header(FAULT_HEADER) for _, i in seen] == ["0", None]
    assert not served.app.internal_errors


def test_always_dropped_is_a_connection_error_for_the_sdk(served: ServedEmulator) -> None:
    rc = commands(served, retry_total=0)
    served.app.faults.add(match={"method": "GET", "name": "rc1"}, drop=True)
    from azure.core.exceptions import ServiceResponseError

    with pytest.raises(ServiceResponseError):
        rc.get_by_virtual_machine("rg", "vm1", "rc1")
    assert [entry.status for entry in served.app.faults.log] == [None]


def test_delay_keeps_the_operation_in_progress_for_the_polls_scripted(served: ServedEmulator) -> None:
    served.app.faults.add(match={"operation": "VirtualMachineRunCommands_CreateOrUpdate"}, delay={"polls": 4})
    polled: list[str] = []
    served.app.observers.append(lambda i: polled.append(i.response_json["status"]) if "/operations/" in i.url else None)
    created = commands(served).begin_create_or_update("rg", "vm1", "slow", BODY, polling_interval=0).result()
    assert created.provisioning_state == "Succeeded"
    deadline = time.monotonic() + 5
    while len(polled) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert polled == ["InProgress"] * 4 + ["Succeeded"]


# -- the command line: pytest-runcommand emulator --scenario FILE --------------------------------------------------


def _scenario_flag() -> None:
    from pytest_runcommand.cli import build_parser

    if "--scenario" not in build_parser().format_help() + _emulator_help():
        pytest.skip("`pytest-runcommand emulator --scenario` is not wired yet (emulator/command.py)")


def _emulator_help() -> str:
    from pytest_runcommand.cli import build_parser

    parser = build_parser()
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        choices = getattr(action, "choices", None) or {}
        if "emulator" in choices:
            return str(choices["emulator"].format_help())
    return ""


def test_cli_bad_scenario_exits_2_naming_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _scenario_flag()
    from pytest_runcommand.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("faults:\n  - drop: true\n  - respond: {status: 200}\n")
    assert main(["emulator", "--scenario", str(bad)]) == 2
    error = capsys.readouterr().err
    assert f"{bad}: faults[1].respond.status: must be a whole number from 400 to 599" in error
    assert "Traceback" not in error


def test_cli_serves_the_issue_scenario_to_the_sdk(tmp_path: Path) -> None:
    """Done when: the issue's file, served with ``pytest-runcommand emulator --tls --scenario FILE``, makes the SDK
    retry a 429 and a 503 twice, and raise with VMAgentStatusCommunicationError on doomed-1 (then Failed)."""
    _scenario_flag()
    import re
    import signal

    from azure.core.exceptions import HttpResponseError
    from emulator_command import emulator_command

    from pytest_runcommand.emulator.credential import EmulatorCredential

    azure_compute = pytest.importorskip("azure.mgmt.compute")
    scenario, ca = tmp_path / "faults.yaml", tmp_path / "ca.pem"
    scenario.write_text(yaml.safe_dump(ISSUE_SCENARIO))
    with emulator_command("--tls", "--scenario", str(scenario), "--ca-out", str(ca)) as (process, output):
        url = re.search(r"https://127\.0\.0\.1:\d+", output)
        assert url is not None, output
        answers: list[tuple[str, int]] = []

        def hook(response: Any) -> None:  # called for each attempt, retries included
            answers.append((response.http_request.method, response.http_response.status_code))

        client = azure_compute.ComputeManagementClient(
            EmulatorCredential(), SUB, base_url=url.group(0), connection_verify=str(ca), raw_response_hook=hook
        )
        rc = client.virtual_machine_run_commands
        rc.begin_create_or_update("rg", "vm1", "flaky", BODY, polling_interval=0).result()
        assert [status for method, status in answers if method == "GET"][-3:] == [503, 503, 200]
        answers.clear()
        started = time.monotonic()
        assert rc.begin_update("rg", "vm1", "flaky", {"properties": {}}, polling_interval=0).result().name == "flaky"
        assert time.monotonic() - started >= 0.95, "the 429's Retry-After second"
        assert answers[:2] == [("PATCH", 429), ("PATCH", 200)]
        with pytest.raises(HttpResponseError) as raised:
            rc.begin_create_or_update("rg", "vm1", "doomed-1", BODY, polling_interval=0).result()
        assert raised.value.error is not None
        assert raised.value.error.code == "VMAgentStatusCommunicationError"
        assert rc.get_by_virtual_machine("rg", "vm1", "doomed-1").provisioning_state == "Failed"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0


def test_a_scripted_answer_served_over_http_keeps_its_connection_framed() -> None:
    """The headers a scenario may set go out as they are; the server's framing stays its own (a scripted
    Content-Length used to make uvicorn drop the connection)."""
    from pytest_runcommand.emulator.server import EmulatorServer

    with EmulatorServer(tls=False) as server:
        server.app.faults.add(match={"method": "GET"}, respond={"status": 503, "headers": {"x-scripted": "yes"}})
        url = server.base_url + VM_ID + "/runCommands/rc1?api-version=2024-07-01"
        answer = httpx.get(url, headers={"Authorization": "Bearer x"})
        assert answer.status_code == 503
        assert answer.headers["x-scripted"] == "yes"
        assert answer.json()["error"]["code"] == "ServiceUnavailable"
        assert server.app.internal_errors == []


def test_a_file_that_is_no_scenario_is_not_quoted_back(tmp_path: Path) -> None:
    """A key that is no field name (a line of some other file) is described, not printed."""
    file = tmp_path / "shadow"
    file.write_text("root:$6$SentinelHash-4711:19000:0:99999:7:::\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as error:
        load_scenario(file)
    assert "SentinelHash-4711" not in str(error.value)
    assert "not a field name: is this a scenario file?" in str(error.value)
    nested = {"faults": [{"drop": True, "match": {"name": "x", "Sentinel$Key:1": 2}}]}
    with pytest.raises(ScenarioError) as error:
        parse_scenario(nested)
    assert "Sentinel" not in str(error.value)
