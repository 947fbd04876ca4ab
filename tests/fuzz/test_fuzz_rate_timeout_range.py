"""``--rate`` and ``--request-timeout`` have a range, one rule on every route (review 9, finding 9): ``--rate 1e-300``
and ``--request-timeout 1e308`` passed "a positive number" and stopped the run midway with OverflowError; now they
are a usage error naming the setting, before anything is sent."""

from __future__ import annotations

import math

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.targets import (
    CLI_ROUTE,
    RATE_EXPECTED,
    RATE_MIN,
    TIMEOUT_EXPECTED,
    TIMEOUT_MAX,
    TIMEOUT_MIN,
    TargetRequest,
    positive_number,
    resolve_target,
    url_target,
)

NOWHERE = "http://127.0.0.1:9"  # nothing listens: a run that got as far as sending would stop, exit 2, another text
BAD_RATES = ["1e-300", "5e-324", "0.00001", str(RATE_MIN * 0.999)]
BAD_TIMEOUTS = ["1e308", "1e10", "86400.5", "1e-300", "0.0009", str(10**400)]


@pytest.mark.parametrize("rate", BAD_RATES)
def test_the_cli_refuses_a_rate_out_of_range_up_front(rate: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["fuzz", "--target", NOWHERE, "--max-examples", "1", "--rate", rate])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --rate: expected {RATE_EXPECTED}, got {rate!r}" in err
    assert "Overflow" not in err


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS)
def test_the_cli_refuses_a_timeout_out_of_range_up_front(timeout: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["fuzz", "--target", NOWHERE, "--max-examples", "1", "--request-timeout", timeout])
    assert stopped.value.code == 2
    assert f"argument --request-timeout: expected {TIMEOUT_EXPECTED}, got {timeout!r}" in capsys.readouterr().err


def test_the_ends_of_the_ranges_are_taken() -> None:
    assert positive_number("0.0000116", RATE_EXPECTED) == 0.0000116
    assert positive_number(RATE_MIN, RATE_EXPECTED) == RATE_MIN
    assert positive_number("1e308", RATE_EXPECTED) == 1e308  # a fast pace waits nothing: no upper end
    assert positive_number(TIMEOUT_MIN, TIMEOUT_EXPECTED) == TIMEOUT_MIN
    assert positive_number(str(TIMEOUT_MAX), TIMEOUT_EXPECTED) == TIMEOUT_MAX


def test_an_integer_beyond_a_float_is_refused_not_an_overflow() -> None:
    with pytest.raises(UsageError, match="expected a positive number"):
        positive_number(10**400, TIMEOUT_EXPECTED)


@pytest.mark.parametrize(
    ("fields", "name", "expected"),
    [
        ({"rate": 1e-300}, "rate", RATE_EXPECTED),
        ({"request_timeout": 1e308}, "request_timeout", TIMEOUT_EXPECTED),
        ({"request_timeout": 1e-300}, "request_timeout", TIMEOUT_EXPECTED),
    ],
)
def test_the_python_api_holds_the_same_range(fields: dict[str, float], name: str, expected: str) -> None:
    with pytest.raises(UsageError) as raised:
        resolve_target(TargetRequest(target=NOWHERE, **fields), CLI_ROUTE, {})  # type: ignore[arg-type]
    assert str(raised.value) == f"{name}: expected {expected}, got {next(iter(fields.values()))!r}"


def test_url_target_holds_the_range_and_zero_is_unpaced() -> None:
    with pytest.raises(UsageError, match="requests a second"):
        url_target(NOWHERE, token="t", rate=1e-300)
    with pytest.raises(UsageError, match="seconds"):
        url_target(NOWHERE, token="t", request_timeout=math.inf)
    assert url_target(NOWHERE, token="t").guard.rate == 0.0
    assert url_target(NOWHERE, token="t", rate=2.0).guard.rate == 2.0


@pytest.mark.parametrize(
    ("arguments", "shown"),
    [("rate=1e-300", "rate=1e-300"), ("request_timeout=1e308", "request_timeout=1e+308")],
)
def test_the_marker_refuses_them_in_one_line(pytester: pytest.Pytester, arguments: str, shown: str) -> None:
    pytester.makepyfile(
        test_marked=f"""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=1, stateful=False, {arguments})
        def test_fuzz(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "-p", "no:randomly", f"--runcommand-target={NOWHERE}")
    result.assert_outcomes(errors=1)
    expected = RATE_EXPECTED if arguments.startswith("rate") else TIMEOUT_EXPECTED
    result.stdout.fnmatch_lines([f"*{shown}): expected {expected} or None*"])
    assert "Overflow" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()
