"""A failed test's report shows no secret: its failure text and captured output sanitized as free text.

An HTTP client's error names the URL it called (``403 Client Error: Forbidden for url: ...&sig=...``), a test's
locals (``pytest -l``) hold the bodies it sent, a print shows a token: the cassette holds them sanitized, and so
must the terminal, the short summary and ``--junitxml``. Only failed reports are read (a passing run pays nothing),
and a report is rewritten only where its text changes.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from _pytest._code.code import ReprFileLocation, TerminalRepr

if TYPE_CHECKING:
    import pytest
    from _pytest._io import TerminalWriter

    from pytest_runcommand.cassettes.sanitize import Sanitizer

__all__ = ["SanitizedFailure", "sanitize_failed_report"]


class SanitizedFailure(TerminalRepr):
    """A failure's text, sanitized; its crash line (the short summary's message) sanitized too."""

    def __init__(self, text: str, reprcrash: ReprFileLocation | None) -> None:
        self.text = text
        self.reprcrash = reprcrash

    def toterminal(self, tw: TerminalWriter) -> None:
        for line in self.text.splitlines():
            tw.line(line, red=line.startswith("E "), bold=line.startswith("E "))


def sanitize_failed_report(report: pytest.TestReport, *, own_error: bool = False) -> None:
    """Rewrite ``report``'s failure text and sections where the free-text rules change them. ``own_error``: the
    failure is one of this package's errors, whose text names secret properties as places, never their values."""
    from pytest_runcommand.cassettes.free_text import process_sanitizer, sanitize_free_text

    sanitizer = process_sanitizer()
    longrepr = report.longrepr
    if longrepr is not None and not isinstance(longrepr, tuple):
        text = report.longreprtext
        clean = sanitize_free_text(sanitizer, text, withhold=not own_error)
        if clean != text:
            crash = _clean_crash(getattr(longrepr, "reprcrash", None), sanitizer, own_error)
            report.longrepr = SanitizedFailure(clean, crash)
    sections = [(title, sanitize_free_text(sanitizer, content)) for title, content in report.sections]
    if sections != report.sections:
        report.sections = sections


def _clean_crash(reprcrash: object, sanitizer: Sanitizer, own_error: bool) -> ReprFileLocation | None:
    from pytest_runcommand.cassettes.free_text import sanitize_free_text

    if not isinstance(reprcrash, ReprFileLocation):
        return None
    message = sanitize_free_text(sanitizer, reprcrash.message, withhold=not own_error)
    return dataclasses.replace(reprcrash, message=message)
