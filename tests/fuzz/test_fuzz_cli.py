"""The fuzz command's footguns: a run that proves nothing fails, a missing baseline is an error, any supported
api-version, JUnit XML for CI, and a clear exit 2 with the pip line when the fuzz extra is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.contract.facts import DEFAULT_API_VERSION, SUPPORTED_API_VERSIONS
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.progress import CI_VARIABLES
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.schema import REQUEST_PREFIX
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

CREATE = "VirtualMachineRunCommands_CreateOrUpdate"


async def refuse_everything(scope: Any, receive: Any, send: Any) -> None:
    """A service answering 400 to every request (as Azure does to an api-version it does not know)."""
    body = json.dumps({"error": {"code": "InvalidApiVersionParameter", "message": "no such api-version"}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 400, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_a_run_with_no_positive_case_accepted_fails(serve_app: Any, capsys: pytest.CaptureFixture[str]) -> None:
    url = serve_app(refuse_everything)
    code = main(["fuzz", "--target", url, "--max-examples", "3", "--operation", CREATE])
    out = capsys.readouterr().out
    assert code == 1, out
    # 3 drawn, and the stateful unit's lifecycle PUT
    assert "error: no positive case was accepted: the target refused all 4 valid requests (400: 4)" in out
    assert "check the api-version" in out


@pytest.mark.parametrize(
    ("positive", "fails"),
    [({400: 5}, True), ({400: 4, 401: 1}, True), ({400: 4, 404: 1}, False), ({201: 1}, False), ({}, False)],
)
def test_nothing_accepted_fails_even_without_findings(positive: dict[int, int], fails: bool) -> None:
    report = FuzzReport("t")
    report.positive.update(positive)
    assert not report.findings
    assert report.failed() is fails
    assert ("no positive case was accepted" in report.render()) is fails


def test_an_unsupported_api_version_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["fuzz", "--api-version", "1999-01-01"])
    assert stopped.value.code == 2
    assert "--api-version: invalid choice: '1999-01-01'" in capsys.readouterr().err


@pytest.mark.parametrize("api_version", sorted(SUPPORTED_API_VERSIONS))
def test_every_supported_api_version_generates_its_own_bodies(api_version: str) -> None:
    """The request bodies follow that version's contract (2025-04-01 adds scriptShell; 2021 lacks a managed identity)."""
    from pytest_runcommand.contract.facts import definition_properties

    runner = FuzzRunner(emulator_target(), FuzzSettings(api_version=api_version, operations=(CREATE,)))
    definitions = runner.schema.raw_schema["definitions"]
    source = f"{REQUEST_PREFIX}VirtualMachineRunCommandScriptSource"
    assert set(definitions[source]["properties"]) == definition_properties(
        api_version, "VirtualMachineRunCommandScriptSource"
    )
    assert runner.schema.raw_schema["parameters"]["ApiVersionParameter"]["enum"] == [api_version]


def test_the_newest_version_runs_clean_against_the_emulator(capsys: pytest.CaptureFixture[str]) -> None:
    newest = max(SUPPORTED_API_VERSIONS)
    code = main(["fuzz", "--api-version", newest, "--operation", CREATE, "--max-examples", "10", "--no-stateful"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"api-version={newest}" not in out  # no finding, so no curl line either
    assert "0 distinct failures" in out


def test_a_missing_baseline_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nonexistent.json"
    assert main(["fuzz", "--baseline", str(missing), "--max-examples", "1"]) == 2
    assert f"--baseline {missing}: no such file (write one with --update-baseline)" in capsys.readouterr().err
    args = ["fuzz", "--baseline", str(missing), "--update-baseline", "--operation", CREATE, "--max-examples", "2"]
    assert main([*args, "--no-stateful"]) == 0
    assert json.loads(missing.read_text()) == {"failures": {}, "version": 1}


def test_a_baseline_holding_a_number_python_will_not_read_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review 13, finding 13: an integer over 4,300 digits was a traceback."""
    baseline = tmp_path / "baseline.json"
    baseline.write_text('{"version": 1, "failures": {}, "x": 1' + "0" * 5000 + "}")
    assert main(["fuzz", "--baseline", str(baseline), "--max-examples", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{baseline}: not a readable baseline file (ValueError" in err
    assert "Traceback" not in err


def test_junit_xml_for_ci(
    broken_server: str,
    broken_operations: tuple[str, ...],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    junit = tmp_path / "fuzz.xml"
    operations = [arg for op in broken_operations for arg in ("--operation", op)]
    code = main(["fuzz", "--target", broken_server, "--max-examples", "8", "--junit-xml", str(junit), *operations])
    out = capsys.readouterr().out
    assert code == 1, out
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert {case.get("classname") for case in cases} == set(broken_operations)
    checks = {case.get("name") for case in cases}
    assert {"runcommand_contract", "not_a_server_error"} <= checks
    assert len(cases) == len(broken_operations) * len(checks)
    failures = [case for case in cases if case.find("failure") is not None]
    assert suite.get("failures") == str(len(failures))
    assert failures
    for case in failures:
        failure = case.find("failure")
        assert failure is not None
        assert "reproduce:" in (failure.text or "")
        assert "curl -X" in (failure.text or "")
    assert main(["fuzz", "--junit-xml", str(tmp_path)]) == 2  # missing folders are created; a folder is no file
    assert "is a folder" in capsys.readouterr().err


def test_no_progress_line_when_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--operation", CREATE, "--max-examples", "2", "--no-stateful"]) == 0
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err
    assert "fuzzing " not in captured.err


def test_progress_on_a_terminal() -> None:
    """Run with stderr on a pseudo-terminal: one line rewritten in place, cleared before the report."""
    main_fd, terminal = os.openpty()
    env = {k: v for k, v in os.environ.items() if k not in CI_VARIABLES and k != "TERM"}
    code = f"from pytest_runcommand.cli import main; raise SystemExit(main(['fuzz', '--operation', '{CREATE}']))"
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=terminal, env=env) as process:
        os.close(terminal)
        out, _ = process.communicate(timeout=300)
        shown = b""
        while True:
            try:
                chunk = os.read(main_fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    os.close(main_fd)
    assert process.returncode == 0, out
    text = shown.decode()
    assert f"\rfuzzing {CREATE} positive: " in text
    assert f"\rfuzzing {CREATE} negative: " in text
    assert "\n" not in text.replace("\r\n", "")  # one line, never scrolled
    assert "fuzzing" not in out.decode()


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_without_schemathesis_the_command_names_its_extra() -> None:
    done = _python(
        "import sys; sys.modules['schemathesis'] = None\n"
        "from pytest_runcommand.cli import main\n"
        "raise SystemExit(main(['fuzz', '--max-examples', '1']))\n"
    )
    assert done.returncode == 2, done.stderr
    assert 'pip install "pytest-runcommand[fuzz]"' in done.stderr
    assert "Traceback" not in done.stderr


def test_the_plugin_imports_nothing_of_fuzzing_at_start_up() -> None:
    done = _python(
        "import sys\n"
        "import pytest_runcommand.pytest.fuzz, pytest_runcommand.fuzz.command\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('schemathesis', 'hypothesis')]\n"
        "loaded += [m for m in sys.modules if m.startswith('pytest_runcommand.fuzz.')"
        " and m not in ('pytest_runcommand.fuzz.command', 'pytest_runcommand.fuzz.targets', 'pytest_runcommand.fuzz.live')]\n"
        "print(loaded)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_default_api_version_comes_from_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fuzz", "--help"])
    assert f"(default: {DEFAULT_API_VERSION})" in " ".join(capsys.readouterr().out.split())


def test_report_paths_that_cannot_be_written_exit_2_before_fuzzing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fuzz", "--max-examples", "1", "--json", "/proc/fuzz.json"]) == 2
    assert "--json /proc/fuzz.json: " in capsys.readouterr().err
    same = str(tmp_path / "out")
    assert main(["fuzz", "--max-examples", "1", "--json", same, "--junit-xml", same]) == 2
    assert "--json and --junit-xml name the same file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("json_path", "junit_path"), [("-", "/dev/stdout"), ("/dev/stdout", "-"), ("-", "-")])
def test_standard_output_named_twice_is_refused_before_fuzzing(
    capsys: pytest.CaptureFixture[str], json_path: str, junit_path: str
) -> None:
    """Review 13, finding 8: ``--json - --junit-xml /dev/stdout`` wrote both reports to standard output, exit 0."""
    assert main(["fuzz", "--max-examples", "1", "--json", json_path, "--junit-xml", junit_path]) == 2
    captured = capsys.readouterr()
    assert "--json and --junit-xml name the same file" in captured.err
    assert captured.out == ""


def test_a_report_on_the_hypothesis_database_is_refused_before_fuzzing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review 13, finding 9: the same path for --hypothesis-database and --json was found after the campaign, and the
    report was lost."""
    same = str(tmp_path / "hdb")
    assert main(["fuzz", "--max-examples", "1", "--hypothesis-database=" + same, "--json", same]) == 2
    assert "--json and --hypothesis-database name the same path" in capsys.readouterr().err
    assert not (tmp_path / "hdb").exists()
