"""Offline check of recorded traffic: contract violations and secrets, per file (plain Python API).

``check_files(paths)`` reads vcrpy cassettes and Azure PowerShell session records, validates every run-command
interaction at its own api-version (the same verdict a test marked ``runcommand_contract`` gets), and runs the secret
scan. A file that cannot be read - or holds a body that cannot be parsed within bounds - gives a report with
``error`` set, naming the file and the place; a recording with no interaction at all is ``empty``, not ``ok``.
The CLI ``pytest-runcommand cassettes check`` prints the reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pytest_runcommand.cassettes.loading import _NotARecording, load_json
from pytest_runcommand.cassettes.readers import CassetteFile, read_cassette
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import Finding, scan_interaction, scan_lines
from pytest_runcommand.errors import InputError
from pytest_runcommand.interactions import Interaction

__all__ = [
    "CASSETTE_SUFFIXES",
    "EMPTY",
    "FileReport",
    "InteractionViolations",
    "check_file",
    "check_files",
    "expand_paths",
    "walk_paths",
]

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
EMPTY = "an empty recording: no interactions, nothing checked (a stub, or a write that failed?)"


@dataclass(frozen=True)
class InteractionViolations:
    """The contract violations of one interaction: where it is (``file:line (interaction #i)``) and the report."""

    place: str
    line: int | None
    codes: tuple[str, ...]
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class FileReport:
    """What ``check_file`` found in one file."""

    path: Path
    format: str = ""
    interactions: int = 0
    run_command: int = 0
    validated: int = 0
    violations: list[InteractionViolations] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    api_versions: Counter[str] = field(default_factory=Counter)
    families: Counter[str] = field(default_factory=Counter)
    """Run-command interactions per operation family (managed, diagnostic, action, catalogue, extension)."""
    version_notes: dict[str, str] = field(default_factory=dict)
    ignored: Counter[str] = field(default_factory=Counter)
    """Violations ``--ignore`` tolerated, by code."""
    tolerated: list[InteractionViolations] = field(default_factory=list)
    """The tolerated violations interaction by interaction (SARIF shows them as suppressed results)."""
    error: str | None = None
    skipped: str | None = None
    """Why the file was not checked: a file found by walking a folder that is not a recording of any format."""

    @property
    def empty(self) -> bool:
        """A recording with no interaction at all: nothing was checked (a stub, or a write that failed)."""
        return self.error is None and self.skipped is None and self.interactions == 0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.violations and not self.findings and not self.empty

    def summary(self) -> str:
        if self.empty:
            return f"{self.path}: {EMPTY}"
        return (
            f"{self.path}: {self.interactions} interactions, {self.run_command} run-command, "
            f"{self.validated} validated, {len(self.violations)} violations, {len(self.findings)} secret hits"
        )

    def details(self) -> Iterator[str]:
        for version, count in sorted(self.api_versions.items()):
            yield f"  api-version {version}: {count} run-command interaction(s): {self.version_notes[version]}"
        if self.families:
            yield "  families: " + ", ".join(f"{family} {count}" for family, count in sorted(self.families.items()))
        if self.ignored:
            yield "  ignored: " + ", ".join(f"{code} x{count}" for code, count in sorted(self.ignored.items()))
        for violation in self.violations:
            yield f"  violation: {violation}"
        for finding in self.findings:
            yield f"  secret: {finding}"


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and directories searched recursively for cassette files (sorted)."""
    return [path for path, _ in walk_paths(paths)]


def walk_paths(paths: Iterable[str | Path]) -> list[tuple[Path, bool]]:
    """:func:`expand_paths` with, for each file, whether it was found by walking a folder (rather than named)."""
    files: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in CASSETTE_SUFFIXES)
            files.extend((p, True) for p in found)
        else:
            files.append((path, False))
    return files


def _check_bodies(cassette: CassetteFile) -> None:
    """Raise :class:`InputError` for a JSON body nested too deep or holding an integer Python will not read."""
    for index, interaction in enumerate(cassette.interactions):
        for side, body in (("request", interaction.request_body), ("response", interaction.response_body)):
            if isinstance(body, bytes):
                body = body.decode("utf-8", "replace")
            if isinstance(body, str) and body.lstrip()[:1] in ("{", "["):
                load_json(cassette.path, body, f" {cassette.place(index)} {side}.body", invalid_ok=True)


def _note(version: str | None) -> str:
    from pytest_runcommand.contract import api_version_note

    source = api_version_note(version)
    if source is None:
        return "not a supported api-version: validated, reported as UNKNOWN_API_VERSION"
    return f"validated against the {version} contract ({source})"


def _family(operation_id: str | None) -> str:
    from pytest_runcommand.contract.facts import operation_family

    try:
        return operation_family(operation_id or "")
    except KeyError:
        return "other"


def check_file(
    path: Path,
    *,
    contract: bool = True,
    scan: bool = True,
    recordings_only: bool = False,
    ignore: Iterable[str] = (),
) -> FileReport:
    """Check one file; an unreadable one gives a report with ``error`` set (never an exception). ``ignore``: violation
    codes to tolerate; without ``contract`` the run-command interactions are counted, not validated.

    With ``recordings_only`` (a file found by walking a folder), a file that reads but is not a recording of any
    format the readers know gives a report with ``skipped`` set; a broken recording is still an ``error``.
    """
    report = FileReport(path)
    try:
        cassette = read_cassette(path, recordings_only=recordings_only)
        _check_bodies(cassette)
    except _NotARecording:
        report.skipped = "not a recording"
        return report
    except InputError as error:
        report.error = str(error)
        return report
    report.format = cassette.format
    report.interactions = len(cassette.interactions)
    if scan:
        for index, interaction in enumerate(cassette.interactions):
            report.findings.extend(scan_interaction(interaction, cassette.place(index), cassette.lines[index]))
    if contract:
        _check_contract(report, cassette, ignore)
    else:
        from pytest_runcommand.contract.traffic import reaches_operation

        report.run_command = sum(reaches_operation(interaction) for interaction in cassette.interactions)
    if scan:
        report.findings.extend(scan_lines(cassette.text, str(path), report.findings))
    return report


def _check_contract(report: FileReport, cassette: CassetteFile, ignore: Iterable[str] = ()) -> None:
    """The contract's one traffic check over the file's interactions, each at its own api-version."""
    from pytest_runcommand.contract import check_interactions
    from pytest_runcommand.contract.violations import counts_by_code

    sanitizer = default_sanitizer()
    for index, verdict in enumerate(check_interactions(cassette.interactions, ignore=ignore)):
        if not verdict.matched:
            continue
        version = verdict.api_version or "(none)"
        report.run_command += 1
        report.validated += 1
        report.api_versions[version] += 1
        report.families[_family(verdict.operation_id)] += 1
        report.version_notes[version] = _note(verdict.api_version)
        report.ignored.update(counts_by_code(verdict.ignored))
        if verdict.violations:
            report.violations.append(_violations(cassette, index, verdict.interaction, verdict.violations, sanitizer))
        if verdict.ignored:
            report.tolerated.append(_violations(cassette, index, verdict.interaction, verdict.ignored, sanitizer))


def _violations(
    cassette: CassetteFile, index: int, interaction: Interaction, violations: Sequence[Any], sanitizer: Any
) -> InteractionViolations:
    from pytest_runcommand.contract import format_violations, interaction_label

    place = cassette.place(index)
    label = f"{place} {interaction_label(replace(interaction, url=sanitizer.url(interaction.url), source=''))}"
    codes = tuple(v.code for v in violations)
    return InteractionViolations(place, cassette.lines[index], codes, format_violations(violations, label))


def check_files(paths: Iterable[str | Path], *, contract: bool = True, scan: bool = True) -> list[FileReport]:
    """A report per file: files as given, and the files under each directory (those that are not recordings of any
    format come back with ``skipped`` set)."""
    return [
        check_file(path, contract=contract, scan=scan, recordings_only=walked) for path, walked in walk_paths(paths)
    ]
