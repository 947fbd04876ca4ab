"""The pytest route as the command line: hypothesis's caches in a temporary folder (nothing in the working directory),
``rate`` and ``request_timeout`` held to ``--rate`` / ``--request-timeout``'s rule, a silent target a finding."""

from __future__ import annotations

import pytest

from pytest_runcommand.fuzz.targets import RATE_EXPECTED, TIMEOUT_EXPECTED
from tests.fuzz.test_fuzz_unanswered import GET, PUT, SilentServer

MODULE = """
import pytest

@pytest.mark.runcommand_fuzz({arguments})
def test_fuzz(runcommand_schema):
    runcommand_schema.fuzz()
"""
ONE = f'max_examples=2, operations=["{GET}"], stateful=False'


def test_a_run_writes_nothing_in_the_working_directory(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It left ``./.hypothesis/`` (hypothesis's ``unicode_data`` and ``constants`` caches), as the CLI did before
    243542e. A fresh process: in this one hypothesis's caches are already in memory and it would write nothing."""
    temporary = pytester.path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.delenv("HYPOTHESIS_STORAGE_DIRECTORY", raising=False)
    pytester.makepyfile(test_marked=MODULE.format(arguments=ONE))
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=1)  # the one operation (stateful=False)
    assert not (pytester.path / ".hypothesis").exists()
    assert list(temporary.iterdir()) == []  # the temporary storage is removed at the end


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ("rate=0", f"rate=0): expected {RATE_EXPECTED} or None"),
        ("rate=-1", f"rate=-1): expected {RATE_EXPECTED} or None"),
        ('rate=float("nan")', f"rate=nan): expected {RATE_EXPECTED} or None"),
        ('rate="x"', f"rate='x'): expected {RATE_EXPECTED} or None"),
        ("request_timeout=0", f"request_timeout=0): expected {TIMEOUT_EXPECTED} or None"),
        ('request_timeout=float("inf")', f"request_timeout=inf): expected {TIMEOUT_EXPECTED} or None"),
        ("request_timeout=True", f"request_timeout=True): expected {TIMEOUT_EXPECTED} or None"),
    ],
)
def test_a_rate_or_timeout_that_is_not_positive_is_one_error_line(
    pytester: pytest.Pytester, arguments: str, message: str
) -> None:
    pytester.makepyfile(test_marked=MODULE.format(arguments=f"{ONE}, {arguments}"))
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*test_marked.py::test_fuzz?wrong-marker?: *{message}*"])
    assert "Traceback" not in result.stdout.str()


def test_a_silent_target_fails_each_part_with_target_answers(pytester: pytest.Pytester) -> None:
    server = SilentServer("sleep")
    try:
        arguments = f'max_examples=3, operations=["{PUT}", "{GET}"], request_timeout=0.2, rate=50'
        pytester.makepyfile(test_marked=MODULE.format(arguments=arguments))
        target = f"--runcommand-target=http://127.0.0.1:{server.port}"
        result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p", "no:randomly", target)
    finally:
        server.close()
    result.assert_outcomes(failed=3)  # the two operations and the stateful sequences
    # each failure's report, before the short summary (which repeats the messages whole when CI is set)
    output = result.stdout.str().partition("short test summary info")[0]
    assert output.count("check: target_answers;") == 3
    assert "The target did not answer within 0.2 s" in output
