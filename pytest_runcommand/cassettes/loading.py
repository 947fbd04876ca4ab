"""Bounded loading of recorded-traffic files: text, JSON and YAML that cannot exhaust memory or the stack.

Every problem is an :class:`~pytest_runcommand.errors.InputError` naming the file and the place:

* JSON nested past :data:`MAX_DEPTH` levels, or an integer longer than Python converts (4,300 digits);
* YAML whose aliases would expand past :data:`MAX_EXPANDED_BYTES` (an alias bomb: a 1 MB anchor referenced 300
  times is refused before anything is built from it), nested past the YAML parser's own limit, or with a tag
  outside the safe set (a ``!!python/...`` tag is an error, never executed);
* a URI that does not parse (``]`` in the host, a port that is not a number).

Also the field helpers the readers share (:func:`mapping`, :func:`string`, :func:`kind`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

import yaml

from pytest_runcommand.cassettes.decode import MAX_JSON_DEPTH, Undecodable, decode, json_depth, starts_with_bom
from pytest_runcommand.errors import InputError

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPANDED_BYTES",
    "check_uri",
    "kind",
    "load_json",
    "load_yaml",
    "mapping",
    "read_limited",
    "read_text",
    "string",
]

MAX_DEPTH = MAX_JSON_DEPTH
"""Deepest nesting a cassette file (or a JSON body in it) may have."""

MAX_EXPANDED_BYTES = 64 * 1024 * 1024
"""Largest size a cassette file may have, and a YAML document once its aliases are expanded."""

try:  # the C loader is faster; both are safe loaders
    _SafeLoader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - libyaml missing
    _SafeLoader = yaml.SafeLoader


class _NotARecording(InputError):
    """The file reads, but is not recorded traffic of any format the readers know (raised only when asked to tell:
    a file found by walking a folder)."""


def read_limited(stream: BinaryIO, limit: int, name: str, what: str) -> bytes:
    """All of ``stream`` when it holds at most ``limit`` bytes; past that an :class:`InputError` naming ``name`` and
    the limit (``what`` says whose), having read only ``limit + 1`` bytes (a pipe or /dev/zero never ends)."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{name}: larger than {limit:,} bytes, {what}; not read further")
    return data


def read_text(file: Path) -> str:
    try:
        with file.open("rb") as stream:
            raw = read_limited(stream, MAX_EXPANDED_BYTES, str(file), "the largest cassette file read")
    except FileNotFoundError:
        raise InputError(f"{file}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{file}: is a directory, expected a cassette file") from None
    except OSError as error:
        raise InputError(f"{file}: cannot be read: {error.strerror or error}") from None
    if starts_with_bom(raw):  # as validate reads files: PowerShell 5.1 writes UTF-16 with a mark, and UTF-8 with one
        try:
            return decode(raw, None)[0] or ""
        except Undecodable as error:
            raise InputError(f"{file}: {error}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{file}: byte {error.start} is not UTF-8; a cassette is UTF-8 text") from None


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def _too_deep_at(text: str, limit: int) -> int:
    """Offset where JSON ``text`` first nests deeper than ``limit`` (strings skipped), or -1."""
    depth = 0
    in_string = escaped = False
    for offset, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return offset
        elif char in "]}":
            depth -= 1
    return -1


class _LongInteger(ValueError):
    pass


def _parse_int(digits: str) -> int:
    if len(digits) > sys.get_int_max_str_digits() > 0:
        raise _LongInteger(digits[:12])
    return int(digits)


def load_json(file: Path, text: str, what: str = "", *, invalid_ok: bool = False) -> Any:
    """Parse JSON ``text`` of ``file``; ``what`` names a place inside the file (a body) for messages.

    With ``invalid_ok``, text that is not JSON gives None (a body that is not JSON is the contract's business);
    JSON past the bounds is an :class:`InputError` either way.
    """
    where = f"{file}{what}"
    try:
        document = json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        if invalid_ok:
            return None
        raise InputError(f"{where}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}") from None
    except _LongInteger as error:
        offset = text.find(str(error))
        raise InputError(
            f"{where}:{_line_col(text, max(offset, 0))}: an integer longer than {sys.get_int_max_str_digits()} "
            "digits (Python refuses to read it)"
        ) from None
    except RecursionError:
        offset = _too_deep_at(text, MAX_DEPTH)
        raise InputError(
            f"{where}:{_line_col(text, max(offset, 0))}: JSON nested deeper than {MAX_DEPTH} levels"
        ) from None
    if json_depth(document) > MAX_DEPTH:
        offset = _too_deep_at(text, MAX_DEPTH)
        raise InputError(f"{where}:{_line_col(text, max(offset, 0))}: JSON nested deeper than {MAX_DEPTH} levels")
    return document


def _expanded_shape(root: yaml.Node) -> tuple[int, int]:
    """Bytes of scalars the node graph holds once every alias is expanded (shared nodes counted per use, at most
    :data:`MAX_EXPANDED_BYTES` + 1), and the nesting depth of the document it builds; each node is visited once,
    however many aliases use it. A node that holds itself (an alias inside its own anchor) raises
    :class:`_Recursive`."""
    shapes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in shapes:
            continue
        if isinstance(node, yaml.ScalarNode):
            shapes[key] = (len(node.value) + 1, 0)
            continue
        children = node.value if isinstance(node, yaml.SequenceNode) else [c for kv in node.value for c in kv]
        if done:
            open_nodes.discard(key)
            size = 1 + sum(shapes[id(child)][0] for child in children)
            values = children if isinstance(node, yaml.SequenceNode) else [value for _, value in node.value]
            depth = 1 + max((shapes[id(value)][1] for value in values), default=0)
            shapes[key] = (min(size, MAX_EXPANDED_BYTES + 1), depth)
            continue
        if key in open_nodes:  # reached again from below itself: only an alias inside its own anchor does that
            raise _Recursive
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in shapes)
    return shapes[id(root)]


class _Recursive(Exception):
    """A YAML node holds itself."""


def load_yaml(file: Path, text: str, *, recordings_only: bool = False) -> tuple[Any, yaml.Node | None]:
    """The document and its root node (for line numbers), loaded with the safe loader and bounded.

    With ``recordings_only``, a document whose top level is not a mapping with ``interactions`` raises
    :class:`_NotARecording` before anything is built from it (its tags are never constructed).
    """
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if recordings_only and not _has_top_key(node, "interactions"):
            raise _NotARecording(f"{file}: not a recording (a YAML document without 'interactions')")
        size, depth = _expanded_shape(node) if node is not None else (0, 0)
        if size > MAX_EXPANDED_BYTES:
            raise InputError(
                f"{file}: refused: its YAML aliases expand past {MAX_EXPANDED_BYTES // (1024 * 1024)} MB "
                "(an alias bomb, not a recording)"
            )
        if depth > MAX_DEPTH:
            raise InputError(f"{file}: not a readable YAML cassette: nested deeper than {MAX_DEPTH} levels")
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else str(file)
        problem = error.problem or error.context or "invalid YAML"
        raise InputError(f"{where}: not a readable YAML cassette: {problem}") from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow (a control character, say)
        place = _reader_error_place(file, text)
        problem = f"unacceptable character #x{_code(error.character):04x}: {error.reason}"
        raise InputError(f"{place}: not a readable YAML cassette: {problem}") from None
    except yaml.YAMLError as error:
        raise InputError(f"{file}: not a readable YAML cassette: {_first_line(error)}") from None
    except RecursionError:
        raise InputError(f"{file}: not a readable YAML cassette: nested too deep") from None
    except _Recursive:
        raise InputError(
            f"{file}: refused: a YAML alias inside its own anchor (a document that holds itself)"
        ) from None
    finally:
        loader.dispose()
    return data, node


def _has_top_key(node: yaml.Node | None, key: str) -> bool:
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(name, yaml.ScalarNode) and name.value == key for name, _ in node.value
    )


def _reader_error_place(file: Path, text: str) -> str:
    """``file:line:column`` of the character the YAML reader refused (libyaml counts bytes, not characters: the
    place is found again in the text, as the reader finds it: the first character YAML does not allow)."""
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return str(file)
    return f"{file}:{_line_col(text, found.start())}"


def _code(character: Any) -> int:
    if isinstance(character, int):
        return character
    return ord(character[:1]) if isinstance(character, str | bytes) and character else 0


def _first_line(error: BaseException) -> str:
    """PyYAML's text without its ``in "<unicode string>", position N`` line (one line per error)."""
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def check_uri(uri: str, where: str) -> str:
    """``uri`` if it parses as a URL (host and port included); an :class:`InputError` naming ``where`` if not."""
    try:
        _ = urlsplit(uri).port
    except ValueError as error:
        raise InputError(f"{where}: not a valid URL: {error}") from None
    return uri


def mapping(container: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = container.get(key) if isinstance(container, Mapping) else None
    if not isinstance(value, dict):
        if isinstance(container, Mapping) and key not in container:
            raise InputError(f"{where}: missing '{key}'")
        raise InputError(f"{where}.{key}: expected a mapping")
    return value


def string(container: Mapping[str, Any], key: str, where: str) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not value:
        if key not in container:
            raise InputError(f"{where}: missing '{key}'")
        raise InputError(f"{where}.{key}: expected a non-empty string, got {kind(value)}")
    return value


def kind(value: Any) -> str:
    """A wrong value for a message: short scalars verbatim, anything else by type (it may hold a secret)."""
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str) and len(value) <= 20 and "=" not in value:
        return repr(value)
    return f"a {type(value).__name__}"
