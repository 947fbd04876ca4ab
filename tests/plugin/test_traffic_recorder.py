"""TrafficRecorder sees every exchange, whatever client carries it, and leaves the caller's response intact."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import requests

from pytest_runcommand.traffic import TrafficRecorder

BODY = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}


def test_requests_with_a_stream_is_seen_and_still_readable(runcommand_emulator_server) -> None:  # type: ignore[no-untyped-def]
    server = runcommand_emulator_server
    url = server.url(server.run_command_path("rc1"))
    headers = {"Authorization": f"Bearer {server.credential.get_token().token}"}
    with TrafficRecorder("t") as recorder, requests.Session() as session:
        answer = session.put(url, json=BODY, headers=headers, verify=server.ca_path, stream=True)
        assert answer.json()["properties"]["provisioningState"] == "Creating"
    (seen,) = recorder.interactions
    assert (seen.method, seen.status, seen.source) == ("PUT", 201, "t#1")
    assert seen.response_json["name"] == "rc1"
    assert seen.request_json == BODY


def test_httpx_sync_and_async_are_seen(runcommand_emulator) -> None:  # type: ignore[no-untyped-def]
    path = runcommand_emulator.run_command_path("rc1")
    with TrafficRecorder() as recorder:
        runcommand_emulator.client.put(path, json=BODY)

        async def read() -> int:
            transport = httpx.ASGITransport(app=runcommand_emulator.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver", headers=runcommand_emulator.client.headers
            ) as client:
                return (await client.get(path)).status_code

        assert asyncio.run(read()) == 200
    assert [(i.method, i.status) for i in recorder.interactions] == [("PUT", 201), ("GET", 200)]


def test_nothing_is_patched_once_every_recorder_stopped() -> None:
    original = httpx.Client.send, requests.Session.send
    with TrafficRecorder(), TrafficRecorder():
        assert httpx.Client.send is not original[0]
    assert (httpx.Client.send, requests.Session.send) == original


def test_traffic_from_another_process_is_seen_once_through_the_served_emulator(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it='''
import subprocess, sys
import httpx

CHILD = """
import httpx, sys
url, ca, token = sys.argv[1:4]
body = {"location": "westus", "properties": {"source": {"script": "ls"}, "provisioningState": "x"}}
print(httpx.put(url, json=body, verify=ca, headers={"Authorization": "Bearer " + token}).status_code)
"""

def test_child(runcommand_emulator_server, runcommand_contract):
    server = runcommand_emulator_server
    url = server.url(server.run_command_path("rc1"))
    token = server.credential.get_token().token
    with server.client() as client:  # in this process: seen once, not twice
        assert client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"}}}).status_code == 201
    assert len(runcommand_contract.interactions) == 1
    done = subprocess.run([sys.executable, "-c", CHILD, url, server.ca_path, token], capture_output=True, text=True)
    assert done.stdout.strip() == "400", done.stderr
    assert len(runcommand_contract.interactions) == 2
'''
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*in 1 of 2 interaction(s)*", "*READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST*"])


def test_a_clients_copy_stands_in_until_the_servers_copy_arrives() -> None:
    from types import SimpleNamespace

    from pytest_runcommand.interactions import Interaction

    app = SimpleNamespace(observers=[])
    url = "https://127.0.0.1:8443/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
    recorder = TrafficRecorder("t")
    recorder.watch_emulator(app, "https://127.0.0.1:8443/")
    client_copy = Interaction("PUT", url + "?api-version=2024-07-01", status=201)
    recorder._client_side(client_copy)  # the answer reached the client before the server reported it
    assert recorder.interactions == [client_copy]
    (observer,) = app.observers
    observer(Interaction("PUT", url + "?api-version=2024-07-01", status=201, source="pytest-runcommand emulator"))
    (only,) = recorder.interactions
    assert only is not client_copy  # the server's copy replaces the stand-in
    assert only.source == "t#1"
    observer(Interaction("GET", url + "?api-version=2024-07-01", status=200))  # another process's request
    assert [(i.method, i.source) for i in recorder.interactions] == [("PUT", "t#1"), ("GET", "t#2")]
    recorder.stop()
    assert app.observers == []
