"""Playback of the committed Azure SDK cassette: the SDK's long-running operations never sleep."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pytest_runcommand.emulator.handles import ServedEmulator

pytest.importorskip("azure.mgmt.compute")

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "test_example_record_replay_azure_sdk.py"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sdk_example_for_playback", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_replayed_begin_update_returns_without_sleeping(
    runcommand_emulator_server: ServedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vcr as vcrpy
    from azure.core.pipeline.transport import RequestsTransport

    from pytest_runcommand.cassettes.playback import closest_match_errors, no_wait_playback
    from pytest_runcommand.cassettes.vcr import configure_vcr

    slept: list[Any] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, seconds: slept.append(seconds))
    recorder = vcrpy.VCR(cassette_library_dir=str(ROOT / "cassettes" / EXAMPLE.stem), record_mode="none")
    configure_vcr(recorder)
    with (
        recorder.use_cassette("test_begin_update_with_secrets.yaml") as cassette,
        no_wait_playback(cassette) as skipping,
        closest_match_errors(cassette),
    ):
        assert skipping
        _example().test_begin_update_with_secrets(runcommand_emulator_server)
    assert cassette.all_played
    assert slept == []  # two operations each reported InProgress once: without no-wait, 2 x 30 s


def test_without_no_wait_the_same_replay_would_sleep(
    runcommand_emulator_server: ServedEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vcr as vcrpy
    from azure.core.pipeline.transport import RequestsTransport

    from pytest_runcommand.cassettes.vcr import configure_vcr

    slept: list[Any] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, seconds: slept.append(seconds))
    recorder = vcrpy.VCR(cassette_library_dir=str(ROOT / "cassettes" / EXAMPLE.stem), record_mode="none")
    configure_vcr(recorder)
    with recorder.use_cassette("test_begin_update_with_secrets.yaml"):
        _example().test_begin_update_with_secrets(runcommand_emulator_server)
    assert slept == [30, 30]
