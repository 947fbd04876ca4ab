"""Every documented example conforms: the reference page's sample request and response, and the x-ms-examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from reference_data import EXAMPLES, REFERENCE_DOC

from pytest_runcommand import validate_request, validate_response

METHOD_BY_EXAMPLE = {
    "VirtualMachineRunCommand_Update": "PATCH",
    "VirtualMachineRunCommand_CreateOrUpdate": "PUT",
    "VirtualMachineRunCommand_Delete": "DELETE",
    "VirtualMachineRunCommand_Get": "GET",
    "VirtualMachineRunCommand_List": "GET",
}


def sample(heading: str) -> Any:
    """The JSON block that follows ``heading`` in the reference page."""
    text = REFERENCE_DOC.read_text(encoding="utf-8")
    start = text.index("\n{", text.index(heading)) + 1
    value, _ = json.JSONDecoder().raw_decode(text[start:])
    return value


def sample_url() -> str:
    text = REFERENCE_DOC.read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("PATCH https://") and "myVM" in line)
    return line.removeprefix("PATCH ").replace("{subscription-id}", "00000000-0000-0000-0000-000000000000")


def test_the_sample_request_of_the_reference_page_conforms() -> None:
    body = sample("Sample request")
    assert body["properties"]["runAsPassword"] == "<runAsPassword>"
    assert validate_request("PATCH", sample_url(), body) == []


def test_the_sample_response_of_the_reference_page_conforms() -> None:
    body = sample("Sample response")
    assert body["properties"]["provisioningState"] == "Updating"
    assert validate_response("PATCH", sample_url(), 200, json.dumps(body).encode()) == []


def example_url(example: dict[str, Any], name: str) -> str:
    p = example["parameters"]
    url = (
        f"https://management.azure.com/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
        f"/providers/Microsoft.Compute/virtualMachines/{p['vmName']}/runCommands"
    )
    if "runCommandName" in p:
        url += f"/{p['runCommandName']}"
    return f"{url}?api-version={p['api-version']}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: f"{path.parent.parent.parent.name}/{path.stem}")
def test_x_ms_example_conforms(path: Path) -> None:
    example = json.loads(path.read_text(encoding="utf-8"))
    method = METHOD_BY_EXAMPLE[path.stem]
    url = example_url(example, path.stem)
    body = example["parameters"].get("runCommand")
    assert validate_request(method, url, body) == []
    assert example["responses"], "an example without responses proves nothing"
    for status, response in example["responses"].items():
        headers = response.get("headers")
        assert validate_response(method, url, int(status), response.get("body"), headers) == [], status


def test_there_are_examples_for_every_operation_kind() -> None:
    assert {path.stem for path in EXAMPLES} == set(METHOD_BY_EXAMPLE)
