"""``pytest-runcommand fuzz`` options refused before any work (review 6, findings 10 and 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.targets import RATE_EXPECTED

ONE = ["fuzz", "--operation", "VirtualMachineRunCommands_Get", "--max-examples", "1", "--no-stateful"]


@pytest.mark.parametrize("flag", ["--json", "--junit-xml"])
@pytest.mark.parametrize("update", [True, False])
def test_a_report_naming_the_baseline_is_refused(
    flag: str, update: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--baseline bl.json --update-baseline --json bl.json`` replaced the baseline with the report."""
    monkeypatch.chdir(tmp_path)
    baseline = {"version": 1, "failures": {"0123456789abcdef": {"operation": "x", "check": "y", "title": "z"}}}
    Path("bl.json").write_text(json.dumps(baseline), encoding="utf-8")
    before = Path("bl.json").read_bytes()
    other = str(tmp_path / "sub" / ".." / "bl.json")  # another spelling of the same file
    args = [*ONE, "--baseline", "bl.json", *(["--update-baseline"] if update else []), flag, other]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{flag} and --baseline name the same file" in err
    assert err.count("\n") == 1
    assert Path("bl.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bl.json"]


@pytest.mark.parametrize("rate", ["0", "-1", "-0.5", "nan", "inf", "x"])
def test_a_rate_that_is_not_a_positive_number_is_refused(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``--rate 0`` and ``--rate -1`` were accepted without a word, while ``--max-requests 0`` was refused."""
    with pytest.raises(SystemExit) as stopped:
        main([*ONE, f"--rate={rate}"])
    assert stopped.value.code == 2
    assert f"argument --rate: expected {RATE_EXPECTED}, got {rate!r}" in capsys.readouterr().err


def test_a_positive_rate_is_taken(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ONE, "--rate", "0.5", "--mode", "positive"]) == 0
    out = capsys.readouterr().out
    assert "1 case over 1 operation in " in out  # not "1 cases over 1 operations"
    assert "0 distinct failures" in out
