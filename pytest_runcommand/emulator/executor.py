"""Simulated script execution: what "running" a run command on a VM produces, on the simulated clock.

The backend hands every run (each PUT or PATCH re-runs the script, as Azure does) to an :class:`Executor`.
The default :class:`FakeExecutor` is deterministic: it records what ran and answers the output of the
script's ``echo`` / ``Write-Host`` / ``Write-Output`` lines (``$name`` bound to the named ``parameters``, never to
protected ones) with exit code 0, unless a test registered
another :class:`Outcome` for that script, ``commandId`` or ``scriptUri``::

    emulator.executor.register(Outcome.failure(exit_code=3, error="disk full"), command_id="RunShellScript")
    emulator.executor.register(Outcome.hang(), script="sleep 1000")

An :class:`Execution` turns an outcome into the instance view at any simulated instant:
``Pending`` -> ``Running`` -> ``Succeeded`` / ``Failed`` / ``TimedOut``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "DeferredRun",
    "Execution",
    "ExecutionView",
    "Executor",
    "FakeExecutor",
    "Outcome",
    "ScriptRun",
    "execution",
    "plain_outcome",
    "script_run",
]

DEFAULT_TIMEOUT_SECONDS = 5400
"""Timeout applied when ``timeoutInSeconds`` is 0 or unset (90 minutes, the documented default)."""

NO_SOURCE_MESSAGE = (
    "Execution failed: failed to get configuration: invalid configuration: "
    "Either 'source.script' or 'source.scriptUri' has to be specified"
)


@dataclass(frozen=True)
class Outcome:
    """What a script does when it runs.

    ``output`` None means "derive it from the script's echo lines". ``duration`` and ``start_delay`` are in
    simulated seconds; ``hangs`` means it never finishes on its own (only the timeout ends it).
    """

    output: str | None = None
    error: str = ""
    exit_code: int = 0
    duration: float = 0.0
    start_delay: float = 0.0
    hangs: bool = False
    message: str | None = None
    """``executionMessage`` override."""

    @classmethod
    def success(cls, output: str = "", *, duration: float = 0.0) -> Outcome:
        """Exit code 0 with this output."""
        return cls(output=output, duration=duration)

    @classmethod
    def failure(cls, exit_code: int = 1, *, error: str = "", output: str = "", duration: float = 0.0) -> Outcome:
        """A non-zero exit code, with an error stream."""
        if exit_code == 0:
            raise ValueError("a failure needs a non-zero exit code")
        return cls(output=output, error=error, exit_code=exit_code, duration=duration)

    @classmethod
    def hang(cls, output: str = "") -> Outcome:
        """Never finishes; ``timeoutInSeconds`` ends it as ``TimedOut``."""
        return cls(output=output, hangs=True)


@dataclass(frozen=True, slots=True)
class ScriptRun:
    """One execution request, as the VM agent would receive it. Protected values are kept out of repr. Slotted:
    one per write, thousands kept."""

    resource_id: str
    run_command_name: str
    requested_at: datetime
    script: str | None = None
    script_uri: str | None = None
    command_id: str | None = None
    gallery_script_reference_id: str | None = None
    """A gallery script version's resource id (a script source from api-version 2025-04-01)."""
    script_shell: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()
    protected_parameters: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    run_as_user: str | None = None
    timeout_in_seconds: int = 0
    async_execution: bool = False

    @property
    def has_source(self) -> bool:
        """Whether any script source was given."""
        return bool(self.script or self.script_uri or self.command_id or self.gallery_script_reference_id)


SCRIPT_RUN_FIELDS = tuple(item.name for item in fields(ScriptRun) if item.name != "requested_at")
"""The fields of a :class:`ScriptRun` but the time it was requested, in order (what :func:`script_run` takes)."""


def _draft_of(cls: type) -> type:
    """A plain class with ``cls``'s slots (the same layout): an instance of it is filled by plain attribute stores
    and then made a ``cls`` by assigning its ``__class__``, which Python allows between classes of the same slots.
    What ``cls``'s frozen ``__init__`` makes, without its ``object.__setattr__`` call per field (a fifth of the
    cost; each PUT, PATCH and action makes a :class:`ScriptRun` and an :class:`Execution`)."""
    return type(f"_{cls.__name__}Draft", (), {"__slots__": cls.__dict__["__slots__"], "__module__": __name__})


_ScriptRunDraft: Any = _draft_of(ScriptRun)


def script_run(requested_at: datetime, values: tuple[Any, ...]) -> ScriptRun:
    """``ScriptRun(requested_at=requested_at, **dict(zip(SCRIPT_RUN_FIELDS, values)))``: made as a draft and turned
    into a ScriptRun (:func:`_draft_of`)."""
    run = _ScriptRunDraft()
    (
        run.resource_id,
        run.run_command_name,
        run.script,
        run.script_uri,
        run.command_id,
        run.gallery_script_reference_id,
        run.script_shell,
        run.parameters,
        run.protected_parameters,
        run.run_as_user,
        run.timeout_in_seconds,
        run.async_execution,
    ) = values  # in the order of SCRIPT_RUN_FIELDS (the test of the fast paths holds them to it)
    run.requested_at = requested_at
    run.__class__ = ScriptRun
    return run  # type: ignore[no-any-return]


class Executor(Protocol):
    """Decides the outcome of each script run."""

    def run(self, request: ScriptRun) -> Outcome:
        """Return what running ``request`` produces."""
        ...


Matcher = Callable[[ScriptRun], bool]

_ECHO = re.compile(r"\s*(?:echo|Write-Host|Write-Output)\s", re.IGNORECASE)
"""An echo line's start: the command and a blank; what it prints is split off in code, in time linear in the line (a
pattern for the whole line backtracked cubically over a long run of blanks, and the emulator answered no one)."""


def _echoed_text(line: str) -> str | None:
    """What an echo line prints (its argument, blanks and one ``;`` stripped, one pair of quotes removed); None when
    the line is no echo."""
    match = _ECHO.match(line)
    if match is None:
        return None
    text = line[match.end() :].strip()
    if text.endswith(";"):
        text = text[:-1].rstrip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


@lru_cache(maxsize=256)
def _echo_output(script: str) -> str:
    lines = []
    for line in script.splitlines():
        text = _echoed_text(line)
        if text is not None:
            lines.append(text)
    return "".join(f"{line}\n" for line in lines)


@lru_cache(maxsize=256)
def _echoed(script: str, parameters: tuple[tuple[str, str], ...]) -> Outcome:
    """The default outcome of ``script``: its echo lines, parameters bound, exit code 0 (an immutable value: shared)."""
    return Outcome(output=_bind(_echo_output(script), parameters))


_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _bind(output: str, parameters: tuple[tuple[str, str], ...]) -> str:
    """``output`` with ``$name`` / ``${name}`` replaced by the named parameter's value (names case-insensitive, as
    PowerShell binds ``param($name)`` and the Linux agent exports them). Protected parameters are never bound: the
    fake VM prints no secret unless a test registers one."""
    if not parameters or "$" not in output:
        return output
    values = {name.lower(): value for name, value in parameters}
    return _REFERENCE.sub(lambda match: values.get(match.group(1).lower(), match.group(0)), output)


_NO_SOURCE = Outcome(output="", message=NO_SOURCE_MESSAGE, exit_code=0, error="")
"""The outcome of a run that names no script source (an immutable value: shared)."""


def plain_outcome(request: ScriptRun) -> Outcome:
    """What a run does when no rule and no default say otherwise: its echo lines printed, parameters bound, exit code
    0; a run naming no script source fails (:data:`NO_SOURCE_MESSAGE`). A function of the run alone."""
    if not (request.script or request.script_uri or request.command_id or request.gallery_script_reference_id):
        return _NO_SOURCE  # not request.has_source
    return _echoed(request.script or "", request.parameters)


class DeferredRun(Protocol):
    """A run recorded before its :class:`ScriptRun` is made (:meth:`FakeExecutor.defer`): its execution, made when
    first read."""

    @property
    def execution(self) -> Execution | None: ...


class FakeExecutor:
    """The default executor: deterministic, records every run, behaviour registrable per script."""

    def __init__(self) -> None:
        self._rules: list[tuple[Matcher, Outcome]] = []
        self._lock = threading.Lock()
        self._runs: list[ScriptRun | DeferredRun] = []
        self._deferred = False
        """Whether :attr:`_runs` holds a deferred run (made a ScriptRun when :attr:`runs` is read)."""
        self._read = False
        """Whether :attr:`runs` was read (a caller may hold the list: no run is deferred from then on)."""
        self.max_runs = 10_000
        """How many runs :attr:`runs` keeps; older ones are forgotten (bounded memory, as for operations)."""
        self.default: Outcome | None = None
        """Outcome for runs no rule matches (None: echo the script's output, exit code 0)."""
        self._last_echoed: tuple[str | None, tuple[tuple[str, str], ...] | None, Outcome | None] = (None, None, None)
        """The latest script and parameters echoed, and their outcome (writes run the same script again and again:
        compared without the echo cache's hashing)."""

    @property
    def runs(self) -> list[ScriptRun]:
        """The runs requested, oldest first: the latest :attr:`max_runs` (a served emulator runs for long). The list
        is the record itself: a list read before a request holds that request's run too."""
        with self._lock:
            self._read = True  # from now on no run is deferred (see defer)
            runs = self._runs
            if len(runs) > self.max_runs:
                del runs[: len(runs) - max(0, self.max_runs)]
            if self._deferred:
                self._deferred = False
                for index, run in enumerate(runs):
                    if type(run) is not ScriptRun:
                        made = run.execution  # type: ignore[union-attr]
                        assert made is not None
                        runs[index] = made.request
            return runs  # type: ignore[return-value]

    @runs.setter
    def runs(self, runs: list[ScriptRun]) -> None:
        with self._lock:
            self._read = True
            self._runs = runs  # type: ignore[assignment]
            self._deferred = False

    def register(
        self,
        outcome: Outcome,
        *,
        script: str | None = None,
        command_id: str | None = None,
        script_uri: str | None = None,
        gallery_script_reference_id: str | None = None,
        when: Matcher | None = None,
    ) -> None:
        """Answer ``outcome`` for runs matching every criterion given (the latest registration wins)."""
        criteria: list[Matcher] = []
        if script is not None:
            criteria.append(lambda run: run.script == script)
        if command_id is not None:
            wanted = command_id.lower()
            criteria.append(lambda run: (run.command_id or "").lower() == wanted)
        if script_uri is not None:
            criteria.append(lambda run: run.script_uri == script_uri)
        if gallery_script_reference_id is not None:
            gallery = gallery_script_reference_id.lower()
            criteria.append(lambda run: (run.gallery_script_reference_id or "").lower() == gallery)
        if when is not None:
            criteria.append(when)
        if not criteria:
            raise ValueError(
                "register() needs at least one of script, command_id, script_uri, gallery_script_reference_id, when"
            )
        with self._lock:
            self._rules.append((lambda run: all(check(run) for check in criteria), outcome))

    def run(self, request: ScriptRun) -> Outcome:
        """Record ``request`` and return its outcome."""
        with self._lock:
            runs = self._runs
            runs.append(request)
            # cut back to the latest max_runs now and then (and on each read of runs), not at each run: cutting
            # the front of a list moves all of it
            if len(runs) > 2 * self.max_runs + 64:
                del runs[: len(runs) - max(0, self.max_runs)]
            rules = self._rules[::-1] if self._rules else ()
        if not (request.script or request.script_uri or request.command_id or request.gallery_script_reference_id):
            return _NO_SOURCE  # not request.has_source
        for matches, outcome in rules:
            if matches(request):
                return outcome
        if self.default is not None:
            return self.default
        script, parameters = request.script or "", request.parameters
        last = self._last_echoed
        if last[2] is not None and last[0] == script and last[1] == parameters:
            return last[2]
        outcome = _echoed(script, parameters)
        self._last_echoed = (script, parameters, outcome)
        return outcome

    def defer(self, run: DeferredRun) -> bool:
        """Record ``run`` now and make its :class:`ScriptRun` when it is read, if its outcome is
        :func:`plain_outcome` (no rule registered, no default): True. False (nothing recorded) when a rule or the
        default could decide it: :meth:`run` must see the ScriptRun now. The same record, one object fewer per write
        (the caller makes the execution, and its ScriptRun, when first read)."""
        if self._rules or self.default is not None or self._read:
            return False  # once runs was read, a caller may hold the list: it gets ScriptRuns only
        runs = self._runs
        runs.append(run)
        self._deferred = True
        if len(runs) > 2 * self.max_runs + 64:  # as run() cuts back
            with self._lock:
                del runs[: len(runs) - max(0, self.max_runs)]
        return True

    def reset(self) -> None:
        """Forget the registered behaviour and the recorded runs."""
        with self._lock:
            self._rules.clear()
            self._runs.clear()
            self._deferred = False
            self.default = None


@dataclass(frozen=True)
class ExecutionView:
    """The state of an execution at one instant (what the instance view shows)."""

    state: str
    start_time: datetime | None
    end_time: datetime | None
    exit_code: int | None
    output: str
    error: str
    message: str

    @property
    def terminal(self) -> bool:
        """Whether the script has finished (one way or another)."""
        return self.state in ("Succeeded", "Failed", "TimedOut", "Canceled")

    @property
    def failed(self) -> bool:
        """Whether the script failed or timed out."""
        return self.state in ("Failed", "TimedOut")


@dataclass(frozen=True, slots=True)
class Execution:
    """One run of a script on the simulated timeline (slotted: one per write, thousands kept)."""

    request: ScriptRun
    outcome: Outcome
    _times: tuple[datetime, datetime, datetime | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """Start, deadline and natural end, once worked out (:meth:`_timeline`)."""

    @property
    def start(self) -> datetime:
        return self.request.requested_at + timedelta(seconds=self.outcome.start_delay)

    @property
    def timeout_seconds(self) -> int:
        return self.request.timeout_in_seconds or DEFAULT_TIMEOUT_SECONDS

    def _timeline(self) -> tuple[datetime, datetime, datetime | None]:
        """Start, deadline and natural end (None: it hangs), worked out once (the run never changes)."""
        found = self._times
        if found is None:
            start = self.start
            deadline = start + timedelta(seconds=self.timeout_seconds)
            natural_end = None if self.outcome.hangs else start + timedelta(seconds=self.outcome.duration)
            found = (start, deadline, natural_end)
            object.__setattr__(self, "_times", found)
        return found

    def view(self, now: datetime) -> ExecutionView:
        """The execution state at ``now``."""
        outcome = self.outcome
        if not self.request.has_source:
            return ExecutionView("Failed", self.start, self.start, 0, "", "", outcome.message or "")
        start, deadline, natural_end = self._timeline()
        if now < start:
            return ExecutionView("Pending", None, None, None, "", "", "")
        output = outcome.output or ""
        if (natural_end is None or natural_end > deadline) and now >= deadline:
            message = outcome.message or f"Execution timed out after {self.timeout_seconds} seconds."
            return ExecutionView("TimedOut", start, deadline, -1, output, outcome.error, message)
        if natural_end is not None and now >= natural_end:
            state = "Succeeded" if outcome.exit_code == 0 else "Failed"
            message = outcome.message or "Execution completed"
            return ExecutionView(state, start, natural_end, outcome.exit_code, output, outcome.error, message)
        return ExecutionView("Running", start, None, None, "", "", outcome.message or "Execution in progress")


_ExecutionDraft: Any = _draft_of(Execution)


def execution(request: ScriptRun, outcome: Outcome) -> Execution:
    """``Execution(request, outcome)``, made as a draft and turned into an Execution (:func:`_draft_of`)."""
    made = _ExecutionDraft()
    made.request = request
    made.outcome = outcome
    made._times = None
    made.__class__ = Execution
    return made  # type: ignore[no-any-return]
