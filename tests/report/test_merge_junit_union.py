"""``report merge`` of JUnit files without a fuzz report inside (other tools', or fuzz files of an older version):
the failures and errors of all inputs are combined, none dropped (review 6, finding 2)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from pytest_runcommand.cli import main


def _junit(path: Path, cases: dict[str, str | None], tag: str = "failure") -> Path:
    suite = ElementTree.Element("testsuite", name="other tool", tests=str(len(cases)))
    for name, text in cases.items():
        case = ElementTree.SubElement(suite, "testcase", classname="c", name=name)
        if text is not None:
            ElementTree.SubElement(case, tag, message=text.split("\n")[0]).text = text
    path.write_text(ElementTree.tostring(suite, encoding="unicode"), encoding="utf-8")
    return path


def _outcomes(path: Path) -> dict[str | None, list[tuple[str, str | None]]]:
    return {c.get("name"): [(o.tag, o.text) for o in c] for c in ElementTree.parse(path).iter("testcase")}


@pytest.mark.parametrize("tag", ["failure", "error"])
def test_the_failures_of_one_test_case_in_several_inputs_are_all_kept(tmp_path: Path, tag: str) -> None:
    one = _junit(tmp_path / "1.xml", {"a": "first reason\n\nshared detail", "b": None}, tag)
    two = _junit(tmp_path / "2.xml", {"a": "second reason\n\nshared detail", "b": "b failed"}, tag)
    out = tmp_path / "m.xml"
    assert main(["report", "merge", str(one), str(two), "-o", str(out)]) == 0
    merged = _outcomes(out)
    assert merged["a"] == [(tag, "first reason\n\nshared detail\n\nsecond reason")]
    assert merged["b"] == [(tag, "b failed")]
    suite = ElementTree.parse(out).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("failures" if tag == "failure" else "errors") == "2"


def test_fuzz_findings_are_told_apart_by_their_key(tmp_path: Path) -> None:
    """A fuzz JUnit file of an older version (no report inside): a finding is one paragraph, ``[key] ...``."""
    first = "[0123456789abcdef] Op: title (HTTP 500)\n  check: c; positive data; seen in 2 cases"
    again = "[0123456789abcdef] Op: title (HTTP 500)\n  check: c; negative data; seen in 1 case"
    other = "[fedcba9876543210] Op: another (HTTP 500)\n  check: c; negative data; seen in 1 case"
    one = _junit(tmp_path / "1.xml", {"a": first})
    two = _junit(tmp_path / "2.xml", {"a": f"{again}\n\n{other}"})
    out = tmp_path / "m.xml"
    assert main(["report", "merge", str(one), str(two), "-o", str(out)]) == 0
    assert _outcomes(out)["a"] == [("failure", f"{first}\n\n{other}")]
