"""``pytest-runcommand report merge``: the shards' reports become the report of one run; bad input exits 2 naming it."""

from __future__ import annotations

import json
from fnmatch import fnmatch
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.cli import main

ARGS = ["fuzz", "--max-examples", "2", "--operation", "VirtualMachineRunCommands_Get", "--operation",
        "VirtualMachineRunCommands_CreateOrUpdate"]  # fmt: skip


def test_shard_reports_merge_into_the_whole_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--json", str(tmp_path / "all.json"), "--junit-xml", str(tmp_path / "all.xml")]) == 0
    for k in (1, 2):
        out = ["--json", str(tmp_path / f"s{k}.json"), "--junit-xml", str(tmp_path / f"s{k}.xml")]
        assert main([*ARGS, "--shard", f"{k}/2", *out]) == 0
    shards = [str(tmp_path / f"s{k}.json") for k in (1, 2)]
    assert main(["report", "merge", *shards, "-o", str(tmp_path / "merged.json")]) == 0
    whole = json.loads((tmp_path / "all.json").read_text())
    merged = json.loads((tmp_path / "merged.json").read_text())
    assert merged["drawn"] == whole["drawn"]
    assert merged["cases"] == whole["cases"]
    assert merged["statuses"] == whole["statuses"]
    assert main(["report", "merge", *(s.replace(".json", ".xml") for s in shards), "-o", str(tmp_path / "m.xml")]) == 0
    text = (tmp_path / "m.xml").read_text()
    assert text.count("<testcase") == (tmp_path / "all.xml").read_text().count("<testcase")


def test_coverage_reports_merge_with_coverage_semantics(tmp_path: Path) -> None:
    from pytest_runcommand.report.coverage import CoverageReport

    data = CoverageReport().to_dict()
    operation = next(iter(data["operations"]))
    for name, calls, status in (("a", 2, "200"), ("b", 3, "404")):
        data["operations"][operation]["calls"] = calls
        data["operations"][operation]["statuses_seen"] = {status: calls}
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    assert (
        main(["report", "merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(tmp_path / "c.json")])
        == 0
    )
    merged = json.loads((tmp_path / "c.json").read_text())
    assert merged["operations"][operation]["calls"] == 5
    assert merged["operations"][operation]["statuses_seen"] == {"200": 2, "404": 3}


def test_a_report_given_twice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_runcommand.report.coverage import CoverageReport

    report = tmp_path / "cov.json"
    report.write_text(json.dumps(CoverageReport().to_dict()))
    (tmp_path / "copy.json").write_bytes(report.read_bytes())
    (tmp_path / "sub").mkdir()
    for second in (report, tmp_path / "copy.json", tmp_path / "sub" / ".." / "cov.json"):
        assert main(["report", "merge", str(report), str(second), "-o", str(tmp_path / "out.json")]) == 2
        assert f"{second}: the same report as {report}" in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


SUITE = """
import pytest

def test_get(runcommand_emulator):
    assert runcommand_emulator.client.get(runcommand_emulator.run_command_path("rc")).status_code == 404
"""


def test_two_runs_with_equal_findings_merge_and_a_run_counts_once(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review 14, finding 8: the same deterministic suite in two jobs of a CI matrix writes equal findings; the
    reports were refused as "the same report". Each report names its run: two runs merge, one run given twice (a
    copy, or a merged report with one of its inputs) is refused."""
    pytester.makepyfile(test_suite=SUITE)
    for job in ("a", "b"):
        pytester.runpytest_subprocess("-p", "no:cacheprovider", "--runcommand-report", f"{job}/contract.json")
    a, b = (json.loads((pytester.path / job / "contract.json").read_text()) for job in ("a", "b"))
    assert len(a["runs"]) == len(b["runs"]) == 1
    assert a["runs"] != b["runs"]
    assert {k: v for k, v in a.items() if k != "runs"} == {k: v for k, v in b.items() if k != "runs"}
    files = [str(pytester.path / job / "contract.json") for job in ("a", "b")]
    assert main(["report", "merge", *files, "-o", str(pytester.path / "ab.json")]) == 0
    merged = json.loads((pytester.path / "ab.json").read_text())
    assert merged["runs"] == sorted(a["runs"] + b["runs"])
    operation = "VirtualMachineRunCommands_GetByVirtualMachine"
    assert merged["operations"][operation]["calls"] == 2 * a["operations"][operation]["calls"] > 0
    capsys.readouterr()
    (pytester.path / "copy.json").write_text(json.dumps(a, indent=1))  # other bytes, the same run
    for first, second in ((files[0], str(pytester.path / "copy.json")), (str(pytester.path / "ab.json"), files[1])):
        assert main(["report", "merge", first, second, "-o", str(pytester.path / "x.json")]) == 2
        assert f"{second}: holds a test run {first} holds too" in capsys.readouterr().err
    assert not (pytester.path / "x.json").exists()


def test_an_output_that_cannot_be_written_exits_2_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _coverage(tmp_path / "a.json")
    assert main(["report", "merge", str(report), "-o", "/proc/merged.json"]) == 2
    assert "-o /proc/merged.json: cannot write there" in capsys.readouterr().err


def test_mixed_kinds_exit_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.xml").write_text("<testsuites><testsuite/></testsuites>")
    (tmp_path / "b.json").write_text(json.dumps({"operations": {}}))
    assert main(["report", "merge", str(tmp_path / "a.xml"), str(tmp_path / "b.json"), "-o", str(tmp_path / "o")]) == 2
    assert "b.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        "<html/>",
        "<a",
        '{"format": "pytest-runcommand fuzz report", "version": 1}',
        "\xff",
        '{"format": "pytest-runcommand fuzz report", "cases": 9' + "0" * 5000 + "}",  # review 13, finding 13
    ],
)
def test_bad_input_exits_2_naming_the_file(tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad-report.json"
    bad.write_text(content, encoding="latin-1")
    assert main(["report", "merge", str(bad), "-o", str(tmp_path / "out.json")]) == 2
    err = capsys.readouterr().err
    assert "bad-report.json" in err
    assert "Traceback" not in err


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "merge", str(tmp_path / "nope.json"), "-o", str(tmp_path / "out.json")]) == 2
    assert "nope.json" in capsys.readouterr().err


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {"format": st.just("pytest-runcommand fuzz report"), "version": st.just(1)},
    optional=dict.fromkeys(("target", "cases", "statuses", "findings", "drawn", "known", "errors"), JSON),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=FIELDS | JSON)
def test_any_json_merges_or_is_refused_on_one_line(tmp_path: Path, document: object) -> None:
    file = tmp_path / "shard.json"
    file.write_text(json.dumps(document))
    try:
        code = main(["report", "merge", str(file), "-o", str(tmp_path / "out.json")])
    except SystemExit as exit_:  # argparse never sees the content; nothing else may exit
        raise AssertionError("unexpected exit") from exit_
    assert code in (0, 2)


def _coverage(path: Path) -> Path:
    path.write_text(json.dumps({"operations": {}}))
    return path


def test_missing_output_folders_are_created(tmp_path: Path) -> None:
    report = _coverage(tmp_path / "a.json")
    output = tmp_path / "missing" / "dir" / "out.json"
    assert main(["report", "merge", str(report), "-o", str(output)]) == 0
    assert json.loads(output.read_text())["operations"] is not None
    assert (output.parent / "out.html").is_file()


def test_an_output_that_is_an_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = _coverage(tmp_path / "s1.json"), _coverage(tmp_path / "s2.json")
    before = first.read_bytes()
    for output in (first, tmp_path / "sub" / ".." / "s1.json"):
        assert main(["report", "merge", str(first), str(second), "-o", str(output)]) == 2
        assert f"is also an input ({first})" in capsys.readouterr().err
    assert first.read_bytes() == before
    assert not (tmp_path / "s1.html").exists()


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _coverage(tmp_path / "a.json")
    assert main(["report", "merge", str(report), "-o", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_the_help_is_plain_prose(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "merge", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "Merge the reports of CI shards" in text
    for markup in ("``", ":meth:", ":class:", ":data:", "`"):
        assert markup not in text


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Fuzz reports (JSON and JUnit) of a few campaigns and shares: name -> path without suffix."""
    folder = tmp_path_factory.mktemp("shards")
    runs = {
        "s1": ["--shard", "1/2"],
        "s2": ["--shard", "2/2"],
        "s2-newer": ["--shard", "2/2", "--api-version", "2026-04-01"],
        "s2-more": ["--shard", "2/2", "--max-examples", "3"],
        "s2-seed": ["--shard", "2/2", "--seed", "7"],
        "t1": ["--shard", "1/3"],
        "full": [],
    }
    for name, extra in runs.items():
        out = ["--json", str(folder / f"{name}.json"), "--junit-xml", str(folder / f"{name}.xml")]
        assert main([*ARGS, *extra, *out]) == 0
    return {name: folder / name for name in runs}


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (("s1", "s2-newer"), "another campaign than * (api_version 2026-04-01, not 2024-07-01)"),
        (("s1", "s2-more"), "another campaign than * (max_examples 3, not 2)"),
        (("s1", "s2-seed"), "another campaign than * (seed 7, not None)"),
        (("s1", "s1"), "shard 1/2 is already in *s1.*"),
        (("s1", "t1"), "shares of 3, but * has shares of 2*"),
        (("full", "s2"), "shares of 2, but * has shares of 1*"),
    ],
)
@pytest.mark.parametrize("suffix", [".json", ".xml"])
def test_reports_of_other_campaigns_or_repeated_shards_are_refused(
    shards: dict[str, Path],
    names: tuple[str, str],
    message: str,
    suffix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first, second = (shards[name].with_suffix(suffix) for name in names)
    if first == second:  # the same shard twice, as two files (not byte for byte: that is refused before)
        second = tmp_path / f"copy{suffix}"
        second.write_bytes(first.read_bytes() + b"\n")
    output = tmp_path / f"out{suffix}"
    assert main(["report", "merge", str(first), str(second), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert fnmatch(err, f"*{second}: {message}*"), err
    assert not output.exists()


def test_the_merged_report_states_its_campaign_and_whether_every_shard_is_there(
    shards: dict[str, Path], tmp_path: Path
) -> None:
    for names, complete in ((("s1", "s2"), True), (("s1",), False)):
        for suffix in (".json", ".xml"):
            output = tmp_path / f"merged{suffix}"
            assert (
                main(["report", "merge", *(str(shards[n].with_suffix(suffix)) for n in names), "-o", str(output)]) == 0
            )
            if suffix == ".json":
                campaign = json.loads(output.read_text())["campaign"]
            else:
                campaign = json.loads(ElementTree.parse(output).getroot().find(".//property").get("value", ""))
            assert campaign["api_version"] == "2024-07-01"
            assert campaign["target"] == "emulator"
            assert campaign["max_examples"] == 2
            assert campaign["derandomized"] is True
            assert campaign["shard_count"] == 2
            assert campaign["shards"] == [int(name[1]) for name in names]
            assert campaign["complete"] is complete


def test_a_fuzz_report_without_a_campaign_is_refused(
    shards: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(shards["s2"].with_suffix(".json").read_text())
    document["campaign"] = None
    old = tmp_path / "old.json"
    old.write_text(json.dumps(document))
    assert (
        main(["report", "merge", str(shards["s1"].with_suffix(".json")), str(old), "-o", str(tmp_path / "o.json")]) == 2
    )
    assert "old.json: says nothing of its campaign" in capsys.readouterr().err


def test_the_summary_line_says_whether_every_shard_is_there(
    shards: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "merge", str(shards["s1"].with_suffix(".json")), "-o", str(tmp_path / "part.json")]) == 0
    assert "(shard(s) 1 of 2: NOT complete" in capsys.readouterr().out
    both = [str(shards[name].with_suffix(".json")) for name in ("s1", "s2")]
    assert main(["report", "merge", *both, "-o", str(tmp_path / "whole.json")]) == 0
    assert "(shard(s) 1, 2 of 2: complete)" in capsys.readouterr().out


def test_a_report_holding_one_share_twice_is_refused(
    shards: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(shards["s1"].with_suffix(".json").read_text())
    document["campaign"]["shards"] = [1, 1]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    assert main(["report", "merge", str(forged), "-o", str(tmp_path / "out.json")]) == 2
    assert "forged.json" in capsys.readouterr().err


@pytest.mark.parametrize(("field", "value", "wanted"), [("shards", [1.5], "integers"), ("modes", [True], "strings")])
def test_a_campaign_list_of_the_wrong_items_is_named(
    shards: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str], field: str, value: object, wanted: str
) -> None:
    """Review 14, finding 6: ``shards: [1.5]`` said "expected a list" of what is a list."""
    document = json.loads(shards["s1"].with_suffix(".json").read_text())
    document["campaign"][field] = value
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    assert main(["report", "merge", str(forged), "-o", str(tmp_path / "out.json")]) == 2
    expected = f"forged.json: campaign.{field}: expected a list of {wanted}, got {json.dumps(value)}"
    assert expected in capsys.readouterr().err


def test_a_shard_relabelled_as_another_is_refused(
    shards: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(shards["s1"].with_suffix(".json").read_text())
    document["campaign"]["shards"] = [2]
    forged = tmp_path / "fake2.json"
    forged.write_text(json.dumps(document))
    first = str(shards["s1"].with_suffix(".json"))
    assert main(["report", "merge", first, str(forged), "-o", str(tmp_path / "out.json")]) == 2
    assert "fake2.json: unit " in capsys.readouterr().err
    assert not (tmp_path / "out.json").exists()


def test_an_output_named_for_the_other_format_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = _coverage(tmp_path / "a.json")
    assert main(["report", "merge", str(report), "-o", str(tmp_path / "merged.xml")]) == 2
    error = capsys.readouterr().err
    assert "merged.xml: the inputs are coverage JSON reports, which merge into JSON" in error
    assert "name the output *.json" in error
    assert not (tmp_path / "merged.xml").exists()
    assert not (tmp_path / "merged.html").exists()
    junit = tmp_path / "a.xml"
    junit.write_text('<testsuite name="x" tests="1"><testcase classname="c" name="n"/></testsuite>')
    assert main(["report", "merge", str(junit), "-o", str(tmp_path / "merged.JSON")]) == 2
    assert "which merge into XML, but the name ends in .JSON; name the output *.xml" in capsys.readouterr().err
    assert main(["report", "merge", str(report), "-o", str(tmp_path / "merged.txt")]) == 0


@pytest.mark.parametrize("suffix", [".json", ".xml"])
def test_require_complete_exits_1_on_a_part_and_0_on_the_whole(
    shards: dict[str, Path], suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    part = tmp_path / f"part{suffix}"
    assert main(["report", "merge", "--require-complete", str(shards["s1"].with_suffix(suffix)), "-o", str(part)]) == 1
    captured = capsys.readouterr()
    assert "NOT complete" in captured.out
    assert f"--require-complete: {part} lacks a shard of its campaign" in captured.err
    assert part.is_file()  # written all the same: the part is still worth uploading
    both = [str(shards[name].with_suffix(suffix)) for name in ("s1", "s2")]
    assert main(["report", "merge", "--require-complete", *both, "-o", str(tmp_path / f"whole{suffix}")]) == 0


def test_require_complete_refuses_reports_without_a_campaign(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    coverage = _coverage(tmp_path / "a.json")
    assert main(["report", "merge", "--require-complete", str(coverage), "-o", str(tmp_path / "c.json")]) == 2
    assert "coverage reports name no campaign" in capsys.readouterr().err
    other = tmp_path / "other.xml"
    other.write_text('<testsuite name="x" tests="1"><testcase classname="c" name="n"/></testsuite>')
    assert main(["report", "merge", "--require-complete", str(other), "-o", str(tmp_path / "m.xml")]) == 2
    assert "name no fuzz campaign" in capsys.readouterr().err
    assert not (tmp_path / "m.xml").exists()


def test_a_junit_file_naming_two_campaigns_is_refused(
    shards: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = shards["s1"].with_suffix(".xml").read_text()
    start = text.index("<property ")
    end = text.index("/>", start) + 2
    doubled = tmp_path / "two.xml"
    doubled.write_text(text[:end] + text[start:end] + text[end:])
    assert main(["report", "merge", str(doubled), "-o", str(tmp_path / "m.xml")]) == 2
    assert "two.xml: 2 " in capsys.readouterr().err
    assert not (tmp_path / "m.xml").exists()
