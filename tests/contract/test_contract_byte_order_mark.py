"""One UTF-8 byte-order mark before a JSON body is no content, as `validate` reads files and .NET's readers skip it."""

from __future__ import annotations

import pytest

from pytest_runcommand import validate_request, validate_response

URL = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize("body", [BOM + b'{"properties": {}}', (BOM + b'{"properties": {}}').decode("utf-8")])
def test_a_marked_body_is_read_as_its_json(body: bytes | str) -> None:
    assert validate_request("PATCH", URL, body) == []
    violations = validate_request("PATCH", URL, BOM + b'{"properties": {"bogus": 1}}')
    assert [v.code for v in violations] == ["OBJECT_ADDITIONAL_PROPERTIES"]  # read, then judged as any body


def test_a_marked_answer_is_read_as_its_json() -> None:
    answer = BOM + b'{"error": {"code": "NotFound", "message": "gone"}}'
    assert validate_response("PATCH", URL, 404, answer) == []


@pytest.mark.parametrize("body", [BOM, BOM + BOM + b"{}", BOM + b"not json"])
def test_a_mark_alone_twice_or_before_text_is_not_json(body: bytes) -> None:
    assert [v.code for v in validate_request("PATCH", URL, body)] == ["INVALID_JSON"]
