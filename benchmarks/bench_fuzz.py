"""Fuzzing cost: the in-process emulator and every check against schemathesis's data generation alone.

The same derandomized run (every operation, positive and negative data, ``--max-examples`` cases each; stateless,
so every stage draws exactly the same cases, which the digest of what was drawn confirms) is timed in stages, side by
side in one process, best of ``--rounds``:

- generation: schemathesis strategies drawn by hypothesis, nothing sent;
- + transport: each case sent through the run's transport (schemathesis's ``case.call``, ``requests``, the in-process
  client of :mod:`pytest_runcommand.fuzz.inprocess`) to an ASGI app answering a fixed ``{}``: the cost of sending;
- + emulator: each case sent to the in-process emulator, answers not checked (the emulator's own time inside its
  ASGI call is also measured, per case);
- + emulator + checks: the full fuzz run (schemathesis's checks and the contract's);
- for reference, the full run through schemathesis's own ASGI client (a ``requests`` session hopping to an event
  loop in another thread).

Times are CPU seconds of this process (``time.process_time``: steadier than the wall clock on a shared machine; the
wall clock is printed too). Target: the emulator and the checks add at most 10% to generation alone. The ratio of
each round's full run to that round's own generation is printed too, with their median: on a shared machine a quiet
moment that favours one stage's best moves the first figure, much less the paired one.

Then the default campaign (25 examples, stateful included) with ``--workers 1`` and ``--workers 2`` side by side
(target: 2 workers at least 1.6x faster on 2 cores), with the load average, since the machine may be shared.

Run:  python benchmarks/bench_fuzz.py [--max-examples 40] [--rounds 3] [--workers-only | --cost-only]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from typing import Any, NamedTuple

from schemathesis.python import asgi

from pytest_runcommand.emulator.app import EmulatorApp
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


async def fixed_answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that reads the request and answers 200 ``{}`` (what the transport costs without a service)."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


class TransportOnly(FuzzRunner):
    """Sends the cases through the run's transport to :func:`fixed_answer`; no checks."""

    def _asgi_client(self, app: Any) -> Any:
        client = super()._asgi_client(fixed_answer)
        client.lean.eager = True  # started on the calling thread, as the emulator is
        return client

    def check(self, case: Any, response: Any, *, recorder: Any = None) -> list[Any]:
        return []


class Stopwatch:
    """An ASGI app around another that adds up the CPU time spent inside it."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.backend = app.backend
        self.seconds = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.process_time()
        try:
            await self.app(scope, receive, send)
        finally:
            self.seconds += time.process_time() - started


class SendOnly(FuzzRunner):
    """Sends the cases to the emulator and ignores the answers."""

    def _asgi_client(self, app: Any) -> Any:
        client = super()._asgi_client(app)
        client.lean.eager = True  # the Stopwatch around the emulator too
        return client

    def check(self, case: Any, response: Any, *, recorder: Any = None) -> list[Any]:
        return []


class ThroughSchemathesisClient(FuzzRunner):
    """The full run, each case sent through schemathesis's ASGI client."""

    def _asgi_client(self, app: Any) -> Any:
        return asgi.get_client(app)


class Stage(NamedTuple):
    cases: int
    cpu: float
    wall: float
    drawn: dict[str, str]


def measure(kind: type[FuzzRunner], max_examples: int, app: Any = None) -> Stage:
    runner = kind(emulator_target(app), FuzzSettings(max_examples=max_examples, stateful=False))
    gc.collect()  # each stage starts from a collected heap: a full collection more or less moves a stage by ~2%
    cpu, wall = time.process_time(), time.perf_counter()
    report = runner.run()
    return Stage(report.cases, time.process_time() - cpu, time.perf_counter() - wall, report.drawn)


def emulator_time(max_examples: int) -> float:
    """CPU seconds the emulator itself spends answering the campaign's cases (measured inside its ASGI call)."""
    app = Stopwatch(EmulatorApp())
    measure(SendOnly, max_examples, app)
    return app.seconds


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


def compare_costs(max_examples: int, rounds: int) -> None:
    kinds: dict[str, type[FuzzRunner]] = {
        "generation": GenerationOnly,
        "+ transport": TransportOnly,
        "+ emulator": SendOnly,
        "+ emulator + checks": FuzzRunner,
        "full, schemathesis client": ThroughSchemathesisClient,
    }
    load_before = os.getloadavg()[0]
    best: dict[str, Stage] = {}
    inside = float("inf")
    paired: list[float] = []
    for _ in range(rounds):
        this_round: dict[str, Stage] = {}
        for name, kind in kinds.items():
            stage = this_round[name] = measure(kind, max_examples)
            if name not in best or stage.cpu < best[name].cpu:
                best[name] = stage
        paired.append(this_round["+ emulator + checks"].cpu / this_round["generation"].cpu)
        inside = min(inside, emulator_time(max_examples))
    base = best["generation"]
    print(f"{max_examples} examples per operation and mode, best of {rounds} rounds (CPU seconds; wall in brackets)")
    for name, stage in best.items():
        extra = (stage.cpu - base.cpu) / stage.cases * 1e6
        print(
            f"  {name:<26} {stage.cases:>6} cases  {stage.cpu:6.2f} s ({stage.wall:6.2f} s)  x{stage.cpu / base.cpu:.3f}"
            f" (x{stage.wall / base.wall:.3f})  +{extra:4.0f} us/case"
        )
    full, sent, transport = best["+ emulator + checks"], best["+ emulator"], best["+ transport"]
    per_case = {
        "transport": (transport.cpu - base.cpu) / full.cases,
        "emulator (inside its ASGI call)": inside / full.cases,
        "checks": (full.cpu - sent.cpu) / full.cases,
    }
    per_case["event loop, adapter (the rest of + emulator)"] = (
        (sent.cpu - base.cpu) / full.cases - per_case["transport"] - per_case["emulator (inside its ASGI call)"]
    )
    print("  per case over generation: " + ", ".join(f"{k} {v * 1e6:.0f} us" for k, v in per_case.items()))
    same = "same cases" if full.drawn == sent.drawn == transport.drawn and full.cases == base.cases else "DIFFERENT"
    overhead = full.cpu / base.cpu - 1
    print(
        f"emulator + checks add {overhead:.1%} to generation alone (wall: {full.wall / base.wall - 1:.1%}); "
        f"target: <= 10%; {same}; load {load_before:.2f} -> {os.getloadavg()[0]:.2f}"
    )
    print(
        f"  the same, round by round (each round's full run over its own generation, CPU): "
        f"{', '.join(f'x{ratio:.3f}' for ratio in paired)}; median x{statistics.median(paired):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--workers-only", action="store_true", help="only the --workers 1 / 2 comparison")
    only.add_argument("--cost-only", action="store_true", help="only the fuzz cost against generation alone")
    args = parser.parse_args()
    measure(GenerationOnly, 2)  # warm-up: imports, schema loading, compiled validators
    if not args.cost_only:
        compare_workers(args.rounds)
    if not args.workers_only:
        compare_costs(args.max_examples, args.rounds)


if __name__ == "__main__":
    main()
