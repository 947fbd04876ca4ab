"""Glue into vcrpy / pytest-recording: sanitizing hooks, Azure matchers, a safe persister, no-wait playback.

:func:`configure_vcr` is what the ``pytest_recording_configure`` hook calls on every ``VCR`` that
pytest-recording builds. It keeps the user's own ``vcr_config``: their ``before_record_*`` hooks run first
and the sanitizer after them; their ``match_on`` or ``persister`` win over ours (a custom persister is still
wrapped by the safe one). A ``vcr_config`` key ``runcommand_sanitizer`` (a
:class:`~pytest_runcommand.cassettes.sanitize.Sanitizer`) replaces the default rules.

Per-test pieces (used by the fixtures, usable from plain Python with ``vcr.use_cassette``):

* :func:`live_sanitized_view` - while recording, the test sees the sanitized response it will see on
  replay (bodies and headers; only the URLs a client follows live - ``Location``, ``Azure-AsyncOperation``,
  ``Operation-Location`` - and ``Set-Cookie`` stay live, or polling a real service would break);
* :func:`no_wait_playback` - in a write-protected (replay-only) cassette, azure-core's LRO polling delay is
  skipped and ``Retry-After`` is replayed as ``0``;
* :func:`closest_match_errors` - a request with no recorded match raises :class:`CassetteMismatchError`
  naming the closest recorded request and the matcher that differed, built from the sanitized request;
* :func:`cassette_interactions` - the interactions a test recorded or replayed, as ``Interaction`` values.
"""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote

import orjson
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.persisters.filesystem import CassetteNotFoundError, FilesystemPersister
from vcr.request import Request
from vcr.serialize import serialize

from pytest_runcommand.cassettes.sanitize import Sanitizer, decompress, default_sanitizer
from pytest_runcommand.cassettes.scan import Finding, scan_interactions, scan_lines
from pytest_runcommand.errors import InputError, RunCommandError
from pytest_runcommand.interactions import Interaction

__all__ = [
    "MATCH_ON",
    "CassetteMismatchError",
    "SafePersister",
    "SecretFoundError",
    "cassette_interactions",
    "cassette_violations",
    "check_cassette_contract",
    "closest_match_errors",
    "configure_vcr",
    "live_sanitized_view",
    "no_wait_playback",
    "request_sanitizer",
    "response_sanitizer",
]

MATCH_ON: tuple[str, ...] = ("method", "scheme", "arm_host", "arm_path", "arm_query", "api_version", "json_body")
"""Default matchers: host and port (the port of a loopback emulator is free), ARM paths case-insensitive,
query order ignored and api-version matched on its own, JSON bodies semantic. Headers
(``x-ms-client-request-id``, ``User-Agent``, ``traceparent``...) are never compared."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "testserver"})

FOLLOWED_HEADERS = frozenset({"location", "azure-asyncoperation", "operation-location", "set-cookie"})
SANITIZER_KEY = "runcommand_sanitizer"


class SecretFoundError(RunCommandError, AssertionError):
    """A cassette about to be written still holds a secret; nothing was written."""


class CassetteMismatchError(CannotOverwriteExistingCassetteException, RunCommandError):  # type: ignore[misc]
    """No recorded interaction matches a request (the message names the closest one and what differed).

    Built from the sanitized request, so the message carries no secret the test sent.
    """

    def __init__(self, *, cassette: Any, failed_request: Any) -> None:
        super().__init__(cassette=cassette, failed_request=failed_request)  # type: ignore[call-arg]


# -- matchers -------------------------------------------------------------------------------------------

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
    """Bodies equal as JSON documents (key order and whitespace ignored); other bodies byte for byte."""
    b1, b2 = _parsed_body(r1), _parsed_body(r2)
    if b1 is _MISSING or b2 is _MISSING or b1 != b2:
        raise AssertionError(f"body {_preview(b1)} != {_preview(b2)}")


def _preview(body: Any, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else orjson.dumps(body).decode()
    return text if len(text) <= limit else text[:limit] + "…"


MATCHERS: dict[str, Callable[[Request, Request], None]] = {
    "arm_host": arm_host,
    "arm_path": arm_path,
    "arm_query": arm_query,
    "api_version": api_version,
    "json_body": json_body,
}


# -- sanitizing hooks -----------------------------------------------------------------------------------


def request_sanitizer(sanitizer: Sanitizer) -> Callable[[Request], Request]:
    """A ``before_record_request`` hook (mutates the copy vcrpy hands it; idempotent)."""

    def hook(request: Request) -> Request:
        request.uri = sanitizer.url(request.uri)
        headers = request.headers
        for name in list(headers):
            value = headers[name]
            if isinstance(value, str):
                new = sanitizer.header(name, value)
                if new != value:
                    headers[name] = new
        body = request.body
        if isinstance(body, bytes | str) and body:
            new_body = sanitizer.body(body, headers.get("Content-Type"))
            if new_body is not body:
                request.body = new_body
                if "Content-Length" in headers:
                    headers["Content-Length"] = str(len(request.body))
        return request

    return hook


def response_sanitizer(sanitizer: Sanitizer) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A ``before_record_response`` hook: a new sanitized response dict (decompressed, lengths fixed)."""

    def hook(response: dict[str, Any]) -> dict[str, Any]:
        headers: dict[str, Any] = dict(response.get("headers") or {})
        body_block = dict(response.get("body") or {})
        body = body_block.get("string")
        encoding_key = next((k for k in headers if k.lower() == "content-encoding"), None)
        if encoding_key and isinstance(body, bytes):
            encodings = headers[encoding_key]
            encoding = (encodings[0] if isinstance(encodings, list) and encodings else str(encodings)).lower()
            decoded = decompress(body, encoding.strip())
            if decoded is not None:
                body = decoded
                del headers[encoding_key]
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        if isinstance(content_type, list):
            content_type = content_type[0] if content_type else None
        new_body = sanitizer.body(body, content_type) if isinstance(body, bytes | str) else body
        new_headers = sanitizer.header_lists(headers)
        if isinstance(new_body, bytes | str):
            length = len(new_body.encode("utf-8") if isinstance(new_body, str) else new_body)
            for name in new_headers:
                if name.lower() == "content-length":
                    new_headers[name] = [str(length)]
        body_block["string"] = new_body
        return {**response, "headers": new_headers, "body": body_block}

    return hook


def _as_list(hooks: Any) -> list[Any]:
    if hooks is None:
        return []
    if callable(hooks):
        return [hooks]
    return list(hooks)


def _chain(first: Callable[[Any], Any] | None, second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def chained(value: Any) -> Any:
        if first is not None:
            value = first(value)
            if value is None:
                return None
        return second(value)

    return chained


# -- safe persister -------------------------------------------------------------------------------------


class SafePersister:
    """Wraps a vcrpy persister: clear load errors, sanitize again, scan, then write atomically.

    * load: a cassette that exists but cannot be read raises :class:`InputError` naming the file and the
      place; it is never treated as empty, so no record mode overwrites it;
    * save: every interaction is sanitized once more, the result is scanned; a finding raises
      :class:`SecretFoundError` (file and interaction index, value masked) and nothing is written;
      otherwise the text goes to a temporary file beside the cassette, then ``os.replace`` puts it in place.

    vcrpy saves inside the cassette's ``__exit__`` and does not undo its patches when the save raises, so
    under a :class:`_Deferral` that is listening the error is handed over instead, and raised once the
    cassette has fully exited (see :func:`configure_vcr`).
    """

    def __init__(self, inner: Any, sanitizer: Sanitizer, deferral: _Deferral | None = None) -> None:
        self.inner: Any = inner.inner if isinstance(inner, SafePersister) else inner
        self.sanitizer = sanitizer
        self.deferral = deferral

    def load_cassette(self, cassette_path: str | os.PathLike[str], serializer: ModuleType) -> Any:
        try:
            return self.inner.load_cassette(cassette_path, serializer=serializer)
        except CassetteNotFoundError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, IndexError, yaml.YAMLError) as error:
            raise _load_error(Path(cassette_path), error) from None

    def save_cassette(
        self, cassette_path: str | os.PathLike[str], cassette_dict: dict[str, Any], serializer: ModuleType
    ) -> None:
        path = Path(cassette_path)
        on_request = request_sanitizer(self.sanitizer)
        on_response = response_sanitizer(self.sanitizer)
        requests = [on_request(copy.deepcopy(r)) for r in cassette_dict["requests"]]
        responses = [on_response(r) for r in cassette_dict["responses"]]
        clean = {**cassette_dict, "requests": requests, "responses": responses}
        text = serialize(clean, serializer)
        interactions = [
            _interaction(req, resp, f"{path.name}#{i}")
            for i, (req, resp) in enumerate(zip(requests, responses, strict=True))
        ]
        findings = scan_interactions(interactions, str(path))
        findings += scan_lines(text, str(path), findings)
        if findings:
            error = SecretFoundError(_findings_message(path, findings))
            if self.deferral is not None and self.deferral.listening:
                self.deferral.errors.append(error)
                return
            raise error
        atomic_write(path, text)


def _findings_message(path: Path, findings: list[Finding]) -> str:
    lines = [f"cassette {path} not written: the secret scan found {len(findings)} value(s) left after sanitizing:"]
    lines += [f"  {finding}" for finding in findings[:20]]
    if len(findings) > 20:
        lines.append(f"  ... and {len(findings) - 20} more")
    lines.append("Add a sanitizer rule for them (vcr_config['runcommand_sanitizer']) and record again.")
    return "\n".join(lines)


def _load_error(path: Path, error: Exception) -> InputError:
    from pytest_runcommand.cassettes.readers import read_cassette

    try:
        read_cassette(path)
    except InputError as precise:
        return InputError(f"cannot replay: {precise}")
    return InputError(f"{path}: cannot be loaded as a cassette: {type(error).__name__}: {error}")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


# -- VCR configuration (the pytest_recording_configure seam) --------------------------------------------


class _Deferral:
    """Secret-scan errors of cassettes whose ``__exit__`` is still running (see :class:`SafePersister`)."""

    def __init__(self) -> None:
        self.listening = 0
        self.errors: list[SecretFoundError] = []


class _RaiseAfterExit:
    """A cassette context manager that raises a deferred :class:`SecretFoundError` after vcrpy's exit."""

    def __init__(self, inner: Any, deferral: _Deferral) -> None:
        self.inner = inner
        self.deferral = deferral

    def __enter__(self) -> Any:
        cassette = self.inner.__enter__()
        self.deferral.listening += 1
        return cassette

    def __exit__(self, *exc_info: object) -> Any:
        try:
            result = self.inner.__exit__(*exc_info)
        finally:
            self.deferral.listening -= 1
        if self.deferral.errors:
            error = self.deferral.errors.pop(0)
            self.deferral.errors.clear()
            raise error
        return result


def configure_vcr(vcr: Any, sanitizer: Sanitizer | None = None) -> None:
    """Install matchers, sanitizing hooks, the safe persister and playback hooks on a ``vcr.VCR``."""
    default = sanitizer or default_sanitizer()
    for name, matcher in MATCHERS.items():
        vcr.register_matcher(name, matcher)
    vcr.match_on = MATCH_ON
    deferral = _Deferral()
    vcr.register_persister(SafePersister(vcr.persister or FilesystemPersister, default))
    original = vcr.get_merged_config
    if getattr(original, "_runcommand", False):
        return
    original_use = vcr.use_cassette

    def use_cassette(path: Any = None, **kwargs: Any) -> Any:
        manager = original_use(path, **kwargs)
        if isinstance(path, str | os.PathLike):  # a context manager (decorators keep vcrpy's behaviour)
            return _RaiseAfterExit(manager, deferral)
        return manager

    def get_merged_config(**kwargs: Any) -> dict[str, Any]:
        chosen = kwargs.pop(SANITIZER_KEY, None) or default
        if not isinstance(chosen, Sanitizer):
            raise InputError(f"vcr_config[{SANITIZER_KEY!r}] must be a Sanitizer, got {type(chosen).__name__}")
        chosen = chosen.fresh()
        config: dict[str, Any] = original(**kwargs)
        config["before_record_request"] = _chain(config.get("before_record_request"), request_sanitizer(chosen))
        config["before_record_response"] = _chain(config.get("before_record_response"), response_sanitizer(chosen))
        persister = config.get("persister") or FilesystemPersister
        config["persister"] = SafePersister(persister, chosen, deferral)
        config["after_load_interaction"] = [*_as_list(config.get("after_load_interaction")), _zero_retry_after]
        return config

    get_merged_config._runcommand = True  # type: ignore[attr-defined]
    vcr.get_merged_config = get_merged_config
    vcr.use_cassette = use_cassette


def _zero_retry_after(request: Request, response: dict[str, Any], cassette: Any) -> tuple[Request, dict[str, Any]]:
    """Replay ``Retry-After`` as 0 when the cassette only plays back (record mode none or once)."""
    mode = getattr(cassette.record_mode, "value", cassette.record_mode)
    if mode in ("none", "once"):
        headers = response.get("headers") or {}
        for name in headers:
            if name.lower() == "retry-after":
                response = {**response, "headers": {**headers, name: ["0"]}}
                break
    return request, response


# -- per-test pieces ------------------------------------------------------------------------------------


def _interaction(request: Request, response: dict[str, Any], source: str) -> Interaction:
    response_headers = {
        name: ", ".join(str(v) for v in values) if isinstance(values, list) else str(values)
        for name, values in (response.get("headers") or {}).items()
    }
    body = (response.get("body") or {}).get("string")
    status = (response.get("status") or {}).get("code")
    request_body = request.body if isinstance(request.body, bytes | str) or request.body is None else None
    return Interaction(
        method=request.method,
        url=request.uri,
        request_headers=dict(request.headers.items()),
        request_body=request_body,
        status=status if isinstance(status, int) else None,
        response_headers=response_headers,
        response_body=body,
        source=source,
    )


def cassette_interactions(cassette: Any, *, used_only: bool = True) -> Iterator[Interaction]:
    """The interactions of a vcrpy ``Cassette`` as ``Interaction`` values, in cassette order.

    With ``used_only`` (the default) only those this test recorded or replayed: loaded interactions that
    were played back, and every interaction appended during the run. Values are the sanitized ones that are
    (or will be) on disk. ``source`` is ``<cassette file>#<index>``.
    """
    loaded = int(getattr(cassette, "_loaded_count", 0) or 0)
    played = getattr(cassette, "play_counts", {})
    name = Path(str(cassette._path)).name
    for index, (request, response) in enumerate(cassette.data):
        if used_only and index < loaded and not played.get(index):
            continue
        yield _interaction(request, response, f"{name}#{index}")


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
    patches = [_patch_httpx_recording(cassette)]
    try:
        yield
    finally:
        for undo in patches:
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


def _patch_httpx_recording(cassette: Any) -> Callable[[], None]:
    try:
        from vcr.stubs import httpx_stubs
    except ImportError:  # pragma: no cover - httpx not installed
        return lambda: None
    original = getattr(httpx_stubs, "_record_responses", None)
    if original is None or getattr(original, "_runcommand", False):  # pragma: no cover - other vcrpy
        return lambda: None

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

    record._runcommand = True  # type: ignore[attr-defined]
    httpx_stubs._record_responses = record

    def undo() -> None:
        httpx_stubs._record_responses = original

    return undo


@contextlib.contextmanager
def no_wait_playback(cassette: Any) -> Iterator[bool]:
    """Skip azure-core's LRO polling delay while ``cassette`` can only play back. Yields whether it did."""
    if not cassette.write_protected:
        yield False
        return
    undo: list[Callable[[], None]] = []
    try:
        import importlib.util

        if importlib.util.find_spec("azure.core") is not None:
            undo.extend(_patch_azure_delay())
        yield True
    finally:
        for fn in undo:
            fn()


def _patch_azure_delay() -> Iterable[Callable[[], None]]:
    from azure.core.polling import async_base_polling, base_polling

    def no_delay(self: Any) -> None:
        return None

    async def no_delay_async(self: Any) -> None:
        return None

    targets = [
        (base_polling.LROBasePolling, no_delay),
        (async_base_polling.AsyncLROBasePolling, no_delay_async),
    ]
    undo = []
    for cls, replacement in targets:
        original = cls.__dict__.get("_delay")
        setattr(cls, "_delay", replacement)  # noqa: B010

        def restore(cls: Any = cls, original: Any = original) -> None:
            if original is None:
                with contextlib.suppress(AttributeError):
                    delattr(cls, "_delay")
            else:
                setattr(cls, "_delay", original)  # noqa: B010

        undo.append(restore)
    return undo


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


def cassette_violations(cassette: Any, ignore: Iterable[str] = ()) -> list[tuple[Interaction, list[Any]]]:
    """Each run-command interaction the test recorded or replayed with its contract violations (non-empty).

    Violations whose code is in ``ignore`` are left out.
    """
    from pytest_runcommand.contract import get_contract, validate_interaction

    contract = get_contract()
    tolerated = set(ignore)
    found = []
    for interaction in cassette_interactions(cassette):
        if contract.match(interaction.method, interaction.url) is None:
            continue
        violations = [v for v in validate_interaction(interaction, contract=contract) if v.code not in tolerated]
        if violations:
            found.append((interaction, violations))
    return found


def check_cassette_contract(cassette: Any, ignore: Iterable[str] = ()) -> None:
    """Raise :class:`ContractViolationError` naming every interaction of ``cassette`` that breaks the contract."""
    __tracebackhide__ = True
    from pytest_runcommand.contract import format_violations
    from pytest_runcommand.errors import ContractViolationError

    found = cassette_violations(cassette, ignore)
    if not found:
        return
    blocks = [format_violations(violations, interaction.describe()) for interaction, violations in found]
    raise ContractViolationError(
        f"{len(found)} recorded/replayed interaction(s) break the run-command contract:\n" + "\n".join(blocks)
    )
