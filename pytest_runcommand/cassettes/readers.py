"""Read recorded traffic from disk into :class:`~pytest_runcommand.interactions.Interaction` values.

Two formats are understood:

* vcrpy cassettes (YAML, or JSON with the same ``{"version": 1, "interactions": [...]}`` shape);
* Azure PowerShell session records, both the AutoRest ``HttpPipelineMocking`` and the ``HttpRecorder``
  ``{"Entries": [...]}`` format (see :mod:`pytest_runcommand.cassettes.records`).

YAML is loaded with PyYAML's safe loader, bounded (see :mod:`pytest_runcommand.cassettes.loading`): a
``!!python/...`` tag is an error, never executed, and an alias bomb is refused. Every problem is an
:class:`~pytest_runcommand.errors.InputError` naming the file and the place (line, interaction index, field),
never a bare traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_runcommand.cassettes.decode import Undecodable, as_text, decompress, without_bom
from pytest_runcommand.cassettes.loading import (
    _NotARecording,
    check_uri,
    kind,
    load_json,
    load_yaml,
    mapping,
    read_text,
    string,
)
from pytest_runcommand.cassettes.records import is_session_record, powershell_interactions, session_record_interactions
from pytest_runcommand.errors import InputError
from pytest_runcommand.interactions import Interaction

__all__ = [
    "CassetteFile",
    "looks_like_recording",
    "pair_interaction",
    "read_cassette",
    "read_powershell_record",
    "read_vcr_cassette",
    "vcr_interaction",
]


@dataclass(frozen=True)
class CassetteFile:
    """The interactions of one file, its format and, when known, the line where each interaction starts."""

    path: Path
    format: str
    """``"vcrpy-yaml"``, ``"vcrpy-json"``, ``"powershell-json"`` or ``"session-record-json"``."""
    interactions: tuple[Interaction, ...]
    lines: tuple[int | None, ...]
    text: str = ""
    """The file's text, as read (for the raw-text secret scan)."""

    def place(self, index: int) -> str:
        """``file:line (interaction #index)`` for messages."""
        line = self.lines[index] if 0 <= index < len(self.lines) else None
        where = f"{self.path}:{line}" if line else str(self.path)
        return f"{where} (interaction #{index})"


def read_cassette(path: str | Path, *, recordings_only: bool = False) -> CassetteFile:
    """Read a vcrpy cassette or an Azure PowerShell session record, chosen by content.

    With ``recordings_only`` (a file found by walking a folder), a file that reads but shows no sign of any of
    these formats raises an ``InputError`` saying so (``_NotARecording``) instead of being read as one:
    a ``package.json``, a ``config.yaml``, a report. A recording that is broken is an ``InputError`` as always.
    """
    file = Path(path)
    text = read_text(file)
    if file.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        data = load_json(file, text)
        if not looks_like_recording(data) and (recordings_only or data != {}):  # {}: a record of no calls
            message = f"{file}: not a recording: {_NO_FORMAT}"
            raise _NotARecording(message) if recordings_only else InputError(message)
        if isinstance(data, dict) and "interactions" in data:
            return _vcr_from_data(file, data, "vcrpy-json", None, text)
        if isinstance(data, dict):
            return _record_from_data(file, data, text)
        raise InputError(f"{file}: expected a JSON object (a vcrpy cassette or an Azure PowerShell record)")
    return read_vcr_cassette(file, text, recordings_only=recordings_only)


_NO_FORMAT = (
    "a JSON document with neither 'interactions' (a vcrpy cassette) nor 'Entries' (a session record) nor recorded "
    "calls holding 'Request' or 'Response' (an Azure PowerShell record)"
)


def looks_like_recording(data: Any) -> bool:
    """Whether a parsed JSON/YAML document has the top level of a format the readers know (valid or not): vcrpy's
    ``interactions``, a session record's ``Entries`` (HttpRecorder, the Azure SDK test proxy), or an AutoRest
    record's object of calls (a value holding ``Request`` or ``Response``)."""
    if not isinstance(data, dict):
        return False
    if "interactions" in data or "Entries" in data:
        return True
    return any(isinstance(entry, dict) and ("Request" in entry or "Response" in entry) for entry in data.values())


def read_vcr_cassette(path: str | Path, text: str | None = None, *, recordings_only: bool = False) -> CassetteFile:
    """Read a vcrpy YAML cassette."""
    file = Path(path)
    if text is None:
        text = read_text(file)
    data, node = load_yaml(file, text, recordings_only=recordings_only)
    return _vcr_from_data(file, data, "vcrpy-yaml", _interaction_lines(node), text)


def read_powershell_record(path: str | Path) -> CassetteFile:
    """Read an Azure PowerShell session record (``*.Recording.json`` or ``SessionRecords/*.json``)."""
    file = Path(path)
    text = read_text(file)
    data = load_json(file, text)
    if not isinstance(data, dict):
        raise InputError(f"{file}: expected a JSON object of recorded calls")
    return _record_from_data(file, data, text)


def _record_from_data(file: Path, data: dict[str, Any], text: str) -> CassetteFile:
    if is_session_record(data):
        interactions, lines = session_record_interactions(file, data, text)
        return CassetteFile(file, "session-record-json", _without_boms(interactions), tuple(lines), text)
    interactions, lines = powershell_interactions(file, data, text)
    return CassetteFile(file, "powershell-json", _without_boms(interactions), tuple(lines), text)


def _without_boms(interactions: list[Interaction]) -> tuple[Interaction, ...]:
    """The interactions with each body behind a byte-order mark read as its text (as ``validate`` reads files):
    vcrpy YAML bodies and PowerShell records may carry one, and JSON parsers refuse it."""
    for interaction in interactions:
        if isinstance(interaction.request_body, bytes | str):
            interaction.request_body = without_bom(interaction.request_body)
        if isinstance(interaction.response_body, bytes | str):
            interaction.response_body = without_bom(interaction.response_body)
    return tuple(interactions)


# -- vcrpy ----------------------------------------------------------------------------------------------


def _interaction_lines(node: yaml.Node | None) -> tuple[int | None, ...] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "interactions" and isinstance(value, yaml.SequenceNode):
            return tuple(item.start_mark.line + 1 for item in value.value)
    return None


def _vcr_from_data(file: Path, data: Any, fmt: str, lines: tuple[int | None, ...] | None, text: str) -> CassetteFile:
    if not isinstance(data, dict):
        raise InputError(f"{file}: not a vcrpy cassette: expected a mapping with an 'interactions' list")
    items = data.get("interactions")
    if not isinstance(items, list):
        raise InputError(f"{file}: not a vcrpy cassette: 'interactions' must be a list")
    if lines is None or len(lines) != len(items):
        lines = tuple(None for _ in items)
    interactions = []
    for index, item in enumerate(items):
        place = f"{file}:{lines[index]}" if lines[index] else str(file)
        interactions.append(vcr_interaction(item, f"{place}: interactions[{index}]", f"{file.name}#{index}"))
    return CassetteFile(file, fmt, _without_boms(interactions), lines, text)


def vcr_interaction(item: Any, where: str, source: str) -> Interaction:
    """One vcrpy interaction (``{"request": ..., "response": ...}``) checked and read; ``where`` names it in errors.
    Replay checks what vcrpy loaded with it too, so both refuse the same hand edits."""
    request = mapping(item, "request", where)
    response = mapping(item, "response", where)
    method = string(request, "method", f"{where}.request")
    uri = check_uri(string(request, "uri", f"{where}.request"), f"{where}.request.uri")
    request_headers = _vcr_headers(request.get("headers"), f"{where}.request.headers")
    request_body = _vcr_body(request.get("body"), f"{where}.request.body")
    status_block = mapping(response, "status", f"{where}.response")
    code = status_block.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        raise InputError(f"{where}.response.status.code: expected an integer status code, got {kind(code)}")
    response_headers = _vcr_headers(response.get("headers"), f"{where}.response.headers")
    body_block = response.get("body")
    if body_block is None:
        response_body: bytes | str | None = None
    elif isinstance(body_block, dict):
        response_body = _vcr_body(body_block.get("string"), f"{where}.response.body.string")
    else:
        raise InputError(f"{where}.response.body: expected a mapping with 'string'")
    response_body = _decode_content(response_body, response_headers)
    return Interaction(
        method=method,
        url=uri,
        request_headers=request_headers,
        request_body=request_body,
        status=code,
        response_headers=response_headers,
        response_body=response_body,
        source=source,
    )


def _vcr_headers(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected a mapping of header name to values")
    headers: dict[str, str] = {}
    for name, values in value.items():
        items = values if isinstance(values, list) else [values]
        if not all(isinstance(v, str | int | bytes) and not isinstance(v, bool) for v in items):
            raise InputError(f"{where}.{as_text(name)}: expected a string or a list of strings")
        headers[as_text(name)] = ", ".join(as_text(v) for v in items)
    return headers


def _vcr_body(value: Any, where: str) -> bytes | str | None:
    if value is None or isinstance(value, bytes | str):
        return value
    if isinstance(value, dict) and "string" in value:  # some recorders nest the request body too
        return _vcr_body(value["string"], where)
    raise InputError(f"{where}: expected a string, binary data or null, got {type(value).__name__}")


def _decode_content(body: bytes | str | None, headers: dict[str, str]) -> bytes | str | None:
    """The body with its content codings undone (and the header dropped); as recorded if it does not decode
    (the secret scan then reports it: a body that cannot be read cannot be shown clean)."""
    key = next((k for k in headers if k.lower() == "content-encoding"), None)
    if key is None or not isinstance(body, bytes):
        return body
    try:
        decoded = decompress(body, headers[key])
    except Undecodable:
        return body
    del headers[key]
    return decoded


def pair_interaction(request: Any, response: dict[str, Any], source: str) -> Interaction:
    """A vcrpy (request, response) pair in memory as an ``Interaction`` (``source``: where it came from)."""
    response_headers = {
        as_text(name): ", ".join(as_text(v) for v in values) if isinstance(values, list) else as_text(values)
        for name, values in (response.get("headers") or {}).items()
    }
    body = (response.get("body") or {}).get("string")
    status = (response.get("status") or {}).get("code")
    request_body = request.body if isinstance(request.body, bytes | str) or request.body is None else None
    return Interaction(
        method=request.method,
        url=request.uri,
        request_headers={as_text(k): as_text(v) for k, v in request.headers.items()},
        request_body=without_bom(request_body),
        status=status if isinstance(status, int) else None,
        response_headers=response_headers,
        response_body=without_bom(body) if isinstance(body, bytes | str) else body,
        source=source,
    )
