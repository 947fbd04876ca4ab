"""Where node or the installed SDK is missing, the JavaScript tests skip saying what to do; under CI they fail."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture
def bare(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A copy of the JavaScript test module in a folder with no ``npm ci`` done, outside CI."""
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(test_js=(HERE / "test_jsclient.py").read_text(encoding="utf-8"))
    return pytester


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    # A subprocess: the module's fixtures start a TLS server, whose crypto does not survive an in-process re-run.
    return pytester.runpytest_subprocess("-rsx", "-p", "no:cacheprovider", "-p", "pytester")


def test_without_npm_ci_the_tests_skip_naming_the_command(bare: pytest.Pytester) -> None:
    result = run(bare)
    assert set(result.parseoutcomes()) == {"skipped"}  # every test, none run
    result.stdout.fnmatch_lines(["*@azure/arm-compute is not installed: run `npm ci` in *"])


def test_without_node_the_tests_skip_naming_node(
    bare: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "no-node"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = run(bare)
    assert set(result.parseoutcomes()) == {"skipped"}  # every test, none run
    result.stdout.fnmatch_lines(["*node is not on PATH: install Node.js 20 or later*"])


def test_under_ci_they_fail(bare: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    result = run(bare)
    assert set(result.parseoutcomes()) == {"errors"}  # the expected failures too: a missing SDK is not theirs
    result.stdout.fnmatch_lines(["*CI must run the Azure SDK for JavaScript tests, but *npm ci*"])
