"""A URL's user information and a form body naming a secret property: sanitized, learned, found by the scan, and
never printed by a replay that does not match."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from pytest_runcommand.cassettes.decode import Undecodable
from pytest_runcommand.cassettes.rules import REDACTED
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import scan_interaction, scan_text
from pytest_runcommand.interactions import Interaction

SENTINEL = "SentinelPwd-A1b2C3"
DOCUMENT = {"location": "westus", "properties": {"source": {"script": "ls"}, "runAsPassword": SENTINEL}}

MODULE = textwrap.dedent(
    f"""
    import json
    from urllib.parse import quote

    import pytest

    PWD = "{SENTINEL[:6]}" + "{SENTINEL[6:]}"  # the file never holds the sentinel whole
    NAME = "rc1"


    @pytest.mark.vcr
    def test_userinfo(runcommand_emulator):
        url = "http://ops:" + PWD + "@testserver" + runcommand_emulator.run_command_path(NAME)
        runcommand_emulator.client.get(url)


    @pytest.mark.vcr
    def test_form_body(runcommand_emulator):
        path = runcommand_emulator.run_command_path("rc1")
        runcommand_emulator.client.put(path, data={{"runAsPassword": PWD, "properties[protectedParameters][0][value]": PWD}})


    @pytest.mark.vcr
    def test_form_documents(runcommand_emulator):
        path = runcommand_emulator.run_command_path("rc1")
        document = json.dumps({{"location": "westus", "properties": {{"runAsPassword": PWD}}}})
        runcommand_emulator.client.put(path, data={{"payload": document}})
        form = {{"Content-Type": "application/x-www-form-urlencoded"}}
        runcommand_emulator.client.put(path, content=quote(document).encode(), headers=form)
    """
)


def _pytest(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-l", "--tb=long", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )


def _nowhere(directory: Path, *outputs: str) -> None:
    for output in outputs:
        assert SENTINEL not in output
    for path in directory.rglob("*"):
        if path.is_file():
            assert SENTINEL.encode() not in path.read_bytes(), path


def test_credentials_in_a_url_or_a_form_never_reach_a_cassette_or_a_mismatch_message(tmp_path: Path) -> None:
    (tmp_path / "test_leak.py").write_text(MODULE)
    recorded = _pytest(tmp_path, "test_leak.py", "--record-mode=once")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    cassettes = tmp_path / "cassettes" / "test_leak"
    assert sorted(p.name for p in cassettes.iterdir()) == [
        "test_form_body.yaml",
        "test_form_documents.yaml",
        "test_userinfo.yaml",
    ]
    assert f"http://{REDACTED}@testserver" in (cassettes / "test_userinfo.yaml").read_text()
    replayed = _pytest(tmp_path, "test_leak.py", "--block-network")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr

    (tmp_path / "test_other.py").write_text(MODULE.replace('NAME = "rc1"', 'NAME = "rc2"'))
    (tmp_path / "cassettes" / "test_other").mkdir()
    (tmp_path / "cassettes" / "test_other" / "test_userinfo.yaml").write_bytes(
        (cassettes / "test_userinfo.yaml").read_bytes()
    )
    mismatch = _pytest(tmp_path, "test_other.py", "-k", "userinfo", "--block-network", "--junitxml=out.xml")
    assert mismatch.returncode == 1
    assert "CassetteMismatchError" in mismatch.stdout + mismatch.stderr
    _nowhere(tmp_path, mismatch.stdout, mismatch.stderr, recorded.stdout, replayed.stdout)


@pytest.mark.parametrize(
    "url",
    [
        f"https://ops:{SENTINEL}@host.example/a",
        f"https://{SENTINEL}@host.example/a",
        f"callback=https%3A%2F%2Fops%3A{SENTINEL}%40host.example%2Fa",
    ],
)
def test_user_information_is_redacted_learned_and_found(url: str) -> None:
    sanitizer = default_sanitizer().fresh()
    clean = sanitizer.url(url)
    assert SENTINEL not in clean
    assert REDACTED in clean
    assert sanitizer.url(clean) == clean  # idempotent
    assert sanitizer.text(f"the script printed {SENTINEL}") == f"the script printed {REDACTED}"
    assert {f.detector for f in scan_text(url, "here")} == {"url-credentials"}
    assert not list(scan_text(clean, "here"))


@pytest.mark.parametrize("text", ["mail me at ops@host.example", "https://host.example/users/a@b.example", "git@host"])
def test_an_at_sign_outside_a_url_authority_is_kept(text: str) -> None:
    assert default_sanitizer().url(text) == text
    assert not list(scan_text(text, "here"))


@pytest.mark.parametrize(
    ("form", "kept"),
    [
        (f"runAsPassword={SENTINEL}&runAsUser=admin", ["runAsUser=admin"]),
        (f"properties.RUNASPASSWORD={SENTINEL}", []),
        (
            f"properties%5BprotectedParameters%5D%5B0%5D%5Bname%5D=key"
            f"&properties%5BprotectedParameters%5D%5B0%5D%5Bvalue%5D={SENTINEL}",
            ["properties%5BprotectedParameters%5D%5B0%5D%5Bname%5D=key"],
        ),
        # a JSON document sent as a field's value, and a whole JSON body percent-encoded (read as one key)
        (urlencode({"payload": json.dumps(DOCUMENT), "note": "hi"}), ["note=hi", "payload="]),
        (quote(json.dumps(DOCUMENT)), []),
        (quote(json.dumps(DOCUMENT)) + "=", []),
    ],
)
def test_a_form_field_naming_a_secret_property_is_redacted_and_found(form: str, kept: list[str]) -> None:
    sanitizer = default_sanitizer().fresh()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _, body = sanitizer.message(headers, form.encode())
    assert SENTINEL.encode() not in body
    assert all(part.encode() in body for part in kept)
    assert sanitizer.text(SENTINEL) == REDACTED
    url = "https://management.azure.com/x"
    found = scan_interaction(Interaction("PUT", url, headers, form, 415, {}, None), "here")
    assert {f.detector for f in found} == {"secret-field"}
    assert not scan_interaction(Interaction("PUT", url, headers, body.decode(), 415, {}, None), "here")


@pytest.mark.parametrize("body", [f"runAsPassword: {SENTINEL}", f"properties[runAsPassword] {SENTINEL}"])
def test_a_text_body_naming_a_secret_property_is_refused(body: str) -> None:
    with pytest.raises(Undecodable, match="neither JSON nor a form names runAsPassword") as refused:
        default_sanitizer().message({"Content-Type": "text/plain"}, body.encode())
    assert SENTINEL not in str(refused.value)


def test_a_form_field_holding_free_text_that_names_a_secret_is_refused() -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with pytest.raises(Undecodable, match="neither JSON nor a form names runAsPassword") as refused:
        default_sanitizer().fresh().message(headers, f"note=runAsPassword%3A+{SENTINEL}".encode())
    assert SENTINEL not in str(refused.value)


def test_a_form_value_that_is_only_a_secret_field_name_is_kept() -> None:
    """An OAuth token request names its grant ``refresh_token``: an ordinary form, its token field redacted."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _, body = (
        default_sanitizer().fresh().message(headers, f"grant_type=refresh_token&refresh_token={SENTINEL}".encode())
    )
    assert body.startswith(b"grant_type=refresh_token&refresh_token=")
    assert SENTINEL.encode() not in body
