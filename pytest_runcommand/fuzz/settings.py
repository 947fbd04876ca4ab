"""What a fuzz run generates: cases per operation, operations, seed, modes, stateful sequences, api-version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS
from pytest_runcommand.errors import UsageError

__all__ = ["MODES", "FuzzSettings", "writable_file", "writable_folder"]

MODES = ("positive", "negative")
"""schemathesis's generation modes: valid data, and data the contract must refuse."""


@dataclass
class FuzzSettings:
    """How much to generate and what."""

    max_examples: int = 25
    """Cases per operation and generation mode (and stateful scenarios)."""
    operations: tuple[str, ...] = ()
    """Operation ids to fuzz (all when empty)."""
    seed: int | None = None
    """None: derandomized (the same cases every run); an int: another reproducible stream."""
    modes: tuple[str, ...] = MODES
    stateful: bool = True
    stateful_steps: int = 8
    api_version: str = DEFAULT_API_VERSION
    database: Path | None = None
    """An example database directory: failures (stateful ones too) saved, replayed first and shrunk; then ``seed``'s
    stream, or a fresh random one without a seed (hypothesis uses no database for a derandomized test)."""

    def __post_init__(self) -> None:
        if self.api_version not in SUPPORTED_API_VERSIONS:
            known = ", ".join(sorted(SUPPORTED_API_VERSIONS))
            raise UsageError(f"api-version {self.api_version!r} is not supported; supported: {known}")
        unknown = [mode for mode in self.modes if mode not in MODES]
        if unknown:
            raise UsageError(f"unknown generation mode(s) {', '.join(unknown)}; the modes are {', '.join(MODES)}")
        if self.max_examples < 1:
            raise UsageError(f"max_examples must be at least 1, got {self.max_examples}")
        if self.database is not None:
            try:
                writable_folder(self.database)
            except UsageError as error:
                raise UsageError(f"example database {error}") from None


def writable_folder(path: Path, *, create: bool = True) -> None:
    """Check that files can be written in ``path`` (created when missing, unless ``create`` is False: then its
    nearest existing parent is tried); a :class:`UsageError` starting with the path otherwise."""
    from pytest_runcommand.report_file import folder_problem

    problem = folder_problem(path, create=create)
    if problem is not None:
        raise UsageError(f"{path}: {problem}")


def writable_file(path: Path, flag: str) -> None:
    """Check, before any work, that the report ``flag`` names can be written at ``path`` (its missing folders are
    created); a :class:`UsageError` naming ``flag`` and the path otherwise."""
    from pytest_runcommand.report_file import file_problem

    problem = file_problem(path)
    if problem is not None:
        raise UsageError(f"{flag} {path}: {problem}")
