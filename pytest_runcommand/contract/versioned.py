"""Build one api-version's contract document: the base document changed by that version's entry in versions.json.

Plain ``json`` only (facts.py imports this and must stay cheap). Each document is built once and shared: treat it
as read-only.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from pytest_runcommand.errors import UsageError

__all__ = ["BASE_SPEC_PATH", "DELTAS_PATH", "UnknownApiVersion", "version_document"]

SPEC_DIR = Path(__file__).with_name("spec")
BASE_SPEC_PATH = SPEC_DIR / "runcommands-2024-07-01.json"
"""The project's own Swagger 2.0 contract document for api-version 2024-07-01, the base of every version."""
DELTAS_PATH = SPEC_DIR / "versions.json"
"""Per api-version: the version it starts from and its changes (set/remove a JSON pointer)."""


class UnknownApiVersion(UsageError, ValueError):
    """An api-version the bundled contract does not speak was asked for; the message lists the supported ones."""

    def __init__(self, api_version: object) -> None:
        supported = ", ".join(sorted(_deltas()["versions"]))
        super().__init__(f"api-version {str(api_version)[:40]!r} is not supported; supported: {supported}")


@cache
def _deltas() -> dict[str, Any]:
    return json.loads(DELTAS_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def _base() -> dict[str, Any]:
    return json.loads(BASE_SPEC_PATH.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def version_document(api_version: str) -> dict[str, Any]:
    """The raw (unresolved) contract document of ``api_version``; :class:`UnknownApiVersion` if not supported."""
    entry = _deltas()["versions"].get(api_version) if isinstance(api_version, str) else None
    if entry is None:
        raise UnknownApiVersion(api_version)
    start = entry.get("from")
    document: dict[str, Any] = json_copy(_base() if start is None else version_document(start))
    for change in entry.get("changes", ()):
        _apply(document, change, api_version)
    document["info"] = {**document.get("info", {}), "version": api_version}
    return document


def json_copy(value: Any) -> Any:
    """A copy of a JSON value (as ``json.loads`` makes one: dicts, lists and immutable scalars, nothing shared), what
    :func:`copy.deepcopy` gives for it in a third of the time (no memo: such a value holds no container twice)."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    return value


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        op["operationId"]: op
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }


def _apply(document: dict[str, Any], change: dict[str, Any], api_version: str) -> None:
    names = change.get("operations")
    targets = [document] if names is None else [_operations(document)[name] for name in names]
    pointer = change.get("set", change.get("remove"))
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in str(pointer).split("/")[1:]]
    for target in targets:
        node = target
        for token in tokens[:-1]:
            node = node.setdefault(token, {}) if "set" in change else node[token]
        if "set" in change:
            node[tokens[-1]] = json_copy(change["value"])
        elif node.pop(tokens[-1], None) is None:
            raise KeyError(f"versions.json {api_version}: nothing to remove at {pointer}")
