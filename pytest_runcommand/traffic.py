"""Observe HTTP traffic whatever client carries it: httpx (sync and async, any transport) and requests (the Azure SDK).

A :class:`TrafficRecorder` patches the clients' ``send`` methods only while at least one recorder is active, and hands
every finished exchange to the active recorders as an :class:`Interaction`. Patching at the client's ``send`` sits
above the transport, so in-process ASGI calls, real sockets and vcrpy playback are all seen alike.
:func:`without_carried` drops the exchanges another carrier (a cassette) already accounts for, so each counts once;
:func:`observe_validations` also records direct calls of ``validate_request`` / ``validate_response``.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from pytest_runcommand.interactions import Interaction

__all__ = ["TrafficRecorder", "exchange_key", "observe_validations", "without_carried"]

_lock = threading.Lock()
_active: list[TrafficRecorder] = []
_restore: list[Callable[[], None]] = []


class TrafficRecorder:
    """Collects the interactions sent while it is active (a context manager; ``start()`` / ``stop()`` too)."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self.interactions: list[Interaction] = []
        self._lock = threading.Lock()
        self._server_side: list[str] = []
        self._watched: list[Any] = []

    def start(self) -> TrafficRecorder:
        with _lock:
            if not _active:
                _install()
            _active.append(self)
        return self

    def stop(self) -> None:
        for app in self._watched:
            if self._observe in app.observers:
                app.observers.remove(self._observe)
        self._watched.clear()
        with _lock:
            if self in _active:
                _active.remove(self)
            if not _active:
                _uninstall()

    def __enter__(self) -> TrafficRecorder:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def watch_emulator(self, app: Any, base_url: str) -> None:
        """Also record what a served emulator answers, whoever asked (the Azure CLI runs in another process).

        Exchanges with ``base_url`` are then taken from the server side only, so none is counted twice.
        """
        self._server_side.append(base_url.rstrip("/").lower())
        self._watched.append(app)
        app.observers.append(self._observe)

    def _observe(self, interaction: Interaction) -> None:
        self.add(_fresh(interaction))

    def _client_side(self, interaction: Interaction) -> None:
        url = interaction.url.lower()
        if not any(url.startswith(prefix) for prefix in self._server_side):
            self.add(interaction)

    def add(self, interaction: Interaction) -> None:
        with self._lock:
            index = len(self.interactions) + 1
            if not interaction.source:
                interaction.source = f"{self.label}#{index}" if self.label else f"#{index}"
            self.interactions.append(interaction)


def _fresh(interaction: Interaction) -> Interaction:
    """A copy without source label or parsed-body cache: each recorder labels and parses its own."""
    return Interaction(
        interaction.method,
        interaction.url,
        interaction.request_headers,
        interaction.request_body,
        interaction.status,
        interaction.response_headers,
        interaction.response_body,
    )


def _publish(interaction: Interaction) -> None:
    for recorder in list(_active):
        recorder._client_side(_fresh(interaction))


_CONTRACT_PATH_MARKERS = ("/runcommands", "/operations/")


def _is_contract_url(url: str) -> bool:
    """Cheap pre-filter: only these answers are read eagerly when the client asked for a stream."""
    lowered = url.lower()
    return any(marker in lowered for marker in _CONTRACT_PATH_MARKERS)


def _from_httpx(request: Any, response: Any, streamed: bool) -> Interaction:
    try:
        request_body: bytes | None = request.content
    except Exception:  # a streaming request body that was not read
        request_body = None
    response_body: bytes | None = None
    try:
        if streamed and not getattr(response, "is_stream_consumed", False) and _is_contract_url(str(request.url)):
            response.read()  # cached by httpx: the caller still reads the same bytes
        response_body = response.content
    except Exception:  # a stream left unread: validated without its body
        response_body = None
    return Interaction(
        request.method,
        str(request.url),
        dict(request.headers),
        request_body,
        response.status_code,
        dict(response.headers),
        response_body,
    )


def _from_requests(request: Any, response: Any, streamed: bool) -> Interaction:
    body = request.body
    if hasattr(body, "read"):
        body = None  # a file-like upload: not ours to consume
    response_body: bytes | None = None
    if not streamed or _is_contract_url(request.url or ""):
        # requests caches what .content reads; azure-core's later reads (iter_content) replay the cached bytes
        response_body = response.content
    return Interaction(
        request.method or "GET",
        request.url or "",
        dict(request.headers),
        body,
        response.status_code,
        dict(response.headers),
        response_body,
    )


def _install() -> None:
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        httpx = None  # type: ignore[assignment]
    if httpx is not None:
        sync_send = httpx.Client.send
        async_send = httpx.AsyncClient.send

        def observed_send(self: Any, request: Any, **kwargs: Any) -> Any:
            response = sync_send(self, request, **kwargs)
            _publish(_from_httpx(request, response, bool(kwargs.get("stream"))))
            return response

        async def observed_async_send(self: Any, request: Any, **kwargs: Any) -> Any:
            response = await async_send(self, request, **kwargs)
            _publish(_from_httpx(request, response, bool(kwargs.get("stream"))))
            return response

        httpx.Client.send = observed_send  # type: ignore[method-assign]
        httpx.AsyncClient.send = observed_async_send  # type: ignore[method-assign]

        def restore_httpx() -> None:
            httpx.Client.send = sync_send  # type: ignore[method-assign]
            httpx.AsyncClient.send = async_send  # type: ignore[method-assign]

        _restore.append(restore_httpx)
    try:
        import requests
    except ImportError:
        return
    session_send = requests.Session.send

    def observed_session_send(self: Any, request: Any, **kwargs: Any) -> Any:
        response = session_send(self, request, **kwargs)
        _publish(_from_requests(request, response, bool(kwargs.get("stream"))))
        return response

    requests.Session.send = observed_session_send  # type: ignore[method-assign]

    def restore_requests() -> None:
        requests.Session.send = session_send  # type: ignore[method-assign]

    _restore.append(restore_requests)


def _uninstall() -> None:
    while _restore:
        _restore.pop()()


# -- one exchange, counted once ------------------------------------------------------------------------------------

_SUBSCRIPTION_SEGMENT = re.compile(r"/subscriptions/[^/]+", re.IGNORECASE)


def exchange_key(interaction: Interaction) -> tuple[str, str, int | None]:
    """What identifies an exchange whichever carrier saw it: method, path (any subscription id), status.

    A cassette keeps the sanitized exchange (subscription id replaced, query signatures cut, another host while
    replaying); the client saw the live one. Both give the same key.
    """
    path = _SUBSCRIPTION_SEGMENT.sub("/subscriptions/*", urlsplit(interaction.url).path.rstrip("/").lower())
    return interaction.method.upper(), path, interaction.status


def without_carried(seen: Iterable[Interaction], carried: Iterable[Interaction]) -> list[Interaction]:
    """The exchanges of ``seen`` that ``carried`` does not account for (each carried exchange cancels one seen)."""
    remaining = Counter(exchange_key(interaction) for interaction in carried)
    kept = []
    for interaction in seen:
        key = exchange_key(interaction)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            kept.append(interaction)
    return kept


# -- direct validation calls --------------------------------------------------------------------------------------

ValidationSink = Callable[[Interaction, list[Any]], None]

_CONTRACT_MODULE = "pytest_runcommand.contract.validate"
_TOP_PACKAGE = "pytest_runcommand"
_sinks: list[ValidationSink] = []
_wrappers: dict[str, Callable[..., list[Any]]] = {}


def _notify(make: Callable[[], Interaction], violations: list[Any]) -> None:
    """Hand the call to the sinks; input the caller got violations for (any type) never turns into an exception."""
    try:
        interaction = make()
    except Exception:  # e.g. a method that is not a str: the validator reported it, the report cannot place it
        return
    if not isinstance(interaction, Interaction) or not isinstance(interaction.url, str):
        return
    for sink in list(_sinks):
        sink(interaction, violations)


def _make_wrappers(module: Any) -> dict[str, Callable[..., list[Any]]]:
    """Wrappers of the public validation functions; harmless when kept by someone after observation ended."""
    request, response, both = module.validate_request, module.validate_response, module.validate_interaction
    if _wrappers and getattr(_wrappers["validate_request"], "__wrapped__", None) is request:
        return _wrappers
    _wrappers.clear()  # first use, or the contract module was loaded anew

    def validate_request(method: str, url: str, body: Any = None, headers: Any = None, **kwargs: Any) -> list[Any]:
        violations: list[Any] = request(method, url, body, headers, **kwargs)
        if _sinks:
            _notify(lambda: Interaction(method, url, dict(headers or {}), body), violations)
        return violations

    def validate_response(
        method: str, url: str, status: int, body: Any = None, headers: Any = None, **kwargs: Any
    ) -> list[Any]:
        violations: list[Any] = response(method, url, status, body, headers, **kwargs)
        if _sinks:
            _notify(
                lambda: Interaction(
                    method, url, status=status, response_headers=dict(headers or {}), response_body=body
                ),
                violations,
            )
        return violations

    def validate_interaction(interaction: Interaction, **kwargs: Any) -> list[Any]:
        violations: list[Any] = both(interaction, **kwargs)
        if _sinks:
            _notify(lambda: interaction, violations)
        return violations

    pairs: list[tuple[Any, Any]] = [
        (validate_request, request),
        (validate_response, response),
        (validate_interaction, both),
    ]
    for wrapper, original in pairs:
        wrapper.__doc__, wrapper.__wrapped__ = original.__doc__, original
        _wrappers[original.__name__] = wrapper
    return _wrappers


@contextmanager
def observe_validations(namespaces: Iterable[MutableMapping[str, Any]], sink: ValidationSink) -> Iterator[None]:
    """While active, calls of ``validate_request`` / ``validate_response`` / ``validate_interaction`` made through
    ``namespaces`` (a test module's globals, which bound them at import) or ``pytest_runcommand.<name>`` go to
    ``sink`` as interactions with their violations.

    Costs nothing when the contract engine was never imported (then nobody can have bound the functions). The
    toolkit's own calls (the emulator validating what it receives) are not seen: that is traffic, counted where it
    is observed.
    """
    module = sys.modules.get(_CONTRACT_MODULE)
    if module is None:
        yield
        return
    wrappers = _make_wrappers(module)
    undo: list[Callable[[], None]] = []
    for namespace in namespaces:
        for name, wrapper in wrappers.items():
            if namespace.get(name) is getattr(wrapper, "__wrapped__", None):
                undo.append(_rebind(namespace, name, wrapper))
    package = sys.modules.get(_TOP_PACKAGE)
    if package is not None:  # attributes there are lazy: set for the duration, removed after
        for name, wrapper in wrappers.items():
            if name not in vars(package):
                undo.append(_rebind(vars(package), name, wrapper))
    _sinks.append(sink)
    try:
        yield
    finally:
        _sinks.remove(sink)
        for restore in reversed(undo):
            restore()


def _rebind(namespace: MutableMapping[str, Any], name: str, value: Any) -> Callable[[], None]:
    had, previous = name in namespace, namespace.get(name)
    namespace[name] = value

    def restore() -> None:
        if had:
            namespace[name] = previous
        else:
            namespace.pop(name, None)

    return restore
