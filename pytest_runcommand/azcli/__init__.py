"""Drive the real Azure CLI (``az``) against a served emulator, offline: a client harness, not the emulator.

- :func:`find_az` (``locate.py``): the ``az`` to run, ``$RUNCOMMAND_AZ`` first, then ``PATH``;
  :func:`seed_version_cache` keeps its first run from asking its release storage for updates.
- :class:`ProxyTrap` (``proxy.py``): every proxy variable points at a loopback listener that records and refuses
  each request trying to leave loopback.
- :class:`CliLogin`, :func:`cli_environment`, :func:`setup_commands` (``environment.py``): a private config dir,
  the emulator's CA, a custom cloud whose Resource Manager and Active Directory endpoints are the emulator, and
  ``az login --service-principal``.
- :class:`AzureCli`, :func:`prepare_cli` (``runner.py``): runs ``az ...`` in that environment, parses its JSON
  output, masks secrets in its errors (:class:`AzureCliError`).
- :func:`render_cli_snippet` (``snippet.py``): the same set-up as a shell snippet for a person at a terminal.

azure-cli pins older ``azure-mgmt-*`` packages than this project's test dependencies, so it usually lives in a
venv of its own. pytest users get the ``runcommand_az`` fixture.
"""

from __future__ import annotations

from pytest_runcommand.azcli.environment import (
    ARM_AUDIENCE,
    CLOUD_NAME,
    CliLogin,
    cli_environment,
    setup_commands,
)
from pytest_runcommand.azcli.locate import AZ_ENV_VAR, find_az, seed_version_cache
from pytest_runcommand.azcli.proxy import LOOPBACK, ProxyTrap
from pytest_runcommand.azcli.runner import AzureCli, AzureCliError, CliResult, mask_args, prepare_cli
from pytest_runcommand.azcli.snippet import render_cli_snippet, served_cli_snippet, write_cli_snippet

__all__ = [
    "ARM_AUDIENCE",
    "AZ_ENV_VAR",
    "CLOUD_NAME",
    "LOOPBACK",
    "AzureCli",
    "AzureCliError",
    "CliLogin",
    "CliResult",
    "ProxyTrap",
    "cli_environment",
    "find_az",
    "mask_args",
    "prepare_cli",
    "render_cli_snippet",
    "seed_version_cache",
    "served_cli_snippet",
    "setup_commands",
    "write_cli_snippet",
]
