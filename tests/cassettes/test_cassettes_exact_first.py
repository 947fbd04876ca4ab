"""Replay plays an exact match before one at a placeholder: a recorded ``REDACTED`` stands for any text, but a request
that an interaction matches exactly is not handed an earlier one that matched only at the placeholder (with
``allow_playback_repeats``, or out of recorded order, it was)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pytest_runcommand.cassettes.matchers import literal_fit

BASE = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
    "/Microsoft.Compute/virtualMachines/vm1/runCommands/"
)
QUERY = "?api-version=2024-07-01"


def _interaction(name: str, marker: str, body: str = "") -> dict[str, object]:
    return {
        "request": {"method": "GET", "uri": BASE + name + QUERY, "body": body or None, "headers": {}},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": f'{{"name": "{marker}"}}'},
        },
    }


def _write(path: Path, *interactions: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"version": 1, "interactions": list(interactions)}), encoding="utf-8")


TEST = f"""
import httpx
import pytest

BASE = {BASE!r}
QUERY = {QUERY!r}


@pytest.fixture(scope="module")
def vcr_config():
    return {{"allow_playback_repeats": True}}


@pytest.mark.vcr
def test_each_name_gets_its_own_answer():
    with httpx.Client() as client:
        for _ in range(2):
            assert client.get(BASE + "other" + QUERY).json() == {{"name": "exact"}}
        assert client.get(BASE + "first-secret-name" + QUERY).json() == {{"name": "placeholder"}}
"""


def test_a_repeated_request_gets_its_exact_match_not_an_earlier_placeholder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_names=TEST)
    cassette = pytester.path / "cassettes" / "test_names" / "test_each_name_gets_its_own_answer.yaml"
    # recorded first: a run command whose name was a learned secret (scrubbed from its URL), then "other"
    _write(cassette, _interaction("REDACTED", "placeholder"), _interaction("other", "exact"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--record-mode=none", "--block-network")
    result.assert_outcomes(passed=1)


def test_literal_fit_tells_a_placeholder_standing_for_text_from_none() -> None:
    from vcr.request import Request

    sent = Request("GET", BASE + "other" + QUERY, None, {})
    assert literal_fit(sent, Request("GET", BASE + "other" + QUERY, None, {}))
    assert not literal_fit(sent, Request("GET", BASE + "REDACTED" + QUERY, None, {}))
    redacted = Request("GET", BASE + "REDACTED" + QUERY, None, {})
    assert literal_fit(redacted, Request("GET", BASE + "REDACTED" + QUERY, None, {}))  # the sanitized request sent
    body = Request("PUT", BASE + "a" + QUERY, b'{"p": "REDACTED"}', {})
    assert not literal_fit(Request("PUT", BASE + "a" + QUERY, b'{"p": "x1"}', {}), body)
    assert literal_fit(Request("PUT", BASE + "a" + QUERY, b'{ "p":"REDACTED" }', {}), body)
