"""Secret scan: each detector, masking, file/interaction locations, no false alarms on sanitized text."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pytest_runcommand.cassettes.scan import mask, scan_file, scan_interaction, scan_text
from pytest_runcommand.interactions import Interaction

DATA = Path(__file__).parent.parent / "data" / "real-traffic"
JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQifQ.c2lnbmF0dXJlLXZhbHVl"
SUB = "6f1c0d3e-4b5a-4c2d-9e8f-0a1b2c3d4e5f"


@pytest.mark.parametrize(
    ("text", "detector"),
    [
        (f"token {JWT}", "jwt"),
        ("Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345", "bearer-token"),
        ("https://a.blob.core.windows.net/c/b?sv=1&sig=QWxhZGRpbg%3D%3D", "sas-signature"),
        ("https%3A%2F%2Fa%2Fb%3Fsv%3D1%26sig%3DQWxh", "sas-signature"),
        ("https://a.blob.core.windows.net/c/b?sv=1&sig%3DQWxhZGRpbg", "sas-signature"),
        ("https://a.blob.core.windows.net/c/b#sig=QWxhZGRpbg", "sas-signature"),
        ("sig=QWxhZGRpbg", "sas-signature"),  # a header value holding a SAS query without its "?" (review 14)
        (f"/subscriptions/{SUB}/resourceGroups/rg", "subscription-id"),
        ('{"runAsPassword": "hunter2"}', "secret-field"),
    ],
)
def test_detectors(text: str, detector: str) -> None:
    assert detector in {f.detector for f in scan_text(text, "here")}


@pytest.mark.parametrize(
    "text",
    [
        "Bearer REDACTED",
        "https://a/b?sv=1&sig=REDACTED",
        "https://a/b?sv=1&sig%3DREDACTED",
        "https://a/b#sig=REDACTED",
        "sig=REDACTED",
        "/subscriptions/00000000-0000-0000-0000-000000000000/x",
        '{"runAsPassword": "REDACTED"}',
        'WWW-Authenticate: Bearer authorization_uri="https://login"',
    ],
)
def test_sanitized_text_is_clean(text: str) -> None:
    assert list(scan_text(text, "here")) == []


def test_findings_are_masked() -> None:
    finding = next(iter(scan_text(f"x {JWT}", "file.yaml (interaction #2)")))
    assert JWT not in str(finding)
    assert JWT[:10] not in str(finding)
    assert str(finding).startswith("file.yaml (interaction #2): jwt <hidden,")
    assert mask("hunter2") == "<hidden, 7 chars>"


def test_interaction_parts_are_located() -> None:
    interaction = Interaction(
        method="PUT",
        url="https://h/x?api-version=1",
        request_headers={"Authorization": f"Bearer {JWT}"},
        request_body='{"properties": {"protectedParameters": [{"name": "a", "value": "pp-secret"}]}}',
        status=200,
        response_body="grant_type=password&password=letmein",
    )
    places = {(f.detector, f.where) for f in scan_interaction(interaction, "c.yaml (interaction #0)")}
    assert ("secret-field", "c.yaml (interaction #0) request.body /properties/protectedParameters/0/value") in places
    assert ("bearer-token", "c.yaml (interaction #0) request.headers.Authorization") in places
    assert ("jwt", "c.yaml (interaction #0) request.headers.Authorization") in places
    assert ("secret-field", "c.yaml (interaction #0) response.body form field password") in places


def test_real_powershell_records_leak_a_subscription_id() -> None:
    path = DATA / "azure-powershell" / "Set-AzVMRunCommand.Recording.json"
    findings = scan_file(path)
    assert findings
    assert {f.detector for f in findings} == {"subscription-id"}
    assert any("(interaction #0) request.url" in f.where for f in findings)
    assert all("e37510d7" not in str(f) for f in findings)


def test_azure_cli_cassette_is_clean() -> None:
    assert scan_file(DATA / "azure-cli" / "test_run_command_v2.yaml") == []


def test_planted_token_is_found_with_its_interaction(tmp_path: Path) -> None:
    path = tmp_path / "cassette.yaml"
    shutil.copy(DATA / "azure-cli" / "test_run_command_v2.yaml", path)
    text = path.read_text().replace("      - AZURECLI/2.36.0", f"      - Bearer {JWT}", 3)
    path.write_text(text)
    findings = scan_file(path)
    assert {f.detector for f in findings} == {"jwt", "bearer-token"}
    assert any("(interaction #0) request.headers.User-Agent" in f.where for f in findings)


def test_raw_text_outside_interactions_is_scanned(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(f"version: 1\ninteractions: []\nmetadata:\n  note: {JWT}\n")
    findings = scan_file(path)
    assert [f.where for f in findings] == [f"{path}:4"]


def test_a_secret_list_behind_a_byte_order_mark_is_found() -> None:
    body = '\ufeff{"properties": {"runAsPassword": ["Snt-bom-list-1"]}}'
    interaction = Interaction(method="PUT", url="https://h/x", request_body=body, status=None)
    findings = scan_interaction(interaction, "c.yaml (interaction #0)")
    assert [(f.detector, f.where) for f in findings] == [
        ("secret-field", "c.yaml (interaction #0) request.body /properties/runAsPassword/0")
    ]


@pytest.mark.parametrize("name", ["Cookie", "cookie", "Proxy-Authorization", "Ocp-Apim-Subscription-Key"])
def test_a_credential_header_by_name_is_found_unredacted(name: str) -> None:
    """A hand-edited cassette with a session cookie in clear: the headers the ``credential-headers`` rule names are
    credentials to the scan too (before, a ``Cookie`` value passed: no word of its name says credential)."""
    sentinel = "session=SENTINEL-c00k1e-77"
    found = scan_interaction(Interaction("GET", "https://h/x", {name: sentinel}, None, 200, {}, None), "here")
    assert [f.detector for f in found] == ["credential-header"]
    assert "SENTINEL" not in str(found[0])
    assert scan_interaction(Interaction("GET", "https://h/x", {name: "REDACTED"}, None, 200, {}, None), "here") == []


def test_a_set_cookie_kept_by_name_is_clean() -> None:
    """``Set-Cookie`` keeps the cookie's name by its own rule: its redacted form is no finding."""
    interaction = Interaction("GET", "https://h/x", {}, None, 200, {"Set-Cookie": "sid=REDACTED; Path=/"}, None)
    assert scan_interaction(interaction, "here") == []


def test_a_set_cookie_value_left_in_clear_is_found() -> None:
    """Review 12, finding 11: a ``Set-Cookie`` kept its cookie's name by rule, and so its value was never scanned."""
    value = "ARRAffinity=SENTINEL-abcdef1234567890; Path=/; HttpOnly"
    found = scan_interaction(Interaction("GET", "https://h/x", {}, None, 200, {"Set-Cookie": value}, None), "here")
    assert [f.detector for f in found] == ["credential-header"]
    assert "SENTINEL" not in str(found[0])


def test_a_header_value_that_is_a_sas_query_without_its_question_mark_is_sanitized() -> None:
    """Review 14, finding 14: ``X-Sig: sig=...`` was kept in the cassette, and the scan did not flag it."""
    from pytest_runcommand.cassettes.sanitize import default_sanitizer

    secret = "XSigSentinel-6Gt2Pw9L"
    sanitizer = default_sanitizer().fresh()
    assert sanitizer.header("X-Sig", f"sig={secret}") == "sig=REDACTED"
    assert sanitizer.header("X-Sas", f"sv=2022-11-02&sig={secret}&se=2030") == "sv=2022-11-02&sig=REDACTED&se=2030"
    assert sanitizer.header("X-Sas", f"sig%3D{secret}") == "sig%3DREDACTED"
