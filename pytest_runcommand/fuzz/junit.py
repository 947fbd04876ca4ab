"""A fuzz report as JUnit XML, the format pytest and schemathesis write for CI.

One ``testcase`` per operation and check (``classname`` the operation id, ``name`` the check); a check that failed
on an operation carries one ``failure`` whose text is each distinct failure with its curl line (secrets already
masked in the findings). Problems of the run itself (operations not fuzzed, no positive case accepted, clean-up
left overs) are one ``testcase`` named ``run`` with an ``error``. The suite's ``campaign`` property is the run's
campaign as JSON, so that ``report merge`` refuses JUnit files of other campaigns (:func:`merge_junit_campaigns`);
its ``report`` property is the run's JSON report (what ``--json`` writes), from which ``report merge`` writes the
JUnit file a full run of the campaign writes (:func:`report_document`).

Every text and attribute is shown with :func:`~pytest_runcommand.fuzz.findings.visible`: what XML 1.0 forbids
(control characters, lone surrogates) from a target's answer is written as a ``\\u0000`` escape, so the file parses.
"""

from __future__ import annotations

import datetime
import json
import socket
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pytest_runcommand.errors import InputError
from pytest_runcommand.fuzz.baseline import Baseline
from pytest_runcommand.fuzz.document import to_document, write_text
from pytest_runcommand.fuzz.findings import Campaign, FuzzFinding, FuzzReport, merge_campaigns, visible

__all__ = [
    "SUITE_NAME",
    "campaign_properties",
    "junit_xml",
    "merge_junit_campaigns",
    "report_document",
    "write_junit",
    "xml_text",
]

SUITE_NAME = "pytest-runcommand fuzz"
CAMPAIGN_PROPERTY = "pytest-runcommand fuzz campaign"
REPORT_PROPERTY = "pytest-runcommand fuzz report"


def campaign_properties(campaign: Campaign) -> ElementTree.Element:
    """A suite's ``properties`` element naming ``campaign``."""
    properties = ElementTree.Element("properties")
    value = json.dumps(campaign.to_dict(), sort_keys=True)
    ElementTree.SubElement(properties, "property", name=CAMPAIGN_PROPERTY, value=value)
    return properties


def merge_junit_campaigns(named: list[tuple[str, ElementTree.Element]]) -> Campaign | None:
    """The campaign of JUnit files merged together (None when none names one: files of other tools, unchecked).

    An :class:`InputError` names a file without a campaign among files with one, or one that does not fit.
    """
    found: list[tuple[str, Campaign | None]] = []
    for source, root in named:
        values = [p.get("value") for p in root.iter("property") if p.get("name") == CAMPAIGN_PROPERTY]
        if len(values) > 1:  # one file, one campaign: which one would it be?
            raise InputError(f"{source}: {len(values)} {CAMPAIGN_PROPERTY!r} properties; a fuzz JUnit file names one")
        try:
            found.append((source, Campaign.from_dict(json.loads(values[0] or "")) if values else None))
        except ValueError as error:  # a JSONDecodeError too
            raise InputError(f"{source}: the {CAMPAIGN_PROPERTY!r} property is not a campaign ({error})") from None
    if all(campaign is None for _, campaign in found):
        return None
    missing = next((source for source, campaign in found if campaign is None), None)
    if missing is not None:
        raise InputError(f"{missing}: names no fuzz campaign, unlike the others: merge the shards of one campaign")
    return merge_campaigns([(source, campaign) for source, campaign in found if campaign is not None])


def junit_xml(report: FuzzReport, baseline: Baseline | None = None) -> str:
    """The report as a JUnit XML document; findings in ``baseline`` are not failures."""
    new = {finding.key for finding in report.new_findings(baseline)}
    grouped: dict[tuple[str, str], list[FuzzFinding]] = {}
    for finding in report.findings.values():
        if finding.key in new:
            grouped.setdefault((finding.operation_id, finding.check), []).append(finding)
    operations = list(dict.fromkeys([*report.operations, *(operation for operation, _ in grouped)]))
    checks = list(dict.fromkeys([*report.checks, *(check for _, check in grouped)]))
    suite = ElementTree.Element(
        "testsuite",
        name=SUITE_NAME,
        timestamp=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        hostname=socket.gethostname(),
        time=f"{report.elapsed:.3f}",
    )
    if report.campaign is not None:
        properties = campaign_properties(report.campaign)
        document = json.dumps(to_document(report, baseline), sort_keys=True)  # ASCII: any character escaped
        ElementTree.SubElement(properties, "property", name=REPORT_PROPERTY, value=document)
        suite.append(properties)
    tests = failures = errors = 0
    for operation in operations:
        for check in checks:
            case = ElementTree.SubElement(suite, "testcase", classname=operation, name=check, time="0")
            tests += 1
            found = sorted(grouped.get((operation, check), ()), key=lambda f: f.title)
            if found:
                failures += 1
                failure = ElementTree.SubElement(case, "failure", message=found[0].title, type=check)
                failure.text = "\n\n".join(finding.render() for finding in found)
    if report.problems:
        case = ElementTree.SubElement(suite, "testcase", classname=report.target, name="run", time="0")
        error = ElementTree.SubElement(case, "error", message=report.problems[0], type="run")
        error.text = "\n".join(report.problems)
        tests += 1
        errors += 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    root = ElementTree.Element("testsuites", name=SUITE_NAME)
    root.append(suite)
    return xml_text(root)


def xml_text(root: ElementTree.Element) -> str:
    """``root`` as an XML document, every text and attribute shown with :func:`visible` (well-formed XML 1.0)."""
    for element in root.iter():
        if element.text:
            element.text = visible(element.text)
        for name, value in element.attrib.items():
            element.set(name, visible(value))
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def report_document(root: ElementTree.Element) -> Any:
    """The JSON report a fuzz JUnit file carries (:data:`REPORT_PROPERTY`), or None (another tool's, or older)."""
    values = [p.get("value") for p in root.iter("property") if p.get("name") == REPORT_PROPERTY]
    if len(values) != 1:
        return None
    try:
        return json.loads(values[0] or "")
    except (ValueError, RecursionError):
        return None


def write_junit(report: FuzzReport, path: str | Path, baseline: Baseline | None = None) -> None:
    """Write :func:`junit_xml` to ``path`` (replaced whole: a reader never sees half a file)."""
    write_text(Path(path), junit_xml(report, baseline))
