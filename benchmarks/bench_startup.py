"""Start-up cost of the plugin for a suite that does not use it: pytest with and without ``-p no:runcommand``.

Each round runs ``pytest --collect-only`` on the same throw-away suite of plain tests, once with the plugin and
once without, alternating so that the machine's noise hits both alike. Prints the medians and their difference.

Bytecode caching is on, as on a developer's machine or CI with a warm checkout (pytest keeps assertion-rewritten
plugin modules in ``__pycache__``); ``--no-bytecode-cache`` measures with ``PYTHONDONTWRITEBYTECODE=1`` instead,
where every module of every plugin is parsed and compiled again on each start.

Run:  python benchmarks/bench_startup.py [--rounds 15] [--tests 200] [--no-bytecode-cache]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ENVIRONMENT = dict(os.environ)


def run(suite: Path, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *extra],
        cwd=suite,
        check=True,
        capture_output=True,
        env=ENVIRONMENT,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tests", type=int, default=200, help="plain tests in the throw-away suite")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="run with PYTHONDONTWRITEBYTECODE=1")
    args = parser.parse_args()
    if args.no_bytecode_cache:
        ENVIRONMENT["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        ENVIRONMENT.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as folder:
        suite = Path(folder)
        (suite / "pytest.ini").write_text("[pytest]\n")
        (suite / "test_plain.py").write_text(
            "".join(f"def test_{index}():\n    assert {index} == {index}\n\n" for index in range(args.tests))
        )
        run(suite)  # warm the file system and bytecode caches
        run(suite, "-p", "no:runcommand")
        with_plugin, without_plugin = [], []
        for _ in range(args.rounds):
            with_plugin.append(run(suite))
            without_plugin.append(run(suite, "-p", "no:runcommand"))
    on, off = statistics.median(with_plugin), statistics.median(without_plugin)
    cache = "off (PYTHONDONTWRITEBYTECODE=1)" if args.no_bytecode_cache else "on"
    print(f"pytest --collect-only, {args.tests} plain tests, median of {args.rounds} rounds, bytecode cache {cache}")
    print(f"  with the plugin installed        {on * 1000:8.1f} ms")
    print(f"  with -p no:runcommand            {off * 1000:8.1f} ms")
    print(f"  difference                       {(on - off) * 1000:+8.1f} ms  (target: within 10 ms)")
    print(f"  ratio                            {on / off:8.3f}")


if __name__ == "__main__":
    main()
