"""What a user gets from ``pip install pytest-runcommand`` (no extras), checked from the installed wheel."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_runcommand

HERE = Path(__file__).resolve().parent
COMMAND = [sys.executable, "-m", "pytest_runcommand"]
FUZZ_MODULES = ("schemathesis", "hypothesis")


def run(*args: str, cwd: Path = HERE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_the_package_is_the_installed_wheel_without_extras() -> None:
    location = Path(pytest_runcommand.__file__).resolve()
    assert "site-packages" in location.parts, location
    assert not (location.parents[1] / "pyproject.toml").exists()  # not an editable checkout
    for module in FUZZ_MODULES:
        assert importlib.util.find_spec(module) is None, (
            f"{module} is installed: this suite needs a venv with no extras"
        )
    installed = {distribution.metadata["Name"].lower() for distribution in importlib.metadata.distributions()}
    assert not installed & {"schemathesis", "hypothesis", "azure-identity", "azure-core", "requests"}


def test_the_wheel_carries_its_typing_marker_license_and_metadata() -> None:
    assert (Path(pytest_runcommand.__file__).parent / "py.typed").is_file()
    metadata = importlib.metadata.metadata("pytest-runcommand")
    assert metadata["License-Expression"] == "MIT"
    files = [str(path) for path in importlib.metadata.files("pytest-runcommand") or []]
    assert any(path.endswith("licenses/LICENSE") for path in files), files
    assert not [path for path in files if path.startswith(("tests/", "examples/", "cassettes/"))]
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"fuzz", "azure", "all", "cli", "test"} <= extras
    assert "Programming Language :: Python :: 3.11" in (metadata.get_all("Classifier") or [])


def test_a_committed_cassette_replays_with_block_network_and_nothing_else(tmp_path: Path) -> None:
    shutil.copytree(HERE / "replay", tmp_path / "replay")
    cassettes = sorted((tmp_path / "replay" / "cassettes").rglob("*.yaml"))
    assert cassettes, "no cassette copied"
    before = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in cassettes}
    tests = sorted((tmp_path / "replay" / "examples").glob("test_*.py"))
    done = run(sys.executable, "-m", "pytest", "--block-network", *map(str, tests), cwd=tmp_path / "replay")
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
    assert {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in cassettes} == before


FAILING_SUITE = """
import pytest

def test_creates_then_fails(runcommand_emulator):
    url = runcommand_emulator.run_command_path("fails")
    body = {"location": "westus", "properties": {"source": {"script": "ls"}}}
    assert runcommand_emulator.client.put(url, json=body).status_code == 201
    assert False, "the test fails after its traffic"
"""


def test_a_failing_tests_traffic_is_in_the_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failing=FAILING_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", "report.json")
    result.assert_outcomes(failed=1)
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert report["operations"]["VirtualMachineRunCommands_CreateOrUpdate"]["calls"] == 1


def test_fuzz_names_its_extra() -> None:
    done = run(*COMMAND, "fuzz")
    assert done.returncode == 2, done.stdout + done.stderr
    assert 'pip install "pytest-runcommand[fuzz]"' in done.stderr
    assert "Traceback" not in done.stderr


FUZZ_SUITE = """
import pytest

@pytest.mark.runcommand_fuzz(max_examples=2)
def test_run_command_contract(runcommand_schema):
    runcommand_schema.fuzz()
"""


def test_the_fuzz_marker_names_its_extra(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_fuzz=FUZZ_SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    assert 'pip install "pytest-runcommand[fuzz]"' in result.stdout.str()  # (fnmatch would read [fuzz] as a class)
    result.stdout.no_fnmatch_line("*ModuleNotFoundError*")


def test_validate_works_from_the_console_script() -> None:
    script = shutil.which("pytest-runcommand", path=os.path.dirname(sys.executable))
    assert script, "the console script is not installed beside the venv's python"
    conforming, two_sources = (
        HERE / "payloads" / "update-request.json",
        HERE / "payloads" / "update-request-two-sources.json",
    )
    assert run(script, "validate", "request", str(conforming)).returncode == 0
    done = run(script, "validate", "request", str(conforming), str(two_sources), "--format", "json")
    assert done.returncode == 1, done.stderr
    verdicts = [
        (entry["verdict"], [v["code"] for v in entry["violations"]]) for entry in json.loads(done.stdout)["files"]
    ]
    assert verdicts == [("conforms", []), ("violations", ["MULTIPLE_SCRIPT_SOURCES"])]


def test_version() -> None:
    done = run(*COMMAND, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pytest-runcommand {importlib.metadata.version('pytest-runcommand')}\n"


def test_the_tls_emulator_serves_https_and_answers_plain_http_with_a_400() -> None:
    import ssl

    import httpx

    from pytest_runcommand.emulator.server import EmulatorServer

    path = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Compute"
        "/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
    )
    body = {"location": "westus", "properties": {"source": {"script": "echo hi"}}}
    with EmulatorServer(tls=True) as server:
        plain = httpx.put(server.base_url.replace("https://", "http://") + path, json=body)
        with httpx.Client(verify=ssl.create_default_context(cafile=server.ca_path)) as client:
            created = client.put(server.base_url + path, json=body, headers={"Authorization": "Bearer installed"})
    assert (plain.status_code, plain.json()["error"]["code"]) == (400, "PlainHttpOnTlsPort")
    assert created.status_code == 201
