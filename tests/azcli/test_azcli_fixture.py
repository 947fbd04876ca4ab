"""The ``runcommand_az`` fixture where no CLI is installed: a skip saying how to install it (in CI too), a failure
where ``RUNCOMMAND_REQUIRE_AZ`` asks for the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_runcommand.azcli import AZ_ENV_VAR

TEST = """
def test_uses_the_cli(runcommand_az):
    runcommand_az.run("version")
"""


@pytest.fixture
def no_az(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.Pytester:
    """A pytester whose environment has no ``az``: no RUNCOMMAND_AZ, a PATH without one, not in CI."""
    monkeypatch.delenv(AZ_ENV_VAR, raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("RUNCOMMAND_REQUIRE_AZ", raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    pytester.makepyfile(TEST)
    return pytester


def test_without_the_cli_the_test_skips_saying_how_to_install_it(no_az: pytest.Pytester) -> None:
    result = no_az.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    skipped = result.stdout.str()
    assert "the Azure CLI (`az`) is not installed" in skipped
    assert "pip install azure-cli" in skipped
    assert "RUNCOMMAND_AZ=" in skipped
    assert "-e '.[cli]'" not in skipped  # a wheel user has no source tree to install from


def test_in_a_users_ci_job_a_missing_cli_skips(no_az: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")  # GitHub Actions, GitLab CI and most runners set it for every job
    no_az.runpytest("-p", "no:cacheprovider").assert_outcomes(skipped=1)


@pytest.mark.parametrize("value", ["true", "1", "yes", "TRUE"])
def test_where_the_cli_is_required_a_missing_cli_fails(
    no_az: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("RUNCOMMAND_REQUIRE_AZ", value)
    result = no_az.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*RUNCOMMAND_REQUIRE_AZ is set, but the Azure CLI (`az`) is not installed*"])


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_a_false_requirement_skips(no_az: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("RUNCOMMAND_REQUIRE_AZ", value)
    no_az.runpytest("-p", "no:cacheprovider").assert_outcomes(skipped=1)


def test_a_wrong_runcommand_az_fails_naming_it(no_az: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AZ_ENV_VAR, "/nonexistent/az")
    result = no_az.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*$RUNCOMMAND_AZ='/nonexistent/az' is not an executable file*"])
    assert "Traceback" not in result.stdout.str()
