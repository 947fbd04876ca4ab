"""The pytest side, end to end: pytest-recording + this plugin in a separate pytest process.

Each test writes a small test module, runs pytest on it (record, then replay with the network blocked)
and reads the cassette it left on disk.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

MODULE = textwrap.dedent(
    """
    import json

    import httpx
    import pytest

    SUB = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"
    URL = (
        f"https://management.azure.com/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/"
        "virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
    )
    SAS = "https://acct.blob.core.windows.net/s/run.ps1?sv=2022-11-02&sp=r&sig=SasSig-PLANTED"


    def handler(request):
        sent = json.loads(request.content)
        properties = {k: v for k, v in sent["properties"].items() if k not in ("runAsPassword", "protectedParameters")}
        if request.headers.get("x-break-contract"):
            properties["timeoutInSeconds"] = "sixty"
        body = {
            "id": request.url.path,
            "name": "rc1",
            "type": "Microsoft.Compute/virtualMachines/runCommands",
            "location": "westus",
            "properties": {**properties, "provisioningState": "Succeeded"},
        }
        return httpx.Response(200, json=body)


    def patch(**headers):
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            return client.patch(
                URL,
                json={
                    "properties": {
                        "source": {"scriptUri": SAS},
                        "runAsUser": "admin",
                        "runAsPassword": "Password-PLANTED",
                        "protectedParameters": [{"name": "k", "value": "Protected-PLANTED"}],
                    }
                },
                headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.Token-PLANTED", **headers},
            )


    @pytest.mark.vcr
    @pytest.mark.runcommand_contract
    def test_patch_with_secrets():
        response = patch()
        assert response.status_code == 200
        assert "sig=REDACTED" in response.json()["properties"]["source"]["scriptUri"]
        assert SUB not in response.text


    @pytest.mark.vcr
    @pytest.mark.runcommand_contract
    def test_contract_broken():
        assert patch(**{"x-break-contract": "1"}).status_code == 200


    @pytest.mark.vcr
    def test_contract_broken_unmarked():
        assert patch(**{"x-break-contract": "1"}).status_code == 200


    @pytest.mark.vcr
    @pytest.mark.runcommand_contract(ignore=["INVALID_TYPE"])
    def test_contract_broken_tolerated():
        assert patch(**{"x-break-contract": "1"}).status_code == 200
    """
)


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "test_recorded.py", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )


def test_record_then_replay_with_the_network_blocked(tmp_path: Path) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    recorded = _pytest(tmp_path, "--record-mode=once", "-k", "test_patch_with_secrets")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    cassette = tmp_path / "cassettes" / "test_recorded" / "test_patch_with_secrets.yaml"
    text = cassette.read_text()
    assert "PLANTED" not in text
    assert "6f1c0d3e" not in text
    assert [p.name for p in cassette.parent.iterdir()] == [cassette.name]  # no temporary file left

    replayed = _pytest(tmp_path, "--record-mode=none", "--block-network", "-k", "test_patch_with_secrets")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert cassette.read_text() == text


def test_contract_violations_fail_the_marked_test_and_name_the_interaction(tmp_path: Path) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    result = _pytest(tmp_path, "--record-mode=once", "-k", "broken")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "FAILED test_recorded.py::test_contract_broken - " in out
    assert "PASSED test_recorded.py::test_contract_broken_unmarked" in out
    assert "PASSED test_recorded.py::test_contract_broken_tolerated" in out
    assert "ContractViolationError" in out
    assert "INVALID_TYPE" in out
    assert "/properties/timeoutInSeconds" in out
    assert "PATCH https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/" in out
    assert "(test_contract_broken.yaml#0)" in out
    assert "PLANTED" not in out
    # replayed traffic is checked as well
    replayed = _pytest(tmp_path, "--record-mode=none", "--block-network", "-k", "test_contract_broken and not tol")
    assert replayed.returncode == 1
    assert "INVALID_TYPE" in replayed.stdout


def test_a_corrupt_cassette_errors_with_its_name_and_survives(tmp_path: Path) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    cassette = tmp_path / "cassettes" / "test_recorded" / "test_patch_with_secrets.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("interactions:\n- request: {method: PATCH\n")
    result = _pytest(tmp_path, "--record-mode=new_episodes", "-k", "test_patch_with_secrets")
    assert result.returncode == 1
    assert f"InputError: cannot replay: {cassette}:" in result.stdout
    assert cassette.read_text() == "interactions:\n- request: {method: PATCH\n"


def test_an_unreadable_cassette_at_replay_shows_the_message_alone(tmp_path: Path) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    cassette = tmp_path / "cassettes" / "test_recorded" / "test_patch_with_secrets.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("interactions:\n- request: {method: PATCH\n")
    result = _pytest(tmp_path, "--record-mode=none", "-k", "test_patch_with_secrets")
    assert result.returncode == 1
    errors = result.stdout.split("= ERRORS =")[1].split("short test summary")[0]
    assert f"InputError: cannot replay: {cassette}:" in errors
    for frame in ("vcr/cassette.py", "persister.py", "Traceback"):
        assert frame not in errors
    assert len(errors.strip().splitlines()) <= 4, errors


def test_interactions_that_are_not_a_list_are_refused_at_replay_as_by_check(tmp_path: Path) -> None:
    from pytest_runcommand.cli import main

    (tmp_path / "test_recorded.py").write_text(MODULE)
    cassette = tmp_path / "cassettes" / "test_recorded" / "test_patch_with_secrets.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("interactions: {}\nversion: 1\n")
    assert main(["cassettes", "check", str(cassette)]) == 2
    for mode in ("none", "once", "new_episodes"):
        result = _pytest(tmp_path, f"--record-mode={mode}", "-k", "test_patch_with_secrets")
        assert result.returncode == 1, mode
        assert f"InputError: cannot replay: {cassette}: not a vcrpy cassette: 'interactions' must be a list" in (
            result.stdout
        )
        assert cassette.read_text() == "interactions: {}\nversion: 1\n"


CONFTEST_WITHOUT_PASSWORD_RULE = textwrap.dedent(
    """
    import pytest

    from pytest_runcommand.cassettes.sanitize import default_sanitizer


    @pytest.fixture
    def vcr_config():
        return {
            "filter_headers": [("x-team", "kept-by-user-config")],
            "runcommand_sanitizer": default_sanitizer().without("run-as-password"),
        }
    """
)


def test_the_secret_scan_stops_a_cassette_and_user_config_is_kept(tmp_path: Path) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    (tmp_path / "conftest.py").write_text(CONFTEST_WITHOUT_PASSWORD_RULE)
    result = _pytest(tmp_path, "--record-mode=once", "-k", "test_patch_with_secrets")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "ERROR at teardown of test_patch_with_secrets" in out
    assert "SecretFoundError" in out
    assert "test_patch_with_secrets.yaml not written" in out
    assert "(interaction #0) request.body /properties/runAsPassword: secret-field <hidden, 16 chars>" in out
    assert "Password-PLANTED" not in out
    assert not (tmp_path / "cassettes" / "test_recorded").exists() or not any(
        (tmp_path / "cassettes" / "test_recorded").iterdir()
    )

    # with the rule back, the user's own filter_headers still applies next to the sanitizers
    (tmp_path / "conftest.py").write_text(CONFTEST_WITHOUT_PASSWORD_RULE.replace('.without("run-as-password")', ""))
    module = MODULE.replace('headers={"Authorization"', 'headers={"x-team": "blue", "Authorization"')
    (tmp_path / "test_recorded.py").write_text(module)
    result = _pytest(tmp_path, "--record-mode=once", "-k", "test_patch_with_secrets")
    assert result.returncode == 0, result.stdout + result.stderr
    text = (tmp_path / "cassettes" / "test_recorded" / "test_patch_with_secrets.yaml").read_text()
    assert "kept-by-user-config" in text
    assert "PLANTED" not in text


def test_a_cassette_saved_again_as_utf16_replays(tmp_path: Path) -> None:
    (tmp_path / "test_recorded.py").write_text(MODULE)
    assert _pytest(tmp_path, "--record-mode=once", "-k", "test_patch_with_secrets").returncode == 0
    cassette = tmp_path / "cassettes" / "test_recorded" / "test_patch_with_secrets.yaml"
    cassette.write_bytes(cassette.read_text().encode("utf-16"))  # PowerShell's Out-File, an editor's re-save
    saved = cassette.read_bytes()
    replayed = _pytest(tmp_path, "--record-mode=none", "--block-network", "-k", "test_patch_with_secrets")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert cassette.read_bytes() == saved
