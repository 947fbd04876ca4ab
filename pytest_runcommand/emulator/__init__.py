"""A stateful emulator of the Azure Resource Manager run-command operations, in-process or served over TLS.

Parts (state, HTTP layer and error envelope kept apart, as moto does):

- :class:`Backend` (``backend.py``, its plain data in ``state.py``, what a write keeps in ``writes.py``): VMs, run
  commands, diagnostic run commands, action runs, async operations, a simulated
  :class:`Clock` (``clock.py``: moved per request, by the wall clock, or by hand), ``reset()``;
  :class:`EmulatorSettings` holds the knobs (auto-created VMs, polls per operation, page size, strictness).
- :class:`FakeExecutor` / :class:`Outcome` (``executor.py``): simulated script runs, registrable per script or
  ``commandId``.
- :class:`EmulatorApp` (``app.py``): the one ASGI app, with its services: run commands (``runcommands.py``,
  validated with the contract engine; managed and, at 2026-04-01, diagnostic), the action run command and the
  location catalogue of built-in commands (``actions.py``, ``catalogue.py`` with its recorded ``catalogue.json``),
  identity (``identity.py``: Entra ID sign-in for a :class:`Directory`) and
  resources (``resources.py``: subscriptions, resource groups, cloud metadata); one request and answer type
  (``asgi.py``), one token module (``tokens.py``), one error mechanism (``errors.py``: :class:`ArmError`,
  Entra ID's ``AadError``). Answers take the shape of the request's api-version (``versions.py``, asking the
  contract's facts).
- :class:`EmulatorServer` (``server.py``): uvicorn on loopback with a throw-away CA; :class:`EmulatorCredential`
  for Azure SDK clients; :func:`asgi_client` for an in-process ``httpx.Client``.
- :class:`InProcessEmulator` / :class:`ServedEmulator` (``handles.py``): what the fixtures hand to a test.

pytest users get the ``runcommand_emulator`` and ``runcommand_emulator_server`` fixtures; the command line
``pytest-runcommand emulator --tls``. Names are imported lazily, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_runcommand._lazy import lazy_exports

if TYPE_CHECKING:
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.backend import Backend, EmulatorSettings, ParentRef
    from pytest_runcommand.emulator.clock import Clock
    from pytest_runcommand.emulator.credential import EmulatorCredential
    from pytest_runcommand.emulator.errors import ArmError
    from pytest_runcommand.emulator.executor import FakeExecutor, Outcome, ScriptRun
    from pytest_runcommand.emulator.handles import EmulatorHandle, InProcessEmulator, ServedEmulator
    from pytest_runcommand.emulator.identity import Directory, ServicePrincipal
    from pytest_runcommand.emulator.server import EmulatorServer
    from pytest_runcommand.emulator.transport import asgi_client

__all__ = [
    "ArmError",
    "Backend",
    "Clock",
    "Directory",
    "EmulatorApp",
    "EmulatorCredential",
    "EmulatorHandle",
    "EmulatorServer",
    "EmulatorSettings",
    "FakeExecutor",
    "InProcessEmulator",
    "Outcome",
    "ParentRef",
    "ScriptRun",
    "ServedEmulator",
    "ServicePrincipal",
    "asgi_client",
]

_HOMES = {
    "ArmError": "errors",
    "Backend": "backend",
    "Clock": "clock",
    "Directory": "identity",
    "EmulatorApp": "app",
    "EmulatorCredential": "credential",
    "EmulatorHandle": "handles",
    "EmulatorServer": "server",
    "EmulatorSettings": "backend",
    "FakeExecutor": "executor",
    "InProcessEmulator": "handles",
    "Outcome": "executor",
    "ParentRef": "backend",
    "ScriptRun": "executor",
    "ServedEmulator": "handles",
    "ServicePrincipal": "identity",
    "asgi_client": "transport",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, __all__)
