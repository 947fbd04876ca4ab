"""The emulator's simulated clock: time moves only when told to, so no test ever sleeps."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "format_time"]


class Clock:
    """A controllable UTC clock.

    Frozen by default: :meth:`now` returns the same instant until :meth:`advance` moves it. With
    ``realtime=True`` (the ``pytest-runcommand emulator`` command) it also follows the wall clock, and
    :meth:`advance` still jumps ahead.
    """

    def __init__(self, start: datetime | None = None, *, realtime: bool = False) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._start = start
        self._offset = timedelta()
        self._realtime = realtime
        self._origin = time.monotonic()
        self._lock = threading.Lock()

    @property
    def realtime(self) -> bool:
        """Whether the clock also follows the wall clock."""
        return self._realtime

    def now(self) -> datetime:
        """The current simulated time (UTC, aware)."""
        now = self._start + self._offset  # attribute reads are atomic; writers hold the lock
        if self._realtime:
            now += timedelta(seconds=time.monotonic() - self._origin)
        return now

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` ahead (never back) and return the new time."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward (got {seconds} seconds)")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        """Return to the start instant."""
        with self._lock:
            self._offset = timedelta()
            self._origin = time.monotonic()


def format_time(moment: datetime) -> str:
    """ARM's date-time form: ``2024-07-01T10:00:00.1234567+00:00`` (seven fractional digits)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0+00:00"
