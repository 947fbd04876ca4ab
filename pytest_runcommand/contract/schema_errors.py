"""Translate jsonschema-rs errors into violations, with messages built here (so no secret slips through).

Two readers give the same :class:`SchemaError` units: ``iter_errors`` (exact, but in jsonschema-rs 0.60 it gathers
every error before the first comes out, in time growing faster than their count: 300,000 take seconds) and the linear
``evaluate()`` (:mod:`~pytest_runcommand.contract.evaluation`). ``evaluate()`` runs first and counts the errors: up to
:data:`MAX_VIOLATIONS` of them, ``iter_errors`` reads them as it always did; past that they are read from the
evaluation. Either way, a body breaking more than :data:`MAX_VIOLATIONS` rules has only its first :data:`MAX_LISTED`
made into violations, the rest counted by code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any, Literal

from pytest_runcommand.contract.compiled import INT32_MAX, INT32_MIN
from pytest_runcommand.contract.evaluation import (
    MISSING,
    SchemaError,
    _EvaluationUnread,
    at_pointer,
    escape,
    evaluation_counts,
    evaluation_units,
    reads_evaluation,
)
from pytest_runcommand.contract.violations import (
    MASK,
    MAX_LISTED,
    MAX_VIOLATIONS,
    Violation,
    mask_pointer,
    mask_value,
)

__all__ = ["error_units", "schema_violations", "unit_code", "unit_violations"]

Side = Literal["request", "response"]


def _pointer(path: Any) -> str:
    return "".join("/" + escape(str(token)) for token in path)


def _short_name(name: str) -> str:
    return repr(name) if len(name) <= 60 else repr(name[:57] + "...")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def schema_violations(
    validator: Any, schema: Mapping[str, Any], instance: Any, side: Side, operation_id: str
) -> tuple[list[Violation], Counter[str]]:
    """The violations of ``instance``, which ``validator`` (compiled from ``schema``) refuses, and how many of each
    code are left unlisted: none, unless there are more than :data:`MAX_VIOLATIONS` (then the first
    :data:`MAX_LISTED` are listed)."""
    entries = validator.evaluate(instance).errors()  # linear, whatever their number
    if len(entries) > MAX_VIOLATIONS and reads_evaluation(schema):
        try:
            return _from_evaluation(entries, schema, instance, side, operation_id)
        except _EvaluationUnread:
            pass  # iter_errors says it, however long it takes
    units = error_units(validator, instance)  # quick for so few, and exact
    if sum(_count(unit) for unit in units) <= MAX_VIOLATIONS:
        return [v for unit in units for v in unit_violations(unit, instance, side, operation_id)], Counter()
    return _cut(units, [(unit, _count(unit)) for unit in units], instance, side, operation_id)


def _from_evaluation(
    entries: Sequence[Mapping[str, Any]], schema: Mapping[str, Any], instance: Any, side: Side, operation_id: str
) -> tuple[list[Violation], Counter[str]]:
    counts = evaluation_counts(entries, schema, instance)
    units = evaluation_units(entries, schema, instance)
    if sum(count for _, count in counts) <= MAX_VIOLATIONS:
        return [v for unit in units for v in unit_violations(unit, instance, side, operation_id)], Counter()
    return _cut(units, counts, instance, side, operation_id)


def _cut(
    units: Iterable[SchemaError],
    counts: Iterable[tuple[SchemaError, int]],
    instance: Any,
    side: Side,
    operation_id: str,
) -> tuple[list[Violation], Counter[str]]:
    """The first :data:`MAX_LISTED` violations of ``units``, and how many of each code the rest are."""
    listed = list(islice(_all_violations(units, instance, side, operation_id), MAX_LISTED))
    unlisted: Counter[str] = Counter()
    for unit, count in counts:
        unlisted[unit_code(unit)] += count
    unlisted.subtract(Counter(v.code for v in listed))
    return listed, +unlisted


def _all_violations(units: Iterable[SchemaError], instance: Any, side: Side, operation_id: str) -> Iterator[Violation]:
    for unit in units:
        yield from unit_violations(unit, instance, side, operation_id)


def error_units(validator: Any, instance: Any) -> list[SchemaError]:
    """The units of jsonschema-rs's ``iter_errors``, in its order."""
    units = []
    for error in validator.iter_errors(instance):
        kind = error.kind
        name = type(kind).__name__
        if name == "Required":
            detail: Any = str(kind.property)
        elif name == "AdditionalProperties":
            detail = [str(prop) for prop in kind.unexpected]
        elif name == "Type":
            detail = kind.types if isinstance(kind.types, list) else [kind.types]
        elif name == "Enum":
            detail = kind.options
        elif name in ("Maximum", "Minimum"):
            detail = kind.limit
        elif name == "Format":
            detail = kind.format
        else:
            detail = None
        units.append(SchemaError(name, _pointer(error.instance_path), detail, error.instance))
    return units


def _count(unit: SchemaError) -> int:
    return len(unit.detail) if unit.kind == "AdditionalProperties" else 1


def unit_code(unit: SchemaError) -> str:
    """The code :func:`unit_violations` gives ``unit``."""
    name = unit.kind
    if name in _CODES:
        return _CODES[name]
    if name in ("Maximum", "Minimum") and unit.detail in (INT32_MAX, INT32_MIN):
        return "INVALID_FORMAT"
    return "".join("_" + c if c.isupper() else c.upper() for c in name).lstrip("_")


_CODES = {
    "Required": "OBJECT_MISSING_REQUIRED_PROPERTY",
    "AdditionalProperties": "OBJECT_ADDITIONAL_PROPERTIES",
    "Type": "INVALID_TYPE",
    "Enum": "ENUM_MISMATCH",
    "Format": "INVALID_FORMAT",
}


def unit_violations(unit: SchemaError, body: Any, side: Side, operation_id: str) -> Iterator[Violation]:
    """The violations of one unit (``body``: the whole instance, where a unit without its value finds it)."""
    name, raw_pointer = unit.kind, unit.pointer
    pointer = mask_pointer(raw_pointer)
    code = unit_code(unit)
    if name == "Required":
        yield Violation(code, f"{pointer}/{unit.detail}", f"required property {unit.detail!r} is missing", None, side,
                        operation_id)  # fmt: skip
        return
    if name == "AdditionalProperties":
        for prop in unit.detail:
            shown = mask_pointer(f"{raw_pointer}/{escape(prop)}")
            message = (
                "a key the contract does not define here (under a secret: not shown)"
                if shown.endswith("/" + MASK)
                else f"{_short_name(prop)} is not a property the contract defines here"
            )
            yield Violation(code, shown, message, None, side, operation_id)
        return
    instance = unit.instance if unit.instance is not MISSING else at_pointer(body, raw_pointer)
    value = mask_value(raw_pointer, instance)
    if name == "Type":
        message = f"expected {' or '.join(str(t) for t in unit.detail)}, got {_json_type(instance)}"
    elif name == "Enum":
        message = f"must be one of: {', '.join(str(option) for option in unit.detail)}"
    elif code == "INVALID_FORMAT" and name != "Format":
        message = f"int32 holds {INT32_MIN}..{INT32_MAX}; this value does not fit"
    elif name == "Format":
        message = f"is not a valid {unit.detail}"
    else:
        message = f"breaks the schema keyword {name[0].lower() + name[1:]}"
    yield Violation(code, pointer, message, value, side, operation_id)
