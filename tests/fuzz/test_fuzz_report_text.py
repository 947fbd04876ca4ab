"""What a target answers cannot break the reports: no raw control character, no lone surrogate, no crash.

Review 6, findings 1 and 3: a binary 500 body or an echoed random body put characters XML 1.0 forbids into the JUnit
file (which then did not parse, and ``report merge`` refused it) and raw NUL/ESC bytes into the terminal text; a
JSON answer holding a lone surrogate (``{"x\\udc00": 1}``, valid JSON text) crashed the command with a traceback,
exit 1, no report written and a ``.tmp`` file left behind.
"""

from __future__ import annotations

import json
import os
import re
import xml.dom.minidom
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from pytest_runcommand import report_file
from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.findings import FuzzFinding, FuzzReport, visible
from pytest_runcommand.fuzz.junit import junit_xml, write_junit

FORBIDDEN = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])) + "\ud800\udc00\ufffe\uffff"
"""What XML 1.0 forbids: C0 controls but tab, newline and carriage return, lone surrogates, U+FFFE and U+FFFF."""
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
"""What neither a JUnit file nor the terminal text may hold raw (\\r included: it rewrites a terminal line)."""
GET = "VirtualMachineRunCommands_Get"
LIST = "VirtualMachineRunCommands_GetByVirtualMachine"


def _answering(status: int, content_type: bytes, body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]})
        await send({"type": "http.response.body", "body": body})

    return app


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """Answers 200 with whatever body it was sent: negative cases' random bytes come back."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body or b"{}"})


def _strict_parse(path: Path) -> ElementTree.Element:
    """Parsed by two conforming XML parsers (expat through ElementTree and minidom): well-formed XML 1.0."""
    xml.dom.minidom.parse(str(path))
    return ElementTree.parse(path).getroot()


def test_visible_escapes_what_xml_and_terminals_refuse_as_the_json_report_writes_it() -> None:
    text = "a" + FORBIDDEN + "\x1b[31m\x7f\x85\r" + "\tb\nc \u00d7é😀"
    shown = visible(text)
    assert not RAW.search(shown)
    assert "\\u0000" in shown
    assert "\\udc00" in shown
    assert "\\u001b[31m" in shown
    assert "\\ufffe" in shown
    assert shown.endswith("\tb\nc \u00d7é😀")  # tab, newline and printable text as they were
    assert json.dumps("\x00\udc00") == '"\\u0000\\udc00"'  # the JSON report's escapes: the same form
    assert visible(shown) == shown
    shown.encode("utf-8")


def _finding(text: str) -> FuzzFinding:
    return FuzzFinding(
        key="0123456789abcdef",
        operation_id=GET + text,
        check="check" + text,
        title="title" + text,
        message="message" + text,
        curl="curl" + text,
        status=500,
        mode="negative",
        severity="high",
        response="response" + text,
    )


def test_every_text_and_attribute_of_the_junit_file_is_xml(tmp_path: Path) -> None:
    report = FuzzReport("http://127.0.0.1:1" + FORBIDDEN, operations=[GET], checks=["check" + FORBIDDEN])
    report.findings["0123456789abcdef"] = _finding(FORBIDDEN)
    report.errors.append("error" + FORBIDDEN)
    path = tmp_path / "r.xml"
    write_junit(report, path)
    raw = path.read_bytes().decode("utf-8")
    assert not RAW.search(raw)
    root = _strict_parse(path)
    texts = [e.text or "" for e in root.iter()] + [v for e in root.iter() for v in e.attrib.values()]
    for where in ("title", "message", "response", "curl", "error", "check", GET, "http://127.0.0.1:1"):
        assert any(where + visible(FORBIDDEN) in text for text in texts), where
    assert not RAW.search(junit_xml(report))


def test_a_binary_500_body_gives_a_junit_file_that_parses_and_merges(
    serve_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_app(_answering(500, b"application/octet-stream", b"\x1f\x8b\x08\x00 upstream\x1b[2J crashed\x00"))
    out = tmp_path / "b.xml"
    args = ["fuzz", "--target", url, "--operation", GET, "--max-examples", "1", "--no-stateful", "--mode", "positive"]
    assert main([*args, "--junit-xml", str(out), "--json", str(tmp_path / "b.json")]) == 1
    printed = capsys.readouterr().out
    assert "upstream" in printed
    assert not RAW.search(printed)
    assert "\\u0000" in printed
    assert "\\u001b[2J" in printed
    root = _strict_parse(out)
    failures = "".join(f.text or "" for f in root.iter("failure"))
    assert "\\u001f\ufffd\\u0008\\u0000 upstream\\u001b[2J crashed\\u0000" in failures  # U+FFFD: printable
    assert main(["report", "merge", str(out), "-o", str(tmp_path / "m.xml")]) == 0
    _strict_parse(tmp_path / "m.xml")


def test_an_echoing_target_gives_a_junit_file_that_parses(
    serve_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review's case: negative cases' random bytes echoed back into answers and violation messages."""
    url = serve_app(_echo)
    out = tmp_path / "e.xml"
    code = main(["fuzz", "--target", url, "--max-examples", "5", "--no-stateful", "--junit-xml", str(out)])
    assert code == 1
    assert not RAW.search(capsys.readouterr().out)
    assert not RAW.search(out.read_text(encoding="utf-8"))
    _strict_parse(out)
    assert main(["report", "merge", str(out), "-o", str(tmp_path / "m.xml")]) == 0


def test_a_lone_surrogate_in_an_answer_is_shown_escaped_and_every_report_is_written(
    serve_app: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = serve_app(_answering(200, b"application/json", b'{"name": "rc", "properties": {"x\\udc00": 1}}'))
    args = ["fuzz", "--target", url, "--operation", LIST, "--max-examples", "1", "--no-stateful"]
    assert main([*args, "--json", "r.json", "--junit-xml", "r.xml"]) == 1  # findings, not a crash
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "the run stopped" not in captured.err
    assert "\\udc00" in captured.out
    captured.out.encode("utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json", "r.xml"]  # no .tmp file
    _strict_parse(tmp_path / "r.xml")
    assert "x\\udc00" in "".join(f.text or "" for f in ElementTree.parse("r.xml").iter("failure"))
    assert json.loads(Path("r.json").read_text(encoding="utf-8"))["findings"]
    assert main([*args]) == 1  # the text report alone: the same
    assert "\\udc00" in capsys.readouterr().out


@pytest.mark.parametrize("suffix", [".xml", ".json"])
def test_a_report_that_cannot_be_written_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    from pytest_runcommand.fuzz.document import write_json

    def fail(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report_file.os, "replace", fail)  # the one writer's move onto the file
    writer = write_junit if suffix == ".xml" else write_json
    with pytest.raises(OSError, match="No space"):
        writer(FuzzReport("emulator"), tmp_path / f"r{suffix}")
    assert list(tmp_path.iterdir()) == []


def test_a_report_that_cannot_be_written_exits_2_after_the_results_are_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 means findings only: a report file that cannot be written is exit 2, one line naming it, no traceback."""
    monkeypatch.chdir(tmp_path)
    replace = os.replace

    def full_disk(source: Any, target: Any) -> None:
        if str(target).endswith("r.xml"):
            raise OSError(28, "No space left on device")
        replace(source, target)

    monkeypatch.setattr(report_file.os, "replace", full_disk)  # the one writer's move onto the file
    args = ["fuzz", "--operation", GET, "--max-examples", "1", "--no-stateful", "--mode", "positive"]
    assert main([*args, "--json", "r.json", "--junit-xml", "r.xml"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "pytest-runcommand fuzz: --junit-xml r.xml: cannot be written (No space left on device)\n"
    assert "1 case over 1 operation" in captured.out  # the run's results are shown all the same
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # the other report written, no .tmp left
