"""Translate jsonschema-rs errors into violations, with messages built here (so no secret slips through)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pytest_runcommand.contract.compiled import INT32_MAX, INT32_MIN
from pytest_runcommand.contract.violations import Violation, mask_value

__all__ = ["schema_violations"]

Side = Literal["request", "response"]


def _pointer(path: Any) -> str:
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


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


def schema_violations(validator: Any, instance: Any, side: Side, operation_id: str) -> Iterator[Violation]:
    """Translate jsonschema-rs errors into violations with messages built here (so no secret slips through)."""
    for error in validator.iter_errors(instance):
        kind = error.kind
        name = type(kind).__name__
        pointer = _pointer(error.instance_path)
        value = error.instance
        if name == "Required":
            prop = str(kind.property)
            yield Violation(
                "OBJECT_MISSING_REQUIRED_PROPERTY",
                f"{pointer}/{prop}",
                f"required property {prop!r} is missing",
                None,
                side,
                operation_id,
            )
        elif name == "AdditionalProperties":
            for prop in kind.unexpected:
                yield Violation(
                    "OBJECT_ADDITIONAL_PROPERTIES",
                    f"{pointer}/{prop}",
                    f"{prop!r} is not a property the contract defines here",
                    None,
                    side,
                    operation_id,
                )
        elif name == "Type":
            expected = kind.types if isinstance(kind.types, list) else [kind.types]
            wanted = " or ".join(str(t) for t in expected)
            yield Violation(
                "INVALID_TYPE",
                pointer,
                f"expected {wanted}, got {_json_type(value)}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        elif name == "Enum":
            options = ", ".join(str(option) for option in kind.options)
            yield Violation(
                "ENUM_MISMATCH",
                pointer,
                f"must be one of: {options}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        elif name in ("Maximum", "Minimum") and kind.limit in (INT32_MAX, INT32_MIN):
            yield Violation(
                "INVALID_FORMAT",
                pointer,
                f"int32 holds {INT32_MIN}..{INT32_MAX}; this value does not fit",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        elif name == "Format":
            yield Violation(
                "INVALID_FORMAT",
                pointer,
                f"is not a valid {kind.format}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
        else:
            code = "".join("_" + c if c.isupper() else c.upper() for c in name).lstrip("_")
            yield Violation(
                code,
                pointer,
                f"breaks the schema keyword {name[0].lower() + name[1:]}",
                mask_value(pointer, value),
                side,
                operation_id,
            )
