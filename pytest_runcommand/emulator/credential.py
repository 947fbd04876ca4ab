"""A token credential for the emulator: what ``ComputeManagementClient(credential, ...)`` needs, no Azure involved.

The token is an unsigned JWT-shaped string (the emulator accepts any bearer token); nothing secret in it.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, NamedTuple

__all__ = ["EmulatorAccessToken", "EmulatorCredential", "fake_token"]


class EmulatorAccessToken(NamedTuple):
    """Same shape as ``azure.core.credentials.AccessToken``."""

    token: str
    expires_on: int


def _segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fake_token(expires_on: int) -> str:
    """An unsigned JWT for ``https://management.azure.com/`` that expires at ``expires_on`` (epoch seconds)."""
    header = {"alg": "none", "typ": "JWT"}
    claims = {
        "aud": "https://management.azure.com/",
        "iss": "https://pytest-runcommand.invalid/emulator/",
        "sub": "pytest-runcommand-emulator",
        "exp": expires_on,
    }
    return f"{_segment(header)}.{_segment(claims)}.emulator"


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
