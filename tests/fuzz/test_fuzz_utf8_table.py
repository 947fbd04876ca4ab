"""hypothesis's table of the characters UTF-8 encodes is written into the run's temporary storage, so no process works
it out again: before, each process's first fuzz test (``AsyncOperations_Get``'s, first by name, in the pytest route and
on each xdist worker) spent about 1.5 s encoding all 1,114,112 code points, since the storage is new on every run.
The table written is the one hypothesis works out, and the run draws the same cases with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import configuration
from hypothesis.internal import charmap

from pytest_runcommand.fuzz import storage
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.storage import UTF8_TABLE, hypothesis_storage
from pytest_runcommand.fuzz.targets import emulator_target

ASYNC_GET = "AsyncOperations_Get"


@pytest.fixture
def fresh_tables(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No table in memory (this process may have one) and no storage the user names."""
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    charmap.intervals_from_codec.cache_clear()
    yield
    charmap.intervals_from_codec.cache_clear()


def _worked_out(home: Path) -> tuple[object, object]:
    """The table as hypothesis works it out, in a storage of its own with nothing cached."""
    before = getattr(configuration, "__hypothesis_home_directory", None)
    configuration.set_hypothesis_home_dir(home)
    try:
        assert not charmap.charmap_file(UTF8_TABLE).exists()
        encodable, lossy = charmap.intervals_from_codec.__wrapped__("utf-8")
    finally:
        configuration.set_hypothesis_home_dir(before)
    return encodable.intervals, lossy.intervals


@pytest.mark.usefixtures("fresh_tables")
def test_the_run_storage_holds_the_table_hypothesis_works_out(tmp_path: Path) -> None:
    expected = _worked_out(tmp_path)
    with hypothesis_storage():
        assert charmap.charmap_file(UTF8_TABLE).exists()  # written before the run draws anything
        encodable, lossy = charmap.intervals_from_codec.__wrapped__("utf-8")  # read from the file
    assert (encodable.intervals, lossy.intervals) == expected


@pytest.mark.usefixtures("fresh_tables")
def test_the_run_draws_the_same_cases_with_the_written_table(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = FuzzSettings(max_examples=10, operations=(ASYNC_GET,), modes=("positive", "negative"), stateful=False)

    def drawn() -> dict[str, str]:
        charmap.intervals_from_codec.cache_clear()
        with hypothesis_storage():
            return FuzzRunner(emulator_target(), settings).run().drawn

    seeded = drawn()
    monkeypatch.setattr(storage, "seed_utf8_table", lambda: None)  # hypothesis works the table out, as before
    assert drawn() == seeded
    assert len(seeded) == 2
