"""A token credential for the emulator: what ``ComputeManagementClient(credential, ...)`` needs, no Azure involved.

The token comes from :mod:`pytest_runcommand.emulator.tokens` (an unsigned JWT-shaped string); nothing secret in it.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from pytest_runcommand.emulator.tokens import fake_token

__all__ = ["EmulatorAccessToken", "EmulatorCredential", "fake_token"]


class EmulatorAccessToken(NamedTuple):
    """Same shape as ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: int


class EmulatorCredential:
    """A ``TokenCredential`` (``get_token``) that Azure SDK clients accept; good for an hour at a time."""

    def get_token(self, *scopes: str, **kwargs: Any) -> EmulatorAccessToken:
        """Return a fresh fake token, whatever the scopes."""
        expires_on = int(time.time()) + 3600
        try:
            from azure.core.credentials import AccessToken
        except ImportError:  # pragma: no cover - azure-core absent
            return EmulatorAccessToken(fake_token(expires_on), expires_on)
        return AccessToken(fake_token(expires_on), expires_on)  # type: ignore[return-value]

    def close(self) -> None:
        """Nothing to release (present because SDK clients call it)."""

    def __enter__(self) -> EmulatorCredential:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
