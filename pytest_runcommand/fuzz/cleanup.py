"""The end of a scoped run: delete what it created, wait for each delete to finish, say what remains.

Each run command the guard saw created (a PUT answered 201, or one to a name seen absent) is deleted; one that existed
before the run never is, and a note names each the run wrote to. No redirect is followed: a DELETE answered 3xx is not
done. A 202 is followed by polling its ``Azure-AsyncOperation`` (or ``Location``) URL, only on the target's own origin
and inside the scope, until the operation ends or :data:`CLEANUP_TIMEOUT` passes; then a GET must answer 404. Every
run command not confirmed gone is listed in ``report.remaining`` (the run fails on it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.live import GuardRefusal
from pytest_runcommand.fuzz.targets import Target

__all__ = ["CLEANUP_TIMEOUT", "MAX_SURVEY_PAGES", "clean_up", "retry_after", "survey"]

CLEANUP_TIMEOUT = 120.0
"""Seconds a delete may take to finish, per run command."""
MAX_SURVEY_PAGES = 20
"""Pages of the VM's run-command list read before a live run (ARM pages them)."""
_MAX_RETRY_AFTER = 5.0
_ZERO_BACKOFF = 0.05
"""The wait before the second poll of a target that says ``Retry-After: 0`` (then doubled, to 1 s)."""
_TERMINAL = {"succeeded", "failed", "canceled", "cancelled"}


class _Remains(Exception):
    """The run command may still exist: the message says why."""


class _Cleaner:
    def __init__(self, target: Target, session: Any, sleep: Callable[[float], None], clock: Callable[[], float]):
        self.target, self.session, self.sleep, self.clock = target, session, sleep, clock
        self.origin = target.url.origin if target.url is not None else target.base_url

    def request(self, method: str, url: str) -> Any:
        import requests

        self.target.guard.check_scope(method, url)
        try:
            return self.session.request(
                method,
                url,
                headers=self.target.headers,
                verify=self.target.tls_verify,
                timeout=self.target.request_timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise _Remains(f"{method} failed: {type(error).__name__}") from None

    def wait(self, response: Any, deadline: float) -> str:
        """Poll the operation a 202 names until it ends; returns its end state."""
        monitor = response.headers.get("Azure-AsyncOperation") or response.headers.get("Location")
        if not monitor:
            raise _Remains("answered 202 with no operation to poll")
        if not monitor.startswith(self.origin + "/") or "@" in monitor or "\\" in monitor:
            raise _Remains("its operation URL is not on the target's origin (not polled)")
        azure_async = "Azure-AsyncOperation" in response.headers
        polls = 0
        while True:
            delay = retry_after(response.headers.get("Retry-After"), polls)
            if self.clock() + delay > deadline:
                raise _Remains(f"the delete did not finish within {CLEANUP_TIMEOUT:g}s")
            self.sleep(delay)
            try:
                response = self.request("GET", monitor)
            except GuardRefusal:
                raise _Remains("its operation URL is outside the scope (not polled)") from None
            polls += 1
            code = response.status_code
            if azure_async:
                if code != 200:
                    raise _Remains(f"polling its operation answered {code}")
                status = str(_json(response).get("status", "")).lower()
                if status in _TERMINAL:
                    return f"{status} after {polls} poll{'s' if polls != 1 else ''}"
            elif code in (200, 204, 404):
                return f"done after {polls} poll{'s' if polls != 1 else ''}"
            elif code != 202:
                raise _Remains(f"polling its operation answered {code}")

    def delete(self, path: str, api_version: str) -> str:
        url = f"{self.origin}{path}?api-version={api_version}"
        response = self.request("DELETE", url)
        status = response.status_code
        said = f"DELETE {path}: {status}"
        if 300 <= status < 400:
            raise _Remains(f"{said} (redirects are not followed)")
        if status == 202:
            said += f", operation {self.wait(response, self.clock() + CLEANUP_TIMEOUT)}"
        elif status not in (200, 204, 404):
            raise _Remains(said)
        check = self.request("GET", url).status_code
        if check != 404:
            raise _Remains(f"{said}; a GET still answers {check}")
        return said + ", gone"


def survey(
    target: Target,
    session: Any,
    api_version: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str | None:
    """Before a scoped run: list the VM's run commands and mark those named with the run's prefix as there before it
    (the run never writes to nor deletes them, even when its first request to one is a DELETE). A note when the list
    could not be read whole (then only what the run's own answers show protects them)."""
    guard = target.guard
    if guard.scope is None or session is None:
        return None
    cleaner = _Cleaner(target, session, sleep, clock)
    path = f"{guard.base_path}{guard.scope.parent_path}/runCommands"
    url: str | None = f"{cleaner.origin}{path}?api-version={api_version}"
    pages = 0
    while url is not None and pages < MAX_SURVEY_PAGES:
        pages += 1
        try:
            response = cleaner.request("GET", url)
        except (_Remains, GuardRefusal) as reason:
            return f"the run commands that existed before the run could not be listed ({reason})"
        if response.status_code != 200:
            return f"the run commands that existed before the run could not be listed (GET answered {response.status_code})"
        body = _json(response)
        for item in body.get("value") or ():
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name.startswith(guard.scope.name_prefix):
                guard.existed(f"{path}/{name}")
        link = body.get("nextLink")
        url = link if isinstance(link, str) and link.startswith(cleaner.origin + "/") else None
    if url is not None:
        return f"the run commands that existed before the run were listed to {MAX_SURVEY_PAGES} pages only"
    return None


def clean_up(
    target: Target,
    session: Any,
    api_version: str,
    report: FuzzReport,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Delete every run command the run created (scoped targets only); lines go to ``report.cleanup``, and a note
    names the run commands that existed before the run and that it wrote to (kept)."""
    guard = target.guard
    theirs = guard.preexisting()
    if theirs:
        writes = ", ".join(
            f"{unquote(path.rsplit('/', 1)[1])} ({', '.join(guard.preexisting_writes(path))})" for path in theirs
        )
        report.notes.append(
            f"the run wrote to {len(theirs)} run command(s) that existed before the run (not created by it, so not "
            f"deleted: check them) under {unquote(theirs[0].rsplit('/', 1)[0])}: {writes}"
        )
    if guard.scope is None or session is None:
        return
    cleaner = _Cleaner(target, session, sleep, clock)
    for path in guard.created():
        try:
            report.cleanup.append(cleaner.delete(path, api_version))
        except (_Remains, GuardRefusal) as reason:
            report.cleanup.append(f"{path} remains: {reason}")
            report.remaining.append(path)
        else:
            guard.forget(path)


def retry_after(value: str | None, polls: int = 0) -> float:
    """Seconds to wait before the next poll, as a ``Retry-After`` value says (1 when absent or not a number; at most
    5). ``polls``: how many polls were sent already; a target that keeps saying 0 is polled at once the first time,
    then after 0.05 s, doubling to 1 s (not in a tight loop for minutes)."""
    try:
        seconds = min(max(float(value or 1), 0.0), _MAX_RETRY_AFTER)
    except ValueError:
        return 1.0
    if seconds == 0.0 and polls:
        return min(_ZERO_BACKOFF * 2.0 ** (polls - 1), 1.0)
    return seconds


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
