"""``cassettes check --format sarif``: the reports as SARIF 2.1.0, so a leaked secret shows in code scanning.

One result per secret finding (rule id: the detector id, e.g. ``jwt``, ``secret-field``), per interaction that breaks
the contract (rule id: ``contract/<CODE>`` for each violation code) and per unreadable file (``unreadable``), each
with the file and, when known, the line. A violation ``--ignore`` tolerated is a result too, marked suppressed
(``suppressions``: kind ``external``, the flag as justification), so code scanning lists it as dismissed rather than
not at all. Messages carry masked values only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_runcommand.cassettes.check import FileReport
from pytest_runcommand.cassettes.scan import UNDECODABLE, detectors

__all__ = ["SARIF_SCHEMA", "sarif_report"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LINE = re.compile(r":(\d+)(?::\d+)?(?::| |$)")

_RULE_TEXT = {
    "jwt": "A JSON Web Token is stored in recorded traffic.",
    "bearer-token": "A bearer token is stored in recorded traffic.",
    "sas-signature": "A SAS signature (or signed-identity field) is stored in recorded traffic.",
    "subscription-id": "A real subscription id is stored in recorded traffic (the zero GUID stands in for it).",
    "query-token": "An OAuth token, client secret, password or code is stored in a URL query or fragment.",
    "secret-field": "A secret property of the contract, or an OAuth token field, has a real value.",
    "url-credentials": "A URL's user information (user:password@) is stored in recorded traffic.",
    UNDECODABLE: "A body cannot be decoded, so it cannot be shown to hold no secret.",
    "unreadable": "The file cannot be read as recorded traffic.",
    "empty": "The recording holds no interactions: nothing in it was checked.",
}


def _location(path: Path, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": path.as_posix()}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _line_of(text: str) -> int | None:
    found = _LINE.search(text)
    return int(found.group(1)) if found else None


def sarif_report(reports: Sequence[FileReport], version: str) -> dict[str, Any]:
    """The SARIF 2.1.0 log of ``reports`` (``version``: this tool's version)."""
    results: list[dict[str, Any]] = []
    contract_codes: set[str] = set()
    for report in reports:
        if report.error is not None:
            results.append(
                {
                    "ruleId": "unreadable",
                    "level": "error",
                    "message": {"text": report.error},
                    "locations": [_location(report.path, _line_of(report.error.removeprefix(str(report.path))))],
                }
            )
            continue
        if report.empty:
            results.append(
                {
                    "ruleId": "empty",
                    "level": "error",
                    "message": {"text": report.summary()},
                    "locations": [_location(report.path, None)],
                }
            )
        for finding in report.findings:
            results.append(
                {
                    "ruleId": finding.detector,
                    "level": "error",
                    "message": {"text": str(finding)},
                    "locations": [_location(report.path, finding.line)],
                    "partialFingerprints": {
                        "valueHash/v1": f"{finding.detector}:{finding.value_hash & 0xFFFFFFFF:08x}"
                    },
                }
            )
        for violations, suppressed in [(v, False) for v in report.violations] + [(v, True) for v in report.tolerated]:
            for code in dict.fromkeys(violations.codes):
                contract_codes.add(code)
                result: dict[str, Any] = {
                    "ruleId": f"contract/{code}",
                    "level": "error",
                    "message": {"text": violations.text},
                    "locations": [_location(report.path, violations.line)],
                }
                if suppressed:
                    result["suppressions"] = [{"kind": "external", "justification": f"cassettes check --ignore {code}"}]
                results.append(result)
    rule_ids = [*detectors(), UNDECODABLE, "unreadable", "empty"]
    rules = [{"id": rule, "shortDescription": {"text": _RULE_TEXT[rule]}} for rule in rule_ids]
    rules += [
        {"id": f"contract/{code}", "shortDescription": {"text": f"Run-command traffic breaks the contract: {code}."}}
        for code in sorted(contract_codes)
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pytest-runcommand cassettes check",
                        "version": version,
                        "informationUri": "https://pypi.org/project/pytest-runcommand/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
