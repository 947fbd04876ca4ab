"""The sanitizing hooks vcrpy calls: ``before_record_request`` and ``before_record_response``.

Both sanitize the decoded message (see :meth:`~pytest_runcommand.cassettes.sanitize.Sanitizer.message`). A message
that cannot be sanitized with certainty (an unknown content coding, a body that is not text in any charset it
claims, JSON nested too deep, a JSON-like body that does not parse but names a secret property) is refused: the
refusal is remembered in :class:`Refusals`, so the cassette's persister writes nothing at all, and the cassette
raises :class:`MessageRefusedError` naming the interaction when it closes. Neither hook raises: the error would
pass through the frames of vcrpy and of the client, which hold the message, and ``pytest -l`` prints their locals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_runcommand.cassettes.decode import Undecodable
from pytest_runcommand.cassettes.sanitize import Sanitizer
from pytest_runcommand.errors import RunCommandError

__all__ = ["MessageRefusedError", "Refusals", "chain", "request_sanitizer", "response_sanitizer"]


class MessageRefusedError(RunCommandError, AssertionError):
    """A recorded message could not be sanitized with certainty: it is refused and the cassette is not written."""


class Refusals:
    """The refusals of one cassette, shared by its hooks and its persister."""

    def __init__(self) -> None:
        self.errors: list[MessageRefusedError] = []
        self.last_request = "a request"
        """The request the request hook saw last: vcrpy filters a request right before its response."""

    def refuse(self, what: str, side: str, reason: Undecodable) -> MessageRefusedError:
        error = MessageRefusedError(
            f"{what}: the {side} cannot be sanitized with certainty ({reason}); it is refused and the cassette "
            "is not written"
        )
        self.errors.append(error)
        return error


def _request_body(request: Any) -> Any:
    body = request.body
    if hasattr(body, "read"):  # a file-like body: vcrpy keeps its bytes and hands out a fresh BytesIO
        return body.read()
    if body is not None and not isinstance(body, bytes | str):  # an iterator of chunks
        chunks = list(body)
        return b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in chunks)
    return body


def request_sanitizer(sanitizer: Sanitizer, refusals: Refusals | None = None) -> Callable[[Any], Any]:
    """A ``before_record_request`` hook (mutates the copy vcrpy hands it; idempotent); None for a refused one."""
    refusals = refusals or Refusals()

    def hook(request: Any) -> Any:
        request.uri = sanitizer.url(request.uri)
        refusals.last_request = f"{request.method} {request.uri}"
        body = _request_body(request)
        try:
            headers, new_body = sanitizer.message(dict(request.headers.items()), body)
        except Undecodable as reason:  # raised when the cassette closes (see the module docstring)
            refusals.refuse(refusals.last_request, "request", reason)
            return None  # vcrpy's "do not record" (nor play back)
        request.headers = {name: ", ".join(values) for name, values in headers.items()}
        if new_body is not body or body is not request.body:
            request.body = new_body
        return request

    return hook


def response_sanitizer(
    sanitizer: Sanitizer, refusals: Refusals | None = None
) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """A ``before_record_response`` hook: a new sanitized response dict (decoded, lengths fixed), or None (not
    recorded) for a refused one."""
    refusals = refusals or Refusals()

    def hook(response: dict[str, Any]) -> dict[str, Any] | None:
        body_block = dict(response.get("body") or {})
        status = (response.get("status") or {}).get("code")
        try:
            headers, body = sanitizer.message(response.get("headers") or {}, body_block.get("string"))
        except Undecodable as reason:  # raised when the cassette closes: vcrpy's frames on the way hold the body
            refusals.refuse(f"{refusals.last_request} -> {status}", "response", reason)
            return None  # vcrpy's "do not record"
        body_block["string"] = body
        return {**response, "headers": headers, "body": body_block}

    return hook


def chain(first: Callable[[Any], Any] | None, second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``second(first(value))``, stopping at a None from ``first`` (vcrpy's "do not record")."""

    def chained(value: Any) -> Any:
        if first is not None:
            value = first(value)
            if value is None:
                return None
        return second(value)

    return chained
