"""Secret scan: find credentials left in recorded traffic, without ever printing them.

Detectors (stable IDs): ``jwt``, ``bearer-token``, ``sas-signature``, ``subscription-id`` (any non-zero
subscription id in a path), ``secret-field`` (a documented secret property or form field with a real
value: ``runAsPassword``, ``protectedParameters[].value``, OAuth ``client_secret`` / tokens).

Interactions are scanned part by part (URL, each header, each body, parsed JSON), so a finding names the
interaction index and the part; the raw file text is scanned as well, so nothing outside the interactions
(metadata, a hand edit) escapes. Values are masked in every message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pytest_runcommand.interactions import Interaction

__all__ = ["DETECTORS", "Finding", "mask", "scan_file", "scan_interaction", "scan_interactions", "scan_text"]

_NOT_REDACTED = r"(?!REDACTED\b)"
_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ZERO = "00000000-0000-0000-0000-000000000000"
_SECRET_FIELDS = frozenset(
    {"runaspassword", "client_secret", "client_assertion", "refresh_token", "access_token", "id_token"}
)
_SECRET_FORM_FIELDS = _SECRET_FIELDS | {"password"}

DETECTORS: dict[str, re.Pattern[str]] = {
    "jwt": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "bearer-token": re.compile(
        rf"\bBearer\s+{_NOT_REDACTED}(?![A-Za-z_]+=)([A-Za-z0-9\-._~+/]{{16,}}=*)", re.IGNORECASE
    ),
    "sas-signature": re.compile(
        rf"(?:[?&]|&amp;|\\u0026|%26|%3F)sig(?:=|%3D){_NOT_REDACTED}([^&#\s\"'<>\\]+)", re.IGNORECASE
    ),
    "subscription-id": re.compile(rf"(?:/|%2F)subscriptions(?:/|%2F)(?!{_ZERO})({_GUID})", re.IGNORECASE),
    "secret-field": re.compile(
        r"\"(runAsPassword|client_secret|client_assertion|refresh_token|access_token|id_token)\"\s*:\s*"
        rf"\"{_NOT_REDACTED}([^\"]+)\"",
        re.IGNORECASE,
    ),
}


@dataclass(frozen=True)
class Finding:
    """One secret found: which detector, where, and a masked preview of the value."""

    detector: str
    where: str
    """``file (interaction #3) request.headers.Authorization`` or ``file:12``."""
    masked: str
    value_hash: int
    """``hash()`` of the value, to de-duplicate findings; never printed."""

    def __str__(self) -> str:
        return f"{self.where}: {self.detector} {self.masked}"


def mask(value: str) -> str:
    """A preview that never reveals a secret: only its length."""
    return f"<hidden, {len(value)} chars>"


def scan_text(text: str, where: str) -> Iterator[Finding]:
    """Regex detectors over free text."""
    for name, pattern in DETECTORS.items():
        for match in pattern.finditer(text):
            value = match.group(match.lastindex or 0)
            if name == "subscription-id" and value == _ZERO:
                continue
            yield Finding(name, where, mask(value), hash(value))


def _walk_json(document: Any, pointer: str) -> Iterator[tuple[str, str, str]]:
    """(pointer, key, string value) of secret-named properties, including protectedParameters values."""
    if isinstance(document, dict):
        for key, value in document.items():
            child = f"{pointer}/{key}"
            lowered = str(key).lower()
            if lowered in _SECRET_FIELDS and isinstance(value, str | int | float) and not isinstance(value, bool):
                yield child, str(key), str(value)
            elif lowered == "protectedparameters" and isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict) and isinstance(item.get("value"), str | int | float):
                        yield f"{child}/{i}/value", "protectedParameters", str(item["value"])
            else:
                yield from _walk_json(value, child)
    elif isinstance(document, list):
        for i, item in enumerate(document):
            yield from _walk_json(item, f"{pointer}/{i}")


def _body_text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes | bytearray):
        return bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        return body
    return json.dumps(body)


def _scan_body(body: Any, where: str) -> Iterator[Finding]:
    text = _body_text(body)
    if not text:
        return
    yield from (f for f in scan_text(text, where) if f.detector != "secret-field")
    document: Any = body if isinstance(body, dict | list) else None
    if document is None and text.lstrip()[:1] in ("{", "["):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
    if document is not None:
        for pointer, _key, value in _walk_json(document, ""):
            if value and value != "REDACTED":
                yield Finding("secret-field", f"{where} {pointer}", mask(value), hash(value))
        return
    if "=" in text and "\n" not in text.strip():
        for key, value in parse_qsl(text, keep_blank_values=True):
            if key.lower() in _SECRET_FORM_FIELDS and value and value != "REDACTED":
                yield Finding("secret-field", f"{where} form field {key}", mask(value), hash(value))


def scan_interaction(interaction: Interaction, where: str) -> list[Finding]:
    """Every finding in one interaction; ``where`` prefixes each location."""
    findings = list(scan_text(interaction.url, f"{where} request.url"))
    for side, headers in (("request", interaction.request_headers), ("response", interaction.response_headers)):
        for name, value in headers.items():
            findings.extend(scan_text(f"{name}: {value}", f"{where} {side}.headers.{name}"))
    findings.extend(_scan_body(interaction.request_body, f"{where} request.body"))
    findings.extend(_scan_body(interaction.response_body, f"{where} response.body"))
    return findings


def scan_interactions(interactions: Sequence[Interaction], label: str) -> list[Finding]:
    """Findings of a list of interactions, located as ``label (interaction #i)``."""
    findings: list[Finding] = []
    for index, interaction in enumerate(interactions):
        findings.extend(scan_interaction(interaction, f"{label} (interaction #{index})"))
    return findings


def scan_lines(text: str, label: str, known: Iterable[Finding] = ()) -> list[Finding]:
    """Regex findings over raw file text with line numbers, skipping values already in ``known``."""
    seen = {(f.detector, f.value_hash) for f in known}
    seen_values = {f.value_hash for f in known}
    findings: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for finding in scan_text(line, f"{label}:{number}"):
            if (finding.detector, finding.value_hash) in seen or finding.value_hash in seen_values:
                continue
            seen.add((finding.detector, finding.value_hash))
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
        findings.extend(scan_interaction(interaction, cassette.place(index)))
    text = Path(path).read_text(encoding="utf-8-sig")
    findings.extend(scan_lines(text, str(path), findings))
    return findings
