"""Decode an HTTP message body to text before it is sanitized or scanned: content codings, BOMs, charsets, JSON.

Sanitizing works on what a client would read, not on the bytes on the wire: a gzip body, a UTF-16 body or a JSON
body behind a byte-order mark all hide their secrets from a rule that reads raw bytes. Everything here either
decodes with certainty or raises :class:`Undecodable` with the reason; callers refuse such a message (nothing is
written) instead of storing it as it came.
"""

from __future__ import annotations

import codecs
import importlib
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any

from pytest_runcommand.errors import InputError

__all__ = [
    "MAX_DECODED_BYTES",
    "MAX_JSON_DEPTH",
    "NOT_JSON",
    "Undecodable",
    "as_text",
    "decode",
    "decode_body",
    "decompress",
    "json_depth",
    "looks_like_form",
    "looks_like_json",
    "parse_json",
    "starts_with_bom",
    "wide_texts",
    "with_utf8_charset",
    "without_bom",
]

MAX_JSON_DEPTH = 200
"""Deepest JSON nesting a body may have; deeper documents are refused with a clear error (never a RecursionError)."""

MAX_DECODED_BYTES = 64 * 1024 * 1024
"""A compressed body that inflates past this is refused (a decompression bomb, not a recording)."""

NOT_JSON: Any = object()
"""What :func:`parse_json` returns for text that is not a JSON document."""

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_PREFIXES = tuple(bom for bom, _ in _BOMS)
_TEXT_TYPES = ("text/", "json", "xml", "x-www-form-urlencoded", "javascript", "yaml", "graphql")


def as_text(value: Any) -> str:
    """A header name or value as text, whatever type a client handed over (``requests`` accepts bytes)."""
    if isinstance(value, bytes | bytearray):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return bytes(value).decode("latin-1")
    return value if isinstance(value, str) else str(value)


class Undecodable(InputError, ValueError):
    """The body cannot be decoded with certainty; the message says why."""


def _inflate(body: bytes, wbits: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, MAX_DECODED_BYTES + 1)
    if len(out) > MAX_DECODED_BYTES or inflater.unconsumed_tail:
        raise Undecodable(f"inflates past {MAX_DECODED_BYTES} bytes")
    if not inflater.eof:
        raise Undecodable("compressed data is truncated")
    return out + inflater.flush()


def _optional(*modules: str) -> Any:
    for name in modules:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _decode_one(body: bytes, coding: str) -> bytes:
    if coding in ("identity", ""):
        return body
    try:
        if coding in ("gzip", "x-gzip"):
            return _inflate(body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":  # RFC 9110 says zlib-wrapped; some servers send raw deflate
            try:
                return _inflate(body, zlib.MAX_WBITS)
            except (zlib.error, Undecodable):
                return _inflate(body, -zlib.MAX_WBITS)
    except (zlib.error, Undecodable) as error:
        raise Undecodable(f"Content-Encoding {coding}: {error}") from None
    if coding == "br":
        brotli = _optional("brotli", "brotlicffi")
        if brotli is not None:
            try:
                data: bytes = brotli.decompress(body)
            except Exception as error:
                raise Undecodable(f"Content-Encoding br: {error}") from None
            return data
    if coding == "zstd":
        zstd = _optional("zstandard")
        if zstd is not None:
            try:
                data = zstd.ZstdDecompressor().decompress(body, max_output_size=MAX_DECODED_BYTES)
            except Exception as error:
                raise Undecodable(f"Content-Encoding zstd: {error}") from None
            return bytes(data)
    raise Undecodable(f"Content-Encoding {coding!r} cannot be decoded here")


def decompress(body: bytes, encodings: str, content_type: str | None = None) -> bytes:
    """``body`` with the content codings of a ``Content-Encoding`` value undone (last applied, first undone).

    A body that does not decompress but is already plain text (no control characters in its charset) is returned as
    is: some recorders store the decoded body beside the original header (vcrpy through urllib3 does), and text that
    is plain hides nothing. Anything else raises :class:`Undecodable`.
    """
    original = body
    try:
        for coding in reversed([c.strip().lower() for c in encodings.split(",")]):
            body = _decode_one(body, coding)
    except Undecodable:
        if _plain_text(original, content_type):
            return original
        raise
    return body


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _plain_text(body: bytes, content_type: str | None) -> bool:
    try:
        text, _ = decode(body, content_type)
    except Undecodable:
        return False
    return text is not None and _CONTROL.search(text) is None


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """The media type and the ``charset`` parameter of a Content-Type value (both lower case)."""
    if not content_type:
        return "", None
    media, *params = content_type.split(";")
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower() or None
    return media.strip().lower(), charset


def _is_textual(media: str) -> bool:
    return not media or any(marker in media for marker in _TEXT_TYPES)


def decode_body(body: bytes, content_type: str | None) -> str | None:
    """The text of ``body``: a BOM wins, then the declared charset, then UTF-8.

    Returns None for a body of a declared binary media type that is not text (kept as bytes; the secret scan still
    reads it). Raises :class:`Undecodable` when a textual (or undeclared) body does not decode, or names a charset
    this Python does not know.
    """
    return decode(body, content_type)[0]


_WIDE_CODECS = (("utf-16-le", 2), ("utf-16-be", 2), ("utf-32-le", 4), ("utf-32-be", 4))


def wide_texts(raw: bytes) -> Iterator[tuple[str, str]]:
    """What a body kept as bytes may say: ``(codec, text)`` read as Latin-1 (each byte a character, so ASCII text
    shows as it is) and, when it holds NUL bytes, as UTF-16 and UTF-32 of either byte order at every alignment
    (text a Windows tool wrote without a mark), undecodable units replaced."""
    yield "latin-1", raw.decode("latin-1")
    if b"\x00" not in raw:
        return
    for codec, width in _WIDE_CODECS:
        for offset in range(width):
            end = offset + (len(raw) - offset) // width * width
            if end > offset:
                yield codec, raw[offset:end].decode(codec, errors="replace")


def decode(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """:func:`decode_body` and whether the bytes were plain UTF-8 (no BOM), so that re-encoding gives them back."""
    media, charset = _media_type(content_type)
    for bom, codec in _BOMS:
        if body.startswith(bom):
            try:
                return body[len(bom) :].decode(codec), False
            except UnicodeDecodeError as error:
                raise Undecodable(f"starts with a {codec} byte-order mark but is not {codec}: {error.reason}") from None
    if charset is not None and _codec_name(charset) != "utf-8":
        try:
            return body.decode(charset), False
        except UnicodeDecodeError as error:
            raise Undecodable(f"byte {error.start} is not {charset}") from None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        if _is_textual(media):
            what = f"a {media} body" if media else "a body without Content-Type"
            raise Undecodable(f"{what} that is not UTF-8 (byte {error.start})") from None
        return None, False
    if "\x00" in text:  # valid UTF-8, but no text holds NUL: UTF-16 or UTF-32 without a mark reads this way
        if _is_textual(media):
            what = f"a {media} body" if media else "a body without Content-Type"
            raise Undecodable(
                f"{what} holding NUL bytes (first at byte {body.index(0)}: UTF-16 or UTF-32 without a byte-order "
                "mark?), which cannot be read as text"
            )
        return None, False
    return text, True


def starts_with_bom(raw: bytes) -> bool:
    """Whether ``raw`` starts with a UTF-8, UTF-16 or UTF-32 byte-order mark."""
    return raw.startswith(_BOM_PREFIXES)


def without_bom(body: bytes | str | None) -> bytes | str | None:
    """A body behind a byte-order mark as its text, the mark dropped (the rule of :func:`decode`: a BOM wins).

    Anything else, and bytes that do not decode in the codec their mark names (binary data that happens to start
    alike), come back as they are.
    """
    if isinstance(body, str):
        return body[1:] if body.startswith("\ufeff") else body
    if isinstance(body, bytes) and starts_with_bom(body):
        try:
            return decode(body, None)[0]
        except Undecodable:
            return body
    return body


def _codec_name(charset: str) -> str:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise Undecodable(f"unknown charset {charset!r}") from None


def with_utf8_charset(content_type: str) -> str:
    """``content_type`` with its charset parameter (if any) replaced by utf-8."""
    media, *params = content_type.split(";")
    kept = [p for p in params if p.partition("=")[0].strip().lower() != "charset"]
    if len(kept) == len(params):
        return content_type
    return ";".join([media, *kept, " charset=utf-8"])


def looks_like_json(text: str, content_type: str | None) -> bool:
    media, _ = _media_type(content_type)
    return "json" in media or text.lstrip()[:1] in ("{", "[")


_FORM_BODY = re.compile(r"^[\w.~%+\-]+=[^&\s]*(?:&[\w.~%+\-]+=[^&\s]*)*$")


def looks_like_form(text: str, content_type: str | None) -> bool:
    """Whether a body that is not JSON is read as a form (``application/x-www-form-urlencoded``, or its shape)."""
    return "x-www-form-urlencoded" in (content_type or "").lower() or _FORM_BODY.match(text) is not None


def json_depth(document: Any) -> int:
    """Nesting depth of a parsed document, computed without recursion."""
    deepest = 0
    stack = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in value)
    return deepest


def parse_json(text: str) -> Any:
    """The parsed document, or :data:`NOT_JSON`; a document nested past :data:`MAX_JSON_DEPTH` is :class:`Undecodable`."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise Undecodable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError:
        return NOT_JSON
    if json_depth(document) > MAX_JSON_DEPTH:
        raise Undecodable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return document
