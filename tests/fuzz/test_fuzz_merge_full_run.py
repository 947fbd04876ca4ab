"""``report merge`` of a campaign's shards writes what one run of the whole campaign writes, whatever the order given.

Review 6, findings 2 and 8: the JUnit merge kept only the first input's failure of a test case (other shards'
distinct findings vanished) and the shard-level ``run`` error though a full run had none; the JSON merge folded the
inputs in the order given, so ``s2 s1`` differed from ``s1 s2`` and some findings kept another case than the full run.
"""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from pytest_runcommand.cli import main

GET = "VirtualMachineRunCommands_Get"
UPDATE = "VirtualMachineRunCommands_Update"
COMPARED = ("findings", "operations", "drawn", "statuses", "positive", "cases", "errors", "known", "failed")
"""Everything of a fuzz JSON report a merge must give as the full run does (not elapsed, notes or campaign)."""


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    """Answers 200 with whatever body it was sent: many distinct failures, in every unit, stateful ones too."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body or b"{}"})


def _runs(url: str, folder: Path, args: list[str], count: int) -> tuple[Path, list[Path]]:
    """The full run and its ``count`` shards, each written as JSON and JUnit: (full, shards) without suffix."""
    base = ["fuzz", "--target", url, *args]
    main([*base, "--json", str(folder / "full.json"), "--junit-xml", str(folder / "full.xml")])
    shards = []
    for k in range(1, count + 1):
        out = folder / f"fuzz-{k}"
        main([*base, "--shard", f"{k}/{count}", "--json", f"{out}.json", "--junit-xml", f"{out}.xml"])
        shards.append(out)
    return folder / "full", shards


def _junit(path: Path) -> dict[tuple[str | None, str | None], list[tuple[str, str | None, str | None]]]:
    """Each test case's outcomes (tag, message, text), by (classname, name), in file order."""
    return {
        (case.get("classname"), case.get("name")): [(o.tag, o.get("message"), o.text) for o in case]
        for case in ElementTree.parse(path).iter("testcase")
    }


@pytest.fixture(scope="module")
def echo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    from tests.fuzz.conftest import serve

    url, stop = serve(_echo)
    try:
        return _runs(url, tmp_path_factory.mktemp("echo"), ["--max-examples", "4"], 3)
    finally:
        stop()


def test_the_shards_hold_findings_of_one_test_case_in_several_shards(echo_runs: tuple[Path, list[Path]]) -> None:
    """What the test is about: test cases failed by several shards, and findings seen by several shards."""
    full, shards = echo_runs
    cases = [{key for key, outcomes in _junit(s.with_suffix(".xml")).items() if outcomes} for s in shards]
    assert any(cases[i] & cases[j] for i in range(3) for j in range(i + 1, 3))
    keys = [{f["key"] for f in json.loads(s.with_suffix(".json").read_text())["findings"]} for s in shards]
    assert any(keys[i] & keys[j] for i in range(3) for j in range(i + 1, 3))
    assert len(json.loads(full.with_suffix(".json").read_text())["findings"]) > 20


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_merged_shards_are_the_full_run_in_any_order(
    echo_runs: tuple[Path, list[Path]], order: tuple[int, ...], tmp_path: Path
) -> None:
    full, shards = echo_runs
    given = [shards[i] for i in order]
    for suffix in (".json", ".xml"):
        merged = tmp_path / f"merged{suffix}"
        assert main(["report", "merge", *(str(s.with_suffix(suffix)) for s in given), "-o", str(merged)]) == 0
    whole, mine = (json.loads(p.read_text()) for p in (full.with_suffix(".json"), tmp_path / "merged.json"))
    for name in COMPARED:
        assert mine[name] == whole[name], name
    assert _junit(tmp_path / "merged.xml") == _junit(full.with_suffix(".xml"))


async def _refuses_all_but_get(scope: Any, receive: Any, send: Any) -> None:
    """GET answers a valid run command; anything else 400: a shard holding only the Update units accepts nothing."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["method"] == "GET":
        status, body = 200, {"name": "rc", "type": "Microsoft.Compute/virtualMachines/runCommands", "properties": {}}
    else:
        status, body = 400, {"error": {"code": "InvalidParameter", "message": "no"}}
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})


def test_the_run_error_is_judged_over_the_whole_campaign(serve_app: Any, tmp_path: Path) -> None:
    """'No positive case was accepted' of one shard is no error of the campaign: the merged JUnit has none either."""
    url = serve_app(_refuses_all_but_get)
    args = ["--operation", UPDATE, "--operation", GET, "--no-stateful", "--mode", "positive", "--max-examples", "2"]
    full, shards = _runs(url, tmp_path, args, 2)
    runs = [[k for k in _junit(s.with_suffix(".xml")) if k[1] == "run"] for s in shards]
    assert [len(r) for r in runs].count(1) == 1  # one shard's positive cases were all refused
    assert not [k for k in _junit(full.with_suffix(".xml")) if k[1] == "run"]
    for given in (shards, shards[::-1]):
        merged = tmp_path / "merged.xml"
        assert main(["report", "merge", *(str(s.with_suffix(".xml")) for s in given), "-o", str(merged)]) == 0
        assert _junit(merged) == _junit(full.with_suffix(".xml"))
