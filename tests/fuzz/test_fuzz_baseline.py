"""Baseline files: stable keys, a round trip, and any bad file refused naming it (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.errors import InputError
from pytest_runcommand.fuzz.baseline import Baseline, failure_key

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
CONTENT = st.one_of(
    st.binary(max_size=64),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.dictionaries(st.text(max_size=5), JSON, max_size=3).map(
        lambda failures: json.dumps({"version": 1, "failures": failures}).encode()
    ),
    st.just(b"[" * 50_000 + b"]" * 50_000),
    st.just(b"\xef\xbb\xbf{}"),
)


def test_keys_are_stable_and_distinct() -> None:
    assert failure_key("Op", "check", "kind") == failure_key("Op", "check", "kind")
    assert len({failure_key("Op", "check", "a"), failure_key("Op", "checka", ""), failure_key("Opcheck", "", "a")}) == 3


def test_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "known.json"
    entries = {
        "b": {"operation": "Op", "check": "c", "title": "t"},
        "a": {"operation": "Op", "check": "c", "title": "u"},
    }
    Baseline.write(path, entries)
    assert Baseline.load(path).entries == entries
    assert list(json.loads(path.read_text())["failures"]) == ["a", "b"]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nonexistent\.json: no such baseline file"):
        Baseline.load(tmp_path / "nonexistent.json")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=CONTENT)
def test_any_file_loads_or_is_refused_by_name(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "known.json"
    path.write_bytes(content)
    refused: InputError | None = None
    try:
        baseline = Baseline.load(path)
    except InputError as error:
        refused = error
    if refused is not None:
        assert str(refused).startswith(str(path))
        assert "\n" not in str(refused)
    else:
        assert all(isinstance(value, dict) for value in baseline.entries.values())
