"""The contract coverage report: terminal summary, JSON and HTML, merged across pytest-xdist workers."""

from __future__ import annotations

import json

import pytest

SUITE = """
import pytest

@pytest.mark.parametrize("name", ["a", "b", "c", "d"])
def test_lifecycle(runcommand_emulator, name):
    client = runcommand_emulator.client
    url = runcommand_emulator.run_command_path(name)
    assert client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"}}}).status_code == 201
    assert client.patch(url, json={"properties": {"timeoutInSeconds": 30}, "tags": {"t": "v"}}).status_code == 200
    assert client.get(url).status_code == 200

def test_missing(runcommand_emulator):
    assert runcommand_emulator.client.get(runcommand_emulator.run_command_path("nope")).status_code == 404
"""


def test_terminal_json_and_html(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*run-command contract coverage*",
            "VirtualMachineRunCommands_GetByVirtualMachine: 5 call(s); status 200x4, 404x1;*",
            "VirtualMachineRunCommands_CreateOrUpdate: 4 call(s); status 201x4;*",
            "VirtualMachineRunCommands_Update: 4 call(s); status 200x4;*",
            "never touched: *VirtualMachineRunCommands_Delete*",
            "report: out*coverage.json and out*coverage.html",
        ]
    )
    data = json.loads((pytester.path / "out" / "coverage.json").read_text())
    update = data["operations"]["VirtualMachineRunCommands_Update"]
    assert update["calls"] == 4
    assert update["statuses_seen"] == {"200": 4}
    assert "/properties/timeoutInSeconds" in update["request_properties_covered"]
    assert "/properties/runAsUser" in update["request_properties_uncovered"]
    assert "/properties/provisioningState" not in update["request_properties_uncovered"]  # read-only: not asked for
    assert "VirtualMachineRunCommands_Delete" in data["operations_untouched"]
    page = (pytester.path / "out" / "coverage.html").read_text()
    assert page.startswith("<!doctype html>")
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert "VirtualMachineRunCommands_Update" in page
    assert "class=no" in page
    assert "class=ok" in page


def test_report_is_merged_across_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", "--runcommand-report", "merged.json")
    result.assert_outcomes(passed=5)
    data = json.loads((pytester.path / "merged.json").read_text())
    assert data["operations"]["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 4
    assert data["operations"]["VirtualMachineRunCommands_GetByVirtualMachine"]["statuses_seen"] == {"200": 4, "404": 1}
    result.stdout.fnmatch_lines(["VirtualMachineRunCommands_Update: 4 call(s)*"])


def test_no_summary_when_the_plugin_was_not_used(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "run-command contract coverage" not in result.stdout.str()
