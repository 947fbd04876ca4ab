"""Bodies behind a byte-order mark: ``cassettes check`` reads them as their text, as ``validate`` reads BOM files.

vcrpy YAML cassettes keep a UTF-8 BOM in a string body and a UTF-16/32 one as ``!!binary``; Azure PowerShell records
keep it in ``Content`` (text or base64). Before, each of these was reported INVALID_JSON.
"""

from __future__ import annotations

import base64
import codecs
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pytest_runcommand.cassettes.decode import without_bom
from pytest_runcommand.cassettes.readers import read_cassette
from pytest_runcommand.cli import main
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID

URL = (
    f"https://management.azure.com/subscriptions/{ZERO_SUBSCRIPTION_ID}/resourceGroups/rg/providers"
    "/Microsoft.Compute/virtualMachines/vm1/runCommands/bom?api-version=2024-07-01"
)
REQUEST = {"location": "westus", "properties": {"source": {"script": "ls"}}}
RESPONSE = {
    "name": "bom",
    "id": URL.split("?")[0].removeprefix("https://management.azure.com"),
    "type": "Microsoft.Compute/virtualMachines/runCommands",
    "location": "westus",
    "properties": {"source": {"script": "ls"}, "provisioningState": "Succeeded"},
}
ENCODINGS = {
    "utf-8": codecs.BOM_UTF8,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
}


def _bom_bytes(document: Any, encoding: str) -> bytes:
    return ENCODINGS[encoding] + json.dumps(document).encode(encoding)


def _vcr(request_body: Any, response_body: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "PUT", "uri": URL, "body": request_body, "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": ["application/json; charset=utf-8"]},
                    "body": {"string": response_body},
                },
            }
        ],
    }


def _powershell(request_content: str, response_content: str, base64_content: bool) -> dict[str, Any]:
    def block(content: str) -> dict[str, Any]:
        return {"Content": content, "isContentBase64": base64_content, "Headers": {}, "ContentHeaders": {}}

    return {
        f"Set-AzVMRunCommand+$PUT+{URL}+1": {
            "Request": {"Method": "PUT", "RequestUri": URL, **block(request_content)},
            "Response": {"StatusCode": 200, **block(response_content)},
        }
    }


def _write_cassette(tmp_path: Path, form: str, encoding: str, request: Any = REQUEST) -> Path:
    """A hand-made cassette in ``form`` whose two bodies start with ``encoding``'s byte-order mark."""
    raw_request, raw_response = _bom_bytes(request, encoding), _bom_bytes(RESPONSE, encoding)
    if form == "vcrpy-yaml":  # vcrpy's serializer: a body that is UTF-8 stays a string, any other is !!binary
        texts = [raw.decode("utf-8") if encoding == "utf-8" else raw for raw in (raw_request, raw_response)]
        path = tmp_path / "bom.yaml"
        path.write_text(yaml.safe_dump(_vcr(*texts)), encoding="utf-8")
    elif form == "vcrpy-json":
        path = tmp_path / "bom.json"
        texts = [raw.decode(encoding) for raw in (raw_request, raw_response)]  # the BOM kept as U+FEFF
        path.write_text(json.dumps(_vcr(*texts)), encoding="utf-8")
    elif form == "powershell-json":
        path = tmp_path / "bom.Recording.json"
        texts = [raw.decode(encoding) for raw in (raw_request, raw_response)]
        path.write_text(json.dumps(_powershell(*texts, base64_content=False)), encoding="utf-8")
    else:
        path = tmp_path / "bom64.Recording.json"
        texts = [base64.b64encode(raw).decode("ascii") for raw in (raw_request, raw_response)]
        path.write_text(json.dumps(_powershell(*texts, base64_content=True)), encoding="utf-8")
    return path


FORMS = ("vcrpy-yaml", "vcrpy-json", "powershell-json", "powershell-base64")


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("form", FORMS)
def test_a_bom_prefixed_body_conforms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, encoding: str
) -> None:
    path = _write_cassette(tmp_path, form, encoding)
    code = main(["cassettes", "check", str(path)])
    out = capsys.readouterr().out
    assert "INVALID_JSON" not in out
    assert f"{path}: 1 interactions, 1 run-command, 1 validated, 0 violations, 0 secret hits" in out
    assert code == 0, out
    (interaction,) = read_cassette(path).interactions
    assert interaction.request_json == REQUEST
    assert interaction.response_json == RESPONSE


@pytest.mark.parametrize("form", FORMS)
def test_a_bom_does_not_hide_a_violation_or_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    password = "Pa55word-behind-a-bom!"  # the secret the scan must find
    request = {"location": "westus", "properties": {"source": {"script": 7}, "runAsPassword": password}}
    path = _write_cassette(tmp_path, form, "utf-16-le", request)
    code = main(["cassettes", "check", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "INVALID_TYPE at /properties/source/script" in out
    assert "INVALID_JSON" not in out
    assert "runAsPassword" in out
    assert " 0 secret hits" not in out
    assert password not in out


def test_without_bom() -> None:
    assert without_bom("\ufeff{}") == "{}"
    assert without_bom(codecs.BOM_UTF16_BE + "{}".encode("utf-16-be")) == "{}"
    assert without_bom(codecs.BOM_UTF32_LE + "{}".encode("utf-32-le")) == "{}"  # not read as UTF-16 LE + NULs
    assert without_bom(b"{}") == b"{}"
    assert without_bom("{}") == "{}"
    assert without_bom(None) is None
    binary = codecs.BOM_UTF8 + b"\xff\x00"  # starts like UTF-8 text but is not: kept as recorded
    assert without_bom(binary) == binary


@pytest.mark.parametrize("encoding", list(ENCODINGS))
@pytest.mark.parametrize("form", ["vcrpy-yaml", "vcrpy-json", "powershell-json"])
def test_a_whole_file_behind_a_bom_is_read_as_validate_reads_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, encoding: str
) -> None:
    """PowerShell 5.1's Out-File writes UTF-16 with a mark; its Set-Content -Encoding UTF8, UTF-8 with one."""
    path = _write_cassette(tmp_path, form, "utf-8")
    path.write_bytes(ENCODINGS[encoding] + path.read_text(encoding="utf-8").encode(encoding))
    assert main(["cassettes", "check", str(path)]) == 0
    assert f"{path}: 1 interactions, 1 run-command, 1 validated, 0 violations" in capsys.readouterr().out
    if form == "vcrpy-yaml":  # lines are counted in the decoded text
        assert read_cassette(path).lines == (2,)


def test_a_file_that_breaks_its_own_bom_is_unreadable_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.json"
    path.write_bytes(codecs.BOM_UTF16_LE + b"{\x00\x00\xd8")  # a lone surrogate
    assert main(["cassettes", "check", str(path)]) == 2
    assert f"{path}: starts with a utf-16-le byte-order mark but is not utf-16-le" in capsys.readouterr().err
