"""Azure PowerShell session records as interactions: two formats, chosen by shape.

* AutoRest ``HttpPipelineMocking`` records (``*.Recording.json``): an object whose values hold ``Request`` and
  ``Response`` entries;
* ``Microsoft.Azure.Test.HttpRecorder`` session records (``SessionRecords/*.json``): ``{"Entries": [...]}`` with
  ``RequestUri``, ``RequestMethod``, ``RequestHeaders``, ``RequestBody``, ``StatusCode``, ``ResponseHeaders`` and
  ``ResponseBody`` per entry (``EncodedRequestUri`` is the same URI in base64; the secret scan decodes it).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from pytest_runcommand.cassettes.loading import check_uri, kind, mapping, string
from pytest_runcommand.errors import InputError
from pytest_runcommand.interactions import Interaction

__all__ = ["is_session_record", "powershell_interactions", "session_record_interactions"]

Parsed = tuple[list[Interaction], list[int | None]]


def is_session_record(data: dict[str, Any]) -> bool:
    return isinstance(data.get("Entries"), list)


def _line_of_key(text: str, key: str, start: int) -> tuple[int | None, int]:
    encoded = json.dumps(key)
    position = -1
    for candidate in (encoded, encoded.replace("&", "\\u0026"), json.dumps(key, ensure_ascii=False)):
        position = text.find(candidate, start)
        if position >= 0:
            break
    if position < 0:
        return None, start
    return text.count("\n", 0, position) + 1, position + 1


def powershell_interactions(file: Path, data: dict[str, Any], text: str) -> Parsed:
    """The entries of an AutoRest ``HttpPipelineMocking`` record."""
    interactions = []
    lines = []
    search_from = 0
    for index, (key, entry) in enumerate(data.items()):
        line, search_from = _line_of_key(text, key, search_from)
        lines.append(line)
        where = f"{file}:{line}" if line else str(file)
        interactions.append(_powershell_interaction(entry, f"{where}: entry {index}", f"{file.name}#{index}"))
    return interactions, lines


def _powershell_interaction(entry: Any, where: str, source: str) -> Interaction:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object with Request and Response")
    request = mapping(entry, "Request", where)
    response = mapping(entry, "Response", where)
    method = string(request, "Method", f"{where}.Request")
    uri = check_uri(string(request, "RequestUri", f"{where}.Request"), f"{where}.Request.RequestUri")
    status = response.get("StatusCode")
    if not isinstance(status, int) or isinstance(status, bool):
        raise InputError(f"{where}.Response.StatusCode: expected an integer, got {kind(status)}")
    return Interaction(
        method=method,
        url=uri,
        request_headers=_headers(request, ("Headers", "ContentHeaders"), f"{where}.Request"),
        request_body=_content(request, f"{where}.Request"),
        status=status,
        response_headers=_headers(response, ("Headers", "ContentHeaders"), f"{where}.Response"),
        response_body=_content(response, f"{where}.Response"),
        source=source,
    )


def session_record_interactions(file: Path, data: dict[str, Any], text: str) -> Parsed:
    """The entries of an ``HttpRecorder`` session record."""
    interactions = []
    lines = []
    search_from = 0
    for index, entry in enumerate(data["Entries"]):
        line, search_from = _line_of_key(text, "RequestUri", search_from)
        lines.append(line)
        where = f"{file}:{line}" if line else str(file)
        interactions.append(_session_interaction(entry, f"{where}: Entries[{index}]", f"{file.name}#{index}"))
    return interactions, lines


def _session_interaction(entry: Any, where: str, source: str) -> Interaction:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object with RequestUri, RequestMethod and StatusCode")
    method = string(entry, "RequestMethod", where)
    uri = check_uri(string(entry, "RequestUri", where), f"{where}.RequestUri")
    status = entry.get("StatusCode")
    if not isinstance(status, int) or isinstance(status, bool):
        raise InputError(f"{where}.StatusCode: expected an integer, got {kind(status)}")
    return Interaction(
        method=method,
        url=uri,
        request_headers=_headers(entry, ("RequestHeaders",), where),
        request_body=_text_field(entry, "RequestBody", where),
        status=status,
        response_headers=_headers(entry, ("ResponseHeaders",), where),
        response_body=_text_field(entry, "ResponseBody", where),
        source=source,
    )


def _text_field(block: dict[str, Any], key: str, where: str) -> str | None:
    value = block.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f"{where}.{key}: expected a string or null, got {kind(value)}")
    return value


def _headers(block: dict[str, Any], fields: tuple[str, ...], where: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for field in fields:
        value = block.get(field)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise InputError(f"{where}.{field}: expected an object of header name to values")
        for name, values in value.items():
            if isinstance(values, list) and all(isinstance(v, str) for v in values):
                headers[name] = ", ".join(values)
            elif isinstance(values, str):
                headers[name] = values
            else:
                raise InputError(f"{where}.{field}.{name}: expected a list of strings")
    return headers


def _content(block: dict[str, Any], where: str) -> bytes | str | None:
    content = block.get("Content")
    if content is None:
        return None
    if not isinstance(content, str):
        raise InputError(f"{where}.Content: expected a string or null")
    if block.get("isContentBase64") is True:
        try:
            return base64.b64decode(content, validate=True)
        except ValueError:
            raise InputError(f"{where}.Content: isContentBase64 is true but the content is not base64") from None
    return content
