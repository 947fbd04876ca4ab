"""The secret policy for text a script prints: a value seen in a secret place is scrubbed wherever it appears later.

Script output comes back where the contract marks ``x-runcommand-script-output`` (the action's result entries, a run
command's instance-view output and error); the places below are derived from those marks, never typed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_runcommand.cassettes import known_values_rule
from pytest_runcommand.cassettes.rules import MIN_LEARNED_LENGTH
from pytest_runcommand.cassettes.sanitize import REDACTED, default_sanitizer
from pytest_runcommand.cassettes.scan import scan_interaction
from pytest_runcommand.contract.facts import script_output_properties, secret_list_properties, secret_properties
from pytest_runcommand.interactions import Interaction

VM = "https://management.azure.com/subscriptions/6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
OUTPUT_PLACES = sorted(script_output_properties())


def _secret_request(name: str, secret: str) -> dict[str, Any]:
    """A managed run command body handing ``secret`` to the script through the secret property ``name``."""
    value: Any = [{"name": "TOKEN", "value": secret}] if name in secret_list_properties() else secret
    return {"location": "westus", "properties": {"source": {"script": "echo $TOKEN"}, name: value}}


def _printed(place: tuple[str, str], text: str) -> dict[str, Any]:
    """A response body with ``text`` where the contract's script-output mark ``place`` says it comes back."""
    definition, prop = place
    if definition == "RunCommandResult":
        return {"value": [{"code": "ProvisioningState/succeeded", "level": "Info", "message": text}]}
    return {"properties": {"instanceView": {prop: text, "executionState": "Succeeded"}}}


def test_the_output_places_come_from_the_contract() -> None:
    assert ("RunCommandResult", "value") in OUTPUT_PLACES
    assert {prop for _, prop in OUTPUT_PLACES} >= {"output", "error"}


_SECRET = st.text("abcdefghijkmnpqrstuvwxyz23456789", min_size=MIN_LEARNED_LENGTH, max_size=24).map(lambda s: f"Z{s}")
_AROUND = st.text(" \n\t.:;[]()-_=/#!%", max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(secret_properties())),
    secret=_SECRET,
    place=st.sampled_from(OUTPUT_PLACES),
    before=_AROUND,
    after=_AROUND,
    case=st.sampled_from([str, str.upper, str.lower]),
    times=st.integers(min_value=1, max_value=3),
)
def test_a_secret_a_script_prints_is_scrubbed_wherever_it_stands(
    name: str, secret: str, place: tuple[str, str], before: str, after: str, case: Any, times: int
) -> None:
    sanitizer = default_sanitizer()
    sanitizer.json(_secret_request(name, secret))  # the PUT that handed the secret to the script
    printed = before + (case(secret) + after) * times
    clean = json.dumps(sanitizer.json(_printed(place, printed)))
    assert secret.lower() not in clean.lower()
    assert json.dumps(before)[1:-1] in clean  # the text around the secret stays readable
    assert clean.count(REDACTED) == times


def test_a_value_seen_only_later_is_scrubbed_from_earlier_text_on_save() -> None:
    sanitizer = default_sanitizer()
    output = _printed(OUTPUT_PLACES[0], "token=Zearly-secret-value")
    assert "Zearly-secret-value" in json.dumps(sanitizer.json(output))  # not known yet
    sanitizer.json(_secret_request(sorted(secret_properties())[0], "Zearly-secret-value"))
    assert "Zearly-secret-value" not in json.dumps(sanitizer.json(output))  # the persister's second pass
    assert "Zearly-secret-value" in json.dumps(sanitizer.fresh().json(output))  # one memory per cassette


def test_the_actions_script_and_parameters_are_kept_but_a_learned_secret_is_not() -> None:
    sanitizer = default_sanitizer()
    sanitizer.header("Authorization", "Bearer Zbearer-token-0001")
    body = {
        "commandId": "RunShellScript",
        "script": ["echo hello", "curl -H 'Authorization: Bearer Zbearer-token-0001' https://x"],
        "parameters": [{"name": "REGION", "value": "westus"}],
    }
    clean = sanitizer.json(body)
    assert clean["script"] == ["echo hello", f"curl -H 'Authorization: Bearer {REDACTED}' https://x"]
    assert clean["parameters"] == [{"name": "REGION", "value": "westus"}]
    assert sanitizer.learned == 1


def test_a_sas_signature_printed_decoded_is_scrubbed() -> None:
    sanitizer = default_sanitizer()
    sanitizer.url(f"{VM}/runCommands/rc?api-version=2024-07-01")
    sanitizer.json({"properties": {"outputBlobUri": "https://a.blob.core.windows.net/o/x?sv=1&sig=Zsas%2Bsig%3D"}})
    text = sanitizer.text("uploading with sig Zsas+sig= and Zsas%2Bsig%3D")
    assert "Zsas" not in text


def test_an_oauth_token_from_a_token_response_is_scrubbed_in_output() -> None:
    sanitizer = default_sanitizer()
    sanitizer.json({"access_token": "Zaccess-token-0001", "token_type": "Bearer"})
    assert sanitizer.text("printed Zaccess-token-0001") == f"printed {REDACTED}"


def test_short_values_are_redacted_in_place_but_not_searched_for() -> None:
    sanitizer = default_sanitizer()
    short = "Zab"
    assert len(short) < MIN_LEARNED_LENGTH
    document = sanitizer.json(_secret_request(sorted(secret_properties())[0], short))
    assert short not in json.dumps(document)
    assert sanitizer.text("Zabc stays") == "Zabc stays"


def test_known_values_are_scrubbed_everywhere_request_included() -> None:
    sanitizer = default_sanitizer().with_rules(known_values_rule("deploy-token", "Zdeploy-0001"))
    body = {
        "commandId": "RunShellScript",
        "script": ["echo $T"],
        "parameters": [{"name": "T", "value": "Zdeploy-0001"}],
    }
    assert sanitizer.json(body)["parameters"] == [{"name": "T", "value": REDACTED}]
    assert sanitizer.text(f"{VM}?t=ZDEPLOY-0001") == f"{VM}?t={REDACTED}".replace(
        "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f", "00000000-0000-0000-0000-000000000000"
    )
    with pytest.raises(ValueError, match="non-empty"):
        known_values_rule("empty", "")


@pytest.mark.parametrize(
    "printed",
    [
        "token: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzY3JpcHQifQ.c2ln",
        "GET https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig=Zprinted-sig",
        'config: {"runAsPassword": "Zprinted-password"}',
    ],
)
def test_the_scanner_finds_a_secret_printed_into_script_output(printed: str) -> None:
    body = json.dumps(_printed(("RunCommandResult", "value"), f"Enable succeeded: \n[stdout]\n{printed}\n"))
    interaction = Interaction("GET", f"{VM}/runCommand?api-version=2024-07-01", status=200, response_body=body)
    findings = [f for f in scan_interaction(interaction, "here") if "response.body" in f.where]
    assert findings
    assert all("/value/0/message" in f.where for f in findings)
    assert not any("Zprinted" in str(f) or "c2ln" in str(f) for f in findings)


def test_a_recording_of_the_action_keeps_a_printed_secret_out(tmp_path: Path, runcommand_emulator_server: Any) -> None:
    """The real Azure SDK over TLS: a managed run command gets a protected value, the action prints it back."""
    pytest.importorskip("azure.mgmt.compute")
    import vcr as vcrpy
    from azure.mgmt.compute import ComputeManagementClient

    from pytest_runcommand.cassettes.scan import scan_file
    from pytest_runcommand.cassettes.vcr import configure_vcr
    from pytest_runcommand.emulator import Outcome

    secret = "Zsdk-printed-secret-0001"
    emulator = runcommand_emulator_server
    emulator.executor.register(Outcome.success(f"deploying with {secret}\ndone\n"), script="cat /etc/deploy.token")
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="once")
    configure_vcr(recorder)

    def run() -> str:
        client = ComputeManagementClient(
            emulator.credential, "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f", base_url=emulator.base_url,
            connection_verify=emulator.ca_path,
        )  # fmt: skip
        client.virtual_machine_run_commands.begin_create_or_update(
            "rg", "vm1", "store-token",
            {"location": "westus", "properties": {"source": {"script": "echo stored"},
             "protectedParameters": [{"name": "TOKEN", "value": secret}]}},
            polling_interval=0,
        ).result()  # fmt: skip
        result = client.virtual_machines.begin_run_command(
            "rg", "vm1", {"commandId": "RunShellScript", "script": ["cat /etc/deploy.token"]}, polling_interval=0
        ).result()
        return str(result.value[0].message)

    with recorder.use_cassette("invoke.yaml"):
        live = run()
    assert secret in live  # the test itself sees what the VM printed
    text = (tmp_path / "invoke.yaml").read_text(encoding="utf-8")
    assert secret not in text
    assert "deploying with REDACTED" in text
    assert scan_file(tmp_path / "invoke.yaml") == []

    replayer = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(replayer)
    with replayer.use_cassette("invoke.yaml") as cassette:
        replayed = run()
    assert cassette.all_played
    assert replayed == live.replace(secret, REDACTED)


@settings(max_examples=60, deadline=None)
@given(
    secret=_SECRET,
    coding=st.sampled_from(["gzip", "deflate", "identity"]),
    charset=st.sampled_from(["utf-8", "utf-16", "latin-1"]),
    stream=st.sampled_from(["StdOut", "StdErr"]),
)
def test_a_printed_secret_is_scrubbed_from_an_encoded_windows_result(
    secret: str, coding: str, charset: str, stream: str
) -> None:
    """The action's Windows shape (StdOut and StdErr entries), the body compressed and in any charset."""
    import gzip
    import zlib

    sanitizer = default_sanitizer()
    sanitizer.json(_secret_request(sorted(secret_properties())[0], secret))
    body = {"value": [{"code": f"ComponentStatus/{stream}/succeeded", "level": "Info", "message": f"pw={secret}\r\n"}]}
    raw = json.dumps(body).encode(charset)
    raw = {"gzip": gzip.compress, "deflate": zlib.compress, "identity": lambda b: b}[coding](raw)
    headers = {"Content-Type": [f"application/json; charset={charset}"], "Content-Encoding": [coding]}
    clean_headers, clean = sanitizer.message(headers, raw)
    text = clean.decode("utf-8") if isinstance(clean, bytes) else str(clean)
    assert secret.lower() not in text.lower()
    assert json.loads(text)["value"][0]["message"] == f"pw={REDACTED}\r\n"
    assert "content-encoding" not in {name.lower() for name in clean_headers}


_B64URL = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=10, max_size=30)
_PRINTED_TOKEN = st.one_of(
    st.tuples(_B64URL, _B64URL).map(lambda p: ("jwt", f"eyJ{p[0]}.eyJ{p[1]}.{p[0]}")),
    _B64URL.map(lambda s: ("sas-signature", f"https://a.blob.core.windows.net/c/b?sv=2022-11-02&sig={s}")),
    _B64URL.map(lambda s: ("bearer-token", f"Authorization: Bearer {s}xyzXYZ0123456789")),
)


@settings(max_examples=100, deadline=None)
@given(
    token=_PRINTED_TOKEN,
    before=_AROUND,
    after=_AROUND,
    entry=st.integers(min_value=0, max_value=2),
    place=st.sampled_from(OUTPUT_PLACES),
)
def test_the_scanner_finds_a_token_wherever_a_script_printed_it(
    token: tuple[str, str], before: str, after: str, entry: int, place: tuple[str, str]
) -> None:
    detector, printed = token
    text = f"{before} {printed} {after}"
    if place[0] == "RunCommandResult":
        body: dict[str, Any] = {"value": [{"code": "ComponentStatus/StdOut/succeeded", "message": "-"}] * 3}
        body["value"] = [dict(item) for item in body["value"]]
        body["value"][entry]["message"] = text
        pointer = f"/value/{entry}/message"
    else:
        body = _printed(place, text)
        pointer = f"/properties/instanceView/{place[1]}"
    interaction = Interaction("GET", "https://h/x?api-version=2024-07-01", status=200, response_body=json.dumps(body))
    findings = [f for f in scan_interaction(interaction, "c") if f.detector == detector]
    assert findings, (detector, text)
    assert all(f.where == f"c response.body {pointer}" for f in findings)
