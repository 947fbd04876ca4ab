"""The api-versions the bundled contract speaks, and the official file each version's contract was compared with.

Each version has its own contract (``spec/runcommands-2024-07-01.json`` changed by that version's entry in
``spec/versions.json``); the equivalence tests prove each one equal, fact by fact, to the official Swagger named here
(Azure/azure-rest-api-specs, at the commit given). Cheap to import: plain constants.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "CONTRACT_API_VERSION",
    "CONTRACT_SOURCES",
    "DEFAULT_API_VERSION",
    "LATEST_API_VERSION",
    "SUPPORTED_API_VERSIONS",
    "ContractSource",
    "api_version_note",
]


class ContractSource(NamedTuple):
    """Where a version's contract came from: a file of Azure/azure-rest-api-specs at a commit."""

    path: str
    commit: str

    def __str__(self) -> str:
        return f"Azure/azure-rest-api-specs {self.path} at {self.commit[:7]}"


_COMPUTE = "specification/compute/resource-manager/Microsoft.Compute"
_TYPESPEC = " (run-command paths and definitions of the TypeSpec-generated file)"


def _old(version: str, commit: str) -> ContractSource:
    return ContractSource(f"{_COMPUTE}/stable/{version}/runCommands.json", commit)


def _rp(version: str, commit: str) -> ContractSource:
    return ContractSource(f"{_COMPUTE}/ComputeRP/stable/{version}/runCommand.json", commit)


def _typespec(version: str, commit: str) -> ContractSource:
    return ContractSource(f"{_COMPUTE}/Compute/stable/{version}/ComputeRP.json{_TYPESPEC}", commit)


CONTRACT_SOURCES: MappingProxyType[str, ContractSource] = MappingProxyType(
    {
        "2021-03-01": _old("2021-03-01", "76b5b13d72dcf80b8f6021e040b01299d1269ccf"),
        "2021-04-01": _old("2021-04-01", "186661d0fab465b7c146635af004b720ab5c70fd"),
        "2021-07-01": _old("2021-07-01", "9616e8a1e6d216d648a1d8d5f16a934f474b2790"),
        "2021-11-01": _old("2021-11-01", "3ac4db792394341031a2e67ab735dc2dfad3a54d"),
        "2022-03-01": _rp("2022-03-01", "31c65e1b80195ae589bc7f4b3d9a0c850c668b3c"),
        "2022-08-01": _rp("2022-08-01", "16979b15c39ab42e928e953254e15aba7107bf37"),
        "2022-11-01": _rp("2022-11-01", "b8881d91470458dea7e060bc1c236524ce1bce97"),
        "2023-03-01": _rp("2023-03-01", "aedce9828dac759c73c4a031a08693c152ef0f59"),
        "2023-07-01": _rp("2023-07-01", "c865aedabcf3ffd61dbb0df831b7061cd2ce44ab"),
        "2023-09-01": _rp("2023-09-01", "6f0b668ff5afe574dcd61d4e531bc4ccf5bce59b"),
        "2024-03-01": _rp("2024-03-01", "aedce9828dac759c73c4a031a08693c152ef0f59"),
        "2024-07-01": _rp("2024-07-01", "5d42328cb6e57628dd6d11664363278a7db8fb20"),
        "2024-11-01": _rp("2024-11-01", "f8129f5826986fbf64404f1e9762452e7c1feefa"),
        "2025-04-01": _rp("2025-04-01", "1efc75768ca3caf3124cedaedebc99e879fcb300"),
        "2025-11-01": _typespec("2025-11-01", "002033a67156608115600fa7d4674b441acfe1b5"),
        "2026-03-01": _typespec("2026-03-01", "07fffca113ed57ecd7f86be5bc0e07fdc3222661"),
        "2026-04-01": _typespec("2026-04-01", "030174c776bbc013251bc13957bbff81f0a21bd4"),
    }
)
"""api-version -> the official file (and commit) its contract equals, oldest version first."""

SUPPORTED_API_VERSIONS: MappingProxyType[str, str] = MappingProxyType(
    {version: str(source) for version, source in CONTRACT_SOURCES.items()}
)
"""api-version -> where that version's contract came from (one line), oldest version first."""

DEFAULT_API_VERSION = "2024-07-01"
"""The api-version used when none is given: the version of the documented "Run Commands - Update" operation."""

LATEST_API_VERSION = max(CONTRACT_SOURCES)
"""The newest supported api-version (azure-mgmt-compute 39's default)."""

CONTRACT_API_VERSION = DEFAULT_API_VERSION
"""Deprecated alias of :data:`DEFAULT_API_VERSION` (every supported version now has its own contract)."""


def api_version_note(api_version: str | None) -> str | None:
    """Where the contract of ``api_version`` came from, or None when it is not supported."""
    if api_version is None:
        return None
    return SUPPORTED_API_VERSIONS.get(api_version)
