"""Scale-out: the same suite of contract tests under pytest-xdist with ``-n 2`` against ``-n 0``; and what observing
costs.

The suite is generated in a temporary folder: emulator lifecycles under ``@pytest.mark.runcommand_contract``
(PUT, PATCH, GET with the instance view, list, DELETE, each validated), pure validation tests, and fuzz cases (one
``runcommand_fuzz`` test per operation plus the stateful one), with the coverage report on, so the merge of the
workers' findings is part of what is timed.

Observation cost, side by side in the same rounds: with a report asked for, every test is observed (its HTTP
clients patched while it runs, its direct ``validate_request`` calls counted). Two suites run with
``--runcommand-report`` and with ``-p no:runcommand``: the validation tests alone, and as many plain tests.

Run:  python benchmarks/bench_xdist.py [--tests 120] [--fuzz-examples 20] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def timed(suite: Path, *args: str) -> float:
    """Seconds of one pytest run of ``suite`` (which must pass)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=suite,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed


def observation_cost(folder: Path, tests: int, rounds: int) -> None:
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
            observed.append(timed(suite, "--runcommand-report", str(suite / "r.json")))
            disabled.append(timed(suite, "-p", "no:runcommand"))
        o, d = statistics.median(observed), statistics.median(disabled)
        count = tests if name == "validation" else tests * 5
        print(f"  {name:10} ({count} tests): observed {o:6.2f} s, plugin disabled {d:6.2f} s: {o / d:.2f}x")


def run(suite: Path, workers: str) -> tuple[float, dict[str, object]]:
    report = suite / f"report-{workers}.json"
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-n",
            workers,
            "--runcommand-report",
            str(report),
        ],
        cwd=suite,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(done.stdout[-3000:] + done.stderr[-3000:])
    return elapsed, json.loads(report.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=120, help="tests of each kind in the generated suite")
    parser.add_argument("--fuzz-examples", type=int, default=20, help="max_examples of the fuzz tests")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        suite = Path(folder)
        (suite / "pytest.ini").write_text("[pytest]\n")
        (suite / "test_generated.py").write_text(SUITE.format(count=args.tests, fuzz_examples=args.fuzz_examples))
        serial, parallel = [], []
        for _ in range(args.rounds):
            seconds, serial_report = run(suite, "0")
            serial.append(seconds)
            seconds, parallel_report = run(suite, "2")
            parallel.append(seconds)
        print("observation cost (every test observed when a report is asked for); median of", args.rounds)
        observation_cost(suite, args.tests, args.rounds)
    calls = {op: entry["calls"] for op, entry in serial_report["operations"].items()}  # type: ignore[union-attr]
    merged = {op: entry["calls"] for op, entry in parallel_report["operations"].items()}  # type: ignore[union-attr]
    assert sum(merged.values()) > 0, "the merged report is empty"
    s, p = statistics.median(serial), statistics.median(parallel)
    print(
        f"{args.tests} validated emulator lifecycles, {args.tests} validation tests, 12 fuzz tests "
        f"(max_examples={args.fuzz_examples}); median of {args.rounds}"
    )
    print(f"  -n 0   {s:7.2f} s")
    print(f"  -n 2   {p:7.2f} s")
    print(f"  speed-up with 2 workers: {s / p:.2f}x")
    print(
        f"  run-command calls in the coverage report: {sum(calls.values())} (-n 0), {sum(merged.values())} (-n 2, merged)"
    )


if __name__ == "__main__":
    main()
