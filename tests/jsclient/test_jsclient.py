"""The Azure SDK for JavaScript (@azure/arm-compute, @azure/identity) drives the served emulator unchanged.

``lifecycle.mjs`` signs in with ``ClientSecretCredential`` against the emulator's token endpoint (its CA through
``NODE_EXTRA_CA_CERTS``) and runs the managed run-command lifecycle on a VM and a scale-set VM at the SDK's default
api-version. Needs node and ``npm ci`` in this folder: without them the tests skip saying so, except under CI,
where they fail. Every run-command exchange is checked against the contract at its own api-version (the marker).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_runcommand.azcli import ProxyTrap
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.emulator.handles import ServedEmulator
from pytest_runcommand.interactions import Interaction

HERE = Path(__file__).parent
SCRIPT = HERE / "lifecycle.mjs"
RUN_AS_PASSWORD = "Js-Run-As-P4ssw0rd!"
PROTECTED_VALUE = "js-protected-hunter2"
SDK_25 = "@azure/arm-compute"
SDK_24 = "arm-compute-24"
"""@azure/arm-compute 24.x, installed under an npm alias beside 25.x (package.json)."""

pytestmark = pytest.mark.runcommand_contract


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def _missing() -> str | None:
    """Why the JavaScript SDK cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH: install Node.js 20 or later to run the Azure SDK for JavaScript tests"
    for package in (SDK_25, SDK_24, "@azure/identity"):
        if not (HERE / "node_modules" / package / "package.json").is_file():
            return f"{package} is not installed: run `npm ci` in {HERE}"
    return None


@pytest.fixture(scope="module")
def node() -> str:
    reason = _missing()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"CI must run the Azure SDK for JavaScript tests, but {reason}", pytrace=False)
        pytest.skip(reason)
    node = shutil.which("node")
    assert node is not None
    return node


@dataclass
class JsRun:
    """One run of ``lifecycle.mjs``: its JSON result, its raw output, and what the emulator answered meanwhile."""

    result: dict[str, Any]
    stdout: str
    stderr: str
    traffic: list[Interaction]
    leaks: list[str]

    def api_versions(self) -> set[str]:
        """The api-versions of the run-command requests (the operation-status polls carry none of their own)."""
        return {i.url.rpartition("api-version=")[2].partition("&")[0] for i in self.traffic if "/runCommands" in i.url}


@pytest.fixture
def run_js(node: str, runcommand_emulator_server: ServedEmulator) -> Iterator[Callable[..., JsRun]]:
    """Run ``lifecycle.mjs`` with an SDK package against the served emulator, behind a proxy trap."""
    emulator = runcommand_emulator_server
    identity = emulator.server.identity
    assert identity is not None, "the served emulator must serve the sign-in endpoints"
    principal = identity.principal
    trap = ProxyTrap()

    def run(
        package: str,
        mode: str = "lifecycle",
        *,
        script: str = "echo hello",
        source: dict[str, str] | None = None,
        client_secret: str | None = None,
        trust_ca: bool = True,
        fails: bool = False,
    ) -> JsRun:
        traffic: list[Interaction] = []
        emulator.app.observers.append(traffic.append)
        config = {
            "base": emulator.base_url,
            "tenant": principal.tenant_id,
            "clientId": principal.client_id,
            "subscription": ZERO_SUBSCRIPTION_ID,
            "package": package,
            "mode": mode,
            "resourceGroup": "rg",
            "vm": "vm1",
            "scaleSet": "web",
            "instanceId": "3",
            "pollMs": 10,
            "script": script,
            "source": source,
            "protectedValue": PROTECTED_VALUE,
            "runAsPassword": RUN_AS_PASSWORD,
        }
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(HERE)),
            **({"NODE_EXTRA_CA_CERTS": emulator.ca_path} if trust_ca else {}),
            "RUNCOMMAND_JS_CLIENT_SECRET": principal.client_secret if client_secret is None else client_secret,
            **trap.environment(),  # @azure/core-rest-pipeline honours the proxy variables: nothing leaves loopback
        }
        done = subprocess.run(
            [node, str(SCRIPT), json.dumps(config)],
            cwd=HERE, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        emulator.app.observers.remove(traffic.append)
        assert done.stdout.strip(), f"lifecycle.mjs printed nothing (exit {done.returncode}): {done.stderr}"
        result = json.loads(done.stdout)
        if fails:
            assert "error" in result, result
            assert done.returncode == 1, done.stderr
        else:
            assert "error" not in result, f"{package}: {result['error']}\n{done.stderr}"
            assert done.returncode == 0, done.stderr
        return JsRun(result, done.stdout, done.stderr, traffic, list(trap.attempts))

    try:
        yield run
    finally:
        trap.close()


@pytest.mark.parametrize(
    ("package", "major", "default_api_version"),
    [(SDK_25, "25.", "2026-04-01"), (SDK_24, "24.", "2026-03-01")],
)
def test_run_command_lifecycle_at_the_sdk_default_api_version(
    run_js: Callable[..., JsRun],
    runcommand_emulator_server: ServedEmulator,
    package: str,
    major: str,
    default_api_version: str,
) -> None:
    run = run_js(package)
    result = run.result
    assert result["sdkVersion"].startswith(major)
    provider = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute"
    scale_set_vm = "virtualMachineScaleSets/web/virtualMachines/3"
    for target, parent, kind in (
        ("vm", "virtualMachines/vm1", "virtualMachines/runCommands"),
        ("scaleSetVm", scale_set_vm, "virtualMachineScaleSets/virtualMachines/runCommands"),
    ):
        outcome = result[target]
        created, updated, shown = outcome["created"], outcome["updated"], outcome["shown"]
        expected = (f"{provider}/{parent}/runCommands/js-rc", f"Microsoft.Compute/{kind}", "westus")
        assert (created["id"], created["type"], created["location"]) == expected
        assert created["provisioningState"] == "Succeeded"
        assert created["source"] == {"script": "echo hello"}
        assert created["parameters"] == [{"name": "greeting", "value": "hello"}]
        assert (created["runAsUser"], created["timeoutInSeconds"]) == ("azureuser", 120)
        # PATCH merges: what the update does not send keeps its value.
        assert updated["source"] == {"script": "echo hello again"}
        assert (updated["timeoutInSeconds"], updated["runAsUser"]) == (60, "azureuser")
        assert updated["parameters"] == [{"name": "greeting", "value": "hello"}]
        assert shown["instanceView"]["executionState"] == "Succeeded"
        assert (shown["instanceView"]["exitCode"], shown["instanceView"]["output"]) == (0, "hello again\n")
        assert outcome["listed"] == ["js-rc"]
        assert outcome["deleted"] is True
        assert outcome["afterDelete"] == {"statusCode": 404, "code": "ResourceNotFound"}
        for shape in (created, updated, shown):
            assert shape.get("runAsPassword") is None
            assert shape.get("protectedParameters") is None

    # The SDK spoke its own default api-version, and nothing else; the emulator never failed inside.
    assert run.api_versions() == {default_api_version}
    assert {i.method for i in run.traffic} >= {"PUT", "PATCH", "GET", "DELETE"}
    assert all(i.status is not None and i.status < 500 for i in run.traffic), [i.describe() for i in run.traffic]
    assert not runcommand_emulator_server.app.internal_errors
    assert run.leaks == []

    # The "VM" ran both scripts with what was sent, secrets included; no answer and no SDK output shows them.
    runs = runcommand_emulator_server.executor.runs
    assert [r.script for r in runs] == ["echo hello", "echo hello again"] * 2
    assert runs[0].protected_parameters == (("token", PROTECTED_VALUE),)
    assert runs[0].run_as_user == "azureuser"
    assert any(RUN_AS_PASSWORD.encode() in (i.request_body or b"") for i in run.traffic)
    for secret in (RUN_AS_PASSWORD, PROTECTED_VALUE):
        assert secret not in run.stdout
        assert secret not in run.stderr
        assert not any(secret.encode() in (i.response_body or b"") for i in run.traffic)


def _operation_polls(run: JsRun) -> list[Interaction]:
    return [i for i in run.traffic if i.method == "GET" and "/operations/" in i.url]


def test_the_sdk_polls_as_often_as_the_emulator_asks(
    run_js: Callable[..., JsRun], runcommand_emulator_server: ServedEmulator
) -> None:
    """Issue 15: this SDK takes its polling interval only from the operation-status answers' ``Retry-After``.

    It polls once at once, then waits what the last answer's ``Retry-After`` says (2 s when absent, or 0). With
    ``lro_polls=2`` and ``retry_after=1`` a create must so take about 2 s, not 4 s: every ``InProgress`` answer
    must carry ``Retry-After: 1``. The measured time is printed (``-s``), not asserted.
    """
    retry_after = 1
    settings = runcommand_emulator_server.backend.settings
    settings.lro_polls, settings.retry_after = 2, retry_after
    run = run_js(SDK_25, mode="create")
    print(f"@azure/arm-compute {run.result['sdkVersion']}: create with lro_polls=2, retry_after={retry_after}: "
          f"{run.result['create']['ms']} ms")  # fmt: skip
    assert run.result["create"]["created"]["provisioningState"] == "Succeeded"
    (created,) = [i for i in run.traffic if i.method == "PUT"]
    assert created.response_header("Retry-After") == str(retry_after)
    polls = _operation_polls(run)
    statuses = [json.loads(i.response_body or b"{}").get("status") for i in polls]
    assert statuses == ["InProgress", "InProgress", "Succeeded"]
    assert [i.response_header("Retry-After") for i in polls[:2]] == [str(retry_after)] * 2


def test_the_sdk_sees_system_data_at_its_default_version(
    run_js: Callable[..., JsRun], runcommand_emulator_server: ServedEmulator
) -> None:
    """From 2025-11-01 every run command in an answer carries read-only ``systemData``: who signed in, and when."""
    run = run_js(SDK_25, mode="create")
    assert run.api_versions() == {"2026-04-01"}
    system_data = run.result["create"]["created"].get("systemData")
    assert isinstance(system_data, dict), run.result["create"]["created"]
    identity = runcommand_emulator_server.server.identity
    assert identity is not None
    principal = identity.principal.client_id
    assert (system_data["createdBy"], system_data["createdByType"]) == (principal, "Application")
    assert (system_data["lastModifiedBy"], system_data["lastModifiedByType"]) == (principal, "Application")
    assert system_data["createdAt"] <= system_data["lastModifiedAt"]  # ISO 8601 in UTC: text order is time order


def test_a_wrong_client_secret_gets_entra_ids_error(run_js: Callable[..., JsRun]) -> None:
    """The SDK's credential signs in at the emulator's token endpoint, which refuses a wrong secret as Entra ID does."""
    wrong = "not-the-Secret-42"
    run = run_js(SDK_25, mode="create", client_secret=wrong, fails=True)
    error = run.result["error"]
    assert error["name"] == "AuthenticationRequiredError", error  # what the SDK raises for a refused sign-in
    assert "AADSTS7000215" in error["message"]
    assert [i.describe() for i in run.traffic if "/runCommands" in i.url] == []  # none went out without a token
    assert wrong not in run.stdout
    assert wrong not in run.stderr


def test_without_the_emulators_ca_the_sdk_refuses_to_connect(run_js: Callable[..., JsRun]) -> None:
    """The emulator serves real TLS from its own CA: a client that does not trust it never gets through."""
    run = run_js(SDK_25, mode="create", trust_ca=False, fails=True)
    # MSAL cannot even read the tenant's discovery document: the TLS handshake fails before any HTTP request.
    assert run.result["error"]["name"] == "CredentialUnavailableError", run.result["error"]
    assert "endpoints_resolution_error" in run.result["error"]["message"]
    assert run.traffic == []


def test_a_failing_script_shows_in_the_instance_view(
    run_js: Callable[..., JsRun], runcommand_emulator_server: ServedEmulator
) -> None:
    """What the "VM" reports (exit code, error) reaches the SDK's instance view; the deployment itself succeeded."""
    from pytest_runcommand.emulator import Outcome

    runcommand_emulator_server.executor.register(Outcome.failure(3, error="disk full"), script="./deploy.sh")
    run = run_js(SDK_25, mode="create", script="./deploy.sh")
    created, shown = run.result["create"]["created"], run.result["create"]["shown"]
    assert created["provisioningState"] == "Succeeded"  # treatFailureAsDeploymentFailure not set
    view = shown["instanceView"]
    assert (view["executionState"], view["exitCode"], view["error"]) == ("Failed", 3, "disk full")


def test_the_sdk_pages_through_a_long_list(
    run_js: Callable[..., JsRun], runcommand_emulator_server: ServedEmulator
) -> None:
    """The SDK's pager follows ``nextLink`` to the end, on both kinds of VM, and sees every run command once."""
    emulator = runcommand_emulator_server
    emulator.backend.settings.page_size = 2
    provider = f"/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers/Microsoft.Compute"
    parents = {"vm": "virtualMachines/vm1", "vmss": "virtualMachineScaleSets/web/virtualMachines/3"}
    names = [f"rc-{index}" for index in range(5)]
    with emulator.client() as client:
        for parent in parents.values():
            for name in names:
                url = f"{provider}/{parent}/runCommands/{name}?api-version=2026-04-01"
                answer = client.put(url, json={"location": "westus", "properties": {"source": {"script": "echo"}}})
                assert answer.status_code == 201, answer.text
    run = run_js(SDK_25, mode="list")
    assert {target: sorted(found) for target, found in run.result["list"].items()} == {"vm": names, "vmss": names}
    lists = [i for i in run.traffic if i.method == "GET" and i.url.partition("?")[0].endswith("/runCommands")]
    assert len(lists) == 2 * 3  # pages of 2, 2 and 1 on each VM


@pytest.mark.runcommand_contract(ignore=["MULTIPLE_SCRIPT_SOURCES"])  # the request breaks the rule on purpose
def test_a_bad_request_gets_an_arm_error_code_with_the_rule_in_details(run_js: Callable[..., JsRun]) -> None:
    """The SDK sends what it is given; the answer is what ARM would send, and the test author still sees the rule."""
    run = run_js(SDK_25, mode="create", source={"script": "echo a", "commandId": "RunShellScript"}, fails=True)
    error = run.result["error"]
    assert error["statusCode"] == 400, error
    assert error["code"] in {"InvalidRequestContent", "BadRequest", "InvalidParameter"}, error
    # this SDK's RestError keeps no body for a failed LRO start: the rule is read from the answer it got
    (answer,) = [i for i in run.traffic if i.method == "PUT"]
    assert answer.status == 400
    details = answer.response_json["error"].get("details") or []
    assert {(item.get("code"), item.get("target")) for item in details} >= {
        ("MULTIPLE_SCRIPT_SOURCES", "/properties/source")
    }, error
