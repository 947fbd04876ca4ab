"""TrafficRecorder sees every exchange, whatever client carries it, and leaves the caller's response intact."""

from __future__ import annotations

import asyncio

import httpx
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
