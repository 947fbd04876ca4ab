"""``fuzz`` with the emulator target refuses the flags of a URL target (they were ignored without a word)."""

from __future__ import annotations

import pytest

from pytest_runcommand.cli import main


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--live"], "--live"),
        (["--subscription", "00000000-0000-0000-0000-000000000000"], "--subscription"),
        (["--resource-group", "rg", "--vm", "vm1"], "--resource-group, --vm"),
        (["--instance-id", "0"], "--instance-id"),
        (["--ca-cert", "ca.pem"], "--ca-cert"),
        (["--name-prefix", "mine-"], "--name-prefix"),
    ],
)
def test_a_url_targets_flag_with_the_emulator_exits_2_naming_it(
    flags: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fuzz", "--max-examples", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert f"{named}: for a --target URL; the emulator target takes none" in err
    assert "Traceback" not in err
