"""The runcommand_contract marker and fixture: all run-command traffic of a test is validated, whatever carries it."""

from __future__ import annotations

import pytest

BROKEN_SERVER = """
import json
import httpx
import pytest

URL = ("https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
       "/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01")

def echo_everything(request):
    body = json.loads(request.content)
    answer = {"name": "rc", "id": "/x", "type": "Microsoft.Compute/virtualMachines/runCommands",
              "location": "westus", "properties": {**body["properties"], "provisioningState": "Updating"}}
    return httpx.Response(200, json=answer)

def client():
    return httpx.Client(transport=httpx.MockTransport(echo_everything))
"""


def test_a_secret_echoed_by_a_server_fails_the_marked_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        broken=BROKEN_SERVER,
        test_it="""
import pytest
from broken import URL, client

@pytest.mark.runcommand_contract
def test_patch():
    response = client().patch(URL, json={"properties": {"source": {"script": "id"}, "runAsPassword": "hunter2"}})
    assert response.status_code == 200
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ContractViolationError: run-command traffic broke the contract in 1 of 1 interaction(s):*",
            "*1 contract violation in VirtualMachineRunCommands_Update*",
            "*PATCH https://management.azure.com/subscriptions/*/runCommands/rc?api-version=2024-07-01 -> 200*",
            "*[[]response] SECRET_PROPERTY at /properties/runAsPassword: runAsPassword is write-only*",
        ]
    )
    assert "hunter2" not in result.stdout.str()


def test_the_same_test_unmarked_passes_and_ignore_tolerates_a_code(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        broken=BROKEN_SERVER,
        test_it="""
import pytest
from broken import URL, client

BODY = {"properties": {"source": {"script": "id"}, "runAsPassword": "hunter2"}}

def test_unmarked():
    assert client().patch(URL, json=BODY).status_code == 200

@pytest.mark.runcommand_contract(ignore=["SECRET_PROPERTY"])
def test_tolerated():
    assert client().patch(URL, json=BODY).status_code == 200
""",
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_fixture_enforces_and_exposes_the_traffic(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        broken=BROKEN_SERVER,
        test_it="""
from broken import URL, client

def test_patch(runcommand_contract):
    client().patch(URL, json={"properties": {"source": {"script": "id", "commandId": "x"}}})
    assert len(runcommand_contract.interactions) == 1
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*[[]request] MULTIPLE_SCRIPT_SOURCES at /properties/source*"])


def test_traffic_to_the_in_process_emulator_is_validated(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
import pytest

@pytest.mark.runcommand_contract
def test_good(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc1")
    put = runcommand_emulator.client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"}}})
    assert put.status_code == 201
    patch = runcommand_emulator.client.patch(url, json={"properties": {"timeoutInSeconds": 30}})
    assert patch.status_code == 200

@pytest.mark.runcommand_contract
def test_bad_request(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc1")
    answer = runcommand_emulator.client.put(url, json={"location": "westus", "properties": {"source": {"script": "ls"},
                                                       "provisioningState": "Succeeded"}})
    assert answer.status_code == 400
""",
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*[[]request] READONLY_PROPERTY_NOT_ALLOWED_IN_REQUEST at /properties/provisioningState*"]
    )


@pytest.mark.parametrize(
    "usage",
    [
        '@pytest.mark.runcommand_contract("strict")',
        "@pytest.mark.runcommand_contract(strict=True)",
        '@pytest.mark.runcommand_contract(ignore="SECRET_PROPERTY")',
        '@pytest.mark.runcommand_contract(ignore=["SECRET_PROPERTY", "NOT_A_CODE"])',
    ],
)
def test_a_marker_used_wrongly_is_an_error_of_that_test(pytester: pytest.Pytester, usage: str) -> None:
    pytester.makepyfile(
        test_it=f"""
import pytest

{usage}
def test_x():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*runcommand_contract*ignore*"])


def test_markers_pass_strict_markers_and_the_option_group_is_in_help(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_it="import pytest\n\n@pytest.mark.runcommand_contract\ndef test_x():\n    pass\n")
    pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    help_text = pytester.runpytest_subprocess("--help").stdout.str()
    for option in (
        "--runcommand-target",
        "--runcommand-api-version",
        "--runcommand-emulator-mode",
        "--runcommand-report",
    ):
        assert option in help_text


def test_a_bad_setting_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nruncommand_target = ftp://nowhere\n")
    pytester.makepyfile(test_it="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*runcommand_target takes 'emulator' or an http(s) base URL*"])


def test_emulator_mode_option_reaches_the_emulator(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        test_it="""
def test_read_only_field(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc1")
    body = {"location": "westus", "properties": {"source": {"script": "ls"}, "provisioningState": "Succeeded"}}
    assert runcommand_emulator.client.put(url, json=body).status_code == EXPECTED
"""
    )
    pytester.makeconftest("import os\nimport builtins\nbuiltins.EXPECTED = int(os.environ['EXPECTED'])\n")
    monkeypatch.setenv("EXPECTED", "400")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    monkeypatch.setenv("EXPECTED", "201")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-emulator-mode=lenient").assert_outcomes(
        passed=1
    )
    pytester.makeini("[pytest]\nruncommand_emulator_mode = lenient\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_asserting_no_violations_reads_like_a_sentence(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
from pytest_runcommand import validate_request

URL = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"

def test_body():
    body = {"properties": {"source": {"script": "a", "commandId": "b"}, "runAsPassword": 42}}
    assert validate_request("PATCH", URL, body) == []
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the body breaks the run-command contract: 2 violations",
            "*[[]request] INVALID_TYPE at /properties/runAsPassword: expected string, got integer (got *)",
            "*[[]request] MULTIPLE_SCRIPT_SOURCES at /properties/source*",
        ]
    )


def test_an_unknown_ignored_code_is_named_at_that_tests_set_up(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
import pytest

@pytest.mark.runcommand_contract(ignore=["SECRET_PROPERTY", "NOT_A_CODE"])
def test_x():
    pass

def test_other():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)  # the module's other test still runs
    result.stdout.fnmatch_lines(["*test_x: *(ignore=...): NOT_A_CODE: not a violation code;*RULE_CODES, SCHEMA_CODES*"])
    assert "SECRET_PROPERTY;" not in result.stdout.str()


def test_the_summary_code_cannot_be_ignored(pytester: pytest.Pytester) -> None:
    """Review 13, finding 2: ignore=["TOO_MANY_VIOLATIONS"] hid every violation past the 100th, whatever its code."""
    pytester.makepyfile(
        test_it="""
import pytest

@pytest.mark.runcommand_contract(ignore=["INVALID_TYPE", "TOO_MANY_VIOLATIONS"])
def test_x():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_x: *TOO_MANY_VIOLATIONS cannot be ignored: it counts*name those codes*"])


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ('ignore="OBJECT_ADDITIONAL_PROPERTIES"', "got ignore='OBJECT_ADDITIONAL_PROPERTIES'"),
        ("bogus=1", "got bogus"),
        ('"INVALID_JSON"', "got 'INVALID_JSON'"),
        ("ignore=[1]", "got ignore=[[]1] (not all codes are strings)"),
        ("ignore=5", "got ignore=5"),
    ],
)
def test_wrong_arguments_fail_only_that_test_saying_what_the_marker_takes(
    pytester: pytest.Pytester, arguments: str, said: str
) -> None:
    pytester.makepyfile(
        test_it=f"""
import pytest

@pytest.mark.runcommand_contract({arguments})
def test_x():
    pass

def test_other():
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([f"*takes only ignore=[[]CODE, ...] (violation codes to tolerate); {said}*"])
    assert "Traceback" not in result.stdout.str()


def test_the_emulators_path_helpers_use_the_runs_api_version(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_it="""
def test_paths(runcommand_emulator):
    assert runcommand_emulator.run_command_path("rc1").endswith("/runCommands/rc1?api-version=2023-03-01")
    assert runcommand_emulator.action_path().endswith("/runCommand?api-version=2023-03-01")
    assert runcommand_emulator.run_command_path("rc1", api_version="2024-07-01").endswith("=2024-07-01")
    answer = runcommand_emulator.client.put(
        runcommand_emulator.run_command_path("rc1"), json={"location": "westus", "properties": {"source": {"script": "x"}}}
    )
    assert answer.status_code == 201, answer.text
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-api-version", "2023-03-01")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("version", ["1999-01-01", "2024-07-01-preview", "latest"])
def test_an_unsupported_api_version_is_a_usage_error_at_start(pytester: pytest.Pytester, version: str) -> None:
    pytester.makepyfile(test_it="def test_x():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-api-version", version)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--runcommand-api-version*supported api-version*got '{version}'*"])
