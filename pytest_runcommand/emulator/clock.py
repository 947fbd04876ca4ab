"""The emulator's simulated clock, and the policy that moves it: no test ever sleeps.

Three policies (:data:`ClockPolicy`):

- ``"per-request"``: every request the app answers moves the clock ``step`` seconds ahead (1 s unless told), so a
  client that polls a resource sees it finish as it would against Azure, with no sleeping. The fixtures' default.
- ``"realtime"``: the clock follows the wall clock (the ``pytest-runcommand emulator`` command).
- ``"manual"``: frozen; only :meth:`Clock.advance` moves it (what a test that checks exact instants wants).

Whatever the policy, :meth:`Clock.advance` jumps ahead at once.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Literal, get_args

__all__ = ["CLOCK_POLICIES", "Clock", "ClockPolicy", "format_time"]

ClockPolicy = Literal["per-request", "realtime", "manual"]
CLOCK_POLICIES: tuple[str, ...] = get_args(ClockPolicy)
DEFAULT_STEP = 1.0
"""Seconds a request moves a ``per-request`` clock."""


class Clock:
    """A controllable UTC clock (``manual`` unless ``realtime`` or another ``policy`` is given)."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        realtime: bool = False,
        policy: ClockPolicy | None = None,
        step: float = DEFAULT_STEP,
    ) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._start = start
        self._offset = timedelta()
        self._base = start
        """``_start + _offset``, kept by each writer (a request reads the clock once or twice)."""
        self._origin = time.monotonic()
        self._lock = threading.Lock()
        self._policy: ClockPolicy = "manual"
        self._step = timedelta()
        self.set_policy(policy or ("realtime" if realtime else "manual"), step=step)

    @property
    def policy(self) -> ClockPolicy:
        """How the clock moves: ``per-request``, ``realtime`` or ``manual``."""
        return self._policy

    @property
    def step(self) -> float:
        """Seconds each request moves a ``per-request`` clock."""
        return self._step.total_seconds()

    @property
    def realtime(self) -> bool:
        """Whether the clock follows the wall clock."""
        return self._policy == "realtime"

    def set_policy(self, policy: ClockPolicy, *, step: float | None = None) -> None:
        """Move the clock by ``policy`` from now on (time never goes back when switching)."""
        if policy not in CLOCK_POLICIES:
            raise ValueError(f"clock policy must be one of {', '.join(CLOCK_POLICIES)} (got {policy!r})")
        if step is not None and not (0 <= step < 10**9):
            raise ValueError(f"a clock step is a number of seconds, 0 or more (got {step!r})")
        with self._lock:
            if self._policy == "realtime":
                self._offset += timedelta(seconds=time.monotonic() - self._origin)
                self._base = self._start + self._offset
            self._origin = time.monotonic()
            self._policy = policy
            if step is not None:
                self._step = timedelta(seconds=step)

    def now(self) -> datetime:
        """The current simulated time (UTC, aware)."""
        now = self._base  # attribute reads are atomic; writers hold the lock
        if self._policy == "realtime":
            now += timedelta(0, time.monotonic() - self._origin)  # (seconds given by place: no keyword parsing)
        return now

    def tick(self) -> None:
        """A request arrived: a ``per-request`` clock moves one step (the others do nothing)."""
        if self._policy == "per-request":
            with self._lock:
                self._offset += self._step
                self._base = self._start + self._offset

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` ahead (never back) and return the new time."""
        if seconds < 0:
            raise ValueError(f"the clock only moves forward (got {seconds} seconds)")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
            self._base = self._start + self._offset
        return self.now()

    def reset(self) -> None:
        """Return to the start instant (the policy stays)."""
        with self._lock:
            self._offset = timedelta()
            self._base = self._start
            self._origin = time.monotonic()


def format_time(moment: datetime) -> str:
    """ARM's date-time form: ``2024-07-01T10:00:00.1234567+00:00`` (seven fractional digits)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year >= 1000:  # isoformat (in C) writes the same, the seventh digit aside: YYYY-MM-DDTHH:MM:SS[.ffffff]
        text = moment.isoformat()
        if moment.microsecond:
            return f"{text[:26]}0+00:00"
        return f"{text[:19]}.0000000+00:00"
    return (
        f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond:06d}0+00:00"
    )
