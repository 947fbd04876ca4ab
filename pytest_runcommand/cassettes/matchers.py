"""Request matchers fit for Azure Resource Manager, registered on every ``VCR`` the plugin configures.

Host and port (the port of a loopback emulator is free), ARM paths case-insensitive, query order ignored and
api-version matched on its own, JSON bodies compared as documents. Headers (``x-ms-client-request-id``,
``User-Agent``, ``traceparent``...) are never compared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
from vcr.request import Request

__all__ = ["LOOPBACK_HOSTS", "MATCHERS", "MATCH_ON", "api_version", "arm_host", "arm_path", "arm_query", "json_body"]

MATCH_ON: tuple[str, ...] = ("method", "scheme", "arm_host", "arm_path", "arm_query", "api_version", "json_body")
"""Default matchers, in the order vcrpy tries them."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "testserver"})


_MISSING = object()


class _Facts:
    """What the matchers compare, computed once per request URI (vcrpy compares every pair of requests)."""

    __slots__ = ("api_version", "host", "path", "port", "query", "uri")

    def __init__(self, request: Request) -> None:
        self.uri = request.uri
        self.host = (request.host or "").lower()
        self.port = request.port
        self.path = unquote(request.path or "/").lower()
        fields = parse_qsl(request.parsed_uri.query, keep_blank_values=True)
        self.api_version = next((v for k, v in fields if k == "api-version"), None)
        self.query = sorted((k, v) for k, v in fields if k != "api-version")


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


def arm_path(r1: Request, r2: Request) -> None:
    """Paths equal ignoring case and percent-encoding (ARM resource paths are case-insensitive)."""
    if _facts(r1).path != _facts(r2).path:
        raise AssertionError(f"path {r1.path} != {r2.path}")


def arm_query(r1: Request, r2: Request) -> None:
    """Query fields equal in any order (api-version is matched on its own)."""
    q1, q2 = _facts(r1).query, _facts(r2).query
    if q1 != q2:
        raise AssertionError(f"query {q1} != {q2}")


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


def json_body(r1: Request, r2: Request) -> None:
    """Bodies equal as JSON documents (key order and whitespace ignored); other bodies byte for byte.

    ``r1`` is the request sent and ``r2`` the recorded one (vcrpy's order). The message names the JSON pointers
    that differ with both values, secrets masked.
    """
    b1, b2 = _parsed_body(r1), _parsed_body(r2)
    if b1 is _MISSING or b2 is _MISSING or b1 != b2:
        if not isinstance(b1, dict | list) or not isinstance(b2, dict | list):
            raise AssertionError(f"body: recorded {_request_preview(r2, b2)}, sent {_request_preview(r1, b1)}")
        raise AssertionError(_body_difference(sent=b1, recorded=b2))


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
    from pytest_runcommand.contract.violations import mask_pointer

    found: list[tuple[str, Any, Any]] = []
    _collect_differences(recorded, sent, "", found)
    shown = [
        f"at {mask_pointer(pointer) or '/'}: recorded {_shown(pointer, old)}, sent {_shown(pointer, new)}"
        for pointer, old, new in found[:_SHOWN_DIFFERENCES]
    ]
    if len(found) > _SHOWN_DIFFERENCES:
        shown.append(f"and {len(found) - _SHOWN_DIFFERENCES} more")
    return "; ".join(shown)


def _collect_differences(recorded: Any, sent: Any, pointer: str, found: list[tuple[str, Any, Any]]) -> None:
    """Append (pointer, recorded, sent) for each leaf where the documents differ, in document order."""
    if recorded is not _ABSENT and sent is not _ABSENT and recorded == sent:
        return
    if isinstance(recorded, dict) and isinstance(sent, dict):
        for key in dict.fromkeys([*recorded, *sent]):
            token = str(key).replace("~", "~0").replace("/", "~1")
            _collect_differences(recorded.get(key, _ABSENT), sent.get(key, _ABSENT), f"{pointer}/{token}", found)
    elif isinstance(recorded, list) and isinstance(sent, list):
        for index in range(max(len(recorded), len(sent))):
            old = recorded[index] if index < len(recorded) else _ABSENT
            new = sent[index] if index < len(sent) else _ABSENT
            _collect_differences(old, new, f"{pointer}/{index}", found)
    else:
        found.append((pointer, recorded, sent))


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
    if isinstance(body, bytes):
        from pytest_runcommand.contract.violations import mask_text

        text = mask_text(body.decode("utf-8", "replace"))
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
