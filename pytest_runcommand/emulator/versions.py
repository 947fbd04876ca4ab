"""Each api-version spoken: the fields a version's answers carry, and those a write at that version leaves alone.

Nothing here names a field: every answer is the full resource cut down to what the request's api-version defines,
as the contract says (:func:`pytest_runcommand.contract.facts.definition_properties`). So ``systemData`` shows from
2025-11-01 only, ``treatFailureAsDeploymentFailure`` from 2023-03-01, ``scriptShell`` and
``galleryScriptReferenceId`` from 2025-04-01. A write at an older version keeps what that version does not define
(:func:`kept_on_write`), so one resource seen through two versions shows each its own shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, NamedTuple

from pytest_runcommand.contract import facts
from pytest_runcommand.models import DEFINITIONS

__all__ = ["Kept", "defines", "kept_on_write", "shape", "shape_is_identity"]

RESOURCE = "VirtualMachineRunCommand"
PROPERTIES = "VirtualMachineRunCommandProperties"
SOURCE = "VirtualMachineRunCommandScriptSource"
INSTANCE_VIEW = "VirtualMachineRunCommandInstanceView"
_NESTED = (("properties", PROPERTIES), ("source", SOURCE), ("instanceView", INSTANCE_VIEW))
"""Where the definitions that differ between versions sit in a run command (``properties``, ``properties.source``,
``properties.instanceView``). Cut with plain dict lookups: ``facts.keep_known`` walks the whole schema, which costs
more than the rest of an answer; the conftest of the emulator tests validates every answer at its own version."""


@cache
def fields_at(api_version: str, definition: str) -> frozenset[str]:
    """Wire names of the properties ``definition`` has at ``api_version``."""
    return facts.definition_properties(api_version, definition)


@cache
def _complete(api_version: str) -> bool:
    """Whether ``api_version`` defines every field the latest one does, in every definition (nothing to cut)."""
    latest = facts.LATEST_API_VERSION
    return all(fields_at(latest, name) <= fields_at(api_version, name) for name in DEFINITIONS)


def shape_is_identity(api_version: str) -> bool:
    """Whether :func:`shape` leaves every resource as it is at ``api_version`` (it defines every field)."""
    return _complete(api_version)


def defines(api_version: str, definition: str, field: str) -> bool:
    """Whether ``definition`` has the property ``field`` (a wire name) at ``api_version``."""
    return field in fields_at(api_version, definition)


def shape(resource: dict[str, Any], api_version: str) -> dict[str, Any]:
    """``resource`` (a run command's wire JSON) with only the fields ``api_version`` defines (objects that lose a
    field are copied, the others shared)."""
    if _complete(api_version):
        return resource
    return _cut(resource, RESOURCE, api_version)


def _cut(node: dict[str, Any], definition: str, api_version: str) -> dict[str, Any]:
    known, nested_known = _known(api_version, definition)
    out = node if node.keys() <= known else {key: value for key, value in node.items() if key in known}
    for key, nested in nested_known:
        value = out.get(key)
        if type(value) is dict:
            cut = _cut(value, nested, api_version)
            if cut is not value:
                if out is node:
                    out = dict(node)
                out[key] = cut
    return out


@cache
def _known(api_version: str, definition: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The fields ``definition`` has at ``api_version``, and those of them that hold a definition to cut too."""
    known = fields_at(api_version, definition)
    return known, tuple((key, nested) for key, nested in _NESTED if key in known)


class Kept(NamedTuple):
    """Properties (wire names) a write at an older api-version leaves as they are (it cannot name them)."""

    properties: frozenset[str]
    """Of ``VirtualMachineRunCommandProperties``."""
    source: frozenset[str]
    """Of ``VirtualMachineRunCommandScriptSource``."""
    sources: frozenset[str]
    """The script sources among ``source``: dropped instead when the write names a script source of its own."""
    own_sources: frozenset[str]
    """The script sources the write's version knows."""

    def nothing_to_keep(self, stored: Mapping[str, Any]) -> bool:
        """Whether ``stored`` (a run command's properties) holds nothing a write at this version leaves alone (the
        usual case: :func:`~pytest_runcommand.emulator.writes.keep` then gives the written properties as they are)."""
        if not self.properties.isdisjoint(stored):
            return False
        source = stored.get("source")
        return source is None or self.source.isdisjoint(source)


@cache
def kept_on_write(api_version: str) -> Kept:
    """What a PUT or PATCH at ``api_version`` keeps of the stored run command: the fields newer versions added."""
    latest = facts.LATEST_API_VERSION
    own_sources = frozenset(facts.script_sources(api_version))
    return Kept(
        fields_at(latest, PROPERTIES) - fields_at(api_version, PROPERTIES),
        fields_at(latest, SOURCE) - fields_at(api_version, SOURCE),
        frozenset(facts.script_sources(latest)) - own_sources,
        own_sources,
    )
