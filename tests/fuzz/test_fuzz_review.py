"""The reviewer's fuzz findings: stable fingerprints, secrets in target URLs, honest help, writable folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.targets import shown_target

SENTINEL = "S3NT1NEL-SECRET-123"
SECRET_TARGETS = (
    f"http://user:{SENTINEL}@127.0.0.1:9",
    f"https://127.0.0.1:9/?sig={SENTINEL}",
    f"https://127.0.0.1:9/base#{SENTINEL}",
    f"http://{SENTINEL}@127.0.0.1:9/",
)
BODILESS = "VirtualMachineRunCommands_GetByVirtualMachine"
"""An operation whose requests carry no body."""


def _drawn(path: Path) -> dict[str, str]:
    """The fingerprints of a small campaign run in a process of its own (an object's address differs between them)."""
    operations = [arg for op in (BODILESS, "VirtualMachineRunCommands_CreateOrUpdate") for arg in ("--operation", op)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest_runcommand", "fuzz", *operations, "--max-examples", "3", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    drawn: dict[str, str] = json.loads(path.read_text())["drawn"]
    return drawn


def test_two_identical_runs_draw_equal_fingerprints_for_every_unit(tmp_path: Path) -> None:
    first, second = _drawn(tmp_path / "1.json"), _drawn(tmp_path / "2.json")
    assert {f"{BODILESS} positive", f"{BODILESS} negative", "stateful"} <= set(first)
    assert first == second


@pytest.mark.parametrize("target", SECRET_TARGETS)
def test_the_cli_never_shows_a_secret_of_the_target_url(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fuzz", "--target", target, "--max-examples", "1"])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "--target" in err
    assert SENTINEL not in out + err


@pytest.mark.parametrize("target", SECRET_TARGETS)
def test_the_pytest_route_never_shows_a_secret_of_the_target_url(pytester: pytest.Pytester, target: str) -> None:
    pytester.makepyfile(
        test_fuzz="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=1, operations=["VirtualMachineRunCommands_Update"], stateful=False)
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", f"--runcommand-target={target}")
    shown = result.stdout.str() + result.stderr.str()
    assert "--runcommand-target" in shown
    assert SENTINEL not in shown


def test_the_mask_keeps_the_address_and_hides_user_info_query_and_fragment() -> None:
    assert shown_target(f"http://user:{SENTINEL}@127.0.0.1:9/x") == "http://***@127.0.0.1:9/x"
    assert shown_target(f"https://h:9/p?sig={SENTINEL}#{SENTINEL}") == "https://h:9/p?***"
    assert shown_target("http://127.0.0.1:9/base") == "http://127.0.0.1:9/base"


def test_the_help_states_no_case_count_it_cannot_keep(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["fuzz", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "14,000" not in text
    assert "depend only on the contract, the options and the seed" in text


def test_an_unwritable_database_folder_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    for folder in ("/proc/nope", str(blocker / "db")):
        code = main(["fuzz", "--hypothesis-database", folder, "--max-examples", "1", "--no-stateful"])
        err = capsys.readouterr().err
        assert code == 2
        assert f"--hypothesis-database {folder}" in err


def test_the_pytest_route_refuses_an_unwritable_database_folder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fuzz="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=1, operations=["VirtualMachineRunCommands_Update"], stateful=False)
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "--runcommand-fuzz-database=/proc/nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--runcommand-fuzz-database / runcommand_fuzz_database: /proc/nope: cannot write*"])
    pytester.makepyfile(
        test_marked="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=1, operations=["VirtualMachineRunCommands_Update"], stateful=False,
                                     database="/proc/nope")
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "test_marked.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*example database /proc/nope: cannot write*"])


def test_json_and_junit_outputs_get_their_missing_folders(tmp_path: Path) -> None:
    json_path, junit_path = tmp_path / "a" / "b" / "out.json", tmp_path / "c" / "out.xml"
    args = ["--operation", BODILESS, "--max-examples", "1", "--no-stateful"]
    assert main(["fuzz", *args, "--json", str(json_path), "--junit-xml", str(junit_path)]) == 0
    assert json_path.is_file()
    assert junit_path.is_file()


@pytest.mark.parametrize("shard", ["-1/2", "-0/2"])
def test_a_negative_shard_gets_the_shard_message(shard: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_runcommand", "fuzz", "--shard", shard],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "--shard" in done.stderr
    assert "expected one argument" not in done.stderr


@pytest.mark.parametrize(
    "target",
    [
        f"https://127.0.0.1:9/%3Fsig={SENTINEL}",
        f"http://127.0.0.1:9/;sig={SENTINEL}",
        f"http://[::1%25{SENTINEL}]:9",
        f"http://u%3A{SENTINEL}%40127.0.0.1:9",
        f"http://127.0.0.1:9\\@{SENTINEL}",
    ],
)
def test_odd_targets_never_print_their_secret_part(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert SENTINEL not in shown_target(target)
    code = main(["fuzz", "--target", target, "--max-examples", "1", "--operation", "VirtualMachineRunCommands_Get"])
    captured = capsys.readouterr()
    assert code == 2
    assert SENTINEL not in captured.out + captured.err


def test_an_error_message_loses_the_targets_secret_parts() -> None:
    from pytest_runcommand.fuzz.targets import masked_target_text

    target = f"http://127.0.0.1:9/;sig={SENTINEL}"
    message = f"Max retries exceeded with url: /;sig={SENTINEL}/subscriptions/x (127.0.0.1:9)"
    masked = masked_target_text(message, target)
    assert SENTINEL not in masked
    assert "127.0.0.1:9" in masked
    assert masked_target_text("plain text", "http://127.0.0.1:9") == "plain text"


def test_a_target_path_parameter_is_masked_in_the_findings_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A target reached at ``/;sig=...`` that answers: its report header and every curl line printed the secret (only
    a run that stopped was masked)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class ServerError(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), ServerError)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    report = tmp_path / "fuzz.json"
    try:
        target = f"http://127.0.0.1:{server.server_address[1]}/;sig={SENTINEL}"
        args = ["--operation", "VirtualMachineRunCommands_Get", "--max-examples", "1", "--no-stateful"]
        code = main(["fuzz", "--target", target, *args, "--json", str(report)])
    finally:
        server.shutdown()
        server.server_close()
    captured = capsys.readouterr()
    assert code == 1, captured.err
    assert "not_a_server_error" in captured.out
    assert "curl -X GET" in captured.out
    assert SENTINEL not in captured.out + captured.err + report.read_text(encoding="utf-8")
