"""The sanitizer's rules: what must never reach a cassette, each rule with a stable ID.

A :class:`Rule` is a bundle of pure functions over the parts of an HTTP message: header values (by header name),
any text (URLs, header values, every string inside a body), parsed JSON bodies and form bodies. Every function maps
a sanitized value to itself (idempotent): vcrpy runs the hooks again on replay and several times per request.

Default rules (IDs are stable):

=======================  ============================================================================
``credential-headers``   ``Authorization``, ``Proxy-Authorization``, ``Cookie``,
                         ``x-ms-authorization-auxiliary`` and API-key headers -> ``<scheme> REDACTED``
``set-cookie``           ``Set-Cookie`` values -> ``<name>=REDACTED`` (attributes kept)
``credential-like-headers`` any other header whose name has a credential's word (``x-ms-encryption-key``,
                         ``X-Auth-Token``, ``x-ms-token-aad-access-token``) -> ``<scheme> REDACTED``
``run-as-password``      everything under the run-as password, whatever its shape -> ``REDACTED``
``protected-parameters`` everything under the protected parameters but a parameter's ``name``
``sas-signature``        SAS ``sig`` and the signed-identity fields (``skoid``, ``sktid``, ``skt``, ``ske``,
                         ``sks``, ``skv``, ``saoid``, ``suoid``, ``scid``) in any URL, body or header
``oauth-token-exchange`` ``client_secret``, ``client_assertion``, ``refresh_token``, ``access_token``,
                         ``id_token`` in form and JSON bodies (in JSON in camel case too, and ``password``);
                         ``password`` and ``code`` in form bodies; all of them in any URL query or fragment
                         (a ``Location`` header, a redirect)
``subscription-id``      ``/subscriptions/<guid>`` and ``subscriptionId`` values -> the zero GUID; an id once
                         seen in a path is also replaced where it appears bare later
``lro-signed-query``     the signed ``c``, ``s`` and ``h`` query fields of ARM operation-status URLs
``url-credentials``      the user information of any URL (``scheme://user:password@host`` ->
                         ``scheme://REDACTED@host``), plain or percent-encoded
=======================  ============================================================================

The two secret-field rules are derived from the contract: one per property marked ``x-ms-secret``
(:func:`pytest_runcommand.contract.facts.secret_properties`), its id the property name in kebab case; they apply to
JSON bodies, to form fields and to URL query fields whose key names the property in any notation
(``properties[<name>]``, ``properties.<name>``).

Secrets a script prints (the policy for the whole run-command family). The contract marks no part of the action run
command (``RunCommandInput``: ``commandId``, ``script`` lines, ``parameters``) secret, and Azure's own recordings keep
them; but a script may print a value it was given, and Azure hands that text back in the places the contract marks
``x-runcommand-script-output`` (:func:`~pytest_runcommand.contract.facts.script_output_properties`: the action's
result entries, a run command's instance-view ``output`` and ``error``). So:

* every value a rule removes because it *is* a secret - a value under a secret property (the run-as password, a
  protected parameter's value), a credential header's token, a SAS ``sig``, an OAuth token in a JSON body or URL -
  is remembered by the sanitizer (one memory per cassette, :meth:`Sanitizer.fresh`) and replaced by ``REDACTED``
  wherever it appears later, in any case, inside any text: script output and error text, the action's ``script``
  lines and ``parameters`` values, URLs, headers. The cassette is sanitized once more from its first interaction
  when it is saved, so a value learned late is scrubbed early too. Values shorter than :data:`MIN_LEARNED_LENGTH`
  characters are redacted where they stand but not searched for in free text (they would match everywhere), and so
  is a value that is a word of the protocol or inside one (:func:`~pytest_runcommand.cassettes.learned.protocol_words`:
  a value the contract enumerates, such as ``Succeeded``, a literal segment of its paths, an api-version; or a segment
  of the path of a request the cassette holds, such as the VM's name): scrubbing it would rewrite the answers
  (a status no client knows as final, ids and URLs naming ``REDACTED``). The sanitizer notes it, naming the rule and
  the property, never the value (:meth:`~pytest_runcommand.cassettes.sanitize.Sanitizer.take_notes`; under
  pytest, a ``RunCommandWarning`` starting ``pytest-runcommand: cassette <file>:`` when the test ends);
* the action's named ``parameters`` (and its ``script`` lines) are kept, like a managed run command's
  ``parameters``: the contract calls them public (the protected parameters are the secret channel, which the
  action does not have), tests assert on them, and replay matches requests by them. A value you know to be secret but pass
  in clear declares itself with :func:`known_values_rule` (``default_sanitizer().with_rules(known_values_rule(
  "my-secrets", token))``), which scrubs it everywhere, the request included;
* what is not caught: a secret the recording never saw in a secret place and nobody declared, or one a script
  printed transformed (base64, reversed). The secret scan still flags printed tokens of known shapes (JWT, bearer,
  SAS) in script output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pytest_runcommand.cassettes.learned import (
    CREDENTIAL_HEADERS,
    REDACTED,
    USERINFO_PATTERN,
    canonical_secret_name,
    credential_like_header,
    credential_token,
    escape_pointer,
    field_values,
    form_secret_fields,
    query_secret_fields,
    query_values,
    sas_values,
    secret_leaves,
    secret_values,
    userinfo_values,
)
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID, is_secret_pointer, secret_properties

__all__ = [
    "DEFAULT_RULES",
    "JSON_SECRET_FIELDS",
    "MIN_LEARNED_LENGTH",
    "QUERY_SECRET_FIELDS",
    "REDACTED",
    "TOKEN_FIELDS",
    "Rule",
    "canonical_secret_name",
    "default_rules",
    "form_field_rule",
    "header_rule",
    "json_field_rule",
    "known_values_rule",
    "secret_field_rules",
    "secret_leaves",
    "secret_property_of",
]


JsonFn = Callable[[Any], Any]
FormFn = Callable[[list[tuple[str, str]]], list[tuple[str, str]]]
TextFn = Callable[[str], str]
HeaderFn = Callable[[str], str]

TOKEN_FIELDS = ("client_secret", "client_assertion", "refresh_token", "access_token", "id_token")
"""OAuth fields that are secrets in form bodies, JSON bodies and URL queries."""
QUERY_SECRET_FIELDS = (*TOKEN_FIELDS, "password", "code")
"""Fields redacted in a form body or in any URL query or fragment."""
JSON_SECRET_FIELDS = (
    *TOKEN_FIELDS,
    "clientSecret",
    "clientAssertion",
    "refreshToken",
    "accessToken",
    "idToken",
    "password",
)
"""Properties redacted in any JSON body, any case: the OAuth tokens in snake case and camel case (MSAL's cache and
many token endpoints answer ``accessToken``), and a plain ``password``."""


@dataclass(frozen=True)
class Rule:
    """One sanitizing rule. Every function is pure and idempotent (``learn`` only reports what it sees)."""

    id: str
    description: str
    headers: Mapping[str, HeaderFn] = field(default_factory=dict)
    """Lower-case header name -> new value from the old one."""
    headers_named: tuple[Callable[[str], bool], HeaderFn] | None = None
    """Headers whose name the predicate picks (lower-case name) -> new value from the old one; the values are
    learned as a credential header's are."""
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
    learn_json: Callable[[Any], Iterable[str]] | None = None
    """Values to remember from a parsed JSON body before the rules run (the secrets the rule removes)."""
    learn_headers: Mapping[str, Callable[[str], Iterable[str]]] = field(default_factory=dict)
    """Lower-case header name -> values to remember from the header's value (a credential's token)."""
    learn_form: Callable[[list[tuple[str, str]]], Iterable[str]] | None = None
    """Values to remember from the fields of a form body before the rules run."""


MIN_LEARNED_LENGTH = 6
"""Learned secret values shorter than this are redacted where they stand but not searched for in free text."""


# -- builders -------------------------------------------------------------------------------------------


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


def header_rule(
    rule_id: str,
    *names: str,
    description: str = "",
    value: HeaderFn = _redact_credential,
    learn: Callable[[str], Iterable[str]] | None = None,
) -> Rule:
    """A rule replacing the values of the named headers (any case) with ``value(old)``; ``learn`` names the secret
    values of a header to scrub wherever they appear later."""
    return Rule(
        rule_id,
        description or f"redact headers {', '.join(names)}",
        headers={n.lower(): value for n in names},
        learn_headers={n.lower(): learn for n in names} if learn is not None else {},
    )


def known_values_rule(rule_id: str, *values: str, description: str = "") -> Rule:
    """A rule replacing values you know to be secret (a token a script is given in clear) wherever they appear, in
    any case: URLs, headers, every string of a body. An empty value is a :class:`ValueError`."""
    if not values or any(not isinstance(v, str) or not v for v in values):
        raise ValueError(f"known_values_rule {rule_id!r} needs non-empty string values")
    pattern = re.compile("|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True)), re.IGNORECASE)
    return Rule(
        rule_id,
        description or f"{len(set(values))} known secret value(s), wherever they appear",
        text=lambda text: pattern.sub(REDACTED, text),
    )


def _redact_any(value: Any) -> Any:
    """Every non-empty leaf of ``value`` (any shape) replaced; keys and empty values kept."""
    if isinstance(value, dict):
        return {k: _redact_any(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_any(v) for v in value]
    if value is None or value == "":
        return value
    return REDACTED


def _map_json_keys(document: Any, keys: frozenset[str], fn: Callable[[Any], Any]) -> Any:
    if isinstance(document, dict):
        return {
            k: fn(v) if isinstance(k, str) and k.lower() in keys else _map_json_keys(v, keys, fn)
            for k, v in document.items()
        }
    if isinstance(document, list):
        return [_map_json_keys(item, keys, fn) for item in document]
    return document


def json_field_rule(rule_id: str, *names: str, description: str = "") -> Rule:
    """A rule replacing everything under JSON properties named ``names`` (any case, any depth, any shape)."""
    keys = frozenset(n.lower() for n in names)
    return Rule(
        rule_id,
        description or f"redact JSON properties {', '.join(names)}",
        json=lambda document: _map_json_keys(document, keys, _redact_any),
    )


def form_field_rule(rule_id: str, *names: str, description: str = "") -> Rule:
    """A rule replacing the values of form fields (and JSON properties) named ``names``."""
    keys = frozenset(n.lower() for n in names)

    def form(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, REDACTED if k.lower() in keys and v else v) for k, v in fields]

    return Rule(
        rule_id,
        description or f"redact form fields {', '.join(names)}",
        json=lambda document: _map_json_keys(document, keys, _redact_any),
        form=form,
    )


# -- secret properties of the contract ------------------------------------------------------------------


def _redact_secret(value: Any, pointer: str) -> Any:
    if isinstance(value, dict):
        return {k: _redact_secret(v, f"{pointer}/{escape_pointer(k)}") for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_secret(v, f"{pointer}/{i}") for i, v in enumerate(value)]
    if value is None or value == "" or not is_secret_pointer(pointer):
        return value
    return REDACTED


def _secret_property_json(name: str) -> JsonFn:
    def redact(document: Any) -> Any:
        if isinstance(document, dict):
            return {
                k: _redact_secret(v, f"/{name}") if canonical_secret_name(k) == name else redact(v)
                for k, v in document.items()
            }
        if isinstance(document, list):
            return [redact(item) for item in document]
        return document

    return redact


def _secret_property_form(name: str) -> FormFn:
    def redact(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        secret = set(form_secret_fields(name, fields))
        return [(k, REDACTED if i in secret else v) for i, (k, v) in enumerate(fields)]

    return redact


def _secret_property_form_values(name: str) -> Callable[[list[tuple[str, str]]], Iterator[str]]:
    def values(fields: list[tuple[str, str]]) -> Iterator[str]:
        return (fields[i][1] for i in form_secret_fields(name, fields))

    return values


def _secret_property_query(name: str) -> TextFn:
    def redact(text: str) -> str:
        if "=" not in text and "%3d" not in text.lower():
            return text
        pieces: list[str] = []
        last = 0
        for match in query_secret_fields(name, text):
            if match.group(2) != REDACTED:
                pieces += [text[last : match.start(2)], REDACTED]
                last = match.end(2)
        return "".join([*pieces, text[last:]]) if pieces else text

    return redact


def _secret_property_query_values(name: str) -> Callable[[str], Iterator[str]]:
    def values(text: str) -> Iterator[str]:
        for match in query_secret_fields(name, text):
            if match.group(2) != REDACTED:
                yield match.group(2)
                yield unquote(match.group(2))

    return values


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


def secret_property_of(rule_id: str) -> str | None:
    """The secret property of the contract a rule of :func:`secret_field_rules` is named after, or None."""
    return next((name for name in sorted(secret_properties()) if _kebab(name) == rule_id), None)


def secret_field_rules() -> tuple[Rule, ...]:
    """One rule per secret property of the contract: everything under it, any shape, any case of its name."""
    return tuple(
        Rule(
            _kebab(name),
            f"everything under {name}, whatever its shape (a form field or a URL query field naming it too)",
            json=_secret_property_json(name),
            form=_secret_property_form(name),
            text=_secret_property_query(name),
            learn=_secret_property_query_values(name),
            learn_json=secret_values(name),
            learn_form=_secret_property_form_values(name),
        )
        for name in sorted(secret_properties(), reverse=True)
    )


# -- text rules -----------------------------------------------------------------------------------------

_SAS_FIELDS = "sig|skoid|sktid|skt|ske|sks|skv|saoid|suoid|scid"
# separators and "=" plain or percent-encoded once or more (``%26``, ``%2526``), in any mix (``&sig%3D`` too), in a
# query or a fragment, or at the start of a text (a header value holding a SAS query without its ``?``: review 14)
_SAS_PLAIN = re.compile(
    rf"((?:^|[?&#;]|&amp;|%(?:25)*3F|%(?:25)*26|%(?:25)*23)(?:{_SAS_FIELDS})=)([^&#\s\"'<>]+)", re.I
)
_SAS_ENCODED = re.compile(
    rf"((?:^|[?&#;]|&amp;|%(?:25)*3F|%(?:25)*26|%(?:25)*23)(?:{_SAS_FIELDS})%(?:25)*3D)((?:(?!%(?:25)*26)[^&#\s\"'<>])+)",
    re.IGNORECASE,
)


def _redact_values(text: str, plain: re.Pattern[str], encoded: re.Pattern[str]) -> str:
    """Replace the values of the fields ``plain`` (``name=``) and ``encoded`` (``name%3D``) find in ``text``."""
    if "=" in text:
        text = plain.sub(rf"\g<1>{REDACTED}", text)
    if "%" in text:
        text = encoded.sub(rf"\g<1>{REDACTED}", text)
    return text


def _sas(text: str) -> str:
    return _redact_values(text, _SAS_PLAIN, _SAS_ENCODED)


_QUERY_NAMES = "|".join(QUERY_SECRET_FIELDS)
_QUERY_PLAIN = re.compile(rf"((?:[?&#;]|&amp;)(?:{_QUERY_NAMES})=)([^&#\s\"'<>]+)", re.IGNORECASE)
_QUERY_ENCODED = re.compile(rf"((?:%3F|%26|%23)(?:{_QUERY_NAMES})%3D)((?:(?!%26)[^&#\s\"'<>])+)", re.IGNORECASE)


def _query_tokens(text: str) -> str:
    return _redact_values(text, _QUERY_PLAIN, _QUERY_ENCODED)


def _userinfo(text: str) -> str:
    if "@" not in text and "%40" not in text.upper():
        return text
    return USERINFO_PATTERN.sub(_redacted_userinfo, text)


def _redacted_userinfo(match: re.Match[str]) -> str:
    group = 1 if match.group(1) is not None else 2
    start, end = match.span(group)
    whole = match.group(0)
    offset = match.start()
    return whole[: start - offset] + REDACTED + whole[end - offset :]


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


def default_rules() -> tuple[Rule, ...]:
    """The rules for this API, in the order they run."""
    return (
        header_rule(
            "credential-headers",
            *CREDENTIAL_HEADERS,
            description="credential headers keep their scheme, lose their value",
            learn=credential_token,
        ),
        header_rule("set-cookie", "Set-Cookie", description="Set-Cookie keeps the cookie name", value=_redact_cookie),
        *secret_field_rules(),
        Rule(
            "sas-signature",
            "SAS signatures and signed-identity fields in URLs, bodies and headers",
            text=_sas,
            learn=sas_values,
        ),
        Rule(
            "oauth-token-exchange",
            "secrets of the OAuth token exchange, in form and JSON bodies and in any URL query or fragment",
            json=form_field_rule("_", *JSON_SECRET_FIELDS).json,
            form=form_field_rule("_", *QUERY_SECRET_FIELDS).form,
            text=_query_tokens,
            learn=query_values(_QUERY_PLAIN),
            learn_json=field_values(frozenset(name.lower() for name in JSON_SECRET_FIELDS)),
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
        Rule(
            "url-credentials",
            "the user information of any URL (scheme://user:password@host), plain or percent-encoded",
            text=_userinfo,
            learn=userinfo_values,
        ),
        Rule(
            "credential-like-headers",
            "any other header whose name says it holds a credential (a word of it is key, token, secret, password,"
            " signature, auth...) -> <scheme> REDACTED",
            headers_named=(credential_like_header, _redact_credential),
        ),
    )


DEFAULT_RULES: tuple[Rule, ...] = default_rules()
