"""Each private API of vcrpy and azure-core the cassettes use is named, versioned, and fails loudly when gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import vcr as vcrpy

from pytest_runcommand.cassettes import patches
from pytest_runcommand.cassettes.patches import IncompatibleLibraryError
from pytest_runcommand.cassettes.playback import live_sanitized_view, no_wait_playback
from pytest_runcommand.cassettes.vcr import cassette_interactions, configure_vcr


def _cassette(directory: Path, mode: str) -> Any:
    recorder = vcrpy.VCR(cassette_library_dir=str(directory), record_mode=mode)
    configure_vcr(recorder)
    return recorder.use_cassette("case.yaml")


def test_the_checked_versions_are_inside_the_declared_bounds() -> None:
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *(r for extra in project["optional-dependencies"].values() for r in extra)]
    bounds = {Requirement(r).name: Requirement(r).specifier for r in declared if not r.startswith("pytest-runcommand")}
    assert patches.VCRPY_CHECKED in bounds["vcrpy"]
    assert patches.AZURE_CORE_CHECKED in bounds["azure-core"]


def test_a_missing_httpx_recording_hook_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vcr.stubs import httpx_stubs

    monkeypatch.delattr(httpx_stubs, "_record_responses")
    with _cassette(tmp_path, "once") as cassette, pytest.raises(IncompatibleLibraryError) as caught:  # noqa: SIM117
        with live_sanitized_view(cassette):
            pass
    message = str(caught.value)
    assert f"vcrpy {patches.VCRPY_CHECKED} has no vcr.stubs.httpx_stubs._record_responses" in message
    assert f"checked with vcrpy {patches.VCRPY_CHECKED}" in message


def test_a_missing_polling_delay_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("azure.core")
    from azure.core.polling import base_polling

    (tmp_path / "case.yaml").write_text("version: 1\ninteractions: []\n")
    monkeypatch.delattr(base_polling.LROBasePolling, "_delay")
    with _cassette(tmp_path, "none") as cassette, pytest.raises(IncompatibleLibraryError) as caught:  # noqa: SIM117
        with no_wait_playback(cassette):
            pass
    assert "azure-core" in str(caught.value)
    assert "LROBasePolling._delay" in str(caught.value)


def test_a_cassette_without_its_private_fields_is_named(tmp_path: Path) -> None:
    class Bare:
        data: list[Any] = []

    with pytest.raises(IncompatibleLibraryError, match=r"has no Bare\._loaded_count"):
        list(cassette_interactions(Bare()))
