"""The CLI set-up as a POSIX shell snippet, for a person pointing their own ``az`` at a served emulator."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Protocol

from pytest_runcommand.azcli.environment import CliLogin, setup_commands
from pytest_runcommand.azcli.proxy import LOOPBACK

__all__ = ["render_cli_snippet", "served_cli_snippet", "write_cli_snippet"]


class _Principal(Protocol):
    @property
    def tenant_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...


class _Directory(Protocol):
    """What the snippet needs of an emulator's directory: the service principal that signs in."""

    @property
    def principal(self) -> _Principal: ...


def render_cli_snippet(base_url: str, ca_path: str, login: CliLogin, *, config_dir: str | None = None) -> str:
    """A POSIX shell snippet pointing an Azure CLI at the emulator (private config dir, CA, cloud, sign-in)."""
    config = shlex.quote(config_dir) if config_dir else '"$(mktemp -d)"'
    lines = [
        "# Point the Azure CLI at this emulator (POSIX shell; a private config dir keeps your real one untouched):",
        f"export AZURE_CONFIG_DIR={config}",
        f"export REQUESTS_CA_BUNDLE={shlex.quote(ca_path)}",
        "export AZURE_CORE_INSTANCE_DISCOVERY=false AZURE_CORE_COLLECT_TELEMETRY=false",
        f'export NO_PROXY="{LOOPBACK}${{NO_PROXY:+,$NO_PROXY}}" no_proxy="{LOOPBACK}${{no_proxy:+,$no_proxy}}"',
    ]
    for args in setup_commands(base_url, login):
        lines.append(shlex.join(["az", *args, "--output", "none", "--only-show-errors"]))
    lines.append("# then e.g.: az vm run-command create -g rg --vm-name vm1 --name rc1 --script 'echo hello'")
    return "\n".join(lines) + "\n"


def served_cli_snippet(base_url: str, ca_path: str, directory: _Directory) -> str:
    """The snippet for a served emulator: sign in as its directory's service principal."""
    principal = directory.principal
    return render_cli_snippet(
        base_url, ca_path, CliLogin(principal.tenant_id, principal.client_id, principal.client_secret)
    )


def write_cli_snippet(path: str | Path, snippet: str) -> None:
    """Write ``snippet`` to ``path`` readable by its owner only (it holds the emulator's client secret)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(snippet)
    target.chmod(0o600)
