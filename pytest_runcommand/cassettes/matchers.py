"""Request matchers fit for Azure Resource Manager, registered on every ``VCR`` the plugin configures.

Host and port (the port of a loopback emulator is free), ARM paths case-insensitive, query order ignored and
api-version matched on its own, JSON bodies compared as documents. Headers (``x-ms-client-request-id``,
``User-Agent``, ``traceparent``...) are never compared.

A placeholder in a recorded request stands for what the recording redacted there: a recorded path, query value,
string in a JSON body or other body that reads ``REDACTED`` matches a sent one that reads the same with some text (at
least one character) in place of each ``REDACTED``. The sanitizer runs on the request sent before matching, but a
secret learned late in a recording (a value seen in clear before it is seen in a secret place) is scrubbed from the
earlier interactions only when the cassette is saved, so on replay the earlier request still holds it in clear: it
matches all the same (the Azure SDK test proxy and vcrpy's own filters likewise compare the sanitized recording with
the request as the matcher sees it). What a placeholder stands for is never shown: a mismatch message shows the sent
side of a redacted place masked, and the values found under placeholders masked wherever else the sent request
holds them (:func:`redacted_values`, :func:`shown_sent`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from vcr.request import Request

from pytest_runcommand.cassettes.learned import REDACTED

__all__ = [
    "LOOPBACK_HOSTS",
    "MATCHERS",
    "MATCH_ON",
    "api_version",
    "arm_host",
    "arm_path",
    "arm_query",
    "fits",
    "json_body",
    "literal_fit",
    "masked",
    "redacted_values",
    "shown_sent",
]

MATCH_ON: tuple[str, ...] = ("method", "scheme", "arm_host", "arm_path", "arm_query", "api_version", "json_body")
"""Default matchers, in the order vcrpy tries them."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "testserver"})


_MISSING = object()


_MIN_SHOWN_SECRET = 6
"""Text a placeholder stands for that is masked wherever else the sent request holds it, from this length on (shorter
text is masked at its own place only: it would match everywhere; the sanitizer's MIN_LEARNED_LENGTH)."""


def _align(pieces: list[str], sent: str) -> list[tuple[int, int]] | None:
    """The spans of ``sent`` that the placeholders between ``pieces`` (the recorded text split at them) stand for,
    each at least one character, the leftmost that fit; None when ``sent`` does not read as the pieces with text
    between them. Linear in ``sent`` (one forward search per piece: no pattern that could backtrack)."""
    head, tail = pieces[0], pieces[-1]
    end = len(sent) - len(tail)
    if end <= len(head) or not sent.startswith(head) or not sent.endswith(tail):
        return None
    spans = []
    position = len(head)
    for literal in pieces[1:-1]:
        found = sent.find(literal, position + 1, end)
        if found < 0:
            return None
        spans.append((position, found))
        position = found + len(literal)
    if end - position < 1:
        return None
    spans.append((position, end))
    return spans


def fits(recorded: str, sent: str, placeholder: str = REDACTED) -> bool:
    """Whether ``sent`` reads as ``recorded`` with some text (at least one character) in place of each
    ``placeholder`` of it."""
    return recorded == sent or (placeholder in recorded and _align(recorded.split(placeholder), sent) is not None)


def masked(recorded: str, sent: str, placeholder: str = REDACTED) -> str:
    """``sent`` as a message may show it beside ``recorded``: the text each placeholder stands for reads
    ``REDACTED``; where ``sent`` does not read as ``recorded``, what follows the first difference before a placeholder
    is masked whole (what the placeholder stood for may be in it)."""
    if placeholder not in recorded:
        return sent
    pieces = recorded.split(placeholder)
    spans = _align(pieces, sent)
    if spans is None:
        head = pieces[0]
        same = next((i for i, (a, b) in enumerate(zip(head, sent, strict=False)) if a != b), min(len(head), len(sent)))
        return sent[:same] + REDACTED
    shown: list[str] = []
    last = 0
    for start, stop in spans:
        shown += [sent[last:start], REDACTED]
        last = stop
    shown.append(sent[last:])
    return "".join(shown)


def _spans_text(recorded: str, sent: str, placeholder: str, found: set[str]) -> bool:
    """Add to ``found`` what the placeholders of ``recorded`` stand for in ``sent`` (long enough to be masked
    elsewhere); whether ``sent`` fits."""
    if recorded == sent:
        return True
    if placeholder not in recorded:
        return False
    spans = _align(recorded.split(placeholder), sent)
    if spans is None:
        return False
    found.update(sent[a:b] for a, b in spans if b - a >= _MIN_SHOWN_SECRET)
    return True


class _Facts:
    """What the matchers compare, computed once per request URI (vcrpy compares every pair of requests)."""

    __slots__ = ("api_version", "by_key", "host", "path", "placeholders", "port", "query", "uri")

    def __init__(self, request: Request) -> None:
        self.uri = request.uri
        self.host = (request.host or "").lower()
        self.port = request.port
        self.path = unquote(request.path or "/").lower()
        fields = parse_qsl(request.parsed_uri.query, keep_blank_values=True)
        self.api_version = next((v for k, v in fields if k == "api-version"), None)
        self.query = sorted((k, v) for k, v in fields if k != "api-version")
        self.by_key = sorted(((k, v) for k, v in fields if k != "api-version"), key=lambda field: field[0])
        """The query fields in the order sent, sorted by key alone (a placeholder's value sorts apart)."""
        self.placeholders = REDACTED in (request.uri or "")


def _facts(request: Request) -> _Facts:
    facts: _Facts | None = request.__dict__.get("_runcommand_facts")
    if facts is None or facts.uri is not request.uri:
        facts = _Facts(request)
        request.__dict__["_runcommand_facts"] = facts
    return facts


def arm_host(r1: Request, r2: Request) -> None:
    """Hosts equal (any case) and ports equal, except between loopback hosts, whose ports change per run."""
    f1, f2 = _facts(r1), _facts(r2)
    if f1.host != f2.host:
        raise AssertionError(f"host {r1.host} != {r2.host}")
    if f1.host not in LOOPBACK_HOSTS and f1.port != f2.port:
        raise AssertionError(f"port {f1.port} != {f2.port}")


_LOWER = REDACTED.lower()


def arm_path(r1: Request, r2: Request) -> None:
    """Paths equal ignoring case and percent-encoding (ARM resource paths are case-insensitive); a placeholder of the
    recorded path (``r2``) stands for any text."""
    f1, f2 = _facts(r1), _facts(r2)
    if f1.path != f2.path and not (f2.placeholders and fits(f2.path, f1.path, _LOWER)):
        raise AssertionError(f"path {masked(r2.path, r1.path)} != {r2.path}")


def _query_fits(recorded: list[tuple[str, str]], sent: list[tuple[str, str]]) -> bool:
    return len(recorded) == len(sent) and all(
        k1 == k2 and fits(v2, v1) for (k1, v1), (k2, v2) in zip(sent, recorded, strict=True)
    )


def _masked_query(recorded: list[tuple[str, str]], sent: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The sent query fields as shown: a value whose key the recorded query gives a placeholder is masked."""
    redacted = {k: v for k, v in reversed(recorded) if REDACTED in v}
    return [(k, masked(redacted[k], v)) if k in redacted else (k, v) for k, v in sent]


def arm_query(r1: Request, r2: Request) -> None:
    """Query fields equal in any order (api-version is matched on its own); a placeholder in a recorded value stands
    for any text."""
    f1, f2 = _facts(r1), _facts(r2)
    if f1.query != f2.query:
        if f2.placeholders and _query_fits(f2.by_key, f1.by_key):
            return
        raise AssertionError(
            f"query {_masked_query(f2.query, f1.query) if f2.placeholders else f1.query} != {f2.query}"
        )


def api_version(r1: Request, r2: Request) -> None:
    """The ``api-version`` query fields equal."""
    v1, v2 = _facts(r1).api_version, _facts(r2).api_version
    if v1 != v2:
        raise AssertionError(f"api-version {v1} != {v2}")


def _parsed_body(request: Request) -> Any:
    body = request.body
    cached = request.__dict__.get("_runcommand_parsed")
    if cached is not None and cached[0] is body:
        return cached[1]
    if body is None or body == b"" or body == "":
        parsed: Any = None
    elif isinstance(body, bytes | str):
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            parsed = body.encode("utf-8") if isinstance(body, str) else body
    else:
        parsed = _MISSING
    request.__dict__["_runcommand_parsed"] = (body, parsed)
    return parsed


def _holds_placeholder(request: Request) -> bool:
    """Whether a request's body holds a placeholder (remembered per body)."""
    body = request.body
    cached = request.__dict__.get("_runcommand_placeholder")
    if cached is not None and cached[0] is body:
        return bool(cached[1])
    holds = REDACTED.encode() in body if isinstance(body, bytes) else isinstance(body, str) and REDACTED in body
    request.__dict__["_runcommand_placeholder"] = (body, holds)
    return holds


def _text(body: Any) -> str | None:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return body if isinstance(body, str) else None


def json_body(r1: Request, r2: Request) -> None:
    """Bodies equal as JSON documents (key order and whitespace ignored); other bodies byte for byte; a placeholder
    of the recorded body (a string of the document, or the text) stands for any text.

    ``r1`` is the request sent and ``r2`` the recorded one (vcrpy's order). The message names the JSON pointers
    that differ with both values, secrets masked, and the sent side of a redacted place masked.
    """
    b1, b2 = _parsed_body(r1), _parsed_body(r2)
    if b1 is _MISSING or b2 is _MISSING or b1 != b2:
        placeholders = _holds_placeholder(r2)
        if not isinstance(b1, dict | list) or not isinstance(b2, dict | list):
            if not placeholders:
                raise AssertionError(f"body: recorded {_request_preview(r2, b2)}, sent {_request_preview(r1, b1)}")
            recorded, sent = _text(r2.body) or "", _text(r1.body) or ""
            if isinstance(b1, bytes) and isinstance(b2, bytes) and fits(recorded, sent):
                return
            raise AssertionError(f"body: recorded {_request_preview(r2, b2)}, sent {_preview(masked(recorded, sent))}")
        if not placeholders:
            raise AssertionError(_body_difference(sent=b1, recorded=b2))
        found: list[tuple[str, Any, Any]] = []
        values: set[str] = set()
        _collect_differences(b2, b1, "", found, values)
        if found:
            raise AssertionError(_shown_differences(found, values))


def literal_fit(sent: Request, recorded: Request) -> bool:
    """Whether a recorded request that matches ``sent`` does so with no placeholder standing for other text: its
    path and query read as sent where it has a placeholder in its URI, its body as sent where its body has one."""
    f1, f2 = _facts(sent), _facts(recorded)
    if f2.placeholders and (f1.path != f2.path or f1.query != f2.query):
        return False
    if _holds_placeholder(recorded):
        b1 = _parsed_body(sent)
        return b1 is not _MISSING and b1 == _parsed_body(recorded)
    return True


_SHOWN_DIFFERENCES = 3
_ABSENT = object()


def _request_preview(request: Request, parsed: Any) -> str:
    """The preview of a request's parsed body, made once per body (vcrpy compares every pair of requests)."""
    cached = request.__dict__.get("_runcommand_preview")
    if cached is not None and cached[0] is parsed:
        return str(cached[1])
    text = _preview(parsed)
    request.__dict__["_runcommand_preview"] = (parsed, text)
    return text


def _body_difference(*, sent: Any, recorded: Any) -> str:
    found: list[tuple[str, Any, Any]] = []
    _collect_differences(recorded, sent, "", found)
    return _shown_differences(found, set())


def _shown_differences(found: list[tuple[str, Any, Any]], values: set[str]) -> str:
    from pytest_runcommand.contract.violations import mask_pointer

    shown = [
        f"at {mask_pointer(pointer) or '/'}: recorded {_shown(pointer, old)}, "
        f"sent {_shown(pointer, shown_sent(old, new, values))}"
        for pointer, old, new in found[:_SHOWN_DIFFERENCES]
    ]
    if len(found) > _SHOWN_DIFFERENCES:
        shown.append(f"and {len(found) - _SHOWN_DIFFERENCES} more")
    return "; ".join(shown)


def _collect_differences(
    recorded: Any, sent: Any, pointer: str, found: list[tuple[str, Any, Any]], values: set[str] | None = None
) -> None:
    """Append (pointer, recorded, sent) for each leaf where the documents differ, in document order. With
    ``values``, a recorded string with a placeholder that the sent one fits is no difference, and what the
    placeholder stands for is added to ``values``."""
    if recorded is not _ABSENT and sent is not _ABSENT and recorded == sent:
        return
    if isinstance(recorded, dict) and isinstance(sent, dict):
        for key in dict.fromkeys([*recorded, *sent]):
            token = str(key).replace("~", "~0").replace("/", "~1")
            old, new = recorded.get(key, _ABSENT), sent.get(key, _ABSENT)
            _collect_differences(old, new, f"{pointer}/{token}", found, values)
    elif isinstance(recorded, list) and isinstance(sent, list):
        for index in range(max(len(recorded), len(sent))):
            old = recorded[index] if index < len(recorded) else _ABSENT
            new = sent[index] if index < len(sent) else _ABSENT
            _collect_differences(old, new, f"{pointer}/{index}", found, values)
    elif not (
        values is not None
        and isinstance(recorded, str)
        and isinstance(sent, str)
        and _spans_text(recorded, sent, REDACTED, values)
    ):
        found.append((pointer, recorded, sent))


def _scrubbed(value: Any, values: set[str]) -> Any:
    """``value`` with each of ``values`` (text placeholders stood for) replaced, in any case, in every string."""
    if not values:
        return value
    import re

    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE)

    def scrub(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(REDACTED, item)
        if isinstance(item, dict):
            return {k: scrub(v) for k, v in item.items()}
        if isinstance(item, list):
            return [scrub(v) for v in item]
        return item

    return scrub(value)


def shown_sent(recorded: Any, sent: Any, values: set[str] = frozenset()) -> Any:  # type: ignore[assignment]
    """The sent value of a difference as a message may show it: masked where the recorded value has a placeholder
    (:func:`masked`), and ``values`` (what placeholders stood for elsewhere) masked wherever they stand."""
    if isinstance(recorded, str) and isinstance(sent, str) and REDACTED in recorded:
        sent = masked(recorded, sent)
    return _scrubbed(sent, set(values))


def redacted_values(recorded: Request, sent: Request) -> set[str]:
    """What the placeholders of a recorded request stand for in the request sent, wherever the sent one fits them
    (its path, its query values, the strings of its JSON body or its text), at least six characters long: the
    values a message about ``sent`` masks wherever it shows them."""
    found: set[str] = set()
    fr, fs = _facts(recorded), _facts(sent)
    if fr.placeholders:
        _spans_text(fr.path, fs.path, _LOWER, found)
        if len(fr.by_key) == len(fs.by_key):
            for (k1, v1), (k2, v2) in zip(fs.by_key, fr.by_key, strict=True):
                if k1 == k2:
                    _spans_text(v2, v1, REDACTED, found)
    if _holds_placeholder(recorded):
        b1, b2 = _parsed_body(sent), _parsed_body(recorded)
        if isinstance(b1, dict | list) and isinstance(b2, dict | list):
            _collect_differences(b2, b1, "", [], found)
        else:
            text1, text2 = _text(sent.body), _text(recorded.body)
            if text1 is not None and text2 is not None:
                _spans_text(text2, text1, REDACTED, found)
    return found


def shown_uri(recorded: Request | None, sent: Request, values: set[str]) -> str:
    """The sent request's URI as a message may show it: beside the closest ``recorded`` one, its path and each query
    value the recorded one redacted masked (:func:`masked`), and ``values`` masked wherever they stand."""
    uri = sent.uri
    if recorded is not None and REDACTED in (recorded.uri or ""):
        from urllib.parse import urlsplit, urlunsplit

        try:
            parts, old = urlsplit(uri), urlsplit(recorded.uri)
        except ValueError:  # no URL to show part by part
            return REDACTED
        redacted = {}
        for field in reversed(old.query.split("&")):
            key, _, value = field.partition("=")
            if REDACTED in value:
                redacted[key] = value
        fields = []
        for field in parts.query.split("&") if parts.query else ():
            key, equals, value = field.partition("=")
            fields.append(f"{key}={masked(redacted[key], value)}" if equals and key in redacted else field)
        uri = urlunsplit(parts._replace(path=masked(old.path, parts.path), query="&".join(fields)))
    return str(_scrubbed(uri, values))


def _shown(pointer: str, value: Any, limit: int = 80) -> str:
    """``value`` as the message may show it: secrets masked, long values cut."""
    if value is _ABSENT:
        return "(absent)"
    from pytest_runcommand.contract.violations import mask_value

    text = orjson.dumps(mask_value(pointer, value)).decode()
    return text if len(text) <= limit else text[:limit] + "…"


def _preview(body: Any, limit: int = 200) -> str:
    if body is _MISSING:
        return "<a streamed body>"
    if body is None:
        return "(no body)"
    if isinstance(body, bytes | str):
        from pytest_runcommand.contract.violations import mask_text

        text = mask_text(body.decode("utf-8", "replace") if isinstance(body, bytes) else body)
    else:
        text = _shown("", body, limit)
    return text if len(text) <= limit else text[:limit] + "…"


MATCHERS: dict[str, Callable[[Request, Request], None]] = {
    "arm_host": arm_host,
    "arm_path": arm_path,
    "arm_query": arm_query,
    "api_version": api_version,
    "json_body": json_body,
}
