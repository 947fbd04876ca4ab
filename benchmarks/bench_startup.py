"""What installing pytest-runcommand (no extras) adds to a plain pytest start, over a venv with pytest and httpx.

Builds the wheel from this checkout and two fresh venvs side by side: one with the wheel and its default
dependencies, one with only the pytest and httpx versions the first resolved (httpx is part of the stack and
brings anyio, whose own pytest plugin loads too). Then runs the same one-test suite in each, N alternating rounds
so that the machine's noise hits both alike, and prints both medians and the difference (target: at most 20 ms),
in wall time and in CPU time (user + system, which a busy machine disturbs less). Unix only (``resource``).

``--fuzz`` adds a third venv, the wheel with its ``fuzz`` extra: schemathesis and hypothesis bring pytest plugins of
their own, which load on every pytest start whether a suite fuzzes or not. It is timed as installed, with
``-p no:schemathesis`` (schemathesis's pytest integration off: this plugin's fuzz marker and fixture do not use it),
and with ``-p no:hypothesispytest`` too (hypothesis's plugin imports hypothesis at the end of every run that has not).

Bytecode caching is on, as on a developer's machine or CI with a warm checkout; ``--no-bytecode-cache`` measures
with ``PYTHONDONTWRITEBYTECODE=1`` instead, where every module of every plugin is compiled again on each start (the
bytecode pytest wrote for them in earlier runs is removed from the venvs first). Building the venvs needs the package
index (pip); ``--venvs DIR`` keeps them there and reuses them next time, with this checkout's wheel built and
installed again each run.

Run:  python benchmarks/bench_startup.py [--rounds 21] [--venvs DIR] [--no-bytecode-cache] [--breakdown] [--fuzz]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_MS = 20.0


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _quiet(*command: str) -> None:
    """Run a build step, showing its output only when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _pip(venv: Path, *args: str) -> None:
    _quiet(str(_python(venv)), "-m", "pip", "install", "--quiet", *args)


def _version(venv: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    return subprocess.run([str(_python(venv)), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def _distributions(venv: Path) -> int:
    code = "import importlib.metadata as m; print(len({d.metadata['Name'].lower() for d in m.distributions()}))"
    return int(subprocess.run([str(_python(venv)), "-c", code], check=True, capture_output=True, text=True).stdout)


_WHEELS: dict[Path, Path] = {}


def _wheel(folder: Path) -> Path:
    """This checkout's wheel as it is now, built into ``folder/wheel`` once a run (an older one there is replaced)."""
    if folder not in _WHEELS:
        wheels = folder / "wheel"
        for old in wheels.glob("pytest_runcommand-*.whl"):
            old.unlink()
        _quiet(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(wheels))
        _WHEELS[folder] = next(wheels.glob("pytest_runcommand-*.whl"))
    return _WHEELS[folder]


def _install(venv: Path, folder: Path, extra: str = "") -> None:
    """The checkout's wheel into ``venv``: a new venv gets it with its dependencies; a reused one (``--venvs``) gets
    the package itself again, so that a run never times an older build."""
    if not _python(venv).exists():
        _quiet(sys.executable, "-m", "venv", str(venv))
        _pip(venv, f"{_wheel(folder)}{extra}")
    else:
        _pip(venv, "--force-reinstall", "--no-deps", str(_wheel(folder)))


def forget_rewritten_bytecode(venv: Path) -> int:
    """Remove the bytecode pytest wrote for the modules it rewrites (``*-pytest-*.pyc``) from ``venv``: with
    ``PYTHONDONTWRITEBYTECODE=1`` pytest reads such files when an earlier run left them, and rewrites every
    plugin module at each start when none is there, which is what a ``--no-bytecode-cache`` run measures."""
    found = list(venv.glob("lib/python*/site-packages/**/__pycache__/*-pytest-*.pyc"))
    for path in found:
        path.unlink()
    return len(found)


def build_venvs(folder: Path) -> tuple[Path, Path]:
    """The wheel with its default dependencies, and pytest + httpx at the same versions."""
    plain, installed = folder / "pytest-httpx", folder / "runcommand"
    _install(installed, folder)
    if not _python(plain).exists():
        _quiet(sys.executable, "-m", "venv", str(plain))
        _pip(plain, f"pytest=={_version(installed, 'pytest')}", f"httpx=={_version(installed, 'httpx')}")
    return plain, installed


def build_fuzz_venv(folder: Path) -> Path:
    """The wheel with its ``fuzz`` extra."""
    venv = folder / "runcommand-fuzz"
    _install(venv, folder, "[fuzz]")
    return venv


def run(venv: Path, suite: Path, environment: dict[str, str], *extra: str) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one pytest start."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [str(_python(venv)), "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=suite,
        check=True,
        capture_output=True,
        env=environment,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--venvs", type=Path, help="build the venvs here and reuse them (default: a temporary folder)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="run with PYTHONDONTWRITEBYTECODE=1")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the wheel's venv without each plugin (-p no:NAME)"
    )
    parser.add_argument(
        "--fuzz",
        action="store_true",
        help="also time the wheel with its fuzz extra (schemathesis's, hypothesis's plugins)",
    )
    args = parser.parse_args()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.no_bytecode_cache:
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.venvs or Path(scratch) / "venvs"
        folder.mkdir(parents=True, exist_ok=True)
        plain, installed = build_venvs(folder.resolve())
        runs: list[tuple[str, Path, tuple[str, ...]]] = [
            ("pytest + httpx", plain, ()),
            ("pytest-runcommand wheel, no extras", installed, ()),
        ]
        if args.breakdown:
            runs += [
                ("  the same, -p no:runcommand", installed, ("-p", "no:runcommand")),
                ("  the same, -p no:recording", installed, ("-p", "no:recording")),
                ("  the same, without both", installed, ("-p", "no:runcommand", "-p", "no:recording")),
            ]
        if args.fuzz:
            fuzz = build_fuzz_venv(folder.resolve())
            runs += [
                ("pytest-runcommand[fuzz]", fuzz, ()),
                ("  the same, -p no:schemathesis", fuzz, ("-p", "no:schemathesis")),
                (
                    "  the same, and -p no:hypothesispytest",
                    fuzz,
                    ("-p", "no:schemathesis", "-p", "no:hypothesispytest"),
                ),
            ]
        suite = Path(scratch) / "suite"
        suite.mkdir()
        (suite / "pytest.ini").write_text("[pytest]\n")
        (suite / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        if args.no_bytecode_cache:
            for venv in {venv for _, venv, _ in runs}:
                forget_rewritten_bytecode(venv)
        for _, venv, extra in runs * 2:  # warm the file system and bytecode caches
            run(venv, suite, environment, *extra)
        times: list[list[tuple[float, float]]] = [[] for _ in runs]
        for _ in range(args.rounds):
            for index, (_, venv, extra) in enumerate(runs):
                times[index].append(run(venv, suite, environment, *extra))
        counts = {venv: _distributions(venv) for _, venv, extra in runs if not extra}  # before the venvs are removed
    cache = "off (PYTHONDONTWRITEBYTECODE=1)" if args.no_bytecode_cache else "on"
    print(f"pytest on a one-test suite, median of {args.rounds} alternating rounds, bytecode cache {cache}")
    print(f"{'':40}{'wall':>11}{'CPU':>11}{'wall over the first':>22}")
    medians = [tuple(statistics.median(sample[i] for sample in samples) * 1000 for i in (0, 1)) for samples in times]
    for (label, venv, extra), (wall, cpu) in zip(runs, medians, strict=True):
        note = "" if extra else f"  ({counts[venv]} distributions)"
        print(f"  {label:38}{wall:8.1f} ms{cpu:8.1f} ms{wall - medians[0][0]:+16.1f} ms{note}")
    (base_wall, base_cpu), (package_wall, package_cpu) = medians[0], medians[1]
    wall, cpu = package_wall - base_wall, package_cpu - base_cpu
    print(f"  {'difference':38}{wall:+8.1f} ms{cpu:+8.1f} ms")
    print(f"  {'ratio':38}{package_wall / base_wall:11.3f}{package_cpu / base_cpu:11.3f}")
    verdict = "within" if wall <= TARGET_MS else "OVER"
    print(f"  wall-time difference {verdict} the {TARGET_MS:.0f} ms target")
    print("  (CPU time, user + system, is disturbed less than wall time when the machine is busy)")


if __name__ == "__main__":
    main()
