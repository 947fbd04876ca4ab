"""The example database: failures saved, tried first next time, each reported once in its shrunk form.

Off by default (a run is derandomized and draws the same cases every time). With a database directory, hypothesis
does not derandomize: each run replays the saved failures first (``Phase.reuse``), then draws from the seed's stream
when a seed is given (:func:`seed_stream`: ``hypothesis.seed`` itself would switch the database off), else from a
fresh random one. Failures are raised into hypothesis so that it saves them, replays them first on the next run and
shrinks them. Each distinct failure (operation, check, kind) raises its own exception class, so hypothesis keeps them
apart; its final replay of the smallest case is what the report shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import Phase
from hypothesis import settings as hypothesis_settings
from hypothesis.control import current_build_context
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.errors import InvalidArgument

__all__ = [
    "DEFAULT_DATABASE",
    "FindingRaised",
    "database_settings",
    "finding_error",
    "is_final",
    "seed_stream",
    "swallow_findings",
]

DEFAULT_DATABASE = Path(".hypothesis")
"""Where ``--hypothesis-database`` without a value keeps examples (hypothesis's own default place)."""


class FindingRaised(Exception):
    """A failure the runner already recorded, raised into hypothesis so it is saved and shrunk."""


_CLASSES: dict[str, type[FindingRaised]] = {}


def finding_error(key: str) -> FindingRaised:
    """The exception for the finding ``key``: one class per key, which is how hypothesis tells failures apart."""
    kind = _CLASSES.get(key)
    if kind is None:
        kind = _CLASSES[key] = type(f"_Finding_{key}", (FindingRaised,), {"__module__": __name__})
    return kind(key)


def is_final() -> bool:
    """True while hypothesis replays the shrunk case it reports (and outside a test, never)."""
    try:
        return bool(current_build_context().is_final)
    except InvalidArgument:
        return False


def database_settings(base: hypothesis_settings, directory: Path) -> hypothesis_settings:
    """``base`` with the database at ``directory``, no derandomizing, and the reuse and shrink phases on."""
    return hypothesis_settings(
        base,
        database=DirectoryBasedExampleDatabase(str(directory)),
        derandomize=False,
        phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
        report_multiple_bugs=True,
    )


def seed_stream(test: Any, seed: int | None) -> None:
    """Seed a hypothesis test (a ``@given`` function or a state machine class) and keep its database.

    ``hypothesis.seed`` also sets the test's database to None; the seed alone is what it reads when drawing.
    """
    if seed is not None:
        test._hypothesis_internal_use_seed = seed


@contextmanager
def swallow_findings() -> Iterator[None]:
    """Let the findings hypothesis re-raises at the end pass (they are in the report); anything else propagates."""
    try:
        yield
    except FindingRaised:
        pass
    except BaseExceptionGroup as group:
        rest = group.split(FindingRaised)[1]
        if rest is not None:
            raise rest from None
