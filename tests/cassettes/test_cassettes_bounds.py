"""Hostile files: ``cassettes check`` exits 2 with one line naming the file and the place, memory stays bounded,
and replay errors name the cassette file and the place."""

from __future__ import annotations

import codecs
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
import vcr as vcrpy

from pytest_runcommand.cassettes.persister import UNREADABLE_HINT
from pytest_runcommand.cassettes.playback import closest_match_errors
from pytest_runcommand.cassettes.vcr import configure_vcr
from pytest_runcommand.cli import main
from pytest_runcommand.errors import InputError

ONE = textwrap.dedent(
    """\
    version: 1
    interactions:
    - request:
        method: GET
        uri: {uri}
        body: {request_body}
        headers: {request_headers}
      response:
        status: {{code: 200, message: OK}}
        headers: {response_headers}
        body: {{string: '{{}}'}}
    """
)


def _cassette(path: Path, **fields: str) -> Path:
    values = {"uri": "'https://h/x'", "request_body": "null", "request_headers": "{}", "response_headers": "{}"}
    path.write_text(ONE.format(**{**values, **fields}))
    return path


def _check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str]:
    code = main(["cassettes", "check", str(path)])
    _, err = capsys.readouterr()
    return code, err


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("name", "write", "expected"),
    [
        (
            "bracket.yaml",
            lambda p: _cassette(p, uri="'https://a]b/x'"),
            ":3: interactions[0].request.uri: not a valid URL: Invalid IPv6 URL",
        ),
        ("port.yaml", lambda p: _cassette(p, uri="'https://h:99999999/'"), ":3: interactions[0].request.uri"),
        (
            "long.json",
            lambda p: p.write_text('{"version": 1, "interactions": [], "n": ' + "7" * 4400 + "}"),
            ":1:41: an integer longer than 4300 digits",
        ),
        (
            "deep.json",
            lambda p: p.write_text('{"version": 1, "interactions": ' + _deep(100_000) + "}"),
            ":1:231: JSON nested deeper than 200 levels",
        ),
        (
            "deep-body.yaml",
            lambda p: _cassette(p, request_body="'" + _deep(100_000) + "'"),
            ":3 (interaction #0) request.body:1:201: JSON nested deeper than 200 levels",
        ),
        (
            "long-body.yaml",
            lambda p: _cassette(p, request_body='\'{"n": ' + "1" * 5000 + "}'"),
            ":3 (interaction #0) request.body:1:7: an integer longer than 4300 digits",
        ),
        ("deep.yaml", lambda p: p.write_text("a: " + _deep(100_000)), ":1:"),
        (
            "tag.yaml",
            lambda p: p.write_text("interactions: !!python/object/apply:os.system ['true']\n"),
            ":1:15: not a readable YAML cassette",
        ),
    ],
)
def test_unreadable_input_exits_two_with_one_line_naming_file_and_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, write: object, expected: str
) -> None:
    path = tmp_path / name
    write(path)  # type: ignore[operator]
    code, err = _check(capsys, path)
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith(f"pytest-runcommand cassettes check: error: {path}")
    assert expected in line
    assert "Traceback" not in err


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads the peak memory from Linux's /proc")
def test_an_alias_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    anchor = "x" * (1024 * 1024)
    items = "".join(
        f"- request: {{method: GET, uri: 'https://h/{i}', body: *a, headers: {{}}}}\n"
        "  response: {status: {code: 200}, headers: {}, body: {string: *a}}\n"
        for i in range(150)
    )
    path = tmp_path / "bomb.yaml"
    path.write_text(f"version: 1\nanchor: &a '{anchor}'\ninteractions:\n{items}")  # 300 references to 1 MB
    # VmHWM is this process's own peak (getrusage's ru_maxrss would carry the forking pytest's over execve)
    probe = (
        "import re, sys\n"
        "from pytest_runcommand.cli import main\n"
        "code = main(['cassettes', 'check', sys.argv[1]])\n"
        "status = open('/proc/self/status').read()\n"
        "print(code, re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, check=True, timeout=120
    )
    code, peak_kib = result.stdout.splitlines()[-1].split()
    assert code == "2"
    assert int(peak_kib) < 150 * 1024, f"peak memory {int(peak_kib) // 1024} MB"
    assert "aliases expand past" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("fields", "place"),
    [
        ({"response_headers": "[1, 2]"}, "interactions[0].response.headers"),
        ({"request_headers": "[1, 2]"}, "interactions[0].request.headers"),
        ({"uri": "'https://a]b/'"}, "interactions[0].request.uri"),
    ],
)
def test_replay_errors_name_the_cassette_and_the_place(tmp_path: Path, fields: dict[str, str], place: str) -> None:
    path = _cassette(tmp_path / "case.yaml", **fields)
    before = path.read_bytes()
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(recorder)
    with (
        pytest.raises(InputError) as caught,
        recorder.use_cassette("case.yaml") as cassette,
        closest_match_errors(cassette),
    ):
        httpx.get("https://h/x")
    message = str(caught.value)
    assert message.startswith(f"cannot replay: {path}:3: ")
    assert place in message
    assert path.read_bytes() == before


def test_replay_of_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    anchor = "y" * (1024 * 1024)
    refs = "".join(f"  k{i}: *a\n" for i in range(100))
    path = tmp_path / "case.yaml"
    path.write_text(f"version: 1\ninteractions: []\nmetadata:\n  a: &a '{anchor}'\n{refs}")
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(recorder)
    with (
        pytest.raises(InputError, match=r"cannot replay: .*case\.yaml: refused: its YAML aliases expand past"),
        recorder.use_cassette("case.yaml"),
    ):
        pass


@pytest.mark.parametrize("mode", ["none", "once", "new_episodes", "all"])
def test_replay_refuses_what_check_refuses_even_when_vcrpy_reads_it_as_empty(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("version: 1\ninteractions: {}\n")
    assert main(["cassettes", "check", str(path)]) == 2
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode=mode)
    configure_vcr(recorder)
    with (
        pytest.raises(InputError, match=r"case\.yaml: not a vcrpy cassette: 'interactions' must be a list") as caught,
        recorder.use_cassette("case.yaml"),
    ):
        pass
    assert str(caught.value).endswith(UNREADABLE_HINT)  # what to do: only rewrite reads past it
    assert path.read_text() == "version: 1\ninteractions: {}\n"


@pytest.mark.parametrize("text", ["version: 1\ninteractions: []\n", "", "  \n"])
def test_an_empty_cassette_or_file_still_replays_as_empty(tmp_path: Path, text: str) -> None:
    (tmp_path / "case.yaml").write_text(text)
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(recorder)
    with recorder.use_cassette("case.yaml") as cassette:
        assert len(cassette) == 0


@pytest.mark.parametrize(
    ("text", "place", "code"),
    [
        ("\x00\x01", "1:1", "0000"),
        ('version: 1\ninteractions:\n- request: {method: "GET\x07"}\n', "3:25", "0007"),
        ("# é€😀\nversion: 1\x01\n", "2:11", "0001"),  # libyaml counts bytes; the place is in characters
    ],
    ids=["nul", "bell-in-a-string", "after-multibyte-text"],
)
def test_a_control_character_in_yaml_is_one_line_naming_the_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, place: str, code: str
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    exit_code, err = _check(capsys, path)
    assert exit_code == 2
    assert err == (
        f"pytest-runcommand cassettes check: error: {path}:{place}: not a readable YAML cassette: "
        f"unacceptable character #x{code}: control characters are not allowed\n"
    )
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(recorder)
    with pytest.raises(InputError) as caught, recorder.use_cassette("case.yaml"):
        pass
    message = str(caught.value)
    assert message.startswith(f"cannot replay: {path}:{place}: not a readable YAML cassette: unacceptable character")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (ONE.replace("uri: {uri}", "uri: null"), "interactions[0].request.uri: expected a non-empty string, got None"),
        (ONE.replace("method: GET", "method: null"), "interactions[0].request.method: expected a non-empty string"),
        (ONE.replace("method: GET", "method: ''"), "interactions[0].request.method: expected a non-empty string"),
        (ONE.replace("{uri}", "'http://[::1/x'"), "interactions[0].request.uri: not a valid URL"),
        (ONE.replace("{uri}", "'https://h:99999/x'"), "interactions[0].request.uri: not a valid URL"),
    ],
    ids=["uri-null", "method-null", "method-empty", "uri-bracket", "uri-port"],
)
@pytest.mark.parametrize("mode", ["none", "once", "new_episodes"])
def test_replay_refuses_a_hand_edited_request_as_check_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, place: str, mode: str
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(text.format(uri="'https://h/x'", request_body="null", request_headers="{}", response_headers="{}"))
    before = path.read_bytes()
    code, err = _check(capsys, path)
    assert code == 2
    message = err.removeprefix("pytest-runcommand cassettes check: error: ").strip()
    assert message.startswith(f"{path}:3: {place}")
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode=mode)
    configure_vcr(recorder)
    with pytest.raises(InputError) as caught, recorder.use_cassette("case.yaml"):
        pass
    assert str(caught.value) == f"cannot replay: {message} {UNREADABLE_HINT}"
    assert path.read_bytes() == before


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_cassette_behind_a_byte_order_mark_replays_as_check_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], codec: str
) -> None:
    text = ONE.format(uri="'https://h/x'", request_body="null", request_headers="{}", response_headers="{}")
    path = tmp_path / "case.yaml"
    marked = text.encode(codec) if codec != "utf-16-be" else codecs.BOM_UTF16_BE + text.encode(codec)
    path.write_bytes(marked)
    assert _check(capsys, path)[0] == 0
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(recorder)
    with recorder.use_cassette("case.yaml") as cassette:
        assert httpx.get("https://h/x").json() == {}
        assert cassette.play_count == 1
    assert path.read_bytes() == marked


def test_a_recorded_message_that_cannot_be_sanitized_is_named_at_load_not_blamed_on_the_test(tmp_path: Path) -> None:
    path = _cassette(tmp_path / "case.yaml", request_body="!!binary AAEC/w==")
    before = path.read_bytes()
    recorder = vcrpy.VCR(cassette_library_dir=str(tmp_path), record_mode="none")
    configure_vcr(recorder)
    with pytest.raises(InputError) as caught, recorder.use_cassette("case.yaml"):
        pass
    message = str(caught.value)
    assert message.startswith(f"cannot replay: {path}: ")
    assert "interactions[0].request.body cannot be sanitized with certainty" in message
    assert "not UTF-8" in message
    assert "not written" not in message
    assert path.read_bytes() == before


def test_a_document_that_holds_itself_is_refused_not_walked_forever(tmp_path: Path) -> None:
    """Review 13, finding 4: a 20-byte cassette whose anchor holds an alias to itself made the check loop forever."""
    path = tmp_path / "itself.yaml"
    path.write_text("version: 1\ninteractions: &a [*a]\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest_runcommand", "cassettes", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,  # a hang guard: the answer is immediate
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"pytest-runcommand cassettes check: error: {path}: refused: a YAML alias inside its own anchor "
        "(a document that holds itself)"
    )


def test_the_depth_counts_every_level_aliases_add(tmp_path: Path) -> None:
    """The depth is read on the node graph (each node once, however many aliases use it: a 300-byte file using one
    anchor 10 million times took 11 s to walk), and still counts the levels aliases stack."""
    from pytest_runcommand.cassettes.loading import MAX_DEPTH, load_yaml

    chain = "".join(f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, MAX_DEPTH + 1))
    path = tmp_path / "deep.yaml"
    text = f"version: 1\nl0: &l0 []\n{chain}interactions: []\n"
    with pytest.raises(InputError, match=rf"nested deeper than {MAX_DEPTH} levels"):
        load_yaml(path, text)
    shallow = "".join(f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, MAX_DEPTH - 1))
    data, _ = load_yaml(path, f"version: 1\nl0: &l0 []\n{shallow}interactions: []\n")
    assert data["interactions"] == []
