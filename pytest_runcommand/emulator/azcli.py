"""Drive the real Azure CLI (``az``) against a served emulator, offline.

:func:`prepare_cli` makes a private CLI environment bound to an emulator URL: its own ``AZURE_CONFIG_DIR``,
``REQUESTS_CA_BUNDLE`` = the emulator's CA, MSAL instance discovery and telemetry off, a custom cloud whose
Resource Manager and Active Directory endpoints are the emulator, then ``az login --service-principal``.
The result, :class:`AzureCli`, runs ``az ...`` in that environment and parses the JSON output.

:func:`render_cli_snippet` prints the same set-up as a shell snippet for a person at a terminal.

azure-cli pins older ``azure-mgmt-*`` packages than this project's test dependencies, so it usually lives
in a venv of its own: :func:`find_az` looks at ``$RUNCOMMAND_AZ`` (path of the ``az`` executable) first,
then ``PATH``. :class:`ProxyTrap` makes sure nothing the CLI does leaves loopback: every proxy variable
points at it, ``NO_PROXY`` covers loopback only, and each connection it receives is recorded (and refused).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_runcommand.errors import RunCommandError

if TYPE_CHECKING:
    from pytest_runcommand.emulator.identity import Directory

__all__ = [
    "AZ_ENV_VAR",
    "CLOUD_NAME",
    "AzureCli",
    "AzureCliError",
    "CliLogin",
    "CliResult",
    "ProxyTrap",
    "cli_environment",
    "find_az",
    "prepare_cli",
    "render_cli_snippet",
    "seed_version_cache",
    "served_cli_snippet",
    "write_cli_snippet",
]

AZ_ENV_VAR = "RUNCOMMAND_AZ"
"""Environment variable naming the ``az`` executable to use (else ``az`` on ``PATH``)."""
CLOUD_NAME = "RunCommandEmulator"
"""Name under which the emulator is registered as a cloud in the CLI's config."""
ARM_AUDIENCE = "https://management.core.windows.net/"
LOOPBACK = "127.0.0.1,localhost,::1,[::1]"
_SECRET_FLAGS = frozenset({"-p", "--password", "--run-as-password", "--protected-parameters", "--client-secret"})
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


class AzureCliError(RunCommandError):
    """An ``az`` command failed: the (masked) command line, exit code and error output."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_masked = mask_args(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(
            f"`{shlex.join(self.args_masked)}` exited {returncode}: {stderr.strip() or '(no error output)'}"
        )


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


def find_az(environ: Mapping[str, str] | None = None) -> str | None:
    """The ``az`` executable: ``$RUNCOMMAND_AZ`` if set (it must exist), else ``az`` on ``PATH``, else None."""
    env = os.environ if environ is None else environ
    configured = env.get(AZ_ENV_VAR, "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file() or not os.access(path, os.X_OK):
            raise RunCommandError(f"${AZ_ENV_VAR}={configured!r} is not an executable file (the Azure CLI's `az`)")
        return str(path)
    return shutil.which("az", path=env.get("PATH"))


class ProxyTrap:
    """A loopback TCP listener every proxy variable points at: records who tried to leave, then hangs up."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.attempts: list[str] = []
        """First line of each request sent to the proxy (``CONNECT host:443 HTTP/1.1``)."""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="runcommand-proxy-trap", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                except OSError:
                    first = "(nothing sent)"
                with self._lock:
                    self.attempts.append(first or "(nothing sent)")
                with contextlib.suppress(OSError):
                    connection.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    def environment(self) -> dict[str, str]:
        """Proxy variables (both spellings) sending everything but loopback here."""
        env: dict[str, str] = {}
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
            env[name] = env[name.lower()] = self.url
        env["NO_PROXY"] = env["no_proxy"] = LOOPBACK
        return env

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the listening thread
        self._socket.close()
        self._thread.join(timeout=5)


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


_VERSIONS_SCRIPT = """
import json, sys
from importlib.metadata import PackageNotFoundError, version
found = {}
for dist, key in (("azure-cli", "azure-cli"), ("azure-cli-core", "core"), ("azure-cli-telemetry", "telemetry")):
    try:
        found[key] = {"local": version(dist)}
    except PackageNotFoundError:
        pass
json.dump(found, sys.stdout)
"""


def _interpreter(executable: str) -> str | None:
    """The Python that runs ``az`` (its ``#!`` line names it for pip installs), or None."""
    try:
        with open(executable, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").split()
    if not parts or "python" not in Path(parts[0]).name:
        return None
    return parts[0]


def seed_version_cache(executable: str, config_dir: str | Path) -> bool:
    """Record the installed CLI versions as freshly checked in ``config_dir``; True when done.

    A CLI's first run in a new config dir otherwise asks its release storage whether it is up to date:
    the one request an offline CLI would send outside loopback.
    """
    python = _interpreter(executable)
    if python is None:
        return False
    try:
        done = subprocess.run([python, "-c", _VERSIONS_SCRIPT], capture_output=True, text=True, timeout=60, check=False)
        versions = json.loads(done.stdout) if done.returncode == 0 else {}
    except (OSError, subprocess.SubprocessError, ValueError):
        return False
    if "azure-cli" not in versions or "core" not in versions:
        return False
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    cache = {"versions": versions, "update_time": now, "check_time": now}
    Path(config_dir, "versionCheck.json").write_text(json.dumps(cache), encoding="utf-8")
    return True


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
        """Run ``az ARGS...``; with ``check`` a non-zero exit raises :class:`AzureCliError` (secrets masked)."""
        command = [self.executable, *args]
        completed = subprocess.run(
            command,
            env=self.env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=self.timeout if timeout is None else timeout,
            check=False,
        )
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


def served_cli_snippet(base_url: str, ca_path: str, directory: Directory) -> str:
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
