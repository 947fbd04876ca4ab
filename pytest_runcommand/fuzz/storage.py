"""Where hypothesis keeps its caches during a fuzz run: a temporary folder, on every route (nothing is written in the
working directory)."""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress

__all__ = ["UTF8_TABLE", "hypothesis_storage"]

UTF8_TABLE = "codec-v2-utf-8"
"""The name of hypothesis's cached table of what UTF-8 encodes (``charmap.intervals_from_codec``), in its storage's
``unicode_data/<version>/`` folder."""
_SURROGATES = (0xD800, 0xDFFF)


@contextmanager
def hypothesis_storage() -> Iterator[None]:
    """hypothesis's storage directory in a temporary folder for the run: nothing is written in the working directory.

    hypothesis keeps caches there (``unicode_data``: its character tables; ``constants``: the literals of local
    modules), rebuilt when missing; the run reads no example database from it (its settings name none, or
    ``--hypothesis-database``'s folder). A storage directory the user names (``HYPOTHESIS_STORAGE_DIRECTORY``) is used.
    The table of the characters UTF-8 encodes is written there first (:func:`seed_utf8_table`).
    """
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    from hypothesis import configuration

    before = getattr(configuration, "__hypothesis_home_directory", None)
    with tempfile.TemporaryDirectory(prefix="pytest-runcommand-hypothesis-") as folder:
        configuration.set_hypothesis_home_dir(folder)
        try:
            seed_utf8_table()
            yield
        finally:
            configuration.set_hypothesis_home_dir(before)


def seed_utf8_table() -> None:
    """Write hypothesis's table of the characters UTF-8 encodes where it reads it, unless it is there.

    schemathesis draws strings with ``codec="utf-8"``; without the table hypothesis encodes each of the 1,114,112
    code points to work it out (about 1.5 s, in each process's first fuzz test: the storage is new on every run).
    UTF-8 encodes every code point but the surrogates, each back to itself: the same table, written in a moment.
    """
    try:
        from hypothesis.internal.charmap import charmap_file
    except ImportError:  # another hypothesis: it works the table out itself
        return
    path = charmap_file(UTF8_TABLE)
    if path.exists():
        return
    low, high = _SURROGATES
    table = [[[0, low - 1], [high + 1, sys.maxunicode]], []]  # encodable; encodable but not round-tripping
    with suppress(OSError):  # best effort, as hypothesis's own cache
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.GzipFile(path, "wb", mtime=1) as file:
            file.write(json.dumps(table).encode())
