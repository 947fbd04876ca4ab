"""A lean in-process path from schemathesis to an ASGI app: the same requests, fewer hops.

schemathesis's ASGI client (``schemathesis.python.asgi.ASGIClient``) is a ``requests.Session`` whose adapter hands
each request to a shared event loop in another thread (two thread hops per request), after ``requests`` has looked
for proxies, CA bundles and a ``.netrc`` in the environment. Against the in-process emulator those cost several times
what the app itself does.

:class:`InProcessClient` is that client with three changes below the HTTP level, nothing above it:

- ``trust_env`` is off (no proxy, CA or netrc lookups: none of them means anything without a socket);
- ``request`` prepares the request without ``Session.prepare_request``'s merging when there is nothing to merge
  (schemathesis lends the session's headers to the request; no cookies, auth, hooks or files), its URL by
  :func:`~pytest_runcommand.fuzz.prepared_url.prepared_url` when ``requests`` would leave it unchanged, then
  ``Session.send`` as usual (so whoever watches ``Session.send``, the traffic recorder, still sees every exchange);
- its adapter calls the app on an event loop owned by the calling thread, and builds the ``requests.Response``
  directly from the ASGI messages (the same status, headers, reason, body and encoding the original adapter gives).
  The emulator's call starts on the calling thread itself, as an eager task's first step would (:func:`_run_eagerly`):
  it never waits in-process, so the loop is run only if it does.

A fuzz run goes one step further with :mod:`pytest_runcommand.fuzz.call`, which hands the adapter a prepared request
itself (:meth:`InProcessAdapter.exchange`) and builds schemathesis's ``Response`` from the answer. Through ``Session``,
everything else is unchanged: ``case.call`` still serializes the case and merges headers, ``requests`` still checks
the headers and encodes the body, follows (same-host) redirects and keeps cookies, and schemathesis still builds its
``Response`` with ``Response.from_requests``; the lifespan is still started by the original client. From inside a running event loop
(where the calling thread cannot run another one) or from another thread than the first caller's, requests take the
original adapter.

One difference an app could notice: its loop runs only while it is answering, so a task it spawns and leaves running
makes progress during later requests only (and is cancelled when the client closes). The emulator spawns none.
"""

from __future__ import annotations

import asyncio
import contextvars
import http
import io
import threading
from collections.abc import Coroutine, Generator, Mapping, MutableMapping
from functools import cache, lru_cache
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import requests
import requests.adapters
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from schemathesis.core.transport import DEFAULT_RESPONSE_TIMEOUT
from schemathesis.python import asgi
from urllib3 import HTTPHeaderDict

from pytest_runcommand.cassettes.learned import credential_header as _credential_header
from pytest_runcommand.emulator.transport import loop_running
from pytest_runcommand.fuzz.prepared_url import prepared_url

__all__ = ["InProcessAdapter", "InProcessClient", "credential_header"]

Message = MutableMapping[str, Any]
_DEFAULT_PORTS = {"http": 80, "https": 443}


@cache
def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


class _RawHeaders:
    """What ``http.cookiejar`` reads from a response's headers (``get_all``)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get_all(self, name: str, default: list[str] | None = None) -> list[str] | None:
        wanted = name.lower()
        found = [value for key, value in self.pairs if key.lower() == wanted]
        return found or default


class _OriginalResponse:
    """Stands for ``http.client.HTTPResponse`` where ``requests`` extracts cookies."""

    __slots__ = ("msg",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.msg = _RawHeaders(pairs)


class _Raw:
    """The parts of a ``urllib3.HTTPResponse`` that ``requests`` and schemathesis read once the body is in."""

    __slots__ = ("_original_response", "_unread", "headers", "reason", "status", "version")

    def __init__(self, status: int, pairs: list[tuple[str, str]], body: bytes = b"") -> None:
        self.status = status
        self.reason = _reason(status)
        self.headers = HTTPHeaderDict()
        cookies = False
        for name, value in pairs:
            self.headers.add(name, value)
            cookies = cookies or name.lower() == "set-cookie"
        self.version = 11
        self._original_response = _OriginalResponse(pairs) if cookies else None
        self._unread = body

    def read1(self, amount: int = -1, decode_content: bool | None = None) -> bytes:
        """The body, once (schemathesis reads an event stream so, chunk by chunk)."""
        if amount < 0:
            amount = len(self._unread)
        chunk, self._unread = self._unread[:amount], self._unread[amount:]
        return chunk

    def close(self) -> None:
        """Nothing to release: the body is already read."""

    def release_conn(self) -> None:
        """Nothing to release: there is no connection."""


class _Exchange:
    """One request to the app: feeds it the body, collects what it sends back."""

    __slots__ = ("answered", "body", "chunks", "complete", "is_head", "pairs", "sent_body", "status")

    def __init__(self, body: bytes, is_head: bool) -> None:
        self.body = body
        self.is_head = is_head
        self.sent_body = False
        self.answered = False
        self.status: int | None = None
        self.pairs: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.complete: asyncio.Event | None = None

    async def receive(self) -> Message:
        if not self.sent_body:
            self.sent_body = True
            return {"type": "http.request", "body": self.body}
        if not self.answered:  # an app listening for a disconnect hears one once it has answered
            if self.complete is None:
                self.complete = asyncio.Event()
            await self.complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError('the app sent "http.response.start" twice')
            self.status = int(message["status"])
            # latin-1 both ways, as on the wire
            self.pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError('the app sent "http.response.body" before "http.response.start"')
            if not self.is_head:
                self.chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self.answered = True
                if self.complete is not None:
                    self.complete.set()


_ENCODED: dict[tuple[str, str], tuple[bytes, bytes]] = {}
"""Request headers as the scope carries them, by lower-case name and value (a run sends the same few again and
again; bounded); never a credential's (:func:`credential_header`): a secret is not kept past its request."""
_MAX_ENCODED = 512


@lru_cache(maxsize=512)
def credential_header(name: str) -> bool:
    """Whether a header named ``name`` carries a credential, by the cassettes' rule (``Authorization``, ``Cookie``,
    ``X-Auth-Token``, ``x-ms-encryption-key``...): its value is kept in no table."""
    return _credential_header(name)


def _scope_headers(sent: Any) -> list[tuple[bytes, bytes]]:
    """A prepared request's headers for the ASGI scope: lower-case names, both parts in latin-1, in order."""
    if type(sent) is not CaseInsensitiveDict:
        pairs = (
            sent.lower_items() if isinstance(sent, CaseInsensitiveDict) else ((k.lower(), v) for k, v in sent.items())
        )
        return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]
    headers = []
    store: dict[str, tuple[str, Any]] = sent._store  # type: ignore[attr-defined]  # what lower_items reads
    for lowered, (_, value) in store.items():
        if type(value) is not str:
            headers.append((lowered.encode("latin-1"), value.encode("latin-1")))
            continue
        key = (lowered, value)
        encoded = _ENCODED.get(key)
        if encoded is None:
            encoded = (lowered.encode("latin-1"), value.encode("latin-1"))
            if len(_ENCODED) < _MAX_ENCODED and not credential_header(lowered):
                _ENCODED[key] = encoded
        headers.append(encoded)
    return headers


@lru_cache(maxsize=512)
def _origin(origin: str) -> tuple[str, str, int]:
    """Scheme, host and port of a URL's origin (``scheme://host[:port]``), as ``urlsplit`` reads them."""
    split = urlsplit(origin)
    return split.scheme, split.hostname or "", split.port or _DEFAULT_PORTS[split.scheme]


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, io.IOBase):
        data = body.read()
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)


class InProcessAdapter(requests.adapters.BaseAdapter):
    """A ``requests`` adapter that runs the ASGI app on the calling thread's own event loop."""

    def __init__(self, app: Any, fallback: requests.adapters.BaseAdapter) -> None:
        super().__init__()
        self.app = app
        self.fallback = fallback
        self._loop: asyncio.AbstractEventLoop | None = None
        self._owner: int | None = None
        """The thread the loop belongs to; other threads take the fallback."""
        from pytest_runcommand.emulator.app import EmulatorApp

        self.eager = isinstance(app, EmulatorApp)
        """Start the app's call on this thread, the loop only for what it waits for (see :func:`_run_eagerly`)."""

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        if self.own_loop() is None:  # another thread, or one already running a loop: schemathesis's own path
            return self.fallback.send(
                request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
            )
        return self.response(request, self.exchange(request, timeout))

    def exchange(
        self, request: requests.PreparedRequest, timeout: Any = None, parts: tuple[str, str, str] | None = None
    ) -> _Exchange:
        """Run the app on ``request`` on this thread's loop (:meth:`own_loop` must give one): its answer. ``parts``:
        the URL's origin, path and query, where the caller has them (a plain URL: ``origin + path [+ ?query]``)."""
        loop = self.own_loop()
        assert loop is not None
        url = str(request.url)
        if parts is None:
            split = urlsplit(url)
            scheme, path, query = split.scheme, split.path, split.query
            host = split.hostname or ""
            port = split.port or _DEFAULT_PORTS[scheme]
        else:
            origin, path, query = parts
            scheme, host, port = _origin(origin)
        header_host = f"[{host}]" if ":" in host else host
        headers: list[tuple[bytes, bytes]] = []
        if "host" not in request.headers:
            shown = header_host if port == _DEFAULT_PORTS[scheme] else f"{header_host}:{port}"
            headers.append((b"host", shown.encode()))
        headers += _scope_headers(request.headers)
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": request.method,
            "path": unquote(path),
            "raw_path": path.encode(),
            "root_path": "",
            "scheme": scheme,
            "query_string": query.encode(),
            "headers": headers,
            "client": ["testclient", 50000],
            "server": [host, port],
            "state": _lifespan_state(self.app),
        }
        exchange = _Exchange(_body_bytes(request.body), request.method == "HEAD")
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        try:
            if self.eager:
                _run_eagerly(loop, self.app(scope, exchange.receive, exchange.send), read_timeout)
            else:
                loop.run_until_complete(self._run(scope, exchange, read_timeout))
        except TimeoutError:
            raise requests.exceptions.ReadTimeout(
                f"{url}: read timed out (read timeout={read_timeout})", request=request
            ) from None
        if exchange.status is None:
            raise RuntimeError("the application did not return a response")
        return exchange

    async def _run(self, scope: dict[str, Any], exchange: _Exchange, read_timeout: float | None) -> None:
        async with asyncio.timeout(read_timeout if read_timeout is not None else DEFAULT_RESPONSE_TIMEOUT):
            await self.app(scope, exchange.receive, exchange.send)

    def response(self, request: requests.PreparedRequest, exchange: _Exchange) -> requests.Response:
        """The ``requests.Response`` of an exchange, as ``requests``' own adapters build it."""
        assert exchange.status is not None
        content = b"".join(exchange.chunks)
        raw = _Raw(exchange.status, exchange.pairs, content)
        response = requests.Response()
        response.status_code = exchange.status
        response.headers = CaseInsensitiveDict(raw.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = raw
        response.reason = raw.reason
        response.url = request.url or ""
        if raw._original_response is not None:
            extract_cookies_to_jar(response.cookies, request, raw)  # type: ignore[no-untyped-call]
        response.request = request
        response.connection = self  # type: ignore[assignment]  # as requests' own adapters do
        response._content = content
        response._content_consumed = True  # type: ignore[attr-defined]
        return response

    def own_loop(self) -> asyncio.AbstractEventLoop | None:
        """This thread's private loop (made on first use), or None where it cannot be used."""
        thread = threading.get_ident()
        if self._owner is not None and self._owner != thread:
            return None
        if loop_running():
            return None
        if self._loop is None:
            self._loop, self._owner = asyncio.new_event_loop(), thread
        return self._loop

    def close(self) -> None:
        """Cancel what the app left running, then close the loop (as ``asyncio.run`` does on its way out)."""
        loop, self._loop, self._owner = self._loop, None, None
        if loop is None or loop.is_closed():
            return
        try:
            if loop_running():
                return  # cannot run ours from inside another; just close it
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _run_eagerly(loop: asyncio.AbstractEventLoop, call: Coroutine[Any, Any, Any], timeout: float | None) -> None:
    """Run the app's ``call`` as a task of ``loop`` would, its first step on this thread (as Python 3.12's eager
    tasks do): the in-process emulator answers without waiting for anything, so the loop is not run at all then.

    During that step ``loop`` is this thread's running loop (what the app creates binds to it) and the call runs in
    a copy of the caller's context, as a task's would; if it waits for something, a task of ``loop`` takes it from
    there, within what is left of ``timeout``. The one difference from a task: ``asyncio.current_task()`` is None
    during the first step, which the emulator never asks (only it is started so).
    """
    deadline = loop.time() + (timeout if timeout is not None else DEFAULT_RESPONSE_TIMEOUT)
    context = contextvars.copy_context()
    asyncio.events._set_running_loop(loop)
    try:
        waiting = context.run(call.send, None)
    except StopIteration:
        return
    except BaseException:
        call.close()
        raise
    finally:
        asyncio.events._set_running_loop(None)
    loop.run_until_complete(loop.create_task(_resumed(call, waiting, deadline), context=context))


async def _resumed(call: Coroutine[Any, Any, Any], waiting: Any, deadline: float) -> None:
    async with asyncio.timeout_at(deadline):
        await _Resume(call, waiting)


class _Resume:
    """Awaiting it carries on a coroutine already started (that yielded ``waiting``), as ``await`` would have."""

    __slots__ = ("call", "waiting")

    def __init__(self, call: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self.call, self.waiting = call, waiting

    def __await__(self) -> Generator[Any, Any, Any]:
        call, waiting = self.call, self.waiting
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                call.close()
                raise
            except BaseException as error:  # a cancellation, or what the awaited future raised
                try:
                    waiting = call.throw(error)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    waiting = call.send(sent)
                except StopIteration as stop:
                    return stop.value


def has_own_settings(session: requests.Session) -> bool:
    """Whether ``session`` has anything ``Session.request`` would merge into a request."""
    hooks = any(session.hooks.values())
    return bool(session.auth or session.headers or session.params or session.cookies or session.proxies or hooks)


_LIFESPAN_STATE = getattr(asgi, "_lifespan_state", None)


def _lifespan_state(app: Any) -> dict[str, Any]:
    """A copy of the state the app's lifespan startup left (schemathesis started it), as its own client passes."""
    return dict(_LIFESPAN_STATE(app)) if _LIFESPAN_STATE is not None else {}


class InProcessClient(asgi.ASGIClient):
    """schemathesis's ASGI client with :class:`InProcessAdapter` mounted and no environment lookups."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.trust_env = False
        lean = InProcessAdapter(app, self.adapter)
        self.mount("http://", lean)
        self.mount("https://", lean)
        self.lean = lean
        self.plans: dict[int, Any] = {}
        """What :mod:`pytest_runcommand.fuzz.call` read from the configuration, per operation (for this session)."""

    def request(
        self,
        method: str | bytes,
        url: str | bytes,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Any = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: Any = None,
        cert: Any = None,
        json: Any = None,
    ) -> requests.Response:
        """``Session.request`` without the merging when there is nothing to merge (what schemathesis sends: the
        session's headers are lent to the request, no cookies, auth, hooks or files); then ``Session.send`` as usual.
        """
        if files or auth or cookies or hooks or proxies or has_own_settings(self):
            return super().request(
                method, url, params=params, data=data, headers=headers, cookies=cookies, files=files, auth=auth,
                timeout=timeout, allow_redirects=allow_redirects, proxies=proxies, hooks=hooks, stream=stream,
                verify=verify, cert=cert, json=json,
            )  # fmt: skip
        if isinstance(url, bytes):
            url = url.decode("utf-8")
        if isinstance(method, bytes):
            method = method.decode("utf-8")
        if not url.startswith(("http://", "https://")):
            url = urljoin(self.base_url, url)
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method)
        fast_url = prepared_url(url, params)
        if fast_url is None:
            prepared.prepare_url(url, params or {})
        else:
            prepared.url = fast_url
        prepared.prepare_headers(headers)
        prepared._cookies = RequestsCookieJar()  # type: ignore[attr-defined]  # prepare_cookies with none: no header
        prepared.prepare_body(data or {}, None, json)
        if "@" in url:  # user:password@ in the URL: basic auth, as requests does
            prepared.prepare_auth(None, url)
        return self.send(
            prepared,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies={},
            stream=self.stream if stream is None else stream,
            verify=self.verify if verify is None else verify,
            cert=self.cert if cert is None else cert,
        )

    def __exit__(self, *args: Any) -> None:
        self.lean.close()
        super().__exit__(*args)
