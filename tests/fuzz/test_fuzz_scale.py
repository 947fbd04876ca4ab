"""Workers, shards and the example database: who runs a unit changes, what it draws does not.

Each test runs the real campaign against the in-process emulator (or the broken service) in forked processes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz import stateful
from pytest_runcommand.fuzz.campaign import Shard, parse_workers, run_campaign, split
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.lifecycle import run_lifecycles
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import Target, emulator_target

SMALL = FuzzSettings(max_examples=4)


def _run(settings: FuzzSettings = SMALL, **how: Any) -> FuzzReport:
    return run_campaign(FuzzRunner(emulator_target(), settings), **how)


# The reference runs happen in the test bodies: a run inside a fixture's set-up drew differently from the same run
# in a test body (hypothesis's pytest integration), whatever the workers.


def test_two_workers_draw_the_same_cases_as_one() -> None:
    one_worker = _run(workers=1)
    two = _run(workers=2)
    units = FuzzRunner(emulator_target(), SMALL).campaign()
    assert list(one_worker.drawn) == units  # every unit ran, reported in campaign order
    assert two.drawn == one_worker.drawn  # per unit: the case count and the digest of (method, path, query, body)
    assert two.cases == one_worker.cases
    assert two.statuses == one_worker.statuses
    assert list(two.findings) == list(one_worker.findings)
    assert two.operations == one_worker.operations


def test_the_digest_tells_different_draws_apart() -> None:
    one_worker = _run(workers=1)
    seeded = _run(FuzzSettings(max_examples=4, seed=7), workers=2)
    assert set(seeded.drawn) == set(one_worker.drawn)
    assert all(seeded.drawn[unit] != one_worker.drawn[unit] for unit in seeded.drawn if unit != "stateful")


def test_the_shards_together_are_the_whole_campaign() -> None:
    one_worker = _run(workers=1)
    first, second = (_run(shard=Shard(k, 2)) for k in (1, 2))
    assert first.drawn
    assert second.drawn
    assert not set(first.drawn) & set(second.drawn)
    assert {**first.drawn, **second.drawn} == one_worker.drawn
    assert first.cases + second.cases == one_worker.cases
    first.merge(second)
    assert first.statuses == one_worker.statuses
    assert any("shard 1/2" in note for note in first.notes)


@given(
    units=st.lists(st.sampled_from(["a positive", "a negative", "b positive", "stateful"]), unique=True),
    n=st.integers(1, 5),
)
def test_split_is_a_deterministic_partition(units: list[str], n: int) -> None:
    shares = split(units, n)
    assert len(shares) == n
    assert sorted(u for share in shares for u in share) == sorted(units)
    assert split(units, n) == shares
    for share in shares:  # each share keeps campaign order
        assert share == [u for u in units if u in share]


@pytest.mark.parametrize("text", ["", "0/2", "3/2", "1/0", "a/b", "1-2", "-1/2", "1/2/3"])
def test_a_bad_shard_names_the_flag(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        Shard.parse(text)


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5", ""])
def test_bad_workers_name_the_flag(text: str) -> None:
    with pytest.raises(UsageError, match="--workers"):
        parse_workers(text)


def test_auto_workers_is_the_cores() -> None:
    assert parse_workers("auto") >= 1
    assert parse_workers("3") == 3


def test_a_failure_found_once_is_tried_first_next_time(make_broken: Any, tmp_path: Path) -> None:
    """One unit (PUT, positive data): next run, every failure saved comes back in the first cases, one per failure.

    The broken service's faults do not depend on its state (a negative timeout is a 500, a password is echoed on
    201 and 200 alike), so a saved case fails again whatever was sent before it. With several units a saved case of
    a later unit is tried first in that unit only, and a fault that needs an earlier request's state (an Update
    answering 202 only for a run command that exists) may not fail again on its own: one unit keeps the claim exact.
    """
    database = tmp_path / "examples"

    def run() -> FuzzReport:
        target = Target(
            label="broken", base_url="http://testserver", app=make_broken(), headers={"Authorization": "Bearer t"}
        )
        settings = FuzzSettings(
            max_examples=40,
            operations=("VirtualMachineRunCommands_CreateOrUpdate",),
            modes=("positive",),
            stateful=False,
            database=database,
            seed=2,  # this stream finds both faults late (cases 22 and 23 on hypothesis 6.170): a fresh stream
        )  # found none in 40 cases once in ~20 runs
        return FuzzRunner(target, settings).run()

    first = run()
    assert len(first.findings) == 2, first.render()
    assert any(database.rglob("*")), "the failures were not saved"
    second = run()  # the same stream after the saved cases: only the database brings the failures back early
    assert set(first.findings) <= set(second.findings), second.render()  # every saved failure came back
    found_at = sorted(second.findings[key].found_at for key in first.findings)
    assert found_at[-1] <= len(first.findings), (found_at, second.render())  # each in the first cases: tried first
    assert min(finding.found_at for finding in first.findings.values()) > len(first.findings)  # not by chance
    # shrinking: each distinct failure still reported once, with its count
    assert all(finding.count >= 1 for finding in second.findings.values())


def _database_run(target: Target, database: Path, **settings: Any) -> FuzzReport:
    return FuzzRunner(target, FuzzSettings(max_examples=4, database=database, **settings)).run()


def test_a_seed_picks_the_stream_with_a_database_too(tmp_path: Path) -> None:
    """With a database the cases after the saved ones come from the seed's stream: the same seed draws the same."""
    first, again = (_database_run(emulator_target(), tmp_path / name, seed=7) for name in ("a", "b"))
    other = _database_run(emulator_target(), tmp_path / "c", seed=8)
    assert first.drawn == again.drawn  # stateful included
    assert all(other.drawn[unit] != first.drawn[unit] for unit in first.drawn)


def test_a_stateful_failure_is_saved_and_tried_first_next_time(
    make_broken: Any, broken_operations: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stateful failures are saved with their scenario: next run, each comes back within the first scenarios (after
    the lifecycles, which run first every time)."""
    database, steps = tmp_path / "examples", 4
    lifecycle_cases: list[int] = []

    def counted(runner: Any) -> None:
        before = runner.report.cases
        run_lifecycles(runner)
        lifecycle_cases.append(runner.report.cases - before)

    monkeypatch.setattr(stateful, "run_lifecycles", counted)

    def run() -> FuzzReport:
        target = Target(
            label="broken", base_url="http://testserver", app=make_broken(), headers={"Authorization": "Bearer t"}
        )
        # seed 6: this stream finds the faults late in run 1 (cases 8, 66 and 90 on hypothesis 6.170)
        return _database_run(target, database, operations=broken_operations, modes=(), stateful_steps=steps, seed=6)

    first = run()
    assert first.findings, first.render()
    assert any(database.rglob("*")), "the stateful failures were not saved"
    second = run()
    shared = set(first.findings) & set(second.findings)
    assert shared == set(first.findings), second.render()
    replayed = lifecycle_cases[-1] + len(shared) * steps  # each saved scenario sends at most `steps` requests
    assert max(second.findings[key].found_at for key in shared) <= replayed, second.render()
    assert max(first.findings[key].found_at for key in shared) > replayed  # not where run 1 happened to find them
