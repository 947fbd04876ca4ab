"""Under pytest-xdist, tests using a fixture declared long are spread over the first two thirds of the run."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pytest_runcommand.pytest.plugin import spread_long_tests

LONG = frozenset({"slow_fixture"})


def items(kinds: str) -> list[Any]:
    """One fake item per letter: ``L`` uses the long fixture, ``S`` is marked slow, ``q`` neither; named by letter
    and position."""
    return [
        SimpleNamespace(
            name=f"{kind}{index}",
            fixturenames=["slow_fixture"] if kind == "L" else ["tmp_path"],
            get_closest_marker=(lambda name, kind=kind: object() if kind == "S" and name == "slow" else None),
        )
        for index, kind in enumerate(kinds)
    ]


def names(ordered: list[Any]) -> list[str]:
    return [item.name for item in ordered]


@pytest.mark.parametrize(
    "kinds",
    ["q" * 9 + "LL", "L" * 4 + "q" * 40, "q" * 20 + "L" * 16 + "q" * 20, "Lq", "LqqqL", "q" * 5 + "L" * 30],
)
def test_a_permutation_that_keeps_each_group_in_order_and_the_long_tests_in_the_first_two_thirds(kinds: str) -> None:
    given = items(kinds)
    ordered = spread_long_tests(given, LONG)
    assert sorted(names(ordered)) == sorted(names(given))
    long_names = [name for name in names(ordered) if name.startswith("L")]
    quick_names = [name for name in names(ordered) if name.startswith("q")]
    assert long_names == [item.name for item in given if item.name.startswith("L")]
    assert quick_names == [item.name for item in given if item.name.startswith("q")]
    last_long = max(position for position, name in enumerate(names(ordered)) if name.startswith("L"))
    quick_before = sum(1 for name in names(ordered)[:last_long] if name.startswith("q"))
    assert quick_before <= 2 * len(quick_names) // 3


def test_long_tests_are_spread_not_bunched() -> None:
    ordered = names(spread_long_tests(items("q" * 30 + "L" * 3), LONG))
    positions = [position for position, name in enumerate(ordered) if name.startswith("L")]
    assert positions == [0, 7, 14]


def test_a_test_marked_slow_counts_as_long() -> None:
    ordered = names(spread_long_tests(items("q" * 12 + "S" + "L"), LONG))
    assert ordered[0] == "S12"
    assert ordered[5] == "L13"


def test_nothing_declared_or_everything_long_keeps_the_order() -> None:
    for kinds, long in (("qLqL", frozenset()), ("LLL", LONG), ("qqq", LONG)):
        given = items(kinds)
        assert spread_long_tests(given, long) == given


CONFTEST = """
import json, os
import pytest
from pytest_runcommand.pytest.settings import runs_long

runs_long("slow_fixture")


@pytest.fixture
def slow_fixture():
    return 1


def pytest_collection_finish(session):
    with open(f"order-{os.environ.get('PYTEST_XDIST_WORKER', 'none')}.json", "w") as handle:
        json.dump([item.name for item in session.items], handle)
"""

TESTS = """
import pytest

@pytest.mark.parametrize("index", range(12))
def test_quick(index):
    pass

@pytest.mark.parametrize("index", range(2))
def test_long(slow_fixture, index):
    pass
"""


def test_the_workers_order_spreads_the_declared_long_tests_and_a_plain_run_keeps_its_order(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # this suite's own worker, if it runs under xdist
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_order=TESTS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=14)
    plain = (pytester.path / "order-none.json").read_text()
    assert plain.index("test_quick[11]") < plain.index("test_long[0]")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2").assert_outcomes(passed=14)
    workers = [(pytester.path / f"order-gw{index}.json").read_text() for index in range(2)]
    assert workers[0] == workers[1]
    assert workers[0].startswith(
        '["test_long[0]", "test_quick[0]", "test_quick[1]", "test_quick[2]", "test_quick[3]", "test_long[1]"'
    )


def test_the_fuzz_fixture_is_declared_long() -> None:
    from pytest_runcommand.pytest import fuzz  # noqa: F401 - its import makes the declaration, as the plugin's does
    from pytest_runcommand.pytest.settings import long_fixtures

    assert "runcommand_schema" in long_fixtures()
