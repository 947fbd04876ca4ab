"""The CI example (examples/ci/): the workflow a user copies and .ci/run call the same script, and the script works."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ci" / "contract-ci.sh"
WORKFLOW = ROOT / "examples" / "ci" / "github-workflow.yml"
BASH = shutil.which("bash")

pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")

SUITE = """
import pytest

@pytest.mark.runcommand_contract
def test_create(runcommand_emulator):
    url = runcommand_emulator.run_command_path("ci")
    body = {"location": "westus", "properties": {"source": {"script": "ls"}}}
    assert runcommand_emulator.client.put(url, json=body).status_code == 201
"""


def _steps() -> list[dict[str, Any]]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow.get("on", workflow.get(True)), "no trigger"  # YAML 1.1 reads a bare `on` key as True
    (job,) = workflow["jobs"].values()
    steps: list[dict[str, Any]] = job["steps"]
    return steps


def test_the_workflow_runs_the_script_and_always_uploads_the_reports() -> None:
    steps = _steps()
    runs = [step["run"] for step in steps if "run" in step]
    assert any('pip install "pytest-runcommand[fuzz]"' in run for run in runs)
    assert any(run.strip() == "bash examples/ci/contract-ci.sh" for run in runs)
    (upload,) = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload["if"] == "always()"
    (sarif,) = [step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert sarif["with"]["sarif_file"] == "reports/cassettes.sarif"
    reports = next(step["env"]["RUNCOMMAND_REPORTS"] for step in steps if "env" in step)
    assert upload["with"]["path"].rstrip("/") == reports


def test_ci_run_calls_the_same_script_the_installed_suite_and_the_pinned_gates() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash examples/ci/contract-ci.sh" in ci
    assert "tests/installed/run.sh" in ci
    assert '-c constraints/dev.txt -e ".[test]"' in ci
    for script in (ROOT / ".ci" / "run", SCRIPT, ROOT / "tests" / "installed" / "run.sh"):
        done = subprocess.run([str(BASH), "-n", str(script)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{script}: {done.stderr}"


def _run_script(folder: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "RUNCOMMAND_"))}
    environment.pop("GITHUB_ACTIONS", None)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(settings)
    return subprocess.run(
        [str(BASH), str(SCRIPT)], cwd=folder, env=environment, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_script_writes_every_report_of_a_passing_project(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_contract.py").write_text(SUITE, encoding="utf-8")
    shutil.copytree(ROOT / "cassettes" / "test_example_record_replay_httpx", tmp_path / "cassettes")
    done = _run_script(tmp_path, RUNCOMMAND_TESTS="tests", RUNCOMMAND_FUZZ_EXAMPLES="1")
    output = done.stdout + done.stderr
    reports = tmp_path / "reports"
    expected = {
        "cassettes.txt",
        "cassettes.sarif",
        "contract.json",
        "contract.html",
        "fuzz.txt",
        "fuzz.xml",
        "junit.xml",
    }
    assert {path.name for path in reports.iterdir()} >= expected, output
    assert "1 passed" in done.stdout, output
    assert "0 violations, 0 secret hits" in (reports / "cassettes.txt").read_text(encoding="utf-8")
    operations = json.loads((reports / "contract.json").read_text(encoding="utf-8"))["operations"]
    assert operations["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 1
    assert 'tests="1"' in (reports / "junit.xml").read_text(encoding="utf-8")
    sarif = json.loads((reports / "cassettes.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"] == []
    fuzz = ElementTree.parse(reports / "fuzz.xml").getroot()
    cases = list(fuzz.iter("testcase"))
    assert cases, "no fuzz test case in the JUnit XML"
    assert [case.get("name") for case in cases if case.find("failure") is not None] == []
    assert done.returncode == 0, output


def test_a_failing_step_fails_the_run_but_the_later_steps_still_report(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = _run_script(tmp_path, RUNCOMMAND_TESTS="empty", RUNCOMMAND_FUZZ_EXAMPLES="1")
    assert done.returncode == 5, done.stdout + done.stderr  # pytest's "no tests collected", not a pass
    assert "contract-ci: no test collected from 'empty'" in done.stderr
    assert (tmp_path / "reports" / "fuzz.txt").read_text(encoding="utf-8").strip()  # fuzzing ran after it
