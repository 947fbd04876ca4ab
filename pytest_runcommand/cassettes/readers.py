"""Read recorded traffic from disk into :class:`~pytest_runcommand.interactions.Interaction` values.

Two formats are understood:

* vcrpy cassettes (YAML, or JSON with the same ``{"version": 1, "interactions": [...]}`` shape);
* Azure PowerShell (AutoRest ``HttpPipelineMocking``) session records: a JSON object whose values hold
  ``Request`` / ``Response`` entries.

YAML is loaded with PyYAML's safe loader: a ``!!python/...`` tag is an error, never executed. Every problem
is an :class:`~pytest_runcommand.errors.InputError` naming the file and the place (line, interaction index,
field), never a bare traceback.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pytest_runcommand.errors import InputError
from pytest_runcommand.interactions import Interaction

__all__ = ["CassetteFile", "pair_interaction", "read_cassette", "read_powershell_record", "read_vcr_cassette"]

try:  # the C loader is faster; both are safe loaders
    _SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _SafeLoader = yaml.SafeLoader


@dataclass(frozen=True)
class CassetteFile:
    """The interactions of one file, its format and, when known, the line where each interaction starts."""

    path: Path
    format: str
    """``"vcrpy-yaml"``, ``"vcrpy-json"`` or ``"powershell-json"``."""
    interactions: tuple[Interaction, ...]
    lines: tuple[int | None, ...]

    def place(self, index: int) -> str:
        """``file:line (interaction #index)`` for messages."""
        line = self.lines[index] if 0 <= index < len(self.lines) else None
        where = f"{self.path}:{line}" if line else str(self.path)
        return f"{where} (interaction #{index})"


def read_cassette(path: str | Path) -> CassetteFile:
    """Read a vcrpy cassette or an Azure PowerShell session record, chosen by content."""
    file = Path(path)
    text = _read_text(file)
    if file.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        data = _load_json(file, text)
        if isinstance(data, dict) and "interactions" in data:
            return _vcr_from_data(file, data, "vcrpy-json", None)
        if isinstance(data, dict):
            return _powershell_from_data(file, data, text)
        raise InputError(f"{file}: expected a JSON object (a vcrpy cassette or an Azure PowerShell record)")
    return read_vcr_cassette(file, text)


def read_vcr_cassette(path: str | Path, text: str | None = None) -> CassetteFile:
    """Read a vcrpy YAML cassette."""
    file = Path(path)
    if text is None:
        text = _read_text(file)
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = error.problem or error.context or "invalid YAML"
        raise InputError(f"{where}: not a readable YAML cassette: {problem}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{file}: not a readable YAML cassette: {error}") from None
    finally:
        loader.dispose()
    return _vcr_from_data(file, data, "vcrpy-yaml", _interaction_lines(node))


def read_powershell_record(path: str | Path) -> CassetteFile:
    """Read an Azure PowerShell ``*.Recording.json`` session record."""
    file = Path(path)
    text = _read_text(file)
    data = _load_json(file, text)
    if not isinstance(data, dict):
        raise InputError(f"{file}: expected a JSON object of recorded calls")
    return _powershell_from_data(file, data, text)


# -- vcrpy ----------------------------------------------------------------------------------------------


def _interaction_lines(node: yaml.Node | None) -> tuple[int | None, ...] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "interactions" and isinstance(value, yaml.SequenceNode):
            return tuple(item.start_mark.line + 1 for item in value.value)
    return None


def _vcr_from_data(file: Path, data: Any, fmt: str, lines: tuple[int | None, ...] | None) -> CassetteFile:
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
        interactions.append(_vcr_interaction(item, f"{place}: interactions[{index}]", f"{file.name}#{index}"))
    return CassetteFile(file, fmt, tuple(interactions), lines)


def _vcr_interaction(item: Any, where: str, source: str) -> Interaction:
    request = _mapping(item, "request", where)
    response = _mapping(item, "response", where)
    method = _string(request, "method", f"{where}.request")
    uri = _string(request, "uri", f"{where}.request")
    request_headers = _vcr_headers(request.get("headers"), f"{where}.request.headers")
    request_body = _vcr_body(request.get("body"), f"{where}.request.body")
    status_block = _mapping(response, "status", f"{where}.response")
    code = status_block.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        raise InputError(f"{where}.response.status.code: expected an integer status code, got {_kind(code)}")
    response_headers = _vcr_headers(response.get("headers"), f"{where}.response.headers")
    body_block = response.get("body")
    if body_block is None:
        response_body: bytes | str | None = None
    elif isinstance(body_block, dict):
        response_body = _vcr_body(body_block.get("string"), f"{where}.response.body.string")
    else:
        raise InputError(f"{where}.response.body: expected a mapping with 'string'")
    response_body = _decode_content(response_body, response_headers, f"{where}.response.body")
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
        if isinstance(values, list):
            if not all(isinstance(v, str | int) for v in values):
                raise InputError(f"{where}.{name}: expected a list of strings")
            headers[str(name)] = ", ".join(str(v) for v in values)
        elif isinstance(values, str | int):
            headers[str(name)] = str(values)
        else:
            raise InputError(f"{where}.{name}: expected a string or a list of strings")
    return headers


def _vcr_body(value: Any, where: str) -> bytes | str | None:
    if value is None or isinstance(value, bytes | str):
        return value
    if isinstance(value, dict) and "string" in value:  # some recorders nest the request body too
        return _vcr_body(value["string"], where)
    raise InputError(f"{where}: expected a string, binary data or null, got {type(value).__name__}")


def _decode_content(body: bytes | str | None, headers: Mapping[str, str], where: str) -> bytes | str | None:
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "").strip().lower()
    if not isinstance(body, bytes) or encoding not in {"gzip", "deflate"}:
        return body
    try:
        return gzip.decompress(body) if encoding == "gzip" else zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        raise InputError(f"{where}: body says Content-Encoding {encoding} but does not decompress") from None


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def pair_interaction(request: Any, response: dict[str, Any], source: str) -> Interaction:
    """A vcrpy (request, response) pair in memory as an ``Interaction`` (``source``: where it came from)."""
    response_headers = {
        _text(name): ", ".join(_text(v) for v in values) if isinstance(values, list) else _text(values)
        for name, values in (response.get("headers") or {}).items()
    }
    body = (response.get("body") or {}).get("string")
    status = (response.get("status") or {}).get("code")
    request_body = request.body if isinstance(request.body, bytes | str) or request.body is None else None
    return Interaction(
        method=request.method,
        url=request.uri,
        request_headers={_text(k): _text(v) for k, v in request.headers.items()},
        request_body=request_body,
        status=status if isinstance(status, int) else None,
        response_headers=response_headers,
        response_body=body,
        source=source,
    )


# -- Azure PowerShell -----------------------------------------------------------------------------------


def _powershell_from_data(file: Path, data: dict[str, Any], text: str) -> CassetteFile:
    interactions = []
    lines = []
    search_from = 0
    for index, (key, entry) in enumerate(data.items()):
        line, search_from = _line_of_key(text, key, search_from)
        lines.append(line)
        where = f"{file}:{line}" if line else str(file)
        where = f"{where}: entry {index}"
        interactions.append(_powershell_interaction(entry, where, f"{file.name}#{index}"))
    return CassetteFile(file, "powershell-json", tuple(interactions), tuple(lines))


def _powershell_interaction(entry: Any, where: str, source: str) -> Interaction:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected an object with Request and Response")
    request = _mapping(entry, "Request", where)
    response = _mapping(entry, "Response", where)
    method = _string(request, "Method", f"{where}.Request")
    uri = _string(request, "RequestUri", f"{where}.Request")
    status = response.get("StatusCode")
    if not isinstance(status, int) or isinstance(status, bool):
        raise InputError(f"{where}.Response.StatusCode: expected an integer, got {_kind(status)}")
    return Interaction(
        method=method,
        url=uri,
        request_headers=_ps_headers(request, f"{where}.Request"),
        request_body=_ps_content(request, f"{where}.Request"),
        status=status,
        response_headers=_ps_headers(response, f"{where}.Response"),
        response_body=_ps_content(response, f"{where}.Response"),
        source=source,
    )


def _ps_headers(block: dict[str, Any], where: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for field in ("Headers", "ContentHeaders"):
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


def _ps_content(block: dict[str, Any], where: str) -> bytes | str | None:
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


# -- helpers --------------------------------------------------------------------------------------------


def _read_text(file: Path) -> str:
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, expected a cassette file") from None
    except OSError as error:
        raise InputError(f"{file}: cannot be read: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: byte {error.start} is not UTF-8; a cassette is UTF-8 text") from None


def _load_json(file: Path, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{file}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None


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


def _mapping(container: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = container.get(key) if isinstance(container, Mapping) else None
    if not isinstance(value, dict):
        if isinstance(container, Mapping) and key not in container:
            raise InputError(f"{where}: missing '{key}'")
        raise InputError(f"{where}.{key}: expected a mapping")
    return value


def _string(container: Mapping[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        if key not in container:
            raise InputError(f"{where}: missing '{key}'")
        raise InputError(f"{where}.{key}: expected a non-empty string, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    """A wrong value for a message: short scalars verbatim, anything else by type (it may hold a secret)."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str) and len(value) <= 20 and "=" not in value:
        return repr(value)
    return f"a {type(value).__name__}"
