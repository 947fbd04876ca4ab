"""A live campaign's clean-up deletes only what the run created: a run command that existed before the run (listed
before the first unit, or seen through a PUT answered 200, an update) is never written to again nor deleted, and the
summary names each one the campaign wrote to."""

from __future__ import annotations

import contextlib
import re
from typing import Any

import pytest

from pytest_runcommand.cli import main
from pytest_runcommand.fuzz.document import from_document, to_document
from pytest_runcommand.fuzz.findings import FuzzReport
from pytest_runcommand.fuzz.live import Guard, GuardRefusal, LiveScope

SUB = "11111111-2222-3333-4444-555555555555"
SCOPE = LiveScope(subscription=SUB, resource_group="rg1", vm="vm1", name_prefix="fuzz-")
PARENT = SCOPE.parent_path + "/runCommands"
API = "2024-07-01"
# the names a short campaign draws under the prefix (deterministic: fuzz-0 and fuzz-6 in the review), and more
PREEXISTING = [f"fuzz-{i}" for i in range(10)] + ["fuzz-keepme", "fuzz-a", "fuzz-_", "fuzz-.", "fuzz--"]
BODY = {"location": "westus", "properties": {"source": {"script": "echo kept"}}}


def _url(name: str) -> str:
    return f"https://management.azure.com{PARENT}/{name}?api-version={API}"


def test_only_a_201_or_a_write_after_a_404_counts_as_created() -> None:
    guard = Guard(SCOPE)
    guard.note_response("PUT", _url("fuzz-new"), 201)  # created
    guard.note_response("PUT", _url("fuzz-new"), 200)  # then updated: still the run's own
    guard.note_response("PUT", _url("fuzz-theirs"), 200)  # an update of a run command the run did not create
    guard.note_response("PATCH", _url("fuzz-theirs2"), 200)
    guard.note_response("GET", _url("fuzz-absent"), 404)  # seen absent before the run wrote to it
    guard.note_response("PUT", _url("fuzz-absent"), 202)  # so what this write leaves is the run's
    guard.note_response("PUT", _url("fuzz-unknown"), 202)  # accepted, not known to be new: not the run's
    guard.note_response("DELETE", _url("fuzz-gone"), 204)  # ARM's answer to a delete of nothing: absent
    guard.note_response("PUT", _url("fuzz-gone"), 200)
    assert guard.created() == [f"{PARENT}/fuzz-new", f"{PARENT}/fuzz-absent", f"{PARENT}/fuzz-gone"]
    assert guard.preexisting() == [f"{PARENT}/fuzz-theirs", f"{PARENT}/fuzz-theirs2", f"{PARENT}/fuzz-unknown"]


def test_an_update_after_the_run_deleted_its_own_is_still_its_own() -> None:
    guard = Guard(SCOPE)
    guard.note_response("PUT", _url("fuzz-x"), 201)
    guard.note_response("DELETE", _url("fuzz-x"), 200)
    guard.note_response("PUT", _url("fuzz-x"), 201)
    guard.note_response("PUT", _url("fuzz-x"), 200)
    assert guard.created() == [f"{PARENT}/fuzz-x"]
    assert guard.preexisting() == []


def test_a_preexisting_run_command_deleted_then_recreated_is_named_and_cleaned() -> None:
    guard = Guard(SCOPE)
    guard.note_response("DELETE", _url("fuzz-y"), 200)  # the campaign deleted someone's run command
    guard.note_response("PUT", _url("fuzz-y"), 201)  # and created its own in its place
    assert guard.created() == [f"{PARENT}/fuzz-y"]
    assert guard.preexisting() == [f"{PARENT}/fuzz-y"]


def test_the_clean_up_keeps_run_commands_that_existed_before_the_run(
    runcommand_emulator_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    server = runcommand_emulator_server
    names = [*PREEXISTING, "prod"]
    with server.client() as client:
        for name in names:
            put = client.put(f"{server.base_url}{PARENT}/{name}", params={"api-version": API}, json=BODY)
            assert put.status_code == 201, put.text
    created: list[str] = []  # what the campaign's PUTs created (answered 201)
    written: set[str] = set()  # the pre-existing names a write of the campaign reached (answered 2xx)

    def observe(interaction: Any) -> None:
        name = interaction.url.split("?")[0].rsplit("/", 1)[1]
        if interaction.method in ("PUT", "PATCH", "DELETE") and "/runCommands/" in interaction.url:
            if interaction.method == "PUT" and interaction.status == 201:
                created.append(name)
            elif 200 <= interaction.status < 300 and name in names and name not in created:
                written.add(name)

    server.app.observers.append(observe)
    monkeypatch.setenv("AZURE_ACCESS_TOKEN", "t")
    code = main(
        [
            "fuzz",
            "--target",
            server.base_url,
            "--live",
            "--ca-cert",
            server.ca_path,
            "--subscription",
            SUB,
            "--resource-group",
            "rg1",
            "--vm",
            "vm1",
            "--max-examples",
            "3",
            "--rate",
            "1000",
        ]
    )
    server.app.observers.remove(observe)
    output = capsys.readouterr().out
    # listed before the first unit, the pre-existing run commands are never written to: the campaign's writes to
    # their names (it draws fuzz-0, fuzz-6, ...) are refused, not sent
    assert not written, output
    refused = re.search(
        r"^(\d+) write\(s\) not sent: the run command existed before the run \(never written to\)$", output, re.M
    )
    assert refused is not None, output
    assert int(refused.group(1)) > 0
    deleted_by_campaign = {
        line.split("/runCommands/")[1].split(":")[0] for line in output.splitlines() if "clean-up: DELETE" in line
    }
    assert not deleted_by_campaign & (written - set(created)), output
    with server.client() as client:
        for name in names:
            if name in created:  # the campaign deleted the original itself, then created its own: it is gone
                continue
            got = client.get(f"{server.base_url}{PARENT}/{name}", params={"api-version": API})
            assert got.status_code == 200, f"{name} existed before the run and is gone\n{output}"
        for name in created:
            got = client.get(f"{server.base_url}{PARENT}/{name}", params={"api-version": API})
            assert got.status_code == 404, f"{name} was created by the run and is left\n{output}"
    assert "the run wrote to" not in output  # nothing to report: none was written to
    assert code == 0, output


def test_a_known_preexisting_run_command_is_not_written_to() -> None:
    guard = Guard(SCOPE)
    guard.note_response("GET", _url("fuzz-seen"), 200)  # there before the run wrote to it
    guard.note_response("PUT", _url("fuzz-hit"), 200)  # an update: the first write tells
    for name in ("fuzz-seen", "fuzz-SEEN", "fuzz-hit"):
        for method in ("PUT", "PATCH", "DELETE"):
            with pytest.raises(GuardRefusal, match="existed before the run"):
                guard.admit(method, _url(name))
        guard.admit("GET", _url(name))
    assert (guard.refused_preexisting, guard.refused) == (9, 0)  # inside the scope: counted apart
    guard.admit("PUT", _url("fuzz-other"))


def test_the_summary_counts_writes_to_preexisting_run_commands_apart_from_the_scope() -> None:
    """They were counted as "generated request(s) fell outside the live scope": they were inside it."""
    guard = Guard(SCOPE)
    guard.existed(f"{PARENT}/fuzz-listed")
    for method, name in (("PUT", "fuzz-listed"), ("DELETE", "fuzz-listed"), ("PUT", "prod"), ("GET", "fuzz-listed")):
        with contextlib.suppress(GuardRefusal):
            guard.admit(method, _url(name))
    assert (guard.refused_preexisting, guard.refused) == (2, 1)
    report = FuzzReport("live", refused=guard.refused, refused_preexisting=guard.refused_preexisting)
    lines = report.render().splitlines()
    assert "1 generated request(s) fell outside the live scope and were not sent" in lines
    assert "2 write(s) not sent: the run command existed before the run (never written to)" in lines
    other = FuzzReport("live", refused_preexisting=3)
    report.merge(other)
    read, _ = from_document(to_document(report), "report.json")
    assert (read.refused, read.refused_preexisting) == (1, 5)
    earlier = {key: value for key, value in to_document(FuzzReport("x")).items() if key != "refused_preexisting"}
    assert from_document(earlier, "earlier.json")[0].refused_preexisting == 0  # a report of an earlier version
