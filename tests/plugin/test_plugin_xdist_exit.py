"""A pytest-xdist run's exits: the heap is frozen for the shutdown collections, last, in the workers and their
controller only (not in a plain run)."""

from __future__ import annotations

import json

import pytest

CONFTEST = """
import atexit, gc, json, os

_WHO = os.environ.get("PYTEST_XDIST_WORKER", "main")


def _at_exit(when):
    path = os.path.join({folder!r}, f"exit-{{_WHO}}-{{when}}.json")
    with open(path, "w") as handle:
        json.dump(gc.get_freeze_count(), handle)


atexit.register(_at_exit, "registered-before-the-plugin-configured")  # so called after the plugin's own
"""

TESTS = """
import atexit
from conftest import _at_exit


def test_registers_an_exit_hook_during_the_session():
    atexit.register(_at_exit, "registered-during-the-session")  # so called before the plugin's own


def test_other():
    pass
"""


def run(pytester: pytest.Pytester, *args: str) -> None:
    for old in pytester.path.glob("exit-*.json"):
        old.unlink()
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args).assert_outcomes(passed=2)


def frozen_at_exit(pytester: pytest.Pytester, who: str) -> dict[str, int]:
    found = {}
    for when in ("registered-before-the-plugin-configured", "registered-during-the-session"):
        path = pytester.path / f"exit-{who}-{when}.json"
        if path.exists():
            found[when] = json.loads(path.read_text())
    return found


def test_workers_and_their_controller_freeze_their_heap_at_exit_after_the_hooks_registered_later_not_a_plain_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # this suite's own worker, if it runs under xdist
    pytester.makeconftest(CONFTEST.format(folder=str(pytester.path)))
    pytester.makepyfile(test_exit=TESTS)
    run(pytester)
    assert frozen_at_exit(pytester, "main") == {
        "registered-before-the-plugin-configured": 0,
        "registered-during-the-session": 0,
    }
    run(pytester, "-n", "2")
    workers = [frozen_at_exit(pytester, f"gw{index}") for index in range(2)]
    assert all(found["registered-before-the-plugin-configured"] > 10_000 for found in workers)
    assert sorted(found.get("registered-during-the-session", -1) for found in workers) == [-1, 0]
    controller = frozen_at_exit(pytester, "main")  # it runs no test: only the hook registered at start-up
    assert list(controller) == ["registered-before-the-plugin-configured"]
    assert controller["registered-before-the-plugin-configured"] > 10_000


def test_with_the_plugin_disabled_no_worker_freezes_its_heap(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeconftest(CONFTEST.format(folder=str(pytester.path)))
    pytester.makepyfile(test_exit=TESTS)
    run(pytester, "-p", "no:runcommand", "-n", "2")
    found = [frozen_at_exit(pytester, who) for who in ("gw0", "gw1", "main")]
    assert [sorted(set(each.values())) for each in found] == [[0], [0], [0]]
