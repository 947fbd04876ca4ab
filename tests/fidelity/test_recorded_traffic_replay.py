"""Azure's own recordings (tests/data/real-traffic: the Azure CLI at 2022-03-01, Azure PowerShell at 2021-07-01)
replayed against the emulator, answer by answer: status, long-running-operation headers, ids and rate-limit
headers, body shape (every key path) and states.

Every difference that remains is listed in ``KNOWN`` with its reason: the test fails on a new one, and on a
listed one that went away (so the list is always the truth, never hidden slack).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from reference_data import DATA

from pytest_runcommand.emulator.handles import InProcessEmulator

RECORDS = DATA / "real-traffic"
HEADERS = ("azure-asyncoperation", "location", "retry-after", "azure-asyncnotification")
RATE_LIMITS = tuple(f"x-ms-ratelimit-remaining-subscription-{kind}" for kind in ("reads", "writes", "deletes"))


@dataclass
class Record:
    method: str
    url: str
    body: str | None
    status: int
    headers: dict[str, str]
    response: Any


def _azure_cli() -> list[Record]:
    document = yaml.safe_load((RECORDS / "azure-cli" / "test_run_command_v2.yaml").read_text())
    found = []
    for item in document["interactions"]:
        request, response = item["request"], item["response"]
        if "runCommands" in request["uri"] or "/operations/" in request["uri"]:
            text = response["body"]["string"]
            headers = {name.lower(): values[0] for name, values in response["headers"].items()}
            found.append(
                Record(
                    request["method"], request["uri"], request["body"], response["status"]["code"], headers,
                    json.loads(text) if text else None,
                )
            )  # fmt: skip
    return found


def _powershell(name: str) -> list[Record]:
    found = []
    for entry in json.loads((RECORDS / "azure-powershell" / name).read_text()).values():
        request, response = entry["Request"], entry["Response"]
        headers = {k.lower(): v[0] for k, v in {**response["Headers"], **response["ContentHeaders"]}.items()}
        content = response["Content"]
        found.append(
            Record(
                request["Method"], request["RequestUri"], request["Content"], response["StatusCode"], headers,
                json.loads(content) if content else None,
            )
        )  # fmt: skip
    return found


def _paths(value: Any, prefix: str = "") -> Iterator[str]:
    """Every key path of a JSON value (list items as ``[]``)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{prefix}/{key}"
            yield from _paths(item, f"{prefix}/{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, f"{prefix}/[]")


def _states(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    properties = body.get("properties") or {}
    view = properties.get("instanceView") or {}
    return {
        "status": body.get("status"),
        "provisioningState": properties.get("provisioningState"),
        "executionState": view.get("executionState"),
    }


def _differences(emulator: InProcessEmulator, records: list[Record]) -> list[str]:
    """What the emulator answered differently from Azure, one line per difference, in replay order."""
    client, operation, found = emulator.client, "", []
    for record in records:
        parts = urlsplit(record.url)
        url = operation if "/operations/" in parts.path else f"{parts.path}?{parts.query}"
        kind = f"{record.method} {'operation' if '/operations/' in parts.path else parts.path.rpartition('/')[2]}"
        headers = {"Content-Type": "application/json"} if record.body else {}
        answer = client.request(record.method, url, content=record.body, headers=headers)
        operation = answer.headers.get("azure-asyncoperation", operation)
        if answer.status_code != record.status:
            found.append(f"{kind}: status {answer.status_code}, Azure {record.status}")
        for name in HEADERS:
            if (name in answer.headers) != (name in record.headers):
                found.append(f"{kind}: {name} {'sent' if name in answer.headers else 'missing'}")
        kept = "x-ms-request-id" in record.headers  # the Azure CLI's recorder dropped ARM's x-ms-* headers
        for name in RATE_LIMITS if kept else ():
            if (name in answer.headers) != (name in record.headers):
                found.append(f"{kind}: {name} {'sent' if name in answer.headers else 'missing'}")
        if kept and "azure-asyncoperation" in record.headers:
            recorded_same = record.headers["x-ms-request-id"] in record.headers["azure-asyncoperation"]
            ours_same = answer.headers["x-ms-request-id"] in answer.headers.get("azure-asyncoperation", "")
            if recorded_same != ours_same:
                found.append(f"{kind}: x-ms-request-id is {'' if ours_same else 'not '}the operation id")
        if answer.headers.get("x-ms-correlation-request-id") == answer.headers.get("x-ms-request-id"):
            found.append(f"{kind}: correlation id equals request id")
        ours = answer.json() if answer.content else None
        theirs_paths, ours_paths = set(_paths(record.response)), set(_paths(ours))
        for path in sorted(ours_paths - theirs_paths):
            found.append(f"{kind}: extra {path}")
        for path in sorted(theirs_paths - ours_paths):
            found.append(f"{kind}: missing {path}")
        for key, value in _states(record.response).items():
            mine = _states(ours).get(key)
            if value is not None and mine != value:
                found.append(f"{kind}: {key} {mine}, Azure {value}")
    return found


_SOURCE_EMPTY = [  # `source: {}` (lenient only; strict rejects it): Azure left the run "Running" with its failure
    # message and no statuses; the emulator ends it Failed with a statuses entry, which a test can wait for
    *(
        f"GET cmd-000003: extra /properties/instanceView/statuses{path}"
        for path in ("", "/[]/code", "/[]/displayStatus", "/[]/level", "/[]/message", "/[]/time")
    ),
    "GET cmd-000003: executionState Failed, Azure Running",
]
KNOWN: dict[str, list[str]] = {
    "azure-cli": _SOURCE_EMPTY,
    "powershell-set": [
        # Azure's GET still read "Updating" after the operation had succeeded (eventual consistency); the
        # emulator's resource is Succeeded once its operation is
        "GET firstruncommand1: provisioningState Succeeded, Azure Updating",
    ],
    "powershell-remove": [],
}
"""Differences that stay, with the reason beside each (README, "Where the emulator differs from Azure")."""


def _replay(emulator: InProcessEmulator, name: str) -> list[str]:
    emulator.backend.settings.strict = False  # the recordings send what Azure accepts (source: {})
    emulator.backend.settings.retry_after = None  # Azure sends none at these versions; the default 0 is for speed
    if name == "azure-cli":
        return _differences(emulator, _azure_cli())
    records = _powershell(
        "Set-AzVMRunCommand.Recording.json" if name == "powershell-set" else "Remove-AzVMRunCommand.Recording.json"
    )
    vm = records[0].url.split("/runCommands/")[0].split("management.azure.com")[1]
    emulator.backend.add_vm(vm, "eastus")
    emulator.client.put(records[0].url.split("management.azure.com")[1], json={"location": "eastus"})
    return _differences(emulator, records)


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_the_recordings_replayed_differ_only_as_listed(runcommand_emulator: InProcessEmulator, name: str) -> None:
    found = _replay(runcommand_emulator, name)
    assert found == KNOWN[name]
