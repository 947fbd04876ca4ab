"""The emulator's one token module: mint bearer tokens, and check the ``Authorization`` of each ARM request.

Tokens are unsigned JWT-shaped strings, ``header.claims.emulator`` (nothing secret in them). The check is what ARM
does, for the tokens this emulator can read:

- no ``Authorization`` header: 401 ``AuthenticationFailed``; not ``Bearer <token>``: 401
  ``InvalidAuthenticationToken``;
- an emulator-shaped token whose claims are not a JSON object, or whose ``exp`` is not a finite number or ``aud``
  not a string: 401 ``InvalidAuthenticationToken``; expired: 401 ``ExpiredAuthenticationToken``; issued for another
  resource: 401 ``InvalidAuthenticationTokenAudience``;
- any other bearer token is accepted (the emulator checks no signatures).
"""

from __future__ import annotations

import base64
import math
import re
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any

import orjson

from pytest_runcommand.emulator import errors

__all__ = ["MANAGEMENT_AUDIENCES", "TokenChecker", "caller_of", "claims_of", "fake_token", "mint"]

MANAGEMENT_AUDIENCES = ("https://management.core.windows.net/", "https://management.azure.com/")
"""Resources a token can be issued for (the Azure CLI asks for the first), besides the emulator's own URL."""
_MANAGEMENT = frozenset(audience.rstrip("/") for audience in MANAGEMENT_AUDIENCES)
_SUFFIX = "emulator"
_HEADER_SEGMENT = base64.urlsafe_b64encode(orjson.dumps({"alg": "none", "typ": "JWT"})).rstrip(b"=").decode()
_BEARER = re.compile(r"\s*bearer \s*(\S+)\s*", re.IGNORECASE)
_CACHE_SIZE = 1024


def mint(claims: Mapping[str, Any], *, unique: bool = True) -> str:
    """A token carrying ``claims`` (``unique``: with a random ``jti``, so no two are equal)."""
    if unique:
        claims = {**claims, "jti": secrets.token_urlsafe(12)}
    segment = base64.urlsafe_b64encode(orjson.dumps(dict(claims))).rstrip(b"=").decode()
    return f"{_HEADER_SEGMENT}.{segment}.{_SUFFIX}"


def fake_token(expires_on: int) -> str:
    """A token for ``https://management.azure.com/`` that expires at ``expires_on`` (epoch seconds)."""
    claims = {
        "aud": "https://management.azure.com/",
        "iss": "https://pytest-runcommand.invalid/emulator/",
        "sub": "pytest-runcommand-emulator",
        "exp": expires_on,
    }
    return mint(claims, unique=False)


def claims_of(token: str) -> dict[str, Any] | None:
    """The claims of an emulator-shaped token; None for a token of another shape.

    Raises the 401 ``InvalidAuthenticationToken`` for an emulator-shaped token that cannot be read.
    """
    parts = token.split(".")
    if len(parts) != 3 or parts[2] != _SUFFIX:
        return None
    try:
        claims = orjson.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise errors.invalid_authentication_token() from None
    if not isinstance(claims, dict):
        raise errors.invalid_authentication_token()
    expires, audience = claims.get("exp"), claims.get("aud")
    if expires is not None and (isinstance(expires, bool) or not isinstance(expires, int | float)):
        raise errors.invalid_authentication_token()
    if isinstance(expires, float) and not math.isfinite(expires):
        raise errors.invalid_authentication_token()
    if audience is not None and not isinstance(audience, str):
        raise errors.invalid_authentication_token()
    return claims


class TokenChecker:
    """Authenticates ARM requests; remembers the claims of the last tokens seen (clients reuse a token)."""

    def __init__(self) -> None:
        self._cache: dict[str, dict[str, Any] | errors.ArmError | None] = {}
        self._lock = threading.Lock()

    def authenticate(self, authorization: str | None, own_url: str) -> Mapping[str, Any]:
        """Raise the ARM 401 for a missing, malformed, expired or foreign-audience token; else return its claims
        (empty for a token of another shape)."""
        cached = self._cache.get(authorization) if authorization is not None else None
        if cached is None:
            if authorization is None or not authorization.strip():
                raise errors.authentication_failed()
            cached = self._read(authorization)
        if isinstance(cached, errors.ArmError):
            raise errors.invalid_authentication_token()
        if not cached:  # another token shape: accepted
            return cached
        expires = cached.get("exp")
        now = time.time()
        if expires is not None and expires < now:
            raise errors.expired_authentication_token(expires, now)
        audience = cached.get("aud")
        if audience is None or audience.rstrip("/") in _MANAGEMENT or audience.rstrip("/") == own_url:
            return cached
        raise errors.invalid_token_audience(audience, [*MANAGEMENT_AUDIENCES, f"{own_url}/"])

    def _read(self, authorization: str) -> dict[str, Any] | errors.ArmError:
        found = _BEARER.fullmatch(authorization)
        result: dict[str, Any] | errors.ArmError
        if found is None:
            result = errors.invalid_authentication_token()
        else:
            try:
                result = claims_of(found.group(1)) or {}
            except errors.ArmError as error:
                result = error
        with self._lock:
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.clear()
            self._cache[authorization] = result
        return result


def caller_of(claims: Mapping[str, Any]) -> tuple[str, str] | None:
    """Who a token speaks for, as ``systemData`` names it: ``(upn, "User")`` or ``(appid, "Application")``."""
    for key, kind in (("upn", "User"), ("unique_name", "User"), ("appid", "Application"), ("sub", "Application")):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value, kind
    return None
