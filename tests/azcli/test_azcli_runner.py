"""Running ``az``: masked errors, exit codes, JSON output, the script environment (a stand-in ``az`` script)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.azcli import AzureCli, AzureCliError, CliLogin, mask_args, prepare_cli
from pytest_runcommand.azcli.runner import _SECRET_FLAGS

SECRET_FLAGS = sorted(_SECRET_FLAGS)


def test_mask_args_hides_secret_values() -> None:
    args = ["login", "-p", "s3", "--run-as-password=pw", "--protected-parameters", "a=1", "b=2", "--script", "x"]
    assert mask_args(args) == [
        "login", "-p", "***", "--run-as-password=***", "--protected-parameters", "***", "***", "--script", "x",
    ]  # fmt: skip


secrets = st.text(st.characters(exclude_categories=("Cs",)), min_size=1).filter(lambda s: not s.startswith("-"))
plain = st.sampled_from(["vm", "run-command", "create", "--name", "rc1", "--script", "echo hi", "-g", "rg"])


@given(
    before=st.lists(plain, max_size=4),
    flag=st.sampled_from(SECRET_FLAGS),
    values=st.lists(secrets, min_size=1, max_size=3),
    joined=st.booleans(),
    after=st.lists(plain.filter(lambda a: a.startswith("-")), max_size=1),
)
def test_no_secret_value_survives_masking(
    before: list[str], flag: str, values: list[str], joined: bool, after: list[str]
) -> None:
    """Whatever surrounds it, a secret option's value (``--flag V...`` or ``--flag=V``) is masked, the rest kept."""
    secret_part = [f"{flag}={values[0]}"] if joined else [flag, *values]
    masked = mask_args([*before, *secret_part, *after])
    assert masked[: len(before)] == before
    assert masked[len(before) : len(before) + len(secret_part)] == (
        [f"{flag}=***"] if joined else [flag, *["***"] * len(values)]
    )
    assert masked[len(before) + len(secret_part) :] == after


def test_cli_error_message_masks_the_command_line() -> None:
    error = AzureCliError(["az", "login", "--password", "hunter2"], 1, "ERROR: AADSTS7000215: Invalid client secret\n")
    assert "hunter2" not in str(error)
    assert str(error) == "`az login --password '***'` exited 1: ERROR: AADSTS7000215: Invalid client secret"
    assert AzureCliError(["az", "x"], 2, "  ").args[0].endswith("exited 2: (no error output)")


@pytest.fixture
def fake_az(tmp_path: Path) -> AzureCli:
    """A stand-in ``az``: prints its arguments as JSON, or fails with ``fail``; enough to test the runner itself."""
    script = tmp_path / "bin" / "az"
    script.parent.mkdir()
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = fail ]; then echo "ERROR: no such thing" >&2; exit 3; fi\n'
        'if [ "$1" = quiet ]; then exit 0; fi\n'
        'if [ "$1" = slow ]; then echo "WARNING: thinking" >&2; exec sleep 30; fi\n'
        'printf \'{"args": "%s", "config": "%s"}\' "$*" "$AZURE_CONFIG_DIR"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "AZURE_CONFIG_DIR": str(tmp_path / "cfg")}
    return AzureCli(str(script), env, config_dir=tmp_path / "cfg", base_url="https://127.0.0.1:1", timeout=30)


def test_run_and_json(fake_az: AzureCli, tmp_path: Path) -> None:
    assert fake_az.json("vm", "list") == {"args": "vm list --output json", "config": str(tmp_path / "cfg")}
    assert fake_az.json("quiet") is None
    done = fake_az.run("fail", "--password", "hunter2", check=False)
    assert (done.returncode, done.stderr.strip(), done.args) == (
        3,
        "ERROR: no such thing",
        ("fail", "--password", "hunter2"),
    )
    with pytest.raises(AzureCliError) as raised:
        fake_az.run("fail", "--password", "hunter2")
    assert raised.value.returncode == 3
    assert "hunter2" not in str(raised.value)
    assert "ERROR: no such thing" in str(raised.value)


def test_script_env_puts_this_az_first(fake_az: AzureCli) -> None:
    env = fake_az.script_env()
    assert env["AZ"] == fake_az.executable
    assert env["PATH"].split(":")[0] == str(Path(fake_az.executable).parent)
    assert env["AZURE_CONFIG_DIR"] == fake_az.env["AZURE_CONFIG_DIR"]
    assert "AZ" not in fake_az.env  # a copy


def test_prepare_cli_fails_with_the_masked_command(tmp_path: Path) -> None:
    failing = tmp_path / "failing-az"
    failing.write_text('#!/bin/sh\necho "ERROR: $1 refused" >&2\nexit 1\n', encoding="utf-8")
    failing.chmod(0o755)
    with pytest.raises(AzureCliError) as raised:
        prepare_cli(str(failing), "https://127.0.0.1:1", "/ca.pem", CliLogin("t", "c", "hunter2"), tmp_path / "new")
    assert "ERROR: cloud refused" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    assert (tmp_path / "new").is_dir()


def test_a_hung_az_is_an_error_naming_the_limit(fake_az: AzureCli) -> None:
    with pytest.raises(AzureCliError) as raised:
        fake_az.run("slow", "--password", "hunter2", check=False, timeout=0.5)
    assert raised.value.returncode is None
    assert str(raised.value).startswith("`az slow --password '***'` timed out after 0.5 s")
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize("kind", ["missing", "not executable", "no interpreter"])
def test_an_az_that_cannot_start_is_an_error_naming_it(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "az"
    if kind == "not executable":
        target.write_text("#!/bin/sh\n", encoding="utf-8")
    elif kind == "no interpreter":
        target.write_text("#!/nonexistent/python3\n", encoding="utf-8")
        target.chmod(0o755)
    cli = AzureCli(str(target), {}, config_dir=tmp_path, base_url="https://127.0.0.1:1")
    with pytest.raises(AzureCliError, match="could not be started") as raised:
        cli.run("version", check=False)
    assert str(target) in str(raised.value)
    assert raised.value.returncode is None
