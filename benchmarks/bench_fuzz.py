"""Fuzzing throughput: cases per second against the in-process emulator vs schemathesis data generation alone.

The same derandomized run (every operation, positive and negative data, ``--max-examples`` cases each; stateless,
so both sides draw exactly the same cases) is timed three ways, side by side in one process:

- generation: schemathesis strategies drawn by hypothesis, nothing sent;
- + emulator: each case sent to the in-process emulator (ASGI, no socket), answers not checked;
- + emulator + checks: the full fuzz run (schemathesis's checks and the contract's);
- for reference, the full run through schemathesis's own ASGI client (the path used before
  :mod:`pytest_runcommand.fuzz.inprocess`: a ``requests`` session hopping to an event loop in another thread).

Target: the emulator and the checks add at most 25% to generation alone.

Then the default campaign (25 examples, stateful included) with ``--workers 1`` and ``--workers 2`` side by side
(target: 2 workers at least 1.6x faster on 2 cores), with the load average, since the machine may be shared.

Run:  python benchmarks/bench_fuzz.py [--max-examples 40] [--rounds 3] [--workers-only]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from schemathesis.python import asgi

from pytest_runcommand.fuzz.campaign import run_campaign
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target


class GenerationOnly(FuzzRunner):
    """Draws the cases and drops them."""

    def send(self, case: Any, **kwargs: Any) -> Any:
        self.report.cases += 1
        return None

    def check(self, case: Any, response: Any, *, recorder: Any = None) -> list[Any]:
        return []


class SendOnly(FuzzRunner):
    """Sends the cases to the emulator and ignores the answers."""

    def check(self, case: Any, response: Any, *, recorder: Any = None) -> list[Any]:
        return []


class ThroughSchemathesisClient(FuzzRunner):
    """The full run, each case sent through schemathesis's ASGI client."""

    def _asgi_client(self, app: Any) -> Any:
        return asgi.get_client(app)


def measure(kind: type[FuzzRunner], max_examples: int) -> tuple[int, float]:
    runner = kind(emulator_target(), FuzzSettings(max_examples=max_examples, stateful=False))
    started = time.perf_counter()
    report = runner.run()
    return report.cases, time.perf_counter() - started


def measure_workers(workers: int) -> tuple[int, float, dict[str, str]]:
    started = time.perf_counter()
    report = run_campaign(FuzzRunner(emulator_target(), FuzzSettings()), workers=workers)
    return report.cases, time.perf_counter() - started, report.drawn


def compare_workers(rounds: int) -> None:
    best: dict[int, tuple[int, float, dict[str, str]]] = {}
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        for workers in (1, 2):
            result = measure_workers(workers)
            if workers not in best or result[1] < best[workers][1]:
                best[workers] = result
    one, two = best[1], best[2]
    same = "same cases" if one[2] == two[2] else "DIFFERENT cases"
    print(
        f"default campaign, best of {rounds} rounds, {os.cpu_count()} cores, load {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    for workers, (cases, seconds, _) in sorted(best.items()):
        print(f"  --workers {workers}  {cases:>6} cases  {seconds:7.2f} s")
    print(f"--workers 2 is x{one[1] / two[1]:.2f} faster than --workers 1 (target: >= 1.6; {same})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers-only", action="store_true", help="only the --workers 1 / 2 comparison")
    args = parser.parse_args()
    measure(GenerationOnly, 2)  # warm-up
    compare_workers(args.rounds)
    if args.workers_only:
        return
    kinds: dict[str, type[FuzzRunner]] = {
        "generation": GenerationOnly,
        "+ emulator": SendOnly,
        "+ emulator + checks": FuzzRunner,
        "full, schemathesis client": ThroughSchemathesisClient,
    }
    measure(GenerationOnly, 2)  # warm-up: imports, schema loading, compiled validators
    best: dict[str, tuple[int, float]] = {}
    for _ in range(args.rounds):
        for name, kind in kinds.items():
            cases, seconds = measure(kind, args.max_examples)
            if name not in best or seconds < best[name][1]:
                best[name] = (cases, seconds)
    base_cases, base_seconds = best["generation"]
    print(f"{args.max_examples} examples per operation and mode, best of {args.rounds} rounds")
    for name, (cases, seconds) in best.items():
        ratio = seconds / base_seconds
        print(f"  {name:<26} {cases:>6} cases  {seconds:7.2f} s  {cases / seconds:7.1f} cases/s  x{ratio:.2f}")
    full_cases, full_seconds = best["+ emulator + checks"]
    overhead = full_seconds / base_seconds - 1
    same = "same cases" if full_cases == base_cases else f"case counts differ: {base_cases} vs {full_cases}"
    print(f"emulator + checks add {overhead:.0%} to generation alone (target: <= 25%; {same})")


if __name__ == "__main__":
    main()
