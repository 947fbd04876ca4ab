"""Readers: real recordings parse into Interactions; broken files give errors naming file and place."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from pytest_runcommand.cassettes.readers import read_cassette, read_powershell_record, read_vcr_cassette
from pytest_runcommand.errors import InputError

DATA = Path(__file__).parent.parent / "data" / "real-traffic"
CLI = DATA / "azure-cli" / "test_run_command_v2.yaml"
SET_PS = DATA / "azure-powershell" / "Set-AzVMRunCommand.Recording.json"
REMOVE_PS = DATA / "azure-powershell" / "Remove-AzVMRunCommand.Recording.json"


def test_azure_cli_cassette_reads_every_interaction() -> None:
    cassette = read_cassette(CLI)
    assert cassette.format == "vcrpy-yaml"
    assert len(cassette.interactions) == 26
    patches = [i for i in cassette.interactions if i.method == "PATCH"]
    assert len(patches) == 1
    patch = patches[0]
    assert patch.status == 200
    assert patch.response_json["properties"]["provisioningState"] == "Updating"
    assert patch.response_header("azure-asyncoperation")
    assert "api-version=2022-03-01" in patch.url


def test_interaction_lines_point_at_the_yaml_items() -> None:
    cassette = read_cassette(CLI)
    lines = CLI.read_text().splitlines()
    for index, line in enumerate(cassette.lines):
        assert line is not None
        assert lines[line - 1].startswith("- request:"), index
    assert cassette.place(3).startswith(f"{CLI}:{cassette.lines[3]} (interaction #3)")


@pytest.mark.parametrize(("path", "count", "last_status"), [(SET_PS, 3, 200), (REMOVE_PS, 4, 204)])
def test_powershell_records_read(path: Path, count: int, last_status: int) -> None:
    cassette = read_powershell_record(path)
    assert cassette.format == "powershell-json"
    assert len(cassette.interactions) == count
    assert cassette.interactions[-1].status == last_status
    first = cassette.interactions[0]
    assert first.method == "PUT"
    assert first.request_json == {"location": "eastus"}
    assert first.request_header("content-type") == "application/json"
    assert (
        first.response_header(
            "Azure-AsyncOperation",
        )
        is not None
    )
    assert all(line is not None for line in cassette.lines)


def test_read_cassette_detects_powershell_by_content(tmp_path: Path) -> None:
    copy = tmp_path / "record.txt"
    copy.write_text(SET_PS.read_text())
    assert read_cassette(copy).format == "powershell-json"


def test_powershell_base64_content_is_decoded(tmp_path: Path) -> None:
    record = {
        "k+1": {
            "Request": {"Method": "GET", "RequestUri": "https://x/y", "Content": None, "Headers": {}},
            "Response": {
                "StatusCode": 200,
                "Headers": {},
                "ContentHeaders": {"Content-Type": ["application/json"]},
                "Content": base64.b64encode(b'{"a": 1}').decode(),
                "isContentBase64": True,
            },
        }
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps(record))
    assert read_cassette(path).interactions[0].response_json == {"a": 1}


def test_gzip_response_bodies_are_decoded(tmp_path: Path) -> None:
    import yaml

    body = gzip.compress(b'{"ok": true}')
    document = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "GET", "uri": "https://x/", "body": None, "headers": {}},
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Encoding": ["gzip"]},
                    "body": {"string": body},
                },
            }
        ],
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(document))
    assert read_cassette(path).interactions[0].response_json == {"ok": True}


def _broken(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_truncated_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    text = CLI.read_text()
    path = _broken(tmp_path, "cut.yaml", text[: len(text) // 3] + '\n    body: "unterminated\n')
    with pytest.raises(InputError) as caught:
        read_vcr_cassette(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:")
    assert "not a readable YAML cassette" in message
    assert "Traceback" not in message


def test_python_tags_are_refused_not_executed(tmp_path: Path) -> None:
    path = _broken(tmp_path, "evil.yaml", "interactions: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(InputError, match=r"evil\.yaml:1:\d+: not a readable YAML cassette"):
        read_cassette(path)


def test_hand_edited_status_names_the_interaction_and_field(tmp_path: Path) -> None:
    text = CLI.read_text().replace("code: 201", "code: created", 1)
    path = _broken(tmp_path, "edited.yaml", text)
    with pytest.raises(InputError) as caught:
        read_cassette(path)
    message = str(caught.value)
    assert str(path) in message
    assert "interactions[" in message
    assert "response.status.code: expected an integer status code, got 'created'" in message


def test_missing_request_is_named(tmp_path: Path) -> None:
    path = _broken(tmp_path, "c.yaml", "version: 1\ninteractions:\n- response: {status: {code: 200}}\n")
    with pytest.raises(InputError, match=r"c\.yaml:3: interactions\[0\]: missing 'request'"):
        read_cassette(path)


def test_not_a_cassette(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a vcrpy cassette"):
        read_cassette(_broken(tmp_path, "c.yaml", "- just\n- a list\n"))
    with pytest.raises(InputError, match=r"bad\.json:1:\d+: not valid JSON"):
        read_cassette(_broken(tmp_path, "bad.json", '{"a": '))
    with pytest.raises(InputError, match="no such file"):
        read_cassette(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="is a directory"):
        read_cassette(tmp_path)


def test_powershell_entry_errors_name_the_entry(tmp_path: Path) -> None:
    record = json.loads(SET_PS.read_text())
    key = list(record)[1]
    record[key]["Response"]["StatusCode"] = "OK"
    path = _broken(tmp_path, "ps.json", json.dumps(record, indent=2))
    with pytest.raises(InputError) as caught:
        read_cassette(path)
    message = str(caught.value)
    assert "entry 1" in message
    assert "Response.StatusCode: expected an integer" in message
    assert "e37510d7" not in message  # the record's subscription id stays out of messages


def test_vcrpy_json_serializer_cassettes_read(tmp_path: Path) -> None:
    document = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "GET", "uri": "https://x/a?api-version=1", "body": None, "headers": {}},
                "response": {"status": {"code": 404, "message": "Not Found"}, "headers": {}, "body": {"string": ""}},
            }
        ],
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(document))
    cassette = read_cassette(path)
    assert cassette.format == "vcrpy-json"
    assert cassette.interactions[0].status == 404
    assert cassette.place(0) == f"{path} (interaction #0)"


SESSION_RECORD = {
    "Entries": [
        {
            "RequestUri": "/subscriptions/c9cbd920-c00c-427c-852b-8aaf38badaeb/resourceGroups/rg/providers/"
            "Microsoft.Compute/virtualMachines/vm/runCommands/rc?api-version=2024-07-01",
            "EncodedRequestUri": "",
            "RequestMethod": "GET",
            "RequestBody": "",
            "RequestHeaders": {"x-ms-client-request-id": ["1"]},
            "ResponseHeaders": {"Content-Type": ["application/json; charset=utf-8"]},
            "ResponseBody": '{"name": "rc"}',
            "StatusCode": 200,
        }
    ],
    "Names": {},
    "Variables": {"SubscriptionId": "c9cbd920-c00c-427c-852b-8aaf38badaeb"},
}


def test_httprecorder_session_records_read_and_their_encoded_uri_is_scanned(tmp_path: Path) -> None:
    from pytest_runcommand.cassettes.scan import scan_file

    record = json.loads(json.dumps(SESSION_RECORD))
    entry = record["Entries"][0]
    entry["EncodedRequestUri"] = base64.b64encode(entry["RequestUri"].encode()).decode()
    path = tmp_path / "TestGet.json"
    path.write_text(json.dumps(record, indent=2))
    cassette = read_cassette(path)
    assert cassette.format == "session-record-json"
    (interaction,) = cassette.interactions
    assert (interaction.method, interaction.status) == ("GET", 200)
    assert interaction.response_json == {"name": "rc"}
    assert cassette.lines == (4,)
    plain = entry["RequestUri"]
    entry["RequestUri"] = plain.replace("c9cbd920-c00c-427c-852b-8aaf38badaeb", "00000000-0000-0000-0000-000000000000")
    path.write_text(json.dumps(record, indent=2))  # the plain URI sanitized, the encoded one forgotten
    findings = scan_file(path)
    assert [(f.detector, f.line) for f in findings] == [("subscription-id", 5)]
    assert "c9cbd920" not in str(findings)


def test_httprecorder_entry_errors_name_the_entry(tmp_path: Path) -> None:
    record = json.loads(json.dumps(SESSION_RECORD))
    record["Entries"][0]["StatusCode"] = "OK"
    path = _broken(tmp_path, "s.json", json.dumps(record, indent=2))
    with pytest.raises(InputError, match=r"s\.json:4: Entries\[0\]\.StatusCode: expected an integer, got 'OK'"):
        read_cassette(path)


@pytest.mark.parametrize(
    "name",
    [
        "TestVirtualMachineSetRunCommand.runCommand-excerpt.json",
        "TestVirtualMachineGetRunCommand.runCommands-excerpt.json",
    ],
)
def test_the_shared_session_record_excerpts_read(name: str) -> None:
    path = Path(__file__).resolve().parents[3] / "shared" / "real-traffic" / "azure-powershell" / name
    if not path.is_file():
        pytest.skip(f"{path} is not here (the reference folder sits beside the repository)")
    cassette = read_cassette(path)
    assert cassette.format == "session-record-json"
    assert all(line is not None for line in cassette.lines)
    assert {i.method for i in cassette.interactions} <= {"GET", "POST"}
