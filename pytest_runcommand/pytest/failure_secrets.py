"""A failed test's report shows no secret: its failure text and captured output sanitized as free text.

An HTTP client's error names the URL it called (``403 Client Error: Forbidden for url: ...&sig=...``), a test's
locals (``pytest -l``) hold the bodies it sent, a print shows a token: the cassette holds them sanitized, and so
must the terminal, the short summary and ``--junitxml``. Only failed reports are read (a passing run pays nothing),
and a report is rewritten only where its text changes: a traceback keeps its structure (pytest colours it, xdist
carries it whole), each of its texts sanitized; any other failure becomes its sanitized text.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from _pytest._code.code import (
    ExceptionChainRepr,
    ReprEntry,
    ReprEntryNative,
    ReprExceptionInfo,
    ReprFileLocation,
    ReprFuncArgs,
    ReprLocals,
    ReprTraceback,
    TerminalRepr,
)

if TYPE_CHECKING:
    import pytest
    from _pytest._io import TerminalWriter

__all__ = ["SanitizedFailure", "sanitize_failed_report"]

_Clean = Callable[[str], str]


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
    failure is one of this package's errors, whose text names secret properties as places, never their values. A
    report that held a secret anywhere has its shortened reprs (``'head...tail'``) hidden too, the crash line
    included: pytest shortens a long operand to its ends, cutting off the key that marked its secret."""
    from pytest_runcommand.cassettes.free_text import mask_truncated_reprs, process_sanitizer, sanitize_free_text

    sanitizer = process_sanitizer()

    def clean(text: str) -> str:
        return sanitize_free_text(sanitizer, text, withhold=not own_error)

    longrepr = report.longrepr
    text = report.longreprtext if longrepr is not None and not isinstance(longrepr, tuple) else ""
    sections = [(title, sanitize_free_text(sanitizer, content)) for title, content in report.sections]
    flat = clean(text)
    if flat == text and sections == report.sections:
        return  # nothing secret in it: left as it is
    if not own_error:
        plain_clean = clean

        def clean(text: str) -> str:
            return mask_truncated_reprs(plain_clean(text))

        flat = mask_truncated_reprs(flat)
        sections = [(title, mask_truncated_reprs(content)) for title, content in sections]
    if flat != text and longrepr is not None and not isinstance(longrepr, tuple):
        report.longrepr = _structured(longrepr, clean)
        if report.longrepr is None or report.longreprtext != flat:  # a shape this module does not know
            report.longrepr = SanitizedFailure(flat, _clean_crash(getattr(longrepr, "reprcrash", None), clean))
    if sections != report.sections:
        report.sections = sections


def _structured(longrepr: object, clean: _Clean) -> TerminalRepr | None:
    """A copy of a traceback's representation with each of its texts sanitized; None for any other shape."""
    if isinstance(longrepr, ExceptionChainRepr):
        chain = []
        for traceback, crash, description in longrepr.chain:
            cleaned = _traceback(traceback, clean)
            if cleaned is None:
                return None
            chain.append((cleaned, _clean_crash(crash, clean), None if description is None else clean(description)))
        result: ExceptionChainRepr | ReprExceptionInfo = ExceptionChainRepr(chain)
    elif isinstance(longrepr, ReprExceptionInfo):
        only = _traceback(longrepr.reprtraceback, clean)
        if only is None:
            return None
        result = ReprExceptionInfo(reprtraceback=only, reprcrash=_clean_crash(longrepr.reprcrash, clean))
    else:
        return None
    for name, content, separator in longrepr.sections:
        result.addsection(name, clean(content), separator)
    return result


def _traceback(traceback: ReprTraceback, clean: _Clean) -> ReprTraceback | None:
    entries: list[ReprEntry | ReprEntryNative] = []
    for entry in traceback.reprentries:
        if type(entry) is ReprEntryNative:
            entries.append(ReprEntryNative(_lines(entry.lines, clean)))
        elif type(entry) is ReprEntry:
            entries.append(
                ReprEntry(
                    _lines(entry.lines, clean),
                    _arguments(entry.reprfuncargs, clean),
                    None if entry.reprlocals is None else ReprLocals(_lines(entry.reprlocals.lines, clean)),
                    _clean_crash(entry.reprfileloc, clean),
                    entry.style,
                )
            )
        else:
            return None
    result = copy.copy(traceback)  # ReprTracebackNative has an __init__ of its own: copied, not rebuilt
    result.reprentries = entries
    result.extraline = None if traceback.extraline is None else clean(traceback.extraline)
    return result


def _lines(lines: Sequence[str], clean: _Clean) -> list[str]:
    """``lines`` sanitized as one text (a value a line opens spans the next ones), one line for each."""
    if any("\n" in line for line in lines):
        return [clean(line) for line in lines]
    cleaned = clean("\n".join(lines)).split("\n")
    return cleaned if len(cleaned) == len(lines) else [clean(line) for line in lines]


def _arguments(arguments: ReprFuncArgs | None, clean: _Clean) -> ReprFuncArgs | None:
    if arguments is None:
        return None
    return ReprFuncArgs([(clean(name), clean(str(value))) for name, value in arguments.args])


def _clean_crash(reprcrash: object, clean: _Clean) -> ReprFileLocation | None:
    if not isinstance(reprcrash, ReprFileLocation):
        return None
    return dataclasses.replace(reprcrash, path=clean(reprcrash.path), message=clean(reprcrash.message))
