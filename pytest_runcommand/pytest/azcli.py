"""pytest fixture ``runcommand_az``: the real Azure CLI, signed in to the served emulator, offline.

Loaded by the plugin at start-up, so everything heavy is imported inside the fixtures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_runcommand.pytest.settings import observe_traffic

if TYPE_CHECKING:
    from pytest_runcommand.azcli import AzureCli
    from pytest_runcommand.emulator.handles import ServedEmulator
    from pytest_runcommand.emulator.server import EmulatorServer

__all__ = ["runcommand_az", "runcommand_az_session"]

# The CLI runs in another process: its traffic is recorded from the served emulator's side, which this fixture
# depends on; declaring it makes a test that uses only runcommand_az observed too.
observe_traffic("runcommand_az")

INSTALL_HINT = (
    "the Azure CLI (`az`) is not installed: it pins older azure-mgmt-* packages, so give it a venv of its own, "
    "e.g. `python -m venv ~/.venv-azcli && ~/.venv-azcli/bin/pip install azure-cli` "
    '(or `pip install "pytest-runcommand[cli]"` in that venv), then `export RUNCOMMAND_AZ=~/.venv-azcli/bin/az` '
    "(or put `az` on PATH)"
)


REQUIRE_AZ_ENV_VAR = "RUNCOMMAND_REQUIRE_AZ"
"""Set (``1``, ``true``, ``yes``) where a missing ``az`` must fail the tests instead of skipping them: a CI job
that installs the CLI and wants to know when it did not (this project's ``.ci/run`` sets it). Unset, they skip,
in CI as anywhere (a user's CI job without the CLI is not broken by it)."""


def _az_required() -> bool:
    return os.environ.get(REQUIRE_AZ_ENV_VAR, "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def runcommand_az_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AzureCli]:
    """The session's CLI environment bound to the session's emulator server (use ``runcommand_az``).

    ``az`` is looked for first: where it is missing the test skips (fails when ``RUNCOMMAND_REQUIRE_AZ`` is set) before any server starts.
    """
    from pytest_runcommand.azcli import CliLogin, find_az, prepare_cli
    from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
    from pytest_runcommand.errors import RunCommandError

    try:
        executable = find_az()
    except RunCommandError as error:
        pytest.fail(str(error), pytrace=False)
    if executable is None:
        if _az_required():
            pytest.fail(f"{REQUIRE_AZ_ENV_VAR} is set, but {INSTALL_HINT}", pytrace=False)
        pytest.skip(INSTALL_HINT)
    server: EmulatorServer = request.getfixturevalue("runcommand_emulator_session_server")
    directory = server.identity
    if directory is None or server.ca_path is None:
        pytest.fail("the session's emulator server does not serve the Azure CLI sign-in endpoints", pytrace=False)
    principal = directory.principal
    login = CliLogin(principal.tenant_id, principal.client_id, principal.client_secret, ZERO_SUBSCRIPTION_ID)
    config_dir = tmp_path_factory.mktemp("azure-cli-config")
    try:
        cli = prepare_cli(executable, server.base_url, server.ca_path, login, config_dir)
    except RunCommandError as error:  # secrets masked in the message
        pytest.fail(f"the Azure CLI ({executable}) could not sign in to the emulator: {error}", pytrace=False)
    try:
        yield cli
    finally:
        cli.close()


@pytest.fixture
def runcommand_az(runcommand_az_session: AzureCli, runcommand_emulator_server: ServedEmulator) -> Iterator[AzureCli]:
    """The real Azure CLI, signed in to ``runcommand_emulator_server`` (reset for this test), offline.

    ``run(*args)`` runs ``az ARGS`` (raises :class:`~pytest_runcommand.azcli.AzureCliError` on a non-zero
    exit, secrets masked), ``json(*args)`` parses its ``--output json``, ``env`` / ``script_env()`` are the
    environment for your own scripts (private ``AZURE_CONFIG_DIR``, the emulator's CA, proxies pointing at a
    trap). Any request that tries to leave loopback fails the test. Inspect what the scripts did through
    ``runcommand_emulator_server.backend`` / ``.executor``. Example::

        def test_deploy_script(runcommand_az, runcommand_emulator_server):
            runcommand_az.run("vm", "run-command", "create", "-g", "rg", "--vm-name", "vm1",
                              "--name", "hello", "--script", "echo hello")
            assert runcommand_emulator_server.executor.runs[-1].script == "echo hello"

    Skips where no ``az`` is found (``$RUNCOMMAND_AZ`` or ``PATH``), except under CI, where it fails.
    """
    proxy = runcommand_az_session.proxy
    seen = len(proxy.attempts) if proxy is not None else 0
    yield runcommand_az_session
    if proxy is not None and len(proxy.attempts) > seen:
        leaks = proxy.attempts[seen:]
        del proxy.attempts[seen:]
        pytest.fail(f"the Azure CLI tried to leave loopback: {leaks}", pytrace=False)
