"""Validate run-command requests and responses: JSON schema (compiled once, jsonschema-rs) plus the prose rules.

``validate_request`` / ``validate_response`` find the operation from the method and the URL, as Azure's live validator
does, check it against the contract of the request's api-version (the ``api-version`` query: a field is unknown
exactly where that version lacks it), and return a list of :class:`Violation` (empty: it conforms).

They never raise on bad input: an unknown operation, a missing or unsupported api-version, a URL that does not parse,
a body that is not JSON (text that does not parse, or Python data JSON cannot carry: a set, an object, a non-string
key, a number past 4,300 digits, nesting past the parser's limit) are violations. A header value given as a list of
strings (a repeated header, as cassettes store them) is read joined with ", ", and bytes as latin-1. Misuse is a
``TypeError`` naming the argument: a method or URL that is not a ``str``, a status that is not an ``int``, headers
that are not a mapping, a header name that is not a ``str`` or a header value of another type.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Literal

import orjson

from pytest_runcommand.contract.compiled import MISSING, compiled, guarded_definitions
from pytest_runcommand.contract.document import Contract, OperationMatch, get_contract, query_api_version, split_url
from pytest_runcommand.contract.facts import API_VERSIONS, LATEST_API_VERSION, versions_with
from pytest_runcommand.contract.rules import REQUEST_RULES, RESPONSE_RULES, RuleContext, long_running_headers
from pytest_runcommand.contract.schema_errors import schema_violations
from pytest_runcommand.contract.violations import TOO_MANY_VIOLATIONS, Violation, mask_text, mask_value, with_unlisted
from pytest_runcommand.interactions import Interaction, header_value

__all__ = [
    "SCHEMA_CODES",
    "guarded_definitions",
    "json_error_reason",
    "request_conforms",
    "validate_interaction",
    "validate_request",
    "validate_response",
]

Body = bytes | bytearray | str | Mapping[str, Any] | list[Any] | None
Side = Literal["request", "response"]

_NOT_JSON_DATA = (ValueError, TypeError, RecursionError, OverflowError)
"""What jsonschema-rs raises on Python data JSON cannot carry (set, object, int keys, 4,300+ digits)."""
JSON_MEDIA_TYPES = ("application/json", "text/json")

SCHEMA_CODES: Mapping[str, str] = {
    "OBJECT_MISSING_REQUIRED_PROPERTY": "a required property is missing",
    "OBJECT_ADDITIONAL_PROPERTIES": "a property the contract does not define",
    "INVALID_TYPE": "a value of the wrong JSON type",
    "ENUM_MISMATCH": "a value outside the documented enum",
    "INVALID_FORMAT": "a value breaking its format (int32 range, date-time)",
    "INVALID_JSON": "a body that is not JSON",
    "MISSING_REQUIRED_PARAMETER": "a required body is missing",
    "INVALID_RESPONSE_BODY": "a success answer without the documented body",
    "INVALID_CONTENT_TYPE": "a body that is not declared as JSON",
    "OPERATION_NOT_FOUND": "no run-command operation has this method and path",
    "MISSING_PATH_PARAMETER": "a path segment the operation needs is empty",
    "MISSING_API_VERSION": "the api-version query parameter is missing",
    "UNKNOWN_API_VERSION": "an api-version the contract does not speak for",
    "INVALID_INTERACTION": "an interaction whose method, URL, status or headers are not of HTTP's types",
    TOO_MANY_VIOLATIONS: "more violations than are listed (past 1,000: the first 100, then this one counting the rest)",
}
"""Codes of schema and request-line checks, with a one-line summary each (prose rules: rules.RULE_CODES)."""


MAX_DEPTH = 1024
"""Nesting a body may have: the JSON parser's own limit, so parsed text and Python data are held to the same."""
_MAX_INT_BITS = 14_000  # about 4,300 decimal digits: past it Python refuses to print the number


_SURROGATE = re.compile("[\ud800-\udfff]")


def _surrogate(text: str) -> str | None:
    """The first surrogate code point in ``text``, named: parsing JSON (UTF-8) never gives one."""
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    return None if found is None else f"the surrogate U+{ord(found.group()):04X}, which is no character"


def _not_json_data(body: Any) -> str | None:
    """Why Python data is not what parsing JSON could give (None when it is): walked without recursion."""
    stack: list[tuple[Any, int]] = [(body, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"an object key is a {type(key).__name__}, not a string"
                if (surrogate := _surrogate(key)) is not None:
                    return f"an object key holds {surrogate}"
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                return f"nested deeper than {MAX_DEPTH} levels"
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
            return "a number of more than 4,300 digits"
        elif isinstance(value, float) and not math.isfinite(value):
            name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            return f"{name} is not a JSON number"  # json.dumps writes it, no JSON parser reads it
        elif isinstance(value, str) and (surrogate := _surrogate(value)) is not None:
            return f"a string holds {surrogate}"
        elif value is not None and not isinstance(value, str | int | float):
            return f"a {type(value).__name__} is not a JSON value"
    return None


def _parse(body: Body, side: Side, operation_id: str | None) -> tuple[Any, list[Violation]]:
    if body is None:
        return None, []
    if not isinstance(body, bytes | str | bytearray | memoryview):
        reason = _not_json_data(body)  # Python data: held to what parsing JSON could give
        if reason is None:
            return body, []
        return None, [Violation("INVALID_JSON", "", f"the body is not JSON data ({reason})", None, side, operation_id)]
    try:
        return orjson.loads(body), []
    except orjson.JSONDecodeError as error:
        if not (body.strip() if isinstance(body, str | bytes) else bytes(body).strip()):
            return None, []  # an empty body is an absent body
        failure = error
        # one UTF-8 byte-order mark is no content (.NET's readers and `validate` skip it)
        unmarked = _without_utf8_mark(body)
        if unmarked is not None and unmarked.strip():
            try:
                return orjson.loads(unmarked), []
            except orjson.JSONDecodeError as after_mark:  # what is wrong after the mark, where in the body
                shift = len(body) - len(unmarked)
                failure = orjson.JSONDecodeError(after_mark.msg, after_mark.doc, after_mark.pos + shift)
        message = f"the body is not JSON ({json_error_reason(body, failure)})"
        return None, [Violation("INVALID_JSON", "", message, None, side, operation_id)]


_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


def json_error_reason(body: bytes | str | bytearray | memoryview, error: orjson.JSONDecodeError) -> str:
    """Why ``body`` is not JSON, from orjson's ``error``: bytes that are not UTF-8 named as such (orjson says
    "surrogates not allowed at position 0" whatever the first bad byte), with that byte and its position."""
    if not isinstance(body, str):
        raw = bytes(body)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            kind = (
                "UTF-16 text (it starts with a UTF-16 byte-order mark)"
                if raw.startswith(_UTF16_MARKS)
                else (f"not UTF-8 text (byte 0x{raw[bad.start]:02x} at position {bad.start})")
            )
            return f"{kind}; JSON bodies are read as UTF-8, whatever charset the Content-Type names"
    return f"{error.msg} at position {error.pos}"


def _without_utf8_mark(body: bytes | str | bytearray | memoryview) -> bytes | str | None:
    """``body`` without its leading UTF-8 byte-order mark, or None when it has none."""
    if isinstance(body, str):
        return body[1:] if body.startswith("\ufeff") else None
    raw = bytes(body)
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else None


def _request_line(
    contract: Contract, method: str, url: str, side: Side
) -> tuple[OperationMatch | None, list[Violation]]:
    """Find the operation; check path parameters and api-version."""
    match = contract.match(method, url)
    if match is None:
        allowed = contract.methods_for(url)
        hint = f" (this path takes {', '.join(allowed)})" if allowed else _other_versions_hint(contract, method, url)
        return None, [
            Violation(
                "OPERATION_NOT_FOUND",
                "",
                f"no run-command operation for {method.upper()[:20]} {_shown_url(url)}{hint}",
                None,
                side,
                None,
            )
        ]
    found: list[Violation] = []
    op_id = match.operation_id
    for name, value in match.path_params.items():
        if not value:
            found.append(
                Violation(
                    "MISSING_PATH_PARAMETER", f"path:{name}", f"the path segment {{{name}}} is empty", None, side, op_id
                )
            )
    api_version = match.api_version
    if api_version is None or api_version == "":
        found.append(
            Violation(
                "MISSING_API_VERSION",
                "query:api-version",
                "the api-version query parameter is required",
                None,
                side,
                op_id,
            )
        )
    elif api_version not in contract.api_versions:
        known = ", ".join(contract.api_versions)
        found.append(
            Violation(
                "UNKNOWN_API_VERSION",
                "query:api-version",
                f"this contract speaks for api-version {known}",
                mask_value("query:api-version", api_version[:80]),
                side,
                op_id,
            )
        )
    return match, found


def _other_versions_hint(contract: Contract, method: str, url: str) -> str:
    """Where a bundled contract lacks the operation another version has: which versions define it."""
    if not contract.bundled:
        return ""
    found = get_contract(LATEST_API_VERSION).match(method, url)
    if found is None:
        return ""
    versions = versions_with(found.operation_id)
    span = f"from {versions[0]} on" if versions == tuple(API_VERSIONS)[-len(versions) :] else ", ".join(versions)
    return f" (api-version {contract.api_version} has no {found.operation_id}; it is defined {span})"


def _shown_url(url: str) -> str:
    """The URL as a message may show it: origin and path, no user name, password, query or fragment."""
    origin, path, _ = split_url(url)
    shown = mask_text(origin + path)
    return shown if len(shown) <= 300 else shown[:297] + "..."


def _contract_for(contract: Contract | None, url: str) -> Contract:
    """The contract that checks ``url``: a bundled one follows the request's api-version (the default version's when
    it is missing or not supported); a loaded document is used as it is."""
    if contract is not None and not contract.bundled:
        return contract
    version = query_api_version(url)
    if version is not None and version in API_VERSIONS:
        return get_contract(version)
    return contract if contract is not None else get_contract()


def _check_line(function: str, method: object, url: object) -> None:
    if not isinstance(method, str):
        raise TypeError(f"{function}: method must be a str, got {type(method).__name__}")
    if not isinstance(url, str):
        raise TypeError(f"{function}: url must be a str, got {type(url).__name__}")


def _headers(function: str, headers: object) -> Mapping[str, str] | None:
    """The headers with str values (bytes read as latin-1, as HTTP carries them; a list or tuple, the repeated header,
    joined with ", "); TypeError on misuse, naming the header and what it holds."""
    if headers is None:
        return None
    if not isinstance(headers, Mapping):
        raise TypeError(f"{function}: headers must be a mapping or None, got {type(headers).__name__}")
    if all(type(k) is str and type(v) is str for k, v in headers.items()):
        return headers
    normalized: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str):
            raise TypeError(f"{function}: header names must be str, got {type(name).__name__}")
        if isinstance(value, list | tuple):
            normalized[name] = ", ".join(_header_text(function, name, item, type(value).__name__) for item in value)
        else:
            normalized[name] = _header_text(function, name, value, None)
    return normalized


def _header_text(function: str, name: str, value: object, within: str | None) -> str:
    """One header value as text: a str as it is, bytes or a bytearray read as latin-1; a TypeError otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1")
    held = f"a {within} holding a value of type {type(value).__name__}" if within else type(value).__name__
    raise TypeError(f"{function}: header {name[:60]!r} must be a str or bytes, or a list of them, got {held}")


def _not_json(error: BaseException, side: Side, operation_id: str) -> Violation:
    reason = mask_text(str(error).splitlines()[0] if str(error) else type(error).__name__)[:120]
    return Violation("INVALID_JSON", "", f"the body is not JSON data ({reason})", None, side, operation_id)


def validate_request(
    method: str,
    url: str,
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    *,
    contract: Contract | None = None,
) -> list[Violation]:
    """Violations of a run-command request (empty when it conforms), checked at the request's api-version."""
    _check_line("validate_request", method, url)
    headers = _headers("validate_request", headers)
    contract = _contract_for(contract, url)
    match, found = _request_line(contract, method, url, "request")
    if match is None:
        return found
    operation = match.operation
    op_id = operation.operation_id
    parsed, problems = _parse(body, "request", op_id)
    found.extend(problems)
    if problems or operation.body_schema is None:
        return found
    if parsed is None:
        if operation.body_required:
            found.append(
                Violation("MISSING_REQUIRED_PARAMETER", "", f"{op_id} needs a JSON body", None, "request", op_id)
            )
        return found
    wrong_type = _wrong_content_type(headers, "request", op_id)
    if wrong_type is not None:
        found.append(wrong_type)
    validators = compiled(contract)
    unlisted: Counter[str] = Counter()
    try:
        if validators.validator(operation, "request", operation.body_schema, guard=True).is_valid(parsed):
            return found
        validator = validators.validator(operation, "request", operation.body_schema)
        if not validator.is_valid(parsed):
            listed, unlisted = schema_violations(validator, validators.schema_of(validator), parsed, "request", op_id)
            found.extend(listed)
    except _NOT_JSON_DATA as error:
        return [*found, _not_json(error, "request", op_id)]
    ctx = RuleContext(operation, "request", parsed, contract.definitions, None, headers)
    for rule in REQUEST_RULES:
        found.extend(rule(ctx))
    return with_unlisted(found, unlisted)


def _wrong_content_type(headers: Mapping[str, str] | None, side: Side, op_id: str) -> Violation | None:
    """INVALID_CONTENT_TYPE when the headers declare a body that is not JSON (the contract's documents produce and
    consume ``application/json`` only); None when they declare JSON or no type."""
    content_type = header_value(headers, "Content-Type") if headers is not None else None
    if content_type is None or content_type.lower().lstrip().startswith(JSON_MEDIA_TYPES):
        return None
    return Violation(
        "INVALID_CONTENT_TYPE",
        "header:Content-Type",
        f"the {'body must be sent' if side == 'request' else 'answer must be declared'} as application/json or "
        "text/json",
        mask_value("header:Content-Type", content_type[:200]),
        side,
        op_id,
    )


def request_conforms(method: str, url: str) -> Callable[[Any], bool] | None:
    """A quick yes for requests to ``method url`` (a bundled contract at the URL's api-version): ``check(body)``, with
    ``body`` parsed JSON data or None, is True only when ``validate_request(method, url, body)`` (no headers) finds
    nothing; on False ask ``validate_request`` why. None when the request line itself breaks the contract. Meant to
    be kept per URL by a caller that sees the same URLs again (the emulator)."""
    _check_line("request_conforms", method, url)
    contract = _contract_for(None, url)
    match, found = _request_line(contract, method, url, "request")
    if match is None or found:
        return None
    operation = match.operation
    if operation.body_schema is None:
        return _always
    guard = compiled(contract).validator(operation, "request", operation.body_schema, guard=True)
    required = operation.body_required

    def check(body: Any) -> bool:
        if body is None:
            return not required
        try:
            return bool(guard.is_valid(body))
        except _NOT_JSON_DATA:
            return False  # validate_request says why

    return check


def _always(body: Any) -> bool:
    return True


def validate_response(
    method: str,
    url: str,
    status: int,
    body: Body = None,
    headers: Mapping[str, str] | None = None,
    *,
    contract: Contract | None = None,
) -> list[Violation]:
    """Violations of a run-command response to ``method url`` (empty when it conforms), checked at the request's
    api-version.

    Request-line problems (unknown api-version, empty path segment) are the request's business and are not
    repeated here; an unknown operation is reported.
    """
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError(f"validate_response: status must be an int, got {type(status).__name__}")
    _check_line("validate_response", method, url)
    if headers is not None:
        headers = _headers("validate_response", headers)
    contract = _contract_for(contract, url)
    validators = compiled(contract)
    route = validators.routes.get((method, url, status), MISSING)  # the hot path: one dict lookup
    if route is MISSING:
        route = validators.response_route(method, url, status)
    if route is None:
        return _request_line(contract, method, url, "response")[1]
    operation, key, schema, guard = route
    if guard is not None and headers is None and type(body) is bytes:
        # The common case (a recorded or live answer as bytes): parse, one guard call, done.
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            pass  # reported below, with the reason
        else:
            if guard.is_valid(body):
                return []
    op_id = operation.operation_id
    parsed, found = _parse(body, "response", op_id)
    if found:
        return found
    unlisted: Counter[str] = Counter()
    if parsed is not None:
        wrong_type = _wrong_content_type(headers, "response", op_id)
        if wrong_type is not None:
            found.append(wrong_type)
    try:
        if guard is not None and parsed is not None and guard.is_valid(parsed):
            if headers is not None:
                ctx = RuleContext(operation, "response", parsed, contract.definitions, status, headers)
                found.extend(long_running_headers(ctx))
            return found
        if schema is not None and parsed is None and 200 <= status < 300:
            message = f"a {status} from {op_id} must carry a body"
            found.append(Violation("INVALID_RESPONSE_BODY", "", message, None, "response", op_id))
        elif schema is not None and parsed is not None:
            validator = validators.validator(operation, key, schema)
            if not validator.is_valid(parsed):
                listed, unlisted = schema_violations(
                    validator, validators.schema_of(validator), parsed, "response", op_id
                )
                found.extend(listed)
    except _NOT_JSON_DATA as error:
        return [*found, _not_json(error, "response", op_id)]
    ctx = RuleContext(operation, "response", parsed, contract.definitions, status, headers)
    for rule in RESPONSE_RULES:
        found.extend(rule(ctx))
    return with_unlisted(found, unlisted)


def _parsed_or_raw(interaction: Interaction, side: Side) -> Body:
    """The interaction's parsed body (parsed once, cached on it), or the raw one when it is not JSON."""
    try:
        return interaction.request_json if side == "request" else interaction.response_json  # type: ignore[no-any-return]
    except ValueError:
        return interaction.request_body if side == "request" else interaction.response_body


def validate_interaction(interaction: Interaction, *, contract: Contract | None = None) -> list[Violation]:
    """Both sides of an interaction at its api-version; the response only when the request reached a known
    operation."""
    found = validate_request(
        interaction.method,
        interaction.url,
        _parsed_or_raw(interaction, "request"),
        interaction.request_headers,
        contract=contract,
    )
    if interaction.status is None:
        return found
    if any(v.code == "OPERATION_NOT_FOUND" for v in found):
        return found
    found.extend(
        validate_response(
            interaction.method,
            interaction.url,
            interaction.status,
            _parsed_or_raw(interaction, "response"),
            interaction.response_headers,
            contract=contract,
        )
    )
    return found
