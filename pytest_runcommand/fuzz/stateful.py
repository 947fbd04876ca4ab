"""The stateful part of a run: a lifecycle per resource family, then schemathesis's state machine over the overlay's
links, sent through the runner.

Each scenario starts from a fresh in-process emulator (``Target.reset``) so hypothesis can replay it; every step
passes the runner's guard and checks, like a stateless case. ``seed`` seeds the scenarios too; with an example
database a failing step is raised into hypothesis, so the scenario is saved, shrunk and replayed first next time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import hypothesis
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction
from schemathesis.core.errors import NoLinksFound
from schemathesis.core.transport import Response
from schemathesis.generation import overrides
from schemathesis.generation.case import Case

from pytest_runcommand.fuzz.lifecycle import run_lifecycles
from pytest_runcommand.fuzz.live import BudgetExhausted, GuardRefusal
from pytest_runcommand.fuzz.replay import finding_error, seed_stream, swallow_findings

if TYPE_CHECKING:
    from pytest_runcommand.fuzz.runner import FuzzRunner

__all__ = ["run_stateful"]


def run_stateful(runner: FuzzRunner) -> None:
    """Run each family's lifecycle (:mod:`~pytest_runcommand.fuzz.lifecycle`), then ``max_examples`` scenarios of up
    to ``stateful_steps`` steps; outcomes go to ``runner.report``."""
    report = runner.report
    cases_before = report.cases  # the unit's steps: the lifecycles' and the scenarios'
    try:
        run_lifecycles(runner)
    except BudgetExhausted:
        return  # the report says why it stopped
    schema = runner.schema
    schema.config.phases.stateful.generation.modes = [GenerationMode.POSITIVE]
    if schema.statistic.transitions.selected == 0:
        return  # the chosen operations have no links between them
    machine = schema.as_state_machine()

    class Workflow(machine):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            if runner.target.reset is not None:
                runner.target.reset()

        def call(self, case: Case[Any], **kwargs: Any) -> Response:
            overrides.for_operation(schema.config, operation=case.operation).apply_to(case)
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
            runner._raise = None
            runner.check(case, response, recorder=getattr(self, "recorder", None))
            if runner._raise is not None and runner.settings.database is not None:
                raise finding_error(runner._raise)  # saved with its scenario, replayed first next time

    settings = runner.hypothesis_settings(
        runner.settings.max_examples, stateful_step_count=runner.settings.stateful_steps
    )
    seed_stream(Workflow, runner.settings.seed)
    try:
        with swallow_findings():
            run_state_machine_as_test(Workflow, settings=settings)
    except NoLinksFound:
        return
    except (BudgetExhausted, hypothesis.errors.Flaky):
        if report.stopped is not None:
            return
        # a target that keeps its state between scenarios (a URL: no reset) answered a replayed scenario
        # differently: hypothesis cannot go on; the steps that ran still count
        report.notes.append(
            f"stateful: stopped after {report.cases - cases_before} steps of up to "
            f"{runner.settings.max_examples} scenarios x {runner.settings.stateful_steps} steps: the target answered "
            "a replayed scenario differently (its state is not reset between scenarios, as the in-process "
            "emulator's is)"
        )
    except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck) as error:
        report.errors.append(f"stateful: {type(error).__name__}")
