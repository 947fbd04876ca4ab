"""Live-target guard rails: scope, name prefix, request budget and rate, clean-up, no secrets in output."""

from __future__ import annotations

import json
import posixpath
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.cli import main
from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.live import BudgetExhausted, Guard, GuardRefusal, LiveScope
from pytest_runcommand.fuzz.targets import access_token, url_target
from pytest_runcommand.interactions import Interaction

SUB = "11111111-2222-3333-4444-555555555555"
SCOPE = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1", name_prefix="fuzz-")
BASE = f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", f"{BASE}/virtualMachines/vm1/runCommands/fuzz-a1"),
        ("PATCH", f"{BASE}/virtualMachines/VM1/runCommands/fuzz-a1?api-version=2024-07-01"),
        ("GET", f"{BASE}/virtualMachines/vm1/runCommands"),
        ("GET", f"https://h/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/x"),
    ],
)
def test_guard_admits_inside_the_scope(method: str, url: str) -> None:
    Guard(SCOPE).admit(method, url)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("PUT", f"{BASE}/virtualMachines/vm2/runCommands/fuzz-a1"),
        ("DELETE", f"{BASE}/virtualMachines/vm1/runCommands/production-job"),
        ("PUT", f"{BASE}/virtualMachines/vm1/runCommands/fuzz-a/../../../vm2/runCommands/fuzz-b"),
        ("GET", f"{BASE.replace('rg1', 'rg2')}/virtualMachines/vm1/runCommands"),
        ("DELETE", f"https://h/subscriptions/{SUB}/providers/Microsoft.Compute/locations/westus/operations/x"),
    ],
)
def test_guard_refuses_outside_the_scope(method: str, url: str) -> None:
    guard = Guard(SCOPE)
    with pytest.raises(GuardRefusal):
        guard.admit(method, url)
    assert guard.refused == 1
    assert guard.sent == 0


def test_guard_bounds_the_count() -> None:
    guard = Guard(SCOPE, max_requests=3)
    url = f"{BASE}/virtualMachines/vm1/runCommands"
    for _ in range(3):
        guard.admit("GET", url)
    with pytest.raises(BudgetExhausted):
        guard.admit("GET", url)
    assert guard.sent == 3


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def test_every_request_on_the_wire_is_paced(serve_app: Any) -> None:
    """The rate holds for each request the session sends: the run's cases, the checks' probes, the clean-up."""
    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    target = url_target(serve_app(_ok), token="t", scope=SCOPE, rate=2.0)
    target.guard.clock, target.guard.sleep = (lambda: now[0]), sleep
    url = f"{target.base_url}{SCOPE.parent_path}/runCommands"
    with target.open_session() as session:
        for _ in range(3):
            assert session.get(url).status_code == 200
    assert waits == [0.5, 0.5]
    assert target.guard.sent == 0  # pacing is not the budget: only the run's own cases count against it


def test_guard_remembers_what_to_clean_up() -> None:
    guard = Guard(SCOPE)
    created = f"{BASE}/virtualMachines/vm1/runCommands/fuzz-a"
    guard.note_response("PUT", created + "?api-version=2024-07-01", 201)
    guard.note_response("PUT", created + "x", 400)
    assert guard.created() == [created.split("management.azure.com")[1]]
    guard.note_response("DELETE", created, 202)  # accepted, not done: the clean-up still polls it
    assert guard.created() == [created.split("management.azure.com")[1]]
    guard.note_response("DELETE", created, 302)
    assert guard.created() == [created.split("management.azure.com")[1]]
    guard.note_response("DELETE", created, 204)
    assert guard.created() == []


@pytest.mark.parametrize(
    "kwargs",
    [{"subscription": "a/b"}, {"vm": ""}, {"name_prefix": "x"}, {"instance_id": "../0"}],
)
def test_scope_rejects_bad_names(kwargs: dict[str, Any]) -> None:
    values: dict[str, Any] = {"subscription": SUB, "resource_group": "rg1", "vm": "vm1", **kwargs}
    with pytest.raises(UsageError):
        LiveScope(**values)


def test_token_from_the_environment() -> None:
    assert access_token({"AZURE_ACCESS_TOKEN": " abc "}) == "abc"


def test_live_needs_opt_in_scope_and_https(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "t")
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZURE_VM_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert main(["fuzz", "--target", "https://management.azure.com"]) == 2
    assert "add --live" in capsys.readouterr().err
    assert main(["fuzz", "--target", "https://management.azure.com", "--live"]) == 2
    assert "--subscription" in capsys.readouterr().err
    assert main(["fuzz", "--target", "http://example.com", "--live"]) == 2
    assert "https" in capsys.readouterr().err
    assert main(["fuzz", "--target", "ftp://x"]) == 2
    assert main(["fuzz", "--operation", "Nope"]) == 2
    assert "unknown" in capsys.readouterr().err


def _cleanup_requests(line: str) -> int:
    """Requests one clean-up line stands for: the DELETE, the polls it names, the GET that confirms."""
    polls = re.search(r"after (\d+) polls?", line)
    return 2 + (int(polls.group(1)) if polls else 0)


def test_served_emulator_as_a_live_target(
    runcommand_emulator_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """The whole live path over TLS: scope, prefix, budget, clean-up polled to its end, and no token in the output;
    nor the real subscription id, in the output or the reports (review 13, finding 3: the clean-up lines had it)."""
    seen: list[Interaction] = []
    runcommand_emulator_server.app.observers.append(seen.append)
    token = "live-path-token-SENTINEL-91c2"
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", token)
    code = main(
        [
            "fuzz",
            "--target",
            runcommand_emulator_server.base_url,
            "--live",
            "--ca-cert",
            runcommand_emulator_server.ca_path,
            "--subscription",
            SUB,
            "--resource-group",
            "rg1",
            "--vm",
            "vm1",
            "--max-examples",
            "6",
            "--max-requests",
            "80",
            "--rate",
            "1000",
            "--json",
            str(tmp_path / "live.json"),
            "--junit-xml",
            str(tmp_path / "live.xml"),
        ]
    )
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert code == 0, output  # the emulator keeps the contract and everything created is deleted
    assert token not in output
    reports = (tmp_path / "live.json").read_text() + (tmp_path / "live.xml").read_text()
    assert SUB not in output + reports
    assert token not in reports
    assert "stopped early: the request budget (80) is spent" in output
    for interaction in seen:
        path = interaction.url.split("?")[0]
        if "/operations/" in path:
            assert path.startswith(f"{runcommand_emulator_server.base_url}/subscriptions/{SUB}/")
            continue
        assert f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1/" in path + "/"
        if "/runCommands/" in path:
            assert path.rsplit("/", 1)[1].startswith("fuzz-")
    cleanups = [line for line in output.splitlines() if line.startswith("clean-up: DELETE")]
    assert cleanups
    assert all(line.endswith(", gone") for line in cleanups), cleanups
    # the list read before the first unit (what existed before the run), the budget, the clean-up's requests
    expected = 1 + 80 + sum(_cleanup_requests(line) for line in cleanups)
    deadline = time.monotonic() + 5  # the server records an interaction after its answer is on the wire
    while len([i for i in seen if i.status != 401]) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    probes = [i for i in seen if i.status == 401]  # ignored_auth: the same request without a valid token
    assert len(seen) - len(probes) == expected, output
    listed = runcommand_emulator_server.backend.list(
        type(next(iter(runcommand_emulator_server.backend._vms.values())).ref)(SUB, "rg1", "vm1")
    )
    assert listed == [], json.dumps([command.name for command in listed])


def test_the_scope_is_checked_below_a_base_path() -> None:
    guard = Guard(SCOPE, base_path="/arm")
    inside = f"https://proxy.example/arm{SCOPE.parent_path}/runCommands/fuzz-a1"
    guard.admit("PUT", inside)
    for outside in (inside.replace("/arm/", "/"), inside.replace("/arm/", "/armx/"), inside.replace("fuzz-a1", "prod")):
        with pytest.raises(GuardRefusal):
            guard.admit("PUT", outside)
    assert (guard.sent, guard.refused) == (1, 3)


SEGMENTS = st.sampled_from(
    ["subscriptions", SUB, "resourceGroups", "rg1", "rg2", "providers", "Microsoft.Compute", "virtualMachines", "vm1",
     "VM1", "vm2", "runCommands", "fuzz-a", "fuzz-", "prod", "..", ".", "", "%2e%2e", "%2F", "fuzz-a%2F..%2F..",
     "locations", "westus", "operations", "op1", "a\\b", "%5C", "%00", "virtualMachineScaleSets", "0",
     "fuzz-a%5C..%5C..%5Cvm2", "fuzz-b\\..\\prod"]
)  # fmt: skip


@st.composite
def scoped_paths(draw: st.DrawFn) -> str:
    operations = f"/subscriptions/{SUB}/providers/Microsoft.Compute/locations"
    start = draw(st.sampled_from(["", SCOPE.parent_path, f"{SCOPE.parent_path}/runCommands", operations]))
    return start + "".join("/" + segment for segment in draw(st.lists(SEGMENTS, max_size=4)))


@settings(max_examples=500, deadline=None)
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]), path=scoped_paths())
def test_an_admitted_path_stays_in_the_scope_however_a_server_reads_it(method: str, path: str) -> None:
    """Whatever a server does with dot segments and encoded separators, an admitted request stays in the scope."""
    try:
        Guard(SCOPE).admit(method, f"https://management.azure.com{path}")
    except GuardRefusal:
        return
    for seen in (path, unquote(path), posixpath.normpath(unquote(path)), unquote(path).replace("\\", "/")):
        lowered = seen.lower().rstrip("/")
        runs = f"{SCOPE.parent_path}/runCommands".lower()
        if method == "GET" and (lowered == runs or "/operations/" in lowered):
            assert lowered == runs or lowered.startswith(f"/subscriptions/{SUB}/providers/microsoft.compute/locations/")
            assert ".." not in lowered.split("/")
            continue
        assert lowered.startswith(runs + "/fuzz-"), seen
        assert "/" not in lowered[len(runs) + 1 :], seen


@pytest.mark.parametrize("instance_id", [None, "0"])
def test_the_scope_fuzzes_exactly_what_its_guard_admits(instance_id: str | None) -> None:
    """The operations a scope fuzzes (from the contract's facts) are the managed ones its guard admits, plus the
    async-operation status; the other kind of VM's are refused."""
    from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, operation_route, operations_at

    scope = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1", instance_id=instance_id)
    guard = Guard(scope)
    values = {
        "vmName": "vm1",
        "vmScaleSetName": "vm1",
        "instanceId": "0",
        **scope.fixed_parameters,
        "runCommandName": "fuzz-a1",
        "location": "westus",
        "operationId": "x",
    }
    chosen = scope.operation_ids
    assert len(chosen) == 6
    assert chosen[-1] == "AsyncOperations_Get"
    for operation in (*operations_at(DEFAULT_API_VERSION, "managed"), "AsyncOperations_Get"):
        method, template = operation_route(DEFAULT_API_VERSION, operation)
        url = "https://management.azure.com" + template.format(**values)
        if operation in chosen:
            guard.check_scope(method, url)
        else:
            with pytest.raises(GuardRefusal):
                guard.check_scope(method, url)
    other = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1", instance_id=None if instance_id else "0")
    assert set(chosen[:-1]) | set(other.operation_ids[:-1]) == set(operations_at(DEFAULT_API_VERSION, "managed"))
