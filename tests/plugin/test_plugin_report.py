"""The contract coverage report: every test's traffic, written whenever asked, a threshold CI can fail on."""

from __future__ import annotations

import json
import re

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

FAILING = """
import pytest

def test_fails_after_traffic(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc1")
    runcommand_emulator.client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"}}})
    runcommand_emulator.client.delete(url)
    assert False, "the test's own failure"
"""


def _report(pytester: pytest.Pytester, name: str = "out/coverage.json") -> dict:  # type: ignore[type-arg]
    return json.loads((pytester.path / name).read_text())  # type: ignore[no-any-return]


def test_terminal_json_and_html(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        [
            "*run-command contract coverage*",
            "api-versions: 2024-07-01 (13)",
            "managed: 3 of 10 operation(s) touched",
            "  VirtualMachineRunCommands_GetByVirtualMachine: 5 call(s) in 5 test(s); status 200x4, 404x1;*",
            "  VirtualMachineRunCommands_CreateOrUpdate: 4 call(s) in 4 test(s); status 201x4;*",
            "  VirtualMachineRunCommands_Update: 4 call(s) in 4 test(s); status 200x4;*",
            "never touched: managed: *VirtualMachineRunCommands_Delete*; action (all 2); catalogue (all 2); extension (all 1)",
            "report: out*coverage.json and out*coverage.html",
        ]
    )
    data = _report(pytester)
    update = data["operations"]["VirtualMachineRunCommands_Update"]
    assert update["family"] == "managed"
    assert data["api_versions"] == {"2024-07-01": 13}
    assert update["calls"] == 4
    assert update["statuses_seen"] == {"200": 4}
    assert update["test_count"] == 4
    assert update["tests"] == [f"test_suite.py::test_lifecycle[{name}]" for name in "abcd"]
    assert "/properties/timeoutInSeconds" in update["request_properties_covered"]
    assert "/properties/runAsUser" in update["request_properties_uncovered"]
    assert "/properties/provisioningState" not in update["request_properties_uncovered"]  # read-only: not asked for
    assert not any("runAsPassword" in p for p in update["response_properties_uncovered"])  # a response never has it
    assert "VirtualMachineRunCommands_Delete" in data["operations_untouched"]
    page = (pytester.path / "out" / "coverage.html").read_text()
    assert page.startswith("<!doctype html>")
    assert "<script" not in page
    assert "http://" not in page
    assert "https://" not in page
    assert "test_suite.py::test_lifecycle[a]" in page


def test_html_rows_are_coloured_by_coverage_not_by_being_called(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json").assert_outcomes(
        passed=5
    )
    page = (pytester.path / "out" / "coverage.html").read_text()
    update = _report(pytester)["operations"]["VirtualMachineRunCommands_Update"]
    covered = len(update["response_properties_covered"])
    total = covered + len(update["response_properties_uncovered"])
    assert covered / total < 0.6  # a few of many: the cell must not read as "done"
    row = re.search(r"<tr class=(\w+)><td><a href='#VirtualMachineRunCommands_Update'>.*?</tr>", page)
    assert row is not None
    assert row.group(1) in ("low", "part")  # the row reads as the worse side, never green
    cells = row.group(0)
    assert f"<td class=part>{covered}/{total}</td>" in cells or f"<td class=low>{covered}/{total}</td>" in cells
    assert "class=full" not in cells


def test_a_failing_tests_traffic_counts_and_its_violations_are_reported(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_failing=FAILING,
        test_marked="""
import pytest

@pytest.mark.runcommand_contract
def test_marked_fails_for_its_own_reason(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc2")
    body = {"location": "westus", "properties": {"source": {"script": "ls"}, "provisioningState": "Succeeded"}}
    assert runcommand_emulator.client.put(url, json=body).status_code == 400
    raise RuntimeError("boom")
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*RuntimeError: boom*",
            "*run-command contract violations*",
            "*[[]request] READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST at /properties/provisioningState*",
        ]
    )
    operations = _report(pytester)["operations"]
    assert operations["VirtualMachineRunCommands_Delete"]["calls"] == 1
    assert operations["VirtualMachineRunCommands_Delete"]["tests"] == ["test_failing.py::test_fails_after_traffic"]
    put = operations["VirtualMachineRunCommands_CreateOrUpdate"]
    assert put["calls"] == 2
    assert put["rules_fired"] == {"READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST": 1}


def test_the_report_is_written_when_no_test_made_traffic(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "reports/contract.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*run-command contract coverage*", "no test exercised a run-command operation"])
    data = _report(pytester, "reports/contract.json")
    assert data["operations_untouched"] == sorted(data["operations"])
    assert (pytester.path / "reports" / "contract.html").read_text().startswith("<!doctype html>")


def test_tests_that_only_validate_payloads_count(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_payloads="""
import pytest_runcommand
from pytest_runcommand import validate_request, validate_response

URL = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc"
       "?api-version=2024-07-01")

def test_request():
    assert validate_request("PATCH", URL, {"properties": {"runAsUser": "me"}}) == []

def test_response_through_the_package():
    body = {"name": "rc", "location": "westus", "properties": {"provisioningState": "Succeeded"}}
    assert pytest_runcommand.validate_response("GET", URL, 200, body) == []

def test_broken_request_is_expected():
    assert validate_request("PATCH", URL, {"properties": {"source": {"script": "a", "commandId": "b"}}}) != []
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/coverage.json")
    result.assert_outcomes(passed=3)  # direct validation is counted, never enforced
    operations = _report(pytester)["operations"]
    update = operations["VirtualMachineRunCommands_Update"]
    assert update["calls"] == 2
    assert "/properties/runAsUser" in update["request_properties_covered"]
    assert update["rules_fired"] == {"MULTIPLE_SCRIPT_SOURCES": 1}
    get = operations["VirtualMachineRunCommands_GetByVirtualMachine"]
    assert get["statuses_seen"] == {"200": 1}
    assert "/properties/provisioningState" in get["response_properties_covered"]
    assert get["tests"] == ["test_payloads.py::test_response_through_the_package"]


@pytest.mark.parametrize(
    ("threshold", "exit_code", "verdict"),
    [("5", 0, "reached"), ("95", 1, "NOT reached"), ("0", 0, "reached")],
)
def test_fail_under_fails_the_run_below_the_threshold(
    pytester: pytest.Pytester, threshold: str, exit_code: int, verdict: str
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--runcommand-fail-under={threshold}")
    result.assert_outcomes(passed=5)
    assert result.ret == exit_code
    result.stdout.fnmatch_lines([f"run-command property coverage {verdict}: required {threshold}%, request *%*"])


def test_fail_under_from_the_ini_file_and_with_nothing_touched(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nruncommand_fail_under = 10\n")
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*NOT reached: required 10%*(no test exercised a run-command operation)"])


@pytest.mark.parametrize("value", ["abc", "101", "-1", "nan"])
def test_a_bad_threshold_is_a_usage_error(pytester: pytest.Pytester, value: str) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--runcommand-fail-under={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*runcommand_fail_under (--runcommand-fail-under) takes a percentage 0-100; got '{value}'"]
    )


def test_report_and_threshold_are_merged_across_xdist_workers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=SUITE, test_failing=FAILING)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "2", "--runcommand-report", "merged.json", "--runcommand-fail-under=95"
    )
    result.assert_outcomes(passed=5, failed=1)
    data = _report(pytester, "merged.json")
    assert data["operations"]["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 5
    assert data["operations"]["VirtualMachineRunCommands_CreateOrUpdate"]["test_count"] == 5
    assert data["operations"]["VirtualMachineRunCommands_Delete"]["calls"] == 1  # from the failing test
    assert sum(data["api_versions"].values()) == 15  # each worker's versions merged
    assert data["operations"]["VirtualMachineRunCommands_GetByVirtualMachine"]["statuses_seen"] == {"200": 4, "404": 1}
    result.stdout.fnmatch_lines(
        ["  VirtualMachineRunCommands_Update: 4 call(s) in 4 test(s)*", "*NOT reached: required 95%*"]
    )


def test_no_summary_when_the_plugin_was_not_used(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "run-command contract coverage" not in result.stdout.str()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("out/coverage.html", "*takes the JSON path; the HTML page is written beside it: use 'out/coverage.json'*"),
        ("coverage.xml", "*takes the JSON path; the HTML page is written beside it: use 'coverage.json'*"),
        ("a_directory", "*takes a file path; 'a_directory' is a directory"),
        ("", "*takes a file path; got an empty one"),  # review 14, finding 14: ignored, no report and no word
        ("  ", "*takes a file path; got an empty one"),
    ],
)
def test_a_report_path_that_cannot_work_is_a_usage_error(pytester: pytest.Pytester, given: str, message: str) -> None:
    (pytester.path / "a_directory").mkdir()
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--runcommand-report", given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*runcommand_report (--runcommand-report) {message.lstrip('*')}"])


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("blocker/report.json", "blocker is not a folder"),
        ("blocker/deeper/report.json", "blocker is not a folder"),
        ("/proc/nope/report.json", "cannot write there (*)"),
        ("x" * 300 + ".json", "cannot write there (File name too long)"),
    ],
)
def test_a_report_whose_folder_cannot_be_made_fails_before_any_test(
    pytester: pytest.Pytester, given: str, why: str
) -> None:
    (pytester.path / "blocker").write_text("a file where a folder should be")
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*runcommand_report (--runcommand-report) '{given}': {why}"])
    assert "passed" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_a_missing_report_folder_is_made(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "new/dir/report.json")
    result.assert_outcomes(passed=1)
    assert (pytester.path / "new/dir/report.json").is_file()


def test_collecting_only_is_not_judged_by_the_threshold(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--co", "--runcommand-fail-under=50")
    assert result.ret == pytest.ExitCode.OK
    assert "NOT reached" not in result.stdout.str()
