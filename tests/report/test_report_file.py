"""The one writer of every report file (review 9, finding 6): a regular file replaced whole, a symlink's target
written (the link stays), a device, FIFO or /dev/stdout written through, and a write error an OSError that the
commands turn into exit 2 naming the flag and the file."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from pytest_runcommand import report_file
from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.baseline import Baseline
from pytest_runcommand.fuzz.document import FORMAT
from pytest_runcommand.report import CoverageReport
from pytest_runcommand.report_file import descriptor, write_report, written_through

ROOT = os.geteuid() == 0


def test_a_new_file_is_created_with_its_missing_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "r.json"
    write_report(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert os.listdir(target.parent) == ["r.json"]  # no temporary file left


def test_a_regular_file_is_replaced_whole_and_keeps_its_permissions(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old, longer than the new text\n", encoding="utf-8")
    target.chmod(0o640)
    before = target.stat().st_ino
    write_report(target, "new\n")
    assert target.read_text(encoding="utf-8") == "new\n"
    assert target.stat().st_ino != before  # replaced (a reader of the old file never sees half of the new one)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["r.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "r.json"
    target.write_text("old\n", encoding="utf-8")

    def full(handle: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(report_file.os, "write", full)
    with pytest.raises(OSError, match="No space left") as raised:
        write_report(target, "new\n")
    assert raised.value.errno == errno.ENOSPC
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["r.json"]


@pytest.mark.parametrize("relative", [True, False])
def test_a_symlink_stays_a_link_and_its_target_gets_the_report(tmp_path: Path, relative: bool) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "fuzz.json"
    real.write_text('{"keep": "me"}\n', encoding="utf-8")
    reports = tmp_path / "reports"
    reports.mkdir()
    link = reports / "fuzz.json"
    link.symlink_to(Path("../shared/fuzz.json") if relative else real)
    assert not written_through(link)
    write_report(link, "new\n")
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "new\n"
    assert os.listdir(reports) == ["fuzz.json"]
    assert os.listdir(shared) == ["fuzz.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "later.json")
    write_report(link, "new\n")
    assert link.is_symlink()
    assert (tmp_path / "later.json").read_text(encoding="utf-8") == "new\n"


def test_a_fifo_is_written_through_to_its_reader(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert written_through(fifo)
    write_report(fifo, "through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO
    assert os.listdir(tmp_path) == ["pipe"]


@pytest.mark.skipif(not ROOT, reason="making a character device node needs root")
def test_a_character_device_stays_a_device(tmp_path: Path) -> None:
    null = tmp_path / "null2"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    write_report(null, "into the void\n")
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    with pytest.raises(OSError, match="No space left") as raised:
        write_report(full, "no room\n")
    assert raised.value.errno == errno.ENOSPC
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["full", "null2"]


def test_dev_null_is_written_through_not_replaced() -> None:
    before = os.lstat(os.devnull)
    assert written_through(os.devnull)
    write_report(os.devnull, "nothing\n")
    after = os.lstat(os.devnull)
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "link"])
def test_stdout_is_written_through_in_order_with_what_is_printed(tmp_path: Path, name: str) -> None:
    if name == "link":
        (tmp_path / "link").symlink_to("/proc/self/fd/1")
    code = (
        "import sys; from pytest_runcommand.report_file import write_report\n"
        "print('before')\n"
        "write_report(sys.argv[1], 'THE REPORT\\n')\n"
        "print('after')\n"
    )
    done = subprocess.run([sys.executable, "-c", code, name], cwd=tmp_path, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"before\nTHE REPORT\nafter\n"
    assert sorted(os.listdir(tmp_path)) == (["link"] if name == "link" else [])


def test_stdout_that_is_a_file_gets_the_report_between_the_printed_lines(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    code = "from pytest_runcommand.report_file import write_report; print('a'); write_report('/dev/stdout', 'R\\n')"
    with out.open("wb") as handle:
        subprocess.run([sys.executable, "-c", code + "; print('b')"], stdout=handle, check=True, timeout=60)
    assert out.read_text(encoding="utf-8") == "a\nR\nb\n"


def test_the_descriptor_a_path_names(tmp_path: Path) -> None:
    (tmp_path / "err").symlink_to("/proc/self/fd/2")
    assert descriptor(tmp_path / "err") == 2
    assert descriptor("/dev/stdout") == 1
    assert descriptor("/dev/stderr") == 2
    assert descriptor(f"/proc/{os.getpid()}/fd/2") == 2
    assert descriptor("/dev/null") is None
    assert descriptor("/proc/self/fdinfo/1") is None


# --- every command writes through it ------------------------------------------------------------------------------


def test_the_baseline_and_the_coverage_report_follow_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("{}", encoding="utf-8")
    link = tmp_path / "baseline.json"
    link.symlink_to(real.name)
    Baseline.write(link, {"k": {"check": "c"}})
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["failures"] == {"k": {"check": "c"}}
    cover = tmp_path / "cover-real.json"
    cover_link = tmp_path / "coverage.json"
    cover_link.symlink_to(cover.name)
    CoverageReport().write(cover_link)
    assert cover_link.is_symlink()
    assert "operations" in json.loads(cover.read_text(encoding="utf-8"))


def _shards(tmp_path: Path) -> list[str]:
    """Two shards' fuzz JSON reports of one small campaign (the in-process emulator)."""
    paths = []
    for shard in (1, 2):
        path = tmp_path / f"shard{shard}.json"
        args = ["fuzz", "--max-examples", "1", "--no-stateful", "--mode", "positive", "--json", str(path)]
        assert main([*args, "--operation", "VirtualMachineRunCommands_Get", "--shard", f"{shard}/2"]) == 0
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return _shards(tmp_path_factory.mktemp("shards"))


def test_report_merge_writes_through_a_symlink_and_a_fifo(
    tmp_path: Path, shards: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real.json"
    real.write_text('{"keep": "me"}', encoding="utf-8")
    link = tmp_path / "merged.json"
    link.symlink_to(real.name)
    assert main(["report", "merge", *shards, "-o", str(link)]) == 0
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["format"] == FORMAT
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert main(["report", "merge", *shards, "-o", str(fifo)]) == 0
    reader.join(10)
    assert json.loads(got[0])["format"] == FORMAT
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_report_merge_to_a_full_device_is_exit_2_naming_the_flag(
    tmp_path: Path, shards: list[str], monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "merged.json"

    def full(handle: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(report_file.os, "write", full)
    assert main(["report", "merge", *shards, "-o", str(out)]) == 2
    assert f"-o {out}: cannot be written (No space left on device)" in capsys.readouterr().err
    assert not out.exists()
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not ROOT, reason="making a character device node needs root")
def test_report_merge_to_dev_full_like_node_is_exit_2_and_the_node_stays(
    tmp_path: Path, shards: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    assert main(["report", "merge", *shards, "-o", str(full)]) == 2
    assert f"-o {full}: cannot be written (No space left on device)" in capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(full).st_mode)


def test_fuzz_json_to_dev_stdout_reaches_the_pipe(tmp_path: Path) -> None:
    """``--json /dev/stdout`` (through a link to /proc/self/fd/1, as /dev/stdout is) and ``--junit-xml`` through a
    symlink: the JSON alone on stdout (the summary on stderr), the link kept, its target holding the XML."""
    real = tmp_path / "real.xml"
    real.write_text("old", encoding="utf-8")
    (tmp_path / "junit.xml").symlink_to(real.name)
    (tmp_path / "mystdout").symlink_to("/proc/self/fd/1")
    code = "from pytest_runcommand.cli import main; import sys; raise SystemExit(main(sys.argv[1:]))"
    args = ["fuzz", "--max-examples", "1", "--no-stateful", "--operation", "VirtualMachineRunCommands_Get"]
    for stdout in ("/dev/stdout", "mystdout", "-"):  # "-": review 11, finding 4 (it made a file named -)
        done = subprocess.run(
            [sys.executable, "-c", code, *args, "--json", stdout, "--junit-xml", "junit.xml"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        document, end = json.JSONDecoder().raw_decode(done.stdout)
        assert document["format"] == FORMAT
        assert done.stdout[end:].strip() == ""  # the report alone on standard output (review 12, finding 2)
        assert "pytest-runcommand fuzz" in done.stderr  # the summary on standard error
        assert (tmp_path / "junit.xml").is_symlink()
        assert (tmp_path / "mystdout").is_symlink()
        assert real.read_text(encoding="utf-8").startswith("<?xml")
    assert sorted(os.listdir(tmp_path)) == ["junit.xml", "mystdout", "real.xml"]


@pytest.mark.skipif(not ROOT, reason="making a character device node needs root")
def test_fuzz_json_to_a_full_device_is_exit_2_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    args = ["fuzz", "--max-examples", "1", "--no-stateful", "--operation", "VirtualMachineRunCommands_Get"]
    assert main([*args, "--json", str(full)]) == 2
    assert f"--json {full}: cannot be written (No space left on device)" in capsys.readouterr().err
    assert stat.S_ISCHR(os.lstat(full).st_mode)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("blocker/x.json", "blocker is not a folder"),
        ("blocker/deeper/x.json", "blocker is not a folder"),
        ("a" * 300 + ".json", "cannot write there (File name too long)"),
        ("folder", "is a folder; give the path of the file to write"),
    ],
)
def test_why_a_report_cannot_be_written_is_said_before_any_work(tmp_path: Path, given: str, why: str) -> None:
    """Review 11, finding 1: a file where a folder must be, or a name too long, was a traceback and exit 1 (the code
    CI reads as findings) from ``fuzz --json``, ``--junit-xml`` and ``report merge -o``."""
    (tmp_path / "blocker").write_text("a file where a folder should be")
    (tmp_path / "folder").mkdir()
    path = tmp_path / given
    expected = why.replace("blocker ", f"{tmp_path / 'blocker'} ")
    assert report_file.file_problem(path) == expected
    assert report_file.file_problem(tmp_path / "new" / "x.json") is None  # its folder is made
    assert (tmp_path / "new").is_dir()


@pytest.mark.parametrize("flag", ["--json", "--junit-xml"])
def test_fuzz_report_under_a_file_is_exit_2_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    (tmp_path / "afile").write_text("")
    args = ["fuzz", "--max-examples", "1", "--no-stateful", "--operation", "VirtualMachineRunCommands_Get"]
    assert main([*args, flag, str(tmp_path / "afile" / "x.out")]) == 2
    assert f"{flag} {tmp_path / 'afile' / 'x.out'}: {tmp_path / 'afile'} is not a folder" in capsys.readouterr().err


def test_report_merge_output_with_a_name_too_long_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = []
    for index in range(2):
        report = CoverageReport()
        inputs.append(tmp_path / f"c{index}.json")
        report.write(inputs[-1])
    output = tmp_path / ("m" * 300 + ".json")
    assert main(["report", "merge", *map(str, inputs), "-o", str(output)]) == 2
    assert "cannot write there (File name too long)" in capsys.readouterr().err


def test_report_merge_to_dash_writes_stdout(tmp_path: Path) -> None:
    for index in range(2):  # two different reports (the same one twice is refused)
        document = CoverageReport().to_dict()
        document["unmatched_interactions"] = index
        (tmp_path / f"c{index}.json").write_text(json.dumps(document), encoding="utf-8")
    code = "from pytest_runcommand.cli import main; import sys; raise SystemExit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "report", "merge", "c0.json", "c1.json", "-o", "-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "operations" in json.loads(done.stdout)  # the merged report alone: a pipe reads it whole
    assert "merged into -" in done.stderr
    assert not (tmp_path / "-").exists()


def test_the_coverage_report_refuses_dash(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--runcommand-report", "-")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'-' would be standard output*"])


def test_a_refused_report_path_leaves_no_folder_behind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review 12, finding 9: the folders made before the refusal stayed."""
    path = tmp_path / "d" / "e" / ("x" * 300) / "r.json"
    args = ["fuzz", "--max-examples", "1", "--no-stateful", "--operation", "VirtualMachineRunCommands_Get"]
    assert main([*args, "--json", str(path)]) == 2
    assert "cannot write there (File name too long)" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("given", ["/dev/stdout", "/dev/null"])
def test_the_coverage_report_refuses_a_path_that_is_no_regular_file(pytester: pytest.Pytester, given: str) -> None:
    """Review 12, finding 10: its HTML page went beside it (/dev/stdout.html)."""
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--runcommand-report", given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*takes a regular file's path (the HTML page is written beside it)*"])


def test_a_dangling_link_makes_no_folder_at_its_word(tmp_path: Path) -> None:
    """Review 12, finding 15: a report path linking into folders that are not there made them, anywhere."""
    link = tmp_path / "r.json"
    link.symlink_to(tmp_path / "nowhere" / "deeper" / "r.json")
    assert report_file.file_problem(link) == (
        f"a link to {tmp_path / 'nowhere' / 'deeper' / 'r.json'}, whose folder {tmp_path / 'nowhere' / 'deeper'} "
        "is not there"
    )
    assert not (tmp_path / "nowhere").exists()


def test_a_folder_that_is_a_link_loop_is_named(tmp_path: Path) -> None:
    """Review 12, finding 16: ``--hypothesis-database`` on a link loop said "File exists"."""
    loop = tmp_path / "db"
    loop.symlink_to(loop)
    assert report_file.folder_problem(loop) == f"cannot write there (a link to {loop}, which is no folder)"
