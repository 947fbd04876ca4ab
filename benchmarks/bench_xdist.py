"""Scale-out: the same suite of contract tests under pytest-xdist with ``-n 2`` against ``-n 0``; where ``-n 2`` loses;
and what observing costs.

The suite is generated in a temporary folder: emulator lifecycles under ``@pytest.mark.runcommand_contract``
(PUT, PATCH, GET with the instance view, list, DELETE, each validated), pure validation tests, and fuzz cases (one
``runcommand_fuzz`` test per operation plus the stateful one), with the coverage report on, so the merge of the
workers' findings is part of what is timed.

Where the time goes: a one-test suite with ``-n 0`` and ``-n 2`` (what starting pytest, and then two workers, costs),
and one traced run of each (a small plugin outside the suite, loaded with ``-p``, notes when each process was
configured, collected, ran each test and finished): the controller's start-up, the workers' start-up and collection,
each worker's busy time and CPU, the first fuzz test on each worker (its warm-up), the idle worker at the end, and the
time after the last test (the report merge and exit). From these, the best ``-n 2`` could do with perfect balance.
The same two runs in CPU seconds (user + system of every process, which a busy machine disturbs less than wall
time): each process's start-up, collection, tests, end of session, and the interpreters' exit; the CPU ``-n 2``
spends over ``-n 0``, and the ceiling that leaves on two cores (the controller starts alone, then at best two
processes share the rest). Of those, each process's garbage collections (CPU, through ``gc.callbacks``): at start-up,
in the session (mostly while the tests run: part of their CPU) and at pytest's unconfigure, whose last collections
come after the session and so, in a worker, before the controller can end.

Each measurement runs in two configurations side by side (interleaved in every round): as installed, where
schemathesis's and hypothesis's own pytest plugins (the fuzz extra's) load in every process, the xdist controller's
included, which never fuzzes; and with them off (``-p no:schemathesis -p no:hypothesispytest``, the ``addopts`` the
README's Install section gives), where the first fuzz test of each process imports them instead.

Bytecode caching is on (a temporary ``PYTHONPYCACHEPREFIX``, warmed by a first run), as on a developer's machine or
CI after the first run; ``--no-bytecode-cache`` runs with ``PYTHONDONTWRITEBYTECODE=1`` instead, where every process
compiles again every module pytest rewrites (those of each plugin distribution: schemathesis, hypothesis, this one).

Observation cost, side by side in the same rounds: with a report asked for, every test is observed (its HTTP
clients patched while it runs, its direct ``validate_request`` calls counted). Two suites run with
``--runcommand-report`` and with ``-p no:runcommand``: the validation tests alone, and as many plain tests.

The load average is printed before and after: the ratio needs two free cores.

Run:  python benchmarks/bench_xdist.py [--tests 120] [--fuzz-examples 20] [--rounds 3] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HEADER = """
import pytest
from pytest_runcommand import validate_request
from pytest_runcommand.models import patch_body

URL = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
"""

LIFECYCLES_AND_FUZZ = """
@pytest.mark.runcommand_contract
@pytest.mark.parametrize("index", range({count}))
def test_lifecycle(runcommand_emulator, index):
    client = runcommand_emulator.client
    url = runcommand_emulator.run_command_path(f"rc{{index}}")
    assert client.put(url, json={{"location": "westus", "properties": {{"source": {{"script": "echo hi"}}}}}}).status_code == 201
    for timeout in range(5):
        assert client.patch(url, json={{"properties": {{"timeoutInSeconds": 60 + timeout}}}}).status_code == 200
    assert client.get(url + "&$expand=instanceView").status_code == 200
    assert client.get(runcommand_emulator.run_command_path()).status_code == 200
    assert client.delete(url).status_code in (200, 202)

@pytest.mark.runcommand_fuzz(max_examples={fuzz_examples})
def test_fuzz(runcommand_schema):
    runcommand_schema.fuzz()
"""

VALIDATION = """
@pytest.mark.parametrize("index", range({count}))
def test_payloads(index):
    for size in range(50):
        assert validate_request("PATCH", URL, patch_body(script="echo " + "x" * size, timeout_in_seconds=index)) == []
"""

SUITE = HEADER + LIFECYCLES_AND_FUZZ + VALIDATION


PLAIN = """
import pytest

@pytest.mark.parametrize("index", range({count}))
def test_plain(index):
    assert sum(range(index)) >= 0
"""


TRACER = """
import atexit, gc, json, os, time
import pytest

_WHO = os.environ.get("PYTEST_XDIST_WORKER", "controller")
_EVENTS, _TESTS = {}, []
_GC = {"phase": "start", "since": 0.0}
_GC_CPU = {}


def _collected_garbage(phase, info):
    if phase == "start":
        _GC["since"] = time.process_time()
    else:
        key = "gc_" + _GC["phase"]
        _GC_CPU[key] = _GC_CPU.get(key, 0.0) + time.process_time() - _GC["since"]


gc.callbacks.append(_collected_garbage)


def _note(name):
    _EVENTS[name] = time.time()
    _EVENTS[name + "_cpu"] = time.process_time()
    _GC["phase"] = name


def pytest_configure(config):
    _note("configured")


def pytest_collection_finish(session):
    _note("collected")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    _note("sessionfinish")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    started, cpu = time.time(), time.process_time()
    try:
        return (yield)
    finally:
        _TESTS.append([item.name.split("[")[0], started, time.time(), time.process_time() - cpu])


def _write():
    with open(os.path.join(os.environ["BENCH_TRACE"], _WHO + ".json"), "w") as handle:
        json.dump({"events": _EVENTS, "tests": _TESTS, "gc": _GC_CPU}, handle)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    _note("finished")
    atexit.register(_write)  # after pytest's own unconfigure (its last collections), before any exit hook before it
"""
"""A pytest plugin kept outside the suite (loaded with ``-p _bench_trace`` in the traced runs only)."""


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]


CPU_SPENT: list[float] = []
"""CPU seconds (user + system) of each timed run, workers included (each process waits for its children)."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(suite: Path, environment: dict[str, str], *args: str) -> float:
    """Seconds of one pytest run of ``suite`` (which must pass); its CPU seconds are appended to CPU_SPENT."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        pytest_command(*args), cwd=suite, env=environment, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    CPU_SPENT.append(_children_cpu() - cpu)
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed


def observation_cost(folder: Path, environment: dict[str, str], tests: int, rounds: int) -> None:
    """Validation tests and plain tests: observed (report on) against the plugin disabled, interleaved."""
    suites = {"validation": folder / "validation", "plain": folder / "plain"}
    for suite in suites.values():
        suite.mkdir()
        (suite / "pytest.ini").write_text("[pytest]\n")
    (suites["validation"] / "test_generated.py").write_text((HEADER + VALIDATION).format(count=tests))
    (suites["plain"] / "test_generated.py").write_text(PLAIN.format(count=tests * 5))
    for name, suite in suites.items():
        observed, disabled = [], []
        for _ in range(rounds):
            observed.append(timed(suite, environment, "--runcommand-report", str(suite / "r.json")))
            disabled.append(timed(suite, environment, "-p", "no:runcommand"))
        o, d = statistics.median(observed), statistics.median(disabled)
        count = tests if name == "validation" else tests * 5
        print(f"  {name:10} ({count} tests): observed {o:6.2f} s, plugin disabled {d:6.2f} s: {o / d:.2f}x")


def run(suite: Path, environment: dict[str, str], workers: str, *extra: str) -> tuple[float, dict[str, Any]]:
    """Seconds of the suite with ``-n workers`` and the report on, and the report."""
    report = suite / f"report-{workers}.json"
    elapsed = timed(suite, environment, "-n", workers, "--runcommand-report", str(report), *extra)
    return elapsed, json.loads(report.read_text())


def traced(
    suite: Path, environment: dict[str, str], workers: str, trace: Path, *extra: str
) -> tuple[float, dict[str, Any]]:
    """One run with the tracer: when it started and ended, and each process's events and tests."""
    for old in trace.glob("*.json"):
        old.unlink()
    started = time.time()
    run(suite, {**environment, "BENCH_TRACE": str(trace)}, workers, "-p", "_bench_trace", *extra)
    ended = time.time()
    processes = {path.stem: json.loads(path.read_text()) for path in trace.glob("*.json")}
    return ended - started, {"started": started, "ended": ended, "processes": processes, "cpu": CPU_SPENT[-1]}


def decompose(label: str, wall: float, trace: dict[str, Any]) -> float:
    """Print where one traced run's time went; returns the best time with two perfectly balanced workers."""
    t0 = trace["started"]
    controller = trace["processes"]["controller"]["events"]
    workers = {who: data for who, data in trace["processes"].items() if who != "controller"} or {
        "controller": trace["processes"]["controller"]
    }
    ready = max(data["events"]["collected"] for data in workers.values()) - t0
    last_end = max(data["tests"][-1][2] for data in workers.values()) - t0
    first_end = min(data["tests"][-1][2] for data in workers.values()) - t0
    busy = {who: sum(test[2] - test[1] for test in data["tests"]) for who, data in workers.items()}
    print(f"  {label}: {wall:.2f} s wall")
    print(f"    controller configured (python, pytest, every plugin) at {controller['configured'] - t0:5.2f} s")
    if len(workers) > 1:
        print(
            f"    workers configured and collected at {ready:5.2f} s "
            f"(worker start-up {ready - (controller['configured'] - t0):.2f} s after the controller's)"
        )
    else:
        print(f"    collected at {ready:5.2f} s")
    for who, data in sorted(workers.items()):
        tests = data["tests"]
        fuzz = [test[3] for test in tests if test[0] == "test_fuzz"]
        warm = (
            f", first fuzz test {fuzz[0]:.2f} s CPU (others' median {statistics.median(fuzz[1:]):.2f})"
            if len(fuzz) > 1
            else ""
        )
        kinds = {kind: sum(t[3] for t in tests if t[0] == kind) for kind in sorted({t[0] for t in tests})}
        cpu = ", ".join(f"{kind} {seconds:.2f}" for kind, seconds in kinds.items())
        print(
            f"    {who}: {len(tests)} tests, busy {busy[who]:.2f} s, CPU {cpu}{warm}; last test ended {tests[-1][2] - t0:.2f} s"
        )
    if len(workers) > 1:
        print(f"    one worker idle at the end: {last_end - first_end:.2f} s")
    finishing = controller["sessionfinish"] - t0
    print(
        f"    after the last test until exit: {wall - last_end:.2f} s (until the session finishes "
        f"{finishing - last_end:.2f} s; finishing it: the workers' exit under xdist, the report: "
        f"{controller['finished'] - t0 - finishing:.2f} s; then pytest's and python's own exit "
        f"{wall - (controller['finished'] - t0):.2f} s)"
    )
    best: float = ready + sum(busy.values()) / 2 + (wall - last_end)
    return best


def cpu_account(label: str, trace: dict[str, Any]) -> tuple[float, float]:
    """Print where one traced run's CPU went; returns (all processes' CPU, the controller's start-up CPU).

    CPU time is what a busy machine disturbs least: the same work costs about the same CPU whoever else runs.
    """
    processes = trace["processes"]
    total: float = trace["cpu"]
    parts = []
    for who, data in sorted(processes.items(), key=lambda pair: pair[0] != "controller"):
        events, tests = data["events"], data["tests"]
        start = events["configured_cpu"]
        if not tests:  # the xdist controller: start-up, then relaying the workers' reports and the coverage merge
            parts.append(f"{who} start {start:.2f} + run {events['finished_cpu'] - start:.2f}")
            continue
        in_tests = sum(test[3] for test in tests)
        run = events["sessionfinish_cpu"] - events["collected_cpu"]
        parts.append(
            f"{who} start {start:.2f} + collection {events['collected_cpu'] - start:.2f} + tests {in_tests:.2f} "
            f"(+ between them {run - in_tests:.2f}) + end of session {events['finished_cpu'] - events['sessionfinish_cpu']:.2f}"
        )
    until_unconfigure = sum(data["events"]["finished_cpu"] for data in processes.values())
    print(f"  {label}: {total:.2f} s CPU = " + "; ".join(parts))
    print(
        f"    then pytest's unconfigure (its garbage collections) and the interpreters' exit: {total - until_unconfigure:.2f}"
    )
    collections = []
    for who, data in sorted(processes.items(), key=lambda pair: pair[0] != "controller"):
        spent = data.get("gc", {})
        session = sum(spent.get(f"gc_{phase}", 0.0) for phase in ("configured", "collected", "sessionfinish"))
        collections.append(
            f"{who} start {spent.get('gc_start', 0.0):.2f} + session {session:.2f} + unconfigure {spent.get('gc_finished', 0.0):.2f}"
        )
    print("    of which garbage collections (CPU, within the figures above): " + "; ".join(collections))
    return total, processes["controller"]["events"]["configured_cpu"]


def bytecode_environment(scratch: Path, *, cache: bool) -> dict[str, str]:
    """The runs' environment: bytecode cached in ``scratch`` (or never written), the tracer importable."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    if cache:
        environment["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    else:
        environment.pop("PYTHONPYCACHEPREFIX", None)
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    tracer = scratch / "tracer"
    tracer.mkdir()
    (tracer / "_bench_trace.py").write_text(TRACER)
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tracer), environment.get("PYTHONPATH")]))
    return environment


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


CONFIGURATIONS = {
    "as installed": (),
    "fuzz plugins off": ("-p", "no:schemathesis", "-p", "no:hypothesispytest"),
}
"""The pytest command lines measured side by side: as the dev install gives it (the fuzz extra's own pytest plugins,
schemathesis's and hypothesis's, loaded by every process), and with the ``addopts`` the README's Install section
gives for the fuzz extra (they are then imported by the first fuzz test of each process that runs one)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=120, help="tests of each kind in the generated suite")
    parser.add_argument("--fuzz-examples", type=int, default=20, help="max_examples of the fuzz tests")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-bytecode-cache", action="store_true", help="run with PYTHONDONTWRITEBYTECODE=1")
    args = parser.parse_args()
    print(f"load average before: {load()} (1, 5, 15 min; {os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        environment = bytecode_environment(scratch, cache=not args.no_bytecode_cache)
        suite, empty, trace = scratch / "suite", scratch / "empty", scratch / "trace"
        for path in (suite, empty, trace):
            path.mkdir()
        (suite / "pytest.ini").write_text("[pytest]\n")
        (suite / "test_generated.py").write_text(SUITE.format(count=args.tests, fuzz_examples=args.fuzz_examples))
        (empty / "pytest.ini").write_text("[pytest]\n")
        (empty / "test_one.py").write_text("def test_one():\n    pass\n")
        run(suite, environment, "2")  # warms the bytecode and file-system caches
        # every configuration in every round (interleaved: a busy moment slows both alike)
        alone: dict[tuple[str, str], list[float]] = {}
        wall: dict[tuple[str, str], list[float]] = {}
        spent: dict[tuple[str, str], list[float]] = {}
        reports: dict[str, dict[str, Any]] = {}
        for _ in range(args.rounds):
            for name, options in CONFIGURATIONS.items():
                for workers in ("0", "2"):
                    key = (name, workers)
                    alone.setdefault(key, []).append(timed(empty, environment, "-n", workers, *options))
                    seconds, reports[workers] = run(suite, environment, workers, *options)
                    wall.setdefault(key, []).append(seconds)
                    spent.setdefault(key, []).append(CPU_SPENT[-1])
        traces = {
            (name, workers): traced(suite, environment, workers, trace, *options)
            for name, options in CONFIGURATIONS.items()
            for workers in ("0", "2")
        }
        print("observation cost (every test observed when a report is asked for); median of", args.rounds)
        observation_cost(scratch, environment, args.tests, args.rounds)
    calls = {op: entry["calls"] for op, entry in reports["0"]["operations"].items()}
    merged = {op: entry["calls"] for op, entry in reports["2"]["operations"].items()}
    assert sum(merged.values()) > 0, "the merged report is empty"
    cache = "off (PYTHONDONTWRITEBYTECODE=1)" if args.no_bytecode_cache else "on"
    first = traces[next(iter(CONFIGURATIONS)), "0"]
    fuzz_tests = sum(test[0] == "test_fuzz" for test in first[1]["processes"]["controller"]["tests"])
    print(
        f"{args.tests} validated emulator lifecycles, {args.tests} validation tests, {fuzz_tests} fuzz tests "
        f"(max_examples={args.fuzz_examples}); median of {args.rounds}; bytecode cache {cache}"
    )
    print(
        f"  run-command calls in the coverage report: {sum(calls.values())} (-n 0), {sum(merged.values())} (-n 2, merged)"
    )
    for name, options in CONFIGURATIONS.items():
        a0, a2 = statistics.median(alone[name, "0"]), statistics.median(alone[name, "2"])
        s, p = statistics.median(wall[name, "0"]), statistics.median(wall[name, "2"])
        print(f"{name}: pytest {' '.join(options) or '(no options)'}")
        print(f"  one-test suite: -n 0 {a0:5.2f} s, -n 2 {a2:5.2f} s: starting two workers costs {a2 - a0:.2f} s")
        print(f"  -n 0   {s:7.2f} s ({statistics.median(spent[name, '0']):.2f} s CPU)")
        print(f"  -n 2   {p:7.2f} s ({statistics.median(spent[name, '2']):.2f} s CPU, workers and controller)")
        print(f"  speed-up with 2 workers: {s / p:.2f}x (target >= 1.7x: {'met' if s / p >= 1.7 else 'not met'})")
    for name in CONFIGURATIONS:
        serial_trace, parallel_trace = traces[name, "0"], traces[name, "2"]
        print(f"where the time goes, {name} (one traced run each):")
        decompose("-n 0", *serial_trace)
        best = decompose("-n 2", *parallel_trace)
        print(
            f"  -n 2 with both workers busy to the same end: {best:.2f} s, "
            f"{serial_trace[0] / best:.2f}x the traced -n 0 (the bound the serial parts leave)"
        )
        print(f"CPU seconds, {name} (user + system, every process; one traced run each):")
        serial_cpu, _ = cpu_account("-n 0", serial_trace[1])
        parallel_cpu, controller_start = cpu_account("-n 2", parallel_trace[1])
        floor = controller_start + (parallel_cpu - controller_start) / 2
        print(
            f"  -n 2 spends {parallel_cpu - serial_cpu:+.2f} s CPU over -n 0; on two cores it needs at least the "
            f"controller's start {controller_start:.2f} + the rest / 2 = {floor:.2f} s, so at most "
            f"{serial_cpu / floor:.2f}x the -n 0 run (one core, {serial_cpu:.2f} s CPU)"
        )
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
