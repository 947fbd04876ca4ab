"""The emulator's cheaper ways to the same result: each gives exactly what the plain way gives (key order included)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.emulator.executor import SCRIPT_RUN_FIELDS, Execution, ScriptRun, script_run
from pytest_runcommand.emulator.state import AsyncOperation
from pytest_runcommand.emulator.writes import WRITABLE_WIRE_NAMES, merged, patched, writable

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
_sources = st.dictionaries(
    st.sampled_from(["scriptUri", "script", "commandId", "scriptShell", "galleryScriptReferenceId", "extra"]),
    st.one_of(st.none(), st.text(max_size=3)),
)
_parameter = st.dictionaries(st.sampled_from(["value", "name", "extra"]), st.text(max_size=3))
_identity = st.dictionaries(st.sampled_from(["objectId", "clientId", "extra"]), st.text(max_size=3))
_value_of = {
    "source": st.one_of(st.none(), _sources),
    "parameters": st.one_of(st.none(), st.lists(_parameter, max_size=2)),
    "protectedParameters": st.one_of(st.none(), st.lists(_parameter, max_size=2)),
    "outputBlobManagedIdentity": st.one_of(st.none(), _identity),
    "errorBlobManagedIdentity": st.one_of(st.none(), _identity),
}
_names = st.sampled_from([*WRITABLE_WIRE_NAMES, "provisioningState", "instanceView", "unknownProperty"])
properties = st.lists(_names, unique=True, max_size=8).flatmap(
    lambda names: st.fixed_dictionaries({name: _value_of.get(name, _scalars) for name in names})
)


def exactly(value: Any) -> bytes:
    """``value`` as JSON bytes: equal only with the same keys in the same order."""
    return orjson.dumps(value)


@given(properties, properties)
def test_a_patch_merges_in_one_pass_what_writable_and_merged_give(stored: dict[str, Any], sent: dict[str, Any]) -> None:
    stored = writable(stored)  # what a run command holds: its writable properties, ordered, no nulls
    assert exactly(patched(stored, sent)) == exactly(merged(stored, writable(sent, nulls=True)))


def test_a_script_run_is_the_dataclass_made_without_its_init() -> None:
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.clock import Clock
    from pytest_runcommand.emulator.state import ParentRef

    backend = Backend(clock=Clock(NOW))
    properties = {
        "source": {"script": "echo $x", "scriptShell": "Powershell7"},
        "parameters": [{"name": "x", "value": "1"}, {"name": "y", "value": "2"}],
        "protectedParameters": [{"name": "secret", "value": "hidden"}],
        "runAsUser": "user1",
        "timeoutInSeconds": 60,
        "asyncExecution": True,
    }
    command = backend.create_or_update(ParentRef("s", "rg", "vm1"), "a", {"properties": properties})[0]
    execution = command.execution
    assert execution is not None
    made = execution.request
    assert not hasattr(made, "__dict__"), "slotted (thousands are kept)"
    plain = ScriptRun(**{field.name: getattr(made, field.name) for field in fields(ScriptRun)})
    assert tuple(field.name for field in fields(ScriptRun) if field.name != "requested_at") == SCRIPT_RUN_FIELDS
    assert script_run(plain.requested_at, tuple(getattr(plain, name) for name in SCRIPT_RUN_FIELDS)) == plain
    assert made == plain
    assert hash(made) == hash(plain)
    assert repr(made) == repr(plain)
    assert "hidden" not in repr(made)
    assert made.parameters == (("x", "1"), ("y", "2"))
    assert made.protected_parameters == (("secret", "hidden"),)
    assert (made.script, made.script_shell, made.run_as_user, made.timeout_in_seconds, made.async_execution) == (
        "echo $x",
        "Powershell7",
        "user1",
        60,
        True,
    )
    assert execution == Execution(plain, execution.outcome)
    assert not hasattr(execution, "__dict__")
    assert (type(made), type(execution)) == (ScriptRun, Execution), "made as drafts, then of their own class"
    with pytest.raises(FrozenInstanceError):
        made.script = "changed"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        execution.outcome = execution.outcome  # type: ignore[misc]
    assert execution.view(NOW) == Execution(plain, execution.outcome).view(NOW)
    assert backend.executor.runs == [made]  # type: ignore[attr-defined]
    operation = command.operation
    assert operation is not None
    assert not hasattr(operation, "__dict__"), "slotted (thousands are kept)"
    values = {field.name: getattr(operation, field.name) for field in fields(AsyncOperation)}
    rebuilt = AsyncOperation(**values)
    assert {name: getattr(rebuilt, name) for name in values} == values
    assert (operation.kind, operation.status, operation.polls, operation.polls_needed) == ("create", "InProgress", 0, 1)


# -- the fast PATCH: the plain handlers' answer, byte for byte -------------------------------------------------------

SUB = "00000000-0000-0000-0000-000000000000"
VM_PATH = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
VMSS_PATH = (
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/ss/virtualMachines/3"
)
START = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
Exchange = tuple[int, list[tuple[bytes, bytes]], bytes]

PATCHES: list[tuple[str, dict[str, str], bytes]] = [
    (
        "full",
        {},
        orjson.dumps(
            {
                "properties": {
                    "source": {"script": "echo $who"},
                    "parameters": [{"name": "who", "value": "world"}],
                    "protectedParameters": [{"name": "secret", "value": "hidden"}],
                    "asyncExecution": False,
                    "runAsUser": "user1",
                    "timeoutInSeconds": 3600,
                },
                "tags": {"team": "bench"},
            }
        ),
    ),
    (
        "keys out of the model's order",
        {},
        b'{"tags": {}, "properties": {"timeoutInSeconds": 5, "source": {"scriptUri": "https://x.invalid/s.sh", "script": null}}}',
    ),
    ("a null removes", {}, b'{"properties": {"runAsUser": null, "parameters": null}, "tags": null}'),
    ("tags only", {}, b'{"tags": {"a": "b"}}'),
    ("empty object", {}, b"{}"),
    ("whitespace around", {}, b'  {"properties": {"asyncExecution": true}}\n'),
    ("read-only property", {}, b'{"properties": {"provisioningState": "Succeeded", "timeoutInSeconds": 7}}'),
    ("unknown property", {}, b'{"properties": {"noSuchThing": 1}, "tags": {"x": "y"}}'),
    ("wrong type", {}, b'{"properties": {"timeoutInSeconds": "soon"}}'),
    ("not an object", {}, b"[1, 2]"),
    ("malformed", {}, b'{"properties": '),
    ("no body", {}, b""),
    ("blank body", {}, b"   "),
    ("text/plain", {"content-type": "text/plain"}, b'{"tags": {}}'),
    ("content-type with charset", {"content-type": "Application/JSON; charset=utf-8"}, b'{"tags": {"c": "d"}}'),
    ("no correlation id", {"x-ms-correlation-request-id": ""}, b'{"tags": {"e": "f"}}'),
    ("odd host", {"host": "emulator.test:8443"}, b'{"tags": {"g": "h"}}'),
]


class Client:
    """Raw ASGI exchanges with one app (what a served client sends, without the server)."""

    def __init__(self, *, fast: bool, strict: bool = True) -> None:
        from pytest_runcommand.emulator.app import EmulatorApp
        from pytest_runcommand.emulator.backend import Backend, EmulatorSettings
        from pytest_runcommand.emulator.clock import Clock

        self.app = EmulatorApp(
            Backend(EmulatorSettings(strict=strict), clock=Clock(START, policy="per-request"), seed=7)
        )
        self.app.fast_paths = fast
        self.seen: list[Any] = []
        self.app.observers.append(self.seen.append)
        self.correlation = 0

    def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Exchange:
        import asyncio

        self.correlation += 1
        given = {
            "host": "127.0.0.1:8000",
            "authorization": "Bearer not-the-emulators-token",
            "content-type": "application/json",
            "x-ms-correlation-request-id": f"00000000-0000-4000-8000-{self.correlation:012d}",
            **(headers or {}),
        }
        raw_path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "method": method,
            "path": raw_path,
            "raw_path": raw_path.encode(),
            "query_string": query.encode(),
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
            "headers": [(name.encode(), value.encode()) for name, value in given.items()],
        }
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        asyncio.run(self.app(scope, receive, send))
        return sent[0]["status"], sent[0]["headers"], sent[1]["body"]


def state(client: Client) -> list[Any]:
    """What the backend holds: every run command as stored, its operation and script run, the recorded runs."""
    backend = client.app.backend
    found: list[Any] = []
    for vm in backend.vms:
        for command in [*vm.run_commands.values(), *vm.diagnostic_run_commands.values()]:
            operation = command.operation
            found.append(
                (
                    command.resource_id,
                    orjson.dumps(command.wire),
                    command.tags,
                    command.audit,
                    command.provisioning_state,
                    None if operation is None else (operation.id, operation.kind, operation.due_at, operation.status),
                    command.execution,
                )
            )
    found.append(list(backend.executor.runs))  # type: ignore[attr-defined]
    found.append(backend.operation_count)
    return found


def both(strict: bool = True) -> tuple[Client, Client]:
    return Client(fast=True, strict=strict), Client(fast=False, strict=strict)


def same(fast: Client, plain: Client, method: str, path: str, body: bytes = b"", **headers: str) -> Exchange:
    """Send the same request to both apps; their answers must be equal byte for byte (the ids an answer draws, such
    as an error's request id, drawn from the same seed for both)."""
    from pytest_runcommand.emulator import asgi

    seed = fast.correlation
    asgi._IDS.seed(seed)
    answer = fast.send(method, path, body, headers)
    asgi._IDS.seed(seed)
    expected = plain.send(method, path, body, headers)
    assert answer == expected, f"{method} {path} {body!r}"
    return answer


def versions_and_parents() -> list[tuple[str, str, str]]:
    from pytest_runcommand.contract import facts

    cases = [
        (version, parent, "runCommands")
        for version in sorted(facts.SUPPORTED_API_VERSIONS)
        for parent in (VM_PATH, VMSS_PATH)
    ]
    diagnostic = [version for version in facts.API_VERSIONS if facts.operations_at(version, "diagnostic")]
    cases += [(version, parent, "diagnosticRunCommands") for version in diagnostic for parent in (VM_PATH, VMSS_PATH)]
    return cases


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize(("version", "parent", "collection"), versions_and_parents())
def test_the_fast_patch_answers_what_the_plain_handlers_answer(
    version: str, parent: str, collection: str, strict: bool
) -> None:
    fast, plain = both(strict)
    url = f"{parent}/{collection}/rc1?api-version={version}"
    create = orjson.dumps({"location": "westus", "properties": {"source": {"script": "echo 1"}}})
    if collection == "runCommands":
        assert same(fast, plain, "PATCH", url, b'{"tags": {}}')[0] == 404  # nothing to patch yet
    same(fast, plain, "PUT", url, create)
    for _label, headers, body in PATCHES:
        same(fast, plain, "PATCH", url, body, **headers)
        same(fast, plain, "GET", url + "&$expand=instanceView")
    assert state(fast) == state(plain)
    assert [seen.__dict__ for seen in fast.seen] == [seen.__dict__ for seen in plain.seen], "observers see the same"
    assert same(fast, plain, "PATCH", url.replace("/rc1?", "/bad\x01name?"), b'{"tags": {}}')[0] == 400
    same(fast, plain, "DELETE", url)
    same(fast, plain, "PATCH", url, b'{"tags": {}}')  # 409 while deleting, or 404 once gone
    assert state(fast) == state(plain)


def test_the_fast_patch_keeps_what_an_older_version_cannot_name() -> None:
    from pytest_runcommand.contract import facts

    fast, plain = both()
    url = f"{VM_PATH}/runCommands/rc1?api-version="
    newest = orjson.dumps(
        {"location": "westus", "properties": {"source": {"script": "echo 1", "scriptShell": "Powershell7"}}}
    )
    same(fast, plain, "PUT", url + facts.LATEST_API_VERSION, newest)
    for version in sorted(facts.SUPPORTED_API_VERSIONS):
        same(fast, plain, "PATCH", url + version, b'{"properties": {"source": {"script": "echo 2"}}}')
        same(fast, plain, "GET", url + facts.LATEST_API_VERSION)
    assert state(fast) == state(plain)


def test_the_fast_patch_follows_the_settings() -> None:
    fast, plain = both()
    url = f"{VM_PATH}/runCommands/rc1?api-version=2024-07-01"
    same(fast, plain, "PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    for settings in (
        {"retry_after": None},
        {"retry_after": 7},
        {"retry_after": 1.5},
        {"lro_seconds": 0},
        {"lro_polls": 3},
    ):
        for client in (fast, plain):
            for name, value in settings.items():
                setattr(client.app.backend.settings, name, value)
        same(fast, plain, "PATCH", url, b'{"properties": {"timeoutInSeconds": 9}}')
    assert state(fast) == state(plain)


def test_with_faults_armed_every_patch_takes_the_plain_way() -> None:
    fast, plain = both()
    url = f"{VM_PATH}/runCommands/rc1?api-version=2024-07-01"
    same(fast, plain, "PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    for client in (fast, plain):
        client.app.faults.add(match={"method": "PATCH"}, times=1, respond={"status": 429})
        client.app.faults.add(match={"method": "PATCH"}, times=1, delay={"polls": 2})
    for _ in range(3):
        same(fast, plain, "PATCH", url, b'{"tags": {"k": "v"}}')
    assert state(fast) == state(plain)
    assert fast.app.faults.log == plain.app.faults.log


def test_the_fast_patch_answers_a_conforming_patch_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain PATCH handler runs only for what the fast one leaves (a body the contract does not take as is)."""
    from pytest_runcommand.emulator.runcommands import RunCommandService

    plain_calls: list[str] = []
    original = RunCommandService._patch

    def counted(self: RunCommandService, request: Any) -> Any:
        plain_calls.append(request.body.decode())
        return original(self, request)

    monkeypatch.setattr(RunCommandService, "_patch", counted)
    client = Client(fast=True)  # its routes bind the counted handler
    url = f"{VM_PATH}/runCommands/rc1?api-version=2024-07-01"
    client.send("PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    assert client.send("PATCH", url, b'{"tags": {"a": "b"}}')[0] == 200
    assert plain_calls == []
    assert client.send("PATCH", url, b'{"properties": {"provisioningState": "x"}}')[0] == 400
    assert plain_calls == ['{"properties": {"provisioningState": "x"}}']
    client.app.fast_paths = False
    assert client.send("PATCH", url, b'{"tags": {"a": "b"}}')[0] == 200
    assert len(plain_calls) == 2


REPEATED = orjson.dumps(
    {
        "properties": {
            "source": {"script": "Write-Host $who"},
            "parameters": [{"name": "who", "value": "world"}],
            "asyncExecution": False,
            "timeoutInSeconds": 3600,
        },
        "tags": {"team": "bench"},
    }
)


@pytest.mark.parametrize("version", ["2024-07-01", "2026-04-01"])
@pytest.mark.parametrize("parent", [VM_PATH, VMSS_PATH], ids=["vm", "vmss"])
def test_a_repeated_patch_answers_and_leaves_what_the_plain_handlers_do(version: str, parent: str) -> None:
    """What a PATCH sent again reuses (the contract's yes, the merge, the script run's fields, the answer's text)
    gives what the plain handlers give, between and after other changes, and every read after them agrees."""
    from pytest_runcommand.contract import facts

    fast, plain = both()
    url = f"{parent}/runCommands/rc1?api-version={version}"
    newest = f"{parent}/runCommands/rc1?api-version={facts.LATEST_API_VERSION}"
    same(fast, plain, "PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    between: list[tuple[str, str, bytes]] = [
        ("PATCH", url, b'{"tags": {"team": "bench", "more": "x"}}'),  # the same properties, other tags
        ("PATCH", url, b'{"tags": {"more": "x", "team": "bench"}}'),  # the same tags in another order
        ("PATCH", url, b'{"properties": {"timeoutInSeconds": 5}}'),  # other properties
        ("PATCH", newest, REPEATED),  # the same body at another version
        ("PATCH", newest, b'{"properties": {"source": {"scriptShell": "Powershell7"}}}'),  # what older ones keep
        ("PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 2"}}}'),
        ("PATCH", url, REPEATED.replace(b" ", b"  ")),  # the same properties, other text
        ("PATCH", url, b'{"tags": {"lastModifiedAt": "x"}}'),  # a tag named as systemData's time
    ]
    for method, target, body in between:
        for _ in range(3):
            answer = same(fast, plain, "PATCH", url, REPEATED)
            assert answer[0] == 200
        operation = dict(answer[1])[b"azure-asyncoperation"].decode().split("8000", 1)[1]
        for client in (fast, plain):
            client.app.backend.clock.advance(7)
        same(fast, plain, "GET", operation)
        same(fast, plain, "GET", url + "&$expand=instanceView")
        same(fast, plain, "GET", url.replace("/rc1?", "?") + "&$expand=instanceView")
        assert state(fast) == state(plain)
        made_again(fast)
        same(fast, plain, method, target, body)
    for _ in range(3):
        same(fast, plain, "PATCH", url, REPEATED)
    assert state(fast) == state(plain)
    made_again(fast)
    assert [seen.__dict__ for seen in fast.seen] == [seen.__dict__ for seen in plain.seen]
    plans = fast.app.run_commands._plans.values()
    remembered = [(text, parsed) for plan in plans for text, parsed in plan.taken.items() if parsed is not None]
    assert remembered, "the fast PATCH remembers the JSON of a body sent again"
    for text, parsed in remembered:  # shared with what the writes stored: never changed by them
        assert exactly(parsed) == exactly(orjson.loads(text))


def test_a_body_sent_once_keeps_no_json_and_one_sent_again_does() -> None:
    fast, plain = both()
    url = f"{VM_PATH}/runCommands/rc1?api-version=2024-07-01"
    same(fast, plain, "PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    for index in range(3):
        same(fast, plain, "PATCH", url, b'{"properties": {"timeoutInSeconds": %d}}' % index)
    (plan,) = [plan for (method, _, _), plan in fast.app.run_commands._plans.items() if method == "PATCH"]
    assert list(plan.taken.values()) == [None, None, None]
    for _ in range(3):
        same(fast, plain, "PATCH", url, REPEATED)
    assert plan.taken[REPEATED] == orjson.loads(REPEATED)
    assert state(fast) == state(plain)


def made_again(client: Client) -> None:
    """Each run command's properties and latest script run are what the plain merge and run would make of them (the
    backend remembers both paths' work: comparing the paths does not check it)."""
    for vm in client.app.backend.vms:
        for command in vm.run_commands.values():
            properties = orjson.loads(REPEATED)["properties"]
            if command.last_patch is not None and command.last_patch[0] == REPEATED:
                assert exactly(patched(command.wire, properties)) == exactly(command.wire)
            execution = command.execution
            assert execution is not None
            source, wire = command.wire.get("source") or {}, command.wire
            assert execution.request == ScriptRun(
                command.resource_id,
                command.name,
                execution.request.requested_at,
                source.get("script"),
                source.get("scriptUri"),
                source.get("commandId"),
                source.get("galleryScriptReferenceId"),
                source.get("scriptShell"),
                tuple((item["name"], item["value"]) for item in wire.get("parameters") or ()),
                tuple((item["name"], item["value"]) for item in wire.get("protectedParameters") or ()),
                wire.get("runAsUser"),
                max(0, wire.get("timeoutInSeconds") or 0),
                bool(wire.get("asyncExecution")),
            )


def test_an_answer_remembered_is_the_answer_made_again() -> None:
    """``run_command_json`` gives ``run_command_to_wire``'s JSON after every kind of change to the run command."""
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.clock import Clock
    from pytest_runcommand.emulator.serialize import run_command_json, run_command_to_wire
    from pytest_runcommand.emulator.state import Audit, Caller, ParentRef

    backend = Backend(clock=Clock(START, policy="per-request"))
    vm = ParentRef(SUB, "rg", "vm1")
    command = backend.create_or_update(vm, "rc", {"location": "westus", "properties": {}, "tags": {"a": "b"}})[0]

    def check() -> None:
        for version in ("2024-07-01", "2026-04-01"):
            for _ in range(2):
                expected = orjson.dumps(run_command_to_wire(command, api_version=version))
                assert run_command_json(command, version) == expected, version
            backend.clock.tick()

    changes = [
        lambda: backend.update(vm, "rc", {"tags": {"a": "b"}}),
        lambda: backend.update(vm, "rc", {"tags": {"c": "d", "a": "b"}}),
        lambda: backend.update(vm, "rc", {"tags": {"a": "b", "c": "d"}}),
        lambda: backend.update(vm, "rc", {"tags": {"lastModifiedAt": "x"}}),
        lambda: backend.update(vm, "rc", {"properties": {"runAsUser": "u"}}, caller=Caller("x", "User")),
        lambda: backend.clock.advance(60),  # the operation done: another provisioning state
        lambda: setattr(command, "tags", {"n": 1}),
        lambda: setattr(command, "tags", None),
        lambda: setattr(command, "audit", None),
        lambda: setattr(command, "audit", Audit(Caller("y", "User"), START, Caller("y", "User"), START)),
        lambda: setattr(command.vm, "location", "eastus"),
    ]
    check()
    for change in changes:
        change()
        check()


@pytest.mark.parametrize("expand", [False, True], ids=["plain", "instanceView"])
def test_a_run_command_at_each_version_is_the_full_resource_shaped(expand: bool) -> None:
    """``run_command_to_wire`` at a version cuts the fields itself: what ``versions.shape`` gives the full resource."""
    from pytest_runcommand.contract import facts
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.clock import Clock
    from pytest_runcommand.emulator.serialize import run_command_to_wire
    from pytest_runcommand.emulator.state import DIAGNOSTIC, ParentRef
    from pytest_runcommand.emulator.versions import shape

    backend = Backend(clock=Clock(START))
    vm, twin = ParentRef(SUB, "rg", "vm1"), ParentRef(SUB, "rg", "ss", "3")
    every = {
        "source": {"script": "echo 1", "scriptShell": "Powershell7", "galleryScriptReferenceId": "/g/1"},
        "parameters": [{"name": "a", "value": "b"}],
        "protectedParameters": [{"name": "p", "value": "secret"}],
        "asyncExecution": True,
        "runAsUser": "u",
        "timeoutInSeconds": 5,
        "outputBlobUri": "https://x.invalid/out",
        "errorBlobUri": "https://x.invalid/err",
        "outputBlobManagedIdentity": {"clientId": "c"},
        "treatFailureAsDeploymentFailure": True,
    }
    commands = [
        backend.create_or_update(vm, "every", {"location": "westus", "properties": every, "tags": {"t": "1"}})[0],
        backend.create_or_update(twin, "bare", {"location": "westus", "properties": {}})[0],
        backend.create_or_update(vm, "diag", {"properties": {"source": {"commandId": "x"}}}, collection=DIAGNOSTIC)[0],
    ]
    backend.clock.advance(30)
    at = backend.clock.now() if expand else None
    for version in facts.API_VERSIONS:
        for command in commands:
            full = run_command_to_wire(command, instance_view_at=at)
            assert exactly(run_command_to_wire(command, instance_view_at=at, api_version=version)) == exactly(
                shape(full, version)
            ), (version, command.name)
    assert commands[0].wire["source"]["scriptShell"] == "Powershell7", "the stored source is never cut"


@given(
    st.datetimes(
        min_value=datetime(2, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))])
    )
)
def test_format_time_writes_arms_form(moment: datetime) -> None:
    """``format_time`` (isoformat and the seventh digit) writes what the field-by-field form writes."""
    from pytest_runcommand.emulator.clock import format_time

    utc = moment.astimezone(UTC)
    expected = (
        f"{utc.year}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond:06d}0+00:00"
    )
    assert format_time(moment) == expected


def test_a_repeated_request_is_still_authenticated_and_follows_new_routes() -> None:
    """What a method, path and query decide is remembered (the route, the api-version), never the token's check."""
    from pytest_runcommand.emulator.asgi import Response

    fast, plain = both()
    url = f"{VM_PATH}/runCommands/rc1?api-version=2024-07-01"
    same(fast, plain, "PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    cases: list[dict[str, str]] = [{}, {"authorization": ""}, {"authorization": "Basic x"}, {}]
    for headers in cases:
        assert same(fast, plain, "PATCH", url, b'{"tags": {}}', **headers)[0] == (200 if not headers else 401)
        assert same(fast, plain, "GET", url, b"", **headers)[0] == (200 if not headers else 401)
    other = "/subscriptions/s/providers/Example.Provider/things/a?api-version=1"
    for client in (fast, plain):
        assert client.send("GET", other)[0] == 404
        client.app.add_route(
            "things",
            "/subscriptions/{s}/providers/Example.Provider/things/{t}",
            {"GET": lambda r: Response(200, {"a": 1})},
        )
    assert same(fast, plain, "GET", other)[0] == 200


def test_system_data_names_its_fields_as_the_model_does() -> None:
    from pytest_runcommand.emulator.clock import format_time
    from pytest_runcommand.emulator.serialize import _system_data
    from pytest_runcommand.emulator.state import Audit, Caller
    from pytest_runcommand.models import SystemData

    audit = Audit(Caller("a@b", "User"), START, Caller("app", "Application"), START + timedelta(seconds=1.5))
    expected = {
        "created_by": "a@b",
        "created_by_type": "User",
        "created_at": format_time(START),
        "last_modified_by": "app",
        "last_modified_by_type": "Application",
        "last_modified_at": format_time(START + timedelta(seconds=1.5)),
    }
    wire = {SystemData.model_fields[name].alias or name: value for name, value in expected.items()}
    assert exactly(_system_data(audit)) == exactly(wire)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([{"type": "http.request", "body": b'{"a": 1}'}], b'{"a": 1}'),
        ([{"type": "http.request", "body": bytearray(b"xy")}], b"xy"),
        ([{"type": "http.request"}], b""),
        ([{"type": "http.disconnect"}], "gone"),  # the client left before the app read its request
        (
            [
                {"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.request", "body": b"", "more_body": True},
                {"type": "http.request", "body": b"cd"},
            ],
            b"abcd",
        ),
        ([{"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}], "gone"),
        ([{"type": "http.request", "body": b"0123456789x"}], 413),
        (
            [
                {"type": "http.request", "body": b"012345", "more_body": True},
                {"type": "http.request", "body": b"6789x"},
            ],
            413,
        ),
    ],
)
def test_a_body_is_read_whole_within_the_limit(messages: list[dict[str, Any]], expected: bytes | int | str) -> None:
    import asyncio

    from pytest_runcommand.emulator.asgi import ClientGone, read_body
    from pytest_runcommand.emulator.errors import ArmError

    async def read() -> bytes:
        queue = list(messages)

        async def receive() -> dict[str, Any]:
            return queue.pop(0)

        return await read_body(receive, 10)

    if expected == "gone":  # a part of a body is never carried out
        with pytest.raises(ClientGone):
            asyncio.run(read())
    elif isinstance(expected, int):
        with pytest.raises(ArmError) as error:
            asyncio.run(read())
        assert error.value.status == expected
    else:
        body = asyncio.run(read())
        assert body == expected
        assert type(body) is bytes


def test_a_large_body_is_answered_alike_and_not_remembered() -> None:
    """A plan remembers only small bodies the contract took (memory stays small); a large one is checked each time."""
    from pytest_runcommand.emulator.runcommands import _TAKEN_BODY_BYTES

    fast, plain = both()
    url = f"{VM_PATH}/runCommands/rc1?api-version=2024-07-01"
    same(fast, plain, "PUT", url, b'{"location": "westus", "properties": {"source": {"script": "echo 1"}}}')
    large = orjson.dumps({"properties": {"source": {"script": "echo " + "x" * _TAKEN_BODY_BYTES}}})
    for body in (large, large, REPEATED, REPEATED):
        assert same(fast, plain, "PATCH", url, body)[0] == 200
    taken = [plan.taken for plan in fast.app.run_commands._plans.values()]  # the PUT's plan and the PATCH's
    assert set().union(*taken) == {REPEATED}
    assert state(fast) == state(plain)


def test_an_answer_shows_each_parameter_as_name_and_value_whatever_was_stored() -> None:
    """Stored parameters are shown as they are when each is ``{"name", "value"}`` in that order, else rebuilt so."""
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.serialize import run_command_to_wire
    from pytest_runcommand.emulator.state import ParentRef

    command = Backend().create_or_update(ParentRef(SUB, "rg", "vm1"), "rc", {"properties": {}})[0]
    shown = [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
    for stored in (
        [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}],
        [{"value": "1", "name": "a"}, {"name": "b", "value": "2"}],
        [{"name": "a", "value": "1"}, {"name": "b", "value": "2", "more": "x"}],
    ):
        command.wire = {"parameters": stored}
        answer = run_command_to_wire(command, api_version="2024-07-01")
        assert exactly(answer["properties"]["parameters"]) == exactly(shown)
    assert command.wire["parameters"][1] == {"name": "b", "value": "2", "more": "x"}, "the stored items are left"


def test_a_patch_stores_sent_items_already_in_order_as_they_are() -> None:
    in_order = [{"name": "a", "value": "1"}]
    assert patched({}, {"parameters": in_order})["parameters"] is in_order
    reordered = [{"value": "1", "name": "a"}]
    assert exactly(patched({}, {"parameters": reordered})["parameters"]) == exactly(in_order)
    assert list(reordered[0]) == ["value", "name"], "what was sent is never changed"


def test_an_answer_made_from_its_parts_is_the_answer_made_whole() -> None:
    """After each new body (properties, tags, caller) and a change of what the kept parts show, at every version,
    on a VM and a scale-set VM, managed and diagnostic: ``run_command_json`` (its frame kept, its tags and
    properties encoded alone) gives ``run_command_to_wire``'s JSON."""
    from pytest_runcommand.contract import facts
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.clock import Clock
    from pytest_runcommand.emulator.state import DIAGNOSTIC, MANAGED, Audit, Caller, ParentRef

    backend = Backend(clock=Clock(START, policy="per-request"))
    bodies: list[dict[str, Any]] = [
        {"properties": {"timeoutInSeconds": 1}, "tags": {"team": "a"}},
        {"properties": {"timeoutInSeconds": 2, "runAsUser": "u"}, "tags": {"team": "b", "n": "1"}},
        {"properties": {"source": {"script": "echo 1", "scriptShell": "Powershell7"}}, "tags": None},
        {"properties": {"parameters": [{"value": "v", "name": "p"}], "outputBlobUri": "https://x.invalid/o"}},
        {"properties": {"treatFailureAsDeploymentFailure": True, "runAsUser": None}, "tags": {}},
    ]
    for parent in (ParentRef(SUB, "rg", "vm1"), ParentRef(SUB, "rg", "ss", "3")):
        for collection in (MANAGED, DIAGNOSTIC):
            for version in sorted(facts.API_VERSIONS):
                command = backend.create_or_update(parent, "rc", {"properties": {}}, collection=collection)[0]
                _same_answer(command, version, "created")
                for index, body in enumerate(bodies):
                    backend.update(
                        parent, "rc", body, caller=Caller(f"caller{index % 2}", "User"), collection=collection
                    )
                    _same_answer(command, version, index)
                changes = [
                    lambda command=command: setattr(command.vm, "location", "eastus"),
                    lambda command=command: setattr(command.vm, "location", "westus"),
                    lambda command=command: setattr(command, "name", "RC"),
                    lambda command=command: setattr(command, "name", "rc"),
                    lambda command=command: setattr(
                        command, "audit", Audit(Caller("y", "User"), START, Caller("z", "User"), START)
                    ),
                    lambda command=command: setattr(command, "audit", None),
                    lambda command=command: setattr(command, "tags", {"n": 1}),
                ]
                for change in changes:
                    change()
                    _same_answer(command, version, change)


def _same_answer(command: Any, version: str, label: object) -> None:
    from pytest_runcommand.emulator.serialize import run_command_json, run_command_to_wire

    expected = orjson.dumps(run_command_to_wire(command, api_version=version))
    assert run_command_json(command, version) == expected, (version, command.collection, label)


# -- the fast action POST: the plain handler's answer, byte for byte ------------------------------------------------

ACTIONS: list[tuple[str, dict[str, str], bytes]] = [
    ("script", {}, b'{"commandId": "RunShellScript", "script": ["echo $a", "echo 2"]}'),
    ("parameters", {}, b'{"commandId": "RunPowerShellScript", "parameters": [{"name": "a", "value": "b"}]}'),
    ("the built-in's own script", {}, b'{"commandId": "ifconfig"}'),
    ("command id in another case", {}, b'{"commandId": "runshellscript", "script": ["echo 1"]}'),
    ("unknown command id", {}, b'{"commandId": "NoSuchCommand"}'),
    ("command id not a string", {}, b'{"commandId": 7}'),
    ("no command id", {}, b'{"script": ["echo 1"]}'),
    ("unknown property", {}, b'{"commandId": "RunShellScript", "extra": 1}'),
    ("not an object", {}, b'["RunShellScript"]'),
    ("malformed", {}, b'{"commandId": '),
    ("byte order mark", {}, b'\xef\xbb\xbf{"commandId": "RunShellScript"}'),
    ("no body", {}, b""),
    ("text/plain", {"content-type": "text/plain"}, b'{"commandId": "RunShellScript"}'),
    ("no correlation id", {"x-ms-correlation-request-id": ""}, b'{"commandId": "RunShellScript"}'),
    ("odd host", {"host": "emulator.test:8443"}, b'{"commandId": "RunShellScript"}'),
]


@pytest.mark.parametrize("strict", [True, False], ids=["strict", "lenient"])
@pytest.mark.parametrize("parent", [VM_PATH, VMSS_PATH], ids=["vm", "vmss_vm"])
def test_the_fast_action_answers_what_the_plain_handler_answers(parent: str, strict: bool) -> None:
    from pytest_runcommand.contract import facts

    fast, plain = both(strict)
    operation = "VirtualMachines_RunCommand" if parent == VM_PATH else "VirtualMachineScaleSetVMs_RunCommand"
    for version in sorted(facts.versions_with(operation)):
        url = f"{parent}/runCommand?api-version={version}"
        for _label, headers, body in ACTIONS:
            status, answer_headers, _ = same(fast, plain, "POST", url, body, **headers)
            if status == 202:
                location = dict(answer_headers)[b"location"].decode().removeprefix("http://127.0.0.1:8000")
                same(fast, plain, "GET", location)
    assert same(fast, plain, "POST", f"{parent}/runCommand?api-version=1999-01-01", ACTIONS[0][2])[0] == 400
    assert same(fast, plain, "POST", f"{VM_PATH}x\x01/runCommand?api-version=2024-07-01", ACTIONS[0][2])[0] == 400
    assert state(fast) == state(plain)
    assert [seen.__dict__ for seen in fast.seen] == [seen.__dict__ for seen in plain.seen], "observers see the same"


def test_the_fast_action_follows_the_settings_and_the_executor() -> None:
    from pytest_runcommand.emulator.executor import Outcome

    fast, plain = both()
    url = f"{VM_PATH}/runCommand?api-version=2024-07-01"
    body = b'{"commandId": "RunShellScript", "script": ["echo 1"]}'
    for settings in ({"retry_after": None}, {"retry_after": 7}, {"lro_seconds": 0}, {"auto_create_vms": False}):
        for client in (fast, plain):
            for name, value in settings.items():
                setattr(client.app.backend.settings, name, value)
        same(fast, plain, "POST", url, body)
        same(fast, plain, "POST", url.replace("vm1", "vm2"), body)
    for client in (fast, plain):
        client.app.backend.settings.auto_create_vms = True
        client.app.backend.executor.register(Outcome.failure(2, error="e"), script="echo 1")  # type: ignore[attr-defined]
    status, headers, _ = same(fast, plain, "POST", url, body)
    assert status == 202
    same(fast, plain, "GET", dict(headers)[b"location"].decode().removeprefix("http://127.0.0.1:8000"))
    assert state(fast) == state(plain)


def test_the_fast_action_answers_a_conforming_action_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plain action handler runs only for what the fast one leaves."""
    from pytest_runcommand.emulator.actions import ActionService

    calls: list[bytes] = []
    invoke = ActionService._invoke

    def counted(self: ActionService, request: Any) -> Any:
        calls.append(request.body)
        return invoke(self, request)

    monkeypatch.setattr(ActionService, "_invoke", counted)
    fast = Client(fast=True)
    url = f"{VM_PATH}/runCommand?api-version=2024-07-01"
    assert fast.send("POST", url, b'{"commandId": "RunShellScript"}')[0] == 202
    assert fast.send("POST", url, b'{"commandId": "Nope"}')[0] == 400
    assert calls == [b'{"commandId": "Nope"}']


@pytest.mark.parametrize(
    "body",
    [
        {"commandId": "RunShellScript", "script": ["echo 1", "echo 2"]},
        {"commandId": "RunPowerShellScript", "parameters": [{"name": "a", "value": "b"}, {"name": "c", "value": ""}]},
        {"commandId": "ifconfig"},
        {"commandId": "RunShellScript", "script": [], "parameters": []},
    ],
)
def test_an_actions_properties_are_what_writable_gives(body: dict[str, Any]) -> None:
    """The action builds its run's properties in the stored form itself: what ``writable`` makes of the plain form."""
    from pytest_runcommand.emulator import catalogue
    from pytest_runcommand.emulator.actions import action_properties

    document = catalogue.shared_document(body["commandId"])
    assert document is not None
    lines = body.get("script") or document["script"]
    parameters = [{"name": item["name"], "value": item["value"]} for item in body.get("parameters") or ()]
    plain = {
        "source": {"script": "\n".join(lines) if lines else None, "commandId": document["id"]},
        "parameters": parameters or None,
    }
    assert exactly(action_properties(body, document)) == exactly(writable(plain))


def test_an_actions_run_command_is_the_one_its_class_makes() -> None:
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.state import RunCommand, VirtualMachine, action_command

    vm = Backend().add_vm(f"{VM_PATH}")
    made = action_command(vm, {"source": {"script": "echo 1"}})
    plain = RunCommand(vm, "runCommand", {"source": {"script": "echo 1"}}, collection=None)
    assert isinstance(vm, VirtualMachine)
    assert {item.name: getattr(made, item.name) for item in fields(RunCommand)} == {
        item.name: getattr(plain, item.name) for item in fields(RunCommand)
    }
    assert made.resource_id == plain.resource_id
    assert made.execution is None


@given(properties)
def test_a_version_that_keeps_nothing_is_passed_as_none_and_asked_nothing(stored: dict[str, Any]) -> None:
    """The fast PATCH passes no :class:`Kept` where the version keeps nothing: the one it would pass finds nothing
    to keep in any stored properties (their source an object, as the contract holds it)."""
    from pytest_runcommand.contract import facts
    from pytest_runcommand.emulator.versions import kept_on_write

    if not isinstance(stored.get("source"), dict | None):
        stored = {**stored, "source": {}}
    for version in facts.SUPPORTED_API_VERSIONS:
        kept = kept_on_write(version)
        if not (kept.properties or kept.source):
            assert kept.nothing_to_keep(stored), version


def test_the_fast_patch_passes_the_kept_of_an_older_version() -> None:
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.asgi import Request
    from pytest_runcommand.emulator.versions import kept_on_write

    service = EmulatorApp().run_commands
    for version, keeps in (("2024-07-01", True), ("2026-04-01", False)):
        path = f"{VM_PATH}/runCommands/rc1"
        params = {"subscriptionId": "s", "resourceGroupName": "g", "vmName": "v", "runCommandName": "rc1"}
        request = Request("PATCH", path, {}, f"api-version={version}", {}, "http://x", params, api_version=version)
        plan = service._plan(request)
        assert plan.kept == kept_on_write(version)
        assert plan.patch_kept is (plan.kept if keeps else None)
