"""Facts about the run-command contract, read from the bundled contract documents: the one place to ask.

Every other module asks here instead of spelling a field name or a version out: the supported api-versions and the
default one, the secret properties (marked ``x-ms-secret`` in the documents), the zero subscription id that stands
in for a real one. Cheap to import: the document is read on first use, and only its small facts are kept.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from pytest_runcommand.contract.versions import SUPPORTED_API_VERSIONS

__all__ = [
    "DEFAULT_API_VERSION",
    "SECRET_MARK",
    "SECRET_VALUE_KEYS_KEPT",
    "SUPPORTED_API_VERSIONS",
    "ZERO_SUBSCRIPTION_ID",
    "is_secret_pointer",
    "secret_properties",
]

DEFAULT_API_VERSION = "2024-07-01"
"""The api-version used when none is given: the version of the documented "Run Commands - Update" operation."""

ZERO_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
"""The subscription id the emulator serves and the sanitizers write in place of a real one."""

SECRET_MARK = "x-ms-secret"
"""The extension that marks a property whose value Azure never returns and no recording may keep."""

SECRET_VALUE_KEYS_KEPT = frozenset({"name"})
"""Keys kept in clear in the items of a secret list of name/value items (a protected parameter's name)."""

_SPEC_DIR = Path(__file__).with_name("spec")


def secret_properties() -> frozenset[str]:
    """Names of the properties the bundled documents mark ``x-ms-secret`` (runAsPassword, protectedParameters)."""
    return frozenset(_secret_schemas())


@cache
def _secret_schemas() -> dict[str, bool]:
    """Secret property name -> whether the documents declare it as a list (of name/value items)."""
    found: dict[str, bool] = {}
    for path in sorted(_SPEC_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for definition in document.get("definitions", {}).values():
            _collect_secret_names(definition, found)
    return found


def _collect_secret_names(schema: Any, names: dict[str, bool]) -> None:
    if not isinstance(schema, dict):
        return
    for name, sub in (schema.get("properties") or {}).items():
        if isinstance(sub, dict) and sub.get(SECRET_MARK) is True:
            names[name] = names.get(name, True) and sub.get("type") == "array"
        _collect_secret_names(sub, names)
    for key in ("items", "additionalProperties"):
        _collect_secret_names(schema.get(key), names)
    for sub in schema.get("allOf") or ():
        _collect_secret_names(sub, names)


@cache
def _secret_pointer_pattern() -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in sorted(secret_properties()))
    return re.compile(rf"(?:^|/)({alternatives})(?:/|$)")


def is_secret_pointer(pointer: str) -> bool:
    """True when the JSON pointer is at or under a secret property, except a kept key (a protected parameter's name).

    ``/properties/runAsPassword``, ``/properties/runAsPassword/0``, ``/properties/protectedParameters/1/value`` are
    secret; ``/properties/protectedParameters/1/name`` is not.
    """
    found = _secret_pointer_pattern().search(pointer)
    if found is None:
        return False
    index, _, key = pointer[found.end() :].partition("/")
    kept = index.isdigit() and key in SECRET_VALUE_KEYS_KEPT and _secret_schemas()[found.group(1)]
    return not kept
