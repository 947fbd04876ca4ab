"""Two subscriptions in one cassette are both recorded as the zero GUID: the recording says so (review 11, finding 9:
a replay in another order silently answered with the other subscription's run command)."""

from __future__ import annotations

import pytest

from pytest_runcommand.cassettes.sanitize import default_sanitizer

SUBS = ("6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f", "7a2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d")
PATH = "https://management.azure.com/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"

TEST = f"""
import pytest

SUBS = {SUBS!r}


@pytest.mark.vcr
def test_two_subscriptions(runcommand_emulator):
    client = runcommand_emulator.client
    base = runcommand_emulator.run_command_path("rc")
    for sub in SUBS:
        url = base.replace("00000000-0000-0000-0000-000000000000", sub)
        assert client.put(url, json={{"location": "westus", "properties": {{"source": {{"script": "echo " + sub[:4]}}}}}}).status_code == 201
"""


def test_the_sanitizer_notes_two_subscriptions_under_one_id_and_names_neither() -> None:
    sanitizer = default_sanitizer().fresh()
    assert SUBS[0] not in sanitizer.url(PATH.format(SUBS[0]))
    assert sanitizer.take_notes() == []  # one subscription: nothing to say
    assert SUBS[1] not in sanitizer.url(PATH.format(SUBS[1]))
    notes = sanitizer.take_notes()
    assert len(notes) == 1
    assert "rule subscription-id replaces with the same text (00000000-0000-0000-0000-000000000000" in notes[0]
    assert not any(sub in notes[0] for sub in SUBS)
    sanitizer.url(PATH.format(SUBS[1]))
    assert sanitizer.take_notes() == []  # said once


def test_recording_two_subscriptions_warns(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_subs=TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--record-mode=once")
    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert "RunCommandWarning: pytest-runcommand: cassette test_two_subscriptions.yaml: two or more different" in output
    assert not any(sub in output for sub in SUBS)
