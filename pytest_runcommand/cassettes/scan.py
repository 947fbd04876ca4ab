"""Secret scan: find credentials left in recorded traffic, without ever printing them.

Detectors (stable IDs, also the SARIF rule ids of ``cassettes check --format sarif``): ``jwt``, ``bearer-token``,
``sas-signature``, ``subscription-id`` (any non-zero subscription id in a path), ``query-token`` (an OAuth token,
``client_secret``, ``password`` or ``code`` in a URL query or fragment), ``secret-field`` (a value under a secret
property of the contract, whatever its shape, a form field naming one, or an OAuth token field),
``url-credentials`` (a URL's ``user:password@``) and ``undecodable-body`` (a body that cannot be decoded, so cannot
be shown to be clean).

Interactions are scanned part by part, bodies decoded as a client reads them (content codings, byte-order marks,
charsets), each string of a JSON body on its own, so a finding names the interaction index, the part and the JSON
pointer (``response.body /value/0/message``: a token a script printed into its output); the raw file text is scanned as well, with any
base64 run decoded, so nothing outside the interactions (metadata, a hand edit, an encoded URI) escapes. This
:class:`Finding` is the one of the cassettes; fuzzing reports failures, not findings. Values are masked in every
message.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pytest_runcommand.cassettes.decode import (
    NOT_JSON,
    Undecodable,
    decode,
    decompress,
    looks_like_form,
    parse_json,
    wide_texts,
)
from pytest_runcommand.cassettes.learned import (
    FORM_KEY_NAME,
    UNREDACTED_USERINFO_PATTERN,
    credential_header,
    credential_token,
    escape_pointer,
    form_secret_fields,
    query_secret_fields,
)
from pytest_runcommand.cassettes.rules import (
    JSON_SECRET_FIELDS,
    QUERY_SECRET_FIELDS,
    REDACTED,
    TOKEN_FIELDS,
    canonical_secret_name,
    secret_leaves,
)
from pytest_runcommand.cassettes.sanitize import secret_names_in
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID, secret_properties
from pytest_runcommand.interactions import Interaction, header_value

__all__ = [
    "DETECTORS",
    "Finding",
    "detectors",
    "mask",
    "scan_file",
    "scan_interaction",
    "scan_interactions",
    "scan_lines",
    "scan_text",
]

_NOT_REDACTED = rf"(?!{REDACTED}\b)"
_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}={0,2}")
_TOKEN_KEYS = frozenset(name.lower() for name in JSON_SECRET_FIELDS)
_FORM_KEYS = frozenset(QUERY_SECRET_FIELDS)
_ENCODED_DOCUMENT = ("%7B", "%5B")
_KEPT_HEADERS = frozenset({"set-cookie"})
_MASKS = frozenset({REDACTED.lower(), "[filtered]", "sanitized", "***", "[redacted]", "<redacted>"})
"""What recorders write for a value they removed (this one, the Azure SDK test proxy, Azure PowerShell's)."""
"""Headers with a rule of their own that keeps part of the value (the cookie's name)."""  # a percent-encoded JSON document: a form body of one key


@cache
def detectors() -> dict[str, re.Pattern[str]]:
    """Detector id -> pattern over free text (the secret property names come from the contract)."""
    fields = "|".join(re.escape(name) for name in (*sorted(secret_properties()), *TOKEN_FIELDS))
    query = "|".join(QUERY_SECRET_FIELDS)
    return {
        "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
        "bearer-token": re.compile(
            rf"\bBearer\s+{_NOT_REDACTED}(?![A-Za-z_]+=)([A-Za-z0-9\-._~+/]{{16,}}=*)", re.IGNORECASE
        ),
        "sas-signature": re.compile(
            rf"(?:^|[?&#;]|&amp;|\\u0026|%(?:25)*26|%(?:25)*3F|%(?:25)*23)sig(?:=|%(?:25)*3D){_NOT_REDACTED}"
            rf"((?:(?!%(?:25)*26)[^&#\s\"'<>\\])+)",
            re.IGNORECASE,
        ),
        "subscription-id": re.compile(rf"(?:/|%2F)subscriptions(?:/|%2F)(?!{ZERO_SUBSCRIPTION_ID})({_GUID})", re.I),
        "query-token": re.compile(
            rf"(?:[?&#;]|&amp;|\\u0026|%26|%3F|%23)(?:{query})(?:=|%3D){_NOT_REDACTED}([^&#\s\"'<>\\]+)", re.I
        ),
        "secret-field": re.compile(rf"\"({fields})\"\s*:\s*\"{_NOT_REDACTED}([^\"]+)\"", re.IGNORECASE),
        "url-credentials": UNREDACTED_USERINFO_PATTERN,
    }


DETECTORS = detectors()
UNDECODABLE = "undecodable-body"


@dataclass(frozen=True)
class Finding:
    """One secret found: which detector, where, and a masked preview of the value."""

    detector: str
    where: str
    """``file (interaction #3) request.headers.Authorization`` or ``file:12``."""
    masked: str
    value_hash: int
    """``hash()`` of the value, to de-duplicate findings; never printed."""
    line: int | None = None
    """The line of the file where the finding (or its interaction) is, when known."""

    def __str__(self) -> str:
        return f"{self.where}: {self.detector} {self.masked}"


def mask(value: str) -> str:
    """A preview that never reveals a secret: only its length."""
    return f"<hidden, {len(value)} chars>"


def scan_text(text: str, where: str, line: int | None = None) -> Iterator[Finding]:
    """Regex detectors over free text."""
    for name, pattern in DETECTORS.items():
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            yield Finding(name, where, mask(value), hash(value), line)


def _walk_json(document: Any) -> Iterator[tuple[str, str]]:
    """(pointer, value) of every secret: leaves under a secret property (any shape), OAuth token fields."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                name = canonical_secret_name(key)
                where = f"{pointer}/{key}"
                if name is not None:
                    yield from ((p, str(v)) for p, v in secret_leaves(child, f"{pointer}/{name}"))
                elif str(key).lower() in _TOKEN_KEYS and child not in (None, "") and not isinstance(child, dict):
                    yield where, str(child)
                else:
                    stack.append((where, child))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{i}", v) for i, v in enumerate(value))


def _strings(document: Any) -> Iterator[tuple[str, str]]:
    """(pointer, text) of every string in a JSON document, keys included (a key's pointer is its object's)."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            yield pointer or "/", value
        elif isinstance(value, dict):
            for key, child in value.items():
                yield pointer or "/", str(key)
                stack.append((f"{pointer}/{escape_pointer(key)}", child))
        elif isinstance(value, list):
            stack.extend((f"{pointer}/{i}", v) for i, v in enumerate(value))


def _decoded(body: Any, headers: Mapping[str, str]) -> str:
    """The body as a client reads it; raises :class:`Undecodable`."""
    if isinstance(body, str):
        return body
    if not isinstance(body, bytes | bytearray):
        import json

        return json.dumps(body)
    raw = bytes(body)
    coding = header_value(headers, "content-encoding")
    content_type = header_value(headers, "content-type")
    if coding:
        raw = decompress(raw, coding, content_type)
    text, _ = decode(raw, content_type)
    return raw.decode("latin-1") if text is None else text


def _scan_body(body: Any, headers: Mapping[str, str], where: str, line: int | None) -> Iterator[Finding]:
    if body is None or body == b"" or body == "":
        return
    try:
        text = _decoded(body, headers).removeprefix("\ufeff")
        document: Any = body if isinstance(body, dict | list) else NOT_JSON
        if document is NOT_JSON and text.lstrip()[:1] in ("{", "["):
            document = parse_json(text)
    except Undecodable as reason:
        yield Finding(UNDECODABLE, where, f"<cannot be shown clean: {reason}>", hash((where, str(reason))), line)
        return
    if isinstance(document, dict | list):
        for pointer, leaf in _strings(document):  # each text on its own, named: script output is one of them
            yield from scan_text(leaf, f"{where} {pointer}", line)
        for pointer, value in _walk_json(document):
            if value != REDACTED:
                yield Finding("secret-field", f"{where} {pointer}", mask(value), hash(value), line)
        return
    yield from scan_text(text, where, line)
    content_type = header_value(headers, "content-type")
    if not looks_like_form(text, content_type):
        yield from _names_secret(text, where, line)
    if "\x00" in text and isinstance(body, bytes | bytearray):  # kept as bytes: it may be UTF-16 or UTF-32 text
        for codec, wide in wide_texts(bytes(body)):
            if codec != "latin-1":
                yield from scan_text(wide, f"{where} (read as {codec})", line)
                yield from _names_secret(wide, f"{where} (read as {codec})", line)
    if ("=" in text or text.lstrip()[:3].upper() in _ENCODED_DOCUMENT) and "\n" not in text.strip():
        fields = parse_qsl(text, keep_blank_values=True)
        secret = {i for name in secret_properties() for i in form_secret_fields(name, fields)}
        for index, (key, value) in enumerate(fields):
            field = f"{where} form field {key if FORM_KEY_NAME.fullmatch(key) else f'#{index + 1}'}"
            if (index in secret or key.lower() in _FORM_KEYS) and value and value != REDACTED:
                yield Finding("secret-field", field, mask(value), hash(value), line)
            for part in (key, value):  # a JSON document sent as a field, or a percent-encoded body read as one key
                if part != text and part.lstrip()[:1] in ("{", "["):
                    yield from _scan_body(part, {}, field, line)


def _names_secret(text: str, where: str, line: int | None) -> Iterator[Finding]:
    """A finding for a text that is no JSON and no form yet names a secret property: as the recorder refuses it, no
    rule can say where its value ends."""
    named = secret_names_in(text)
    if named:
        why = f"a body that is neither JSON nor a form names {', '.join(named)}"
        yield Finding(UNDECODABLE, where, f"<cannot be shown clean: {why}>", hash((where, why)), line)


def _credential_header(name: str, value: str, where: str, line: int | None) -> Iterator[Finding]:
    """A header whose name says it holds a credential, with a value that is not redacted."""
    if credential_header(name) and name.lower() not in _KEPT_HEADERS:
        for token in credential_token(value):
            if token.lower() not in _MASKS:
                yield Finding("credential-header", where, mask(token), hash(token), line)
    elif name.lower() in _KEPT_HEADERS:  # Set-Cookie keeps the cookie's name: its value must be a mask
        cookie = value.partition(";")[0].partition("=")[2].strip()
        if cookie and cookie.lower() not in _MASKS:
            yield Finding("credential-header", where, mask(cookie), hash(cookie), line)


def _query_fields(text: str, where: str, line: int | None) -> Iterator[Finding]:
    """A secret property's value in a URL query field of ``text`` (``&<name>=...``)."""
    for name in sorted(secret_properties()):
        for match in query_secret_fields(name, text):
            value = match.group(2)
            if value != REDACTED:
                yield Finding("secret-field", f"{where} query field {name}", mask(value), hash(value), line)


def scan_interaction(interaction: Interaction, where: str, line: int | None = None) -> list[Finding]:
    """Every finding in one interaction; ``where`` prefixes each location, ``line`` is where it starts."""
    findings = list(scan_text(interaction.url, f"{where} request.url", line))
    findings.extend(_query_fields(interaction.url, f"{where} request.url", line))
    for side, headers in (("request", interaction.request_headers), ("response", interaction.response_headers)):
        for name, value in headers.items():
            findings.extend(scan_text(f"{name}: {value}", f"{where} {side}.headers.{name}", line))
            findings.extend(_credential_header(str(name), str(value), f"{where} {side}.headers.{name}", line))
            findings.extend(_query_fields(value, f"{where} {side}.headers.{name}", line))
    for side, body, headers in (
        ("request", interaction.request_body, interaction.request_headers),
        ("response", interaction.response_body, interaction.response_headers),
    ):
        findings.extend(_scan_body(body, headers, f"{where} {side}.body", line))
    return findings


def scan_interactions(interactions: Sequence[Interaction], label: str) -> list[Finding]:
    """Findings of a list of interactions, located as ``label (interaction #i)``."""
    findings: list[Finding] = []
    for index, interaction in enumerate(interactions):
        findings.extend(scan_interaction(interaction, f"{label} (interaction #{index})"))
    return findings


def _base64_texts(line: str) -> Iterator[str]:
    """Printable text hidden in base64 runs of a line (an ``EncodedRequestUri``, an encoded header)."""
    for match in _BASE64_RUN.finditer(line):
        run = match.group(0)
        try:
            raw = base64.b64decode(run + "=" * (-len(run) % 4), altchars=b"-_" if "-" in run or "_" in run else None)
            text = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        if text.isprintable():
            yield text


def scan_lines(text: str, label: str, known: Iterable[Finding] = ()) -> list[Finding]:
    """Regex findings over raw file text (and base64 runs in it, decoded) with line numbers, skipping values
    already in ``known``."""
    seen_values = {f.value_hash for f in known}
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [line, *_base64_texts(line)] if len(line) >= 24 else [line]
        for part in parts:
            for finding in scan_text(part, f"{label}:{number}", number):
                if finding.value_hash in seen_values:
                    continue
                seen_values.add(finding.value_hash)
                findings.append(finding)
    return findings


def scan_file(path: str | Path) -> list[Finding]:
    """Scan a cassette or session record: per interaction, then the raw text for anything else.

    Raises :class:`~pytest_runcommand.errors.InputError` when the file cannot be read as a cassette.
    """
    from pytest_runcommand.cassettes.readers import read_cassette

    cassette = read_cassette(path)
    findings: list[Finding] = []
    for index, interaction in enumerate(cassette.interactions):
        findings.extend(scan_interaction(interaction, cassette.place(index), cassette.lines[index]))
    findings.extend(scan_lines(cassette.text, str(path), findings))
    return findings
