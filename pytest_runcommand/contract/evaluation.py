"""Read jsonschema-rs's ``evaluate()`` output as the units ``iter_errors`` gives, in the same order, in linear time.

``evaluate().errors()`` lists each failing keyword once per place (schema location with references followed, instance
location), in pre-order. ``iter_errors`` differs in two ways this module undoes: an object whose ``properties`` come
with ``additionalProperties: false`` reports its unknown keys (and, fused in, a single required property) *after*
the errors of its members, not before; and a keyword's parameters (the types, the enum, the missing property, the
unknown keys) are read here from the schema and the instance, not from the message.

Only schemas made of the keywords the contracts use are read this way (:func:`reads_evaluation`; for others, and for
output that cannot be accounted for, ``_EvaluationUnread``, the caller asks ``iter_errors``). The contract tests
hold the two readings equal over many bodies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

__all__ = [
    "MISSING",
    "SchemaError",
    "at_pointer",
    "escape",
    "evaluation_counts",
    "evaluation_units",
    "reads_evaluation",
]

MISSING: Any = object()
"""A unit's ``instance`` when it is not at hand: look it up in the body at the unit's pointer."""


class SchemaError(NamedTuple):
    """One failing keyword at one place: jsonschema-rs's kind name (``Type``, ``Required``...), the raw JSON pointer,
    the keyword's parameter (types, enum options, limit, format, the missing property, the unknown keys) and the
    value there (or :data:`MISSING`)."""

    kind: str
    pointer: str
    detail: Any
    instance: Any = MISSING


_LEAVES = {"type": "Type", "enum": "Enum", "format": "Format", "minimum": "Minimum", "maximum": "Maximum"}
_READ = {*_LEAVES, "required", "properties", "additionalProperties", "items", "definitions", "$ref"}
_VALIDATING = {
    *_READ,
    *("multipleOf", "exclusiveMaximum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "additionalItems"),
    *("maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "patternProperties", "dependencies"),
    *("allOf", "anyOf", "oneOf", "not"),
}
"""Draft 4's validating keywords; any other key is an annotation."""


def escape(token: str) -> str:
    """A JSON pointer token."""
    return token.replace("~", "~0").replace("/", "~1")


def at_pointer(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer (array indices as numbers)."""
    if not pointer:
        return document
    for token in pointer[1:].split("/"):
        if "~" in token:
            token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


def reads_evaluation(schema: Mapping[str, Any]) -> bool:
    """Whether :func:`evaluation_units` reads errors of ``schema`` (a root with its ``definitions``)."""
    key = id(schema)
    known = _READABLE.get(key)
    if known is None or known[0] is not schema:
        if len(_READABLE) >= 1024:
            _READABLE.clear()
        known = _READABLE[key] = (schema, _anyof_only(schema) or _readable(schema))
    return known[1]


_READABLE: dict[int, tuple[Mapping[str, Any], bool]] = {}


def _anyof_only(schema: Mapping[str, Any]) -> bool:
    """A root that only says ``anyOf`` (the monitor answers): ``iter_errors`` gives one error, at the root."""
    return set(schema) - {"definitions"} == {"anyOf"}


def _readable(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    if _VALIDATING.intersection(node) - _READ:
        return False
    children: list[Any] = [*node.get("properties", {}).values(), *node.get("definitions", {}).values()]
    for key in ("items", "additionalProperties"):
        if key in node and not isinstance(node[key], bool):
            children.append(node[key])
    return all(_readable(child) for child in children)


class _EvaluationUnread(Exception):
    """``evaluate()`` output this module cannot account for (ask ``iter_errors``); caught in the contract package,
    never met by a caller."""


def evaluation_units(
    entries: Sequence[Mapping[str, Any]], schema: Mapping[str, Any], body: Any
) -> Iterator[SchemaError]:
    """The units ``iter_errors`` would give, one at a time, from ``evaluate(body).errors()`` of a validator of
    ``schema`` (one :func:`reads_evaluation` reads); :class:`_EvaluationUnread` when they cannot be accounted for."""
    if _anyof_only(schema):
        yield SchemaError("AnyOf", "", None, body)
        return
    try:
        yield from _units(entries, schema, body)
    except (LookupError, TypeError, ValueError) as error:
        raise _EvaluationUnread(str(error)) from error


def evaluation_counts(
    entries: Sequence[Mapping[str, Any]], schema: Mapping[str, Any], body: Any
) -> list[tuple[SchemaError, int]]:
    """How many violations :func:`evaluation_units` stands for, without making them: (a unit of each kind, pointer
    left empty, count) pairs; an ``AdditionalProperties`` count is of unknown keys."""
    if _anyof_only(schema):
        return [(SchemaError("AnyOf", "", None), 1)]
    try:
        return _counts(entries, schema, body)
    except (LookupError, TypeError, ValueError) as error:
        raise _EvaluationUnread(str(error)) from error


def _counts(
    entries: Sequence[Mapping[str, Any]], schema: Mapping[str, Any], body: Any
) -> list[tuple[SchemaError, int]]:
    counts: list[tuple[SchemaError, int]] = []
    objects = set()
    for location, count in Counter(map(itemgetter("schemaLocation"), entries)).items():
        keyword, node = _place(schema, location)
        if keyword == "additionalProperties":
            objects.add(location)
        elif keyword == "required":
            counts.append((SchemaError("Required", "", None), count))
        elif keyword in _LEAVES:
            counts.append((SchemaError(_LEAVES[keyword], "", node[keyword]), count))
        else:
            raise _EvaluationUnread(location)
    if objects:
        nodes = {location: _place(schema, location)[1] for location in objects}
        unknown = required = 0
        places = Counter((e["schemaLocation"], e["instanceLocation"]) for e in entries if e["schemaLocation"] in nodes)
        parents: dict[str, Any] = {}  # the objects of a flood are mostly siblings: find their parent once
        for (location, where), count in places.items():
            up, _, last = where.rpartition("/")
            parent = parents.get(up, MISSING)
            if parent is MISSING:
                parent = parents[up] = at_pointer(body, up)
            node, instance = nodes[location], at_pointer(parent, "/" + last) if where else body
            keys = len(instance.keys() - node.get("properties", {}).keys())
            fused = count - (1 if keys else 0)  # the single required property checked with the keys
            if fused and fused > sum(1 for name in node.get("required", ()) if name not in instance):
                raise _EvaluationUnread(location)
            unknown += keys
            required += fused
        counts.append((SchemaError("AdditionalProperties", "", None), unknown))
        counts.append((SchemaError("Required", "", None), required))
    return counts


def _place(schema: Mapping[str, Any], location: str) -> tuple[str, Any]:
    """(keyword, the schema object holding it) of an evaluation's schema location."""
    parent, _, keyword = location.rpartition("/")
    return keyword, at_pointer(schema, parent)


def _units(entries: Sequence[Mapping[str, Any]], schema: Mapping[str, Any], body: Any) -> Iterator[SchemaError]:
    places: dict[str, tuple[str, Any]] = {}
    pending: list[list[Any]] = []  # [instance location, schema location, node, entries]: an object's own errors
    required: tuple[str, str, Iterator[str]] = ("", "", iter(()))
    for entry in entries:
        where, location = entry["instanceLocation"], entry["schemaLocation"]
        place = places.get(location)
        if place is None:
            place = places[location] = _place(schema, location)
        keyword, node = place
        if keyword == "additionalProperties":
            if node.get("additionalProperties") is not False:
                raise _EvaluationUnread(location)
            if pending and pending[-1][0] == where and pending[-1][1] == location:
                pending[-1][3] += 1
                continue
        while pending and not where.startswith(pending[-1][0] + "/"):
            yield from _closed(pending.pop(), body)
        if keyword == "additionalProperties":
            pending.append([where, location, node, 1])
        elif keyword == "required":
            if required[:2] != (location, where):
                instance = at_pointer(body, where)
                required = (location, where, iter([name for name in node["required"] if name not in instance]))
            name = next(required[2], None)
            if name is None:
                raise _EvaluationUnread(location)
            yield SchemaError("Required", where, name)
        elif keyword in _LEAVES:
            detail = node[keyword]
            yield SchemaError(
                _LEAVES[keyword], where, [detail] if keyword == "type" and not isinstance(detail, list) else detail
            )
        else:
            raise _EvaluationUnread(location)
    while pending:
        yield from _closed(pending.pop(), body)


def _closed(group: list[Any], body: Any) -> list[SchemaError]:
    """The units of an object whose members' errors are all out: ``group`` is [instance location, schema location,
    node, entries]."""
    where, location, node, count = group
    return _object_units(where, location, node, count, body)


def _object_units(where: str, location: str, node: Mapping[str, Any], count: int, body: Any) -> list[SchemaError]:
    """An object's own errors, as ``iter_errors`` orders them: its unknown keys, then the one required property the
    ``additionalProperties: false`` check was fused with."""
    instance = at_pointer(body, where)
    declared = node.get("properties", {})
    unexpected = [key for key in instance if key not in declared]
    units = [SchemaError("AdditionalProperties", where, unexpected)] if unexpected else []
    missing = [name for name in node.get("required", ()) if name not in instance]
    extra = count - len(units)
    if extra > len(missing):
        raise _EvaluationUnread(location)
    units.extend(SchemaError("Required", where, name) for name in missing[:extra])
    return units
