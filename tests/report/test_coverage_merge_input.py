"""``pytest-runcommand report merge`` of a damaged contract coverage report (``--runcommand-report``): exit 2 with one
line naming the file and the field, no traceback, nothing written, as for a damaged fuzz report (review 10,
finding 7). The reports are real ones, written by a pytest run against the emulator, then damaged field by field."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

OPERATION = "VirtualMachineRunCommands_GetByVirtualMachine"

SUITE = """
def test_x(runcommand_emulator):
    runcommand_emulator.client.get(runcommand_emulator.run_command_path("x"))
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed command, as CI calls it."""
    script = Path(sys.executable).with_name("pytest-runcommand")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pytest_runcommand"]
    return subprocess.run([*command, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def run_suite(folder: Path, report: str, *tests: str) -> dict[str, Any]:
    """Run pytest on ``folder``'s ``tests`` with ``--runcommand-report report``; the report's JSON."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests]
    done = subprocess.run(
        [*command, "--runcommand-report", report], cwd=folder, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data: dict[str, Any] = json.loads((folder / report).read_text())
    return data


@pytest.fixture(scope="module")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("suite")
    (folder / "test_x.py").write_text(SUITE)
    data = run_suite(folder, "r.json", "test_x.py")
    assert data["operations"][OPERATION]["calls"] == 1
    return data


ENTRY = f"operations.{OPERATION}"

DAMAGE: dict[str, tuple[str, str, Any]] = {  # what is damaged (the report, or the entry of OPERATION), field, value
    # the reviewer's cases
    "status key": (ENTRY, "statuses_seen", {"abc": 1}),
    "statuses a list": (ENTRY, "statuses_seen", [1]),
    "covered an int": (ENTRY, "response_properties_covered", 5),
    "rules a list": (ENTRY, "rules_fired", ["a"]),
    "api_versions a list": ("", "api_versions", ["2024-07-01"]),
    "test_count a string": (ENTRY, "test_count", "x"),
    "unmatched a string": ("", "unmatched_interactions", "x"),
    "tests a string": (ENTRY, "tests", "abc"),
    # more of the same kind
    "status count a string": (ENTRY, "statuses_seen", {"200": "1"}),
    "status a superscript digit": (ENTRY, "statuses_seen", {"2\u00b2": 1}),
    "negative calls": (ENTRY, "calls", -1),
    "calls a boolean": (ENTRY, "calls", True),
    "calls a float": (ENTRY, "calls", 1.5),
    "a test not a string": (ENTRY, "tests", [1]),
    "request covered holds null": (ENTRY, "request_properties_covered", [None]),
    "rule count negative": (ENTRY, "rules_fired", {"R1": -2}),
    "fewer tests counted than listed": (ENTRY, "test_count", 0),
    "api-version count a string": ("", "api_versions", {"2024-07-01": "1"}),
    "unmatched negative": ("", "unmatched_interactions", -1),
    "uncovered a string": (ENTRY, "response_properties_uncovered", "x"),
    "family a number": (ENTRY, "family", 3),
    "untouched a string": ("", "operations_untouched", "x"),
    "rules never fired an object": ("", "rules_never_fired", {}),
    "totals a list": ("", "totals", []),
    "contract a number": ("", "contract", 1),
    "entry null": ("operations", OPERATION, None),
}


def damaged(report: dict[str, Any], damage: str) -> tuple[dict[str, Any], str]:
    """A copy of ``report`` with ``damage`` done, and the field an error must name."""
    place, name, value = DAMAGE[damage]
    data = copy.deepcopy(report)
    holder = data if not place else data["operations"] if place == "operations" else data["operations"][OPERATION]
    holder[name] = value
    return data, f"{place}.{name}" if place else name


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_coverage_report_exits_2_naming_the_file_and_the_field(
    tmp_path: Path, real_report: dict[str, Any], damage: str
) -> None:
    data, field = damaged(real_report, damage)
    good, bad = tmp_path / "good.json", tmp_path / "bad-coverage.json"
    good.write_text(json.dumps(real_report))
    bad.write_text(json.dumps(data))
    done = cli("report", "merge", str(good), str(bad), "-o", str(tmp_path / "out" / "merged.json"), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"pytest-runcommand report: error: {bad}: {field}"), line
    assert not list((tmp_path / "out").glob("*")), "nothing written"


def test_an_undamaged_real_report_merges(tmp_path: Path, real_report: dict[str, Any]) -> None:
    """The reader accepts what the plugin writes (and a report of this shape without the derived fields)."""
    (tmp_path / "a.json").write_text(json.dumps(real_report))
    lean = copy.deepcopy(real_report)
    for name in ("totals", "operations_untouched", "rules_never_fired", "rules_fired", "contract"):
        del lean[name]
    lean["runs"] = ["another-run"]  # as the report of a second run names its own
    (tmp_path / "b.json").write_text(json.dumps(lean))
    done = cli("report", "merge", "a.json", "b.json", "-o", "m.json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((tmp_path / "m.json").read_text())["operations"][OPERATION]
    once = real_report["operations"][OPERATION]["statuses_seen"]
    assert (merged["calls"], merged["statuses_seen"]) == (2, {code: 2 * count for code, count in once.items()})


INVOKE = """
import pytest

from pytest_runcommand.emulator import Outcome

DISK_CHECK = "df --output=pcent / | tail -1"


@pytest.mark.runcommand_contract
def test_invoke_reads_what_the_vm_printed(runcommand_emulator):
    runcommand_emulator.executor.register(Outcome.success(" 83%\\n"), script=DISK_CHECK)
    client = runcommand_emulator.client
    body = {"commandId": "RunShellScript", "script": [DISK_CHECK]}
    accepted = client.post(runcommand_emulator.action_path(vm="web-1"), json=body)
    assert accepted.status_code == 202
    result = client.get(accepted.headers["Location"])
    while result.status_code == 202:
        result = client.get(accepted.headers["Location"])
    (status,) = result.json()["value"]
    assert status["code"] == "ProvisioningState/succeeded"
"""

CATALOGUE = """
def test_catalogue(runcommand_emulator):
    client = runcommand_emulator.client
    assert client.get(runcommand_emulator.catalogue_path(location="westus")).status_code == 200
"""


def test_a_test_in_two_merged_reports_counts_once(tmp_path: Path) -> None:
    """A full run and a retry of one of its tests (a CI job run again): merged, that test is one test (review 10,
    finding 11: test_count was summed, 2 with one test listed)."""
    (tmp_path / "test_b.py").write_text(INVOKE)
    (tmp_path / "test_cat.py").write_text(CATALOGUE)
    node = "test_b.py::test_invoke_reads_what_the_vm_printed"
    full = run_suite(tmp_path, "full.json", node, "test_cat.py")
    retry = run_suite(tmp_path, "retry.json", node)
    action = "VirtualMachines_RunCommand"
    assert full["operations"][action]["test_count"] == retry["operations"][action]["test_count"] == 1
    done = cli("report", "merge", "full.json", "retry.json", "-o", "merged/fr.json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((tmp_path / "merged" / "fr.json").read_text())["operations"]
    assert (merged[action]["test_count"], merged[action]["tests"]) == (1, [node])
    catalogue = "VirtualMachineRunCommands_List"
    assert (merged[catalogue]["test_count"], merged[catalogue]["tests"]) == (1, ["test_cat.py::test_catalogue"])
    page = (tmp_path / "merged" / "fr.html").read_text()
    assert "exercised by 2 test(s)" not in page
    assert "exercised by 1 test(s)" in page


def test_any_status_a_report_holds_is_read_back() -> None:
    """What ``to_dict`` writes is what the reader takes: an exchange may hold any integer status (a worker of an
    xdist run handed one of -3162 to the controller), which merges as it was counted."""
    from pytest_runcommand.interactions import Interaction
    from pytest_runcommand.report import CoverageReport

    url = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands?api-version=2024-07-01"
    worker = CoverageReport()
    for status in (-3162, 0, 200, 10**30):
        worker.add(Interaction("GET", url, status=status), test="t.py::test")
    sent = json.loads(json.dumps(worker.to_dict()))
    controller = CoverageReport()
    controller.merge(sent)
    entry = controller.to_dict()["operations"]["VirtualMachineRunCommands_ListByVirtualMachine"]
    assert (
        entry["statuses_seen"] == sent["operations"]["VirtualMachineRunCommands_ListByVirtualMachine"]["statuses_seen"]
    )
    assert set(entry["statuses_seen"]) == {"-3162", "0", "200", str(10**30)}
