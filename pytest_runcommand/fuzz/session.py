"""The HTTP session of a URL target: every request it sends passes the guard and its pace, whoever builds it.

schemathesis's checks send requests of their own (``ignored_auth`` replays a case without its token), and the
clean-up polls operation URLs the target names: all of them go through this session, so none leaves the target's
origin or the live scope. It reads nothing from the environment (no proxy, CA bundle or ``.netrc``): proxies are
the ones the resolver gave the target (none for loopback). An answer is read up to
:data:`~pytest_runcommand.fuzz.unanswered.MAX_ANSWER_BYTES` (a target sending more is a finding, not a run that
fills the memory), and each exchange, connect to the answer's last byte, within the session's ``timeout`` (the
target's ``--request-timeout``; see :mod:`~pytest_runcommand.fuzz.deadline`): past it, a ``ReadTimeout``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from pytest_runcommand.fuzz import unanswered
from pytest_runcommand.fuzz.deadline import Deadline, DeadlineAdapter, exchange_deadline
from pytest_runcommand.fuzz.live import Guard, GuardRefusal

__all__ = ["GuardedSession"]


class GuardedSession(requests.Session):
    """A ``requests`` session confined to ``origin`` and to the guard's scope; no environment lookups; each exchange
    over within ``timeout`` seconds."""

    def __init__(self, origin: str, guard: Guard, proxies: Mapping[str, str], timeout: float) -> None:
        super().__init__()
        self.trust_env = False
        self.proxies = dict(proxies)
        self.origin = origin
        self.guard = guard
        self.timeout = timeout
        self.mount("http://", DeadlineAdapter())
        self.mount("https://", DeadlineAdapter())

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self._admit(request)
        self.guard.pace()
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        with exchange_deadline(self.timeout) as deadline:
            try:
                response = _read_bounded(super().send(request, **{**kwargs, "stream": True}))
            except Exception as error:
                if deadline.passed and not isinstance(error, (unanswered.AnswerTooLarge, requests.ConnectTimeout)):
                    raise _cut(request, deadline) from error
                raise
        if deadline.passed:  # an answer ended by the cut (one delimited by the connection's close looks whole)
            response.close()
            raise _cut(request, deadline)
        return response

    def _admit(self, request: requests.PreparedRequest) -> None:
        """Raise :class:`GuardRefusal` (counted) for a request off the target's origin or outside the scope."""
        url = request.url or ""
        try:
            if not url.startswith(self.origin + "/") or "@" in url.split("?", 1)[0]:
                raise GuardRefusal(f"{request.method} {url.split('?', 1)[0]}: not on the target {self.origin}")
            self.guard.check_scope(str(request.method), url)
        except GuardRefusal as refusal:
            self.guard.count(refusal)
            raise


def _cut(request: requests.PreparedRequest, deadline: Deadline) -> requests.ReadTimeout:
    """The error of an exchange the deadline ended: a read timeout naming ``--request-timeout``'s value."""
    message = f"{request.method}: no complete answer within {deadline.seconds:g} s (the request timeout)"
    return requests.ReadTimeout(message, request=request)


def _read_bounded(response: requests.Response) -> requests.Response:
    """``response`` with its body read, as ``send`` without ``stream`` reads it, but never past the bound (an
    event stream is left to its reader, which reads it to its own cut)."""
    limit = unanswered.MAX_ANSWER_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise unanswered.AnswerTooLarge(f"the answer declares {declared} bytes", response=response)
    if "text/event-stream" in response.headers.get("content-type", "").lower():
        return response
    content = bytearray()
    for chunk in response.iter_content(1024 * 1024):
        content += chunk
        if len(content) > limit:
            response.close()
            raise unanswered.AnswerTooLarge(f"the answer passed {limit} bytes", response=response)
    response._content = bytes(content)
    response._content_consumed = True  # type: ignore[attr-defined]
    return response
