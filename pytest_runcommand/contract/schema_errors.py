"""Translate jsonschema-rs errors into violations, with messages built here (so no secret slips through)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from pytest_runcommand.contract.compiled import INT32_MAX, INT32_MIN
from pytest_runcommand.contract.violations import MASK, Violation, mask_pointer, mask_value

__all__ = ["schema_violations"]

Side = Literal["request", "response"]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(path: Any) -> str:
    return "".join("/" + _escape(str(token)) for token in path)


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


def schema_violations(validator: Any, instance: Any, side: Side, operation_id: str) -> Iterator[Violation]:
    """Translate jsonschema-rs errors into violations with messages built here (so no secret slips through)."""
    for error in validator.iter_errors(instance):
        kind = error.kind
        name = type(kind).__name__
        raw_pointer = _pointer(error.instance_path)
        pointer = mask_pointer(raw_pointer)
        instance = error.instance
        value = mask_value(raw_pointer, instance)
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
                shown = mask_pointer(f"{raw_pointer}/{_escape(str(prop))}")
                hidden = shown.endswith("/" + MASK)
                yield Violation(
                    "OBJECT_ADDITIONAL_PROPERTIES",
                    shown,
                    "a key the contract does not define here (under a secret: not shown)"
                    if hidden
                    else f"{_short_name(str(prop))} is not a property the contract defines here",
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
                f"expected {wanted}, got {_json_type(instance)}",
                value,
                side,
                operation_id,
            )
        elif name == "Enum":
            options = ", ".join(str(option) for option in kind.options)
            yield Violation(
                "ENUM_MISMATCH",
                pointer,
                f"must be one of: {options}",
                value,
                side,
                operation_id,
            )
        elif name in ("Maximum", "Minimum") and kind.limit in (INT32_MAX, INT32_MIN):
            yield Violation(
                "INVALID_FORMAT",
                pointer,
                f"int32 holds {INT32_MIN}..{INT32_MAX}; this value does not fit",
                value,
                side,
                operation_id,
            )
        elif name == "Format":
            yield Violation(
                "INVALID_FORMAT",
                pointer,
                f"is not a valid {kind.format}",
                value,
                side,
                operation_id,
            )
        else:
            code = "".join("_" + c if c.isupper() else c.upper() for c in name).lstrip("_")
            yield Violation(
                code,
                pointer,
                f"breaks the schema keyword {name[0].lower() + name[1:]}",
                value,
                side,
                operation_id,
            )
