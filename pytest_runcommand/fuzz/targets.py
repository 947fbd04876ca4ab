"""Where a fuzz run sends its requests: the one resolver the command line and the pytest route share.

The target text is parsed once (:func:`parse_target_url`) into scheme, host, port and base path, and requests are
sent to the URL rebuilt from those parts, so the host that is checked is the host that is reached. Rules:

- only ``http``/``https`` with a plain host: no user info (``u@host``), no backslash, query, fragment, control or
  non-ASCII character, no IPv6 zone, no shorthand IPv4 (``127.1``, ``0x7f.1``);
- loopback means a literal loopback address (127.0.0.0/8, ``::1``) or ``localhost``, nothing else;
- a target off loopback needs the live opt-in (``--live`` / ``RUNCOMMAND_FUZZ_LIVE=1``), https, and a scope
  (subscription, resource group, VM); it gets a request budget and a rate unless given others;
- a loopback target never uses a proxy and never gets a real token: it is sent the emulator's test token, and
  neither ``AZURE_ACCESS_TOKEN`` nor ``DefaultAzureCredential`` is consulted;
- no URL target follows redirects, and no session reads proxies, CA bundles or ``.netrc`` behind the run's back.

Light module: no schemathesis; the emulator and ``requests`` are imported when a target is built.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import os
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.live import ARM_SCOPE, Guard, LiveScope

__all__ = [
    "CLI_ROUTE",
    "EMULATOR",
    "ENV_SCOPE",
    "LIVE_ENV",
    "LIVE_MAX_REQUESTS",
    "LIVE_RATE",
    "PYTEST_ROUTE",
    "TOKEN_ENV",
    "Route",
    "Target",
    "TargetRequest",
    "TargetURL",
    "access_token",
    "emulator_target",
    "is_loopback",
    "is_loopback_host",
    "masked_target_text",
    "parse_target_url",
    "positive_number",
    "resolve_target",
    "shown_target",
    "url_target",
]

EMULATOR = "emulator"
LIVE_ENV = "RUNCOMMAND_FUZZ_LIVE"
TOKEN_ENV = "AZURE_ACCESS_TOKEN"
CA_BUNDLE_ENV = "REQUESTS_CA_BUNDLE"
ENV_SCOPE = {"subscription": "AZURE_SUBSCRIPTION_ID", "resource_group": "AZURE_RESOURCE_GROUP", "vm": "AZURE_VM_NAME"}
LIVE_MAX_REQUESTS = 500
LIVE_RATE = 5.0
REQUEST_TIMEOUT = 10.0
"""Seconds a request's whole exchange (connect to the answer's last byte) may take by default (``--request-timeout``)."""
RATE_MIN = 1 / 86400
"""One request a day: the pace waits 1/rate seconds between requests, and a wait beyond what a clock can hold
stopped the run midway (``--rate 1e-300``: OverflowError)."""
TIMEOUT_MIN, TIMEOUT_MAX = 0.001, 86400.0
"""A millisecond to a day: sockets round a shorter wait (and a report would name one they never waited), and a
longer one beyond about 9e9 s stopped the run midway (``--request-timeout 1e308``: OverflowError)."""
RATE_EXPECTED = "a positive number of requests a second, at least 0.0000116 (one a day)"
TIMEOUT_EXPECTED = "a positive number of seconds, from 0.001 to 86400 (a day)"
_RANGES = {RATE_EXPECTED: (RATE_MIN, math.inf), TIMEOUT_EXPECTED: (TIMEOUT_MIN, TIMEOUT_MAX)}


def positive_number(value: object, expected: str) -> float:
    """``value`` (a number or its text) as a positive finite float within the range of ``expected``
    (:data:`RATE_EXPECTED`, :data:`TIMEOUT_EXPECTED`): the one rule of ``--rate`` and ``--request-timeout`` on every
    route (the command line, the marker, the Python API); a :class:`UsageError` ``expected <expected>, got <value>``
    otherwise, before any work."""
    try:
        number = math.nan if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond a float
        number = math.nan
    low, high = _RANGES.get(expected, (0.0, math.inf))
    if not (number > 0 and math.isfinite(number) and low <= number <= high):  # nan compares false
        raise UsageError(f"expected {expected}, got {value!r}")
    return number


_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>/[^?#]*)?$")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
_FORBIDDEN = re.compile(r"[^\x21-\x7e]|[\\\"<>^`{|}]")


@dataclass(frozen=True)
class TargetURL:
    """A target URL parsed once: what is checked and where requests go."""

    scheme: str
    host: str
    """Lower case; an IPv6 address without brackets."""
    port: int | None
    path: str
    """The base path, without a trailing slash ("" for none)."""

    @property
    def loopback(self) -> bool:
        return is_loopback_host(self.host)

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def base_url(self) -> str:
        return self.origin + self.path


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (127.0.0.0/8, ``::1``) only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback(url: str) -> bool:
    """True when ``url`` parses as a target URL on loopback (False when it does not parse)."""
    try:
        return parse_target_url(url).loopback
    except UsageError:
        return False


def _is_ipv4_shorthand(host: str) -> bool:
    """True for names the resolver would read as an IPv4 address (``0x7f.1``, ``0177.0.0.1``)."""
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _host(text: str, shown: str) -> tuple[str, int | None]:
    if text.startswith("["):
        address, bracket, rest = text[1:].partition("]")
        if not bracket or "%" in address:
            raise UsageError(f"{shown}: an IPv6 address is written [address] (no zone)")
        try:
            host = str(ipaddress.IPv6Address(address))
        except ValueError:
            raise UsageError(f"{shown}: {address!r} is not an IPv6 address") from None
        port_text = rest[1:] if rest.startswith(":") else None
        if rest and port_text is None:
            raise UsageError(f"{shown}: unexpected {rest!r} after the address")
    else:
        host, colon, port_text_raw = text.partition(":")
        host, port_text = host.lower(), (port_text_raw if colon else None)
        if not _HOST_NAME.match(host):
            raise UsageError(f"{shown}: {host!r} is not a host name or address")
        if re.fullmatch(r"[0-9.]+", host):
            try:
                host = str(ipaddress.IPv4Address(host))
            except ValueError:
                raise UsageError(f"{shown}: {host!r} is not an IPv4 address (four decimal numbers)") from None
        elif _is_ipv4_shorthand(host):
            raise UsageError(f"{shown}: write the IPv4 address as four decimal numbers, got {host!r}")
    if port_text is None:
        return host, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536 or len(port_text) > 5:
        raise UsageError(f"{shown}: the port must be a number from 1 to 65535, got {port_text!r}")
    return host, int(port_text)


def parse_target_url(text: str, *, flag: str = "--target") -> TargetURL:
    """Parse a target URL under the module's rules; a :class:`UsageError` names ``flag`` and what is wrong."""
    shown = f"{flag} {shown_target(text)!r}"
    forbidden = _FORBIDDEN.search(text)
    if forbidden is not None:
        raise UsageError(f"{shown}: {forbidden.group()!r} is not allowed in a target URL")
    found = _URL.match(text)
    if found is None:
        raise UsageError(f"{shown}: expected 'emulator' or http(s)://host[:port][/path] (no query or fragment)")
    scheme = found["scheme"].lower()
    if scheme not in ("http", "https"):
        raise UsageError(f"{shown}: expected 'emulator' or an http(s) base URL")
    authority = found["authority"]
    if "@" in authority:
        raise UsageError(f"{shown}: user info (user@host) is not allowed; the token is sent as a header")
    if not authority:
        raise UsageError(f"{shown}: no host")
    host, port = _host(authority, shown)
    return TargetURL(scheme, host, port, (found["path"] or "").rstrip("/"))


@dataclass
class Target:
    """Where requests go and how: an in-process app, or a parsed URL (with a token, a CA, a guard)."""

    label: str
    base_url: str
    app: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    tls_verify: bool | str = True
    guard: Guard = field(default_factory=lambda: Guard(None))
    note: str = ""
    """Printed under each curl line (how to reach an in-process target)."""
    reset: Callable[[], None] | None = None
    """Called before each stateful scenario (the in-process emulator forgets its state, so scenarios replay)."""
    url: TargetURL | None = None
    """The parsed URL of a URL target (None in-process)."""
    proxies: dict[str, str] = field(default_factory=dict)
    """Proxies for a live target, read from the environment once (never for loopback)."""
    request_timeout: float = REQUEST_TIMEOUT
    """Seconds a request to a URL target may take, connect to the answer's last byte (one deadline per exchange)."""

    @property
    def scope(self) -> LiveScope | None:
        return self.guard.scope

    def open_session(self) -> Any:
        """The session requests to this URL target go through (:class:`~pytest_runcommand.fuzz.session.GuardedSession`)."""
        from pytest_runcommand.fuzz.session import GuardedSession

        origin = self.url.origin if self.url is not None else self.base_url
        return GuardedSession(origin, self.guard, self.proxies, self.request_timeout)

    def transport_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for every request to a URL target (no redirects, TLS settings, a timeout)."""
        if self.app is not None:
            return {}
        return {"verify": self.tls_verify, "allow_redirects": False, "timeout": self.request_timeout}


def _test_token() -> str:
    """The token :class:`~pytest_runcommand.emulator.credential.EmulatorCredential` hands out (good for an hour),
    minted as it mints it, without importing ``azure.core`` for the ``AccessToken`` wrapper it is dropped from."""
    from pytest_runcommand.emulator.tokens import fake_token

    return fake_token(int(time.time()) + 3600)


def emulator_target(app: Any = None) -> Target:
    """The in-process emulator (a fresh one unless ``app`` is given), with an emulator token."""
    from pytest_runcommand.emulator.app import EmulatorApp

    emulator = app if app is not None else EmulatorApp()
    return Target(
        label="emulator (in-process)",
        base_url="http://testserver",
        app=emulator,
        headers={"Authorization": f"Bearer {_test_token()}"},
        reset=emulator.backend.reset,
        note="(the in-process emulator: serve one with `pytest-runcommand emulator --tls` and use its URL)",
    )


def url_target(
    url: str | TargetURL,
    *,
    token: str,
    scope: LiveScope | None = None,
    ca_path: str | None = None,
    max_requests: int = 0,
    rate: float = 0.0,
    proxies: Mapping[str, str] | None = None,
    request_timeout: float = REQUEST_TIMEOUT,
) -> Target:
    """A target reached over HTTP(S) at the parsed ``url``; ``scope`` confines it (required off loopback); ``rate`` 0:
    unpaced, else (as ``request_timeout``) under :func:`positive_number`'s rule."""
    parsed = url if isinstance(url, TargetURL) else parse_target_url(url)
    return Target(
        label=shown_target(parsed.base_url),
        base_url=parsed.base_url,
        headers={"Authorization": f"Bearer {token}"},
        tls_verify=ca_path if ca_path else True,
        guard=Guard(
            scope, max_requests=max_requests, rate=rate and positive_number(rate, RATE_EXPECTED), base_path=parsed.path
        ),
        url=parsed,
        proxies={} if parsed.loopback else dict(proxies or {}),
        request_timeout=positive_number(request_timeout, TIMEOUT_EXPECTED),
    )


@dataclass(frozen=True)
class Route:
    """How one route names its settings in messages."""

    target_flag: str
    live_hint: str
    scope_names: Mapping[str, str]
    """Scope field -> how the user sets it."""
    ca_flag: str
    """How the user names the CA bundle to trust."""

    def stop_hint(self, error: BaseException, ca_cert: str | None) -> str | None:
        """What to do about a run stopped by the setup, in one line: an https target whose certificate is not trusted
        (``ca_cert``: the CA bundle named on this route, if any), a target where nothing listens, an http target that
        speaks TLS or an https one that does not; None for any other stop."""
        from pytest_runcommand.fuzz.unanswered import NoFirstAnswer, SpeaksTls, not_reached

        text = str(error)
        if isinstance(error, SpeaksTls):
            return (
                f"{error.target} speaks https on that port (the emulator started with --tls): give "
                f"{self.target_flag} https://..."
            )
        if isinstance(error, NoFirstAnswer):
            return (
                f"{error.target} closed the connection without answering the run's first request: if it serves "
                f"https (the emulator started with --tls), give {self.target_flag} https://..."
            )
        if "WRONG_VERSION_NUMBER" in text or "record layer failure" in text:
            return f"the target does not speak TLS on that port: give {self.target_flag} http://..."
        if not_reached(error):
            return f"nothing answers at the target ({self.target_flag}): is it running, at that host and port?"
        return self.untrusted(error, ca_cert)

    def untrusted(self, error: BaseException, ca_cert: str | None) -> str | None:
        """What to do about a run stopped by an https target whose certificate is not trusted (``ca_cert``: the CA
        bundle named on this route, if any); None for any other stop."""
        if "CERTIFICATE_VERIFY_FAILED" not in str(error):
            return None
        if ca_cert:
            return (
                f"the target's certificate is not trusted by {self.ca_flag} {ca_cert}: give the CA bundle that signed "
                "it (the emulator makes a new CA each time it starts: write it again with --ca-out)"
            )
        return (
            f"the target's certificate is not trusted: pass {self.ca_flag} PEM (for the emulator, the CA bundle it "
            f"prints or writes with --ca-out; {CA_BUNDLE_ENV} is read too)"
        )


CLI_ROUTE = Route(
    "--target",
    "add --live to fuzz it (it changes real resources)",
    {name: f"--{name.replace('_', '-')} (or {env})" for name, env in ENV_SCOPE.items()},
    "--ca-cert",
)
PYTEST_ROUTE = Route(
    "--runcommand-target",
    f"set {LIVE_ENV}=1 to fuzz it (it changes real resources)",
    dict(ENV_SCOPE),
    "--runcommand-ca-cert (runcommand_ca_cert)",
)


@dataclass(frozen=True)
class TargetRequest:
    """What the user asked for, on either route; empty scope fields fall back to :data:`ENV_SCOPE`."""

    target: str = EMULATOR
    live: bool | None = None
    """The live opt-in; None: read :data:`LIVE_ENV`."""
    subscription: str = ""
    resource_group: str = ""
    vm: str = ""
    instance_id: str | None = None
    name_prefix: str = "fuzz-"
    ca_cert: str | None = None
    max_requests: int | None = None
    rate: float | None = None
    """Requests a second at most (None: :data:`LIVE_RATE` off loopback, unbounded on it)."""
    request_timeout: float | None = None
    """Seconds a request may wait for its answer (None: :data:`REQUEST_TIMEOUT`)."""


def _scope(request: TargetRequest, route: Route, env: Mapping[str, str], *, required: bool) -> LiveScope | None:
    values = {name: getattr(request, name) or env.get(variable, "") for name, variable in ENV_SCOPE.items()}
    missing = [route.scope_names[name] for name, value in values.items() if not value]
    if missing and (required or len(missing) < len(values)):
        raise UsageError(f"a scoped target needs {', '.join(missing)}")
    if missing:
        return None
    return LiveScope(name_prefix=request.name_prefix, instance_id=request.instance_id, **values)


def resolve_target(
    request: TargetRequest, route: Route = CLI_ROUTE, environ: Mapping[str, str] | None = None
) -> Target:
    """The target of a run, under the rules of the module docstring; a :class:`UsageError` says what is wrong."""
    env = os.environ if environ is None else environ
    text = request.target.strip()
    if text == EMULATOR:
        if request.ca_cert:
            raise UsageError(f"{route.ca_flag}: for an https {route.target_flag}; the emulator target takes none")
        return emulator_target()
    parsed = parse_target_url(text, flag=route.target_flag)
    if request.ca_cert and parsed.scheme != "https":
        raise UsageError(
            f"{route.ca_flag} {request.ca_cert}: {route.target_flag} {parsed.base_url} is http (no TLS to trust); "
            "give https:// or no CA bundle"
        )
    live = env.get(LIVE_ENV) == "1" if request.live is None else request.live
    if not parsed.loopback and not live:
        raise UsageError(f"{route.target_flag} {parsed.base_url} is not on loopback: {route.live_hint}")
    if not parsed.loopback and parsed.scheme != "https":
        raise UsageError(f"{route.target_flag} {parsed.base_url}: a live target must use https (the token is sent)")
    ca_cert = request.ca_cert or env.get(CA_BUNDLE_ENV) or None
    if ca_cert is not None:
        _check_ca_bundle(ca_cert, route.ca_flag if request.ca_cert else CA_BUNDLE_ENV)
    rate = _setting("rate", request.rate, RATE_EXPECTED, 0.0 if parsed.loopback else LIVE_RATE)
    timeout = _setting("request_timeout", request.request_timeout, TIMEOUT_EXPECTED, REQUEST_TIMEOUT)
    scope = _scope(request, route, env, required=not parsed.loopback)
    if parsed.loopback:
        max_requests = request.max_requests or 0
        return url_target(
            parsed,
            token=_test_token(),
            scope=scope,
            ca_path=ca_cert,
            max_requests=max_requests,
            rate=rate,
            request_timeout=timeout,
        )
    from requests.utils import get_environ_proxies

    return url_target(
        parsed,
        token=access_token(env),
        scope=scope,
        ca_path=ca_cert,
        max_requests=request.max_requests or LIVE_MAX_REQUESTS,
        rate=rate,
        proxies=get_environ_proxies(parsed.base_url),
        request_timeout=timeout,
    )


def _check_ca_bundle(path: str, named: str) -> None:
    """A usage error unless ``path`` is a file of PEM certificates TLS can trust (checked before the run, which would
    otherwise stop at its first request with the TLS library's words)."""
    if not os.path.isfile(path):
        raise UsageError(f"{named} {path}: no such file")
    import ssl

    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or type(error).__name__
        raise UsageError(f"{named} {path}: not a PEM CA bundle ({reason})") from None


def _setting(name: str, value: float | None, expected: str, default: float) -> float:
    """A rate or timeout asked for (:func:`positive_number`'s rule, the message naming it), else its default."""
    if value is None:
        return default
    try:
        return positive_number(value, expected)
    except UsageError as error:
        raise UsageError(f"{name}: {error}") from None


def access_token(environ: Mapping[str, str] | None = None) -> str:
    """A bearer token for a live target: ``AZURE_ACCESS_TOKEN``, else ``DefaultAzureCredential`` (one-line errors)."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if token:
        return token
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise UsageError(f"set {TOKEN_ENV}, or install azure-identity to sign in with DefaultAzureCredential") from None
    try:
        return str(DefaultAzureCredential().get_token(ARM_SCOPE).token)
    except Exception as error:  # azure-identity raises its own tree; its first line names what was tried
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise UsageError(f"no Azure credential: set {TOKEN_ENV} or sign in (az login); {first_line}") from None


_SECRET_TAIL = re.compile(r"[?#;\\]|%(?:3f|23|3b|5c)", re.IGNORECASE)
"""Where a part that may hold a secret starts: a query, fragment, path parameter or backslash, plain or encoded."""


def shown_target(text: str) -> str:
    """A target as messages show it: user info, a ``%`` in the host (a zone, an encoded ``@``) and everything from a
    query, fragment, path parameter or backslash on masked (they may hold secrets)."""
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", text)
    prefix = scheme.group() if scheme is not None else ""
    rest, tail = text[len(prefix) :], ""
    cut = _SECRET_TAIL.search(rest)
    if cut is not None:
        rest, tail = rest[: cut.start()], rest[cut.start() : cut.end()] + "***"
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    if "%" in authority:
        authority = authority[: authority.index("%")] + "%***"
    return prefix + authority + slash + path + tail


def masked_target_text(text: str, target: str) -> str:
    """``text`` (an error's message) with the parts of ``target`` that :func:`shown_target` masks masked too."""
    shown = shown_target(target)
    if shown == target:
        return text
    scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", target)
    rest = target[scheme.end() if scheme else 0 :]
    hidden = [target, rest]
    authority, _, path = rest.partition("/")
    hidden += [authority, "/" + path] if path else [authority]
    for part in sorted({unquote(piece) for piece in hidden} | set(hidden), key=len, reverse=True):
        if len(part) > 3 and part not in shown:
            text = _spellings(part).sub("***", text)
    return text


_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


@functools.lru_cache(maxsize=64)
def _spellings(part: str) -> re.Pattern[str]:
    """A pattern for ``part`` in every form an HTTP client may send or print it: a ``%xx`` escape in either case
    (requests and urllib3 send ``%3B`` for a typed ``%3b``) or decoded (``requote_uri`` decodes unreserved
    characters), a character as typed or percent-encoded (its UTF-8 bytes, either case)."""
    pieces: list[str] = []
    position = 0
    while position < len(part):
        escape = _ESCAPE.match(part, position)
        if escape is not None:
            byte = int(escape.group()[1:], 16)
            forms = [f"%(?i:{escape.group()[1:]})"]
            if byte < 0x80:
                forms.append(re.escape(chr(byte)))
            position = escape.end()
        else:
            char = part[position]
            forms = [re.escape(char), "".join(f"%(?i:{byte:02X})" for byte in char.encode("utf-8"))]
            position += 1
        pieces.append(f"(?:{'|'.join(forms)})")
    return re.compile("".join(pieces))
