"""One exchange, counted once: a carrier's copy (a cassette's, sanitized) cancels the live copy a client saw."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit

from pytest_runcommand.interactions import Interaction

__all__ = ["exchange_key", "without_carried"]

_SUBSCRIPTION_SEGMENT = re.compile(r"/subscriptions/[^/]+", re.IGNORECASE)


def exchange_key(interaction: Interaction) -> tuple[str, str, int | None]:
    """What identifies an exchange whichever carrier saw it: method, path (any subscription id), status.

    A cassette keeps the sanitized exchange (subscription id replaced, query signatures cut, another host while
    replaying); the client saw the live one. Both give the same key.
    """
    path = _SUBSCRIPTION_SEGMENT.sub("/subscriptions/*", urlsplit(interaction.url).path.rstrip("/").lower())
    return interaction.method.upper(), path, interaction.status


def without_carried(seen: Iterable[Interaction], carried: Iterable[Interaction]) -> list[Interaction]:
    """The exchanges of ``seen`` that ``carried`` does not account for (each carried exchange cancels one seen)."""
    remaining = Counter(exchange_key(interaction) for interaction in carried)
    kept = []
    for interaction in seen:
        key = exchange_key(interaction)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            kept.append(interaction)
    return kept
