"""Every use of a private API of vcrpy or azure-core, in one place, each naming the versions it was checked with.

A private name that is gone raises :class:`IncompatibleLibraryError` saying which library, which name, the version
installed and the version checked, instead of failing somewhere inside a test or silently doing nothing.

=====================================================  ==============  ===================================
private API                                            checked with    why
=====================================================  ==============  ===================================
``vcr.stubs.httpx_stubs._record_responses``            vcrpy 9.4.2     hand a recording test the sanitized
                                                                       response (httpx)
``Cassette._loaded_count``, ``Cassette._path``         vcrpy 9.4.2     which interactions a test used
``CassetteContextDecorator._args_getter``              vcrpy 9.4.2     guard every use of a cassette
``Cassette._responses``,                               vcrpy 9.4.2     play an exact match before one at a
``Cassette._before_record_request``                                    placeholder
``LROBasePolling._delay``,                             azure-core      skip the polling delay on replay
``AsyncLROBasePolling._delay``                         1.41.0
=====================================================  ==============  ===================================
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_runcommand.errors import RunCommandError

__all__ = [
    "AZURE_CORE_CHECKED",
    "VCRPY_CHECKED",
    "IncompatibleLibraryError",
    "cassette_arguments",
    "cassette_path",
    "loaded_count",
    "patch_azure_polling_delay",
    "patch_httpx_record_responses",
    "replace_cassette_responses",
]

VCRPY_CHECKED = "9.4.2"
AZURE_CORE_CHECKED = "1.41.0"

Undo = Callable[[], None]


class IncompatibleLibraryError(RunCommandError):
    """A private API of vcrpy or azure-core that pytest-runcommand relies on is not there."""


def _installed(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def _require(owner: Any, name: str, distribution: str, checked: str) -> Any:
    where = getattr(owner, "__name__", type(owner).__name__)
    if not hasattr(owner, name):
        raise IncompatibleLibraryError(
            f"{distribution} {_installed(distribution)} has no {where}.{name}, a private API pytest-runcommand "
            f"relies on (checked with {distribution} {checked}); install {distribution}=={checked}"
        )
    return getattr(owner, name)


def loaded_count(cassette: Any) -> int:
    """How many interactions of ``cassette.data`` came from the file (vcrpy's ``Cassette._loaded_count``)."""
    return int(_require(cassette, "_loaded_count", "vcrpy", VCRPY_CHECKED) or 0)


def cassette_path(cassette: Any) -> Path:
    """The file of a vcrpy ``Cassette`` (its ``_path``)."""
    return Path(str(_require(cassette, "_path", "vcrpy", VCRPY_CHECKED)))


def cassette_arguments(manager: Any) -> Callable[[], dict[str, Any]]:
    """What a vcrpy ``CassetteContextDecorator`` builds its cassette from on each use (its ``_args_getter``)."""
    getter: Callable[[], dict[str, Any]] = _require(manager, "_args_getter", "vcrpy", VCRPY_CHECKED)
    return getter


def patch_httpx_record_responses(wrap: Callable[[Callable[..., None]], Callable[..., None]]) -> Undo:
    """Replace ``vcr.stubs.httpx_stubs._record_responses`` with ``wrap(original)``; returns the undo.

    Without httpx (so without vcrpy's httpx stubs) there is nothing to patch.
    """
    try:
        from vcr.stubs import httpx_stubs
    except ImportError:  # pragma: no cover - httpx not installed
        return lambda: None
    original = _require(httpx_stubs, "_record_responses", "vcrpy", VCRPY_CHECKED)
    replacement = wrap(original)
    httpx_stubs._record_responses = replacement

    def undo() -> None:
        if httpx_stubs._record_responses is replacement:
            httpx_stubs._record_responses = original

    return undo


def patch_azure_polling_delay() -> list[Undo]:
    """Make azure-core's LRO polling delay a no-op (sync and async); returns the undos.

    Without azure-core installed there is nothing to patch (replay must work without the Azure SDK).
    """
    try:
        from azure.core.polling import async_base_polling, base_polling
    except ImportError:
        return []

    def no_delay(self: Any) -> None:
        return None

    async def no_delay_async(self: Any) -> None:
        return None

    undo: list[Undo] = []
    for cls, replacement in (
        (base_polling.LROBasePolling, no_delay),
        (async_base_polling.AsyncLROBasePolling, no_delay_async),
    ):
        _require(cls, "_delay", "azure-core", AZURE_CORE_CHECKED)
        own = cls.__dict__.get("_delay")
        setattr(cls, "_delay", replacement)  # noqa: B010

        def restore(cls: Any = cls, own: Any = own) -> None:
            if own is None:
                with contextlib.suppress(AttributeError):
                    delattr(cls, "_delay")
            else:
                setattr(cls, "_delay", own)  # noqa: B010

        undo.append(restore)
    return undo


def replace_cassette_responses(cassette: Any, wrap: Callable[[Callable[[Any], Any]], Callable[[Any], Any]]) -> Undo:
    """Make ``wrap(original)`` the ``_responses`` of this one vcrpy ``Cassette`` (the matching ``(index, response)``
    pairs, in the order playback tries them; ``wrap``'s function may call the cassette's ``_before_record_request``,
    the request as the matchers see it); returns the undo."""
    original = _require(cassette, "_responses", "vcrpy", VCRPY_CHECKED)
    _require(cassette, "_before_record_request", "vcrpy", VCRPY_CHECKED)  # what ``wrap`` may call: checked here
    cassette._responses = wrap(original)

    def undo() -> None:
        with contextlib.suppress(AttributeError):
            del cassette._responses

    return undo
