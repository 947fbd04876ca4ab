"""The URL shortcut of the in-process transport gives exactly what ``requests`` prepares, or steps aside."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.fuzz.prepared_url import _ESCAPE, _UNRESERVED, _UNRESERVED_ESCAPE, prepared_url

_KEPT = [*"aZ09-._~!$&'()*+,=:@", "%2F", "%C3%A9", "%20"]
_CHANGED = [*';/%?#[] "<>\\^`{|}\x7f\u00e9\u2028', "%2f", "%7E", "%41", "%G1", ".", ".."]
_SEGMENT = st.lists(
    st.one_of(st.sampled_from(_KEPT), st.sampled_from(_KEPT), st.sampled_from(_CHANGED)), max_size=6
).map("".join)
_TRICKY = "".join(_KEPT + _CHANGED)
_PLAIN_ORIGINS = ["http://testserver", "https://testserver", "http://127.0.0.1:8443", "http://h:80"]
_OTHER_ORIGINS = ["https://h.example:0443", "http://Host", "http://h:99999", "HTTP://h", "http://[::1]:80", "http://.h"]
_ORIGIN = st.one_of(st.sampled_from(_PLAIN_ORIGINS), st.sampled_from(_PLAIN_ORIGINS + _OTHER_ORIGINS))
_VALUE = st.one_of(
    st.text(alphabet=_TRICKY, max_size=6),
    st.none(),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.text(max_size=2)),
    st.recursive(  # what a negative case draws for an undeclared query parameter
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(alphabet=_TRICKY, max_size=3)),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=6,
    ),
)
_PARAMS = st.one_of(
    st.dictionaries(st.text(alphabet=_TRICKY, max_size=5), st.text(alphabet=_TRICKY, max_size=6), max_size=3),
    st.none(),
    st.dictionaries(st.text(alphabet=_TRICKY, max_size=5), _VALUE, max_size=3),
)


def _requests(url: str, params: Any) -> str:
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, params)
    return str(prepared.url)


@settings(max_examples=1500, deadline=None)
@given(origin=_ORIGIN, segments=st.lists(_SEGMENT, min_size=1, max_size=5), params=_PARAMS)
def test_the_shortcut_agrees_with_requests(origin: str, segments: list[str], params: Any) -> None:
    url = origin + "/" + "/".join(segments)
    fast = prepared_url(url, params)
    if fast is not None:
        assert fast == _requests(url, params)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("http://testserver/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/"
         "runCommands/rc1", {"api-version": "2024-07-01"}),
        ("http://testserver/subscriptions/s/resourceGroups/%C3%A9%20x/providers/Microsoft.Compute/virtualMachines/"
         "v%2F1/runCommand", {"api-version": "2024-07-01", "$expand": "instanceView é&="}),
        ("https://127.0.0.1:8443/subscriptions/s/providers/Microsoft.Compute/locations/westus/operations/x", None),
    ],
)  # fmt: skip
def test_what_a_fuzz_run_sends_takes_the_shortcut(url: str, params: Any) -> None:
    assert prepared_url(url, params) == _requests(url, params)


@pytest.mark.parametrize(
    "url", ["http://testserver/a/../b", "http://testserver/a%7Eb", "http://testserver/a?x=1", "http://Testserver/a"]
)
def test_what_requests_would_change_is_left_to_requests(url: str) -> None:
    assert prepared_url(url, {"api-version": "2024-07-01"}) is None


def test_the_escapes_of_unreserved_characters_are_those_of_the_set() -> None:
    for code in range(256):
        escape = f"%{code:02X}"
        assert _ESCAPE.fullmatch(escape)
        assert bool(_UNRESERVED_ESCAPE.fullmatch(escape)) == (chr(code) in _UNRESERVED), escape
