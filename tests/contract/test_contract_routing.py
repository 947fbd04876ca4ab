"""Routing a method and URL to an operation, and reading the api-version, give what the plain reading gives: every
operation is tried in document order with its pattern, and the query is read by ``parse_qsl`` (a repeated
``api-version`` read as ARM reads it: its values joined with commas)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.contract.document import Contract, get_contract, query_api_version, split_url
from pytest_runcommand.contract.facts import API_VERSIONS

_CONTRACT = get_contract()
_TEMPLATES = sorted({operation.path for operation in _CONTRACT.operations})
_SEGMENT = st.text(alphabet="aZ0-._~%2FE/+ é", max_size=8)
_QUERY_TEXT = st.one_of(
    st.text(alphabet="api-version=&2024-07-01%2D+;x", max_size=40),
    st.lists(st.sampled_from(["api-version=2024-07-01", "api-version", "api-version=", "a=+", "%2C", "x=1"])).map(
        "&".join
    ),
)
_VERSIONS = st.sampled_from(sorted(API_VERSIONS))


def _plain_match(contract: Contract, method: str, url: str) -> Any:
    """Each operation in document order, its pattern on the unquoted path, the query by parse_qsl."""
    _, raw_path, raw_query = split_url(url)
    path = unquote(raw_path)
    for operation in contract.operations:
        if operation.method != method:
            continue
        found = operation.pattern.match(path)
        if found is None:
            continue
        params = {name: found.group(re.sub(r"\W", "_", name)) for name in operation.path_parameter_names}
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        if "api-version" in query:
            query["api-version"] = _plain_api_version(raw_query) or ""
        return operation.operation_id, params, query
    return None


def _plain_api_version(raw_query: str) -> str | None:
    """Every ``api-version`` value ``parse_qsl`` reads, joined with commas (None: there is none)."""
    values = [value for name, value in parse_qsl(raw_query, keep_blank_values=True) if name == "api-version"]
    return ",".join(values) if values else None


def _view(match: Any) -> Any:
    return None if match is None else (match.operation_id, dict(match.path_params), dict(match.query))


@st.composite
def _urls(draw: st.DrawFn) -> str:
    template = draw(st.sampled_from(_TEMPLATES))
    path = re.sub(r"\{[^}]+\}", lambda _: draw(_SEGMENT), template)
    if draw(st.booleans()):
        path = path.upper() if draw(st.booleans()) else path + draw(st.sampled_from(["/", "/x", "//", "/x/y"]))
    query = draw(st.one_of(_QUERY_TEXT, _VERSIONS.map(lambda version: f"api-version={version}")))
    origin = draw(st.sampled_from(["", "https://management.azure.com", "http://127.0.0.1:8080"]))
    return f"{origin}{path}?{query}" if query else origin + path


@settings(max_examples=600, deadline=None)
@given(method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POST", "HEAD"]), url=_urls())
def test_an_operation_is_found_as_the_plain_reading_finds_it(method: str, url: str) -> None:
    contract = Contract(_CONTRACT.document, _CONTRACT.api_versions)  # a fresh one: nothing cached
    assert _view(contract.match(method, url)) == _plain_match(contract, method, url)


@settings(max_examples=600, deadline=None)
@given(url=_urls())
def test_the_api_version_is_read_as_parse_qsl_reads_it(url: str) -> None:
    query_api_version.cache_clear()
    query = split_url(url)[2]
    assert query_api_version(url) == _plain_api_version(query)


def test_the_examples_that_matter() -> None:
    assert query_api_version("/x?api-version=1&api-version=2") == "1,2"  # as ARM reads it (review 13, finding 12)
    assert query_api_version("/x?api-version") == ""
    assert query_api_version("/x?api-version=a+b%2C") == "a b,"
    assert query_api_version("/x?xapi-version=1") is None
    vm = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
    for url in (vm, vm + "/", vm.upper(), vm.replace("/rc", "/r%2Fc")):
        assert _view(_CONTRACT.match("GET", url)) == _plain_match(_CONTRACT, "GET", url), url
    assert _CONTRACT.match("GET", vm + "/x") is None
