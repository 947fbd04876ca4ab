"""``--record-mode=rewrite`` (what a replay mismatch recommends) keeps the previous cassette until a new one is written:
pytest-recording deletes it before the test, so a refused or failed re-recording used to leave none."""

from __future__ import annotations

import os
import stat
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_runcommand.cassettes.rewrite import KeptCassette, previous_path, rewrite_cassette_path

MODULE = textwrap.dedent(
    """
    import os

    import httpx
    import pytest

    URL = (
        "https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/providers/"
        "Microsoft.Compute/locations/westus/runCommands?api-version=2024-07-01"
    )


    def handler(request):
        return httpx.Response(200, json={"value": [], "nextLink": os.environ.get("NEXT", "")})


    @pytest.mark.vcr
    def test_list():
        if os.environ.get("FAIL_FIRST"):
            raise RuntimeError("failed before any request")
        headers = {"X-Custom": "Bearer Sentinel-Bearer-6abcdef"} if os.environ.get("SEND_SECRET") else {}
        with httpx.Client(transport=httpx.MockTransport(handler)) as client:
            assert client.get(URL, headers=headers).status_code == 200
        assert not os.environ.get("FAIL_AFTER"), "failed after its request"
    """
)


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-q", *args)


@pytest.fixture
def recorded(request: pytest.FixtureRequest, pytester: pytest.Pytester) -> tuple[pytest.Pytester, Path]:
    serializer = getattr(request, "param", "yaml")
    if serializer == "json":
        pytester.makeconftest(
            "import pytest\n\n@pytest.fixture\ndef vcr_config():\n    return {'serializer': 'json'}\n"
        )
    pytester.makepyfile(test_rewrite=MODULE)
    _run(pytester, "--record-mode=once").assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_rewrite" / f"test_list.{serializer}"
    assert cassette.is_file()
    return pytester, cassette


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("recorded", ["yaml", "json"], indirect=True)
def test_a_refused_rewrite_keeps_the_previous_cassette(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester, cassette = recorded
    before = cassette.read_bytes()
    monkeypatch.setenv("SEND_SECRET", "1")
    result = _run(pytester, "--record-mode=rewrite")
    result.assert_outcomes(passed=1, errors=1)  # the save at teardown is refused by the secret scan
    assert "SecretFoundError" in result.stdout.str()
    assert cassette.read_bytes() == before
    assert _left_in(cassette.parent) == [cassette.name]
    monkeypatch.delenv("SEND_SECRET")
    _run(pytester, "--block-network").assert_outcomes(passed=1)  # and it still replays


def test_a_rewrite_that_fails_before_recording_keeps_the_previous_cassette(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester, cassette = recorded
    before = cassette.read_bytes()
    monkeypatch.setenv("FAIL_FIRST", "1")
    _run(pytester, "--record-mode=rewrite").assert_outcomes(failed=1)
    assert cassette.read_bytes() == before
    assert _left_in(cassette.parent) == [cassette.name]


@pytest.mark.parametrize("recorded", ["yaml", "json"], indirect=True)
def test_a_rewrite_whose_test_fails_after_recording_keeps_the_previous_cassette(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 11, finding 8: the partial recording of a test that failed after its requests replaced the good
    cassette, and the ``.previous`` copy was gone."""
    pytester, cassette = recorded
    before = cassette.read_bytes()
    monkeypatch.setenv("FAIL_AFTER", "1")
    monkeypatch.setenv("NEXT", "failed-run-marker")
    result = _run(pytester, "--record-mode=rewrite")
    result.assert_outcomes(failed=1)
    assert cassette.read_bytes() == before
    failed = cassette.with_name(f".{cassette.name}.failed")
    assert _left_in(cassette.parent) == sorted([cassette.name, failed.name])
    assert "failed-run-marker" in failed.read_text()  # what the failed test recorded: kept, not lost
    assert f"cassette {cassette.name}: the test failed, so its re-recording was not kept" in result.stdout.str()
    monkeypatch.delenv("FAIL_AFTER")
    monkeypatch.delenv("NEXT")
    _run(pytester, "--block-network").assert_outcomes(passed=1)  # the previous cassette still replays
    _run(pytester, "--record-mode=rewrite").assert_outcomes(passed=1)  # a rewrite that passes: nothing stale left
    assert _left_in(cassette.parent) == [cassette.name]


def test_an_accepted_rewrite_replaces_the_cassette_and_leaves_nothing_beside_it(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester, cassette = recorded
    monkeypatch.setenv("NEXT", "rewritten-marker")
    _run(pytester, "--record-mode=rewrite").assert_outcomes(passed=1)
    assert "rewritten-marker" in cassette.read_text()
    assert _left_in(cassette.parent) == [cassette.name]
    _run(pytester, "--block-network").assert_outcomes(passed=1)


def test_other_modes_do_not_touch_the_cassette_s_folder(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester, cassette = recorded
    monkeypatch.setenv("SEND_SECRET", "1")
    before = cassette.read_bytes()
    _run(pytester, "--record-mode=all").assert_outcomes(passed=1, errors=1)
    assert cassette.read_bytes() == before
    assert _left_in(cassette.parent) == [cassette.name]


def test_a_previous_file_left_by_a_killed_run_comes_back_unless_a_new_one_is_written(tmp_path: Path) -> None:
    cassette = tmp_path / "test_list.yaml"
    previous_path(cassette).write_text("old")
    kept = KeptCassette.set_aside(cassette)  # no cassette now (deleted by the killed run)
    kept.settle()  # nothing new written
    assert cassette.read_text() == "old"
    assert not previous_path(cassette).exists()
    kept = KeptCassette.set_aside(cassette)
    assert not cassette.exists()
    cassette.write_text("new")
    kept.settle()
    assert cassette.read_text() == "new"
    assert _left_in(tmp_path) == ["test_list.yaml"]


class _Marker:
    def __init__(self, **kwargs: str) -> None:
        self.kwargs = kwargs


@pytest.mark.parametrize(
    ("mode", "config", "markers", "expected"),
    [
        ("rewrite", {}, [], "d/t.yaml"),
        ("none", {}, [], None),
        ("none", {"record_mode": "rewrite"}, [], "d/t.yaml"),  # vcr_config wins over the option, as in pytest-recording
        ("rewrite", {"record_mode": "once"}, [], None),
        ("once", {}, [_Marker(record_mode="rewrite", serializer="json")], "d/t.json"),
        ("rewrite", {"serializer": "json"}, [_Marker(serializer="yaml")], "d/t.yaml"),
    ],
)
def test_the_rewritten_file_is_named_as_pytest_recording_names_it(
    mode: str, config: dict[str, str], markers: list[_Marker], expected: str | None
) -> None:
    path = rewrite_cassette_path(cassette_dir="d", default_name="t", record_mode=mode, config=config, markers=markers)
    assert path == (None if expected is None else Path(expected))


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the test process runs with (the recording subprocess inherits it)."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("umask_022")
def test_a_new_cassette_gets_the_umasks_permissions(recorded: tuple[pytest.Pytester, Path]) -> None:
    _, cassette = recorded
    assert stat.S_IMODE(cassette.stat().st_mode) == 0o644  # as `open(path, "w")` or `>` gives, not 0600


@pytest.mark.usefixtures("umask_022")
@pytest.mark.parametrize("mode", ["rewrite", "all"])
def test_recording_again_keeps_the_cassettes_permissions(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    pytester, cassette = recorded
    cassette.chmod(0o664)  # shared with a group (a CI step running as another user)
    monkeypatch.setenv("NEXT", "again")
    _run(pytester, f"--record-mode={mode}").assert_outcomes(passed=1)
    assert "again" in cassette.read_text()
    assert stat.S_IMODE(cassette.stat().st_mode) == 0o664


@pytest.mark.parametrize("mode", ["rewrite", "all"])
def test_recording_a_symlinked_cassette_again_writes_its_target(
    recorded: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    pytester, cassette = recorded
    shared = pytester.path / "shared" / cassette.name
    shared.parent.mkdir()
    cassette.rename(shared)
    cassette.symlink_to(os.path.relpath(shared, cassette.parent))
    monkeypatch.setenv("NEXT", "again")
    _run(pytester, f"--record-mode={mode}").assert_outcomes(passed=1)
    assert cassette.is_symlink()
    assert cassette.resolve() == shared.resolve()
    assert "again" in shared.read_text()
    assert _left_in(cassette.parent) == [cassette.name]  # no .previous left behind
    monkeypatch.delenv("NEXT")
    _run(pytester, "--block-network", "--record-mode=none").assert_outcomes(passed=1)  # the link replays
