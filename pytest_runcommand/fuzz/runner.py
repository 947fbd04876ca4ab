"""The fuzz engine the CLI and the pytest fixture share: generate, send, check, collect distinct failures.

A run has two parts. *Stateless*: for each operation and each generation mode (positive, negative), hypothesis draws
``max_examples`` cases from schemathesis's strategy; each is sent and every check of
:data:`~pytest_runcommand.fuzz.checks.RUNCOMMAND_CHECKS` applied. *Stateful* (:mod:`~pytest_runcommand.fuzz.stateful`):
schemathesis's state machine walks the ``x-links`` of the overlay (PUT -> PATCH -> GET -> DELETE -> GET). Failures
are never raised into hypothesis (no shrinking, no early stop): each distinct one (operation, check, kind) is kept
once with its first case, a count and a curl line. A live run ends with the clean-up of what it created.

A campaign is a list of *units* (``"<operation> <mode>"`` each, then ``"stateful"``), each run into its own report
(:meth:`FuzzRunner.run_parts`) and merged in campaign order, so workers and shards
(:mod:`~pytest_runcommand.fuzz.campaign`) change who runs a unit, never what it draws.

Deterministic by default (hypothesis ``derandomize``); ``seed`` picks another reproducible stream. With an example
database (``FuzzSettings.database``, see :mod:`~pytest_runcommand.fuzz.replay`) failures, stateful ones included, are
raised into hypothesis: saved, replayed first next time, and each reported in its shrunk form; the cases drawn after
the saved ones come from ``seed``'s stream, or from a fresh random one without a seed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis import settings as hypothesis_settings
from requests.structures import CaseInsensitiveDict
from schemathesis import CheckContext, GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core import NotSet
from schemathesis.core.failures import Failure
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation, BaseSchema

# Imported here, up front: a module imported in the middle of a run costs its import time inside the first unit.
# (Their literals no longer reach the draws: hypothesis's local pool is held empty during runs, see constants_pool.)
from pytest_runcommand.contract.facts import ZERO_SUBSCRIPTION_ID
from pytest_runcommand.fuzz import campaign as _campaign  # noqa: F401  (its imports, up front)
from pytest_runcommand.fuzz import storage as _storage  # noqa: F401  (the pytest route enters it between draws)
from pytest_runcommand.fuzz.baseline import failure_key
from pytest_runcommand.fuzz.call import _header_pairs, call
from pytest_runcommand.fuzz.checks import RUNCOMMAND_CHECKS, ContractFailure
from pytest_runcommand.fuzz.cleanup import clean_up, survey
from pytest_runcommand.fuzz.constants_pool import fixed_constants_pool
from pytest_runcommand.fuzz.findings import FuzzFinding, FuzzReport
from pytest_runcommand.fuzz.inprocess import InProcessClient
from pytest_runcommand.fuzz.live import BudgetExhausted, GuardRefusal
from pytest_runcommand.fuzz.redact import answered_secrets, mask_body, redact, response_excerpt, secret_values
from pytest_runcommand.fuzz.replay import database_settings, finding_error, is_final, seed_stream, swallow_findings
from pytest_runcommand.fuzz.reproduce import curl_line
from pytest_runcommand.fuzz.schema import build_schema
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.stateful import run_stateful
from pytest_runcommand.fuzz.targets import Target, masked_target_text
from pytest_runcommand.fuzz.unanswered import (
    TARGET_ANSWERS,
    NoFirstAnswer,
    SpeaksTls,
    TargetSilent,
    speaks_tls,
    unanswered,
)
from pytest_runcommand.interactions import invalid_on_purpose

__all__ = ["STATEFUL", "FuzzRunner", "operation_id"]

STATEFUL = "stateful"
"""The campaign unit of the stateful sequences (the others are ``"<operation> <mode>"``)."""

Progress = Callable[[str, int], None]
"""Called after each case sent: what is being fuzzed ("<operation> <mode>" or "stateful"), cases so far."""


def operation_id(operation: APIOperation[Any, Any, Any, Any]) -> str:
    raw = operation.definition.raw
    return str(raw.get("operationId") or operation.label) if isinstance(raw, dict) else operation.label


class FuzzRunner:
    """Fuzz one target with the given settings; :meth:`run` returns a :class:`FuzzReport`."""

    def __init__(
        self,
        target: Target,
        settings: FuzzSettings | None = None,
        *,
        checks: Sequence[CheckFunction] = RUNCOMMAND_CHECKS,
        schema: BaseSchema | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.target = target
        self.settings = settings or FuzzSettings()
        self.checks = tuple(checks)
        self.progress = progress
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
        self.report = FuzzReport(target.label, checks=[check.__name__ for check in self.checks])
        self.phase = ""
        self._digest = hashlib.sha256()
        self._answered = False
        """Whether the target answered a request of this runner yet (a drop before that stops the run)."""
        self._raise: str | None = None
        """In database mode: the key of the first failure of the current case (raised into hypothesis)."""
        self._auth_enforced: set[str] = set()
        self._operations: dict[str, APIOperation[Any, Any, Any, Any]] | None = None
        self.load_errors: list[str] = []
        self._session: Any = None
        self._contexts: dict[tuple[str, int], CheckContext] = {}

    # -- sending -------------------------------------------------------------------------------------

    def transport_kwargs(self) -> dict[str, Any]:
        """What every request of the run is sent with: the session, headers, TLS, no redirects (URL targets)."""
        kwargs: dict[str, Any] = {"headers": dict(self.target.headers), **self.target.transport_kwargs()}
        if self._session is not None:
            kwargs["session"] = self._session
        return kwargs

    def send(self, case: Case[Any], *, drawn: bool = True, **kwargs: Any) -> Response:
        """Send ``case`` through the guard; raises :class:`GuardRefusal` / :class:`BudgetExhausted`. ``drawn``:
        False for a case made from an answer (a poll of the URL a write gave), left out of the unit's digest."""
        path = case.formatted_path
        url = self.target.base_url + path
        try:
            self.target.guard.admit(case.method, url)
        except BudgetExhausted as error:
            self.report.stopped = str(error)
            raise
        if drawn:
            self._digest.update(_case_bytes(case, path))
        send_kwargs = self.transport_kwargs()
        if kwargs:
            send_kwargs.update(kwargs)
        # the mode as the case's metadata gives it now (read last, just before sending: what call() needs not redo)
        meta_read = not getattr(case, "_freeze_metadata", True)
        try:
            if _mode(case) == "negative":  # observed traffic holds only the answer of an invalid-on-purpose request
                with invalid_on_purpose():
                    response = call(case, meta_read=meta_read, **send_kwargs)
            else:
                response = call(case, meta_read=meta_read, **send_kwargs)
        except Exception as error:
            self._no_answer(case, error, sent=True)
            raise
        self.target.guard.note_response(case.method, url, response.status_code)
        if not self._answered and speaks_tls(response.status_code, response.content):
            raise SpeaksTls(self.target.label)  # http:// to the TLS emulator: the setup's, not a finding
        self._answered = True
        self.report.cases += 1
        operation = operation_id(case.operation)
        counts = self.report.statuses.get(operation)
        if counts is None:
            counts = self.report.statuses[operation] = Counter()
        counts[response.status_code] += 1
        if _mode(case) == "positive":
            self.report.positive[response.status_code] += 1
        if self.progress is not None:
            self.progress(self.phase, self.report.cases)
        return response

    def check(self, case: Case[Any], response: Response, *, recorder: Any = None) -> list[Failure]:
        """Apply every check to one answer; distinct failures are added to the report."""
        ctx = self._check_context(case, recorder)
        failures: list[Failure] = []
        for check in self.checks:
            try:
                check(ctx, response, case)
            except Failure as failure:
                failures.append(failure)
                self._record(case, response, check.__name__, failure)
            except GuardRefusal:
                continue  # the check's own request left the target or the scope: not sent (counted as refused)
            except Exception as error:  # the check's own request went unanswered: a finding too
                self._no_answer(case, error)
                raise
            except BaseExceptionGroup as group:  # schemathesis's FailureGroup is a BaseExceptionGroup
                for inner in group.exceptions:
                    if isinstance(inner, Failure):
                        failures.append(inner)
                        self._record(case, response, check.__name__, inner)
        return failures

    def _check_context(self, case: Case[Any], recorder: Any) -> CheckContext:
        """The checks' context for ``case``: made once per operation and session, its per-case parts set anew."""
        key = (case.operation.label, id(self._session))
        ctx = self._contexts.get(key)
        if ctx is None:
            ctx = self._contexts[key] = CheckContext(
                override=None,
                auth=None,
                headers=CaseInsensitiveDict(self.target.headers),
                config=self.schema.config.checks_config_for(operation=case.operation, phase=None),
                transport_kwargs=self.transport_kwargs(),
                recorder=None,
                response_checks=None,
                auth_enforced_operations=self._auth_enforced,
            )
        # looked up on the class: on the case, hasattr works the override out (what _LazyOverride puts off)
        ctx.internals.override = _LazyOverride(case) if hasattr(type(case), "_override") else None  # type: ignore[assignment]
        ctx.internals.recorder = recorder
        return ctx

    def fuzz_case(self, case: Case[Any]) -> list[Failure]:
        """Send one case (e.g. an explicit one) and check the answer; nothing is sent outside the guard."""
        operation = operation_id(case.operation)
        if operation not in self.report.operations:
            self.report.operations.append(operation)
        with self._client():
            try:
                response = self.send(case)
                return self.check(case, response)
            except GuardRefusal:
                return []
            except TargetSilent:
                return []  # recorded in the report

    def _record(self, case: Case[Any], response: Response, check: str, failure: Failure) -> None:
        operation = operation_id(case.operation)
        kind = (
            ",".join(failure.codes)
            if isinstance(failure, ContractFailure)
            else f"{type(failure).__name__}:{_stable_title(failure.title)}"
        )
        key = failure_key(operation, check, kind)
        if self._raise is None:
            self._raise = key
        existing = self.report.findings.get(key)
        final = is_final() and self._raise == key
        if existing is not None and not final:
            existing.count += 1
            return
        secrets = secret_values(case.body) + answered_secrets(response.content)
        count = existing.count if existing is not None else 1
        self.report.findings[key] = FuzzFinding(
            key=key,
            operation_id=operation,
            check=check,
            title=self._masked(redact(failure.title, secrets)),
            message=self._masked(redact(failure.message, secrets)),
            curl=self._curl(case, secrets),
            status=response.status_code,
            mode=_mode(case),
            severity=str(failure.severity.value),
            response=self._masked(response_excerpt(response.content, secrets)),
            count=count,
            found_at=existing.found_at if existing is not None else self.report.cases,
        )

    def _no_answer(self, case: Case[Any], error: Exception, *, sent: bool = False) -> None:
        """Record a request the target did not answer and raise :class:`TargetSilent`; other errors pass.

        ``sent``: ``case`` itself went unanswered (it counts as a case sent); else a check's own request did."""
        what = unanswered(error, self.target.request_timeout if self.target.app is None else None)
        if what is None:
            return
        kind, title = what
        if kind == "connection" and not self._answered and self.target.base_url.startswith("http://"):
            raise NoFirstAnswer(self.target.label) from error  # most often a TLS server: the setup's, not a finding
        operation = operation_id(case.operation)
        if sent:  # a case sent, to an operation fuzzed: "N cases over M operations" counts it
            self.report.cases += 1
            self.report.statuses.setdefault(operation, Counter())
        key = failure_key(operation, TARGET_ANSWERS, kind)
        existing = self.report.findings.get(key)
        if existing is not None:
            existing.count += 1
        else:
            secrets = secret_values(case.body)
            self.report.findings[key] = FuzzFinding(
                key=key,
                operation_id=operation,
                check=TARGET_ANSWERS,
                title=title,
                message=f"{type(error).__name__}; the rest of {self.phase or operation} was skipped",
                curl=self._curl(case, secrets),
                status=None,
                mode=_mode(case),
                severity="high",
                response="(no answer)",
                found_at=self.report.cases,
            )
        raise TargetSilent(key) from None

    def _curl(self, case: Case[Any], secrets: Sequence[str]) -> str:
        """A curl line that reproduces ``case``: secrets masked, the token read from ``$TOKEN`` by the shell."""
        shown = case
        if isinstance(case.body, (dict, list)):
            shown = case.derive()
            shown.body = mask_body(case.body)
        verify = self.target.tls_verify is not False
        cacert = self.target.tls_verify if isinstance(self.target.tls_verify, str) else None
        if not self.target.base_url.startswith("https://"):
            cacert = None
        command = curl_line(shown, {"Authorization": "Bearer $TOKEN"}, verify=verify, cacert=cacert)
        # schemathesis shell-quotes headers in single quotes, where $TOKEN would stay literal: use double quotes
        command = re.sub(r"'Authorization: [^']*'", '"Authorization: Bearer $TOKEN"', command)
        if self.target.note:
            command += f"\n{self.target.note}"
        return self._masked(redact(command, secrets))

    def _masked(self, text: str) -> str:
        """``text`` without the parts of a URL target that messages never show (a ``;`` path parameter and what
        follows, user info: see :func:`~pytest_runcommand.fuzz.targets.shown_target`)."""
        return masked_target_text(text, self.target.base_url) if self.target.url is not None else text

    # -- running -------------------------------------------------------------------------------------

    def hypothesis_settings(self, max_examples: int, **extra: Any) -> hypothesis_settings:
        base = hypothesis_settings(
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
        if self.settings.database is None:
            return base
        return database_settings(base, self.settings.database)

    @contextmanager
    def _client(self) -> Iterator[None]:
        if self._session is not None:
            yield
            return
        session = self._asgi_client(self.target.app) if self.target.app is not None else self.target.open_session()
        with session:
            self._session = session
            try:
                yield
            finally:
                self._session = None
                self._contexts.clear()

    def _asgi_client(self, app: Any) -> Any:
        """The session an in-process app is called through (see :mod:`pytest_runcommand.fuzz.inprocess`)."""
        return InProcessClient(app)

    def operations(self) -> dict[str, APIOperation[Any, Any, Any, Any]]:
        """The operations of the schema by id, in schema order; those that cannot be loaded go to ``load_errors``.

        Loaded once per runner: every unit draws from the same operation objects, however many runs.
        """
        if self._operations is not None:
            return self._operations
        found: dict[str, APIOperation[Any, Any, Any, Any]] = {}
        self.load_errors = []
        for result in self.schema.get_all_operations():
            if not isinstance(result, Ok):
                self.load_errors.append(f"an operation could not be loaded: {result.err()}")
                continue
            operation = result.ok()
            found[operation_id(operation)] = operation
        self._operations = found
        return found

    def campaign(self) -> list[str]:
        """The units of the whole campaign, in order: each operation in each mode, then the stateful sequences."""
        units = [f"{op} {mode}" for op in self.operations() for mode in self.settings.modes]
        return [*units, STATEFUL] if self.settings.stateful else units

    def run(self, units: Sequence[str] | None = None) -> FuzzReport:
        """Run ``units`` (default: the whole campaign) and merge their reports in order."""
        started = time.perf_counter()
        campaign = self.campaign()
        parts = self.run_parts(campaign if units is None else units)
        report = FuzzReport(self.target.label, checks=[check.__name__ for check in self.checks])
        report.errors += self.load_errors
        for part in parts:
            report.merge(part)
        report.elapsed = time.perf_counter() - started
        self.report = report
        return report

    def run_parts(self, units: Sequence[str]) -> list[FuzzReport]:
        """One report per unit, in the order given, then one for the clean-up of a live run.

        Every route runs its units here (``run``, the campaign's warm-up and its forked workers): hypothesis's pool of
        local literals is held empty meanwhile (``fixed_constants_pool``), so the cases drawn do not depend on the
        local modules loaded.
        """
        operations = self.operations()
        parts: list[FuzzReport] = []
        try:
            with fixed_constants_pool(), self._client():
                surveyed = survey(self.target, self._session, self.settings.api_version)
                try:
                    for unit in units:
                        parts.append(self._fresh_report())
                        if self.report.stopped is None and not any(part.stopped for part in parts):
                            if self.target.reset is not None:  # each unit starts from a fresh emulator: alone
                                self.target.reset()
                            self._run_unit(unit, operations)
                except BudgetExhausted as error:
                    self.report.stopped = str(error)
                finally:
                    parts.append(self._fresh_report())
                    if surveyed is not None:
                        self.report.notes.append(surveyed)
                    clean_up(self.target, self._session, self.settings.api_version, self.report)
        finally:
            self.report.refused = self.target.guard.refused
            self.report.refused_preexisting = self.target.guard.refused_preexisting
            if self.target.scope is not None:  # a real subscription id is a secret: no report shows it
                for part in parts:
                    part.hide(self.target.scope.subscription, ZERO_SUBSCRIPTION_ID)
        return parts

    def _fresh_report(self) -> FuzzReport:
        self.report = FuzzReport(self.target.label, checks=[check.__name__ for check in self.checks])
        self._digest = hashlib.sha256()
        return self.report

    def _run_unit(self, unit: str, operations: dict[str, APIOperation[Any, Any, Any, Any]]) -> None:
        started = time.perf_counter()
        try:
            if unit == STATEFUL:
                self.phase = STATEFUL
                run_stateful(self)
            else:
                name, _, mode = unit.rpartition(" ")
                if name not in operations or mode not in self.settings.modes:
                    raise ValueError(f"not a unit of this campaign: {unit!r}")
                self.report.operations.append(name)
                self._run_operation(operations[name], GenerationMode(mode))
        except TargetSilent:
            self.report.notes.append(f"{unit}: skipped after a request the target did not answer")
        self.report.drawn[unit] = f"{self.report.cases}:{self._digest.hexdigest()[:16]}"
        self.report.elapsed = time.perf_counter() - started

    def _run_operation(self, operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> None:
        from schemathesis.generation import overrides

        self.phase = f"{operation_id(operation)} {mode.value}"
        fixed = overrides.for_operation(self.schema.config, operation=operation)
        strategy = operation.as_strategy(generation_mode=mode, **fixed.as_strategy_kwargs())

        @hypothesis.given(case=strategy)
        @self.hypothesis_settings(self.settings.max_examples)
        def fuzz(case: Case[Any]) -> None:
            self._raise = None
            try:
                response = self.send(case)
            except GuardRefusal:
                return
            self.check(case, response)
            if self._raise is not None and self.settings.database is not None:
                raise finding_error(self._raise)

        # the example database keys a test by its digest: one key per operation and mode
        key = f"{self.settings.api_version} {self.phase}".encode()
        fuzz._hypothesis_internal_database_key = hashlib.sha256(key).digest()  # type: ignore[attr-defined]
        seed_stream(fuzz, self.settings.seed)
        try:
            with swallow_findings():
                fuzz()
        except (BudgetExhausted, hypothesis.errors.Flaky):
            if self.report.stopped is None:
                raise
        except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck) as error:
            self.report.errors.append(f"{operation_id(operation)} ({mode.value}): {type(error).__name__}")


class _LazyOverride:
    """``case._override`` (what was overridden after generation), worked out on first read: few checks read it, and
    only on some answers (a missing header's, an ignored token's), while working it out hashes every container."""

    __slots__ = ("_case", "_value")

    def __init__(self, case: Case[Any]) -> None:
        self._case = case
        self._value: Any = None

    def __getattr__(self, name: str) -> Any:
        value = self._value
        if value is None:
            value = self._value = self._case._override
        return getattr(value, name)

    def __repr__(self) -> str:
        return repr(self._value if self._value is not None else self._case._override)


def _case_bytes(case: Case[Any], path: str | None = None) -> bytes:
    """What was drawn for a case (method, path, query, headers, body), as stable bytes for the campaign digest
    (``path``: its formatted path, when already known)."""
    headers = {lowered: v for k, v in _header_pairs(case.headers or {}) if (lowered := k.lower()) != "authorization"}
    # (the token is not drawn)
    drawn = [case.method, case.formatted_path if path is None else path, case.query, headers, case.body]
    return _DIGEST_JSON.encode(drawn).encode() + b"\n"


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _stable_json(value: Any) -> Any:
    """What JSON cannot encode, the same in every process: no body is null, an object's repr has no address."""
    if isinstance(value, NotSet):
        return None
    return _ADDRESS.sub("", repr(value))


_DIGEST_JSON = json.JSONEncoder(sort_keys=True, default=_stable_json)
"""``json.dumps(..., sort_keys=True, default=_stable_json)``, the encoder made once (dumps makes one per call)."""


def _mode(case: Case[Any]) -> str:
    """The generation mode of a case (stateful steps are positive), or "explicit" for a hand-made one."""
    meta = case.meta  # read once: before sending, each read hashes the case's containers again
    return str(meta.generation.mode._value_) if meta is not None else "explicit"


_NUMBERS = re.compile(r"\d+")


def _stable_title(title: str) -> str:
    """A failure title without the numbers some titles carry (status codes stay in the check's kind)."""
    return _NUMBERS.sub("N", title)
