"""``cassettes check`` over the whole run-command family: each interaction at its own api-version.

The Azure CLI's own recording of ``az vm run-command list/show/invoke`` (Azure/azure-cli, 2019-10-21) speaks
api-version 2019-03-01, older than every contract: the honest answer is UNKNOWN_API_VERSION for each of its
run-command interactions, nothing invented. The same traffic at 2020-06-01 (the first version whose contract holds
the catalogue and the action) conforms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_runcommand.cassettes.check import check_file
from pytest_runcommand.contract.facts import API_VERSIONS, operation_family, versions_with

ROOT = Path(__file__).resolve().parents[2]
E2E = ROOT / "tests" / "data" / "legacy-traffic" / "azure-cli" / "test_vm_run_command_e2e.yaml"
"""A verbatim copy (tests/data/legacy-traffic/SOURCES.md names its origin): the suite runs from a clone alone."""
RECORDED_VERSION = "2019-03-01"


@pytest.fixture(scope="module")
def e2e_text() -> str:
    if not E2E.is_file():
        pytest.fail(f"the reference recording {E2E} is missing (see tests/data/legacy-traffic/SOURCES.md)")
    return E2E.read_text(encoding="utf-8")


def _operations(report: object) -> list[str]:
    return [v.text.split(" in ", 1)[1].split("\n", 1)[0] for v in report.violations]  # type: ignore[attr-defined]


def test_the_cli_recording_at_2019_03_01_is_unknown_api_version(e2e_text: str) -> None:
    assert RECORDED_VERSION not in API_VERSIONS
    report = check_file(E2E)
    assert report.error is None
    assert report.findings == []
    assert report.run_command == 6
    assert dict(report.api_versions) == {RECORDED_VERSION: 6}
    assert "not a supported api-version" in report.version_notes[RECORDED_VERSION]
    assert {code for v in report.violations for code in v.codes} == {"UNKNOWN_API_VERSION"}
    assert all(len(v.codes) == 1 for v in report.violations)
    families = {operation_family(op) for op in _operations(report)}
    assert families == {"catalogue", "action", "extension"}
    assert dict(report.families) == {"catalogue": 2, "action": 1, "extension": 3}
    assert "  families: action 1, catalogue 2, extension 3" in list(report.details())


def test_the_same_traffic_at_the_first_version_with_the_action_conforms(e2e_text: str, tmp_path: Path) -> None:
    first = versions_with("VirtualMachines_RunCommand")[0]
    assert first == versions_with("VirtualMachineRunCommands_List")[0]
    moved = tmp_path / "e2e.yaml"
    moved.write_text(e2e_text.replace(f"api-version={RECORDED_VERSION}", f"api-version={first}"), encoding="utf-8")
    report = check_file(moved)
    assert dict(report.api_versions) == {first: 6}
    assert report.violations == []
    assert report.ok


def test_a_broken_action_result_is_named_at_its_version(e2e_text: str, tmp_path: Path) -> None:
    """The final ``monitor=true`` answer (RunCommandResult) with a message that is not text breaks the contract."""
    first = versions_with("VirtualMachines_RunCommand")[0]
    text = e2e_text.replace(f"api-version={RECORDED_VERSION}", f"api-version={first}")
    broken = tmp_path / "broken.yaml"
    marker = '\\"message\\":\\"Enable succeeded'  # the final answer's compact JSON, escaped in the YAML
    assert text.count(marker) == 1
    text = text.replace(marker, '\\"message\\":7,\\"x\\":\\"Enable succeeded')
    broken.write_text(text, encoding="utf-8")
    report = check_file(broken)
    (violation,) = report.violations
    assert "(interaction #21)" in violation.place  # the monitor=true answer, the only one carrying the result
    assert f"monitor=true&api-version={first}" in violation.text
    assert dict(report.api_versions) == {first: 6}
