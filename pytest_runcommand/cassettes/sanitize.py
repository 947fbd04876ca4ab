"""Sanitizer rules: what must never reach a cassette, each rule with a stable ID.

A :class:`Rule` is a bundle of pure functions over the parts of an HTTP message: header values (by header
name), any text (URLs, header values, every string inside a body), parsed JSON bodies and form bodies.
A :class:`Sanitizer` is an ordered, immutable set of rules; ``default_sanitizer()`` holds the rules for
this API, and users add or drop rules one by one::

    sanitizer = default_sanitizer().without("set-cookie").with_rules(json_field_rule("admin-password", "adminPassword"))

Every rule maps a sanitized value to itself (idempotent): vcrpy runs the hooks again on replay and several
times per request while matching, and the same rules run on outgoing requests before they are matched
against the (sanitized) cassette, so the two always meet.

Default rules (IDs are stable):

=====================  ==============================================================================
``credential-headers``  ``Authorization``, ``Proxy-Authorization``, ``Cookie``,
                        ``x-ms-authorization-auxiliary`` and API-key headers -> ``<scheme> REDACTED``
``set-cookie``          ``Set-Cookie`` values -> ``<name>=REDACTED`` (attributes kept)
``run-as-password``     ``runAsPassword`` in JSON bodies -> ``REDACTED``
``protected-parameters`` every ``value`` inside ``protectedParameters`` -> ``REDACTED``
``sas-signature``       SAS ``sig`` and the signed-identity fields (``skoid``, ``sktid``, ``skt``, ``ske``,
                        ``sks``, ``skv``, ``saoid``, ``suoid``, ``scid``) in any URL, body or header
``oauth-token-exchange`` ``client_secret``, ``client_assertion``, ``refresh_token``, ``access_token``,
                        ``id_token`` in form and JSON bodies; ``password`` and ``code`` in form bodies
``subscription-id``     ``/subscriptions/<guid>`` and ``subscriptionId`` values -> the zero GUID; an id
                        once seen in a path is also replaced where it appears bare later (the only rule
                        with memory; :meth:`Sanitizer.fresh` starts a new one, the vcrpy glue does per cassette)
``lro-signed-query``    the signed ``c``, ``s`` and ``h`` query fields of ARM operation-status URLs
=====================  ==============================================================================
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pytest_runcommand.errors import UsageError
from pytest_runcommand.interactions import Interaction

__all__ = [
    "DEFAULT_RULES",
    "REDACTED",
    "ZERO_SUBSCRIPTION_ID",
    "Rule",
    "Sanitizer",
    "default_sanitizer",
    "form_field_rule",
    "header_rule",
    "json_field_rule",
]

REDACTED = "REDACTED"
ZERO_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"

JsonFn = Callable[[Any], Any]
FormFn = Callable[[list[tuple[str, str]]], list[tuple[str, str]]]
TextFn = Callable[[str], str]
HeaderFn = Callable[[str], str]


@dataclass(frozen=True)
class Rule:
    """One sanitizing rule. Every function is pure and idempotent (``learn`` only reports what it sees)."""

    id: str
    description: str
    headers: Mapping[str, HeaderFn] = field(default_factory=dict)
    """Lower-case header name -> new value from the old one."""
    text: TextFn | None = None
    """Applied to URLs, to every header value and to every string in a body."""
    json: JsonFn | None = None
    """Applied to a parsed JSON body; returns the new document."""
    form: FormFn | None = None
    """Applied to the fields of an ``application/x-www-form-urlencoded`` body."""
    learn: Callable[[str], Iterable[str]] | None = None
    """Values to remember from any text (e.g. subscription ids seen in a path); once seen, a value is
    replaced by ``replacement`` wherever it appears later, bare, in the same sanitizer's traffic."""
    replacement: str = REDACTED


# -- rule builders --------------------------------------------------------------------------------------


def _redact_credential(value: str) -> str:
    scheme, _, rest = value.strip().partition(" ")
    if rest and scheme.isalpha():
        return f"{scheme} {REDACTED}"
    return REDACTED


def _redact_cookie(value: str) -> str:
    first, sep, attributes = value.partition(";")
    name, eq, _ = first.partition("=")
    redacted = f"{name.strip()}={REDACTED}" if eq else REDACTED
    return redacted + sep + attributes


def header_rule(rule_id: str, *names: str, description: str = "", value: HeaderFn = _redact_credential) -> Rule:
    """A rule replacing the values of the named headers (any case) with ``value(old)``."""
    return Rule(rule_id, description or f"redact headers {', '.join(names)}", headers={n.lower(): value for n in names})


def _map_json_keys(document: Any, keys: frozenset[str], fn: Callable[[Any], Any]) -> Any:
    if isinstance(document, dict):
        return {
            k: fn(v) if isinstance(k, str) and k.lower() in keys else _map_json_keys(v, keys, fn)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_map_json_keys(item, keys, fn) for item in document]
    return document


def _redact_scalar(value: Any) -> Any:
    if isinstance(value, str) and value:
        return REDACTED
    if isinstance(value, int | float) and not isinstance(value, bool):
        return REDACTED
    return value


def json_field_rule(rule_id: str, *names: str, description: str = "") -> Rule:
    """A rule replacing the non-empty values of JSON properties named ``names`` (any case, any depth)."""
    keys = frozenset(n.lower() for n in names)
    return Rule(
        rule_id,
        description or f"redact JSON properties {', '.join(names)}",
        json=lambda document: _map_json_keys(document, keys, _redact_scalar),
    )


def form_field_rule(rule_id: str, *names: str, description: str = "") -> Rule:
    """A rule replacing the values of form fields (and JSON properties) named ``names``."""
    keys = frozenset(n.lower() for n in names)

    def form(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, REDACTED if k.lower() in keys and v else v) for k, v in fields]

    return Rule(
        rule_id,
        description or f"redact form fields {', '.join(names)}",
        json=lambda document: _map_json_keys(document, keys, _redact_scalar),
        form=form,
    )


def _protected_parameters(document: Any) -> Any:
    def redact_list(value: Any) -> Any:
        if not isinstance(value, list):
            return _redact_scalar(value)
        return [
            {k: _redact_scalar(v) if k.lower() == "value" else v for k, v in item.items()}
            if isinstance(item, dict)
            else _redact_scalar(item)
            for item in value
        ]

    return _map_json_keys(document, frozenset({"protectedparameters"}), redact_list)


_SAS_FIELDS = "sig|skoid|sktid|skt|ske|sks|skv|saoid|suoid|scid"
_SAS_PLAIN = re.compile(rf"((?:[?&]|&amp;)(?:{_SAS_FIELDS})=)([^&#\s\"'<>]+)", re.IGNORECASE)
_SAS_ENCODED = re.compile(rf"((?:%3F|%26)(?:{_SAS_FIELDS})%3D)((?:(?!%26)[^&#\s\"'<>])+)", re.IGNORECASE)


def _sas(text: str) -> str:
    if "=" in text:
        text = _SAS_PLAIN.sub(rf"\g<1>{REDACTED}", text)
    if "%3" in text or "%3" in text.upper():
        text = _SAS_ENCODED.sub(rf"\g<1>{REDACTED}", text)
    return text


_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SUBSCRIPTION_PATH = re.compile(rf"((?:/|%2F)subscriptions(?:/|%2F))({_GUID})", re.IGNORECASE)
_GUID_ONLY = re.compile(rf"^{_GUID}$")


def _subscription_text(text: str) -> str:
    if "ubscriptions" not in text and "UBSCRIPTIONS" not in text:
        return text
    return _SUBSCRIPTION_PATH.sub(rf"\g<1>{ZERO_SUBSCRIPTION_ID}", text)


def _subscription_learn(text: str) -> Iterator[str]:
    if "ubscriptions" in text or "UBSCRIPTIONS" in text:
        for match in _SUBSCRIPTION_PATH.finditer(text):
            if match.group(2) != ZERO_SUBSCRIPTION_ID:
                yield match.group(2)


def _subscription_json(document: Any) -> Any:
    def zero(value: Any) -> Any:
        return ZERO_SUBSCRIPTION_ID if isinstance(value, str) and _GUID_ONLY.match(value) else value

    return _map_json_keys(document, frozenset({"subscriptionid"}), zero)


_URL = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)
_OPERATION_PATH = re.compile(r"/(?:operations|operationresults|operationstatuses|asyncoperations)/", re.IGNORECASE)
_SIGNED_FIELDS = re.compile(r"([?&](?:c|s|h)=)([^&#\s\"'<>]+)")


def _lro_signed(text: str) -> str:
    if "://" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        url = match.group(0)
        path, _, query = url.partition("?")
        if not query or not _OPERATION_PATH.search(path):
            return url
        return _SIGNED_FIELDS.sub(rf"\g<1>{REDACTED}", url)

    return _URL.sub(one, text)


_TOKEN_FIELDS = ("client_secret", "client_assertion", "refresh_token", "access_token", "id_token")

DEFAULT_RULES: tuple[Rule, ...] = (
    header_rule(
        "credential-headers",
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "x-ms-authorization-auxiliary",
        "Ocp-Apim-Subscription-Key",
        "x-api-key",
        "api-key",
        "x-functions-key",
        description="credential headers keep their scheme, lose their value",
    ),
    header_rule("set-cookie", "Set-Cookie", description="Set-Cookie keeps the cookie name", value=_redact_cookie),
    json_field_rule("run-as-password", "runAsPassword", description="runAsPassword values"),
    Rule("protected-parameters", "the values of protectedParameters", json=_protected_parameters),
    Rule("sas-signature", "SAS signatures and signed-identity fields in URLs, bodies and headers", text=_sas),
    Rule(
        "oauth-token-exchange",
        "secrets of the OAuth token exchange (login.microsoftonline.com), in form and JSON bodies",
        json=form_field_rule("_", *_TOKEN_FIELDS).json,
        form=form_field_rule("_", *_TOKEN_FIELDS, "password", "code").form,
    ),
    Rule(
        "subscription-id",
        "subscription ids, mapped to the zero GUID (also where a learned one appears bare later)",
        text=_subscription_text,
        json=_subscription_json,
        learn=_subscription_learn,
        replacement=ZERO_SUBSCRIPTION_ID,
    ),
    Rule("lro-signed-query", "signed query fields (c, s, h) of operation-status URLs", text=_lro_signed),
)


# -- the sanitizer --------------------------------------------------------------------------------------

_FORM_BODY = re.compile(r"^[\w.~%+\-]+=[^&\s]*(?:&[\w.~%+\-]+=[^&\s]*)*$")


class Sanitizer:
    """An ordered, immutable set of rules applied to URLs, headers, bodies and whole interactions."""

    __slots__ = ("_form", "_headers", "_json", "_learn", "_learned", "_learned_pattern", "_text", "rules")

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise UsageError(f"sanitizer rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        headers: dict[str, list[HeaderFn]] = {}
        for rule in self.rules:
            for name, fn in rule.headers.items():
                headers.setdefault(name.lower(), []).append(fn)
        self._headers = headers
        self._text = tuple(r.text for r in self.rules if r.text is not None)
        self._json = tuple(r.json for r in self.rules if r.json is not None)
        self._form = tuple(r.form for r in self.rules if r.form is not None)
        self._learn = tuple((r.learn, r.replacement) for r in self.rules if r.learn is not None)
        self._learned: dict[str, str] = {}
        self._learned_pattern: re.Pattern[str] | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)

    def without(self, *ids: str) -> Sanitizer:
        """A copy without the rules ``ids``; an unknown id is a :class:`UsageError`."""
        unknown = [i for i in ids if i not in self.ids]
        if unknown:
            raise UsageError(f"unknown sanitizer rule id(s) {', '.join(unknown)}; known: {', '.join(self.ids)}")
        return Sanitizer(r for r in self.rules if r.id not in ids)

    def with_rules(self, *rules: Rule) -> Sanitizer:
        """A copy with ``rules`` appended (their ids must be new)."""
        return Sanitizer((*self.rules, *rules))

    def __repr__(self) -> str:
        return f"Sanitizer({', '.join(self.ids)})"

    # -- parts ------------------------------------------------------------------------------------------

    def fresh(self) -> Sanitizer:
        """The same rules with an empty memory of learned values (one per cassette keeps replay deterministic)."""
        return Sanitizer(self.rules)

    def text(self, value: str) -> str:
        for learn, replacement in self._learn:
            for seen in learn(value):
                self._remember(seen, replacement)
        for fn in self._text:
            value = fn(value)
        if self._learned_pattern is not None:
            value = self._learned_pattern.sub(lambda m: self._learned[m.group(0).lower()], value)
        return value

    def _remember(self, value: str, replacement: str) -> None:
        key = value.lower()
        if key in self._learned or key == replacement.lower():
            return
        self._learned[key] = replacement
        alternatives = "|".join(re.escape(k) for k in sorted(self._learned, key=len, reverse=True))
        self._learned_pattern = re.compile(alternatives, re.IGNORECASE)

    url = text

    def header(self, name: str, value: str) -> str:
        for fn in self._headers.get(name.lower(), ()):
            value = fn(value)
        return self.text(value)

    def json(self, document: Any) -> Any:
        for fn in self._json:
            document = fn(document)
        return self._json_strings(document) if self._text else document

    def _json_strings(self, document: Any) -> Any:
        if isinstance(document, str):
            return self.text(document)
        if isinstance(document, dict):
            return {k: self._json_strings(v) for k, v in document.items()}
        if isinstance(document, list):
            return [self._json_strings(v) for v in document]
        return document

    def form(self, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        for fn in self._form:
            fields = fn(fields)
        return [(k, self.text(v)) for k, v in fields]

    def body(self, body: bytes | str | None, content_type: str | None = None) -> bytes | str | None:
        """The sanitized body, of the same type (bytes stay bytes); unchanged bodies are returned as is."""
        if body is None or not body:
            return body
        if isinstance(body, bytes):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return body  # binary payloads carry no text secrets we can rewrite
            new_text = self._body_text(text, content_type)
            return body if new_text is text else new_text.encode("utf-8")
        return self._body_text(body, content_type)

    def _body_text(self, text: str, content_type: str | None) -> str:
        kind = (content_type or "").lower()
        stripped = text.lstrip()
        if "json" in kind or stripped[:1] in ("{", "["):
            try:
                document = json.loads(text)
            except ValueError:
                document = None
            else:
                new = self.json(document)
                if new == document:
                    return text
                return json.dumps(new, ensure_ascii=False, separators=(",", ":"))
        if "x-www-form-urlencoded" in kind or _FORM_BODY.match(text):
            fields = parse_qsl(text, keep_blank_values=True)
            new_fields = self.form(fields)
            if new_fields == fields:
                return text
            return urlencode(new_fields)
        new_text = self.text(text)
        return text if new_text == text else new_text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.header(name, value) for name, value in headers.items()}

    def header_lists(self, headers: Mapping[str, Sequence[str] | str]) -> dict[str, list[str]]:
        """Headers in vcrpy's response form (name -> list of values)."""
        result: dict[str, list[str]] = {}
        for name, values in headers.items():
            items = [values] if isinstance(values, str) else list(values)
            result[name] = [self.header(name, str(v)) for v in items]
        return result

    def interaction(self, interaction: Interaction) -> Interaction:
        """A sanitized copy of ``interaction`` (bodies keep their type; Content-Length follows the body)."""
        request_body = _sanitize_any_body(self, interaction.request_body, interaction.request_header("content-type"))
        response_body = _sanitize_any_body(self, interaction.response_body, interaction.response_header("content-type"))
        return replace(
            interaction,
            url=self.url(interaction.url),
            request_headers=_fix_length(self.headers(interaction.request_headers), request_body),
            request_body=request_body,
            response_headers=_fix_length(self.headers(interaction.response_headers), response_body),
            response_body=response_body,
        )


def _sanitize_any_body(
    sanitizer: Sanitizer, body: bytes | str | Mapping[str, Any] | list[Any] | None, content_type: str | None
) -> Any:
    if isinstance(body, Mapping | list):
        return sanitizer.json(body)
    return sanitizer.body(body, content_type)


def _fix_length(headers: dict[str, str], body: Any) -> dict[str, str]:
    if isinstance(body, bytes | str):
        length = len(body.encode("utf-8") if isinstance(body, str) else body)
        for name in headers:
            if name.lower() == "content-length":
                headers[name] = str(length)
    return headers


def decompress(body: bytes, encoding: str) -> bytes | None:
    """The decoded body for ``gzip`` / ``deflate``; None when it does not decode."""
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        return None
    return None


def default_sanitizer() -> Sanitizer:
    """The rules for this API (see the module docstring for their IDs)."""
    return Sanitizer(DEFAULT_RULES)
