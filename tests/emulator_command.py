"""``pytest-runcommand emulator`` run as a user runs it, for the tests that need the command itself: a process of its
own, its output read up to the line that says how to stop it; the test stops it (SIGINT or SIGTERM, as a user or CI
would), and a process still running when the test ends, failed or not, is killed."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

__all__ = ["emulator_command"]


@contextmanager
def emulator_command(
    *argv: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``pytest-runcommand emulator ARGV`` started, with what it printed up to "press Ctrl-C" (all it printed, if it
    exited first). ``env``: variables set over this process's environment."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_runcommand", "emulator", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        cwd=cwd,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C" in line:
                break
        yield process, "".join(lines)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
