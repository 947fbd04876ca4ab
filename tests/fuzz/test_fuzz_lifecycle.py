"""Each family's lifecycle runs first in the stateful unit, so a campaign reaches every success answer (review 11,
finding 2: the default campaign never got a 2xx from the VM run command's PATCH nor from the operation-status GET);
an operation that no case got a 2xx from is named in the summary."""

from __future__ import annotations

from typing import Any

import pytest
from schemathesis.core.transport import Response
from schemathesis.generation.case import Case

from pytest_runcommand.fuzz.lifecycle import POLL_OPERATION, _path_parameters
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

VM = "VirtualMachineRunCommands"


class Steps(FuzzRunner):
    """Keeps each case's operation and answer status, in order."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.steps: list[tuple[str, int]] = []

    def send(self, case: Case[Any], **kwargs: Any) -> Response:
        response = super().send(case, **kwargs)
        self.steps.append((str(case.operation.definition.raw["operationId"]), response.status_code))
        return response


def test_a_short_campaign_gets_a_2xx_from_every_operation() -> None:
    report = FuzzRunner(emulator_target(), FuzzSettings(max_examples=3)).run()
    for operation in (f"{VM}_Update", POLL_OPERATION, f"{VM}_GetByVirtualMachine", f"{VM}_Delete"):
        assert any(200 <= status < 300 for status in report.statuses[operation]), report.render()
    assert report.never_succeeded == []
    assert "no 2xx answer" not in report.render()


def test_the_lifecycle_is_what_a_client_does_in_order() -> None:
    family = (f"{VM}_CreateOrUpdate", f"{VM}_Update", f"{VM}_GetByVirtualMachine", f"{VM}_Delete", POLL_OPERATION)
    runner = Steps(emulator_target(), FuzzSettings(max_examples=1, operations=family, modes=()))
    runner.run()
    lifecycle = [step for step in runner.steps if step[0] != POLL_OPERATION][:5]
    assert lifecycle == [
        (f"{VM}_CreateOrUpdate", 201),
        (f"{VM}_Update", 200),
        (f"{VM}_GetByVirtualMachine", 200),
        (f"{VM}_Delete", 202),
        (f"{VM}_GetByVirtualMachine", 404),
    ]
    first = runner.steps[: runner.steps.index((f"{VM}_GetByVirtualMachine", 404)) + 1]
    polls = [status for operation, status in first if operation == POLL_OPERATION]
    assert len(polls) >= 3  # each write's operation polled until done
    assert set(polls) == {200}


def test_the_same_cases_every_run() -> None:
    settings = FuzzSettings(max_examples=2, modes=())
    drawn = [FuzzRunner(emulator_target(), settings).run().drawn["stateful"] for _ in range(2)]
    assert drawn[0] == drawn[1]


def test_a_poll_url_on_another_host_is_not_followed() -> None:
    runner = FuzzRunner(emulator_target(), FuzzSettings(max_examples=1))
    poll = runner.operations()[POLL_OPERATION]
    path = "/subscriptions/0/providers/Microsoft.Compute/locations/westus/operations/abc"
    assert _path_parameters(runner, poll, f"http://testserver{path}?p=1") == {
        "subscriptionId": "0",
        "location": "westus",
        "operationId": "abc",
    }
    assert _path_parameters(runner, poll, f"https://elsewhere.example{path}") is None
    assert _path_parameters(runner, poll, "http://testserver/not/an/operation") is None


def test_an_operation_never_answered_2xx_is_named() -> None:
    settings = FuzzSettings(max_examples=2, stateful=False, operations=(f"{VM}_Update", f"{VM}_List"))
    report = FuzzRunner(emulator_target(), settings).run()
    assert report.never_succeeded == [f"{VM}_Update"]  # a PATCH of a run command that no one made: 404
    assert f"no 2xx answer (the success answer unchecked): {VM}_Update" in report.render()


def test_against_a_served_emulator_the_lifecycle_runs_every_time(capsys: pytest.CaptureFixture[str]) -> None:
    """Review 12, finding 1: against a URL target (state kept between units) the lifecycle's PUT drew the name the
    stateless DELETE unit had just deleted (not polled: still being deleted), got a 409 and did nothing else."""
    from pytest_runcommand.cli import main
    from pytest_runcommand.emulator.server import EmulatorServer

    with EmulatorServer(tls=False) as server:
        for _ in range(2):  # the second run finds the first one's leftovers
            code = main(["fuzz", "--target", server.base_url, "--max-examples", "3"])
            out = capsys.readouterr().out
            assert code == 0, out
            assert "no 2xx answer" not in out, out
            update = next(line for line in out.splitlines() if line.startswith(f"  {VM}_Update:"))
            assert "200:" in update, out


def test_a_poll_waits_as_retry_after_says() -> None:
    from pytest_runcommand.fuzz.cleanup import retry_after

    assert retry_after("0") == 0.0
    assert retry_after("2") == 2.0
    assert retry_after("120") == 5.0  # at most 5 s between polls
    assert retry_after(None) == 1.0


def test_a_target_that_keeps_saying_zero_is_not_polled_in_a_tight_loop() -> None:
    """Review 13, finding 11: ``Retry-After: 0`` on an operation that stays InProgress was polled without a pause
    for the 120 s the wait allows (millions of requests). The first poll goes at once, then 0.05 s doubling to 1 s."""
    from pytest_runcommand.fuzz.cleanup import CLEANUP_TIMEOUT, retry_after

    assert [retry_after("0", polls) for polls in range(7)] == [0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0]
    waited, polls = 0.0, 0
    while waited <= CLEANUP_TIMEOUT:
        waited += retry_after("0", polls)
        polls += 1
    assert polls < CLEANUP_TIMEOUT + 10  # about one a second once backed off
    assert retry_after("3", 5) == 3.0  # a target's own wait is kept as it says


def test_shards_say_nothing_of_2xx_and_their_merge_says_it_for_the_campaign(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review 12, finding 7: a shard named operations another shard got a 2xx from; the merge said nothing."""
    from pytest_runcommand.cli import main

    args = ["fuzz", "--max-examples", "2", "--no-stateful", "--operation", f"{VM}_Update", "--operation", f"{VM}_List"]
    for shard in ("1/2", "2/2"):
        assert main([*args, "--shard", shard, "--json", str(tmp_path / f"s{shard[0]}.json")]) == 0
        assert "no 2xx answer" not in capsys.readouterr().out
    merged = tmp_path / "merged.json"
    assert main(["report", "merge", str(tmp_path / "s1.json"), str(tmp_path / "s2.json"), "-o", str(merged)]) == 0
    assert f"report merge: no 2xx answer (the success answer unchecked): {VM}_Update" in capsys.readouterr().err
