"""The CLI's environment and set-up commands, without the real CLI."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.azcli import (
    ARM_AUDIENCE,
    CLOUD_NAME,
    LOOPBACK,
    CliLogin,
    ProxyTrap,
    cli_environment,
    setup_commands,
)


def test_cli_environment_is_private_and_loopback_only(tmp_path: Path) -> None:
    base = {
        "PATH": "/bin",
        "AZURE_CONFIG_DIR": "/home/me/.azure",
        "AZURE_CORE_OUTPUT": "table",
        "azure_client_secret": "mine",
        "ARM_CLIENT_SECRET": "mine",
        "MSAL_FORCE_REGION": "x",
        "CURL_CA_BUNDLE": "/etc/ca.pem",
        "NO_PROXY": "corp",
    }
    env = cli_environment(tmp_path, "/ca.pem", base=base)
    assert env["AZURE_CONFIG_DIR"] == str(tmp_path)
    assert env["REQUESTS_CA_BUNDLE"] == "/ca.pem"
    assert env["AZURE_CORE_INSTANCE_DISCOVERY"] == "false"
    assert env["AZURE_CORE_COLLECT_TELEMETRY"] == "false"
    for gone in (
        "AZURE_CORE_OUTPUT",
        "azure_client_secret",
        "ARM_CLIENT_SECRET",
        "MSAL_FORCE_REGION",
        "CURL_CA_BUNDLE",
    ):
        assert gone not in env
    assert env["PATH"] == "/bin"
    assert env["NO_PROXY"].split(",")[:2] == ["corp", "127.0.0.1"]
    assert env["no_proxy"] == env["NO_PROXY"]
    trap = ProxyTrap()
    try:
        guarded = cli_environment(tmp_path, "/ca.pem", base=base, proxy=trap)
        assert guarded["HTTPS_PROXY"] == guarded["http_proxy"] == trap.url
        assert "corp" not in guarded["NO_PROXY"]
    finally:
        trap.close()


names = st.from_regex(
    r"\A(?:azure_|AZURE_|Arm_|ARM_|msal_|MSAL_|REQUESTS_|CURL_|NO_|no_|HOME|PATH|X)[A-Za-z0-9_]{0,12}\Z"
)


@given(base=st.dictionaries(names, st.text(max_size=20), max_size=12))
def test_no_setting_of_the_callers_azure_reaches_the_cli(base: dict[str, str]) -> None:
    """Whatever the caller's environment holds, the CLI sees only its private config, the CA and loopback."""
    env = cli_environment("/private/cfg", "/ca.pem", base=base)
    clean = cli_environment("/private/cfg", "/ca.pem", base={})
    for name, value in env.items():
        upper = name.upper()
        if upper.startswith(("AZURE_", "ARM_", "MSAL_")) or upper in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}:
            assert clean.get(name) == value, name  # set by the harness, never inherited
        elif upper == "NO_PROXY":
            assert value.endswith(LOOPBACK), value
        else:
            assert base[name] == value, name  # anything else passes through unchanged
    assert (env["AZURE_CONFIG_DIR"], env["REQUESTS_CA_BUNDLE"]) == ("/private/cfg", "/ca.pem")


def test_setup_registers_selects_signs_in_and_picks_the_subscription() -> None:
    commands = setup_commands("https://127.0.0.1:8443/", CliLogin("t-1", "c-1", "s", "sub-1"))
    register, select, login, account = commands
    assert register[:3] == ["cloud", "register", "--name"]
    assert register[register.index("--endpoint-resource-manager") + 1] == "https://127.0.0.1:8443/"
    assert register[register.index("--endpoint-active-directory") + 1] == "https://127.0.0.1:8443"
    assert register[register.index("--endpoint-active-directory-resource-id") + 1] == ARM_AUDIENCE
    assert select == ["cloud", "set", "--name", CLOUD_NAME]
    assert login == ["login", "--service-principal", "--username", "c-1", "--password=s", "--tenant", "t-1"]
    assert account == ["account", "set", "--subscription", "sub-1"]
    assert len(setup_commands("https://127.0.0.1:1", CliLogin("t", "c", "s"))) == 3  # no subscription: no account set


@given(secret=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1))
def test_the_secret_is_one_argument_whatever_it_starts_with(secret: str) -> None:
    """``--password=VALUE``: a secret such as "-x..." or "--tenant" cannot read as an option of its own."""
    (login,) = [args for args in setup_commands("https://127.0.0.1:1", CliLogin("t", "c", secret)) if "login" in args]
    assert login.count(f"--password={secret}") == 1
    assert login[-2:] == ["--tenant", "t"]


def test_the_login_repr_hides_the_secret() -> None:
    assert "hunter2" not in repr(CliLogin("t", "c", "hunter2"))
