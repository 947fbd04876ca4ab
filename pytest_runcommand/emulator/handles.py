"""What the emulator fixtures hand to a test: the app, its state, a client, and URL helpers.

Light module (no heavy imports at load time): the pytest plugin imports it at start-up.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    import httpx

    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.backend import Backend
    from pytest_runcommand.emulator.clock import Clock, ClockPolicy
    from pytest_runcommand.emulator.credential import EmulatorCredential
    from pytest_runcommand.emulator.executor import FakeExecutor
    from pytest_runcommand.emulator.faults import Fault, Faults
    from pytest_runcommand.emulator.server import EmulatorServer

    DEFAULT_SUBSCRIPTION: str

__all__ = ["DEFAULT_SUBSCRIPTION", "EmulatorHandle", "InProcessEmulator", "ServedEmulator"]


def __getattr__(name: str) -> str:
    """``DEFAULT_SUBSCRIPTION``: the contract's zero subscription id, read on first use (keeps start-up light)."""
    if name == "DEFAULT_SUBSCRIPTION":
        from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID

        return ZERO_SUBSCRIPTION_ID
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class EmulatorHandle:
    """Shared helpers of both fixtures."""

    app: EmulatorApp
    base_url: str
    api_version: str = field(default="", kw_only=True)
    """The api-version the path helpers send ("": the contract's default; the fixtures set the run's
    ``--runcommand-api-version``)."""

    @property
    def backend(self) -> Backend:
        """The emulator's state: seed VMs, inspect run commands, move ``backend.clock``, change ``settings``."""
        return self.app.backend

    @property
    def executor(self) -> FakeExecutor:
        """The fake script executor: ``register(Outcome...)`` per script / commandId, ``runs`` to inspect."""
        from pytest_runcommand.emulator.executor import FakeExecutor

        executor = self.app.backend.executor
        if not isinstance(executor, FakeExecutor):
            raise TypeError(f"this emulator runs a custom executor ({type(executor).__name__}), not FakeExecutor")
        return executor

    @property
    def faults(self) -> Faults:
        """Scripted faults: ``load(path_or_mapping)``, ``add(match=..., times=..., respond=...)``, ``clear()``,
        ``log``; cleared between tests (with ``backend.reset()``)."""
        return self.app.faults

    def load_scenario(self, source: str | Path | Mapping[str, Any]) -> list[Fault]:
        """Add the faults of a scenario file (JSON or YAML) or mapping; a bad one is a ``ScenarioError`` naming the
        file, the fault and the field."""
        return self.app.faults.load(source)

    @property
    def clock(self) -> Clock:
        """The emulator's simulated clock (``advance(seconds)``, ``now()``, ``policy``)."""
        return self.app.backend.clock

    def use_clock(self, policy: ClockPolicy, *, step: float | None = None) -> Clock:
        """Choose how the clock moves for the rest of this test.

        ``"per-request"`` (the fixtures' default): each request moves it ``step`` seconds (1 s) ahead, so a client
        polling a resource sees it finish; ``"realtime"``: it follows the wall clock; ``"manual"``: frozen, only
        ``clock.advance(seconds)`` moves it. The policy can also be given as the fixture's parameter::

            @pytest.mark.parametrize("runcommand_emulator", ["manual"], indirect=True)
        """
        self.clock.set_policy(policy, step=step)
        return self.clock

    def run_command_path(
        self,
        name: str | None = None,
        *,
        vm: str = "vm1",
        resource_group: str = "rg",
        subscription: str | None = None,
        api_version: str | None = "default",
    ) -> str:
        """Path (and ``?api-version=``) of a VM's run command, or of its list when ``name`` is None.

        ``subscription`` defaults to the zero subscription id, ``api_version`` to the handle's (the run's
        ``--runcommand-api-version``, else the contract's default; None: no query). Each name is percent-encoded
        as the Azure SDKs encode it (``a/b`` is ``a%2Fb``, one segment, which ARM refuses as a name).
        """
        from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
        from pytest_runcommand.emulator.runcommands import quote_query
        from pytest_runcommand.emulator.runcommands import quote_segment as q

        subscription = subscription or ZERO_SUBSCRIPTION_ID
        api_version = self._version("") if api_version == "default" else api_version
        path = (
            f"/subscriptions/{q(subscription)}/resourceGroups/{q(resource_group)}/providers/Microsoft.Compute/"
            f"virtualMachines/{q(vm)}/runCommands"
        )
        if name is not None:
            path += f"/{q(name)}"
        return path if api_version is None else f"{path}?api-version={quote_query(api_version)}"

    def action_path(
        self, *, vm: str = "vm1", resource_group: str = "rg", subscription: str | None = None, api_version: str = ""
    ) -> str:
        """Path and query of a VM's action run command (POST ``.../runCommand``); ``api_version`` defaults to the
        handle's."""
        base = self.run_command_path(vm=vm, resource_group=resource_group, subscription=subscription, api_version=None)
        return self._query(base.removesuffix("/runCommands") + "/runCommand", api_version)

    def catalogue_path(
        self, command_id: str | None = None, *, location: str = "westus", subscription: str | None = None,
        api_version: str = "",
    ) -> str:  # fmt: skip
        """Path and query of the location catalogue of built-in commands, or of one command's document."""
        from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
        from pytest_runcommand.emulator.runcommands import quote_segment as q

        path = f"/subscriptions/{q(subscription or ZERO_SUBSCRIPTION_ID)}/providers/Microsoft.Compute/locations/"
        path += q(location) + "/runCommands" + (f"/{q(command_id)}" if command_id is not None else "")
        return self._query(path, api_version)

    def _version(self, api_version: str) -> str:
        from pytest_runcommand.contract.facts import DEFAULT_API_VERSION

        return api_version or self.api_version or DEFAULT_API_VERSION

    def _query(self, path: str, api_version: str) -> str:
        from pytest_runcommand.emulator.runcommands import quote_query

        return f"{path}?api-version={quote_query(self._version(api_version))}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this emulator."""
        return self.base_url + path


@dataclass
class InProcessEmulator(EmulatorHandle):
    """The ``runcommand_emulator`` fixture's value: the app in-process, fresh for each test."""

    client: httpx.Client
    """An ``httpx.Client`` bound to the app (no socket), sending a bearer token."""


@dataclass
class ServedEmulator(EmulatorHandle):
    """The ``runcommand_emulator_server`` fixture's value: a real TLS server on loopback."""

    server: EmulatorServer
    credential: EmulatorCredential
    """A token credential Azure SDK clients accept (``ComputeManagementClient(credential, ...)``)."""

    @property
    def ca_path(self) -> str:
        """The CA bundle (PEM) to trust: ``connection_verify=`` for the Azure SDK, ``verify=`` for others."""
        assert self.server.ca_path is not None
        return self.server.ca_path

    def ssl_context(self) -> ssl.SSLContext:
        """An SSL context trusting only the emulator's CA."""
        return ssl.create_default_context(cafile=self.ca_path)

    def client(self, **kwargs: Any) -> httpx.Client:
        """A new ``httpx.Client`` for the server, trusting its CA and sending a bearer token (close it).

        Proxy variables (``HTTPS_PROXY``, ...) are not read: the server is on loopback (``trust_env=True`` reads them
        again, with ``NO_PROXY`` naming 127.0.0.1)."""
        import time

        import httpx

        from pytest_runcommand.emulator.credential import fake_token

        token = fake_token(int(time.time()) + 3600)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        kwargs.setdefault("trust_env", False)
        return httpx.Client(base_url=self.base_url, verify=self.ssl_context(), headers=headers, **kwargs)
