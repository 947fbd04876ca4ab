"""The fuzz engine the CLI and the pytest fixture share: generate, send, check, collect distinct failures.

A run has two parts. *Stateless*: for each operation and each generation mode (positive, negative), hypothesis draws
``max_examples`` cases from schemathesis's strategy; each is sent and every check of
:data:`~pytest_runcommand.fuzz.checks.RUNCOMMAND_CHECKS` applied. *Stateful*: schemathesis's state machine walks the
``x-links`` of the overlay (PUT -> PATCH -> GET -> DELETE -> GET), so use_after_free and
ensure_resource_availability see real sequences. Failures are never raised into hypothesis (no shrinking, no early
stop): each distinct one (operation, check, kind) is kept once with its first case, a count and a curl line.

Deterministic by default (hypothesis ``derandomize``); ``seed`` picks another reproducible stream.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import settings as hypothesis_settings
from requests.structures import CaseInsensitiveDict
from schemathesis import CheckContext, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import Failure
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation, BaseSchema

from pytest_runcommand.contract import CONTRACT_API_VERSION
from pytest_runcommand.contract.violations import MASK, mask_text, mask_value
from pytest_runcommand.fuzz.baseline import Baseline, failure_key
from pytest_runcommand.fuzz.checks import RUNCOMMAND_CHECKS, ContractFailure
from pytest_runcommand.fuzz.inprocess import InProcessClient
from pytest_runcommand.fuzz.live import BudgetExhausted, Guard, GuardRefusal, LiveScope
from pytest_runcommand.fuzz.schema import build_schema

__all__ = ["Finding", "FuzzReport", "FuzzRunner", "FuzzSettings", "Target", "emulator_target", "url_target"]

_SECRET_KEYS = ("runAsPassword",)


@dataclass
class FuzzSettings:
    """How much to generate and what."""

    max_examples: int = 25
    """Cases per operation and generation mode (and stateful scenarios)."""
    operations: tuple[str, ...] = ()
    """Operation ids to fuzz (all when empty)."""
    seed: int | None = None
    """None: derandomized (the same cases every run); an int: another reproducible stream."""
    modes: tuple[str, ...] = ("positive", "negative")
    stateful: bool = True
    stateful_steps: int = 8
    api_version: str = CONTRACT_API_VERSION


@dataclass
class Target:
    """Where requests go and how: an in-process app, or a base URL (with a token, a CA, a scope)."""

    label: str
    base_url: str
    app: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    tls_verify: bool | str = True
    guard: Guard = field(default_factory=lambda: Guard(None))
    note: str = ""
    """Printed under each curl line (how to reach an in-process target)."""
    reset: Callable[[], None] | None = None
    """Called before each stateful scenario (the in-process emulator forgets its state, so scenarios replay)."""

    @property
    def scope(self) -> LiveScope | None:
        return self.guard.scope


def emulator_target(app: Any = None) -> Target:
    """The in-process emulator (a fresh one unless ``app`` is given), with an emulator token."""
    from pytest_runcommand.emulator.app import EmulatorApp
    from pytest_runcommand.emulator.credential import EmulatorCredential

    token = EmulatorCredential().get_token().token
    emulator = app if app is not None else EmulatorApp()
    return Target(
        label="emulator (in-process)",
        base_url="http://testserver",
        app=emulator,
        headers={"Authorization": f"Bearer {token}"},
        reset=emulator.backend.reset,
        note="(the in-process emulator: serve one with `pytest-runcommand emulator --tls` and use its URL)",
    )


def url_target(
    url: str,
    *,
    token: str,
    scope: LiveScope | None = None,
    ca_path: str | None = None,
    max_requests: int = 0,
    rate: float = 0.0,
) -> Target:
    """A target reached over HTTP(S); ``scope`` confines it (required by the CLI for live targets)."""
    return Target(
        label=url,
        base_url=url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        tls_verify=ca_path if ca_path else True,
        guard=Guard(scope, max_requests=max_requests, rate=rate),
    )


@dataclass
class Finding:
    """One distinct failure: the first case that showed it, and how many cases did."""

    key: str
    operation_id: str
    check: str
    title: str
    message: str
    curl: str
    status: int | None
    mode: str
    severity: str
    response: str = ""
    count: int = 1

    def describe(self) -> str:
        return {"operation": self.operation_id, "check": self.check, "title": self.title}.__repr__()

    def render(self) -> str:
        status = f" (HTTP {self.status})" if self.status is not None else ""
        lines = [
            f"[{self.key}] {self.operation_id}: {self.title}{status}",
            f"  check: {self.check}; {self.mode} data; seen in {self.count} case{'s' if self.count != 1 else ''}",
        ]
        lines += [f"  {line}" for line in self.message.strip().splitlines() if line.strip()]
        if self.response:
            lines.append(f"  response: {self.response}")
        lines.append("  reproduce:")
        lines += [f"    {line}" for line in self.curl.splitlines() if line.strip()]
        return "\n".join(lines)


@dataclass
class FuzzReport:
    """The outcome of a run."""

    target: str
    findings: dict[str, Finding] = field(default_factory=dict)
    cases: int = 0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    refused: int = 0
    stopped: str | None = None
    cleanup: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)
    """Operations that could not be fuzzed (schema problems), with the reason."""
    notes: list[str] = field(default_factory=list)

    def new_findings(self, baseline: Baseline | None = None) -> list[Finding]:
        """Findings not in ``baseline``, ordered by operation then title."""
        known = baseline or Baseline.empty()
        found = [finding for key, finding in self.findings.items() if key not in known]
        return sorted(found, key=lambda f: (f.operation_id, f.check, f.title))

    @property
    def ok(self) -> bool:
        return not self.findings and not self.errors

    def render(self, baseline: Baseline | None = None) -> str:
        """The report for people: a summary, then each new failure with a curl line to reproduce it."""
        new = self.new_findings(baseline)
        known = len(self.findings) - len(new)
        lines = [f"pytest-runcommand fuzz: {self.target}"]
        lines.append(
            f"{self.cases} cases over {len(self.statuses)} operations in {self.elapsed:.1f}s; "
            f"{len(self.findings)} distinct failure{'s' if len(self.findings) != 1 else ''}"
            + (f" ({known} known in the baseline, {len(new)} new)" if baseline is not None else "")
        )
        for operation, counts in sorted(self.statuses.items()):
            spread = ", ".join(f"{status}: {count}" for status, count in sorted(counts.items()))
            lines.append(f"  {operation}: {spread}")
        if self.refused:
            lines.append(f"{self.refused} generated request(s) fell outside the live scope and were not sent")
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        lines += [f"error: {error}" for error in self.errors]
        lines += [f"note: {note}" for note in self.notes]
        lines += [f"clean-up: {line}" for line in self.cleanup]
        for finding in new:
            lines.append("")
            lines.append(finding.render())
        if baseline is not None:
            stale = baseline.stale(self.findings)
            if stale:
                lines.append("")
                lines.append(
                    f"{len(stale)} baseline entr{'ies' if len(stale) != 1 else 'y'} not seen: {', '.join(stale)}"
                )
        return "\n".join(lines)

    def baseline_entries(self) -> dict[str, dict[str, str]]:
        return {
            key: {"operation": f.operation_id, "check": f.check, "title": f.title} for key, f in self.findings.items()
        }


def _operation_id(operation: APIOperation[Any, Any, Any, Any]) -> str:
    raw = operation.definition.raw
    return str(raw.get("operationId") or operation.label) if isinstance(raw, dict) else operation.label


def _secrets(case: Case[Any]) -> list[str]:
    """The secret values this case sends (runAsPassword, protectedParameters values)."""
    found: list[str] = []
    body = case.body
    properties = body.get("properties") if isinstance(body, dict) else None
    if not isinstance(properties, dict):
        return found
    for key in _SECRET_KEYS:
        value = properties.get(key)
        if isinstance(value, str) and value:
            found.append(value)
    protected = properties.get("protectedParameters")
    if isinstance(protected, list):
        for item in protected:
            value = item.get("value") if isinstance(item, dict) else None
            if isinstance(value, str) and value:
                found.append(value)
    return found


def redact(text: str, secrets: Sequence[str]) -> str:
    """Hide the run's own secrets, bearer tokens, JWTs and SAS signatures in ``text``.

    A secret is replaced where it appears as a JSON string; one of 8 characters or more also where it appears bare
    (shorter ones would mangle ordinary words of the report).
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        quoted = json.dumps(secret)
        text = text.replace(quoted, f'"{MASK}"')
        if len(secret) >= 8:
            text = text.replace(quoted[1:-1], MASK)
    return mask_text(text)


class FuzzRunner:
    """Fuzz one target with the given settings; :meth:`run` returns a :class:`FuzzReport`."""

    def __init__(
        self,
        target: Target,
        settings: FuzzSettings | None = None,
        *,
        checks: Sequence[CheckFunction] = RUNCOMMAND_CHECKS,
        schema: BaseSchema | None = None,
    ) -> None:
        self.target = target
        self.settings = settings or FuzzSettings()
        self.checks = tuple(checks)
        scope = target.scope
        operations = self.settings.operations
        if scope is not None:
            allowed = scope.operation_ids
            operations = tuple(op for op in operations if op in allowed) if operations else allowed
        self.schema = schema or build_schema(
            base_url=target.base_url,
            app=target.app,
            api_version=self.settings.api_version,
            name_prefix=scope.name_prefix if scope else None,
            fixed_parameters=scope.fixed_parameters if scope else None,
            operations=operations,
            headers=target.headers,
            tls_verify=target.tls_verify,
        )
        self.report = FuzzReport(target.label)
        self._auth_enforced: set[str] = set()
        self._session: Any = None

    # -- sending -------------------------------------------------------------------------------------

    def send(self, case: Case[Any], **kwargs: Any) -> Response:
        """Send ``case`` through the guard; raises :class:`GuardRefusal` / :class:`BudgetExhausted`."""
        url = self.target.base_url + case.formatted_path
        try:
            self.target.guard.admit(case.method, url)
        except BudgetExhausted as error:
            self.report.stopped = str(error)
            raise
        call_kwargs: dict[str, Any] = {"headers": dict(self.target.headers), **kwargs}
        if self._session is not None:
            call_kwargs.setdefault("session", self._session)
        if self.target.app is None:
            call_kwargs.setdefault("verify", self.target.tls_verify)
            call_kwargs.setdefault("timeout", 30)
        response = case.call(**call_kwargs)
        self.target.guard.note_response(case.method, url, response.status_code)
        self.report.cases += 1
        self.report.statuses.setdefault(_operation_id(case.operation), Counter())[response.status_code] += 1
        return response

    def check(self, case: Case[Any], response: Response, *, recorder: Any = None) -> list[Failure]:
        """Apply every check to one answer; distinct failures are added to the report."""
        ctx = CheckContext(
            override=getattr(case, "_override", None),
            auth=None,
            headers=CaseInsensitiveDict(self.target.headers),
            config=self.schema.config.checks_config_for(operation=case.operation, phase=None),
            transport_kwargs=self._transport_kwargs(),
            recorder=recorder,
            response_checks=None,
            auth_enforced_operations=self._auth_enforced,
        )
        failures: list[Failure] = []
        for check in self.checks:
            try:
                check(ctx, response, case)
            except Failure as failure:
                failures.append(failure)
                self._record(case, response, check.__name__, failure)
            except BaseExceptionGroup as group:  # schemathesis's FailureGroup is a BaseExceptionGroup
                for inner in group.exceptions:
                    if isinstance(inner, Failure):
                        failures.append(inner)
                        self._record(case, response, check.__name__, inner)
        return failures

    def _transport_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"headers": dict(self.target.headers)}
        if self.target.app is None:
            kwargs["verify"] = self.target.tls_verify
        return kwargs

    def _record(self, case: Case[Any], response: Response, check: str, failure: Failure) -> None:
        operation_id = _operation_id(case.operation)
        kind = (
            ",".join(failure.codes)
            if isinstance(failure, ContractFailure)
            else f"{type(failure).__name__}:{_stable_title(failure.title)}"
        )
        key = failure_key(operation_id, check, kind)
        existing = self.report.findings.get(key)
        if existing is not None:
            existing.count += 1
            return
        secrets = _secrets(case)
        mode = case.meta.generation.mode.value if case.meta is not None else "explicit"
        self.report.findings[key] = Finding(
            key=key,
            operation_id=operation_id,
            check=check,
            title=redact(failure.title, secrets),
            message=redact(failure.message, secrets),
            curl=self._curl(case, secrets),
            status=response.status_code,
            mode=mode,
            severity=str(failure.severity.value),
            response=_response_excerpt(response, secrets),
        )

    def _curl(self, case: Case[Any], secrets: Sequence[str]) -> str:
        shown = case
        if isinstance(case.body, (dict, list)):
            shown = case.derive()
            shown.body = mask_value("", case.body)
        headers = {"Authorization": "Bearer $TOKEN"}
        command = shown.as_curl_command(headers=headers, verify=self.target.tls_verify is not False)
        if self.target.note:
            command += f"\n{self.target.note}"
        if isinstance(self.target.tls_verify, str) and self.target.base_url.startswith("https://"):
            command = command.replace("curl ", f"curl --cacert {self.target.tls_verify} ", 1)
        command = command.replace("Authorization: [Filtered]", "Authorization: Bearer $TOKEN")
        return redact(command, secrets)

    # -- running -------------------------------------------------------------------------------------

    def _hypothesis_settings(self, max_examples: int, **extra: Any) -> hypothesis_settings:
        return hypothesis_settings(
            max_examples=max_examples,
            derandomize=self.settings.seed is None,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            print_blob=False,
            verbosity=Verbosity.quiet,
            **extra,
        )

    @contextmanager
    def _client(self) -> Iterator[None]:
        if self.target.app is None:
            import requests

            with requests.Session() as session:
                self._session = session
                try:
                    yield
                finally:
                    self._session = None
            return
        with self._asgi_client(self.target.app) as client:
            self._session = client
            try:
                yield
            finally:
                self._session = None

    def _asgi_client(self, app: Any) -> Any:
        """The session an in-process app is called through (see :mod:`pytest_runcommand.fuzz.inprocess`)."""
        return InProcessClient(app)

    def run(self) -> FuzzReport:
        """Run the stateless part, then the stateful part; then clean up what a live run created."""
        started = time.perf_counter()
        try:
            with self._client():
                for result in self.schema.get_all_operations():
                    if not isinstance(result, Ok):
                        self.report.errors.append(f"an operation could not be loaded: {result.err()}")
                        continue
                    operation = result.ok()
                    for mode in self.settings.modes:
                        if self.report.stopped is None:
                            self._run_operation(operation, GenerationMode(mode))
                if self.settings.stateful and self.report.stopped is None:
                    self._run_stateful()
        except BudgetExhausted as error:
            self.report.stopped = str(error)
        finally:
            self._cleanup()
            self.report.refused = self.target.guard.refused
            self.report.elapsed = time.perf_counter() - started
        return self.report

    def _run_operation(self, operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> None:
        from schemathesis.generation import overrides

        fixed = overrides.for_operation(self.schema.config, operation=operation)
        strategy = operation.as_strategy(generation_mode=mode, **fixed.as_strategy_kwargs())

        @hypothesis.given(case=strategy)
        @self._hypothesis_settings(self.settings.max_examples)
        def fuzz(case: Case[Any]) -> None:
            try:
                response = self.send(case)
            except GuardRefusal:
                return
            self.check(case, response)

        if self.settings.seed is not None:
            fuzz = hypothesis.seed(self.settings.seed)(fuzz)
        try:
            fuzz()
        except (BudgetExhausted, hypothesis.errors.Flaky):
            if self.report.stopped is None:
                raise
        except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck) as error:
            self.report.errors.append(f"{_operation_id(operation)} ({mode.value}): {type(error).__name__}")

    def _run_stateful(self) -> None:
        from hypothesis.stateful import run_state_machine_as_test
        from schemathesis.core.errors import NoLinksFound
        from schemathesis.generation import overrides

        self.schema.config.phases.stateful.generation.modes = [GenerationMode.POSITIVE]
        if self.schema.statistic.transitions.selected == 0:
            return  # the chosen operations have no links between them
        machine = self.schema.as_state_machine()
        runner = self

        class Workflow(machine):  # type: ignore[valid-type, misc]
            def setup(self) -> None:
                if runner.target.reset is not None:
                    runner.target.reset()

            def call(self, case: Case[Any], **kwargs: Any) -> Response:
                overrides.for_operation(runner.schema.config, operation=case.operation).apply_to(case)
                try:
                    return runner.send(case, **kwargs)
                except GuardRefusal:
                    hypothesis.reject()
                    raise  # unreachable: reject() raises

            def validate_response(
                self,
                response: Response,
                case: Case[Any],
                additional_checks: list[CheckFunction] | None = None,
                **kwargs: Any,
            ) -> None:
                runner.check(case, response, recorder=getattr(self, "recorder", None))

        settings = self._hypothesis_settings(
            self.settings.max_examples, stateful_step_count=self.settings.stateful_steps
        )
        if self.settings.seed is not None:
            settings = hypothesis_settings(settings, derandomize=False)
        try:
            run_state_machine_as_test(Workflow, settings=settings)
        except NoLinksFound:
            return
        except (BudgetExhausted, hypothesis.errors.Flaky):
            if self.report.stopped is not None:
                return
            # a live target's state moved under a replay: the scenarios that ran still count
            self.report.notes.append("stateful: the target answered a replayed scenario differently; stopped there")
        except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck) as error:
            self.report.errors.append(f"stateful: {type(error).__name__}")

    def _cleanup(self) -> None:
        guard = self.target.guard
        if guard.scope is None:
            return
        import requests

        for path in guard.created():
            url = f"{self.target.base_url}{path}?api-version={self.settings.api_version}"
            try:
                response = requests.delete(url, headers=self.target.headers, verify=self.target.tls_verify, timeout=30)
            except requests.RequestException as error:
                self.report.cleanup.append(f"DELETE {path} failed: {type(error).__name__}")
                continue
            guard.note_response("DELETE", url, response.status_code)
            self.report.cleanup.append(f"DELETE {path}: {response.status_code}")


def _response_excerpt(response: Response, secrets: Sequence[str], limit: int = 300) -> str:
    """The answer's body, secrets masked, cut to ``limit`` characters."""
    if not response.content:
        return "(empty body)"
    try:
        shown = json.dumps(mask_value("", response.json()), ensure_ascii=False)
    except ValueError:
        shown = response.content[:limit].decode("utf-8", "replace")
    shown = redact(shown, secrets)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


_NUMBERS = re.compile(r"\d+")


def _stable_title(title: str) -> str:
    """A failure title without the numbers some titles carry (status codes stay in the check's kind)."""
    return _NUMBERS.sub("N", title)
