"""What a broken contract looks like: :class:`Violation`, secret masking, and formatting for people."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pytest_runcommand.contract.facts import SECRET_VALUE_KEYS_KEPT, is_secret_pointer

__all__ = [
    "MASK",
    "MAX_LISTED",
    "MAX_VIOLATIONS",
    "TOO_MANY_VIOLATIONS",
    "Violation",
    "counts_by_code",
    "format_violations",
    "is_secret_pointer",
    "mask_pointer",
    "mask_text",
    "mask_value",
    "more_violations",
    "split_violations",
    "total_violations",
    "with_unlisted",
]

MASK = "***"
MAX_VIOLATIONS = 1_000
"""The most violations a check lists one by one. Past it, a list holds the first :data:`MAX_LISTED` and one last
``TOO_MANY_VIOLATIONS`` violation counting the rest (a 3 MB body can break 300,000 rules)."""
MAX_LISTED = 100
"""How many violations a list keeps once there are more than :data:`MAX_VIOLATIONS` (the emulator's 400 lists as
many in ``details``)."""
TOO_MANY_VIOLATIONS = "TOO_MANY_VIOLATIONS"
"""The code of the last violation of a cut list: its ``value`` maps each code not listed to how many times."""
MAX_SHOWN_DEPTH = 8
"""How deep a value is shown in a violation; deeper parts read ``...``."""
_SAS_SIGNATURE = re.compile(r"(?i)([?&](?:sig|s|signature)=)[^&#\s\"']+")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-_.~+/=]+")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


def mask_text(text: str) -> str:
    """Hide SAS signatures, bearer tokens and JWTs inside free text."""
    text = _SAS_SIGNATURE.sub(rf"\g<1>{MASK}", text)
    text = _BEARER.sub(rf"\g<1>{MASK}", text)
    return _JWT.sub(MASK, text)


def mask_value(pointer: str, value: Any, _depth: int = 0) -> Any:
    """The value as it may be shown: JSON data only, any shape under a secret pointer replaced by ``***`` (a
    protected parameter's ``name`` kept), signatures and tokens removed from strings, nesting cut at
    :data:`MAX_SHOWN_DEPTH`, and anything that is not JSON shown as its type (``<set>``)."""
    if value is None:
        return None
    if _depth > MAX_SHOWN_DEPTH:
        return "..."
    secret = is_secret_pointer(pointer)
    if isinstance(value, dict):
        if secret and not set(value) <= _ITEM_KEYS:
            return MASK  # an unexpected shape under a secret: even its keys may be the secret
        return {
            (k if isinstance(k, str) else f"<{type(k).__name__}>"): mask_value(f"{pointer}/{k}", v, _depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_value(f"{pointer}/{i}", v, _depth + 1) for i, v in enumerate(value)]
    if secret:
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 96:
        return f"<{value.bit_length()}-bit int>"
    if isinstance(value, bool | int | float):
        return value
    return f"<{type(value).__name__}>"


_ITEM_KEYS = SECRET_VALUE_KEYS_KEPT | {"value"}


def mask_pointer(pointer: str) -> str:
    """The pointer as it may be shown: below a secret property, every key but a list index, ``name`` and ``value``
    reads ``***`` (a key there may be the secret itself)."""
    if not is_secret_pointer(pointer):
        return pointer
    tokens = pointer.split("/")
    for end in range(1, len(tokens) + 1):
        if is_secret_pointer("/".join(tokens[:end])):
            below = [t if t.isdigit() or t in _ITEM_KEYS else MASK for t in tokens[end:]]
            return "/".join([*tokens[:end], *below])
    return pointer


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a request or response breaks the contract.

    ``code`` is stable (oav's names where one fits), ``pointer`` a JSON pointer into the body ("" for the whole body,
    or ``header:Name`` / ``query:name`` / ``path:name`` / ``status`` outside it), ``value`` the offending value with
    secrets masked (for ``TOO_MANY_VIOLATIONS``: how many of each code are not listed), ``side`` "request" or
    "response".
    """

    code: str
    pointer: str
    message: str
    value: Any = None
    side: Literal["request", "response"] = "request"
    operation_id: str | None = None

    def __str__(self) -> str:
        where = self.pointer or "(body)"
        text = f"{self.code} at {where}: {self.message}"
        if self.value is not None and self.code != TOO_MANY_VIOLATIONS:
            text += f" (got {_short(self.value)})"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "pointer": self.pointer,
            "message": self.message,
            "value": self.value,
            "side": self.side,
            "operation_id": self.operation_id,
        }


def more_violations(count: int) -> str:
    """The words that count what a cut list leaves out (the emulator's 400 says the same)."""
    return f"and {count} more violation(s) of the contract, not listed"


def with_unlisted(found: list[Violation], unlisted: Mapping[str, int]) -> list[Violation]:
    """``found`` followed by ``unlisted`` (code -> how many, found after them and not made into violations): as it
    is when nothing is unlisted, else its first :data:`MAX_LISTED` and one ``TOO_MANY_VIOLATIONS`` counting the
    rest. ``found`` then holds at least :data:`MAX_LISTED` (the unlisted ones come after them)."""
    if not unlisted:
        return found
    rest = Counter(violation.code for violation in found[MAX_LISTED:])
    rest.update(unlisted)
    first = found[0]
    count = sum(rest.values())
    summary = Violation(TOO_MANY_VIOLATIONS, "", more_violations(count), dict(rest), first.side, first.operation_id)
    return [*found[:MAX_LISTED], summary]


def split_violations(
    violations: Iterable[Violation], left_out: Callable[[Violation], bool]
) -> tuple[list[Violation], list[Violation]]:
    """``violations`` split into those kept and those ``left_out`` says to leave out, in order. A
    ``TOO_MANY_VIOLATIONS`` is split by the codes it counts (each asked as a violation of that code, on its side):
    each part that counts any becomes a summary of its own, so ignoring a code leaves none of its violations counted
    among the kept ones, however many there were."""
    kept: list[Violation] = []
    out: list[Violation] = []
    for violation in violations:
        if violation.code != TOO_MANY_VIOLATIONS or not isinstance(violation.value, Mapping):
            (out if left_out(violation) else kept).append(violation)
            continue
        counts: tuple[dict[str, int], dict[str, int]] = ({}, {})
        for code, count in violation.value.items():
            probe = Violation(code, "", "", None, violation.side, violation.operation_id)
            counts[left_out(probe)][code] = count
        for part, into in zip(counts, (kept, out), strict=True):
            if part:
                into.append(replace(violation, message=more_violations(sum(part.values())), value=part))
    return kept, out


def total_violations(violations: Iterable[Violation]) -> int:
    """How many violations a list stands for: a ``TOO_MANY_VIOLATIONS`` counts those it says are not listed."""
    return sum(counts_by_code(violations).values())


def counts_by_code(violations: Iterable[Violation]) -> Counter[str]:
    """How many violations of each code a list stands for (a ``TOO_MANY_VIOLATIONS`` adds those it counts)."""
    counts: Counter[str] = Counter()
    for violation in violations:
        if violation.code == TOO_MANY_VIOLATIONS and isinstance(violation.value, Mapping):
            counts.update(violation.value)
        else:
            counts[violation.code] += 1
    return counts


def format_violations(violations: Sequence[Violation] | Iterable[Violation], context: str = "") -> str:
    """A readable block: the context line (operation, interaction), then one line per violation (a cut list's last
    line counts the rest; the header counts them all)."""
    items = list(violations)
    total = total_violations(items)
    header = f"{total} contract violation{'s' if total != 1 else ''}"
    if items and items[0].operation_id:
        header += f" in {items[0].operation_id}"
    if context:
        header += f"\n  {context}"
    lines = [header]
    for item in items:
        lines.append(f"  [{item.side}] {item}")
    return "\n".join(lines)
