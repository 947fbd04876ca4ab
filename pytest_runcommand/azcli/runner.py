"""Run ``az`` in an environment bound to one emulator: sign in once, then run commands and parse their output."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_runcommand.azcli.environment import CliLogin, cli_environment, setup_commands
from pytest_runcommand.azcli.locate import seed_version_cache
from pytest_runcommand.azcli.proxy import ProxyTrap
from pytest_runcommand.errors import RunCommandError

__all__ = ["AzureCli", "AzureCliError", "CliResult", "mask_args", "prepare_cli"]

_SECRET_FLAGS = frozenset({"-p", "--password", "--run-as-password", "--protected-parameters", "--client-secret"})
"""The CLI options whose values are secrets (masked in error messages)."""


def mask_args(args: Iterable[str]) -> list[str]:
    """The command line with the values of secret options (passwords, protected parameters) masked."""
    masked: list[str] = []
    hiding = False
    for arg in args:
        if arg.startswith("-"):
            name, eq, _ = arg.partition("=")
            hiding = name in _SECRET_FLAGS and not eq
            masked.append(f"{name}=***" if eq and name in _SECRET_FLAGS else arg)
        else:
            masked.append("***" if hiding else arg)
    return masked


class AzureCliError(RunCommandError):
    """An ``az`` command failed: the (masked) command line, and its exit code and error output, or why it did not run.

    ``returncode`` is None when the command did not finish (timed out, or could not be started).
    """

    def __init__(self, args: Sequence[str], returncode: int | None, stderr: str, *, reason: str | None = None) -> None:
        self.args_masked = mask_args(args)
        self.returncode = returncode
        self.stderr = stderr
        outcome = reason if reason is not None else f"exited {returncode}"
        super().__init__(f"`{shlex.join(self.args_masked)}` {outcome}: {stderr.strip() or '(no error output)'}")


@dataclass(frozen=True)
class CliResult:
    """What one ``az`` run produced."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """The output parsed as JSON (None for an empty output)."""
        return json.loads(self.stdout) if self.stdout.strip() else None


def _text(output: str | bytes | None) -> str:
    """What a timed-out process had written (bytes or text, depending on the platform)."""
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


class AzureCli:
    """An Azure CLI environment bound to one emulator: ``run`` / ``json`` execute ``az`` commands in it."""

    def __init__(
        self,
        executable: str,
        env: Mapping[str, str],
        *,
        config_dir: Path,
        base_url: str,
        proxy: ProxyTrap | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.executable = executable
        self.env = dict(env)
        """The environment ``az`` runs in (add variables here for your own scripts)."""
        self.config_dir = config_dir
        self.base_url = base_url
        self.proxy = proxy
        """The proxy trap, when one guards this environment: ``proxy.attempts`` lists requests that tried to leave."""
        self.timeout = timeout

    def run(self, *args: str, check: bool = True, timeout: float | None = None) -> CliResult:
        """Run ``az ARGS...``; with ``check`` a non-zero exit raises :class:`AzureCliError` (secrets masked).

        A run past ``timeout`` seconds (the CLI's own default when None) or an ``az`` that cannot be started raises
        :class:`AzureCliError` whatever ``check`` says.
        """
        limit = self.timeout if timeout is None else timeout
        try:
            completed = subprocess.run(
                [self.executable, *args],
                env=self.env,
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=limit,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            stderr = _text(expired.stderr)
            raise AzureCliError(["az", *args], None, stderr, reason=f"timed out after {limit:g} s") from None
        except OSError as error:
            reason = f"could not be started ({self.executable}: {error.strerror or error})"
            raise AzureCliError(["az", *args], None, "", reason=reason) from None
        result = CliResult(tuple(args), completed.returncode, completed.stdout, completed.stderr)
        if check and completed.returncode != 0:
            raise AzureCliError(["az", *args], completed.returncode, completed.stderr)
        return result

    def json(self, *args: str, timeout: float | None = None) -> Any:
        """Run ``az ARGS... --output json`` (must succeed) and return the parsed output (None when empty)."""
        return self.run(*args, "--output", "json", timeout=timeout).json()

    def script_env(self) -> dict[str, str]:
        """The environment for a user's own shell script calling ``az`` (``$AZ`` names the executable)."""
        env = dict(self.env)
        env["AZ"] = self.executable
        env["PATH"] = os.pathsep.join([str(Path(self.executable).parent), env.get("PATH", "")])
        return env

    def close(self) -> None:
        """Stop the proxy trap (the config dir belongs to the caller)."""
        if self.proxy is not None:
            self.proxy.close()


def prepare_cli(
    executable: str,
    base_url: str,
    ca_path: str,
    login: CliLogin,
    config_dir: str | Path,
    *,
    guard_loopback: bool = True,
    timeout: float = 120.0,
) -> AzureCli:
    """Register the emulator as a cloud in a private config dir, select it and sign in; returns the ready CLI.

    ``guard_loopback`` routes every non-loopback request through a :class:`ProxyTrap` (recorded, refused).
    """
    directory = Path(config_dir)
    directory.mkdir(parents=True, exist_ok=True)
    proxy = ProxyTrap() if guard_loopback else None
    env = cli_environment(directory, ca_path, proxy=proxy)
    cli = AzureCli(executable, env, config_dir=directory, base_url=base_url, proxy=proxy, timeout=timeout)
    try:
        seed_version_cache(executable, directory)
        for args in setup_commands(base_url, login):
            cli.run(*args, "--output", "none")
        if proxy is not None and proxy.attempts:
            raise RunCommandError(f"the Azure CLI tried to leave loopback while signing in: {proxy.attempts}")
    except BaseException:
        cli.close()
        raise
    return cli
