"""The CLI's environment bound to an emulator: private config dir, its CA, quiet settings, cloud and sign-in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pytest_runcommand.azcli.proxy import LOOPBACK, ProxyTrap

__all__ = ["ARM_AUDIENCE", "CLOUD_NAME", "CliLogin", "cli_environment", "setup_commands"]

CLOUD_NAME = "RunCommandEmulator"
"""Name under which the emulator is registered as a cloud in the CLI's config."""
ARM_AUDIENCE = "https://management.core.windows.net/"
"""The Resource Manager audience the CLI asks tokens for."""
_QUIET = {
    "AZURE_CORE_INSTANCE_DISCOVERY": "false",
    "AZURE_CORE_COLLECT_TELEMETRY": "false",
    "AZURE_CORE_ONLY_SHOW_ERRORS": "true",
    "AZURE_CORE_NO_COLOR": "true",
    "AZURE_CORE_DISABLE_PROGRESS_BAR": "true",
    "AZURE_CORE_SURVEY_MESSAGE": "false",
    "AZURE_EXTENSION_USE_DYNAMIC_INSTALL": "no",
}
"""Settings (``az config`` as environment variables) that keep the CLI quiet and on loopback."""


@dataclass(frozen=True)
class CliLogin:
    """The service principal the CLI signs in with (the emulator's directory)."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    subscription: str | None = None


def cli_environment(
    config_dir: str | Path, ca_path: str, *, base: Mapping[str, str] | None = None, proxy: ProxyTrap | None = None
) -> dict[str, str]:
    """The environment an ``az`` bound to the emulator runs in (``base``: os.environ less ``AZURE_*`` settings)."""
    source = os.environ if base is None else base
    env = {
        name: value
        for name, value in source.items()
        if not name.upper().startswith(("AZURE_", "ARM_", "MSAL_"))
        and name.upper() not in {"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
    }
    env.update(_QUIET)
    env["AZURE_CONFIG_DIR"] = str(config_dir)
    env["REQUESTS_CA_BUNDLE"] = str(ca_path)
    if proxy is not None:
        env.update(proxy.environment())
    else:
        no_proxy = [part for part in env.get("NO_PROXY", env.get("no_proxy", "")).split(",") if part]
        env["NO_PROXY"] = env["no_proxy"] = ",".join([*no_proxy, LOOPBACK])
    return env


def setup_commands(base_url: str, login: CliLogin, *, cloud: str = CLOUD_NAME) -> list[list[str]]:
    """The ``az`` argument lists that register the emulator as a cloud, select it and sign in."""
    base = base_url.rstrip("/")
    commands = [
        ["cloud", "register", "--name", cloud, "--endpoint-resource-manager", f"{base}/",
         "--endpoint-active-directory", base, "--endpoint-active-directory-resource-id", ARM_AUDIENCE,
         "--skip-endpoint-discovery"],
        ["cloud", "set", "--name", cloud],
        # --password=VALUE: a secret that starts with "-" must not read as an option
        ["login", "--service-principal", "--username", login.client_id, f"--password={login.client_secret}",
         "--tenant", login.tenant_id],
    ]  # fmt: skip
    if login.subscription is not None:
        commands.append(["account", "set", "--subscription", login.subscription])
    return commands
