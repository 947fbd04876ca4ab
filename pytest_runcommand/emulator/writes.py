"""How a write changes a stored run command: what it keeps, who touched it, when it is refused.

A run command's properties are kept as wire JSON (:attr:`~pytest_runcommand.emulator.state.RunCommand.wire`), in
the order the models write them (:func:`ordered`), so an answer is built from them without a model round trip.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from datetime import datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from pytest_runcommand.emulator import errors
from pytest_runcommand.emulator.state import Audit, Caller, RunCommand
from pytest_runcommand.models import VirtualMachineRunCommandProperties, VirtualMachineRunCommandScriptSource, to_wire

if TYPE_CHECKING:
    from pytest_runcommand.emulator.versions import Kept

__all__ = [
    "READ_ONLY_PROPERTIES",
    "WRITABLE_PROPERTIES",
    "WRITABLE_WIRE_NAMES",
    "keep",
    "ordered",
    "patched",
    "refuse_while_deleting",
    "touch",
    "writable",
]

READ_ONLY_PROPERTIES = frozenset({"provisioning_state", "instance_view"})
WRITABLE_PROPERTIES = tuple(
    name for name in VirtualMachineRunCommandProperties.model_fields if name not in READ_ONLY_PROPERTIES
)
WRITABLE_WIRE_NAMES = tuple(
    VirtualMachineRunCommandProperties.model_fields[name].alias or name for name in WRITABLE_PROPERTIES
)
"""The writable properties' wire names, in the model's field order."""
_WRITABLE = frozenset(WRITABLE_WIRE_NAMES)


@cache
def _layout(model: type[BaseModel]) -> dict[str, tuple[type[BaseModel] | None, bool]]:
    """``model``'s wire names in field order, each with the model of its value (and whether it is a list of them)."""
    layout: dict[str, tuple[type[BaseModel] | None, bool]] = {}
    for name, info in model.model_fields.items():
        nested: type[BaseModel] | None = None
        many = False
        for option in typing.get_args(info.annotation) or (info.annotation,):
            if typing.get_origin(option) is list:
                (option,) = typing.get_args(option)
                many = True
            if isinstance(option, type) and issubclass(option, BaseModel):
                nested = option
                break
            many = False
        layout[info.alias or name] = (nested, many)
    return layout


def ordered(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` (wire JSON of ``model``) with its keys in the model's field order, unknown keys after them, nested
    objects too: what ``to_wire(from_wire(model, data))`` gives, without the round trip (``data`` itself when it is
    in that order already)."""
    keys = tuple(data)
    if type(data) is dict and (model, keys) in _AS_THEY_ARE:
        return data
    order, nested = _plan(model, keys)
    if order is None and not nested and type(data) is dict:
        if len(_AS_THEY_ARE) >= 1024:
            _AS_THEY_ARE.clear()
        _AS_THEY_ARE.add((model, keys))
        return data
    out = dict(data) if order is None else {key: data[key] for key in order}
    for key, inner, many in nested:
        out[key] = _ordered_value(inner, many, out[key])
    return out


_AS_THEY_ARE: set[tuple[type[BaseModel], tuple[str, ...]]] = set()
"""Models and keys of objects :func:`ordered` gives as they are (in the model's order, no nested model): found
once (clients send the same keys), checked without a call."""

_Nested = tuple[tuple[str, type[BaseModel], bool], ...]


@lru_cache(maxsize=1024)
def _plan(model: type[BaseModel], keys: tuple[str, ...]) -> tuple[tuple[str, ...] | None, _Nested]:
    """How to order an object of ``model`` with ``keys``: the key order (None: as it is) and the keys holding
    nested models."""
    layout = _layout(model)
    order = tuple([key for key in layout if key in keys] + [key for key in keys if key not in layout])
    nested = tuple((key, layout[key][0], layout[key][1]) for key in order if key in layout and layout[key][0])
    return (None if order == keys else order), nested  # type: ignore[return-value]


def _ordered_value(nested: type[BaseModel] | None, many: bool, value: Any) -> Any:
    if nested is None or value is None:
        return value
    if many:
        return [ordered(nested, item) if isinstance(item, dict) else item for item in value]
    return ordered(nested, value) if isinstance(value, dict) else value


def writable(
    properties: VirtualMachineRunCommandProperties | Mapping[str, Any] | None, *, nulls: bool = False
) -> dict[str, Any]:
    """The writable, known properties (read-only and unknown keys dropped; null values too, unless ``nulls``) as
    ordered wire JSON. ``properties``: the model, or its wire JSON as the contract validated it."""
    if properties is None:
        return {}
    if isinstance(properties, BaseModel):
        wire = to_wire(properties)
        return {name: value for name, value in wire.items() if name in _WRITABLE and (nulls or value is not None)}
    return {
        name: _ordered_value(nested, many, properties[name])
        for name, nested, many in _writable_plan(tuple(properties))
        if nulls or properties[name] is not None
    }


@lru_cache(maxsize=1024)
def _writable_plan(keys: tuple[str, ...]) -> tuple[tuple[str, type[BaseModel] | None, bool], ...]:
    layout = _layout(VirtualMachineRunCommandProperties)
    return tuple((name, *layout[name]) for name in WRITABLE_WIRE_NAMES if name in keys)


def merged(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """A PATCH: ``stored`` with the properties ``sent`` (:func:`writable` with ``nulls``) replacing theirs; a null
    sent removes the property."""
    out: dict[str, Any] = {}
    for name in WRITABLE_WIRE_NAMES:
        value = sent[name] if name in sent else stored.get(name)
        if value is not None:
            out[name] = value
    return out


_WRITABLE_LAYOUT = tuple((name, *_layout(VirtualMachineRunCommandProperties)[name]) for name in WRITABLE_WIRE_NAMES)
"""Each writable property's wire name (in the model's field order) with the model of its value and whether it is a
list of them."""


def patched(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """``merged(stored, writable(sent, nulls=True))`` in one pass: a PATCH's properties (``sent``: wire JSON)
    merged into the stored ones. ``sent`` itself when it is that already (it names every stored property, each a
    writable one, in the model's order, none null, nested objects in order: a client sending its whole properties;
    sent values are never changed in place, so they are stored by reference)."""
    shape = (tuple(stored), tuple(sent))
    plan = _PATCH_PLANS.get(shape)
    if plan is None:
        plan = _patch_plan(*shape)
        if len(_PATCH_PLANS) >= 1024:
            _PATCH_PLANS.clear()
        _PATCH_PLANS[shape] = plan
    steps, as_sent = plan
    as_they_are = _AS_THEY_ARE
    if as_sent is not None and type(sent) is dict and None not in sent.values():
        for name, model, many in as_sent:
            value = sent[name]
            if many:
                if _ordered_items(model, value) is not value:
                    break
            elif (
                (type(value) is not dict or (model, tuple(value)) not in as_they_are)
                and isinstance(value, dict)
                and ordered(model, value) is not value
            ):
                break
        else:
            return sent
    out: dict[str, Any] = {}
    for name, from_sent, nested, many in steps:
        if from_sent:
            value = sent[name]
            if nested is not None and value is not None:  # _ordered_value, inline
                if not many:
                    if type(value) is not dict or (nested, tuple(value)) not in as_they_are:
                        value = ordered(nested, value) if isinstance(value, dict) else value
                else:
                    value = _ordered_items(nested, value)
        else:
            value = stored[name]
        if value is not None:
            out[name] = value
    return out


def _ordered_items(model: type[BaseModel], items: list[Any]) -> list[Any]:
    """``items`` with each object of ``model`` :func:`ordered`: ``items`` itself when each is in order already (sent
    values are never changed in place: a PATCH stores them as they are)."""
    if type(items) is list:
        as_they_are = _AS_THEY_ARE
        for item in items:
            if type(item) is dict and (model, tuple(item)) in as_they_are:
                continue
            if isinstance(item, dict) and ordered(model, item) is not item:
                break
        else:
            return items
    return [ordered(model, each) if isinstance(each, dict) else each for each in items]


_PatchStep = tuple[str, bool, "type[BaseModel] | None", bool]
_AsSent = tuple[tuple[str, "type[BaseModel]", bool], ...]
_PATCH_PLANS: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[tuple[_PatchStep, ...], _AsSent | None]] = {}
""":func:`_patch_plan` by the stored and sent keys (a dict: looked up on every PATCH)."""


def _patch_plan(stored: tuple[str, ...], sent: tuple[str, ...]) -> tuple[tuple[_PatchStep, ...], _AsSent | None]:
    """The writable properties a PATCH's result can hold (in the model's order), each with whether it comes from
    ``sent`` (else from ``stored``), its nested model and whether it is a list of them; and, when the result's keys
    are ``sent``'s as they are (all from it, in its order), the nested values to find in order (else None)."""
    steps = tuple(
        (name, name in sent, nested, many) for name, nested, many in _WRITABLE_LAYOUT if name in sent or name in stored
    )
    if tuple(name for name, *_ in steps) != sent or not all(from_sent for _, from_sent, _, _ in steps):
        return steps, None
    return steps, tuple((name, nested, many) for name, _, nested, many in steps if nested is not None)


def touch(command: RunCommand, caller: Caller, now: datetime) -> None:
    if command.audit is None:
        command.audit = Audit(caller, now, caller, now)
    else:
        command.audit.last_modified_by, command.audit.last_modified_at = caller, now


def keep(stored: Mapping[str, Any], written: dict[str, Any], kept: Kept | None) -> dict[str, Any]:
    """``written`` with the stored values of the properties ``kept`` names (a write at an older version)."""
    if kept is None or kept.nothing_to_keep(stored):
        return written  # nothing newer is stored: nothing to keep (the usual case, kept cheap)
    old = stored.get("source")
    values = dict(written)
    values.update({name: stored[name] for name in kept.properties & stored.keys()})
    new = written.get("source")
    if old is not None and new is not None and kept.source:
        names = kept.source & old.keys()
        if new.keys() & kept.own_sources:  # the write names a script: a newer kind of source gives way
            names -= kept.sources
        if names:
            source = dict(new)
            source.update({name: old[name] for name in names})
            values["source"] = ordered(VirtualMachineRunCommandScriptSource, source)
    return ordered(VirtualMachineRunCommandProperties, values)


def refuse_while_deleting(command: RunCommand) -> None:
    """A write to a run command whose accepted DELETE is still running is a conflict (it would undo the delete)."""
    operation = command.operation
    if operation is not None and operation.kind == "delete" and not operation.done:
        raise errors.being_deleted(command.vm.run_command_type, command.name)
