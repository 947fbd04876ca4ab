"""A secret property named in a URL query is redacted and found; a body the recorder refuses is a scan finding."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

from pytest_runcommand.cassettes.decode import Undecodable
from pytest_runcommand.cassettes.sanitize import default_sanitizer
from pytest_runcommand.cassettes.scan import scan_interaction
from pytest_runcommand.cli import main
from pytest_runcommand.interactions import Interaction

SENTINEL = "Sentinel-Qu3ry-Pa55"
RC = (
    "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers"
    "/Microsoft.Compute/virtualMachines/vm1/runCommands/rc1?api-version=2024-07-01"
)


@pytest.mark.parametrize(
    "query",
    [
        f"&runAsPassword={SENTINEL}",
        f"&RUNASPASSWORD={SENTINEL}",
        f"&properties[runAsPassword]={SENTINEL}",
        f"&properties%5BprotectedParameters%5D%5B0%5D%5Bvalue%5D={SENTINEL}",
        f"&protectedParameters={SENTINEL}",
        f"#runAsPassword={SENTINEL}",
        "&next=" + quote(f"https://h/p?a=1&runAsPassword={SENTINEL}&b=2", safe=""),  # a URL inside a URL
    ],
)
def test_a_secret_property_in_a_url_query_is_redacted_and_found(query: str) -> None:
    url = RC + query
    found = scan_interaction(Interaction("GET", url, {}, None, 200, {}, None), "here")
    assert {f.detector for f in found} == {"secret-field"}
    assert all(SENTINEL not in str(f) for f in found)
    sanitizer = default_sanitizer().fresh()
    clean = sanitizer.url(url)
    assert SENTINEL not in clean
    assert "REDACTED" in clean
    assert sanitizer.text(f"the script printed {SENTINEL}") == "the script printed REDACTED"  # learned
    assert not scan_interaction(Interaction("GET", clean, {}, None, 200, {}, None), "here")


def test_a_protected_parameters_name_and_other_fields_are_kept() -> None:
    url = RC + "&protectedParameters[0][name]=token&runAsUser=ops&password-hint=none"
    assert default_sanitizer().fresh().url(url) == url
    assert not scan_interaction(Interaction("GET", url, {}, None, 200, {}, None), "here")


def test_a_location_header_with_a_secret_query_field_is_found() -> None:
    headers = {"Location": RC + f"&runAsPassword={SENTINEL}"}
    found = scan_interaction(Interaction("GET", RC, {}, None, 200, headers, None), "here")
    assert [f.where for f in found if f.detector == "secret-field"] == [
        "here response.headers.Location query field runAsPassword"
    ]


def _cassette(path: Path, body: str, content_type: str, uri: str = RC) -> None:
    interaction = {
        "request": {"method": "PUT", "uri": uri, "body": body, "headers": {"Content-Type": [content_type]}},
        "response": {
            "status": {"code": 200, "message": "OK"},
            "headers": {"Content-Type": ["application/json"]},
            "body": {"string": "{}"},
        },
    }
    path.write_text(yaml.safe_dump({"version": 1, "interactions": [interaction]}))


@pytest.mark.parametrize(
    ("body", "content_type", "uri"),
    [
        (f"runAsPassword: {SENTINEL}", "text/plain", RC),
        (f"<p><runAsPassword>{SENTINEL}</runAsPassword></p>", "application/xml", RC),
        (f'{{"runAsPassword": "{SENTINEL}"', "application/json", RC),  # JSON that does not parse
        ("{}", "application/json", RC + f"&runAsPassword={SENTINEL}"),
    ],
)
def test_cassettes_check_flags_what_the_recorder_refuses_or_redacts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, content_type: str, uri: str
) -> None:
    cassette = tmp_path / "c.yaml"
    _cassette(cassette, body, content_type, uri)
    assert main(["cassettes", "check", "--no-contract", str(cassette)]) == 1
    out = capsys.readouterr()
    assert "0 secret hits" not in out.out
    assert SENTINEL not in out.out + out.err
    if uri == RC:  # the body itself: refused when recording, as the scan flags it
        with pytest.raises(Undecodable, match="names runAsPassword"):
            default_sanitizer().fresh().message({"Content-Type": content_type}, body.encode())
