"""Rules the documentation states only in prose, one small function each, each with a stable code.

A rule receives a :class:`RuleContext` and yields violations. Request rules see the request body; response rules see
the response status, headers and body. None of them raises on odd input: an unexpected shape simply does not apply.

Body rules also declare a *guard*: JSON-schema keywords, per definition, that hold whenever the rule has nothing to
say (they may be stricter, never looser). validate.py compiles them into one schema so that a conforming body is
confirmed by a single call into jsonschema-rs; only a body the guard rejects runs the rules one by one. A property
test checks that the guard never passes a body a rule would flag.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pytest_runcommand.contract.document import Operation
from pytest_runcommand.contract.facts import (
    LATEST_API_VERSION,
    SCRIPT_SOURCE_MARK,
    SECRET_VALUE_KEYS_KEPT,
    script_sources,
    secret_list_properties,
    secret_properties,
)
from pytest_runcommand.contract.violations import Violation, mask_pointer, mask_value
from pytest_runcommand.interactions import header_value

__all__ = [
    "REQUEST_RULES",
    "RESPONSE_RULES",
    "RULE_CODES",
    "RuleContext",
    "request_guards",
    "response_guards",
    "script_sources_of",
]

_SCRIPT_SOURCE = "VirtualMachineRunCommandScriptSource"
IDENTITY_SLOTS = (
    ("source", "scriptUriManagedIdentity"),
    ("outputBlobManagedIdentity",),
    ("errorBlobManagedIdentity",),
)
TERMINAL_STATES = frozenset({"succeeded", "failed", "canceled"})


@dataclass(slots=True)
class RuleContext:
    """What a rule may look at."""

    operation: Operation
    side: Literal["request", "response"]
    body: Any
    definitions: Mapping[str, Any]
    status: int | None = None
    headers: Mapping[str, str] | None = None

    def violation(self, code: str, pointer: str, message: str, value: Any = None, *, at: str = "") -> Violation:
        """A violation at ``pointer``; its value masked as the value found at ``at`` (default: the pointer)."""
        shown = mask_value(at or pointer, value)
        return Violation(code, pointer, message, shown, self.side, self.operation.operation_id)

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)


Rule = Callable[[RuleContext], Iterator[Violation]]


def _run_commands(ctx: RuleContext) -> list[tuple[str, Mapping[str, Any]]]:
    """Each run-command object in the body with its pointer prefix: the body itself, or each item of a list page."""
    body = ctx.body
    if not isinstance(body, dict):
        return []
    if "properties" in body:
        return [("", body)]
    page = body.get("value")
    if isinstance(page, list):
        return [(f"/value/{index}", item) for index, item in enumerate(page) if isinstance(item, dict)]
    return []


_NO_PROPERTIES: Mapping[str, Any] = {}


def _properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    value = resource.get("properties")
    return value if isinstance(value, dict) else _NO_PROPERTIES


def script_sources_of(definitions: Mapping[str, Any]) -> tuple[str, ...]:
    """The script sources of a contract's ScriptSource definition: the properties marked as one, or (a user's
    official document carries no marks) those the bundled contracts know as one."""
    schema = definitions.get(_SCRIPT_SOURCE)
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return ()
    known = script_sources(LATEST_API_VERSION)
    return tuple(
        name
        for name, sub in properties.items()
        if name in known or (isinstance(sub, Mapping) and sub.get(SCRIPT_SOURCE_MARK) is True)
    )


def exactly_one_script_source(ctx: RuleContext) -> Iterator[Violation]:
    """A source names exactly one of its script sources (script, scriptUri, commandId; from 2025-04-01 also
    galleryScriptReferenceId).

    An empty source (``{}``) means "no script" and is accepted: the Azure CLI and PowerShell send it, Azure answers
    201, and responses show it. A source with other keys but no script source (a lone identity, an empty script) is
    a request error.
    """
    sources = script_sources_of(ctx.definitions)
    for prefix, resource in _run_commands(ctx):
        source = _properties(resource).get("source")
        if not isinstance(source, Mapping) or not source:
            continue
        if len(source) <= 1 and ctx.side == "response":
            continue
        given = [name for name in sources if source.get(name)]
        pointer = f"{prefix}/properties/source"
        if len(given) > 1:
            yield ctx.violation(
                "MULTIPLE_SCRIPT_SOURCES",
                pointer,
                f"a script source takes exactly one of {', '.join(sources)}; got {', '.join(given)}",
            )
        elif not given and ctx.side == "request":
            yield ctx.violation(
                "MISSING_SCRIPT_SOURCE",
                pointer,
                f"a script source takes exactly one of {', '.join(sources)} (or is {{}} for none); got none",
            )


def _present(*names: str) -> dict[str, Any]:
    return {"required": list(names)}


def _none_of(*schemas: dict[str, Any]) -> dict[str, Any]:
    return {"not": {"anyOf": list(schemas)}}


def _source_guards(sources: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(request, response) guards of the script-source rule for these sources."""
    pairs = [_present(a, b) for i, a in enumerate(sources) for b in sources[i + 1 :]]
    two = _none_of(*pairs) if pairs else {}
    one = {"anyOf": [{"required": [n], "properties": {n: {"type": "string", "minLength": 1}}} for n in sources]}
    request = {_SCRIPT_SOURCE: {"allOf": [two, one] if sources else []}}
    response = {_SCRIPT_SOURCE: {"allOf": [two] if pairs else []}}
    return request, response


def identity_has_one_id(ctx: RuleContext) -> Iterator[Violation]:
    """A RunCommandManagedIdentity names clientId or objectId, not both ({} is the system-assigned identity)."""
    for prefix, resource in _run_commands(ctx):
        properties = _properties(resource)
        if not properties:
            continue
        for slot in IDENTITY_SLOTS:
            node: Any = properties
            for token in slot:
                node = node.get(token) if isinstance(node, dict) else None
            if isinstance(node, dict) and node.get("clientId") and node.get("objectId"):
                yield ctx.violation(
                    "MANAGED_IDENTITY_CLIENT_AND_OBJECT_ID",
                    f"{prefix}/properties/{'/'.join(slot)}",
                    "a run-command managed identity takes clientId or objectId, not both",
                )


IDENTITY_GUARD = {"RunCommandManagedIdentity": {"allOf": [{"not": _present("clientId", "objectId")}]}}


def read_only_not_sent(ctx: RuleContext) -> Iterator[Violation]:
    """Read-only properties (id, name, type, provisioningState, instanceView) are set by Azure, never sent."""
    body = ctx.body
    if not isinstance(body, Mapping):
        return
    for pointer in _read_only_paths(ctx):
        node: Any = body
        for token in pointer.strip("/").split("/"):
            node = node.get(token) if isinstance(node, Mapping) else None
            if node is None:
                break
        if node is not None:
            yield ctx.violation(
                "READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST",
                pointer,
                f"{pointer.rsplit('/', 1)[-1]} is read-only: Azure sets it, a request must not send it",
                node,
            )


def secrets_not_returned(ctx: RuleContext) -> Iterator[Violation]:
    """Secret properties (marked ``x-ms-secret``, see facts.secret_properties) never come back in a response: a
    secret value is reported wherever it is; of a secret list of name/value items only the names may come back."""
    lists = secret_list_properties()
    for prefix, resource in _run_commands(ctx):
        properties = _properties(resource)
        for name in sorted(secret_properties() & properties.keys()):
            value = properties[name]
            pointer = f"{prefix}/properties/{name}"
            if name not in lists or not isinstance(value, list):
                yield ctx.violation(
                    "SECRET_PROPERTY", pointer, f"{name} is write-only: a response must never carry it", value
                )
                continue
            for index, item in enumerate(value):
                if not isinstance(item, Mapping):
                    yield ctx.violation(
                        "SECRET_PROPERTY", f"{pointer}/{index}", f"an item of {name} came back with a value", item
                    )
                    continue
                for key, secret in item.items():
                    if key not in SECRET_VALUE_KEYS_KEPT and secret not in (None, ""):
                        yield ctx.violation(
                            "SECRET_PROPERTY",
                            mask_pointer(f"{pointer}/{index}/{key}"),
                            f"an item of {name} came back with more than its name",
                            secret,
                            at=f"{pointer}/{index}/{key}",
                        )


def _secrets_guard(definitions: Mapping[str, Any]) -> dict[str, Any]:
    """No definition that declares a secret property carries one (a response with one takes the slow path)."""
    guard: dict[str, Any] = {}
    for name, schema in definitions.items():
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        present = sorted(secret_properties() & set(properties or ()))
        if present:
            guard[name] = {"allOf": [_none_of(*(_present(p) for p in present))]}
    return guard


def documented_status(ctx: RuleContext) -> Iterator[Violation]:
    """A 2xx answer uses a status code the operation declares (Update: 200; PUT: 200/201; DELETE: 200/202/204);
    1xx and 3xx are never documented.

    An error status (4xx, 5xx) is documented by the operation's ``default`` response and, where the operation
    declares none (the catalogue and the action run command before 2025-11-01), by ARM's convention that every
    operation may fail with a CloudError: a 404 from the catalogue is an answer, and error_is_cloud_error checks its
    body."""
    status = ctx.status
    if status is None:
        return
    declared = ctx.operation.success_codes
    if 200 <= status < 300:
        if status in declared:
            return
        codes = "/".join(str(code) for code in sorted(declared))
        yield ctx.violation(
            "INVALID_RESPONSE_CODE",
            "status",
            f"{ctx.operation.operation_id} answers {codes} on success, not {status}",
            status,
        )
        return
    if status < 200 or 300 <= status < 400 or status >= 600:
        yield ctx.violation(
            "INVALID_RESPONSE_CODE",
            "status",
            f"{status} is not a status code this operation documents",
            status,
        )


def error_is_cloud_error(ctx: RuleContext) -> Iterator[Violation]:
    """A 4xx or 5xx answer carries ARM's error envelope ``{"error": {"code": ..., "message": ...}}``: a CloudError,
    or the v3 ErrorResponse of the diagnostic run commands (the same two fields), whether or not the operation
    declares an error response."""
    if ctx.status is None or ctx.status < 400:
        return
    body = ctx.body
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, Mapping):
        yield ctx.violation(
            "INVALID_CLOUD_ERROR",
            "",
            'an error answer must be a CloudError {"error": {"code", "message"}}',
        )
        return
    for name in ("code", "message"):
        if not isinstance(error.get(name), str):
            yield ctx.violation(
                "INVALID_CLOUD_ERROR",
                f"/error/{name}",
                f"a CloudError carries error.{name} as a string",
                error.get(name),
            )


def long_running_headers(ctx: RuleContext) -> Iterator[Violation]:
    """Long-running operation headers: a DELETE 202 says where to poll; a polling URL is absolute https or http; a
    header the version declares as an integer (Retry-After from 2025-11-01) is one."""
    if ctx.headers is None or ctx.status is None or not ctx.operation.long_running:
        return
    async_url = ctx.header("Azure-AsyncOperation")
    location = ctx.header("Location")
    if ctx.status == 202 and not (async_url or location):
        yield ctx.violation(
            "LRO_RESPONSE_HEADER",
            "header:Location",
            "a 202 from a long-running operation must carry Location or Azure-AsyncOperation",
        )
    for name, url in (("Azure-AsyncOperation", async_url), ("Location", location)):
        if url is not None and not url.lower().startswith(("https://", "http://")):
            yield ctx.violation(
                "LRO_RESPONSE_HEADER",
                f"header:{name}",
                f"{name} must be an absolute URL to poll",
                url,
            )
    declared = (ctx.operation.responses.get(str(ctx.status)) or {}).get("headers") or {}
    for name, declaration in declared.items():
        value = ctx.header(name)
        if value is not None and declaration.get("type") == "integer" and not _int32_text(value):
            yield ctx.violation(
                "LRO_RESPONSE_HEADER", f"header:{name}", f"{name} is declared a 32-bit integer (seconds)", value
            )
    if async_url and ctx.operation.method == "PATCH" and isinstance(ctx.body, Mapping):
        state = _properties(ctx.body).get("provisioningState")
        if isinstance(state, str) and state.lower() in TERMINAL_STATES:
            return
        if state is None:
            yield ctx.violation(
                "LRO_RESPONSE_HEADER",
                "header:Azure-AsyncOperation",
                "a 200 carrying Azure-AsyncOperation should report a provisioningState (Updating)",
            )


def _int32_text(value: str) -> bool:
    text = value.strip()
    return text.lstrip("-").isdigit() and len(text) <= 11 and -(2**31) <= int(text) < 2**31


_READ_ONLY_CACHE: dict[int, tuple[str, ...]] = {}


def _read_only_paths(ctx: RuleContext) -> tuple[str, ...]:
    """JSON pointers of readOnly properties reachable in the operation's request body (computed once per operation)."""
    key = id(ctx.operation)
    if key not in _READ_ONLY_CACHE:
        found = _collect_read_only(ctx.operation.body_schema, "", ctx.definitions, 0)
        _READ_ONLY_CACHE[key] = tuple(found)
    return _READ_ONLY_CACHE[key]


def _collect_read_only(schema: Any, pointer: str, definitions: Mapping[str, Any], depth: int) -> Iterator[str]:
    if not isinstance(schema, Mapping) or depth > 6:
        return
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        if schema.get("readOnly") and pointer:
            yield pointer
            return
        yield from _collect_read_only(definitions.get(name), pointer, definitions, depth + 1)
        return
    if schema.get("readOnly") and pointer:
        yield pointer
        return
    for name, sub in (schema.get("properties") or {}).items():
        yield from _collect_read_only(sub, f"{pointer}/{name}", definitions, depth + 1)


REQUEST_RULES: tuple[Rule, ...] = (read_only_not_sent, exactly_one_script_source, identity_has_one_id)
RESPONSE_RULES: tuple[Rule, ...] = (
    documented_status,
    error_is_cloud_error,
    secrets_not_returned,
    exactly_one_script_source,
    identity_has_one_id,
    long_running_headers,
)


def _merge_guards(*guards: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for guard in guards:
        for name, keywords in guard.items():
            merged.setdefault(name, {"allOf": []})["allOf"].extend(keywords["allOf"])
    return merged


def request_guards(definitions: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Guards of the request body rules for a contract's definitions (read_only_not_sent's guard is derived from
    the schema's readOnly flags)."""
    request, _ = _source_guards(script_sources_of(definitions))
    return _merge_guards(request, IDENTITY_GUARD)


def response_guards(definitions: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Guards of the response body rules for a contract's definitions; status and header rules are checked
    directly (they are cheap)."""
    _, response = _source_guards(script_sources_of(definitions))
    return _merge_guards(response, IDENTITY_GUARD, _secrets_guard(definitions))


def __getattr__(name: str) -> Any:
    """``REQUEST_GUARDS`` / ``RESPONSE_GUARDS``: the guards of the default api-version's contract (computed on use)."""
    if name in ("REQUEST_GUARDS", "RESPONSE_GUARDS"):
        from pytest_runcommand.contract.document import get_contract

        definitions = get_contract().definitions
        return request_guards(definitions) if name == "REQUEST_GUARDS" else response_guards(definitions)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RULE_CODES: Mapping[str, str] = {
    "READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST": "a read-only property was sent in a request",
    "MULTIPLE_SCRIPT_SOURCES": "a script source names more than one script (inline, URI, command id, gallery)",
    "MISSING_SCRIPT_SOURCE": "a non-empty script source in a request names no script",
    "MANAGED_IDENTITY_CLIENT_AND_OBJECT_ID": "a managed identity names both clientId and objectId",
    "SECRET_PROPERTY": "a secret (x-ms-secret) value came back in a response",
    "INVALID_RESPONSE_CODE": "the status code is not one the operation documents",
    "INVALID_CLOUD_ERROR": "an error answer is not a CloudError",
    "LRO_RESPONSE_HEADER": "long-running-operation headers are missing or malformed",
}
"""Every prose rule's code with a one-line summary (schema and request-line codes live in validate.py)."""
