"""A campaign over worker processes and CI shards: who runs a unit changes, what it draws does not.

The campaign is :meth:`FuzzRunner.campaign`'s list of units (each operation in each mode, then ``stateful``).
Each unit draws its cases alone (derandomized per unit), so any split gives the same cases as one run:

- ``--shard K/N`` keeps a deterministic share of the units: a longest-first split by estimated cost, the same in
  every CI job, the N shares together the whole campaign;
- ``--workers N`` runs the units of the run in N forked processes (schemathesis's own workers are threads, which do
  not use a second core for this CPU-bound work), longest first, each unit to the next free worker; the unit
  reports are merged in campaign order, so the report is the one a single process writes.

Workers are forked from the process that built the schema (nothing is rebuilt, nothing is pickled but reports);
where ``fork`` is unavailable the run stays in one process and says so.
"""

from __future__ import annotations

import heapq
import multiprocessing

# What a pool imports, imported before any draw: a module imported during a run changes hypothesis's constant pool
# (see the runner), so a first pool must not change what the units after it draw.
import multiprocessing.connection
import multiprocessing.pool
import multiprocessing.popen_fork
import multiprocessing.queues
import multiprocessing.synchronize
import multiprocessing.util
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.findings import Campaign, FuzzReport

if TYPE_CHECKING:
    from pytest_runcommand.fuzz.runner import FuzzRunner

__all__ = ["Shard", "campaign_of", "parse_workers", "run_campaign", "split", "unit_cost"]

_SHARD = re.compile(r"([0-9]+)/([0-9]+)")  # ASCII digits only (\d takes any script's digits)


@dataclass(frozen=True)
class Shard:
    """Share ``index`` (1-based) of ``count``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"K/N"`` with 1 <= K <= N; a :class:`UsageError` naming ``--shard`` otherwise."""
        match = _SHARD.fullmatch(text.strip())
        try:
            if match is None:
                raise ValueError(text)
            index, count = int(match[1]), int(match[2])
        except ValueError:  # not K/N, or more digits than int() reads
            raise UsageError(f"--shard {text!r}: expected K/N in ASCII digits, e.g. 1/2") from None
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {text!r}: K must be between 1 and N (N at least 1)")
        return cls(index, count)

    def select(self, units: Sequence[str], stateful_steps: int = 8) -> list[str]:
        """This shard's units, in campaign order (an empty list for a share beyond the units)."""
        positions = _assign(units, self.count, stateful_steps).get(self.index - 1, [])
        return [units[i] for i in sorted(positions)]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_workers(text: str) -> int:
    """``--workers``: a positive integer, or ``auto`` for the cores this process may use."""
    if text == "auto":
        return available_cores()
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"--workers {text!r}: expected a positive integer or 'auto'") from None
    if value < 1:
        raise UsageError(f"--workers {text!r}: expected a positive integer or 'auto'")
    return value


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def unit_cost(unit: str, stateful_steps: int = 8) -> int:
    """Estimated cost of a unit, in stateless units (a stateful scenario sends several requests)."""
    return max(1, stateful_steps // 2) if unit == "stateful" else 1


def split(units: Sequence[str], parts: int, stateful_steps: int = 8) -> list[list[str]]:
    """``units`` in ``parts`` shares of similar cost: longest first, each to the lightest share (ties: the first)."""
    assigned = _assign(units, parts, stateful_steps)
    return [[units[i] for i in sorted(assigned.get(share, []))] for share in range(parts)]


def _assign(units: Sequence[str], parts: int, stateful_steps: int) -> dict[int, list[int]]:
    """The positions of ``units`` each share (0-based) gets, for the shares that get any: :func:`split`'s rule in
    time and memory of the units, not of ``parts`` (``--shard 1/30000000`` is an empty share, not N lists).

    Every unit costs at least 1, so while a share is still empty it is the lightest, and the first of them is the
    next unused one; once all ``parts`` are used, a heap of (load, share) gives the lightest, ties to the first.
    """
    assigned: dict[int, list[int]] = {}
    heap: list[tuple[int, int]] = []
    for position in sorted(range(len(units)), key=lambda i: (-unit_cost(units[i], stateful_steps), i)):
        cost = unit_cost(units[position], stateful_steps)
        if len(assigned) < parts:
            share, load = len(assigned), 0
            assigned[share] = []
        else:
            load, share = heapq.heappop(heap)
        assigned[share].append(position)
        heapq.heappush(heap, (load + cost, share))
    return assigned


_INHERITED: list[object] = []
_RUNNER: FuzzRunner | None = None
"""The runner a forked worker inherited."""


def _after_fork() -> None:
    """In a new worker: leave Ctrl-C to the parent, and forget the parent's ASGI event-loop thread, which a fork does
    not copy.

    A terminal sends SIGINT to every process of the group: the parent stops the pool (its workers end without a word);
    a worker that took it too printed ``Process ForkPoolWorker-2:`` and a traceback.

    schemathesis runs in-process apps' lifespans on one module-level portal thread; a forked child inherits the
    handle (and maybe a held lock) without the thread, and would wait for it forever. Its next client starts anew.
    """
    import signal
    import threading
    from contextlib import ExitStack

    from schemathesis.python import asgi

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(asgi, "_PORTAL"):
        # kept, never collected: collecting the old stack would close its portal, i.e. wait for the missing thread
        _INHERITED.append((asgi._STACK, dict(asgi._LIFESPANS)))
        asgi._LOCK = threading.Lock()
        asgi._STACK = ExitStack()
        asgi._PORTAL = None
        asgi._LIFESPANS.clear()
        asgi._STARTUP_LOCKS.clear()


def _run_unit(unit: str) -> tuple[str, list[FuzzReport]]:
    assert _RUNNER is not None
    return unit, _RUNNER.run_parts([unit])


def _warm_up(runner: FuzzRunner, campaign: list[str]) -> None:
    """One case of every unit, thrown away (in-process targets only: nothing is sent anywhere).

    The first run in a process imports modules and fills caches; after this, every unit starts alike in a parent, a
    forked worker or another shard's process. (The imported modules' literals do not reach the draws: hypothesis's
    pool of local literals is held empty during runs, see constants_pool.py.)
    """
    if runner.target.app is None:
        return
    wanted, progress = runner.settings.max_examples, runner.progress
    runner.settings.max_examples, runner.progress = 1, None
    try:
        runner.run_parts(campaign)
    finally:
        runner.settings.max_examples, runner.progress = wanted, progress


def campaign_of(runner: FuzzRunner, shard: Shard | None = None) -> Campaign:
    """The identity of ``runner``'s campaign and the share ``shard`` runs (a full run: share 1 of 1)."""
    settings, target = runner.settings, runner.target
    if target.app is not None:
        kind = "emulator"
    else:
        kind = "loopback" if target.url is not None and target.url.loopback else "live"
    return Campaign(
        api_version=settings.api_version,
        target=kind,
        max_examples=settings.max_examples,
        modes=tuple(settings.modes),
        stateful=settings.stateful,
        operations=tuple(sorted(settings.operations)),
        seed=settings.seed,
        derandomized=settings.seed is None and settings.database is None,
        checks=tuple(check.__name__ for check in runner.checks),
        shard_count=shard.count if shard is not None else 1,
        shards=(shard.index,) if shard is not None else (1,),
    )


def run_campaign(runner: FuzzRunner, *, workers: int = 1, shard: Shard | None = None) -> FuzzReport:
    """Run the campaign (or ``shard``'s share of it) on ``workers`` processes; one merged report."""
    global _RUNNER
    started = time.perf_counter()
    campaign = runner.campaign()
    units = shard.select(campaign, runner.settings.stateful_steps) if shard is not None else campaign
    workers = min(workers, max(1, len(units)))
    _warm_up(runner, campaign)
    note = None
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        note, workers = f"{workers} workers need fork, which this platform lacks: one process ran the campaign", 1
    if workers == 1:
        report = runner.run(units)
    else:
        order = sorted(units, key=lambda u: (-unit_cost(u, runner.settings.stateful_steps), units.index(u)))
        progress, runner.progress = runner.progress, None  # workers do not share a terminal line
        _RUNNER = runner
        try:
            with multiprocessing.get_context("fork").Pool(workers, initializer=_after_fork) as pool:
                done = dict(pool.imap_unordered(_run_unit, order, chunksize=1))
        finally:
            _RUNNER, runner.progress = None, progress
        report = FuzzReport(runner.target.label, checks=[check.__name__ for check in runner.checks])
        report.errors += runner.load_errors
        for unit in units:
            for part in done[unit]:
                report.merge(part)
        runner.report = report
    if shard is not None:
        report.notes.append(f"shard {shard}: {len(units)} of the campaign's {len(campaign)} units")
    if note is not None:
        report.notes.append(note)
    report.elapsed = time.perf_counter() - started
    report.campaign = campaign_of(runner, shard)
    return report
