"""The built-in run commands a location offers (``GET .../locations/{location}/runCommands[/{commandId}]``).

Package data (``catalogue.json``), built from what Azure answered: the list recorded by the Azure CLI in westus and
by Azure PowerShell in eastus, the full ``RunShellScript`` and ``RunPowerShellScript`` documents as recorded (the
same script as the official ``RunCommand_Get`` example); its ``sources`` field names each file and commit. Every
location serves the same catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import orjson

__all__ = ["OS_TYPES", "document", "document_json", "entries", "os_type", "shared_document"]

OS_TYPES = ("Linux", "Windows")
_LIST_FIELDS = ("$schema", "id", "osType", "label", "description")
"""What a list entry (``RunCommandDocumentBase``) carries; a document adds ``script`` and ``parameters``."""


@cache
def _documents() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("catalogue.json").read_text(encoding="utf-8")
    return {doc["id"].lower(): doc for doc in json.loads(text)["commands"]}


def entries() -> list[dict[str, Any]]:
    """The list entries, in Azure's order (new dicts)."""
    return [{key: doc[key] for key in _LIST_FIELDS} for doc in _documents().values()]


def document(command_id: str) -> dict[str, Any] | None:
    """The whole document of ``command_id`` (case-insensitive), or None for a command Azure does not have."""
    found = _documents().get(command_id.lower())
    return json.loads(json.dumps(found)) if found is not None else None


def shared_document(command_id: str) -> Mapping[str, Any] | None:
    """The document of ``command_id`` as :func:`document`, shared (read, never change it): no copy per request."""
    return _documents().get(command_id.lower())


@cache
def _encoded() -> dict[str, bytes]:
    return {key: orjson.dumps(doc) for key, doc in _documents().items()}


def document_json(command_id: str) -> bytes | None:
    """The document of ``command_id`` as JSON bytes (encoded once), or None for a command Azure does not have."""
    return _encoded().get(command_id.lower())


def os_type(command_id: str) -> str | None:
    """``Linux`` or ``Windows`` for a built-in command id (case-insensitive), None for an unknown one."""
    found = _documents().get(command_id.lower())
    return str(found["osType"]) if found is not None else None
