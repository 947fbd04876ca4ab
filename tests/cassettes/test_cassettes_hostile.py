"""Whatever a file holds, reading and checking it never raises anything but a clear ``InputError`` (hypothesis)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_runcommand.cassettes.check import check_file
from pytest_runcommand.cassettes.readers import read_cassette
from pytest_runcommand.errors import InputError

DATA = Path(__file__).parent.parent / "data" / "real-traffic"
CLI = (DATA / "azure-cli" / "test_run_command_v2.yaml").read_text()[:12_000]
PS = (DATA / "azure-powershell" / "Set-AzVMRunCommand.Recording.json").read_text()

_EDITS = st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 40), st.sampled_from([*"[]{}:,-'\"&*!|>\n\t #?%\\", "", "1e999"])),
    min_size=1,
    max_size=6,
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)


def _mutated(text: str, edits: list[tuple[float, int, str]]) -> str:
    for where, cut, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + cut :]
    return text


def _check(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_text(text, encoding="utf-8")
        message = ""
        try:
            read_cassette(path)
        except InputError as error:
            message = str(error)
        assert message == "" or message.startswith(str(path))
        report = check_file(path)
        assert report.error is None or report.error.startswith(str(path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_EDITS, base=st.sampled_from([("c.yaml", CLI), ("r.json", PS)]))
def test_a_hand_edited_cassette_gives_a_report_or_a_clear_error(
    edits: list[tuple[float, int, str]], base: tuple[str, str]
) -> None:
    name, text = base
    _check(name, _mutated(text, edits))


@settings(max_examples=150, deadline=None)
@given(document=_JSON, wrap=st.booleans())
def test_any_json_document_gives_a_report_or_a_clear_error(document: object, wrap: bool) -> None:
    value = {"version": 1, "interactions": [document]} if wrap else document
    _check("any.json", json.dumps(value))


COMMITTED = next((Path(__file__).resolve().parents[2] / "cassettes").rglob("*.yaml")).read_text()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=_EDITS)
def test_a_hand_edited_cassette_replays_or_fails_naming_the_file(edits: list[tuple[float, int, str]]) -> None:
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    from pytest_runcommand.cassettes.persister import SafePersister
    from pytest_runcommand.cassettes.sanitize import default_sanitizer

    persister = SafePersister(FilesystemPersister, default_sanitizer())
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "case.yaml"
        path.write_text(_mutated(COMMITTED, edits), encoding="utf-8")
        message = ""
        try:
            persister.load_cassette(str(path), serializer=yamlserializer)
        except InputError as error:
            message = str(error)
        assert message == "" or message.startswith(f"cannot replay: {path}")
