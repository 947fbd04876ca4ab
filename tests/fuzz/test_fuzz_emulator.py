"""The CI slice: the emulator answers no 5xx and breaks no check; the pytest route works on this pytest.

The long run is a documented command: ``pytest-runcommand fuzz --max-examples 500``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.contract import get_contract
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.runner import FuzzRunner
from pytest_runcommand.fuzz.settings import FuzzSettings
from pytest_runcommand.fuzz.targets import emulator_target

KNOWN = Path(__file__).with_name("emulator_known_failures.json")
"""Emulator issues reported and not fixed yet (see its note)."""


@pytest.mark.slow
def test_emulator_passes_the_ci_slice() -> None:
    """Every operation fuzzed in both modes and the stateful sequences: no 5xx, no new failure, valid data accepted."""
    report = FuzzRunner(emulator_target(), FuzzSettings(max_examples=25)).run()
    every = sorted(get_contract().by_id)
    assert sorted(report.operations) == every
    assert sorted(report.statuses) == every
    statuses = {status for counts in report.statuses.values() for status in counts}
    assert all(status < 500 for status in statuses), report.render()
    assert {200, 201, 202, 204} <= set(report.positive), report.positive
    known = json.loads(KNOWN.read_text())["failures"]
    unexpected = [finding for key, finding in report.findings.items() if key not in known]
    assert not unexpected, report.render()
    assert report.problems == []


def test_cli_against_the_emulator_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fuzz", "--max-examples", "5", "--baseline", str(KNOWN)]) == 0
    out = capsys.readouterr().out
    assert "pytest-runcommand fuzz: emulator (in-process)" in out
    assert "0 new" in out


def test_runs_are_reproducible() -> None:
    settings = FuzzSettings(max_examples=8, operations=("VirtualMachineRunCommands_CreateOrUpdate",), stateful=False)
    first = FuzzRunner(emulator_target(), settings).run()
    second = FuzzRunner(emulator_target(), settings).run()
    assert first.statuses == second.statuses
    assert first.cases == 16  # 8 positive and 8 negative cases
    seeded = FuzzSettings(**{**settings.__dict__, "seed": 7})
    third, fourth = (FuzzRunner(emulator_target(), seeded).run() for _ in range(2))
    assert third.statuses == fourth.statuses
    assert third.cases == 16


def test_pytest_route_one_test_per_operation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fuzzing="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=3, operations=[
            "VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineRunCommands_Update"])
        def test_contract(runcommand_schema, runcommand_fuzz_part):
            report = runcommand_schema.fuzz()
            assert report.ok
            if runcommand_fuzz_part == "stateful":  # PUT, then the PATCH linked to it
                assert set(report.statuses) == {
                    "VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineRunCommands_Update"}
            else:
                assert report.operations == [runcommand_fuzz_part]
                assert report.cases == 6  # 3 positive and 3 negative

        def test_schema_is_bound(runcommand_schema):
            assert runcommand_schema.schema.config.base_url == "http://testserver"
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", "--collect-only")
    result.stdout.fnmatch_lines(
        [
            "*test_contract*VirtualMachineRunCommands_CreateOrUpdate*",
            "*test_contract*VirtualMachineRunCommands_Update*",
            "*test_contract*stateful*",
        ]
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


async def _always_500(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app answering every request with a 500 CloudError."""
    body = json.dumps({"error": {"code": "InternalServerError", "message": "broken"}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_pytest_route_fails_on_a_broken_target(pytester: pytest.Pytester, serve_app: Any) -> None:
    url = serve_app(_always_500)
    pytester.makepyfile(
        test_broken="""
        import pytest

        @pytest.mark.runcommand_fuzz(max_examples=3, operations=["VirtualMachineRunCommands_Update"], stateful=False)
        def test_contract(runcommand_schema):
            runcommand_schema.fuzz()
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider", f"--runcommand-target={url}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*FuzzFailure*", "*Server error (HTTP 500)*", '*curl -X PATCH -H "Authorization: Bearer $TOKEN"*']
    )


def test_a_wrong_marker_value_fails_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.runcommand_fuzz(modes=["valid"], operations=["VirtualMachineRunCommands_Update"], stateful=False)
        def test_contract(runcommand_schema):
            pass
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown generation mode(s) valid; the modes are positive, negative*"])
    assert "Traceback" not in result.stdout.str()


def test_marker_arguments_are_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bad="""
        import pytest

        @pytest.mark.runcommand_fuzz(examples=3)
        def test_contract(runcommand_schema):
            pass
        """
    )
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*runcommand_fuzz takes only the keywords*"])


def _observed_run(settings: FuzzSettings) -> tuple[FuzzReport, list[str]]:
    """Run against a fresh emulator; also return each request it received (method, URL, body)."""
    from pytest_runcommand.emulator.app import EmulatorApp

    app = EmulatorApp()
    seen: list[str] = []
    app.observers.append(lambda i: seen.append(f"{i.method} {i.url} {i.request_body!r}"))
    return FuzzRunner(emulator_target(app), settings).run(), seen


def test_parts_run_apart_merge_into_the_whole() -> None:
    """The seam for workers and shards: an operation draws the same cases alone or with others, so parts merge."""
    operations = ("VirtualMachineRunCommands_CreateOrUpdate", "VirtualMachineRunCommands_Update")
    whole, sent = _observed_run(FuzzSettings(max_examples=6, operations=operations, stateful=False))
    merged, parts_sent = FuzzReport("parts"), []
    for operation in reversed(operations):
        part, seen = _observed_run(FuzzSettings(max_examples=6, operations=(operation,), stateful=False))
        merged.merge(part)
        parts_sent += seen
    assert sorted(parts_sent) == sorted(sent)  # the same requests, whoever sends them
    assert merged.cases == whole.cases == 24
    assert sorted(merged.operations) == sorted(whole.operations)
    assert sum(merged.statuses[op].total() for op in operations) == 24
    assert merged.positive.total() == 12
