"""``case.call`` for the in-process client, without the per-request layers that change nothing there.

Sending a case through schemathesis's ``case.call`` to :class:`~pytest_runcommand.fuzz.inprocess.InProcessClient`
goes: ``Case.call`` (hooks, metadata) -> ``ASGITransport.send`` -> ``RequestsTransport.send`` (the serialized case
and the configured transport settings) -> ``Session.request`` -> ``Session.send`` -> the adapter, and back through a
``requests.Response`` that ``Response.from_requests`` copies into schemathesis's ``Response``. Against the in-process
emulator those layers cost more than the emulator's own answer.

:func:`call` is that same pipeline, step for step, with schemathesis's own code where the bytes are decided (the
case serialized by the transport's ``_build_request_data``: serializers per media type, header merging, query and
path encoding, the configured timeout and TLS settings; ``requests``' header checks and JSON encoding), and three
layers taken out where they do nothing for this client:

- ``Session.request``'s merging (nothing to merge: the session's headers are lent to the request by schemathesis,
  and it has no cookies, auth, params, proxies or hooks) and ``Session.send``'s bookkeeping (no hooks, no cookie in
  the answer, no redirect to follow): the request is prepared as ``Session.request`` prepares it (the same
  ``PreparedRequest``; its URL by :func:`~pytest_runcommand.fuzz.prepared_url.prepared_url` where ``requests``
  leaves it unchanged, its headers matched against ``requests``' own patterns, a name or value once) and handed to
  the adapter with the URL's parts;
- the ``requests.Response``: schemathesis's ``Response`` is built from the app's answer directly, with what
  ``Response.from_requests`` would have copied (status, headers as lists, body, reason, encoding, HTTP version);
- the transport lookup and the hook dispatch when no hook is registered;
- reading the operation's transport settings (base URL, redirects, retries, TLS, timeout, proxy, rate limit) from the
  configuration on every request: they are read once per operation and session (:func:`_plan`), and the case is
  serialized by the transport's ``serialize_case`` with them as ``_build_request_data`` applies them;
- hashing the case's containers a second time when the runner has just read ``case.meta`` (``meta_read``).

Where any of that would matter it is not skipped: the case goes through ``case.call`` as before when a hook is
registered, the keyword arguments are not the run's, the client is not the in-process one or cannot answer on this
thread, schemathesis's case internals are missing (another version), or someone watches ``Session.send`` (the
traffic recorder of ``runcommand_contract``); the request goes through ``Session.request`` when the serialized case
carries files, auth, cookies or proxies, or the client has settings of its own; and an answer that sets a cookie,
redirects or streams events is finished by ``requests`` and ``Response.from_requests`` as before.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import requests
import requests.models
import requests.utils
from requests.cookies import RequestsCookieJar, extract_cookies_to_jar
from requests.models import REDIRECT_STATI
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, get_encoding_from_headers
from schemathesis.core import NOT_SET
from schemathesis.core.errors import IncorrectUsage
from schemathesis.core.rate_limit import ratelimit
from schemathesis.core.transport import DEFAULT_RESPONSE_TIMEOUT, Response, is_event_stream
from schemathesis.generation.case import Case
from schemathesis.generation.overrides import Override
from schemathesis.hooks import schema_hook_dispatchers
from schemathesis.python import asgi
from schemathesis.transport import requests as requests_transport
from schemathesis.transport.asgi import ASGI_TRANSPORT
from schemathesis.transport.prepare import normalize_base_url

from pytest_runcommand.fuzz.inprocess import InProcessClient, _Exchange, _reason, credential_header, has_own_settings
from pytest_runcommand.fuzz.prepared_url import prepared_origin_path_query

__all__ = ["call", "lean_call_applies"]

_HOOKS = ("before_call", "after_call", "after_network_error")
_CASE_INTERNALS = ("_meta", "_base_url", "_sync_validated_hashes", "_revalidate_metadata", "freeze_metadata")
_SUPPORTED = all(hasattr(Case, name) for name in _CASE_INTERNALS) and all(
    hasattr(ASGI_TRANSPORT, name) for name in ("_build_request_data", "serialize_case")
)
"""Whether this schemathesis has the case internals ``Case.call`` uses (else every case takes ``case.call``)."""
_OWN_BUILD = getattr(type(ASGI_TRANSPORT), "_build_request_data", None) is getattr(
    requests_transport.RequestsTransport, "_build_request_data", object()
)
"""Whether the ASGI transport builds its request data as ``RequestsTransport._build_request_data`` does (what
:func:`_request_data` does with the operation's settings read once; else that method is called)."""
_RUN_KWARGS = frozenset({"headers"})
"""The keyword arguments of a fuzz run's in-process call (with ``session``): others go through ``case.call``."""
_REQUEST_KEYS = frozenset(
    {"method", "url", "cookies", "headers", "params", "json", "data", "verify", "timeout", "cert", "allow_redirects"}
)
"""What the serialized case may hold for the lean request (``files``, ``auth``, ``proxies`` & co take requests')."""
_JSON: Any = getattr(requests.models, "complexjson", None) or __import__("json")
"""The JSON module ``PreparedRequest.prepare_body`` encodes with (simplejson when installed)."""
_HEADER_PATTERNS: Any = getattr(requests.utils, "_HEADER_VALIDATORS_STR", None)
"""The patterns ``check_header_validity`` holds a str header name and value to (None: this requests has others)."""
_MATCHED: tuple[set[str], set[str]] = (set(), set())
"""Header names and values that matched those patterns already (the same few on every request but the case id's
value; each set bounded); never a credential's value (:func:`~pytest_runcommand.fuzz.inprocess.credential_header`)."""
_MAX_MATCHED = 512
_RESPONSE_SLOTS_KNOWN = getattr(Response, "__slots__", None) == (
    "status_code",
    "headers",
    "content",
    "content_size",
    "request",
    "elapsed",
    "verify",
    "_deserialized",
    "message",
    "http_version",
    "encoding",
    "stream_cut_short",
    "_encoded_body",
    "_override",
)
"""Whether schemathesis's ``Response`` has the fields its ``__init__`` sets in this version (then the answer is
built field by field, its headers given as ``__init__`` would store them; else through ``__init__``)."""


def lean_call_applies(case: Case[Any], session: Any, kwargs: Mapping[str, Any]) -> bool:
    """Whether :func:`call` may skip schemathesis's and requests' layers for this case (see the module docstring)."""
    if not _SUPPORTED or type(session) is not InProcessClient or not kwargs.keys() <= _RUN_KWARGS:
        return False
    if not _requests_own_send(type(session).send) or session.lean.own_loop() is None:
        return False  # someone watches Session.send, or the adapter takes schemathesis's path here
    operation = case.operation
    if operation.app is None or session.auth is not None:
        return False
    for dispatcher in schema_hook_dispatchers(operation.schema):
        for name in _HOOKS:
            if dispatcher.defines(name):
                return False
    return True


def _requests_own_send(send: Any) -> bool:
    """Whether ``send`` is ``requests``' own ``Session.send``, not a wrapper put in its place (the traffic recorder's
    is installed while this module may already be loaded, so the original cannot be kept aside at import)."""
    return getattr(send, "__module__", None) == "requests.sessions" and getattr(send, "__qualname__", "") == (
        "Session.send"
    )


def call(case: Case[Any], *, session: Any = None, meta_read: bool = False, **kwargs: Any) -> Response:
    """``case.call(session=session, **kwargs)``: the same request sent, the same ``Response`` returned.

    ``meta_read``: the caller has just read ``case.meta`` of a case whose metadata was not frozen, and changed
    nothing since: its containers' hashes are the ones ``Case.call`` would take again (the same hashes, so not
    worked out twice)."""
    if not lean_call_applies(case, session, kwargs):
        return case.call(session=session, **kwargs)
    # Case.call, with no hook registered (checked above): none to dispatch, and no edit of a hook's to look for
    if not meta_read:
        case._sync_validated_hashes()
    if case._meta and case._meta.is_dirty():
        case._revalidate_metadata()
    case.freeze_metadata()
    object.__setattr__(case, "_base_url", None)
    send_kwargs: dict[str, Any] = {"base_url": None, "headers": kwargs.get("headers"), "params": None, "cookies": None}
    try:
        return _send(case, session, send_kwargs)
    except IncorrectUsage:
        raise
    except Exception as exc:  # as Case.call: the reproduction goes with the error (no hook to tell)
        try:
            curl = case.as_curl_command(headers=send_kwargs["headers"], verify=True)
            exc.add_note(f"\nReproduce with:\n\n    {curl}")
        except Exception:
            pass
        raise


class _Plan(NamedTuple):
    """What ``ASGITransport.send`` and ``RequestsTransport.send`` read from the schema's configuration for one
    operation, read once per session (a run's configuration does not change while it sends)."""

    operation: Any
    """The operation itself (the plans are kept by its id: it stays alive, and the id its own)."""
    base_url: str | None
    max_redirects: int | None
    no_redirects: bool
    """``allow_redirects`` is False unless the request says otherwise (no redirect allowed, or one documented)."""
    retries: int
    max_stream_events: int
    rate_limit: Any
    settings: tuple[tuple[str, Any], ...]
    """``verify``, ``timeout`` and ``cert`` where configured, as ``_build_request_data`` sets them by default."""
    proxy: Any


def _plan(session: InProcessClient, operation: Any) -> _Plan:
    plans: dict[int, _Plan] = session.plans
    plan = plans.get(id(operation))
    if plan is not None and plan.operation is operation:
        return plan
    config = operation.schema.config
    max_redirects = config.max_redirects_for(operation=operation)
    settings = (
        ("verify", config.tls_verify_for(operation=operation)),
        ("timeout", config.request_timeout_for(operation=operation)),
        ("cert", config.request_cert_for(operation=operation)),
    )
    plan = plans[id(operation)] = _Plan(
        operation=operation,
        base_url=normalize_base_url(operation.base_url, host=asgi.HOST),
        max_redirects=max_redirects,
        no_redirects=max_redirects == 0
        or (max_redirects is None and any(code.startswith("3") for code in operation.responses.status_codes)),
        retries=config.request_retries_for(operation=operation) or 0,
        max_stream_events=config.max_stream_events_for(operation=operation),
        rate_limit=config.rate_limit_for(operation=operation),
        settings=tuple((key, value) for key, value in settings if value is not None),
        proxy=config.proxy_for(operation=operation),
    )
    return plan


def _request_data(case: Case[Any], kwargs: dict[str, Any], plan: _Plan) -> dict[str, Any]:
    """``RequestsTransport._build_request_data(case, kwargs)`` with the operation's settings from ``plan``: the case
    serialized by the transport, then its settings where the serialized case has none."""
    if not _OWN_BUILD:
        return ASGI_TRANSPORT._build_request_data(case, kwargs)
    data = ASGI_TRANSPORT.serialize_case(case, **kwargs)
    for key, value in plan.settings:
        data.setdefault(key, value)
    for key, value in kwargs.items():
        if key == "base_url":
            continue
        if key not in ("headers", "cookies", "params") or key not in data:
            data[key] = value
    data.setdefault("timeout", DEFAULT_RESPONSE_TIMEOUT)
    if plan.proxy is not None:
        data.setdefault("proxies", {"all": plan.proxy})
    return data


def _send(case: Case[Any], session: InProcessClient, kwargs: dict[str, Any]) -> Response:
    """``ASGITransport.send`` then ``RequestsTransport.send`` for an :class:`InProcessClient` session."""
    plan = _plan(session, case.operation)
    kwargs["base_url"] = plan.base_url
    if session.headers:  # lower priority than the call's own headers
        headers = kwargs.setdefault("headers", {}) or {}
        for name, value in _header_pairs(session.headers):
            headers.setdefault(name, value)
        kwargs["headers"] = headers
    data = _request_data(case, kwargs, plan)
    if plan.no_redirects:
        data.setdefault("allow_redirects", False)
    if plan.max_redirects:
        session.max_redirects = plan.max_redirects
    verify = data.get("verify", True)
    retries, max_stream_events = plan.retries, plan.max_stream_events
    override = Override.from_send_kwargs(kwargs)
    lent, session.headers = session.headers, {}  # as schemathesis lends them
    try:
        if plan.rate_limit is not None:
            with ratelimit(plan.rate_limit, case.operation.schema.config.base_url):
                pass
        if retries or not data.keys() <= _REQUEST_KEYS or data.get("cookies") or has_own_settings(session):
            response = requests_transport._request_with_retries(session, data, retries, max_stream_events)
            return Response.from_requests(response, verify=verify, _override=override)
        return _lean_request(session, data, verify, max_stream_events, override)
    finally:
        session.headers = lent


def _lean_request(
    session: InProcessClient, data: dict[str, Any], verify: Any, max_stream_events: int, override: Override
) -> Response:
    """``Session.request(**data, stream=True)`` and ``Response.from_requests``, for a plain request and answer."""
    url = data["url"]
    if not url.startswith(("http://", "https://")):
        return _through_requests(session, data, verify, max_stream_events, override)
    if session.get_adapter(url) is not session.lean:
        return _through_requests(session, data, verify, max_stream_events, override)
    prepared = requests.PreparedRequest()
    prepared.prepare_method(data["method"])
    params = data.get("params")
    parts = prepared_origin_path_query(url, params)
    if parts is None:
        prepared.prepare_url(url, params or {})
    else:
        prepared.url = f"{url}?{parts[2]}" if parts[2] else url
    _prepare_headers(prepared, data.get("headers"))
    prepared._cookies = RequestsCookieJar()  # type: ignore[attr-defined]  # prepare_cookies with none: no header
    _prepare_body(prepared, data.get("data"), data.get("json"))
    if "@" in url:  # user:password@ in the URL: basic auth, as requests does
        prepared.prepare_auth(None, url)
    timeout = data.get("timeout")
    started = time.perf_counter()
    exchange = session.lean.exchange(prepared, timeout, parts)
    elapsed = datetime.timedelta(seconds=time.perf_counter() - started)
    allow_redirects = data.get("allow_redirects", True)
    headers: dict[str, list[str]] = {}
    for name, value in exchange.pairs:
        lowered = name.lower()
        values = headers.get(lowered)
        if values is None:
            headers[lowered] = [value]
        else:
            values.append(value)
    if _needs_requests(headers, exchange.status):
        send_kwargs: dict[str, Any] = {
            "timeout": timeout,
            "proxies": {},
            "stream": True,
            "verify": session.verify if data.get("verify") is None else data["verify"],
            "cert": session.cert if data.get("cert") is None else data["cert"],
        }
        answer = _finish_as_session_send(session, prepared, exchange, elapsed, allow_redirects, send_kwargs)
        _read_like_request(answer, data, max_stream_events)
        return Response.from_requests(answer, verify=verify, _override=override)
    content_type = headers.get("content-type")
    status = exchange.status or 0
    encoding = get_encoding_from_headers({"content-type": ", ".join(content_type)} if content_type else {})
    content = b"".join(exchange.chunks)
    if not _RESPONSE_SLOTS_KNOWN:
        return Response(
            status_code=status,
            headers=headers,
            content=content,
            request=prepared,
            elapsed=elapsed.total_seconds(),
            message=_reason(status),
            encoding=encoding,
            http_version="1.1",
            verify=verify,
            stream_cut_short=False,
            _override=override,
        )
    # Response.__init__ with the same arguments, its headers already a dict of lists by lower-case name
    response: Response = Response.__new__(Response)
    response.status_code = status
    response.headers = headers
    response.content = content
    response.content_size = len(content)
    response.request = prepared
    response.elapsed = elapsed.total_seconds()
    response.verify = verify
    response._deserialized = NOT_SET
    response._encoded_body = None
    response.message = _reason(status)
    response.http_version = "1.1"
    response.encoding = encoding
    response.stream_cut_short = False
    response._override = override
    return response


def _through_requests(
    session: InProcessClient, data: dict[str, Any], verify: Any, max_stream_events: int, override: Override
) -> Response:
    response = requests_transport._request_with_retries(session, data, 0, max_stream_events)
    return Response.from_requests(response, verify=verify, _override=override)


def _header_pairs(headers: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """``headers.items()``; for a ``CaseInsensitiveDict`` read from its store (the same pairs, in the same order,
    without a lookup per name)."""
    if type(headers) is CaseInsensitiveDict:
        return _store(headers).values()
    return headers.items()


def _store(headers: CaseInsensitiveDict[Any]) -> dict[str, tuple[str, Any]]:
    """Where a ``CaseInsensitiveDict`` keeps its pairs: ``(name, value)`` by lower-case name."""
    store: dict[str, tuple[str, Any]] = headers._store  # type: ignore[attr-defined]
    return store


def _prepare_headers(prepared: requests.PreparedRequest, headers: Mapping[str, Any] | None) -> None:
    """``PreparedRequest.prepare_headers`` for str headers: each pair matched against requests' own patterns
    (``check_header_validity`` raises for one that fails), the pairs stored as ``CaseInsensitiveDict`` stores them."""
    if not headers or _HEADER_PATTERNS is None:
        prepared.prepare_headers(headers)
        return
    names, values = _MATCHED
    checked: CaseInsensitiveDict[Any] = CaseInsensitiveDict()
    store = _store(checked)
    for pair in _header_pairs(headers):
        name, value = pair
        if type(name) is not str or type(value) is not str:
            prepared.prepare_headers(headers)
            return
        if name not in names or value not in values:
            _match_header(pair)
        store[name.lower()] = pair
    prepared.headers = checked


def _match_header(pair: tuple[str, str]) -> None:
    """``check_header_validity(pair)`` for a str pair, remembering a name and a value that match (a credential's
    value is checked on every request instead)."""
    name, value = pair
    if _HEADER_PATTERNS[0].match(name) is None or _HEADER_PATTERNS[1].match(value) is None:
        check_header_validity(pair)  # raises, as requests does
    names, values = _MATCHED
    if len(names) < _MAX_MATCHED:
        names.add(name)
    if len(values) < _MAX_MATCHED and not credential_header(name):
        values.add(value)


def _prepare_body(prepared: requests.PreparedRequest, data: Any, json: Any) -> None:
    """``PreparedRequest.prepare_body(data or {}, None, json)`` for the bodies schemathesis's serializers give
    (JSON, bytes, none); anything else is prepared by ``requests``."""
    headers = prepared.headers
    if json is not None and not data:
        try:
            text = _JSON.dumps(json, allow_nan=False)
        except ValueError:
            prepared.prepare_body(data or {}, None, json)  # raises InvalidJSONError, as requests does
            return
        body = text if isinstance(text, bytes) else text.encode("utf-8")
        if body:
            headers["Content-Length"] = str(len(body))
        elif prepared.method not in ("GET", "HEAD") and headers.get("Content-Length") is None:
            headers["Content-Length"] = "0"
        if "content-type" not in headers:
            headers["Content-Type"] = "application/json"
        prepared.body = body
    elif json is None and type(data) is bytes and data:
        headers["Content-Length"] = str(len(data))
        prepared.body = data
    elif json is None and not data and (data is None or type(data) in (dict, bytes, str, list, tuple)):
        if prepared.method not in ("GET", "HEAD") and headers.get("Content-Length") is None:
            headers["Content-Length"] = "0"
        prepared.body = None
    else:
        prepared.prepare_body(data or {}, None, json)


def _needs_requests(headers: Mapping[str, list[str]], status: int | None) -> bool:
    """An answer ``requests`` does something with: a cookie to keep, a redirect, an event stream (``headers``: the
    answer's, by lower-case name)."""
    if "set-cookie" in headers or ("location" in headers and status in REDIRECT_STATI):
        return True
    content_types = headers.get("content-type")
    return content_types is not None and any(is_event_stream(value) for value in content_types)


def _finish_as_session_send(
    session: InProcessClient,
    request: requests.PreparedRequest,
    exchange: _Exchange,
    elapsed: datetime.timedelta,
    allow_redirects: bool,
    kwargs: dict[str, Any],
) -> requests.Response:
    """The rest of ``Session.send`` for an answer already in: cookies kept, redirects followed (requests' code)."""
    answer = session.lean.response(request, exchange)
    answer.elapsed = elapsed
    extract_cookies_to_jar(session.cookies, request, answer.raw)  # type: ignore[no-untyped-call]
    history = list(session.resolve_redirects(answer, request, **kwargs)) if allow_redirects else []
    if history:
        history.insert(0, answer)
        answer = history.pop()
        answer.history = history
    if not allow_redirects:
        with contextlib.suppress(StopIteration):
            answer._next = next(session.resolve_redirects(answer, request, yield_requests=True, **kwargs))  # type: ignore[attr-defined]
    return answer


def _read_like_request(answer: requests.Response, data: dict[str, Any], max_stream_events: int) -> None:
    """What schemathesis's ``_request`` does with the answer once sent: an event stream read to its cut."""
    from schemathesis.core.transport import STREAM_CUT_SHORT_ATTRIBUTE, read_event_stream

    if is_event_stream(answer.headers.get("Content-Type")):
        answer._content, cut_short = read_event_stream(
            requests_transport._iter_event_stream(answer), data.get("timeout"), max_stream_events
        )
        if cut_short:
            setattr(answer, STREAM_CUT_SHORT_ATTRIBUTE, True)
        answer.close()
    else:
        answer.content  # noqa: B018
