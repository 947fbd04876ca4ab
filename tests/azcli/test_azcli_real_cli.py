"""The real Azure CLI against the served emulator: sign-in, the run-command lifecycle, offline.

These tests need ``az`` (``$RUNCOMMAND_AZ`` or ``PATH``; CI installs it in a venv of its own): without it they
skip, except under CI where they fail. Every run-command exchange is checked against the contract (the marker),
and the emulator must not hit an internal error (conftest). The helpers' own logic is tested without the CLI in
the other modules of this folder.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulator_command import emulator_command

from pytest_runcommand.azcli import (
    ARM_AUDIENCE,
    AzureCli,
    AzureCliError,
    CliLogin,
    ProxyTrap,
    prepare_cli,
    render_cli_snippet,
    seed_version_cache,
    served_cli_snippet,
)
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator.handles import ServedEmulator
from pytest_runcommand.emulator.identity import Directory
from pytest_runcommand.emulator.server import EmulatorServer
from pytest_runcommand.interactions import Interaction

pytestmark = pytest.mark.runcommand_contract

SUB = ZERO_SUBSCRIPTION_ID
VM_ID = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1"
RUN_AS_PASSWORD = "Run-As-P4ssw0rd!"
PROTECTED_VALUE = "protected-hunter2"


@pytest.fixture
def traffic(runcommand_emulator_server: ServedEmulator) -> Iterator[list[Interaction]]:
    """Every run-command exchange the emulator answers during the test."""
    seen: list[Interaction] = []
    runcommand_emulator_server.app.observers.append(seen.append)
    yield seen
    runcommand_emulator_server.app.observers.remove(seen.append)


def identity(emulator: ServedEmulator) -> Directory:
    assert emulator.server.identity is not None
    return emulator.server.identity


def rc(*args: str) -> list[str]:
    return ["vm", "run-command", *args, "--resource-group", "rg1", "--vm-name", "vm1"]


def test_run_command_lifecycle_with_the_real_cli(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator, traffic: list[Interaction]
) -> None:
    az, emulator = runcommand_az, runcommand_emulator_server
    created = az.json(
        *rc("create", "--name", "rc1", "--script", "echo hello"),
        "--parameters", "a=1", "b=2", "--protected-parameters", f"secret={PROTECTED_VALUE}",
        "--run-as-user", "azureuser", "--run-as-password", RUN_AS_PASSWORD, "--timeout-in-seconds", "120",
    )  # fmt: skip
    assert created["provisioningState"] == "Succeeded"
    assert created["id"] == f"{VM_ID}/runCommands/rc1"
    assert created["location"] == "westus"
    assert created["parameters"] == [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
    kept = emulator.backend.run_command(VM_ID, "rc1")
    assert kept is not None
    assert kept.properties.run_as_password == RUN_AS_PASSWORD  # the VM needs it; it is never shown again

    updated = az.json(*rc("update", "--name", "rc1", "--script", "echo updated", "--parameters", "c=3"))
    assert updated["source"] == {"script": "echo updated"}
    assert updated["runAsUser"] == "azureuser"  # update is GET + full PUT: what it does not change stays
    stored = emulator.backend.run_command(VM_ID, "rc1")
    assert stored is not None
    # ... except the secrets, which GET never shows: the re-PUT drops them, as it does on Azure.
    assert stored.properties.run_as_password is None
    assert not stored.properties.protected_parameters

    shown = az.json(*rc("show", "--name", "rc1", "--instance-view"))
    assert shown["instanceView"]["executionState"] == "Succeeded"
    assert shown["instanceView"]["exitCode"] == 0
    assert shown["instanceView"]["output"] == "updated\n"

    listed = az.json(*rc("list"))
    assert [item["name"] for item in listed] == ["rc1"]

    az.run(*rc("delete", "--name", "rc1"), "--yes")
    gone = az.run(*rc("show", "--name", "rc1"), check=False)
    assert gone.returncode != 0
    assert "ResourceNotFound" in gone.stderr

    # What the scripts did, seen from the VM's side.
    first, second = emulator.executor.runs
    assert (first.script, first.parameters, first.run_as_user) == ("echo hello", (("a", "1"), ("b", "2")), "azureuser")
    assert first.protected_parameters == (("secret", PROTECTED_VALUE),)
    assert first.timeout_in_seconds == 120
    assert (second.script, second.parameters, second.run_as_user) == ("echo updated", (("c", "3"),), "azureuser")
    assert emulator.backend.run_command(VM_ID, "rc1") is None

    # Secrets went in, and never came back out: not in an answer, a CLI output, a run record's repr, a CLI log.
    outputs = json.dumps([created, updated, shown, listed])
    answers = [interaction.response_body or b"" for interaction in traffic]
    assert any(RUN_AS_PASSWORD.encode() in (i.request_body or b"") for i in traffic)
    for secret in (RUN_AS_PASSWORD, PROTECTED_VALUE):
        assert secret not in outputs
        assert not any(secret.encode() in answer for answer in answers)
        assert secret not in repr(emulator.executor.runs)
        for log in (az.config_dir / "commands").glob("*.log"):
            assert secret not in log.read_text(encoding="utf-8", errors="replace")

    # The CLI spoke 2024-11-01 (served as the 2024-07-01 contract), updated with PUT, polled the delete.
    run_command_calls = [i for i in traffic if "/runCommands" in i.url]
    assert {i.url.rpartition("api-version=")[2] for i in run_command_calls} == {"2024-11-01"}
    # 2024-11-01 has no systemData: the answers carry no field newer than the request's version (the CLI's own
    # models would drop one silently, so look at the wire).
    assert not any(b'"systemData"' in (i.response_body or b"") for i in run_command_calls)
    assert "PATCH" not in {i.method for i in traffic}
    assert any("monitor=true" in i.url for i in traffic if i.method == "GET")
    # Without Retry-After the CLI sleeps 30 s before each poll: every asynchronous answer carries it.
    asynchronous = [i for i in traffic if i.response_header("Azure-AsyncOperation")]
    assert len(asynchronous) == 3
    assert all(i.response_header("Retry-After") is not None for i in asynchronous)


def test_cli_sees_the_seeded_vm_location(runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator) -> None:
    runcommand_emulator_server.backend.add_vm(VM_ID, "northeurope")
    created = runcommand_az.json(*rc("create", "--name", "rc2", "--command-id", "RunShellScript"))
    assert created["location"] == "northeurope"
    assert runcommand_emulator_server.executor.runs[-1].command_id == "RunShellScript"


def test_a_failing_script_shows_in_the_instance_view(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator
) -> None:
    from pytest_runcommand.emulator.executor import Outcome

    runcommand_emulator_server.executor.register(Outcome.failure(3, error="disk full"), script="./deploy.sh")
    runcommand_az.run(*rc("create", "--name", "deploy", "--script", "./deploy.sh"))
    view = runcommand_az.json(*rc("show", "--name", "deploy", "--instance-view"))["instanceView"]
    assert (view["executionState"], view["exitCode"], view["error"]) == ("Failed", 3, "disk full")


def test_requests_leaving_loopback_are_caught(runcommand_az: AzureCli) -> None:
    proxy = runcommand_az.proxy
    assert proxy is not None
    before = len(proxy.attempts)
    outside = runcommand_az.run(
        "rest", "--method", "get", "--skip-authorization-header", "--url", "https://example.invalid/probe", check=False
    )
    assert outside.returncode != 0
    leaks = proxy.attempts[before:]
    del proxy.attempts[before:]  # seen on purpose: the fixture would fail the test otherwise
    assert leaks == ["CONNECT example.invalid:443 HTTP/1.0"] or leaks[0].startswith("CONNECT example.invalid:443")


def test_sign_in_errors_reach_the_cli(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator, tmp_path: Path
) -> None:
    principal = identity(runcommand_emulator_server).principal
    base, ca = runcommand_emulator_server.base_url, runcommand_emulator_server.ca_path
    wrong_secret = CliLogin(principal.tenant_id, principal.client_id, "not-the-secret")
    with pytest.raises(AzureCliError) as raised:
        prepare_cli(runcommand_az.executable, base, ca, wrong_secret, tmp_path / "a")
    assert "AADSTS7000215" in str(raised.value)
    assert "not-the-secret" not in str(raised.value)
    wrong_tenant = CliLogin("66666666-6666-4666-8666-666666666666", principal.client_id, principal.client_secret)
    with pytest.raises(AzureCliError) as raised:
        prepare_cli(runcommand_az.executable, base, ca, wrong_tenant, tmp_path / "b")
    assert "AADSTS90002" in str(raised.value)
    assert principal.client_secret not in str(raised.value)


def test_printed_snippet_sets_up_a_working_cli(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator, tmp_path: Path
) -> None:
    principal = identity(runcommand_emulator_server).principal
    login = CliLogin(principal.tenant_id, principal.client_id, principal.client_secret)
    snippet = render_cli_snippet(
        runcommand_emulator_server.base_url, runcommand_emulator_server.ca_path, login, config_dir=str(tmp_path / "cfg")
    )
    (tmp_path / "cfg").mkdir()
    assert seed_version_cache(runcommand_az.executable, tmp_path / "cfg")  # else its first run checks for updates
    script = tmp_path / "setup.sh"
    script.write_text(f"set -e\n{snippet}az account show --query tenantId --output tsv\n", encoding="utf-8")
    env = {k: v for k, v in runcommand_az.script_env().items() if not k.startswith(("AZURE_", "REQUESTS_"))}
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == principal.tenant_id


def test_the_emulator_command_prints_a_cli_setup_that_works(runcommand_az: AzureCli, tmp_path: Path) -> None:
    cli_env = tmp_path / "emulator.env"
    trap = ProxyTrap()
    try:
        with emulator_command("--tls", "--cli-env", str(cli_env)) as (server, output):
            snippet = cli_env.read_text(encoding="utf-8")
            assert snippet in output
            assert "az login --service-principal" in snippet
            assert cli_env.stat().st_mode & 0o777 == 0o600  # it holds the emulator's client secret
            env = {
                k: v for k, v in runcommand_az.script_env().items() if not k.upper().startswith(("AZURE_", "REQUESTS_"))
            }
            env.update(trap.environment())
            script = f'set -e\n. "{cli_env}"\naz vm run-command list -g rg --vm-name vm1 --output json\n'
            done = subprocess.run(
                ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
            )
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout) == []
            # A fresh config dir makes the CLI ask its release storage once whether it is up to date (the
            # runcommand_az fixture pre-seeds that answer); nothing else tried to leave loopback.
            assert all("azcliprod.blob.core.windows.net" in attempt for attempt in trap.attempts), trap.attempts
            server.send_signal(signal.SIGINT)
            assert server.wait(timeout=15) == 0
    finally:
        trap.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["emulator", "--cli-env", "az.env"], "--cli-env needs --tls"),
        (["emulator", "--tls", "--no-azure-cli", "--cli-env", "az.env"], "--cli-env needs --tls"),
        (["emulator", "--client-secret", " "], "--client-secret needs a non-empty value"),
        (["emulator", "--no-azure-cli", "--client-secret", "x"], "--client-secret needs a non-empty value"),
    ],
)
def test_cli_setup_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_runcommand.cli import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_served_emulator_signs_in_with_the_given_client_secret() -> None:
    plain = EmulatorServer(tls=False, azure_cli=False)
    assert plain.identity is None
    chosen = EmulatorServer(tls=False, directory=Directory.default("chosen-secret"))
    assert chosen.identity is not None
    snippet = served_cli_snippet("https://127.0.0.1:1", "/ca.pem", chosen.identity)
    assert "--password=chosen-secret" in snippet


def test_cloud_register_discovers_the_endpoints(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator, tmp_path: Path
) -> None:
    assert seed_version_cache(runcommand_az.executable, tmp_path)
    fresh = AzureCli(runcommand_az.executable, {**runcommand_az.env, "AZURE_CONFIG_DIR": str(tmp_path)},
                     config_dir=tmp_path, base_url=runcommand_az.base_url)  # fmt: skip
    base = runcommand_emulator_server.base_url
    fresh.run("cloud", "register", "--name", "Discovered", "--endpoint-resource-manager", f"{base}/")
    endpoints = fresh.json("cloud", "show", "--name", "Discovered", "--query", "endpoints")
    assert endpoints["resourceManager"] == f"{base}/"
    assert endpoints["activeDirectory"] == base
    assert endpoints["activeDirectoryResourceId"] == ARM_AUDIENCE


def test_scale_set_vm_lifecycle_with_the_real_cli(
    runcommand_az: AzureCli, runcommand_emulator_server: ServedEmulator
) -> None:
    def vmss(*args: str) -> list[str]:
        return ["vmss", "run-command", *args, "--resource-group", "rg1", "--vmss-name", "web", "--instance-id", "3"]

    created = runcommand_az.json(*vmss("create", "--run-command-name", "rc", "--script", "echo one"))
    assert created["type"] == "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/runCommands"
    runcommand_az.run(*vmss("update", "--run-command-name", "rc", "--script", "echo two"))
    view = runcommand_az.json(*vmss("show", "--run-command-name", "rc", "--instance-view"))["instanceView"]
    assert view["output"] == "two\n"
    assert [item["name"] for item in runcommand_az.json(*vmss("list"))] == ["rc"]
    runcommand_az.run(*vmss("delete", "--run-command-name", "rc"), "--yes")
    assert [run.script for run in runcommand_emulator_server.executor.runs] == ["echo one", "echo two"]
    vm_id = VM_ID.replace("virtualMachines/vm1", "virtualMachineScaleSets/web/virtualMachines/3")
    assert runcommand_emulator_server.backend.run_command(vm_id, "rc") is None


def test_a_secret_starting_with_a_dash_still_signs_in(runcommand_az: AzureCli, tmp_path: Path) -> None:
    """``--password=VALUE`` in the set-up: a client secret such as "-x..." must not read as an option."""
    with EmulatorServer(tls=True, directory=Directory.default("-dash-secret")) as server:
        assert server.identity is not None
        assert server.ca_path is not None
        principal = server.identity.principal
        login = CliLogin(principal.tenant_id, principal.client_id, principal.client_secret, ZERO_SUBSCRIPTION_ID)
        cli = prepare_cli(runcommand_az.executable, server.base_url, server.ca_path, login, tmp_path)
        try:
            assert cli.json("account", "show", "--query", "tenantId") == principal.tenant_id
            assert cli.proxy is not None
            assert cli.proxy.attempts == []
        finally:
            cli.close()
