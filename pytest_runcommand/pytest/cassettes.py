"""pytest side of the cassettes: the pytest-recording hook and a per-test autouse fixture.

Loaded by the plugin for every run, so nothing heavy is imported here at module level: vcrpy, the
sanitizers and the contract engine are imported inside the hooks, and only for tests marked ``vcr``.

* ``pytest_recording_configure`` - every ``VCR`` pytest-recording builds gets this API's sanitizers,
  matchers, safe persister (atomic write + secret scan) and playback hooks (see ``pytest_runcommand.cassettes.vcr``);
* ``runcommand_cassette`` (autouse, acts only under ``@pytest.mark.vcr``) - while recording the test sees
  sanitized responses; in playback-only cassettes LRO polling does not wait; an unmatched request names
  the closest recorded one;
* a replay with no recorded match fails with :class:`~pytest_runcommand.cassettes.playback.CassetteMismatchError`'s
  message alone (cassette, sanitized request, record mode, the command that records it): the traceback's frames
  would show the request as the test sent it, secrets included; a cassette that cannot be read fails with
  its :class:`~pytest_runcommand.errors.InputError`'s message alone (the file and the place);
* the contract check of what a test recorded or replayed is the plugin's one traffic check: it reads the
  cassette's interactions through :func:`pytest_runcommand.cassettes.cassette_interactions`.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Generator, Iterator
from typing import Any

import pytest

__all__ = ["pytest_fixture_setup", "pytest_recording_configure", "pytest_runtest_makereport", "runcommand_cassette"]


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from pytest_runcommand.cassettes.vcr import configure_vcr

    configure_vcr(vcr)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, Any, Any]:
    """``--record-mode=rewrite`` keeps the previous cassette until a new one is written (pytest-recording deletes it
    first): see :mod:`pytest_runcommand.cassettes.rewrite`."""
    if fixturedef.argname == "vcr" and getattr(fixturedef.func, "__module__", "").startswith("pytest_recording"):
        from pytest_runcommand.cassettes.rewrite import set_aside_for_rewrite

        kept = set_aside_for_rewrite(request)
        if kept is not None:
            item = request.node

            def settle() -> None:
                note = kept.settle(test_failed=item.stash.get(_CALL_FAILED, False))
                if note is not None:
                    from pytest_runcommand.errors import RunCommandWarning

                    warnings.warn_explicit(note, RunCommandWarning, str(kept.path), 1)

            fixturedef.addfinalizer(settle)  # registered first: runs after the fixture's teardown (the save)
    return (yield)


_CALL_FAILED = pytest.StashKey[bool]()
"""Whether a test's call phase failed (a rewrite then keeps the previous cassette)."""


@pytest.fixture(autouse=True)
def runcommand_cassette(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The test's vcrpy cassette with this API's per-test behaviour installed (None without ``vcr``)."""
    if request.node.get_closest_marker("vcr") is None:
        yield None
        return
    try:
        cassette = request.getfixturevalue("vcr")
    except pytest.FixtureLookupError:  # pytest-recording disabled (-p no:recording)
        cassette = None
    if cassette is None:
        yield None
        return
    from pytest_runcommand.cassettes.playback import (
        closest_match_errors,
        exact_matches_first,
        live_sanitized_view,
        no_wait_playback,
    )

    with contextlib.ExitStack() as stack:
        stack.enter_context(live_sanitized_view(cassette))
        mode_option = request.config.getoption("--record-mode", default=None)
        stack.enter_context(closest_match_errors(cassette, test_id=request.node.nodeid, mode_option=mode_option))
        stack.enter_context(no_wait_playback(cassette))
        stack.enter_context(exact_matches_first(cassette))
        yield cassette


def _cassette_error(error: BaseException | None) -> BaseException | None:
    """The cassette mismatch or read error that ``error`` is or wraps (a client may wrap it), if any."""
    wanted = tuple(
        getattr(sys.modules.get(module), name, None) or _NEVER
        for module, name in (
            ("pytest_runcommand.cassettes.playback", "CassetteMismatchError"),
            ("pytest_runcommand.cassettes.persister", "_UnreadableCassette"),
        )
    )  # a module never imported raised nothing: no cassette was loaded or played back in this run
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, wanted):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


class _NEVER(BaseException):
    """Stands for an error class whose module was never imported."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """Show a replay with no recorded match, or a cassette that cannot be read, as its message alone: not the frames
    (of the plugin and vcrpy) that hold the unsanitized request."""
    report = yield
    if call.when == "call" and report.failed:
        item.stash[_CALL_FAILED] = True
    if call.excinfo is not None and report.failed:
        found = _cassette_error(call.excinfo.value)
        if found is not None:
            public = next(cls for cls in type(found).__mro__ if not cls.__name__.startswith("_"))
            report.longrepr = f"{public.__name__}: {found}"
    return report
