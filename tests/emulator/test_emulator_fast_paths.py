"""The emulator's cheaper ways to the same result: each gives exactly what the plain way gives (key order included)."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.emulator.executor import Execution, Outcome, ScriptRun
from pytest_runcommand.emulator.writes import WRITABLE_WIRE_NAMES, merged, patched, writable

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
_sources = st.dictionaries(
    st.sampled_from(["scriptUri", "script", "commandId", "scriptShell", "galleryScriptReferenceId", "extra"]),
    st.one_of(st.none(), st.text(max_size=3)),
)
_parameter = st.dictionaries(st.sampled_from(["value", "name", "extra"]), st.text(max_size=3))
_identity = st.dictionaries(st.sampled_from(["objectId", "clientId", "extra"]), st.text(max_size=3))
_value_of = {
    "source": st.one_of(st.none(), _sources),
    "parameters": st.one_of(st.none(), st.lists(_parameter, max_size=2)),
    "protectedParameters": st.one_of(st.none(), st.lists(_parameter, max_size=2)),
    "outputBlobManagedIdentity": st.one_of(st.none(), _identity),
    "errorBlobManagedIdentity": st.one_of(st.none(), _identity),
}
_names = st.sampled_from([*WRITABLE_WIRE_NAMES, "provisioningState", "instanceView", "unknownProperty"])
properties = st.lists(_names, unique=True, max_size=8).flatmap(
    lambda names: st.fixed_dictionaries({name: _value_of.get(name, _scalars) for name in names})
)


def exactly(value: Any) -> bytes:
    """``value`` as JSON bytes: equal only with the same keys in the same order."""
    return orjson.dumps(value)


@given(properties, properties)
def test_a_patch_merges_in_one_pass_what_writable_and_merged_give(stored: dict[str, Any], sent: dict[str, Any]) -> None:
    stored = writable(stored)  # what a run command holds: its writable properties, ordered, no nulls
    assert exactly(patched(stored, sent)) == exactly(merged(stored, writable(sent, nulls=True)))


def test_script_run_of_is_the_dataclass_made_without_its_init() -> None:
    values: dict[str, object] = {
        "resource_id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1/runCommands/a",
        "run_command_name": "a",
        "requested_at": NOW,
        "script": "echo $x",
        "script_uri": None,
        "command_id": None,
        "gallery_script_reference_id": None,
        "script_shell": "Powershell7",
        "parameters": (("x", "1"),),
        "protected_parameters": (("secret", "hidden"),),
        "run_as_user": "user1",
        "timeout_in_seconds": 60,
        "async_execution": True,
    }
    assert set(values) == {field.name for field in fields(ScriptRun)}, "every field, by name"
    made = ScriptRun.of(values)
    plain = ScriptRun(**values)  # type: ignore[arg-type]
    assert made == plain
    assert hash(made) == hash(plain)
    assert repr(made) == repr(plain)
    assert "hidden" not in repr(made)
    outcome = Outcome.success("1\n", duration=5)
    execution = Execution.of(made, outcome)
    assert execution == Execution(plain, outcome)
    assert execution.view(NOW) == Execution(plain, outcome).view(NOW)
