"""A secret that is also a word of the protocol (review 10): a protected parameter's value ``Succeeded``, or the VM's
name. It is redacted where it stands (the protected parameter's value) but not learned for scrubbing everywhere:
learning it turned every operation status and provisioning state into ``REDACTED`` (the Azure SDK's poller never
ended) and every id and URL into ``virtualMachines/REDACTED``. A warning names the property, never the value.
Recorded and replayed with pytest in a subprocess (pytester): the in-process emulator, the served one with the real
Azure SDK for Python, real cassettes on disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from pytest_runcommand.cassettes.learned import protocol_words
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.contract.facts import SUPPORTED_API_VERSIONS
from pytest_runcommand.contract.versioned import version_document

VM = "web-server-01"
HTTPX = textwrap.dedent(
    f"""
    import pytest


    def _put(emulator, vm, value):
        body = {{"location": "westus", "properties": {{"source": {{"script": "echo hi"}},
                "protectedParameters": [{{"name": "p", "value": value}}]}}}}
        return emulator.client.put(emulator.run_command_path("deploy", vm=vm), json=body)


    @pytest.mark.vcr
    def test_status_word(runcommand_emulator):
        put = _put(runcommand_emulator, "vm1", "Succeeded")
        assert put.status_code == 201
        for _ in range(3):
            status = runcommand_emulator.client.get(put.headers["Azure-AsyncOperation"]).json()["status"]
            assert status in ("InProgress", "Succeeded"), status
        url = runcommand_emulator.run_command_path("deploy", vm="vm1") + "&$expand=instanceView"
        got = runcommand_emulator.client.get(url).json()["properties"]
        assert got["provisioningState"] == "Succeeded"
        assert got["instanceView"]["executionState"] == "Succeeded"


    @pytest.mark.vcr
    def test_vm_name(runcommand_emulator):
        put = _put(runcommand_emulator, "{VM}", "{VM}")
        assert put.status_code == 201
        assert "/virtualMachines/{VM}/runCommands/deploy" in put.json()["id"]
        got = runcommand_emulator.client.get(runcommand_emulator.run_command_path("deploy", vm="{VM}")).json()
        assert "/virtualMachines/{VM}/runCommands/deploy" in got["id"]
    """
)
SDK = textwrap.dedent(
    """
    import pytest
    from azure.mgmt.compute import ComputeManagementClient


    @pytest.mark.vcr
    def test_sdk_status_word(runcommand_emulator_server):
        server = runcommand_emulator_server
        client = ComputeManagementClient(
            server.credential, "00000000-0000-0000-0000-000000000000", base_url=server.base_url,
            connection_verify=server.ca_path,
        )
        commands = client.virtual_machine_run_commands
        body = {"location": "westus", "properties": {"source": {"script": "echo hi"},
                "protectedParameters": [{"name": "state", "value": "Succeeded"}]}}
        done = commands.begin_create_or_update("rg", "vm1", "deploy", body, polling_interval=0).result()
        assert done.provisioning_state == "Succeeded"
        got = commands.get_by_virtual_machine("rg", "vm1", "deploy", expand="instanceView")
        assert got.instance_view.execution_state == "Succeeded"
    """
)
NOTE = "RunCommandWarning: pytest-runcommand: cassette {}.yaml: a value the rule protected-parameters removes"


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # a poller that never ends is a failure, not a hung run
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args, timeout=180)


def _cassette(pytester: pytest.Pytester, module: str, test: str) -> dict[str, object]:
    loaded = yaml.safe_load((pytester.path / "cassettes" / module / f"{test}.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _response_texts(cassette: dict[str, object]) -> str:
    interactions = cassette["interactions"]
    assert isinstance(interactions, list)
    return "\n".join(str(i["response"]["body"]["string"]) for i in interactions)


def test_a_status_word_or_the_vm_name_as_a_secret_keeps_the_protocol(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_words=HTTPX)
    recording = _run(pytester, "--record-mode=once")
    recording.assert_outcomes(passed=2)
    for test in ("test_status_word", "test_vm_name"):
        assert NOTE.format(test) in recording.stdout.str()
    status = _cassette(pytester, "test_words", "test_status_word")
    answers = _response_texts(status)
    assert '"status":"Succeeded"' in answers
    assert '"provisioningState":"Succeeded"' in answers
    assert '"executionState":"Succeeded"' in answers
    assert ":REDACTED" not in answers.replace(" ", "")
    named = _cassette(pytester, "test_words", "test_vm_name")
    interactions = named["interactions"]
    assert isinstance(interactions, list)
    for interaction in interactions:  # the secret in its own place is redacted; the URLs and ids keep the VM
        assert f"/virtualMachines/{VM}/" in interaction["request"]["uri"]
        if interaction["request"]["method"] == "PUT":
            assert '"value":"REDACTED"' in interaction["request"]["body"].replace(" ", "")
    assert "virtualMachines/REDACTED" not in _response_texts(named)
    replay = _run(pytester, "--block-network")
    replay.assert_outcomes(passed=2)
    assert NOTE.format("test_status_word") in replay.stdout.str()
    quiet = _run(pytester, "--block-network", "-W", "ignore::pytest_runcommand.errors.RunCommandWarning")
    quiet.assert_outcomes(passed=2)  # filtered by the package's own warning class
    assert "pytest-runcommand: cassette" not in quiet.stdout.str()


def test_the_azure_sdk_poller_ends_when_the_secret_is_a_status_word(pytester: pytest.Pytester) -> None:
    pytest.importorskip("azure.mgmt.compute")
    pytester.makepyfile(test_sdk=SDK)
    recording = _run(pytester, "--record-mode=once", "-o", "faulthandler_timeout=60")
    recording.assert_outcomes(passed=1)
    assert NOTE.format("test_sdk_status_word") in recording.stdout.str()
    assert '"status":"Succeeded"' in _response_texts(_cassette(pytester, "test_sdk", "test_sdk_status_word"))
    _run(pytester, "--block-network").assert_outcomes(passed=1)


# -- the sanitizer on its own ---------------------------------------------------------------------------------------

RC_URL = f"https://management.azure.com/subscriptions/0/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/{VM}/runCommands/deploy"


def _protected(value: str) -> dict[str, object]:
    return {"properties": {"protectedParameters": [{"name": "p", "value": value}]}}


def test_the_protocol_words_come_from_the_contract() -> None:
    words = protocol_words()
    for api_version in SUPPORTED_API_VERSIONS:  # every enumerated status, read from the document itself
        status = version_document(api_version)["definitions"]["OperationStatus"]["properties"]["status"]
        assert {value.lower() for value in status["enum"]} <= words
    assert {"virtualmachines", "runcommands", "microsoft.compute"} <= words
    assert "sentinel-secret-9" not in words


def test_a_protocol_word_is_redacted_in_place_but_not_learned() -> None:
    sanitizer = default_sanitizer().fresh()
    assert sanitizer.json(_protected("Succeeded")) == _protected("REDACTED")
    assert sanitizer.learned == 0
    assert sanitizer.text('{"status": "Succeeded"}') == '{"status": "Succeeded"}'
    notes = sanitizer.take_notes()
    assert len(notes) == 1
    assert "the rule protected-parameters" in notes[0]
    assert "Succeeded" not in notes[0]
    assert sanitizer.take_notes() == []  # each note once
    # a value inside a word is not learned either (it would cut the word: "REDACTEDed")
    assert sanitizer.json(_protected("Succeed")) == _protected("REDACTED")
    assert sanitizer.learned == 0


def test_a_path_segment_of_a_request_is_not_learned_and_a_learned_one_is_forgotten() -> None:
    sanitizer = default_sanitizer().fresh()
    sanitizer.url(RC_URL)
    sanitizer.json(_protected(VM))
    assert sanitizer.learned == 0
    assert sanitizer.text(f"/virtualMachines/{VM}") == f"/virtualMachines/{VM}"
    # learned first, then seen as a resource's name: forgotten (the cassette is sanitized again when it is saved)
    later = default_sanitizer().fresh()
    later.json(_protected("web-server-02"))
    assert later.learned == 1
    assert later.text("ping web-server-02") == "ping REDACTED"
    later.url(RC_URL.replace(VM, "web-server-02"))
    assert later.learned == 0
    assert later.text("ping web-server-02") == "ping web-server-02"
    assert ["rule protected-parameters" in note for note in later.take_notes()] == [True]


def test_a_secret_of_its_own_is_still_scrubbed_everywhere(tmp_path: Path) -> None:
    sanitizer = default_sanitizer().fresh()
    sanitizer.url(RC_URL)
    sanitizer.json(_protected("Sentinel-Secret-9"))
    assert sanitizer.learned == 1
    assert sanitizer.text("out: Sentinel-Secret-9") == "out: REDACTED"
    assert sanitizer.take_notes() == []


def test_the_note_turned_into_an_error_is_shown_whole(pytester: pytest.Pytester) -> None:
    """Review 12, finding 4: under ``-W error::...RunCommandWarning`` the note became an error whose only line was
    "[a line naming protectedParameters not shown ...]": it names the rule, which a failure report shows."""
    pytester.makepyfile(
        test_pw="""
import pytest

@pytest.mark.vcr
def test_protocol_word_secret(runcommand_emulator):
    url = runcommand_emulator.run_command_path("rc1")
    body = {"location": "westus", "properties": {"source": {"script": "ls"},
            "protectedParameters": [{"name": "x", "value": "Succeeded"}]}}
    assert runcommand_emulator.client.put(url, json=body).status_code in (200, 201)
"""
    )
    result = _run(pytester, "--record-mode=once", "-W", "error::pytest_runcommand.errors.RunCommandWarning")
    result.assert_outcomes(passed=1, errors=1)
    output = result.stdout.str()
    assert "a value the rule protected-parameters removes is also a word of the protocol" in output
    assert "not shown: it cannot be sanitized" not in output
