"""hypothesis's pool of local literals, held empty while a fuzz campaign draws.

hypothesis (``hypothesis.internal.conjecture.providers``) mixes into its draws the short literals of every "local"
module loaded in ``sys.modules`` (not the standard library, not site-packages: an editable install of this package
counts), harvested by ``_get_local_constants`` once per input and cached in ``CONSTANTS_CACHE``. A derandomized
campaign's cases then depended on which local modules happened to be imported and on the literals written in them.
``fixed_constants_pool`` swaps that function for one returning an empty pool for the duration of a run, so the cases
depend only on the contract, the options and the seed. hypothesis's global pool (its own built-in constants) is kept.

Not thread-safe against another hypothesis test drawing in the same process at the same time (it would see the
empty pool too); neither route runs one concurrently with a fuzz run. Private API: if hypothesis drops these names,
this does nothing (tests/fuzz/test_fuzz_constants_pool.py pins them, so an upgrade fails there loudly).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["fixed_constants_pool"]


def _providers() -> Any | None:
    """hypothesis's providers module, or None when it lacks what this module replaces."""
    try:
        module: Any = importlib.import_module("hypothesis.internal.conjecture.providers")
    except ImportError:  # pragma: no cover - hypothesis moved the module
        return None
    names = ("_get_local_constants", "_local_constants", "CONSTANTS_CACHE")
    return module if all(hasattr(module, name) for name in names) else None


def _empty_pool(providers: Any) -> Any:
    """An empty pool, built like hypothesis's own initial ``_local_constants`` (same sets, same float key)."""
    template = providers._local_constants
    return type(template)(
        integers=type(template.integers)(),
        floats=type(template.floats)(key=template.floats.key),
        bytes=type(template.bytes)(),
        strings=type(template.strings)(),
    )


@contextmanager
def fixed_constants_pool() -> Iterator[None]:
    """While inside, hypothesis draws no literal of the local modules loaded; everything is restored on exit."""
    providers = _providers()
    if providers is None:
        yield
        return
    saved: Callable[[], Any] = providers._get_local_constants
    empty = _empty_pool(providers)
    providers._get_local_constants = lambda: empty
    providers.CONSTANTS_CACHE.cache.clear()  # cached (global, local) pools would carry the local literals in
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()  # and the empty ones must not leak out to other hypothesis tests
