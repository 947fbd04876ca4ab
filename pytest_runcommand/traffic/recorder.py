"""Observe HTTP traffic whatever client carries it: httpx (sync and async, any transport) and requests (the Azure SDK).

A :class:`TrafficRecorder` patches the clients' ``send`` methods only while at least one recorder is active, and hands
every finished exchange to the active recorders as an :class:`Interaction`. Patching at the client's ``send`` sits
above the transport, so in-process ASGI calls, real sockets and vcrpy playback are all seen alike.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from types import TracebackType
from typing import Any

from pytest_runcommand.contract.facts import API_VERSIONS, operation_route, operations_at
from pytest_runcommand.interactions import Interaction, sending_invalid_on_purpose
from pytest_runcommand.traffic.exchanges import without_carried

__all__ = ["TrafficRecorder"]

_lock = threading.Lock()
_active: list[TrafficRecorder] = []
_restore: list[Callable[[], None]] = []


class TrafficRecorder:
    """Collects the interactions sent while it is active (a context manager; ``start()`` / ``stop()`` too)."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._entries: list[tuple[Interaction, str]] = []
        """Each exchange as seen, in order, with where from: ``client``, ``server``, or ``stand-in`` (a client's copy
        of an exchange with a watched server, kept until the server's own copy arrives)."""
        self._lock = threading.Lock()
        self._server_side: list[str] = []
        self._watched: list[Any] = []

    @property
    def interactions(self) -> list[Interaction]:
        """What the test sent so far, each exchange once, in order; labelled ``<label>#<n>`` on first sight."""
        with self._lock:
            entries = list(self._entries)
            stand_ins = [interaction for interaction, kind in entries if kind == "stand-in"]
            server = [interaction for interaction, kind in entries if kind == "server"]
            kept = {id(interaction) for interaction in without_carried(stand_ins, server)}
            found = [interaction for interaction, kind in entries if kind != "stand-in" or id(interaction) in kept]
            for index, interaction in enumerate(found, start=1):
                if not interaction.source:
                    interaction.source = f"{self.label}#{index}" if self.label else f"#{index}"
            return found

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

        The server's copy of an exchange is the one kept; a client's copy in this process stands in for it until it
        arrives (the server hands it over just after answering), so each exchange counts once and none is missed.
        """
        self._server_side.append(base_url.rstrip("/").lower())
        self._watched.append(app)
        app.observers.append(self._observe)

    def _observe(self, interaction: Interaction) -> None:
        self.add(_fresh(interaction), kind="server")

    def _client_side(self, interaction: Interaction) -> None:
        url = interaction.url.lower()
        served = any(url.startswith(prefix) for prefix in self._server_side)
        self.add(interaction, kind="stand-in" if served else "client")

    def add(self, interaction: Interaction, *, kind: str = "client") -> None:
        """Record one exchange (``kind``: see ``_entries``)."""
        with self._lock:
            self._entries.append((interaction, kind))


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
        request_invalid_on_purpose=interaction.request_invalid_on_purpose,
    )


def _publish(interaction: Interaction) -> None:
    for recorder in list(_active):
        recorder._client_side(_fresh(interaction))


@cache
def _contract_path_markers() -> tuple[str, ...]:
    """The last literal segment of every contract path (``/runcommands``, ``/runcommand``, ``/operations``, ...)."""
    markers: set[str] = set()
    for version in API_VERSIONS:
        for operation in operations_at(version):
            template = operation_route(version, operation)[1]
            literal = [part for part in template.lower().split("/") if part and not part.startswith("{")]
            markers.add(f"/{literal[-1]}")
    return tuple(sorted(markers))


def _is_contract_url(url: str) -> bool:
    """Cheap pre-filter: only these answers are read eagerly when the client asked for a stream."""
    lowered = url.lower()
    return any(marker in lowered for marker in _contract_path_markers())


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
        request_invalid_on_purpose=sending_invalid_on_purpose(),
    )


def _from_requests(request: Any, response: Any, streamed: bool) -> Interaction:
    body = request.body
    if hasattr(body, "read"):
        body = None  # a file-like upload: not ours to consume
    response_body: bytes | None = None
    # a body already read (an in-process transport reads it before returning) costs nothing to keep
    if not streamed or getattr(response, "_content_consumed", False) or _is_contract_url(request.url or ""):
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
        request_invalid_on_purpose=sending_invalid_on_purpose(),
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
