"""Free text (log records, failure messages) sanitized line by line."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.cassettes.free_text import _header_line, sanitize_free_text
from pytest_runcommand.cassettes.sanitize import default_sanitizer

SENTINEL = "Sentinel-Fr33-Text-42"
JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyJ9.c2lnbmF0dXJlZm9ybWU"


def clean(text: str) -> str:
    return sanitize_free_text(default_sanitizer().fresh(), text)


def test_a_header_line_goes_through_the_header_rules() -> None:
    assert clean(f"    'Authorization': 'Bearer {SENTINEL}'\n") == "    'Authorization': 'Bearer REDACTED'\n"
    assert clean(f"Authorization: Basic {SENTINEL}") == "Authorization: Basic REDACTED"
    assert clean("    'Content-Type': 'application/json'") == "    'Content-Type': 'application/json'"


def test_a_json_document_on_a_line_goes_through_the_body_rules() -> None:
    body = f'Request body: {{"properties": {{"runAsUser": "ops", "runAsPassword": "{SENTINEL}"}}}}'
    assert clean(body) == 'Request body: {"properties":{"runAsUser":"ops","runAsPassword":"REDACTED"}}'
    listed = f'[{{"name": "a", "value": "1"}}, {{"protectedParameters": [{{"name": "k", "value": "{SENTINEL}"}}]}}]'
    assert SENTINEL not in clean(listed)
    assert '"name":"k"' in clean(listed)  # a protected parameter's name is no secret


@pytest.mark.parametrize(
    "line",
    [
        f'body=b\'{{"runAsPassword": "{SENTINEL}"}}\'',  # a bytes repr: not JSON
        f"{{'runAsPassword': '{SENTINEL}'}}",  # a Python dict display
        f"runAsPassword={SENTINEL[:3]} {SENTINEL[3:]}",
        f"<runAsPassword>{SENTINEL}</runAsPassword>",
        f"protectedparameters: {SENTINEL}",  # any case of the name
    ],
)
def test_a_line_naming_a_secret_property_that_cannot_be_cleaned_is_withheld(line: str) -> None:
    shown = clean(f"  before\n  {line}\n  after")
    assert SENTINEL not in shown
    assert SENTINEL[3:] not in shown
    assert shown.startswith("  before\n  [a line naming ")
    assert "not shown: it cannot be sanitized with certainty]\n  after" in shown


def test_tokens_of_a_known_shape_are_masked_anywhere() -> None:
    assert clean(f"got token {JWT} from the cache") == "got token REDACTED from the cache"
    assert clean(f"{{'Authorization': 'Bearer {SENTINEL}x'}}") == "{'Authorization': 'Bearer REDACTED'}"


def test_url_secrets_and_subscription_ids_use_the_text_rules() -> None:
    shown = clean(
        f"GET https://a.blob.core.windows.net/c/b?sv=1&sig={SENTINEL} and"
        " /subscriptions/12345678-1234-1234-1234-123456789abc/resourceGroups/rg"
    )
    assert SENTINEL not in shown
    assert "12345678-1234" not in shown
    assert "sig=REDACTED" in shown


def test_a_secret_seen_once_is_scrubbed_from_later_text() -> None:
    sanitizer = default_sanitizer().fresh()
    sanitize_free_text(sanitizer, f'{{"properties": {{"runAsPassword": "{SENTINEL}"}}}}')
    assert sanitize_free_text(sanitizer, f"the script printed {SENTINEL}") == "the script printed REDACTED"


def test_text_without_secrets_is_unchanged() -> None:
    text = 'HTTP Request: PUT http://127.0.0.1:5000/x "HTTP/1.1 201 Created"\r\n{"a": [1, 2]}\n\nlast'
    assert clean(text) == text


def test_a_contract_violation_line_is_kept_its_value_masked_by_construction() -> None:
    line = 'E         [request] INVALID_TYPE at /properties/runAsPassword: expected string, got integer (got "***")'
    assert clean(line) == line


def test_this_packages_own_message_may_name_a_secret_property_as_a_place() -> None:
    line = "(interaction #0) request.body /properties/runAsPassword: secret-field <hidden, 16 chars>"
    assert clean(line).startswith("[a line naming runAsPassword not shown")
    assert sanitize_free_text(default_sanitizer().fresh(), line, withhold=False) == line


WHOLE_LINE = re.compile(r"^(\s*)(['\"]?)([!#$%&*+.^_`|~0-9A-Za-z-]+)\2(\s*:\s*)(['\"]?)(.*?)\5(\s*,?\s*)$")
"""How a header line was read before: one pattern for the whole line (its lazy value backtracked over blanks)."""


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=" \t'\",:;=xA-_", max_size=24))
def test_a_header_line_is_split_as_the_whole_line_pattern_split_it(rest: str) -> None:
    line = "  'x-ms-custom'" + rest
    old = WHOLE_LINE.match(line)
    new = _header_line(line)
    if old is None:
        assert new is None
    else:
        indent, quote, name, colon, value_quote, value, tail = old.groups()
        assert new == (f"{indent}{quote}{name}{quote}{colon}", name, value_quote, value, tail)


@pytest.mark.parametrize("prefix", ["Status: ok", "'x-ms-foo': '", "https://host/path?", "Authorization: Bearer "])
def test_a_long_run_of_blanks_is_sanitized_in_linear_time(prefix: str) -> None:
    line = prefix + " \t" * 1_500 + f"done {SENTINEL}"  # the whole-line pattern: about a minute on this line
    sanitizer = default_sanitizer().fresh()
    sanitize_free_text(sanitizer, f'{{"properties": {{"runAsPassword": "{SENTINEL}"}}}}')  # learned
    started = time.perf_counter()
    cleaned = sanitize_free_text(sanitizer, line)
    assert time.perf_counter() - started < 5  # ~10 ms here; generous for a loaded CI machine
    assert SENTINEL not in cleaned


@pytest.mark.parametrize(
    "line",
    ["x " + "a-" * 200_000 + " ... end", "password " + "a-" * 200_000 + " ...", "pwd" * 100_000, "'" + "b." * 200_000],
)
def test_a_long_line_of_many_word_boundaries_is_sanitized_in_linear_time(line: str) -> None:
    """The key=value rule and the shortened-repr note (review 14, findings 18 and 19) each read a 400 KB line at once:
    a first version of the key=value pattern took ten seconds on 16 KB of ``a-a-a-``."""
    from pytest_runcommand.cassettes.free_text import mask_truncated_reprs

    started = time.perf_counter()
    sanitize_free_text(default_sanitizer().fresh(), line)
    mask_truncated_reprs(line)
    assert time.perf_counter() - started < 5  # ~0.1 s here; generous for a loaded CI machine
