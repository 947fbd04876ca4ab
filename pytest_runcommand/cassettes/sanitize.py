"""The sanitizer: an ordered, immutable set of rules applied to URLs, headers, bodies and whole messages.

``default_sanitizer()`` holds this API's rules (see :mod:`pytest_runcommand.cassettes.rules` for their IDs); users
add or drop rules one by one::

    sanitizer = default_sanitizer().without("set-cookie").with_rules(json_field_rule("admin-password", "adminPassword"))

A sanitizer remembers the secret values its rules remove (a secret property's value, a credential header's token, a
SAS signature, an OAuth token) and scrubs them wherever they appear later - in text a script printed too; the
recorder gives each cassette a fresh memory (:meth:`Sanitizer.fresh`). A value that is a word of the protocol, or
inside one, is not remembered (see :mod:`pytest_runcommand.cassettes.rules`): the contract's enumerated values and
path words, and the segments of the request paths it sanitizes (:meth:`Sanitizer.url`).

Bodies are sanitized decoded: a byte-order mark, a charset or a content coding never hides a secret from a rule.
:meth:`Sanitizer.message` sanitizes a whole message (headers of any value type, a compressed or non-UTF-8 body) and
raises :class:`~pytest_runcommand.cassettes.decode.Undecodable` for what it cannot sanitize with certainty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from pytest_runcommand.cassettes.decode import (
    NOT_JSON,
    Undecodable,
    as_text,
    decode,
    decode_body,
    decompress,
    looks_like_form,
    looks_like_json,
    parse_json,
    wide_texts,
    with_utf8_charset,
)
from pytest_runcommand.cassettes.learned import FORM_KEY_NAME, credential_token, path_segments, protocol_words
from pytest_runcommand.cassettes.rules import (
    DEFAULT_RULES,
    MIN_LEARNED_LENGTH,
    REDACTED,
    TOKEN_FIELDS,
    HeaderFn,
    Rule,
    form_field_rule,
    header_rule,
    json_field_rule,
    known_values_rule,
)
from pytest_runcommand.contract.facts import secret_properties
from pytest_runcommand.errors import UsageError
from pytest_runcommand.interactions import Interaction

__all__ = [
    "DEFAULT_RULES",
    "REDACTED",
    "Rule",
    "Sanitizer",
    "default_sanitizer",
    "form_field_rule",
    "header_rule",
    "json_field_rule",
    "known_values_rule",
]


def secret_names_in(text: str) -> list[str]:
    """The secret property and OAuth token field names ``text`` holds, in any case."""
    lowered = text.lower()
    return [name for name in (*sorted(secret_properties()), *TOKEN_FIELDS) if name.lower() in lowered]


_MAX_PATH_WORDS = 4096
"""Path segments a sanitizer keeps as words of the protocol (one per resource name seen): bounded, as a log or a long
recording may name any number of resources."""


class Sanitizer:
    """An ordered, immutable set of rules applied to URLs, headers, bodies and whole interactions."""

    __slots__ = (
        "_form",
        "_form_learn",
        "_header_learn",
        "_headers",
        "_headers_named",
        "_json",
        "_json_learn",
        "_learn",
        "_learned",
        "_learned_pattern",
        "_named_cache",
        "_notes",
        "_origins",
        "_path_words",
        "_refused",
        "_text",
        "rules",
    )

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
        self._form_learn = tuple((r.learn_form, r.replacement, r.id) for r in self.rules if r.learn_form is not None)
        self._learn = tuple((r.learn, r.replacement, r.id) for r in self.rules if r.learn is not None)
        self._json_learn = tuple((r.learn_json, r.replacement, r.id) for r in self.rules if r.learn_json is not None)
        header_learn: dict[str, list[tuple[Callable[[str], Iterable[str]], str, str]]] = {}
        for rule in self.rules:
            for name, learn in rule.learn_headers.items():
                header_learn.setdefault(name.lower(), []).append((learn, rule.replacement, rule.id))
        self._header_learn = header_learn
        self._headers_named = tuple((r.headers_named, r.id) for r in self.rules if r.headers_named is not None)
        self._named_cache: dict[str, tuple[tuple[HeaderFn, str], ...]] = {}
        self._learned: dict[str, str] = {}
        self._learned_pattern: re.Pattern[str] | None = None
        self._origins: dict[str, str] = {}
        self._path_words: set[str] = set()
        self._refused: set[str] = set()
        self._notes: dict[str, bool] = {}
        """Each note -> whether :meth:`take_notes` handed it out already."""

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

    def fresh(self) -> Sanitizer:
        """The same rules with an empty memory of learned values (one per cassette keeps replay deterministic)."""
        return Sanitizer(self.rules)

    # -- parts ------------------------------------------------------------------------------------------

    def text(self, value: str) -> str:
        for learn, replacement, origin in self._learn:
            for seen in learn(value):
                self._remember(seen, replacement, origin)
        for fn in self._text:
            value = fn(value)
        if self._learned_pattern is not None:
            lowered = value.lower()  # most texts hold no learned value: a plain search first, the pattern only on a hit
            if any(key in lowered for key in self._learned):
                value = self._learned_pattern.sub(lambda m: self._learned[m.group(0).lower()], value)
        return value

    def note_learned_late(self, answers: list[tuple[int, str]]) -> None:
        """Note each answer (index, its text as recorded) that holds a value learned only after it was recorded: the
        test saw that value in clear while recording, and a replay sees its replacement (the note names the
        interaction and the rule, never the value)."""
        if self._learned_pattern is None:
            return
        for index, text in answers:
            rules = sorted({self._origins.get(m.group(0).lower(), "?") for m in self._learned_pattern.finditer(text)})
            if rules:
                self._notes.setdefault(
                    f"interaction #{index}'s answer holds a value the rule {', '.join(rules)} learned only later in "
                    "the recording: the test saw it in clear while recording, and a replay sees it replaced; send the "
                    "secret before an answer shows it, or do not assert on it",
                    False,
                )

    def holds_learned(self, text: str) -> bool:
        """Whether ``text`` holds a value this sanitizer learned (a secret seen in a secret place)."""
        return self._learned_pattern is not None and self._learned_pattern.search(text) is not None

    @property
    def learned(self) -> int:
        """How many values this sanitizer has learned to replace wherever they appear (never the values)."""
        return len(self._learned)

    def _remember(self, value: str, replacement: str, origin: str) -> None:
        key = value.lower()
        if key in self._learned or key == replacement.lower() or len(value) < MIN_LEARNED_LENGTH:
            return
        if replacement == REDACTED and (key in self._refused or self._protocol_word(key)):
            if key not in self._refused:
                self._refused.add(key)
                self._note(origin)
            return
        if replacement != REDACTED and replacement in self._learned.values():
            self._notes.setdefault(
                f"two or more different values that the rule {origin} replaces with the same text ({replacement}, "
                "e.g. two subscriptions): requests that differ only there are recorded alike, and a replay tells "
                "them apart by their order alone; keep one per cassette",
                False,
            )
        self._learned[key] = replacement
        self._origins[key] = origin
        self._compile()

    def _compile(self) -> None:
        alternatives = "|".join(re.escape(k) for k in sorted(self._learned, key=len, reverse=True))
        self._learned_pattern = re.compile(alternatives, re.IGNORECASE) if alternatives else None

    def _protocol_word(self, key: str) -> bool:
        """Whether ``key`` (lower case) is a word of the protocol or inside one: the contract's words, or a segment
        of a request path this sanitizer has seen."""
        return any(key in word for word in protocol_words()) or any(key in word for word in self._path_words)

    def _note(self, origin: str) -> None:
        # the rule's id, not the property's name: a failure report withholds a line naming a secret property
        what = f"a value the rule {origin} removes"
        self._notes.setdefault(
            f"{what} is also a word of the protocol, or inside one (a value the contract enumerates, such as an "
            "operation's status, or a segment of a request's path, such as the VM's name): it is redacted where it "
            "stands but not scrubbed from other text, where it would rewrite the answers; give the secret a value "
            "of its own",
            False,
        )

    def take_notes(self) -> list[str]:
        """What this sanitizer noted that no call handed out yet (a secret it redacts in place but does not scrub
        from other text, and why); the notes name rules and properties, never a value."""
        notes = [note for note, taken in self._notes.items() if not taken]
        self._notes.update(dict.fromkeys(notes, True))
        return notes

    def url(self, value: str) -> str:
        """A request's URL sanitized (as :meth:`text`); its path's segments become words of the protocol first: a
        secret equal to one, or inside one (a resource's name), is not scrubbed from other text, and one learned
        before is forgotten (the cassette is sanitized again from its start when it is saved)."""
        new = path_segments(value) - self._path_words if "/" in value else set()
        if new and len(self._path_words) < _MAX_PATH_WORDS:
            self._path_words.update(new)
            forgotten = [
                key
                for key, replacement in self._learned.items()
                if replacement == REDACTED and any(key in word for word in new)
            ]
            for key in forgotten:
                del self._learned[key]
                self._refused.add(key)
                self._note(self._origins.pop(key, "?"))
            if forgotten:
                self._compile()
        return self.text(value)

    def header(self, name: str, value: str) -> str:
        lowered = name.lower()
        for learn, replacement, origin in self._header_learn.get(lowered, ()):
            for seen in learn(value):
                self._remember(seen, replacement, origin)
        exact = self._headers.get(lowered, ())
        for fn in exact:
            value = fn(value)
        if not exact:
            for fn, origin in self._named(lowered):
                for seen in credential_token(value):
                    self._remember(seen, REDACTED, origin)
                value = fn(value)
        return self.text(value)

    def _named(self, lowered: str) -> tuple[tuple[HeaderFn, str], ...]:
        """The functions of the rules that pick a header by the shape of its name (a header without a rule of its
        own), remembered by name."""
        found = self._named_cache.get(lowered)
        if found is None:
            found = tuple((fn, origin) for (picks, fn), origin in self._headers_named if picks(lowered))
            if len(self._named_cache) >= 1024:  # bounded: a log or a server may name any number of headers
                self._named_cache.clear()
            self._named_cache[lowered] = found
        return found

    def json(self, document: Any) -> Any:
        for learn, replacement, origin in self._json_learn:
            for seen in learn(document):
                self._remember(seen, replacement, origin)
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
        for learn, replacement, origin in self._form_learn:
            for seen in learn(fields):
                self._remember(seen, replacement, origin)
        for fn in self._form:
            fields = fn(fields)
        return [(k, self.text(v)) for k, v in fields]

    def body(self, body: bytes | str | None, content_type: str | None = None) -> bytes | str | None:
        """The sanitized body: bytes stay bytes, unchanged bodies are returned as is.

        Bytes are decoded first (byte-order mark, ``charset``, else UTF-8); a changed body comes back as UTF-8 without
        a byte-order mark. Raises :class:`Undecodable` for a textual body that does not decode or JSON nested too
        deep; a body of a declared binary type that is not text is returned as is.
        """
        if body is None or not body:
            return body
        if isinstance(body, bytes):
            text = decode_body(body, content_type)
            if text is None:
                binary = self._binary(body)
                return body if binary == body else binary
            new_text = self._body_text(text, content_type)
            return body if new_text is text else new_text.encode("utf-8")
        return self._body_text(body, content_type)

    def _body_text(self, text: str, content_type: str | None) -> str:
        if text.startswith("\ufeff"):  # a byte-order mark that survived decoding: the document starts after it
            stripped = text[1:]
            new = self._body_text(stripped, content_type)
            return text if new is stripped else new
        if looks_like_json(text, content_type):
            document = parse_json(text)
            if document is not NOT_JSON:
                new = self.json(document)
                if new == document:
                    return text
                return dump_json(new)
            named = secret_names_in(text)
            if named:
                raise Undecodable(f"a JSON-like body that does not parse names {', '.join(named)}")
        if looks_like_form(text, content_type):
            fields = parse_qsl(text, keep_blank_values=True)
            # nested documents first, from what was sent: the same text whatever this sanitizer has learned so far
            new_fields = self.form([(self._form_part(k), self._form_part(v)) for k, v in fields])
            if new_fields == fields:
                return text
            return urlencode(new_fields)
        named = secret_names_in(text)
        if named:
            raise Undecodable(f"a body that is neither JSON nor a form names {', '.join(named)}")
        new_text = self.text(text)
        return text if new_text == text else new_text

    def _binary(self, raw: bytes) -> bytes:
        """A body kept as bytes with the values learned so far replaced where it holds them as text: ASCII, or UTF-16
        or UTF-32 without a mark (a script a Windows tool wrote), in the encoding found."""
        pattern = self._learned_pattern
        if pattern is None:
            return raw
        for codec, text in wide_texts(raw):
            for match in pattern.finditer(text):
                found = match.group(0)
                raw = raw.replace(found.encode(codec), self._learned[found.lower()].encode(codec))
        return raw

    def _form_part(self, part: str) -> str:
        """A form field's key or value that names a secret property within more than a name: sanitized as a body of
        its own (a JSON document sent as a field, a whole percent-encoded JSON body read as one key), refused when it
        is neither JSON nor a form. A name alone (``properties[source][script]``, ``grant_type=refresh_token``) is
        kept: the rules redact the value a key names."""
        if part == REDACTED or FORM_KEY_NAME.fullmatch(part) or not secret_names_in(part):
            return part
        return self._body_text(part, None)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.header(name, value) for name, value in headers.items()}

    def header_lists(self, headers: Mapping[Any, Sequence[Any] | Any]) -> dict[str, list[str]]:
        """Headers in vcrpy's response form (name -> list of values); names and values of any type become text."""
        result: dict[str, list[str]] = {}
        for raw_name, values in headers.items():
            name = as_text(raw_name)
            items = list(values) if isinstance(values, list | tuple) else [values]
            result.setdefault(name, []).extend(self.header(name, as_text(v)) for v in items)
        return result

    def message(self, headers: Mapping[Any, Any], body: Any) -> tuple[dict[str, list[str]], Any]:
        """A sanitized (headers, body) pair: the body decoded (content codings undone, a BOM or charset decoded to
        UTF-8), sanitized, and Content-Encoding, Content-Type's charset and Content-Length fixed to match.

        Raises :class:`Undecodable` for what cannot be sanitized with certainty.
        """
        clean = self.header_lists(headers)
        if not isinstance(body, bytes | str) or not body:
            return clean, body
        content_type = _first(clean, "content-type")
        new_body: bytes | str = body
        if isinstance(body, bytes):
            coding = _first(clean, "content-encoding")
            raw = decompress(body, coding, content_type) if coding and coding.strip().lower() != "identity" else body
            _drop(clean, "content-encoding")
            text, plain = decode(raw, content_type)
            if text is None:
                binary = self._binary(raw)
                new_body = raw if binary == raw else binary
            else:
                new_text = self._body_text(text, content_type)
                new_body = body if raw is body and plain and new_text is text else new_text.encode("utf-8")
                if content_type and new_body is not body:
                    _set(clean, "content-type", with_utf8_charset(content_type))
        else:
            new_body = self._body_text(body, content_type)
        if new_body is not body:
            size = len(new_body.encode("utf-8") if isinstance(new_body, str) else new_body)
            for name in clean:
                if name.lower() == "content-length":
                    clean[name] = [str(size)]
        return clean, new_body

    def interaction(self, interaction: Interaction) -> Interaction:
        """A sanitized copy of ``interaction``, each side through :meth:`message` (a parsed JSON body stays parsed).

        Raises :class:`Undecodable` for a side that cannot be sanitized with certainty.
        """
        url = self.url(interaction.url)
        request_headers, request_body = self._side(interaction.request_headers, interaction.request_body)
        response_headers, response_body = self._side(interaction.response_headers, interaction.response_body)
        return replace(
            interaction,
            url=url,
            request_headers=request_headers,
            request_body=request_body,
            response_headers=response_headers,
            response_body=response_body,
        )

    def _side(self, headers: Mapping[str, str], body: Any) -> tuple[dict[str, str], Any]:
        if isinstance(body, Mapping | list):
            return {name: self.header(name, value) for name, value in headers.items()}, self.json(body)
        clean, new_body = self.message(headers, body)
        return {name: ", ".join(values) for name, values in clean.items()}, new_body


def dump_json(document: Any) -> str:
    """A sanitized document as compact JSON text (non-ASCII kept)."""
    import json

    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def _first(headers: Mapping[str, list[str]], name: str) -> str | None:
    return next((values[0] for key, values in headers.items() if key.lower() == name and values), None)


def _drop(headers: dict[str, list[str]], name: str) -> None:
    for key in [k for k in headers if k.lower() == name]:
        del headers[key]


def _set(headers: dict[str, list[str]], name: str, value: str) -> None:
    key = next((k for k in headers if k.lower() == name), name)
    headers[key] = [value]


def default_sanitizer() -> Sanitizer:
    """The rules for this API (see :mod:`pytest_runcommand.cassettes.rules` for their IDs)."""
    return Sanitizer(DEFAULT_RULES)
