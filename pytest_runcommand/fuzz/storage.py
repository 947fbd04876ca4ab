"""Where hypothesis keeps its caches during a fuzz run: a temporary folder, on every route (nothing is written in the
working directory)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["hypothesis_storage"]


@contextmanager
def hypothesis_storage() -> Iterator[None]:
    """hypothesis's storage directory in a temporary folder for the run: nothing is written in the working directory.

    hypothesis keeps caches there (``unicode_data``: its character tables; ``constants``: the literals of local
    modules), rebuilt when missing; the run reads no example database from it (its settings name none, or
    ``--hypothesis-database``'s folder). A storage directory the user names (``HYPOTHESIS_STORAGE_DIRECTORY``) is used.
    """
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    from hypothesis import configuration

    before = getattr(configuration, "__hypothesis_home_directory", None)
    with tempfile.TemporaryDirectory(prefix="pytest-runcommand-hypothesis-") as folder:
        configuration.set_hypothesis_home_dir(folder)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(before)
