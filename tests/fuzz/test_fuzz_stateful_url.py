"""The stateful sequences against a URL target, whose state is not reset between scenarios."""

from __future__ import annotations

from typing import Any

from pytest_runcommand.emulator import EmulatorApp
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import url_target


def test_a_stateful_phase_cut_short_by_a_served_emulator_says_after_how_many_steps(serve_app: Any) -> None:
    """The served emulator keeps each scenario's run commands, so a replayed scenario is answered otherwise."""
    settings = FuzzSettings(max_examples=30, modes=(), stateful=True)
    report = FuzzRunner(url_target(serve_app(EmulatorApp()), token="t"), settings).run()
    steps = int(report.drawn["stateful"].split(":")[0])
    notes = [note for note in report.notes if note.startswith("stateful:")]
    assert notes == [
        f"stateful: stopped after {steps} steps of up to 30 scenarios x {settings.stateful_steps} steps: the target "
        "answered a replayed scenario differently (its state is not reset between scenarios, as the in-process "
        "emulator's is)"
    ], report.render()
    assert 0 < steps < 30 * settings.stateful_steps
    assert not report.findings, report.render()
