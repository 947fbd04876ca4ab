"""A request body that is not UTF-8 gets a 400 naming that (not orjson's "surrogates not allowed"), and changes
nothing."""

from __future__ import annotations

import pytest

from pytest_runcommand.emulator.handles import InProcessEmulator


@pytest.mark.parametrize(
    ("charset", "encoding", "expected"),
    [("latin-1", "latin-1", "not UTF-8 text (byte 0xe9 at position"), ("utf-16", "utf-16", "UTF-16 text")],
)
def test_a_body_in_another_charset_is_a_400_naming_it(
    runcommand_emulator: InProcessEmulator, charset: str, encoding: str, expected: str
) -> None:
    client, path = runcommand_emulator.client, runcommand_emulator.run_command_path("rc1")
    assert client.put(path, json={"location": "westus", "properties": {"source": {"script": "ls"}}}).status_code == 201
    before = client.get(path).json()
    body = '{"properties": {"source": {"script": "echo café"}}}'.encode(encoding)
    answer = client.patch(path, content=body, headers={"Content-Type": f"application/json; charset={charset}"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "InvalidRequestContent"
    assert expected in error["message"]
    assert "read as UTF-8" in error["message"]
    assert "surrogates" not in error["message"]
    assert client.get(path).json() == before


def test_json_syntax_keeps_arm_s_wording(runcommand_emulator: InProcessEmulator) -> None:
    client, path = runcommand_emulator.client, runcommand_emulator.run_command_path("rc1")
    answer = client.patch(path, content=b'{"properties": ', headers={"Content-Type": "application/json"})
    assert answer.status_code == 400
    assert "unexpected end of data. Path '', line 1, position" in answer.json()["error"]["message"]
