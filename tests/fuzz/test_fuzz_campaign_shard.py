"""``--shard K/N`` for any N (review 9, finding 8): a share is computed in the time and memory of the campaign's
units, not of N; a share beyond the units is empty (with its note); only ASCII digits; nonsense is a usage error."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_runcommand.cli import main
from pytest_runcommand.errors import UsageError
from pytest_runcommand.fuzz.campaign import Shard, split, unit_cost
from pytest_runcommand.fuzz.findings import Campaign

UNITS = [f"op{i} {mode}" for i in range(15) for mode in ("positive", "negative")] + ["stateful"]


def _split_as_before(units: Sequence[str], parts: int, stateful_steps: int = 8) -> list[list[str]]:
    """The rule as it was written first (N lists): the sparse one must give the same shares."""
    shares: list[list[int]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for position in sorted(range(len(units)), key=lambda i: (-unit_cost(units[i], stateful_steps), i)):
        lightest = loads.index(min(loads))
        shares[lightest].append(position)
        loads[lightest] += unit_cost(units[position], stateful_steps)
    return [[units[i] for i in sorted(share)] for share in shares]


@given(
    units=st.lists(st.sampled_from([*UNITS[:8], "stateful"]), unique=True),
    parts=st.integers(1, 12),
    steps=st.integers(1, 20),
)
def test_the_shares_are_those_of_the_first_rule(units: list[str], parts: int, steps: int) -> None:
    assert split(units, parts, steps) == _split_as_before(units, parts, steps)
    assert [Shard(k, parts).select(units, steps) for k in range(1, parts + 1)] == _split_as_before(units, parts, steps)


@pytest.mark.parametrize("count", [30_000_000, 99999999999999999999, 10**200])
def test_a_huge_count_costs_nothing_and_its_shares_are_the_units_or_empty(count: int) -> None:
    started = time.perf_counter()
    first = Shard(1, count).select(UNITS)
    last = Shard(count, count).select(UNITS)
    assert time.perf_counter() - started < 1
    assert last == []  # beyond the units: empty
    units = [unit for k in range(1, len(UNITS) + 1) for unit in Shard(k, count).select(UNITS)]
    assert sorted(units) == sorted(UNITS)  # the union of the shares is the whole campaign, each unit once
    assert len(first) == 1


def test_shard_1_of_30000000_from_the_command_line_is_quick_and_small() -> None:
    code = (
        "import sys\nfrom pytest_runcommand.cli import main\n"
        "code = main(['fuzz', '--max-examples', '1', '--no-stateful', '--operation', 'VirtualMachineRunCommands_Get',"
        " '--shard', sys.argv[1]])\n"
        # this process's own peak (VmHWM): ru_maxrss carries over the peak of the parent it was started from
        "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:')).split()[1]\n"
        "print('maxrss', peak)\nraise SystemExit(code)\n"
    )
    for text, note in (("1/30000000", "1 of the campaign's 2 units"), ("3/99999999999999999999", "0 of the")):
        done = subprocess.run([sys.executable, "-c", code, text], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert f"shard {text}: {note}" in done.stdout
        rss_kb = int(done.stdout.rsplit("maxrss ", 1)[1])
        assert rss_kb < 1_000_000  # the N lists took 4.5 GB


@pytest.mark.parametrize(
    "text",
    ["\u0661/\u0662", "1/\u0662", "\uff11/\uff12", "1/" + "9" * 5000, "1 / 2", "+1/2", "1/2 3", "0x1/2", "1/1e3"],
)
def test_what_is_not_k_slash_n_in_ascii_digits_is_a_usage_error(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match=r"--shard .*expected K/N in ASCII digits"):
        Shard.parse(text)
    assert main(["fuzz", "--max-examples", "1", "--shard", text]) == 2
    err = capsys.readouterr().err
    assert "--shard" in err
    assert "Traceback" not in err


def test_ascii_digits_still_parse() -> None:
    assert Shard.parse(" 2/3 ") == Shard(2, 3)
    assert Shard.parse("007/0010") == Shard(7, 10)


def _campaign(shard_count: int, shards: tuple[int, ...]) -> Campaign:
    return Campaign(
        api_version="2024-07-01",
        target="emulator",
        max_examples=1,
        modes=("positive",),
        stateful=False,
        operations=(),
        seed=None,
        derandomized=True,
        checks=(),
        shard_count=shard_count,
        shards=shards,
    )


def test_a_merged_report_of_a_huge_count_says_it_is_not_complete_at_once() -> None:
    started = time.perf_counter()
    assert not _campaign(10**18, (1, 2)).complete
    assert time.perf_counter() - started < 1
    assert _campaign(2, (2, 1)).complete
    assert not _campaign(2, (1,)).complete
    assert not _campaign(2, (1, 3)).complete
