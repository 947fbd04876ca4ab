"""A secret the recording sees in clear before it sees it in a secret place (review 10): the cassette is scrubbed of it
when it is saved, so the earlier request's recorded body reads ``REDACTED`` where the replayed one still holds the
secret (the sanitizer has not seen the secret place yet). Replay matches it all the same, and a mismatch message
never shows what the cassette redacted. Each case records and replays with pytest in a subprocess (pytester), the
in-process emulator answering, real cassettes on disk."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from vcr.request import Request

from pytest_runcommand.cassettes.matchers import arm_path, arm_query, fits, json_body, masked, redacted_values

SENTINEL = "Sentinel-Late-42"
MODULE = textwrap.dedent(
    f"""
    import json
    import os

    import pytest


    @pytest.mark.vcr
    def test_late_secret(runcommand_emulator):
        client = runcommand_emulator.client
        script = json.loads(os.environ.get("SCRIPT", '["echo {SENTINEL}"]'))
        action = client.post(
            runcommand_emulator.action_path(vm="vm1"), json={{"commandId": "RunShellScript", "script": script}}
        )
        status = client.get(action.headers["Location"])
        while status.status_code == 202:
            status = client.get(action.headers["Location"])
        body = {{"location": "westus", "properties": {{"source": {{"script": "ls"}}, "runAsPassword": "{SENTINEL}"}}}}
        assert client.put(runcommand_emulator.run_command_path("rc1"), json=body).status_code == 201
    """
)
CASSETTE = "cassettes/test_late/test_late_secret.yaml"


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "--junitxml=report.xml", *args)


def _everything(pytester: pytest.Pytester, result: pytest.RunResult) -> str:
    """All a user could read: the output, the JUnit report and the cassette."""
    texts = [result.stdout.str(), result.stderr.str(), (pytester.path / "report.xml").read_text(encoding="utf-8")]
    cassette = pytester.path / CASSETTE
    if cassette.is_file():
        texts.append(cassette.read_text(encoding="utf-8"))
    return "\n".join(texts)


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_late=MODULE)
    result = _run(pytester, "--record-mode=once")
    result.assert_outcomes(passed=1)
    cassette = (pytester.path / CASSETTE).read_text(encoding="utf-8")
    assert "echo REDACTED" in cassette  # scrubbed from the action's script when the cassette was saved
    assert SENTINEL not in _everything(pytester, result)
    return pytester


def test_a_secret_seen_in_clear_before_its_secret_place_replays(recorded: pytest.Pytester) -> None:
    result = _run(recorded, "--block-network")
    result.assert_outcomes(passed=1)
    assert SENTINEL not in _everything(recorded, result)
    # recording it again (the command a mismatch suggests) records a cassette that replays too
    _run(recorded, "--record-mode=rewrite").assert_outcomes(passed=1)
    result = _run(recorded, "--block-network")
    result.assert_outcomes(passed=1)
    assert SENTINEL not in _everything(recorded, result)


@pytest.mark.parametrize(
    ("script", "shown"),
    [
        # the redacted line itself changed: its sent side is masked from the first difference on
        (f'["printf {SENTINEL}"]', 'at /script/0: recorded "echo REDACTED", sent "REDACTED"'),
        # the redacted line fits, another line holds the secret too: masked there as well
        (
            f'["echo {SENTINEL}", "echo {SENTINEL} again"]',
            'at /script/1: recorded (absent), sent "echo REDACTED again"',
        ),
    ],
)
def test_a_mismatch_never_shows_what_the_cassette_redacted(
    recorded: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, script: str, shown: str
) -> None:
    monkeypatch.setenv("SCRIPT", script)
    result = _run(recorded, "--block-network")
    result.assert_outcomes(failed=1)
    text = _everything(recorded, result)
    assert "CassetteMismatchError: Cannot play back POST" in text
    assert f"json_body differs: {shown}" in text
    assert SENTINEL not in text


# -- the matchers on their own --------------------------------------------------------------------------------------

URL = "https://management.azure.com/subscriptions/0/resourceGroups/rg/x"


def _request(body: bytes, url: str = URL) -> Request:
    return Request("POST", url, body, {})


def test_a_placeholder_stands_for_any_text_of_one_character_or_more() -> None:
    assert fits("echo REDACTED", f"echo {SENTINEL}")
    assert fits("REDACTED and REDACTED", "a and b")
    assert fits("REDACTEDREDACTED", "ab")
    assert not fits("REDACTEDREDACTED", "a")  # each stands for one character at least
    assert not fits("echo REDACTED", "echo ")
    assert not fits("echo REDACTED", f"printf {SENTINEL}")
    assert not fits("echo REDACTED!", f"echo {SENTINEL}")
    assert not fits("echo hi", "echo ho")  # no placeholder: equal or not
    assert masked("echo REDACTED twice", f"echo {SENTINEL} twice") == "echo REDACTED twice"
    assert masked("echo REDACTED", f"printf {SENTINEL}") == "REDACTED"
    assert masked("echo REDACTED", f"echo {SENTINEL}!") == "echo REDACTED"


def test_a_long_run_of_placeholders_is_matched_in_linear_time() -> None:
    import time

    recorded = "REDACTED " * 20_000 + "x"
    sent = "a " * 20_000 + "y"  # fits nowhere: a backtracking pattern would take for ever
    started = time.perf_counter()
    assert not fits(recorded, sent)
    assert masked(recorded, sent) == "REDACTED"
    assert time.perf_counter() - started < 1.0


def test_json_body_path_and_query_match_at_a_placeholder() -> None:
    sent = _request(f'{{"script": ["echo {SENTINEL}"], "n": 1}}'.encode())
    recorded = _request(b'{"n": 1, "script": ["echo REDACTED"]}')
    json_body(sent, recorded)  # no AssertionError: it matches
    assert redacted_values(recorded, sent) == {SENTINEL}
    with pytest.raises(AssertionError) as caught:
        json_body(_request(f'{{"script": ["echo {SENTINEL}"], "n": 2}}'.encode()), recorded)
    assert str(caught.value) == "at /n: recorded 1, sent 2"
    # a text body, a path, a query value
    json_body(_request(f"name={SENTINEL}".encode()), _request(b"name=REDACTED"))
    arm_path(_request(b"", f"{URL}/{SENTINEL}"), _request(b"", f"{URL}/REDACTED"))
    arm_query(_request(b"", f"{URL}?a=1&token={SENTINEL}"), _request(b"", f"{URL}?token=REDACTED&a=1"))
    with pytest.raises(AssertionError) as caught:
        arm_query(_request(b"", f"{URL}?a=2&token=x{SENTINEL}"), _request(b"", f"{URL}?token=yREDACTED&a=1"))
    assert SENTINEL not in str(caught.value)


def test_the_values_found_under_placeholders_are_masked_in_the_message(tmp_path: Path) -> None:
    from pytest_runcommand.cassettes.playback import mismatch_message

    class Cassette:
        record_mode = "none"
        _path = str(tmp_path / "c.yaml")
        play_counts: dict[int, int] = {}

        def __len__(self) -> int:
            return 1

    sent = _request(f'{{"script": ["echo {SENTINEL}", "ls"]}}'.encode(), f"{URL}?q={SENTINEL}")
    recorded = _request(b'{"script": ["echo REDACTED"]}', f"{URL}?q=REDACTED")
    (tmp_path / "c.yaml").write_text("interactions: []\n", encoding="utf-8")
    failed = [("json_body", 'at /script/1: recorded (absent), sent "ls"')]
    message = mismatch_message(Cassette(), sent, [(recorded, ["method"], failed)])
    assert SENTINEL not in message
    assert f"Cannot play back POST {URL}?q=REDACTED:" in message


SHOWN_THEN_SECRET = textwrap.dedent(
    f"""
    import pytest


    @pytest.mark.vcr
    def test_shown_then_secret(runcommand_emulator):
        client = runcommand_emulator.client
        url = runcommand_emulator.run_command_path("rc")
        parameters = [{{"name": "p", "value": "{SENTINEL}"}}]
        body = {{"location": "westus", "properties": {{"source": {{"script": "ls"}}, "parameters": parameters}}}}
        answer = client.put(url, json=body)
        assert answer.json()["properties"]["parameters"][0]["value"] == "{SENTINEL}"
        assert client.patch(url, json={{"properties": {{"runAsPassword": "{SENTINEL}"}}}}).status_code == 200
    """
)


def test_an_answer_seen_in_clear_before_the_value_was_learned_is_named_when_the_cassette_is_saved(
    pytester: pytest.Pytester,
) -> None:
    """Review 13, finding 5: the test saw the value in clear in an earlier answer (not yet known as a secret), the
    saved cassette holds REDACTED there, so the replay fails where the recording passed, and nothing said so."""
    pytester.makepyfile(test_late=SHOWN_THEN_SECRET)
    recording = _run(pytester, "--record-mode=once")
    recording.assert_outcomes(passed=1, warnings=1)
    recording.stdout.fnmatch_lines(
        [
            "*RunCommandWarning: pytest-runcommand: cassette test_shown_then_secret.yaml: interaction #0's answer "
            "holds a value the rule run-as-password learned only later in the recording: the test saw it in clear*"
        ]
    )
    assert SENTINEL not in (pytester.path / "cassettes/test_late/test_shown_then_secret.yaml").read_text()
    assert SENTINEL not in recording.stdout.str().replace(f'"{SENTINEL}"', "")  # only the test's own source lines
    replay = _run(pytester, "--block-network")
    replay.assert_outcomes(failed=1)  # what the warning said: the replay sees the replacement
    replay.stdout.fnmatch_lines(["*assert 'REDACTED' == *"])


def test_a_cassette_named_after_a_secret_is_not_written(pytester: pytest.Pytester) -> None:
    """Review 14, finding 17: pytest-recording names a cassette after the test's id, and a parametrized password made
    the id: the body was scrubbed, the file name held the secret. Such a cassette is refused, naming the fix."""
    secret = "ParamPw-77c3Xq"
    pytester.makepyfile(
        test_named=textwrap.dedent(
            f"""
            import pytest

            @pytest.mark.vcr
            @pytest.mark.parametrize("password", ["{secret[:6]}" + "{secret[6:]}"])
            def test_put(runcommand_emulator, password):
                body = {{"location": "westus", "properties": {{"source": {{"script": "ls"}}, "runAsPassword": password}}}}
                assert runcommand_emulator.client.put(
                    runcommand_emulator.run_command_path("rc1"), json=body
                ).status_code == 201
            """
        )
    )
    result = _run(pytester, "--record-mode=once")
    assert result.ret == 1
    output = result.stdout.str()
    assert "its file name holds a secret the recording saw" in output
    assert "give the test an id of its own" in output
    assert not list(pytester.path.rglob("*.yaml"))
