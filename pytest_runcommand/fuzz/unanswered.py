"""A target that does not answer: a request that timed out or whose connection dropped, or an answer past
:data:`MAX_ANSWER_BYTES`, is a finding, not a crash.

:func:`unanswered` tells such an error from the others (a certificate that is not trusted, a proxy that fails, or a
target where nothing listens still stop the run: they are the setup's, not the target's); the runner records it
under :data:`TARGET_ANSWERS` with the case's curl line and raises :class:`TargetSilent`, which ends the unit.
"""

from __future__ import annotations

import requests
from urllib3.exceptions import NewConnectionError

__all__ = [
    "MAX_ANSWER_BYTES",
    "TARGET_ANSWERS",
    "AnswerTooLarge",
    "NoFirstAnswer",
    "SpeaksTls",
    "TargetSilent",
    "not_reached",
    "unanswered",
]

TARGET_ANSWERS = "target_answers"
"""The check a request without an answer fails."""
MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""The most of an answer a URL target's session reads (a run-command answer is kilobytes; a cassette holds 64 MiB)."""


class AnswerTooLarge(requests.exceptions.RequestException):
    """A URL target's answer declared or sent more than :data:`MAX_ANSWER_BYTES`: not read further."""


class NoFirstAnswer(requests.exceptions.ConnectionError):
    """An http target closed the connection before answering the run's first request: the setup's (most often a
    server that speaks TLS on that port), not a finding; the run stops."""

    def __init__(self, target: str) -> None:
        super().__init__(f"{target} closed the connection without answering the first request")
        self.target = target


class SpeaksTls(NoFirstAnswer):
    """An http target answered the run's first request that it speaks https on that port (the TLS emulator's answer
    to plain HTTP): the setup's; the run stops."""

    def __init__(self, target: str) -> None:
        requests.exceptions.ConnectionError.__init__(self, f"{target} speaks https on that port")
        self.target = target


def speaks_tls(status: int, content: bytes) -> bool:
    """Whether an answer is the TLS emulator's to a plain-HTTP request (400, error code ``PlainHttpOnTlsPort``)."""
    from pytest_runcommand.emulator.tls_port import PLAIN_HTTP_CODE

    return status == 400 and PLAIN_HTTP_CODE.encode() in content[:200]


class TargetSilent(BaseException):
    """The target did not answer a request of this unit: the rest of the unit is skipped.

    A ``BaseException``, so hypothesis passes it through at once: it neither replays nor shrinks the case (each
    replay would wait for the timeout again), and the stateful state machine stops there.
    """


def unanswered(error: BaseException, timeout: float | None) -> tuple[str, str] | None:
    """``(kind, title)`` of a request error that means the target did not answer; None for any other error (a
    certificate, a proxy, or no connection made at all: nothing listens there, or the name does not resolve)."""
    if isinstance(error, (requests.exceptions.SSLError, requests.exceptions.ProxyError)) or not_reached(error):
        return None
    if isinstance(error, AnswerTooLarge):
        return "too-large", f"The target's answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB"
    if isinstance(error, requests.exceptions.Timeout):
        within = f" within {timeout:g} s" if timeout is not None else ""
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return "connect-timeout", f"The target did not accept the connection{within}"
        return "timeout", f"The target did not answer{within}"
    if isinstance(error, (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return "connection", "The connection failed or was closed before a complete answer"
    return None


def not_reached(error: BaseException) -> bool:
    """Whether no connection was made (refused, or a name that does not resolve): the target is not there."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)  # a connect timeout is a ConnectTimeoutError only
