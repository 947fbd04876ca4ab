"""The ``json_body`` matcher's message: the JSON pointers that differ with both values, secrets masked, never a
preview cut before the difference."""

from __future__ import annotations

import json
from typing import Any

import pytest
from vcr.request import Request

from pytest_runcommand.cassettes.matchers import json_body

URL = "https://management.azure.com/x?api-version=2024-07-01"
LONG_URI = "https://scripts.blob.core.windows.net/logs/" + "a" * 300 + ".txt?sv=2022-11-02&sig=REDACTED"


def _request(body: Any) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request("PATCH", URL, raw, {})


def _difference(sent: Any, recorded: Any) -> str:
    with pytest.raises(AssertionError) as caught:
        json_body(_request(sent), _request(recorded))
    return str(caught.value)


def _body(**properties: Any) -> dict[str, Any]:
    return {"properties": {"errorBlobUri": LONG_URI, "timeoutInSeconds": 900, **properties}}


def test_the_changed_key_is_named_after_a_long_value() -> None:
    message = _difference(_body(timeoutInSeconds=901), _body())
    assert message == "at /properties/timeoutInSeconds: recorded 900, sent 901"


def test_added_and_removed_keys_and_list_items_read_absent() -> None:
    sent = {"properties": {"parameters": [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]}, "tags": {}}
    recorded = {"properties": {"parameters": [{"name": "a", "value": "1"}], "asyncExecution": False}}
    message = _difference(sent, recorded)
    assert message == (
        'at /properties/parameters/1: recorded (absent), sent {"name":"b","value":"2"}; '
        "at /properties/asyncExecution: recorded false, sent (absent); at /tags: recorded (absent), sent {}"
    )


def test_values_under_secret_fields_are_masked() -> None:
    sent = _body(runAsPassword="Password-PLANTED", protectedParameters=[{"name": "TOKEN", "value": "Tok-PLANTED"}])
    recorded = _body(runAsPassword="hand-edited", protectedParameters=[{"name": "TOKEN", "value": "hand-edited"}])
    message = _difference(sent, recorded)
    assert "PLANTED" not in message
    assert 'at /properties/runAsPassword: recorded "***", sent "***"' in message
    assert "at /properties/protectedParameters/0/value:" in message
    signed = _difference(_body(errorBlobUri="https://h/x?sig=Sig-PLANTED"), _body(errorBlobUri="https://h/x"))
    assert "PLANTED" not in signed
    assert "sig=***" in signed
    # beside a recorded value with a placeholder, the sent one is masked from its first difference on
    beside = _difference(_body(errorBlobUri="https://h/x?sig=Sig-PLANTED"), _body())
    assert beside.endswith('sent "https://REDACTED"'), beside


def test_many_differences_are_counted_and_a_string_is_not_a_number() -> None:
    sent = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5}
    recorded = {"a": 0, "b": 0, "c": 0, "d": 0, "e": 0}
    assert _difference(sent, recorded).endswith("at /c: recorded 0, sent 3; and 2 more")
    assert _difference({"e": "1"}, {"e": 1}) == 'at /e: recorded 1, sent "1"'


def test_keys_with_slashes_are_escaped_and_non_json_bodies_shown_whole() -> None:
    assert _difference({"a/b~": 1}, {"a/b~": 2}) == "at /a~1b~0: recorded 2, sent 1"
    assert _difference(b"plain text", {"a": 1}) == 'body: recorded {"a":1}, sent plain text'
