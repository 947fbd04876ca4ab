"""Where the sanitizer finds the secret values it remembers: a contract secret property's leaves, a credential
header's token, a SAS signature, an OAuth token field. Each function reports values and changes nothing; the
:class:`~pytest_runcommand.cassettes.sanitize.Sanitizer` then scrubs them wherever they appear later (script output
included; see the policy in :mod:`pytest_runcommand.cassettes.rules`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any
from urllib.parse import unquote

from pytest_runcommand.contract.facts import API_VERSIONS, is_secret_pointer, secret_properties

__all__ = [
    "CREDENTIAL_HEADERS",
    "FORM_KEY_NAME",
    "REDACTED",
    "UNREDACTED_USERINFO_PATTERN",
    "USERINFO_PATTERN",
    "canonical_secret_name",
    "credential_header",
    "credential_like_header",
    "credential_token",
    "escape_pointer",
    "field_values",
    "form_secret_fields",
    "path_segments",
    "protocol_words",
    "query_secret_fields",
    "sas_values",
    "secret_leaves",
    "secret_values",
    "userinfo_values",
]

REDACTED = "REDACTED"


@cache
def protocol_words() -> frozenset[str]:
    """The protocol's own words, in lower case, read from the contract documents of every api-version: each value
    they enumerate (``enum`` and ``x-ms-enum`` values: an operation's ``status``, an ``executionState``, a
    ``scriptShell``), each literal segment of their paths (``virtualMachines``, ``runCommands``) and the
    api-versions themselves. A secret equal to one of them, or inside one, is redacted where it stands but not
    scrubbed from other text: that would rewrite the protocol (a ``Succeeded`` no client knows as final)."""
    from pytest_runcommand.contract.versioned import version_document

    words: set[str] = {version.lower() for version in API_VERSIONS}
    for api_version in API_VERSIONS:
        document = version_document(api_version)
        for template in document.get("paths") or {}:
            words.update(part.lower() for part in str(template).split("/") if part and "{" not in part)
        stack: list[Any] = [document]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                enum = item.get("enum")
                if isinstance(enum, list):
                    words.update(str(v).lower() for v in enum if _is_text(v))
                extension = item.get("x-ms-enum")
                if isinstance(extension, dict) and isinstance(extension.get("values"), list):
                    words.update(
                        str(v["value"]).lower()
                        for v in extension["values"]
                        if isinstance(v, dict) and _is_text(v.get("value"))
                    )
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    words.discard("")
    return frozenset(words)


def path_segments(url: str) -> set[str]:
    """The segments of a URL's path, percent-decoded, in lower case (a resource's name, its type's segment)."""
    start = url.find("://")
    path = url[start + 3 :] if start >= 0 else url
    if start >= 0:
        slash = path.find("/")
        path = path[slash:] if slash >= 0 else ""
    for stop in ("?", "#"):
        path = path.partition(stop)[0]
    return {unquote(part).lower() for part in path.split("/") if part}


def canonical_secret_name(key: object) -> str | None:
    """The contract's spelling of a secret property named ``key`` in any case, or None."""
    if not isinstance(key, str):
        return None
    lowered = key.lower()
    return next((name for name in secret_properties() if name.lower() == lowered), None)


def escape_pointer(key: object) -> str:
    """``key`` as one JSON-pointer segment."""
    return str(key).replace("~", "~0").replace("/", "~1")


def secret_leaves(value: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """(pointer, leaf) of every non-empty leaf under ``pointer`` that the contract calls secret."""
    stack = [(pointer, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{where}/{escape_pointer(k)}", v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}/{i}", v) for i, v in enumerate(item))
        elif item is not None and item != "" and is_secret_pointer(where):
            yield where, item


def _is_text(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _walk(document: Any, hit: Callable[[str, Any], Iterator[str] | None]) -> Iterator[str]:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                found = hit(key, child) if isinstance(key, str) else None
                if found is None:
                    stack.append(child)
                else:
                    yield from found
        elif isinstance(item, list):
            stack.extend(item)


def secret_values(name: str) -> Callable[[Any], Iterator[str]]:
    """The texts of the secret leaves under every property ``name`` (any case) of a JSON document."""

    def hit(key: str, child: Any) -> Iterator[str] | None:
        if canonical_secret_name(key) != name:
            return None
        return (str(v) for _, v in secret_leaves(child, f"/{name}") if _is_text(v))

    return lambda document: _walk(document, hit)


def field_values(keys: frozenset[str]) -> Callable[[Any], Iterator[str]]:
    """The string values of the properties named ``keys`` (lower case) in a JSON document."""

    def hit(key: str, child: Any) -> Iterator[str] | None:
        if key.lower() not in keys:
            return None
        return iter([child] if isinstance(child, str) and child else [])

    return lambda document: _walk(document, hit)


def credential_token(value: str) -> Iterator[str]:
    """The token of a credential header (``Bearer <token>``, or a bare key)."""
    scheme, _, rest = value.strip().partition(" ")
    token = rest.strip() if rest and scheme.isalpha() else value.strip()
    if token and token != REDACTED:
        yield token


_CREDENTIAL_WORDS = frozenset(
    {"token", "secret", "password", "passwd", "pwd", "apikey", "credential", "credentials", "signature", "key"}
    | {"auth", "authorization"}
)


def credential_like_header(name: str) -> bool:
    """Whether a header's name says it carries a credential (``x-ms-encryption-key``, ``X-Auth-Token``,
    ``x-ms-token-aad-access-token``, ``x-ms-password``): a word of it, split at ``-`` and ``_``, names one."""
    return not _CREDENTIAL_WORDS.isdisjoint(re.split(r"[-_]", name.lower()))


CREDENTIAL_HEADERS = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "x-ms-authorization-auxiliary",
    "Ocp-Apim-Subscription-Key",
    "x-api-key",
    "api-key",
    "x-functions-key",
)
"""Headers that carry a credential by their name alone (the ``credential-headers`` rule's)."""

_NAMED_CREDENTIALS = frozenset(name.lower() for name in (*CREDENTIAL_HEADERS, "Set-Cookie"))


def credential_header(name: str) -> bool:
    """Whether a header carries a credential: one of :data:`CREDENTIAL_HEADERS`, ``Set-Cookie``, or a name with a
    credential's word (:func:`credential_like_header`). The one test for "never keep or show this header's value"."""
    return name.lower() in _NAMED_CREDENTIALS or credential_like_header(name)


_SIG = re.compile(
    r"(?:[?&]|&amp;|%(?:25)*3F|%(?:25)*26)sig=([^&#\s\"'<>]+)"
    r"|(?:[?&]|&amp;|%(?:25)*3F|%(?:25)*26)sig%(?:25)*3D((?:(?!%(?:25)*26)[^&#\s\"'<>])+)",
    re.IGNORECASE,
)


def sas_values(text: str) -> Iterator[str]:
    """SAS signatures in a text, as written and percent-decoded (a script prints the decoded one)."""
    if "sig" not in text.lower():
        return
    for match in _SIG.finditer(text):
        value = match.group(1) or match.group(2)
        if value and value != REDACTED:
            yield value
            yield from {unquote(value), unquote(unquote(value))} - {value}


def query_values(pattern: re.Pattern[str]) -> Callable[[str], Iterator[str]]:
    """The values ``pattern`` (group 2) finds in a text, as written and percent-decoded."""

    def values(text: str) -> Iterator[str]:
        if "=" in text:
            for match in pattern.finditer(text):
                if match.group(2) != REDACTED:
                    yield match.group(2)
                    yield unquote(match.group(2))

    return values


_FORM_KEY_PARTS = re.compile(r"[^\[\].]+")
FORM_KEY_NAME = re.compile(r"[\w-]+(?:\.[\w-]+|\[[\w-]*\])*")
"""A form field's key that is a field name in a usual notation (``name``, ``properties.name``,
``properties[list][0][value]``), not a document of its own."""


def form_secret_fields(name: str, fields: list[tuple[str, str]]) -> Iterator[int]:
    """The indexes of the form fields holding a secret under the secret property ``name``: a key that names it in any
    notation (``<name>``, ``properties.<name>``, ``properties[<name>][0][value]``), but a protected parameter's
    ``name``."""
    lowered = name.lower()
    for index, (key, value) in enumerate(fields):
        if not value or lowered not in key.lower():
            continue
        parts = [part.lower() for part in _FORM_KEY_PARTS.findall(key)]
        after = parts[next((i for i, p in enumerate(parts) if lowered in p), len(parts)) + 1 :]
        if is_secret_pointer("/" + "/".join([name, *after])):
            yield index


_QUERY_FIELD = re.compile(r"(?:[?&#;]|&amp;)([^=&#;\s\"'<>]+)=([^&#\s\"'<>]*)")
_QUERY_FIELD_ENCODED = re.compile(
    r"(?:%3F|%26|%23|%3B)((?:(?!%3D|%26)[^=&#\s\"'<>])+)%3D((?:(?!%26)[^&#\s\"'<>])*)", re.I
)


def query_secret_fields(name: str, text: str) -> Iterator[re.Match[str]]:
    """The fields of the URL queries (and fragments) in ``text`` that hold a secret under the secret property
    ``name``, as :func:`form_secret_fields` reads a form's keys (``<name>=``, ``properties[<name>]=``,
    ``<name>[0][value]=``; a field percent-encoded inside another URL too). Group 2 is the value."""
    lowered = name.lower()
    if lowered not in text.lower():
        return
    for pattern in (_QUERY_FIELD, _QUERY_FIELD_ENCODED):
        for match in pattern.finditer(text):
            key = unquote(match.group(1))
            if (
                match.group(2)
                and lowered in key.lower()
                and next(form_secret_fields(name, [(key, "x")]), None) is not None
            ):
                yield match


def _userinfo_pattern(skip: str = "") -> re.Pattern[str]:
    """The user information of a URL (``scheme://user:password@host``), plain or percent-encoded (in a query);
    ``skip``: a look-ahead for what is not a finding."""
    plain = rf"(?<![\w+.-])[a-z][a-z0-9+.-]*://{skip}([^/?#@\s\"'<>\\]+)@"
    encoded = rf"%3A%2F%2F{skip}((?:(?!%2F|%3F|%23|%40)[^/?#@&\s\"'<>\\])+)%40"
    return re.compile(f"{plain}|{encoded}", re.IGNORECASE)


USERINFO_PATTERN = _userinfo_pattern()
UNREDACTED_USERINFO_PATTERN = _userinfo_pattern(rf"(?!{REDACTED}\b)")


def userinfo_values(text: str) -> Iterator[str]:
    """The user information of every URL in a text, and its password, as written and percent-decoded."""
    if "@" not in text and "%40" not in text.upper():
        return
    for match in USERINFO_PATTERN.finditer(text):
        userinfo = match.group(1) or match.group(2)
        if userinfo == REDACTED:
            continue
        for value in (userinfo, userinfo.partition(":")[2], userinfo.partition("%3A")[2]):
            if value:
                yield value
                yield unquote(value)
