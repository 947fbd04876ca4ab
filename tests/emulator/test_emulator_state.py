"""The write's one record: an operation whose script run is made when first read is the run made at the write."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pytest_runcommand.emulator.backend import Backend
from pytest_runcommand.emulator.clock import Clock
from pytest_runcommand.emulator.executor import Execution, FakeExecutor, Outcome, ScriptRun
from pytest_runcommand.emulator.state import ParentRef

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
VM = ParentRef("s", "rg", "vm1")
WRITES: list[dict[str, Any]] = [
    {"properties": {"source": {"script": "echo $x"}, "parameters": [{"name": "x", "value": "1"}]}},
    {"properties": {"timeoutInSeconds": 60, "asyncExecution": True, "runAsUser": "u"}},
    {"properties": {"source": None}},  # no script source: the run fails
    {"tags": {"a": "b"}},  # the same properties run again
    {"properties": {"protectedParameters": [{"name": "p", "value": "hidden"}], "source": {"commandId": "c"}}},
]


class EagerExecutor(FakeExecutor):
    """The fake executor as another executor is called: each run's ScriptRun made at the write."""


def drive(backend: Backend) -> list[Any]:
    """Each write, then what it left: the operations' executions, the run command's, the recorded runs."""
    command, _, first = backend.create_or_update(VM, "rc", {"location": "westus", "properties": {}})
    operations = [first]
    for write in WRITES:
        backend.clock.advance(1)
        operations.append(backend.update(VM, "rc", write)[1])
    action = backend.invoke(VM, {"source": {"script": "echo hi", "commandId": "RunShellScript"}}, "Linux")
    operations.append(action)
    return [
        [operation.execution for operation in operations],
        command.execution,
        list(backend.executor.runs),  # type: ignore[attr-defined]
    ]


def test_a_deferred_run_is_the_run_made_at_the_write() -> None:
    deferred = Backend(clock=Clock(NOW))
    eager = Backend(clock=Clock(NOW), executor=EagerExecutor())
    assert drive(deferred) == drive(eager)


def test_a_run_is_made_once_and_recorded_as_the_same_object() -> None:
    backend = Backend(clock=Clock(NOW))
    command, _, operation = backend.create_or_update(VM, "rc", {"properties": {"source": {"script": "echo 1"}}})
    assert operation._execution is None, "nothing made at the write"
    execution = operation.execution
    assert isinstance(execution, Execution)
    assert type(execution.request) is ScriptRun
    assert operation.execution is execution
    assert command.execution is execution
    assert backend.executor.runs == [execution.request]  # type: ignore[attr-defined]
    assert backend.executor.runs[0] is execution.request  # type: ignore[attr-defined]
    assert execution.outcome == Outcome(output="1\n")


def test_runs_read_before_the_operation_make_the_same_run() -> None:
    backend = Backend(clock=Clock(NOW))
    operation = backend.create_or_update(VM, "rc", {"properties": {"source": {"script": "echo 1"}}})[2]
    (run,) = backend.executor.runs  # type: ignore[attr-defined]
    assert operation.execution is not None
    assert operation.execution.request is run


def test_a_rule_or_a_default_sees_the_run_at_the_write() -> None:
    backend = Backend(clock=Clock(NOW))
    executor = backend.executor
    assert isinstance(executor, FakeExecutor)
    executor.register(Outcome.failure(3, error="no"), script="echo 1")
    operation = backend.create_or_update(VM, "rc", {"properties": {"source": {"script": "echo 1"}}})[2]
    assert operation._execution is not None, "made at the write: the rule decided"
    assert operation.execution is not None
    assert operation.execution.outcome.exit_code == 3
    executor.reset()
    executor.default = Outcome.success("fixed")
    operation = backend.update(VM, "rc", {"properties": {"source": {"script": "echo 2"}}})[1]
    assert operation.execution is not None
    assert operation.execution.outcome.output == "fixed"
    executor.default = None
    operation = backend.update(VM, "rc", {"properties": {"source": {"script": "echo 3"}}})[1]
    assert operation._execution is None
    executor.register(Outcome.failure(4), script="echo 3")  # too late for the write before: its outcome stays
    assert operation.execution is not None
    assert operation.execution.outcome == Outcome(output="3\n")


def test_a_deferred_run_keeps_the_name_it_ran_under() -> None:
    backend = Backend(clock=Clock(NOW))
    command, _, operation = backend.create_or_update(VM, "rc", {"properties": {"source": {"script": "echo 1"}}})
    command.name = "renamed"
    assert operation.execution is not None
    assert operation.execution.request.run_command_name == "rc"
    assert operation.execution.request.resource_id.endswith("/runCommands/rc")


def test_recorded_runs_are_cut_back_to_the_latest() -> None:
    backend = Backend(clock=Clock(NOW))
    executor = backend.executor
    assert isinstance(executor, FakeExecutor)
    executor.max_runs = 3
    for index in range(80):
        backend.create_or_update(VM, "rc", {"properties": {"source": {"script": f"echo {index}"}}})
    runs = executor.runs
    assert [run.script for run in runs] == ["echo 77", "echo 78", "echo 79"]
    assert all(type(run) is ScriptRun for run in runs)
