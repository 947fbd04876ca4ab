"""pytest side of the cassettes: the pytest-recording hook and a per-test autouse fixture.

Loaded by the plugin for every run, so nothing heavy is imported here at module level: vcrpy, the
sanitizers and the contract engine are imported inside the hooks, and only for tests marked ``vcr``.

* ``pytest_recording_configure`` - every ``VCR`` pytest-recording builds gets this API's sanitizers,
  matchers, safe persister (atomic write + secret scan) and playback hooks (see ``pytest_runcommand.cassettes.vcr``);
* ``runcommand_cassette`` (autouse, acts only under ``@pytest.mark.vcr``) - while recording the test sees
  sanitized responses; in playback-only cassettes LRO polling does not wait; an unmatched request names
  the closest recorded one;
* the contract check of what a test recorded or replayed is the plugin's one traffic check: it reads the
  cassette's interactions through :func:`pytest_runcommand.cassettes.cassette_interactions`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["pytest_recording_configure", "runcommand_cassette"]


@pytest.hookimpl(optionalhook=True)
def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from pytest_runcommand.cassettes.vcr import configure_vcr

    configure_vcr(vcr)


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
    from pytest_runcommand.cassettes.playback import closest_match_errors, live_sanitized_view, no_wait_playback

    with contextlib.ExitStack() as stack:
        stack.enter_context(live_sanitized_view(cassette))
        stack.enter_context(closest_match_errors(cassette))
        stack.enter_context(no_wait_playback(cassette))
        yield cassette
