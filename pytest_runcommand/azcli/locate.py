"""Find the ``az`` to run, and tell a fresh config dir the installed CLI is up to date (no update check)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pytest_runcommand.errors import RunCommandError

__all__ = ["AZ_ENV_VAR", "find_az", "seed_version_cache"]

AZ_ENV_VAR = "RUNCOMMAND_AZ"
"""Environment variable naming the ``az`` executable to use (else ``az`` on ``PATH``)."""


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
    if not isinstance(versions, dict) or "azure-cli" not in versions or "core" not in versions:
        return False
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")
    cache = {"versions": versions, "update_time": now, "check_time": now}
    Path(config_dir, "versionCheck.json").write_text(json.dumps(cache), encoding="utf-8")
    return True
