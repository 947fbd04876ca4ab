"""Per-test behaviour of a cassette: the sanitized live view, no-wait playback and closest-match errors.

* :func:`live_sanitized_view` - while recording, the test sees the sanitized response it will see on replay (bodies
  and headers; only the URLs a client follows live - ``Location``, ``Azure-AsyncOperation``, ``Operation-Location``
  - and ``Set-Cookie`` stay live, or polling a real service would break);
* :func:`no_wait_playback` - in a write-protected (replay-only) cassette, azure-core's LRO polling delay is skipped
  (when azure-core is installed; replay needs no Azure SDK);
* :func:`zero_retry_after` - an ``after_load_interaction`` hook replaying ``Retry-After`` as ``0``;
* :func:`closest_match_errors` - a request with no recorded match raises :class:`CassetteMismatchError` naming the
  closest recorded request and the matcher that differed, built from the sanitized request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from pytest_runcommand.cassettes.patches import patch_azure_polling_delay, patch_httpx_record_responses
from pytest_runcommand.errors import RunCommandError

__all__ = [
    "FOLLOWED_HEADERS",
    "CassetteMismatchError",
    "closest_match_errors",
    "live_sanitized_view",
    "no_wait_playback",
    "zero_retry_after",
]

FOLLOWED_HEADERS = frozenset({"location", "azure-asyncoperation", "operation-location", "set-cookie"})


class CassetteMismatchError(CannotOverwriteExistingCassetteException, RunCommandError):  # type: ignore[misc]
    """No recorded interaction matches a request (the message names the closest one and what differed).

    Built from the sanitized request, so the message carries no secret the test sent.
    """

    def __init__(self, *, cassette: Any, failed_request: Any) -> None:
        super().__init__(cassette=cassette, failed_request=failed_request)  # type: ignore[call-arg]


@contextlib.contextmanager
def live_sanitized_view(cassette: Any) -> Iterator[None]:
    """While recording, hand the test the sanitized response (see the module docstring for what stays live)."""
    original_append = cassette.append

    def append(request: Any, response: Any) -> None:
        before = len(cassette.data)
        original_append(request, response)
        if len(cassette.data) > before and isinstance(response, dict):
            _update_live(response, cassette.data[-1][1])

    cassette.append = append
    undo = patch_httpx_record_responses(lambda original: _httpx_recorder(cassette, original))
    try:
        yield
    finally:
        undo()
        with contextlib.suppress(AttributeError):
            del cassette.append


def _merged_live_headers(live: dict[str, Any], clean: dict[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in clean.items() if k.lower() not in FOLLOWED_HEADERS}
    merged.update({k: v for k, v in live.items() if k.lower() in FOLLOWED_HEADERS})
    return merged


def _update_live(live: dict[str, Any], clean: dict[str, Any]) -> None:
    headers = _merged_live_headers(dict(live.get("headers") or {}), clean.get("headers") or {})
    live["headers"] = headers
    live["body"] = dict(clean.get("body") or {})


def _httpx_recorder(cassette: Any, original: Callable[..., None]) -> Callable[..., None]:
    def record(active: Any, vcr_request: Any, real_response: Any, real_response_content: Any) -> None:
        before = len(active.data)
        original(active, vcr_request, real_response, real_response_content)
        if active is not cassette or len(active.data) <= before:
            return
        clean = active.data[-1][1]
        body = clean["body"]["string"]
        body = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        live_headers = [(k, v) for k, v in real_response.headers.multi_items() if k.lower() in FOLLOWED_HEADERS]
        clean_headers = [
            (k, v) for k, values in clean["headers"].items() if k.lower() not in FOLLOWED_HEADERS for v in values
        ]
        import httpx

        real_response.headers = httpx.Headers(clean_headers + live_headers)
        real_response.stream = httpx.ByteStream(body)
        if "_content" in vars(real_response):  # a response built with content= was read eagerly
            real_response._content = body

    return record


@contextlib.contextmanager
def no_wait_playback(cassette: Any) -> Iterator[bool]:
    """Skip azure-core's LRO polling delay while ``cassette`` can only play back. Yields whether it did."""
    if not cassette.write_protected:
        yield False
        return
    undo = patch_azure_polling_delay()
    try:
        yield True
    finally:
        for fn in undo:
            fn()


def zero_retry_after(request: Request, response: dict[str, Any], cassette: Any) -> tuple[Request, dict[str, Any]]:
    """Replay ``Retry-After`` as 0 when the cassette only plays back (record mode none or once)."""
    mode = getattr(cassette.record_mode, "value", cassette.record_mode)
    if mode in ("none", "once"):
        headers = response.get("headers") or {}
        for name in headers:
            if name.lower() == "retry-after":
                response = {**response, "headers": {**headers, name: ["0"]}}
                break
    return request, response


@contextlib.contextmanager
def closest_match_errors(cassette: Any) -> Iterator[None]:
    """Replace vcrpy's "can't overwrite" error with one built from the sanitized request."""
    original = cassette.can_play_response_for

    def can_play(request: Any) -> bool:
        if original(request):
            return True
        clean = cassette.filter_request(request)
        if cassette.write_protected and clean:
            raise CassetteMismatchError(cassette=cassette, failed_request=clean)
        return False

    cassette.can_play_response_for = can_play
    try:
        yield
    finally:
        with contextlib.suppress(AttributeError):
            del cassette.can_play_response_for
