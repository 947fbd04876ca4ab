"""What a fuzz report may show: a case's secrets found from the contract's facts, and masked everywhere.

The secret fields are not named here: a value is secret when its JSON pointer is secret by
:func:`pytest_runcommand.contract.facts.is_secret_pointer` (the ``x-ms-secret`` properties of the contract, in any
shape: a string, a number, an object, a list; a protected parameter's ``name`` stays readable). As the contract's
validators show values (:func:`pytest_runcommand.contract.violations.mask_value`), an object under a secret that is
not a ``name``/``value`` item is masked whole: even its keys may be the secret.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from pytest_runcommand.contract.facts import SECRET_VALUE_KEYS_KEPT, is_secret_pointer
from pytest_runcommand.contract.violations import MASK, mask_text

__all__ = ["MASK", "MIN_BARE_SECRET", "answered_secrets", "mask_body", "redact", "response_excerpt", "secret_values"]

MIN_BARE_SECRET = 8
"""A secret this long or longer is also masked where it appears bare in text (shorter ones as JSON strings only)."""


_ITEM_KEYS = SECRET_VALUE_KEYS_KEPT | {"value"}
"""The keys of a secret list's items (a protected parameter's ``name`` and ``value``): any other key under a secret
masks its whole object."""


def _escape(key: object) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _secret_object(pointer: str, value: dict[Any, Any]) -> bool:
    """True for an object under a secret pointer that is not a name/value item: masked whole, keys included."""
    return is_secret_pointer(pointer) and not set(value) <= _ITEM_KEYS


def _leaves(pointer: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if _secret_object(pointer, value):  # its keys are secret values too
                yield f"{pointer}/{_escape(key)}", key
            yield from _leaves(f"{pointer}/{_escape(key)}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(f"{pointer}/{index}", item)
    else:
        yield pointer, value


def secret_values(body: Any) -> list[str]:
    """The values a request body sends under a secret pointer, as text (strings, numbers; not null or booleans)."""
    found: list[str] = []
    for pointer, value in _leaves("", body):
        if is_secret_pointer(pointer) and value is not None and not isinstance(value, bool):
            text = value if isinstance(value, str) else json.dumps(value)
            if text:
                found.append(text)
    return found


def answered_secrets(content: bytes) -> list[str]:
    """The values an answer's JSON body holds under a secret pointer (a target echoing a password, or giving one of
    its own), as :func:`secret_values` finds them in a request: a finding's message may quote the answer (a schema
    check's ``Value:``), and is redacted of them. Nothing for a body that is not JSON."""
    if not content:
        return []
    try:
        return secret_values(json.loads(content))
    except (ValueError, RecursionError):
        return []


def mask_body(value: Any, pointer: str = "") -> Any:
    """``value`` with every leaf under a secret pointer replaced by ``***`` (the shape of name/value items kept, any
    other object under a secret replaced whole, keys included), tokens masked."""
    if isinstance(value, dict) and _secret_object(pointer, value):
        return MASK
    if isinstance(value, dict):
        return {key: mask_body(item, f"{pointer}/{_escape(key)}") for key, item in value.items()}
    if isinstance(value, list):
        return [mask_body(item, f"{pointer}/{index}") for index, item in enumerate(value)]
    if is_secret_pointer(pointer) and value is not None and not isinstance(value, bool):
        return MASK
    return mask_text(value) if isinstance(value, str) else value


def redact(text: str, secrets: Sequence[str]) -> str:
    """Hide the run's own secrets, bearer tokens, JWTs and SAS signatures in ``text``.

    A secret is replaced where it appears as a JSON string (escaped as JSON writes it); one of
    :data:`MIN_BARE_SECRET` characters or more also where it appears bare.
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        for quoted in {json.dumps(secret), json.dumps(secret, ensure_ascii=False)}:
            text = text.replace(quoted, f'"{MASK}"')
            if len(secret) >= MIN_BARE_SECRET:
                text = text.replace(quoted[1:-1], MASK)
        if len(secret) >= MIN_BARE_SECRET:
            text = text.replace(secret, MASK)
    return mask_text(text)


def response_excerpt(content: bytes, secrets: Sequence[str], limit: int = 300) -> str:
    """An answer's body as shown in a report: secrets masked (JSON or not), cut to ``limit`` characters."""
    if not content:
        return "(empty body)"
    try:
        shown = json.dumps(mask_body(json.loads(content)), ensure_ascii=False)
    except RecursionError:
        return "(a JSON body nested too deeply to show)"
    except ValueError:
        shown = content.decode("utf-8", "replace")
    shown = redact(shown, secrets)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."
