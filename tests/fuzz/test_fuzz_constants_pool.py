"""A derandomized campaign draws the same cases whatever local modules are loaded.

hypothesis mixes the short literals of every loaded "local" module (this package's editable install included) into its
draws; ``fixed_constants_pool`` holds that pool empty while a campaign runs (commit 81a1c69 had to put a literal 512
back into a module to keep the same draws). Here a new local module with new short literals is imported between two
runs of the same campaign: the draws stay the same; with the pool left alone (the context manager patched out), they
change, so this test can fail.
"""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis.internal.conjecture import providers

from pytest_runcommand.fuzz import runner as runner_module
from pytest_runcommand.fuzz.constants_pool import fixed_constants_pool
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

OPERATIONS = (
    "VirtualMachineRunCommands_CreateOrUpdate",
    "VirtualMachineRunCommands_Update",
    "VirtualMachineRunCommands_GetByVirtualMachine",
)


def _new_literals(salt: str) -> str:
    """Short literals of every kind hypothesis harvests, new to this process: hypothesis's pool only grows (a module
    forgotten from sys.modules keeps its literals there), so each test needs its own."""
    number = int(salt[:4], 16)
    return (
        f"WORDS = ('zq', 'q{salt[:2]}', 'z{salt[2:4]}', '{salt[:3]}x', 'rc{salt[4:6]}')\n"
        f"NUMBERS = (7331, {1000 + number}, -{3 + number % 997}, {70000 + number})\n"
        f"FLOATS = (-3.5, {number}.25, -{number}.125)\n"
        f"BLOBS = (b'{salt[:3]}',)\n"
    )


def _campaign() -> dict[str, str]:
    settings = FuzzSettings(max_examples=25, operations=OPERATIONS, stateful=False)
    return dict(FuzzRunner(emulator_target(), settings).run().drawn)


@pytest.fixture
def import_new_local_module(tmp_path: Path) -> Iterator[Callable[[], ModuleType]]:
    """Returns a function importing a fresh local module (not a test file: hypothesis skips those) from tmp_path."""
    salt = uuid.uuid4().hex[:8]
    name = f"rc_local_literals_{salt}"
    (tmp_path / f"{name}.py").write_text(_new_literals(salt))
    sys.path.insert(0, str(tmp_path))
    try:
        yield lambda: importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def test_hypothesis_still_has_the_names_the_pool_replaces() -> None:
    """fixed_constants_pool does nothing if these move: an upgrade of hypothesis fails here, not silently."""
    assert callable(providers._get_local_constants)
    assert hasattr(providers, "_local_constants")
    assert hasattr(providers.CONSTANTS_CACHE, "cache")


def test_the_pool_is_empty_inside_and_restored_after() -> None:
    original = providers._get_local_constants
    with fixed_constants_pool():
        assert providers._get_local_constants is not original
        assert len(providers._get_local_constants()) == 0
        assert len(providers.CONSTANTS_CACHE) == 0
    assert providers._get_local_constants is original


def test_a_new_local_module_does_not_change_the_draws(import_new_local_module: Callable[[], ModuleType]) -> None:
    before = _campaign()
    module = import_new_local_module()
    assert providers._get_local_constants().strings >= {"zq"}  # hypothesis does see it as local
    assert module.NUMBERS[0] == 7331
    assert _campaign() == before


def test_without_the_pool_held_empty_the_draws_change(
    import_new_local_module: Callable[[], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same campaign with fixed_constants_pool patched out: the new module's literals change the draws."""
    monkeypatch.setattr(runner_module, "fixed_constants_pool", _nothing)
    before = _campaign()
    import_new_local_module()
    assert _campaign() != before


def _nothing() -> AbstractContextManager[None]:
    return nullcontext()
