"""Older names for the version facts, kept working: the versions and their sources live in :mod:`.facts`."""

from __future__ import annotations

__all__ = [
    "CONTRACT_API_VERSION",
    "CONTRACT_SOURCES",
    "DEFAULT_API_VERSION",
    "LATEST_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "ContractSource",
    "api_version_note",
]


from pytest_runcommand.contract.facts import (
    API_VERSIONS,
    CONTRACT_SOURCES,
    DEFAULT_API_VERSION,
    LATEST_API_VERSION,
    SUPPORTED_API_VERSIONS,
    ContractSource,
)

CONTRACT_API_VERSION = DEFAULT_API_VERSION
"""Deprecated alias of :data:`DEFAULT_API_VERSION` (every supported version now has its own contract)."""


def api_version_note(api_version: str | None) -> str | None:
    """Where the contract of ``api_version`` came from, or None when it is not supported."""
    if api_version is None:
        return None
    return API_VERSIONS.get(api_version)
