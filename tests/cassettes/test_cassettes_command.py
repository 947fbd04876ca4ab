"""``pytest-runcommand cassettes check``: per-file summary, contract and secret findings, exit 0/1/2."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_runcommand.cli import main

DATA = Path(__file__).parent.parent / "data" / "real-traffic"
ROOT = Path(__file__).parent.parent.parent
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJlLXZhbHVl"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["cassettes", "check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_real_traffic_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(DATA))
    assert code == 1
    lines = out.splitlines()
    cli = next(line for line in lines if line.startswith(str(DATA / "azure-cli" / "test_run_command_v2.yaml")))
    assert "26 interactions, 12 run-command, 12 validated" in cli
    assert cli.endswith("0 secret hits")
    assert "  api-version 2022-03-01: 12 run-command interaction(s): validated against the 2022-03-01 contract (" in out
    assert "  api-version 2021-07-01: 3 run-command interaction(s): validated against the 2021-07-01 contract (" in out
    ps = next(line for line in lines if line.startswith(str(DATA / "azure-powershell" / "Set-AzVMRunCommand")))
    assert "3 interactions, 3 run-command, 3 validated" in ps
    assert "6 secret hits" in ps
    assert "(interaction #0) request.url: subscription-id <hidden, 36 chars>" in out
    assert "e37510d7" not in out  # the unsanitized id is reported, never printed
    assert lines[-1].startswith("3 file(s): 33 interactions, 19 run-command, 19 validated")


def test_planted_token_is_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "planted.yaml"
    text = (DATA / "azure-cli" / "test_run_command_v2.yaml").read_text()
    path.write_text(text.replace("      - AZURECLI/2.36.0", f"      - Bearer {JWT}", 1))
    code, out, _ = _run(capsys, "--no-contract", str(path))
    assert code == 1
    assert f"{path}: 26 interactions, 12 run-command, 0 validated, 0 violations, 2 secret hits" in out
    assert "(interaction #0) request.headers.User-Agent: jwt <hidden" in out
    assert JWT not in out


def test_clean_cassette_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "clean.yaml"
    shutil.copy(DATA / "azure-cli" / "test_run_command_v2.yaml", path)
    code, out, _ = _run(capsys, "--no-contract", "-q", str(path))
    assert code == 0
    assert out.splitlines()[0] == f"{path}: 26 interactions, 12 run-command, 0 validated, 0 violations, 0 secret hits"


def test_contract_violation_is_reported_with_the_interaction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record = json.loads((DATA / "azure-powershell" / "Set-AzVMRunCommand.Recording.json").read_text())
    first = next(iter(record.values()))
    first["Response"]["Content"] = first["Response"]["Content"].replace(
        '"timeoutInSeconds": 0', '"timeoutInSeconds": "zero"'
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(record, indent=2))
    code, out, _ = _run(capsys, "--no-scan", str(path))
    assert code == 1
    assert "1 violations" in out.splitlines()[0]
    assert "INVALID_TYPE" in out
    assert "/properties/timeoutInSeconds" in out
    assert (
        f"{path}:2 (interaction #0) PUT https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/"
        in out
    )


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--format", "json", str(DATA / "azure-powershell"))
    assert code == 1
    report = json.loads(out)
    assert [Path(r["path"]).name for r in report] == [
        "Remove-AzVMRunCommand.Recording.json",
        "Set-AzVMRunCommand.Recording.json",
    ]
    assert report[0]["run_command_interactions"] == 4
    assert report[0]["api_versions"]["2021-07-01"]["count"] == 4
    assert {hit["detector"] for hit in report[0]["secret_hits"]} == {"subscription-id"}


def test_unreadable_file_exits_two_and_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions:\n  - request: [unclosed\n")
    code, out, err = _run(capsys, str(broken), str(DATA / "azure-cli"))
    assert code == 2
    assert "26 interactions" in out  # the other files are still checked
    assert out.splitlines()[-1].endswith(", 1 unreadable")
    assert str(broken) not in out
    assert "Traceback" not in err
    (line,) = err.splitlines()  # one line, not twice
    assert line.startswith(f"pytest-runcommand cassettes check: error: {broken}:3:1: not a readable YAML")


def test_usage_errors_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, str(tmp_path))
    assert code == 2
    assert "no cassette files" in err
    code, _, err = _run(capsys, "--no-contract", "--no-scan", str(DATA))
    assert code == 2
    assert "nothing to check" in err
    code, _, err = _run(capsys, str(tmp_path / "missing.yaml"))
    assert code == 2
    assert "no such file" in err


def test_console_script_runs_over_the_shared_folder() -> None:
    shared = ROOT.parent / "shared" / "real-traffic"
    target = shared if shared.is_dir() else DATA
    result = subprocess.run(
        [sys.executable, "-m", "pytest_runcommand", "cassettes", "check", "-q", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert (
        "Set-AzVMRunCommand.Recording.json: 3 interactions, 3 run-command, 3 validated, 0 violations, 6 secret hits"
        in result.stdout
    )


def test_committed_cassettes_are_clean_and_conform(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(ROOT / "cassettes"))
    assert code == 0, out
    assert "0 with violations, 0 secret hits, 0 unreadable" in out.splitlines()[-1]


def _leaked(tmp_path: Path) -> Path:
    path = tmp_path / "leaked.yaml"
    text = (DATA / "azure-cli" / "test_run_command_v2.yaml").read_text()
    path.write_text(text.replace("      - AZURECLI/2.36.0", f"      - Bearer {JWT}", 1))
    return path


def test_sarif_format_puts_each_finding_at_its_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _leaked(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text("interactions:\n  - request: [unclosed\n")
    code = main(["cassettes", "check", "--format", "sarif", str(path), str(broken)])
    out, err = capsys.readouterr()
    assert code == 2
    assert len(err.splitlines()) == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    rules = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    results = run["results"]
    assert {r["ruleId"] for r in results} == {"jwt", "bearer-token", "unreadable"}
    assert {r["ruleId"] for r in results} <= rules
    lines = path.read_text().splitlines()
    for result in results:
        location = result["locations"][0]["physicalLocation"]
        line = location["region"]["startLine"]
        if result["ruleId"] == "unreadable":
            assert location["artifactLocation"]["uri"] == broken.as_posix()
            assert line == 3
            continue
        assert location["artifactLocation"]["uri"] == path.as_posix()
        assert lines[line - 1].startswith("- request:")  # the interaction that holds the token
        assert JWT not in result["message"]["text"]
    assert JWT not in out


def test_sarif_names_contract_violations_by_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads((DATA / "azure-powershell" / "Set-AzVMRunCommand.Recording.json").read_text())
    first = next(iter(record.values()))
    first["Response"]["Content"] = first["Response"]["Content"].replace(
        '"timeoutInSeconds": 0', '"timeoutInSeconds": "zero"'
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(record, indent=2))
    assert main(["cassettes", "check", "--no-scan", "--format", "sarif", str(path)]) == 1
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    (result,) = run["results"]
    assert result["ruleId"] == "contract/INVALID_TYPE"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2


def test_pre_commit_hook_runs_the_check_on_cassette_files(tmp_path: Path) -> None:
    import re

    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "runcommand-cassettes-check"
    assert hook["language"] == "python"
    pattern = re.compile(hook["files"])
    for name in ("cassettes/test_x/test_y.yaml", "tests/recordings/a.yml", "SessionRecords/T/x.json"):
        assert pattern.search(name), name
    for name in ("pyproject.toml", "cassettes/README.md", "src/config.yaml"):
        assert not pattern.search(name), name
    path = _leaked(tmp_path)
    clean = tmp_path / "clean.yaml"
    shutil.copy(DATA / "azure-cli" / "test_run_command_v2.yaml", clean)
    entry = hook["entry"].split()
    assert entry[0] == "pytest-runcommand"
    command = [sys.executable, "-m", "pytest_runcommand", *entry[1:]]
    assert subprocess.run([*command, str(clean)], capture_output=True, check=False).returncode == 0
    leaked = subprocess.run([*command, str(clean), str(path)], capture_output=True, text=True, check=False)
    assert leaked.returncode == 1
    assert JWT not in leaked.stdout + leaked.stderr


def _not_recordings(folder: Path) -> list[Path]:
    """Files a tests/ or project folder holds beside its cassettes: none is a recording of any format."""
    from pytest_runcommand.report.coverage import CoverageReport

    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "package.json": '{"name": "x", "version": "1.0.0", "scripts": {"test": "jest"}}',
        "config.yaml": "version: 2\nupdates: []\n",
        "mkdocs.yml": "site_name: x\nmarkdown_extensions:\n  - emoji: !!python/name:material.emoji.twemoji\n",
        "list.json": "[1, 2, 3]",
        "empty-object.json": "{}",
        "workflow.yaml": "- step: one\n- step: two\n",
        "scalar.yml": "just text\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text)
    contract = ROOT / "pytest_runcommand" / "contract" / "spec" / "runcommands-2024-07-01.json"
    shutil.copy(contract, folder / contract.name)
    CoverageReport().write(folder / "runcommand-report.json")  # the plugin's own report (and its HTML)
    return sorted(p for p in folder.iterdir() if p.suffix in (".json", ".yaml", ".yml"))


def test_a_walked_folder_skips_files_that_are_not_recordings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT / "cassettes", tmp_path / "cassettes")
    others = _not_recordings(tmp_path / "cassettes" / "other")
    code, out, err = _run(capsys, str(tmp_path))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (
        "3 file(s): 15 interactions, 15 run-command, 15 validated, 0 with violations, 0 secret hits, 0 unreadable; "
        f"{len(others)} skipped: not recordings"
    )
    assert not any(str(path) in out for path in others)
    code, out, _ = _run(capsys, "--format", "json", str(tmp_path))
    assert code == 0
    skipped = {r["path"] for r in json.loads(out) if r["skipped"] is not None}
    assert skipped == {str(path) for path in others}


def test_files_named_on_the_command_line_are_checked_as_cassettes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in _not_recordings(tmp_path):
        if path.name == "empty-object.json":
            continue  # an empty AutoRest record: 0 interactions, as before
        code, out, err = _run(capsys, str(path))
        assert code == 2, path
        assert "skipped" not in out
        assert err.startswith(f"pytest-runcommand cassettes check: error: {path}"), err


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("empty-interactions.yaml", "version: 1\ninteractions: {}\n"),
        ("truncated.yaml", "version: 1\ninteractions:\n- request: [\n"),
        ("control.yaml", "version: 1\ninteractions: []\x01\n"),
        ("not-json.json", '{"interactions": [}'),
        ("vcr.json", '{"version": 1, "interactions": [{"request": {}}]}'),
        ("entries.json", '{"Entries": "not a list"}'),
        ("test-proxy.json", '{"Entries": [{"RequestUri": "https://h/x"}], "Variables": {}}'),
        ("autorest.Recording.json", '{"call+1": {"Request": {"Method": "GET"}}}'),
        ("autorest-one-bad.Recording.json", '{"call+1": {"Response": {"StatusCode": 200}}, "call+2": 3}'),
    ],
    ids=lambda value: value if value.endswith((".json", ".yaml")) else "",
)
def test_a_broken_recording_in_a_walked_folder_is_still_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    shutil.copytree(ROOT / "cassettes", tmp_path / "cassettes")
    _not_recordings(tmp_path / "other")
    broken = tmp_path / "cassettes" / name
    broken.write_text(text)
    code, out, err = _run(capsys, str(tmp_path))
    assert code == 2
    assert out.splitlines()[-1].endswith(", 1 unreadable; 9 skipped: not recordings")
    (line,) = err.splitlines()
    assert line.startswith(f"pytest-runcommand cassettes check: error: {broken}")


def test_a_test_proxy_recording_in_a_walked_folder_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = {
        "RequestUri": "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
        "Microsoft.Compute/locations/westus/runCommands?api-version=2024-07-01",
        "RequestMethod": "GET",
        "RequestHeaders": {},
        "RequestBody": None,
        "StatusCode": 200,
        "ResponseHeaders": {"Content-Type": "application/json"},
        "ResponseBody": '{"value": []}',
    }
    recording = tmp_path / "recordings" / "test_list.json"
    recording.parent.mkdir()
    recording.write_text(json.dumps({"Entries": [entry], "Variables": {}}))
    _not_recordings(tmp_path / "other")
    code, out, err = _run(capsys, str(tmp_path))
    assert (code, err) == (0, "")
    assert f"{recording}: 1 interactions, 1 run-command, 1 validated" in out
    assert out.splitlines()[-1].startswith("1 file(s): 1 interactions")
    assert out.splitlines()[-1].endswith("; 9 skipped: not recordings")


def test_a_folder_of_no_recordings_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _not_recordings(tmp_path)
    code, out, err = _run(capsys, str(tmp_path))
    assert (code, out) == (2, "")
    assert f"no recordings under {tmp_path} (9 file(s) skipped: not recordings" in err


def test_check_files_marks_what_it_skipped(tmp_path: Path) -> None:
    from pytest_runcommand.cassettes import check_files

    others = _not_recordings(tmp_path / "other")
    shutil.copytree(ROOT / "cassettes", tmp_path / "cassettes")
    reports = check_files([tmp_path, others[0]])
    assert [r.path for r in reports if r.skipped == "not a recording"] == others
    named = reports[-1]
    assert (named.path, named.skipped) == (others[0], None)  # named: checked as a cassette
    assert sum(r.interactions for r in reports if r.skipped is None and r.error is None) == 15


def test_a_file_larger_than_a_cassette_may_be_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_runcommand.cassettes.loading import MAX_EXPANDED_BYTES

    big = tmp_path / "big.yaml"
    with big.open("wb") as stream:
        stream.truncate(MAX_EXPANDED_BYTES + 1)  # sparse: /dev/zero named as a file
    code, _, err = _run(capsys, str(big))
    assert code == 2
    assert err == (
        f"pytest-runcommand cassettes check: error: {big}: larger than {MAX_EXPANDED_BYTES:,} bytes, the largest "
        "cassette file read; not read further\n"
    )


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("object.json", "{}"),
        ("vcrpy.json", '{"interactions": []}'),
        ("vcrpy.yaml", "version: 1\ninteractions: []\n"),
        ("record.json", '{"Entries": [], "Names": {}, "Variables": {}}'),
    ],
)
def test_a_recording_with_no_interactions_is_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str
) -> None:
    from pytest_runcommand.cassettes.check import EMPTY

    path = tmp_path / name
    path.write_text(text)
    code, out, err = _run(capsys, str(path))
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        f"{path}: {EMPTY}",
        "1 file(s): 0 interactions, 0 run-command, 0 validated, 0 with violations, 0 secret hits, 0 unreadable, "
        "1 empty",
    ]
    code, out, _ = _run(capsys, "--format", "json", str(path))
    assert code == 1
    assert json.loads(out)[0]["empty"] is True
    code, out, _ = _run(capsys, "--format", "sarif", str(path))
    assert code == 1
    (result,) = json.loads(out)["runs"][0]["results"]
    assert (result["ruleId"], result["message"]["text"]) == ("empty", f"{path}: {EMPTY}")


def test_a_named_json_file_of_no_recorded_format_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "e.json"
    path.write_text('{"foo": 1}')
    code, _, err = _run(capsys, str(path))
    assert code == 2
    assert err == (
        f"pytest-runcommand cassettes check: error: {path}: not a recording: a JSON document with neither "
        "'interactions' (a vcrpy cassette) nor 'Entries' (a session record) nor recorded calls holding 'Request' or "
        "'Response' (an Azure PowerShell record)\n"
    )


def test_a_walked_folder_skips_an_empty_object_but_not_an_empty_recording(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    others = _not_recordings(tmp_path)  # empty-object.json among them: {} is no format's document
    (tmp_path / "stub.json").write_text('{"interactions": []}')
    code, out, err = _run(capsys, str(tmp_path))
    assert (code, err) == (1, "")
    assert out.splitlines()[-1].endswith(f", 1 empty; {len(others)} skipped: not recordings")
    assert f"{tmp_path / 'stub.json'}: an empty recording" in out


OLD_CLIENT = DATA.parent / "old-client" / "test_vm_run_command_e2e.yaml"


def test_ignore_tolerates_a_code_as_the_marker_does(capsys: pytest.CaptureFixture[str]) -> None:
    """Review 11, finding 5: real recordings of an older client (api-version 2019-03-01) could never pass the CI step:
    no way to tolerate UNKNOWN_API_VERSION but --no-contract, which dropped every other check."""
    code, out, _ = _run(capsys, str(OLD_CLIENT))
    assert code == 1
    assert "UNKNOWN_API_VERSION" in out
    code, out, _ = _run(capsys, "--ignore", "UNKNOWN_API_VERSION", str(OLD_CLIENT))
    assert code == 0, out
    assert "6 run-command, 6 validated, 0 with violations, 6 violation(s) ignored" in out.splitlines()[-1]
    assert "  ignored: UNKNOWN_API_VERSION x6" in out  # what was tolerated is said (review 12, finding 12)
    code, out, _ = _run(capsys, "--ignore", "UNKNOWN_API_VERSION", "--format", "json", str(OLD_CLIENT))
    assert json.loads(out)[0]["ignored"] == {"UNKNOWN_API_VERSION": 6}
    code, out, _ = _run(capsys, "--ignore", "INVALID_TYPE,UNKNOWN_API_VERSION", str(OLD_CLIENT))
    assert code == 0, out


def test_sarif_shows_what_ignore_tolerated_as_suppressed_results(capsys: pytest.CaptureFixture[str]) -> None:
    """What ``--ignore`` tolerated is in the SARIF log too, as suppressed results at their lines (code scanning lists
    them as dismissed), and the unsuppressed ones are exactly the violations left."""
    code, out, _ = _run(capsys, "--format", "sarif", str(OLD_CLIENT))
    unsuppressed = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"].startswith("contract/")]
    code, out, _ = _run(capsys, "--ignore", "UNKNOWN_API_VERSION", "--format", "sarif", str(OLD_CLIENT))
    assert code == 0
    results = json.loads(out)["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 6
    assert all(r["ruleId"] == "contract/UNKNOWN_API_VERSION" for r in suppressed)
    assert {r["suppressions"][0]["justification"] for r in suppressed} == {
        "cassettes check --ignore UNKNOWN_API_VERSION"
    }
    assert [r["locations"] for r in suppressed] == [r["locations"] for r in unsuppressed]
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] > 0 for r in suppressed)
    assert not [r for r in results if r["ruleId"].startswith("contract/") and "suppressions" not in r]


def _tag_flood(tmp_path: Path, tags: int) -> Path:
    """A vcrpy cassette of one PATCH whose ``tags`` hold ``tags`` numbers (each breaks the contract)."""
    url = (
        "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/"
        "providers/Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01"
    )
    body = json.dumps({"tags": {f"t{i}": i for i in range(tags)}})
    request = {"method": "PATCH", "uri": url, "body": body, "headers": {"Content-Type": ["application/json"]}}
    error = json.dumps({"error": {"code": "InvalidParameter", "message": "tags"}})
    headers = {"Content-Type": ["application/json"]}
    response = {"status": {"code": 400, "message": "Bad Request"}, "headers": headers, "body": {"string": error}}
    path = tmp_path / "flood.json"
    path.write_text(json.dumps({"version": 1, "interactions": [{"request": request, "response": response}]}))
    return path


def test_ignore_tolerates_a_code_past_the_listed_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review 13, finding 1: 2,000 violations of an ignored code were 100 ignored and a 1,900-violation failure."""
    flood = _tag_flood(tmp_path, 2_000)
    code, out, _ = _run(capsys, "--no-scan", "--ignore", "INVALID_TYPE", str(flood))
    assert code == 0, out
    assert "  ignored: INVALID_TYPE x2000" in out
    assert "2000 violation(s) ignored" in out.splitlines()[-1]
    code, out, _ = _run(capsys, "--no-scan", "--ignore", "INVALID_TYPE", "--format", "sarif", str(flood))
    results = json.loads(out)["runs"][0]["results"]
    assert results
    assert all("suppressions" in result for result in results)


def test_ignore_refuses_the_summary_code(capsys: pytest.CaptureFixture[str]) -> None:
    """Review 13, finding 2: ignoring TOO_MANY_VIOLATIONS hid every violation past the 100th, whatever its code."""
    code, _, err = _run(capsys, "--ignore", "INVALID_TYPE,TOO_MANY_VIOLATIONS", str(OLD_CLIENT))
    assert code == 2
    assert "--ignore TOO_MANY_VIOLATIONS cannot be ignored" in err


def test_ignore_refuses_an_unknown_code_and_no_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--ignore", "NOT_A_CODE", str(OLD_CLIENT))
    assert code == 2
    assert "--ignore NOT_A_CODE: not a violation code" in err
    code, _, err = _run(capsys, "--ignore", "UNKNOWN_API_VERSION", "--no-contract", str(OLD_CLIENT))
    assert code == 2
    assert "--no-contract" in err


def test_no_contract_still_counts_the_run_command_interactions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--no-contract", str(OLD_CLIENT))
    assert code == 0
    assert "23 interactions, 6 run-command, 0 validated" in out.splitlines()[-1]


@pytest.mark.parametrize("given", ["", ",", "UNKNOWN_API_VERSION,"])
def test_ignore_refuses_an_empty_code(capsys: pytest.CaptureFixture[str], given: str) -> None:
    code, _, err = _run(capsys, "--ignore", given, str(OLD_CLIENT))
    assert code == 2
    assert "--ignore takes violation codes" in err
