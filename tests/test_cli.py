"""The command line's front door: --version, usage errors per sub-command, a missing extra named with its pip line."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

import pytest_runcommand
from pytest_runcommand.cli import BROKEN_PIPE_EXIT, INTERRUPTED_EXIT, main
from pytest_runcommand.extras import EXTRA_MODULES, install_line, missing_extra

ROOT = Path(__file__).resolve().parents[1]


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    version = importlib.metadata.version("pytest-runcommand")
    assert version == pytest_runcommand.__version__
    assert capsys.readouterr().out == f"pytest-runcommand {version}\n"


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["validate", "request", "x.json", "--nope"], "usage: pytest-runcommand validate "),
        (["cassettes", "check", "x", "--nope"], "usage: pytest-runcommand cassettes check "),
        (["emulator", "--nope"], "usage: pytest-runcommand emulator "),
        (["fuzz", "--nope"], "usage: pytest-runcommand fuzz "),
    ],
)
def test_an_unknown_flag_shows_its_subcommands_usage(
    argv: list[str], usage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage), err
    assert "unrecognized arguments: --nope" in err


@pytest.mark.parametrize("flag", ["--bogus", "--bogus=1", "-x"])
def test_an_unknown_flag_before_the_command_is_named(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([flag], [flag, "validate", "request", "x.json"], ["report", flag, "merge"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert f"error: unrecognized arguments: {flag}" in err, argv
        assert "required" not in err


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("99999", "argument --status: an HTTP status code is 100..599, got 99999"),
        ("99", "got 99"),
        ("600", "got 600"),
        ("ok", "argument --status: expected an HTTP status code (100..599), got 'ok'"),
    ],
)
def test_validate_takes_an_http_status_only(
    tmp_path: Path, status: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.json"
    body.write_text("{}")
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "response", str(body), "--status", status])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: pytest-runcommand validate "), err
    assert message in err
    for edge in ("100", "599"):
        assert main(["validate", "response", str(body), "--status", edge]) in (0, 1)


def test_no_command_shows_the_top_level_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("usage: pytest-runcommand [-h] [--version] COMMAND")


@pytest.mark.parametrize(
    ("module", "extra"),
    [
        ("schemathesis", "fuzz"),
        ("schemathesis.core.failures", "fuzz"),
        ("hypothesis", "fuzz"),
        ("requests", "fuzz"),
        ("azure", "azure"),
        ("azure.identity", "azure"),
        ("azure.core.polling", "azure"),
        ("azure.mgmt.compute", None),  # the user's SDK, not an extra of this package
        ("yaml", None),
        ("schemathesis_extra", None),
        ("azurex", None),
    ],
)
def test_a_missing_module_maps_to_the_extra_that_brings_it(module: str, extra: str | None) -> None:
    assert missing_extra(ModuleNotFoundError(f"No module named {module!r}", name=module)) == extra


def test_every_extra_named_is_declared_in_the_project_metadata() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = set(project["optional-dependencies"])
    assert set(EXTRA_MODULES.values()) <= declared
    assert install_line("fuzz") == 'pip install "pytest-runcommand[fuzz]"'


HIDE = "import sys; sys.modules.update(dict.fromkeys({modules!r})); from pytest_runcommand.cli import main; "


@pytest.mark.parametrize(
    ("hidden", "argv", "extra"),
    [
        (["schemathesis"], ["fuzz", "--max-examples", "1"], "fuzz"),
        (["hypothesis"], ["fuzz", "--max-examples", "1"], "fuzz"),
    ],
)
def test_a_command_whose_extra_is_missing_exits_2_with_the_pip_line(
    hidden: list[str], argv: list[str], extra: str
) -> None:
    # None in sys.modules makes `import name` raise ModuleNotFoundError(name=name), as in a venv without the extra
    # (tests/installed/ checks the same in a real one, from the wheel).
    code = HIDE.format(modules=hidden) + f"raise SystemExit(main({argv!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f'pip install "pytest-runcommand[{extra}]"' in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"pytest-runcommand fuzz: error: this command needs the '{extra}' extra")


def test_an_unrelated_missing_module_is_not_blamed_on_an_extra() -> None:
    code = "import sys; from pytest_runcommand import cli; " + (
        "cli.COMMAND_MODULES = ('no_such_module_for_the_test',); cli.main(['x'])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "ModuleNotFoundError: No module named 'no_such_module_for_the_test'" in done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["validate", "request", "{body}"],
        ["validate", "request", "--format", "json", "{body}"],
        ["cassettes", "check", str(ROOT / "cassettes")],
    ],
    ids=["version", "validate-text", "validate-json", "cassettes-check"],
)
def test_a_closed_stdout_pipe_ends_the_command_quietly(tmp_path: Path, argv: list[str]) -> None:
    """``pytest-runcommand ... | head -1``: the reader has gone; no traceback, the exit code of a SIGPIPE death.

    (``--help`` is left out: argparse itself ignores a failed write of its help; the emulator serves on:
    tests/emulator/test_emulator_closed_stdout.py.)"""
    body = tmp_path / "body.json"
    body.write_text('{"properties": {"source": {"script": "ls", "commandId": "RunShellScript"}}}')
    argv = [arg.replace("{body}", str(body)) for arg in argv]
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: every write meets a closed pipe
    code = "import sys; from pytest_runcommand.cli import main; sys.exit(main(sys.argv[1:]))"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *argv], stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert done.returncode == BROKEN_PIPE_EXIT, done.stderr


def test_ctrl_c_during_a_fuzz_run_says_it_was_interrupted() -> None:
    """SIGINT as a terminal's Ctrl-C delivers it: exit 130 and one line saying so (it was silent)."""
    pytest.importorskip("schemathesis")
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from pytest_runcommand.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, "fuzz", "--max-examples", "2000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(5)  # the run is under way: a 2,000-example campaign takes minutes
        for _ in range(15):  # again, as a user would, if the first landed where it is swallowed (start-up, rarely)
            process.send_signal(signal.SIGINT)
            try:
                stdout, stderr = process.communicate(timeout=2)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        process.kill()
    assert process.returncode == INTERRUPTED_EXIT, stdout + stderr
    assert stderr.strip().splitlines()[-1] == "pytest-runcommand fuzz: interrupted", stderr


def test_ctrl_c_on_a_terminal_stops_every_worker_without_a_word() -> None:
    """A terminal's Ctrl-C reaches the whole process group: the workers leave it to the parent (one of them printed
    ``Process ForkPoolWorker-2:`` and a traceback, once in three runs)."""
    pytest.importorskip("schemathesis")
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from pytest_runcommand.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, "fuzz", "--max-examples", "2000", "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        time.sleep(6)  # the workers are running
        for _ in range(15):
            os.killpg(process.pid, signal.SIGINT)
            try:
                stdout, stderr = process.communicate(timeout=3)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == INTERRUPTED_EXIT, stdout + stderr
    assert "ForkPoolWorker" not in stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == "pytest-runcommand fuzz: interrupted", stderr
