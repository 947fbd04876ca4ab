"""``pytest-runcommand cassettes check PATH...``: contract and secret check of recorded traffic."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pytest_runcommand.errors import UsageError

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cassettes",
        help="work with recorded traffic (vcrpy cassettes, Azure PowerShell session records)",
        description="Work with recorded traffic.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=type(parser))
    actions.required = True
    check = actions.add_parser(
        "check",
        help="validate run-command interactions against the contract and scan for secrets",
        description="Read vcrpy YAML/JSON cassettes and Azure PowerShell session records (directories are "
        "searched recursively; a file found there that is not a recording of any of these formats is skipped and "
        "counted), validate every run-command interaction against the contract of its api-version, "
        "scan for secrets (bodies decoded) and print a summary per file. Exit 0: clean; 1: violations or secrets "
        "found, or a recording with no interactions; 2: usage error or an unreadable file, or one too large for a "
        "cassette (one line on stderr each).",
    )
    check.add_argument("paths", nargs="+", metavar="PATH", help="cassette file or directory")
    check.add_argument("--no-contract", action="store_true", help="skip contract validation")
    check.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="CODE",
        help="a violation code to tolerate (repeatable, or comma-separated), as the contract marker's ignore=",
    )
    check.add_argument("--no-scan", action="store_true", help="skip the secret scan")
    check.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="report format: text, json, or sarif (SARIF 2.1.0 for code scanning); default text",
    )
    check.add_argument("-q", "--quiet", action="store_true", help="only the per-file summary lines")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    from pytest_runcommand.cassettes.check import check_file, walk_paths

    if args.no_contract and args.no_scan:
        raise UsageError("--no-contract and --no-scan together leave nothing to check")
    ignore = _codes(args.ignore)
    if ignore and args.no_contract:
        raise UsageError("--ignore names violation codes, which --no-contract does not look for")
    files = walk_paths(args.paths)
    if not files:
        raise UsageError(f"no cassette files (*.yaml, *.yml, *.json) under {', '.join(args.paths)}")
    contract, scan = not args.no_contract, not args.no_scan
    reports = [
        check_file(p, contract=contract, scan=scan, recordings_only=walked, ignore=ignore) for p, walked in files
    ]
    skipped = sum(r.skipped is not None for r in reports)
    if skipped == len(reports):
        raise UsageError(
            f"no recordings under {', '.join(args.paths)} ({skipped} file(s) skipped: not recordings of any format "
            "this command reads)"
        )
    if args.format == "json":
        print(json.dumps([_as_json(r) for r in reports], indent=2))
    elif args.format == "sarif":
        from pytest_runcommand import __version__
        from pytest_runcommand.cassettes.sarif import sarif_report

        print(json.dumps(sarif_report(reports, __version__), indent=2))
    else:
        for report in reports:
            if report.error is not None or report.skipped is not None:
                continue  # an error's one line goes to stderr below; a skipped file is counted
            print(report.summary())
            if not args.quiet:
                for line in report.details():
                    print(line)
        total = sum(r.interactions for r in reports)
        ignored = sum(sum(r.ignored.values()) for r in reports)
        print(
            f"{len(reports) - skipped} file(s): {total} interactions, {sum(r.run_command for r in reports)} "
            f"run-command, {sum(r.validated for r in reports)} validated, {sum(len(r.violations) for r in reports)} "
            f"with violations, "
            + (f"{ignored} violation(s) ignored, " if ignored else "")
            + f"{sum(len(r.findings) for r in reports)} secret hits, "
            f"{sum(r.error is not None for r in reports)} unreadable"
            + (f", {empty} empty" if (empty := sum(r.empty for r in reports)) else "")
            + (f"; {skipped} skipped: not recordings" if skipped else "")
        )
    if any(r.error is not None for r in reports):
        for report in reports:
            if report.error is not None:
                print(f"pytest-runcommand cassettes check: error: {report.error}", file=sys.stderr)
        return 2
    return 0 if all(r.ok for r in reports) else 1


def _codes(given: list[str]) -> frozenset[str]:
    """The codes ``--ignore`` names (each flag may hold several, comma-separated); an unknown one is a usage
    error."""
    named = [code.strip() for text in given for code in text.split(",")]
    if "" in named:
        raise UsageError("--ignore takes violation codes (CODE or CODE,CODE); got an empty one")
    codes = frozenset(named)
    if codes:
        from pytest_runcommand.contract.traffic import ignore_problem

        problem = ignore_problem(codes)
        if problem is not None:
            raise UsageError(f"--ignore {problem}")
    return codes


def _as_json(report: Any) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "format": report.format,
        "error": report.error,
        "skipped": report.skipped,
        "empty": report.empty,
        "interactions": report.interactions,
        "run_command_interactions": report.run_command,
        "validated": report.validated,
        "api_versions": {v: {"count": c, "note": report.version_notes[v]} for v, c in report.api_versions.items()},
        "families": dict(sorted(report.families.items())),
        "violations": [str(v) for v in report.violations],
        "ignored": dict(sorted(report.ignored.items())),
        "secret_hits": [
            {"detector": f.detector, "where": f.where, "line": f.line, "masked": f.masked} for f in report.findings
        ],
    }
