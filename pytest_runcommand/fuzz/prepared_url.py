"""The URL ``requests`` would prepare, computed without it for the plain URLs a fuzz run sends.

``PreparedRequest.prepare_url`` parses the URL with urllib3, re-encodes each part, re-quotes the whole and appends
the query parameters: a fifth of the cost of sending a case to the in-process emulator. For a URL already in the
form that process leaves unchanged (http or https, a lowercase host name, an optional port, a path of characters
both urllib3 and ``requote_uri`` keep as they are, upper-case percent escapes of reserved characters only, no dot
segment, no query or fragment of its own) and query parameters in a dict, the result is the URL followed by the
parameters encoded as ``requests`` encodes them. Anything else returns None: ``requests`` prepares it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from requests.models import RequestEncodingMixin

__all__ = ["prepared_origin_path_query", "prepared_url"]

_PLAIN = re.compile(
    r"(https?://[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[1-9][0-9]{0,4})?)"  # scheme, host, port
    r"(/(?:[A-Za-z0-9\-._~!$&'()*+,=:@/]++|%[0-9A-F]{2})*+)"  # path: kept characters, escapes (possessive: no
)  # backtracking on a path that does not match)
_DOT_SEGMENT = re.compile(r"/\.\.?(?=/|$)")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")
"""An upper-case escape (the literal stays: hypothesis draws from the short literals of the modules loaded)."""
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_UNRESERVED_ESCAPE = re.compile(r"%(?:3[0-9]|4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|2[DE]|5F|7E)")
"""An upper-case escape of a character of :data:`_UNRESERVED` (digits, letters, ``-._~``)."""
_MAX_PORT = 65535


def prepared_url(url: str, params: Any) -> str | None:
    """``PreparedRequest.prepare_url(url, params)``'s result, or None where this shortcut does not apply."""
    parts = prepared_origin_path_query(url, params)
    if parts is None:
        return None
    query = parts[2]
    return f"{url}?{query}" if query else url


def prepared_origin_path_query(url: str, params: Any) -> tuple[str, str, str] | None:
    """The parts of :func:`prepared_url`'s result: origin (scheme, host, port), path and query (``""`` for none);
    None where the shortcut does not apply."""
    match = _PLAIN.fullmatch(url)
    if match is None:
        return None
    origin, path = match.groups()
    if _DOT_SEGMENT.search(path):
        return None  # urllib3 removes dot segments
    if "%" in path and _UNRESERVED_ESCAPE.search(path):
        return None  # requote_uri decodes escapes of unreserved characters
    _, _, port = origin.rpartition(":")
    if port.isdigit() and int(port) > _MAX_PORT:
        return None
    query = _encoded(params)
    if query is None:
        return None
    return origin, path, query


_QUERIES: dict[tuple[tuple[str, str | None], ...], str] = {}
"""Encoded queries by their parameters (a run sends the same few again and again; bounded)."""
_MAX_QUERIES = 1024


def _encoded(params: Any) -> str | None:
    """``RequestEncodingMixin._encode_params`` for a dict; None for anything else. Str (or None) values are kept by
    their parameters; others (lists, numbers, objects a negative case draws) are encoded by requests itself."""
    if not params:
        return ""
    if type(params) is not dict:
        return None
    key = tuple(params.items())
    for name, value in key:
        if type(name) is not str or (value is not None and type(value) is not str):
            return _encoded_by_requests(params)
    query = _QUERIES.get(key)
    if query is None:
        pairs = [(name.encode("utf-8"), value.encode("utf-8")) for name, value in key if value is not None]
        query = urlencode(pairs, doseq=True)
        if len(_QUERIES) >= _MAX_QUERIES:
            _QUERIES.clear()
        _QUERIES[key] = query
    return query


def _encoded_by_requests(params: dict[Any, Any]) -> str | None:
    """requests' own encoding of ``params`` (``urlencode``'s output, which ``requote_uri`` leaves as it is: every
    character but the unreserved ones and ``=&+`` escaped); None where it raises (requests raises it again)."""
    try:
        query = RequestEncodingMixin._encode_params(params)  # type: ignore[attr-defined]
    except Exception:
        return None
    return query if isinstance(query, str) else None
