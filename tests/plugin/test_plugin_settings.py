"""Settings: every value of --runcommand-fail-under and --runcommand-report is accepted or named as wrong."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.errors import UsageError
from pytest_runcommand.pytest.settings import OPTIONS, _percentage, _report_path


@settings(deadline=None)  # a shared, loaded machine must not fail a property on time
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_threshold_is_a_percentage_or_a_usage_error(value: float) -> None:
    for text in (repr(value), f"{value}%", str(value)):
        if math.isfinite(value) and 0 <= value <= 100:
            assert _percentage(text) == pytest.approx(value)
        else:
            with pytest.raises(UsageError, match=r"--runcommand-fail-under\) takes a percentage 0-100"):
                _percentage(text)


@settings(deadline=None)  # a shared, loaded machine must not fail a property on time
@given(st.text(max_size=12))
def test_any_text_as_a_threshold_is_accepted_or_named(text: str) -> None:
    message = ""
    value = None
    try:
        value = _percentage(text)
    except UsageError as error:
        message = str(error)
    if message:
        assert "runcommand_fail_under (--runcommand-fail-under)" in message
    elif text:
        assert value is not None
        assert 0 <= value <= 100
    else:
        assert value is None


def test_no_threshold_and_no_report_are_nothing() -> None:
    assert _percentage("") is None
    assert _report_path("") == ""


@settings(deadline=None)  # a shared, loaded machine must not fail a property on time
@given(
    st.sampled_from(
        ["r.json", "out/r.json", "r", "r.JSON", "r.html", "r.HTM", "out/page.htm", "r.xml", "r.txt", "r-1.5", "r.2026"]
    )
)
def test_a_report_path_is_the_json_one(given_path: str) -> None:
    if Path(given_path).suffix.lower() in (".html", ".htm", ".xml", ".txt"):
        with pytest.raises(UsageError, match="takes the JSON path"):
            _report_path(given_path)
    else:
        assert _report_path(given_path) == given_path


def test_the_help_names_each_default_once(pytester: pytest.Pytester) -> None:
    text = " ".join(pytester.runpytest("--help").stdout.str().split())
    for option in OPTIONS:
        start = text.index(f"{option.ini} (")
        entry = text[start : text.index(")", text.index("(default:", start)) + 2]
        assert entry.count("(default:") == 1, entry
        assert "(default:" not in text[start + len(entry) : start + len(entry) + 12], entry


def test_no_json_path_is_suggested_where_none_would_do(tmp_path: Path) -> None:
    """Review 13, a side note of finding 7: ``/dev/stdout.html`` suggested ``/dev/stdout.json``, which is refused
    too where /dev is not writable; the suggestion is made only of a path that would do (here the JSON path is a
    FIFO, written through, not a regular file)."""
    import os

    os.mkfifo(tmp_path / "r.json")
    with pytest.raises(UsageError, match=r"takes a regular file's JSON path .*r\.html' is not one"):
        _report_path(str(tmp_path / "r.html"))
    with pytest.raises(UsageError, match=r"use '.*new/r\.json' instead"):
        _report_path(str(tmp_path / "new" / "r.html"))
    assert not (tmp_path / "new").exists()  # a refused path leaves no folder (review 12, finding 9)
