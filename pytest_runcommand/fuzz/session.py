"""The HTTP session of a URL target: every request it sends passes the guard and its pace, whoever builds it.

schemathesis's checks send requests of their own (``ignored_auth`` replays a case without its token), and the
clean-up polls operation URLs the target names: all of them go through this session, so none leaves the target's
origin or the live scope. It reads nothing from the environment (no proxy, CA bundle or ``.netrc``): proxies are
the ones the resolver gave the target (none for loopback).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from pytest_runcommand.fuzz.live import Guard, GuardRefusal

__all__ = ["GuardedSession"]


class GuardedSession(requests.Session):
    """A ``requests`` session confined to ``origin`` and to the guard's scope; no environment lookups."""

    def __init__(self, origin: str, guard: Guard, proxies: Mapping[str, str]) -> None:
        super().__init__()
        self.trust_env = False
        self.proxies = dict(proxies)
        self.origin = origin
        self.guard = guard

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        try:
            if not url.startswith(self.origin + "/") or "@" in url.split("?", 1)[0]:
                raise GuardRefusal(f"{request.method} {url.split('?', 1)[0]}: not on the target {self.origin}")
            self.guard.check_scope(str(request.method), url)
        except GuardRefusal:
            self.guard.refused += 1
            raise
        self.guard.pace()
        return super().send(request, **kwargs)
