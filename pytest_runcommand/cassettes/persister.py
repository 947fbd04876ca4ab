"""The safe persister: clear load errors, sanitize again, scan, then write atomically (or write nothing).

vcrpy saves inside the cassette's ``__exit__`` and does not undo its patches when the save raises, so under a
:class:`Deferral` that is listening the error is handed over instead, and :func:`guarded_cassettes` raises it once
the cassette has fully exited (see :func:`pytest_runcommand.cassettes.vcr.configure_vcr`).
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from vcr.cassette import CassetteContextDecorator
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.serialize import deserialize, serialize

from pytest_runcommand.cassettes.decode import Undecodable
from pytest_runcommand.cassettes.hooks import MessageRefusedError, Refusals, request_sanitizer, response_sanitizer
from pytest_runcommand.cassettes.loading import read_text
from pytest_runcommand.cassettes.readers import pair_interaction, read_cassette, vcr_interaction
from pytest_runcommand.cassettes.sanitize import Sanitizer
from pytest_runcommand.cassettes.scan import Finding, scan_interactions, scan_lines
from pytest_runcommand.errors import InputError, RunCommandError
from pytest_runcommand.report_file import write_report

__all__ = ["Deferral", "SafePersister", "SecretFoundError", "guarded_cassettes"]

_ANCHOR = re.compile(r"(?:^|[\s\[{,:-])&[^\s,\[\]{}]+")


class SecretFoundError(RunCommandError, AssertionError):
    """A cassette about to be written still holds a secret; nothing was written."""


class _UnreadableCassette(InputError):
    """A cassette that exists cannot be replayed (an :class:`InputError` naming the file and the place, and what to
    do); the pytest plugin shows its message alone. Every record mode reads the file first (``all`` and
    ``new_episodes`` keep what it holds), so only ``rewrite`` gets past it."""

    def __init__(self, message: str) -> None:
        super().__init__(f"{message} {UNREADABLE_HINT}")


UNREADABLE_HINT = "(the file is left as it is: fix or delete it, or record it anew with --record-mode=rewrite)"


class Deferral:
    """Errors of cassettes whose ``__exit__`` is still running (see the module docstring)."""

    def __init__(self) -> None:
        self.listening = 0
        self.errors: list[AssertionError] = []


def guarded_cassettes(deferral: Deferral) -> type[Any]:
    """vcrpy's cassette context manager and decorator, raising what the save deferred, or a refusal, once the
    cassette has fully exited: used as ``with``, as ``@use_cassette(path)`` and as a bare ``@use_cassette`` (vcrpy
    makes a new manager of the same class for each call of a decorated function, so every call is guarded)."""

    class RaiseAfterExit(CassetteContextDecorator):  # type: ignore[misc]  # vcrpy is untyped
        def __enter__(self) -> Any:
            cassette = super().__enter__()
            deferral.listening += 1
            self.runcommand_cassette = cassette
            return cassette

        def __exit__(self, *exc_info: object) -> None:
            try:
                super().__exit__(*exc_info)
            finally:
                deferral.listening -= 1
            if deferral.errors:
                error = deferral.errors.pop(0)
                deferral.errors.clear()
                raise error
            cassette, self.runcommand_cassette = self.runcommand_cassette, None
            persister = getattr(cassette, "_persister", None)
            if isinstance(persister, SafePersister) and persister.refusals.errors:  # nothing new to save: no save
                raise _refused(Path(str(getattr(cassette, "_path", "the cassette"))), persister.refusals)
            from pytest_runcommand.cassettes.playback import warn_notes

            warn_notes(cassette)  # what the save noted: shown here, where no frame holds a message

    return RaiseAfterExit


class SafePersister:
    """Wraps a vcrpy persister: clear load errors, sanitize again, scan, then write atomically.

    * load: a cassette that exists but cannot be read, or whose interactions have the wrong shape, raises
      :class:`InputError` naming the file and the place; it is never treated as empty, so no record mode overwrites
      it; a YAML cassette with anchors is read by the bounded reader first (no alias bomb reaches vcrpy); one that
      loads with no interaction is asked of the same reader as ``cassettes check`` (``interactions: {}`` is refused);
    * save: if a message of this cassette was refused, nothing is written; otherwise every interaction is sanitized
      once more and the result scanned; a finding raises :class:`SecretFoundError` (file and interaction index,
      value masked) and nothing is written; a clean text is written by the one writer of the package's files
      (:func:`pytest_runcommand.report_file.write_report`): whole or not at all, an existing cassette's permissions
      kept, a new one's from the umask, a symlinked cassette's target written and the link kept.
    """

    def __init__(
        self,
        inner: Any,
        sanitizer: Sanitizer,
        deferral: Deferral | None = None,
        refusals: Refusals | None = None,
    ) -> None:
        self.inner: Any = inner.inner if isinstance(inner, SafePersister) else inner
        self.sanitizer = sanitizer
        self.deferral = deferral
        self.refusals = refusals or Refusals()

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: ModuleType) -> Any:
        path = Path(cassette_path)
        try:
            if path.suffix.lower() in (".yaml", ".yml") and path.is_file() and _has_anchors(path):
                read_cassette(path)
            paths = [path, *(Path(extra) for extra in getattr(self.inner, "extra_paths", ()))]
            if any(_utf16_or_32(p) for p in paths):  # vcrpy and pytest-recording read a cassette as UTF-8
                loaded = _load_decoded(paths, serializer, combined=len(paths) > 1 or hasattr(self.inner, "extra_paths"))
            else:
                loaded = self.inner.load_cassette(cassette_path, serializer=serializer)
        except CassetteNotFoundError:  # also pytest-recording's word for a cassette with no interaction
            if path.is_file() and path.read_bytes().strip():  # an empty file is a missing cassette, as in vcrpy
                _raise_if_unreadable(path)
            raise
        except InputError as error:
            raise _UnreadableCassette(f"cannot replay: {error}") from None
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, yaml.YAMLError) as error:
            raise _load_error(path, error) from None
        problem = _shape_problem(loaded) or _unsanitizable(loaded, self.sanitizer.fresh())
        if problem is not None:
            raise _load_error(path, ValueError(problem))
        if not loaded[0]:  # vcrpy reads some unreadable files as empty ('interactions: {}'): the reader decides
            _raise_if_unreadable(path)
        return loaded

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: ModuleType
    ) -> None:
        path = Path(cassette_path)
        error = self._write_unless_refused(path, cassette_dict, serializer)
        del cassette_dict  # pytest -l shows this frame's locals: what was refused must not be among them
        if error is None:
            return
        if self.deferral is not None and self.deferral.listening:
            self.deferral.errors.append(error)
            return
        raise error

    def _write_unless_refused(
        self, path: Path, cassette_dict: dict[str, Any], serializer: ModuleType
    ) -> SecretFoundError | MessageRefusedError | None:
        """Write the cassette, or return why not. It returns the error rather than raising it: a frame the error
        passes through stays in its traceback, and this one holds the text that was refused."""
        try:
            cleaned = self._clean_text(path, cassette_dict, serializer)
        except MessageRefusedError:  # a new error below: this one's traceback holds the hook's frames
            cleaned = None
        if cleaned is None or self.refusals.errors:
            return _refused(path, self.refusals)
        text, findings = cleaned
        if findings:
            return SecretFoundError(_findings_message(path, findings))
        if self.sanitizer.holds_learned(str(path)):  # pytest-recording names the file after the test's id
            return SecretFoundError(
                f"cassette {self.sanitizer.text(str(path))} not written: its file name holds a secret the recording "
                "saw (a test id made from a parametrized value?); give the test an id of its own "
                "(pytest.param(..., id=...), or ids=) and record again"
            )
        write_report(path, text)  # the one writer: whole or not at all, mode kept, a link's target written
        return None

    def _clean_text(
        self, path: Path, cassette_dict: dict[str, Any], serializer: ModuleType
    ) -> tuple[str, list[Finding]] | None:
        """The sanitized text and what the scan found in it; None when a message was refused."""
        if self.refusals.errors:
            return None
        on_request = request_sanitizer(self.sanitizer, self.refusals)
        on_response = response_sanitizer(self.sanitizer, self.refusals)
        requests = [on_request(copy.deepcopy(r)) for r in cassette_dict["requests"]]
        # the answers as recorded are what the test saw: a value learned after one was recorded is in it in clear
        self.sanitizer.note_learned_late(
            [(i, json.dumps(r, default=str, ensure_ascii=False)) for i, r in enumerate(cassette_dict["responses"])]
        )
        sanitized = [on_response(r) for r in cassette_dict["responses"]]
        responses = [r for r in sanitized if r is not None]
        if self.refusals.errors or len(responses) != len(sanitized) or any(r is None for r in requests):
            return None
        text = serialize({**cassette_dict, "requests": requests, "responses": responses}, serializer)
        interactions = [
            pair_interaction(req, resp, f"{path.name}#{i}")
            for i, (req, resp) in enumerate(zip(requests, responses, strict=True))
        ]
        findings = scan_interactions(interactions, str(path))
        findings += scan_lines(text, str(path), findings)
        return text, findings


def _has_anchors(path: Path) -> bool:
    with path.open("rb") as stream:
        head = stream.read()
    return b"&" in head and _ANCHOR.search(head.decode("utf-8", "replace")) is not None


def _utf16_or_32(path: Path) -> bool:
    """Whether ``path`` is a file behind a UTF-16 or UTF-32 byte-order mark (a UTF-8 one vcrpy reads itself)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(4)
    except OSError:
        return False
    return head.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))


def _load_decoded(paths: list[Path], serializer: ModuleType, *, combined: bool) -> Any:
    """What vcrpy's persister (or pytest-recording's, with extra cassettes) loads from ``paths``, each file read as
    ``cassettes check`` reads it (its byte-order mark decides the encoding)."""
    if not paths[0].is_file() and not combined:
        raise CassetteNotFoundError()
    requests: list[Any] = []
    responses: list[Any] = []
    for path in dict.fromkeys(paths):
        if path.is_file():
            more_requests, more_responses, *_ = deserialize(read_text(path), serializer)
            requests += more_requests
            responses += more_responses
    if combined and not requests:
        raise CassetteNotFoundError("No cassettes found.")
    return requests, responses


def _unsanitizable(loaded: Any, sanitizer: Sanitizer) -> str | None:
    """The first recorded message the sanitizer would refuse (vcrpy runs the recording hooks on what it loads, and a
    refusal there would blame the test's request), named by its place in the cassette."""
    for index, (request, response) in enumerate(zip(loaded[0], loaded[1], strict=False)):
        response_body = response.get("body") if isinstance(response, dict) else None
        sides = (
            ("request", dict(request.headers), request.body),
            ("response", response.get("headers") or {}, response_body.get("string") if response_body else None),
        )
        for side, headers, body in sides:
            try:
                sanitizer.message(headers, body)
            except Undecodable as reason:
                return f"interactions[{index}].{side}.body cannot be sanitized with certainty ({reason})"
    return None


def _shape_problem(loaded: Any) -> str | None:
    """What is wrong with the (requests, responses) vcrpy loaded, before a replay trips over it: first what
    ``cassettes check`` refuses (its reader's checks), then what vcrpy needs to replay a response."""
    if not (isinstance(loaded, tuple) and len(loaded) >= 2 and all(isinstance(part, list) for part in loaded[:2])):
        return "the cassette did not load as requests and responses"
    requests, responses = loaded[0], loaded[1]
    for index, (request, response) in enumerate(zip(requests, responses, strict=False)):
        recorded = {
            "method": request.method,
            "uri": request.uri,
            "headers": dict(request.headers),
            "body": request.body,
        }
        try:
            vcr_interaction({"request": recorded, "response": response}, f"interactions[{index}]", "")
        except InputError as error:
            return str(error)
    for index, response in enumerate(responses):
        where = f"interactions[{index}].response"
        if not isinstance(response, dict):
            return f"{where}: expected a mapping"
        status = response.get("status")
        if not isinstance(status, dict) or not isinstance(status.get("code"), int):
            return f"{where}.status.code: expected an integer status code"
        headers = response.get("headers", {})
        if not isinstance(headers, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str | bytes) for x in v) for v in headers.values()
        ):
            return f"{where}.headers: expected a mapping of header name to a list of strings"
        body = response.get("body")
        if not isinstance(body, dict) or not isinstance(body.get("string"), bytes | str | None):
            return f"{where}.body: expected a mapping with 'string'"
    return None


def _refused(path: Path, refusals: Refusals) -> MessageRefusedError:
    first = refusals.errors[0] if refusals.errors else "a message was refused"
    return MessageRefusedError(f"cassette {path} not written: {first}")


def _findings_message(path: Path, findings: list[Finding]) -> str:
    lines = [f"cassette {path} not written: the secret scan found {len(findings)} value(s) left after sanitizing:"]
    lines += [f"  {finding}" for finding in findings[:20]]
    if len(findings) > 20:
        lines.append(f"  ... and {len(findings) - 20} more")
    lines.append("Add a sanitizer rule for them (vcr_config['runcommand_sanitizer']) and record again.")
    return "\n".join(lines)


def _raise_if_unreadable(path: Path) -> None:
    """Raise :class:`_UnreadableCassette` when the one reader (``cassettes check``'s) refuses ``path``."""
    try:
        read_cassette(path)
    except InputError as precise:
        raise _UnreadableCassette(f"cannot replay: {precise}") from None


def _load_error(path: Path, error: BaseException) -> _UnreadableCassette:
    _raise_if_unreadable(path)
    return _UnreadableCassette(f"cannot replay: {path}: cannot be loaded as a cassette: {error}")
