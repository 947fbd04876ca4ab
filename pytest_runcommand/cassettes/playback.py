"""Per-test behaviour of a cassette: the sanitized live view, no-wait playback and closest-match errors.

* :func:`live_sanitized_view` - while recording, the test sees the sanitized response it will see on replay (bodies
  and headers; only the URLs a client follows live - ``Location``, ``Azure-AsyncOperation``, ``Operation-Location``
  - and ``Set-Cookie`` stay live, or polling a real service would break); when the test ends, what the cassette's
  sanitizer noted is shown as a ``RunCommandWarning`` (a ``UserWarning``) starting ``pytest-runcommand: cassette
  <file>:`` (a secret redacted in place but not scrubbed from other text, being a word of the protocol);
* :func:`no_wait_playback` - in a write-protected (replay-only) cassette, azure-core's LRO polling delay is skipped
  (when azure-core is installed; replay needs no Azure SDK);
* :func:`zero_retry_after` - an ``after_load_interaction`` hook replaying ``Retry-After`` as ``0``;
* :func:`exact_matches_first` - of the recorded requests a request matches, those that match it with no placeholder
  standing for other text are played first (with ``allow_playback_repeats``, or out of order, a request otherwise
  takes an earlier interaction that matched only at a ``REDACTED`` place);
* :func:`closest_match_errors` - a request with no recorded match raises :class:`CassetteMismatchError`, built from
  the sanitized request: the cassette file, the request (method and sanitized URL), the record mode in force and
  where it came from, the closest recorded requests with the matcher that differed, and the ``--record-mode`` that
  records it (vcrpy's own text calls ``once`` the default; pytest-recording's default is ``none``).
"""

from __future__ import annotations

import contextlib
import shlex
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.request import Request

from pytest_runcommand.cassettes.patches import (
    cassette_path,
    patch_azure_polling_delay,
    patch_httpx_record_responses,
    replace_cassette_responses,
)
from pytest_runcommand.cassettes.sanitize import Sanitizer
from pytest_runcommand.errors import RunCommandError, RunCommandWarning

__all__ = [
    "FOLLOWED_HEADERS",
    "CassetteMismatchError",
    "closest_match_errors",
    "exact_matches_first",
    "live_sanitized_view",
    "no_wait_playback",
    "warn_notes",
    "zero_retry_after",
]

FOLLOWED_HEADERS = frozenset({"location", "azure-asyncoperation", "operation-location", "set-cookie"})


class CassetteMismatchError(CannotOverwriteExistingCassetteException, RunCommandError):  # type: ignore[misc]
    """No recorded interaction matches a request (the message names the closest one and what differed).

    Built from the sanitized request, so the message carries no secret the test sent.
    """

    def __init__(
        self, *, cassette: Any, failed_request: Any, test_id: str | None = None, mode_option: str | None = None
    ) -> None:
        super().__init__(cassette=cassette, failed_request=failed_request)  # type: ignore[call-arg]
        similar = getattr(self, "similar_requests", None)
        if similar is None:  # vcrpy sets it (a documented attribute); computed again only if a version does not
            similar = cassette.find_requests_with_most_matches(failed_request)
        self.args = (mismatch_message(cassette, failed_request, similar, test_id=test_id, mode_option=mode_option),)


_SHOWN_SIMILAR = 3


def mismatch_message(
    cassette: Any, request: Any, similar: list[Any], *, test_id: str | None = None, mode_option: str | None = None
) -> str:
    """Why ``request`` (already sanitized) cannot be played back from ``cassette``, and the command that records it.

    ``test_id`` (a pytest node id) makes the commands exact; ``mode_option`` is ``--record-mode`` as given (None when
    not given), which says whether the mode in force came from the command line, its default or ``vcr_config``.
    """
    from pytest_runcommand.cassettes.matchers import redacted_values, shown_uri

    mode = str(getattr(cassette.record_mode, "value", cassette.record_mode))
    path = cassette_path(cassette)
    # what the recording redacted is never shown: the values placeholders stand for in the request, masked everywhere
    values: set[str] = set()
    for recorded, _, _ in similar:
        values |= redacted_values(recorded, request)
    shown = shown_uri(similar[0][0] if similar else None, request, values)
    found = len(cassette) > 0 or path.is_file()
    already_played = bool(similar) and not similar[0][2]
    if not found:
        problem = "the cassette does not exist"
    elif already_played:
        problem = "every recorded interaction it matches has already been played back"
    elif similar:
        differ = ", ".join(dict.fromkeys(name for name, _ in similar[0][2]))
        problem = f"no recorded interaction matches it (the closest differ in {differ})"
    else:
        problem = "the cassette holds nothing like it"
    lines = [
        f"Cannot play back {request.method} {shown}: {problem}.",
        f"  cassette: {path} ({len(cassette)} interactions recorded, {len(cassette.play_counts)} played)",
        f"  record mode: {mode}{_mode_source(mode, test_id, mode_option)}; it plays back and records nothing new",
    ]
    if found and similar and not already_played:
        lines.append("Closest recorded requests:")
        for number, (recorded, _, failed) in enumerate(similar[:_SHOWN_SIMILAR], start=1):
            lines.append(f"  {number}. {recorded.method} {recorded.uri}")
            lines += [f"     {name} differs: {_masked_text(text, values)}" for name, text in failed]
        if len(similar) > _SHOWN_SIMILAR:
            lines.append(f"  ...and {len(similar) - _SHOWN_SIMILAR} more as close")
    lines.append("How to fix:")
    lines += [f"  * {fix}" for fix in _fixes(found, already_played, bool(similar), test_id)]
    if test_id is not None and mode_option not in (None, mode):
        lines.append(f"  (record_mode {mode!r} is set by vcr_config or the vcr marker, which win over --record-mode:")
        lines.append("   change it there first)")
    return "\n".join(lines)


def _masked_text(text: str | None, values: set[str]) -> str:
    """A matcher's message on one line, each of ``values`` masked as written and as JSON shows it."""
    import orjson

    from pytest_runcommand.cassettes.matchers import shown_sent

    escaped = {orjson.dumps(value).decode()[1:-1] for value in values}
    return " ".join(str(shown_sent(None, text or "", values | escaped)).split())


def _mode_source(mode: str, test_id: str | None, mode_option: str | None) -> str:
    if test_id is None:
        return ""
    if mode_option is None:
        return " (pytest-recording's default)" if mode == "none" else " (set by vcr_config or the vcr marker)"
    return " (--record-mode)" if mode_option == mode else " (set by vcr_config or the vcr marker)"


def _fixes(found: bool, already_played: bool, similar: bool, test_id: str | None) -> list[str]:
    rerun = f"pytest {shlex.quote(test_id)}" if test_id else "pytest <the test>"
    if not found:
        return [
            f"record it: {rerun} --record-mode=once (it records a cassette that does not exist yet)",
            "if it should exist, check the cassette's name and folder (vcr_cassette_dir, the vcr marker)",
        ]
    rewrite = f"record the cassette again: {rerun} --record-mode=rewrite (or new_episodes to keep it and add this)"
    if already_played:
        return [
            "if the same answer may be played again, set allow_playback_repeats=True in vcr_config",
            f"otherwise {rewrite}",
        ]
    fixes = [f"if the request changed on purpose, {rewrite}"]
    if similar:
        fixes.append("if what differs changes on every run (a timestamp, an id), make match_on ignore it")
    return fixes


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
        warn_notes(cassette)


def warn_notes(cassette: Any) -> None:
    """Show what the cassette's sanitizer noted as warnings, here rather than where it noted them: a warning turned
    into an error (``-W error``) there would pass through the frames of vcrpy and of the client, which hold the
    message as sent. The sanitizer is the one the safe persister holds (vcrpy keeps the persister as ``_persister``;
    without it there is nothing to show)."""
    sanitizer = getattr(getattr(cassette, "_persister", None), "sanitizer", None)
    if not isinstance(sanitizer, Sanitizer):
        return
    path = cassette_path(cassette)
    for note in sanitizer.take_notes():  # shown as at the cassette's file, which the note is about
        warnings.warn_explicit(f"pytest-runcommand: cassette {path.name}: {note}", RunCommandWarning, str(path), 1)


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
def exact_matches_first(cassette: Any) -> Iterator[None]:
    """Order the interactions a request matches so that exact matches come first (:func:`literal_fit`), each group in
    recorded order: vcrpy plays the first it may, so a placeholder no longer takes a request an exact match waits
    for."""
    from pytest_runcommand.cassettes.matchers import literal_fit

    def wrap(original: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def responses(request: Any) -> Iterator[tuple[int, Any]]:
            # lazily, as vcrpy's own: playback takes the first it may, so an exact match first found ends the search
            sent: Any = None
            waiting: list[tuple[int, Any]] = []
            for index, response in original(request):
                if sent is None:
                    sent = cassette._before_record_request(request)  # what the matchers compared
                if literal_fit(sent, cassette.data[index][0]):
                    yield index, response
                else:
                    waiting.append((index, response))
            yield from waiting

        return responses

    undo = replace_cassette_responses(cassette, wrap)
    try:
        yield
    finally:
        undo()


@contextlib.contextmanager
def closest_match_errors(
    cassette: Any, *, test_id: str | None = None, mode_option: str | None = None
) -> Iterator[None]:
    """Replace vcrpy's "can't overwrite" error with :class:`CassetteMismatchError`, built from the sanitized request.

    Under pytest, ``test_id`` (the node id) and ``mode_option`` (``--record-mode`` as given) make the message's
    commands exact.
    """
    original = cassette.can_play_response_for

    def can_play(request: Any) -> bool:
        if original(request):
            return True
        clean = cassette.filter_request(request)
        if cassette.write_protected and clean:
            raise CassetteMismatchError(
                cassette=cassette, failed_request=clean, test_id=test_id, mode_option=mode_option
            )
        return False

    cassette.can_play_response_for = can_play
    try:
        yield
    finally:
        with contextlib.suppress(AttributeError):
            del cassette.can_play_response_for
