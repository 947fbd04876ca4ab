"""Load: 50 concurrent clients x 200 requests (mixed PUT/PATCH/GET) over loopback TLS, no 5xx, no lost update."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import httpx

from pytest_runcommand.emulator.handles import ServedEmulator
from pytest_runcommand.interactions import Interaction

CLIENTS = 50
REQUESTS_PER_CLIENT = 200
SHARED = ("shared-a", "shared-b")
BASE = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/load/providers/Microsoft.Compute/virtualMachines"
Q = "?api-version=2024-07-01"


def url(name: str, vm: str = "vm-load") -> str:
    return f"{BASE}/{vm}/runCommands/{name}{Q}"


async def one_client(
    index: int, emulator: ServedEmulator, statuses: list[int], last_patch: dict[str, dict[str, Any]]
) -> None:
    rng = random.Random(index)
    private = f"private-{index}"
    headers = {"Authorization": f"Bearer {emulator.credential.get_token().token}"}
    async with httpx.AsyncClient(base_url=emulator.base_url, verify=emulator.ssl_context(), headers=headers) as client:
        response = await client.put(
            url(private), json={"location": "westus", "properties": {"source": {"script": "a"}}}
        )
        statuses.append(response.status_code)
        for step in range(REQUESTS_PER_CLIENT - 1):
            target = private if rng.random() < 0.6 else rng.choice(SHARED)
            action = rng.choice(("PUT", "PATCH", "PATCH", "GET", "GET"))
            if action == "GET":
                response = await client.get(url(target))
            elif action == "PUT" and target != private:
                body = {"location": "westus", "properties": {"source": {"script": f"put {index}-{step}"}}}
                response = await client.put(url(target), json=body)
            else:
                patch = {
                    "properties": {
                        "runAsUser": f"user-{index}-{step}",
                        "parameters": [{"name": "step", "value": str(step)}],
                    },
                    "tags": {"client": str(index)},
                }
                response = await client.patch(url(target), json=patch)
                if target == private and response.status_code == 200:
                    last_patch[private] = patch
            statuses.append(response.status_code)


async def run_load(emulator: ServedEmulator) -> tuple[list[int], dict[str, dict[str, Any]]]:
    statuses: list[int] = []
    last_patch: dict[str, dict[str, Any]] = {}
    await asyncio.gather(*(one_client(index, emulator, statuses, last_patch) for index in range(CLIENTS)))
    return statuses, last_patch


def test_fifty_clients_no_5xx_no_lost_update_bounded_memory(runcommand_emulator_server: ServedEmulator) -> None:
    emulator = runcommand_emulator_server
    emulator.backend.settings.max_operations = 500
    emulator.backend.settings.lro_polls = 3  # operations stay in flight while others write
    writes: list[Interaction] = []
    lock = threading.Lock()

    def record_shared_writes(interaction: Interaction) -> None:
        if interaction.method in ("PUT", "PATCH") and "/shared-" in interaction.url and interaction.status == 200:
            with lock:
                writes.append(interaction)

    emulator.app.observers.append(record_shared_writes)
    with emulator.client() as client:
        for name in SHARED:
            client.put(url(name), json={"location": "westus", "properties": {"source": {"script": "shared"}}})

    statuses, last_patch = asyncio.run(run_load(emulator))

    assert len(statuses) == CLIENTS * REQUESTS_PER_CLIENT
    assert all(status < 500 for status in statuses)
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert not emulator.app.internal_errors
    with emulator.client() as client:
        for name, patch in last_patch.items():
            properties = client.get(url(name)).json()["properties"]
            assert properties["runAsUser"] == patch["properties"]["runAsUser"], name
            assert properties["parameters"] == patch["properties"]["parameters"], name
        for name in SHARED:
            final = client.get(url(name)).json()
            last = [write for write in writes if f"/{name}?" in write.url][-1].response_json
            assert final["properties"]["source"] == last["properties"]["source"]
            assert final["properties"].get("runAsUser") == last["properties"].get("runAsUser")
            assert final.get("tags") == last.get("tags")
        names: list[str] = []
        next_url: str | None = f"{BASE}/vm-load/runCommands{Q}"
        while next_url:
            page = client.get(next_url).json()
            names += [item["name"] for item in page["value"]]
            next_url = page.get("nextLink")
        assert sorted(names) == sorted([*SHARED, *(f"private-{index}" for index in range(CLIENTS))])
    assert emulator.backend.operation_count <= 500, "finished operations are forgotten: memory stays bounded"
