"""Offline check of recorded traffic: contract violations and secrets, per file (plain Python API).

``check_files(paths)`` reads vcrpy cassettes and Azure PowerShell session records, validates every
run-command interaction whose api-version the bundled contract speaks for (older, identical and newer
versions as listed in ``SUPPORTED_API_VERSIONS``; the report names the relation), skips the others with a
note, and runs the secret scan. The CLI ``pytest-runcommand cassettes check`` prints its report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pytest_runcommand.cassettes.readers import read_cassette
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import Finding, scan_interaction, scan_lines
from pytest_runcommand.errors import InputError

__all__ = ["CASSETTE_SUFFIXES", "FileReport", "check_file", "check_files", "expand_paths"]

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class FileReport:
    """What ``check_file`` found in one file."""

    path: Path
    format: str = ""
    interactions: int = 0
    run_command: int = 0
    validated: int = 0
    violations: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    api_versions: Counter[str] = field(default_factory=Counter)
    version_notes: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.violations and not self.findings

    def summary(self) -> str:
        if self.error is not None:
            return f"{self.path}: unreadable: {self.error}"
        return (
            f"{self.path}: {self.interactions} interactions, {self.run_command} run-command, "
            f"{self.validated} validated, {len(self.violations)} violations, {len(self.findings)} secret hits"
        )

    def details(self) -> Iterator[str]:
        for version, count in sorted(self.api_versions.items()):
            yield f"  api-version {version}: {count} run-command interaction(s): {self.version_notes[version]}"
        for violation in self.violations:
            yield f"  violation: {violation}"
        for finding in self.findings:
            yield f"  secret: {finding}"


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and directories searched recursively for cassette files (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CASSETTE_SUFFIXES)
            files.extend(found)
        else:
            files.append(path)
    return files


def check_file(path: Path, *, contract: bool = True, scan: bool = True) -> FileReport:
    """Check one file; an unreadable one gives a report with ``error`` set (never an exception)."""
    from pytest_runcommand.contract import (
        CONTRACT_API_VERSION,
        api_version_note,
        format_violations,
        get_contract,
        validate_interaction,
    )

    report = FileReport(path)
    try:
        cassette = read_cassette(path)
    except InputError as error:
        report.error = str(error)
        return report
    report.format = cassette.format
    report.interactions = len(cassette.interactions)
    sanitizer = default_sanitizer()
    rules = get_contract()
    for index, interaction in enumerate(cassette.interactions):
        place = cassette.place(index)
        if scan:
            report.findings.extend(scan_interaction(interaction, place))
        if not contract:
            continue
        match = rules.match(interaction.method, interaction.url)
        if match is None:
            continue
        report.run_command += 1
        version = match.api_version or "(none)"
        report.api_versions[version] += 1
        note = api_version_note(match.api_version)
        if note is None:
            report.version_notes[version] = f"not covered by the {CONTRACT_API_VERSION} contract, not validated"
            continue
        report.version_notes[version] = f"validated against the {CONTRACT_API_VERSION} contract ({note})"
        report.validated += 1
        violations = validate_interaction(interaction)
        if violations:
            label = f"{place} {interaction.method} {sanitizer.url(interaction.url)} -> {interaction.status}"
            report.violations.append(format_violations(violations, label))
    if scan:
        text = path.read_text(encoding="utf-8-sig")
        report.findings.extend(scan_lines(text, str(path), report.findings))
    return report


def check_files(paths: Iterable[str | Path], *, contract: bool = True, scan: bool = True) -> list[FileReport]:
    return [check_file(p, contract=contract, scan=scan) for p in expand_paths(paths)]
