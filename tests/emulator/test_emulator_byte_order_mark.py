"""A body behind one UTF-8 byte-order mark (PowerShell 5.1's `-InFile` of a file it wrote) is read as its JSON."""

from __future__ import annotations

from pytest_runcommand.emulator.handles import InProcessEmulator

BOM = b"\xef\xbb\xbf"


def test_a_marked_put_and_patch_are_served(runcommand_emulator: InProcessEmulator) -> None:
    client, path = runcommand_emulator.client, runcommand_emulator.run_command_path("rc1")
    json_type = {"Content-Type": "application/json; charset=utf-8"}
    created = client.put(
        path, content=BOM + b'{"location": "westus", "properties": {"source": {"script": "ls"}}}', headers=json_type
    )
    assert created.status_code == 201, created.text
    updated = client.patch(path, content=BOM + b'{"properties": {"runAsUser": "ops"}}', headers=json_type)
    assert updated.status_code == 200, updated.text
    assert client.get(path).json()["properties"]["runAsUser"] == "ops"


def test_two_marks_are_not_json(runcommand_emulator: InProcessEmulator) -> None:
    client, path = runcommand_emulator.client, runcommand_emulator.run_command_path("rc1")
    answer = client.patch(path, content=BOM + BOM + b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "InvalidRequestContent"
