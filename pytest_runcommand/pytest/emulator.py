"""pytest fixtures of the emulator: ``runcommand_emulator`` (in-process) and ``runcommand_emulator_server`` (TLS).

Loaded by the plugin at start-up, so everything it hands out or uses (the handles too) is imported inside the
fixtures.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, cast

import pytest

from pytest_runcommand.pytest.settings import observe_traffic

if TYPE_CHECKING:
    from pytest_runcommand.emulator.clock import ClockPolicy
    from pytest_runcommand.emulator.handles import InProcessEmulator, ServedEmulator
    from pytest_runcommand.emulator.server import EmulatorServer

__all__ = ["runcommand_emulator", "runcommand_emulator_server"]

observe_traffic("runcommand_emulator")
observe_traffic("runcommand_emulator_server", served=lambda handle: (handle.app, handle.base_url))


def _api_version(config: pytest.Config) -> str:
    """``--runcommand-api-version`` / ``runcommand_api_version`` ("": the contract's default)."""
    from pytest_runcommand.pytest.settings import runcommand_settings_of

    return runcommand_settings_of(config).api_version_option


def _strict(config: pytest.Config) -> bool:
    """``--runcommand-emulator-mode`` / ``runcommand_emulator_mode``: strict (the default) or lenient."""
    from pytest_runcommand.pytest.settings import runcommand_settings_of

    return runcommand_settings_of(config).emulator_mode == "strict"


@pytest.fixture
def runcommand_emulator(request: pytest.FixtureRequest) -> Iterator[InProcessEmulator]:
    """A fresh in-process Azure run-command emulator for this test (no socket, no TLS).

    Attributes: ``client`` (an ``httpx.Client`` bound to the ASGI app, sending a bearer token, base URL
    ``http://testserver``), ``backend`` (state: ``add_vm``, ``run_command``, ``clock.advance``, ``settings``),
    ``executor`` (``register(Outcome...)`` per script / commandId; ``runs``), ``app``, ``base_url``,
    ``run_command_path(name, vm=..., resource_group=...)``, ``action_path(vm=...)`` (POST ``.../runCommand``),
    ``catalogue_path(command_id, location=...)``, ``clock`` and ``use_clock(policy)``.

    Clock policy: each request moves the simulated clock 1 s ahead (``per-request``), so a client polling a resource
    sees it finish; ``use_clock("manual")`` freezes it (only ``clock.advance(seconds)`` moves it),
    ``use_clock("realtime")`` follows the wall clock. The policy can also be the fixture's parameter:
    ``@pytest.mark.parametrize("runcommand_emulator", ["manual"], indirect=True)``. Example::

        def test_patch(runcommand_emulator):
            url = runcommand_emulator.run_command_path("rc1")
            runcommand_emulator.client.put(url, json={"location": "westus", "properties": {...}})
            assert runcommand_emulator.client.patch(url, json={"properties": {...}}).status_code == 200
    """
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.credential import fake_token
    from pytest_runcommand.emulator.handles import InProcessEmulator
    from pytest_runcommand.emulator.transport import asgi_client

    app = EmulatorApp()
    app.backend.settings.strict = _strict(request.config)
    app.backend.clock.set_policy(_clock_policy(request), step=DEFAULT_STEP)
    token = fake_token(int(time.time()) + 3600)
    client = asgi_client(app, headers={"Authorization": f"Bearer {token}"})
    try:
        yield InProcessEmulator(
            app=app, base_url="http://testserver", client=client, api_version=_api_version(request.config)
        )
    finally:
        client.close()


@pytest.fixture(scope="session")
def runcommand_emulator_session_server() -> Iterator[EmulatorServer]:
    """The session's emulator server over TLS on 127.0.0.1 (use ``runcommand_emulator_server``, which resets it)."""
    from pytest_runcommand.emulator.server import EmulatorServer

    server = EmulatorServer(tls=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def runcommand_emulator_server(
    runcommand_emulator_session_server: EmulatorServer, request: pytest.FixtureRequest
) -> Iterator[ServedEmulator]:
    """A real emulator server over TLS on 127.0.0.1, shared by the session and reset for this test.

    Attributes: ``base_url`` (``https://127.0.0.1:PORT``), ``ca_path`` (PEM to trust), ``credential`` (a token
    credential the Azure SDK accepts), ``backend``, ``executor``, ``client()`` (a new ``httpx.Client``),
    ``ssl_context()``, ``clock`` and ``use_clock(policy)`` (the same clock policy as ``runcommand_emulator``, also as
    an indirect parameter). Example::

        client = ComputeManagementClient(runcommand_emulator_server.credential, SUBSCRIPTION,
                                         base_url=runcommand_emulator_server.base_url,
                                         connection_verify=runcommand_emulator_server.ca_path)
    """
    from pytest_runcommand.emulator.backend import EmulatorSettings
    from pytest_runcommand.emulator.credential import EmulatorCredential
    from pytest_runcommand.emulator.handles import ServedEmulator

    server = runcommand_emulator_session_server
    _reset(server, EmulatorSettings)
    server.backend.settings.strict = _strict(request.config)
    server.backend.clock.set_policy(_clock_policy(request), step=DEFAULT_STEP)
    observers = list(server.app.observers)
    try:
        yield ServedEmulator(
            app=server.app,
            base_url=server.base_url,
            server=server,
            credential=EmulatorCredential(),
            api_version=_api_version(request.config),
        )
    finally:
        server.app.observers[:] = observers  # observers a test added do not outlive it
        _reset(server, EmulatorSettings)


DEFAULT_STEP = 1.0


def _clock_policy(request: pytest.FixtureRequest) -> ClockPolicy:
    """The fixture's parameter (``indirect=True``), else ``per-request``; a wrong one names the choices."""
    from pytest_runcommand.emulator.clock import CLOCK_POLICIES

    policy = getattr(request, "param", "per-request")
    if policy not in CLOCK_POLICIES:
        raise pytest.UsageError(
            f"{request.fixturename}: the parameter is a clock policy, one of {', '.join(CLOCK_POLICIES)} "
            f"(got {policy!r})"
        )
    return cast("ClockPolicy", policy)


def _reset(server: EmulatorServer, settings_type: type) -> None:
    server.backend.reset()
    server.backend.settings = settings_type()
    server.app.internal_errors.clear()
    server.app.directory = server.identity  # a test may have swapped who can sign in
