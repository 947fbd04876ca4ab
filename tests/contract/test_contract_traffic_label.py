"""A contract failure's interaction label shows no secret of its URL: the pytest route sanitizes the failure's text
(pytest/failure_secrets.py) with the cassettes' text rules; ``cassettes check`` sanitizes the URL before labelling."""

from __future__ import annotations

import pytest

SENTINEL = "Sentinel-L4bel-Val"
SUBSCRIPTION = "12345678-aaaa-bbbb-cccc-1234567890ab"


@pytest.mark.parametrize(
    "tail",
    [f"&runAsPassword={SENTINEL}", f"&client_secret={SENTINEL}", f"&access_token={SENTINEL}", f"&sig={SENTINEL}"],
)
def test_a_contract_failures_label_shows_no_secret(pytester: pytest.Pytester, tail: str) -> None:
    secret = f'"{SENTINEL[:6]}" + "{SENTINEL[6:]}"'
    subscription = f'"{SUBSCRIPTION[:8]}" + "{SUBSCRIPTION[8:]}"'
    pytester.makepyfile(
        test_it=f"""
import pytest

@pytest.mark.runcommand_contract
def test_read_only_field(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc1", subscription={subscription})
    url += "{tail.split("=")[0]}=" + {secret}
    body = {{"location": "westus", "properties": {{"source": {{"script": "ls"}}, "provisioningState": "Succeeded"}}}}
    runcommand_emulator.client.put(url, json=body)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--junitxml=report.xml")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str() + (pytester.path / "report.xml").read_text()
    assert "READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST" in output
    assert "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/" in output
    assert SENTINEL not in output
    assert SUBSCRIPTION not in output
