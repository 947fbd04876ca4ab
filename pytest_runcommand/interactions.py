"""One HTTP exchange, the value every part of the toolkit passes around."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import orjson

__all__ = ["Interaction", "header_value", "invalid_on_purpose", "parse_json_body", "sending_invalid_on_purpose"]

_invalid_on_purpose: ContextVar[bool] = ContextVar("pytest_runcommand_invalid_on_purpose", default=False)


@contextmanager
def invalid_on_purpose() -> Iterator[None]:
    """Requests sent inside are invalid on purpose (a negative fuzz case): recorders mark what they record then."""
    token = _invalid_on_purpose.set(True)
    try:
        yield
    finally:
        _invalid_on_purpose.reset(token)


def sending_invalid_on_purpose() -> bool:
    """True inside :func:`invalid_on_purpose` (in this thread or task)."""
    return _invalid_on_purpose.get()


def parse_json_body(body: bytes | str | Mapping[str, Any] | list[Any] | None) -> Any:
    """Return ``body`` as parsed JSON; ``None`` for an absent or empty body.

    Raises ``ValueError`` (``orjson.JSONDecodeError``) when the text is not JSON.
    """
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview | str):
        if (
            not body
            or (isinstance(body, str) and not body.strip())
            or (not isinstance(body, str) and not bytes(body).strip())
        ):
            return None
        return orjson.loads(body)
    return body


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The value of header ``name`` (matched case-insensitively), or None; names that are not str never match."""
    if not headers:
        return None
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, candidate in headers.items():
        if isinstance(key, str) and key.lower() == lowered:
            return candidate
    return None


@dataclass(eq=False)
class Interaction:
    """A request and, when known, its response.

    Bodies are kept as given (bytes, str, or already parsed JSON); the parsed form is computed once.
    Header names are matched case-insensitively through :meth:`request_header` / :meth:`response_header`.
    """

    method: str
    url: str
    request_headers: Mapping[str, str] = field(default_factory=dict)
    request_body: bytes | str | Mapping[str, Any] | list[Any] | None = None
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes | str | Mapping[str, Any] | list[Any] | None = None
    source: str = ""
    """Where the interaction came from (a cassette path and index, a test id), for messages."""
    request_invalid_on_purpose: bool = False
    """The request was sent invalid on purpose (a negative fuzz case): the traffic check holds only its answer to the
    contract (the request's violations are kept as ignored)."""

    def __post_init__(self) -> None:
        if not isinstance(self.method, str):
            raise TypeError(f"Interaction: method must be a str, got {type(self.method).__name__}")
        self.method = self.method.upper()

    @cached_property
    def request_json(self) -> Any:
        return parse_json_body(self.request_body)

    @cached_property
    def response_json(self) -> Any:
        return parse_json_body(self.response_body)

    def request_header(self, name: str) -> str | None:
        return header_value(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        return header_value(self.response_headers, name)

    def describe(self) -> str:
        """A one-line label: ``PATCH /subscriptions/... -> 200 (cassette.yaml#3)``."""
        text = f"{self.method} {self.url}"
        if self.status is not None:
            text += f" -> {self.status}"
        if self.source:
            text += f" ({self.source})"
        return text
