"""A body that is not UTF-8 is named so, with its first bad byte (orjson says "surrogates not allowed at position 0")."""

from __future__ import annotations

import pytest

from pytest_runcommand import validate_request, validate_response

URL = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
    "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)
LATIN_1 = '{"properties": {"source": {"script": "Write-Host café"}}}'.encode("latin-1")


def _messages(body: bytes) -> list[str]:
    violations = validate_request("PATCH", URL, body)
    assert [v.code for v in violations] == ["INVALID_JSON"]
    return [v.message for v in violations]


def test_latin_1_is_named_with_its_first_bad_byte() -> None:
    (message,) = _messages(LATIN_1)
    position = LATIN_1.index(b"\xe9")
    assert f"not UTF-8 text (byte 0xe9 at position {position})" in message
    assert "read as UTF-8" in message
    assert "surrogates" not in message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf_16_is_named(encoding: str) -> None:
    body = '{"properties": {}}'.encode(encoding)
    (message,) = _messages(body)
    if encoding == "utf-16":  # with its byte-order mark
        assert "UTF-16 text" in message
    else:
        assert "not UTF-8 text (byte 0x" in message or "not JSON (" in message


def test_a_bad_byte_after_a_utf8_mark_is_placed_in_the_whole_body() -> None:
    (message,) = _messages(b"\xef\xbb\xbf" + LATIN_1)
    position = 3 + LATIN_1.index(b"\xe9")
    assert f"(byte 0xe9 at position {position})" in message


def test_json_syntax_keeps_its_own_message() -> None:
    (message,) = _messages(b'{"properties": ')
    assert message == "the body is not JSON (unexpected end of data at position 15)"


def test_an_answer_in_latin_1_is_named_too() -> None:
    answer = '{"error": {"code": "Conflict", "message": "déjà"}}'.encode("latin-1")
    violations = validate_response("PATCH", URL, 409, answer)
    assert [v.code for v in violations] == ["INVALID_JSON"]
    assert "not UTF-8 text" in violations[0].message
