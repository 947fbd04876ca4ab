"""The in-process httpx transport: the calling thread's own loop, a private thread's loop under async code."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

from pytest_runcommand.emulator.app import EmulatorApp
from pytest_runcommand.emulator.transport import SyncASGITransport, asgi_client

CATALOGUE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Compute/locations/westus/runCommands"
)
QUERY = "?api-version=2024-07-01"


def test_a_plain_call_uses_no_thread_and_each_thread_its_own_loop() -> None:
    client = asgi_client(EmulatorApp(), headers={"Authorization": "Bearer t"})
    before = threading.active_count()
    assert client.get(CATALOGUE + QUERY).status_code == 200
    assert threading.active_count() == before, "no background thread for a call from plain code"
    answers: list[int] = []
    worker = threading.Thread(
        target=lambda: answers.append(client.get(CATALOGUE + "/RunShellScript" + QUERY).status_code)
    )
    worker.start()
    worker.join()
    assert answers == [200]
    transport = client._transport
    assert isinstance(transport, SyncASGITransport)
    loops = list(transport._thread_loops)
    assert len(loops) == 2, "one loop per calling thread"
    client.close()
    assert all(loop.is_closed() for loop in loops)


def test_a_call_from_async_code_is_answered_on_the_private_loop() -> None:
    client = asgi_client(EmulatorApp(), headers={"Authorization": "Bearer t"})

    async def from_a_coroutine() -> int:
        return client.get(CATALOGUE + QUERY).status_code

    assert asyncio.run(from_a_coroutine()) == 200
    assert client._transport._thread is not None  # type: ignore[attr-defined]
    client.close()


def test_a_client_never_closed_leaves_no_open_loop() -> None:
    client = asgi_client(EmulatorApp(), headers={"Authorization": "Bearer t"})
    assert client.get(CATALOGUE + QUERY).status_code == 200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del client
        gc.collect()
    assert not [w for w in caught if "unclosed event loop" in str(w.message)]
