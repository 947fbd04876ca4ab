"""Progress of a fuzz run on a terminal: one line rewritten in place, as schemathesis shows it; silent elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TextIO

__all__ = ["TerminalProgress", "terminal_progress"]

CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "TF_BUILD", "BUILDKITE", "GITLAB_CI", "JENKINS_URL")
"""Set by CI services: their logs get no progress lines."""


class TerminalProgress:
    """``fuzzing <operation> <mode>: N cases, Ts`` on one line, at most ten times a second; :meth:`close` clears it."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic, interval: float = 0.1) -> None:
        self.stream, self.clock, self.interval = stream, clock, interval
        self.started = clock()
        self._shown = -interval
        self._width = 0

    def __call__(self, phase: str, cases: int) -> None:
        now = self.clock()
        if now - self._shown < self.interval:
            return
        self._shown = now
        text = f"fuzzing {phase}: {cases} cases, {now - self.started:.0f}s"[:119]
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)

    def close(self) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def terminal_progress(stream: TextIO, environ: Mapping[str, str]) -> TerminalProgress | None:
    """A progress line on ``stream`` when it is a terminal and no CI variable is set; else None."""
    if any(environ.get(name) for name in CI_VARIABLES) or environ.get("TERM") == "dumb":
        return None
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        return None
    return TerminalProgress(stream) if interactive else None
