"""Which api-versions the bundled contract speaks for, and how each relates to 2024-07-01.

Established by comparing the run-command definitions and paths of each version's runCommand.json in
Azure/azure-rest-api-specs (and azure-mgmt-compute 39's models for 2026-04-01) with 2024-07-01:

- identical: same models and operations (descriptions aside);
- older: a subset (fields added later are simply absent), so traffic of that version validates against these models;
- newer: a superset (2025-04-01 adds ``source.scriptShell`` and ``source.galleryScriptReferenceId``; 2026-04-01 also
  ``systemData``); traffic that uses only the 2024-07-01 fields validates, the newer fields are reported as unknown.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CONTRACT_API_VERSION", "SUPPORTED_API_VERSIONS", "api_version_note"]

CONTRACT_API_VERSION = "2024-07-01"

_IDENTICAL = "identical run-command contract"
_OLDER = "older: a subset of the 2024-07-01 models (validated against them)"
_NEWER = "newer: a superset (scriptShell, galleryScriptReferenceId, systemData are not in this contract)"

SUPPORTED_API_VERSIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "2024-07-01": "the bundled contract",
        "2023-03-01": _IDENTICAL,
        "2023-07-01": _IDENTICAL,
        "2023-09-01": _IDENTICAL,
        "2024-03-01": _IDENTICAL,
        "2024-11-01": _IDENTICAL + " (the Azure CLI's version)",
        "2021-07-01": _OLDER,
        "2021-11-01": _OLDER,
        "2022-03-01": _OLDER,
        "2022-08-01": _OLDER,
        "2022-11-01": _OLDER,
        "2025-04-01": _NEWER,
        "2026-04-01": _NEWER + " (azure-mgmt-compute 39's default)",
    }
)
"""api-version -> how its run-command contract relates to the bundled one (only versions validated against it)."""


def api_version_note(api_version: str | None) -> str | None:
    """The relation of ``api_version`` to the bundled contract, or None when it is not covered."""
    if api_version is None:
        return None
    return SUPPORTED_API_VERSIONS.get(api_version)
