"""The pytest-recording seam: :func:`configure_vcr` installs this API's cassette behaviour on a ``vcr.VCR``.

:func:`configure_vcr` is what the ``pytest_recording_configure`` hook calls on every ``VCR`` that pytest-recording
builds. It keeps the user's own ``vcr_config``: their ``before_record_*`` hooks run first and the sanitizer after
them; their ``match_on`` or ``persister`` win over ours (a custom persister is still wrapped by the safe one). A
``vcr_config`` key ``runcommand_sanitizer`` (a :class:`~pytest_runcommand.cassettes.sanitize.Sanitizer`) replaces the
default rules. The parts live in their own modules: ``matchers``, ``hooks`` (sanitizing), ``persister`` (safe
load and save), ``playback`` (per-test behaviour) and ``patches`` (vcrpy and azure-core internals).

:func:`cassette_interactions` gives the interactions a test recorded or replayed as ``Interaction`` values.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from vcr.persisters.filesystem import FilesystemPersister

from pytest_runcommand.cassettes.hooks import Refusals, chain, request_sanitizer, response_sanitizer
from pytest_runcommand.cassettes.matchers import MATCH_ON, MATCHERS
from pytest_runcommand.cassettes.patches import cassette_arguments, cassette_path, loaded_count
from pytest_runcommand.cassettes.persister import Deferral, SafePersister, guarded_cassettes
from pytest_runcommand.cassettes.playback import zero_retry_after
from pytest_runcommand.cassettes.readers import pair_interaction
from pytest_runcommand.cassettes.sanitize import Sanitizer, default_sanitizer
from pytest_runcommand.errors import InputError
from pytest_runcommand.interactions import Interaction

__all__ = [
    "SANITIZER_KEY",
    "cassette_interactions",
    "configure_vcr",
]

SANITIZER_KEY = "runcommand_sanitizer"


def _as_list(hooks: Any) -> list[Any]:
    if hooks is None:
        return []
    if callable(hooks):
        return [hooks]
    return list(hooks)


def configure_vcr(vcr: Any, sanitizer: Sanitizer | None = None) -> None:
    """Install matchers, sanitizing hooks, the safe persister and playback hooks on a ``vcr.VCR``."""
    default = sanitizer or default_sanitizer()
    for name, matcher in MATCHERS.items():
        vcr.register_matcher(name, matcher)
    vcr.match_on = MATCH_ON
    deferral = Deferral()
    vcr.register_persister(SafePersister(vcr.persister or FilesystemPersister, default))
    original = vcr.get_merged_config
    if getattr(original, "_runcommand", False):
        return
    original_use = vcr.use_cassette
    guarded = guarded_cassettes(deferral)

    def use_cassette(path: Any = None, **kwargs: Any) -> Any:
        if path is not None and not isinstance(path, str | os.PathLike):  # a bare @use_cassette: path is the function
            return use_cassette(**kwargs)(path)
        manager = original_use(path, **kwargs)
        return guarded(manager.cls, cassette_arguments(manager))

    def get_merged_config(**kwargs: Any) -> dict[str, Any]:
        chosen = kwargs.pop(SANITIZER_KEY, None) or default
        if not isinstance(chosen, Sanitizer):
            raise InputError(f"vcr_config[{SANITIZER_KEY!r}] must be a Sanitizer, got {type(chosen).__name__}")
        chosen = chosen.fresh()
        refusals = Refusals()
        config: dict[str, Any] = original(**kwargs)
        config["before_record_request"] = chain(
            config.get("before_record_request"), request_sanitizer(chosen, refusals)
        )
        config["before_record_response"] = chain(
            config.get("before_record_response"), response_sanitizer(chosen, refusals)
        )
        persister = config.get("persister") or FilesystemPersister
        config["persister"] = SafePersister(persister, chosen, deferral, refusals)
        config["after_load_interaction"] = [*_as_list(config.get("after_load_interaction")), zero_retry_after]
        return config

    get_merged_config._runcommand = True  # type: ignore[attr-defined]
    vcr.get_merged_config = get_merged_config
    vcr.use_cassette = use_cassette


def cassette_interactions(cassette: Any, *, used_only: bool = True) -> Iterator[Interaction]:
    """The interactions of a vcrpy ``Cassette`` as ``Interaction`` values, in cassette order.

    With ``used_only`` (the default) only those this test recorded or replayed: loaded interactions that were played
    back, and every interaction appended during the run. Values are the sanitized ones that are (or will be) on
    disk. ``source`` is ``<cassette file>#<index>``.
    """
    loaded = loaded_count(cassette)
    played = getattr(cassette, "play_counts", {})
    name = cassette_path(cassette).name
    for index, (request, response) in enumerate(cassette.data):
        if used_only and index < loaded and not played.get(index):
            continue
        yield pair_interaction(request, response, f"{name}#{index}")
