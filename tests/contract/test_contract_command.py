"""``pytest-runcommand validate``: exit 0 conforms, 1 violations (one line each), 2 usage or unreadable input."""

from __future__ import annotations

import codecs
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand import validate_request
from pytest_runcommand.cli import main
from pytest_runcommand.contract.command import DEFAULT_URL

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "payloads"


def test_the_documented_sample_request_conforms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "request", str(EXAMPLES / "update-request.json")]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "conforms" in captured.err


def test_two_sources_fail_naming_the_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "request", str(EXAMPLES / "update-request-two-sources.json")]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    code, pointer, message = line.split("\t")
    assert (code, pointer) == ("MULTIPLE_SCRIPT_SOURCES", "/properties/source")
    assert "exactly one of script, scriptUri, commandId" in message


def test_a_response_from_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    body = {"error": {"code": "ResourceNotFound", "message": "not found"}}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(body).encode())))
    assert main(["validate", "response", "-", "--status", "404", "--method", "GET"]) == 0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"properties": {"runAsPassword": "pw"}}')))
    assert main(["validate", "response", "-", "--status", "200"]) == 1
    out = capsys.readouterr().out
    assert "SECRET_PROPERTY\t/properties/runAsPassword" in out
    assert "pw\n" not in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["validate", "request", "missing.json"], "missing.json: no such file"),
        (["validate", "response", "x.json"], "needs --status"),
        (["validate", "request", "BROKEN", "--header", "nocolon"], "--header takes NAME:VALUE"),
        (["validate", "request", "BROKEN", "--status", "200"], "validate request takes none"),
        (["validate", "request", "BROKEN", "--no-headers", "--header", "A:b"], "give it or --header, not both"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{}")
    argv = [str(broken) if a == "BROKEN" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unreadable_json_exits_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "body.json"
    broken.write_text('{"properties": ')
    assert main(["validate", "request", str(broken)]) == 2
    assert f"{broken}: not valid JSON" in capsys.readouterr().err


def test_a_wrong_flag_exits_2_with_the_subcommand_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["validate", "request", "x.json", "--no-such-flag"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: pytest-runcommand validate ")
    assert "pytest-runcommand validate: error: unrecognized arguments: --no-such-flag" in err


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_runcommand", "validate", "request", str(EXAMPLES / "update-request.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


SAMPLE = EXAMPLES / "update-request.json"
TWO_SOURCES = EXAMPLES / "update-request-two-sources.json"


def test_several_files_prefix_each_line_with_its_file_and_exit_with_the_worst(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "request", str(SAMPLE), str(TWO_SOURCES)]) == 1
    captured = capsys.readouterr()
    (line,) = captured.out.splitlines()
    assert line.split("\t")[:3] == [str(TWO_SOURCES), "MULTIPLE_SCRIPT_SOURCES", "/properties/source"]
    assert f"{SAMPLE}: conforms" in captured.err
    assert f"{TWO_SOURCES}: 1 violation(s)" in captured.err
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["validate", "request", str(TWO_SOURCES), str(broken), str(SAMPLE)]) == 2
    captured = capsys.readouterr()
    assert f"{broken}: not valid JSON" in captured.err
    assert f"{SAMPLE}: conforms" in captured.err  # a file after the unreadable one is still checked
    assert "MULTIPLE_SCRIPT_SOURCES" in captured.out


def test_json_format_is_one_document_with_each_file_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.json"
    argv = ["validate", "request", "--format", "json", str(SAMPLE), str(TWO_SOURCES), str(missing)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert captured.err == ""
    assert (document["side"], document["method"], document["exit_code"]) == ("request", "PATCH", 2)
    conforming, failing, unreadable = document["files"]
    assert (conforming["file"], conforming["verdict"], conforming["violations"]) == (str(SAMPLE), "conforms", [])
    assert failing["verdict"] == "violations"
    (violation,) = failing["violations"]
    assert violation["code"] == "MULTIPLE_SCRIPT_SOURCES"
    assert violation["pointer"] == "/properties/source"
    assert violation["operation_id"] == "VirtualMachineRunCommands_Update"
    assert unreadable["verdict"] == "unreadable"
    assert unreadable["error"] == f"{missing}: no such file"


def test_json_format_masks_a_secret_echoed_in_a_response(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sentinel = "Sentinel-Pa55word-7f3a"
    answer = tmp_path / "answer.json"
    answer.write_text(json.dumps({"properties": {"runAsPassword": sentinel}}))
    assert main(["validate", "response", str(answer), "--status", "200", "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert "SECRET_PROPERTY" in captured.out
    assert sentinel not in captured.out + captured.err


def test_python_dash_m_and_the_console_script_agree() -> None:
    script = Path(sys.executable).with_name("pytest-runcommand")
    args = ["validate", "request", str(TWO_SOURCES), "--format", "json"]
    module = subprocess.run([sys.executable, "-m", "pytest_runcommand", *args], capture_output=True, text=True)
    console = subprocess.run([str(script), *args], capture_output=True, text=True)
    assert (module.returncode, module.stdout) == (console.returncode, console.stdout)
    assert module.returncode == 1


BOMS = [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]


@pytest.mark.parametrize(("bom", "encoding"), BOMS, ids=["utf-8", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("payload", [SAMPLE, TWO_SOURCES], ids=["conforming", "two-sources"])
def test_a_byte_order_mark_is_read_as_powershell_writes_it(
    bom: bytes, encoding: str, payload: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = main(["validate", "request", str(payload)])
    expected = capsys.readouterr().out
    marked = tmp_path / "marked.json"
    marked.write_bytes(bom + payload.read_text(encoding="utf-8").encode(encoding))
    assert main(["validate", "request", str(marked)]) == plain
    assert capsys.readouterr().out == expected


def test_a_broken_utf16_body_after_its_mark_is_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = tmp_path / "odd.json"
    odd.write_bytes(codecs.BOM_UTF16_LE + b"{\x00\x00\xd8")  # a lone surrogate
    assert main(["validate", "request", str(odd)]) == 2
    assert f"{odd}: not valid utf-16-le after its byte-order mark" in capsys.readouterr().err


# One rule for what validate cannot read as a body: exit 2, one stderr line naming the file, nothing on stdout.
NO_DOCUMENT = [
    (b"", "empty"),
    (b" \n\t\r\n", "only whitespace"),
    (codecs.BOM_UTF8, "only a byte-order mark"),
    (codecs.BOM_UTF16_LE, "only a byte-order mark"),
    (codecs.BOM_UTF8 + b"\n", "only whitespace"),
]


@pytest.mark.parametrize(("raw", "what"), NO_DOCUMENT, ids=["empty", "whitespace", "bom8", "bom16", "bom-whitespace"])
@pytest.mark.parametrize("side", [["request"], ["response", "--status", "202", "--method", "DELETE"]])
def test_a_file_without_a_json_document_is_unreadable(
    raw: bytes, what: str, side: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(raw)
    assert main(["validate", *side, str(body)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        f"pytest-runcommand validate: error: {body}: {what}, no JSON document (for a message without a body, give null)"
    ]


def test_empty_standard_input_is_unreadable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    assert main(["validate", "request", "-"]) == 2
    assert "standard input: empty, no JSON document" in capsys.readouterr().err


def test_an_empty_file_among_others_is_reported_and_the_others_still_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    assert main(["validate", "request", "--format", "json", str(SAMPLE), str(empty), str(TWO_SOURCES)]) == 2
    files = json.loads(capsys.readouterr().out)["files"]
    assert [entry["verdict"] for entry in files] == ["conforms", "unreadable", "violations"]


def test_null_is_a_message_without_a_body(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    null = tmp_path / "null.json"
    null.write_text("null\n", encoding="utf-8")
    delete = ["validate", "response", str(null), "--status", "202", "--method", "DELETE"]
    assert main([*delete, "--header", "Location: https://management.azure.com/operations/1"]) == 0
    assert capsys.readouterr().err.strip() == f"{null}: conforms (response of DELETE, without a body)"
    assert main([*delete, "--header", "Retry-After: 1"]) == 1  # the engine's verdict: a 202 must say where to poll
    assert capsys.readouterr().out.startswith("LRO_RESPONSE_HEADER\theader:Location\t")
    assert main(["validate", "request", str(null)]) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0]] == [v.code for v in validate_request("PATCH", DEFAULT_URL, None)]
    assert line.startswith("MISSING_REQUIRED_PARAMETER\t/\t")


def test_an_array_or_a_number_is_a_violation_not_unreadable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for text, kind in (("[]", "array"), ('[{"location": "westus"}]', "array"), ("0", "integer"), ("false", "boolean")):
        body = tmp_path / "body.json"
        body.write_text(text, encoding="utf-8")
        assert main(["validate", "request", str(body)]) == 1
        assert capsys.readouterr().out == f"INVALID_TYPE\t/\texpected object, got {kind}\n"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (codecs.BOM_UTF32_LE + b'{"properties": {}}'.decode().encode("utf-32-le"), None),
        (codecs.BOM_UTF32_BE + b'{"properties": {}}'.decode().encode("utf-32-be"), None),
        ('{"properties": {"runAsUser": "\u00e9"}}'.encode("latin-1"), "byte 30 is not UTF-8, and no byte-order mark"),
        ('{"properties": {}}'.encode("utf-16-le"), "holds NUL bytes: UTF-16 or UTF-32 without a byte-order mark?"),
    ],
    ids=["utf-32-le", "utf-32-be", "latin-1", "utf-16-without-mark"],
)
def test_each_encoding_is_read_or_named(
    raw: bytes, message: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(raw)
    code = main(["validate", "request", str(body)])
    err = capsys.readouterr().err
    if message is None:
        assert code == 0, err
    else:
        assert code == 2
        (line,) = err.splitlines()
        assert line.startswith(f"pytest-runcommand validate: error: {body}: {message}")


def test_stdin_can_be_named_once_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "request", "-", "-"]) == 2
    assert "standard input (-) can be read only once" in capsys.readouterr().err


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(text=st.text())
def test_any_json_string_literal_is_unreadable_as_a_body(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "string.json"
    body.write_text(json.dumps(text), encoding="utf-8")
    assert main(["validate", "request", str(body)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{body}: a JSON string, unreadable as a run-command body" in captured.err
    assert "Traceback" not in captured.err


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@SETTINGS
@given(value=JSON_VALUES.filter(lambda v: not isinstance(v, str)))
def test_any_other_json_value_gets_the_validators_verdict(
    value: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "value.json"
    body.write_text(json.dumps(value), encoding="utf-8")
    code = main(["validate", "request", str(body)])
    expected = validate_request("PATCH", DEFAULT_URL, body.read_bytes())  # the same bytes, read by the engine
    assert code == (1 if expected else 0)
    lines = capsys.readouterr().out.splitlines()
    assert all(line.count("\t") == 2 for line in lines), lines
    assert [line.split("\t")[0] for line in lines] == [violation.code for violation in expected]


@SETTINGS
@given(raw=st.binary(min_size=1))
def test_bytes_that_are_not_json_exit_2_naming_the_file(
    raw: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        json.loads(raw.removeprefix(codecs.BOM_UTF8))
        is_json = True
    except (ValueError, UnicodeDecodeError):
        is_json = False
    body = tmp_path / "raw.json"
    body.write_bytes(raw)
    code = main(["validate", "request", str(body)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if not is_json and raw.strip() and not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        assert code == 2
        reasons = ("not valid", "is not UTF-8, and no byte-order mark", "holds NUL bytes", "no JSON document")
        assert any(f"{body}: {reason}" in err or (reason in err and f"{body}: " in err) for reason in reasons), err


@SETTINGS
@given(kinds=st.lists(st.sampled_from(["conforming", "violating", "not-json", "missing", "directory"]), min_size=1))
def test_several_files_exit_with_the_worst_verdict_and_report_each_in_order(
    kinds: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    paths = {
        "conforming": (SAMPLE, 0),
        "violating": (TWO_SOURCES, 1),
        "not-json": (tmp_path / "broken.json", 2),
        "missing": (tmp_path / "absent.json", 2),
        "directory": (tmp_path, 2),
    }
    files = [str(paths[kind][0]) for kind in kinds]
    assert main(["validate", "request", "--format", "json", *files]) == max(paths[kind][1] for kind in kinds)
    document = json.loads(capsys.readouterr().out)
    verdicts = ["conforms", "violations", "unreadable"]
    assert [(entry["file"], entry["verdict"]) for entry in document["files"]] == [
        (str(paths[kind][0]), verdicts[paths[kind][1]]) for kind in kinds
    ]


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_signature_in_the_url_is_not_echoed(output: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = DEFAULT_URL + "&sig=Sentinel-Signature-9c1"
    main(["validate", "request", str(SAMPLE), str(TWO_SOURCES), "--url", url, "--format", output])
    captured = capsys.readouterr()
    assert "Sentinel-Signature-9c1" not in captured.out + captured.err


def test_no_headers_applies_the_header_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "null.json"
    empty.write_text("null")
    argv = ["validate", "response", "--method", "DELETE", "--status", "202", str(empty)]
    assert main(argv) == 0  # no headers given: the header rules are skipped
    capsys.readouterr()
    assert main([*argv, "--no-headers"]) == 1  # a 202 without Location or Azure-AsyncOperation
    assert "LRO_RESPONSE_HEADER" in capsys.readouterr().out
    assert main([*argv, "--header", "Location: https://management.azure.com/x"]) == 0


def test_a_body_nested_too_deep_is_named_so_not_invalid_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 3000 + "]" * 3000)
    assert main(["validate", "request", str(deep)]) == 2
    err = capsys.readouterr().err
    assert "deep.json: nested deeper than 1,024 levels (line 1, column" in err
    assert "not valid JSON" not in err


class _Endless(io.RawIOBase):
    """A pipe that never ends (``yes |``); reading far past the body limit fails the test instead of the machine."""

    def __init__(self, give_up_after: int) -> None:
        self.left = give_up_after

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        assert self.left > 0, "read far past the body limit"
        size = min(len(buffer), self.left)
        buffer[:size] = b"y" * size
        self.left -= size
        return size


def test_a_body_larger_than_the_emulator_reads_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pytest_runcommand.emulator.state import EmulatorSettings

    limit = EmulatorSettings.max_body_bytes
    big = tmp_path / "big.json"
    with big.open("wb") as stream:
        stream.truncate(limit + 1)  # sparse: /dev/zero named as a file
    assert main(["validate", "request", str(big)]) == 2
    captured = capsys.readouterr()
    assert (
        captured.err == f"pytest-runcommand validate: error: {big}: larger than {limit:,} bytes, the largest body "
        "the emulator reads; not read further\n"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(_Endless(4 * limit))))
    assert main(["validate", "request", "-"]) == 2
    assert f"standard input: larger than {limit:,} bytes" in capsys.readouterr().err


def test_a_body_at_the_limit_is_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_runcommand.emulator.state import EmulatorSettings

    body = b'{"properties": {"runAsUser": "a"}}'
    padded = tmp_path / "padded.json"
    padded.write_bytes(body + b" " * (EmulatorSettings.max_body_bytes - len(body)))
    assert main(["validate", "request", str(padded)]) == 0
    assert "conforms" in capsys.readouterr().err
