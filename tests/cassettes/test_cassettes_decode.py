"""Decoding a body before it is sanitized: content codings, byte-order marks, charsets, bounds."""

from __future__ import annotations

import codecs
import gzip
import zlib

import pytest

from pytest_runcommand.cassettes.decode import (
    MAX_DECODED_BYTES,
    MAX_JSON_DEPTH,
    NOT_JSON,
    Undecodable,
    decode,
    decompress,
    parse_json,
    with_utf8_charset,
)

TEXT = '{"properties": {"runAsPassword": "Snt-décodé"}}'


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some servers send it
        ("gzip, deflate", lambda b: zlib.compress(gzip.compress(b))),
        ("identity", lambda b: b),
    ],
)
def test_content_codings_are_undone(coding: str, encode: object) -> None:
    assert decompress(encode(TEXT.encode()), coding) == TEXT.encode()  # type: ignore[operator]


def test_a_decompression_bomb_is_refused() -> None:
    bomb = gzip.compress(b"\0" * (MAX_DECODED_BYTES + 1024))
    assert len(bomb) < MAX_DECODED_BYTES // 100
    with pytest.raises(Undecodable, match="inflates past"):
        decompress(bomb, "gzip")


def test_an_unknown_or_broken_coding_is_refused_unless_the_body_is_plain_text() -> None:
    with pytest.raises(Undecodable, match="'compress' cannot be decoded"):
        decompress(b"\x1f\x9d\x90binary", "compress")
    with pytest.raises(Undecodable, match="Content-Encoding gzip"):
        decompress(b"\x1f\x8b\x08\x00garbage", "gzip")
    assert decompress(TEXT.encode(), "gzip") == TEXT.encode()  # already decoded by the recorder: hides nothing


@pytest.mark.parametrize(
    ("body", "content_type", "plain"),
    [
        (TEXT.encode(), "application/json", True),
        (codecs.BOM_UTF8 + TEXT.encode(), "application/json", False),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), None, False),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "application/json; charset=utf-8", False),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), None, False),
        (TEXT.encode("latin-1"), "application/json; charset=ISO-8859-1", False),
        (TEXT.encode("utf-16-le"), 'text/plain; charset="utf-16le"', False),
        (TEXT.encode(), "application/json; charset=UTF8", True),
    ],
)
def test_a_bom_wins_then_the_charset_then_utf8(body: bytes, content_type: str | None, plain: bool) -> None:
    assert decode(body, content_type) == (TEXT, plain)


def test_undecodable_text_is_refused_and_binary_is_kept() -> None:
    with pytest.raises(Undecodable, match="unknown charset 'x-nope'"):
        decode(b"{}", "application/json; charset=x-nope")
    with pytest.raises(Undecodable, match="not UTF-8"):
        decode(TEXT.encode("latin-1"), "application/json")
    with pytest.raises(Undecodable, match="without Content-Type"):
        decode(b"\xc3\x28 not UTF-8", None)
    assert decode(b"\x89PNG\r\n\x1a\n\xff", "image/png") == (None, False)


def test_json_depth_is_bounded_without_recursion_errors() -> None:
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not NOT_JSON
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        with pytest.raises(Undecodable, match=f"nested deeper than {MAX_JSON_DEPTH}"):
            parse_json("[" * depth + "]" * depth)
    assert parse_json('{"n": ' + "9" * 5000 + "}") is NOT_JSON  # Python will not read it: not JSON to the rules
    assert parse_json("not json") is NOT_JSON


def test_the_charset_parameter_becomes_utf8() -> None:
    assert with_utf8_charset("application/json; charset=utf-16") == "application/json; charset=utf-8"
    assert with_utf8_charset("application/json") == "application/json"
