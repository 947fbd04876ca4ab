"""Simulated script execution: outcomes, registration, and the instance-view timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.emulator.executor import DEFAULT_TIMEOUT_SECONDS, Execution, FakeExecutor, Outcome, ScriptRun

T0 = datetime(2024, 7, 1, tzinfo=UTC)


def run(script: str | None = "echo hi", **fields: object) -> ScriptRun:
    return ScriptRun("/vm", "rc", T0, script=script, **fields)  # type: ignore[arg-type]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_default_outputs_the_echo_lines() -> None:
    executor = FakeExecutor()
    outcome = executor.run(run("echo one\nls -l\nWrite-Host \"two\"\nWrite-Output 'three';"))
    assert outcome.output == "one\ntwo\nthree\n"
    assert outcome.exit_code == 0
    assert len(executor.runs) == 1


def test_the_same_script_run_again_echoes_alike_and_rules_still_apply() -> None:
    """The outcome of the latest script echoed is reused for the same script and parameters: only while no rule or
    default decides, and each run is still recorded."""
    executor = FakeExecutor()
    parameters = (("who", "world"),)
    again = run("echo $who", parameters=parameters)
    first = executor.run(again)
    assert executor.run(run("echo $who", parameters=parameters)) is first
    equal = (("who", "".join(["wor", "ld"])),)  # equal, not the same objects
    assert executor.run(run("".join(["echo ", "$who"]), parameters=equal)) is first
    assert first.output == "world\n"
    assert executor.run(run("echo $who", parameters=(("who", "you"),))).output == "you\n"
    executor.register(Outcome.failure(exit_code=4), script="echo $who")
    assert executor.run(again).exit_code == 4
    executor.reset()
    executor.default = Outcome.success("set")
    assert executor.run(again).output == "set"
    assert len(executor.runs) == 1


def test_recorded_runs_are_bounded_keeping_the_latest() -> None:
    executor = FakeExecutor()
    assert executor.max_runs == 10_000
    executor.max_runs = 3
    for index in range(7):
        executor.run(run(f"echo {index}"))
    assert [recorded.script for recorded in executor.runs] == ["echo 4", "echo 5", "echo 6"]


def test_recorded_runs_stay_bounded_between_reads() -> None:
    """Runs are cut back now and then (not at each run), and every read sees exactly the latest max_runs."""
    executor = FakeExecutor()
    executor.max_runs = 10
    for index in range(1000):
        executor.run(run(f"echo {index}"))
        assert len(executor._runs) <= 2 * executor.max_runs + 64, "memory stays bounded without reads"
    runs = executor.runs
    assert [recorded.script for recorded in runs] == [f"echo {index}" for index in range(990, 1000)]
    runs.clear()  # the list a read gives is the record itself
    executor.run(run("echo again"))
    assert [recorded.script for recorded in executor.runs] == ["echo again"]
    executor.runs = []
    assert executor.runs == []


def test_registration_by_script_command_id_uri_and_predicate() -> None:
    executor = FakeExecutor()
    failing = Outcome.failure(3, error="nope")
    executor.register(failing, command_id="RunShellScript")
    executor.register(Outcome.success("by uri"), script_uri="https://x/s.sh")
    executor.register(Outcome.success("by user"), when=lambda r: r.run_as_user == "admin")
    assert executor.run(run(None, command_id="runshellscript")) is failing
    assert executor.run(run(None, script_uri="https://x/s.sh")).output == "by uri"
    assert executor.run(run(run_as_user="admin")).output == "by user"
    executor.register(Outcome.success("latest wins"), command_id="RunShellScript")
    assert executor.run(run(None, command_id="RunShellScript")).output == "latest wins"
    executor.default = Outcome.success("fallback")
    assert executor.run(run("whatever")).output == "fallback"
    executor.reset()
    assert executor.runs == []
    assert executor.run(run("echo x")).output == "x\n"


def test_register_needs_a_criterion_and_failure_a_code() -> None:
    with pytest.raises(ValueError, match="at least one"):
        FakeExecutor().register(Outcome())
    with pytest.raises(ValueError, match="non-zero"):
        Outcome.failure(0)


def test_timeline_pending_running_succeeded() -> None:
    execution = Execution(run(), Outcome(output="ok", duration=20, start_delay=5))
    assert execution.view(at(0)).state == "Pending"
    running = execution.view(at(10))
    assert (running.state, running.start_time, running.end_time) == ("Running", at(5), None)
    done = execution.view(at(25))
    assert (done.state, done.end_time, done.output, done.terminal, done.failed) == (
        "Succeeded",
        at(25),
        "ok",
        True,
        False,
    )


def test_timeline_failure_and_timeout() -> None:
    failed = Execution(run(), Outcome.failure(2, error="e")).view(at(0))
    assert (failed.state, failed.exit_code, failed.error, failed.failed) == ("Failed", 2, "e", True)
    hung = Execution(run(timeout_in_seconds=60), Outcome.hang())
    assert hung.view(at(59)).state == "Running"
    timed_out = hung.view(at(60))
    assert (timed_out.state, timed_out.end_time) == ("TimedOut", at(60))
    unbounded = Execution(run(), Outcome.hang())
    assert unbounded.view(at(DEFAULT_TIMEOUT_SECONDS - 1)).state == "Running"
    assert unbounded.view(at(DEFAULT_TIMEOUT_SECONDS)).state == "TimedOut"


def test_no_source_fails_with_azures_message() -> None:
    executor = FakeExecutor()
    request = run(None)
    view = Execution(request, executor.run(request)).view(at(0))
    assert view.state == "Failed"
    assert "Either 'source.script' or 'source.scriptUri' has to be specified" in view.message


def test_protected_values_stay_out_of_repr() -> None:
    request = run(protected_parameters=(("k", "secret-value"),))
    assert "secret-value" not in repr(request)


def test_named_parameters_are_bound_in_the_echo_output() -> None:
    """As the PowerShell recording shows: param($first, $second) bound by name, whatever the order sent."""
    script = "param($first, $second)\nWrite-Host This is a sample script with parameters $first ${SECOND} $third"
    outcome = FakeExecutor().run(run(script, parameters=(("second", "var2"), ("first", "var1"))))
    assert outcome.output == "This is a sample script with parameters var1 var2 $third\n"


_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)


@given(
    public=st.lists(st.tuples(_NAMES, st.text("abc xyz", max_size=6)), max_size=3),
    protected=st.lists(st.tuples(_NAMES, st.just("Zsentinel-secret")), min_size=1, max_size=3),
)
def test_protected_parameters_are_never_printed(
    public: list[tuple[str, str]], protected: list[tuple[str, str]]
) -> None:
    """Whatever names a script echoes, a protected parameter's value never reaches the fake VM's output."""
    names = [name for name, _ in public + protected]
    script = "\n".join(f"echo ${name} ${{{name}}}" for name in names)
    outcome = FakeExecutor().run(run(script, parameters=tuple(public), protected_parameters=tuple(protected)))
    assert "Zsentinel-secret" not in (outcome.output or "")


def test_a_list_read_before_a_write_holds_that_writes_run(runcommand_emulator: Any) -> None:
    """Review 12, finding 6: the runs a write deferred (made when read) went into a list a caller already held, as
    the operation, not its ScriptRun (``held[-1].script`` raised AttributeError)."""
    emulator = runcommand_emulator
    held = emulator.executor.runs
    url = emulator.run_command_path("rc1")
    body = {"location": "westus", "properties": {"source": {"script": "echo held"}}}
    assert emulator.client.put(url, json=body).status_code == 201
    assert held[-1].script == "echo held"
    assert type(held[-1]).__name__ == "ScriptRun"
