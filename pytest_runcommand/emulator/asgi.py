"""The emulator's one HTTP layer: ASGI types, the request every service reads, the answer every service gives.

A service handler is ``Callable[[Request], Response]``; the app (:mod:`pytest_runcommand.emulator.app`) builds
the :class:`Request`, and :func:`encode` turns every :class:`Response` into raw headers and body. Header values
are made safe on the way out (a control or non-ASCII character is percent-encoded), so no answer can fail to
encode and drop the connection.
"""

from __future__ import annotations

import binascii
import random
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import Any
from urllib.parse import quote

import orjson

from pytest_runcommand.emulator import errors

__all__ = [
    "COMMON_RAW_HEADERS",
    "GUID_BATCH",
    "GUID_KEEP",
    "GUID_VERSION_4",
    "JSON_HEADER",
    "RATE_LIMITS",
    "REQUEST_ID",
    "ClientGone",
    "Encoded",
    "FastHandler",
    "Guids",
    "Handler",
    "Message",
    "RawJson",
    "Receive",
    "Request",
    "Response",
    "Scope",
    "Send",
    "arm_answer",
    "base_url",
    "check_declared_length",
    "encode",
    "encoded",
    "guid",
    "guids",
    "header_value",
    "lifespan",
    "new_request",
    "parse_headers",
    "parse_query",
    "rate_limit_header",
    "read_body",
    "read_rest",
    "request_id",
    "valid_host",
    "whole_body",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

COMMON_HEADERS = (
    ("cache-control", "no-cache"),
    ("pragma", "no-cache"),
    ("expires", "-1"),
    ("x-content-type-options", "nosniff"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
)
COMMON_RAW_HEADERS = tuple((name.encode(), value.encode()) for name, value in COMMON_HEADERS)
""":data:`COMMON_HEADERS` as sent."""
JSON_HEADER = (b"content-type", b"application/json; charset=utf-8")
"""The ``Content-Type`` of a JSON body, as sent."""


@dataclass(slots=True)
class Request:
    """A parsed request, as every service handler sees it."""

    method: str
    path: str
    query: Mapping[str, str]
    """Query parameters by lower-cased name (the first value when repeated)."""
    raw_query: str
    headers: Mapping[str, str]
    """Headers by lower-cased name (the first value when repeated)."""
    base_url: str
    params: Mapping[str, str] = field(default_factory=dict)
    """Path parameters by template name, as sent."""
    body: bytes = b""
    api_version: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)
    """The bearer token's claims, when the emulator could read them (its own tokens)."""


def new_request(
    method: str,
    path: str,
    query: Mapping[str, str],
    raw_query: str,
    headers: Mapping[str, str],
    base_url: str,
    params: Mapping[str, str],
    claims: Mapping[str, Any],
) -> Request:
    """``Request(method, path, query, raw_query, headers, base_url, params, claims=claims)``, its fields stored
    one by one into a bare instance: the same request, without the class call's trip through ``__init__`` (a
    fifth of its cost; one per request)."""
    request: Request = _new(Request)
    request.method = method
    request.path = path
    request.query = query
    request.raw_query = raw_query
    request.headers = headers
    request.base_url = base_url
    request.params = params
    request.body = b""
    request.api_version = ""
    request.claims = claims
    return request


_new = object.__new__


@dataclass(frozen=True)
class RawJson:
    """A JSON body already encoded (a :class:`Response` body sent as it is)."""

    data: bytes


@dataclass
class Response:
    """What a handler answers: status, JSON body (None: an empty body; :class:`RawJson`: encoded already) and extra
    headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Encoded:
    """An answer already encoded (what :func:`encode` gives for a :class:`Response`): a fast path's."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def encoded(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Encoded:
    """``Encoded(status, headers, body)``, its fields stored into a bare instance (no trip through ``__init__``: a
    fast path makes one per request)."""
    answer: Encoded = _new(Encoded)
    answer.status = status
    answer.headers = headers
    answer.body = body
    return answer


Handler = Callable[[Request], Response]
FastHandler = Callable[[Request], "Encoded | None"]
"""A handler that answers the usual case already encoded, or None to leave the request to the plain handler (which
answers it, errors included, as if no fast handler existed)."""


class ClientGone(Exception):
    """The client went away before its request's body was complete: the request is not carried out, and there is
    no one to answer."""


async def read_body(receive: Receive, limit: int, headers: Mapping[str, str] | None = None) -> bytes:
    """The whole request body; 413 as soon as it (or its declared Content-Length) passes ``limit`` bytes;
    :class:`ClientGone` when the client disconnects before the body is complete (a part is never carried out)."""
    if headers is not None:
        check_declared_length(headers, limit)
    message = await receive()
    body = whole_body(message, limit)
    return body if body is not None else await read_rest(receive, message, limit)


def check_declared_length(headers: Mapping[str, str], limit: int) -> None:
    """413 when the declared ``Content-Length`` passes ``limit`` bytes (before waiting for such a body)."""
    declared = headers.get("content-length")
    if declared is not None and len(declared) >= _digits(limit):  # (fewer digits: no larger than the limit)
        declared = declared.strip()
        if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            raise errors.request_too_large(limit)


@lru_cache(maxsize=8)
def _digits(limit: int) -> int:
    """How many digits ``limit`` has (a number written with fewer is smaller)."""
    return len(str(max(limit, 0)))


def whole_body(message: Message, limit: int) -> bytes | None:
    """The body of a request sent in one message (the usual case; 413 past ``limit``), or None when more follows."""
    if message.get("more_body", False) or message["type"] == "http.disconnect":
        return None
    body = message.get("body", b"")
    if len(body) > limit:
        raise errors.request_too_large(limit)
    return body if type(body) is bytes else b"".join((body,))


async def read_rest(receive: Receive, message: Message, limit: int) -> bytes:
    """The body of a request that ``message`` begins, read to its end (:func:`read_body`)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ClientGone("the client disconnected before the request body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise errors.request_too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
        message = await receive()
    return b"".join(chunks)


_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::([0-9]{1,5}))?")
"""RFC 9110's ``Host``: ``uri-host [ ":" port ]`` (an IP literal in brackets, an IPv4 address or a reg-name)."""


@lru_cache(maxsize=64)
def valid_host(host: str) -> bool:
    """Whether a ``Host`` header value is a host and an optional port a client can connect to (1 to 65535; no
    ``/ ? # @``, spaces or quotes): the emulator's URLs are built from it."""
    match = _HOST.fullmatch(host)
    return match is not None and (match.group(1) is None or 0 < int(match.group(1)) <= 65535)


def base_url(scope: Scope, headers: Mapping[str, str]) -> str:
    """``scheme://host[:port]`` as the client addressed the server; the server's own address when the ``Host``
    header is missing or is not a host (such a request is refused, :func:`valid_host`, but still recorded)."""
    host = headers.get("host")
    if not host or not valid_host(host):
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}"


def parse_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI header pairs -> ``{lower-cased name: first value}`` (latin-1, as HTTP/1.1 carries them)."""
    if type(raw) is list or type(raw) is tuple:
        try:
            key = tuple(raw)
            found = _PARSED.get(key)
        except TypeError:  # an unhashable pair: parsed pair by pair
            found = key = None
        if found is not None:
            return found
        names = _HEADER_NAMES
        try:  # names seen before, none repeated (the usual request): one pass in C
            headers = {names[name]: value.decode("latin-1") for name, value in raw}
        except KeyError:
            pass
        else:
            if len(headers) == len(raw):
                if key is not None:
                    if len(_PARSED) >= 256:
                        _PARSED.clear()
                    _PARSED[key] = headers
                return headers
    return _parse_headers(raw)


def _parse_headers(raw: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """:func:`parse_headers` pair by pair: a name not seen before, or one repeated (its first value kept)."""
    headers: dict[str, str] = {}
    names = _HEADER_NAMES
    for name, value in raw:
        key = names.get(name) or _header_name(name)
        if key not in headers:
            headers[key] = value.decode("latin-1")
    return headers


_PARSED: dict[tuple[tuple[bytes, bytes], ...], dict[str, str]] = {}
"""Headers parsed, by the pairs as sent (a client repeats its headers; shared, never changed)."""
_HEADER_NAMES: dict[bytes, str] = {}
"""Header names as sent -> lower-cased text (clients send a handful)."""


def _header_name(name: bytes) -> str:
    """A header name as :func:`parse_headers` keys it, remembered (at most 1,024)."""
    key = name.decode("latin-1").lower()
    if len(_HEADER_NAMES) < 1024:
        _HEADER_NAMES[bytes(name)] = key
    return key


def parse_query(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Query pairs -> ``{lower-cased name: first value}`` (ARM matches parameter names case-insensitively)."""
    query: dict[str, str] = {}
    for name, value in pairs:
        query.setdefault(name.lower(), value)
    return query


async def lifespan(receive: Receive, send: Send) -> None:
    """Answer the ASGI lifespan protocol (nothing to start or stop)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


_PRINTABLE = "".join(chr(code) for code in range(0x21, 0x7F))


def header_value(value: str) -> bytes:
    """``value`` as header bytes: printable ASCII as is, anything else (controls, non-ASCII) percent-encoded."""
    if value.isascii() and value.isprintable():  # exactly [\x20-\x7e]*
        return value.encode("ascii")
    return quote(value, safe=_PRINTABLE + " ").encode("ascii")


REQUEST_ID = "x-ms-request-id"
"""The header a service may set on a :class:`Response` to choose the request id (spelled exactly so)."""


def guid(bits: int) -> str:
    """A version-4 GUID from 128 random bits, as ``str(uuid.UUID(int=bits, version=4))`` writes it."""
    return "-".join(_GUID_GROUPS((bits & GUID_KEEP | GUID_VERSION_4).to_bytes(16).hex()))


_GUID_GROUPS = itemgetter(slice(0, 8), slice(8, 12), slice(12, 16), slice(16, 20), slice(20, 32))


GUID_KEEP = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
"""The bits of a version-4 GUID that are random."""
GUID_VERSION_4 = (0x8000 << 48) | (0x4000 << 64)
"""The version and variant bits of a version-4 GUID."""


class Guids:
    """Version-4 GUIDs drawn from ``source``: the same, in the same order, as ``guid(source.getrandbits(128))`` one at
    a time, made :data:`GUID_BATCH` at a time (one draw, one mask, one hex conversion: a third of the cost)."""

    def __init__(self, source: random.Random) -> None:
        self.source = source
        self._ready: list[str] = []

    def next(self) -> str:
        """The next GUID."""
        try:
            return self._ready.pop()
        except IndexError:
            self._ready = guids(self.source.getrandbits(128 * GUID_BATCH), GUID_BATCH)
            return self._ready.pop()

    def seed(self, value: int) -> None:
        """Draw from ``value`` on (``random.Random.seed``; GUIDs made ahead are dropped)."""
        self.source.seed(value)
        self._ready = []


GUID_BATCH = 256
"""How many GUIDs :class:`Guids` makes at a time."""


def guids(bits: int, count: int) -> list[str]:
    """``count`` GUIDs from ``count * 128`` random bits, the last first: ``guid`` of each 128 bits, the lowest last
    (what ``count`` draws of 128 bits give, in reverse: ``getrandbits`` fills an int from its lowest bits up)."""
    keep, version = _masks(count)
    digits = binascii.hexlify((bits & keep | version).to_bytes(16 * count))
    text = bytearray(_GUID_TEMPLATE * count)
    for at, digit in _GUID_DIGITS:  # each digit of every GUID at once, by slices with a step
        text[at::37] = digits[digit::32]
    made = text.decode("ascii").split("\n")  # (a one-character separator: searched in C, not char by char)
    made.pop()  # the empty text after the last line break
    return made


_GUID_TEMPLATE = b"00000000-0000-0000-0000-000000000000\n"
_GUID_DIGITS = tuple(zip((at for at in range(36) if at not in (8, 13, 18, 23)), range(32), strict=True))
"""Where each of a GUID's 32 hex digits goes in its text."""


@lru_cache(maxsize=4)
def _masks(count: int) -> tuple[int, int]:
    """:data:`GUID_KEEP` and :data:`GUID_VERSION_4` for ``count`` GUIDs side by side."""
    return sum(GUID_KEEP << (128 * at) for at in range(count)), sum(GUID_VERSION_4 << (128 * at) for at in range(count))


_IDS = Guids(random.Random())


def request_id() -> str:
    """A new ``x-ms-request-id`` (or correlation id): a random GUID."""
    return _IDS.next()


RATE_LIMITS = {"reads": "11999", "writes": "1199", "deletes": "14999"}
"""``x-ms-ratelimit-remaining-subscription-*``: ARM's per-subscription budget, never spent (no throttling unless a
scenario scripts a 429). As recorded: reads on GET, deletes on DELETE, writes on the other methods; on the answers
a service gives, errors included (what ARM's gateway refuses itself, such as a missing token or an unknown path,
carries none)."""
_KIND = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}
_RATE_LIMIT_HEADERS = {
    kind: (f"x-ms-ratelimit-remaining-subscription-{kind}", RATE_LIMITS[kind]) for kind in RATE_LIMITS
}


def rate_limit_header(method: str) -> tuple[str, str]:
    """The rate-limit header (name, value) ARM sends on a service's answer to ``method``."""
    return _RATE_LIMIT_HEADERS[_KIND.get(method, "writes")]


def arm_answer(handler: Handler) -> Handler:
    """``handler`` with ARM's rate-limit header on its answers, its errors included."""

    def answer(request: Request) -> Response:
        name, value = _RATE_LIMIT_HEADERS[_KIND.get(request.method, "writes")]
        try:
            response = handler(request)
        except errors.ServiceError as error:
            if name not in error.headers:
                error.headers = {**error.headers, name: value}
            raise
        response.headers.setdefault(name, value)
        return response

    return answer


def encode(
    response: Response, request_headers: Mapping[str, str], *, head: bool = False
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The raw headers and body of ``response`` (``head``: headers only, as HEAD answers)."""
    content = response.body
    body = b"" if content is None else content.data if type(content) is RawJson else orjson.dumps(content)
    own = response.headers
    names = tuple(own)
    plan = _PLANS.get(names) or _header_plan(names)
    headers = [*plan[0]] if content is None else [*plan[0], JSON_HEADER]
    given = own.get(REQUEST_ID) or request_id()  # a service may name it (the action: its operation's id)
    # as recorded: ARM's correlation id is its own GUID (the client's when it sends one), never the request id;
    # x-ms-client-request-id is not echoed
    correlation = request_headers.get("x-ms-correlation-request-id")
    headers += (
        (b"content-length", b"%d" % len(body)),
        (b"x-ms-request-id", given.encode()),
        (b"x-ms-correlation-request-id", header_value(correlation) if correlation else request_id().encode()),
    )
    for name, value in zip(plan[1], own.values(), strict=True):
        if name is not None:
            headers.append((name, _KNOWN_VALUES.get(value) or header_value(value)))
    return headers, b"" if head else body


_KNOWN_VALUES = {value: value.encode() for value in ("Enabled", "0", "1", *RATE_LIMITS.values())}
"""Header values services send over and over, encoded once."""


_HeaderPlan = tuple[tuple[tuple[bytes, bytes], ...], tuple[bytes | None, ...]]
_PLANS: dict[tuple[str, ...], _HeaderPlan] = {}


def _header_plan(names: tuple[str, ...]) -> _HeaderPlan:
    """For a service's header names (in order): the common headers it does not override, and each name as sent
    (None for the request id, sent in its own place); remembered, services use a handful of sets."""
    found = _PLANS.get(names)
    if found is None:
        raw = [_raw_name(name) for name in names]
        common = tuple(pair for pair in COMMON_RAW_HEADERS if pair[0] not in raw)
        found = (common, tuple(None if name == REQUEST_ID else _raw_name(name) for name in names))
        if len(_PLANS) < 1024:
            _PLANS[names] = found
    return found


_RAW_NAMES: dict[str, bytes] = {}


def _raw_name(name: str) -> bytes:
    """A header name as sent (lower-cased ASCII), remembered: services use a handful."""
    found = _RAW_NAMES.get(name)
    if found is None:
        found = name.lower().encode("ascii")
        if len(_RAW_NAMES) < 1024:
            _RAW_NAMES[name] = found
    return found
