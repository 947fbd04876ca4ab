"""CoverageReport: merging is adding, thresholds are monotonic, pages are escaped, secrets never get in."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.interactions import Interaction
from pytest_runcommand.report import CoverageReport, render_html
from pytest_runcommand.report.html import band

BASE = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands"
PROPERTIES = st.dictionaries(
    st.sampled_from(["timeoutInSeconds", "runAsUser", "asyncExecution", "parameters", "unknownThing"]),
    st.one_of(st.integers(0, 9), st.booleans(), st.lists(st.fixed_dictionaries({"name": st.just("a")}), max_size=2)),
    max_size=4,
)
INTERACTIONS = st.builds(
    lambda method, name, status, properties, test: (
        Interaction(
            method,
            f"{BASE}/{name}?api-version=2024-07-01" if name else f"/elsewhere?api-version={status}",
            request_body={"properties": properties} if method in ("PUT", "PATCH") else None,
            status=status,
            response_body={"name": name, "location": "westus", "properties": {"provisioningState": "Succeeded"}},
        ),
        test,
    ),
    st.sampled_from(["GET", "PUT", "PATCH", "DELETE"]),
    st.sampled_from(["rc1", "rc2", ""]),
    st.sampled_from([200, 201, 202, 404]),
    PROPERTIES,
    st.sampled_from(["t.py::a", "t.py::b", "u.py::c"]),
)


def _report(items: list[tuple[Interaction, str]]) -> CoverageReport:
    report = CoverageReport()
    for interaction, test in items:
        report.add(interaction, test=test)
    return report


@settings(max_examples=40, deadline=None)
@given(st.lists(INTERACTIONS, max_size=10), st.lists(INTERACTIONS, max_size=10))
def test_merging_two_workers_equals_one_run(
    first: list[tuple[Interaction, str]], second: list[tuple[Interaction, str]]
) -> None:
    merged = CoverageReport()
    merged.merge(_report(first).to_dict())
    merged.merge(json.loads(json.dumps(_report(second).to_dict())))  # what travels from an xdist worker
    whole = _report(first + second).to_dict()
    parts = merged.to_dict()
    for op_id, entry in whole["operations"].items():
        other = parts["operations"][op_id]
        for key in ("calls", "statuses_seen", "request_properties_covered", "response_properties_covered", "tests"):
            assert other[key] == entry[key], (op_id, key)
    assert parts["unmatched_interactions"] == whole["unmatched_interactions"]
    assert parts["totals"] == whole["totals"]


@settings(max_examples=40, deadline=None)
@given(st.lists(INTERACTIONS, max_size=8), st.floats(0, 100), st.floats(0, 100))
def test_a_threshold_met_is_met_by_every_lower_one(
    items: list[tuple[Interaction, str]], low: float, high: float
) -> None:
    low, high = sorted((low, high))
    report = _report(items)
    assert report.meets(0)
    if report.meets(high):
        assert report.meets(low)
    assert ("NOT reached" in report.verdict(high)) is not report.meets(high)


def test_an_untouched_run_meets_only_zero() -> None:
    report = CoverageReport()
    assert report.meets(0)
    assert not report.meets(0.01)


@settings(deadline=None)  # a shared, loaded machine must not fail a property on time
@given(st.integers(0, 60), st.integers(0, 60))
def test_bands_never_get_better_with_less_coverage(covered: int, extra: int) -> None:
    order = ["na", "none", "low", "part", "good", "full"]
    total = covered + extra
    if total:
        assert order.index(band(covered, total)) <= order.index(band(total, total))
        assert band(covered, total) != "full" or covered / total >= 0.9
    assert band(1, 37) in ("low",)


def test_the_page_escapes_test_ids_and_never_holds_a_secret(tmp_path: Path) -> None:
    secret = "Sentinel-Secret-7f3a9c"
    interaction = Interaction(
        "PATCH",
        f"{BASE}/rc1?api-version=2024-07-01",
        request_body={"properties": {"runAsPassword": secret, "protectedParameters": [{"name": "k", "value": secret}]}},
        status=200,
        response_body={"name": "rc1", "location": "westus", "properties": {"runAsPassword": secret}},
    )
    report = CoverageReport()
    report.add(interaction, test="t.py::test[<script>alert(1)</script>]")
    html_path = report.write(tmp_path / "r.json")
    page = html_path.read_text()
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    for written in (page, (tmp_path / "r.json").read_text(), render_html(report.to_dict())):
        assert secret not in written
    data = report.to_dict()["operations"]["VirtualMachineRunCommands_Update"]
    assert "/properties/runAsPassword" in data["request_properties_covered"]
    assert not any("runAsPassword" in p for p in data["response_properties_uncovered"])


def test_tests_are_counted_exactly_and_listed_up_to_a_limit() -> None:
    url = f"{BASE}/rc1?api-version=2024-07-01"
    report = CoverageReport()
    for index in range(60):
        for _ in range(3):
            report.add(Interaction("GET", url, status=200), test=f"t.py::test[{index:02}]")
    entry = report.to_dict()["operations"]["VirtualMachineRunCommands_GetByVirtualMachine"]
    assert (entry["calls"], entry["test_count"], len(entry["tests"])) == (180, 60, 50)
    assert entry["tests"][0] == "t.py::test[00]"
    merged = CoverageReport()
    merged.merge(report.to_dict())
    merged.merge(json.loads(json.dumps(report.to_dict()).replace("t.py", "u.py")))
    both = merged.to_dict()["operations"]["VirtualMachineRunCommands_GetByVirtualMachine"]
    assert (both["calls"], both["test_count"], len(both["tests"])) == (360, 120, 50)
