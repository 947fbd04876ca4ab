"""The coverage report knows the whole run-command family: operations grouped by family, each interaction counted at
its own api-version, "never touched" limited to the operations of the versions the run used."""

from __future__ import annotations

import json

import pytest

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, LATEST_API_VERSION, operations_at, versions_with
from pytest_runcommand.interactions import Interaction
from pytest_runcommand.report import CoverageReport

FAMILY_SUITE = """
import time

def test_invoke_and_catalogue(runcommand_emulator):
    client = runcommand_emulator.client
    posted = client.post(runcommand_emulator.action_path(), json={"commandId": "RunShellScript", "script": ["echo hi"]})
    assert posted.status_code == 202
    for _ in range(50):
        final = client.get(posted.headers["Location"])
        if final.status_code == 200:
            break
        time.sleep(0.01)
    assert final.json()["value"][0]["message"].endswith("hi\\n\\n[stderr]\\n")
    assert client.get(runcommand_emulator.catalogue_path()).status_code == 200
    assert client.get(runcommand_emulator.catalogue_path("RunShellScript")).status_code == 200

def test_diagnostic_at_latest(runcommand_emulator):
    path = runcommand_emulator.run_command_path(vm="vm1", api_version=None).replace("/runCommands", "/diagnosticRunCommands/d1")
    body = {"location": "westus", "properties": {"source": {"script": "ls"}}}
    assert runcommand_emulator.client.put(path + "?api-version=LATEST", json=body).status_code in (200, 201)
""".replace("LATEST", LATEST_API_VERSION)


def test_families_and_versions_in_the_terminal_and_json(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_family=FAMILY_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "out/cov.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            f"api-versions: {DEFAULT_API_VERSION} (*), {LATEST_API_VERSION} (1)",
            "diagnostic: 1 of * operation(s) touched",
            "  VirtualMachineDiagnosticRunCommands_CreateOrUpdate: 1 call(s)*",
            "action: 1 of 2 operation(s) touched",
            "  VirtualMachines_RunCommand: * call(s) in 1 test(s); status 200x1, 202x*; request properties 2/5;*",
            "catalogue: 2 of 2 operation(s) touched",
            f"never touched: managed (all {len(operations_at(DEFAULT_API_VERSION, 'managed'))}); diagnostic: *; "
            "action: VirtualMachineScaleSetVMs_RunCommand; extension (all 1)",  # AsyncOperations_Get: not polled
        ]
    )
    data = json.loads((pytester.path / "out" / "cov.json").read_text())
    used = {DEFAULT_API_VERSION, LATEST_API_VERSION}
    assert set(data["api_versions"]) == used
    defined = {op for version in used for op in operations_at(version)}
    assert set(data["operations"]) == defined
    action = data["operations"]["VirtualMachines_RunCommand"]
    assert action["family"] == "action"
    assert action["request_properties_covered"] == ["/commandId", "/script"]
    assert action["request_properties_uncovered"] == ["/parameters", "/parameters/*/name", "/parameters/*/value"]
    assert "/value/*/message" in action["response_properties_covered"]  # the result, read at the Location URL
    assert data["operations"]["AsyncOperations_Get"]["calls"] == 0  # the Location's GETs count for the action
    catalogue = data["operations"]["VirtualMachineRunCommands_Get"]
    assert catalogue["family"] == "catalogue"
    assert "/script" in catalogue["response_properties_covered"]
    page = (pytester.path / "out" / "cov.html").read_text()
    assert "<td>catalogue</td>" in page
    assert LATEST_API_VERSION in page


def _interaction(method: str, path: str, version: str, body: object = None, status: int = 200) -> Interaction:
    return Interaction(
        method,
        f"https://management.azure.com{path}?api-version={version}",
        request_body=None if body is None else json.dumps(body),
        status=status,
        response_body=json.dumps({"value": [{"code": "ComponentStatus/StdOut/succeeded", "message": "ok"}]}),
    )


VM = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"


@pytest.mark.parametrize("version", versions_with("VirtualMachines_RunCommand"))
def test_never_touched_lists_only_the_operations_of_the_versions_used(version: str) -> None:
    report = CoverageReport()
    report.add(_interaction("POST", f"{VM}/runCommand", version, {"commandId": "RunPowerShellScript"}))
    data = report.to_dict()
    assert data["api_versions"] == {version: 1}
    assert set(data["operations"]) == set(operations_at(version))
    assert set(data["operations_untouched"]) == set(operations_at(version)) - {"VirtualMachines_RunCommand"}
    action = data["operations"]["VirtualMachines_RunCommand"]
    assert "/value/*/message" in action["response_properties_covered"]
    assert {"/commandId", "/script", "/parameters/*/value"} <= {
        *action["request_properties_covered"],
        *action["request_properties_uncovered"],
    }
    lines = report.terminal_lines()
    assert lines[0] == f"api-versions: {version} (1)"
    assert any(line.startswith("never touched: ") for line in lines)
    if "diagnostic" not in {data["operations"][op]["family"] for op in data["operations"]}:
        assert not any("Diagnostic" in line for line in lines)


def test_merged_versions_widen_the_universe() -> None:
    old, new = "2021-03-01", LATEST_API_VERSION
    first, second = CoverageReport(), CoverageReport()
    first.add(_interaction("POST", f"{VM}/runCommand", old, {"commandId": "RunShellScript"}))
    second.add(_interaction("POST", f"{VM}/runCommand", new, {"commandId": "RunShellScript"}))
    first.merge(second.to_dict())
    data = first.to_dict()
    assert data["api_versions"] == {old: 1, new: 1}
    assert data["operations"]["VirtualMachines_RunCommand"]["calls"] == 2
    assert set(data["operations"]) == set(operations_at(old)) | set(operations_at(new))


def test_the_result_read_at_the_location_counts_for_the_action() -> None:
    report = CoverageReport()
    version = DEFAULT_API_VERSION
    location = f"https://management.azure.com/subscriptions/0/providers/Microsoft.Compute/locations/westus/operations/op1?monitor=true&api-version={version}"
    posted = _interaction("POST", f"{VM}/runCommand", version, {"commandId": "RunShellScript"}, status=202)
    report.add(Interaction(posted.method, posted.url, request_body=posted.request_body, status=202,
                           response_headers={"Location": location}))  # fmt: skip
    result = {"value": [{"code": "ProvisioningState/succeeded", "level": "Info", "message": "ok"}]}
    report.add(Interaction("GET", location, status=200,
                           response_body=json.dumps(result)))  # fmt: skip
    data = report.to_dict()
    action = data["operations"]["VirtualMachines_RunCommand"]
    assert set(action["response_properties_covered"]) == {
        "/value",
        "/value/*/code",
        "/value/*/level",
        "/value/*/message",
    }
    assert (action["calls"], action["statuses_seen"]) == (2, {"200": 1, "202": 1})  # the GET of its Location too
    assert data["operations"]["AsyncOperations_Get"]["calls"] == 0


@pytest.mark.parametrize("location", ["https://[bad/operations/x?monitor=true", "", "/relative?x=1"])
def test_a_location_of_any_shape_is_taken_in_stride(location: str) -> None:
    report = CoverageReport()
    report.add(Interaction("POST", f"https://management.azure.com{VM}/runCommand?api-version={DEFAULT_API_VERSION}",
                           status=202, response_headers={"Location": location}))  # fmt: skip
    report.add(Interaction("GET", location or "https://[x", status=200, response_body="{}"))
    assert report.to_dict()["operations"]["VirtualMachines_RunCommand"]["calls"] == 1
